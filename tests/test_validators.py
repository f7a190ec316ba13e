"""Tests for toolkit.validators.

The two check-digit schemes are tested differentially against python-stdnum (``stdnum.cn.ric`` and
``stdnum.cn.uscc``). The oracle is split into parts so the comparison is honest:

* check character: ours must equal ``calc_check_digit`` from stdnum, always;
* birth date: stdnum's ``get_birth_date`` decides whether chars 7-14 are a real date; the 1900..today
  range is our own rule (stdnum has none), so it is applied on top in the oracle;
* ``ric.is_valid`` additionally requires the first six digits to be a county that existed in the
  birth year and upper-cases its input (so ``...x`` passes there). We deliberately do neither: the
  address code is checked separately with toolkit.regions, and a lower-case x is a data-entry defect;
* ``uscc.is_valid`` requires the first eight characters to be digits; GB 32100-2015 allows letters in
  positions 1-2 (登记管理部门 ``N`` 农业, ``Y`` 其他 …), so we accept them. It also upper-cases input.
"""

from __future__ import annotations

import datetime
import warnings
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from toolkit import validators as v
from toolkit import workdays

TODAY = datetime.date(2025, 6, 30)
DIGITS = "0123456789"
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


# --------------------------------------------------------------------------------------------------
# Citizen ID (公民身份号码)
# --------------------------------------------------------------------------------------------------


def ric_oracle(value: str, today: datetime.date = TODAY) -> bool:
    """Expected is_citizen_id, built from stdnum's parts plus our documented date range."""
    if len(value) != 18 or any(c not in DIGITS for c in value[:17]) or value[17] not in DIGITS + "X":
        return False
    if ric.calc_check_digit(value) != value[17]:
        return False
    try:
        birth = ric.get_birth_date(value)
    except ValidationError:
        return False
    return datetime.date(1900, 1, 1) <= birth <= today


def make_ric(prefix: str, birth: datetime.date, seq: str) -> str:
    body = f"{prefix}{birth:%Y%m%d}{seq}"
    return body + v.citizen_id_check_digit(body)


@pytest.mark.parametrize("number", ["110102199101010078", "44011320141005001X", "360426199101010071"])
def test_known_valid_citizen_ids(number: str) -> None:
    assert v.is_citizen_id(number)
    assert ric.is_valid(number)


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("44011320141005001x", "lower-case x (stdnum accepts it after upper-casing)"),
        ("110102199101010079", "wrong check digit"),
        ("11010219910101007", "17 characters"),
        ("1101021991010100788", "19 characters"),
        (" 110102199101010078", "leading space"),
        ("11010219910101007X", "X where 8 is due"),
        ("1101021991010100X8", "X inside the body"),
        ("11010219910101\u0661078", "Arabic-Indic digit"),
        ("000000000000000001", "all zeros: check digit fits but date 0000-00-00 does not"),
    ],
)
def test_invalid_citizen_ids(number: str, reason: str) -> None:
    assert not v.is_citizen_id(number), reason


def test_all_zero_body_check_digit_matches_stdnum() -> None:
    assert v.citizen_id_check_digit("0" * 17) == ric.calc_check_digit("0" * 18) == "1"


def test_check_x_case() -> None:
    number = make_ric("440113", datetime.date(2014, 10, 5), "001")
    assert number[-1] == "X"
    assert v.is_citizen_id(number)
    assert not v.is_citizen_id(number[:-1] + "x")
    assert ric.is_valid(number[:-1] + "x")  # the deliberate difference


@pytest.mark.parametrize(
    ("birth", "valid"),
    [
        ("20000229", True),  # divisible by 400: leap
        ("20240229", True),
        ("19040229", True),
        ("19000229", False),  # divisible by 100 only: not leap
        ("20230229", False),
        ("20240230", False),
        ("20241301", False),
        ("20240100", False),
        ("19000101", True),  # earliest accepted
        ("18991231", False),
        ("20250630", True),  # == TODAY
        ("20250701", False),  # future
        ("29991231", False),
    ],
)
def test_birth_date_edge_cases(birth: str, valid: bool) -> None:
    body = f"420102{birth}123"
    number = body + v.citizen_id_check_digit(body)
    assert number[-1] == ric.calc_check_digit(number)
    assert v.is_citizen_id(number, today=TODAY) is valid
    assert ric_oracle(number) is valid


