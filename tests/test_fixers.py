"""The fixers of ``dq clean`` (``toolkit/fixers.py``): contract, independent oracles, the pack's section.

* Contract, property-tested with Hypothesis on arbitrary text and on near-miss spellings, for every fixer
  and parameter setting: it never raises; a value in the fixer's own form is left alone (never changed);
  a fixed value differs from the input, is in the fixer's form and is left alone when fixed again
  (idempotent); "needs a person" never changes the value.
* Independent oracles: dates and times against Python's calendar (``datetime``), ID numbers against
  python-stdnum (``stdnum.cn.ric``), ratios against exact ``Decimal`` arithmetic; the table of examples
  each fixer declares (the README shows the same table).
* Through the planner, on every field the ``bdc`` pack declares fixers for: a value that already passes the
  field's rules is never changed, and every change passes every rule it targets.
* The ``fixers:`` section of ``domain.yaml``: wrong declarations are configuration errors (exit 2).
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from toolkit import clean
from toolkit.domain import EXPECTATIONS_DIR, load_domain
from toolkit.errors import ConfigError
from toolkit.fixers import FIXED, FIXERS, OK, PERSON, field_fixers, fixers_digest, halfwidth
from toolkit.loading import ROW_COLUMN, LoadedTable

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Every fixer with every parameter setting worth checking.
BINDINGS = [
    ("date", {}),
    ("date", {"style": "YYYY/MM/DD"}),
    ("date", {"style": "YYYYMMDD"}),
    ("datetime", {}),
    ("datetime", {"style": "YYYY/MM/DD HH:MM:SS"}),
    ("month", {}),
    ("month", {"style": "YYYYMM"}),
    ("fullwidth", {}),
    ("id_x", {}),
    ("text", {}),
    ("brackets", {}),
    ("percent_ratio", {}),
    ("percent_ratio", {"max_value": 0.5}),
    ("unit_suffix", {"units": ("㎡", "平方米", "m²", "%", "％")}),
    ("phone", {}),
    ("integer", {}),
]

_INTERESTING = (
    "0123456789０１２３４５６７８９/-.:年月日时分秒 T\u3000\u200b\ufeff\t\n\r\x1b\ufffd"
    "xX%％㎡()（）+,张三湖北省有限公司aZ"
)
_FORMATS = (
    "{y}-{m:02d}-{d:02d}",
    "{y}/{m}/{d}",
    "{y}.{m:02d}.{d:02d}",
    "{y}年{m}月{d}日",
    "{y:04d}{m:02d}{d:02d}",
    "{y}-{m}-{d} {H}:{M:02d}:{S:02d}",
    "{y}/{m:02d}/{d:02d} {H:02d}:{M:02d}:{S:02d}",
    "{y}-{m:02d}-{d:02d}T{H:02d}:{M:02d}:{S:02d}",
    "{y:04d}{m:02d}{d:02d} {H:02d}{M:02d}{S:02d}",
    "{y:04d}{m:02d}{d:02d}{H:02d}{M:02d}{S:02d}",
    "{y}年{m:02d}月{d:02d}日 {H:02d}:{M:02d}",
    "{y}-{m:02d}",
    "{y}年{m}月",
)


@st.composite
def near_misses(draw) -> str:
    """Spellings of dates, times, months, numbers and names that the fixers are meant for."""
    y, m, d = draw(st.integers(0, 10000)), draw(st.integers(0, 13)), draw(st.integers(0, 32))
    hh, mm, ss = draw(st.integers(0, 25)), draw(st.integers(0, 60)), draw(st.integers(0, 60))
    text = draw(st.sampled_from(_FORMATS)).format(y=y, m=m, d=d, H=hh, M=mm, S=ss)
    text = draw(st.sampled_from([text, f"{draw(st.integers(0, 999))}.{draw(st.integers(0, 99))}%"]))
    if draw(st.booleans()):
        text = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" and draw(st.booleans()) else c for c in text)
    pad = draw(st.sampled_from(["", " ", "\u3000", "\u200b", "x"]))
    return draw(st.sampled_from([text, pad + text, text + pad]))


VALUES = st.one_of(st.text(max_size=30), st.text(alphabet=_INTERESTING, max_size=30), near_misses())


# ------------------------------------------------------------------------------------------- the contract


@pytest.mark.parametrize(("fid", "params"), BINDINGS, ids=[f"{f}-{p}" for f, p in BINDINGS])
@SETTINGS
@given(value=VALUES)
def test_every_fixer_keeps_its_contract(fid, params, value):
    fixer = FIXERS[fid]
    fix = fixer.bind(params)
    outcome = fix(value)
    assert outcome.kind in (OK, FIXED, PERSON)
    if fixer.accepts(value, params):
        assert outcome.kind == OK and outcome.value == value  # never changes a value in its form
    if outcome.kind == FIXED:
        assert outcome.value != value
        assert fixer.accepts(outcome.value, params), outcome
        again = fix(outcome.value)
        assert again.kind == OK and again.value == outcome.value  # idempotent
    else:
        assert outcome.value == value
    if outcome.kind == PERSON:
        assert outcome.reason_zh and outcome.reason_en


@pytest.mark.parametrize("fid", list(FIXERS))
def test_examples_of_every_fixer(fid):
    fixer = FIXERS[fid]
    fix = fixer.bind(fixer.example_params)
    assert len(fixer.examples) >= 2
    assert any(e is None for _, e in fixer.examples) and any(e for _, e in fixer.examples)
    for value, expected in fixer.examples:
        outcome = fix(value)
        got = outcome.value if outcome.kind == FIXED else None
        assert got == expected, (fid, value, outcome)


def test_every_fixer_is_documented_and_targets_real_rule_types():
    from toolkit.checks import RULE_TYPES

    known = set(RULE_TYPES)
    for fixer in FIXERS.values():
        assert fixer.label_zh and fixer.label_en and fixer.doc
        assert fixer.rule_types, fixer.id
        stray = fixer.rule_types - known
        assert not stray, (fixer.id, stray)


# ------------------------------------------------------------------------------------------- oracles


def _spell(day: dt.date, fmt: str, fullwidth: bool) -> str:
    text = fmt.format(y=day.year, m=day.month, d=day.day)
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text) if fullwidth else text


@SETTINGS
@given(
    day=st.dates(min_value=dt.date(1000, 1, 1)),
    fmt=st.sampled_from(
        ["{y}/{m}/{d}", "{y}.{m:02d}.{d:02d}", "{y}年{m}月{d}日", "{y}{m:02d}{d:02d}", "{y}-{m}-{d}"]
    ),
    fullwidth=st.booleans(),
)
def test_date_spellings_against_the_calendar(day, fmt, fullwidth):
    outcome = FIXERS["date"].bind()(_spell(day, fmt, fullwidth))
    expected = day.isoformat()
    if outcome.kind == OK:
        assert outcome.value == expected
    else:
        assert outcome.kind == FIXED and outcome.value == expected
    slash = FIXERS["date"].bind({"style": "YYYY/MM/DD"})(_spell(day, fmt, fullwidth))
    assert (slash.value if slash.kind != PERSON else None) == expected.replace("-", "/")


@SETTINGS
@given(y=st.integers(1000, 9999), m=st.integers(1, 12), d=st.integers(1, 31))
def test_impossible_dates_need_a_person(y, m, d):
    try:
        dt.date(y, m, d)
    except ValueError:
        for text in (f"{y}/{m}/{d}", f"{y}年{m}月{d}日", f"{y}{m:02d}{d:02d}"):
            assert FIXERS["date"].bind()(text).kind == PERSON
    else:
        assert FIXERS["date"].bind()(f"{y}/{m}/{d}").value == dt.date(y, m, d).isoformat()


@SETTINGS
@given(
    when=st.datetimes(min_value=dt.datetime(1000, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59)),
    fmt=st.sampled_from(
        [
            "{y}/{m:02d}/{d:02d} {H:02d}:{M:02d}:{S:02d}",
            "{y}-{m:02d}-{d:02d}T{H:02d}:{M:02d}:{S:02d}",
            "{y:04d}{m:02d}{d:02d} {H:02d}{M:02d}{S:02d}",
            "{y:04d}{m:02d}{d:02d}{H:02d}{M:02d}{S:02d}",
            "{y}-{m}-{d} {H}:{M:02d}:{S:02d}",
            "{y}年{m:02d}月{d:02d}日 {H:02d}:{M:02d}:{S:02d}",
        ]
    ),
)
def test_datetime_spellings_against_the_calendar(when, fmt):
    text = fmt.format(y=when.year, m=when.month, d=when.day, H=when.hour, M=when.minute, S=when.second)
    expected = (
        f"{when.year:04d}-{when.month:02d}-{when.day:02d} {when.hour:02d}:{when.minute:02d}:{when.second:02d}"
    )
    outcome = FIXERS["datetime"].bind()(text)
    assert outcome.value == expected and outcome.kind in (OK, FIXED)


@st.composite
def citizen_ids(draw) -> str:
    # area codes in use throughout the birth years drawn (440113, Panyu district, exists since 2001)
    birth = draw(st.dates(min_value=dt.date(2001, 1, 1), max_value=dt.date(2020, 12, 31)))
    body = f"{draw(st.sampled_from(['420102', '110105', '440113']))}{birth:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return body + ric.calc_check_digit(body + "0")


@SETTINGS
@given(number=citizen_ids())
def test_id_x_against_stdnum(number):
    fix = FIXERS["id_x"].bind()
    lower = number[:17] + number[17].lower()
    outcome = fix(lower)
    if number.endswith("X"):
        assert outcome.kind == FIXED and outcome.value == number and ric.is_valid(outcome.value)
    else:
        assert outcome.kind == OK
    assert fix(number).kind == OK  # a valid number is never touched


@SETTINGS
@given(number=st.decimals(min_value=Decimal("1.001"), max_value=100, places=3), percent=st.booleans())
def test_percent_ratio_against_decimal_arithmetic(number, percent):
    text = f"{number}%" if percent else str(number)
    outcome = FIXERS["percent_ratio"].bind()(text)
    assert outcome.kind == FIXED and Decimal(outcome.value) == number / 100
    assert Decimal(outcome.value) <= 1 and "E" not in outcome.value


def test_halfwidth_covers_exactly_the_fullwidth_ascii_block():
    full = "".join(chr(c) for c in range(0xFF01, 0xFF5F))
    assert halfwidth(full) == "".join(chr(c) for c in range(0x21, 0x7F))
    assert halfwidth("\u3000（张）") == "\u3000(张)"


# ------------------------------------------------------------------------------------------- through the planner


@pytest.fixture(scope="module")
def bdc():
    return load_domain("bdc")


#: The shipped packs that declare fixers, loaded once.
PACKS = {
    p.name: load_domain(p.name)
    for p in sorted(EXPECTATIONS_DIR.iterdir())
    if (p / "domain.yaml").is_file() and "\nfixers:" in (p / "domain.yaml").read_text(encoding="utf-8")
}
DECLARED = sorted({(name, ff.table, ff.field) for name, pack in PACKS.items() for ff in field_fixers(pack)})


@pytest.mark.parametrize(("pack", "table", "field"), DECLARED)
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(values=st.lists(VALUES, min_size=1, max_size=8))
def test_the_planner_never_changes_a_passing_value_and_every_change_passes(pack, table, field, values):
    bdc = PACKS[pack]
    fields = list(bdc.tables[table]["fields"])
    frame = pd.DataFrame({f: [None] * len(values) for f in fields}, dtype=object)
    frame[field] = [v if v and not v.isspace() else None for v in values]  # the loader's empty cells
    if field != "ZJZL" and "ZJZL" in frame:
        frame["ZJZL"] = ["1" if i % 2 else "8" for i in range(len(values))]
    frame[ROW_COLUMN] = [str(i + 2) for i in range(len(values))]
    lt = LoadedTable(table, None, "csv", "utf-8", frame, len(values), 0)  # type: ignore[arg-type]
    planner = clean._TablePlanner(bdc, lt, [ff for ff in field_fixers(bdc) if ff.table == table])
    cells = planner.plan()
    rules = planner._single(field)
    for c in cells:
        assert c.field == field and c.old == frame[field].iat[c.index]
        applying = [r for r in rules if planner.applies(r)[c.index] and clean._value_test(r) is not None]
        assert any(not clean._value_test(r)(c.old) for r in applying), "only failing values are touched"
        assert all(clean._value_test(r)(c.new) for r in applying), "every change passes every rule"
    changed = {c.index for c in cells}
    person = {p[0] for p in planner.person}
    assert not changed & person  # a cell is either changed or needs a person, never both


# ------------------------------------------------------------------------------------------- the pack's section


def test_the_readme_lists_every_fixer():
    readme = (EXPECTATIONS_DIR.parent / "README.md").read_text(encoding="utf-8")
    for fid in FIXERS:
        assert f"| `{fid}` |" in readme, f"add {fid} to the fixer table of the README (dq clean)"


def test_the_packs_declare_the_fixers_the_issue_names():
    """bdc: dates, codes, IDs, text; gjj: dates, months, percent-written ratios; sgs: brackets, dates."""
    wanted = {
        "bdc": {"date", "datetime", "text", "fullwidth", "id_x"},
        "gjj": {"date", "month", "percent_ratio"},
        "sgs": {"brackets", "date"},
    }
    for name, fixers in wanted.items():
        if name in PACKS:
            assert {ff.fixer.id for ff in field_fixers(PACKS[name])} >= fixers, name
    assert "bdc" in PACKS


def test_bdc_declares_fixers_for_existing_fields_with_rules(bdc):
    declared = field_fixers(bdc)
    assert {ff.fixer.id for ff in declared} >= {
        "date",
        "datetime",
        "text",
        "fullwidth",
        "id_x",
        "unit_suffix",
    }
    for ff in declared:
        assert ff.field in bdc.tables[ff.table]["fields"]
    assert len(fixers_digest(bdc)) == 64


@pytest.mark.parametrize(
    ("section", "says"),
    [
        ("nope", "列表"),
        ([{"fixer": "guess", "fields": {"QLT_FW_FDCQ_YZ": ["SLSJ"]}}], "没有整理器"),
        ([{"fixer": "date", "fields": {"NOPE": ["SLSJ"]}}], "没有表"),
        ([{"fixer": "date", "fields": {"QLT_FW_FDCQ_YZ": ["NOPE"]}}], "没有字段"),
        ([{"fixer": "date", "fields": {"QLT_FW_FDCQ_YZ": "SLSJ"}}], "列表"),
        ([{"fixer": "date", "params": {"style": "DD/MM/YYYY"}, "fields": {"DJ_DBRZ": ["RZRQ"]}}], "style"),
        ([{"fixer": "date", "params": {"stlye": "YYYY-MM-DD"}, "fields": {"DJ_DBRZ": ["RZRQ"]}}], "没有参数"),
        (
            [{"fixer": "unit_suffix", "params": {"units": ["2"]}, "fields": {"QLT_FW_FDCQ_YZ": ["JZMJ"]}}],
            "units",
        ),
        (
            [{"fixer": "percent_ratio", "params": {"max_value": -1}, "fields": {"ZTT_GY_QLR": ["QLBL"]}}],
            "max_value",
        ),
        ([{"fixer": "date", "fields": {"DJ_DBRZ": ["RZRQ"]}, "when": "always"}], "只能有"),
    ],
)
def test_a_wrong_fixers_section_is_a_configuration_error(bdc, section, says):
    pack = copy.copy(bdc)
    pack.config = {**bdc.config, "fixers": section}
    with pytest.raises(ConfigError, match=says) as info:
        field_fixers(pack)
    assert "domain.yaml" in str(info.value.path) and info.value.fix_zh


def test_a_fixer_on_a_field_without_a_rule_it_can_make_pass_is_refused(bdc, tmp_path, bdc_kit):
    pack = copy.copy(bdc)
    pack.config = {**bdc.config, "fixers": [{"fixer": "phone", "fields": {"QLT_FW_FDCQ_YZ": ["FDZL"]}}]}
    batch = bdc_kit.write_batch(tmp_path / "b", bdc_kit.valid_tables(bdc_kit.districts(1)))
    with pytest.raises(ConfigError, match="没有这些整理器能使之通过的规则"):
        clean.make_plan(batch, domain=pack)


def test_the_digest_follows_the_declarations_and_the_rules(bdc):
    pack = copy.copy(bdc)
    pack.config = {**bdc.config, "fixers": bdc.config["fixers"][:1]}
    assert fixers_digest(pack) != fixers_digest(bdc)
    assert fixers_digest(load_domain("bdc")) == fixers_digest(bdc)
