"""The pack's prepared views (DuckDB SQL, :mod:`toolkit.views`) over the rows of many businesses at once.

Views join and group *within* a batch (``_BATCH``) and read each batch's as-of from ``dq_as_of`` — the
rule that lets the count engine run them over many batches in one pass. Here every business is its own
batch, so the businesses waiting for a verdict are put into DuckDB together and each view is run **once**
for all of them: DuckDB's cost per query (planning, hash tables) hardly depends on a few rows more, so under
load the cost per business falls as more wait (see :class:`toolkit.serve.standards.Evaluator`).

One :class:`ViewRunner` owns one in-memory DuckDB connection (not shared between threads). Tables are
created once with every dictionary field (absent fields and tables read as empty, as in
:func:`toolkit.views.connect`), the views once over them, and the connection is locked by
:func:`toolkit.views.sandbox` before anything runs. A view that reads the single-batch variable
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

from toolkit.domain import Domain
from toolkit.loading import ROW_COLUMN
from toolkit.views import AS_OF_TABLE, BATCH_COLUMN, MACROS, sandbox

__all__ = ["ViewJob", "ViewRunner"]

#: Parameters per INSERT statement (DuckDB binds them one by one; chunks keep statements small).
_PARAMS_PER_INSERT = 20_000
#: Above this many values, rows go to DuckDB as Arrow arrays rather than as bound parameters.
_VALUES_MAX = 200


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


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
        con.execute(f"CREATE TABLE {AS_OF_TABLE} ({BATCH_COLUMN} VARCHAR, AS_OF TIMESTAMP)")
        for code, fields in self.fields.items():
            defs = ", ".join(f"{_ident(c)} VARCHAR" for c in [BATCH_COLUMN, *fields, ROW_COLUMN])
            con.execute(f"CREATE TABLE {_ident(code)} ({defs})")
        self.per_business: set[str] = set()
        self.columns: dict[str, list[str]] = {}
        self.text: dict[str, bool] = {}
        for name in domain.views:
            sql = domain.views_sql[name]
            con.execute(f"CREATE VIEW {_ident(name)} AS {sql}")
            if "getvariable" in sql.lower():
                self.per_business.add(name)
            described = con.execute(f"DESCRIBE SELECT * FROM {_ident(name)}").fetchall()
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
                con.execute(f"PREPARE {self.prepared[name]} AS SELECT * FROM {_ident(name)}")
        self._together: dict[tuple[str, ...], str] = {}  # prepared reads of several views at once
        sandbox(con)
        self.con = con
        self._filled: set[str] = set()

    def close(self) -> None:
        self.con.close()

    # ------------------------------------------------------------------------------------------ load
    def _load(self, jobs: Sequence[ViewJob], batches: Sequence[str]) -> None:
        con = self.con
        for code, fields in self.fields.items():
            wanted = any(job.tables.get(code) for job in jobs)
            if code in self._filled:  # only tables that hold rows are emptied and refilled
                con.execute(f"DELETE FROM {_ident(code)}")
                self._filled.discard(code)
            if not wanted:
                continue
            self._filled.add(code)
            width = len(fields) + 2
            params: list[Any] = []
            n = 0
            for job, batch in zip(jobs, batches, strict=True):
                for row in job.tables.get(code, ()):
                    params.append(batch)
                    params.extend(row.get(f) for f in fields)
                    params.append(row[ROW_COLUMN])
                    n += 1
                    if len(params) >= _PARAMS_PER_INSERT:
                        self._insert(code, width, n, params)
                        params, n = [], 0
            if n:
                self._insert(code, width, n, params)
        con.execute(f"DELETE FROM {AS_OF_TABLE}")
        values = ", ".join(["(?, CAST(? AS TIMESTAMP))"] * len(jobs))
        params = [v for job, b in zip(jobs, batches, strict=True) for v in (b, job.as_of)]
        con.execute(f"INSERT INTO {AS_OF_TABLE} VALUES {values}", params)

    def _insert(self, code: str, width: int, n: int, params: list[Any]) -> None:
        if n * width <= _VALUES_MAX:  # a few rows: one INSERT … VALUES with parameters
            one = "(" + ", ".join("?" * width) + ")"
            self.con.execute(f"INSERT INTO {_ident(code)} VALUES {', '.join([one] * n)}", params)
            return
        # more rows (a batch call, or many businesses in one pass): binding each value costs more than
        # handing DuckDB the columns as Arrow arrays (all text, as the loader reads them)
        import pyarrow as pa

        columns = {f"c{j}": pa.array(params[j::width], pa.string()) for j in range(width)}
        self.con.register("dq_rows_in", pa.table(columns))
        try:
            self.con.execute(f"INSERT INTO {_ident(code)} SELECT * FROM dq_rows_in")
        finally:
            self.con.unregister("dq_rows_in")

    # ------------------------------------------------------------------------------------------ run
    def _fetch(self, name: str, where: str = "", params: Sequence[Any] = ()) -> tuple[list[str], list[tuple]]:
        sql = f"EXECUTE {self.prepared[name]}" if not where and name in self.prepared else ""
        sql = sql or f"SELECT * FROM {_ident(name)}{where}"
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
                f"SELECT {i} AS dq_view, CAST(to_json(t) AS VARCHAR) AS dq_row FROM {_ident(n)} t"
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
