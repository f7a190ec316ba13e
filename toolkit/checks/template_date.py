"""Dates as the national credit-information template writes them: ``YYYY/MM/DD`` or ``YYYY-MM-DD``
(one separator throughout), with ``with_time`` a time ``HH:MM:SS`` after one space — naming a real
calendar date and time (years 0001–9999).

Check ``expect_column_values_to_be_template_date`` (keyword ``with_time``: a date-time is required
instead of a date). Any other spelling (``20240102``, ``2024.1.2``, ``2024年1月2日``, ``2024/1/2``, an Excel
serial number, a mixed ``2024/01-02``) is a format failure, never a crash.

This module is the one home of the template's spellings: :func:`parse_template_datetime` reads a date or
a date-time in either spelling (the other template checks — :mod:`toolkit.checks.month_span`,
:mod:`toolkit.checks.working_days_after` — use it), and its SQL twin is the macro ``dq_tpl_ts``
(:data:`MACROS`): the ``/`` spelling is rewritten to ``-`` and read by the strict date-time macros of
:mod:`toolkit.checks.datetime_text`.
"""

from __future__ import annotations

import datetime
import re

from toolkit.checks.base import Check, Example, Param
from toolkit.checks.datetime_text import MACROS as DATETIME_MACROS
from toolkit.checks.datetime_text import parse_datetime
from toolkit.checks.sql import CompiledRule, RuleSql, let, nn

__all__ = [
    "CHECK",
    "MACROS",
    "TYPE",
    "is_template_date",
    "parse_template_datetime",
    "sql_template_date",
    "sql_template_ts",
]

TYPE = "expect_column_values_to_be_template_date"

_SLASH_RE = re.compile(r"[0-9]{4}/[0-9]{2}/[0-9]{2}(?: [0-9]{2}:[0-9]{2}:[0-9]{2})?")


def parse_template_datetime(value: str) -> datetime.datetime | None:
    """A date (``YYYY/MM/DD`` or ``YYYY-MM-DD``, meaning 00:00:00) or a date-time (the same followed by
    `` HH:MM:SS``) as written in the template, else ``None``. Never raises."""
    if not isinstance(value, str):
        return None
    if _SLASH_RE.fullmatch(value):
        value = value.replace("/", "-")
    return parse_datetime(value)


def is_template_date(value: str, with_time: bool = False) -> bool:
    """True if ``value`` is a template date (``with_time``: a template date-time)."""
    return (
        isinstance(value, str)
        and len(value) == (19 if with_time else 10)
        and (parse_template_datetime(value) is not None)
    )


# ------------------------------------------------------------------------------------------------ SQL

MACROS = r"""
CREATE OR REPLACE MACRO dq_tpl_canon(v) AS CASE
    WHEN regexp_full_match(v, '[0-9]{4}/[0-9]{2}/[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?') THEN replace(v, '/', '-')
    ELSE v END;
CREATE OR REPLACE MACRO dq_tpl_ts(v) AS dq_ts_exact(dq_tpl_canon(v));
"""


def sql_template_ts(v: str) -> str:
    """SQL: :func:`parse_template_datetime` as a TIMESTAMP (NULL when unreadable)."""
    return f"dq_tpl_ts({v})"


def sql_template_date(v: str) -> str:
    """SQL: the DATE of a readable template date or date-time (NULL when unreadable)."""
    return f"CAST(dq_tpl_ts({v}) AS DATE)"


def build_sql(r: RuleSql) -> CompiledRule:
    c, v = r.single()
    n = 19 if r.flag("with_time") else 10
    ok = let(f"coalesce(length({v}) = {n} AND dq_tpl_ts({v}) IS NOT NULL, false)")
    return r.done([c], nn(v, f"NOT {ok[0]}"), lets=[ok])


def predicate(with_time: bool = False):
    return lambda v: is_template_date(v, with_time)


_SAMPLES = (
    "2024/03/05",
    "2024-03-05",
    "2024/02/29",
    "2023/02/29",
    "2024/03-05",
    "2024/3/5",
    "20240305",
    "2024.03.05",
    "2024年3月5日",
    "45356",
    "2024/03/05 14:30:00",
    "2024-03-05 14:30:00",
    "2024/03/05 24:00:00",
    "2024/03/05T14:30:00",
    "2024-03-05 14:30",
    "0000/01/01",
    "0001/01/01",
    "9999/12/31 23:59:59",
    "２０２４/03/05",
    "2024/03/05\n",
    "2099/12/31",
)

CHECK = Check(
    type=TYPE,
    params=(Param("with_time", False, bool),),
    sql=build_sql,
    macros=(DATETIME_MACROS, MACROS),
    predicate=predicate,
    metric="column_values.dq_template_date",
    doc="A real date written ``YYYY/MM/DD`` or ``YYYY-MM-DD`` (``with_time``: followed by `` HH:MM:SS``).",
    tags=("datetime", "china"),
    examples=(Example(_SAMPLES), Example(_SAMPLES, {"with_time": True})),
)
