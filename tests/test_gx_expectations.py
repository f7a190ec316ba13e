"""The custom Great Expectations expectations (toolkit.gx_expectations), run through GX itself.

Each expectation validates a small pandas frame in an ephemeral GX context; the rows GX reports as
unexpected must be exactly the rows the pure function in toolkit.validators rejects (differential), and
empty cells (None) are *missing*, never unexpected. Where GX has a core expectation with the same meaning
(pair order, pair equality, numeric range, regex) it is used as an independent oracle; check digits are
built with python-stdnum; working-day limits are hand-computed on the 2024 National Day holiday.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import great_expectations.expectations as gxe
import pandas as pd
import pytest
from great_expectations.expectations.registry import get_expectation_impl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from toolkit import gx_expectations as ge
from toolkit import regions, validators, workdays
from toolkit.gx_run import _context

ROW = "_ROW"
DIGITS = "0123456789"
USCC_CHARSET = validators.CREDIT_CODE_CHARSET
HYPO = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TESTED: set[str] = set()  # expectation types exercised below (checked at the end)


# --------------------------------------------------------------------------------------------------
# running an expectation through GX


class Runner:
    def __init__(self) -> None:
        ctx = _context(None)
        asset = ctx.data_sources.add_pandas("frames").add_dataframe_asset("frame")
        self.bd = asset.add_batch_definition_whole_dataframe("whole")

    def validate(self, frame: pd.DataFrame, expectation) -> dict:
        frame = frame.copy()
        frame[ROW] = [str(i) for i in range(len(frame))]
        batch = self.bd.get_batch(batch_parameters={"dataframe": frame})
        res = batch.validate(
            expectation, result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW]}
        )
        exc = res.exception_info or {}
        assert not exc.get("raised_exception"), exc.get("exception_message")
        r = res.result
        rows = set()
        for item in r.get("unexpected_index_list") or []:
            rows.add(int(item[ROW]) if isinstance(item, dict) else int(item))
        TESTED.add(expectation.expectation_type)
        return {
            "success": res.success,
            "rows": rows,
            "element_count": r.get("element_count"),
            "unexpected_count": r.get("unexpected_count"),
            "missing_count": r.get("missing_count"),
        }


@pytest.fixture(scope="module")
def gx() -> Runner:
    workdays.use_calendar(None)
    return Runner()


def column(values: list) -> pd.DataFrame:
    return pd.DataFrame({"v": pd.Series(values, dtype=object)})


def pairs(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "a": pd.Series([r[0] for r in rows], dtype=object),
            "b": pd.Series([r[1] for r in rows], dtype=object),
        }
    )


def expected_rows(values: list, fn: Callable[[str], bool]) -> set[int]:
    return {i for i, v in enumerate(values) if v is not None and not fn(v)}


def assert_differential(gx: Runner, values: list, expectation, fn: Callable[[str], bool]) -> dict:
    """GX's unexpected rows == the pure function's, row by row; None is missing, never unexpected."""
    got = gx.validate(column(values), expectation)
    want = expected_rows(values, fn)
    assert got["rows"] == want, {i: values[i] for i in got["rows"] ^ want}
    assert got["unexpected_count"] == len(want)
    assert got["element_count"] == len(values)
    assert got["missing_count"] == sum(v is None for v in values)
    assert got["success"] is (not want)
    return got


# --------------------------------------------------------------------------------------------------
# 公民身份号码


def ric_with_check(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


VALID_RIC = [
    ric_with_check("42010219910101123"),
    ric_with_check("11010519491231002"),
    ric_with_check("44011320141005001"),
]
assert VALID_RIC[2].endswith("X")


def _wrong_check(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


CITIZEN_TABLE = [  # (value, valid) — validity decided by hand / stdnum, not by the toolkit
    (VALID_RIC[0], True),
    (VALID_RIC[1], True),
    (VALID_RIC[2], True),
    (VALID_RIC[2][:17] + "x", False),  # lower-case x
    (_wrong_check(VALID_RIC[0]), False),  # check digit
    (VALID_RIC[0][:17], False),  # 17 characters
    (VALID_RIC[0] + "1", False),  # 19 characters
    (ric_with_check("42010219910230123"), False),  # 1991-02-30 does not exist
    (ric_with_check("42010221000101123"), False),  # born in 2100
    (ric_with_check("42010218991231123"), False),  # before 1900
    (" " + VALID_RIC[0][1:], False),
    ("", False),
    (None, None),
    (None, None),
]


def test_citizen_id_table(gx):
    values = [v for v, _ in CITIZEN_TABLE]
    got = assert_differential(
        gx, values, ge.ExpectColumnValuesToBeValidCitizenId(column="v"), validators.is_citizen_id
    )
    assert got["rows"] == {i for i, (_, ok) in enumerate(CITIZEN_TABLE) if ok is False}


@st.composite
def ric_like(draw) -> str | None:
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return None
    if kind == 1:
        county = draw(st.sampled_from(["420102", "110105", "440113", "360426"]))
        birth = draw(st.dates(dt.date(1890, 1, 1), dt.date(2030, 12, 31)))
        seq = draw(st.text(DIGITS, min_size=3, max_size=3))
        return ric_with_check(f"{county}{birth:%Y%m%d}{seq}")
    if kind == 2:
        return draw(st.text(DIGITS + "Xx", min_size=17, max_size=19))
    if kind == 3:
        base = draw(st.sampled_from(VALID_RIC))
        pos = draw(st.integers(0, 17))
        return base[:pos] + draw(st.sampled_from(DIGITS + "X")) + base[pos + 1 :]
    return draw(st.text(max_size=20))


@HYPO
@given(st.lists(ric_like(), min_size=1, max_size=12))
def test_citizen_id_hypothesis(gx, values):
    assert_differential(
        gx, values, ge.ExpectColumnValuesToBeValidCitizenId(column="v"), validators.is_citizen_id
    )


# --------------------------------------------------------------------------------------------------
# 统一社会信用代码


def uscc_with_check(body: str) -> str:
    return body + uscc.calc_check_digit(body)


VALID_USCC = [
    uscc_with_check("91420100MA4K2L3X1"),
    uscc_with_check("91110000600037341"),
    uscc_with_check("12100000400000624"),
]

CREDIT_TABLE = [
    (VALID_USCC[0], True),
    (VALID_USCC[1], True),
    (VALID_USCC[2], True),
    (VALID_USCC[0][:17] + USCC_CHARSET[(USCC_CHARSET.index(VALID_USCC[0][17]) + 1) % 31], False),
    (VALID_USCC[1].lower(), False),
    (VALID_USCC[1][:17], False),
    ("I" + VALID_USCC[1][1:], False),  # I is not in the character set
    ("91420100MA4K2L3X1O", False),
    (None, None),
]


def test_credit_code_table(gx):
    values = [v for v, _ in CREDIT_TABLE]
    got = assert_differential(
        gx, values, ge.ExpectColumnValuesToBeValidCreditCode(column="v"), validators.is_credit_code
    )
    assert got["rows"] == {i for i, (_, ok) in enumerate(CREDIT_TABLE) if ok is False}


@st.composite
def uscc_like(draw) -> str | None:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return None
    if kind == 1:
        return uscc_with_check(
            draw(st.text("0123456789", min_size=8, max_size=8))
            + draw(st.text(USCC_CHARSET, min_size=9, max_size=9))
        )
    if kind == 2:
        return draw(st.text(USCC_CHARSET + "IOZSVa", min_size=17, max_size=19))
    base = draw(st.sampled_from(VALID_USCC))
    pos = draw(st.integers(0, 17))
    return base[:pos] + draw(st.sampled_from(USCC_CHARSET)) + base[pos + 1 :]


@HYPO
@given(st.lists(uscc_like(), min_size=1, max_size=12))
def test_credit_code_hypothesis(gx, values):
    assert_differential(
        gx, values, ge.ExpectColumnValuesToBeValidCreditCode(column="v"), validators.is_credit_code
    )
    # independent oracle for codes whose first 8 characters are digits (stdnum's restriction)
    for v in values:
        if v is not None and len(v) == 18 and v[:8].isdigit() and v.isascii():
            assert validators.is_credit_code(v) is uscc.is_valid(v) or v != v.upper(), v


# --------------------------------------------------------------------------------------------------
# 不动产单元号

VALID_UNITS = ["420102100302GB00001F00010001", "320684100302JA00001W00000000", "340111303004GB00165F00010490"]
UNIT_TABLE = [
    (VALID_UNITS[0], True),
    (VALID_UNITS[1], True),
    (VALID_UNITS[2], True),
    (VALID_UNITS[0][:-1], False),  # 27 characters
    ("420102100302GA00001F00010001", False),  # A only on collective land (J)
    ("420102100302GB00000F00010001", False),  # parcel 00000
    ("420102100302GB00001W00010001", False),  # W must end 00000000
    ("420102100302GB00001F00000000", False),  # F must not end 00000000
    ("420102100302gb00001F00010001", False),
    (None, None),
]


def test_unit_number_table(gx):
    values = [v for v, _ in UNIT_TABLE]
    got = assert_differential(
        gx, values, ge.ExpectColumnValuesToBeValidUnitNumber(column="v"), validators.is_unit_number
    )
    assert got["rows"] == {i for i, (_, ok) in enumerate(UNIT_TABLE) if ok is False}


@st.composite
def unit_like(draw) -> str | None:
    if draw(st.integers(0, 4)) == 0:
        return None
    base = draw(st.sampled_from(VALID_UNITS))
    pos = draw(st.integers(0, 27))
    ch = draw(st.sampled_from(DIGITS + "GJZABSXCDEFHWYLNQKO "))
    return base[:pos] + ch + base[pos + 1 :]


@HYPO
@given(st.lists(unit_like(), min_size=1, max_size=12))
def test_unit_number_hypothesis(gx, values):
    assert_differential(
        gx, values, ge.ExpectColumnValuesToBeValidUnitNumber(column="v"), validators.is_unit_number
    )


# --------------------------------------------------------------------------------------------------
# clean text, county code, datetime text


def test_clean_text(gx):
    values = [
        "张三",
        "武汉市 江岸区",
        "张三 ",
        " 张三",
        "张  三",
        "张\u3000\u3000三",
        "张\t三",
        "张\u200b三",
        "\u3000张三",
        "A\u3000B",
        None,
    ]
    got = assert_differential(
        gx, values, ge.ExpectColumnValuesToBeCleanText(column="v"), validators.is_clean_text
    )
    assert got["rows"] == {2, 3, 4, 5, 6, 7, 8}


def test_county_code(gx):
    values = ["420102", "110105", "999999", "42010", "4201021", "420102 ", None, "000000"]
    got = assert_differential(
        gx, values, ge.ExpectColumnValuesToBeCountyCode(column="v"), regions.is_county_code
    )
    assert {0, 1} & got["rows"] == set()
    assert {2, 3, 4, 5, 7} <= got["rows"]


DATETIMES = [
    "2024-03-05 14:30:00",
    "2024-03-05",
    "2024-02-29 00:00:00",
    "2023-02-29 00:00:00",
    "2024/03/05 14:30:00",
    "2024-3-5 14:30:00",
    "2024-03-05 24:00:00",
    "2024-03-05T14:30:00",
    "2024-03-05 14:30",
    "2024年3月5日",
    " 2024-03-05",
    "0000-01-01",
    None,
]


@pytest.mark.parametrize("date_only", [False, True])
def test_datetime_text(gx, date_only):
    fn = validators.is_date if date_only else validators.is_datetime
    got = assert_differential(
        gx, DATETIMES, ge.ExpectColumnValuesToBeValidDatetimeText(column="v", date_only=date_only), fn
    )
    want_ok = {1} if date_only else {0, 1, 2}
    assert got["rows"] == set(range(len(DATETIMES) - 1)) - want_ok


def test_plausible_datetime_flags_typed_years_only(gx):
    """Hand-computed: the window is 1949 … next year; unreadable values are the format rule's business."""
    import datetime as dt

    next_year = dt.date.today().year + 1
    values = [
        "2204-12-31 10:00:00",  # the typo of the hostile-input review
        "1948-12-31",
        "1949-01-01 00:00:00",
        f"{next_year}-12-31 23:59:59",
        f"{next_year + 1}-01-01",
        "2024-03-05 14:30:00",
        "2204年",  # unreadable: left to expect_column_values_to_be_valid_datetime_text
        None,
    ]
    got = gx.validate(
        column(values), ge.ExpectColumnValuesToBePlausibleDatetime(column="v", min_year=1949, years_ahead=1)
    )
    assert got["rows"] == {0, 1, 4}
    narrow = gx.validate(
        column(values), ge.ExpectColumnValuesToBePlausibleDatetime(column="v", min_year=2024)
    )
    assert narrow["rows"] == {0, 1, 2, 4}