def test_future_is_relative_to_today_argument() -> None:
    number = make_ric("420102", datetime.date(2030, 1, 1), "123")
    assert not v.is_citizen_id(number, today=TODAY)
    assert v.is_citizen_id(number, today=datetime.date(2030, 1, 1))
    # stdnum has no notion of "future"; it only checks that the date exists (and the birth place).
    assert ric.calc_check_digit(number) == number[-1]


def stdnum_ric_is_valid(value: str) -> bool:
    """``ric.is_valid`` without its KeyError: in stdnum 2.2 a known province with an unknown county
    (e.g. 137715) makes ``get_birth_place`` raise KeyError('county') instead of InvalidComponent."""
    try:
        return ric.is_valid(value)
    except KeyError:
        return False


def test_stdnum_keyerror_on_unknown_county_in_known_province() -> None:
    number = make_ric("137715", datetime.date(1990, 1, 1), "123")
    assert v.is_citizen_id(number, today=TODAY)  # we do not look the address up
    assert not stdnum_ric_is_valid(number)


@given(st.text(alphabet=DIGITS + "X", min_size=18, max_size=18))
@example("110102199101010078")
@example("44011320141005001X")
@example("13771501681017696X")  # year 0168 exists for stdnum's date check, not for ours
def test_random_ric_strings_agree_with_stdnum(value: str) -> None:
    assert v.is_citizen_id(value, today=TODAY) is ric_oracle(value)
    if stdnum_ric_is_valid(value):  # stdnum is stricter on the address, laxer on the date range
        birth = ric.get_birth_date(value)
        assert v.is_citizen_id(value, today=TODAY) is (datetime.date(1900, 1, 1) <= birth <= TODAY)


ric_bodies = st.builds(
    lambda prefix, birth, seq: f"{prefix}{birth:%Y%m%d}{seq}",
    st.text(alphabet=DIGITS, min_size=6, max_size=6),
    st.dates(datetime.date(1890, 1, 1), datetime.date(2035, 12, 31)),
    st.text(alphabet=DIGITS, min_size=3, max_size=3),
)


@given(ric_bodies, st.sampled_from(DIGITS + "X"))
def test_ric_with_random_check_agrees_with_stdnum(body: str, check: str) -> None:
    """Real dates, arbitrary check characters: about 1 in 11 is valid, so both branches are hit."""
    value = body + check
    assert v.is_citizen_id(value, today=TODAY) is ric_oracle(value)


@given(ric_bodies, st.integers(0, 17), st.sampled_from(DIGITS + "X"))
def test_one_mutation_breaks_a_valid_ric(body: str, position: int, replacement: str) -> None:
    number = body + v.citizen_id_check_digit(body)
    assert ric.calc_check_digit(number) == number[-1]
    assert v.is_citizen_id(number, today=TODAY) is ric_oracle(number)
    if replacement == number[position] or (replacement == "X" and position < 17):
        return
    mutated = number[:position] + replacement + number[position + 1 :]
    # MOD 11-2 detects every single substitution, in stdnum as in ours.
    assert ric.calc_check_digit(mutated) != mutated[-1]
    assert not v.is_citizen_id(mutated, today=TODAY)


def test_citizen_id_check_digit_rejects_bad_prefix() -> None:
    for bad in ("1" * 16, "1" * 18, "1" * 16 + "X", "1" * 16 + "\u0661"):
        with pytest.raises(ValueError):
            v.citizen_id_check_digit(bad)


# --------------------------------------------------------------------------------------------------
# Unified social credit code (统一社会信用代码)
# --------------------------------------------------------------------------------------------------


def uscc_oracle(value: str) -> bool:
    return (
        len(value) == 18
        and all(c in USCC_CHARSET for c in value)
        and uscc.calc_check_digit(value) == value[-1]
    )


