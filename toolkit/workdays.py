"""The Chinese working-day calendar used for processing-time (办理时限) checks.

Official holidays and make-up working days (调休上班) come from the ``chinesecalendar`` package for
the years it covers. For any other year the calendar falls back to Monday-Friday and warns once per
year (:class:`CalendarCoverageWarning`); a holiday file (:func:`from_holiday_file`) fixes that.

Each calendar builds a per-year table of working-day flags and running counts on first use, so
:meth:`WorkdayCalendar.is_workday` and :meth:`WorkdayCalendar.workdays_elapsed` are dictionary
look-ups — they are called hundreds of thousands of times per batch.
"""

from __future__ import annotations

import csv
import datetime
import io
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import chinese_calendar

from toolkit.checks.datetime_text import parse_date
from toolkit.errors import CalendarCoverageWarning, ConfigError

__all__ = ["CalendarCoverageWarning", "WorkdayCalendar", "from_holiday_file"]


class _Year:
    """Working-day flags of one year and ``before[i]`` = working days among its first ``i`` days."""

    __slots__ = ("before", "first", "flags")

    def __init__(self, first: datetime.date, flags: list[bool]) -> None:
        self.first = first
        self.flags = flags
        self.before = [0] * (len(flags) + 1)
        for i, flag in enumerate(flags):
            self.before[i + 1] = self.before[i] + flag

    @property
    def total(self) -> int:
        return self.before[-1]


_COVERAGE: dict[int, bool] = {}


def _library_covers(year: int) -> bool:
    if year not in _COVERAGE:
        try:
            chinese_calendar.is_workday(datetime.date(year, 6, 1))
        except NotImplementedError:
            _COVERAGE[year] = False
        else:
            _COVERAGE[year] = True
    return _COVERAGE[year]


class WorkdayCalendar:
    """Chinese working days: ``chinesecalendar`` data, then the user's overrides on top.

    ``holidays`` and ``workdays`` are extra days off and extra working days; they win over both the
    built-in data and the Monday-Friday fallback. A date in both is a :class:`ValueError`.
    """

    def __init__(
        self, holidays: Iterable[datetime.date] = (), workdays: Iterable[datetime.date] = ()
    ) -> None:
        self._holidays = frozenset(_as_date(d) for d in holidays)
        self._workdays = frozenset(_as_date(d) for d in workdays)
        both = self._holidays & self._workdays
        if both:
            raise ValueError(f"dates given as both holiday and workday: {sorted(both)}")
        self._years: dict[int, _Year] = {}

    def covers(self, year: int) -> bool:
        """True if the built-in holiday data covers ``year`` (the overrides do not count)."""
        return _library_covers(year)

    def _year(self, year: int) -> _Year:
        table = self._years.get(year)
        if table is not None:
            return table
        covered = _library_covers(year)
        first = datetime.date(year, 1, 1)
        n_days = (datetime.date(year, 12, 31) - first).days + 1
        flags = []
        for i in range(n_days):
            d = first + datetime.timedelta(days=i)
            if d in self._workdays:
                flags.append(True)
            elif d in self._holidays:
                flags.append(False)
            elif covered:
                flags.append(chinese_calendar.is_workday(d))
            else:
                flags.append(d.weekday() < 5)
        table = self._years[year] = _Year(first, flags)
        if not covered:
            # Stored first: even if the warning is turned into an error it is raised only once.
            warnings.warn(
                CalendarCoverageWarning(
                    f"节假日数据未覆盖 {year} 年，已按周一至周五为工作日计算；可提供节假日文件（date,type）补充。"
                    f" / No holiday data for year {year}; Monday-Friday was assumed as working days."
                    f" A holiday file (date,type) can be given.",
                    year,
                ),
                stacklevel=_caller_stacklevel(),
            )
        return table

    def is_workday(self, d: datetime.date) -> bool:
        """True if ``d`` (a date, or the date part of a datetime) is a working day."""
        d = _as_date(d)
        table = self._year(d.year)
        return table.flags[(d - table.first).days]

    def _workdays_up_to(self, d: datetime.date) -> tuple[int, int]:
        """(year, working days from 1 Jan of that year through ``d`` inclusive)."""
        table = self._year(d.year)
        return d.year, table.before[(d - table.first).days + 1]

    def first_workday_on_or_after(self, d: datetime.date) -> datetime.date:
        """The first working day on or after ``d``."""
        d = _as_date(d)
        while not self.is_workday(d):
            d += datetime.timedelta(days=1)
        return d

    def workdays_elapsed(self, start: datetime.date, end: datetime.date) -> int:
        """Working days used between ``start`` and ``end``, or ``-1`` if ``end`` is before ``start``.

        The clock starts on the first working day on or after the start date; the result counts the
        working days after that day up to and including the end date. So the same working day is 0,
        the next working day is 1, and a Saturday start with a Monday end is 0.
        """
        if _earlier(end, start):
            return -1
        first = self.first_workday_on_or_after(start)
        last = _as_date(end)
        if last <= first:
            return 0
        first_year, first_count = self._workdays_up_to(first)
        last_year, last_count = self._workdays_up_to(last)
        between = sum(self._year(y).total for y in range(first_year, last_year))
        return between + last_count - first_count


