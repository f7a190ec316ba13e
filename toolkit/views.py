"""Prepared views: the domain's SQL (``expectations/<domain>/views/*.sql``) run on DuckDB over a batch.

Cross-table and timeliness rules are validated by Great Expectations on these views, so every rule lives
in a suite. All columns are text (``VARCHAR``); an absent table that a view only joins is read as empty.
SQL helpers available to views: ``dq_ts(x)`` (strict ``YYYY-MM-DD[ HH:MM:SS]`` → TIMESTAMP or NULL),
``dq_date(x)`` (strict ``YYYY-MM-DD`` → DATE or NULL), ``dq_dec(x)`` (plain decimal text → DECIMAL or
NULL).

Batches. Every table has a column ``_BATCH`` (the batch a row was read from) and the table
``dq_as_of(_BATCH, AS_OF)`` holds each batch's as-of time. Views must join and group *within* a batch
(``… ON a._BATCH = b._BATCH AND …``, ``GROUP BY _BATCH, …``) and take the as-of from ``dq_as_of``, so
that the count engine (:mod:`toolkit.engine`) can run them over many batches at once. Here, for one batch,
``_BATCH`` is the constant :data:`SINGLE_BATCH` and is dropped from the frames handed to Great
Expectations. (The variable ``getvariable('as_of')`` is still set for single-batch views.)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

from toolkit.domain import Domain
from toolkit.loading import ROW_COLUMN, Batch

MACROS = r"""
CREATE OR REPLACE MACRO dq_ts(x) AS CASE
    WHEN regexp_full_match(x, '[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}')
        THEN try_strptime(x, '%Y-%m-%d %H:%M:%S')
    WHEN regexp_full_match(x, '[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN try_strptime(x, '%Y-%m-%d') END;
CREATE OR REPLACE MACRO dq_date(x) AS CASE
    WHEN regexp_full_match(x, '[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN CAST(try_strptime(x, '%Y-%m-%d') AS DATE) END;
CREATE OR REPLACE MACRO dq_dec(x) AS CASE
    WHEN regexp_full_match(x, '-?[0-9]+(\.[0-9]+)?') THEN TRY_CAST(x AS DECIMAL(38, 10)) END;
"""


#: ``_BATCH`` of the only batch in :func:`connect`.
SINGLE_BATCH = ""
BATCH_COLUMN = "_BATCH"
AS_OF_TABLE = "dq_as_of"


def _as_text_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Object dtype, ``str`` or ``None`` only — the form the loader produces."""
    out = df.astype(object)
    return out.where(out.notna(), None)


def connect(domain: Domain, batch: Batch, as_of: dt.datetime | None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute(MACROS)
    con.execute("SET VARIABLE as_of = CAST(? AS TIMESTAMP)", [as_of])
    con.execute(f"CREATE TABLE {AS_OF_TABLE} ({BATCH_COLUMN} VARCHAR, AS_OF TIMESTAMP)")
    con.execute(f"INSERT INTO {AS_OF_TABLE} VALUES (?, CAST(? AS TIMESTAMP))", [SINGLE_BATCH, as_of])
    for code, spec in domain.tables.items():
        cols = [*spec["fields"], ROW_COLUMN]
        if code in batch.tables:
            frame = batch.tables[code].frame
            con.register("_src", frame)
            select = ", ".join(
                f'CAST("{c}" AS VARCHAR) AS "{c}"'
                if c in frame.columns
                else f'CAST(NULL AS VARCHAR) AS "{c}"'
                for c in cols
            )
            con.execute(
                f'CREATE TABLE "{code}" AS SELECT CAST(? AS VARCHAR) AS {BATCH_COLUMN}, {select} FROM _src',
                [SINGLE_BATCH],
            )
            con.unregister("_src")
        else:
            defs = ", ".join(f'"{c}" VARCHAR' for c in [BATCH_COLUMN, *cols])
            con.execute(f'CREATE TABLE "{code}" ({defs})')
    return con


def sandbox(con: duckdb.DuckDBPyConnection, allowed: list[Path] | tuple[Path, ...] = ()) -> None:
    """Lock a connection before a pack's SQL runs on it: no file outside ``allowed`` folders can be read
    or written (no ``COPY … TO``, no ``read_text('/etc/…')``), no extension installed or loaded, and the
    configuration cannot be changed back. A pack's view SQL is data from another office."""
    dirs = sorted(
        {str(q).rstrip("/") + "/" for p in allowed for q in (Path(p).absolute(), Path(p).resolve())}
    )
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    if dirs:
        con.execute("SET allowed_directories = ?", [dirs])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def build_views(domain: Domain, batch: Batch, as_of: dt.datetime | None) -> dict[str, pd.DataFrame]:
    """Each view whose base tables are present, as a text frame ordered by ``_ROW``."""
    con = connect(domain, batch, as_of)
    sandbox(con)
    out: dict[str, pd.DataFrame] = {}
    try:
        for name, spec in domain.views.items():
            if not all(t in batch.tables for t in spec.get("tables", [])):
                continue
            sql = domain.views_sql[name]
            df = con.execute(f"SELECT * FROM ({sql}) ORDER BY CAST({ROW_COLUMN} AS BIGINT)").df()
            df = df.drop(columns=[BATCH_COLUMN], errors="ignore")
            out[name] = _as_text_frame(df).reset_index(drop=True)
    finally:
        con.close()
    return out
