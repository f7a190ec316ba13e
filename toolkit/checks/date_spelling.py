"""Date text in an accepted spelling: ``YYYY-MM-DD`` or, when ``compact`` (the default), ``YYYYMMDD``,
naming a real calendar date (years 0001–9999).

Check ``expect_column_values_to_be_date_in_spelling`` (keyword ``compact``). Business systems of the
housing provident fund export dates both ways; any other spelling (``2024/03/05``, ``2024-3-5``,
``2024.03.05``, a time part) is a format error. :func:`parse_date_spelling` is the one parser of both
spellings; its SQL twin is :func:`sql_date_spelling` (text of the date as ``YYYY-MM-DD`` or NULL).
"""

from __future__ import annotations

import datetime

from toolkit.checks.base import Check, Example, Param, all_digits
from toolkit.checks.datetime_text import MACROS as DATETIME_MACROS
from toolkit.checks.datetime_text import parse_date
from toolkit.checks.sql import CompiledRule, RuleSql, let, nn

__all__ = ["CHECK", "TYPE", "is_date_spelling", "parse_date_spelling", "sql_date_spelling"]

TYPE = "expect_column_values_to_be_date_in_spelling"


def parse_date_spelling(value: str, compact: bool = True) -> datetime.date | None:
    """The date of ``YYYY-MM-DD`` (or ``YYYYMMDD`` when ``compact``) text, else ``None``. Never raises."""
    if not isinstance(value, str):
        return None
    if compact and len(value) == 8 and all_digits(value):
        value = f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return parse_date(value)


def is_date_spelling(value: str, compact: bool = True) -> bool:
    """True if :func:`parse_date_spelling` accepts ``value``."""
    return parse_date_spelling(value, compact) is not None


def sql_date_spelling(v: str, compact: bool = True) -> str:
    """SQL: the canonical ``YYYY-MM-DD`` text of a valid value (either spelling), else NULL."""
    canon = (
        f"CASE WHEN regexp_full_match({v}, '[0-9]{{8}}') "
        f"THEN substr({v}, 1, 4) || '-' || substr({v}, 5, 2) || '-' || substr({v}, 7, 2) ELSE {v} END"
        if compact
        else v
    )
    return f"CASE WHEN dq_date_ok({canon}) THEN {canon} END"


def build_sql(r: RuleSql) -> CompiledRule:
    c, v = r.single()
    ok = let(f"({sql_date_spelling(v, r.flag('compact'))}) IS NOT NULL")
    return r.done([c], nn(v, f"NOT {ok[0]}"), lets=[ok])


def predicate(compact: bool = True):
    return lambda v: is_date_spelling(v, compact)


_SAMPLES = (
    "2024-03-05",
    "20240305",
    "20240229",
    "20230229",
    "2023-02-29",
    "2024/03/05",
    "2024-3-5",
    "2024.03.05",
    "2024-03-05 00:00:00",
    "202403051",
    "2024035",
    "00000101",
    "00010101",
    "99991231",
    "20241301",
    "20240100",
    "２０２４0305",
    "2024-03-05\n",
)

CHECK = Check(
    type=TYPE,
    params=(Param("compact", True, bool),),
    sql=build_sql,
    macros=(DATETIME_MACROS,),
    predicate=predicate,
    metric="column_values.dq_date_in_spelling",
    doc="A real calendar date written ``YYYY-MM-DD`` or, when ``compact``, ``YYYYMMDD``.",
    tags=("datetime",),
    examples=(Example(_SAMPLES), Example(_SAMPLES, {"compact": False})),
)
