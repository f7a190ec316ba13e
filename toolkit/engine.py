"""The count engine: the domain's Great Expectations suites, counted on DuckDB over many batches at once.

:func:`count_batches` reads the same suites as ``dq check`` (:func:`toolkit.domain.load_domain`, overlays
included) and returns, per batch, key (the unit of assessment by default) and rule, ``element_count`` and
``unexpected_count`` — the numbers :func:`toolkit.check.run_check` writes to ``counts.csv`` — without
loading any table into pandas and with bounded memory:

1. every table file of every batch is read by DuckDB (:mod:`toolkit.staging`: UTF-8 CSV and Parquet
   directly, GB18030 CSV / XLSX / exotic Parquet converted chunk by chunk, odd files through the loader)
   into one table per table code with a column ``_BATCH`` (the batch folder's name), with the loader's
   semantics: all text, empty or whitespace-only cells are ``NULL``, fully blank rows skipped;
2. each batch's as-of is its latest strictly valid timestamp (``as_of_fields`` of ``domain.yaml``, as
   :func:`toolkit.check.latest_timestamp`) unless one is given; the domain's views (which join and group
   within ``_BATCH``) are created over these tables;
3. every rule is compiled to SQL (:mod:`toolkit.sqlcompile`) and each table or view is counted in **one**
   ``SELECT`` grouped by batch and keys (``count(*) FILTER (WHERE …)`` per rule);
4. a rule the compiler cannot reproduce exactly is validated by Great Expectations instead, batch by
   batch (``engine = "gx"`` in the result) — never skipped.

Memory stays bounded: DuckDB runs with ``memory_limit`` and a private ``temp_directory``; input larger
than a third of the limit is kept in a compressed database file in the private work folder (the buffer
manager holds only what fits), smaller input in memory. Joins and aggregates spill to the temporary
directory. The private folder is removed afterwards.

Periods: ``batch`` is the folder name; for incremental batches named ``YYYY-MM-DD`` use
:func:`batch_date` / :func:`add_periods` to derive day, ISO week and month.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from toolkit import validators, workdays
from toolkit.domain import DIMENSIONS, Domain, Rule, copy_domain, load_domain
from toolkit.errors import ConfigError
from toolkit.loading import FORMATS, ROW_COLUMN
from toolkit.results import COUNT_COLUMNS as CHECK_COUNT_COLUMNS
from toolkit.sqlcompile import (
    MACROS,
    CompiledRule,
    NotCompilable,
    compile_rule,
    county_codes,
    ident,
    literal,
    sql_year_between,
)
from toolkit.staging import (
    Source,
    discover,
    loader_fallback,
    normalise_sql,
    prepare_source,
    recover_csv,
)
from toolkit.tempdirs import private_tempdir
from toolkit.views import AS_OF_TABLE, BATCH_COLUMN, sandbox
from toolkit.views import MACROS as VIEW_MACROS

__all__ = [
    "UNIT_KEY",
    "CountedRun",
    "EngineCounts",
    "add_periods",
    "batch_date",
    "count_batches",
    "resolve_batches",
]

#: The grouping key that stands for each table's unit column (see :class:`toolkit.domain.Unit`).
UNIT_KEY = "unit_code"
#: Rules per BIGINT bit mask of :attr:`CountedRun.failing`.
MASK_BITS = 62
#: Columns of :attr:`EngineCounts.counts` after ``batch`` and the keys: ``dq check``'s, plus the engine.
COUNT_COLUMNS = [*CHECK_COUNT_COLUMNS, "engine"]


@dataclass
class EngineCounts:
    """What :func:`count_batches` found.

    ``counts``: one row per batch × key value(s) × rule of the mode — ``batch``, the keys, ``rule_id``,
    ``table``, ``field``, ``dimension``, ``severity``, ``element_count``, ``unexpected_count``,
    ``evaluated`` (False: a table it needs is absent from that batch, or it raised; counts are then 0)
    and ``engine`` (``"duckdb"`` or ``"gx"``). For the default key ``unit_code`` the rows of one batch are
    exactly the rows of ``dq check``'s ``counts.csv`` (same units, same numbers).

    ``rows``: per batch × keys × table present: ``rows`` (rows read = rows checked) and, for every
    dimension, ``failing_<dimension>``: rows of that table failing at least one evaluated rule of that
    dimension *whose target is the table itself* (cross-table rules on views are in ``counts`` only).

    ``files``: per batch × table: ``file``, ``format``, ``encoding``, ``read`` (how it was read:
    ``duckdb`` or the conversion used) and ``rows_read``.

    ``not_evaluated``: ``batch``, ``rule_id``, ``reason``. ``gx_rules``: rule id → why it went to
    Great Expectations. ``as_of``: batch → as-of used. ``seconds``: wall time.
    """

    counts: pd.DataFrame
    rows: pd.DataFrame
    files: pd.DataFrame
    seconds: float
    not_evaluated: pd.DataFrame = field(default_factory=pd.DataFrame)
    gx_rules: dict[str, str] = field(default_factory=dict)
    as_of: dict[str, dt.datetime | None] = field(default_factory=dict)
    keys: tuple[str, ...] = ("unit_code",)
    unit_names: dict[str, str] = field(default_factory=dict)
    """Unit code → name, for packs whose unit names are in the data (``names: column:<FIELD>``)."""
    gx_problems: list[pd.DataFrame] = field(default_factory=list)
    """The problem lists (as :attr:`toolkit.check.CheckResult.problems`, plus ``batch``) of the rules
    validated by Great Expectations."""


@dataclass
class CountedRun:
    """What :func:`count_batches` hands its ``on_counted`` hook while its DuckDB connection is open:
    every table and view of the run, the compiled rules by target, the batches each rule was evaluated
    in, each target's columns, the as-of per batch and the rows per batch × key × table."""

    con: duckdb.DuckDBPyConnection
    dom: Domain
    batches: list[str]
    tables: dict[str, _Table]
    compiled: dict[str, list[CompiledRule]]
    evaluated_in: dict[str, set[str]]
    target_cols: dict[str, list[str]]
    as_of: dict[str, dt.datetime | None]
    rows: pd.DataFrame | None
    failing: dict[str, str] = field(default_factory=dict)
    """With ``keep_failing``: table or view → the temporary table holding, per batch and key, the rows
    failing any of its compiled rules in the list column ``dq_failing``: one struct per row, ``r`` the
    row (a table's: its ``_ROW``; a view's: the row itself, a struct of the view's columns, or of those
    ``kept_columns`` names) and bit
    masks ``m0``, ``m1`` … — the i-th compiled rule fails the row when bit ``i % MASK_BITS`` of
    ``m{i // MASK_BITS}`` is set."""
    considered: dict[str, int] = field(default_factory=dict)
    """With ``considered``: rule id → rows it applies to that its ``mostly`` divides by."""


