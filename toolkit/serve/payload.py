"""A self-check request's business, read as ``dq check`` reads a batch (see :mod:`toolkit.loading`).

A business is ``{"stage": …, "tables": {TABLE: [ {FIELD: "text" | null, …}, … ], …}, "as_of": …}``. The
structure (types) is checked by the API's schema; here the content is checked against the pack and
normalised exactly as the loader normalises a file:

* a table must be one of the check mode's tables, a field one of its table's fields (exact codes);
* a value is text or ``null``; empty text and whitespace-only text (``str.isspace``: tabs, U+00A0,
  U+3000) are empty (``None``); any other text is kept exactly, surrounding spaces included;
* a row whose every value is empty is refused (a file's blank row is skipped by the loader, a request
  has no reason to send one), and so is a value holding a NUL character (the loader refuses such a file);
* the columns of a table are the fields every export must have (``header`` fields of the dictionary) plus
  the optional fields some row names: a key left out of a row is an empty cell; an optional field no row
  names is a column the "file" does not have (rules that need it are *not evaluated*, as in ``dq check``);
* a row's number (``row`` in the answer) is its position in the table's list, starting at 1.

Every refusal is a :class:`~toolkit.errors.ServeError` (HTTP 4xx) naming the place in the request, in
Chinese and English; values quoted in a message are masked (they may be personal data).
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from toolkit import validators
from toolkit.errors import ServeError
from toolkit.masking import scrub_text
from toolkit.text import printable

__all__ = ["STAGES", "Business", "Limits", "parse_business", "row_number"]

#: The stages a registration system calls at (contract: before 登簿 and before 汇交).
STAGES = {"dengbu": "登簿前", "huijiao": "汇交前"}


@dataclass(frozen=True)
class Limits:
    """Bounds of one call: body bytes, businesses per batch call, rows per table and per business."""

    max_body: int = 2 * 1024 * 1024
    max_items: int = 100
    max_rows_per_table: int = 1000
    max_rows: int = 5000


@dataclass
class Business:
    """One business as the standards see it (see the module docstring)."""

    stage: str
    tables: dict[str, list[dict[str, str | None]]]
    columns: dict[str, list[str]]
    as_of: dt.datetime | None = None
    item: int | None = None
    """Position in a batch call (``None`` for a single check)."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(len(r) for r in self.tables.values())


def row_number(index: int) -> str:
    """The ``_ROW`` text of the row at ``index`` (0-based) of a table's list: its 1-based position."""
    return str(index + 1)


def _shown(value: Any, limit: int = 40) -> str:
    text = printable(str(scrub_text(str(value))))
    return text if len(text) <= limit else text[:limit] + "…"


def _where(item: int | None, *parts: str) -> str:
    head = f"items[{item}]." if item is not None else ""
    return head + "".join(parts)


def _bad(
    status: int, code: str, zh: str, en: str, where: str, fix_zh: str = "", fix_en: str = ""
) -> ServeError:
    return ServeError(status, code, zh, en, where=where, fix_zh=fix_zh, fix_en=fix_en)


