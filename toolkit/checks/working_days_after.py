"""A deadline in working days after a date: column_B's date is at most ``working_days`` Chinese working
days after column_A's date — counting the working days *after* column_A's date (exclusive) up to and
including column_B's date (e.g. a decision disclosed within 7 working days: 双公示的 7 个工作日).

Check ``expect_column_pair_values_to_be_within_working_days_after`` (keyword ``working_days``, default 7).
Working days follow the active calendar (:func:`toolkit.workdays.active_calendar`: public holidays and
make-up working days count). Both values are template dates or date-times
(:func:`~toolkit.checks.template_date.parse_template_datetime`; only the date counts). A row with an
unreadable value, column_B before column_A, or a year outside
:func:`~toolkit.checks.plausible_datetime.plausible_years` is skipped: other rules report those. In SQL
the engine provides the calendar as table ``dq_cal`` (cumulative working days through each date) and the
macro ``dq_wcum_out`` (the same outside the table's years), so the count is ``C(B) − C(A)``.

Unlike :mod:`toolkit.checks.working_time_limit` (whose clock starts on the first working day on or after
the start), a date that is not a working day is simply not counted: a Saturday decision disclosed on the
next Monday took 1 working day.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from toolkit.checks.base import Check, Example, Param
from toolkit.checks.datetime_text import MACROS as DATETIME_MACROS
from toolkit.checks.plausible_datetime import plausible_years
from toolkit.checks.sql import CompiledRule, RuleSql, alias, let, pair_case
from toolkit.checks.template_date import MACROS as TEMPLATE_MACROS
from toolkit.checks.template_date import parse_template_datetime
from toolkit.checks.working_time_limit import MACROS as WEEKDAY_MACROS
from toolkit.errors import NotCompilable

if TYPE_CHECKING:
    from toolkit.workdays import WorkdayCalendar

__all__ = ["CHECK", "DEFAULT_WORKING_DAYS", "TYPE", "is_within_working_days_after", "working_days_between"]

TYPE = "expect_column_pair_values_to_be_within_working_days_after"
DEFAULT_WORKING_DAYS = 7


def working_days_between(start: datetime.date, end: datetime.date, calendar: WorkdayCalendar) -> int:
    """Working days of ``calendar`` after ``start`` up to and including ``end`` (0 if ``end`` ≤ ``start``)."""
    if end <= start:
        return 0
    elapsed = calendar.workdays_elapsed(start, end)  # counts from the first working day on or after start
    if calendar.is_workday(start):
        return elapsed
    return elapsed + (1 if calendar.first_workday_on_or_after(start) <= end else 0)


def is_within_working_days_after(
    first: str,
    second: str,
    working_days: int = DEFAULT_WORKING_DAYS,
    *,
    calendar: WorkdayCalendar | None = None,
    years: tuple[int, int] | None = None,
) -> bool:
    """False only if both are readable template dates in plausible years, ``second`` is not before
    ``first`` and more than ``working_days`` working days of ``calendar`` (default: the active one) lie
    after ``first`` up to ``second``."""
    a, b = parse_template_datetime(first), parse_template_datetime(second)
    if a is None or b is None or b.date() < a.date():
        return True
    lo, hi = years or plausible_years()
    if not (lo <= a.year <= hi and lo <= b.year <= hi):
        return True
    if calendar is None:
        from toolkit import workdays  # here: toolkit.workdays imports toolkit.checks

        calendar = workdays.active_calendar()
    return working_days_between(a.date(), b.date(), calendar) <= int(working_days)


# ------------------------------------------------------------------------------------------------ SQL


def build_sql(r: RuleSql) -> CompiledRule:
    ca, cb, a, b = r.pair()
    wd = r.int_or_none("working_days")
    wd = DEFAULT_WORKING_DAYS if wd is None else wd
    if wd < 0:
        raise NotCompilable("negative working_days")
    da, db = let(f"CAST(dq_tpl_ts({a}) AS DATE)"), let(f"CAST(dq_tpl_ts({b}) AS DATE)")
    ja, jb = alias("wda_start", ca), alias("wda_end", cb)
    joins = [
        (ja, f"LEFT JOIN dq_cal {ja} ON {ja}.dq_d = t.{da[0]}"),
        (jb, f"LEFT JOIN dq_cal {jb} ON {jb}.dq_d = t.{db[0]}"),
    ]
    count = f"coalesce({jb}.dq_c, dq_wcum_out({db[0]})) - coalesce({ja}.dq_c, dq_wcum_out({da[0]}))"
    lo, hi = plausible_years(today=r.today)
    ok = f"{da[0]} IS NOT NULL AND {db[0]} IS NOT NULL AND {db[0]} >= {da[0]}"
    plausible = (
        f"year({da[0]}) BETWEEN {int(lo)} AND {int(hi)} AND year({db[0]}) BETWEEN {int(lo)} AND {int(hi)}"
    )
    bad = f"CASE WHEN {ok} AND {plausible} THEN {count} > {int(wd)} ELSE false END"
    return r.done([ca, cb], pair_case(a, b, bad), lets=[da, db], joins=joins, uses_calendar=True)


def predicate(working_days: int = DEFAULT_WORKING_DAYS):
    from toolkit import workdays  # see is_within_working_days_after

    calendar, years = workdays.active_calendar(), plausible_years()
    n = DEFAULT_WORKING_DAYS if working_days is None else int(working_days)
    return lambda a, b: is_within_working_days_after(a, b, n, calendar=calendar, years=years)


# 2024 National Day: 10-01 … 10-07 off; Sunday 09-29 and Saturday 10-12 are make-up working days
_PAIRS = (
    ("2024/09/26", "2024/10/09"),  # 09-27, 09-29, 09-30, 10-08, 10-09: 5
    ("2024/09/26", "2024/10/11 16:00:00"),  # … 10-10, 10-11: 7
    ("2024/09/26", "2024/10/12"),  # … 10-12 (make-up Saturday): 8
    ("2024/09/26", "2024-10-14 09:00:00"),  # 9
    ("2024/09/28", "2024/09/30"),  # Saturday decision: 09-29, 09-30 = 2
    ("2024/10/05", "2024/10/08"),  # holiday decision: 10-08 = 1
    ("2024/10/05", "2024/10/07"),  # 0
    ("2024/09/30", "2024/10/08"),  # 1
    ("2024/10/09", "2024/10/08"),  # reversed: skipped
    ("2024/03/01", "2024/03/12"),  # 7 working days
    ("2024/03/01", "2024/03/13"),  # 8
    ("2024/3/1", "2024/03/13"),  # unreadable: skipped
    ("2204/03/01", "2204/04/13"),  # implausible year: skipped
    ("2024-12-31", "2025-01-10"),  # across the new year (01-01 off): 7
)

CHECK = Check(
    type=TYPE,
    params=(Param("working_days", DEFAULT_WORKING_DAYS, int),),
    ignore_row_if="either_value_is_missing",
    sql=build_sql,
    macros=(DATETIME_MACROS, TEMPLATE_MACROS, WEEKDAY_MACROS),
    predicate=predicate,
    metric="column_pair_values.dq_within_working_days_after",
    doc="At most ``working_days`` Chinese working days after column_A's date (exclusive) up to column_B's\n"
    "    date (inclusive); template dates, public holidays and make-up working days count.",
    tags=("datetime", "china"),
    examples=(
        Example(_PAIRS),
        Example(_PAIRS, {"working_days": 0}),
        Example(_PAIRS, {"working_days": 2}),
    ),
)