def test_known_valid_credit_code() -> None:
    assert v.is_credit_code("91110000600037341L")
    assert v.credit_code_check_char("91110000600037341") == "L"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("91110000600037341l", "lower case"),
        ("91110000600037341M", "wrong check"),
        ("9111000060003734L", "17 characters"),
        ("91110000600037341L ", "trailing space"),
        ("9111000060003734IL", "I is not in the charset"),
        ("91110000-600037341L", "separator"),
    ],
)
def test_invalid_credit_codes(value: str, reason: str) -> None:
    assert not v.is_credit_code(value), reason


def test_letters_in_authority_positions_are_accepted_unlike_stdnum() -> None:
    body = "N2110000600037341"
    code = body + v.credit_code_check_char(body)
    assert v.is_credit_code(code)
    assert uscc.calc_check_digit(code) == code[-1]
    assert not uscc.is_valid(code)  # stdnum wants digits in positions 1-8


@given(st.text(alphabet=USCC_CHARSET, min_size=18, max_size=18))
@example("91110000600037341L")
def test_random_uscc_strings_agree_with_stdnum(value: str) -> None:
    assert v.is_credit_code(value) is uscc_oracle(value)
    if all(c in DIGITS for c in value[:8]):
        assert v.is_credit_code(value) is uscc.is_valid(value)


@given(st.text(alphabet=USCC_CHARSET, min_size=17, max_size=17), st.sampled_from(USCC_CHARSET))
def test_uscc_with_random_check_agrees_with_stdnum(body: str, check: str) -> None:
    """About 1 in 31 of these is valid, so both outcomes are compared."""
    assert v.is_credit_code(body + check) is uscc_oracle(body + check)


@given(st.text(alphabet=USCC_CHARSET + "IOZSVabc", min_size=18, max_size=18))
def test_uscc_outside_charset_is_invalid(value: str) -> None:
    if any(c not in USCC_CHARSET for c in value):
        assert not v.is_credit_code(value)


@given(
    st.text(alphabet=USCC_CHARSET, min_size=17, max_size=17),
    st.integers(0, 17),
    st.sampled_from(USCC_CHARSET),
)
@example("00000000000000000", 17, "1")
def test_one_mutation_breaks_a_valid_uscc(body: str, position: int, replacement: str) -> None:
    code = body + v.credit_code_check_char(body)
    assert uscc.calc_check_digit(code) == code[-1]
    assert v.is_credit_code(code)
    if replacement == code[position]:
        return
    mutated = code[:position] + replacement + code[position + 1 :]
    assert uscc.calc_check_digit(mutated) != mutated[-1]
    assert not v.is_credit_code(mutated)


def test_credit_code_check_char_rejects_bad_prefix() -> None:
    for bad in ("9" * 16, "9" * 18, "9" * 16 + "I", "9" * 16 + "a"):
        with pytest.raises(ValueError):
            v.credit_code_check_char(bad)


# --------------------------------------------------------------------------------------------------
# Unit number (不动产单元号)
# --------------------------------------------------------------------------------------------------

VALID_UNITS = [
    "320684100302JA00001W00000000",
    "340111303004GB00165F00010490",
    "320684108205JC00160F00010001",
    "320684108205GE00160L00010001",
]


@pytest.mark.parametrize(
    "value", [*VALID_UNITS, "320684108205ZW00160Q00000001", "320684108205GN99999F99999999"]
)
def test_valid_unit_numbers(value: str) -> None:
    assert v.unit_number_problem(value) is None
    assert v.is_unit_number(value)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("320684108205GE00160L0001000", "长度应为 28 位，实际为 27 位"),
        ("", "实际为 0 位"),
        ("32068A108205GE00160L00010001", "第1–6位"),
        ("3206841O8205GE00160L00010001", "第7–9位"),
        ("320684108 05GE00160L00010001", "第10–12位"),
        ("320684108205AE00160L00010001", "第一位应为 G、J 或 Z"),
        ("320684108205ge00160L00010001", "第一位应为 G、J 或 Z"),
        ("320684108205GK00160L00010001", "第二位“K”"),
        ("320684108205GA00160L00010001", "第13–14位宗地特征码“GA”无效：A 只能跟在 J 之后"),
        ("320684108205ZC00160L00010001", "C 只能跟在 J 之后"),
        ("320684108205GE0016AL00010001", "第15–19位宗地顺序号“0016A”"),
        ("320684108205GE00000L00010001", "宗地顺序号不能为 00000"),
        ("320684108205GE00160X00010001", "第20位定着物特征码“X”"),
        ("320684100302JA00001W00000001", "定着物特征码为 W 时应为 00000000"),
        ("340111303004GB00165F00000000", "定着物单元编号不能为 00000000"),
        ("340111303004GB00165F0001049A", "第21–28位定着物单元编号“0001049A”应为 8 位数字"),
        ("3406\u0661\u0661303004GB00165F00010490", "第1–6位"),
    ],
)
def test_invalid_unit_numbers(value: str, fragment: str) -> None:
    problem = v.unit_number_problem(value)
    assert problem is not None and fragment in problem, problem
    assert not v.is_unit_number(value)