def _is_unicode_text(value: str) -> bool:
    """Whether ``value`` is encodable as UTF-8 (JSON's ``\\ud800`` escapes decode to lone surrogates, which
    are not: they would fail every business checked in the same DuckDB pass)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_business(
    raw: Mapping[str, Any],
    *,
    tables: Mapping[str, Mapping[str, Any]],
    limits: Limits,
    item: int | None = None,
) -> Business:
    """Check and normalise one business (``raw``: the validated JSON object). ``tables``: the check mode's
    tables, code → dictionary entry (``fields``)."""
    stage = raw.get("stage")
    if stage not in STAGES:
        raise _bad(
            422,
            "bad_stage",
            f"stage 只能是 {' 或 '.join(STAGES)}。",
            f"stage must be one of {', '.join(STAGES)}.",
            _where(item, "stage"),
            "dengbu：登簿前自检；huijiao：汇交报文前自检。",
            "dengbu: before recording; huijiao: before the message is submitted.",
        )
    given = raw.get("tables")
    if not isinstance(given, Mapping) or not given:
        raise _bad(
            422,
            "no_tables",
            "tables 为空：请至少给出一张表的数据。",
            "tables is empty: send the rows of at least one table.",
            _where(item, "tables"),
            'tables 写成 {"表代码": [{"字段代码": "值", …}, …]}。',
            'write tables as {"TABLE": [{"FIELD": "value", …}, …]}.',
        )
    out: dict[str, list[dict[str, str | None]]] = {}
    columns: dict[str, list[str]] = {}
    total = 0
    for code, rows in given.items():
        where_t = _where(item, f"tables.{printable(str(code))}")
        if code not in tables:
            near = difflib.get_close_matches(str(code).upper(), list(tables), n=1, cutoff=0.6)
            hint = f"（是不是 {near[0]}？）" if near else ""
            raise _bad(
                422,
                "unknown_table",
                f"未知的表 {_shown(code)}{hint}。",
                f"unknown table {_shown(code)}" + (f" (did you mean {near[0]}?)" if near else "") + ".",
                where_t,
                f"可用的表：{', '.join(tables)}",
                f"known tables: {', '.join(tables)}",
            )
        if not isinstance(rows, list):
            raise _bad(422, "bad_type", "表的数据应为行的列表。", "a table's rows must be a list.", where_t)
        if len(rows) > limits.max_rows_per_table:
            raise _bad(
                413,
                "too_many_rows",
                f"表 {code} 有 {len(rows)} 行，超过每张表 {limits.max_rows_per_table} 行的上限。",
                f"table {code} has {len(rows)} rows, more than the limit of {limits.max_rows_per_table}.",
                where_t,
                "一次只检查一件业务的数据。",
                "send the rows of one business per check.",
            )
        total += len(rows)
        if total > limits.max_rows:
            raise _bad(
                413,
                "too_many_rows",
                f"这件业务共有超过 {limits.max_rows} 行数据，超过上限。",
                f"the business has more than {limits.max_rows} rows, over the limit.",
                _where(item, "tables"),
                "一次只检查一件业务的数据。",
                "send the rows of one business per check.",
            )
        spec = tables[code]["fields"]
        header = [f for f, s in spec.items() if s.get("header", True)]
        seen: set[str] = set()
        norm_rows: list[dict[str, str | None]] = []
        for i, row in enumerate(rows):
            where_r = f"{where_t}[{i}]"
            if not isinstance(row, Mapping):
                raise _bad(
                    422, "bad_type", "每一行应为 JSON 对象。", "each row must be a JSON object.", where_r
                )
            rec: dict[str, str | None] = {}
            for key, value in row.items():
                if key not in spec:
                    upper = str(key).strip().upper()
                    near = (
                        [upper]
                        if upper in spec
                        else difflib.get_close_matches(upper, list(spec), n=1, cutoff=0.7)
                    )
                    hint_zh = f"（是不是 {near[0]}？）" if near else ""
                    hint_en = f" (did you mean {near[0]}?)" if near else ""
                    raise _bad(
                        422,
                        "unknown_field",
                        f"表 {code} 第 {i + 1} 行：未知的字段 {_shown(key)}{hint_zh}。",
                        f"table {code}, row {i + 1}: unknown field {_shown(key)}{hint_en}.",
                        f"{where_r}.{printable(str(key))}",
                        f"字段代码区分大小写；{code} 的字段：{', '.join(spec)}",
                        f"field codes are case-sensitive; fields of {code}: {', '.join(spec)}",
                    )
                if value is not None and not isinstance(value, str):
                    raise _bad(
                        422,
                        "bad_type",
                        f"表 {code} 第 {i + 1} 行字段 {key} 的值必须是文本（字符串）或 null。",
                        f"table {code}, row {i + 1}, field {key}: the value must be text (a string) or null.",
                        f"{where_r}.{key}",
                        '数字、日期也按文件中的样子写成文本，如 "89.50"、"2024-03-05 09:00:00"。',
                        'write numbers and dates as text, as in the files: "89.50", "2024-03-05 09:00:00".',
                    )
                if isinstance(value, str) and "\x00" in value:
                    raise _bad(
                        422,
                        "bad_value",
                        f"表 {code} 第 {i + 1} 行字段 {key} 的值含有 NUL 字符。",
                        f"table {code}, row {i + 1}, field {key}: the value holds a NUL character.",
                        f"{where_r}.{key}",
                        "请删除值中的 \\u0000。",
                        "remove the \\u0000 from the value.",
                    )
                if isinstance(value, str) and not _is_unicode_text(value):
                    raise _bad(
                        422,
                        "bad_value",
                        f"表 {code} 第 {i + 1} 行字段 {key} 的值含有无效的 Unicode 字符（单独的代理码 \\ud800–\\udfff）。",
                        f"table {code}, row {i + 1}, field {key}: the value holds an invalid Unicode character "
                        "(a lone surrogate \\ud800–\\udfff).",
                        f"{where_r}.{key}",
                        "按 UTF-8 发送文本；检查生成 JSON 的程序是否把一个汉字或表情符号截断成了两半。",
                        "send the text as UTF-8; check that the program writing the JSON does not cut a character in half.",
                    )
                rec[key] = value if value and not value.isspace() else None
                seen.add(key)
            if not any(v is not None for v in rec.values()):
                raise _bad(
                    422,
                    "empty_row",
                    f"表 {code} 第 {i + 1} 行全部为空。",
                    f"table {code}, row {i + 1} is empty.",
                    where_r,
                    "删除空行。",
                    "remove the empty row.",
                )
            norm_rows.append(rec)
        cols = [*header, *[f for f in spec if f not in header and f in seen]]
        out[code] = [{c: r.get(c) for c in cols} for r in norm_rows]
        columns[code] = cols
    if total == 0:
        raise _bad(
            422,
            "no_rows",
            "这件业务没有任何一行数据，无法检查。",
            "the business holds no row at all: nothing to check.",
            _where(item, "tables"),
            "至少给出业务主表的一行。",
            "send at least the business's main row.",
        )
    as_of = None
    raw_as_of = raw.get("as_of")
    if raw_as_of is not None:
        as_of = validators.parse_datetime(raw_as_of) if isinstance(raw_as_of, str) else None
        lo, hi = validators.plausible_years()
        if as_of is None or not lo <= as_of.year <= hi:
            raise _bad(
                422,
                "bad_as_of",
                f"as_of 不是有效时间（应为 YYYY-MM-DD HH:MM:SS，年份在 {lo}–{hi} 之间）。",
                f"as_of is not a valid time (YYYY-MM-DD HH:MM:SS, a year in {lo}–{hi}).",
                _where(item, "as_of"),
                "不填时按业务数据中最晚的时间计算（与 dq check 相同）。",
                "leave it out to use the latest time in the business's rows (as dq check does).",
            )
    return Business(stage=str(stage), tables=out, columns=columns, as_of=as_of, item=item)
