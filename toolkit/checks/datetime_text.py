"""Date-time text: ``YYYY-MM-DD HH:MM:SS`` or ``YYYY-MM-DD`` naming a real date and time.

Check ``expect_column_values_to_be_valid_datetime_text`` (keyword ``date_only``: only ``YYYY-MM-DD``).
This module is also the one home of strict date-time parsing (:func:`parse_datetime`, :func:`parse_date`)
and of its SQL twin (:func:`sql_datetime_ok`, :func:`sql_datetime_key`, the macros in :data:`MACROS`)
that the other time checks use. Pure functions never raise on any ``str``.
"""

from __future__ import annotations

import datetime
import re

from toolkit.checks.base import Check, Example, Param
from toolkit.checks.sql import CompiledRule, RuleSql, let, nn

__all__ = [
    "CHECK",
    "MACROS",
    "TYPE",
    "is_date",
    "is_datetime",
    "parse_date",
    "parse_datetime",
    "sql_datetime_key",
    "sql_datetime_ok",
]

TYPE = "expect_column_values_to_be_valid_datetime_text"

_DATETIME_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?: ([0-9]{2}):([0-9]{2}):([0-9]{2}))?")


def parse_datetime(value: str) -> datetime.datetime | None:
    """Parse strictly ``YYYY-MM-DD HH:MM:SS`` or ``YYYY-MM-DD`` (meaning 00:00:00); else ``None``.

    The fields must be zero-padded, separated by exactly ``-``, one ASCII space and ``:``, and form a
    real calendar date and time (no 24:00:00, no leap second, no year 0000).
    """
    if not isinstance(value, str):
        return None
    m = _DATETIME_RE.fullmatch(value)
    if m is None:
        return None
    parts = [int(p) for p in m.groups() if p is not None]
    try:
        return datetime.datetime(*parts)
    except ValueError:
        return None


def is_datetime(value: str) -> bool:
    """True if :func:`parse_datetime` accepts ``value``."""
    return parse_datetime(value) is not None


def parse_date(value: str) -> datetime.date | None:
    """Parse strictly ``YYYY-MM-DD`` (a real calendar date); anything else, including a time, is ``None``."""
    if not isinstance(value, str) or len(value) != 10:
        return None
    parsed = parse_datetime(value)
    return parsed.date() if parsed is not None else None


def is_date(value: str) -> bool:
    """True if :func:`parse_date` accepts ``value``."""
    return parse_date(value) is not None


# ------------------------------------------------------------------------------------------------ SQL

MACROS = r"""
CREATE OR REPLACE MACRO dq_dt_ok(v) AS coalesce(CASE length(v)
    WHEN 19 THEN CAST(TRY_CAST(v AS TIMESTAMP) AS VARCHAR) = v
    WHEN 10 THEN CAST(TRY_CAST(v AS DATE) AS VARCHAR) = v
    ELSE false END, false);
CREATE OR REPLACE MACRO dq_date_ok(v) AS coalesce(length(v) = 10 AND CAST(TRY_CAST(v AS DATE) AS VARCHAR) = v, false);
CREATE OR REPLACE MACRO dq_dt_key(v) AS CASE WHEN length(v) = 10 THEN v || ' 00:00:00' ELSE v END;
CREATE OR REPLACE MACRO dq_ts_exact(v) AS CASE WHEN dq_dt_ok(v) THEN TRY_CAST(v AS TIMESTAMP) END;
"""


def sql_datetime_ok(v: str, date_only: bool = False) -> str:
    """:func:`is_datetime` (or :func:`is_date`) as SQL (false for NULL).

    A value is valid exactly when DuckDB reads it as a timestamp (date) and writes it back unchanged:
    DuckDB writes the canonical zero-padded ``YYYY-MM-DD HH:MM:SS`` of a real date and time, years
    0001–9999, which is what :func:`parse_datetime` accepts; a lenient reading (``2024-1-1``, ``T``, a
    fraction, year 0000 …) never writes back the same text."""
    return f"dq_date_ok({v})" if date_only else f"dq_dt_ok({v})"


def sql_datetime_key(v: str) -> str:
    """Sortable text of a valid datetime (date-only values get `` 00:00:00``)."""
    return f"dq_dt_key({v})"


def build_sql(r: RuleSql) -> CompiledRule:
    c, v = r.single()
    ok = let(sql_datetime_ok(v, r.flag("date_only")))
    return r.done([c], nn(v, f"NOT {ok[0]}"), lets=[ok])


def predicate(date_only: bool = False):
    return is_date if date_only else is_datetime


_SAMPLES = (
    "2024-03-05 14:30:00",
    "2024-03-05",
    "2024-02-29 00:00:00",
    "2023-02-29 00:00:00",
    "2024/03/05 14:30:00",
    "2024-3-5 14:30:00",
    "2024-03-05 24:00:00",
    "2024-03-05T14:30:00",
    "2024-03-05 14:30",
    "2024-03-05 14:30:00.5",
    "0000-01-01",
    "0001-01-01",
    "9999-12-31 23:59:59",
    "２０２４-03-05",
)

CHECK = Check(
    type=TYPE,
    params=(Param("date_only", False, bool),),
    sql=build_sql,
    macros=(MACROS,),
    predicate=predicate,
    metric="column_values.dq_valid_datetime_text",
    doc="Text in ``YYYY-MM-DD HH:MM:SS`` (or ``YYYY-MM-DD``) that names a real date and time.",
    tags=("datetime",),
    examples=(Example(_SAMPLES), Example(_SAMPLES, {"date_only": True})),
)
