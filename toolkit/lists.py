"""Lists a unit acts on, declared by the pack (``lists:`` in ``domain.yaml``) and written by ``dq check``.

A list is the rows of one prepared view (``views/<view>.sql``) where a row condition holds, with chosen
columns under Chinese headers, e.g. the housing provident fund's 睡眠账户清单 (dormant accounts) and
一人多户清单 (one person, several active accounts)::

    lists:
      multi_account:
        label_zh: 一人多户清单
        view: grxx_links            # a prepared view of the pack
        where: MULTI == "1"         # a row condition (toolkit.conditions grammar)
        group: ZJHM                 # optional: rows of one person share a stable hash (group_key)
        columns: {GRZH: 个人账号, ZJHM: 证件号码, …}   # view column -> header

Each list is computed from the batch with DuckDB SQL (the pack's view SQL in the sandbox of
:mod:`toolkit.views`, the condition compiled by :func:`toolkit.sqlcompile.compile_condition`), independent
of the frames Great Expectations validated, and written as ``<name>.csv`` and ``<name>.xlsx`` through
:mod:`toolkit.sheets`. Every cell goes through the run's :class:`~toolkit.masking.Masker` (names, ID and
mobile numbers masked). ``group_key`` is ``HMAC-SHA256(key, pack name + value)`` cut to 16 hex digits:
the same person has the same key in every run and every list, so staff can merge the accounts, while the
ID number itself is not shown. The key is ``DQ_GROUP_KEY`` from the environment when set (recommended:
without it the default key is public, so the hash is a pseudonym, not a secret — an 18-digit ID number
can be found from it by trying every plausible number).

Every list file starts with ``unit_code``, ``unit_name`` and ``record_key`` (the view's first table's
record key), then ``group_key`` for grouped lists, then the declared columns; rows are ordered by unit,
group and record key. A declared list whose view could not be built (its tables are absent) is written
empty, so that an old list never passes for this run's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.domain import Domain
from toolkit.errors import ConfigError
from toolkit.loading import ROW_COLUMN, Batch, load_batch
from toolkit.masking import Masker
from toolkit.sheets import frames_to_xlsx, write_csv
from toolkit.sqlcompile import compile_condition
from toolkit.views import BATCH_COLUMN, connect, sandbox

__all__ = ["ListSpec", "compute_lists", "group_key", "list_specs", "write_lists"]

_DEFAULT_KEY = b"dq-toolkit group key (public default; set DQ_GROUP_KEY)"
_LEAD = ("unit_code", "unit_name", "record_key")


@dataclass(frozen=True)
class ListSpec:
    name: str
    label_zh: str
    view: str
    where: str
    columns: dict[str, str]
    group: str | None


def _bad(name: str, zh: str, en: str) -> ConfigError:
    return ConfigError(
        f"domain.yaml 的 lists.{name} 写法有误：{zh}",
        f"bad lists.{name} in domain.yaml: {en}",
        fix_zh="例如 lists: {dormant: {label_zh: 清单, view: 视图名, where: 'X == \"1\"', columns: {A: 标题}}}",
        fix_en="e.g. lists: {dormant: {label_zh: …, view: VIEW, where: 'X == \"1\"', columns: {A: header}}}",
    )


def list_specs(dom: Domain) -> list[ListSpec]:
    """The pack's declared lists, checked (unknown view, bad condition or columns: ConfigError)."""
    raw = dom.config.get("lists") or {}
    if not isinstance(raw, dict):
        raise _bad("*", "应为 名称: 定义 的映射", "must map names to definitions")
    out = []
    for name, spec in raw.items():
        name = str(name)
        if not name.replace("_", "").isalnum() or not name.isascii() or not isinstance(spec, dict):
            raise _bad(name, "名称只能是字母、数字和下划线", "names are letters, digits and _")
        extra = set(spec) - {"label_zh", "label_en", "view", "where", "columns", "group"}
        if extra:
            raise _bad(name, f"未知的键 {sorted(map(str, extra))}", f"unknown keys {sorted(map(str, extra))}")
        view = str(spec.get("view", ""))
        if view not in dom.views:
            raise _bad(name, f"没有视图 {view}", f"no view {view!r}")
        cols = spec.get("columns")
        if not isinstance(cols, dict) or not cols:
            raise _bad(name, "columns 应为 字段: 标题 的映射", "columns must map fields to headers")
        where = str(spec.get("where", ""))
        if not where:
            raise _bad(name, "缺少 where 条件", "where is missing")
        compile_condition(where)  # ConfigError when outside the grammar
        group = spec.get("group")
        if group is not None and str(group) not in cols:
            raise _bad(name, f"group 字段 {group} 不在 columns 中", f"group field {group} is not a column")
        out.append(
            ListSpec(
                name=name,
                label_zh=str(spec.get("label_zh", name)),
                view=view,
                where=where,
                columns={str(k): str(v) for k, v in cols.items()},
                group=str(group) if group is not None else None,
            )
        )
    return out


def group_key(domain_name: str, value: Any) -> str:
    """The stable pseudonym of ``value`` (an ID number) in grouped lists; empty for a missing value."""
    if value is None or (isinstance(value, float) and value != value) or str(value) == "":
        return ""
    key = os.environ.get("DQ_GROUP_KEY", "").encode() or _DEFAULT_KEY
    msg = f"{domain_name}\x1f{value}".encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()[:16]


