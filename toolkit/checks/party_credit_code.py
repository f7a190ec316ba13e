"""A party's unified social credit code, where a placeholder may stand in for some kinds of party:
column_A is a valid GB 32100 code (:func:`toolkit.checks.credit_code.is_credit_code`), or it is the
``placeholder`` and column_B (the party's kind) is one of ``placeholder_for``.

Check ``expect_column_pair_values_to_be_party_credit_code`` (keywords ``placeholder``, default
``00000000000000000X``, and ``placeholder_for``, default none). In the national credit-information
template an individual business (个体工商户) that has no credit code is reported with the placeholder
``00000000000000000X`` (and its business registration number); for any other party the placeholder is an
invalid code — its check character is not ``X``. A row whose party kind is missing is skipped (the
completeness rules report it).
"""

from __future__ import annotations

from collections.abc import Sequence

from toolkit.checks.base import Check, Example, Param
from toolkit.checks.credit_code import is_credit_code, sql_credit_code_ok
from toolkit.checks.sql import CompiledRule, RuleSql, literal, pair_case
from toolkit.errors import NotCompilable

__all__ = ["CHECK", "PLACEHOLDER", "TYPE", "is_party_credit_code"]

TYPE = "expect_column_pair_values_to_be_party_credit_code"
#: The template's stand-in for a missing credit code.
PLACEHOLDER = "00000000000000000X"


def is_party_credit_code(
    code: str, kind: str, placeholder: str = PLACEHOLDER, placeholder_for: Sequence[str] = ()
) -> bool:
    """True if ``code`` is a valid credit code, or the placeholder for a ``kind`` allowed to use it."""
    if is_credit_code(code):
        return True
    return bool(placeholder) and code == placeholder and kind in set(placeholder_for)


def build_sql(r: RuleSql) -> CompiledRule:
    ca, cb, a, b = r.pair()
    placeholder = r.get("placeholder")
    kinds = r.kwargs.get("placeholder_for") or []
    if placeholder is not None and not isinstance(placeholder, str):
        raise NotCompilable("placeholder must be text")
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        raise NotCompilable("placeholder_for must be a list of text values")
    ok = f"coalesce({sql_credit_code_ok(a)}, false)"
    if placeholder and kinds:
        ok = f"({ok} OR ({a} = {literal(placeholder)} AND {b} IN ({', '.join(literal(k) for k in kinds)})))"
    return r.done([ca, cb], pair_case(a, b, f"NOT {ok}"))


def predicate(placeholder: str | None = PLACEHOLDER, placeholder_for=()):
    kinds = tuple(placeholder_for or ())
    return lambda a, b: is_party_credit_code(a, b, placeholder or "", kinds)


_VALID = "91110000600037341L"
_PAIRS = (
    (_VALID, "法人及非法人组织"),
    (_VALID, "个体工商户"),
    (PLACEHOLDER, "个体工商户"),
    (PLACEHOLDER, "法人及非法人组织"),
    (PLACEHOLDER, "自然人"),
    ("00000000000000000x", "个体工商户"),
    ("91110000600037341M", "个体工商户"),
    ("000000000000000000", "个体工商户"),
)

CHECK = Check(
    type=TYPE,
    params=(Param("placeholder", PLACEHOLDER, str | None), Param("placeholder_for", None, list | None)),
    ignore_row_if="either_value_is_missing",
    sql=build_sql,
    predicate=predicate,
    metric="column_pair_values.dq_party_credit_code",
    doc="column_A is a valid GB 32100 credit code, or the ``placeholder`` where column_B is one of\n"
    "    ``placeholder_for``.",
    tags=("china", "identity"),
    examples=(
        Example(_PAIRS, {"placeholder_for": ["个体工商户"]}),
        Example(_PAIRS),
        Example(_PAIRS, {"placeholder": "000000000000000000", "placeholder_for": ["个体工商户"]}),
    ),
)
