"""Integer text: a whole number written as ASCII digits (optional leading ``-``), at least ``min_value``.

Check ``expect_column_values_to_be_integer_text`` (keyword ``min_value``, default 0). Compared exactly,
so even a 10 000-digit value neither raises nor rounds.
"""

from __future__ import annotations

import re
from decimal import Decimal

from toolkit.checks.base import Check, Example, Param
from toolkit.checks.sql import CompiledRule, RuleSql, literal, nn
from toolkit.errors import NotCompilable

__all__ = ["CHECK", "INTEGER_PATTERN", "MACROS", "TYPE", "is_int_at_least"]

TYPE = "expect_column_values_to_be_integer_text"

#: Integer text (the same pattern in Python and RE2).
INTEGER_PATTERN = r"-?[0-9]+"
_INT_RE = re.compile(INTEGER_PATTERN)


def is_int_at_least(value: str, minimum: int) -> bool:
    """True if ``value`` is an integer written as ASCII digits (optional leading ``-``) and ≥ ``minimum``.

    Compared exactly through :class:`~decimal.Decimal`, so even a 10 000-digit value does not raise
    (``int()`` would, past Python's integer-string conversion limit).
    """
    if not isinstance(value, str) or _INT_RE.fullmatch(value) is None:
        return False
    return Decimal(value) >= minimum


# ------------------------------------------------------------------------------------------------ SQL

MACROS = r"""
CREATE OR REPLACE MACRO dq_int_ge(v, m) AS CASE
    WHEN regexp_full_match(v, '-?[0-9]{1,30}') THEN TRY_CAST(v AS HUGEINT) >= m
    WHEN length(ltrim(regexp_extract(v, '^-?([0-9]+)', 1), '0')) > 30 THEN NOT starts_with(v, '-')
    ELSE TRY_CAST(CASE WHEN starts_with(v, '-') THEN '-' ELSE '' END
        || coalesce(nullif(ltrim(regexp_extract(v, '^-?([0-9]+)', 1), '0'), ''), '0') AS HUGEINT) >= m END;
"""


def build_sql(r: RuleSql) -> CompiledRule:
    c, v = r.single()
    minimum = r.get("min_value")
    if isinstance(minimum, bool) or not isinstance(minimum, (int, float)):
        raise NotCompilable("min_value must be a number")
    m = int(minimum)
    if abs(m) >= 10**30:
        raise NotCompilable("min_value too large")
    check = f"CASE WHEN regexp_full_match({v}, {literal(INTEGER_PATTERN)}) THEN dq_int_ge({v}, {m}) ELSE false END"
    return r.done([c], nn(v, f"NOT ({check})"))


def predicate(min_value: int = 0):
    return lambda v: is_int_at_least(v, int(min_value))


_SAMPLES = ("1", "0", "-1", "2", "01", "-0", "1.0", " 1", "1 ", "１", "+1", "", "99999999999999999999" * 2)

CHECK = Check(
    type=TYPE,
    params=(Param("min_value", 0, int),),
    sql=build_sql,
    macros=(MACROS,),
    predicate=predicate,
    metric="column_values.dq_integer_text",
    doc="Text that is a whole number ≥ min_value.",
    tags=("numeric",),
    examples=(Example(_SAMPLES), Example(_SAMPLES, {"min_value": 1}), Example(_SAMPLES, {"min_value": -3})),
)
