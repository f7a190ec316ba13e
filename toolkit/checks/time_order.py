"""Time order of a column pair: column_A is not later than column_B (strictly earlier if ``or_equal`` is
false).

Check ``expect_column_pair_values_to_be_in_time_order``. A row where either value is missing or is not
readable date-time text (:func:`~toolkit.checks.datetime_text.parse_datetime`) is skipped: the datetime
rules report those, so one bad value is counted once. A date-only value means 00:00:00.
"""

from __future__ import annotations

from toolkit.checks.base import Check, Example, Param
from toolkit.checks.datetime_text import MACROS as DATETIME_MACROS
from toolkit.checks.datetime_text import parse_datetime, sql_datetime_key, sql_datetime_ok
from toolkit.checks.sql import CompiledRule, RuleSql, let, pair_case

__all__ = ["CHECK", "TYPE", "is_in_time_order"]

TYPE = "expect_column_pair_values_to_be_in_time_order"


def is_in_time_order(first: str, second: str, or_equal: bool = True) -> bool:
    """False only if both are readable and ``first`` is later than ``second`` (or equal, unless
    ``or_equal``)."""
    a, b = parse_datetime(first), parse_datetime(second)
    if a is None or b is None:
        return True
    return a <= b if or_equal else a < b


def build_sql(r: RuleSql) -> CompiledRule:
    ca, cb, a, b = r.pair()
    lets = [let(sql_datetime_ok(a)), let(sql_datetime_ok(b))]
    op = "<=" if r.flag("or_equal") else "<"
    ka, kb = sql_datetime_key(a), sql_datetime_key(b)
    bad = f"CASE WHEN {lets[0][0]} AND {lets[1][0]} THEN NOT ({ka} {op} {kb}) ELSE false END"
    return r.done([ca, cb], pair_case(a, b, bad), lets=lets)


def predicate(or_equal: bool = True):
    return lambda a, b: is_in_time_order(a, b, or_equal)


_PAIRS = (
    ("2024-03-05 09:00:00", "2024-03-05 10:00:00"),
    ("2024-03-05 10:00:00", "2024-03-05 10:00:00"),
    ("2024-03-05 10:00:01", "2024-03-05 10:00:00"),
    ("2024-03-05", "2024-03-05 00:00:00"),
    ("2024-03-06", "2024-03-05 23:59:59"),
    ("2024/03/06 00:00:00", "2024-03-05 00:00:00"),
    ("2024-03-06 00:00:00", "2024-02-30 00:00:00"),
    ("", "2024-03-05"),
)

CHECK = Check(
    type=TYPE,
    params=(Param("or_equal", True, bool),),
    ignore_row_if="either_value_is_missing",
    sql=build_sql,
    macros=(DATETIME_MACROS,),
    predicate=predicate,
    metric="column_pair_values.dq_in_time_order",
    doc="column_A is not later than column_B (strictly earlier when ``or_equal`` is false).",
    tags=("datetime",),
    examples=(Example(_PAIRS), Example(_PAIRS, {"or_equal": False})),
)
