"""Tests for toolkit.workdays."""

from __future__ import annotations

import datetime
import warnings
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit.errors import ConfigError
from toolkit.workdays import CalendarCoverageWarning, WorkdayCalendar, from_holiday_file

D = datetime.date
DT = datetime.datetime


@pytest.fixture
def cal() -> WorkdayCalendar:
    return WorkdayCalendar()


def test_national_day_2024(cal: WorkdayCalendar) -> None:
    for day in range(1, 8):
        assert not cal.is_workday(D(2024, 10, day)), day
    assert cal.is_workday(D(2024, 10, 8))
    assert cal.is_workday(D(2024, 9, 29))  # Sunday, make-up workday
    assert cal.is_workday(D(2024, 10, 12))  # Saturday, make-up workday
    assert not cal.is_workday(D(2024, 9, 28))  # ordinary Saturday
    assert not cal.is_workday(D(2024, 10, 13))  # ordinary Sunday


def test_spring_festival_2024(cal: WorkdayCalendar) -> None:
    assert D(2024, 2, 4).weekday() == 6
    assert cal.is_workday(D(2024, 2, 4))
    assert not cal.is_workday(D(2024, 2, 12))  # a Monday in the holiday


def test_datetime_accepted(cal: WorkdayCalendar) -> None:
    assert not cal.is_workday(DT(2024, 10, 1, 9, 30))
    assert cal.is_workday(DT(2024, 10, 8, 23, 59))


def test_covers(cal: WorkdayCalendar) -> None:
    assert cal.covers(2024)
    assert cal.covers(2004)
    assert not cal.covers(2003)
    assert not cal.covers(2031)


def test_first_workday_on_or_after(cal: WorkdayCalendar) -> None:
    assert cal.first_workday_on_or_after(D(2024, 10, 1)) == D(2024, 10, 8)
    assert cal.first_workday_on_or_after(D(2024, 9, 28)) == D(2024, 9, 29)
    assert cal.first_workday_on_or_after(D(2024, 10, 8)) == D(2024, 10, 8)
    assert cal.first_workday_on_or_after(DT(2024, 6, 15, 10)) == D(2024, 6, 17)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (DT(2024, 9, 30, 9), DT(2024, 9, 30, 17), 0),  # same working day
        (DT(2024, 9, 30, 9), DT(2024, 10, 8, 9), 1),  # across National Day: next working day
        (DT(2024, 9, 27, 9), DT(2024, 10, 12, 9), 7),  # 9-29, 9-30, 10-8..10-12
        (DT(2024, 9, 27, 9), DT(2024, 10, 7, 9), 2),  # 9-29, 9-30
        (DT(2024, 10, 1, 9), DT(2024, 10, 7, 9), 0),  # starts in the holiday, clock not yet running
        (DT(2024, 10, 1, 9), DT(2024, 10, 8, 9), 0),  # clock starts 10-08
        (DT(2024, 10, 1, 9), DT(2024, 10, 9, 9), 1),
        (DT(2024, 6, 15, 9), DT(2024, 6, 17, 9), 0),  # Saturday start, Monday end
        (DT(2024, 6, 15, 9), DT(2024, 6, 16, 9), 0),  # Saturday start, Sunday end
        (DT(2024, 6, 14, 9), DT(2024, 6, 17, 9), 1),  # Friday to Monday
        (DT(2023, 12, 29, 9), DT(2024, 1, 2, 9), 1),  # across New Year and the year boundary
        (DT(2024, 1, 2, 9), DT(2024, 12, 31, 9), 250),
        (DT(2024, 9, 30, 17), DT(2024, 9, 30, 9), -1),  # end before start, same day
        (DT(2024, 10, 8, 9), DT(2024, 9, 30, 9), -1),
    ],
)
def test_workdays_elapsed(cal: WorkdayCalendar, start: DT, end: DT, expected: int) -> None:
    assert cal.workdays_elapsed(start, end) == expected


def naive_elapsed(start: D, end: D) -> int:
    """Day by day, straight from chinese_calendar."""
    if end < start:
        return -1
    while not chinese_calendar.is_workday(start):
        start += datetime.timedelta(days=1)
    count, d = 0, start + datetime.timedelta(days=1)
    while d <= end:
        count += chinese_calendar.is_workday(d)
        d += datetime.timedelta(days=1)
    return count


SHARED = WorkdayCalendar()  # its per-year tables are built once, as in real use


@given(st.dates(D(2004, 1, 1), D(2026, 12, 20)), st.integers(-10, 400))
def test_elapsed_agrees_with_day_by_day_count(a: D, span: int) -> None:
    b = min(a + datetime.timedelta(days=span), D(2026, 12, 31))
    cal = SHARED
    assert cal.workdays_elapsed(a, b) == naive_elapsed(a, b)
    for d in (a, b):
        assert cal.is_workday(d) is chinese_calendar.is_workday(d)


def test_elapsed_accepts_mixed_date_and_datetime(cal: WorkdayCalendar) -> None:
    assert cal.workdays_elapsed(D(2024, 9, 30), DT(2024, 10, 8, 9)) == 1
    assert cal.workdays_elapsed(DT(2024, 9, 30, 17), D(2024, 9, 30)) == 0  # dates only when mixed


def test_fallback_year_warns_once() -> None:
    cal = WorkdayCalendar()
    with pytest.warns(CalendarCoverageWarning) as record:
        assert cal.is_workday(D(2031, 10, 1))  # a Wednesday; no holiday data, so Monday-Friday
        assert not cal.is_workday(D(2031, 10, 4))  # Saturday
        assert cal.workdays_elapsed(DT(2031, 10, 3, 9), DT(2031, 10, 6, 9)) == 1
        assert cal.first_workday_on_or_after(D(2031, 10, 4)) == D(2031, 10, 6)
    assert len(record) == 1
    message = str(record[0].message)
    assert "2031" in message
    assert "节假日" in message and "holiday file" in message
    assert record[0].filename == __file__  # points at the caller, not into the toolkit


