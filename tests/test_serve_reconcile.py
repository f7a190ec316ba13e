"""Registrations that escaped the self-check (防止瞒报漏报), on a sample day with known gaps.

The fixture pack xpack (tests/xpack.py, two offices, five registrations each, no injected errors) is
served on a loopback port; each office's registration system calls it with its own token in a planned
way, and ``dq reconcile-calls`` must list exactly the planned gaps per office, with the self-check rates
computed by hand.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt

import httpx
import pytest
import xpack
from test_serve_verdicts import businesses
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.domain import load_domain
from toolkit.serve.auth import add_token
from toolkit.serve.reconcile import reconcile
from toolkit.serve.server import BackgroundServer, build_app

TODAY = dt.date.today()  # the call log files are named by the day of the call


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reconcile")
    day = tmp / "export" / TODAY.isoformat()
    xpack.write_batch(day, TODAY, errors=False)
    domain = load_domain(xpack.PACK)
    biz = {key: {c: rows for c, (_, rows) in t.items()} for key, t in businesses(domain, day)}
    keys = list(biz)
    assert len(keys) == 10
    tokens = tmp / "tokens"
    tok = {code: add_token(tokens, code) for code in xpack.OFFICES}
    asgi, _ = build_app(xpack.PACK, tokens=tokens, log_dir=tmp / "log")
    # keys[0..4]: JG001, keys[5..9]: JG002
    broken = copy.deepcopy(biz[keys[2]])
    broken["DJXX"][0]["SLSJ"] = "2024-13-45 09:00:00"  # not a date: a critical rule fails
    broken7 = copy.deepcopy(biz[keys[7]])
    broken7["DJXX"][0]["SLSJ"] = "2024-13-45 09:00:00"
    extra = copy.deepcopy(biz[keys[8]])  # a registration checked but left out of the day's export
    extra_key = keys[8].replace("-00", "-09")
    for rows in extra.values():
        for r in rows:
            r["DJBH"] = extra_key
    plan = [
        ("JG001", keys[0], biz[keys[0]], "dengbu", True),  # checked and passed before recording: fine
        ("JG001", keys[2], broken, "dengbu", False),  # failing checks only
        ("JG001", keys[2], broken, "huijiao", False),
        ("JG002", keys[5], biz[keys[5]], "huijiao", True),  # passed, but only before submitting
        ("JG002", keys[7], broken7, "dengbu", False),  # failed, corrected, passed: fine
        ("JG002", keys[7], biz[keys[7]], "dengbu", True),
        ("JG002", extra_key, extra, "dengbu", True),  # never submitted
    ]
    with BackgroundServer(asgi) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        for unit, key, tables, stage, passes in plan:
            r = client.post(
                "/v1/xpack/check",
                json={"stage": stage, "tables": tables},
                headers={"Authorization": f"Bearer {tok[unit]}"},
            )
            assert r.status_code == 200, r.text
            assert r.json()["pass"] is passes, (key, r.json()["failed_rules"])
            assert r.json()["business_keys"] == [key]
    return {"day": day, "log": tmp / "log", "keys": keys, "extra": extra_key, "domain": domain, "tmp": tmp}


def test_gaps_per_unit_on_a_day_with_known_gaps(setup):
    keys = setup["keys"]
    rec = reconcile(setup["domain"], setup["day"], setup["log"])
    got = sorted(zip(rec.gaps["unit_code"], rec.gaps["record_key"], rec.gaps["gap"], strict=True))
    expected = sorted(
        [
            ("JG001", keys[1], "never_checked"),
            ("JG001", keys[2], "failed_only"),
            ("JG001", keys[3], "never_checked"),
            ("JG001", keys[4], "never_checked"),
            ("JG002", keys[5], "no_pass_before_recording"),
            ("JG002", keys[6], "never_checked"),
            ("JG002", keys[8], "never_checked"),
            ("JG002", keys[9], "never_checked"),
            ("JG002", setup["extra"], "checked_not_submitted"),
        ]
    )
    assert got == expected
    failed = rec.gaps[rec.gaps["gap"] == "failed_only"].iloc[0]
    assert (
        failed["calls"] == 2
        and failed["last_verdict"] == "fail"
        and "xpack.djxx.slsj.datetime" in failed["failed_rules"]
    )
    rates = rec.rates.set_index("unit_code")
    # JG001: 5 registrations, 2 checked (0, 2), 1 passed before recording (0)
    assert rates.loc["JG001", ["registrations", "checked", "passed_before_recording"]].tolist() == [5, 2, 1]
    assert rates.loc["JG001", "selfcheck_rate"] == pytest.approx(0.4)
    # JG002: 5 registrations, 2 checked (5, 7), 1 passed before recording (7); one checked, not submitted
    assert rates.loc["JG002", ["registrations", "checked", "passed_before_recording"]].tolist() == [5, 2, 1]
    assert rates.loc["JG002", "pass_before_recording_rate"] == pytest.approx(0.2)
    assert rates.loc["JG002", "checked_not_submitted"] == 1
    assert rates.loc["JG001", "unit_name"] == "东城窗口"  # names read from the data (names: column:JGMC)


def test_a_later_batch_counts_as_submitted(setup, tmp_path):
    later = tmp_path / "later"
    xpack.write_batch(later, TODAY, errors=False)
    with (later / "DJXX.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows[0]["DJBH"] = setup["extra"]
    with (later / "DJXX.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    rec = reconcile(setup["domain"], setup["day"], setup["log"], also=[later])
    assert "checked_not_submitted" not in set(rec.gaps["gap"])


def test_calls_outside_the_window_do_not_count(setup):
    rec = reconcile(setup["domain"], setup["day"], setup["log"], day=TODAY + dt.timedelta(days=60), window=30)
    assert set(rec.gaps["gap"]) == {"never_checked"} and len(rec.gaps) == 10


def test_cli_lists_gaps_and_exits_1(setup):
    out = setup["tmp"] / "out"
    args = ["reconcile-calls", "--domain", str(xpack.PACK), "--log", str(setup["log"])]
    res = CliRunner().invoke(
        app, [*args, "--input", str(setup["day"]), "--out", str(out)], env={"COLUMNS": "160"}
    )
    assert res.exit_code == 1, res.output
    assert "自检率" in res.output and "JG001" in res.output and "40.0%" in res.output
    with (out / "gaps.csv").open(encoding="utf-8-sig") as fh:
        assert len(list(csv.DictReader(fh))) == 9
    assert (out / "selfcheck_rates.csv").is_file()
    missing = CliRunner().invoke(app, [*args[:-1], str(setup["tmp"] / "nope"), "--input", str(setup["day"])])
    assert missing.exit_code == 2 and "调用日志目录不存在" in missing.output