def test_datetime_text_against_core_expectations(gx):
    """Independent oracle: GX core regex (zero-padded layout) + strftime format (a real date and time)."""
    values = [v for v in DATETIMES if v is None or " " in v.strip() or v.count("-") == 2]
    ours = gx.validate(column(values), ge.ExpectColumnValuesToBeValidDatetimeText(column="v"))["rows"]
    layout = gx.validate(
        column(values),
        gxe.ExpectColumnValuesToMatchRegex(column="v", regex=r"^(\d{4}-\d{2}-\d{2})( \d{2}:\d{2}:\d{2})?$"),
    )["rows"]
    full = [v if v is None or len(v) != 10 else v + " 00:00:00" for v in values]
    real = gx.validate(
        column(full),
        gxe.ExpectColumnValuesToMatchStrftimeFormat(column="v", strftime_format="%Y-%m-%d %H:%M:%S"),
    )["rows"]
    assert ours == layout | real


# --------------------------------------------------------------------------------------------------
# numbers

DECIMALS = [
    "0",
    "0.00",
    "0.01",
    "89.50",
    "100000",
    "100000.00",
    "100000.01",
    "-1",
    "abc",
    "1e3",
    ".5",
    "5.",
    "1,000",
    " 89",
    "+5",
    "１２",
    None,
]


