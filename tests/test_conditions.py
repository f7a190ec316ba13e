"""The row-condition parser: one tree, three outputs that agree with pandas' own ``query`` (the oracle,
run here on trusted text only) — the pandas mask, DuckDB SQL and Great Expectations' structured condition.
Anything outside the grammar is refused."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from toolkit.conditions import MAX_LENGTH, MAX_TERMS, parse_condition
from toolkit.errors import ConfigError
from toolkit.sqlcompile import ident, literal

FRAME = pd.DataFrame(
    {
        "DJLX": ["100", "200", "300", None, "200", "500", "200"],
        "GYFS": ["2", "2", None, "2", "1", "2", "2"],
        "ZJZL": ["1", "8", "1", "1", None, "8", "x'y"],
    },
    dtype=object,
)

GOOD = [
    'DJLX == "200"',
    "DJLX == '200'",
    'DJLX in ["100", "200"]',
    'DJLX in ["100", "200",]',
    'DJLX == "200" and GYFS == "2"',
    'DJLX == "200" or GYFS == "1"',
    '(DJLX == "200" or DJLX == "300") and GYFS == "2"',
    'DJLX == "100" or (GYFS == "2" and ZJZL in ["8", "1"])',
    '((DJLX == "500"))',
    'ZJZL == "x\'y"',
    'DJLX == "200" and (GYFS == "2" or ZJZL == "8") and (ZJZL == "1" or ZJZL == "8" or DJLX == "x")',
]


@pytest.mark.parametrize("text", GOOD)
def test_mask_and_sql_agree_with_pandas_query(text):
    cond = parse_condition(text)
    assert cond is not None
    want = list(FRAME.query(text).index)  # trusted text: pandas is the independent oracle here
    assert list(FRAME.index[cond.mask(FRAME)]) == want
    con = duckdb.connect()
    con.register("f", FRAME.reset_index())
    got = [
        r[0]
        for r in con.execute(f"SELECT index FROM f WHERE {cond.sql(ident, literal)} ORDER BY 1").fetchall()
    ]
    assert got == want


@pytest.mark.parametrize("text", GOOD)
def test_great_expectations_gets_an_equivalent_structured_condition(text):
    """GX renders its structured conditions to a query of its own; it selects the same rows."""
    from great_expectations.execution_engine import PandasExecutionEngine

    cond = parse_condition(text)
    engine = PandasExecutionEngine()
    clause = engine.condition_to_filter_clause(cond.gx())
    assert list(FRAME.query(clause).index) == list(FRAME.query(text).index)


@pytest.mark.parametrize(
    "text",
    [
        '@pd.io.common.os.system("id")',
        '__import__("os").system("id")',
        "DJLX.str.len() > 0",
        "DJLX == DJLX",
        'DJLX != "200"',
        'DJLX > "200"',
        "`DJLX` == '200'",
        'DJLX == f"{1}"',
        'DJLX == b"200"',
        "DJLX == 200",
        'DJLX in ("200",)',
        'not DJLX == "200"',
        'DJLX == "200" and',
        '(DJLX == "200"',
        'import == "1"',
        'DJLX == "1"; GYFS == "2"',
        'DJLX == "1"\x00',
        "DJLX",
        "(" * 12 + 'DJLX == "1"' + ")" * 12,
        " or ".join(['DJLX == "1"'] * (MAX_TERMS + 1)),
        'DJLX == "' + "a" * MAX_LENGTH + '"',
    ],
)
def test_everything_else_is_refused(text):
    with pytest.raises(ConfigError) as info:
        parse_condition(text)
    assert "row condition" in info.value.en and "适用条件" in info.value.zh


def test_blank_is_every_row_and_columns_are_listed():
    assert parse_condition(None) is None and parse_condition("  ") is None
    assert parse_condition('GYFS == "2" and DJLX in ["1"] or GYFS == "1"').columns == ["GYFS", "DJLX"]
    assert parse_condition({"pass_through_filter": 'DJLX == "1"'}).text == 'DJLX == "1"'
    with pytest.raises(ConfigError):
        parse_condition(
            {"type": "comparison", "column": {"name": "DJLX"}, "operator": "==", "parameter": "1"}
        )


def test_expansion_is_bounded():
    """An AND of many ORs expands to exponentially many terms in the structured form: refused."""
    text = " and ".join(f'(DJLX == "{i}" or GYFS == "{i}")' for i in range(12))
    cond = parse_condition(text)
    with pytest.raises(ConfigError):
        cond.gx()
