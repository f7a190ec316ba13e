"""Clean text: no invisible junk a clerk would not have typed on purpose.

Check ``expect_column_values_to_be_clean_text``. Rejected: characters of the Unicode categories in
:data:`UNCLEAN_CATEGORIES` (control and format characters — so tabs, newlines, zero-width spaces and BOMs
— lone surrogates and U+2028/U+2029), the replacement character U+FFFD left by a wrong encoding, leading
or trailing whitespace (anything :meth:`str.isspace` accepts, including U+3000 and NBSP U+00A0) and two
:data:`SPACES` in a row (ASCII and full-width in any mix). The empty string is clean (emptiness is a
completeness question, not this one).
"""

from __future__ import annotations

import unicodedata
from functools import cache

from toolkit.checks.base import Check, Example
from toolkit.checks.charclass import class_body, isspace_class, ranges, unicode_category_ranges
from toolkit.checks.sql import CompiledRule, RuleSql, literal, nn

__all__ = [
    "CHECK",
    "REPLACEMENT_CHARACTER",
    "SPACES",
    "TYPE",
    "UNCLEAN_CATEGORIES",
    "clean_text_regex",
    "is_clean_text",
]

TYPE = "expect_column_values_to_be_clean_text"

# Cc/Cf as asked; Cs (lone surrogates from bad decoding) and Zl/Zp (U+2028/U+2029 line/paragraph
# separators, i.e. newlines by another name) are rejected for the same reason.
UNCLEAN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
REPLACEMENT_CHARACTER = "\ufffd"
#: Spaces that may not be doubled.
SPACES = " \u3000"


def is_clean_text(value: str) -> bool:
    """True if ``value`` is clean text (see the module docstring)."""
    if not isinstance(value, str):
        return False
    if not value:
        return True
    if value[0].isspace() or value[-1].isspace():
        return False
    previous_space = False
    for ch in value:
        if ch == REPLACEMENT_CHARACTER or unicodedata.category(ch) in UNCLEAN_CATEGORIES:
            return False
        is_space = ch in SPACES
        if is_space and previous_space:
            return False
        previous_space = is_space
    return True


@cache
def clean_text_regex() -> str:
    """RE2 pattern that finds what :func:`is_clean_text` rejects (on non-empty text)."""
    s = isspace_class()
    unclean = ranges(
        {cp for a, b in unicode_category_ranges(UNCLEAN_CATEGORIES) for cp in range(a, b + 1)}
        | {ord(REPLACEMENT_CHARACTER)}
    )
    spaces = class_body(ranges(map(ord, SPACES)))
    return f"\\A[{s}]|[{s}]\\z|[{class_body(unclean)}]|[{spaces}]{{2}}"


def build_sql(r: RuleSql) -> CompiledRule:
    c, v = r.single()
    return r.done([c], nn(v, f"regexp_matches({v}, {literal(clean_text_regex())})"))


CHECK = Check(
    type=TYPE,
    sql=build_sql,
    predicate=lambda: is_clean_text,
    metric="column_values.dq_clean_text",
    doc="No control characters, no leading/trailing or doubled spaces (full-width spaces included).",
    tags=("text",),
    examples=(
        Example(
            (
                "张三",
                "武汉市 江岸区",
                "A\u3000B",
                "张三 ",
                " 张三",
                "\u3000张三",
                "张三\u00a0",
                "张  三",
                "张 \u3000三",
                "张\t三",
                "张\u200b三",
                "\ufeff张三",
                "张\u2028三",
                "张\ufffd三",
                "",
            )
        ),
    ),
)
