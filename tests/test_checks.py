"""Every registered check, through every engine: the test template of ``toolkit/checks/``.

Each custom check lives in one module, ``toolkit/checks/<name>.py``, and is listed once in
``toolkit.checks.CHECK_MODULES``. The tests below run for *every* registered check without naming it:

* it has a pure function, a SQL builder (in ``toolkit.sqlcompile.COMPILERS``), a Great Expectations class
  registered under its type (made by ``toolkit.gx_expectations``) whose keywords and defaults are the
  declared ones, and it refuses unknown keywords (engine and strict overlay vetting alike);
* differential, value by value: on each of its ``examples`` (plus odd values every check gets — empty,
  spaces, NUL, BOM, non-ASCII digits, emoji, very long text, missing cells), the pure function, the
  compiled DuckDB SQL and Great Expectations flag exactly the same values as unexpected, and a missing
  value is never unexpected;
* its examples are worth running: at least one value passes and one fails.

How to add a check
------------------
1. Write ``toolkit/checks/<name>.py`` (``share_prefix.py`` is the smallest to copy): a module docstring
   stating the rule, ``TYPE = "expect_column_values_to_…"`` (pairs: ``expect_column_pair_values_to_…``),
   its constants and pure function(s), and

   .. code-block:: python

       def build_sql(r: RuleSql) -> CompiledRule:          # raise NotCompilable when unsure
           c, v = r.single()                                # pairs: ca, cb, a, b = r.pair()
           return r.done([c], nn(v, f"NOT ({sql_ok(v)})"))  # SQL: is this (non-NULL) value unexpected?

       CHECK = Check(
           type=TYPE,
           params=(Param("length", 6, int),),               # keyword, default, GX field type
           sql=build_sql,
           predicate=lambda length=6: lambda v: is_ok(v, length),  # keyword values → value test
           metric="column_values.dq_<name>",                # pairs: "column_pair_values.dq_<name>"
           doc="What an expected value is, in one sentence.",
           examples=(Example(("good", "bad", …)), Example((…), {"length": 1})),
       )

   Macros the SQL calls go in ``macros=(…,)``; pairs also set ``ignore_row_if="either_value_is_missing"``.
2. Add ``"<name>"`` to ``CHECK_MODULES`` in ``toolkit/checks/__init__.py``.

That is all: Great Expectations knows the type, packs and overlays may use it (``vet_rule``), the count
engine compiles it, and this module tests it. Re-export the pure function from ``toolkit.validators`` if
other code needs it.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest
from great_expectations.expectations.registry import get_expectation_impl

from toolkit import gx_expectations as ge
from toolkit import sqlcompile, workdays
from toolkit.checks import CHECK_MODULES, CHECKS, RULE_TYPES, Check
from toolkit.checks.citizen_id import CITIZEN_ID_CHECK_CHARS, CITIZEN_ID_WEIGHTS
from toolkit.checks.credit_code import CREDIT_CODE_CHARSET, CREDIT_CODE_WEIGHTS
from toolkit.domain import Rule
from toolkit.engine import _calendar_sql, _connect
from toolkit.errors import ConfigError, NotCompilable
from toolkit.gx_run import _context

ROW = "_ROW"
ROOT = Path(__file__).resolve().parents[1]

#: Odd values every single-column check gets on top of its examples (no lone surrogates: not SQL text).
ODD = (
    None,
    "",
    " ",
    "\u3000",
    "\t",
    "\x00",
    "\ufeff",
    "\ufffd",
    "٣",
    "²",
    "𝟘",
    "中",
    "\U0001f600",
    "9" * 300,
)
#: Odd pairs every column-pair check gets.
ODD_PAIRS = (
    (None, None),
    (None, "2024-03-05 00:00:00"),
    ("2024-03-05 00:00:00", None),
    ("", ""),
    ("\x00", "2024-03-05"),
    ("2024-03-05", "٢٠٢٤-03-05"),
)

CASES = [(t, i) for t, check in CHECKS.items() for i in range(len(check.examples))]


def _case_id(case: tuple[str, int]) -> str:
    t, i = case
    return f"{t.removeprefix('expect_column_values_to_').removeprefix('expect_column_pair_values_to_')}-{i}"


def _rule(type_: str, **kwargs) -> Rule:
    meta = {"rule_id": "t.rule", "table": "T", "field": "A", "dimension": "validity", "severity": "warning"}
    return Rule(
        rule_id="t.rule", suite="t", target="t", target_kind="table", type=type_, kwargs=kwargs, meta=meta
    )


def _columns(check: Check) -> dict[str, str]:
    return {"column_A": "a", "column_B": "b"} if check.pair else {"column": "a"}


def _values(check: Check, i: int) -> list:
    example = check.examples[i]
    return [*example.values, *(ODD_PAIRS if check.pair else ODD)]


def _frame(check: Check, values: list) -> pd.DataFrame:
    if check.pair:
        return pd.DataFrame({k: pd.Series([v[j] for v in values], dtype=object) for j, k in enumerate("ab")})
    return pd.DataFrame({"a": pd.Series(values, dtype=object)})


# ------------------------------------------------------------------------------------------------ engines


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = _connect(tmp_path_factory.mktemp("duck"), "1GB", None)
    _calendar_sql(c, workdays.WorkdayCalendar())
    yield c
    c.close()


@pytest.fixture(scope="module")
def gx():
    workdays.use_calendar(None)
    ctx = _context(None)
    return (
        ctx.data_sources.add_pandas("frames")
        .add_dataframe_asset("frame")
        .add_batch_definition_whole_dataframe("all")
    )


def pure_flags(check: Check, params: dict, values: list) -> list[bool]:
    """Unexpected per the pure function (missing values never are)."""
    test = check.bind(params)
    if check.pair:
        return [a is not None and b is not None and not test(a, b) for a, b in values]
    return [v is not None and not test(v) for v in values]


def sql_flags(con, check: Check, params: dict, values: list) -> list[bool]:
    """Unexpected per the SQL that ``toolkit.sqlcompile.compile_rule`` makes (as the engine runs it)."""
    c = sqlcompile.compile_rule(
        _rule(check.type, **_columns(check), **params), rule_index=0, today=dt.date.today()
    )
    frame = _frame(check, values)
    frame.insert(0, "_BATCH", "b")
    frame.insert(1, "_id", range(len(values)))
    con.register("t_src", frame)
    lets = "".join(f", {e} AS {n}" for n, e in c.lets)
    con.execute(f"CREATE OR REPLACE TEMP TABLE t AS SELECT *{lets} FROM t_src")
    con.unregister("t_src")
    ctes = ", ".join(f"{n} AS ({s.replace('{target}', 't')})" for n, s in c.ctes)
    sql = (
        (f"WITH {ctes} " if ctes else "")
        + f"SELECT CASE WHEN {c.condition or 'true'} THEN coalesce({c.unexpected}, false) ELSE false END "
        + f"FROM t {' '.join(j for _, j in c.joins)} ORDER BY t._id"
    )
    return [bool(x) for (x,) in con.execute(sql).fetchall()]


def gx_flags(gx, check: Check, params: dict, values: list) -> list[bool]:
    """Unexpected per Great Expectations, running the check's registered class."""
    frame = _frame(check, values)
    frame[ROW] = [str(i) for i in range(len(values))]
    expectation = ge.EXPECTATIONS[check.type](**_columns(check), **params)
    res = gx.get_batch(batch_parameters={"dataframe": frame}).validate(
        expectation, result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW]}
    )
    assert not (res.exception_info or {}).get("raised_exception"), res.exception_info
    rows = {
        int(item[ROW]) if isinstance(item, dict) else int(item)
        for item in res.result["unexpected_index_list"]
    }
    assert res.result["element_count"] == len(values)
    assert res.result["unexpected_count"] == len(rows)
    return [i in rows for i in range(len(values))]