@given(st.sampled_from(VALID_UNITS), st.integers(0, 27), st.characters())
def test_unit_number_single_change_never_raises(value: str, position: int, ch: str) -> None:
    mutated = value[:position] + ch + value[position + 1 :]
    assert v.is_unit_number(mutated) is (v.unit_number_problem(mutated) is None)


# --------------------------------------------------------------------------------------------------
# Clean text
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "clean"),
    [
        ("张三", True),
        ("武汉市 江岸区", True),
        ("A\u3000B", True),
        ("", True),
        ("中山大道 100 号", True),
        (" 张三", False),
        ("张三 ", False),
        ("\u3000张三", False),
        ("张三\u3000", False),
        ("\u00a0张三", False),
        ("张三\u00a0", False),
        ("\t张三", False),
        ("张\t三", False),
        ("张\n三", False),
        ("张\r\n三", False),
        ("张三\n", False),
        ("张\x00三", False),
        ("张\x7f三", False),
        ("张\u200b三", False),  # zero-width space (Cf)
        ("\ufeff张三", False),  # BOM (Cf)
        ("张\u2028三", False),  # line separator
        ("张  三", False),
        ("张\u3000\u3000三", False),
        ("张 \u3000三", False),
        ("张\u3000 三", False),
        ("张\ufffd三", False),
        ("\udcff", False),  # lone surrogate from surrogateescape
    ],
)
def test_clean_text(value: str, clean: bool) -> None:
    assert v.is_clean_text(value) is clean


@given(st.text(alphabet=st.characters(categories=["L", "N", "P"]), min_size=1))
def test_letters_digits_punctuation_are_clean(value: str) -> None:
    assert v.is_clean_text(value) is ("\ufffd" not in value)


# --------------------------------------------------------------------------------------------------
# Dates and times
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-02 03:04:05", datetime.datetime(2024, 1, 2, 3, 4, 5)),
        ("2024-01-02", datetime.datetime(2024, 1, 2)),
        ("2024-02-29 23:59:59", datetime.datetime(2024, 2, 29, 23, 59, 59)),
        ("0001-01-01", datetime.datetime(1, 1, 1)),
        ("2024/01/02", None),
        ("2024-1-2", None),
        ("2024-01-02T03:04:05", None),
        ("2024-01-02  03:04:05", None),
        (" 2024-01-02", None),
        ("2024-01-02 ", None),
        ("2024-01-02\n", None),
        ("2024-01-02 03:04", None),
        ("2024-01-02 03:04:05.000", None),
        ("2024-01-02 24:00:00", None),
        ("2024-01-02 23:60:00", None),
        ("2024-01-02 23:59:60", None),
        ("2023-02-29", None),
        ("2024-13-01", None),
        ("2024-00-10", None),
        ("0000-01-01", None),
        ("２０２４-01-02", None),  # full-width digits
        ("20240102", None),
        ("", None),
    ],
)
def test_parse_datetime(value: str, expected: datetime.datetime | None) -> None:
    assert v.parse_datetime(value) == expected
    assert v.is_datetime(value) is (expected is not None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-02", datetime.date(2024, 1, 2)),
        ("2000-02-29", datetime.date(2000, 2, 29)),
        ("1900-02-29", None),
        ("2024-01-02 00:00:00", None),
        ("2024-1-02", None),
        ("2024.01.02", None),
        ("2024-01-32", None),
    ],
)
def test_parse_date(value: str, expected: datetime.date | None) -> None:
    assert v.parse_date(value) == expected
    assert v.is_date(value) is (expected is not None)


