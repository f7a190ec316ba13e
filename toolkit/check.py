"""The QA checkpoint (``dq check``): load a batch, prepare views, run the suites, count, list problems.

Counting follows Great Expectations: a rule's ``element_count`` is the rows it applies to (after its
row condition), its ``unexpected_count`` the rows that break it. Great Expectations gives batch totals;
the split by district is computed here from the same row condition and the failing rows' ``_ROW``, and
the district sums are checked against Great Expectations' totals (a mismatch is an internal error, never
a silently wrong count).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit import validators, workdays
from toolkit.domain import Domain, Rule, load_domain
from toolkit.errors import DQError
from toolkit.gx_run import RuleResult, run_checkpoint
from toolkit.loading import ROW_COLUMN, Batch, load_batch
from toolkit.masking import mask_value
from toolkit.views import build_views

NO_DISTRICT = ""  # rows whose district code is empty


class InternalCountError(DQError):
    pass


@dataclass
class CheckResult:
    domain: Domain
    mode: str
    batch: Batch
    as_of: dt.datetime | None
    as_of_source: str
    rules: list[Rule]
    results: dict[str, RuleResult]
    not_evaluated: dict[str, str]  # rule id -> reason
    counts: pd.DataFrame
    problems: pd.DataFrame
    frames: dict[str, pd.DataFrame]
    started: dt.datetime
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def critical_failures(self) -> list[str]:
        return sorted(
            rid for rid, r in self.results.items() if r.rule.severity == "critical" and not r.success
        )

    @property
    def errored(self) -> list[str]:
        return sorted(rid for rid, r in self.results.items() if r.error)

    @property
    def exit_code(self) -> int:
        if self.errored:
            return 2
        return 1 if self.critical_failures else 0


def latest_timestamp(domain: Domain, batch: Batch) -> dt.datetime | None:
    """The batch's default as-of: the latest readable timestamp among the domain's ``as_of_fields``."""
    best: dt.datetime | None = None
    for table, fields in (domain.config.get("as_of_fields") or {}).items():
        if table not in batch.tables:
            continue
        frame = batch.tables[table].frame
        for f in fields:
            if f not in frame.columns:
                continue
            for v in frame[f].dropna().unique():
                ts = validators.parse_datetime(v)
                if ts is not None and (best is None or ts > best):
                    best = ts
    return best


def _rule_rows(frame: pd.DataFrame, rule: Rule) -> pd.DataFrame:
    """The rows a rule applies to, as Great Expectations counts them: its row condition only. (For
    column-pair rules GX's ``element_count`` includes rows that ``ignore_row_if`` skips.)"""
    return frame.query(rule.row_condition) if rule.row_condition else frame


def _district_counts(
    domain: Domain,
    frames: dict[str, pd.DataFrame],
    results: dict[str, RuleResult],
    rules: list[Rule],
    not_evaluated: dict[str, str],
    districts: list[str],
) -> pd.DataFrame:
    dcol = domain.config.get("district_column", "QXDM")
    records = []
    for rule in rules:
        base = dict(
            rule_id=rule.rule_id,
            table=rule.table,
            field=rule.field,
            dimension=rule.dimension,
            severity=rule.severity,
        )
        res = results.get(rule.rule_id)
        if res is None or res.error:
            for d in districts:
                records.append(
                    {dcol: d, **base, "element_count": 0, "unexpected_count": 0, "evaluated": False}
                )
            continue
        frame = frames[rule.target]
        applies = _rule_rows(frame, rule)
        elem = applies[dcol].fillna(NO_DISTRICT).value_counts()
        if int(elem.sum()) != res.element_count:
            raise InternalCountError(
                f"规则 {rule.rule_id} 按区县拆分的适用行数 {int(elem.sum())} 与 GX 的 {res.element_count} 不一致。",
                f"rule {rule.rule_id}: district split {int(elem.sum())} != GX element_count {res.element_count}.",
            )
        row_district = frame.set_index(ROW_COLUMN)[dcol].fillna(NO_DISTRICT)
        unexp = Counter(row_district.loc[res.unexpected_rows].tolist()) if res.unexpected_rows else Counter()
        if sum(unexp.values()) != res.unexpected_count:
            raise InternalCountError(
                f"规则 {rule.rule_id} 的问题行数与 GX 不一致。",
                f"rule {rule.rule_id}: {sum(unexp.values())} failing rows found, GX says {res.unexpected_count}.",
            )
        for d in districts:
            records.append(
                {
                    dcol: d,
                    **base,
                    "element_count": int(elem.get(d, 0)),
                    "unexpected_count": int(unexp.get(d, 0)),
                    "evaluated": True,
                }
            )
    cols = [
        dcol,
        "rule_id",
        "table",
        "field",
        "dimension",
        "severity",
        "element_count",
        "unexpected_count",
        "evaluated",
    ]
    return pd.DataFrame.from_records(records, columns=cols)


def _problems(
    domain: Domain, batch: Batch, frames: dict[str, pd.DataFrame], results: dict[str, RuleResult]
) -> pd.DataFrame:
    dcol = domain.config.get("district_column", "QXDM")
    pii = domain.pii_fields()
    out = []
    for rid in sorted(results):
        res = results[rid]
        if not res.unexpected_rows:
            continue
        rule = res.rule
        frame = frames[rule.target].set_index(ROW_COLUMN)
        base_frame = frames.get(rule.table)
        base = base_frame.set_index(ROW_COLUMN) if base_frame is not None else None
        key_col = domain.tables[rule.table].get("key")
        key_cols = key_col if isinstance(key_col, list) else [key_col]
        src = batch.tables.get(rule.table)
        for row in res.unexpected_rows:
            rec = frame.loc[row]
            brow = base.loc[row] if base is not None and row in base.index else rec
            col = rule.kwargs.get("column") or rule.kwargs.get("column_A")
            if rule.field in rec.index:
                value = rec[rule.field]
            elif col in rec.index:
                value = rec[col]
            else:
                value = brow.get(rule.field)
            detail = ""
            if rule.type == "expect_column_values_to_be_valid_unit_number" and isinstance(value, str):
                detail = validators.unit_number_problem(value) or ""
            out.append(
                {
                    "rule_id": rid,
                    "table": rule.table,
                    dcol: rec.get(dcol) or brow.get(dcol),
                    "YWH": brow.get("YWH") if "YWH" in brow.index else None,
                    "field": rule.field,
                    "value_masked": mask_value(rule.field, value, pii),
                    "message_zh": rule.meta["message_zh"],
                    "fix_zh": rule.meta["fix_zh"],
                    "detail_zh": detail,
                    "severity": rule.severity,
                    "dimension": rule.dimension,
                    "key": "|".join(str(brow.get(k) or "") for k in key_cols),
                    "file": src.path.name if src is not None else "",
                    "row": row,
                }
            )
    cols = [
        "rule_id",
        "table",
        dcol,
        "YWH",
        "field",
        "value_masked",
        "message_zh",
        "fix_zh",
        "detail_zh",
        "severity",
        "dimension",
        "key",
        "file",
        "row",
    ]
    return pd.DataFrame.from_records(out, columns=cols)


def select_rules(
    domain: Domain, mode: str, batch: Batch, frames: dict[str, pd.DataFrame]
) -> tuple[list[Rule], dict[str, str]]:
    """The rules of this mode, and why some of them cannot be evaluated on this batch."""
    rules = [r for r in domain.rules if mode in r.applies_to]
    not_evaluated: dict[str, str] = {}
    for r in rules:
        missing = [t for t in r.requires if t not in batch.tables]
        if missing:
            not_evaluated[r.rule_id] = f"缺少表 / table absent: {', '.join(missing)}"
        elif r.target not in frames:
            not_evaluated[r.rule_id] = f"无法生成视图 / view not built: {r.target}"
    return rules, not_evaluated


def run_check(
    batch_dir: str | Path,
    *,
    domain: str | Domain = "bdc",
    mode: str = "incremental",
    as_of: dt.datetime | None = None,
    overlay: str | Path | None = None,
    docs_dir: Path | None = None,
    calendar: workdays.WorkdayCalendar | None = None,
    progress: bool = False,
) -> CheckResult:
    started = dt.datetime.now()
    t0 = time.perf_counter()
    dom = domain if isinstance(domain, Domain) else load_domain(domain, overlay=overlay)
    tables = dom.mode_tables(mode)
    required = dom.required_columns()
    batch = load_batch(batch_dir, {t: required[t] for t in tables}, progress=progress)
    as_of_source = "given"
    if as_of is None:
        as_of, as_of_source = latest_timestamp(dom, batch), "latest timestamp in batch"
    frames: dict[str, pd.DataFrame] = {code: t.frame for code, t in batch.tables.items()}
    frames.update(build_views(dom, batch, as_of))
    rules, not_evaluated = select_rules(dom, mode, batch, frames)
    by_target: dict[str, list[Rule]] = {}
    for r in rules:
        if r.rule_id not in not_evaluated:
            by_target.setdefault(r.target, []).append(r)
    workdays.use_calendar(calendar)
    try:
        results = run_checkpoint(
            f"{dom.name}_{mode}", frames, by_target, pii=dom.pii_fields(), docs_dir=docs_dir
        )
    finally:
        workdays.use_calendar(None)
    for rid, res in results.items():
        if res.error:
            not_evaluated[rid] = f"规则执行出错 / rule raised: {res.error}"
    dcol = dom.config.get("district_column", "QXDM")
    districts = sorted(
        {
            d
            for t in batch.tables.values()
            if dcol in t.frame.columns
            for d in t.frame[dcol].fillna(NO_DISTRICT).unique()
        }
    )
    counts = _district_counts(dom, frames, results, rules, not_evaluated, districts)
    problems = _problems(dom, batch, frames, results)
    return CheckResult(
        domain=dom,
        mode=mode,
        batch=batch,
        as_of=as_of,
        as_of_source=as_of_source,
        rules=rules,
        results=results,
        not_evaluated=not_evaluated,
        counts=counts,
        problems=problems,
        frames=frames,
        started=started,
        seconds=time.perf_counter() - t0,
    )
