"""The count engine's compiled rules on Spark SQL (``--engine spark``), for data beyond one machine.

Nothing about a rule is written twice. The rules are compiled exactly as for DuckDB
(:func:`toolkit.sqlcompile.compile_rule`); each table or view is counted by one query of the same shape
as the engine's pass (per batch and unit: rows, and per rule ``count(*) FILTER (WHERE applies)`` and
``… FILTER (WHERE applies AND unexpected)``); that DuckDB query is then **transpiled to Spark SQL with
sqlglot**: the engine's SQL macros (``dq_dt_ok`` …, :data:`toolkit.sqlcompile.MACROS` and the views'
:data:`toolkit.views.MACROS`) are expanded in the syntax tree, and the few DuckDB-only functions are
rewritten (:func:`to_spark`): ``regexp_full_match`` → ``RLIKE '\\A(?:…)\\z'``, ``try_strptime`` →
``try_to_timestamp`` with a Java pattern, ``list_has_any`` → ``arrays_overlap``, ``HUGEINT`` →
``DECIMAL(38,0)``.

A rule Spark cannot run as transpiled (a function it lacks, a regular expression Java rejects, a rule the
engine itself hands to Great Expectations) is reported
**not evaluated on Spark** with the reason (``evaluated = False`` and a line in ``not_evaluated``) —
never counted as passing. Each table's query is analysed first (``spark.sql`` analyses eagerly, without
running a job), halving the rules until those at fault are found; then it is run over the rest (a rule
that fails at run time is isolated the same way). The working-day calendar (``dq_cal``, ``dq_wcum_out``)
is the engine's own, carried over from DuckDB.

Data. :func:`stage` reads every batch with the loader's semantics through :mod:`toolkit.staging` (the
very code the DuckDB engine uses: encodings, XLSX, odd files through the loader) and writes one Parquet
file per table (all text, empty → NULL, blank rows skipped, with ``_BATCH`` and ``_ROW``). Spark reads
those files — on a cluster, from HDFS/S3 (stage once, copy, then ``spark-submit``; see the README).
Spark is started with ``spark.sql.runSQLOnFiles=false`` and every relation a pack's view names must be a
table or view of the pack: a view cannot read a file.

Equality with DuckDB is asserted per rule and unit on every shipped pack's sample (``tests/test_spark.py``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.domain import Domain, load_domain
from toolkit.errors import ConfigError, NotCompilable
from toolkit.loading import ROW_COLUMN
from toolkit.sqlcompile import (
    MACROS,
    CompiledRule,
    compile_rule,
    county_codes,
    ident,
    literal,
    sql_year_between,
)
from toolkit.views import AS_OF_TABLE, BATCH_COLUMN
from toolkit.views import MACROS as VIEW_MACROS

__all__ = [
    "NOT_ON_SPARK",
    "SparkCounts",
    "count_spark",
    "expand_macros",
    "main",
    "spark_session",
    "stage",
    "to_spark",
]

#: Prefix of the reason of a rule that was not evaluated on Spark.
NOT_ON_SPARK = "未在 Spark 上评估 / not evaluated on Spark"
UNIT_KEY = "unit_code"
_MACRO = re.compile(r"CREATE\s+OR\s+REPLACE\s+MACRO\s+(\w+)\s*\(([^)]*)\)\s+AS\s+(.*?);", re.S | re.I)


# ------------------------------------------------------------------------------------------------ transpiling


def _macros() -> dict[str, tuple[list[str], Any]]:
    import sqlglot

    out: dict[str, tuple[list[str], Any]] = {}
    for name, params, body in _MACRO.findall(MACROS + "\n" + VIEW_MACROS):
        args = [p.strip() for p in params.split(",") if p.strip()]
        out[name.lower()] = (args, sqlglot.parse_one(body, read="duckdb"))
    return out


_MACRO_CACHE: dict[str, tuple[list[str], Any]] = {}


def expand_macros(tree: Any) -> Any:
    """``tree`` (a sqlglot expression) with every call of an engine macro replaced by its body."""
    from sqlglot import exp

    if not _MACRO_CACHE:
        _MACRO_CACHE.update(_macros())
    macros = _MACRO_CACHE

    def one(node: Any) -> Any:
        if isinstance(node, exp.Anonymous) and str(node.this).lower() in macros:
            params, body = macros[str(node.this).lower()]
            args = list(node.expressions)
            if len(args) != len(params):
                raise NotCompilable(f"macro {node.this} takes {len(params)} argument(s)")
            bind = dict(zip(params, args, strict=True))

            def sub(n: Any) -> Any:
                if isinstance(n, exp.Column) and not n.table and n.name in bind:
                    return exp.Paren(this=bind[n.name].copy())
                return n

            return body.copy().transform(sub)
        return node

    for _ in range(12):  # macros call macros: until none is left
        before = tree.sql(dialect="duckdb")
        tree = tree.transform(one)
        if tree.sql(dialect="duckdb") == before:
            return tree
    raise NotCompilable("macro expansion does not terminate")


_STRPTIME = {"%Y": "yyyy", "%m": "MM", "%d": "dd", "%H": "HH", "%M": "mm", "%S": "ss"}


def _java_format(fmt: str) -> str:
    out = fmt
    for c, j in _STRPTIME.items():
        out = out.replace(c, j)
    if "%" in out:
        raise NotCompilable(f"strptime format {fmt!r}")
    return out


def _spark_functions(tree: Any) -> Any:
    """Rewrite the DuckDB-only functions sqlglot leaves as they are."""
    from sqlglot import exp

    def one(node: Any) -> Any:
        name = ""
        if isinstance(node, exp.Anonymous):
            name = str(node.this).lower()
        elif isinstance(node, exp.Func):
            name = node.sql_name().lower()
        if name == "regexp_full_match" or isinstance(node, getattr(exp, "RegexpFullMatch", ())):
            args = (
                [node.this, node.expression]
                if not isinstance(node, exp.Anonymous)
                else list(node.expressions)
            )
            if len(args) != 2 or not isinstance(args[1], exp.Literal):
                raise NotCompilable("regexp_full_match with a non-literal pattern")
            return exp.RegexpLike(
                this=args[0], expression=exp.Literal.string(r"\A(?:" + args[1].this + r")\z")
            )
        if name in ("try_strptime", "strptime"):
            args = (
                list(node.expressions)
                if isinstance(node, exp.Anonymous)
                else [node.this, node.args.get("format")]
            )
            if len(args) != 2 or not isinstance(args[1], exp.Literal):
                raise NotCompilable("strptime with a non-literal format")
            return exp.Anonymous(
                this="try_to_timestamp", expressions=[args[0], exp.Literal.string(_java_format(args[1].this))]
            )
        if isinstance(node, exp.ArrayOverlaps):  # list_has_any: sqlglot writes `a && b`, Spark has a function
            return exp.Anonymous(this="arrays_overlap", expressions=[node.this, node.expression])
        if isinstance(node, exp.DataType) and node.this in (
            exp.DataType.Type.INT128,
            exp.DataType.Type.UINT128,
        ):
            return exp.DataType.build("DECIMAL(38,0)")
        if isinstance(node, exp.Anonymous) and name.startswith("dq_"):
            raise NotCompilable(f"engine function {name} has no Spark form")
        return node

    for _ in range(12):  # a replaced node's own arguments are rewritten on the next round
        before = tree.sql(dialect="duckdb")
        tree = tree.transform(one)
        if tree.sql(dialect="duckdb") == before:
            return tree
    raise NotCompilable("function rewriting does not terminate")


def to_spark(sql: str, *, allowed: set[str] | None = None) -> str:
    """DuckDB SQL of the engine (macros allowed) → Spark SQL. ``allowed``: the only relation names the
    statement may read (besides its own CTEs); anything else — a file path, another catalog — raises
    :class:`~toolkit.errors.NotCompilable`."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise NotCompilable(f"SQL not understood: {str(exc).splitlines()[0]}") from exc
    tree = _spark_functions(expand_macros(tree))
    if allowed is not None:
        ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
        for table in tree.find_all(exp.Table):
            if (
                table.args.get("db")
                or table.args.get("catalog")
                or not isinstance(table.this, exp.Identifier)
            ):
                raise NotCompilable(f"relation {table.sql(dialect='duckdb')!r} is not a table of the pack")
            if table.name.lower() not in allowed and table.name.lower() not in ctes:
                raise NotCompilable(f"relation {table.name!r} is not a table of the pack")
    return tree.sql(dialect="spark")


