"""Ordered amounts: column_A is not greater than column_B (strictly less when ``or_equal`` is false),
e.g. a loan's amount paid out and its contract amount, or a policy's floor and its cap.

Check ``expect_column_pair_values_to_be_amounts_in_order``. Both values must be amounts
(:data:`~toolkit.checks.amount_match.AMOUNT_PATTERN`); a row where either is not is skipped (the format rules
report it). Compared exactly.
"""

from __future__ import annotations

from toolkit.checks.amount_match import parse_amount, sql_amount
from toolkit.checks.base import Check, Example, Param
from toolkit.checks.sql import CompiledRule, RuleSql, let, pair_case

__all__ = ["CHECK", "TYPE", "amounts_in_order"]

TYPE = "expect_column_pair_values_to_be_amounts_in_order"


def amounts_in_order(first: str, second: str, or_equal: bool = True) -> bool:
    """False only if both are amounts and ``first`` exceeds ``second`` (or equals it, unless ``or_equal``)."""
    a, b = parse_amount(first), parse_amount(second)
    if a is None or b is None:
        return True
    return a <= b if or_equal else a < b


def build_sql(r: RuleSql) -> CompiledRule:
    ca, cb, a, b = r.pair()
    lets = [let(sql_amount(a)), let(sql_amount(b))]
    x, y = lets[0][0], lets[1][0]
    op = "<=" if r.flag("or_equal") else "<"
    bad = f"CASE WHEN {x} IS NOT NULL AND {y} IS NOT NULL THEN NOT ({x} {op} {y}) ELSE false END"
    return r.done([ca, cb], pair_case(a, b, bad), lets=lets)


def predicate(or_equal: bool = True):
    return lambda a, b: amounts_in_order(a, b, or_equal)


_PAIRS = (
    ("300000", "400000"),
    ("400000.00", "400000"),
    ("400000.01", "400000"),
    ("-5", "0"),
    ("0.05", "0.12"),
    ("0.12", "0.05"),
    ("1,000", "2"),
    ("9" * 16, "1"),
    ("abc", "1"),
    ("100", ""),
)

CHECK = Check(
    type=TYPE,
    params=(Param("or_equal", True, bool),),
    ignore_row_if="either_value_is_missing",
    sql=build_sql,
    predicate=predicate,
    metric="column_pair_values.dq_amounts_in_order",
    doc="Amount column_A is not greater than amount column_B (strictly less when ``or_equal`` is false).",
    tags=("numeric", "consistency"),
    examples=(Example(_PAIRS), Example(_PAIRS, {"or_equal": False})),
)
