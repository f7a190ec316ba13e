"""Public text without personal data: no citizen ID number and no mobile number anywhere in the value.

Check ``expect_column_values_to_not_contain_personal_data``. Text that is disclosed to the public (the
content of a licence, the facts and content of a penalty, an organisation's name) must not carry a
person's ID or mobile number. Found, wherever they stand, when not glued to other letters or digits:

* an 18-character citizen ID — 17 digits and a digit or ``X``/``x`` — and the old 15-digit one (a
  month-day in place), also with one space, hyphen, NBSP or U+3000 between the groups
  (``441900 19900101 123X``); right or wrong check digit alike (a mistyped ID is still personal data);
* a mobile number ``1[3-9]`` + 9 digits, also ``139-1234-5678``, ``139 1234 5678``, ``+86 139…``, ``0086…``.

The same rule as the masking of outputs (:mod:`toolkit.masking`), written without look-arounds
(:data:`PERSONAL_DATA_PATTERN`), so that Python's ``re`` and DuckDB's RE2 read the very same pattern.
"""

from __future__ import annotations

import re

from toolkit.checks.base import Check, Example
from toolkit.checks.sql import CompiledRule, RuleSql, literal, nn

__all__ = ["CHECK", "PERSONAL_DATA_PATTERN", "TYPE", "has_personal_data"]

TYPE = "expect_column_values_to_not_contain_personal_data"

_SEP = "[ \\-\u00a0\u3000]?"
_ID18 = f"[0-9]{{6}}{_SEP}[0-9]{{8}}{_SEP}[0-9]{{3}}[0-9Xx]"
_ID15 = f"[1-9][0-9]{{5}}{_SEP}[0-9]{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01]){_SEP}[0-9]{{3}}"
_MOBILE = "(?:(?:\\+|00)?86[ \\-]?)?1[3-9][0-9][ \\-]?[0-9]{4}[ \\-]?[0-9]{4}"
#: What counts as personal data in public text (the same source for Python and RE2: ASCII classes,
#: literal characters, no look-arounds; ``^`` and ``$`` without multi-line mode).
PERSONAL_DATA_PATTERN = f"(?:^|[^0-9A-Za-z])(?:{_ID18}|{_ID15}|{_MOBILE})(?:[^0-9A-Za-z]|$)"
_RE = re.compile(PERSONAL_DATA_PATTERN)


def has_personal_data(value: str) -> bool:
    """True if ``value`` contains a citizen ID or mobile number (see the module docstring)."""
    return isinstance(value, str) and _RE.search(value) is not None


def build_sql(r: RuleSql) -> CompiledRule:
    c, v = r.single()
    return r.done([c], nn(v, f"regexp_matches({v}, {literal(PERSONAL_DATA_PATTERN)})"))


CHECK = Check(
    type=TYPE,
    sql=build_sql,
    predicate=lambda: lambda v: not has_personal_data(v),
    metric="column_values.dq_no_personal_data",
    doc="No citizen ID number (18 or 15 digits) and no mobile number anywhere in the text.",
    tags=("privacy", "china"),
    examples=(
        Example(
            (
                "准予食品经营许可，经营项目：预包装食品销售",
                "当事人张三（身份证号441900199001011234）未取得许可",
                "身份证441900 19900101 123x已核实",
                "联系电话13812345678",
                "电话：+86 138-1234-5678",
                "电话008613812345678",
                "许可编号JY14419000012345",
                "罚款人民币2000元",
                "编号441900199001011234567",
                "旧证号441900900101123",
                "旧证号441900901301123",
                "A13812345678",
                "1381234567",
                "12345678901",
                "统一社会信用代码91441900MA4K2L3X1Y",
                "13812345678",
                "441900199001011234\n",
            )
        ),
    ),
)
