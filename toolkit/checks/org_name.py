"""A clean organisation name: clean text (:mod:`toolkit.checks.clean_text`: no control or invisible
characters, no leading, trailing or doubled spaces) written with full-width brackets ``（）`` — a
half-width ``(`` or ``)`` is a failure, as registers write names with full-width brackets.

Check ``expect_column_values_to_be_clean_org_name``.
"""

from __future__ import annotations

from toolkit.checks.base import Check, Example
from toolkit.checks.clean_text import clean_text_regex, is_clean_text
from toolkit.checks.sql import CompiledRule, RuleSql, literal, nn

__all__ = ["CHECK", "HALF_WIDTH_BRACKETS", "TYPE", "is_clean_org_name"]

TYPE = "expect_column_values_to_be_clean_org_name"
HALF_WIDTH_BRACKETS = "()"


def is_clean_org_name(value: str) -> bool:
    """True if ``value`` is clean text without half-width brackets."""
    return is_clean_text(value) and not any(ch in value for ch in HALF_WIDTH_BRACKETS)


def build_sql(r: RuleSql) -> CompiledRule:
    c, v = r.single()
    bad = f"regexp_matches({v}, {literal(clean_text_regex())}) OR regexp_matches({v}, '[()]')"
    return r.done([c], nn(v, bad))


CHECK = Check(
    type=TYPE,
    sql=build_sql,
    predicate=lambda: is_clean_org_name,
    metric="column_values.dq_clean_org_name",
    doc="Clean text (no control characters, no stray or doubled spaces) with full-width brackets only.",
    tags=("text", "china"),
    examples=(
        Example(
            (
                "东莞市华信电子有限公司",
                "东莞市华信电子有限公司（分公司）",
                "东莞市华信电子有限公司(分公司)",
                "东莞市华信电子有限公司（分公司)",
                "东莞市华信电子有限公司 ",
                "东莞市华信  电子有限公司",
                "东莞市华信\t电子有限公司",
                "Dongguan Huaxin Ltd",
                "",
            )
        ),
    ),
)