# ------------------------------------------------------------------------------------------------ staging


@dataclass
class Staged:
    """Batches staged as Parquet: ``files``: table code → Parquet file; ``present``: batch → tables;
    ``columns``: table → batch → columns its file has; ``order``: batch names in order."""

    folder: Path
    files: dict[str, Path | str]
    present: dict[str, set[str]]
    columns: dict[str, dict[str, set[str]]]
    order: list[str]


def stage(batch_dirs: Sequence[Path], dom: Domain, mode: str, out: Path) -> Staged:
    """Read the batches with the loader's semantics (via :mod:`toolkit.staging`, as the DuckDB engine)
    into one all-text Parquet file per table under ``out``."""
    import duckdb

    from toolkit.staging import discover, loader_fallback, normalise_sql, prepare_source

    out.mkdir(parents=True, exist_ok=True)
    work = out / "work"
    work.mkdir(exist_ok=True)
    required_all = dom.required_columns()
    required = {t: required_all[t] for t in dom.mode_tables(mode)}
    present: dict[str, set[str]] = {}
    columns: dict[str, dict[str, set[str]]] = {t: {} for t in dom.tables}
    sources: dict[str, list[Any]] = {t: [] for t in dom.tables}
    for bdir in batch_dirs:
        files, _unknown, _absent = discover(bdir, required, core=dom.core_tables(mode))
        present[bdir.name] = set(files)
        for code, path in files.items():
            src = prepare_source(bdir.name, code, path, required[code], work)
            sources[code].append(src)
    con = duckdb.connect(":memory:")
    staged: dict[str, Path] = {}
    try:
        for code, spec in dom.tables.items():
            if not sources[code]:
                continue
            cols = list(spec["fields"])
            for s in sources[code]:
                cols += [f for f in s.fields if f not in cols]
            defs = ", ".join(f"{ident(c)} VARCHAR" for c in [BATCH_COLUMN, *cols])
            con.execute(f"CREATE OR REPLACE TABLE dq_stage ({defs})")
            for s in sources[code]:
                for attempt in range(2):
                    mapping = {f: c for c, f in s.columns if f is not None}
                    sel = [
                        f"{normalise_sql(s.column_sql(mapping[c]))} AS {ident(c)}"
                        if c in mapping
                        else f"CAST(NULL AS VARCHAR) AS {ident(c)}"
                        for c in cols
                    ]
                    names = ", ".join(ident(c) for c in cols)
                    sql = (
                        f"INSERT INTO dq_stage SELECT * FROM (SELECT {literal(s.batch)} AS {BATCH_COLUMN}, "
                        f"{', '.join(sel)} FROM {s.read_sql([s.read_path])} r) WHERE coalesce({names}) IS NOT NULL"
                    )
                    try:
                        con.execute(sql)
                        break
                    except duckdb.Error as exc:
                        if attempt:
                            raise
                        s = loader_fallback(s, required[code], work, f"duckdb: {exc}")
                columns[code][s.batch] = set(s.fields)
            path = out / f"{code}.parquet"
            con.execute(
                f"COPY (SELECT *, CAST(row_number() OVER () AS VARCHAR) AS {ROW_COLUMN} FROM dq_stage) "
                f"TO {literal(str(path))} (FORMAT parquet)"
            )
            staged[code] = path
    finally:
        con.close()
    return Staged(out, staged, present, columns, [p.name for p in batch_dirs])


