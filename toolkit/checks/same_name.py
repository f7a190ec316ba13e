"""The same organisation name, as a register compares names: column_A equals column_B once brackets
and spaces are normalised — full-width ``（）`` read as ``()`` and every white-space character
(``str.isspace``: ASCII spaces, U+3000, NBSP, tabs, line breaks …) removed.

Check ``expect_column_pair_values_to_be_same_name``. Used against a register (e.g. the name of a party
and the name the legal-person register holds for its credit code): ``东莞市某某有限公司（分公司）`` and
``东莞市某某有限公司(分公司)`` are the same name, ``东莞市某某有限公司`` and ``东莞市某某科技有限公司`` are not.
A row where either name is missing (e.g. a code the register does not know) is skipped.
"""

from __future__ import annotations

from toolkit.checks.base import Check, Example
from toolkit.checks.charclass import isspace_class
from toolkit.checks.sql import CompiledRule, RuleSql, literal, pair_case

__all__ = ["CHECK", "TYPE", "normalise_name", "same_name"]

TYPE = "expect_column_pair_values_to_be_same_name"

_BRACKETS = str.maketrans({"（": "(", "）": ")"})


def normalise_name(name: str) -> str:
    """``name`` with full-width brackets made half-width and white space removed."""
    return "".join(ch for ch in name if not ch.isspace()).translate(_BRACKETS)


def same_name(first: str, second: str) -> bool:
    """True if both names are equal after :func:`normalise_name`."""
    return normalise_name(first) == normalise_name(second)


def sql_normalise_name(v: str) -> str:
    """:func:`normalise_name` as SQL."""
    spaces = literal(f"[{isspace_class()}]+")
    return f"replace(replace(regexp_replace({v}, {spaces}, '', 'g'), '（', '('), '）', ')')"


def build_sql(r: RuleSql) -> CompiledRule:
    ca, cb, a, b = r.pair()
    return r.done([ca, cb], pair_case(a, b, f"{sql_normalise_name(a)} <> {sql_normalise_name(b)}"))


_PAIRS = (
    ("东莞市华信电子有限公司", "东莞市华信电子有限公司"),
    ("东莞市华信电子有限公司（分公司）", "东莞市华信电子有限公司(分公司)"),
    ("东莞市华信电子有限公司 ", "东莞市华信电子有限公司"),
    ("东莞市 华信\u3000电子有限公司", "东莞市华信电子有限公司"),
    ("东莞市华信电子有限公司", "东莞市华信科技有限公司"),
    ("东莞市华信电子有限公司【分公司】", "东莞市华信电子有限公司(分公司)"),
    ("ABC Ltd", "abc ltd"),
    ("\u200b东莞", "东莞"),
)

CHECK = Check(
    type=TYPE,
    ignore_row_if="either_value_is_missing",
    sql=build_sql,
    predicate=lambda: same_name,
    metric="column_pair_values.dq_same_name",
    doc="column_A and column_B are the same name once full-width brackets and white space are normalised.",
    tags=("text", "china"),
    examples=(Example(_PAIRS),),
)
