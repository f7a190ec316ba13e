"""Shared prefix of a column pair: the first ``length`` characters of column_A equal those of column_B
(e.g. a unit number BDCDYH starts with its county code QXDM).

Check ``expect_column_pair_values_to_share_prefix`` (keyword ``length``, default 6). A value shorter than
``length`` is compared as it is (so it differs from a longer one).
"""

from __future__ import annotations

from toolkit.checks.base import Check, Example, Param
from toolkit.checks.sql import CompiledRule, RuleSql, pair_case
from toolkit.errors import NotCompilable

__all__ = ["CHECK", "DEFAULT_LENGTH", "TYPE", "shares_prefix"]

TYPE = "expect_column_pair_values_to_share_prefix"
DEFAULT_LENGTH = 6


def shares_prefix(first: str, second: str, length: int = DEFAULT_LENGTH) -> bool:
    """True if the first ``length`` characters of both values are equal."""
    n = int(length)
    return first[:n] == second[:n]


def build_sql(r: RuleSql) -> CompiledRule:
    ca, cb, a, b = r.pair()
    n = r.int_or_none("length")
    n = DEFAULT_LENGTH if n is None else n
    if n < 0:
        raise NotCompilable("negative length")
    return r.done([ca, cb], pair_case(a, b, f"left({a}, {n}) <> left({b}, {n})"))


def predicate(length: int = DEFAULT_LENGTH):
    return lambda a, b: shares_prefix(a, b, length)


_PAIRS = (
    ("420102100302GB00001F00010001", "420102"),
    ("420103100302GB00001F00010001", "420102"),
    ("42010", "420102"),
    ("420102", "420102"),
    ("", "420102"),
    ("2000101", "200"),
    ("1000101", "200"),
    ("中文地址", "中文"),
)

CHECK = Check(
    type=TYPE,
    params=(Param("length", DEFAULT_LENGTH, int),),
    ignore_row_if="either_value_is_missing",
    sql=build_sql,
    predicate=predicate,
    metric="column_pair_values.dq_share_prefix",
    doc="The first ``length`` characters of column_A equal those of column_B (e.g. a unit number and the county code it must start with).",
    tags=("consistency",),
    examples=(Example(_PAIRS), Example(_PAIRS, {"length": 1}), Example(_PAIRS, {"length": 0})),
)
