"""The pack's prepared views (DuckDB SQL, :mod:`toolkit.views`) over the rows of many businesses at once.

Views join and group *within* a batch (``_BATCH``) and read each batch's as-of from ``dq_as_of`` — the
rule that lets the count engine run them over many batches in one pass. Here every business is its own
batch, so the businesses waiting for a verdict are put into DuckDB together and each view is run **once**
for all of them: DuckDB's cost per query (planning, hash tables) hardly depends on a few rows more, so under
load the cost per business falls as more wait (see :class:`toolkit.serve.standards.Evaluator`).

One :class:`ViewRunner` owns one in-memory DuckDB connection (not shared between threads). The rows of
a pass — every table's, and each business's as-of — go into **one** staging table (``dq_in``: table code,
``_BATCH``, the row as a JSON object of its fields) with one ``INSERT``, and are removed with one
``DELETE``: a statement's fixed cost, not its rows, is what a pass of a few businesses pays (four tables
and the as-of loaded one by one cost 2.3 of a 4.5 ms pass). Each table of the dictionary is a view over
the staging table with every dictionary field as text (absent fields and tables read as empty, as in
:func:`toolkit.views.connect`), the pack's views are created once over them, and the connection is locked
by :func:`toolkit.views.sandbox` before anything runs. A view that reads the single-batch variable
``getvariable('as_of')`` is run business by business with the variable set. Values come back as text
exactly as ``dq check`` hands them to Great Expectations (VARCHAR as is; other types as pandas would turn
them into strings).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from toolkit.checks.sql import ident, literal
from toolkit.domain import Domain
from toolkit.loading import ROW_COLUMN
from toolkit.views import AS_OF_TABLE, BATCH_COLUMN, MACROS, sandbox

__all__ = ["ViewJob", "ViewRunner"]

#: Above this many values, rows go to DuckDB as Arrow arrays rather than as bound parameters.
_VALUES_MAX = 200
#: The staging table of a pass: ``dq_t`` (a table code, or ``dq_as_of``), ``_BATCH``, ``dq_doc`` (the
#: row as JSON; for ``dq_as_of`` the as-of as text).
_STAGING = "dq_in"


@dataclass
class ViewJob:
    """One business for :meth:`ViewRunner.run`: its tables' rows (``_ROW`` included), its as-of, and the
    views to build for it."""

    tables: Mapping[str, Sequence[Mapping[str, Any]]]
    as_of: dt.datetime | None
    views: Sequence[str]


def _row_order(row: Mapping[str, Any]) -> tuple[int, int]:
    value = row.get(ROW_COLUMN)
    try:
        return (0, int(value))
    except (TypeError, ValueError):
        return (1, 0)


class ViewRunner:
    """A DuckDB connection holding the pack's tables and views (see the module docstring)."""

    def __init__(self, domain: Domain) -> None:
        self.domain = domain
        self.fields = {code: list(spec["fields"]) for code, spec in domain.tables.items()}
        con = duckdb.connect(":memory:", config={"threads": 1})
        con.execute(MACROS)
        con.execute("SET VARIABLE as_of = CAST(? AS TIMESTAMP)", [None])
        con.execute(f"CREATE TABLE {_STAGING} (dq_t VARCHAR, {BATCH_COLUMN} VARCHAR, dq_doc VARCHAR)")
        con.execute(
            f"CREATE VIEW {AS_OF_TABLE} AS SELECT {BATCH_COLUMN}, CAST(dq_doc AS TIMESTAMP) AS AS_OF "
            f"FROM {_STAGING} WHERE dq_t = {literal(AS_OF_TABLE)}"
        )
        for code, fields in self.fields.items():
            cols = [*fields, ROW_COLUMN]
            shape = literal(json.dumps(dict.fromkeys(cols, "VARCHAR")))
            picked = ", ".join(f"dq_s.{ident(c)} AS {ident(c)}" for c in cols)
            con.execute(
                f"CREATE VIEW {ident(code)} AS SELECT {BATCH_COLUMN}, {picked} FROM (SELECT {BATCH_COLUMN}, "
                f"from_json(dq_doc, {shape}) AS dq_s FROM {_STAGING} WHERE dq_t = {literal(code)})"
            )
        self.per_business: set[str] = set()
        self.columns: dict[str, list[str]] = {}
        self.text: dict[str, bool] = {}
        for name in domain.views:
            sql = domain.views_sql[name]
            con.execute(f"CREATE VIEW {ident(name)} AS {sql}")
            if "getvariable" in sql.lower():
                self.per_business.add(name)
            described = con.execute(f"DESCRIBE SELECT * FROM {ident(name)}").fetchall()
            self.columns[name] = [str(r[0]) for r in described if r[0] != BATCH_COLUMN]
            self.text[name] = all(str(r[1]).upper() == "VARCHAR" for r in described if r[0] != BATCH_COLUMN)
        con.execute("PRAGMA disable_optimizer")  # tiny inputs: planning, not execution, is the cost
        # a view read for every pass is prepared once (parsed, bound and planned now; EXECUTE reads the rows
        # the tables hold at that moment): half the cost of a pass. Views reading a variable (as-of per
        # business) are planned at each read, since a prepared plan would keep the variable's old value.
        self.prepared: dict[str, str] = {}
        for i, name in enumerate(domain.views):
            if name not in self.per_business:
                self.prepared[name] = f"dq_view_{i}"
                con.execute(f"PREPARE {self.prepared[name]} AS SELECT * FROM {ident(name)}")
        self._together: dict[tuple[str, ...], str] = {}  # prepared reads of several views at once
        sandbox(con)
        self.con = con
        self._filled = False

    def close(self) -> None:
        self.con.close()

    # ------------------------------------------------------------------------------------------ load
    def _load(self, jobs: Sequence[ViewJob], batches: Sequence[str]) -> None:
        """The pass's rows into the staging table (the previous pass's removed): one row per table row
        (its fields as a JSON object; absent fields read as NULL) and one per business for its as-of."""
        con = self.con
        if self._filled:
            con.execute(f"DELETE FROM {_STAGING}")
            self._filled = False
        values: list[Any] = []
        for job, batch in zip(jobs, batches, strict=True):
            values += [AS_OF_TABLE, batch, None if job.as_of is None else job.as_of.isoformat(sep=" ")]
            for code, rows in job.tables.items():
                if code in self.fields:
                    for row in rows:
                        values += [code, batch, json.dumps(row, ensure_ascii=False)]
        self._filled = True
        if len(values) <= _VALUES_MAX:  # a few rows: one INSERT … VALUES with parameters
            rows = ", ".join(["(?, ?, ?)"] * (len(values) // 3))
            con.execute(f"INSERT INTO {_STAGING} VALUES {rows}", values)
            return
        # more rows (a batch call, or many businesses in one pass): binding each value costs more than
        # handing DuckDB the columns as Arrow arrays
        import pyarrow as pa

        arrow = pa.table({f"c{j}": pa.array(values[j::3], pa.string()) for j in range(3)})
        con.register("dq_rows_in", arrow)
        try:
            con.execute(f"INSERT INTO {_STAGING} SELECT * FROM dq_rows_in")
        finally:
            con.unregister("dq_rows_in")

    # ------------------------------------------------------------------------------------------ run
    def _fetch(self, name: str, where: str = "", params: Sequence[Any] = ()) -> tuple[list[str], list[tuple]]:
        sql = f"EXECUTE {self.prepared[name]}" if not where and name in self.prepared else ""
        sql = sql or f"SELECT * FROM {ident(name)}{where}"
        if self.text[name]:
            cur = self.con.execute(sql, list(params))
            return [d[0] for d in cur.description], cur.fetchall()
        frame = self.con.execute(sql, list(params)).df()  # as toolkit.views.build_views does, then as text
        frame = frame.astype(object).where(frame.notna(), None).astype("string")
        cols = [str(c) for c in frame.columns]
        rows = [
            tuple(None if v is None or v is pd.NA else str(v) for v in r)
            for r in frame.itertuples(index=False, name=None)
        ]
        return cols, rows

    def run(self, jobs: Sequence[ViewJob]) -> list[dict[str, list[dict[str, Any]]]]:
        """Each job's views: view name → rows (column → text or ``None``), ordered by ``_ROW`` (as
        :func:`toolkit.views.build_views` orders them)."""
        out: list[dict[str, list[dict[str, Any]]]] = [{} for _ in jobs]
        if not jobs:
            return out
        batches = [str(i) for i in range(len(jobs))]
        self._load(jobs, batches)
        wanted: dict[str, list[int]] = {}
        for i, job in enumerate(jobs):
            for name in job.views:
                wanted.setdefault(name, []).append(i)
        together = sorted(n for n in wanted if n in self.prepared and self.text[n])
        if len(together) > 1:
            self._fetch_together(together, wanted, out)
        for name, who in wanted.items():
            if name in together and len(together) > 1:
                continue
            for i in who:
                out[i][name] = []
            if name in self.per_business:
                for i in who:
                    self.con.execute("SET VARIABLE as_of = CAST(? AS TIMESTAMP)", [jobs[i].as_of])
                    cols, rows = self._fetch(name, f" WHERE {BATCH_COLUMN} = ?", [batches[i]])
                    self._split(name, cols, rows, out)
                continue
            cols, rows = self._fetch(name)
            self._split(name, cols, rows, out, set(who))
        for views in out:
            for rows in views.values():
                rows.sort(key=_row_order)
        return out

    def _fetch_together(
        self, names: list[str], wanted: dict[str, list[int]], out: list[dict[str, list[dict[str, Any]]]]
    ) -> None:
        """The rows of several all-text views in one prepared query (one execution instead of one per
        view: the fixed cost of a query is most of a pass), each row as a JSON object of its columns."""
        key = tuple(names)
        stmt = self._together.get(key)
        if stmt is None:
            stmt = f"dq_views_{len(self._together)}"
            parts = [
                f"SELECT {i} AS dq_view, CAST(to_json(t) AS VARCHAR) AS dq_row FROM {ident(n)} t"
                for i, n in enumerate(names)
            ]
            self.con.execute(f"PREPARE {stmt} AS {' UNION ALL '.join(parts)}")
            self._together[key] = stmt
        for name in names:
            for i in wanted[name]:
                out[i][name] = []
        for view, text in self.con.execute(f"EXECUTE {stmt}").fetchall():
            name = names[view]
            row = json.loads(text)
            batch = row.pop(BATCH_COLUMN, None)
            i = int(batch) if batch is not None else None
            if i is not None and i in wanted[name]:
                out[i][name].append(row)

    def _split(
        self,
        name: str,
        cols: list[str],
        rows: list[tuple],
        out: list[dict[str, list[dict[str, Any]]]],
        who: set[int] | None = None,
    ) -> None:
        b = cols.index(BATCH_COLUMN) if BATCH_COLUMN in cols else None
        keep = [c for c in cols if c != BATCH_COLUMN]
        for r in rows:
            i = int(r[b]) if b is not None and r[b] is not None else None
            if i is None or (who is not None and i not in who):
                continue
            out[i][name].append({c: v for c, v in zip(cols, r, strict=True) if c in keep})