# ------------------------------------------------------------------------------------------------ counting


@dataclass
class SparkCounts:
    """``counts``: as :attr:`toolkit.engine.EngineCounts.counts` (``engine = "spark"``; rules not evaluated
    on Spark have ``evaluated = False``); ``not_evaluated``: batch, rule_id, reason; ``not_on_spark``:
    rule id → why Spark could not evaluate it; ``sql``: target → the Spark SQL run; ``seconds``."""

    counts: pd.DataFrame
    not_evaluated: pd.DataFrame
    not_on_spark: dict[str, str]
    sql: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    as_of: dict[str, dt.datetime | None] = field(default_factory=dict)


def spark_session(master: str = "local[2]", app: str = "dq-toolkit") -> Any:
    """A Spark session (the active one if any, e.g. under ``spark-submit``), quiet and locked down."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
        from pyspark.sql import SparkSession

        builder = (
            SparkSession.builder.appName(app)
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.runSQLOnFiles", "false")
            .config("spark.sql.session.timeZone", "UTC")
        )
        if master:
            builder = builder.master(master)
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _pass_sql(
    dom: Domain, target: str, crs: list[CompiledRule], cols: set[str], evaluated_in, batches
) -> str:
    """The engine's pass over ``target`` (DuckDB dialect; see :func:`toolkit.engine._pass`)."""
    unit = dom.unit.column_of(target)
    key = f"coalesce(t.{ident(unit)}, '')" if unit in cols else "''"
    ctes: dict[str, str] = {}
    joins: dict[str, str] = {}
    lets: dict[str, str] = {}
    flags, aggs = [], ["count(*) AS dq_rows"]
    for i, c in enumerate(crs):
        for name, sql in c.ctes:
            ctes[name] = sql.replace("{target}", ident(target))
        for alias, sql in c.joins:
            joins[alias] = sql
        lets.update(dict(c.lets))
        applies = c.condition or "true"
        ok = evaluated_in[c.rule.rule_id]
        if ok != set(batches):
            inside = ", ".join(literal(b) for b in sorted(ok)) or "NULL"
            applies = f"({applies}) AND t.{BATCH_COLUMN} IN ({inside})"
        flags.append(f"coalesce({applies}, false) AS a_{i}")
        flags.append(f"CASE WHEN {applies} THEN coalesce({c.unexpected}, false) ELSE false END AS x_{i}")
        aggs.append(f"count(*) FILTER (WHERE a_{i}) AS e_{i}")
        aggs.append(f"count(*) FILTER (WHERE x_{i}) AS u_{i}")
    with_sql = ("WITH " + ", ".join(f"{n} AS ({s})" for n, s in ctes.items()) + " ") if ctes else ""
    source = ident(target)
    if lets:
        source = f"(SELECT *, {', '.join(f'{e} AS {n}' for n, e in lets.items())} FROM {source})"
    inner = ", ".join([f"t.{BATCH_COLUMN} AS batch", f"{key} AS {UNIT_KEY}", *flags])
    return (
        f"{with_sql}SELECT batch, {UNIT_KEY}, {', '.join(aggs)} FROM (SELECT {inner} FROM {source} t "
        f"{' '.join(joins.values())}) GROUP BY batch, {UNIT_KEY}"
    )


