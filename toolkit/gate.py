"""The QA gate on the count engine: ``dq check --engine duckdb`` (the default).

:func:`run_engine_check` gives the same :class:`~toolkit.check.CheckResult` as the Great Expectations
path (``--engine gx``, :func:`toolkit.check.run_check`) without loading the batch into pandas:

1. the batch is read by DuckDB (:func:`toolkit.engine.count_batches`, memory limit, private temporary
   folder, spilling to disk), each record numbered as the loader numbers it (``_ROW`` = its row in the
   file, header = 1, blank records and empty lines counted: the table's row id as read in order; a CSV
   with an empty line, which DuckDB skips, is read by the loader), and every rule is counted per unit in
   SQL — the counts of ``counts.csv``; the same pass keeps, per unit, the rows failing any rule with a
   bit mask of the rules they fail (:attr:`toolkit.engine.CountedRun.failing`), so no rule is evaluated
   twice;
2. while the DuckDB connection is open, the kept rows are joined back to their table (a view's rows are
   kept whole), and each rule's failing rows (row, unit, value, record key, the pack's
   ``problem_fields``) are read in Arrow chunks, masked column by column through the one masking pass
   (:class:`toolkit.masking.Masker`, each distinct value once, knowing the person names of the batch,
   read in SQL too) and appended to ``problems.csv`` (:func:`toolkit.sheets.append_csv_columns`) — the
   problem list never exists as a whole in memory; a small sample of masked failing values per rule is
   kept for Data Docs and the report;
3. the gate: a rule fails when its failing share exceeds its tolerance, computed from the counts exactly
   as Great Expectations computes ``success`` (the share of non-empty values for column rules, of rows
   with both values for column-pair rules, of all rows for ``expect_column_values_to_not_be_null``);
4. rules the compiler declines are validated by Great Expectations (as in the engine), their problem
   rows appended.

Every table's rows read = rows checked; the batch's tables are *not* held in memory: ``result.batch``
describes the files, and a caller that needs a table's frame (the ledger) gets it read by the loader on
first use. ``result.problems`` reads ``problems.csv`` back on first use when the list was streamed.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit import validators, workdays
from toolkit.checks.sql import ident
from toolkit.domain import Domain, Rule
from toolkit.engine import MASK_BITS, UNIT_KEY, CountedRun, _log, count_batches
from toolkit.errors import ConfigError, InputError
from toolkit.loading import ROW_COLUMN, Batch, discover_tables, read_table
from toolkit.masking import Masker, person_names
from toolkit.results import PROBLEM_COLUMNS, CheckResult, RuleResult
from toolkit.sheets import append_csv, append_csv_columns, write_csv
from toolkit.views import BATCH_COLUMN

__all__ = ["SAMPLE_VALUES", "EngineTable", "FailingSample", "run_engine_check"]

#: Failing values kept per rule (masked) for Data Docs and report.html.
SAMPLE_VALUES = 20
_CHUNK = 50_000


@dataclass
class EngineTable:
    """A table file of the batch as the engine read it (the attributes of
    :class:`toolkit.loading.LoadedTable`); :attr:`frame` is read by the loader on first use only."""

    table: str
    path: Path
    format: str
    encoding: str | None
    rows: int
    blank_rows: int | None
    required: list[str]
    extra_columns: list[str] = field(default_factory=list)
    renamed_columns: dict[str, str] = field(default_factory=dict)
    numeric_columns: dict[str, int] = field(default_factory=dict)
    lossy_columns: list[str] = field(default_factory=list)
    _frame: pd.DataFrame | None = None

    @property
    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = read_table(self.path, self.table, required=self.required).frame
        return self._frame


class LazyFrames(Mapping[str, pd.DataFrame]):
    """``CheckResult.frames`` of an engine run: each table's frame, read by the loader when asked for."""

    def __init__(self, batch: Batch) -> None:
        self._batch = batch

    def __getitem__(self, key: str) -> pd.DataFrame:
        return self._batch.tables[key].frame

    def __iter__(self) -> Iterator[str]:
        return iter(self._batch.tables)

    def __len__(self) -> int:
        return len(self._batch.tables)


@dataclass
class FailingSample:
    """Per rule: the first failing values (masked) and their counts, for Data Docs and the report."""

    values: list[Any] = field(default_factory=list)


def _person_names(run: CountedRun) -> set[str]:
    """The person names of the batch (values of its ``name`` fields), read in SQL."""
    names: set[str] = set()
    name_fields = [f for f, kind in run.dom.pii_fields().items() if kind == "name"]
    for code, t in run.tables.items():
        if not t.sources:
            continue
        for f in name_fields:
            if f in t.columns:
                values = run.con.execute(
                    f"SELECT DISTINCT {ident(f)} FROM {ident(code)} WHERE {ident(f)} IS NOT NULL"
                ).fetchall()
                names |= person_names(v for (v,) in values)
    return names