@pytest.mark.parametrize(
    ("low", "high", "strict_min", "strict_max"),
    [
        (0, 100000, True, False),  # JZMJ: 0 < x ≤ 100000
        (0, 100000, False, False),
        (0, None, True, False),  # BDBZZQSE: > 0
        (99.99, 100.01, False, False),
        (0, 100000, False, True),
    ],
)
def test_decimal_in_range(gx, low, high, strict_min, strict_max):
    exp = ge.ExpectColumnValuesToBeDecimalInRange(
        column="v", min_value=low, max_value=high, strict_min=strict_min, strict_max=strict_max
    )
    got = assert_differential(
        gx, DECIMALS, exp, lambda v: validators.is_decimal_between(v, low, high, strict_min, strict_max)
    )
    # independent oracle: non-numbers are unexpected; numbers as GX's own range check says
    numeric = [i for i, v in enumerate(DECIMALS) if validators.parse_decimal(v) is not None]
    texts = {i for i, v in enumerate(DECIMALS) if v is not None and i not in numeric}
    assert texts == {8, 9, 10, 11, 12, 13, 14, 15}
    floats = column([float(DECIMALS[i]) for i in numeric])
    core = gx.validate(
        floats,
        gxe.ExpectColumnValuesToBeBetween(
            column="v", min_value=low, max_value=high, strict_min=strict_min, strict_max=strict_max
        ),
    )["rows"]
    assert got["rows"] == texts | {numeric[j] for j in core}