def _caller_stacklevel() -> int:
    """``stacklevel`` for a warning raised in our caller, pointing at the first frame outside this module."""
    level, frame = 1, sys._getframe(1)  # level 1 is the function that calls warnings.warn
    while frame is not None and frame.f_code.co_filename == __file__:
        frame, level = frame.f_back, level + 1
    return level


def _as_date(d: datetime.date) -> datetime.date:
    return d.date() if isinstance(d, datetime.datetime) else d


def _earlier(a: datetime.date, b: datetime.date) -> bool:
    """``a < b``, comparing full datetimes when both have a time, else dates only."""
    if isinstance(a, datetime.datetime) and isinstance(b, datetime.datetime):
        return a < b
    return _as_date(a) < _as_date(b)


_HOLIDAY_WORDS = {"holiday": True, "休": True, "假日": True, "workday": False, "班": False, "调休上班": False}


def _rows(reader: Any, bad: Callable[[int, str, str], ConfigError]) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, row) from a csv reader, turning CSV syntax errors into ``bad(...)``."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise bad(reader.line_num, f"CSV 格式错误：{exc}", f"CSV syntax error: {exc}") from exc
        yield reader.line_num, row


def from_holiday_file(path: Path | str) -> WorkdayCalendar:
    """Build a calendar from a UTF-8 CSV with header ``date,type``.

    ``date`` is ``YYYY-MM-DD``; ``type`` is ``holiday`` (or 休, 假日) or ``workday`` (or 班, 调休上班).
    Blank lines are skipped. Any other problem raises :class:`~toolkit.errors.ConfigError` naming the
    line.
    """
    path = Path(path)
    fix_zh = "每行写一个日期和类型，如 2031-10-01,holiday 或 2031-09-28,workday；首行为 date,type。"
    fix_en = (
        "write one date and type per line, e.g. 2031-10-01,holiday or 2031-09-28,workday; "
        "the first line is date,type."
    )

    def bad(line: int, zh: str, en: str) -> ConfigError:
        return ConfigError(
            f"节假日文件第 {line} 行：{zh}",
            f"holiday file line {line}: {en}",
            path=path,
            fix_zh=fix_zh,
            fix_en=fix_en,
        )

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"无法读取节假日文件：{exc}",
            f"cannot read the holiday file: {exc}",
            path=path,
            fix_zh="请确认文件存在且为 UTF-8 编码。",
            fix_en="make sure the file exists and is UTF-8 encoded.",
        ) from exc

    holidays: dict[datetime.date, int] = {}
    workdays: dict[datetime.date, int] = {}
    header_seen = False
    reader = csv.reader(io.StringIO(text), strict=True)
    for line_no, row in _rows(reader, bad):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if not header_seen:
            if [c.lower() for c in cells] != ["date", "type"]:
                raise bad(
                    line_no,
                    f"表头应为 date,type，实际为 {','.join(row)}",
                    f"the header must be date,type, got {','.join(row)}",
                )
            header_seen = True
            continue
        if len(cells) != 2:
            raise bad(line_no, f"应有 2 列，实际有 {len(cells)} 列", f"expected 2 columns, got {len(cells)}")
        day = parse_date(cells[0])
        if day is None:
            raise bad(
                line_no,
                f"日期“{cells[0]}”无效，应为 YYYY-MM-DD",
                f"invalid date {cells[0]!r}, expected YYYY-MM-DD",
            )
        kind = _HOLIDAY_WORDS.get(cells[1].lower())
        if kind is None:
            raise bad(
                line_no,
                f"类型“{cells[1]}”无效，应为 holiday/休/假日 或 workday/班/调休上班",
                f"invalid type {cells[1]!r}, expected holiday or workday",
            )
        mine, other = (holidays, workdays) if kind else (workdays, holidays)
        if day in other:
            raise bad(
                line_no,
                f"{day} 已在第 {other[day]} 行写为另一类型",
                f"{day} was given the other type on line {other[day]}",
            )
        mine.setdefault(day, line_no)
    if not header_seen:
        raise bad(1, "文件为空，缺少表头 date,type", "the file is empty; the header date,type is missing")
    return WorkdayCalendar(holidays=holidays, workdays=workdays)


_ACTIVE: WorkdayCalendar | None = None


def active_calendar() -> WorkdayCalendar:
    """The calendar the time-limit expectations use (set by :func:`use_calendar`; default: built-in)."""
    global _ACTIVE
    if _ACTIVE is None:
        _ACTIVE = WorkdayCalendar()
    return _ACTIVE


def use_calendar(calendar: WorkdayCalendar | None) -> None:
    """Make ``calendar`` the one time-limit rules use (``None`` restores the built-in calendar)."""
    global _ACTIVE
    _ACTIVE = calendar
