"""Great Expectations' own (core) expectation types a pack may use: keywords and SQL builders.

Great Expectations implements these itself (no pure function or class here). Those with a builder are
counted by the engine in SQL with GX's semantics; ``expect_column_values_to_not_match_regex``,
``…_to_not_be_in_set`` and ``…_to_be_null`` have none and are validated by Great Expectations
(``engine = gx``). :data:`TYPES` lists them all.
"""

from __future__ import annotations

from toolkit.checks.base import Param, RuleType
from toolkit.checks.re2 import python_regex_to_re2
from toolkit.checks.sql import CompiledRule, RuleSql, literal, nn, pair_case
from toolkit.errors import NotCompilable

__all__ = ["TYPES"]

_RANGE = (
    Param("min_value"),
    Param("max_value"),
    Param("strict_min", False),
    Param("strict_max", False),
)


def not_be_null(r: RuleSql) -> CompiledRule:
    c, v = r.single()
    return r.done([c], f"{v} IS NULL")


def be_in_set(r: RuleSql) -> CompiledRule:
    c, v = r.single()
    values = r.text_list("value_set")
    if not values:
        return r.done([c], f"{v} IS NOT NULL")
    return r.done([c], nn(v, f"{v} NOT IN ({', '.join(literal(x) for x in values)})"))


def match_regex(r: RuleSql) -> CompiledRule:
    c, v = r.single()
    regex = r.kwargs.get("regex")
    if not isinstance(regex, str):
        raise NotCompilable("regex must be text")
    try:
        re2 = python_regex_to_re2(regex)
    except ValueError as exc:
        raise NotCompilable(f"regex: {exc}") from exc
    return r.done([c], nn(v, f"NOT regexp_matches({v}, {literal(re2)})"))


def be_unique(r: RuleSql) -> CompiledRule:
    """Duplicates within each batch (``_BATCH``), counted by a sub-query the pass joins."""
    c, v = r.single()
    name = f"dq_dup_{r.rule_index}"
    where = f"{v} IS NOT NULL" + (f" AND {r.condition}" if r.condition else "")
    cte = (
        f"SELECT _BATCH AS dq_b, {v} AS dq_v FROM {{target}} WHERE {where} "
        f"GROUP BY _BATCH, {v} HAVING count(*) > 1"
    )
    join = f"LEFT JOIN {name} ON {name}.dq_b = t._BATCH AND {name}.dq_v = t.{v}"
    return r.done([c], f"({name}.dq_v IS NOT NULL)", ctes=[(name, cte)], joins=[(name, join)])


def value_lengths(r: RuleSql) -> CompiledRule:
    c, v = r.single()
    lo, hi = r.int_or_none("min_value"), r.int_or_none("max_value")
    if lo is None and hi is None:
        raise NotCompilable("min_value and max_value both empty")
    smin, smax = r.flag("strict_min"), r.flag("strict_max")
    ok = []
    if lo is not None:
        ok.append(f"length({v}) {'>' if smin else '>='} {lo}")
    if hi is not None:
        ok.append(f"length({v}) {'<' if smax else '<='} {hi}")
    return r.done([c], nn(v, f"NOT ({' AND '.join(ok)})"))


def pair_equal(r: RuleSql) -> CompiledRule:
    ca, cb, a, b = r.pair()
    return r.done([ca, cb], pair_case(a, b, f"{a} <> {b}"))


TYPES = (
    RuleType(type="expect_column_values_to_not_be_null", sql=not_be_null),
    RuleType(type="expect_column_values_to_be_in_set", params=(Param("value_set"),), sql=be_in_set),
    RuleType(type="expect_column_values_to_match_regex", params=(Param("regex"),), sql=match_regex),
    RuleType(type="expect_column_values_to_be_unique", sql=be_unique),
    RuleType(type="expect_column_value_lengths_to_be_between", params=_RANGE, sql=value_lengths),
    RuleType(
        type="expect_column_pair_values_to_be_equal",
        sql=pair_equal,
        ignore_row_if="both_values_are_missing",  # Great Expectations' default: not compiled
    ),
    # validated by Great Expectations only (the engine hands them over, marked engine = gx)
    RuleType(type="expect_column_values_to_not_match_regex", params=(Param("regex"),)),
    RuleType(type="expect_column_values_to_not_be_in_set", params=(Param("value_set"),)),
    RuleType(type="expect_column_values_to_be_null"),
)
