"""Plausible timestamps: a readable date-time whose year is not a typo such as 2204.

Check ``expect_column_values_to_be_plausible_datetime`` (keywords ``min_year``, ``years_ahead``). The
window is :func:`plausible_years`; unreadable values are the format rule's business and count as
plausible here. The window is also what the working-time check and the engine's data cut-off use.
"""

from __future__ import annotations

import datetime

from toolkit.checks.base import Check, Example, Param
from toolkit.checks.datetime_text import MACROS as DATETIME_MACROS
from toolkit.checks.datetime_text import parse_datetime, sql_datetime_ok
from toolkit.checks.sql import CompiledRule, RuleSql, let, nn
from toolkit.errors import NotCompilable

__all__ = [
    "CHECK",
    "DEFAULT_MIN_YEAR",
    "DEFAULT_YEARS_AHEAD",
    "TYPE",
    "is_plausible_datetime",
    "plausible_years",
    "sql_year_between",
]

TYPE = "expect_column_values_to_be_plausible_datetime"

#: The plausible window of a registration timestamp when a pack sets none: from this year up to
#: ``DEFAULT_YEARS_AHEAD`` years after the current one.
DEFAULT_MIN_YEAR = 1949
DEFAULT_YEARS_AHEAD = 1


def plausible_years(
    min_year: int | None = None, years_ahead: int | None = None, *, today: datetime.date | None = None
) -> tuple[int, int]:
    """The window (first year, last year) a timestamp's year must fall in, relative to ``today``."""
    lo = DEFAULT_MIN_YEAR if min_year is None else int(min_year)
    ahead = DEFAULT_YEARS_AHEAD if years_ahead is None else int(years_ahead)
    return lo, (today or datetime.date.today()).year + ahead


def is_plausible_datetime(value: str, min_year: int | None = None, years_ahead: int | None = None) -> bool:
    """False only for a readable timestamp whose year is outside :func:`plausible_years` (a typo such as
    2204); unreadable values are the format rules' business and count as plausible here."""
    parsed = parse_datetime(value)
    if parsed is None:
        return True
    lo, hi = plausible_years(min_year, years_ahead)
    return lo <= parsed.year <= hi


def sql_year_between(v: str, lo: int, hi: int) -> str:
    """The year of a datetime text (its first four characters) lies in [lo, hi] (false if unreadable)."""
    return f"coalesce(TRY_CAST(substr({v}, 1, 4) AS INTEGER) BETWEEN {int(lo)} AND {int(hi)}, false)"


def build_sql(r: RuleSql) -> CompiledRule:
    c, v = r.single()
    for key in ("min_year", "years_ahead"):
        val = r.kwargs.get(key)
        if val is not None and (isinstance(val, bool) or not isinstance(val, int) or abs(val) > 9999):
            raise NotCompilable(f"{key} must be a whole number")
    lo, hi = plausible_years(r.kwargs.get("min_year"), r.kwargs.get("years_ahead"), today=r.today)
    ok = let(sql_datetime_ok(v))
    return r.done(
        [c], nn(v, f"CASE WHEN {ok[0]} THEN NOT {sql_year_between(v, lo, hi)} ELSE false END"), lets=[ok]
    )


def predicate(min_year: int | None = None, years_ahead: int | None = None):
    return lambda v: is_plausible_datetime(v, min_year, years_ahead)


_NEXT = datetime.date.today().year + DEFAULT_YEARS_AHEAD
_SAMPLES = (
    "2204-12-31 10:00:00",
    "1948-12-31",
    "1949-01-01 00:00:00",
    f"{_NEXT}-12-31 23:59:59",
    f"{_NEXT + 1}-01-01",
    "2024-03-05 14:30:00",
    "2204年",
    "0001-01-01",
)

CHECK = Check(
    type=TYPE,
    params=(Param("min_year", None, int | None), Param("years_ahead", None, int | None)),
    sql=build_sql,
    macros=(DATETIME_MACROS,),
    predicate=predicate,
    metric="column_values.dq_plausible_datetime",
    doc="A readable timestamp whose year lies between ``min_year`` and ``years_ahead`` years after the\n"
    "    current one (a typo such as 2204 fails; unreadable values are left to the format rule).",
    tags=("datetime",),
    examples=(
        Example(_SAMPLES),
        Example(_SAMPLES, {"min_year": 2024}),
        Example(_SAMPLES, {"min_year": 1900, "years_ahead": 0}),
    ),
)