def _as_of_sql(dom: Domain, code: str, cols: set[str]) -> str | None:
    """Latest strictly valid as-of timestamp per batch of one table (as the engine's ``_as_of_aggs``)."""
    fields = [f for f in (dom.config.get("as_of_fields") or {}).get(code, []) if f in cols]
    if not fields:
        return None
    parts = []
    for f in fields:
        lo, hi = dom.plausible_years(code, f)
        v = f"t.{ident(f)}"
        parts.append(
            f"SELECT t.{BATCH_COLUMN} AS batch, max(CASE WHEN dq_dt_ok({v}) AND {sql_year_between(v, lo, hi)} "
            f"THEN dq_dt_key({v}) END) AS v FROM {ident(code)} t GROUP BY t.{BATCH_COLUMN}"
        )
    return " UNION ALL ".join(parts)


def _not_evaluated(dom: Domain, rules, st: Staged) -> dict[tuple[str, str], str]:
    """(batch, rule id) → reason, as the DuckDB engine decides (absent table, column or view)."""
    out: dict[tuple[str, str], str] = {}
    for r in rules:
        for b in st.order:
            missing = [t for t in r.requires if t not in st.present[b]]
            if missing:
                out[(b, r.rule_id)] = f"缺少表 / table absent: {', '.join(missing)}"
                continue
            have = st.columns.get(r.table, {}).get(b, set())
            absent = [c for c in r.requires_columns if c not in have]
            if absent:
                out[(b, r.rule_id)] = f"缺少列 / column absent: {', '.join(absent)}"
                continue
            if r.target in dom.views:
                built = all(t in st.present[b] for t in dom.views[r.target].get("tables", []))
            else:
                built = r.target in st.present[b]
            if not built:
                out[(b, r.rule_id)] = f"无法生成视图 / view not built: {r.target}"
    return out


