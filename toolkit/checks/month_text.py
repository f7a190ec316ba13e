"""Month text: ``YYYY-MM`` or, when ``compact`` (the default), ``YYYYMM``; month 01–12, year 0001–9999.

Check ``expect_column_values_to_be_month_text`` (keyword ``compact``), for year-month fields such as a
contribution month or a report month. :func:`parse_month` is the one parser; its SQL twin
:func:`sql_month` gives the canonical ``YYYY-MM`` text of a valid value or NULL.
"""

from __future__ import annotations

import re

from toolkit.checks.base import Check, Example, Param
from toolkit.checks.sql import CompiledRule, RuleSql, let, nn

__all__ = ["CHECK", "TYPE", "is_month", "parse_month", "sql_month"]

TYPE = "expect_column_values_to_be_month_text"

_DASHED = re.compile(r"([0-9]{4})-([0-9]{2})")
_COMPACT = re.compile(r"([0-9]{4})([0-9]{2})")


def parse_month(value: str, compact: bool = True) -> tuple[int, int] | None:
    """``(year, month)`` of ``YYYY-MM`` (or ``YYYYMM`` when ``compact``) text, else ``None``."""
    if not isinstance(value, str):
        return None
    m = _DASHED.fullmatch(value) or (_COMPACT.fullmatch(value) if compact else None)
    if m is None:
        return None
    year, month = int(m.group(1)), int(m.group(2))
    return (year, month) if year >= 1 and 1 <= month <= 12 else None


def is_month(value: str, compact: bool = True) -> bool:
    """True if :func:`parse_month` accepts ``value``."""
    return parse_month(value, compact) is not None


def sql_month(v: str, compact: bool = True) -> str:
    """SQL: the canonical ``YYYY-MM`` text of a valid value, else NULL."""
    shapes = "'[0-9]{4}-?[0-9]{2}'" if compact else "'[0-9]{4}-[0-9]{2}'"
    canon = f"substr({v}, 1, 4) || '-' || right({v}, 2)"
    ok = (
        f"regexp_full_match({v}, {shapes}) AND substr({v}, 1, 4) <> '0000' "
        f"AND right({v}, 2) BETWEEN '01' AND '12'"
    )
    return f"CASE WHEN {ok} THEN {canon} END"


def build_sql(r: RuleSql) -> CompiledRule:
    c, v = r.single()
    ok = let(f"({sql_month(v, r.flag('compact'))}) IS NOT NULL")
    return r.done([c], nn(v, f"NOT {ok[0]}"), lets=[ok])


def predicate(compact: bool = True):
    return lambda v: is_month(v, compact)


_SAMPLES = (
    "2024-03",
    "202403",
    "2024-12",
    "202413",
    "2024-00",
    "2024-3",
    "2024/03",
    "24-03",
    "2024-03-01",
    "0000-01",
    "0001-01",
    "9999-12",
    "2024-0３",
    "202403 ",
    "2024-03\n",
)

CHECK = Check(
    type=TYPE,
    params=(Param("compact", True, bool),),
    sql=build_sql,
    predicate=predicate,
    metric="column_values.dq_month_text",
    doc="A month written ``YYYY-MM`` or, when ``compact``, ``YYYYMM`` (month 01–12, year 0001–9999).",
    tags=("datetime",),
    examples=(Example(_SAMPLES), Example(_SAMPLES, {"compact": False})),
)
