"""``dq check`` end to end on small hand-built batches (see conftest.py for the valid batch).

The corruption table puts every case in a district of its own (QXDM), so one Great Expectations run
checks them all and counts.csv, split by district, must show exactly each case's failing rules.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from toolkit.check import run_check
from toolkit.cli import app
from toolkit.domain import load_domain

COUNTS_COLUMNS = [
    "QXDM",
    "rule_id",
    "table",
    "field",
    "dimension",
    "severity",
    "element_count",
    "unexpected_count",
    "evaluated",
]
PROBLEMS_COLUMNS = ["rule_id", "table", "QXDM", "YWH", "field", "value_masked", "message_zh", "fix_zh"]
BOM = b"\xef\xbb\xbf"


def dq_check(batch: Path, out: Path, *args: str, docs: bool = False):
    argv = ["check", "--input", str(batch), "--out", str(out), *args]
    if not docs:
        argv.append("--no-data-docs")
    return CliRunner().invoke(app, argv)


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def failing(counts: pd.DataFrame, district: str) -> dict[str, int]:
    c = counts[(counts.QXDM == district) & (counts.unexpected_count.astype(int) > 0)]
    return dict(zip(c.rule_id, c.unexpected_count.astype(int), strict=True))


def squash(text: str) -> str:
    """Terminal output without the line breaks and spaces rich adds when it wraps."""
    return re.sub(r"\s+", "", text)


# --------------------------------------------------------------------------------------------------
# the valid batch passes every rule


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory, bdc_kit):
    root = tmp_path_factory.mktemp("clean")
    codes = bdc_kit.districts(2)
    batch = bdc_kit.write_batch(root / "batch", bdc_kit.valid_tables(codes))
    res = dq_check(batch, root / "out")
    return root, codes, res


def test_valid_batch_passes_every_rule(clean_run):
    root, codes, res = clean_run
    assert res.exit_code == 0, res.output
    counts = read_csv(root / "out" / "counts.csv")
    dom = load_domain("bdc")
    incremental = {r.rule_id for r in dom.rules if "incremental" in r.applies_to}
    assert set(counts.rule_id) == incremental
    assert (counts.evaluated == "True").all()
    assert (counts.unexpected_count == "0").all(), counts[counts.unexpected_count != "0"]
    assert len(read_csv(root / "out" / "problems.csv")) == 0
    s = json.loads((root / "out" / "summary.json").read_text(encoding="utf-8"))
    assert s["success"] is True and s["exit_code"] == 0
    assert s["failed_rules"] == [] and s["not_evaluated_rules"] == []
    assert s["units"] == sorted(codes)


def test_valid_batch_element_counts(clean_run):
    root, codes, _ = clean_run
    counts = read_csv(root / "out" / "counts.csv").set_index(["QXDM", "rule_id"])
    per_district = {  # hand-counted on one district of the valid batch
        "bdc.fdcq.ywh.required": 2,
        "bdc.qlr.zjh.required": 4,
        "bdc.dyaq.ywh.required": 1,
        "bdc.jrbw.bizmsgid.unique": 3,
        "bdc.dbrz.sl.matches": 3,
        "bdc.fdcq.bdcqzh.required": 2,  # DJLX 200 needs a certificate number
        "bdc.qlr.qlbl.required": 2,  # the two holders by shares (GYFS 2)
        "bdc.qlr.zjh.citizen_id": 2,
        "bdc.qlr.zjh.credit_code": 2,
        "bdc.fdcq.djsj.time_limit": 1,  # the individual transfer
        "bdc.fdcq.djsj.time_limit_enterprise": 1,  # the transfer to an enterprise
        "bdc.qlr.qlbl.sum_100": 1,  # one registration with shares
        "bdc.dyaq.bdbzzqse.required": 1,
        "bdc.dyaq.zgzqse.required": 0,
        "bdc.jrbw.jrzt.success": 3,
        "bdc.fdcq.jrbw.submitted": 2,
    }
    for d in codes:
        for rid, n in per_district.items():
            assert int(counts.loc[(d, rid), "element_count"]) == n, (d, rid)


def test_outputs_are_utf8_with_bom_and_have_contract_columns(clean_run):
    root, _codes, _ = clean_run
    out = root / "out"
    for name in ("counts.csv", "problems.csv"):
        assert (out / name).read_bytes().startswith(BOM), name
    raw = (out / "summary.json").read_bytes()
    assert not raw.startswith(BOM)
    json.loads(raw.decode("utf-8"))
    cols = list(read_csv(out / "counts.csv").columns)
    assert [c for c in cols if c in COUNTS_COLUMNS] == COUNTS_COLUMNS  # all of them, in this order
    pcols = list(read_csv(out / "problems.csv").columns)
    assert set(PROBLEMS_COLUMNS) <= set(pcols)


def test_counts_has_one_row_per_district_and_rule(clean_run):
    root, codes, _ = clean_run
    counts = read_csv(root / "out" / "counts.csv")
    n_rules = counts.rule_id.nunique()
    assert len(counts) == len(codes) * n_rules
    assert not counts.duplicated(["QXDM", "rule_id"]).any()


def test_rows_read_equals_rows_checked(clean_run):
    root, codes, _ = clean_run
    s = json.loads((root / "out" / "summary.json").read_text(encoding="utf-8"))
    written = {"QLT_FW_FDCQ_YZ": 2, "ZTT_GY_QLR": 4, "QLF_QL_DYAQ": 1, "JR_BW": 3, "DJ_DBRZ": 3}
    assert s["rows_read"] == s["rows_checked"] == sum(written.values()) * len(codes)
    assert s["rows_checked_by_table"] == {t: n * len(codes) for t, n in written.items()}
    assert {f["table"]: f["rows"] for f in s["input_files"]} == {
        t: n * len(codes) for t, n in written.items()
    }
    assert s["as_of"] == "2024-03-05 15:10:00"


# --------------------------------------------------------------------------------------------------
# corruption table: one case per district


def _set(table, key, field, value):
    """Set ``field`` of the row of ``table`` found by ``key(d)`` (a dict of field values)."""

    def mutate(t, d, kit):
        kit.find(t, table, **key(d, kit))[field] = value(d) if callable(value) else value

    return mutate


def F(n):
    return lambda d, kit: {"YWH": kit.ywh(d, n)}


def H(n, sxh="1"):
    return lambda d, kit: {"YWH": kit.ywh(d, n), "SXH": sxh}


def M(n):
    return lambda d, kit: {"YWH": kit.ywh(d, n)}


def LOG(day, djlx):
    return lambda d, kit: {"QXDM": d, "RZRQ": day, "DJLX": djlx}


def _dup_f1(t, d, kit):
    t[kit.FDCQ].append(dict(kit.find(t, kit.FDCQ, YWH=kit.ywh(d, 1))))


def _dup_msgid(t, d, kit):
    kit.find(t, kit.JRBW, YWH=kit.ywh(d, 2))["BIZMSGID"] = kit.find(t, kit.JRBW, YWH=kit.ywh(d, 1))[
        "BIZMSGID"
    ]


def _bad_check_char(t, d, kit):
    row = kit.find(t, kit.QLR, YWH=kit.ywh(d, 2))
    row["ZJH"] = row["ZJH"][:17] + ("0" if row["ZJH"][17] != "0" else "1")


def _bad_check_digit(t, d, kit):
    row = kit.find(t, kit.QLR, YWH=kit.ywh(d, 1), SXH="1")
    row["ZJH"] = row["ZJH"][:17] + ("0" if row["ZJH"][17] != "0" else "1")


def _mortgage_max_amount(t, d, kit):
    row = kit.find(t, kit.DYAQ, YWH=kit.ywh(d, 3))
    row["DYFS"] = "2"  # 最高额抵押 needs ZGZQSE, which is empty


FDCQ, QLR, DYAQ, JRBW, DBRZ = "QLT_FW_FDCQ_YZ", "ZTT_GY_QLR", "QLF_QL_DYAQ", "JR_BW", "DJ_DBRZ"
CASES = [  # (case, mutation, {rule id: failing rows in the district})
    ("clean", lambda t, d, kit: None, {}),
    ("jzmj-zero", _set(FDCQ, F(1), "JZMJ", "0"), {"bdc.fdcq.jzmj.range": 1}),
    ("jzmj-not-a-number", _set(FDCQ, F(1), "JZMJ", "89,5"), {"bdc.fdcq.jzmj.range": 1}),
    ("jzmj-empty", _set(FDCQ, F(1), "JZMJ", None), {"bdc.fdcq.jzmj.required": 1}),
    ("jzmj-fullwidth-space", _set(FDCQ, F(1), "JZMJ", "\u3000"), {"bdc.fdcq.jzmj.required": 1}),
    ("slsj-malformed", _set(FDCQ, F(1), "SLSJ", "2024/03/01 09:00:00"), {"bdc.fdcq.slsj.datetime": 1}),
    (
        "djsj-no-such-day",
        _set(FDCQ, F(1), "DJSJ", "2024-02-30 10:00:00"),
        {"bdc.fdcq.djsj.datetime": 1, "bdc.dbrz.sl.matches": 1},
    ),
    ("duplicate-registration", _dup_f1, {"bdc.fdcq.ywh.unique": 2, "bdc.dbrz.sl.matches": 1}),
    ("duplicate-message-id", _dup_msgid, {"bdc.jrbw.bizmsgid.unique": 2}),
    ("citizen-id-check-digit", _bad_check_digit, {"bdc.qlr.zjh.citizen_id": 1}),
    ("credit-code-check-char", _bad_check_char, {"bdc.qlr.zjh.credit_code": 1}),
    ("zjzl-code", _set(QLR, H(1), "ZJZL", "9"), {"bdc.qlr.zjzl.code": 1}),
    ("shares-not-100", _set(QLR, H(1), "QLBL", "50"), {"bdc.qlr.qlbl.sum_100": 1}),
    ("share-empty", _set(QLR, H(1), "QLBL", None), {"bdc.qlr.qlbl.required": 1}),
    ("phone-10-digits", _set(QLR, H(1), "DH", "1381234567"), {"bdc.qlr.dh.format": 1}),
    ("holder-name-empty", _set(QLR, H(1), "QLRMC", None), {"bdc.qlr.qlrmc.required": 1}),
    ("holder-name-trailing-space", _set(QLR, H(1), "QLRMC", "王小明 "), {"bdc.qlr.qlrmc.clean_text": 1}),
    ("sxh-zero", _set(QLR, H(1, "2"), "SXH", "0"), {"bdc.qlr.sxh.integer": 1}),
    (
        "unit-prefix",
        _set(FDCQ, F(1), "BDCDYH", "429004100302GB00001F00010001"),
        {"bdc.fdcq.bdcdyh.qxdm_prefix": 1, "bdc.qlr.bdcdyh.matches": 2},
    ),
    (
        "unit-structure",
        _set(FDCQ, F(1), "BDCDYH", lambda d: f"{d}100302GA00001F00010001"),
        {"bdc.fdcq.bdcdyh.format": 1, "bdc.qlr.bdcdyh.matches": 2},
    ),
    ("djlx-code", _set(FDCQ, F(1), "DJLX", "250"), {"bdc.fdcq.djlx.code": 1, "bdc.dbrz.sl.matches": 1}),
    ("qszt-code", _set(FDCQ, F(1), "QSZT", "5"), {"bdc.fdcq.qszt.code": 1}),
    ("certificate-empty", _set(FDCQ, F(1), "BDCQZH", None), {"bdc.fdcq.bdcqzh.required": 1}),
    (
        "certificate-format",
        _set(FDCQ, F(1), "BDCQZH", "鄂2024武汉市不动产权第0000001号"),
        {"bdc.fdcq.bdcqzh.format": 1},
    ),
    (
        "fdzl-double-space",
        _set(FDCQ, F(1), "FDZL", "湖北省武汉市  解放大道1号"),
        {"bdc.fdcq.fdzl.clean_text": 1},
    ),
    (
        "holder-orphan",
        _set(QLR, H(2), "YWH", "YWNOSUCH"),
        {"bdc.qlr.ywh.exists": 1, "bdc.fdcq.qlr.present": 1},
    ),
    ("djsj-before-slsj", _set(FDCQ, F(2), "SLSJ", "2024-03-05 11:00:00"), {"bdc.fdcq.djsj.after_slsj": 1}),
    ("time-limit-3-days", _set(FDCQ, F(1), "SLSJ", "2024-02-27 09:00:00"), {"bdc.fdcq.djsj.time_limit": 1}),
    (
        "enterprise-120-minutes",
        _set(FDCQ, F(2), "SLSJ", "2024-03-05 08:00:00"),
        {"bdc.fdcq.djsj.time_limit_enterprise": 1},
    ),
    ("mortgage-next-day", _set(DYAQ, F(3), "SLSJ", "2024-03-04 16:00:00"), {"bdc.dyaq.djsj.time_limit": 1}),
    (
        "debt-end-before-start",
        _set(DYAQ, F(3), "ZWLXJSSJ", "2024-03-04 00:00:00"),
        {"bdc.dyaq.zwlxjssj.after_start": 1},
    ),
    ("secured-amount-empty", _set(DYAQ, F(3), "BDBZZQSE", None), {"bdc.dyaq.bdbzzqse.required": 1}),
    ("max-amount-missing", _mortgage_max_amount, {"bdc.dyaq.zgzqse.required": 1}),
    ("mortgage-registrar-tab", _set(DYAQ, F(3), "DBR", "吴登簿\t"), {"bdc.dyaq.dbr.clean_text": 1}),
    # a failed message: 汇交 yes, but no successful access within 24 h (48 h still open at as-of)
    (
        "message-failed",
        _set(JRBW, M(1), "JRZT", "2"),
        {"bdc.jrbw.jrzt.success": 1, "bdc.fdcq.jrbw.within_24h": 1},
    ),
    ("message-after-24h", _set(JRBW, M(1), "JRSJ", "2024-03-05 10:30:00"), {"bdc.fdcq.jrbw.within_24h": 1}),
    (
        "message-orphan",
        _set(JRBW, M(1), "YWH", "YWNOSUCH"),
        # F1 lost its only message: not submitted, so not accessed within 24 h either (48 h still open)
        {"bdc.jrbw.ywh.exists": 1, "bdc.fdcq.jrbw.submitted": 1, "bdc.fdcq.jrbw.within_24h": 1},
    ),
    ("rectype-vs-djlx", _set(JRBW, M(1), "RECTYPE", "1000101"), {"bdc.jrbw.rectype.djlx": 1}),
    ("log-count", _set(DBRZ, LOG("2024-03-05", "200"), "SL", "2"), {"bdc.dbrz.sl.matches": 1}),
    ("log-negative", _set(DBRZ, LOG("2024-03-05", "200"), "SL", "-1"), {"bdc.dbrz.sl.integer": 1}),
    (
        "log-date-with-time",
        _set(DBRZ, LOG("2024-03-04", "200"), "RZRQ", "2024-03-04 00:00:00"),
        {"bdc.dbrz.rzrq.date": 1},
    ),
]


@pytest.fixture(scope="module")
def corrupted(tmp_path_factory, bdc_kit):
    root = tmp_path_factory.mktemp("corrupted")
    codes = bdc_kit.districts(len(CASES))
    tables = bdc_kit.valid_tables(codes)
    for (_, mutate, _), d in zip(CASES, codes, strict=True):
        mutate(tables, d, bdc_kit)
    batch = bdc_kit.write_batch(root / "batch", tables)
    res = dq_check(batch, root / "out")
    counts = read_csv(root / "out" / "counts.csv")
    problems = read_csv(root / "out" / "problems.csv")
    summary = json.loads((root / "out" / "summary.json").read_text(encoding="utf-8"))
    return dict(zip([c[0] for c in CASES], codes, strict=True)), res, counts, problems, summary, tables


@pytest.mark.parametrize(("case", "expected"), [(c[0], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_corruption_fails_exactly_its_rules(corrupted, case, expected):
    district_of, _, counts, problems, _, _ = corrupted
    d = district_of[case]
    assert failing(counts, d) == expected
    got = problems[problems.QXDM == d].groupby("rule_id").size().to_dict()
    assert got == expected


def test_corrupted_batch_exit_code_and_summary(corrupted):
    _district_of, res, counts, problems, summary, _ = corrupted
    assert res.exit_code == 1, res.output
    assert summary["success"] is False and summary["exit_code"] == 1
    expected_failed = sorted({rid for _, _, exp in CASES for rid in exp})
    assert summary["failed_rules"] == expected_failed
    severity = {r.rule_id: r.severity for r in load_domain("bdc").rules}
    assert summary["critical_failed_rules"] == [r for r in expected_failed if severity[r] == "critical"]
    assert summary["problems"] == len(problems) == sum(sum(e.values()) for _, _, e in CASES)
    assert summary["rows_read"] == summary["rows_checked"]
    assert (counts.evaluated == "True").all()


@pytest.mark.parametrize(
    ("case", "rule_id", "element_count"),
    [
        ("clean", "bdc.fdcq.bdcqzh.required", 2),
        ("djlx-code", "bdc.fdcq.bdcqzh.required", 1),  # DJLX 250 is not in the condition
        ("holder-orphan", "bdc.fdcq.djsj.time_limit", 2),  # no enterprise holder any more: 3-day limit
        ("holder-orphan", "bdc.fdcq.djsj.time_limit_enterprise", 0),
        ("duplicate-registration", "bdc.fdcq.ywh.unique", 3),
        ("max-amount-missing", "bdc.dyaq.zgzqse.required", 1),
        ("max-amount-missing", "bdc.dyaq.bdbzzqse.required", 0),
        ("zjzl-code", "bdc.qlr.zjh.citizen_id", 1),
        ("message-failed", "bdc.fdcq.jrbw.within_48h", 1),  # F1 still pending for 48 h
        ("clean", "bdc.fdcq.jrbw.within_48h", 2),
    ],
)
def test_corruption_element_counts(corrupted, case, rule_id, element_count):
    district_of, _, counts, _, _, _ = corrupted
    row = counts[(counts.QXDM == district_of[case]) & (counts.rule_id == rule_id)]
    assert len(row) == 1
    assert int(row.element_count.iloc[0]) == element_count


def test_malformed_date_is_reported_on_its_row(corrupted, bdc_kit):
    district_of, _, _, problems, _, tables = corrupted
    d = district_of["slsj-malformed"]
    p = problems[(problems.QXDM == d) & (problems.rule_id == "bdc.fdcq.slsj.datetime")]
    assert len(p) == 1
    ywh = bdc_kit.ywh(d, 1)
    record = 2 + next(i for i, r in enumerate(tables[FDCQ]) if r["YWH"] == ywh)  # header is row 1
    assert p.iloc[0][["YWH", "field", "value_masked", "file", "row"]].tolist() == [
        ywh,
        "SLSJ",
        "2024/03/01 09:00:00",
        "QLT_FW_FDCQ_YZ.csv",
        str(record),
    ]
    assert p.iloc[0]["message_zh"] and p.iloc[0]["fix_zh"]


def test_duplicates_list_every_row(corrupted, bdc_kit):
    district_of, _, _, problems, _, tables = corrupted
    d = district_of["duplicate-registration"]
    p = problems[(problems.QXDM == d) & (problems.rule_id == "bdc.fdcq.ywh.unique")]
    ywh = bdc_kit.ywh(d, 1)
    records = {str(2 + i) for i, r in enumerate(tables[FDCQ]) if r["YWH"] == ywh}
    assert len(records) == 2
    assert set(p.row) == records and set(p.YWH) == {ywh}


# --------------------------------------------------------------------------------------------------
# exit codes


def test_warning_only_failures_exit_0(tmp_path, bdc_kit):
    t = bdc_kit.valid_tables(bdc_kit.districts(1))
    t[FDCQ][0]["FDZL"] = "湖北省武汉市 解放大道1号 "  # clean_text is a warning
    res = dq_check(bdc_kit.write_batch(tmp_path / "b", t), tmp_path / "o")
    assert res.exit_code == 0, res.output
    s = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))
    assert s["failed_rules"] == ["bdc.fdcq.fdzl.clean_text"] and s["critical_failed_rules"] == []
    assert s["success"] is True


def _missing_folder(root: Path, kit) -> Path:
    return root / "no_such_batch"


def _no_known_table(root: Path, kit) -> Path:
    (root / "b").mkdir()
    (root / "b" / "readme.txt").write_text("hello", encoding="utf-8")
    (root / "b" / "QLT_FW_FDCQ.csv").write_text("YWH\nY1\n", encoding="utf-8")
    return root / "b"


def _missing_column(root: Path, kit) -> Path:
    t = kit.valid_tables(kit.districts(1))
    for r in t[FDCQ]:
        del r["DBR"]
    kit.write_batch(root / "b", t)
    fields = [f for f in kit.FIELDS[FDCQ] if f != "DBR"]
    lines = [",".join(fields)] + [",".join(r[f] or "" for f in fields) for r in t[FDCQ]]
    (root / "b" / f"{FDCQ}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root / "b"


def _utf16_file(root: Path, kit) -> Path:
    kit.write_batch(root / "b", kit.valid_tables(kit.districts(1)))
    p = root / "b" / f"{QLR}.csv"
    p.write_bytes(p.read_text(encoding="utf-8").encode("utf-16"))
    return root / "b"


EXIT_2 = [  # (case, make batch, words the message must contain)
    ("missing-folder", _missing_folder, ["no_such_batch", "不存在", "does not exist"]),
    ("no-known-table", _no_known_table, ["没有可识别的表文件", "no known table", "QLT_FW_FDCQ_YZ.csv"]),
    ("missing-column", _missing_column, [f"{FDCQ}.csv", "DBR", "缺少必需的列", "lacks required column"]),
    ("unreadable-file", _utf16_file, [f"{QLR}.csv", "UTF-16"]),
]


@pytest.mark.parametrize(("case", "make", "words"), EXIT_2, ids=[c[0] for c in EXIT_2])
def test_unusable_input_exits_2_and_leaves_no_results(tmp_path, clean_run, bdc_kit, case, make, words):
    root, _, _ = clean_run
    out = tmp_path / "out"
    shutil.copytree(root / "out", out)  # a previous successful run left its files here
    (out / "data_docs").mkdir()
    (out / "data_docs" / "index.html").write_text("<html></html>", encoding="utf-8")
    assert (out / "counts.csv").exists()
    batch = make(tmp_path, bdc_kit)
    res = dq_check(batch, out)
    assert res.exit_code == 2, (res.exit_code, res.output, res.exception)
    for name in ("counts.csv", "problems.csv", "summary.json", "data_docs"):
        assert not (out / name).exists(), name
    text = squash(res.output)
    for w in words:
        assert squash(w) in text, (w, res.output)


def test_bad_as_of_exits_2(tmp_path, clean_run):
    root, _, _ = clean_run
    res = dq_check(root / "batch", tmp_path / "o", "--as-of", "2024-13-01")
    assert res.exit_code == 2, res.output
    assert "2024-13-01" in res.output
    assert not (tmp_path / "o" / "counts.csv").exists()


# --------------------------------------------------------------------------------------------------
# absent tables: not evaluated, never passed


@pytest.mark.parametrize(("mode", "skip"), [("stock", (JRBW, DBRZ)), ("incremental", (JRBW,))])
def test_absent_message_table_makes_its_rules_not_evaluated(tmp_path, bdc_kit, mode, skip):
    codes = bdc_kit.districts(2)
    batch = bdc_kit.write_batch(tmp_path / "b", bdc_kit.valid_tables(codes), skip=skip)
    res = dq_check(batch, tmp_path / "o", "--mode", mode)
    assert res.exit_code == 0, res.output
    dom = load_domain("bdc")
    rules = [r for r in dom.rules if mode in r.applies_to]
    present = set(dom.mode_tables(mode)) - set(skip)
    need_jrbw = {r.rule_id for r in rules if not set(r.requires) <= present}
    # stock mode has no DJ_DBRZ table, yet the DJ_DBRZ rules apply to stock too: they are not evaluated
    assert {r.rule_id for r in rules if JRBW in r.requires} <= need_jrbw
    if mode == "incremental":  # the 汇交 and timeliness rules
        assert {
            "bdc.fdcq.jrbw.submitted",
            "bdc.fdcq.jrbw.within_24h",
            "bdc.fdcq.jrbw.within_48h",
            "bdc.dyaq.jrbw.submitted",
            "bdc.jrbw.jrzt.success",
        } <= need_jrbw
    else:
        assert {"bdc.jrbw.jrzt.success", "bdc.jrbw.ywh.exists", "bdc.jrbw.bizmsgid.unique"} <= need_jrbw
    counts = read_csv(tmp_path / "o" / "counts.csv")
    assert set(counts.rule_id) == {r.rule_id for r in rules}
    off = counts[counts.rule_id.isin(need_jrbw)]
    assert len(off) == len(need_jrbw) * len(codes)
    assert (off.evaluated == "False").all()
    assert (off.element_count == "0").all() and (off.unexpected_count == "0").all()
    on = counts[~counts.rule_id.isin(need_jrbw)]
    assert (on.evaluated == "True").all() and (on.unexpected_count == "0").all()
    s = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))
    listed = {x["rule_id"]: x["reason"] for x in s["not_evaluated_rules"]}
    assert set(listed) == need_jrbw
    assert all(any(t in reason for t in skip) for reason in listed.values())
    assert s["rules"]["not_evaluated"] == len(need_jrbw)
    assert s["rules"]["evaluated"] == len(rules) - len(need_jrbw)
    assert JRBW in s["absent_tables"]
    assert not need_jrbw & set(s["failed_rules"])
    assert s["rows_read"] == s["rows_checked"]


# --------------------------------------------------------------------------------------------------
# pending registrations


@pytest.fixture(scope="module")
def pending_batch(tmp_path_factory, bdc_kit):
    """The valid batch plus one house registration at 14:00 on the last day, not yet submitted."""
    (d,) = bdc_kit.districts(1)
    t = bdc_kit.valid_tables([d])
    f3 = bdc_kit.ywh(d, 4)
    unit = f"{d}100302GB00003F00010001"
    t[FDCQ].append(
        dict(
            YWH=f3,
            BDCDYH=unit,
            QXDM=d,
            DJLX="100",
            QLLX="4",
            FDZL="湖北省武汉市解放大道3号",
            JZMJ="75",
            BDCQZH="鄂(2024)武汉市不动产权第0000099号",
            SLSJ="2024-03-05 09:00:00",
            DJSJ="2024-03-05 14:00:00",
            DBR="周登簿",
            DJJG="武汉市不动产登记中心",
            QSZT="1",
        )
    )
    t[QLR].append(
        dict(
            YWH=f3,
            BDCDYH=unit,
            SXH="1",
            QLRMC="赵小六",
            ZJZL="1",
            ZJH=bdc_kit.citizen_id("420104", "19900101", 7),
            QLRLX="1",
            GYFS="0",
            QLBL=None,
            DH=None,
            QXDM=d,
        )
    )
    bdc_kit.find(t, DBRZ, QXDM=d, RZRQ="2024-03-05", DJLX="100")["SL"] = "2"
    root = tmp_path_factory.mktemp("pending")
    return root, d, bdc_kit.write_batch(root / "batch", t)


@pytest.mark.parametrize(
    ("as_of", "exit_code", "elements", "failures", "source"),
    [
        (None, 0, 2, 0, "latest timestamp in batch"),  # as-of 2024-03-05 15:10: F3 is pending
        ("2024-03-06 13:59:59", 0, 2, 0, "given"),  # 23:59:59 after DJSJ: still pending
        ("2024-03-06 15:00:00", 1, 3, 1, "given"),  # 25 h after DJSJ: not submitted
    ],
)
def test_pending_registration(pending_batch, tmp_path, as_of, exit_code, elements, failures, source):
    _root, d, batch = pending_batch
    args = ["--as-of", as_of] if as_of else []
    res = dq_check(batch, tmp_path / "o", *args)
    assert res.exit_code == exit_code, res.output
    counts = read_csv(tmp_path / "o" / "counts.csv").set_index("rule_id")
    row = counts.loc["bdc.fdcq.jrbw.submitted"]
    assert (int(row.element_count), int(row.unexpected_count)) == (elements, failures)
    assert failing(read_csv(tmp_path / "o" / "counts.csv"), d) == (
        {"bdc.fdcq.jrbw.submitted": 1, "bdc.fdcq.jrbw.within_24h": 1} if failures else {}
    )
    s = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))
    assert s["as_of"] == (as_of or "2024-03-05 15:10:00")
    assert s["as_of_source"] == source


def test_relative_output_folder_with_data_docs(tmp_path, monkeypatch, bdc_kit):
    """`make demo` passes a relative --out; Great Expectations needs absolute paths for Data Docs."""
    batch = bdc_kit.write_batch(tmp_path / "batch", bdc_kit.valid_tables(bdc_kit.districts(1)))
    monkeypatch.chdir(tmp_path)
    res = dq_check(Path("batch"), Path("out"), docs=True)
    assert res.exit_code == 0, (res.output, res.exception)
    assert (tmp_path / "out" / "data_docs" / "index.html").is_file()
    assert batch.is_dir()


# ------------------------------------------------------------------------------ risk control (Ningbo)


def test_one_person_doing_everything_is_flagged_and_absent_columns_are_not_evaluated(tmp_path, bdc_kit):
    """``bdc.*.roles.separated``: accepted, reviewed and recorded by one and the same person is flagged
    (warning); a batch whose files lack SLRY/SHRY does not evaluate the rule (and says why)."""
    t = bdc_kit.valid_tables(bdc_kit.districts(1))
    reg = t[bdc_kit.FDCQ][0]
    reg["SLRY"] = reg["SHRY"] = reg["DBR"]
    t[bdc_kit.DYAQ][0]["SHRY"] = t[bdc_kit.DYAQ][0]["DBR"]  # two of three the same: allowed
    res = run_check(bdc_kit.write_batch(tmp_path / "with", t), domain="bdc", mode="incremental")
    per_rule = res.counts.groupby("rule_id").unexpected_count.sum()
    assert per_rule["bdc.fdcq.roles.separated"] == 1 and per_rule["bdc.dyaq.roles.separated"] == 0
    assert res.exit_code == 0  # a warning
    for rows in t.values():
        for r in rows:
            r.pop("SLRY", None)
            r.pop("SHRY", None)
    fields = {k: [f for f in v if f not in ("SLRY", "SHRY")] for k, v in bdc_kit.FIELDS.items()}
    folder = tmp_path / "without"
    folder.mkdir()
    for name, rows in t.items():
        pd.DataFrame(rows, columns=fields[name]).to_csv(folder / f"{name}.csv", index=False)
    res = run_check(folder, domain="bdc", mode="incremental")
    for rid in ("bdc.fdcq.roles.separated", "bdc.dyaq.roles.separated", "bdc.fdcq.slry.clean_text"):
        assert "column absent" in res.not_evaluated[rid] and "SLRY" in res.not_evaluated[rid]
    assert res.exit_code == 0