def test_fallback_warns_per_year_and_per_instance() -> None:
    first = WorkdayCalendar()
    with pytest.warns(CalendarCoverageWarning) as record:
        first.is_workday(D(2031, 1, 1))
        first.is_workday(D(2032, 1, 1))
        first.is_workday(D(2031, 6, 1))
        WorkdayCalendar().is_workday(D(2031, 1, 1))
    assert [("2031" in str(w.message), "2032" in str(w.message)) for w in record] == [
        (True, False),
        (False, True),
        (True, False),
    ]


def test_covered_years_do_not_warn(cal: WorkdayCalendar) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cal.workdays_elapsed(DT(2004, 1, 1), DT(2026, 12, 31))


def test_elapsed_across_into_fallback_years(cal: WorkdayCalendar) -> None:
    with pytest.warns(CalendarCoverageWarning) as record:
        # 2027-01-01 is a Friday: with Monday-Friday it counts; 2026-12-31 (Thursday) is the start.
        assert cal.workdays_elapsed(DT(2026, 12, 31, 9), DT(2027, 1, 4, 9)) == 2
    assert len(record) == 1 and "2027" in str(record[0].message)


def test_overrides_win() -> None:
    cal = WorkdayCalendar(holidays=[D(2024, 10, 8), DT(2024, 6, 17, 8)], workdays=[D(2024, 10, 5)])
    assert not cal.is_workday(D(2024, 10, 8))
    assert not cal.is_workday(D(2024, 6, 17))
    assert cal.is_workday(D(2024, 10, 5))
    assert cal.is_workday(D(2024, 10, 9))
    assert cal.workdays_elapsed(DT(2024, 9, 30), DT(2024, 10, 9)) == 2  # 10-05, 10-09


def test_overrides_in_fallback_year() -> None:
    cal = WorkdayCalendar(holidays=[D(2031, 10, 1)], workdays=[D(2031, 10, 4)])
    with pytest.warns(CalendarCoverageWarning):
        assert not cal.is_workday(D(2031, 10, 1))
    assert cal.is_workday(D(2031, 10, 4))
    assert cal.is_workday(D(2031, 10, 2))


def test_conflicting_overrides() -> None:
    with pytest.raises(ValueError):
        WorkdayCalendar(holidays=[D(2024, 1, 1)], workdays=[D(2024, 1, 1)])


# --------------------------------------------------------------------------------------------------
# Holiday file
# --------------------------------------------------------------------------------------------------


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "holidays.csv"
    path.write_text(text, encoding=encoding)
    return path


def test_holiday_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "date,type\n"
        "2031-10-01,holiday\n"
        "2031-10-02,休\n"
        "\n"
        "2031-10-03, 假日 \n"
        "2031-09-27,workday\n"
        "2031-10-11,班\n"
        "2031-10-12,调休上班\n"
        "2024-10-08,HOLIDAY\n",
    )
    cal = from_holiday_file(path)
    assert not cal.is_workday(D(2024, 10, 8))  # overrides the built-in data
    assert cal.is_workday(D(2024, 10, 9))
    with pytest.warns(CalendarCoverageWarning):  # the file does not make 2031 "covered"
        for day in (1, 2, 3):
            assert not cal.is_workday(D(2031, 10, day))
    assert cal.is_workday(D(2031, 9, 27))  # Saturday made a workday
    assert cal.is_workday(D(2031, 10, 11)) and cal.is_workday(D(2031, 10, 12))
    assert not cal.is_workday(D(2031, 10, 18))
    assert cal.workdays_elapsed(DT(2031, 9, 30, 9), DT(2031, 10, 6, 9)) == 1


def test_holiday_file_with_bom_and_crlf(tmp_path: Path) -> None:
    path = write(tmp_path, "date,type\r\n2024-10-08,holiday\r\n", encoding="utf-8-sig")
    assert not from_holiday_file(path).is_workday(D(2024, 10, 8))


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("date,type\n2031-10-01,holiday\n2031/10/02,holiday\n", 3, "2031/10/02"),
        ("date,type\n2031-10-01,holiday\n2031-02-30,holiday\n", 3, "2031-02-30"),
        ("date,type\n2031-10-01,vacation\n", 2, "vacation"),
        ("date,type\n2031-10-01\n", 2, "2 列"),
        ("date,type\n2031-10-01,holiday,extra\n", 2, "3 列"),
        ("2031-10-01,holiday\n", 1, "date,type"),
        ("day,kind\n2031-10-01,holiday\n", 1, "date,type"),
        ("", 1, "date,type"),
        ("date,type\n2031-10-01,holiday\n\n2031-10-01,workday\n", 4, "第 2 行"),
        ('date,type\n2031-10-01,"holiday\n', 2, "CSV"),
    ],
)
def test_bad_holiday_file(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        from_holiday_file(path)
    error = info.value
    assert error.path == path
    assert f"第 {line} 行" in error.zh
    assert f"line {line}" in error.en
    assert fragment in error.zh
    assert error.fix_zh and error.fix_en


def test_missing_holiday_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        from_holiday_file(tmp_path / "nope.csv")
    assert info.value.path == tmp_path / "nope.csv"


def test_holiday_file_not_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, "date,type\n2031-10-01,休\n", encoding="gbk")
    with pytest.raises(ConfigError):
        from_holiday_file(path)