def test_decimal_strict_min_hand_cases(gx):
    exp = ge.ExpectColumnValuesToBeDecimalInRange(column="v", min_value=0, max_value=100000, strict_min=True)
    got = gx.validate(column(["0", "0.00", "0.01", "100000", "100000.01", None]), exp)
    assert got["rows"] == {0, 1, 4}


INTEGERS = ["1", "0", "-1", "2", "01", "1.0", " 1", "1 ", "１", "+1", "", "99999999999999999999", None]


@pytest.mark.parametrize("minimum", [0, 1])
def test_integer_text(gx, minimum):
    exp = ge.ExpectColumnValuesToBeIntegerText(column="v", min_value=minimum)
    got = assert_differential(gx, INTEGERS, exp, lambda v: validators.is_int_at_least(v, minimum))
    # independent oracle: GX core regex for the layout, GX core range for the value
    layout = gx.validate(
        column(INTEGERS), gxe.ExpectColumnValuesToMatchRegex(column="v", regex=r"^-?[0-9]+$")
    )
    ints = [i for i, v in enumerate(INTEGERS) if v is not None and i not in layout["rows"]]
    core = gx.validate(
        column([int(INTEGERS[i]) for i in ints]),
        gxe.ExpectColumnValuesToBeBetween(column="v", min_value=minimum),
    )["rows"]
    assert got["rows"] == layout["rows"] | {ints[j] for j in core}
    assert got["rows"] == ({1, 2} if minimum == 1 else {2}) | {5, 6, 7, 8, 9, 10}


