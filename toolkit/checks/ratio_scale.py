"""Ratio scale: a ratio written as a fraction (``0.12``), not as a percentage (``12``).

Check ``expect_column_values_to_be_fraction_not_percent`` (keyword ``max_value``, default 1): a value is
*unexpected* only when it is plain decimal text (:func:`~toolkit.checks.decimal_in_range.parse_decimal`)
greater than ``max_value`` — the typical slip of typing ``12`` for 12 %. Text that is not a number is left
to the format rules, and a fraction outside the allowed range to the range rules, so one slip is counted
once.
"""

from __future__ import annotations

from decimal import Decimal

from toolkit.checks.base import Check, Example, Param
from toolkit.checks.decimal_in_range import (
    DECIMAL_PATTERN,
    parse_decimal,
    sql_decimal_check,
)
from toolkit.checks.decimal_in_range import MACROS as DECIMAL_MACROS
from toolkit.checks.decimal_in_range import _decimal_bound as decimal_bound
from toolkit.checks.sql import CompiledRule, RuleSql, literal, nn

__all__ = ["CHECK", "TYPE", "is_fraction_scale"]

TYPE = "expect_column_values_to_be_fraction_not_percent"


def is_fraction_scale(value: str, max_value: float | int | str = 1) -> bool:
    """False only if ``value`` is plain decimal text greater than ``max_value``."""
    number = parse_decimal(value)
    if number is None:
        return True
    bound = Decimal(str(max_value)) if isinstance(max_value, float) else Decimal(max_value)
    return number <= bound


def build_sql(r: RuleSql) -> CompiledRule:
    c, v = r.single()
    high = decimal_bound(r.get("max_value"), "max_value")
    within = sql_decimal_check(v, None, high, False, False)
    bad = f"regexp_full_match({v}, {literal(DECIMAL_PATTERN)}) AND NOT ({within})"
    return r.done([c], nn(v, bad))


def predicate(max_value: float | int = 1):
    return lambda v: is_fraction_scale(v, max_value)


_SAMPLES = (
    "0.12",
    "0.05",
    "1",
    "1.00",
    "1.0000000000000000000000001",
    "12",
    "12.00",
    "5",
    "-3",
    "abc",
    "12%",
    "0.12 ",
    "9" * 40,
    "００.12",
)

CHECK = Check(
    type=TYPE,
    params=(Param("max_value", 1, float | int),),
    sql=build_sql,
    macros=(DECIMAL_MACROS,),
    predicate=predicate,
    metric="column_values.dq_fraction_not_percent",
    doc="A ratio written as a fraction: plain decimal text is at most ``max_value`` (``12`` for 12 % is not).",
    tags=("numeric",),
    examples=(Example(_SAMPLES), Example(_SAMPLES, {"max_value": 0.1})),
)