# ------------------------------------------------------------------------------------------------ the template


@pytest.mark.parametrize("check", list(CHECKS.values()), ids=lambda c: c.type)
def test_check_has_every_part(check: Check):
    assert isinstance(check.doc, str) and check.doc
    assert callable(check.bind({}))
    assert sqlcompile.COMPILERS[check.type] is check.sql and check.type in sqlcompile.ENGINE_TYPES
    assert sqlcompile.TYPE_KWARGS[check.type] == check.keywords
    cls = get_expectation_impl(check.type)
    assert cls is ge.EXPECTATIONS[check.type] and cls.__module__ == ge.__name__
    assert getattr(ge, cls.__name__) is cls and cls.__doc__ == check.doc
    assert cls.map_metric == check.metric
    # keywords and defaults of the Great Expectations class are the declared ones
    made = cls(**_columns(check))
    for p in check.params:
        assert getattr(made, p.name) == p.default, p.name
    names = tuple(p.name for p in check.params)
    if check.pair:
        assert check.ignore_row_if == made.ignore_row_if == "either_value_is_missing"
        assert cls.success_keys == ("column_A", "column_B", *names, "ignore_row_if", "mostly")
    else:
        assert check.ignore_row_if is None
        assert cls.success_keys == (*names, "mostly")


