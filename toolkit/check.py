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
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit import validators, workdays
from toolkit.domain import Domain, Rule, load_domain
from toolkit.errors import ConfigError, DQWarning, InputError, InternalCountError, warning_lines
from toolkit.gx_run import RuleResult, run_checkpoint
from toolkit.loading import ROW_COLUMN, Batch, load_batch
from toolkit.masking import Masker
from toolkit.views import build_views

NO_DISTRICT = ""  # rows whose district code is empty


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
    masker: Masker = field(default_factory=Masker)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def batch_warnings(self) -> list[str]:
        """Warnings about how the batch was read (e.g. IDs stored as numbers in Excel)."""
        out = []
        for t in self.batch.tables.values():
            for col in getattr(t, "lossy_columns", []) or []:
                out.append(
                    f"{t.path.name} 的 {col} 列在 Excel 中存为数字，超过 15 位的号码可能已丢失末尾数字；请把该列设为“文本”格式后重新导出。"
                    f" / column {col} of {t.path.name} holds numbers in Excel: digits beyond the 15th may be lost;"
                    " format the column as text and export again."
                )
        return out

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
            lo, hi = domain.plausible_years(table, f)
            for v in frame[f].dropna().unique():
                ts = validators.parse_datetime(v)
                if ts is not None and lo <= ts.year <= hi and (best is None or ts > best):
                    best = ts
    return best


def _rule_rows(frame: pd.DataFrame, rule: Rule) -> pd.DataFrame:
    """The rows a rule applies to, as Great Expectations counts them: its row condition only. (For
    column-pair rules GX's ``element_count`` includes rows that ``ignore_row_if`` skips.)"""
    cond = rule.condition
    return frame[cond.mask(frame)] if cond is not None else frame


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
    domain: Domain,
    batch: Batch,
    frames: dict[str, pd.DataFrame],
    results: dict[str, RuleResult],
    masker: Masker,
) -> pd.DataFrame:
    dcol = domain.config.get("district_column", "QXDM")
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
                    dcol: masker.text(rec.get(dcol) or brow.get(dcol)),
                    "YWH": masker.value("YWH", brow.get("YWH")) if "YWH" in brow.index else None,
                    "field": rule.field,
                    "value_masked": masker.value(rule.field, value),
                    "message_zh": rule.meta["message_zh"],
                    "fix_zh": rule.meta["fix_zh"],
                    "detail_zh": masker.text(detail),
                    "severity": rule.severity,
                    "dimension": rule.dimension,
                    "key": "|".join(str(masker.value(k, brow.get(k)) or "") for k in key_cols),
                    "file": masker.text(src.path.name) if src is not None else "",
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
        else:
            cond = r.condition
            used = [
                *(r.kwargs.get(k) for k in ("column", "column_A", "column_B")),
                *(cond.columns if cond else []),
            ]
            absent = [c for c in used if isinstance(c, str) and c not in frames[r.target].columns]
            if absent:
                not_evaluated[r.rule_id] = f"缺少列 / column absent: {', '.join(absent)}"
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
    """Check one batch (see the module docstring). The toolkit's warnings raised on the way (e.g. a year
    the holiday calendar does not cover) are collected in :attr:`CheckResult.warnings`, once each."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DQWarning)
        result = _run_check(batch_dir, domain, mode, as_of, overlay, docs_dir, calendar, progress)
    for w in caught:
        if not issubclass(w.category, DQWarning):  # shown as Python would have shown it
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    result.warnings = list(dict.fromkeys([*result.batch_warnings(), *warning_lines(caught)]))
    return result


def _run_check(
    batch_dir: str | Path,
    domain: str | Domain,
    mode: str,
    as_of: dt.datetime | None,
    overlay: str | Path | None,
    docs_dir: Path | None,
    calendar: workdays.WorkdayCalendar | None,
    progress: bool,
) -> CheckResult:
    started = dt.datetime.now()
    t0 = time.perf_counter()
    dom = domain if isinstance(domain, Domain) else load_domain(domain, overlay=overlay)
    tables = dom.mode_tables(mode)
    required = dom.required_columns()
    batch = load_batch(
        batch_dir, {t: required[t] for t in tables}, core=dom.core_tables(mode), progress=progress
    )
    as_of_source = "given"
    if as_of is None:
        as_of, as_of_source = latest_timestamp(dom, batch), "latest timestamp in batch"
    frames: dict[str, pd.DataFrame] = {code: t.frame for code, t in batch.tables.items()}
    frames.update(build_views(dom, batch, as_of))
    rules, not_evaluated = select_rules(dom, mode, batch, frames)
    if not rules:
        raise ConfigError(
            f"领域 {dom.name} 的 {mode} 模式没有任何规则（地方规则停用了全部规则？）。",
            f"domain {dom.name} has no rule for mode {mode} (did an overlay switch them all off?).",
            fix_zh="检查不能没有规则：请保留国家规则，或只停用个别规则。",
            fix_en="a check needs rules: keep the national rules, or switch off only some of them.",
        )
    if len(not_evaluated) == len(rules):
        raise InputError(
            "这个批次上没有一条规则能够执行，检查结果不能算作通过。",
            "no rule could be evaluated on this batch, so it cannot pass.",
            path=batch.folder,
            fix_zh="请检查批次是否包含该模式所需的表和列。",
            fix_en="check that the batch holds the tables and columns this mode needs.",
        )
    by_target: dict[str, list[Rule]] = {}
    for r in rules:
        if r.rule_id not in not_evaluated:
            by_target.setdefault(r.target, []).append(r)
    masker = Masker.for_frames(dom.pii_fields(), [t.frame for t in batch.tables.values()], dom.key_fields())
    workdays.use_calendar(calendar)
    try:
        results = run_checkpoint(f"{dom.name}_{mode}", frames, by_target, masker=masker, docs_dir=docs_dir)
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
    counts[dcol] = counts[dcol].map(masker.text)  # a unit column is data too: an ID typed into it is masked
    problems = _problems(dom, batch, frames, results, masker)
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
        masker=masker,
        seconds=time.perf_counter() - t0,
    )
