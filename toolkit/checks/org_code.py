"""组织机构代码 (organisation code, GB 11714-1997): 8 body characters (digits or capital letters) and a
check character (a digit or ``X``).

Check ``expect_column_values_to_be_valid_org_code``. The one home of the GB 11714 weights
(:data:`ORG_CODE_WEIGHTS`) and of :func:`org_code_check_char`: a body character is worth its digit, a
letter A–Z 10–35; check = 11 − (Σ value × weight mod 11), written ``X`` for 10 and ``0`` for 11. The code
is written without the hyphen of the old certificates (``60003734-1`` → ``600037341``); characters 9–17
of a unified social credit code (GB 32100) are the holder's organisation code.
"""

from __future__ import annotations

from toolkit.checks.base import Check, Example
from toolkit.checks.sql import CompiledRule, RuleSql, nn

__all__ = ["CHECK", "ORG_CODE_CHARSET", "ORG_CODE_WEIGHTS", "TYPE", "is_org_code", "org_code_check_char"]

TYPE = "expect_column_values_to_be_valid_org_code"

#: Body characters, each worth its position (digits 0–9, letters A–Z = 10–35).
ORG_CODE_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: Weight of each of the 8 body characters.
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_VALUE = {c: i for i, c in enumerate(ORG_CODE_CHARSET)}


def org_code_check_char(body: str) -> str:
    """The GB 11714 check character of 8 body characters. Raises :class:`ValueError` otherwise."""
    if len(body) != 8 or any(c not in _VALUE for c in body):
        raise ValueError(f"expected 8 characters of {ORG_CODE_CHARSET}, got {body!r}")
    check = 11 - sum(_VALUE[c] * w for c, w in zip(body, ORG_CODE_WEIGHTS, strict=True)) % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def is_org_code(value: str) -> bool:
    """True if ``value`` is a 9-character organisation code with the right check character."""
    if not isinstance(value, str) or len(value) != 9 or any(c not in _VALUE for c in value[:8]):
        return False
    return org_code_check_char(value[:8]) == value[8]


def sql_org_code_ok(v: str) -> str:
    """:func:`is_org_code` as SQL for non-NULL text."""
    total = " + ".join(
        f"{w} * (instr('{ORG_CODE_CHARSET}', substr({v}, {i + 1}, 1)) - 1)"
        for i, w in enumerate(ORG_CODE_WEIGHTS)
    )
    check = f"(11 - ({total}) % 11)"
    char = f"CASE {check} WHEN 10 THEN 'X' WHEN 11 THEN '0' ELSE CAST({check} AS VARCHAR) END"
    return f"CASE WHEN regexp_full_match({v}, '[0-9A-Z]{{8}}[0-9X]') THEN {char} = substr({v}, 9, 1) ELSE false END"


def build_sql(r: RuleSql) -> CompiledRule:
    c, v = r.single()
    return r.done([c], nn(v, f"NOT coalesce({sql_org_code_ok(v)}, false)"))


def _with_check(body: str) -> str:
    return body + org_code_check_char(body)


CHECK = Check(
    type=TYPE,
    sql=build_sql,
    predicate=lambda: is_org_code,
    metric="column_values.dq_valid_org_code",
    doc="组织机构代码 (GB 11714-1997): 8 digits or capital letters and a MOD 11 check character (0–9, X).",
    tags=("china", "identity"),
    examples=(
        Example(
            (
                "600037341",  # the organisation code inside 91110000600037341L
                "60003734-1",
                "600037342",
                _with_check("MA4K2L3X"),
                _with_check("MA4K2L3X").lower(),
                _with_check("00000006"),  # 6 × 2 = 12 ≡ 1 (mod 11): check 10, written X
                _with_check("00000000"),  # Σ ≡ 0: check 11, written 0
                "60003734",
                "6000373410",
                "6000373４1",
            )
        ),
    ),
)