def _seen_unit_names(run: CountedRun) -> dict[str, str]:
    """Unit code → name for packs whose names are in the data (``names: column:<FIELD>``): the name on
    the unit's first row, tables in the pack's order (as :func:`toolkit.check.unit_names`)."""
    unit = run.dom.unit
    if not unit.names.startswith("column:"):
        return {}
    name_col = unit.names.split(":", 1)[1]
    seen: dict[str, str] = {}
    for code, t in run.tables.items():
        col = unit.column_of(code)
        if not t.sources or col not in t.columns or name_col not in t.columns:
            continue
        rows = run.con.execute(
            f"SELECT {ident(col)}, arg_min({ident(name_col)}, TRY_CAST({ROW_COLUMN} AS BIGINT)) "
            f"FROM {ident(code)} WHERE {ident(col)} IS NOT NULL AND {ident(name_col)} IS NOT NULL GROUP BY 1"
        ).fetchall()
        for c, n in rows:
            seen.setdefault(c, n)
    return seen


def _considered_sql(rule: Rule) -> str | None:
    """SQL of the rows Great Expectations divides by for ``mostly`` (see the module docstring)."""
    kw = rule.kwargs
    if rule.type == "expect_column_values_to_not_be_null":
        return "true"
    if "column_A" in kw and "column_B" in kw:
        return f"t.{ident(kw['column_A'])} IS NOT NULL AND t.{ident(kw['column_B'])} IS NOT NULL"
    if "column" in kw:
        return f"t.{ident(kw['column'])} IS NOT NULL"
    return None