def test_mostly_lets_a_few_failures_pass(gx):
    values = ["1", "2", "x", "3", None]
    strict = gx.validate(column(values), ge.ExpectColumnValuesToBeIntegerText(column="v", min_value=1))
    tolerant = gx.validate(
        column(values), ge.ExpectColumnValuesToBeIntegerText(column="v", min_value=1, mostly=0.7)
    )
    assert strict["rows"] == tolerant["rows"] == {2}
    assert strict["success"] is False and tolerant["success"] is True  # 3 of 4 non-missing = 0.75


# --------------------------------------------------------------------------------------------------
# pairs: time order

ORDER = [  # (A, B, unexpected with or_equal=True, unexpected with or_equal=False)
    ("2024-03-05 09:00:00", "2024-03-05 10:00:00", False, False),
    ("2024-03-05 10:00:00", "2024-03-05 10:00:00", False, True),
    ("2024-03-05 10:00:01", "2024-03-05 10:00:00", True, True),
    ("2024-03-05", "2024-03-05 00:00:00", False, True),  # date only = 00:00:00
    ("2024-03-06", "2024-03-05 23:59:59", True, True),
    ("2024/03/06 00:00:00", "2024-03-05 00:00:00", False, False),  # unreadable: ignored
    ("2024-03-06 00:00:00", "2024-02-30 00:00:00", False, False),  # unreadable: ignored
    (None, "2024-03-05 00:00:00", False, False),
    ("2024-03-06 00:00:00", None, False, False),
    (None, None, False, False),
]


@pytest.mark.parametrize("or_equal", [True, False])
def test_time_order(gx, or_equal):
    got = gx.validate(
        pairs(ORDER), ge.ExpectColumnPairValuesToBeInTimeOrder(column_A="a", column_B="b", or_equal=or_equal)
    )
    want = {i for i, r in enumerate(ORDER) if r[2 if or_equal else 3]}
    assert got["rows"] == want
    assert got["success"] is False
    # independent oracle: GX's core "B greater than A" on the parsed times (unreadable → missing)
    parsed = pd.DataFrame(
        {
            "a": pd.Series([validators.parse_datetime(r[0]) if r[0] else None for r in ORDER], dtype=object),
            "b": pd.Series([validators.parse_datetime(r[1]) if r[1] else None for r in ORDER], dtype=object),
        }
    )
    core = gx.validate(
        parsed,
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="b", column_B="a", or_equal=or_equal, ignore_row_if="either_value_is_missing"
        ),
    )
    assert got["rows"] == core["rows"]


