"""The count engine (toolkit.engine, DuckDB) against Great Expectations (``dq check``) and the pure
validators: differential tests.

* value level (fast, hypothesis): every compiled expectation type, row by row, against the Python function
  Great Expectations runs for it (toolkit.validators, toolkit.regions, toolkit.workdays, ``re``);
  row conditions against ``DataFrame.query``; Python → RE2 regular expressions against ``re.search``;
  CSV files read by DuckDB against the loader;
* batch level (slow, Great Expectations): the embedded sample (stock and three incremental days, counted
  by the engine all at once), hypothesis-generated batches of odd values with absent tables, a batch
  mixing GB18030 CSV, XLSX, typed Parquet and odd CSV, and rules the engine hands to Great
  Expectations — every element and unexpected count of every rule and district identical.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import string
import tempfile
import warnings
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from toolkit import regions, validators, workdays
from toolkit.check import run_check
from toolkit.domain import Rule, load_domain
from toolkit.engine import _calendar_sql, _connect, add_periods, count_batches, read_batch_frames
from toolkit.errors import ConfigError, InputError
from toolkit.loading import ROW_COLUMN, read_table
from toolkit.samples import generate_sample
from toolkit.sqlcompile import (
    NotCompilable,
    compile_condition,
    compile_rule,
    python_regex_to_re2,
)

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(  # each example runs Great Expectations (seconds): no shrinking
    max_examples=3,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# ------------------------------------------------------------------------------------------------ helpers


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = _connect(tmp_path_factory.mktemp("duck"), "1GB", None)
    _calendar_sql(c, workdays.WorkdayCalendar())
    yield c
    c.close()


def rule(type_: str, condition: str | None = None, **kwargs) -> Rule:
    if condition is not None:
        kwargs = {**kwargs, "row_condition": condition, "condition_parser": "pandas"}
    meta = {"rule_id": "t.rule", "table": "T", "field": "A", "dimension": "validity", "severity": "warning"}
    return Rule(
        rule_id="t.rule", suite="t", target="t", target_kind="table", type=type_, kwargs=kwargs, meta=meta
    )


def sql_flags(con, r: Rule, rows: list[dict]) -> list[bool]:
    """The compiled rule's 'unexpected' flag for each row (after its row condition)."""
    c = compile_rule(r, rule_index=0, today=dt.date.today())
    cols = sorted({k for row in rows for k in row} | set(c.columns))
    frame = pd.DataFrame(
        {
            "_BATCH": ["b"] * len(rows),
            "_id": range(len(rows)),
            **{k: [row.get(k) for row in rows] for k in cols},
        },
        dtype=object,
    )
    con.register("t_src", frame)
    lets = "".join(f", {e} AS {n}" for n, e in c.lets)  # per-row values the rule expressions share
    con.execute(f"CREATE OR REPLACE TEMP TABLE t AS SELECT *{lets} FROM t_src")
    con.unregister("t_src")
    ctes = ", ".join(f"{n} AS ({s.replace('{target}', 't')})" for n, s in c.ctes)
    sql = (
        (f"WITH {ctes} " if ctes else "")
        + f"SELECT CASE WHEN {c.condition or 'true'} THEN coalesce({c.unexpected}, false) ELSE false END "
        + f"FROM t {' '.join(j for _, j in c.joins)} ORDER BY t._id"
    )
    return [bool(x) for (x,) in con.execute(sql).fetchall()]


def expect_same(con, r: Rule, values: list, python_bad) -> None:
    """Column rules: SQL flags == Python's (None is never unexpected except for not_null)."""
    rows = [{"A": v} for v in values]
    got = sql_flags(con, r, rows)
    want = [python_bad(v) for v in values]
    diff = [(v, g, w) for v, g, w in zip(values, got, want, strict=True) if g != w]
    assert not diff, diff[:5]


# ------------------------------------------------------------------------------------------------ strategies

ODD = [*"0123456789-: .X", "x", "A", "Z", "\u3000", "\u00a0", "\t", "\n", "\r", "\u200b", "\ufeff"]
ODD += ["\ufffd", "٣", "²", "中", "é", "\u0301", "\x00", "\x85", "\u2028", "𝟘", "\U0001f600", "\x7f"]
odd_text = st.text(alphabet=st.sampled_from(ODD), max_size=24)
maybe = st.one_of(st.none(), odd_text)


def _digits(n: int):
    return st.text(alphabet=string.digits, min_size=n, max_size=n)


@st.composite
def citizen_ids(draw):
    county = draw(st.sampled_from(["420102", "110101", "000000", "999999"]))
    birth = draw(
        st.sampled_from(["19000101", "18991231", "19850612", "20000229", "19000229", "20240230", "20991231"])
        | st.just(dt.date.today().strftime("%Y%m%d"))
        | st.just((dt.date.today() + dt.timedelta(days=1)).strftime("%Y%m%d"))
        | _digits(8)
    )
    body = county + birth + draw(_digits(3))
    value = body + validators.citizen_id_check_digit(body)
    mutate = draw(st.integers(0, 6))
    if mutate == 1:
        value = value[:17] + draw(st.sampled_from("0123456789Xx"))
    elif mutate == 2:
        value = value[: draw(st.integers(0, 17))]
    elif mutate == 3:
        value = value + draw(st.sampled_from(["0", " ", "\u3000"]))
    elif mutate == 4:
        i = draw(st.integers(0, 16))
        value = value[:i] + draw(st.sampled_from(["٣", "A", " ", "-"])) + value[i + 1 :]
    return value