def _error_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def count_spark(
    batches: Path | str | Sequence[Path | str],
    *,
    domain: str | Path | Domain,
    mode: str = "stock",
    overlay: str | Path | None = None,
    as_of: dt.datetime | None = None,
    calendar: Any = None,
    spark: Any = None,
    master: str = "local[2]",
    work_dir: Path | None = None,
    staged: Staged | None = None,
) -> SparkCounts:
    """Count every rule of ``mode`` on Spark (see the module docstring); batches as
    :func:`toolkit.engine.count_batches`; ``calendar``: the working-day calendar (default: built-in).
    ``spark``: a session (default: :func:`spark_session`)."""
    from toolkit import workdays
    from toolkit.engine import resolve_batches
    from toolkit.tempdirs import private_tempdir

    t0 = time.perf_counter()
    dom = domain if isinstance(domain, Domain) else load_domain(domain, overlay=overlay)
    calendar = calendar or workdays.WorkdayCalendar()
    spark = spark or spark_session(master)
    if staged is not None:
        return _count(dom, mode, staged, spark, as_of, t0, calendar)
    with private_tempdir("spark", work_dir) as tmp:
        st = stage(resolve_batches(batches), dom, mode, Path(tmp) / "staged")
        return _count(dom, mode, st, spark, as_of, t0, calendar)


def _calendar(spark: Any, calendar: Any) -> None:
    """The engine's working-day calendar on Spark: table ``dq_cal`` and macro ``dq_wcum_out``, built by
    the engine's own code on a scratch DuckDB connection and carried over (rows and macro text)."""
    import duckdb
    import sqlglot

    from toolkit.engine import _calendar_sql

    con = duckdb.connect(":memory:")
    try:
        con.execute(MACROS)
        _calendar_sql(con, calendar)
        frame = con.execute("SELECT dq_d, dq_c FROM dq_cal ORDER BY dq_d").df()
        params, body = con.execute(
            "SELECT parameters, macro_definition FROM duckdb_functions() WHERE function_name = 'dq_wcum_out'"
        ).fetchone()
    finally:
        con.close()
    if not _MACRO_CACHE:
        _MACRO_CACHE.update(_macros())
    _MACRO_CACHE["dq_wcum_out"] = (list(params), sqlglot.parse_one(body, read="duckdb"))
    rows = [
        (d.date() if hasattr(d, "date") else d, int(c))
        for d, c in zip(frame["dq_d"], frame["dq_c"], strict=True)
    ]
    spark.createDataFrame(rows, "dq_d date, dq_c bigint").createOrReplaceTempView("dq_cal")


