"""The QA checkpoint on Great Expectations (``dq check --engine gx``, the reference): load a batch into
pandas, prepare views, run the suites, count, list problems. :class:`CheckResult` (what every engine
returns) lives in :mod:`toolkit.results`, free of Great Expectations; :mod:`toolkit.check` is the
entry point (:func:`toolkit.check.run_check` chooses the engine).

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
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit import validators, workdays
from toolkit.domain import Domain, Rule, load_domain
from toolkit.errors import ConfigError, InputError, InternalCountError
from toolkit.gx_run import run_checkpoint
from toolkit.loading import ROW_COLUMN, Batch, load_batch
from toolkit.masking import Masker
from toolkit.results import (
    COUNT_COLUMNS,
    NO_UNIT,
    PROBLEM_COLUMNS,
    CheckResult,
    RuleResult,
    collect_warnings,
)
from toolkit.views import build_views


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


def _unit_of(domain: Domain, frame: pd.DataFrame, target: str) -> pd.Series:
    """Each row's unit code (``""`` where empty or where the table has no unit column), by ``_ROW``."""
    col = domain.unit.column_of(target)
    values = frame[col] if col in frame.columns else pd.Series(None, index=frame.index, dtype=object)
    return pd.Series(values.fillna(NO_UNIT).to_numpy(), index=frame[ROW_COLUMN].to_numpy(), dtype=object)


def _unit_counts(
    domain: Domain,
    frames: dict[str, pd.DataFrame],
    results: dict[str, RuleResult],
    rules: list[Rule],
    units: list[str],
) -> pd.DataFrame:
    """Per unit × rule: element and unexpected counts, split from Great Expectations' failing rows and
    checked against its totals (a mismatch is an :class:`~toolkit.errors.InternalCountError`)."""
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
            for u in units:
                records.append(
                    {"unit_code": u, **base, "element_count": 0, "unexpected_count": 0, "evaluated": False}
                )
            continue
        frame = frames[rule.target]
        unit = _unit_of(domain, frame, rule.target)
        applies = _rule_rows(frame, rule)
        elem = unit.loc[applies[ROW_COLUMN].to_numpy()].value_counts()
        if int(elem.sum()) != res.element_count:
            raise InternalCountError(
                f"规则 {rule.rule_id} 按{domain.unit.label_zh}拆分的适用行数 {int(elem.sum())} 与 GX 的 "
                f"{res.element_count} 不一致。",
                f"rule {rule.rule_id}: unit split {int(elem.sum())} != GX element_count {res.element_count}.",
            )
        unexp = Counter(unit.loc[res.unexpected_rows].tolist()) if res.unexpected_rows else Counter()
        if sum(unexp.values()) != res.unexpected_count:
            raise InternalCountError(
                f"规则 {rule.rule_id} 的问题行数与 GX 不一致。",
                f"rule {rule.rule_id}: {sum(unexp.values())} failing rows found, GX says {res.unexpected_count}.",
            )
        for u in units:
            records.append(
                {
                    "unit_code": u,
                    **base,
                    "element_count": int(elem.get(u, 0)),
                    "unexpected_count": int(unexp.get(u, 0)),
                    "evaluated": True,
                }
            )
    return pd.DataFrame.from_records(records, columns=["unit_code", *COUNT_COLUMNS])


