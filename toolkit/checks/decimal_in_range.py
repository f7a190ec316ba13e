"""Decimal text in a range: plain decimal text such as ``89.50`` within [min_value, max_value].

Check ``expect_column_values_to_be_decimal_in_range`` (keywords ``min_value``, ``max_value``,
``strict_min``, ``strict_max``; a missing bound is unbounded). Plain decimal text (:data:`DECIMAL_PATTERN`)
is an optional ``-``, ASCII digits, and optionally ``.`` with at least one digit — no ``+``, spaces,
thousands separators, exponents, ``.5``/``5.``, inf/nan. Comparison is exact, whatever the length.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from toolkit.checks.base import Check, Example, Param
from toolkit.checks.sql import CompiledRule, RuleSql, literal, nn
from toolkit.errors import NotCompilable

__all__ = [
    "CHECK",
    "DECIMAL_PATTERN",
    "MACROS",
    "TYPE",
    "Bound",
    "is_decimal_between",
    "parse_decimal",
    "sql_decimal_check",
]

TYPE = "expect_column_values_to_be_decimal_in_range"

#: Plain decimal text (the same pattern in Python and RE2).
DECIMAL_PATTERN = r"-?[0-9]+(?:\.[0-9]+)?"
_DECIMAL_RE = re.compile(DECIMAL_PATTERN)

Bound = Decimal | int | float | str


def parse_decimal(value: str) -> Decimal | None:
    """Parse plain decimal text such as ``89.5``, ``100``, ``-3`` or ``0.01``; else ``None``.

    The result is exact (no float rounding), whatever the length.
    """
    if not isinstance(value, str) or _DECIMAL_RE.fullmatch(value) is None:
        return None
    try:
        return Decimal(value)
    except (InvalidOperation, ValueError):  # pragma: no cover - the regex already guarantees a number
        return None


def _to_decimal(bound: Bound) -> Decimal:
    """Convert a bound exactly as written: a float goes through ``str`` so ``0.1`` means 0.1."""
    if isinstance(bound, float):
        bound = str(bound)
    result = Decimal(bound)
    if not result.is_finite():
        raise ValueError(f"bound must be finite, got {bound!r}")
    return result


def is_decimal_between(
    value: str,
    min_value: Bound | None = None,
    max_value: Bound | None = None,
    strict_min: bool = False,
    strict_max: bool = False,
) -> bool:
    """True if ``value`` is plain decimal text (see :func:`parse_decimal`) within the bounds.

    ``None`` means unbounded on that side; ``strict_min``/``strict_max`` exclude the bound itself.
    Bounds are configuration: a non-numeric or infinite bound raises :class:`ValueError`.
    """
    low = _to_decimal(min_value) if min_value is not None else None
    high = _to_decimal(max_value) if max_value is not None else None
    number = parse_decimal(value)
    if number is None:
        return False
    if low is not None and (number <= low if strict_min else number < low):
        return False
    return not (high is not None and (number >= high if strict_max else number > high))


# ------------------------------------------------------------------------------------------------ SQL

MACROS = r"""
CREATE OR REPLACE MACRO dq_dec_ip(v) AS ltrim(regexp_extract(v, '^-?([0-9]+)', 1), '0');
CREATE OR REPLACE MACRO dq_dec_fp(v) AS rtrim(regexp_extract(v, '\.([0-9]+)$', 1), '0');
CREATE OR REPLACE MACRO dq_dec_neg(v) AS CASE WHEN starts_with(v, '-') THEN -1 ELSE 1 END;
CREATE OR REPLACE MACRO dq_dec_trunc(v) AS TRY_CAST(
    CASE WHEN starts_with(v, '-') THEN '-' ELSE '' END || coalesce(nullif(dq_dec_ip(v), ''), '0') || '.'
    || left(rpad(dq_dec_fp(v), 18, '0'), 18) AS DECIMAL(38,18));
CREATE OR REPLACE MACRO dq_dec_cmp(v, b) AS CASE
    WHEN regexp_full_match(v, '-?[0-9]{1,20}(\.[0-9]{1,18})?') THEN sign(TRY_CAST(v AS DECIMAL(38,18)) - b)
    WHEN length(dq_dec_ip(v)) > 20 THEN dq_dec_neg(v)
    WHEN dq_dec_trunc(v) <> b THEN sign(dq_dec_trunc(v) - b)
    WHEN length(dq_dec_fp(v)) > 18 THEN dq_dec_neg(v)
    ELSE 0 END;