def _count(
    dom: Domain, mode: str, st: Staged, spark: Any, as_of: dt.datetime | None, t0: float, calendar: Any
) -> SparkCounts:
    rules = [r for r in dom.rules if mode in r.applies_to]
    allowed = {c.lower() for c in dom.tables} | {v.lower() for v in dom.views} | {AS_OF_TABLE, "dq_county"}
    for code in dom.tables:  # every table exists, empty when no batch has it (views may join it)
        if code in st.files:
            spark.read.parquet(str(st.files[code])).createOrReplaceTempView(code)
        else:
            cols = [BATCH_COLUMN, *dom.tables[code]["fields"], ROW_COLUMN]
            spark.createDataFrame([], ", ".join(f"`{c}` string" for c in cols)).createOrReplaceTempView(code)
    spark.createDataFrame([(c,) for c in county_codes()], "dq_code string").createOrReplaceTempView(
        "dq_county"
    )
    # as-of per batch, as the engine
    as_of_text: dict[str, str | None] = dict.fromkeys(st.order)
    for code in st.files:
        cols = set().union(*st.columns[code].values()) if st.columns[code] else set()
        sql = _as_of_sql(dom, code, cols)
        if sql is None or as_of is not None:
            continue
        for row in spark.sql(to_spark(sql)).collect():
            b, v = row["batch"], row["v"]
            if v is not None and (as_of_text.get(b) is None or v > as_of_text[b]):
                as_of_text[b] = v
    as_of_by_batch = {
        b: as_of if as_of is not None else (dt.datetime.fromisoformat(v) if v else None)
        for b, v in as_of_text.items()
    }
    spark.createDataFrame(
        [(b, v) for b, v in as_of_by_batch.items()], f"{BATCH_COLUMN} string, AS_OF timestamp"
    ).createOrReplaceTempView(AS_OF_TABLE)
    not_on_spark: dict[str, str] = {}
    for name in dom.views:
        try:
            spark.sql(to_spark(dom.views_sql[name], allowed=allowed)).createOrReplaceTempView(name)
        except Exception as exc:  # a view Spark cannot build: its rules are not evaluated on Spark
            for r in rules:
                if r.target == name:
                    not_on_spark[r.rule_id] = f"视图 / view {name}: {_error_line(exc)}"
    not_eval = _not_evaluated(dom, rules, st)
    target_cols: dict[str, set[str]] = {}
    compiled: dict[str, list[CompiledRule]] = {}
    evaluated_in: dict[str, set[str]] = {}
    today = dt.date.today()
    calendar_ready = False
    for idx, r in enumerate(rules):
        if r.rule_id in not_on_spark:
            continue
        try:
            c = compile_rule(r, rule_index=idx, today=today)
        except NotCompilable as exc:
            not_on_spark[r.rule_id] = f"引擎无法编译 / the engine cannot compile it: {exc}"
            continue
        if c.uses_calendar and not calendar_ready:
            try:
                _calendar(spark, calendar)
                calendar_ready = True
            except Exception as exc:
                not_on_spark[r.rule_id] = f"工作日日历 / working-day calendar: {_error_line(exc)}"
                continue
        if r.target not in target_cols:
            try:
                target_cols[r.target] = set(spark.table(r.target).columns)
            except Exception as exc:
                not_on_spark[r.rule_id] = _error_line(exc)
                continue
        ok = set()
        for b in st.order:
            if (b, r.rule_id) in not_eval:
                continue
            have = set(target_cols[r.target])
            if r.target in dom.tables:
                have &= st.columns.get(r.target, {}).get(b, set())
            absent = [col for col in c.columns if col not in have]
            if absent:
                not_eval[(b, r.rule_id)] = (
                    f"规则执行出错 / rule raised: column(s) not found: {', '.join(absent)}"
                )
            else:
                ok.add(b)
        evaluated_in[r.rule_id] = ok
        if ok:
            compiled.setdefault(r.target, []).append(c)
    long: list[pd.DataFrame] = []
    sqls: dict[str, str] = {}
    for target, crs in compiled.items():
        args = (spark, dom, target)
        good = _analyse(*args, crs, target_cols[target], evaluated_in, st.order, not_on_spark)
        if good:
            long += _run(*args, good, target_cols[target], evaluated_in, st.order, not_on_spark, sqls)
    return _assemble(rules, st, long, not_eval, not_on_spark, sqls, time.perf_counter() - t0, as_of_by_batch)


