"""Access timeliness (实时接入): a registration never accessed is not accessed in time (bdc-contract.md).

A held-out batch: 10 house registrations in 5 districts; 5 get their message 30 hours after DJSJ (late for
24 h, in time for 48 h), 4 get no message at all, 1 is on time. With an as-of days later (nothing pending),
``within_24h`` must count 9 and ``within_48h`` 4 — in ``dq check`` (Great Expectations) and in the count
engine alike.
"""

from __future__ import annotations

import datetime as dt

import pytest

from toolkit.check import run_check
from toolkit.engine import count_batches

AS_OF = dt.datetime(2024, 3, 12, 18, 0)


@pytest.fixture(scope="module")
def batch(tmp_path_factory, bdc_kit):
    t = bdc_kit.valid_tables(bdc_kit.districts(5))
    registrations = t[bdc_kit.FDCQ]
    late, missing = registrations[:5], registrations[5:9]
    messages = {m["YWH"]: m for m in t[bdc_kit.JRBW]}
    for reg in late:
        djsj = dt.datetime.fromisoformat(reg["DJSJ"])
        messages[reg["YWH"]]["JRSJ"] = (djsj + dt.timedelta(hours=30)).isoformat(sep=" ")
    gone = {reg["YWH"] for reg in missing}
    t[bdc_kit.JRBW] = [m for m in t[bdc_kit.JRBW] if m["YWH"] not in gone]
    return bdc_kit.write_batch(tmp_path_factory.mktemp("timeliness") / "batch", t)


def _total(counts, rule_id: str) -> tuple[int, int]:
    rows = counts[counts.rule_id == rule_id]
    return int(rows.element_count.sum()), int(rows.unexpected_count.sum())


def test_missing_messages_are_late_in_check_and_engine(batch):
    checked = run_check(batch, domain="bdc", mode="incremental", as_of=AS_OF)
    engine = count_batches(batch, domain="bdc", mode="incremental", as_of=AS_OF)
    for counts in (checked.counts, engine.counts):
        assert _total(counts, "bdc.fdcq.jrbw.within_24h") == (10, 9)  # 5 late + 4 never accessed
        assert _total(counts, "bdc.fdcq.jrbw.within_48h") == (10, 4)  # 30 h is in time for 48 h
        assert _total(counts, "bdc.fdcq.jrbw.submitted")[1] == 4
