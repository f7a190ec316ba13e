"""Registrations that escaped the self-check (防止瞒报漏报): a day's batch against the call log.

``dq reconcile-calls --domain D --log DIR --input BATCH`` reads the registrations of a batch — the
distinct business keys (:func:`toolkit.serve.standards.business_key_columns`) of the check mode's core
tables, each with its unit (``Domain.unit.column_of(table)``) — and the answered calls (status 200) of the
call log from ``window`` days before the batch's day up to that day, and lists per unit:

* ``never_checked`` — in the batch, never self-checked (未经自检);
* ``failed_only`` — self-checked, but no check ever passed: recorded after failing checks only
  (仅有不通过的自检);
* ``no_pass_before_recording`` — some check passed, but none at the ``dengbu`` stage (登簿前没有通过的自检);
* ``checked_not_submitted`` — checked on the batch's day but absent from the batch (and from the later
  batches given with ``also``): checked but never submitted (已自检未汇交).

It also gives per unit the self-check rate (registrations of the batch checked at least once ÷
registrations) and the pass-before-recording rate — the figures a bulletin can show. Keys are record
keys (not masked, as in every output) but pass through the free-text scrubber.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.domain import Domain
from toolkit.errors import InputError
from toolkit.loading import load_batch
from toolkit.masking import scrub_text
from toolkit.serve.calllog import read_calls
from toolkit.serve.standards import business_key_columns, check_mode

__all__ = ["GAPS", "Reconciliation", "reconcile", "write_reconciliation"]

GAPS = {
    "never_checked": "未经自检 / never self-checked",
    "failed_only": "仅有不通过的自检 / recorded after failing checks only",
    "no_pass_before_recording": "登簿前没有通过的自检 / no passing check before recording",
    "checked_not_submitted": "已自检未汇交 / checked but not submitted",
}
GAP_COLUMNS = [
    "unit_code",
    "unit_name",
    "record_key",
    "gap",
    "gap_zh",
    "calls",
    "last_stage",
    "last_verdict",
    "last_check",
    "failed_rules",
]
RATE_COLUMNS = [
    "unit_code",
    "unit_name",
    "registrations",
    "checked",
    "passed_before_recording",
    "selfcheck_rate",
    "pass_before_recording_rate",
    *GAPS,
]


@dataclass
class Reconciliation:
    day: dt.date | None
    gaps: pd.DataFrame
    rates: pd.DataFrame
    calls_read: int
    registrations: int

    @property
    def gap_count(self) -> int:
        return len(self.gaps)


def _batch_day(folder: Path, day: dt.date | str | None) -> dt.date | None:
    if isinstance(day, dt.date):
        return day
    text = str(day) if day else folder.name
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        if day:
            raise InputError(
                f"日期 {scrub_text(text)} 不是 YYYY-MM-DD。",
                f"the day {scrub_text(text)} is not YYYY-MM-DD.",
                fix_zh="例如 --day 2024-12-31",
                fix_en="e.g. --day 2024-12-31",
            ) from None
        return None


def _registrations(domain: Domain, folder: Path, names: dict[str, str] | None = None) -> dict[str, str]:
    """Business key → unit code, for the batch's registrations; ``names`` collects unit names found in
    the data (``names: column:<FIELD>`` packs)."""
    mode = check_mode(domain)
    keys = business_key_columns(domain, mode)
    tables = [
        t
        for t in (domain.core_tables(mode) or domain.mode_tables(mode))
        if all(k in domain.tables[t]["fields"] for k in keys)
    ]
    if not tables:
        tables = [t for t in domain.mode_tables(mode) if all(k in domain.tables[t]["fields"] for k in keys)]
    required = domain.required_columns()
    batch = load_batch(
        folder, {t: required[t] for t in domain.mode_tables(mode)}, core=domain.core_tables(mode)
    )
    out: dict[str, str] = {}
    for code in tables:
        if code not in batch.tables:
            continue
        frame = batch.tables[code].frame
        ucol = domain.unit.column_of(code)
        name_col = domain.unit.names.split(":", 1)[1] if domain.unit.names.startswith("column:") else None
        if names is not None and name_col in frame.columns and ucol in frame.columns:
            for c, n in frame[[ucol, name_col]].dropna().itertuples(index=False, name=None):
                names.setdefault(str(c), str(n))
        cols = [*keys, ucol] if ucol in frame.columns else keys
        for rec in frame[cols].itertuples(index=False, name=None):
            parts = rec[: len(keys)]
            if any(p is None or p != p for p in parts):
                continue
            key = "|".join(str(p) for p in parts)
            unit = rec[len(keys)] if len(rec) > len(keys) else None
            out.setdefault(key, "" if unit is None or unit != unit else str(unit))
    return out


def reconcile(
    domain: Domain,
    batch_dir: str | Path,
    log_dir: str | Path,
    *,
    day: dt.date | str | None = None,
    window: int = 30,
    also: list[str | Path] | None = None,
) -> Reconciliation:
    """See the module docstring."""
    folder = Path(batch_dir)
    log = Path(log_dir)
    if not log.is_dir():
        raise InputError(
            "调用日志目录不存在。",
            "the call-log folder does not exist.",
            path=log,
            fix_zh="--log 应为 dq serve --log 指定的目录。",
            fix_en="--log must be the folder given to dq serve --log.",
        )
    batch_day = _batch_day(folder, day)
    seen: dict[str, str] = {}
    registrations = _registrations(domain, folder, seen)
    submitted = set(registrations)
    for extra in also or []:
        submitted |= set(_registrations(domain, Path(extra)))
    days = None
    if batch_day is not None:
        days = {(batch_day - dt.timedelta(days=i)).isoformat() for i in range(max(window, 0) + 1)}
    items: dict[str, list[dict[str, Any]]] = defaultdict(list)
    n_calls = 0
    for rec in read_calls(log, days):
        if rec.get("domain") != domain.name or rec.get("status") != 200:
            continue
        n_calls += 1
        for item in rec.get("items") or []:
            for key in item.get("keys") or []:
                items[str(key)].append({**item, "time": rec.get("time", ""), "token_unit": rec.get("unit")})
    gaps: list[dict[str, Any]] = []

    def add(key: str, unit: str, gap: str, calls: list[dict[str, Any]]) -> None:
        last = max(calls, key=lambda c: c["time"]) if calls else {}
        gaps.append(
            {
                "unit_code": unit,
                "unit_name": domain.unit.name_of(unit, seen),
                "record_key": scrub_text(key),
                "gap": gap,
                "gap_zh": GAPS[gap],
                "calls": len(calls),
                "last_stage": last.get("stage", ""),
                "last_verdict": last.get("verdict", ""),
                "last_check": last.get("time", ""),
                "failed_rules": " ".join(last.get("failed_rules") or []),
            }
        )

    per_unit: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for key, unit in registrations.items():
        calls = items.get(key, [])
        stats = per_unit[unit]
        stats["registrations"] += 1
        if calls:
            stats["checked"] += 1
        if any(c.get("pass") and c.get("stage") == "dengbu" for c in calls):
            stats["passed_before_recording"] += 1
        if not calls:
            gap = "never_checked"
        elif not any(c.get("pass") for c in calls):
            gap = "failed_only"
        elif not any(c.get("pass") and c.get("stage") == "dengbu" for c in calls):
            gap = "no_pass_before_recording"
        else:
            continue
        stats[gap] += 1
        add(key, unit, gap, calls)
    if batch_day is not None:
        today = batch_day.isoformat()
        for key, calls in items.items():
            if key in submitted:
                continue
            same_day = [c for c in calls if str(c["time"])[:10] == today]
            if not same_day:
                continue
            units = [u for c in same_day for u in c.get("units") or []]
            unit = units[0] if units else str(same_day[0].get("token_unit") or "")
            per_unit[unit]["checked_not_submitted"] += 1
            add(key, unit, "checked_not_submitted", same_day)
    rates = []
    for unit in sorted(per_unit):
        s = per_unit[unit]
        n = s["registrations"]
        rates.append(
            {
                "unit_code": unit,
                "unit_name": domain.unit.name_of(unit, seen),
                "registrations": n,
                "checked": s["checked"],
                "passed_before_recording": s["passed_before_recording"],
                "selfcheck_rate": round(s["checked"] / n, 4) if n else None,
                "pass_before_recording_rate": round(s["passed_before_recording"] / n, 4) if n else None,
                **{g: s[g] for g in GAPS},
            }
        )
    gap_frame = pd.DataFrame.from_records(gaps, columns=GAP_COLUMNS)
    if len(gap_frame):
        order = {g: i for i, g in enumerate(GAPS)}
        gap_frame = gap_frame.sort_values(
            ["unit_code", "gap", "record_key"], key=lambda s: s.map(order) if s.name == "gap" else s
        ).reset_index(drop=True)
    return Reconciliation(
        day=batch_day,
        gaps=gap_frame,
        rates=pd.DataFrame.from_records(rates, columns=RATE_COLUMNS),
        calls_read=n_calls,
        registrations=len(registrations),
    )


def write_reconciliation(rec: Reconciliation, out_dir: str | Path) -> dict[str, Path]:
    """``gaps.csv`` (one row per registration that escaped the self-check) and ``selfcheck_rates.csv``
    (per unit), through :mod:`toolkit.sheets`."""
    from toolkit.sheets import write_csv

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return {
        "gaps": write_csv(rec.gaps, out / "gaps.csv"),
        "rates": write_csv(rec.rates, out / "selfcheck_rates.csv"),
    }