def test_time_order_all_fine(gx):
    rows = [("2024-03-05 09:00:00", "2024-03-05 09:00:00"), (None, "x"), ("bad", "2024-01-01")]
    got = gx.validate(pairs(rows), ge.ExpectColumnPairValuesToBeInTimeOrder(column_A="a", column_B="b"))
    assert got["success"] is True and got["rows"] == set()


# --------------------------------------------------------------------------------------------------
# pairs: working-day time limit (2024 National Day: 10-01..10-07 off; Sun 09-29 and Sat 10-12 worked)

TIME_LIMIT = {
    # (working_days, minutes): [(SLSJ, DJSJ, unexpected), ...]
    (3, None): [
        ("2024-09-30 09:00:00", "2024-10-09 10:00:00", False),  # 10-08, 10-09: 2 working days
        ("2024-09-30 09:00:00", "2024-10-10 17:00:00", False),  # 3: on the limit
        ("2024-09-30 09:00:00", "2024-10-11 09:00:00", True),  # 4
        ("2024-09-27 09:00:00", "2024-10-08 09:00:00", False),  # 09-29 (make-up Sunday), 09-30, 10-08: 3
        ("2024-09-27 09:00:00", "2024-10-09 09:00:00", True),  # 4
        ("2024-09-28 09:00:00", "2024-10-09 09:00:00", False),  # Sat: clock starts Sun 09-29 (worked): 3
        ("2024-09-28 09:00:00", "2024-10-10 09:00:00", True),  # 4 (plain Mon-Fri would say 3)
        ("2024-10-10 09:00:00", "2024-10-14 09:00:00", False),  # 10-11, 10-12 (make-up Sat), 10-14: 3
        ("2024-10-10 09:00:00", "2024-10-15 09:00:00", True),  # 4 (plain Mon-Fri would say 3)
        ("2024-10-03 09:00:00", "2024-10-11 18:00:00", False),  # accepted on a holiday: starts 10-08; 3
        ("2024-10-03 09:00:00", "2024-10-12 09:00:00", True),  # 4, the make-up Saturday counts
        ("2024-09-30", "2024-10-11", True),  # date only
        ("2024-10-09 09:00:00", "2024-10-08 09:00:00", False),  # reversed: after_slsj reports it
        ("2024/09/01 09:00:00", "2024-10-30 09:00:00", False),  # unreadable: the datetime rule reports it
        ("2024-09-01 09:00:00", "2024-10-32 09:00:00", False),
        (None, "2024-10-30 09:00:00", False),
        ("2024-09-01 09:00:00", None, False),
    ],
    (0, None): [  # mortgage: the same working day
        ("2024-09-29 09:00:00", "2024-09-29 17:00:00", False),  # make-up Sunday is a working day
        ("2024-09-29 16:00:00", "2024-09-30 09:00:00", True),
        ("2024-10-01 10:00:00", "2024-10-08 11:00:00", False),  # accepted in the holiday: first working day
        ("2024-09-30 16:00:00", "2024-10-08 09:00:00", True),
        ("2024-10-11 16:00:00", "2024-10-12 09:00:00", True),  # Fri → make-up Sat is the next working day
        ("2024-10-12 16:00:00", "2024-10-13 09:00:00", False),  # Sat (worked) → Sun (off): still day 0
        ("2024-10-09 09:00:00", "2024-10-01 09:00:00", False),  # reversed
    ],
    (None, 90): [  # enterprise transfer: 90 wall-clock minutes
        ("2024-10-08 09:00:00", "2024-10-08 10:30:00", False),
        ("2024-10-08 09:00:00", "2024-10-08 10:30:01", True),
        ("2024-10-08 23:00:00", "2024-10-09 00:29:59", False),  # across midnight
        ("2024-09-30 17:00:00", "2024-10-08 09:00:00", True),  # a holiday does not stop the clock
        ("2024-10-08 10:30:00", "2024-10-08 09:00:00", False),  # reversed
        ("2024-10-08 09:00", "2024-10-08 12:00:00", False),  # unreadable
    ],
}


