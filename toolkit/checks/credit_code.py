"""统一社会信用代码 (unified social credit code, GB 32100-2015): 18 characters, MOD 31 check character.

Check ``expect_column_values_to_be_valid_credit_code``. The one home of the GB 32100 character set and
weights (:data:`CREDIT_CODE_CHARSET`, :data:`CREDIT_CODE_WEIGHTS`) and of :func:`credit_code_check_char`.
Positions 1-2 may be letters (e.g. ``N`` 农业, ``Y`` 其他 registration authorities), so unlike
python-stdnum the first eight characters need not be digits.
"""

from __future__ import annotations

from toolkit.checks.base import Check, Example
from toolkit.checks.sql import CompiledRule, RuleSql, nn

__all__ = [
    "CHECK",
    "CREDIT_CODE_CHARSET",
    "CREDIT_CODE_WEIGHTS",
    "TYPE",
    "credit_code_check_char",
    "is_credit_code",
    "sql_credit_code_ok",
]

TYPE = "expect_column_values_to_be_valid_credit_code"

#: The 31 characters of a credit code, each worth its position (upper case; no I, O, Z, S, V).
CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: Weight of each of the first 17 characters (3^i mod 31).
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_INDEX = {c: i for i, c in enumerate(CREDIT_CODE_CHARSET)}
_MOD = len(CREDIT_CODE_CHARSET)


def credit_code_check_char(first17: str) -> str:
    """Return the MOD 31 check character for the first 17 characters of a credit code.

    Raises :class:`ValueError` unless ``first17`` is 17 characters from :data:`CREDIT_CODE_CHARSET`.
    """
    if len(first17) != 17 or any(c not in _INDEX for c in first17):
        raise ValueError(f"expected 17 characters of {CREDIT_CODE_CHARSET}, got {first17!r}")
    total = sum(_INDEX[c] * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARSET[(_MOD - total % _MOD) % _MOD]


def is_credit_code(value: str) -> bool:
    """True if ``value`` is an 18-character unified social credit code (统一社会信用代码).

    Every character must be in :data:`CREDIT_CODE_CHARSET` and the last one must be the MOD 31 check
    character.
    """
    if not isinstance(value, str) or len(value) != 18:
        return False
    if any(c not in _INDEX for c in value):
        return False
    return credit_code_check_char(value[:17]) == value[17]


def sql_credit_code_ok(v: str) -> str:
    """:func:`is_credit_code` as SQL for non-NULL text."""
    total = " + ".join(
        f"{w} * (instr('{CREDIT_CODE_CHARSET}', substr({v}, {i + 1}, 1)) - 1)"
        for i, w in enumerate(CREDIT_CODE_WEIGHTS)
    )
    return (
        f"CASE WHEN regexp_full_match({v}, '[{CREDIT_CODE_CHARSET}]{{18}}')"
        f" THEN substr('{CREDIT_CODE_CHARSET}', (({_MOD} - ({total}) % {_MOD}) % {_MOD}) + 1, 1)"
        f" = substr({v}, 18, 1) ELSE false END"
    )


def build_sql(r: RuleSql) -> CompiledRule:
    c, v = r.single()
    return r.done([c], nn(v, f"NOT coalesce({sql_credit_code_ok(v)}, false)"))


def _with_check(body: str) -> str:
    return body + credit_code_check_char(body)


def _next_char(code: str) -> str:
    return code[:17] + CREDIT_CODE_CHARSET[(_INDEX[code[17]] + 1) % _MOD]


CHECK = Check(
    type=TYPE,
    sql=build_sql,
    predicate=lambda: is_credit_code,
    metric="column_values.dq_valid_credit_code",
    doc="统一社会信用代码 (GB 32100-2015): 18 characters, MOD 31 check character.",
    tags=("china", "identity"),
    examples=(
        Example(
            (
                _with_check("91420100MA4K2L3X1"),
                _with_check("N2420100MA4K2L3X1"),  # a letter in the authority position
                _next_char(_with_check("91110000600037341")),  # wrong check character
                _with_check("91110000600037341").lower(),
                _with_check("91110000600037341")[:17],
                "I" + _with_check("91110000600037341")[1:],  # I is not in the character set
                "91420100MA4K2L3X1O",
            )
        ),
    ),
)