@given(st.datetimes(datetime.datetime(1, 1, 1), datetime.datetime(9999, 12, 31, 23, 59, 59)))
def test_datetime_round_trip(moment: datetime.datetime) -> None:
    moment = moment.replace(microsecond=0)
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    assert v.parse_datetime(text) == moment
    assert v.parse_date(text[:10]) == moment.date()
    assert v.parse_datetime(text[:10]) == datetime.datetime.combine(moment.date(), datetime.time())


# --------------------------------------------------------------------------------------------------
# Decimals and integers
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("89.5", Decimal("89.5")),
        ("100", Decimal(100)),
        ("-3", Decimal(-3)),
        ("0.01", Decimal("0.01")),
        ("007", Decimal(7)),
        ("-0", Decimal(0)),
        ("1" * 5000, Decimal("1" * 5000)),
        ("+3", None),
        ("1,000", None),
        ("1e3", None),
        ("1E3", None),
        (" 1", None),
        ("1 ", None),
        (".5", None),
        ("5.", None),
        ("-", None),
        ("--1", None),
        ("1.2.3", None),
        ("NaN", None),
        ("Infinity", None),
        ("inf", None),
        ("１２", None),  # full-width digits
        ("\u0661", None),  # Arabic-Indic one
        ("1_000", None),
        ("", None),
    ],
)
def test_parse_decimal(value: str, expected: Decimal | None) -> None:
    assert v.parse_decimal(value) == expected


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_decimal_round_trip(number: Decimal) -> None:
    assert v.parse_decimal(format(number, "f")) == number


@pytest.mark.parametrize(
    ("value", "low", "high", "strict_min", "strict_max", "expected"),
    [
        ("89.5", 0, 100, False, False, True),
        ("0", 0, 100, False, False, True),
        ("0", 0, 100, True, False, False),
        ("100", 0, 100, False, False, True),
        ("100", 0, 100, False, True, False),
        ("100.0001", 0, 100, False, False, False),
        ("-0.01", 0, None, False, False, False),
        ("1" * 500, 0, None, False, False, True),
        ("-5", None, None, False, False, True),
        ("0.1", 0.1, None, False, False, True),  # float bound means exactly 0.1, not 0.1000000000000000055…
        ("0.1", 0.1, None, True, False, False),
        ("0.3", None, 0.3, False, False, True),  # not 0.2999999999999999888…
        ("0.1", None, 0.1, False, False, True),
        ("0.3", "0.3", "0.3", False, False, True),
        ("0.30", Decimal("0.3"), None, True, False, False),
        ("abc", None, None, False, False, False),
        ("1e2", 0, 1000, False, False, False),
    ],
)
def test_is_decimal_between(
    value: str, low: object, high: object, strict_min: bool, strict_max: bool, expected: bool
) -> None:
    assert v.is_decimal_between(value, low, high, strict_min=strict_min, strict_max=strict_max) is expected


def test_is_decimal_between_rejects_bad_bounds() -> None:
    with pytest.raises(ValueError):
        v.is_decimal_between("1", float("inf"), None)


@pytest.mark.parametrize(
    ("value", "minimum", "expected"),
    [
        ("0", 0, True),
        ("1", 1, True),
        ("0", 1, False),
        ("-1", 0, False),
        ("-1", -1, True),
        ("42", 1, True),
        ("007", 7, True),
        ("1.0", 1, False),
        ("+1", 1, False),
        (" 1", 1, False),
        ("1 ", 1, False),
        ("", 0, False),
        ("-", 0, False),
        ("１", 0, False),
        ("1" * 10000, 1, True),  # beyond int()'s 4300-digit conversion limit
        ("-" + "1" * 10000, 0, False),
    ],
)
def test_is_int_at_least(value: str, minimum: int, expected: bool) -> None:
    assert v.is_int_at_least(value, minimum) is expected