class _ProblemWriter:
    """Streams problem rows to ``problems.csv`` (or collects them when no file is given)."""

    def __init__(self, dom: Domain, path: Path | None) -> None:
        self.dom = dom
        self.path = path
        self.count = 0
        self.frames: list[pd.DataFrame] = []
        self.columns = problem_columns(dom)
        header = list(dom.with_legacy(pd.DataFrame(columns=self.columns)).columns)
        legacy = {old: std for std, old in dom.legacy_columns.items()}
        self.sources = [legacy.get(h, h) if h not in self.columns else h for h in header]
        if path is not None:
            write_csv(pd.DataFrame(columns=header), path)

    def add_columns(self, data: dict[str, list[Any]], n: int) -> None:
        """Rows given column by column (problem columns; an absent one is empty)."""
        if not n:
            return
        self.count += n
        if self.path is not None:
            empty = [None] * n
            append_csv_columns(self.path, [data.get(c, empty) for c in self.sources])
        else:
            self.frames.append(pd.DataFrame(data).reindex(columns=self.columns))

    def add(self, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        frame = frame.reindex(columns=self.columns)
        self.count += len(frame)
        if self.path is not None:
            append_csv(self.dom.with_legacy(frame), self.path)
        else:
            self.frames.append(frame)

    def frame(self) -> pd.DataFrame | None:
        if self.path is not None:
            return None
        if not self.frames:
            return pd.DataFrame(columns=self.columns)
        return pd.concat(self.frames, ignore_index=True)


def problem_columns(dom: Domain) -> list[str]:
    return PROBLEM_COLUMNS[:5] + dom.problem_fields + PROBLEM_COLUMNS[5:]


def _problem_rows(
    run: CountedRun,
    masker: Masker,
    unit_names: dict[str, str],
    writer: _ProblemWriter,
    samples: dict[str, FailingSample],
    considered: dict[str, int],
    files: dict[str, str],
    failing_rows: dict[str, list[str]],
    progress: bool = False,
) -> None:
    """Select each compiled rule's failing rows in SQL and stream them, masked, to ``writer``; each
    rule's failing ``_ROW`` values are kept in ``failing_rows`` (what scoring counts per record)."""
    dom, con = run.dom, run.con
    extra = dom.problem_fields
    batch = run.batches[0]
    by_id = {c.rule.rule_id: (target, c) for target, crs in run.compiled.items() for c in crs}
    caches: dict[str | None, dict[Any, Any]] = {}

    def masked(field_code: str | None, values: list[Any]) -> list[Any]:
        """``values`` masked as cells of ``field_code`` (``None``: as free text), each distinct value once."""
        done = caches.setdefault(field_code, {})
        if len(done) > 200_000:
            done.clear()
        for v in set(values).difference(done):
            done[v] = masker.text(v) if field_code is None else masker.value(field_code, v)
        return [done[v] for v in values]

    # the failing rows of each table or view, with bit masks of the rules they fail, in a temporary table:
    # from the lists the counting pass kept (run.failing), so no rule is evaluated twice
    failed: dict[str, str] = {}
    flag: dict[str, str] = {}
    for k, (target, all_crs) in enumerate(sorted(run.compiled.items())):
        crs = [c for c in all_crs if batch in run.evaluated_in.get(c.rule.rule_id, set())]
        if not crs:
            continue
        name = f"dq_failed_{k}"
        nmasks = (len(all_crs) + MASK_BITS - 1) // MASK_BITS
        masks = ", ".join(f"p.e.m{j} AS dq_m{j}" for j in range(nmasks))
        rows = f"(SELECT batch, unnest(dq_failing) AS e FROM {ident(run.failing[target])})"
        if target in run.tables:  # its failing rows' _ROW: joined back to the stored table
            con.execute(
                f"CREATE TEMP TABLE {name} AS SELECT t.*, {masks} FROM {rows} p "
                f"JOIN {ident(target)} t ON t.{ROW_COLUMN} = p.e.r AND t.{BATCH_COLUMN} = p.batch"
            )
        else:  # a view's failing rows themselves
            con.execute(f"CREATE TEMP TABLE {name} AS SELECT unnest(p.e.r), {masks} FROM {rows} p")
        flag.update(
            {
                c.rule.rule_id: f"(dq_m{i // MASK_BITS} >> {i % MASK_BITS}) & 1 = 1"
                for i, c in enumerate(all_crs)
            }
        )
        failed[target] = name
        _log(progress, f"failing rows of {target} selected")

    for rid in sorted(by_id):
        target, c = by_id[rid]
        rule = c.rule
        if batch not in run.evaluated_in.get(rid, set()):
            continue
        tcols = set(run.target_cols[target])
        base_table = run.tables.get(rule.table)
        has_base = target != rule.table and base_table is not None and bool(base_table.sources)
        bcols = set(run.target_cols.get(rule.table) or (base_table.columns if base_table else []))
        if target == rule.table:
            bcols = tcols

        def brow(col: str, has_base: bool = has_base, bcols: set = bcols, tcols: set = tcols) -> str:
            """The base row's value (GX path: ``brow.get(col)``; the target row if no base row)."""
            if has_base:
                b = f"dq_base.{ident(col)}" if col in bcols else "NULL"
                t = f"t.{ident(col)}" if col in tcols else "NULL"
                return f"CASE WHEN dq_base.{ROW_COLUMN} IS NOT NULL THEN {b} ELSE {t} END"
            return f"t.{ident(col)}" if col in tcols else "NULL"

        col = rule.kwargs.get("column") or rule.kwargs.get("column_A")
        if rule.field in tcols:
            value = f"t.{ident(rule.field)}"
        elif isinstance(col, str) and col in tcols:
            value = f"t.{ident(col)}"
        else:
            value = brow(rule.field)
        ucol, ucol_base = dom.unit.column_of(target), dom.unit.column_of(rule.table)
        t_unit = f"nullif(t.{ident(ucol)}, '')" if ucol in tcols else "NULL"
        unit = f"coalesce({t_unit}, nullif({brow(ucol_base)}, ''), '')"
        keys = dom.record_key(rule.table)
        # GX: a field is copied when the base row (or, without one, the target row) has it
        present_extra = [f for f in extra if f in bcols or f in tcols]
        selects = [
            f"t.{ROW_COLUMN} AS dq_row",
            f"{unit} AS dq_unit",
            f"{value} AS dq_value",
            *(f"{brow(k)} AS {ident('k_' + k)}" for k in keys),
            *(f"{brow(f)} AS {ident('p_' + f)}" for f in present_extra),
        ]
        base_join = (
            f" LEFT JOIN {ident(rule.table)} dq_base ON dq_base.{ROW_COLUMN} = t.{ROW_COLUMN}"
            f" AND dq_base.{BATCH_COLUMN} = t.{BATCH_COLUMN}"
            if has_base
            else ""
        )
        if rid in run.considered:  # counted in the rule's pass
            considered[rid] = run.considered[rid]
        sql = (
            f"SELECT {', '.join(selects)} FROM (SELECT * FROM {failed[target]} WHERE {flag[rid]}) t{base_join} "
            f"ORDER BY TRY_CAST(t.{ROW_COLUMN} AS BIGINT), t.{ROW_COLUMN}"
        )
        sample = samples.setdefault(rid, FailingSample())
        kept = failing_rows.setdefault(rid, [])
        constant = {
            "rule_id": rid,
            "table": rule.table,
            "field": rule.field,
            "message_zh": rule.meta["message_zh"],
            "fix_zh": rule.meta["fix_zh"],
            "severity": rule.severity,
            "dimension": rule.dimension,
            "file": masker.text(files.get(rule.table, "")),
        }
        unit_number = rule.type == "expect_column_values_to_be_valid_unit_number"
        for chunk in con.sql(sql).to_arrow_reader(_CHUNK):  # in ORDER BY's order (DB-API Arrow may not)
            cols = [chunk.column(j).to_pylist() for j in range(chunk.num_columns)]
            rows, units, values = cols[0], cols[1], cols[2]
            n = len(rows)
            shown = masked(rule.field, values)
            kept.extend(rows)
            if len(sample.values) < SAMPLE_VALUES:
                sample.values.extend(shown[: SAMPLE_VALUES - len(sample.values)])
            mkeys = [masked(k, kc) for k, kc in zip(keys, cols[3 : 3 + len(keys)], strict=True)]
            frame = {
                **{name: [value] * n for name, value in constant.items()},
                "unit_code": masked(None, units),
                "unit_name": [unit_names.get(u, "") for u in units],
                "record_key": ["|".join(str(x or "") for x in t) for t in zip(*mkeys, strict=True)]
                if keys
                else [""] * n,
                **{f: masked(f, ec) for f, ec in zip(present_extra, cols[3 + len(keys) :], strict=True)},
                "value_masked": shown,
                "detail_zh": masked(
                    None,
                    [validators.unit_number_problem(v) or "" if isinstance(v, str) else "" for v in values],
                )
                if unit_number
                else [masker.text("")] * n,
                "row": rows,
            }
            writer.add_columns(frame, n)


def _gx_success(rule: Rule, element: int, unexpected: int, considered: int | None) -> bool:
    """Great Expectations' ``success`` from the counts (see the module docstring)."""
    if unexpected == 0:
        return True
    if rule.tolerance <= 0:
        return False
    base = element if considered is None else considered
    if base == 0:
        return True
    return (base - unexpected) / base >= round(1.0 - rule.tolerance, 10)


def run_engine_check(
    batch_dir: str | Path,
    dom: Domain,
    mode: str,
    as_of: dt.datetime | None,
    docs_dir: Path | None,
    calendar: workdays.WorkdayCalendar | None,
    progress: bool,
    *,
    problems_path: Path | None = None,
    memory_limit: str = "1.5GB",
    work_dir: Path | None = None,
) -> Any:
    """Check one batch on the engine; returns a :class:`toolkit.check.CheckResult` (see the module
    docstring). ``problems_path``: stream the problem list to this CSV (else it is kept in memory)."""
    started = dt.datetime.now()
    t0 = time.perf_counter()
    folder = Path(batch_dir)
    tables = dom.mode_tables(mode)
    required = dom.required_columns()
    found = discover_tables(folder, tables, core=dom.core_tables(mode))  # the loader's errors, exit 2
    rules = [r for r in dom.rules if mode in r.applies_to]
    if not rules:
        raise ConfigError(
            f"领域 {dom.name} 的 {mode} 模式没有任何规则（地方规则停用了全部规则？）。",
            f"domain {dom.name} has no rule for mode {mode} (did an overlay switch them all off?).",
            fix_zh="检查不能没有规则：请保留国家规则，或只停用个别规则。",
            fix_en="a check needs rules: keep the national rules, or switch off only some of them.",
        )
    state: dict[str, Any] = {}
    writer = _ProblemWriter(dom, problems_path)
    samples: dict[str, FailingSample] = {}
    considered: dict[str, int] = {}
    failing_rows: dict[str, list[str]] = {}

    def on_counted(run: CountedRun) -> None:
        masker = Masker(dom.pii_fields(), _person_names(run), dom.key_fields())
        seen = _seen_unit_names(run)
        units = set()
        if run.rows is not None:
            units = {str(u) for u in run.rows[UNIT_KEY].unique()}
        names = {u: dom.unit.name_of(u, seen) for u in units}
        files = {code: t.sources[0].path.name for code, t in run.tables.items() if t.sources}
        state.update(masker=masker, names=names, seen=seen, tables=run.tables)
        workdays.use_calendar(calendar)
        try:
            _problem_rows(run, masker, names, writer, samples, considered, files, failing_rows, progress)
            _log(progress, "problem list selected and written")
        finally:
            workdays.use_calendar(None)

    counts_run = count_batches(
        [folder],
        domain=dom,
        mode=mode,
        as_of=as_of,
        calendar=calendar,
        progress=progress,
        memory_limit=memory_limit,
        work_dir=work_dir,
        ordinal_rows=True,
        on_counted=on_counted,
        keep_failing=True,
        considered=lambda rule: _considered_sql(rule) if rule.tolerance > 0 else None,
    )
    masker: Masker = state["masker"]
    names: dict[str, str] = state["names"]
    for frame in counts_run.gx_problems:  # rules validated by Great Expectations
        for rid, row in zip(frame["rule_id"], frame["row"], strict=True):
            failing_rows.setdefault(str(rid), []).append(str(row))
        writer.add(frame.drop(columns=["batch"], errors="ignore"))
    # ---- not evaluated, as the GX path words it (a rule that raised is an error: exit 2)
    not_evaluated = {str(r.rule_id): str(r.reason) for r in counts_run.not_evaluated.itertuples()}
    if len(not_evaluated) == len(rules):
        raise InputError(
            "这个批次上没有一条规则能够执行，检查结果不能算作通过。",
            "no rule could be evaluated on this batch, so it cannot pass.",
            path=folder,
            fix_zh="请检查批次是否包含该模式所需的表和列。",
            fix_en="check that the batch holds the tables and columns this mode needs.",
        )
    counts = counts_run.counts.drop(columns=["batch", "engine"])
    for u in counts["unit_code"].unique():
        names.setdefault(u, dom.unit.name_of(u, state["seen"]))
    totals = counts[counts.evaluated].groupby("rule_id")[["element_count", "unexpected_count"]].sum()
    results: dict[str, RuleResult] = {}
    for r in rules:
        why = not_evaluated.get(r.rule_id)
        if why is not None and why.startswith("规则执行出错"):
            results[r.rule_id] = RuleResult(r, False, 0, 0, [], error=masker.text(why))
            continue
        if why is not None or r.rule_id not in totals.index:
            continue
        e, u = (int(v) for v in totals.loc[r.rule_id])
        results[r.rule_id] = RuleResult(
            r, _gx_success(r, e, u, considered.get(r.rule_id)), e, u, failing_rows.get(r.rule_id, [])
        )
    counts.insert(1, "unit_name", counts["unit_code"].map(names).fillna(""))
    counts["unit_code"] = counts["unit_code"].map(masker.text)
    # ---- the batch as read (no frames)
    rows_by_table = (
        counts_run.rows.groupby("table")["rows"].sum().astype(int).to_dict() if len(counts_run.rows) else {}
    )
    etables: dict[str, EngineTable] = {}
    for f in counts_run.files.itertuples():
        t = state["tables"][f.table]
        src = t.sources[0]
        req = list(required.get(f.table, []))
        etables[f.table] = EngineTable(
            table=f.table,
            path=found.files.get(f.table, Path(str(f.file))),
            format=str(f.format),
            encoding=None if f.encoding is None or pd.isna(f.encoding) else str(f.encoding),
            rows=int(rows_by_table.get(f.table, 0)),
            blank_rows=None,
            required=req,
            extra_columns=[c for c in src.fields if c not in set(req)],
            numeric_columns={k: v for s in t.sources for k, v in s.numeric_columns.items()},
            lossy_columns=list(dict.fromkeys(c for s in t.sources for c in s.lossy_columns)),
        )
    ordered = {code: etables[code] for code in tables if code in etables}
    batch = Batch(
        folder=folder,
        tables=ordered,  # type: ignore[arg-type]
        unknown_files=list(found.unknown_files),
        rows_read=sum(t.rows for t in ordered.values()),
        absent_tables=list(found.absent_tables),
    )
    result = CheckResult(
        domain=dom,
        mode=mode,
        batch=batch,
        as_of=counts_run.as_of.get(folder.name),
        as_of_source="given" if as_of is not None else "latest timestamp in batch",
        rules=rules,
        results=results,
        not_evaluated=not_evaluated,
        counts=counts.reset_index(drop=True),
        problems_frame=writer.frame(),
        frames=LazyFrames(batch),  # type: ignore[arg-type]
        started=started,
        masker=masker,
        engine="duckdb",
        problems_path=problems_path,
        problem_count=writer.count,
        rows_checked={code: t.rows for code, t in ordered.items()},
        samples={rid: s.values for rid, s in samples.items()},
        gx_rules=dict(counts_run.gx_rules),
    )
    if docs_dir is not None and results:
        from toolkit.gx_run import docs_from_results

        _log(progress, "building Data Docs")
        docs_from_results(f"{dom.name}_{mode}", results, result.samples, masker=masker, docs_dir=docs_dir)
    _log(progress, "checked")
    result.seconds = time.perf_counter() - t0
    return result
