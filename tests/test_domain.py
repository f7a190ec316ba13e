"""The bdc domain pack against its contract (shared/spec/bdc-contract.md): rule ids, metadata, code lists,
required fields; and that a broken suite is refused with a ConfigError naming the file."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from toolkit.domain import DIMENSIONS, SEVERITIES, load_domain
from toolkit.errors import ConfigError
from toolkit.loading import ROW_COLUMN, Batch, LoadedTable
from toolkit.views import build_views

SHORT = {
    "fdcq": "QLT_FW_FDCQ_YZ",
    "qlr": "ZTT_GY_QLR",
    "dyaq": "QLF_QL_DYAQ",
    "jrbw": "JR_BW",
    "dbrz": "DJ_DBRZ",
}

# Required fields of each table as the contract's tables list them ("R", including "R when ...").
CONTRACT_REQUIRED = {
    "fdcq": [
        "YWH",
        "BDCDYH",
        "QXDM",
        "DJLX",
        "QLLX",
        "FDZL",
        "JZMJ",
        "BDCQZH",
        "SLSJ",
        "DJSJ",
        "DBR",
        "DJJG",
        "QSZT",
    ],
    "qlr": ["YWH", "BDCDYH", "SXH", "QLRMC", "ZJZL", "ZJH", "QLRLX", "GYFS", "QLBL", "QXDM"],
    "dyaq": [
        "YWH",
        "BDCDYH",
        "QXDM",
        "DJLX",
        "DYFS",
        "BDBZZQSE",
        "ZGZQSE",
        "ZWLXQSSJ",
        "ZWLXJSSJ",
        "DYQR",
        "SLSJ",
        "DJSJ",
        "DBR",
    ],
    "jrbw": ["BIZMSGID", "YWH", "QXDM", "RECTYPE", "JRSJ", "JRZT"],
    "dbrz": ["QXDM", "RZRQ", "DJLX", "SL"],
}
# Conditionally required fields (contract: "R when ...") and the rows the condition selects.
CONDITIONAL = {
    ("fdcq", "BDCQZH"): ("DJLX", {"100", "200", "300", "500"}),
    ("qlr", "QLBL"): ("GYFS", {"2"}),
    ("dyaq", "BDBZZQSE"): ("DYFS", {"1"}),
    ("dyaq", "ZGZQSE"): ("DYFS", {"2"}),
}
CONTRACT_DATETIME = {
    "fdcq": ["SLSJ", "DJSJ"],
    "dyaq": ["ZWLXQSSJ", "ZWLXJSSJ", "SLSJ", "DJSJ"],
    "jrbw": ["JRSJ"],
}
CONTRACT_DATE = {"dbrz": ["RZRQ"]}

# The contract's "Rule identifiers" table, spelled out.
CONTRACT_RULE_IDS = [
    "bdc.fdcq.ywh.unique",
    "bdc.dyaq.ywh.unique",
    "bdc.jrbw.bizmsgid.unique",
    "bdc.fdcq.bdcdyh.format",
    "bdc.dyaq.bdcdyh.format",
    "bdc.fdcq.bdcdyh.qxdm_prefix",
    "bdc.fdcq.djlx.code",
    "bdc.fdcq.qllx.code",
    "bdc.fdcq.qszt.code",
    "bdc.qlr.zjzl.code",
    "bdc.qlr.qlrlx.code",
    "bdc.qlr.gyfs.code",
    "bdc.fdcq.bdcqzh.format",
    "bdc.fdcq.jzmj.range",
    "bdc.fdcq.slsj.datetime",
    "bdc.fdcq.djsj.datetime",
    "bdc.fdcq.djsj.after_slsj",
    "bdc.fdcq.djsj.time_limit",
    "bdc.dyaq.djsj.time_limit",
    "bdc.qlr.zjh.citizen_id",
    "bdc.qlr.zjh.credit_code",
    "bdc.qlr.ywh.exists",
    "bdc.qlr.qlbl.sum_100",
    "bdc.qlr.qlrmc.clean_text",
    "bdc.fdcq.qlr.present",
    "bdc.fdcq.jrbw.submitted",
    "bdc.fdcq.jrbw.within_24h",
    "bdc.fdcq.jrbw.within_48h",
    "bdc.jrbw.jrzt.success",
    "bdc.dbrz.sl.matches",
]
REQUIRED_IDS = [f"bdc.{s}.{f.lower()}.required" for s, fields in CONTRACT_REQUIRED.items() for f in fields]
DATETIME_IDS = [f"bdc.{s}.{f.lower()}.datetime" for s, fields in CONTRACT_DATETIME.items() for f in fields]

META_KEYS = ("rule_id", "dimension", "severity", "applies_to", "message_zh", "fix_zh", "standard")
ID_PATTERN = re.compile(r"bdc\.(fdcq|qlr|dyaq|jrbw|dbrz)\.([a-z0-9_]+)\.([a-z0-9_]+)")
HAN = re.compile(r"[\u4e00-\u9fff]")
BDC = Path(__file__).resolve().parent.parent / "expectations" / "bdc"


@pytest.fixture(scope="module")
def domain():
    return load_domain("bdc")


@pytest.fixture(scope="module")
def rule_ids(domain) -> set[str]:
    return {r.rule_id for r in domain.rules}


# --------------------------------------------------------------------------- the contract's rule ids


@pytest.mark.parametrize("rule_id", CONTRACT_RULE_IDS + REQUIRED_IDS + DATETIME_IDS)
def test_contract_rule_id_exists(rule_ids, rule_id):
    assert rule_id in rule_ids


@pytest.mark.parametrize(("short", "field"), [(s, f) for s, fs in CONTRACT_DATE.items() for f in fs])
def test_date_fields_have_a_parse_rule(rule_ids, short, field):
    assert {f"bdc.{short}.{field.lower()}.date", f"bdc.{short}.{field.lower()}.datetime"} & rule_ids


def test_dictionary_agrees_with_contract_on_required_and_types(domain):
    for short, fields in CONTRACT_REQUIRED.items():
        spec = domain.tables[SHORT[short]]["fields"]
        for f in fields:
            assert spec[f].get("required"), (short, f)
        for f, s in spec.items():
            if f not in fields:
                assert not s.get("required"), (short, f, "required in dictionary, not in contract")
    for short, fields in CONTRACT_DATETIME.items():
        for f in fields:
            assert domain.tables[SHORT[short]]["fields"][f]["type"] == "datetime", (short, f)
    assert domain.tables["ZTT_GY_QLR"]["fields"]["DH"].get("required") is False


def test_rule_ids_are_unique(domain):
    ids = [r.rule_id for r in domain.rules]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    assert not dup
    # and the same straight from the JSON files, independent of the loader
    raw = [
        e["meta"]["rule_id"]
        for p in sorted((BDC / "suites").glob("*.json"))
        for e in json.loads(p.read_text(encoding="utf-8"))["expectations"]
    ]
    assert sorted(raw) == sorted(ids)


def test_rule_ids_follow_the_naming_pattern(domain):
    for r in domain.rules:
        m = ID_PATTERN.fullmatch(r.rule_id)
        assert m, r.rule_id
        short, middle, _check = m.groups()
        assert SHORT[short] == r.table, (r.rule_id, r.table)
        fields = domain.tables[r.table]["fields"]
        # the middle part is the rule's field, or (cross-table rules) the short name of the other table, or
        # a topic named by the contract (``roles``: bdc.*.roles.separated)
        assert middle == r.field.lower() or (middle in SHORT and middle != short) or middle == "roles", (
            r.rule_id,
            r.field,
        )
        assert r.field in fields, (r.rule_id, r.field)


# --------------------------------------------------------------------------- metadata


def test_every_expectation_has_complete_meta(domain):
    for sname, suite in domain.suites.items():
        for exp in suite["expectations"]:
            meta = exp["meta"]
            rid = meta.get("rule_id")
            for key in META_KEYS:
                assert key in meta and meta[key] not in (None, "", []), (sname, rid, key)
            assert meta["dimension"] in DIMENSIONS, rid
            assert meta["severity"] in SEVERITIES, rid
            assert set(meta["applies_to"]) <= {"stock", "incremental"}, rid
            assert HAN.search(meta["message_zh"]) and HAN.search(meta["fix_zh"]), rid
            assert isinstance(meta["standard"], str), rid


def test_dimensions_match_the_kind_of_check(domain):
    expected = {
        "required": "completeness",
        "unique": "uniqueness",
        "code": "validity",
        "datetime": "validity",
        "citizen_id": "validity",
        "credit_code": "validity",
        "format": "validity",
    }
    for r in domain.rules:
        kind = r.rule_id.rsplit(".", 1)[1]
        if kind in expected:
            assert r.dimension == expected[kind], r.rule_id


def test_required_rules_are_not_null_checks_on_their_field(domain):
    for r in domain.rules:
        if r.rule_id.endswith(".required"):
            assert r.type == "expect_column_values_to_not_be_null", r.rule_id
            assert r.kwargs["column"] == r.field == r.rule_id.split(".")[2].upper(), r.rule_id
            assert r.target == r.table, r.rule_id


def test_every_required_dictionary_field_has_a_required_rule(domain, rule_ids):
    for _code, t in domain.tables.items():
        for f, spec in t["fields"].items():
            rid = f"bdc.{t['short']}.{f.lower()}.required"
            if spec.get("required"):
                assert rid in rule_ids, rid
            else:
                assert rid not in rule_ids, rid


@pytest.mark.parametrize(("key", "cond"), list(CONDITIONAL.items()), ids=lambda x: str(x))
def test_conditional_required_rules_select_exactly_the_conditions_rows(domain, key, cond):
    short, field = key
    column, selected = cond
    rule = domain.rule(f"bdc.{short}.{field.lower()}.required")
    assert rule.row_condition, rule.rule_id
    codes = list(domain.code_lists[domain.tables[SHORT[short]]["fields"][column]["codes"]])
    frame = pd.DataFrame({column: [*codes, "999", "", None], field: None}, dtype=object)
    got = set(frame.query(rule.row_condition)[column])
    assert got == selected
    # the dictionary states the same condition
    assert domain.tables[SHORT[short]]["fields"][field]["required"] not in (True, False)


def test_unconditional_rules_have_no_row_condition_unless_expected(domain):
    conditional = {f"bdc.{s}.{f.lower()}.required" for s, f in CONDITIONAL}
    for r in domain.rules:
        if r.rule_id.endswith(".required") and r.rule_id not in conditional:
            assert r.row_condition is None, r.rule_id


# --------------------------------------------------------------------------- code lists


def test_code_list_rules_equal_the_dictionary(domain):
    seen = set()
    for r in domain.rules:
        if not r.rule_id.endswith(".code") or r.type != "expect_column_values_to_be_in_set":
            continue
        codes = domain.tables[r.table]["fields"][r.field].get("codes")
        assert codes, r.rule_id
        assert sorted(r.kwargs["value_set"]) == sorted(domain.code_lists[codes]), r.rule_id
        seen.add((r.table, r.field))
    coded = {(code, f) for code, t in domain.tables.items() for f, s in t["fields"].items() if s.get("codes")}
    assert coded == seen, coded ^ seen


def test_code_lists_match_the_contract(domain):
    cl = domain.code_lists
    assert sorted(cl["DJLX"], key=int) == [str(i) for i in range(100, 1000, 100)]
    assert sorted(cl["QLLX"], key=int) == [str(i) for i in range(1, 23)]
    assert sorted(cl["QSZT"]) == ["0", "1", "2", "3"]
    assert sorted(cl["ZJZL"], key=int) == ["1", "2", "3", "4", "5", "6", "7", "8", "99"]
    assert sorted(cl["QLRLX"], key=int) == ["1", "2", "3", "4", "99"]
    assert sorted(cl["GYFS"]) == ["0", "1", "2", "3"]
    assert sorted(cl["DYFS"]) == ["1", "2"]
    assert sorted(cl["JRZT"]) == ["1", "2", "3"]


# --------------------------------------------------------------------------- targets and views


def test_rules_name_columns_their_target_has(domain):
    """Table rules use fields of the table; view rules use columns the view's SQL really produces."""
    empty = {
        code: LoadedTable(
            table=code,
            path=Path(f"{code}.csv"),
            format="csv",
            encoding="utf-8",
            frame=pd.DataFrame(columns=[*t["fields"], ROW_COLUMN], dtype=object),
            rows=0,
            blank_rows=0,
        )
        for code, t in domain.tables.items()
    }
    views = build_views(
        domain,
        Batch(folder=Path("."), tables=empty, unknown_files=[], rows_read=0),
        dt.datetime(2024, 3, 5, 18),
    )
    assert set(views) == set(domain.views)
    for r in domain.rules:
        cols = [r.kwargs[k] for k in ("column", "column_A", "column_B") if k in r.kwargs]
        available = (
            set(domain.tables[r.target]["fields"]) if r.target_kind == "table" else set(views[r.target])
        )
        assert cols and set(cols) <= available, (r.rule_id, cols)
        assert {ROW_COLUMN, "QXDM"} <= (available | {ROW_COLUMN}), r.rule_id
        for t in r.requires:
            assert t in domain.tables, (r.rule_id, t)