def _analyse(spark, dom, target, crs, cols, evaluated_in, order, not_on_spark) -> list[CompiledRule]:
    """The rules of ``crs`` Spark can analyse (resolve functions and types, no job is run): all at once,
    halving on failure to find the rules at fault (each then recorded in ``not_on_spark``)."""
    try:
        spark.sql(to_spark(_pass_sql(dom, target, crs, cols, evaluated_in, order)))
        return list(crs)
    except Exception as exc:
        if len(crs) == 1:
            not_on_spark[crs[0].rule.rule_id] = _error_line(exc)
            return []
    half = len(crs) // 2
    return [
        *_analyse(spark, dom, target, crs[:half], cols, evaluated_in, order, not_on_spark),
        *_analyse(spark, dom, target, crs[half:], cols, evaluated_in, order, not_on_spark),
    ]


def _collect(spark, sql: str) -> pd.DataFrame:
    import warnings

    with warnings.catch_warnings():
        # pyspark's own conversion warns under pandas 3 (its support notice, the deprecated copy=
        # keyword); those are pyspark's internals, not ours — and as errors they would abort the Arrow path
        warnings.simplefilter("ignore")
        return spark.sql(sql).toPandas()


def _run(spark, dom, target, crs, cols, evaluated_in, order, not_on_spark, sqls) -> list[pd.DataFrame]:
    """Count ``crs`` in one query; if it fails at run time, rule by rule (a failing rule: not on Spark)."""
    try:
        sql = to_spark(_pass_sql(dom, target, crs, cols, evaluated_in, order))
        df = _collect(spark, sql)
        sqls[target] = sql
    except Exception as exc:
        if len(crs) == 1:
            not_on_spark[crs[0].rule.rule_id] = _error_line(exc)
            return []
        out = []
        for c in crs:
            out += _run(spark, dom, target, [c], cols, evaluated_in, order, not_on_spark, sqls)
        return out
    out = []
    for i, c in enumerate(crs):
        part = df[["batch", UNIT_KEY, f"e_{i}", f"u_{i}"]].rename(
            columns={f"e_{i}": "element_count", f"u_{i}": "unexpected_count"}
        )
        part.insert(2, "rule_id", c.rule.rule_id)
        out.append(part)
    rows = df[["batch", UNIT_KEY]].copy()
    rows.insert(2, "rule_id", None)
    out.append(rows.assign(element_count=0, unexpected_count=0))  # the units this target has
    return out