def _problems(
    domain: Domain,
    batch: Batch,
    frames: dict[str, pd.DataFrame],
    results: dict[str, RuleResult],
    masker: Masker,
    unit_names: dict[str, str],
) -> pd.DataFrame:
    """The problem list: one row per failing row × rule, masked (see the module docstring)."""
    extra = domain.problem_fields
    out = []
    for rid in sorted(results):
        res = results[rid]
        if not res.unexpected_rows:
            continue
        rule = res.rule
        frame = frames[rule.target].set_index(ROW_COLUMN)
        base_frame = frames.get(rule.table)
        base = base_frame.set_index(ROW_COLUMN) if base_frame is not None else None
        key_cols = domain.record_key(rule.table)
        ucol, ucol_base = domain.unit.column_of(rule.target), domain.unit.column_of(rule.table)
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
            unit = rec.get(ucol) or brow.get(ucol_base) or NO_UNIT
            item = {
                "rule_id": rid,
                "table": rule.table,
                "unit_code": masker.text(unit),
                "unit_name": unit_names.get(unit, ""),
                "record_key": "|".join(str(masker.value(k, brow.get(k)) or "") for k in key_cols),
                **{f: masker.value(f, brow.get(f)) for f in extra if f in brow.index},
                "field": rule.field,
                "value_masked": masker.value(rule.field, value),
                "message_zh": rule.meta["message_zh"],
                "fix_zh": rule.meta["fix_zh"],
                "detail_zh": masker.text(detail),
                "severity": rule.severity,
                "dimension": rule.dimension,
                "file": masker.text(src.path.name) if src is not None else "",
                "row": row,
            }
            out.append(item)
    cols = PROBLEM_COLUMNS[:5] + extra + PROBLEM_COLUMNS[5:]
    return pd.DataFrame.from_records(out, columns=cols)


def unit_names(domain: Domain, frames: dict[str, pd.DataFrame], codes: list[str]) -> dict[str, str]:
    """Unit code → name: from the data for ``names: column:<FIELD>`` packs, else :meth:`Unit.name_of`."""
    seen: dict[str, str] = {}
    unit = domain.unit
    if unit.names.startswith("column:"):
        name_col = unit.names.split(":", 1)[1]
        for table, frame in frames.items():
            col = unit.column_of(table)
            if col in frame.columns and name_col in frame.columns:
                pairs = frame[[col, name_col]].dropna()
                for c, n in zip(pairs[col], pairs[name_col], strict=True):
                    seen.setdefault(c, n)
    return {c: unit.name_of(c, seen) for c in codes}


def select_rules(
    domain: Domain, mode: str, batch: Batch, frames: dict[str, pd.DataFrame]
) -> tuple[list[Rule], dict[str, str]]:
    """The rules of this mode, and why some of them cannot be evaluated on this batch."""
    rules = [r for r in domain.rules if mode in r.applies_to]
    not_evaluated: dict[str, str] = {}
    for r in rules:
        missing = [t for t in r.requires if t not in batch.tables]
        absent_cols = [
            c
            for c in r.requires_columns
            if r.table in batch.tables and c not in batch.tables[r.table].frame.columns
        ]
        if missing:
            not_evaluated[r.rule_id] = f"缺少表 / table absent: {', '.join(missing)}"
        elif absent_cols:
            not_evaluated[r.rule_id] = f"缺少列 / column absent: {', '.join(absent_cols)}"
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


def _run_check(
    batch_dir: str | Path,
    domain: str | Domain,
    mode: str,
    as_of: dt.datetime | None,
    overlay: str | Path | None,
    docs_dir: Path | None,
    calendar: workdays.WorkdayCalendar | None,
    progress: bool,
    **_options: Any,
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
    units = sorted(
        {u for name, f in frames.items() if name in batch.tables for u in _unit_of(dom, f, name).unique()}
    )
    names = unit_names(dom, frames, units)
    counts = _unit_counts(dom, frames, results, rules, units)
    counts.insert(1, "unit_name", counts["unit_code"].map(names).fillna(""))
    problems = _problems(dom, batch, frames, results, masker, names)
    counts["unit_code"] = counts["unit_code"].map(masker.text)  # a unit column is data too (an ID typed in)
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
        problems_frame=problems,
        frames=frames,
        started=started,
        masker=masker,
        seconds=time.perf_counter() - t0,
    )


def run_gx_check(
    batch_dir: str | Path,
    *,
    domain: str | Domain,
    mode: str = "incremental",
    as_of: dt.datetime | None = None,
    overlay: str | Path | None = None,
    docs_dir: Path | None = None,
    calendar: workdays.WorkdayCalendar | None = None,
    progress: bool = False,
) -> CheckResult:
    """``dq check --engine gx``: :func:`toolkit.check.run_check` with ``engine="gx"``."""
    return collect_warnings(_run_check, batch_dir, domain, mode, as_of, overlay, docs_dir, calendar, progress)