# ------------------------------------------------------------------------------------------------ batches


def resolve_batches(batches: Path | str | Sequence[Path | str]) -> list[Path]:
    """Batch folders: a folder holding table files is one batch; a folder without any is a folder of
    batches (each sub-folder, sorted by name). A sequence is taken as a list of batch folders."""
    if isinstance(batches, (str, Path)):
        root = Path(batches)
        if root.is_dir() and not any(p.is_file() and p.suffix.lower() in FORMATS for p in root.iterdir()):
            subs = sorted(p for p in root.iterdir() if p.is_dir())
            if subs:
                return subs
        return [root]
    return [Path(b) for b in batches]


def batch_date(batch: str) -> dt.date | None:
    """The date of a batch named ``YYYY-MM-DD`` (incremental), else ``None`` (e.g. ``stock``)."""
    try:
        return dt.date.fromisoformat(batch) if len(batch) == 10 else None
    except ValueError:
        return None


def add_periods(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with ``day``, ``week`` (ISO, ``2024-W10``) and ``month`` (``2024-03``) derived
    from its ``batch`` column (empty for batches not named by date)."""
    out = frame.copy()
    dates = [batch_date(str(b)) for b in out["batch"]]
    out["day"] = [d.isoformat() if d else "" for d in dates]
    out["week"] = [f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}" if d else "" for d in dates]
    out["month"] = [f"{d.year}-{d.month:02d}" if d else "" for d in dates]
    return out


# ------------------------------------------------------------------------------------------------ helpers


_T0 = [time.perf_counter()]


def _log(progress: bool, msg: str) -> None:
    if progress:
        now = time.perf_counter()
        print(f"[engine {now - _T0[0]:7.1f}s] {msg}", file=sys.stderr, flush=True)


def _calendar_sql(con: duckdb.DuckDBPyConnection, calendar: workdays.WorkdayCalendar) -> tuple[int, int]:
    """Table ``dq_cal(dq_d, dq_c)``: cumulative working days through each date of the covered years (and of
    years the calendar's overrides touch); macro ``dq_wcum_out(d)`` continues it Monday–Friday outside."""
    covered = [y for y in range(1990, 2100) if calendar.covers(y)]
    override_years = {d.year for d in (*calendar._holidays, *calendar._workdays)}
    years = sorted(set(covered) | override_years) or [2000]
    y0, y1 = years[0], years[-1]
    rows = []
    total = 0
    day = dt.date(y0, 1, 1)
    end = dt.date(y1, 12, 31)
    while day <= end:
        if calendar.covers(day.year):
            flag = calendar.is_workday(day)
        elif day in calendar._workdays:
            flag = True
        elif day in calendar._holidays:
            flag = False
        else:
            flag = day.weekday() < 5
        total += int(flag)
        rows.append((day, total))
        day += dt.timedelta(days=1)
    frame = pd.DataFrame(rows, columns=["dq_d", "dq_c"])
    con.register("_cal_src", frame)
    con.execute(
        "CREATE TABLE dq_cal AS SELECT CAST(dq_d AS DATE) AS dq_d, CAST(dq_c AS BIGINT) AS dq_c FROM _cal_src"
    )
    con.unregister("_cal_src")
    start, stop = dt.date(y0, 1, 1), end
    con.execute(
        f"""CREATE OR REPLACE MACRO dq_wcum_out(d) AS CASE
            WHEN d < DATE '{start.isoformat()}'
                THEN dq_weekdays(d) - dq_weekdays(DATE '{start.isoformat()}' - 1)
            ELSE {total} + dq_weekdays(d) - dq_weekdays(DATE '{stop.isoformat()}') END"""
    )
    return y0, y1


def _bytes(limit: str) -> float:
    """'2GB', '1500MB', '2GiB' … as bytes (DuckDB's units)."""
    import re

    m = re.fullmatch(r"\s*([0-9.]+)\s*([KMGT]?i?B?)\s*", limit, re.IGNORECASE)
    if not m:
        raise ConfigError(f"内存上限 {limit!r} 无效。", f"invalid memory limit {limit!r}.", fix_en="e.g. 2GB")
    unit = m.group(2).upper().rstrip("B")
    power = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4}[unit.rstrip("I")]
    return float(m.group(1)) * (1024 if "I" in unit else 1000) ** power


def _connect(
    work: Path, memory_limit: str, threads: int | None, storage: str = "memory"
) -> duckdb.DuckDBPyConnection:
    tmp = work / "duckdb_tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "memory_limit": memory_limit,
        "temp_directory": str(tmp),
        "preserve_insertion_order": False,
    }
    if threads:
        config["threads"] = threads
    if storage == "disk":  # compressed database file; the buffer manager keeps what fits in memory_limit
        con = duckdb.connect(str(work / "engine.duckdb"), config=config)
        con.execute("PRAGMA disable_checkpoint_on_shutdown")  # a scratch file, deleted after the run
    else:
        con = duckdb.connect(":memory:", config=config)
    with contextlib.suppress(duckdb.Error):  # refused inside Jupyter without ipywidgets (DuckDB 2.0)
        con.execute("SET enable_progress_bar = false")
    con.execute(VIEW_MACROS)
    con.execute(MACROS)
    con.execute(
        "CREATE TABLE dq_county AS SELECT unnest(CAST(? AS VARCHAR[])) AS dq_code", [list(county_codes())]
    )
    return con


@dataclass
class _Table:
    code: str
    columns: list[str]  # dictionary fields first, then extra columns seen in any batch
    sources: list[Source]
    present: dict[str, set[str]]  # batch -> columns its file has
    ordinal: bool = False  # the view's _ROW is each record's row in its file (the QA gate; one file)
    row_offset: int | None = None  # ordinal: _ROW = rowid of <code>__data + row_offset


