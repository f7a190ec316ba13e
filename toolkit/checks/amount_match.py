"""Matching amounts: column_A equals column_B within ``tolerance`` (e.g. a filed monthly contribution and
the one computed from base × ratio, or an account balance and the sum of its parts).

Check ``expect_column_pair_values_to_match_amount`` (keyword ``tolerance``, default 0.01). Both values
must be amounts to be compared; a row where either is not is skipped (the format rules report it), so one
bad value is counted once. ``|A − B| ≤ tolerance`` is exact (decimal arithmetic, no binary rounding).

This module is also the one home of *amounts* (also used by :mod:`toolkit.checks.amount_order`): an
optional ``-``, 1–15 integer digits and optionally ``.`` and 1–6 decimals (:data:`AMOUNT_PATTERN`). An
amount fits ``DECIMAL(21,6)`` exactly, so Python (:class:`~decimal.Decimal`) and DuckDB compare it alike;
text that is not an amount (``1,000``, ``12元``, ``1e3``, 16 digits …) is not compared.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from toolkit.checks.base import Check, Example, Param
from toolkit.checks.sql import CompiledRule, RuleSql, let, literal, pair_case
from toolkit.errors import NotCompilable

__all__ = [
    "AMOUNT_PATTERN",
    "CHECK",
    "DEFAULT_TOLERANCE",
    "TYPE",
    "amounts_match",
    "parse_amount",
    "sql_amount",
    "sql_bound",
]

#: An amount (the same pattern in Python and RE2).
AMOUNT_PATTERN = r"-?[0-9]{1,15}(?:\.[0-9]{1,6})?"
_AMOUNT_RE = re.compile(AMOUNT_PATTERN)


def parse_amount(value: str) -> Decimal | None:
    """The exact value of amount text, else ``None``. Never raises."""
    if not isinstance(value, str) or _AMOUNT_RE.fullmatch(value) is None:
        return None
    return Decimal(value)


def sql_amount(v: str) -> str:
    """SQL: the value of amount text as ``DECIMAL(21,6)``, else NULL."""
    return f"CASE WHEN regexp_full_match({v}, {literal(AMOUNT_PATTERN)}) THEN CAST({v} AS DECIMAL(21,6)) END"


def sql_bound(value: Any, what: str) -> str:
    """A keyword value as a ``DECIMAL(21,6)`` literal; :class:`NotCompilable` if it does not fit."""
    try:
        d = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise NotCompilable(f"{what} {value!r} is not a number") from exc
    if isinstance(value, bool) or not d.is_finite() or abs(d) >= Decimal(10) ** 15:
        raise NotCompilable(f"{what} {value!r} outside DECIMAL(21,6)")
    if -d.as_tuple().exponent > 6:  # type: ignore[operator]
        raise NotCompilable(f"{what} {value!r} has more than 6 decimals")
    return f"CAST('{format(d, 'f')}' AS DECIMAL(21,6))"


TYPE = "expect_column_pair_values_to_match_amount"
DEFAULT_TOLERANCE = 0.01


def amounts_match(first: str, second: str, tolerance: float | int | str = DEFAULT_TOLERANCE) -> bool:
    """False only if both are amounts and they differ by more than ``tolerance``."""
    a, b = parse_amount(first), parse_amount(second)
    if a is None or b is None:
        return True
    tol = Decimal(str(tolerance)) if isinstance(tolerance, float) else Decimal(tolerance)
    return abs(a - b) <= tol


def build_sql(r: RuleSql) -> CompiledRule:
    ca, cb, a, b = r.pair()
    tol = sql_bound(r.get("tolerance"), "tolerance")
    lets = [let(sql_amount(a)), let(sql_amount(b))]
    x, y = lets[0][0], lets[1][0]
    bad = f"CASE WHEN {x} IS NOT NULL AND {y} IS NOT NULL THEN abs({x} - {y}) > {tol} ELSE false END"
    return r.done([ca, cb], pair_case(a, b, bad), lets=lets)


def predicate(tolerance: float | int = DEFAULT_TOLERANCE):
    return lambda a, b: amounts_match(a, b, tolerance)


_PAIRS = (
    ("360.00", "360.00"),
    ("360", "360.00"),
    ("360.01", "360.00"),
    ("360.02", "360.00"),
    ("359.99", "360"),
    ("-0.01", "0"),
    ("0.005", "0"),
    ("1,000.00", "1000.00"),
    ("1e3", "1000"),
    ("123456789012345.5", "123456789012345.49"),
    ("1234567890123456", "1234567890123456"),
    ("12元", "12"),
    ("", "0"),
)

CHECK = Check(
    type=TYPE,
    params=(Param("tolerance", DEFAULT_TOLERANCE, float | int),),
    ignore_row_if="either_value_is_missing",
    sql=build_sql,
    predicate=predicate,
    metric="column_pair_values.dq_match_amount",
    doc="Two amounts agree within ``tolerance`` (rows where either is not an amount are left to the format rules).",
    tags=("numeric", "consistency"),
    examples=(Example(_PAIRS), Example(_PAIRS, {"tolerance": 0}), Example(_PAIRS, {"tolerance": 0.5})),
)