def _view_table(dom: Domain, spec: ListSpec) -> str:
    tables = dom.views[spec.view].get("tables") or []
    return str(tables[0]) if tables else ""


def compute_lists(
    dom: Domain, batch: Batch, as_of: dt.datetime | None, specs: list[ListSpec] | None = None
) -> dict[str, pd.DataFrame]:
    """Each declared list's rows, *unmasked*: ``unit_code``, ``record_key``, the grouped column's value
    in ``_group`` and the declared columns (view names). A list whose view's tables are absent is empty."""
    specs = list_specs(dom) if specs is None else specs
    if not specs:
        return {}
    con = connect(dom, batch, as_of)
    sandbox(con)
    out: dict[str, pd.DataFrame] = {}
    try:
        for spec in specs:
            table = _view_table(dom, spec)
            key = dom.record_key(table) if table else []
            unit_col = dom.unit.column_of(table) if table else ""
            wanted = list(dict.fromkeys([*spec.columns, *key, *([unit_col] if unit_col else [])]))
            cols = ["unit_code", "record_key", "_group", *spec.columns]
            ready = all(t in batch.tables for t in dom.views[spec.view].get("tables", []))
            if not ready:
                out[spec.name] = pd.DataFrame(columns=cols, dtype=object)
                continue
            sql = dom.views_sql[spec.view]
            have = [c for c in con.execute(f"SELECT * FROM ({sql}) LIMIT 0").df().columns]
            missing = [c for c in wanted if c not in have]
            if missing:
                raise _bad(spec.name, f"视图 {spec.view} 没有列 {missing}", f"view has no columns {missing}")
            select = ", ".join(f'"{c}"' for c in wanted)
            df = con.execute(
                f"SELECT {select} FROM ({sql}) AS v WHERE {compile_condition(spec.where)} "
                f"ORDER BY CAST({ROW_COLUMN} AS BIGINT)"
                if ROW_COLUMN in have
                else f"SELECT {select} FROM ({sql}) AS v WHERE {compile_condition(spec.where)}"
            ).df()
            df = df.drop(columns=[BATCH_COLUMN], errors="ignore").astype(object)
            df = df.where(df.notna(), None)
            frame = pd.DataFrame(
                {
                    "unit_code": df[unit_col] if unit_col else "",
                    "record_key": [
                        "|".join("" if v is None else str(v) for v in vals)
                        for vals in zip(*(df[k] for k in key), strict=True)
                    ]
                    if key
                    else "",
                    "_group": df[spec.group] if spec.group else None,
                    **{c: df[c] for c in spec.columns},
                },
                index=df.index,
            )
            frame["unit_code"] = frame["unit_code"].fillna("")
            order = ["unit_code", "_group", "record_key"] if spec.group else ["unit_code", "record_key"]
            out[spec.name] = frame.sort_values(order, kind="stable", na_position="last").reset_index(
                drop=True
            )
    finally:
        con.close()
    return out


def _masked(dom: Domain, spec: ListSpec, frame: pd.DataFrame, masker: Masker) -> pd.DataFrame:
    names = {c: dom.unit.name_of(c) if c else "" for c in frame["unit_code"].unique()}
    out = pd.DataFrame(
        {
            "unit_code": frame["unit_code"].map(masker.text),
            "unit_name": frame["unit_code"].map(names),
            "record_key": frame["record_key"].map(lambda v: masker.value("", v)),
        }
    )
    if spec.group:
        out["group_key"] = [group_key(dom.name, v) for v in frame["_group"]]
    for col, header in spec.columns.items():
        out[header] = [masker.value(col, v) for v in frame[col]]
    return out


def write_lists(
    result: Any,
    out_dir: Path,
    *,
    batch: Batch | None = None,
) -> dict[str, Path]:
    """Write the pack's lists of a check run (``result``: a :class:`~toolkit.check.CheckResult` — its
    domain, batch folder, as-of and masker) into ``out_dir``; returns ``{"<name>": csv, "<name>_xlsx":
    xlsx}``. The batch is read again from its folder unless ``batch`` (or the result's) is given."""
    dom: Domain = result.domain
    specs = list_specs(dom)
    if not specs:
        return {}
    batch = batch if batch is not None else getattr(result, "batch", None)
    if batch is None:
        folder = getattr(result, "batch_dir", None)
        tables = dom.mode_tables(result.mode)
        required = dom.required_columns()
        batch = load_batch(folder, {t: required[t] for t in tables}, core=dom.core_tables(result.mode))
    masker: Masker = getattr(result, "masker", None) or Masker.for_frames(
        dom.pii_fields(), [t.frame for t in batch.tables.values()], dom.key_fields()
    )
    raw = compute_lists(dom, batch, result.as_of, specs)
    paths: dict[str, Path] = {}
    for spec in specs:
        frame = _masked(dom, spec, raw[spec.name], masker)
        paths[spec.name] = write_csv(frame, out_dir / f"{spec.name}.csv")
        paths[f"{spec.name}_xlsx"] = frames_to_xlsx(
            {spec.label_zh[:31]: frame}, out_dir / f"{spec.name}.xlsx"
        )
    return paths