# --------------------------------------------------------------------------- a broken pack is refused


@pytest.fixture
def pack(tmp_path) -> Path:
    dst = tmp_path / "bdc"
    shutil.copytree(BDC, dst, ignore=shutil.ignore_patterns("__pycache__", "sample.py"))
    return dst


def _edit_suite(pack: Path, name: str, edit) -> Path:
    path = pack / "suites" / f"{name}.json"
    suite = json.loads(path.read_text(encoding="utf-8"))
    edit(suite)
    path.write_text(json.dumps(suite, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def test_copied_pack_loads(pack, rule_ids):
    assert {r.rule_id for r in load_domain(pack).rules} == rule_ids


def _drop(key):
    def edit(s):
        del s["expectations"][2]["meta"][key]

    return edit


def _set(key, value):
    def edit(s):
        s["expectations"][2]["meta"][key] = value

    return edit


@pytest.mark.parametrize(
    ("suite", "edit", "words"),
    [
        ("bdc.fdcq", _drop("fix_zh"), ["fix_zh"]),
        ("bdc.qlr", _drop("rule_id"), ["rule_id"]),
        ("bdc.dyaq", _drop("severity"), ["severity"]),
        ("bdc.jrbw", _drop("applies_to"), ["applies_to"]),
        ("bdc.fdcq", _drop("standard"), ["standard"]),
        ("bdc.dbrz", _drop("message_zh"), ["message_zh"]),
        ("bdc.fdcq", _set("severity", "fatal"), ["severity", "fatal"]),
        ("bdc.qlr", _set("dimension", "beauty"), ["beauty"]),
        ("bdc.dyaq", _set("table", "NO_SUCH_TABLE"), ["NO_SUCH_TABLE"]),
    ],
    ids=[
        "no-fix_zh",
        "no-rule_id",
        "no-severity",
        "no-applies_to",
        "no-standard",
        "no-message_zh",
        "bad-severity",
        "bad-dimension",
        "unknown-table",
    ],
)
def test_broken_suite_raises_config_error_naming_the_file(pack, suite, edit, words):
    path = _edit_suite(pack, suite, edit)
    with pytest.raises(ConfigError) as info:
        load_domain(pack)
    err = info.value
    assert err.path == path
    assert f"{suite}.json" in err.message
    for w in words:
        assert w in err.message


def test_suite_that_is_not_json_is_refused(pack):
    path = pack / "suites" / "bdc.qlr.json"
    path.write_text('{"name": "bdc.qlr", "expectations": [', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_domain(pack)
    assert info.value.path == path and "bdc.qlr.json" in info.value.message


def test_suite_without_target_is_refused(pack):
    path = _edit_suite(pack, "bdc.jrbw", lambda s: s["meta"].pop("target"))
    with pytest.raises(ConfigError) as info:
        load_domain(pack)
    assert info.value.path == path


def test_duplicate_rule_id_across_suites_is_refused(pack):
    _edit_suite(pack, "bdc.dyaq", _set("rule_id", "bdc.fdcq.ywh.unique"))
    with pytest.raises(ConfigError) as info:
        load_domain(pack)
    assert "bdc.fdcq.ywh.unique" in info.value.message


def test_missing_view_sql_is_refused(pack):
    (pack / "views" / "qlr_links.sql").unlink()
    with pytest.raises(ConfigError) as info:
        load_domain(pack)
    assert info.value.path == pack / "views" / "qlr_links.sql"


def test_unknown_domain_is_a_config_error():
    with pytest.raises(ConfigError) as info:
        load_domain("no_such_domain_xyz")
    assert "bdc" in info.value.message  # lists the domains there are


@pytest.mark.parametrize(
    ("pack", "table", "label"),
    [
        ("bdc", "QLT_FW_FDCQ_YZ", "业务号"),
        ("bdc", "JR_BW", "报文标识"),
        ("bdc", "DJ_DBRZ", "区县代码、日志日期、登记类型"),
        ("gjj", "GRXX", "个人账号"),
        ("gjj", "ZCXX", "城市代码、年度"),
        ("sgs", "XZCF", "行政处罚决定书文号"),
        ("bdc", "NO_SUCH_TABLE", "记录"),
        ("bdc", "", "记录"),
    ],
)
def test_a_record_is_called_by_its_key_fields_labels(pack, table, label):
    assert load_domain(pack).key_label(table) == label


def test_a_key_column_over_several_tables_is_named_only_when_they_share_the_key():
    bdc = load_domain("bdc")
    assert bdc.key_header(["QLT_FW_FDCQ_YZ", "ZTT_GY_QLR", "QLF_QL_DYAQ", ""]) == "业务号"
    assert bdc.key_header(["QLT_FW_FDCQ_YZ", "JR_BW"]) == "记录标识"
    assert bdc.key_header([]) == "记录标识"


@pytest.mark.parametrize(
    ("pack", "code", "label"),
    [("bdc", "YWH", "业务号"), ("gjj", "GRZH", "个人账号"), ("bdc", "NOPE", "NOPE")],
)
def test_a_field_code_has_one_label_in_the_pack(pack, code, label):
    assert load_domain(pack).field_label_any(code) == label


def test_a_rules_records_are_called_by_the_table_its_rows_name_else_by_the_rules_table():
    bdc = load_domain("bdc")
    rule = next(r for r in bdc.rules if r.table == "JR_BW")
    assert bdc.rule_key_label(rule.rule_id) == "报文标识"
    assert bdc.rule_key_label(rule.rule_id, "QLT_FW_FDCQ_YZ") == "业务号"
    assert bdc.rule_key_label("no.such.rule") == "记录"
