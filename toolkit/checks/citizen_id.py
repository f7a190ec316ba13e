"""公民身份号码 (citizen ID number, GB 11643-1999): 18 characters, ISO 7064 MOD 11-2 check, real birth date.

Check ``expect_column_values_to_be_valid_citizen_id``. The one home of the GB 11643 weights and check
characters (:data:`CITIZEN_ID_WEIGHTS`, :data:`CITIZEN_ID_CHECK_CHARS`) and of
:func:`citizen_id_check_digit`. The six-digit address code is *not* looked up here
(:func:`toolkit.regions.is_county_code` does that).
"""

from __future__ import annotations

import datetime

from toolkit.checks.base import DIGITS, Check, Example, all_digits
from toolkit.checks.sql import CompiledRule, RuleSql, let, nn

__all__ = [
    "CHECK",
    "CITIZEN_ID_CHECK_CHARS",
    "CITIZEN_ID_EARLIEST_BIRTH",
    "CITIZEN_ID_WEIGHTS",
    "MACROS",
    "TYPE",
    "citizen_id_body",
    "citizen_id_check_digit",
    "is_citizen_id",
    "sql_citizen_id_ok",
]

TYPE = "expect_column_values_to_be_valid_citizen_id"

#: Weight of each of the 17 body digits (2^(17-i) mod 11).
CITIZEN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
#: The check character for each remainder of Σ digit × weight mod 11.
CITIZEN_ID_CHECK_CHARS = "10X98765432"
#: Earliest birth date accepted.
CITIZEN_ID_EARLIEST_BIRTH = datetime.date(1900, 1, 1)


def citizen_id_check_digit(first17: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character (``0``-``9`` or ``X``) for 17 body digits.

    Raises :class:`ValueError` unless ``first17`` is exactly 17 ASCII digits.
    """
    if len(first17) != 17 or not all_digits(first17):
        raise ValueError(f"expected 17 ASCII digits, got {first17!r}")
    total = sum(int(c) * w for c, w in zip(first17, CITIZEN_ID_WEIGHTS, strict=True))
    return CITIZEN_ID_CHECK_CHARS[total % len(CITIZEN_ID_CHECK_CHARS)]


def is_citizen_id(value: str, today: datetime.date | None = None) -> bool:
    """True if ``value`` is a well-formed 18-character citizen ID number (公民身份号码).

    Checks: 17 ASCII digits followed by a digit or upper-case ``X`` (lower-case ``x`` is rejected),
    the MOD 11-2 check character, and that characters 7-14 are a real date ``YYYYMMDD`` between
    :data:`CITIZEN_ID_EARLIEST_BIRTH` and ``today`` (default: :meth:`datetime.date.today`).
    """
    if not isinstance(value, str) or len(value) != 18:
        return False
    body, check = value[:17], value[17]
    if not all_digits(body) or (check not in DIGITS and check != "X"):
        return False
    if citizen_id_check_digit(body) != check:
        return False
    try:
        birth = datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    if today is None:
        today = datetime.date.today()
    return CITIZEN_ID_EARLIEST_BIRTH <= birth <= today


# ------------------------------------------------------------------------------------------------ SQL

MACROS = r"""
CREATE OR REPLACE MACRO dq_dim(y, m) AS CASE m WHEN 2 THEN
        CASE WHEN (y % 4 = 0 AND y % 100 <> 0) OR y % 400 = 0 THEN 29 ELSE 28 END
    WHEN 4 THEN 30 WHEN 6 THEN 30 WHEN 9 THEN 30 WHEN 11 THEN 30 ELSE 31 END;
"""


def citizen_id_body(v: str) -> str:
    """SQL: the 17 body digits of a well-formed value as one BIGINT (else NULL)."""
    return f"CASE WHEN regexp_full_match({v}, '[0-9]{{17}}[0-9X]') THEN TRY_CAST(substr({v}, 1, 17) AS BIGINT) END"


def sql_citizen_id_ok(v: str, today: datetime.date, n: str) -> str:
    """:func:`is_citizen_id` (with ``today``) for non-NULL text; ``n`` names the value of
    :func:`citizen_id_body` (the 17 body digits as one integer, taken apart arithmetically: much cheaper
    than 17 substrings)."""
    total = " + ".join(f"(({n} // {10 ** (16 - i)}) % 10) * {w}" for i, w in enumerate(CITIZEN_ID_WEIGHTS))
    ymd = f"(({n} // 1000) % 100000000)"
    year, month, day = f"({ymd} // 10000)", f"(({ymd} // 100) % 100)", f"({ymd} % 100)"
    return (
        f"CASE WHEN {n} IS NOT NULL THEN"
        f" substr('{CITIZEN_ID_CHECK_CHARS}', CAST(({total}) % {len(CITIZEN_ID_CHECK_CHARS)} AS INTEGER) + 1, 1)"
        f" = substr({v}, 18, 1)"
        f" AND {ymd} BETWEEN {int(CITIZEN_ID_EARLIEST_BIRTH.strftime('%Y%m%d'))}"
        f" AND {int(today.strftime('%Y%m%d'))}"
        f" AND {month} BETWEEN 1 AND 12 AND {day} BETWEEN 1 AND dq_dim({year}, {month})"
        " ELSE false END"
    )


def build_sql(r: RuleSql) -> CompiledRule:
    c, v = r.single()
    body = let(citizen_id_body(v))
    return r.done([c], nn(v, f"NOT coalesce({sql_citizen_id_ok(v, r.today, body[0])}, false)"), lets=[body])


def _with_check(body: str) -> str:
    return body + citizen_id_check_digit(body)


def _wrong_check(body: str) -> str:
    return body + ("1" if citizen_id_check_digit(body) == "0" else "0")


_TOMORROW = datetime.date.today() + datetime.timedelta(days=1)

CHECK = Check(
    type=TYPE,
    sql=build_sql,
    macros=(MACROS,),
    predicate=lambda: is_citizen_id,
    metric="column_values.dq_valid_citizen_id",
    doc="公民身份号码 (GB 11643-1999): 18 characters, MOD 11-2 check digit, a real birth date.",
    tags=("china", "identity"),
    examples=(
        Example(
            (
                _with_check("42010219910101123"),
                _with_check("44011320141005001"),  # check character X
                _with_check("44011320141005001")[:17] + "x",  # lower-case x
                _wrong_check("42010219910101123"),
                _with_check("42010219910230123"),  # 1991-02-30
                _with_check("42010220000229123"),  # leap day
                _with_check("42010219000229123"),  # 1900 was no leap year
                _with_check("42010218991231123"),  # before 1900
                _with_check(f"420102{_TOMORROW:%Y%m%d}123"),  # born tomorrow
                _with_check("42010219910101123")[:17],  # 17 characters
                "١" * 18,
            )
        ),
    ),
)
