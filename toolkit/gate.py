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
2. while the DuckDB connection is open, every rule's failing rows go into one table (a table's kept rows
   fetched by row id in one scan, together with the base records its views' rules read; a view's rows
   are kept as they are, with only the columns the list reads, :func:`_target_reads`): row, unit, value,
   record key, the pack's ``problem_fields``. The distinct values that
   masking may change (a SQL pre-filter that may take too many, never too few) are masked once each in
   Python through the one masking pass (:class:`toolkit.masking.Masker`, knowing the person names of the
   batch, read in SQL too) and joined back; DuckDB then builds each CSV line and the lines are appended to
   ``problems.csv`` (:func:`toolkit.sheets.append_csv_query`) — the problem list never exists as a whole
   in Python. The first masked failing values per rule are kept for Data Docs and the report;
   Great Expectations, which renders Data Docs, is imported meanwhile;
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
import importlib
import itertools
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from toolkit import validators, workdays
from toolkit.checks.sql import ident, literal
from toolkit.domain import Domain, Rule
from toolkit.engine import MASK_BITS, UNIT_KEY, CountedRun, _log, count_batches
from toolkit.errors import ConfigError, InputError
from toolkit.loading import ROW_COLUMN, Batch, discover_tables, read_table
from toolkit.masking import Masker, person_names
from toolkit.results import PROBLEM_COLUMNS, CheckResult, RuleResult
from toolkit.sheets import append_csv, append_csv_query, csv_cell, write_csv
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

    def add_query(self, con: Any, query: str, order_by: list[str], clean: list[str]) -> None:
        """The rows of a DuckDB query holding the problem columns, in ``order_by``'s order (``clean``: see
        :func:`toolkit.sheets.append_csv_query`)."""
        if self.path is not None:
            self.count += append_csv_query(con, query, self.sources, self.path, order_by, clean=clean)
            return
        cols = ", ".join(ident(c) for c in self.columns)
        frame = con.sql(f"SELECT {cols} FROM ({query}) q ORDER BY {', '.join(order_by)}").df()
        self.count += len(frame)
        if len(frame):
            self.frames.append(frame)

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


#: mapping key of the ``detail_zh`` column (what :func:`toolkit.validators.unit_number_problem` says of the
#: value), beside the field codes whose values are masked as that field's cells ("" = free text)
_DETAIL = "#detail"
#: problem columns that hold the rule's own values (the same on each of its rows)
_PER_RULE = ("rule_id", "table", "field", "message_zh", "fix_zh", "severity", "dimension", "file")
_TEXT = pa.string()
_MAP_SCHEMA = pa.schema([("f", _TEXT), ("v", _TEXT), ("m", _TEXT)])
_UNITS_SCHEMA = pa.schema([("u", _TEXT), ("name", _TEXT)])


def _failed_name(target: str) -> str:
    return ident(f"dq_failed_{target}")


def _row_offset(run: CountedRun, table: str) -> int:
    """``_ROW`` of the table's records = their row id + this (the gate numbers rows as read)."""
    offset = run.tables[table].row_offset
    if offset is None:  # count_batches(ordinal_rows=True) sets it for every table read
        raise RuntimeError(f"{table}: rows not numbered as read (ordinal_rows)")
    return offset


