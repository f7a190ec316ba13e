"""An amount in 万元 (ten thousand yuan), judged against the text it comes from: column_A (the amount,
e.g. 罚款金额（万元）) is suspicious when it is at least ``max_value`` (default 10000 万元 = 100 million
yuan), or when column_B (the text, e.g. 处罚内容) says ``罚款N元`` (also ``罚款人民币N元``) with N equal
to column_A — the amount was written in 元, not 万元 (2000 元 is 0.2 万元).

Check ``expect_column_pair_values_to_be_amount_in_wan`` (keyword ``max_value``). Only an amount in the
template's ``decimal(18,6)`` form (:data:`AMOUNT_PATTERN`: 1–12 digits, optionally ``.`` and 1–6 digits)
is judged — anything else is the format rule's business — and so is each N in the text; numbers are
compared exactly (``2000`` = ``2000.00``). A row where either value is missing is skipped.
"""

from __future__ import annotations

import re
from decimal import Decimal

from toolkit.checks.base import Check, Example, Param
from toolkit.checks.sql import CompiledRule, RuleSql, let, literal, pair_case
from toolkit.errors import NotCompilable

__all__ = ["AMOUNT_PATTERN", "CHECK", "DEFAULT_MAX", "TYPE", "is_amount_in_wan", "yuan_in_text"]

TYPE = "expect_column_pair_values_to_be_amount_in_wan"
#: The template's decimal(18,6): 1–12 digits, optionally ``.`` and 1–6 digits (the same in RE2).
AMOUNT_PATTERN = r"[0-9]{1,12}(?:\.[0-9]{1,6})?"
#: ``罚款N元`` in a text (N in group 1).
YUAN_PATTERN = rf"罚款(?:人民币)?({AMOUNT_PATTERN})元"
DEFAULT_MAX = 10000
_AMOUNT_RE = re.compile(AMOUNT_PATTERN)
_YUAN_RE = re.compile(YUAN_PATTERN)


def yuan_in_text(text: str) -> list[Decimal]:
    """Every N of ``罚款N元`` in ``text``."""
    return [Decimal(n) for n in _YUAN_RE.findall(text)] if isinstance(text, str) else []


def is_amount_in_wan(amount: str, text: str, max_value: float = DEFAULT_MAX) -> bool:
    """False only if ``amount`` is a decimal(18,6) amount that is ≥ ``max_value`` or equals an N of
    ``罚款N元`` in ``text``."""
    if not isinstance(amount, str) or _AMOUNT_RE.fullmatch(amount) is None:
        return True
    value = Decimal(amount)
    if max_value is not None and value >= Decimal(str(max_value)):
        return False
    return value not in yuan_in_text(text)


def build_sql(r: RuleSql) -> CompiledRule:
    ca, cb, a, b = r.pair()
    high = r.kwargs.get("max_value", DEFAULT_MAX)
    if high is not None and (
        isinstance(high, bool) or not isinstance(high, int | float) or not 0 <= high < 1e12
    ):
        raise NotCompilable("max_value must be a number below 10^12")
    value = let(
        f"CASE WHEN regexp_full_match({a}, {literal(AMOUNT_PATTERN)}) THEN CAST({a} AS DECIMAL(18,6)) END"
    )
    found = (
        f"list_contains(list_transform(regexp_extract_all({b}, {literal(YUAN_PATTERN)}, 1), "
        f"lambda x: CAST(x AS DECIMAL(18,6))), {value[0]})"
    )
    fails = [found]
    if high is not None:
        fails.insert(0, f"{value[0]} >= CAST({literal(format(Decimal(str(high)), 'f'))} AS DECIMAL(18,6))")
    bad = f"CASE WHEN {value[0]} IS NOT NULL THEN coalesce({' OR '.join(fails)}, false) ELSE false END"
    return r.done([ca, cb], pair_case(a, b, bad), lets=[value])


def predicate(max_value: float | None = DEFAULT_MAX):
    return lambda a, b: is_amount_in_wan(a, b, max_value)


_PAIRS = (
    ("0.2", "罚款人民币2000元"),
    ("2000", "罚款人民币2000元"),
    ("2000.00", "罚款2000元"),
    ("2000", "罚款2000.0元，没收违法所得"),
    ("0.2", "罚款0.2万元"),
    ("0.2", "罚款2000元"),
    ("15000", "罚款1.5亿元"),
    ("9999.999999", "罚款"),
    ("10000", "罚款"),
    ("300", "警告并罚款300元；另罚款500元"),
    ("500", "警告并罚款300元；另罚款500元"),
    ("2,000", "罚款2,000元"),
    ("-2000", "罚款2000元"),
    ("1234567890123", "罚款1234567890123元"),
    ("0.1234567", "罚款0.1234567元"),
)

CHECK = Check(
    type=TYPE,
    params=(Param("max_value", DEFAULT_MAX, float | None),),
    ignore_row_if="either_value_is_missing",
    sql=build_sql,
    predicate=predicate,
    metric="column_pair_values.dq_amount_in_wan",
    doc="An amount in 万元: below ``max_value`` and not the N of ``罚款N元`` in the text of column_B.",
    tags=("numeric", "china"),
    examples=(Example(_PAIRS), Example(_PAIRS, {"max_value": 1000}), Example(_PAIRS, {"max_value": None})),
)
