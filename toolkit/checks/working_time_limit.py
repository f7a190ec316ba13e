"""Working-time limit of a column pair: from column_A (accepted) to column_B (registered) within
``working_days`` Chinese working days and/or ``minutes`` wall-clock minutes.

Check ``expect_column_pair_values_to_be_within_working_time_limit``. Working days follow the active
calendar (:func:`toolkit.workdays.active_calendar`: public holidays and make-up workdays count). A row
with a missing, unreadable or reversed time, or a year outside
:func:`~toolkit.checks.plausible_datetime.plausible_years` (a typo such as 2204), is skipped: other rules
report those. In SQL the engine provides the calendar as table ``dq_cal`` and macro ``dq_wcum_out``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.checks.base import Check, Example, Param
from toolkit.checks.datetime_text import MACROS as DATETIME_MACROS
from toolkit.checks.datetime_text import parse_datetime, sql_datetime_key, sql_datetime_ok
from toolkit.checks.plausible_datetime import plausible_years, sql_year_between
from toolkit.checks.sql import CompiledRule, RuleSql, alias, let, pair_case
from toolkit.errors import NotCompilable

if TYPE_CHECKING:
    from toolkit.workdays import WorkdayCalendar

__all__ = ["CHECK", "MACROS", "TYPE", "is_within_working_time_limit"]

TYPE = "expect_column_pair_values_to_be_within_working_time_limit"


def is_within_working_time_limit(
    start: str,
    end: str,
    working_days: int | None = None,
    minutes: float | None = None,
    *,
    calendar: WorkdayCalendar | None = None,
    years: tuple[int, int] | None = None,
) -> bool:
    """False only if ``start`` → ``end`` (readable, in order, plausible years) takes longer than
    ``minutes`` or more than ``working_days`` working days of ``calendar`` (default: the active one).
    ``years``: the plausible window, default :func:`plausible_years` (pass both when testing many rows)."""
    a, b = parse_datetime(start), parse_datetime(end)
    if a is None or b is None or b < a:
        return True  # unreadable or reversed times are reported by other rules
    lo, hi = years or plausible_years()
    if not (lo <= a.year <= hi and lo <= b.year <= hi):
        return True  # an implausible year (a typo such as 2204) is the plausibility rules' business
    if minutes is not None and (b - a).total_seconds() > float(minutes) * 60:
        return False
    if working_days is None:
        return True
    if calendar is None:
        from toolkit import workdays  # here: toolkit.workdays imports toolkit.validators, which imports us

        calendar = workdays.active_calendar()
    return not calendar.workdays_elapsed(a, b) > int(working_days)


# ------------------------------------------------------------------------------------------------ SQL

MACROS = r"""
CREATE OR REPLACE MACRO dq_weekdays(d) AS
    5 * ((date_diff('day', DATE '0001-01-01', d) + 1) // 7)
    + least((date_diff('day', DATE '0001-01-01', d) + 1) % 7, 5);
"""


def build_sql(r: RuleSql) -> CompiledRule:
    ca, cb, a, b = r.pair()
    lets = [let(sql_datetime_ok(a)), let(sql_datetime_ok(b))]
    parsed = f"{lets[0][0]} AND {lets[1][0]}"
    ka, kb = sql_datetime_key(a), sql_datetime_key(b)
    wd, minutes = r.kwargs.get("working_days"), r.kwargs.get("minutes")
    if wd is not None and (isinstance(wd, bool) or not isinstance(wd, (int, float))):
        raise NotCompilable("working_days must be a number")
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, (int, float))):
        raise NotCompilable("minutes must be a number")
    fails = []
    if minutes is not None:
        seconds = float(minutes) * 60
        fails.append(
            f"CAST(epoch(dq_ts_exact({b})) - epoch(dq_ts_exact({a})) AS DOUBLE) > CAST({seconds!r} AS DOUBLE)"
        )
    joins: list[tuple[str, str]] = []
    if wd is not None:
        da, db = alias("cal_start", ca), alias("cal_end", cb)
        joins = [
            (da, f"LEFT JOIN dq_cal {da} ON {da}.dq_d = TRY_CAST(substr(t.{a}, 1, 10) AS DATE) - 1"),
            (db, f"LEFT JOIN dq_cal {db} ON {db}.dq_d = TRY_CAST(substr(t.{b}, 1, 10) AS DATE)"),
        ]
        elapsed = (
            f"greatest(0, coalesce({db}.dq_c, dq_wcum_out(TRY_CAST(substr({b}, 1, 10) AS DATE)))"
            f" - coalesce({da}.dq_c, dq_wcum_out(TRY_CAST(substr({a}, 1, 10) AS DATE) - 1)) - 1)"
        )
        fails.append(f"{elapsed} > {int(wd)}")
    if not fails:
        return r.done([ca, cb], "false")
    lo, hi = plausible_years(today=r.today)  # implausible years are the plausibility rules' business
    plausible = f"{sql_year_between(a, lo, hi)} AND {sql_year_between(b, lo, hi)}"
    bad = f"CASE WHEN {parsed} AND {kb} >= {ka} AND {plausible} THEN ({' OR '.join(fails)}) ELSE false END"
    return r.done([ca, cb], pair_case(a, b, bad), lets=lets, joins=joins, uses_calendar=wd is not None)


def predicate(working_days: int | None = None, minutes: float | None = None):
    from toolkit import workdays  # see is_within_working_time_limit

    calendar, years = workdays.active_calendar(), plausible_years()
    return lambda a, b: is_within_working_time_limit(
        a, b, working_days, minutes, calendar=calendar, years=years
    )


_PAIRS = (  # 2024 National Day: 10-01..10-07 off; Sun 09-29 and Sat 10-12 worked
    ("2024-09-30 09:00:00", "2024-10-10 17:00:00"),
    ("2024-09-30 09:00:00", "2024-10-11 09:00:00"),
    ("2024-09-28 09:00:00", "2024-10-10 09:00:00"),
    ("2024-10-10 09:00:00", "2024-10-15 09:00:00"),
    ("2024-10-03 09:00:00", "2024-10-12 09:00:00"),
    ("2024-09-29 16:00:00", "2024-09-30 09:00:00"),
    ("2024-10-12 16:00:00", "2024-10-13 09:00:00"),
    ("2024-10-08 09:00:00", "2024-10-08 10:30:01"),
    ("2024-10-08 23:00:00", "2024-10-09 00:29:59"),
    ("2024-09-30", "2024-10-11"),
    ("2024-10-09 09:00:00", "2024-10-08 09:00:00"),
    ("2024/09/01 09:00:00", "2024-10-30 09:00:00"),
    ("2204-09-01 09:00:00", "2204-10-30 09:00:00"),
)

CHECK = Check(
    type=TYPE,
    params=(Param("working_days", None, int | None), Param("minutes", None, int | None)),
    ignore_row_if="either_value_is_missing",
    sql=build_sql,
    macros=(DATETIME_MACROS, MACROS),
    predicate=predicate,
    metric="column_pair_values.dq_within_working_time_limit",
    doc="From column_A (accepted) to column_B (registered) within ``working_days`` Chinese working days\n"
    "    (public holidays and make-up workdays count) and/or within ``minutes`` wall-clock minutes. Rows with\n"
    "    an unreadable, reversed or implausible time (a year outside\n"
    "    :func:`toolkit.checks.plausible_datetime.plausible_years`) are left to the rules that report those.",
    tags=("datetime", "china"),
    examples=(
        Example(_PAIRS, {"working_days": 3}),
        Example(_PAIRS, {"working_days": 0}),
        Example(_PAIRS, {"minutes": 90}),
        Example(_PAIRS, {"working_days": 2, "minutes": 600}),
        Example(_PAIRS),
    ),
)