@st.composite
def credit_codes(draw):
    body = draw(
        st.text(alphabet=validators.CREDIT_CODE_CHARSET + "IOSVZa", min_size=17, max_size=17)
        | st.just("91420102MA4K0001L")
    )
    try:
        value = body + validators.credit_code_check_char(body)
    except ValueError:
        value = body + "0"
    if draw(st.booleans()):
        value = value[:17] + draw(st.sampled_from(validators.CREDIT_CODE_CHARSET + "Z"))
    return value[: draw(st.integers(15, 19))]


@st.composite
def unit_numbers(draw):
    parts = [
        draw(_digits(6) | st.just("42010A")),
        draw(_digits(3)),
        draw(_digits(3)),
        draw(st.sampled_from(["G", "J", "Z", "X"])),
        draw(st.sampled_from(list("ABSXCDEFHGWYLNKO"))),
        draw(st.sampled_from(["00000", "00001", "12345", "1234A"])),
        draw(st.sampled_from(list("FLQWX"))),
        draw(st.sampled_from(["00000000", "00010001", "0001000A"])),
    ]
    value = "".join(parts)
    return value[: draw(st.integers(26, 29))]


@st.composite
def datetimes_text(draw):
    y = draw(
        st.sampled_from(["0000", "0001", "0999", "1899", "2024", "2023", "2100", "9999", "024", "20240"])
    )
    m = draw(st.sampled_from(["00", "01", "02", "12", "13", "1", "٣"]))
    d = draw(st.sampled_from(["00", "01", "28", "29", "30", "31", "32"]))
    hh = draw(st.sampled_from(["00", "09", "23", "24", "9"]))
    mm = draw(st.sampled_from(["00", "59", "60"]))
    ss = draw(st.sampled_from(["00", "59", "60", "00.5"]))
    sep = draw(st.sampled_from([" ", "T", "  "]))
    date = f"{y}-{m}-{d}"
    value = date if draw(st.booleans()) else f"{date}{sep}{hh}:{mm}:{ss}"
    return value + draw(st.sampled_from(["", "", "", " ", "Z", "\u3000"]))


@st.composite
def decimals_text(draw):
    sign = draw(st.sampled_from(["", "", "-", "+"]))
    ip = draw(st.text(alphabet="0123456789", max_size=42))
    fp = draw(st.none() | st.text(alphabet="0123456789", max_size=42))
    value = sign + ip + ("" if fp is None else "." + fp)
    return draw(st.sampled_from([value, value, value, " " + value, value + "e3", "1,000"]))


@st.composite
def bounded_decimals(draw):
    base = draw(st.sampled_from(["0", "100", "99.99", "100.01", "100000", "-12.5", "0.000000000000000001"]))
    tail = draw(st.sampled_from(["", "0", "00000000000000000000001", "1", "9" * 25]))
    sign = draw(st.sampled_from(["", "-"]))
    lead = draw(st.sampled_from(["", "0", "000000000000000000000000"]))
    value = sign + lead + base
    if tail:
        value = value + ("" if "." in value else ".") + tail
    return value


# ------------------------------------------------------------------------------------------------ value level


@FAST
@given(st.lists(st.one_of(citizen_ids(), odd_text, st.none()), max_size=60))
def test_citizen_id(con, values):
    expect_same(
        con,
        rule("expect_column_values_to_be_valid_citizen_id", column="A"),
        values,
        lambda v: v is not None and not validators.is_citizen_id(v),
    )


@FAST
@given(st.lists(st.one_of(credit_codes(), odd_text, st.none()), max_size=60))
def test_credit_code(con, values):
    expect_same(
        con,
        rule("expect_column_values_to_be_valid_credit_code", column="A"),
        values,
        lambda v: v is not None and not validators.is_credit_code(v),
    )


@FAST
@given(st.lists(st.one_of(unit_numbers(), odd_text, st.none()), max_size=60))
def test_unit_number(con, values):
    expect_same(
        con,
        rule("expect_column_values_to_be_valid_unit_number", column="A"),
        values,
        lambda v: v is not None and not validators.is_unit_number(v),
    )


@FAST
@given(st.lists(st.one_of(odd_text, st.text(max_size=12), st.none()), max_size=60))
def test_clean_text(con, values):
    expect_same(
        con,
        rule("expect_column_values_to_be_clean_text", column="A"),
        values,
        lambda v: v is not None and not validators.is_clean_text(v),
    )


COUNTIES = sorted(c for c in regions._load()[1])


@FAST
@given(st.lists(st.one_of(st.sampled_from(COUNTIES), _digits(6), odd_text, st.none()), max_size=60))
def test_county_code(con, values):
    expect_same(
        con,
        rule("expect_column_values_to_be_county_code", column="A"),
        values,
        lambda v: v is not None and not regions.is_county_code(v),
    )


@FAST
@given(st.lists(st.one_of(datetimes_text(), odd_text, st.none()), max_size=60), st.booleans())
def test_datetime_text(con, values, date_only):
    fn = validators.is_date if date_only else validators.is_datetime
    expect_same(
        con,
        rule("expect_column_values_to_be_valid_datetime_text", column="A", date_only=date_only),
        values,
        lambda v: v is not None and not fn(v),
    )