def _group_insert(
    con: duckdb.DuckDBPyConnection, table: _Table, group: list[Source], files_table: str
) -> None:
    first = group[0]
    mapping = {f: c for c, f in first.columns if f is not None}
    cols = []
    for col in table.columns:
        if col in mapping:
            cols.append(f"{normalise_sql(first.column_sql(mapping[col]))} AS {ident(col)}")
        else:
            cols.append(f"CAST(NULL AS VARCHAR) AS {ident(col)}")
    names = ", ".join(ident(c) for c in table.columns)
    source = first.read_sql([s.read_path for s in group])
    if table.ordinal:
        # every record as read, blank ones too, in the file's order: the table's row id numbers it
        # (see _materialise); no join, which a parallel hash join would reorder
        con.execute("SET preserve_insertion_order = true")
        try:
            con.execute(
                f"INSERT INTO {ident(table.code + '__data')} "
                f"SELECT {literal(first.batch)} AS {BATCH_COLUMN}, {', '.join(cols)} FROM {source} r"
            )
        finally:
            con.execute("SET preserve_insertion_order = false")
        return
    con.execute(
        f"INSERT INTO {ident(table.code + '__data')} SELECT * FROM ("
        f"SELECT f.batch AS {BATCH_COLUMN}, {', '.join(cols)} "
        f"FROM {source} r JOIN {files_table} f ON f.path = r.filename"
        f") WHERE coalesce({names}) IS NOT NULL"
    )


def _materialise(
    con: duckdb.DuckDBPyConnection,
    table: _Table,
    required: Sequence[str] | None,
    work: Path,
    progress: bool,
) -> None:
    """Read the table's files into ``<code>__data`` and create the view ``<code>`` over it (``_ROW``: the
    row id, or with ``table.ordinal`` each record's row in its file as the loader numbers it)."""
    defs = ", ".join(f"{ident(c)} VARCHAR" for c in [BATCH_COLUMN, *table.columns])
    data = ident(table.code + "__data")
    con.execute(f"CREATE TABLE {data} ({defs})")
    groups: dict[tuple[Any, ...], list[Source]] = {}
    for s in table.sources:
        groups.setdefault(s.signature(), []).append(s)
    for group in groups.values():
        try:
            _group_insert(con, table, group, "dq_files")
        except duckdb.Error as exc:
            if len(group) > 1:
                _log(
                    progress,
                    f"{table.code}: DuckDB refused a group of {len(group)} files ({exc}); file by file",
                )
            for s in group:
                _insert_one(con, table, s, required, work, progress)
    if not table.ordinal:
        con.execute(
            f"CREATE VIEW {ident(table.code)} AS SELECT *, CAST(rowid AS VARCHAR) AS {ROW_COLUMN} FROM {data}"
        )
        return
    # one file read in its order (preserve_insertion_order): record k has row id first + k, its row in the
    # file is k + 2 (header = 1, blank records counted); blank records stay in the table, out of the view
    names = ", ".join(ident(c) for c in table.columns)
    _log(progress, f"{table.code} inserted")
    first, blank = con.execute(
        f"SELECT coalesce(min(rowid), 0), count(*) FILTER (WHERE coalesce({names}) IS NULL) FROM {data}"
    ).fetchone()  # type: ignore[misc]
    where = f" WHERE coalesce({names}) IS NOT NULL" if blank else ""
    table.row_offset = 2 - int(first)
    con.execute(
        f"CREATE VIEW {ident(table.code)} AS SELECT {BATCH_COLUMN}, {names}, "
        f"CAST(rowid + {table.row_offset} AS VARCHAR) AS {ROW_COLUMN} FROM {data}{where}"
    )


def _insert_one(
    con: duckdb.DuckDBPyConnection,
    table: _Table,
    s: Source,
    required: Sequence[str] | None,
    work: Path,
    progress: bool,
) -> None:
    """Insert one file; if DuckDB refuses it: the encoding check (GB18030?), then DuckDB padding short
    records, then the loader itself (which raises the loader's error if the file is unusable)."""
    try:
        _group_insert(con, table, [s], "dq_files")
        return
    except duckdb.Error as exc:
        err = str(exc).splitlines()[0]
    recovered = recover_csv(s, required, work) if s.reader == "csv" and not s.encoding_checked else s
    candidates = []
    if recovered.read_path != s.read_path:  # transcoded from GB18030, or read by the loader
        con.execute("INSERT INTO dq_files VALUES (?, ?)", [str(recovered.read_path), s.batch])
        candidates.append(recovered)
    if recovered.reader == "csv" and not recovered.null_padding:
        candidates.append(dataclasses.replace(recovered, null_padding=True))
    for candidate in candidates:
        try:
            _group_insert(con, table, [candidate], "dq_files")
            table.sources[table.sources.index(s)] = candidate
            return
        except duckdb.Error as exc:
            err = str(exc).splitlines()[0]
    _log(progress, f"{s.path}: DuckDB refused it ({err}); read by the loader")
    fb = loader_fallback(s, required, work, f"duckdb: {err}")
    con.execute("INSERT INTO dq_files VALUES (?, ?)", [str(fb.read_path), s.batch])
    table.sources[table.sources.index(s)] = fb
    _group_insert(con, table, [fb], "dq_files")


def _as_of_aggs(dom: Domain, table: _Table) -> list[tuple[str, str]]:
    """(expression, name) whose maximum is the latest strictly valid timestamp (canonical text) of each
    as-of field of the table (as :func:`toolkit.check.latest_timestamp`)."""
    fields = (dom.config.get("as_of_fields") or {}).get(table.code, [])
    out = []
    for i, f in enumerate(fields):
        if f not in table.columns:
            continue
        lo, hi = dom.plausible_years(table.code, f)
        v = f"t.{ident(f)}"
        plausible = sql_year_between(v, lo, hi)
        out.append((f"CASE WHEN dq_dt_ok({v}) AND {plausible} THEN dq_dt_key({v}) END", f"asof_{i}"))
    return out


