"""A span of calendar months between two template dates: column_B's date is at least ``min_months``
(default 0: not before column_A's date) and, with ``max_months``, at most that many months after
column_A's date.

Check ``expect_column_pair_values_to_span_months`` (keywords ``min_months``, ``max_months``). Both values
are template dates or date-times (:func:`~toolkit.checks.template_date.parse_template_datetime`; only the
date counts); a row where either is unreadable is skipped — the format rules report it. Adding ``n``
months keeps the day and clamps it to the end of a shorter month (2024-01-31 + 1 month = 2024-02-29), as
DuckDB's ``INTERVAL`` does; the comparison works on (month number, day) so no date ever overflows.

Uses: a licence's validity (有效期自 ≤ 有效期至: ``min_months`` 0), a decision not after the batch's as-of,
a penalty's disclosure window (公示截止期 between 3 and 36 months after the decision).
"""

from __future__ import annotations

import datetime

from toolkit.checks.base import Check, Example, Param
from toolkit.checks.citizen_id import MACROS as DAYS_IN_MONTH_MACROS
from toolkit.checks.datetime_text import MACROS as DATETIME_MACROS
from toolkit.checks.sql import CompiledRule, RuleSql, let, pair_case
from toolkit.checks.template_date import MACROS as TEMPLATE_MACROS
from toolkit.checks.template_date import parse_template_datetime
from toolkit.errors import NotCompilable

__all__ = ["CHECK", "TYPE", "add_months_key", "spans_months"]

TYPE = "expect_column_pair_values_to_span_months"
#: Largest month count a rule may use (a thousand years).
MAX_MONTHS = 12_000


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 else 28
    return 30 if month in (4, 6, 9, 11) else 31


def add_months_key(day: datetime.date, months: int) -> tuple[int, int]:
    """(month number, day) of ``day`` + ``months`` calendar months, the day clamped to the month's end;
    ``month number`` = year × 12 + month − 1, so any result compares without building a date."""
    number = day.year * 12 + day.month - 1 + int(months)
    year, month = divmod(number, 12)
    return number, min(day.day, _days_in_month(year, month + 1))


def _key(day: datetime.date) -> tuple[int, int]:
    return day.year * 12 + day.month - 1, day.day


def spans_months(first: str, second: str, min_months: int = 0, max_months: int | None = None) -> bool:
    """False only if both are readable template dates and ``second`` is earlier than ``first`` +
    ``min_months`` months, or later than ``first`` + ``max_months`` months."""
    a, b = parse_template_datetime(first), parse_template_datetime(second)
    if a is None or b is None:
        return True
    end = _key(b.date())
    if end < add_months_key(a.date(), min_months):
        return False
    return max_months is None or end <= add_months_key(a.date(), max_months)


# ------------------------------------------------------------------------------------------------ SQL


def _months(r: RuleSql, key: str) -> int | None:
    value = r.int_or_none(key)
    if value is not None and abs(value) > MAX_MONTHS:
        raise NotCompilable(f"{key} beyond {MAX_MONTHS}")
    return value


def _sql_key(ts: str, months: int) -> tuple[str, str]:
    """SQL (month number, clamped day) of the date of TIMESTAMP ``ts`` plus ``months`` months."""
    number = f"(year({ts}) * 12 + month({ts}) - 1 + {int(months)})"
    day = f"least(day({ts}), dq_dim({number} // 12, {number} % 12 + 1))"
    return number, day


def _before(a: tuple[str, str], b: tuple[str, str]) -> str:
    """SQL: (month, day) ``a`` is earlier than ``b``."""
    return f"({a[0]} < {b[0]} OR ({a[0]} = {b[0]} AND {a[1]} < {b[1]}))"


def build_sql(r: RuleSql) -> CompiledRule:
    ca, cb, a, b = r.pair()
    lo = _months(r, "min_months")
    lo = 0 if lo is None else lo
    hi = _months(r, "max_months")
    ta, tb = let(f"dq_tpl_ts({a})"), let(f"dq_tpl_ts({b})")
    end = _sql_key(tb[0], 0)
    fails = [_before(end, _sql_key(ta[0], lo))]
    if hi is not None:
        fails.append(_before(_sql_key(ta[0], hi), end))
    bad = f"CASE WHEN {ta[0]} IS NOT NULL AND {tb[0]} IS NOT NULL THEN ({' OR '.join(fails)}) ELSE false END"
    return r.done([ca, cb], pair_case(a, b, bad), lets=[ta, tb])


def predicate(min_months: int = 0, max_months: int | None = None):
    lo = 0 if min_months is None else int(min_months)
    hi = None if max_months is None else int(max_months)
    return lambda a, b: spans_months(a, b, lo, hi)


_PAIRS = (
    ("2024/01/31", "2024/04/30"),
    ("2024/01/31", "2024/04/29"),
    ("2024/01/31", "2024-02-29"),
    ("2023/01/31", "2023/02/28"),
    ("2024/03/05", "2024/03/05"),
    ("2024/03/05", "2024/03/04"),
    ("2024/03/05", "2027/03/05"),
    ("2024/03/05", "2027/03/06"),
    ("2024-02-29", "2027-02-28"),
    ("2024/03/05 23:59:59", "2024/03/05 00:00:00"),
    ("2024/03/05", "2024-06-05 10:00:00"),
    ("2024/3/5", "2024/01/01"),
    ("2024/03/05", "2024.06.05"),
    ("9999/12/31", "9999/12/31"),
    ("0001/01/01", "9999/12/31"),
    ("2099/12/31", "2024/03/05"),
)

CHECK = Check(
    type=TYPE,
    params=(Param("min_months", 0, int | None), Param("max_months", None, int | None)),
    ignore_row_if="either_value_is_missing",
    sql=build_sql,
    macros=(DATETIME_MACROS, TEMPLATE_MACROS, DAYS_IN_MONTH_MACROS),
    predicate=predicate,
    metric="column_pair_values.dq_span_months",
    doc="column_B's date is at least ``min_months`` (default 0) and at most ``max_months`` calendar months\n"
    "    after column_A's date (template dates ``YYYY/MM/DD`` or ``YYYY-MM-DD``; unreadable values skipped).",
    tags=("datetime", "china"),
    examples=(
        Example(_PAIRS),
        Example(_PAIRS, {"min_months": 3, "max_months": 36}),
        Example(_PAIRS, {"min_months": 1}),
        Example(_PAIRS, {"min_months": -1, "max_months": 0}),
    ),
)