BOUNDS = [
    (0, 100000, True, False),
    (0, None, True, False),
    (0, 100, True, False),
    (99.99, 100.01, False, False),
    (None, -12.5, False, True),
    ("0.000000000000000001", None, False, False),
    (-5, 5, True, True),
]


@FAST
@given(
    st.lists(st.one_of(decimals_text(), bounded_decimals(), odd_text, st.none()), max_size=60),
    st.sampled_from(BOUNDS),
)
def test_decimal_in_range(con, values, bounds):
    low, high, smin, smax = bounds
    expect_same(
        con,
        rule(
            "expect_column_values_to_be_decimal_in_range",
            column="A",
            min_value=low,
            max_value=high,
            strict_min=smin,
            strict_max=smax,
        ),
        values,
        lambda v: v is not None and not validators.is_decimal_between(v, low, high, smin, smax),
    )


@FAST
@given(
    st.lists(st.one_of(decimals_text(), bounded_decimals(), odd_text, st.none()), max_size=60),
    st.sampled_from([0, 1, -3, 10**25]),
)
def test_integer_text(con, values, minimum):
    expect_same(
        con,
        rule("expect_column_values_to_be_integer_text", column="A", min_value=minimum),
        values,
        lambda v: v is not None and not validators.is_int_at_least(v, minimum),
    )


SUITE_REGEXES = sorted(
    {r.kwargs["regex"] for r in load_domain("bdc").rules if r.type == "expect_column_values_to_match_regex"}
)
MORE_REGEXES = [
    r"^\d{3}$",
    r"\w+-\s",
    r"^[^a-c\d]*$",
    r"a.c",
    r"^(ab|cd)+?x{2,3}\Z",
    r"[\u4e00-\u9fa5]{2}",
    r"\D\S\W",
]


@FAST
@given(
    st.lists(
        st.one_of(odd_text, st.text(alphabet="abcdx-0123456789鄂(2024)武汉市不动产权第号\n ", max_size=30)),
        max_size=40,
    ),
    st.sampled_from(SUITE_REGEXES + MORE_REGEXES),
)
def test_match_regex(con, values, regex):
    expect_same(
        con,
        rule("expect_column_values_to_match_regex", column="A", regex=regex),
        values,
        lambda v: v is not None and re.search(regex, v) is None,
    )


@pytest.mark.parametrize(
    "regex",
    [r"(?=a)b", r"(?<!x)y", r"(a)\1", r"\bword", r"(?i)abc", r"a$b", r"(?m)^x", r"a{2000}", r"(?>ab)"],
)
def test_regex_constructs_that_go_to_gx(regex):
    with pytest.raises(ValueError):
        python_regex_to_re2(regex)
    with pytest.raises(NotCompilable):
        compile_rule(rule("expect_column_values_to_match_regex", column="A", regex=regex), rule_index=0)


def test_regex_dollar_allows_a_final_newline(con):
    r = rule("expect_column_values_to_match_regex", column="A", regex=r"^1[3-9][0-9]{9}$")
    values = ["13812345678", "13812345678\n", "13812345678\n\n", "13812345678 ", "x13812345678"]
    assert sql_flags(con, r, [{"A": v} for v in values]) == [
        re.search(r.kwargs["regex"], v) is None for v in values
    ]


@FAST
@given(
    st.lists(
        st.one_of(odd_text, st.sampled_from(["", "a", "é", "中文", "\U0001f600", "x" * 33])), max_size=40
    ),
    st.sampled_from(
        [(1, 32, False, False), (2, None, True, False), (None, 3, False, True), (0, 0, False, False)]
    ),
)
def test_value_lengths(con, values, bounds):
    lo, hi, smin, smax = bounds

    def bad(v):
        if v is None:
            return False
        n = len(v)
        ok = (lo is None or (n > lo if smin else n >= lo)) and (hi is None or (n < hi if smax else n <= hi))
        return not ok

    r = rule(
        "expect_column_value_lengths_to_be_between",
        column="A",
        min_value=lo,
        max_value=hi,
        strict_min=smin,
        strict_max=smax,
    )
    expect_same(con, r, values, bad)


@FAST
@given(st.lists(st.one_of(st.sampled_from(["1", "2", "01", "1 ", "x"]), odd_text, st.none()), max_size=40))
def test_in_set_not_null_unique(con, values):
    expect_same(
        con,
        rule("expect_column_values_to_be_in_set", column="A", value_set=["1", "2"]),
        values,
        lambda v: v is not None and v not in ("1", "2"),
    )
    expect_same(con, rule("expect_column_values_to_not_be_null", column="A"), values, lambda v: v is None)
    counts = Counter(v for v in values if v is not None)
    expect_same(
        con,
        rule("expect_column_values_to_be_unique", column="A"),
        values,
        lambda v: v is not None and counts[v] > 1,
    )


pair_values = st.one_of(
    datetimes_text(), st.sampled_from(["2024-03-01 09:00:00", "2024-03-04 10:00:00"]), odd_text
)