def _unit_name_aggs(dom: Domain, table: _Table, keys: Sequence[str]) -> list[tuple[str, str]]:
    """For a pack whose unit names are in the data (``names: column:<FIELD>``): the name column of the
    table, aggregated per unit (its largest value; one name per code is expected)."""
    if UNIT_KEY not in keys or not dom.unit.names.startswith("column:"):
        return []
    col = dom.unit.names.split(":", 1)[1]
    return [(f"t.{ident(col)}", "dq_unit_name")] if col in table.columns else []


def _target_columns(con: duckdb.DuckDBPyConnection, target: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {ident(target)}").fetchall()]


def _key_source(dom: Domain, key: str, target: str) -> str:
    """The column of ``target`` a grouping key reads: :data:`UNIT_KEY` is the pack's unit column of that
    table or view (``Domain.unit.column_of``); any other key is a column of the same name."""
    return dom.unit.column_of(target) if key == UNIT_KEY else key


def _pass(
    con: duckdb.DuckDBPyConnection,
    dom: Domain,
    target: str,
    compiled: list[CompiledRule],
    keys: Sequence[str],
    target_cols: list[str],
    evaluated_in: dict[str, set[str]],
    all_batches: set[str],
    failing_dims: bool,
    maxima: Sequence[tuple[str, str]] = (),
    keep: str | None = None,
    considered: Mapping[str, str] | None = None,
    keep_records: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One SELECT over ``target``: per batch and keys, rows and per-rule element / unexpected counts
    (``e_i``, ``u_i``), rows failing a rule of each dimension (``f_<dimension>``) and, for each
    ``(expression, name)`` of ``maxima``, the largest value of the expression.

    ``keep``: also collect the rows failing any rule (``dq_failing``, a list per group, see
    :attr:`CountedRun.failing`) and keep the grouped result as the temporary table of that name (the
    gate selects the failing rows from it, so the rules are evaluated once); a row is its ``_ROW``, or
    with ``keep_records`` the row itself (a struct of those of the target's columns) — for views, whose
    rows are not stored anywhere to join back to. ``considered``: rule id → SQL of the rows a rule's ``mostly`` divides
    by; counted as ``c_i`` (rows it applies to that are considered)."""
    sources = [_key_source(dom, k, target) for k in keys]
    key_sql = [
        f"coalesce(t.{ident(src)}, '') AS {ident(k)}" if src in target_cols else f"'' AS {ident(k)}"
        for k, src in zip(keys, sources, strict=True)
    ]
    ctes: dict[str, str] = {}
    joins: dict[str, str] = {}
    lets: dict[str, str] = {}
    flags: list[str] = []
    aggs = ["count(*) AS dq_rows"]
    fail_terms: dict[str, list[str]] = {d: [] for d in DIMENSIONS}
    for i, c in enumerate(compiled):
        for name, sql in c.ctes:
            ctes[name] = sql.replace("{target}", ident(target))
        for alias, sql in c.joins:
            joins[alias] = sql
        lets.update(c.lets)
        applies = c.condition or "true"
        batches_ok = evaluated_in[c.rule.rule_id]
        if batches_ok != all_batches:
            inside = ", ".join(literal(b) for b in sorted(batches_ok)) or "NULL"
            applies = f"({applies}) AND t.{BATCH_COLUMN} IN ({inside})"
        flags.append(f"coalesce({applies}, false) AS a_{i}")
        flags.append(f"CASE WHEN {applies} THEN coalesce({c.unexpected}, false) ELSE false END AS x_{i}")
        aggs.append(f"count(*) FILTER (WHERE a_{i}) AS e_{i}")
        aggs.append(f"count(*) FILTER (WHERE x_{i}) AS u_{i}")
        fail_terms[c.rule.dimension].append(f"x_{i}")
        cons = (considered or {}).get(c.rule.rule_id)
        if cons is not None:
            flags.append(f"coalesce({applies}, false) AND coalesce({cons}, false) AS k_{i}")
            aggs.append(f"count(*) FILTER (WHERE k_{i}) AS c_{i}")
    if keep and compiled:  # one list per group: each failing row once, with bit masks of the rules it fails
        masks = [
            " | ".join(
                f"(CAST(x_{i} AS BIGINT) << {i - j})" for i in range(j, min(j + MASK_BITS, len(compiled)))
            )
            for j in range(0, len(compiled), MASK_BITS)
        ]
        element = "{'r': dq_r, " + ", ".join(f"'m{k}': {m}" for k, m in enumerate(masks)) + "}"
        any_x = " OR ".join(f"x_{i}" for i in range(len(compiled)))
        aggs.append(f"list({element}) FILTER (WHERE {any_x}) AS dq_failing")
    if failing_dims:
        for d in DIMENSIONS:
            terms = fail_terms[d]
            aggs.append(f"count(*) FILTER (WHERE {' OR '.join(terms)}) AS f_{d}" if terms else f"0 AS f_{d}")
    for expr, name in maxima:
        flags.append(f"{expr} AS v_{name}")
        aggs.append(f"max(v_{name}) AS {name}")
    with_sql = ("WITH " + ", ".join(f"{n} AS ({s})" for n, s in ctes.items()) + " ") if ctes else ""
    source = ident(target)
    if lets:
        source = f"(SELECT *, {', '.join(f'{e} AS {n}' for n, e in lets.items())} FROM {source})"
    outer = ", ".join(["batch", *(ident(k) for k in keys), *aggs])
    inner = ", ".join(
        [
            f"t.{BATCH_COLUMN} AS batch",
            *key_sql,
            *flags,
            *([f"{_kept_value(keep_records)} AS dq_r"] if keep else []),
        ]
    )
    sql = f"{with_sql}SELECT {outer} FROM (SELECT {inner} FROM {source} t {' '.join(joins.values())}) GROUP BY ALL"
    if not keep:
        return con.execute(sql).df()
    con.execute(f"CREATE TEMP TABLE {ident(keep)} AS {sql}")
    return con.execute(f"SELECT * {'EXCLUDE (dq_failing) ' if compiled else ''}FROM {ident(keep)}").df()


def _considered(crs: list[CompiledRule], considered: Callable[[Rule], str | None] | None) -> dict[str, str]:
    """Rule id → SQL of the rows its ``mostly`` divides by, for the rules that need it."""
    if considered is None:
        return {}
    return {c.rule.rule_id: sql for c in crs if (sql := considered(c.rule)) is not None}


def _considered_counts(df: pd.DataFrame, crs: list[CompiledRule], cons: Mapping[str, str]) -> dict[str, int]:
    """A pass's ``c_i`` columns summed: rule id → rows its ``mostly`` divides by."""
    return {c.rule.rule_id: int(df[f"c_{i}"].sum()) for i, c in enumerate(crs) if c.rule.rule_id in cons}


def _kept_value(records: Sequence[str] | None) -> str:
    """What a kept failing-row list holds per row: its ``_ROW``, or the row's columns ``records`` as a
    struct."""
    if records is None:
        return f"t.{ROW_COLUMN}"
    return f"struct_pack({', '.join(f'{ident(c)} := t.{ident(c)}' for c in records)})"


def _collect(df: pd.DataFrame, crs: list[CompiledRule], keys: Sequence[str]) -> list[pd.DataFrame]:
    """A pass's wide result as long frames: batch, keys, rule_id, element_count, unexpected_count."""
    out = []
    for i, c in enumerate(crs):
        part = df[["batch", *keys, f"e_{i}", f"u_{i}"]].rename(
            columns={f"e_{i}": "element_count", f"u_{i}": "unexpected_count"}
        )
        part.insert(1 + len(keys), "rule_id", c.rule.rule_id)
        out.append(part)
    return out


# ------------------------------------------------------------------------------------------------ GX fallback


def _gx_counts(
    dom: Domain,
    rules: list[Rule],
    batch_dir: Path,
    batch: str,
    mode: str,
    as_of: dt.datetime | None,
    calendar: workdays.WorkdayCalendar,
    keys: Sequence[str],
    problems: list[pd.DataFrame] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Validate ``rules`` on one batch through Great Expectations (``dq check``'s own path); counts by
    (batch, key values, rule id) and the rules it could not evaluate."""
    from toolkit.gx_check import _rule_rows, run_gx_check  # Great Expectations: imported only when needed

    ids = {r.rule_id for r in rules}
    suites = {
        name: {
            **suite,
            "expectations": [e for e in suite.get("expectations", []) if e["meta"]["rule_id"] in ids],
        }
        for name, suite in dom.suites.items()
    }
    res = run_gx_check(
        batch_dir, domain=copy_domain(dom, suites, dom.overlay), mode=mode, as_of=as_of, calendar=calendar
    )
    if problems is not None and len(res.problems):
        problems.append(res.problems.assign(batch=batch))
    out: list[dict[str, Any]] = []
    for rule in res.rules:
        r = res.results.get(rule.rule_id)
        if r is None or r.error:
            continue
        frame = res.frames[rule.target]
        src = {k: _key_source(dom, k, rule.target) for k in keys}
        key_frame = pd.DataFrame(
            {k: frame[src[k]] if src[k] in frame.columns else None for k in keys},
            index=frame.index,
            dtype=object,
        ).fillna("")
        key_frame[ROW_COLUMN] = frame[ROW_COLUMN]
        applies = key_frame.loc[_rule_rows(frame, rule).index]
        failing = key_frame[key_frame[ROW_COLUMN].isin(set(r.unexpected_rows))]
        elem = applies.groupby(list(keys)).size()
        unexp = failing.groupby(list(keys)).size()
        for kv in elem.index.union(unexp.index):
            kt = kv if isinstance(kv, tuple) else (kv,)
            out.append(
                {
                    "batch": batch,
                    **dict(zip(keys, kt, strict=True)),
                    "rule_id": rule.rule_id,
                    "element_count": int(elem.get(kv, 0)),
                    "unexpected_count": int(unexp.get(kv, 0)),
                }
            )
    return out, dict(res.not_evaluated)


# ------------------------------------------------------------------------------------------------ session


@dataclass
class _Session:
    con: duckdb.DuckDBPyConnection
    dom: Domain
    batches: list[str]
    tables: dict[str, _Table]
    present: dict[str, set[str]]  # batch -> table codes present


def _open(
    dom: Domain,
    batch_dirs: list[Path],
    mode: str,
    work: Path,
    *,
    memory_limit: str,
    threads: int | None,
    progress: bool,
    storage: str = "auto",
    core: Sequence[str] = (),
    ordinal: bool = False,
) -> _Session:
    """``core``: tables every batch must have (CoreTableMissingError naming the batch folder otherwise)."""
    names = [p.name for p in batch_dirs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(
            f"批次名称重复：{', '.join(dup)}",
            f"duplicate batch names: {', '.join(dup)}",
            fix_zh="每个批次文件夹的名称必须唯一。",
            fix_en="batch folder names must be unique.",
        )
    required_all = dom.required_columns()
    required = {t: required_all[t] for t in dom.mode_tables(mode)}
    stage = work / "staged"
    stage.mkdir(exist_ok=True)
    present: dict[str, set[str]] = {}
    sources: dict[str, list[Source]] = {t: [] for t in dom.tables}
    for i, bdir in enumerate(batch_dirs):
        files, _unknown, _absent = discover(bdir, required, core=core)
        present[bdir.name] = set(files)
        for code, path in files.items():
            src = prepare_source(bdir.name, code, path, required[code], stage, empty_lines=ordinal)
            if ordinal and src.reader == "csv" and src.empty_line:
                why = "空行：由加载器读取，空行计为一行 / empty lines: read by the loader, which counts each as a row"
                src = loader_fallback(src, required[code], stage, why)
            sources[code].append(src)
        if (i + 1) % 100 == 0:
            _log(progress, f"prepared {i + 1}/{len(batch_dirs)} batches")
    if storage == "auto":
        size = sum(src.read_path.stat().st_size for srcs in sources.values() for src in srcs)
        storage = "memory" if size * 3 < _bytes(memory_limit) else "disk"
    _log(progress, f"tables stored {'in memory' if storage == 'memory' else 'in a compressed database file'}")
    con = _connect(work, memory_limit, threads, storage)
    try:
        con.execute("CREATE TABLE dq_files (path VARCHAR, batch VARCHAR)")
        con.executemany(
            "INSERT INTO dq_files VALUES (?, ?)",
            [[str(s.read_path), s.batch] for srcs in sources.values() for s in srcs],
        )
        tables: dict[str, _Table] = {}
        for code, spec in dom.tables.items():
            cols = list(spec["fields"])
            for s in sources[code]:
                cols += [f for f in s.fields if f not in cols]
            tables[code] = _Table(
                code, cols, sources[code], {s.batch: set(s.fields) for s in sources[code]}, ordinal
            )
            if sources[code]:
                _log(progress, f"reading {code}: {len(sources[code])} file(s)")
            _materialise(con, tables[code], required.get(code), stage, progress)
        if storage == "disk" and not ordinal:
            # rows inserted in their order (ordinal) are already in the file: a checkpoint would rewrite every
            # row group (5–6 s at 10 M registrations) and scans are as fast without it
            con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        raise
    return _Session(con=con, dom=dom, batches=names, tables=tables, present=present)


def read_batch_frames(
    batch: Path | str, *, domain: str | Path | Domain, mode: str = "incremental"
) -> dict[str, pd.DataFrame]:
    """The tables of one batch exactly as the engine reads them (text or ``None``; no ``_ROW``), for
    tests and debugging — small batches only (this one *does* build pandas frames)."""
    dom = domain if isinstance(domain, Domain) else load_domain(domain)
    with private_tempdir("engine") as tmp:
        s = _open(dom, [Path(batch)], mode, Path(tmp), memory_limit="1GB", threads=None, progress=False)
        try:
            out = {}
            for code in s.present[Path(batch).name]:
                cols = [c for c in s.tables[code].columns if c in s.tables[code].present[Path(batch).name]]
                df = s.con.execute(
                    f"SELECT {', '.join(ident(c) for c in cols)} FROM {ident(code + '__data')}"
                ).df()
                out[code] = df.astype(object).where(df.notna(), None)
            return out
        finally:
            s.con.close()


def _not_evaluated(s: _Session, rules: list[Rule]) -> dict[tuple[str, str], str]:
    """(batch, rule id) → reason, as :func:`toolkit.check.select_rules` decides per batch."""
    out: dict[tuple[str, str], str] = {}
    for r in rules:
        for b in s.batches:
            missing = [t for t in r.requires if t not in s.present[b]]
            if missing:
                out[(b, r.rule_id)] = f"缺少表 / table absent: {', '.join(missing)}"
                continue
            table = s.tables.get(r.table)
            absent = [c for c in r.requires_columns if table is None or c not in table.present.get(b, set())]
            if absent:
                out[(b, r.rule_id)] = f"缺少列 / column absent: {', '.join(absent)}"
                continue
            if r.target in s.dom.views:
                built = all(t in s.present[b] for t in s.dom.views[r.target].get("tables", []))
            else:
                built = r.target in s.present[b]
            if not built:
                out[(b, r.rule_id)] = f"无法生成视图 / view not built: {r.target}"
    return out


# ------------------------------------------------------------------------------------------------ main


def count_batches(
    batches: Path | str | Sequence[Path | str],
    *,
    domain: str | Path | Domain,
    mode: str = "incremental",
    overlay: str | Path | None = None,
    as_of: dt.datetime | None = None,
    calendar: workdays.WorkdayCalendar | None = None,
    keys: Sequence[str] = ("unit_code",),
    progress: bool = False,
    memory_limit: str = "1.5GB",
    threads: int | None = None,
    work_dir: Path | None = None,
    storage: str = "auto",
    ordinal_rows: bool = False,
    on_counted: Callable[[CountedRun], None] | None = None,
    keep_failing: bool = False,
    considered: Callable[[Rule], str | None] | None = None,
    kept_columns: Callable[[Rule, str, list[str]], Iterable[str]] | None = None,
) -> EngineCounts:
    """Count every rule of ``mode`` over one or many batches in DuckDB (see the module docstring).

    ``batches``: a batch folder, a folder of batch folders (e.g. ``sample/incremental``) or a list of
    batch folders; batch names (folder names) must be unique. ``domain``/``overlay``: as
    :func:`toolkit.domain.load_domain` (or a loaded :class:`~toolkit.domain.Domain`). ``as_of``: one
    as-of for every batch; default: each batch's latest timestamp, as ``dq check``. ``calendar``: the
    working-day calendar (default: built-in). ``keys``: the columns to group by — ``unit_code`` (the
    default) reads each table's or view's unit column (:class:`toolkit.domain.Unit`), any other key the
    column of that name; a column a table or view lacks counts as ``""``, like an empty unit. ``memory_limit``/``threads``: DuckDB settings
    (the process needs about 0.3 GB more than ``memory_limit``: Python, pandas, the result frames);
    ``storage``: where the tables read are kept — ``"memory"``, ``"disk"`` (a compressed database
    file; tables larger than memory are read back from it rather than spilled uncompressed) or
    ``"auto"`` (memory when the input is under a third of ``memory_limit``). Temporary files go to
    ``work_dir`` (default: the system's temporary folder) and are removed afterwards.

    For the QA gate (:mod:`toolkit.gate`): ``ordinal_rows`` numbers each record as the loader does
    (``_ROW`` = its row in the file, header = 1) instead of DuckDB's row id; ``on_counted`` is called
    with a :class:`CountedRun` once everything is counted, while the DuckDB connection is still open
    (the gate queries the failing rows there). ``keep_failing``: each table's pass also keeps its
    rules' failing rows (:attr:`CountedRun.failing`), so the gate needs no second evaluation;
    ``considered``: rule → SQL of the rows its ``mostly`` divides by (``None``: not needed), counted in
    the same pass (:attr:`CountedRun.considered`); ``kept_columns``: (rule, view, the view's columns) →
    the columns of the view a failing row of that rule needs kept (default: all). The failing rows of rules validated by Great
    Expectations are kept in :attr:`EngineCounts.gx_problems`.

    Raises the loader's :class:`~toolkit.errors.InputError` for an unusable batch and
    :class:`~toolkit.errors.ConfigError` for a row condition outside the supported grammar.
    """
    t0 = _T0[0] = time.perf_counter()
    if storage not in ("auto", "memory", "disk"):
        raise ConfigError(
            f"storage 应为 auto、memory 或 disk，而不是 {storage!r}。",
            f"storage must be auto, memory or disk, not {storage!r}.",
        )
    dom = domain if isinstance(domain, Domain) else load_domain(domain, overlay=overlay)
    keys = tuple(keys)
    reserved = {
        "batch",
        "table",
        "rows",
        *COUNT_COLUMNS,
        BATCH_COLUMN,
        ROW_COLUMN,
        "_order",
        "_skip",
        "_batch",
    }
    bad = [k for k in keys if k in reserved or k.startswith("failing_") or keys.count(k) > 1]
    if bad:
        raise ConfigError(
            f"分组列 {bad} 无效。", f"invalid key column(s) {bad}.", fix_en="use unit_code or field codes"
        )
    calendar = calendar or workdays.WorkdayCalendar()
    batch_dirs = resolve_batches(batches)
    if ordinal_rows and len(batch_dirs) != 1:  # rows numbered in their file: one file per table
        raise ConfigError(
            "按文件行号编号只适用于单个批次。",
            "ordinal_rows numbers records in their file: it needs exactly one batch.",
        )
    rules = [r for r in dom.rules if mode in r.applies_to]
    with private_tempdir("engine", work_dir) as tmp:
        s = _open(
            dom,
            batch_dirs,
            mode,
            Path(tmp),
            memory_limit=memory_limit,
            threads=threads,
            progress=progress,
            storage=storage,
            core=dom.core_tables(mode),  # a batch without one cannot pass: CoreTableMissingError
            ordinal=ordinal_rows,
        )
        con = s.con
        try:
            _log(progress, "tables read")
            con.execute(f"CREATE TABLE {AS_OF_TABLE} ({BATCH_COLUMN} VARCHAR, AS_OF TIMESTAMP)")
            sandbox(con, [Path(tmp), *(p.parent if p.is_file() else p for p in batch_dirs)])
            for name in dom.views:
                con.execute(f"CREATE VIEW {ident(name)} AS {dom.views_sql[name]}")
            not_eval = _not_evaluated(s, rules)
            # ---- compile
            compiled: dict[str, list[CompiledRule]] = {}
            gx_rules: dict[str, str] = {}
            evaluated_in: dict[str, set[str]] = {}
            target_cols: dict[str, list[str]] = {}
            today = dt.date.today()
            for idx, r in enumerate(rules):
                try:
                    c = compile_rule(r, rule_index=idx, today=today)
                except NotCompilable as exc:
                    gx_rules[r.rule_id] = str(exc)
                    continue
                if r.target not in target_cols:
                    target_cols[r.target] = _target_columns(con, r.target)
                ok = set()
                for b in s.batches:
                    if (b, r.rule_id) in not_eval:
                        continue
                    have = set(target_cols[r.target])
                    if r.target in s.tables:
                        have &= s.tables[r.target].present.get(b, set())
                    absent_cols = [col for col in c.columns if col not in have]
                    if absent_cols:
                        not_eval[(b, r.rule_id)] = (
                            f"规则执行出错 / rule raised: column(s) not found: {', '.join(absent_cols)}"
                        )
                    else:
                        ok.add(b)
                evaluated_in[r.rule_id] = ok
                if ok:
                    compiled.setdefault(r.target, []).append(c)
            if any(c.uses_calendar for crs in compiled.values() for c in crs):
                _calendar_sql(con, calendar)
            # ---- one pass per table (as-of gathered on the way), then one per view
            long: list[pd.DataFrame] = []
            row_frames = []
            as_of_text: dict[str, str | None] = dict.fromkeys(s.batches)
            unit_names: dict[str, str] = {}
            all_b = set(s.batches)
            kept: dict[str, str] = {}
            considered_n: dict[str, int] = {}
            for code, t in s.tables.items():
                if not t.sources:
                    continue
                crs = compiled.get(code, [])
                asof = _as_of_aggs(dom, t) if as_of is None else []
                names = _unit_name_aggs(dom, t, keys)
                cons = _considered(crs, considered)
                if keep_failing:
                    kept[code] = f"dq_failing_{len(kept)}"
                _log(progress, f"counting {code}: {len(crs)} rule(s)")
                df = _pass(
                    con,
                    dom,
                    code,
                    crs,
                    keys,
                    target_cols.get(code, t.columns),
                    evaluated_in,
                    all_b,
                    True,
                    [*asof, *names],
                    keep=kept.get(code),
                    considered=cons,
                )
                long += _collect(df, crs, keys)
                considered_n.update(_considered_counts(df, crs, cons))
                if names:
                    for u, n in df.groupby(UNIT_KEY)["dq_unit_name"].max().items():
                        if isinstance(n, str) and n and u:
                            unit_names.setdefault(str(u), n)
                for j in range(len(asof)):
                    for b, v in df.groupby("batch")[f"asof_{j}"].max().items():
                        if isinstance(v, str) and (as_of_text[b] is None or v > as_of_text[b]):  # type: ignore[operator]
                            as_of_text[b] = v
                df = df.rename(columns={"dq_rows": "rows", **{f"f_{d}": f"failing_{d}" for d in DIMENSIONS}})
                df.insert(1 + len(keys), "table", code)
                row_frames.append(
                    df[["batch", *keys, "table", "rows", *[f"failing_{d}" for d in DIMENSIONS]]]
                )
            as_of_by_batch: dict[str, dt.datetime | None] = {
                b: as_of if as_of is not None else (dt.datetime.fromisoformat(v) if v else None)
                for b, v in as_of_text.items()
            }
            con.executemany(
                f"INSERT INTO {AS_OF_TABLE} VALUES (?, CAST(? AS TIMESTAMP))",
                [[b, as_of_by_batch[b]] for b in s.batches],
            )
            for target, crs in compiled.items():
                if target in s.tables:
                    continue
                _log(progress, f"counting {target}: {len(crs)} rule(s)")
                if keep_failing:
                    kept[target] = f"dq_failing_{len(kept)}"
                cons = _considered(crs, considered)
                held = target_cols[target]
                if kept_columns is not None:
                    wanted = {ROW_COLUMN, BATCH_COLUMN}.union(
                        *(kept_columns(c.rule, target, held) for c in crs)
                    )
                    held = [col for col in held if col in wanted]
                df = _pass(
                    con,
                    dom,
                    target,
                    crs,
                    keys,
                    target_cols[target],
                    evaluated_in,
                    all_b,
                    False,
                    keep=kept.get(target),
                    considered=cons,
                    keep_records=held,
                )
                long += _collect(df, crs, keys)
                considered_n.update(_considered_counts(df, crs, cons))
            rows = pd.concat(row_frames, ignore_index=True) if row_frames else None
            file_rows: dict[tuple[str, str], int] = {}
            if rows is not None:
                for (b, code), n in rows.groupby(["batch", "table"]).rows.sum().items():
                    file_rows[(b, code)] = int(n)
            calendar_years = _calendar_years_used(con, compiled, calendar)
            _log(progress, "counted")
            if on_counted is not None:
                on_counted(
                    CountedRun(
                        con=con,
                        dom=dom,
                        batches=list(s.batches),
                        tables=s.tables,
                        compiled=compiled,
                        evaluated_in=evaluated_in,
                        target_cols=target_cols,
                        as_of=as_of_by_batch,
                        rows=rows,
                        failing=kept,
                        considered=considered_n,
                    )
                )
        finally:
            con.close()
    # ---- Great Expectations for what the compiler declined, batch by batch
    for y in calendar_years:
        calendar.is_workday(dt.date(y, 1, 1))  # the calendar warns (once) for each year it does not cover
    gx_records: list[dict[str, Any]] = []
    gx_problems: list[pd.DataFrame] = []
    gx_objs = [r for r in rules if r.rule_id in gx_rules]
    by_name = {p.name: p for p in batch_dirs}
    for b in s.batches if gx_objs else []:
        todo = [r for r in gx_objs if (b, r.rule_id) not in not_eval]
        if not todo:
            continue
        _log(progress, f"Great Expectations: {len(todo)} rule(s) on batch {b}")
        got, ne = _gx_counts(dom, todo, by_name[b], b, mode, as_of, calendar, keys, gx_problems)
        gx_records += got
        for rid, why in ne.items():
            not_eval[(b, rid)] = why
    # ---- assemble: every rule × every key value found in a batch (as counts.csv), zeros where nothing applies
    count_cols = ["batch", *keys, "rule_id", "element_count", "unexpected_count"]
    if gx_records:
        long.append(pd.DataFrame.from_records(gx_records, columns=count_cols))
    found = pd.concat(long, ignore_index=True) if long else pd.DataFrame(columns=count_cols)
    key_frames = [found[["batch", *keys]]] + ([rows[["batch", *keys]]] if rows is not None else [])
    kv = pd.concat(key_frames, ignore_index=True).drop_duplicates()
    rule_frame = pd.DataFrame(
        {
            "rule_id": [r.rule_id for r in rules],
            "table": [r.table for r in rules],
            "field": [r.field for r in rules],
            "dimension": [r.dimension for r in rules],
            "severity": [r.severity for r in rules],
            "engine": ["gx" if r.rule_id in gx_rules else "duckdb" for r in rules],
            "_order": range(len(rules)),
        }
    )
    grid = kv.merge(rule_frame, how="cross").merge(found, on=["batch", *keys, "rule_id"], how="left")
    skipped = pd.DataFrame(list(not_eval), columns=["batch", "rule_id"]).assign(_skip=True)
    grid = grid.merge(skipped, on=["batch", "rule_id"], how="left")
    grid["evaluated"] = grid["_skip"].isna()
    for col in ("element_count", "unexpected_count"):
        grid[col] = grid[col].where(grid["evaluated"], 0).fillna(0).astype("int64")
    grid["_batch"] = grid["batch"].map({b: i for i, b in enumerate(s.batches)})
    grid = grid.sort_values(["_batch", "_order", *keys]).reset_index(drop=True)
    counts = grid[["batch", *keys, *COUNT_COLUMNS]]
    row_cols = ["batch", *keys, "table", "rows", *[f"failing_{d}" for d in DIMENSIONS]]
    if rows is None:
        rows = pd.DataFrame(columns=row_cols)
    files = pd.DataFrame.from_records(
        [
            {
                "batch": src.batch,
                "table": src.table,
                "file": str(src.path),
                "format": src.format,
                "encoding": src.encoding,
                "read": src.staged or "duckdb",
                "rows_read": file_rows.get((src.batch, src.table), 0),
            }
            for t in s.tables.values()
            for src in t.sources
        ],
        columns=["batch", "table", "file", "format", "encoding", "read", "rows_read"],
    )
    return EngineCounts(
        counts=counts,
        rows=rows[row_cols].sort_values(["batch", *keys, "table"]).reset_index(drop=True),
        files=files.sort_values(["batch", "table"]).reset_index(drop=True),
        seconds=time.perf_counter() - t0,
        not_evaluated=pd.DataFrame(
            [{"batch": b, "rule_id": rid, "reason": why} for (b, rid), why in sorted(not_eval.items())],
            columns=["batch", "rule_id", "reason"],
        ),
        gx_rules=gx_rules,
        as_of=as_of_by_batch,
        keys=keys,
        unit_names=unit_names,
        gx_problems=gx_problems,
    )


def _calendar_years_used(
    con: duckdb.DuckDBPyConnection,
    compiled: dict[str, list[CompiledRule]],
    calendar: workdays.WorkdayCalendar,
) -> list[int]:
    """Years outside the built-in holiday data that working-day rules reached (so the calendar can warn)."""
    years: set[int] = set()
    lo, hi = validators.plausible_years()  # rows with implausible years never reach the calendar
    for target, crs in compiled.items():
        for c in crs:
            if not c.uses_calendar:
                continue
            a, b = ident(c.rule.kwargs["column_A"]), ident(c.rule.kwargs["column_B"])
            row = con.execute(
                f"SELECT min(year(dq_ts_exact({a}))), max(year(dq_ts_exact({b}))) FROM {ident(target)} "
                f"WHERE ({c.condition or 'true'}) AND dq_ts_exact({a}) IS NOT NULL "
                f"AND dq_ts_exact({b}) >= dq_ts_exact({a}) "
                f"AND {sql_year_between(a, lo, hi)} AND {sql_year_between(b, lo, hi)}"
            ).fetchone()
            if row and row[0] is not None:
                years |= {y for y in range(int(row[0]), int(row[1]) + 1) if not calendar.covers(y)}
    return sorted(years)