def _assemble(rules, st, long, not_eval, not_on_spark, sqls, seconds, as_of_by_batch) -> SparkCounts:
    cols = ["batch", UNIT_KEY, "rule_id", "element_count", "unexpected_count"]
    found = pd.concat(long, ignore_index=True) if long else pd.DataFrame(columns=cols)
    kv = found[["batch", UNIT_KEY]].drop_duplicates()
    found = found[found["rule_id"].notna()]
    rule_frame = pd.DataFrame(
        {
            "rule_id": [r.rule_id for r in rules],
            "table": [r.table for r in rules],
            "field": [r.field for r in rules],
            "dimension": [r.dimension for r in rules],
            "severity": [r.severity for r in rules],
            "engine": "spark",
            "_order": range(len(rules)),
        }
    )
    grid = kv.merge(rule_frame, how="cross").merge(found, on=["batch", UNIT_KEY, "rule_id"], how="left")
    skipped = set(not_eval) | {(b, rid) for rid in not_on_spark for b in st.order}
    grid["evaluated"] = [
        (b, rid) not in skipped for b, rid in zip(grid["batch"], grid["rule_id"], strict=True)
    ]
    for col in ("element_count", "unexpected_count"):
        grid[col] = grid[col].where(grid["evaluated"], 0).fillna(0).astype("int64")
    grid["_batch"] = grid["batch"].map({b: i for i, b in enumerate(st.order)})
    grid = grid.sort_values(["_batch", "_order", UNIT_KEY]).reset_index(drop=True)
    reasons = dict(not_eval)
    for rid, why in not_on_spark.items():
        for b in st.order:
            reasons.setdefault((b, rid), f"{NOT_ON_SPARK}: {why}")
    from toolkit.engine import COUNT_COLUMNS  # the same columns as the DuckDB engine's counts

    counts = grid[["batch", UNIT_KEY, *COUNT_COLUMNS]]
    return SparkCounts(
        counts=counts,
        not_evaluated=pd.DataFrame(
            [{"batch": b, "rule_id": rid, "reason": why} for (b, rid), why in sorted(reasons.items())],
            columns=["batch", "rule_id", "reason"],
        ),
        not_on_spark=dict(not_on_spark),
        sql=sqls,
        seconds=seconds,
        as_of=as_of_by_batch,
    )


# ------------------------------------------------------------------------------------------------ spark-submit


def main(argv: Sequence[str] | None = None) -> int:
    """``spark-submit toolkit/spark.py --domain bdc --mode stock --input BATCH [--out counts.csv]``:
    count on the cluster the job was submitted to (``--master`` as given to spark-submit). ``--input`` is
    a batch folder (staged locally, then read by Spark) or, with ``--staged``, a folder of Parquet files
    written by :func:`stage` (``<TABLE>.parquet``, e.g. on HDFS)."""
    p = argparse.ArgumentParser(prog="dq-spark", description=__doc__.splitlines()[0])
    p.add_argument("--domain", required=True)
    p.add_argument("--mode", default="stock", choices=["stock", "incremental"])
    p.add_argument("--input", required=True)
    p.add_argument("--overlay")
    p.add_argument("--out", default="counts_spark.csv")
    p.add_argument("--staged", action="store_true", help="--input holds <TABLE>.parquet files from stage()")
    p.add_argument("--batches", default="", help="with --staged: batch names, comma separated")
    args = p.parse_args(argv)
    from toolkit.sheets import write_csv

    dom = load_domain(args.domain, overlay=args.overlay)
    spark = spark_session(master="")
    if args.staged:
        root = args.input.rstrip("/")
        files = {code: f"{root}/{code}.parquet" for code in dom.tables}
        order = [b for b in args.batches.split(",") if b]
        if not order:
            raise ConfigError("--staged 需要 --batches。", "--staged needs --batches NAME[,NAME…].")
        present = {b: set(dom.tables) for b in order}
        existing = {}
        for code, path in files.items():
            try:
                existing[code] = set(spark.read.parquet(str(path)).columns) - {BATCH_COLUMN, ROW_COLUMN}
            except Exception:
                for b in order:
                    present[b].discard(code)
        st = Staged(
            Path(root),
            {c: files[c] for c in existing},
            present,
            {c: dict.fromkeys(order, cols) for c, cols in existing.items()},
            order,
        )
        res = count_spark([], domain=dom, mode=args.mode, spark=spark, staged=st)
    else:
        res = count_spark(args.input, domain=dom, mode=args.mode, spark=spark)
    write_csv(res.counts, Path(args.out))
    print(
        f"{len(res.counts):,} rows of counts in {res.seconds:.1f}s; "
        f"{len(res.not_on_spark)} rule(s) not evaluated on Spark → {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":  # pragma: no cover - spark-submit entry point
    sys.exit(main())