@FAST
@given(st.lists(st.tuples(st.none() | pair_values, st.none() | pair_values), max_size=40), st.booleans())
def test_time_order(con, pairs, or_equal):
    def bad(a, b):
        if a is None or b is None:
            return False
        x, y = validators.parse_datetime(a), validators.parse_datetime(b)
        if x is None or y is None:
            return False
        return not (x <= y if or_equal else x < y)

    r = rule("expect_column_pair_values_to_be_in_time_order", column_A="A", column_B="B", or_equal=or_equal)
    got = sql_flags(con, r, [{"A": a, "B": b} for a, b in pairs])
    assert got == [bad(a, b) for a, b in pairs]


@st.composite
def accept_register(draw):
    start = dt.datetime(2003, 12, 20) + dt.timedelta(minutes=draw(st.integers(0, 60 * 24 * 365 * 24)))
    if draw(st.integers(0, 9)) == 0:
        start = dt.datetime(draw(st.sampled_from([1, 1999, 2030, 9999])), 1, 1, 8)
    gap = dt.timedelta(
        minutes=draw(st.sampled_from([0, 30, 89, 90, 91, 600, 1440 * 3, 1440 * 12, 1440 * 40]))
    )
    gap = gap + dt.timedelta(minutes=draw(st.integers(-120, 120)))
    end = start + gap if start + gap <= dt.datetime(9999, 12, 31) else start
    fmt = draw(st.sampled_from(["%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]))
    return f"{start.year:04d}" + start.strftime(fmt)[4:], f"{end.year:04d}" + end.strftime(fmt)[4:]


@FAST
@given(
    st.lists(
        st.one_of(accept_register(), st.tuples(st.none() | odd_text, st.none() | pair_values)), max_size=40
    ),
    st.sampled_from([(3, None), (0, None), (None, 90), (None, 1.5), (2, 600)]),
)
def test_working_time_limit(con, pairs, limit):
    working_days, minutes = limit
    cal = workdays.WorkdayCalendar()

    def bad(a, b):
        if a is None or b is None:
            return False
        x, y = validators.parse_datetime(a), validators.parse_datetime(b)
        if x is None or y is None or y < x:
            return False
        lo, hi = validators.plausible_years()  # implausible years are left to the plausibility rules
        if not (lo <= x.year <= hi and lo <= y.year <= hi):
            return False
        if minutes is not None and (y - x).total_seconds() > float(minutes) * 60:
            return True
        return working_days is not None and cal.workdays_elapsed(x, y) > int(working_days)

    r = rule(
        "expect_column_pair_values_to_be_within_working_time_limit",
        column_A="A",
        column_B="B",
        working_days=working_days,
        minutes=minutes,
    )
    got = sql_flags(con, r, [{"A": a, "B": b} for a, b in pairs])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", workdays.CalendarCoverageWarning)
        want = [bad(a, b) for a, b in pairs]
    assert got == want


@FAST
@given(
    st.lists(st.tuples(st.none() | odd_text, st.none() | odd_text), max_size=40),
    st.sampled_from([0, 1, 6]),
)
def test_share_prefix_and_pair_equal(con, pairs, n):
    rows = [{"A": a, "B": b} for a, b in pairs]
    r = rule("expect_column_pair_values_to_share_prefix", column_A="A", column_B="B", length=n)
    assert sql_flags(con, r, rows) == [a is not None and b is not None and a[:n] != b[:n] for a, b in pairs]
    r = rule(
        "expect_column_pair_values_to_be_equal",
        column_A="A",
        column_B="B",
        ignore_row_if="either_value_is_missing",
    )
    assert sql_flags(con, r, rows) == [a is not None and b is not None and a != b for a, b in pairs]


def test_pair_rules_with_other_ignore_row_if_go_to_gx():
    r = rule("expect_column_pair_values_to_be_equal", column_A="A", column_B="B")  # GX default: both missing
    with pytest.raises(NotCompilable):
        compile_rule(r, rule_index=0)


# ------------------------------------------------------------------------------------------------ row conditions

COND_VALUES = st.sampled_from([None, "1", "2", "100", "200", "a b", "'", '"'])


@st.composite
def conditions(draw, depth=0):
    kind = draw(st.integers(0, 3 if depth < 2 else 1))
    col = draw(st.sampled_from(["A", "B", "C"]))
    if kind == 0:
        return f'{col} == "{draw(st.sampled_from(["1", "2", "100", "a b"]))}"'
    if kind == 1:
        vals = draw(st.lists(st.sampled_from(["1", "2", "100", "200"]), min_size=1, max_size=3))
        return f"{col} in [{', '.join(repr(v) for v in vals)}]"
    op = draw(st.sampled_from(["and", "or"]))
    return f"({draw(conditions(depth + 1))} {op} {draw(conditions(depth + 1))})"


@FAST
@given(st.lists(st.tuples(COND_VALUES, COND_VALUES, COND_VALUES), min_size=1, max_size=30), conditions())
def test_row_conditions_as_pandas_query(con, rows, cond):
    frame = pd.DataFrame(rows, columns=["A", "B", "C"], dtype=object)
    want = set(frame.query(cond).index)
    r = rule("expect_column_values_to_not_be_null", cond, column="A")
    c = compile_rule(r, rule_index=0)
    con.register("cf", frame.reset_index())
    got = {i for (i,) in con.execute(f"SELECT index FROM cf WHERE {c.condition}").fetchall()}
    con.unregister("cf")
    assert got == want


@pytest.mark.parametrize(
    "cond",
    [
        'DJLX != "1"',
        "SXH == 1",
        'not DJLX == "1"',
        'DJLX == "1" & QLRLX == "2"',
        'DJLX in ("1", "2")',
        "`DJLX` == '1'",
        "DJLX == @x",
        'a.b == "1"',
        'DJLX.str.startswith("1")',
        'DJLX == "1" and',
        'DJLX > "1"',
        'DJLX == "1" == "1"',
    ],
)
def test_row_conditions_outside_the_grammar_are_config_errors(cond):
    with pytest.raises(ConfigError):
        compile_condition(cond)


def test_shipped_row_conditions_compile():
    for r in load_domain("bdc").rules:
        if r.row_condition:
            assert compile_condition(r.row_condition)


# ------------------------------------------------------------------------------------------------ CSV reading

CSV_ALPHABET = st.sampled_from([*'ab,"  \t\n\r', "\r\n", "\u3000", "中", "\u00a0", "x", '""'])


def _chars(options: list[str], max_size: int = 6):
    return st.lists(st.sampled_from(options), max_size=max_size).map("".join)


@st.composite
def csv_bodies(draw):
    """Mostly well-formed records of 4 fields (so DuckDB reads most of them itself), now and then a short
    or long record, an odd quote, a space next to a quote or another line ending."""
    plain = _chars(["a", "1", " ", "\t", "\u3000", "中", "\u00a0", "x", "\x00"])
    quoted = _chars(["a", ",", '"', " ", "\n", "\r\n", "\r", "中", "\u3000"]).map(
        lambda v: '"' + v.replace('"', '""') + '"'
    )
    odd = st.sampled_from([' "x"', '"x" ', 'a"b', '"a"b', '"', "x\ry"])
    field = st.one_of(plain, plain, quoted, odd) if draw(st.booleans()) else st.one_of(plain, quoted)
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    records = []
    for _ in range(draw(st.integers(0, 8))):
        n = 4 if draw(st.integers(0, 5)) else draw(st.integers(0, 6))
        records.append(",".join(draw(field) for _ in range(n)))
    seps = [eol if draw(st.integers(0, 9)) else draw(st.sampled_from(["\n", "\r\n"])) for _ in records]
    return "".join(r + e for r, e in zip(records, seps, strict=True))[: None if draw(st.booleans()) else -1]


@settings(
    max_examples=int(os.environ.get("DQ_CSV_FUZZ", "40")),  # raise it to fuzz longer
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    body=st.one_of(csv_bodies(), st.lists(CSV_ALPHABET, max_size=60).map("".join)),
    bom=st.booleans(),
    gb=st.booleans(),
)
def test_csv_read_by_duckdb_equals_the_loader(tmp_path, body, bom, gb):
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    text = "QXDM,RZRQ,DJLX,SL\n" + body
    raw = text.encode("gb18030") if gb else (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    path = folder / "DJ_DBRZ.csv"
    path.write_bytes(raw)
    try:
        want = read_table(path, "DJ_DBRZ", required=["QXDM", "RZRQ", "DJLX", "SL"]).frame.drop(
            columns=[ROW_COLUMN]
        )
    except InputError as exc:
        with pytest.raises(type(exc)):
            read_batch_frames(folder, domain="bdc")
        return
    got = read_batch_frames(folder, domain="bdc")["DJ_DBRZ"]
    assert sorted(map(tuple, got[list(want.columns)].values.tolist()), key=repr) == sorted(
        map(tuple, want.values.tolist()), key=repr
    )


# ------------------------------------------------------------------------------------------------ the sample


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generate_sample("bdc", out, seed=7, districts=4, days=3, stock_rows=600, error_scale=4.0)
    return out


@pytest.fixture(scope="module")
def gx_sample(sample):
    days = sorted(p for p in (sample / "incremental").iterdir() if p.is_dir())
    out = {"stock": run_check(sample / "stock", domain="bdc", mode="stock", engine="gx")}
    out.update({p.name: run_check(p, domain="bdc", mode="incremental", engine="gx") for p in days})
    return out


@pytest.fixture(scope="module")
def engine_sample(sample):
    return {
        "stock": count_batches(sample / "stock", mode="stock", domain="bdc"),
        "incremental": count_batches(sample / "incremental", mode="incremental", domain="bdc"),
    }


def assert_same_counts(gx, engine, batch: str) -> None:
    g = gx.counts.set_index(["unit_code", "rule_id"]).sort_index()
    e = engine.counts[engine.counts.batch == batch].set_index(["unit_code", "rule_id"]).sort_index()
    assert list(g.index) == list(e.index), batch
    for col in ("table", "field", "dimension", "severity", "element_count", "unexpected_count", "evaluated"):
        diff = g[col] != e[col]
        assert not diff.any(), (batch, col, pd.concat([g[col], e[col]], axis=1)[diff].head(10))


def test_sample_counts_equal_gx_for_every_rule_and_district(gx_sample, engine_sample):
    for batch, gx in gx_sample.items():
        engine = engine_sample["stock" if batch == "stock" else "incremental"]
        assert_same_counts(gx, engine, batch)
    for res in engine_sample.values():
        assert set(res.counts.engine) == {"duckdb"} and not res.gx_rules


def test_sample_rows_read_and_failing_rows(gx_sample, engine_sample):
    dom = load_domain("bdc")
    for batch, gx in gx_sample.items():
        engine = engine_sample["stock" if batch == "stock" else "incremental"]
        files = engine.files[engine.files.batch == batch].set_index("table")
        assert files.rows_read.to_dict() == {code: t.rows for code, t in gx.batch.tables.items()}
        assert set(files.read) == {"duckdb"}
        rows = engine.rows[engine.rows.batch == batch]
        assert rows.groupby("table").rows.sum().to_dict() == {
            code: t.rows for code, t in gx.batch.tables.items()
        }
        for code, table in gx.batch.tables.items():
            frame = table.frame.set_index(ROW_COLUMN)
            for dim in ("completeness", "validity", "uniqueness", "consistency"):
                failing = set()
                for rid, res in gx.results.items():
                    r = dom.rule(rid)
                    if r.target == code and r.dimension == dim:
                        failing |= set(res.unexpected_rows)
                want = (
                    frame.loc[sorted(failing), "QXDM"].fillna("").value_counts().to_dict() if failing else {}
                )
                got = rows[rows.table == code].set_index("unit_code")[f"failing_{dim}"]
                assert {k: v for k, v in got.items() if v} == want, (batch, code, dim)


def test_sample_as_of_per_batch(gx_sample, engine_sample):
    for batch, gx in gx_sample.items():
        engine = engine_sample["stock" if batch == "stock" else "incremental"]
        assert engine.as_of[batch] == gx.as_of


def test_more_keys_and_periods(sample, engine_sample):
    res = count_batches(sample / "incremental", keys=("unit_code", "DJLX"), domain="bdc")
    by_two = res.counts.groupby(["batch", "unit_code", "rule_id"])[
        ["element_count", "unexpected_count"]
    ].sum()
    one = engine_sample["incremental"].counts.set_index(["batch", "unit_code", "rule_id"])
    assert (by_two["element_count"] == one.loc[by_two.index, "element_count"]).all()
    assert (by_two["unexpected_count"] == one.loc[by_two.index, "unexpected_count"]).all()
    periods = add_periods(res.counts)
    day = periods.iloc[0]
    assert day.day == day.batch and day.month == day.batch[:7] and day.week.startswith(day.batch[:4])


# ------------------------------------------------------------------------------------------------ odd batches

FIELDS = {code: list(spec["fields"]) for code, spec in load_domain("bdc").tables.items()}


def odd_value(field: str):
    specific = {
        "ZJH": citizen_ids() | credit_codes(),
        "BDCDYH": unit_numbers(),
        "SLSJ": datetimes_text() | st.sampled_from(["2024-03-01 09:00:00", "2024-03-05 09:00:00"]),
        "DJSJ": datetimes_text() | st.sampled_from(["2024-03-04 10:00:00", "2024-03-05 10:00:00"]),
        "JRSJ": datetimes_text() | st.sampled_from(["2024-03-04 10:05:00", "2024-03-05 15:10:00"]),
        "JZMJ": decimals_text() | bounded_decimals(),
        "QLBL": decimals_text() | st.sampled_from(["50", "50.00", "33.33", "33.34", "100"]),
        "SL": decimals_text() | st.sampled_from(["0", "1", "2"]),
        "SXH": decimals_text() | st.sampled_from(["1", "2"]),
        "RZRQ": datetimes_text() | st.sampled_from(["2024-03-04", "2024-03-05"]),
        "DJLX": st.sampled_from(["100", "200", "300", "250", " 200"]),
        "ZJZL": st.sampled_from(["1", "8", "9", "99"]),
        "GYFS": st.sampled_from(["0", "1", "2", "2", "3", "4"]),
        "QLRLX": st.sampled_from(["1", "2", "5"]),
        "JRZT": st.sampled_from(["1", "2", "3", "4"]),
        "DYFS": st.sampled_from(["1", "2", "3"]),
    }
    return st.none() | st.sampled_from(["", " ", "\u3000", "\t \u3000"]) | specific.get(field, odd_text)


@st.composite
def odd_batches(draw, kit):
    codes = kit.districts(2)
    tables = kit.valid_tables(codes)
    for name, rows in tables.items():
        for row in rows:
            for f in FIELDS[name]:
                if draw(st.integers(0, 3)) == 0:
                    row[f] = draw(odd_value(f))
        if draw(st.booleans()):
            rows.append(dict(draw(st.sampled_from(rows))))  # a duplicate
    absent = draw(st.sets(st.sampled_from(list(tables)), max_size=2))
    return tables, tuple(sorted(absent))


@SLOW
@given(data=st.data())
def test_odd_batches_equal_gx(tmp_path_factory, bdc_kit, data):
    tables, absent = data.draw(odd_batches(bdc_kit))
    if len(absent) == len(tables):
        return
    root = tmp_path_factory.mktemp("odd")
    batch = bdc_kit.write_batch(root / "odd", tables, skip=absent)
    try:
        gx = run_check(batch, domain="bdc", mode="incremental", engine="gx")
    except InputError:
        with pytest.raises(InputError):
            count_batches(batch, domain="bdc")
        return
    engine = count_batches(batch, domain="bdc")
    assert_same_counts(gx, engine, "odd")
    assert set(engine.counts.engine) <= {"duckdb"}
    ne = set(engine.not_evaluated.rule_id)
    assert ne == set(gx.not_evaluated)


# ------------------------------------------------------------------------------------------------ formats and GX fallback

OVERLAY = {
    "name": "测试地方规则",
    "domain": "bdc",
    "add": [
        {
            "suite": "bdc.fdcq",
            "type": "expect_column_values_to_not_match_regex",
            "kwargs": {"column": "DJJG", "regex": "测试"},
            "meta": {
                "rule_id": "local.fdcq.djjg.not_test",
                "table": "QLT_FW_FDCQ_YZ",
                "field": "DJJG",
                "dimension": "validity",
                "severity": "warning",
                "applies_to": ["incremental"],
                "message_zh": "登记机构不能含“测试”",
                "fix_zh": "改正登记机构",
                "standard": "local",
                "requires": ["QLT_FW_FDCQ_YZ"],
            },
        },
        {
            "suite": "bdc.qlr",
            "type": "expect_column_values_to_match_regex",
            "kwargs": {
                "column": "QLRMC",
                "regex": "^(?!测试).+",
                "row_condition": 'ZJZL == "1"',
                "condition_parser": "pandas",
            },
            "meta": {
                "rule_id": "local.qlr.qlrmc.not_test",
                "table": "ZTT_GY_QLR",
                "field": "QLRMC",
                "dimension": "validity",
                "severity": "warning",
                "applies_to": ["incremental"],
                "message_zh": "权利人名称不能以“测试”开头",
                "fix_zh": "改正权利人名称",
                "standard": "local",
                "requires": ["ZTT_GY_QLR"],
            },
        },
    ],
}


def _write_xlsx(path: Path, header: list[str], rows: list[list]) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([*header, None])  # a trailing empty header cell (Excel formatting)
    for r in rows:
        ws.append(r)
    wb.save(path)


@pytest.fixture(scope="module")
def mixed_batch(tmp_path_factory, bdc_kit):
    """One district of the valid batch, each table in another format, plus odd values."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_path_factory.mktemp("mixed")
    codes = bdc_kit.districts(3)
    t = bdc_kit.valid_tables(codes)
    t[bdc_kit.FDCQ][0]["DJJG"] = "测试登记中心"
    t[bdc_kit.FDCQ][1]["FDZL"] = "湖北省\u3000\u3000武汉市"
    t[bdc_kit.FDCQ][2]["JZMJ"] = "\u3000"
    t[bdc_kit.QLR][0]["QLRMC"] = "测试人"
    t[bdc_kit.QLR][1]["QLRMC"] = "王\n小明"  # a newline inside a quoted CSV value
    batch = root / "mixed"
    batch.mkdir()
    # QLT_FW_FDCQ_YZ: GB18030 CSV
    bdc_kit.write_batch(batch, {bdc_kit.FDCQ: t[bdc_kit.FDCQ]}, encoding="gb18030")
    # ZTT_GY_QLR: XLSX, numbers typed as numbers where they look like numbers
    header = bdc_kit.FIELDS[bdc_kit.QLR]
    rows = []
    for r in t[bdc_kit.QLR]:
        row = [r.get(c) for c in header]
        row[header.index("SXH")] = int(r["SXH"])
        if r.get("QLBL"):
            row[header.index("QLBL")] = float(r["QLBL"])
        rows.append(row)
    _write_xlsx(batch / f"{bdc_kit.QLR}.xlsx", header, rows)
    # QLF_QL_DYAQ: Parquet with typed columns (float amount, timestamps)
    frame = pd.DataFrame(t[bdc_kit.DYAQ], columns=bdc_kit.FIELDS[bdc_kit.DYAQ])
    table = pa.table(
        {
            **{c: pa.array(frame[c].tolist(), pa.string()) for c in frame.columns},
            "BDBZZQSE": pa.array([float(v) if v else None for v in frame["BDBZZQSE"]], pa.float64()),
            "DJSJ": pa.array([dt.datetime.fromisoformat(v) for v in frame["DJSJ"]], pa.timestamp("s")),
        }
    )
    pq.write_table(table, batch / f"{bdc_kit.DYAQ}.parquet")
    # JR_BW: UTF-8 with BOM, with a space before a quote (read by the loader, not DuckDB)
    bdc_kit.write_batch(batch, {bdc_kit.JRBW: t[bdc_kit.JRBW]}, encoding="utf-8-sig")
    p = batch / f"{bdc_kit.JRBW}.csv"
    p.write_text(
        p.read_text(encoding="utf-8-sig")
        + f'{codes[0]}240305999999, "X",{codes[0]},2000101,2024-03-05 10:05:00,1\n',
        encoding="utf-8-sig",
    )
    # DJ_DBRZ: plain UTF-8 CSV with CRLF line ends
    with (batch / f"{bdc_kit.DBRZ}.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(bdc_kit.FIELDS[bdc_kit.DBRZ])
        for r in t[bdc_kit.DBRZ]:
            w.writerow([r[c] for c in bdc_kit.FIELDS[bdc_kit.DBRZ]])
    overlay = root / "overlay.yaml"
    overlay.write_text(yaml.safe_dump(OVERLAY, allow_unicode=True), encoding="utf-8")
    return batch, overlay


def test_mixed_formats_and_gx_fallback_equal_gx(mixed_batch):
    batch, overlay = mixed_batch
    gx = run_check(batch, domain="bdc", mode="incremental", overlay=overlay, engine="gx")
    engine = count_batches(batch, overlay=overlay, domain="bdc")
    assert_same_counts(gx, engine, "mixed")
    read = engine.files.set_index("table")["read"].to_dict()
    assert read == {
        "QLT_FW_FDCQ_YZ": "gb18030→utf-8",
        "ZTT_GY_QLR": "xlsx→text",
        "QLF_QL_DYAQ": "parquet→text",
        "JR_BW": "loader",
        "DJ_DBRZ": "duckdb",
    }
    assert engine.files.set_index("table").rows_read.to_dict() == {
        c: t.rows for c, t in gx.batch.tables.items()
    }
    engines = engine.counts.drop_duplicates("rule_id").set_index("rule_id").engine
    assert engines["local.fdcq.djjg.not_test"] == "gx" and engines["local.qlr.qlrmc.not_test"] == "gx"
    assert set(engines.drop(["local.fdcq.djjg.not_test", "local.qlr.qlrmc.not_test"])) == {"duckdb"}
    assert set(engine.gx_rules) == {"local.fdcq.djjg.not_test", "local.qlr.qlrmc.not_test"}
    c = engine.counts.set_index(["unit_code", "rule_id"])
    assert c.unexpected_count.groupby(level="rule_id").sum()["local.fdcq.djjg.not_test"] == 1
    assert c.unexpected_count.groupby(level="rule_id").sum()["local.qlr.qlrmc.not_test"] == 1


def test_mixed_formats_gate_equals_gx(mixed_batch):
    """The gate on the engine (``dq check`` default) on the mixed-format batch, with two rules handed to
    Great Expectations: counts, problem rows (row numbers of XLSX, Parquet, GB18030 and loader-read
    files included) and verdict identical to ``--engine gx``."""
    batch, overlay = mixed_batch
    gx = run_check(batch, domain="bdc", mode="incremental", overlay=overlay, engine="gx")
    eng = run_check(batch, domain="bdc", mode="incremental", overlay=overlay, engine="duckdb")
    assert set(eng.gx_rules) == {"local.fdcq.djjg.not_test", "local.qlr.qlrmc.not_test"}
    pd.testing.assert_frame_equal(eng.counts, gx.counts)
    assert len(gx.problems) >= 2

    def norm(f: pd.DataFrame) -> pd.DataFrame:
        f = f.astype(object).where(f.notna(), "").astype(str)
        return f.sort_values(list(f.columns)).reset_index(drop=True)

    pd.testing.assert_frame_equal(norm(eng.problems), norm(gx.problems))
    assert eng.exit_code == gx.exit_code and eng.not_evaluated == gx.not_evaluated


def test_gx_fallback_over_many_batches(sample, mixed_batch, engine_sample):
    _, overlay = mixed_batch
    res = count_batches(sample / "incremental", overlay=overlay, domain="bdc")
    base = engine_sample["incremental"].counts.set_index(["batch", "unit_code", "rule_id"])
    mine = res.counts.set_index(["batch", "unit_code", "rule_id"])
    shared = mine.loc[base.index]
    assert (shared.element_count == base.element_count).all() and (
        shared.unexpected_count == base.unexpected_count
    ).all()
    local = res.counts[res.counts.rule_id.str.startswith("local.")]
    assert set(local.engine) == {"gx"} and local.evaluated.all()
    fdcq_rows = res.rows[res.rows.table == "QLT_FW_FDCQ_YZ"].groupby(["batch", "unit_code"]).rows.sum()
    el = local[local.rule_id == "local.fdcq.djjg.not_test"].set_index(["batch", "unit_code"]).element_count
    assert (el[el > 0] == fdcq_rows.loc[el[el > 0].index]).all()


def test_unusable_input_raises_like_the_loader(tmp_path, bdc_kit):
    batch = bdc_kit.write_batch(tmp_path / "b", bdc_kit.valid_tables(bdc_kit.districts(1)))
    p = batch / f"{bdc_kit.FDCQ}.csv"
    p.write_text(p.read_text(encoding="utf-8").replace("DJJG,", "XXXX,", 1), encoding="utf-8")
    with pytest.raises(InputError) as gx_err:
        run_check(batch, domain="bdc", engine="gx")
    with pytest.raises(type(gx_err.value)):
        count_batches(batch, domain="bdc")
    with pytest.raises(ConfigError):
        count_batches([batch, batch], domain="bdc")  # two batches with the same name


def test_disk_storage_counts_the_same(sample, engine_sample, tmp_path):
    res = count_batches(
        sample / "incremental",
        domain="bdc",
        storage="disk",
        memory_limit="256MB",
        threads=1,
        work_dir=tmp_path,
    )
    base = engine_sample["incremental"]
    cols = ["batch", "unit_code", "rule_id", "element_count", "unexpected_count", "evaluated", "engine"]
    pd.testing.assert_frame_equal(res.counts[cols], base.counts[cols])
    pd.testing.assert_frame_equal(res.rows, base.rows)
    assert list(tmp_path.iterdir()) == []  # the work folder is removed
    with pytest.raises(ConfigError):
        count_batches(sample / "incremental", storage="cloud", domain="bdc")