@pytest.mark.parametrize("check", list(CHECKS.values()), ids=lambda c: c.type)
def test_check_refuses_unknown_keywords(check: Check):
    rule = _rule(check.type, **_columns(check), bogus=1)
    with pytest.raises(NotCompilable, match="bogus"):
        sqlcompile.compile_rule(rule, rule_index=0)
    with pytest.raises(ConfigError):
        sqlcompile.vet_rule(rule, strict=True)
    sqlcompile.vet_rule(_rule(check.type, **_columns(check)), strict=True)


@pytest.mark.parametrize("check", list(CHECKS.values()), ids=lambda c: c.type)
def test_examples_are_worth_running(check: Check):
    assert check.examples, "declare examples=(Example((…values…)),) in the check's module"
    flags = [
        f
        for i in range(len(check.examples))
        for f in pure_flags(check, dict(check.examples[i].params), _values(check, i))
    ]
    assert any(flags) and not all(flags)
    for example in check.examples:
        assert set(example.params) <= check.keywords


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_pure_sql_and_gx_agree_value_by_value(con, gx, case):
    check = CHECKS[case[0]]
    example = check.examples[case[1]]
    params = dict(example.params)
    values = _values(check, case[1])
    pure = pure_flags(check, params, values)
    sql = sql_flags(con, check, params, values)
    got = gx_flags(gx, check, params, values)
    disagree = [(v, p, s, g) for v, p, s, g in zip(values, pure, sql, got, strict=True) if not p == s == g]
    assert not disagree, ("value, pure, sql, gx", disagree)
    missing = [i for i, v in enumerate(values) if (None in v if check.pair else v is None)]
    assert missing and not any(pure[i] for i in missing)


# ------------------------------------------------------------------------------------------------ registry


def test_registry_lists_every_check_module_once():
    assert [c.type for c in CHECKS.values()] == list(ge.CUSTOM_EXPECTATION_TYPES)
    assert len(CHECK_MODULES) == len(set(CHECK_MODULES)) == len(CHECKS) >= 28
    on_disk = {p.stem for p in (ROOT / "toolkit" / "checks").glob("*.py")}
    assert set(CHECK_MODULES) == on_disk - {"__init__", "base", "sql", "charclass", "re2", "core"}


def test_sqlcompile_derives_its_tables_from_the_registry():
    assert set(sqlcompile.TYPE_KWARGS) == set(RULE_TYPES)
    assert sqlcompile.ENGINE_TYPES == {t for t, kind in RULE_TYPES.items() if kind.sql is not None}
    assert set(sqlcompile.TYPE_KWARGS) - sqlcompile.ENGINE_TYPES == {
        "expect_column_values_to_not_match_regex",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_null",
    }
    for kind in RULE_TYPES.values():
        for macro in kind.macros:
            assert macro in sqlcompile.MACROS
    with pytest.raises(NotCompilable, match="not compiled"):
        sqlcompile.compile_rule(_rule("expect_column_values_to_be_null", column="a"), rule_index=0)
    with pytest.raises(ConfigError, match="不受支持"):
        sqlcompile.vet_rule(_rule("expect_column_values_to_be_anything", column="a"), strict=False)


def test_check_digit_constants_follow_the_standards():
    # GB 11643: weight of position i is 2^(17-i) mod 11; check value (12 - Σ mod 11) mod 11, 10 written X
    assert CITIZEN_ID_WEIGHTS == tuple(2 ** (17 - i) % 11 for i in range(17))
    assert CITIZEN_ID_CHECK_CHARS == "".join(
        "X" if (12 - r) % 11 == 10 else str((12 - r) % 11) for r in range(11)
    )
    # GB 32100: weight of position i is 3^i mod 31; digits and capitals without I, O, Z, S, V
    assert CREDIT_CODE_WEIGHTS == tuple(3**i % 31 for i in range(17))
    letters = "".join(chr(c) for c in range(ord("A"), ord("Z") + 1) if chr(c) not in "IOZSV")
    assert CREDIT_CODE_CHARSET == "0123456789" + letters


def test_each_standard_constant_has_one_home():
    """The GB 11643 / GB 32100 weights and the credit-code character set are written only in their check."""
    facts = {
        "citizen-ID weights": (r"7,\s*9,\s*10,\s*5,\s*8,\s*4,\s*2,\s*1,\s*6,\s*3", "citizen_id.py"),
        "credit-code weights": (r"1,\s*3,\s*9,\s*27,\s*19", "credit_code.py"),
        "credit-code charset": (re.escape(CREDIT_CODE_CHARSET), "credit_code.py"),
    }
    for what, (pattern, home) in facts.items():
        found = sorted(
            str(p.relative_to(ROOT))
            for p in (ROOT / "toolkit").rglob("*.py")
            if re.search(pattern, p.read_text("utf-8"))
        )
        assert found == [f"toolkit/checks/{home}"], (what, found)