def _target_reads(dom: Domain, rule: Rule, target: str, tcols: Collection[str]) -> set[str]:
    """The columns of ``target`` (a table or view with columns ``tcols``) that a failing row's line in
    the problem list reads for ``rule`` — its value, unit, record key and the pack's ``problem_fields``
    (each also the fallback when the row has no base record) — and so all a view's kept failing rows
    need to hold (``count_batches(kept_columns=)``), besides ``_ROW`` and the batch."""
    col = rule.kwargs.get("column") or rule.kwargs.get("column_A")
    value = rule.field if rule.field in tcols else col
    wanted = {
        value,
        dom.unit.column_of(target),
        dom.unit.column_of(rule.table),
        *dom.record_key(rule.table),
        *dom.problem_fields,
    }
    return {c for c in wanted if isinstance(c, str) and c in tcols}


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
    before_write: Callable[[], None] | None = None,
) -> None:
    """Select every compiled rule's failing rows in SQL, mask them and stream them to ``writer``; each
    rule's failing ``_ROW`` values are kept in ``failing_rows`` (what scoring counts per record).
    ``before_write`` is called once the rows are masked, before the list is written.

    The rows of all rules go into one table (``dq_raw``: rule, row, unit, value, key and problem fields,
    unmasked); the distinct values that masking may change are masked once each in Python (the one
    :class:`Masker`) and joined back in the query of the problem columns, which the writer turns into CSV
    lines in DuckDB — no cell of the list passes through Python otherwise."""
    dom, con = run.dom, run.con
    extra = dom.problem_fields
    batch = run.batches[0]
    by_id = {c.rule.rule_id: (target, c) for target, crs in run.compiled.items() for c in crs}

    # ---- every rule's failing rows, unmasked (dq_raw), and what each rule's columns are (dq_rules)
    selects: list[str] = []
    meta: list[dict[str, Any]] = []
    ids = [rid for rid in sorted(by_id) if batch in run.evaluated_in.get(rid, set())]
    nkeys = max((len(dom.record_key(by_id[rid][1].rule.table)) for rid in ids), default=0)
    used: dict[str, set[str]] = {}  # target -> its columns the selects read
    bases: dict[str, set[str]] = {}  # table -> views whose rules read their base record from it
    flag: dict[str, str] = {}  # rule -> its bit in the failing rows' masks
    for all_crs in run.compiled.values():
        for i, c in enumerate(all_crs):
            flag[c.rule.rule_id] = f"(dq_m{i // MASK_BITS} >> {i % MASK_BITS}) & 1 = 1"
    for n, rid in enumerate(ids):
        target, c = by_id[rid]
        rule = c.rule
        tcols = set(run.target_cols[target])
        base_table = run.tables.get(rule.table)
        has_base = target != rule.table and base_table is not None and bool(base_table.sources)
        bcols = set(run.target_cols.get(rule.table) or (base_table.columns if base_table else []))
        if target == rule.table:
            bcols = tcols
        reads = _target_reads(dom, rule, target, tcols)
        used.setdefault(target, {ROW_COLUMN, BATCH_COLUMN}).update(reads)

        def t_(col: str, reads: set = reads, tcols: set = tcols, where: str = f"{rid} on {target}") -> str:
            """The target row's value (NULL if it has no such column)."""
            if col not in tcols:
                return "NULL"
            if col not in reads:  # a view's kept rows hold only these columns
                raise RuntimeError(f"{where}: column {col} read but not in _target_reads")
            return f"t.{ident(col)}"

        base_reads = used.setdefault(rule.table, {ROW_COLUMN, BATCH_COLUMN}) if has_base else set()

        def brow(
            col: str, has_base: bool = has_base, bcols: set = bcols, base_reads: set = base_reads
        ) -> str:
            """The base row's value (GX path: ``brow.get(col)``; the target row if no base row)."""
            if has_base:
                b = "NULL"
                if col in bcols:
                    base_reads.add(col)
                    b = f"dq_base.{ident(col)}"
                return f"CASE WHEN dq_base.{ROW_COLUMN} IS NOT NULL THEN {b} ELSE {t_(col)} END"
            return t_(col)

        col = rule.kwargs.get("column") or rule.kwargs.get("column_A")
        if rule.field in tcols:
            value = t_(rule.field)
        elif isinstance(col, str) and col in tcols:
            value = t_(col)
        else:
            value = brow(rule.field)
        ucol, ucol_base = dom.unit.column_of(target), dom.unit.column_of(rule.table)
        unit = f"coalesce(nullif({t_(ucol)}, ''), nullif({brow(ucol_base)}, ''), '')"
        keys = dom.record_key(rule.table)
        # GX: a field is copied when the base row (or, without one, the target row) has it
        present = {j for j, f in enumerate(extra) if f in bcols or f in tcols}
        cols = [
            f"{n} AS dq_rule",
            f"TRY_CAST(t.{ROW_COLUMN} AS BIGINT) AS dq_n",
            f"CAST(t.{ROW_COLUMN} AS VARCHAR) AS dq_row",
            f"CAST({unit} AS VARCHAR) AS dq_unit",
            f"CAST({value} AS VARCHAR) AS dq_value",
            *(f"CAST({brow(k)} AS VARCHAR) AS dq_k{i}" for i, k in enumerate(keys)),
            *(f"CAST({brow(extra[j])} AS VARCHAR) AS dq_p{j}" for j in sorted(present)),
        ]
        base_join = ""
        if has_base:  # the base record, fetched with the base table's failing rows
            bases.setdefault(rule.table, set()).add(target)
            base_join = (
                f" LEFT JOIN {_failed_name(rule.table)} dq_base ON dq_base.{ROW_COLUMN} = t.{ROW_COLUMN}"
                f" AND dq_base.{BATCH_COLUMN} = t.{BATCH_COLUMN}"
            )
        if rid in run.considered:  # counted in the rule's pass
            considered[rid] = run.considered[rid]
        selects.append(
            f"SELECT {', '.join(cols)} FROM (SELECT * FROM {_failed_name(target)} WHERE {flag[rid]}) t{base_join}"
        )
        meta.append(
            {
                "dq_rule": n,
                "rule_id": rid,
                "table": rule.table,
                "field": rule.field,
                "message_zh": rule.meta["message_zh"],
                "fix_zh": rule.meta["fix_zh"],
                "severity": rule.severity,
                "dimension": rule.dimension,
                "file": masker.text(files.get(rule.table, "")),
                "dq_nk": len(keys),
                "dq_detail": rule.type == "expect_column_values_to_be_valid_unit_number",
                **{f"dq_kf{i}": keys[i] if i < len(keys) else None for i in range(nkeys)},
            }
        )
    if not selects:
        return

    # the failing rows of each table or view, with bit masks of the rules they fail, from the lists the
    # counting pass kept (run.failing), so no rule is evaluated twice: a view's rows as kept; a table's rows
    # — its failing ones and the base records of its views' failing ones (no bit set) — fetched by row id
    # in one scan, with only the columns the selects read
    for target in sorted(used, key=lambda t: (t in run.tables, t)):
        nmasks = (len(run.compiled.get(target, [])) + MASK_BITS - 1) // MASK_BITS
        masks = [f"dq_m{j}" for j in range(nmasks)]
        own = (
            f"SELECT p.e.r AS dq_r{''.join(f', p.e.m{j} AS dq_m{j}' for j in range(nmasks))} "
            f"FROM (SELECT unnest(dq_failing) AS e FROM {ident(run.failing[target])}) p"
            if target in run.failing
            else f"SELECT CAST(NULL AS VARCHAR) AS dq_r{''.join(f', 0 AS {m}' for m in masks)} WHERE false"
        )
        if target not in run.tables:
            kept = ", ".join(f"p.e.m{j} AS dq_m{j}" for j in range(nmasks))
            con.execute(
                f"CREATE TEMP TABLE {_failed_name(target)} AS SELECT unnest(p.e.r), {kept} "
                f"FROM (SELECT unnest(dq_failing) AS e FROM {ident(run.failing[target])}) p"
            )
            _log(progress, f"failing rows of {target} selected")
            continue
        rows = own
        views = sorted(bases.get(target, ()))
        if views:
            zero = "".join(f", CAST(0 AS BIGINT) AS {m}" for m in masks)
            of_views = " UNION ".join(
                f"SELECT CAST({ROW_COLUMN} AS VARCHAR) AS dq_r FROM {_failed_name(v)}" for v in views
            )
            rows = (
                f"WITH own AS ({own}) SELECT * FROM own UNION ALL SELECT dq_r{zero} FROM ({of_views}) "
                "WHERE dq_r NOT IN (SELECT dq_r FROM own)"
            )
        off = _row_offset(run, target)
        picked = ", ".join(f"d.{ident(c)}" for c in sorted(used[target] - {ROW_COLUMN}))
        con.execute(
            f"CREATE TEMP TABLE {_failed_name(target)} AS SELECT {picked}, p.dq_r AS {ROW_COLUMN}"
            f"{''.join(f', p.{m}' for m in masks)} FROM ({rows}) p "
            f"JOIN {ident(target + '__data')} d ON d.rowid = TRY_CAST(p.dq_r AS BIGINT) - {off}"
        )
        _log(progress, f"failing rows of {target} selected")
    raw_cols = [
        "dq_value",
        "dq_unit",
        *(f"dq_k{i}" for i in range(nkeys)),
        *(f"dq_p{j}" for j in range(len(extra))),
    ]
    typed = ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in raw_cols)
    con.execute(  # the typed empty first branch names every column (a rule without keys leaves them NULL)
        f"CREATE TEMP TABLE dq_raw AS SELECT 0 AS dq_rule, CAST(NULL AS BIGINT) AS dq_n, "
        f"CAST(NULL AS VARCHAR) AS dq_row, {typed} WHERE false UNION ALL BY NAME "
        + " UNION ALL BY NAME ".join(selects)
    )
    ints = {"dq_rule": pa.int64(), "dq_nk": pa.int64(), "dq_detail": pa.bool_()}
    schema = pa.schema([(k, ints.get(k, _TEXT)) for k in meta[0]])
    con.register("dq_rules_src", pa.Table.from_pylist(meta, schema=schema))
    con.execute("CREATE TEMP TABLE dq_rules AS SELECT * FROM dq_rules_src")
    con.unregister("dq_rules_src")
    _log(progress, f"failing rows of {len(ids)} rules collected")

    # ---- each distinct value masking may change, masked once in Python (dq_map: key f, value v → m)
    pairs = [
        "SELECT m.field AS f, r.dq_value AS v FROM dq_raw r JOIN dq_rules m USING (dq_rule)",
        f"SELECT {literal(_DETAIL)} AS f, r.dq_value AS v FROM dq_raw r JOIN dq_rules m USING (dq_rule) WHERE m.dq_detail",
        "SELECT '' AS f, dq_unit AS v FROM dq_raw",
        *(
            f"SELECT m.dq_kf{i} AS f, r.dq_k{i} AS v FROM dq_raw r JOIN dq_rules m USING (dq_rule)"
            for i in range(nkeys)
        ),
        *(f"SELECT {literal(f)} AS f, dq_p{j} AS v FROM dq_raw" for j, f in enumerate(extra)),
    ]
    todo = con.sql(
        f"SELECT DISTINCT f, v FROM ({' UNION ALL '.join(pairs)}) "
        f"WHERE v IS NOT NULL AND f IS NOT NULL AND {masker.may_change_sql('f', 'v', always=[_DETAIL])}"
    ).to_arrow_table()
    keys_f, values_v, masked_m = [], [], []
    for f, v in zip(todo.column("f").to_pylist(), todo.column("v").to_pylist(), strict=True):
        if f == _DETAIL:
            m = masker.text(validators.unit_number_problem(v) or "")
        else:
            m = masker.value(f, v)
        if m != v or f == _DETAIL:
            keys_f.append(f)
            values_v.append(v)
            masked_m.append(m)
    con.register("dq_map_src", pa.table({"f": keys_f, "v": values_v, "m": masked_m}, schema=_MAP_SCHEMA))
    con.execute("CREATE TEMP TABLE dq_map AS SELECT * FROM dq_map_src")
    con.unregister("dq_map_src")
    con.register(
        "dq_units_src",
        pa.table({"u": list(unit_names), "name": list(unit_names.values())}, schema=_UNITS_SCHEMA),
    )
    con.execute("CREATE TEMP TABLE dq_units AS SELECT * FROM dq_units_src")
    con.unregister("dq_units_src")
    _log(progress, f"{len(todo):,} distinct values masked")

    # ---- the problem list, masked, in the writer's columns
    masked_keys = set(keys_f)  # the mapping keys with a masked value: a join for the others finds nothing
    joins: list[str] = []

    def mapped(alias: str, f: str, v: str, keys: Any) -> str:
        """``v`` masked as a value of mapping key ``f`` (one of ``keys``)."""
        if masked_keys.isdisjoint(keys):
            return v
        joins.append(f" LEFT JOIN dq_map {alias} ON {alias}.f = {f} AND {alias}.v = {v}")
        return f"coalesce({alias}.m, {v})"

    exprs: dict[str, str] = {}
    exprs["value_masked"] = mapped("mv", "m.field", "r.dq_value", {x["field"] for x in meta})
    exprs["unit_code"] = mapped("mu", "''", "r.dq_unit", {""})
    joins.append(" LEFT JOIN dq_units un ON un.u = r.dq_unit")
    exprs["unit_name"] = "coalesce(un.name, '')"
    parts = [
        f"coalesce({mapped(f'mk{i}', f'm.dq_kf{i}', f'r.dq_k{i}', {x[f'dq_kf{i}'] for x in meta})}, '')"
        for i in range(nkeys)
    ]
    exprs["record_key"] = (
        f"array_to_string(list_slice([{', '.join(parts)}], 1, m.dq_nk), '|')" if parts else "''"
    )
    for j, f in enumerate(extra):
        exprs[f] = mapped(f"mp{j}", literal(f), f"r.dq_p{j}", {f})
    exprs["detail_zh"] = "''"
    if _DETAIL in masked_keys:  # what is wrong with each unit number (every one was sent to Python)
        joins.append(
            f" LEFT JOIN dq_map md ON m.dq_detail AND md.f = {literal(_DETAIL)} AND md.v = r.dq_value"
        )
        exprs["detail_zh"] = "CASE WHEN m.dq_detail THEN coalesce(md.m, '') ELSE '' END"
    exprs["row"] = "r.dq_row"
    for c in _PER_RULE:
        exprs[c] = f"m.{ident(c)}"
    select = ", ".join(f"{exprs[c]} AS {ident(c)}" for c in writer.columns)
    query = (
        f"SELECT r.dq_rule, r.dq_n, {select} FROM dq_raw r JOIN dq_rules m USING (dq_rule){''.join(joins)}"
    )
    # a rule's own cells (its message, fix …), checked here once per rule, are not searched on each row
    clean = [c for c in _PER_RULE if all(csv_cell(x[c]) == x[c] for x in meta)]
    if before_write is not None:
        before_write()
    writer.add_query(con, query, ["dq_rule", "dq_n", ident("row")], clean=clean)
    _log(progress, f"{writer.count:,} problem rows written")

    # ---- per rule: its failing rows (scoring), the first failing values masked (Data Docs, report): one
    # sorted read, cut at each rule's first row (a per-rule ordered list aggregate is ~5× slower)
    got = con.sql(
        "SELECT dq_rule, dq_row, dq_value FROM dq_raw ORDER BY dq_rule, dq_n, dq_row"
    ).to_arrow_table()
    rule_of = got.column("dq_rule").to_numpy()
    starts = [0, *(np.flatnonzero(rule_of[1:] != rule_of[:-1]) + 1).tolist(), len(rule_of)]
    all_rows = got.column("dq_row").to_pylist()
    values = got.column("dq_value")
    for a, b in itertools.pairwise(starts):
        if a == b:
            continue
        rid = ids[int(rule_of[a])]
        failing_rows.setdefault(rid, []).extend(all_rows[a:b])
        field_code = by_id[rid][1].rule.field
        first = values.slice(a, min(b - a, SAMPLE_VALUES)).to_pylist()
        samples.setdefault(rid, FailingSample()).values.extend(masker.value(field_code, v) for v in first)
    for rid in ids:
        samples.setdefault(rid, FailingSample())
        failing_rows.setdefault(rid, [])


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

    def import_gx() -> None:
        """Great Expectations (~2 CPU-s to import), which renders Data Docs, loads in a second thread
        while the list is written: DuckDB then leaves a core idle, unlike in the selects before."""
        if docs_dir is not None:
            state["gx"] = threading.Thread(
                target=importlib.import_module, args=("toolkit.gx_run",), daemon=True
            )
            state["gx"].start()

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
            _problem_rows(
                run, masker, names, writer, samples, considered, files, failing_rows, progress, import_gx
            )
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
        kept_columns=lambda rule, view, columns: _target_reads(dom, rule, view, columns),
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
    if "gx" in state:
        state["gx"].join()
    if docs_dir is not None and results:
        from toolkit.gx_run import docs_from_results

        _log(progress, "building Data Docs")
        docs_from_results(f"{dom.name}_{mode}", results, result.samples, masker=masker, docs_dir=docs_dir)
    _log(progress, "checked")
    result.seconds = time.perf_counter() - t0
    return result