# --------------------------------------------------------------------------------------------------
# Column pairs (hand-computed; 2024 National Day: 10-01..10-07 off, Sat 10-12 worked)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "or_equal", "expected"),
    [
        ("2024-03-05 09:00:00", "2024-03-05 10:00:00", True, True),
        ("2024-03-05 10:00:00", "2024-03-05 10:00:00", True, True),
        ("2024-03-05 10:00:00", "2024-03-05 10:00:00", False, False),
        ("2024-03-05", "2024-03-05 00:00:00", False, False),  # a date means 00:00:00
        ("2024-03-06", "2024-03-05 23:59:59", True, False),
        ("2024/03/06", "2024-03-05", True, True),  # unreadable: left to the datetime rule
    ],
)
def test_is_in_time_order(first: str, second: str, or_equal: bool, expected: bool) -> None:
    assert v.is_in_time_order(first, second, or_equal) is expected


@pytest.mark.parametrize(
    ("start", "end", "working_days", "minutes", "expected"),
    [
        ("2024-09-30 09:00:00", "2024-10-10 17:00:00", 3, None, True),  # 10-08, 10-09, 10-10
        ("2024-09-30 09:00:00", "2024-10-11 09:00:00", 3, None, False),
        ("2024-10-10 09:00:00", "2024-10-14 09:00:00", 3, None, True),  # 10-11, 10-12 (worked), 10-14
        ("2024-10-08 09:00:00", "2024-10-08 10:30:00", None, 90, True),
        ("2024-10-08 09:00:00", "2024-10-08 10:30:01", None, 90, False),
        ("2024-10-08 09:00:00", "2024-10-08 10:30:01", None, None, True),  # no limit given
        ("2024-10-09 09:00:00", "2024-10-08 09:00:00", 0, 1, True),  # reversed: the order rule's business
        ("2204-10-08 09:00:00", "2204-12-08 09:00:00", 0, 1, True),  # implausible year
        ("2024-10-08 9:00:00", "2024-12-08 09:00:00", 0, 1, True),  # unreadable
    ],
)
def test_is_within_working_time_limit(
    start: str, end: str, working_days: int | None, minutes: int | None, expected: bool
) -> None:
    assert v.is_within_working_time_limit(start, end, working_days, minutes) is expected


@pytest.mark.parametrize(
    ("first", "second", "length", "expected"),
    [
        ("420102100302GB00001F00010001", "420102", 6, True),
        ("420103100302GB00001F00010001", "420102", 6, False),
        ("42010", "420102", 6, False),  # shorter than the prefix
        ("1000101", "200", 1, False),
        ("2000101", "200", 1, True),
        ("", "420102", 0, True),
    ],
)
def test_shares_prefix(first: str, second: str, length: int, expected: bool) -> None:
    assert v.shares_prefix(first, second, length) is expected


# --------------------------------------------------------------------------------------------------
# Nothing raises on any text
# --------------------------------------------------------------------------------------------------


def check_never_raises(value: str) -> None:
    for check in (
        v.is_citizen_id,
        v.is_credit_code,
        v.is_unit_number,
        v.is_clean_text,
        v.is_datetime,
        v.is_date,
    ):
        assert isinstance(check(value), bool)
    assert v.unit_number_problem(value) is None or isinstance(v.unit_number_problem(value), str)
    assert v.parse_datetime(value) is None or isinstance(v.parse_datetime(value), datetime.datetime)
    assert v.parse_decimal(value) is None or isinstance(v.parse_decimal(value), Decimal)
    assert isinstance(v.is_decimal_between(value, 0, 100), bool)
    assert isinstance(v.is_int_at_least(value, 0), bool)
    assert isinstance(v.is_plausible_datetime(value), bool)
    for other in (value, "2024-03-05 09:00:00"):
        assert isinstance(v.is_in_time_order(value, other), bool)
        with warnings.catch_warnings():  # a readable year outside the holiday data warns; fine here
            warnings.simplefilter("ignore", workdays.CalendarCoverageWarning)
            assert isinstance(v.is_within_working_time_limit(other, value, working_days=3, minutes=90), bool)
        assert isinstance(v.shares_prefix(value, other), bool)


@given(st.text(alphabet=DIGITS + "X-. :", max_size=30))
def test_no_validator_raises_on_near_misses(value: str) -> None:
    check_never_raises(value)


@given(st.text())
@example("\udcff")
@example("1" * 5000)
@example("\x00" * 18)
def test_no_validator_raises(value: str) -> None:
    check_never_raises(value)
