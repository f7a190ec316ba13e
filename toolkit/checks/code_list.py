"""Code values written as text, possibly several in one cell, possibly ``其他-<名称>``: every part of the
value is one of ``value_set`` or — when ``other_prefix`` is given — the prefix followed by a name.

Check ``expect_column_values_to_be_in_code_list`` (keywords ``value_set``, ``separators``, ``other_prefix``).
``separators`` are the characters that separate several codes in one cell (e.g. ``;；`` for 处罚类别
``警告;罚款``; empty: one code per cell). A name after ``other_prefix`` must not be empty and must not
begin or end with white space (``str.isspace``); it cannot contain a separator (that starts the next
part). An empty part (``罚款;``, ``;;``) is not a code. Nothing is trimmed or case-folded: ``罚款; 警告``
(with a space) is a failure, as the platform sees it.
"""

from __future__ import annotations

from collections.abc import Sequence

from toolkit.checks.base import Check, Example, Param
from toolkit.checks.charclass import class_body, isspace_class, ranges
from toolkit.checks.sql import CompiledRule, RuleSql, literal, nn
from toolkit.errors import NotCompilable

__all__ = ["CHECK", "TYPE", "code_parts", "in_code_list"]

TYPE = "expect_column_values_to_be_in_code_list"


def code_parts(value: str, separators: str = "") -> list[str]:
    """The parts of ``value`` between separator characters (empty parts kept)."""
    if not separators:
        return [value]
    parts, current = [], []
    for ch in value:
        if ch in separators:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _other_ok(part: str, prefix: str) -> bool:
    name = part[len(prefix) :]
    return part.startswith(prefix) and bool(name) and not name[0].isspace() and not name[-1].isspace()


def in_code_list(
    value: str, value_set: Sequence[str], separators: str = "", other_prefix: str | None = None
) -> bool:
    """True if every part of ``value`` (see :func:`code_parts`) is in ``value_set`` or is
    ``other_prefix`` + a name."""
    codes = set(value_set)
    return all(
        p in codes or (bool(other_prefix) and _other_ok(p, other_prefix))
        for p in code_parts(value, separators)
    )


# ------------------------------------------------------------------------------------------------ SQL


def _re2_literal(text: str) -> str:
    """RE2 source matching ``text`` literally (every character as ``\\x{…}``)."""
    return "".join(f"\\x{{{ord(c):X}}}" for c in text)


def _pattern(values: Sequence[str], separators: str, prefix: str | None) -> str:
    """RE2 pattern whose full match is :func:`in_code_list`."""
    sep = class_body(ranges(map(ord, separators))) if separators else ""
    items = [_re2_literal(v) for v in sorted(set(values), key=lambda v: (-len(v), v))]
    if prefix:
        ws = isspace_class()
        edge = f"[^{sep}{ws}]"
        inner = f"[^{sep}]" if sep else "(?s:.)"
        items.append(f"{_re2_literal(prefix)}{edge}(?:{inner}*{edge})?")
    if not items:
        return ""
    item = f"(?:{'|'.join(items)})"
    return f"{item}(?:[{sep}]{item})*" if sep else item


def build_sql(r: RuleSql) -> CompiledRule:
    c, v = r.single()
    values = r.text_list("value_set")
    separators = r.get("separators") or ""
    prefix = r.get("other_prefix")
    if not isinstance(separators, str) or (prefix is not None and not isinstance(prefix, str)):
        raise NotCompilable("separators and other_prefix must be text")
    if any(ch in v_ for v_ in [*values, prefix or ""] for ch in separators):
        raise NotCompilable("a code contains a separator")
    pattern = _pattern(values, separators, prefix or None)
    if not pattern:
        return r.done([c], f"{v} IS NOT NULL")
    return r.done([c], nn(v, f"NOT regexp_full_match({v}, {literal(pattern)})"))


def predicate(value_set=(), separators: str = "", other_prefix: str | None = None):
    values = tuple(value_set or ())
    return lambda v: in_code_list(v, values, separators or "", other_prefix or None)


_CFLB = ["警告", "通报批评", "罚款", "没收违法所得", "没收非法财物", "吊销许可证件", "行政拘留"]
_SAMPLES = (
    "罚款",
    "警告;罚款",
    "警告；罚款",
    "警告;;罚款",
    "罚款;",
    ";",
    "罚款; 警告",
    "罚款 ",
    "其他-责令改正",
    "其他-",
    "其他- 责令改正",
    "其他-责令改正\u3000",
    "罚款;其他-责令改正;警告",
    "其他",
    "其它-责令改正",
    "其他-责令;改正",
    "罚款罚款",
    "普通",
    "\u7f5a\u6b3e\u200b",
)

CHECK = Check(
    type=TYPE,
    params=(
        Param("value_set", None, list | None),
        Param("separators", "", str),
        Param("other_prefix", None, str | None),
    ),
    sql=build_sql,
    predicate=predicate,
    metric="column_values.dq_in_code_list",
    doc="Every part of the value (split at ``separators``) is one of ``value_set`` or ``other_prefix`` + a name.",
    tags=("code", "china"),
    examples=(
        Example(_SAMPLES, {"value_set": _CFLB, "separators": ";；", "other_prefix": "其他-"}),
        Example(_SAMPLES, {"value_set": ["普通", "特许", "认可", "核准", "登记"], "other_prefix": "其他-"}),
        Example(_SAMPLES, {"value_set": _CFLB, "separators": ";；"}),
        Example(_SAMPLES, {"value_set": ["罚款"]}),
    ),
)
