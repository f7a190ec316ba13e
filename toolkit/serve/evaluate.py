"""Rules evaluated row by row in Python, with Great Expectations' semantics, for one small business.

``dq check`` hands a batch to Great Expectations (pandas). For a self-check the rows of one business are
few and the answer must come in milliseconds, so each rule is compiled once, at start, into a Python
function over the target's rows that computes what Great Expectations computes for it:

* the rows a rule applies to are those its row condition keeps (the parsed tree of
  :mod:`toolkit.conditions`: ``==`` / ``in``, a missing value never matches) — ``element_count``;
* custom checks (:mod:`toolkit.checks`) run their own pure function — the very function their Great
  Expectations class runs — on present values; an empty value is never unexpected;
* Great Expectations' core types as its pandas metrics do: ``not_be_null`` / ``be_null`` (empties
  count), ``be_in_set`` / ``not_be_in_set`` (``isin``), ``match_regex`` / ``not_match_regex``
  (``str.contains``: ``re.search``), ``be_unique`` (every row of a duplicated value), value lengths
  between bounds, column pairs equal;
* success as Great Expectations decides it with ``mostly`` (from the rule's tolerance): map rules over the
  non-empty values, pairs over the rows ``ignore_row_if`` keeps, ``not_be_null`` / ``be_null`` over all
  rows; nothing to judge is a success.

A configuration this module is not sure to reproduce exactly (an unusual keyword value, a value set with
non-text items, ``ignore_row_if`` other than ``either_value_is_missing`` for core pairs …) gets no Python
function (:func:`compile_rule_eval` returns ``None``): such a rule is validated by Great Expectations on
the business's rows, as ``dq check`` would. ``tests/test_serve_verdicts.py`` checks every type against
Great Expectations and every business of a sample day against ``dq check``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from toolkit.checks import CHECKS
from toolkit.checks.base import COMMON_KWARGS, PAIR_KWARGS
from toolkit.rules import Rule

__all__ = ["Outcome", "RuleEval", "compile_rule_eval", "condition_fn"]

Row = dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """What Great Expectations would report for one rule: rows it applies to, the positions (in the
    target's rows) of those that break it, success."""

    element_count: int
    unexpected: list[int]
    success: bool
    error: str | None = None


@dataclass(frozen=True)
class RuleEval:
    rule: Rule
    run: Callable[[Sequence[Row]], Outcome]


def condition_fn(tree: Any) -> Callable[[Row], bool]:
    """A row predicate from a parsed row condition's tree (see :class:`toolkit.conditions.Condition`)."""
    if tree[0] == "in":
        name, values = tree[1], frozenset(tree[2])
        return lambda r: r.get(name) in values
    parts = [condition_fn(c) for c in tree[1]]
    if tree[0] == "and":
        return lambda r: all(p(r) for p in parts)
    return lambda r: any(p(r) for p in parts)


def _ratio_ok(considered: int, unexpected: int, mostly: float) -> bool:
    """Great Expectations' ``_mostly_success`` (nothing considered: vacuously true)."""
    if considered == 0:
        return True
    return (float(considered) - float(unexpected)) / float(considered) >= mostly


def _mostly(rule: Rule) -> float | None:
    value = rule.expectation_config()["kwargs"].get("mostly", 1.0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        return None
    return float(value)


def _applies(rule: Rule) -> Callable[[Sequence[Row]], list[int]]:
    cond = rule.condition
    if cond is None:
        return lambda rows: list(range(len(rows)))
    keep = condition_fn(cond.tree)
    return lambda rows: [i for i, r in enumerate(rows) if keep(r)]


def _map_rule(rule: Rule, column: str, test: Callable[[str], bool], mostly: float) -> RuleEval:
    """A map rule: empty values are skipped, success over the non-empty ones."""
    applies = _applies(rule)

    def run(rows: Sequence[Row]) -> Outcome:
        idx = applies(rows)
        present = [i for i in idx if rows[i].get(column) is not None]
        bad = [i for i in present if not test(rows[i][column])]
        ok = len(idx) == 0 or _ratio_ok(len(present), len(bad), mostly)
        return Outcome(len(idx), bad, ok)

    return RuleEval(rule, run)


def _null_rule(rule: Rule, column: str, want_null: bool, mostly: float) -> RuleEval:
    """``not_be_null`` (empties unexpected) or ``be_null`` (values unexpected); success over all rows."""
    applies = _applies(rule)

    def run(rows: Sequence[Row]) -> Outcome:
        idx = applies(rows)
        bad = [i for i in idx if (rows[i].get(column) is None) != want_null]
        return Outcome(len(idx), bad, _ratio_ok(len(idx), len(bad), mostly))

    return RuleEval(rule, run)


def _unique_rule(rule: Rule, column: str, mostly: float) -> RuleEval:
    applies = _applies(rule)

    def run(rows: Sequence[Row]) -> Outcome:
        idx = applies(rows)
        present = [i for i in idx if rows[i].get(column) is not None]
        seen = Counter(rows[i][column] for i in present)
        bad = [i for i in present if seen[rows[i][column]] > 1]
        ok = len(idx) == 0 or _ratio_ok(len(present), len(bad), mostly)
        return Outcome(len(idx), bad, ok)

    return RuleEval(rule, run)


_IGNORE = {
    "either_value_is_missing": lambda a, b: a is None or b is None,
    "both_values_are_missing": lambda a, b: a is None and b is None,
    "neither": lambda a, b: False,
}


def _pair_rule(
    rule: Rule, a: str, b: str, test: Callable[[str, str], bool], ignore: str, mostly: float
) -> RuleEval:
    """A column-pair rule: ``element_count`` counts every row the condition keeps, success is over the
    rows ``ignore_row_if`` keeps; a missing value is expected (custom checks' contract)."""
    applies = _applies(rule)
    skip = _IGNORE[ignore]

    def run(rows: Sequence[Row]) -> Outcome:
        idx = applies(rows)
        kept = [i for i in idx if not skip(rows[i].get(a), rows[i].get(b))]
        bad = []
        for i in kept:
            x, y = rows[i].get(a), rows[i].get(b)
            if x is not None and y is not None and not test(x, y):
                bad.append(i)
        ok = len(idx) == 0 or _ratio_ok(len(kept), len(bad), mostly)
        return Outcome(len(idx), bad, ok)

    return RuleEval(rule, run)


def _text_set(value: Any) -> frozenset[str] | None:
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return frozenset(value)
    return None


def _bound(value: Any) -> float | bool | None:
    """A length bound: a number, ``None``, or ``False`` when it is something else."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return value


def _flag(value: Any) -> bool | None:
    if value is None:
        return False
    return value if isinstance(value, bool) else None


def _core(rule: Rule, kwargs: dict[str, Any], mostly: float) -> RuleEval | None:
    t = rule.type
    column = kwargs.get("column")
    if t == "expect_column_pair_values_to_be_equal":
        a, b = kwargs.get("column_A"), kwargs.get("column_B")
        ignore = kwargs.get("ignore_row_if", "both_values_are_missing")
        if not (isinstance(a, str) and isinstance(b, str)) or ignore != "either_value_is_missing":
            return None
        return _pair_rule(rule, a, b, lambda x, y: x == y, ignore, mostly)
    if not isinstance(column, str) or not column:
        return None
    if t == "expect_column_values_to_not_be_null":
        return _null_rule(rule, column, False, mostly)
    if t == "expect_column_values_to_be_null":
        return _null_rule(rule, column, True, mostly)
    if t == "expect_column_values_to_be_unique":
        return _unique_rule(rule, column, mostly)
    if t in ("expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set"):
        raw = kwargs.get("value_set")
        if raw is None:
            return _map_rule(rule, column, lambda v: True, mostly)
        values = _text_set(raw)
        if values is None:
            return None
        if t.endswith("_not_be_in_set"):
            return _map_rule(rule, column, lambda v: v not in values, mostly)
        return _map_rule(rule, column, lambda v: v in values, mostly)
    if t in ("expect_column_values_to_match_regex", "expect_column_values_to_not_match_regex"):
        regex = kwargs.get("regex")
        if not isinstance(regex, str):
            return None
        try:
            pattern = re.compile(regex)
        except re.error:
            return None
        if t.endswith("_not_match_regex"):
            return _map_rule(rule, column, lambda v: pattern.search(v) is None, mostly)
        return _map_rule(rule, column, lambda v: pattern.search(v) is not None, mostly)
    if t == "expect_column_value_lengths_to_be_between":
        lo, hi = _bound(kwargs.get("min_value")), _bound(kwargs.get("max_value"))
        smin, smax = _flag(kwargs.get("strict_min")), _flag(kwargs.get("strict_max"))
        if lo is False or hi is False or smin is None or smax is None or (lo is None and hi is None):
            return None

        def length_ok(v: str) -> bool:
            n = len(v)
            if lo is not None and not (n > lo if smin else n >= lo):
                return False
            return hi is None or (n < hi if smax else n <= hi)

        return _map_rule(rule, column, length_ok, mostly)
    return None


def _coerce(annotation: Any, value: Any) -> Any:
    """A keyword value as the expectation's pydantic field would hold it (lax coercion)."""
    if value is None or annotation is Any:
        return value
    from pydantic import TypeAdapter

    return TypeAdapter(annotation).validate_python(value)


def compile_rule_eval(rule: Rule) -> RuleEval | None:
    """The Python evaluation of ``rule`` (see the module docstring), or ``None`` when Great Expectations
    must validate it."""
    mostly = _mostly(rule)
    if mostly is None:
        return None
    kwargs = dict(rule.expectation_config()["kwargs"])
    check = CHECKS.get(rule.type)
    if check is None:
        extra = set(rule.kwargs) - (
            PAIR_KWARGS if rule.type.startswith("expect_column_pair_") else COMMON_KWARGS
        )
        known = {p for p in ("value_set", "regex", "min_value", "max_value", "strict_min", "strict_max")}
        if extra - known:
            return None
        return _core(rule, kwargs, mostly)
    if set(rule.kwargs) - check.allowed_keywords:
        return None
    try:
        values = {p.name: _coerce(p.annotation, kwargs[p.name]) for p in check.params if p.name in kwargs}
        test = check.bind(values)
    except Exception:  # Great Expectations reports the configuration error itself
        return None
    if check.pair:
        a, b = kwargs.get("column_A"), kwargs.get("column_B")
        ignore = kwargs.get("ignore_row_if", check.ignore_row_if)
        if not (isinstance(a, str) and isinstance(b, str)) or ignore not in _IGNORE:
            return None
        return _pair_rule(rule, a, b, test, ignore, mostly)
    column = kwargs.get("column")
    if not isinstance(column, str) or not column:
        return None
    return _map_rule(rule, column, test, mostly)