"""


def _decimal_bound(value: Any, what: str) -> Decimal:
    try:
        bound = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise NotCompilable(f"{what} {value!r} is not a number") from exc
    if not bound.is_finite():
        raise NotCompilable(f"{what} must be finite")
    if abs(bound) >= Decimal(10) ** 20 or -bound.as_tuple().exponent > 18:  # type: ignore[operator]
        raise NotCompilable(f"{what} {value!r} outside DECIMAL(38,18)")
    return bound


def _fits(bound: Decimal, int_digits: int, frac_digits: int) -> bool:
    t = bound.as_tuple()
    frac = max(0, -t.exponent)  # type: ignore[operator]
    return frac <= frac_digits and abs(bound) < Decimal(10) ** int_digits


def sql_decimal_check(
    v: str, low: Decimal | None, high: Decimal | None, strict_min: bool, strict_max: bool
) -> str:
    """SQL: :func:`is_decimal_between` ``(v, low, high, strict_min, strict_max)`` for non-NULL text,
    exact for any length of v (plain decimal text is compared as DECIMAL(18,6) when it fits, else
    DECIMAL(38,18), else digit by digit)."""

    def ok(x: str, low_sql: str | None, high_sql: str | None) -> str:
        parts = []
        if low_sql is not None:
            parts.append(f"{x} {'>' if strict_min else '>='} {low_sql}")
        if high_sql is not None:
            parts.append(f"{x} {'<' if strict_max else '<='} {high_sql}")
        return " AND ".join(parts) or "true"

    def dec(b: Decimal | None, ty: str) -> str | None:
        return None if b is None else f"CAST('{format(b, 'f')}' AS {ty})"

    branches = []
    if all(_fits(b, 12, 6) for b in (low, high) if b is not None):
        fast = ok(f"TRY_CAST({v} AS DECIMAL(18,6))", dec(low, "DECIMAL(18,6)"), dec(high, "DECIMAL(18,6)"))
        branches.append(f"WHEN regexp_full_match({v}, '-?[0-9]{{1,12}}(\\.[0-9]{{1,6}})?') THEN {fast}")
    slow_parts = []
    if low is not None:
        slow_parts.append(f"dq_dec_cmp({v}, {dec(low, 'DECIMAL(38,18)')}) {'>' if strict_min else '>='} 0")
    if high is not None:
        slow_parts.append(f"dq_dec_cmp({v}, {dec(high, 'DECIMAL(38,18)')}) {'<' if strict_max else '<='} 0")
    slow = " AND ".join(slow_parts) or "true"
    branches.append(f"WHEN regexp_full_match({v}, {literal(DECIMAL_PATTERN)}) THEN {slow}")
    return "CASE " + " ".join(branches) + " ELSE false END"


def build_sql(r: RuleSql) -> CompiledRule:
    c, v = r.single()
    smin, smax = r.flag("strict_min"), r.flag("strict_max")
    kw = r.kwargs
    low = _decimal_bound(kw["min_value"], "min_value") if kw.get("min_value") is not None else None
    high = _decimal_bound(kw["max_value"], "max_value") if kw.get("max_value") is not None else None
    return r.done([c], nn(v, f"NOT ({sql_decimal_check(v, low, high, smin, smax)})"))


def predicate(min_value=None, max_value=None, strict_min=False, strict_max=False):
    return lambda v: is_decimal_between(v, min_value, max_value, strict_min, strict_max)


_SAMPLES = (
    "0",
    "0.00",
    "0.01",
    "89.50",
    "100000",
    "100000.00",
    "100000.01",
    "-1",
    "-12.5",
    "000000000000000000000000100.0000000000000000000000001",
    "99999999999999999999999999",
    "abc",
    "1e3",
    ".5",
    "5.",
    "1,000",
    " 89",
    "+5",
    "１２",
)

CHECK = Check(
    type=TYPE,
    params=(
        Param("min_value", None, float | None),
        Param("max_value", None, float | None),
        Param("strict_min", False, bool),
        Param("strict_max", False, bool),
    ),
    sql=build_sql,
    macros=(MACROS,),
    predicate=predicate,
    metric="column_values.dq_decimal_in_range",
    doc="Text that is a plain decimal number within [min_value, max_value] (bounds optional).",
    tags=("numeric",),
    examples=(
        Example(_SAMPLES, {"min_value": 0, "max_value": 100000, "strict_min": True}),
        Example(_SAMPLES, {"min_value": 0, "strict_min": True}),
        Example(_SAMPLES, {"min_value": 99.99, "max_value": 100.01}),
        Example(_SAMPLES, {"max_value": -12.5, "strict_max": True}),
    ),
)