@pytest.mark.parametrize("limit", list(TIME_LIMIT), ids=lambda k: f"days={k[0]},minutes={k[1]}")
def test_working_time_limit(gx, limit):
    days, minutes = limit
    rows = TIME_LIMIT[limit]
    exp = ge.ExpectColumnPairValuesToBeWithinWorkingTimeLimit(
        column_A="a", column_B="b", working_days=days, minutes=minutes
    )
    got = gx.validate(pairs(rows), exp)
    want = {i for i, r in enumerate(rows) if r[2]}
    assert got["rows"] == want, [rows[i] for i in got["rows"] ^ want]
    assert got["unexpected_count"] == len(want)
    assert got["element_count"] == len(rows)


def test_working_time_limit_uses_the_active_calendar(gx):
    rows = [("2024-10-10 09:00:00", "2024-10-15 09:00:00")]
    exp = ge.ExpectColumnPairValuesToBeWithinWorkingTimeLimit(column_A="a", column_B="b", working_days=3)
    assert gx.validate(pairs(rows), exp)["rows"] == {0}
    workdays.use_calendar(workdays.WorkdayCalendar(holidays=[dt.date(2024, 10, 10)]))
    try:  # 10-10 off: the clock starts 10-11; 10-12, 10-14, 10-15 = 3
        assert gx.validate(pairs(rows), exp)["rows"] == set()
    finally:
        workdays.use_calendar(None)


# --------------------------------------------------------------------------------------------------
# pairs: shared prefix

PREFIX = [
    ("420102100302GB00001F00010001", "420102"),
    ("420103100302GB00001F00010001", "420102"),
    ("42010", "420102"),  # shorter than the prefix: differs
    ("420102", "420102"),
    ("", "420102"),
    (None, "420102"),
    ("420103100302GB00001F00010001", None),
    ("2000101", "200"),
    ("1000101", "200"),
]


@pytest.mark.parametrize("length", [6, 1])
def test_share_prefix(gx, length):
    got = gx.validate(
        pairs(PREFIX), ge.ExpectColumnPairValuesToSharePrefix(column_A="a", column_B="b", length=length)
    )
    want = {
        i for i, (a, b) in enumerate(PREFIX) if a is not None and b is not None and a[:length] != b[:length]
    }
    assert got["rows"] == want
    # independent oracle: GX's own pair equality on the cut prefixes
    cut = pd.DataFrame(
        {
            k: pd.Series([None if r[j] is None else r[j][:length] for r in PREFIX], dtype=object)
            for j, k in enumerate("ab")
        }
    )
    core = gx.validate(
        cut,
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="a", column_B="b", ignore_row_if="either_value_is_missing"
        ),
    )
    assert got["rows"] == core["rows"]
    assert want == ({1, 2, 4, 7, 8} if length == 6 else {4, 8})


# --------------------------------------------------------------------------------------------------


def test_every_custom_expectation_is_registered_and_tested():
    for name in ge.CUSTOM_EXPECTATION_TYPES:
        impl = get_expectation_impl(name)
        assert impl.__module__ == ge.__name__, name
    # runs last in this module (pytest keeps file order): every custom type went through GX above, or
    # declares examples that tests/test_checks.py runs through GX, Python and SQL value by value
    from toolkit.checks import CHECKS

    with_examples = {c.type for c in CHECKS.values() if c.examples}
    missing = set(ge.CUSTOM_EXPECTATION_TYPES) - TESTED - with_examples
    assert not missing, missing
