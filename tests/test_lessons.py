"""toolkit.lessons (the notebooks' display helpers) and toolkit.corrections (the correction exercise).

The correction exercise is tested end to end: a valid hand-built batch (conftest.py) gets format errors a
clerk could fix at the desk; ``dq check`` finds them, the answer key fills the correction sheet, the
sheet is written back (planned, backed up, logged with masked values), and the re-check finds none of them
any more. Editing a batch file keeps its encoding, column order and the bytes of every record it does not
correct; a plan that no longer fits the files is refused and nothing is written.

The course-building tools (glossary, handout, generated blocks) are tested in ``tests/test_training.py``.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest
from stdnum.cn import ric, uscc

from toolkit import corrections, lessons, load_domain, run_check, scoring, validators, write_outputs
from toolkit.errors import LessonError
from toolkit.sheets import write_csv


@pytest.fixture(scope="module")
def domain():
    return load_domain("bdc")


def rule(domain, rule_id):
    return domain.rule(rule_id)


# ------------------------------------------------------------------------------------------- check digits


@pytest.mark.parametrize(
    "body",
    ["11010519491231002", "11010219910101007", "44011320141005001", "42010219850612000", "00000000000000000"],
)
def test_citizen_id_worksheet_matches_the_validator_and_stdnum(body):
    sheet = lessons.check_digit_worksheet(body)
    assert list(sheet["位置"][:17]) == [str(i) for i in range(1, 18)]
    total = sum(
        int(c) * w for c, w in zip(body, (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2), strict=True)
    )
    assert sheet["乘积"].iloc[17] == total
    assert sheet["乘积"].iloc[18] == total % 11
    assert (
        sheet["乘积"].iloc[-1] == validators.citizen_id_check_digit(body) == ric.calc_check_digit(body + "0")
    )


@pytest.mark.parametrize("body", ["91110000600037341", "91420100000000001", "9142010MA4K0000LA"])
def test_credit_code_worksheet_matches_the_validator_and_stdnum(body):
    sheet = lessons.check_digit_worksheet(body, kind="credit_code")
    check = sheet["乘积"].iloc[-1]
    assert check == validators.credit_code_check_char(body) == uscc.calc_check_digit(body)
    assert validators.is_credit_code(body + check)


def test_worked_examples_of_episode_3():
    assert lessons.check_digit_worksheet("11010519491231002")["乘积"].iloc[17] == 167
    assert lessons.check_digit_worksheet("11010219910101007")["乘积"].iloc[17] == 125
    credit = lessons.check_digit_worksheet("91110000600037341", kind="credit_code")["乘积"]
    assert (credit.iloc[17], credit.iloc[18], credit.iloc[19], credit.iloc[20]) == (538, 11, 20, "L")
    credit = lessons.check_digit_worksheet("91420100000000001", kind="credit_code")["乘积"]
    assert (credit.iloc[17], credit.iloc[-1]) == (156, "Y")


def test_worksheet_uses_the_checks_weights():
    sheet = lessons.check_digit_worksheet("11111111111111111")
    assert tuple(sheet["权重"][:17]) == (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    assert tuple(sheet["权重"][:17]) == validators.CITIZEN_ID_WEIGHTS
    credit = lessons.check_digit_worksheet("11111111111111111", kind="credit_code")
    assert tuple(credit["权重"][:17]) == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@pytest.mark.parametrize(
    ("body", "kind", "says"),
    [
        ("9142010000000000", "credit_code", "实际为 16 位"),
        ("9142010000000000O", "credit_code", "不允许的字符 O"),
        ("1101051949123100X", "citizen_id", "不允许的字符 X"),
        ("１１010519491231002", "citizen_id", "不允许的字符 １"),
    ],
)
def test_worksheet_explains_a_malformed_body_in_chinese(body, kind, says):
    with pytest.raises(LessonError, match=says) as info:
        lessons.check_digit_worksheet(body, kind=kind)
    assert "17" in info.value.en and "前 17 位" in info.value.fix_zh


def test_worksheet_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="kind"):
        lessons.check_digit_worksheet("11010519491231002", kind="passport")


@pytest.mark.parametrize(
    ("value", "bad_part"),
    [
        ("340111303004GB00165F00010490", None),
        ("420102100302GA00001F00010001", "13–14"),
        ("420102100302GB00001W00010001", "21–28"),
        ("420102100302GB00000F00010001", "15–19"),
        ("420102100302GB00001X00010001", "20"),
        ("42010210030GB00001F00010001", "1–6"),  # wrong length: reported on the first part
    ],
)
def test_unit_number_parts(value, bad_part):
    parts = lessons.unit_number_parts(value)
    assert list(parts["名称"]) == [
        "县级行政区划代码",
        "地籍区",
        "地籍子区",
        "宗地（宗海）特征码",
        "宗地（宗海）顺序号",
        "定着物特征码",
        "定着物单元编号",
    ]
    flagged = list(parts.loc[parts["检查"] != "", "位置"])
    if bad_part is None:
        assert flagged == []
        assert "".join(parts["值"]) == value
    else:
        assert flagged == [bad_part]
        assert validators.unit_number_problem(value) in parts.loc[parts["位置"] == bad_part, "检查"].iloc[0]


# ------------------------------------------------------------------------------------------- answer key


@pytest.mark.parametrize(
    ("rule_id", "value", "fixed"),
    [
        ("bdc.fdcq.slsj.datetime", "2024/03/05 09:00:00", "2024-03-05 09:00:00"),
        ("bdc.fdcq.slsj.datetime", "2024-03-05T09:00:00", "2024-03-05 09:00:00"),
        ("bdc.fdcq.slsj.datetime", "20240305 090000", "2024-03-05 09:00:00"),
        ("bdc.fdcq.slsj.datetime", "2024-03-05 09:00", "2024-03-05 09:00:00"),
        ("bdc.fdcq.slsj.datetime", "2024-3-5 9:05:00", "2024-03-05 09:05:00"),
        ("bdc.fdcq.slsj.datetime", "2024年03月05日 09:00:00", "2024-03-05 09:00:00"),
        ("bdc.fdcq.slsj.datetime", "2024-02-30 09:00:00", None),  # no such day: needs the files
        ("bdc.dyaq.zwlxqssj.datetime", "2014.01.14", "2014-01-14 00:00:00"),
        ("bdc.dbrz.rzrq.date", "2024/03/05", "2024-03-05"),
        ("bdc.fdcq.jzmj.range", "89.5㎡", "89.5"),
        ("bdc.fdcq.jzmj.range", "-12.5", None),
        ("bdc.fdcq.jzmj.range", "0", None),
        ("bdc.qlr.qlbl.range", "50%", "50"),
        ("bdc.dbrz.sl.integer", "3.0", "3"),
        ("bdc.qlr.sxh.integer", "0", None),
        (
            "bdc.fdcq.bdcqzh.format",
            "鄂（2024）武汉市不动产权第0012345号",
            "鄂(2024)武汉市不动产权第0012345号",
        ),
        ("bdc.fdcq.bdcqzh.format", "鄂(2024)武汉市不动产权第12345号", "鄂(2024)武汉市不动产权第0012345号"),
        ("bdc.qlr.dh.format", "138-1234-5678", "13812345678"),
        ("bdc.qlr.dh.format", "1381234567", None),
        ("bdc.fdcq.fdzl.clean_text", "湖北省武汉市人民路6\u3000\u300092号", "湖北省武汉市人民路692号"),
        ("bdc.fdcq.djjg.clean_text", "东宝区不动\u3000\u3000产登记中心", "东宝区不动产登记中心"),
        ("bdc.fdcq.dbr.clean_text", "江思 ", "江思"),
        ("bdc.dyaq.dyqr.clean_text", "Bank  of China\u200b", "Bank of China"),
        ("bdc.qlr.zjh.citizen_id", "11010519491231002x", "11010519491231002X"),
        ("bdc.qlr.zjh.citizen_id", "110102199101010079", "110102199101010078"),
        ("bdc.qlr.zjh.citizen_id", "110102199902310078", None),  # 31 February: not a check-digit matter
        ("bdc.qlr.zjh.credit_code", "91110000600037341a", "91110000600037341L"),
        ("bdc.qlr.zjh.credit_code", "91110000600037341M", "91110000600037341L"),
        ("bdc.fdcq.djlx.code", "210", None),
        ("bdc.fdcq.bdcdyh.format", "420102100302GA00001F00010001", None),
        ("bdc.fdcq.fdzl.required", "", None),
    ],
)
def test_suggest_fix(domain, rule_id, value, fixed):
    assert corrections.suggest_fix(rule(domain, rule_id), value) == fixed


def test_suggest_fix_never_returns_the_value_unchanged(domain):
    assert corrections.suggest_fix(rule(domain, "bdc.fdcq.slsj.datetime"), "2024-03-05 09:00:00") is None
    assert corrections.suggest_fix(rule(domain, "bdc.qlr.zjh.citizen_id"), "110102199101010078") is None


# ------------------------------------------------------------------------------------------- correction sheet


def _read(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as fh:
        return list(csv.reader(fh))


@pytest.fixture
def bad_batch(tmp_path, bdc_kit) -> tuple[Path, dict]:
    """A valid batch with six desk-fixable errors and two that need the registration files."""
    codes = bdc_kit.districts(2)
    t = bdc_kit.valid_tables(codes)
    d = codes[0]
    f1 = bdc_kit.find(t, bdc_kit.FDCQ, YWH=bdc_kit.ywh(d, 1))
    f1["SLSJ"] = "2024/03/01 09:00:00"
    f1["JZMJ"] = "89.50㎡"
    f1["FDZL"] = f1["FDZL"] + " "
    f2 = bdc_kit.find(t, bdc_kit.FDCQ, YWH=bdc_kit.ywh(d, 2))
    f2["BDCQZH"] = f2["BDCQZH"].replace("(", "（").replace(")", "）")
    f2["QLLX"] = "23"  # needs the files
    holder = bdc_kit.find(t, bdc_kit.QLR, YWH=bdc_kit.ywh(d, 1), SXH="1")
    good_id = holder["ZJH"]
    holder["ZJH"] = good_id[:17] + ("0" if good_id[17] != "0" else "1")
    holder["DH"] = "138-1234-5678"
    bdc_kit.find(t, bdc_kit.FDCQ, YWH=bdc_kit.ywh(codes[1], 2))["FDZL"] = None  # needs the files
    batch = bdc_kit.write_batch(tmp_path / "批次", t)
    return batch, {"id": good_id, "holder_id": holder["ZJH"]}


def _problems(*rows: dict) -> pd.DataFrame:
    base = dict(table="QLT_FW_FDCQ_YZ", unit_code="420102", YWH="A1", message_zh="m", fix_zh="f")
    return pd.DataFrame([{**base, **r} for r in rows])


def test_sheet_roundtrip(tmp_path, domain):
    problems = _problems(
        dict(
            rule_id="bdc.fdcq.jzmj.range",
            field="JZMJ",
            value_masked="89.5㎡",
            file="QLT_FW_FDCQ_YZ.csv",
            row="10",
        ),
        dict(
            rule_id="bdc.qlr.zjh.citizen_id",
            table="ZTT_GY_QLR",
            unit_code=None,
            field="ZJH",
            value_masked="110102********0079",
            message_zh="=m2",
            file="ZTT_GY_QLR.csv",
            row="3",
        ),
    )
    sheet = corrections.write_sheet(problems, tmp_path / "s" / "改正表.csv", domain=domain)
    assert list(sheet.columns) == list(corrections.sheet_columns(domain, problems))
    assert list(sheet["文件"]) == ["QLT_FW_FDCQ_YZ.csv", "ZTT_GY_QLR.csv"]
    assert list(sheet["字段名称"]) == ["建筑面积（平方米）", "证件号"]
    assert list(sheet["区县代码"]) == ["420102", ""] and list(sheet["业务号"]) == ["A1", "A1"]
    raw = (tmp_path / "s" / "改正表.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel/WPS open it as UTF-8
    assert b"'=m2" in raw  # written through toolkit.sheets: no formula
    back = corrections.read_sheet(tmp_path / "s" / "改正表.csv")
    assert list(back["行号"]) == ["10", "3"] and list(back["改为"]) == ["", ""]
    assert back["问题说明"].tolist() == ["m", "=m2"]  # read back through toolkit.sheets
    only = corrections.write_sheet(
        problems, tmp_path / "one.csv", rules=["bdc.qlr.zjh.citizen_id"], domain=domain
    )
    assert list(only["规则编号"]) == ["bdc.qlr.zjh.citizen_id"]


def test_xlsx_sheet_keeps_typed_id_numbers_as_text(tmp_path, domain, bdc_kit):
    from openpyxl import load_workbook

    batch = bdc_kit.write_batch(tmp_path / "b", bdc_kit.valid_tables(bdc_kit.districts(1)))
    problems = _problems(
        dict(
            rule_id="bdc.qlr.zjh.citizen_id",
            table="ZTT_GY_QLR",
            field="ZJH",
            value_masked="110102********0079",
            file="ZTT_GY_QLR.csv",
            row="2",
        )
    )
    path = tmp_path / "改正表.xlsx"
    corrections.write_sheet(problems, path, domain=domain)
    wb = load_workbook(path)
    ws = wb.active
    header = [c.value for c in ws[1]]
    assert header == list(corrections.sheet_columns(domain, problems))
    fix_col = header.index("改为") + 1
    assert ws.cell(row=2, column=fix_col).number_format == "@"  # typed digits stay text
    assert ws.cell(row=2, column=header.index("行号") + 1).value == 2
    new_id = "110102199101010078"
    ws.cell(row=2, column=fix_col).value = new_id  # what Excel stores for text typed into a text cell
    wb.save(path)
    back = corrections.read_sheet(path)
    assert back["改为"].tolist() == [new_id] and back["行号"].tolist() == ["2"]
    log = corrections.apply_sheet(path, batch, domain=domain)
    assert len(log) == 1
    rows = _read(batch / "ZTT_GY_QLR.csv")
    assert rows[1][rows[0].index("ZJH")] == new_id


def test_fill_suggestions_keeps_the_sheet_format(tmp_path, domain, bdc_kit):
    t = bdc_kit.valid_tables(bdc_kit.districts(1))
    t[bdc_kit.FDCQ][0]["JZMJ"] = "89.50㎡"
    batch = bdc_kit.write_batch(tmp_path / "b", t)
    problems = _problems(
        dict(
            rule_id="bdc.fdcq.jzmj.range",
            field="JZMJ",
            value_masked="89.50㎡",
            file="QLT_FW_FDCQ_YZ.csv",
            row="2",
        )
    )
    for name in ("改正表.xlsx", "改正表.csv"):
        corrections.write_sheet(problems, tmp_path / name, domain=domain)
        filled = corrections.fill_suggestions(tmp_path / name, batch, domain=domain)
        assert filled["改为"].tolist() == ["89.50"]
        assert corrections.read_sheet(tmp_path / name)["改为"].tolist() == ["89.50"]
    assert (tmp_path / "改正表.xlsx").read_bytes()[:2] == b"PK"


def test_read_sheet_accepts_gbk_from_excel(tmp_path):
    path = tmp_path / "改正表.csv"
    path.write_bytes("文件,行号,字段,改为\nA.csv,2,FDZL,湖北省\n".encode("gb18030"))
    assert corrections.read_sheet(path)["改为"].tolist() == ["湖北省"]


def test_read_sheet_needs_its_columns_and_a_readable_file(tmp_path):
    path = tmp_path / "改正表.csv"
    path.write_text("文件,行号\n", encoding="utf-8")
    with pytest.raises(LessonError, match="改为"):
        corrections.read_sheet(path)
    with pytest.raises(LessonError, match="找不到改正表"):
        corrections.read_sheet(tmp_path / "nope.xlsx")
    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(LessonError, match="Excel"):
        corrections.read_sheet(tmp_path / "broken.xlsx")


def _sheet(path: Path, rows: list[dict]) -> Path:
    """A correction sheet as a learner saves it (written through toolkit.sheets like the toolkit's own)."""
    frame = pd.DataFrame(rows)
    columns = corrections.sheet_columns("bdc")
    for col in columns:
        if col not in frame:
            frame[col] = ""
    frame["序号"] = [str(i) for i in range(1, len(frame) + 1)]
    write_csv(frame[list(columns)], path)
    return path


def test_apply_keeps_encoding_line_endings_backup_and_log(tmp_path, domain, bdc_kit):
    t = bdc_kit.valid_tables(bdc_kit.districts(1))
    batch = bdc_kit.write_batch(tmp_path / "b", t, encoding="gb18030")
    qlr = batch / "ZTT_GY_QLR.csv"
    original = qlr.read_bytes()
    assert b"\r\n" in original  # csv.writer's default line ending
    new_id = bdc_kit.citizen_id("420102", "19700101", 7)
    phone_row = next(i for i, r in enumerate(t[bdc_kit.QLR], start=2) if i > 2 and r.get("DH"))
    sheet = _sheet(
        tmp_path / "改正表.csv",
        [
            {"规则编号": "r", "文件": "ZTT_GY_QLR.csv", "行号": "2", "字段": "ZJH", "改为": new_id},
            {
                "规则编号": "r",
                "文件": "ZTT_GY_QLR.csv",
                "行号": str(phone_row),
                "字段": "dh",
                "改为": "（空）",
            },
            {"规则编号": "r", "文件": "ZTT_GY_QLR.csv", "行号": "4", "字段": "QLRMC", "改为": ""},
        ],
    )
    log = corrections.apply_sheet(sheet, batch, domain=domain)
    assert list(log.columns) == list(corrections.LOG_COLUMNS) and len(log) == 2
    assert log["新值（已脱敏）"].iloc[0] == new_id[:6] + "********" + new_id[-4:]
    assert new_id not in log.to_csv()
    rows = _read(qlr, "gb18030")
    header = rows[0]
    assert rows[1][header.index("ZJH")] == new_id
    assert rows[phone_row - 1][header.index("DH")] == ""
    assert rows[3][header.index("QLRMC")] == t[bdc_kit.QLR][2]["QLRMC"]  # empty 改为: untouched
    assert b"\r\n" in qlr.read_bytes() and b"\n" not in qlr.read_bytes().replace(b"\r\n", b"")
    assert (tmp_path / "b_备份" / "ZTT_GY_QLR.csv").read_bytes() == original
    logged = pd.read_csv(tmp_path / "改正记录.csv", dtype=str, encoding="utf-8-sig")
    assert list(logged["字段"]) == ["ZJH", "dh"] and new_id not in logged.to_csv()
    assert not list(batch.glob(".*"))  # no temporary file left in the batch
    # a second application changes nothing: the backup still holds the original, the log has no new row
    assert corrections.apply_sheet(sheet, batch, domain=domain).empty
    assert (tmp_path / "b_备份" / "ZTT_GY_QLR.csv").read_bytes() == original
    assert len(pd.read_csv(tmp_path / "改正记录.csv", dtype=str, encoding="utf-8-sig")) == 2
    # undo: the originals come back
    assert corrections.restore_backup(batch) == [qlr]
    assert qlr.read_bytes() == original


def test_apply_rewrites_only_the_records_it_corrects(tmp_path, domain):
    batch = tmp_path / "b"
    batch.mkdir()
    lines = [
        "\ufeffYWH,QXDM,FDZL,JZMJ\r\n",
        '"A1","420102","湖北省武汉市, 人民路1号",89.5\r\n',  # quoted more than CSV needs
        'A2,420102,"多行\r\n地址",90\r\n',  # a value with a line break
        "A3,420102,湖北省武汉市人民路3号,91㎡\r\n",
        "A4,420102,湖北省武汉市人民路4号,92",  # no line break at the end
    ]
    path = batch / "QLT_FW_FDCQ_YZ.csv"
    path.write_bytes("".join(lines).encode("utf-8"))
    sheet = _sheet(
        tmp_path / "改正表.csv",
        [
            {"规则编号": "bdc.fdcq.jzmj.range", "文件": path.name, "行号": "4", "字段": "JZMJ", "改为": "91"},
            {
                "规则编号": "bdc.fdcq.jzmj.range",
                "文件": path.name,
                "行号": "5",
                "字段": "JZMJ",
                "改为": "92.0",
            },
        ],
    )
    plan = corrections.plan_corrections(sheet, batch, domain=domain)
    assert [(c.row, c.old, c.new) for c in plan.changes] == [(4, "91㎡", "91"), (5, "92", "92.0")]
    assert path.read_bytes() == "".join(lines).encode("utf-8")  # planning writes nothing
    corrections.apply_corrections(plan)
    expected = [*lines[:3], "A3,420102,湖北省武汉市人民路3号,91\r\n", "A4,420102,湖北省武汉市人民路4号,92.0"]
    assert path.read_bytes() == "".join(expected).encode("utf-8")  # BOM, quoting, endings kept


def test_plan_merges_entries_for_one_cell_and_shows_masked_values(tmp_path, domain, bdc_kit):
    batch = bdc_kit.write_batch(tmp_path / "b", bdc_kit.valid_tables(bdc_kit.districts(1)))
    rows = _read(batch / "ZTT_GY_QLR.csv")
    old_id, name = rows[1][rows[0].index("ZJH")], rows[1][rows[0].index("QLRMC")]
    new_id = bdc_kit.citizen_id("420102", "19700101", 8)
    same = {"文件": "ZTT_GY_QLR.csv", "行号": "2", "字段": "ZJH", "改为": new_id}
    sheet = _sheet(
        tmp_path / "改正表.csv",
        [
            {**same, "规则编号": "bdc.qlr.zjh.citizen_id"},
            {**same, "规则编号": "bdc.qlr.zjh.other"},
            {"规则编号": "x", "文件": "ZTT_GY_QLR.csv", "行号": "3", "字段": "ZJH", "改为": rows[2][5]},
            {"规则编号": "y", "文件": "QLT_FW_FDCQ_YZ.csv", "行号": "2", "字段": "FDZL", "改为": f"{name}家"},
        ],
    )
    assert rows[0][5] == "ZJH"
    plan = corrections.plan_corrections(sheet, batch, domain=domain)
    assert len(plan) == 2 and plan.files == ["ZTT_GY_QLR.csv", "QLT_FW_FDCQ_YZ.csv"]
    first = plan.changes[0]
    assert first.rule_ids == ("bdc.qlr.zjh.citizen_id", "bdc.qlr.zjh.other") and first.entries == ("1", "2")
    assert plan.unchanged == 1  # row 3 already holds that value
    shown = plan.table().to_csv()
    assert new_id not in shown and old_id not in shown and name not in shown
    assert plan.table()["规则编号"].iloc[0] == "bdc.qlr.zjh.citizen_id、bdc.qlr.zjh.other"


def test_plan_refuses_two_values_for_one_cell(tmp_path, domain, bdc_kit):
    batch = bdc_kit.write_batch(tmp_path / "b", bdc_kit.valid_tables(bdc_kit.districts(1)))
    cell = {"文件": "ZTT_GY_QLR.csv", "行号": "2", "字段": "DH"}
    sheet = _sheet(tmp_path / "改正表.csv", [{**cell, "改为": "13800000000"}, {**cell, "改为": "（空）"}])
    with pytest.raises(LessonError, match="第 1 条和第 2 条"):
        corrections.plan_corrections(sheet, batch, domain=domain)


def test_apply_refuses_a_plan_the_files_no_longer_fit(tmp_path, domain, bdc_kit):
    batch = bdc_kit.write_batch(tmp_path / "b", bdc_kit.valid_tables(bdc_kit.districts(1)))
    sheet = _sheet(
        tmp_path / "改正表.csv", [{"文件": "QLT_FW_FDCQ_YZ.csv", "行号": "2", "字段": "FDZL", "改为": "改过"}]
    )
    plan = corrections.plan_corrections(sheet, batch, domain=domain)
    path = batch / "QLT_FW_FDCQ_YZ.csv"
    edited = path.read_bytes() + b"\r\n"  # somebody edited the file after planning
    path.write_bytes(edited)
    with pytest.raises(LessonError, match="改动"):
        corrections.apply_corrections(plan)
    assert path.read_bytes() == edited and not (tmp_path / "b_备份").exists()
    assert not (tmp_path / "改正记录.csv").exists()


def test_restore_backup_without_a_backup(tmp_path):
    (tmp_path / "b").mkdir()
    with pytest.raises(LessonError, match="备份"):
        corrections.restore_backup(tmp_path / "b")


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ({"文件": "ZTT_GY_QLR.csv", "行号": "99", "字段": "ZJH"}, "没有第 99 行"),
        ({"文件": "ZTT_GY_QLR.csv", "行号": "1", "字段": "ZJH"}, "没有第 1 行"),
        ({"文件": "ZTT_GY_QLR.csv", "行号": "x", "字段": "ZJH"}, "不是整数"),
        ({"文件": "ZTT_GY_QLR.csv", "行号": "2", "字段": "NOPE"}, "没有字段 NOPE"),
        ({"文件": "NOPE.csv", "行号": "2", "字段": "ZJH"}, "没有文件 NOPE.csv"),
        ({"文件": "ZTT_GY_QLR.xlsx", "行号": "2", "字段": "ZJH"}, "不是 CSV"),
        ({"文件": "../b/ZTT_GY_QLR.csv", "行号": "2", "字段": "ZJH"}, "不是批次文件夹中的文件名"),
        ({"文件": "ZTT_GY_QLR.csv", "行号": "2", "字段": "ZJH", "改为": "=1+1"}, "公式"),
        ({"文件": "ZTT_GY_QLR.csv", "行号": "2", "字段": "ZJH", "改为": "a\tb"}, "控制字符"),
    ],
)
def test_apply_refuses_a_sheet_that_does_not_fit_and_changes_nothing(tmp_path, domain, bdc_kit, entry, says):
    batch = bdc_kit.write_batch(tmp_path / "b", bdc_kit.valid_tables(bdc_kit.districts(1)))
    before = {p.name: p.read_bytes() for p in batch.iterdir()}
    good = {"文件": "QLT_FW_FDCQ_YZ.csv", "行号": "2", "字段": "FDZL", "改为": "改过"}
    sheet = _sheet(tmp_path / "改正表.csv", [good, {"改为": "1", **entry}])
    with pytest.raises(LessonError, match=says) as info:
        corrections.apply_sheet(sheet, batch, domain=domain)
    assert "第 2 条" in info.value.zh and info.value.fix_zh
    assert {p.name: p.read_bytes() for p in batch.iterdir()} == before
    assert not (tmp_path / "b_备份").exists() and not (tmp_path / "改正记录.csv").exists()


@pytest.mark.slow
def test_the_correction_exercise_closes_the_desk_fixable_problems(tmp_path, domain, bad_batch):
    batch, ids = bad_batch
    before = run_check(batch, domain=domain)
    found = set(before.problems["rule_id"])
    desk = {
        "bdc.fdcq.slsj.datetime",
        "bdc.fdcq.jzmj.range",
        "bdc.fdcq.fdzl.clean_text",
        "bdc.fdcq.bdcqzh.format",
        "bdc.qlr.zjh.citizen_id",
        "bdc.qlr.dh.format",
    }
    files = {"bdc.fdcq.qllx.code", "bdc.fdcq.fdzl.required"}
    assert desk | files <= found
    sheet_path = tmp_path / "改正表.csv"
    sheet = corrections.write_sheet(before.problems, sheet_path, domain=domain)
    assert ids["holder_id"] not in sheet_path.read_text(encoding="utf-8-sig")  # masked
    filled = corrections.fill_suggestions(sheet_path, batch, domain=domain)
    assert len(filled) == len(sheet)
    by_rule = dict(zip(filled["规则编号"], filled["改为"], strict=False))
    assert by_rule["bdc.qlr.zjh.citizen_id"] == ids["id"]  # the recomputed check digit
    assert all(by_rule[r] == "" for r in files)
    notes = dict(zip(filled["规则编号"], filled["备注"], strict=False))
    assert "原件" in notes["bdc.qlr.zjh.citizen_id"] and "档案" in notes["bdc.fdcq.qllx.code"]
    changes = corrections.apply_sheet(sheet_path, batch, domain=domain)
    assert {r for ids in changes["规则编号"] for r in ids.split("、")} >= desk
    after = run_check(batch, domain=domain)
    summary = corrections.closure_summary(before.problems, after.problems).set_index("规则编号")
    for r in desk:
        assert summary.loc[r, "已消除"] >= 1 and summary.loc[r, "仍存在"] == 0, r
    for r in files:
        assert summary.loc[r, "仍存在"] == 1, r
    assert summary.loc["合计", "原有"] == len(before.problems.drop_duplicates(["rule_id", "file", "row"]))
    # the exercise copy's backup holds the original batch
    assert (batch.parent / "批次_备份" / "QLT_FW_FDCQ_YZ.csv").exists()


# ------------------------------------------------------------------------------------------- comparing runs


def _problem(rule_id, row, **kw):
    return {
        "rule_id": rule_id,
        "table": "T",
        "file": "T.csv",
        "row": row,
        "field": "F",
        "unit_code": "420102",
        "record_key": "Y",
        "value_masked": "v",
        "message_zh": "m",
        **kw,
    }


def test_compare_problems_and_closure_summary():
    before = pd.DataFrame([_problem("a", "2"), _problem("a", "3"), _problem("b", "5")])
    after = pd.DataFrame([_problem("a", 3), _problem("c", "9")])  # row as int or text: the same row
    cmp = corrections.compare_problems(before, after)
    assert list(zip(cmp["状态"], cmp["rule_id"], cmp["row"], strict=True)) == [
        ("已消除", "a", 2),
        ("已消除", "b", 5),
        ("仍存在", "a", 3),
        ("新出现", "c", 9),
    ]
    summary = corrections.closure_summary(before, after).set_index("规则编号")
    assert summary.loc["a"].tolist() == [2, 1, 1, 0]
    assert summary.loc["c"].tolist() == [0, 0, 0, 1]
    assert summary.loc["合计"].tolist() == [3, 2, 1, 1]


def test_compare_problems_of_two_clean_runs_is_empty():
    empty = pd.DataFrame(columns=list(_problem("a", "1")))
    assert corrections.compare_problems(empty, empty).empty
    assert corrections.closure_summary(empty, empty).empty


def test_top_errors_orders_by_count_then_rule_id_and_ranks_ties_alike():
    rows = (
        [
            _problem("bdc.qlr.zjh.citizen_id", str(i), dimension="validity", severity="critical")
            for i in range(3)
        ]
        + [
            _problem(
                "bdc.fdcq.fdzl.required", "1", dimension="completeness", severity="critical", unit_code=""
            )
        ]
        + [
            _problem(
                "bdc.fdcq.dbr.clean_text", "1", dimension="validity", severity="warning", unit_code="420103"
            )
        ]
    )
    rows = [{**r, "fix_zh": "f"} for r in rows]
    top = lessons.top_errors(pd.DataFrame(rows), 2, domain="bdc")
    assert list(top.columns) == list(lessons.top_error_columns("bdc"))
    assert list(top["规则编号"]) == ["bdc.qlr.zjh.citizen_id", "bdc.fdcq.dbr.clean_text"]
    assert list(top["排名"]) == [1, 2]
    assert list(top["问题数"]) == [3, 1] and list(top["占比（%）"]) == [60.0, 20.0]
    assert list(top["维度"]) == ["有效性", "有效性"] and list(top["严重程度"]) == ["严重", "警告"]
    assert list(top["涉及区县数"]) == [1, 1]
    every = lessons.top_errors(pd.DataFrame(rows), domain="bdc")
    assert list(every["排名"]) == [1, 2, 2]  # ties share the best rank, as districts do
    ranks = scoring.rank_scores(pd.Series([3, 1, 1]))
    assert list(every["排名"]) == list(ranks)
    assert lessons.top_errors(pd.DataFrame(rows).iloc[0:0], domain="bdc").empty


def test_examples_show_masked_values_only():
    p = pd.DataFrame([_problem("a", "2", value_masked="420102********123X", detail_zh="d")])
    ex = lessons.examples(p, "a", domain="bdc")
    assert ex.loc[0, "问题值（已脱敏）"] == "420102********123X" and ex.loc[0, "具体原因"] == "d"
    assert ex.loc[0, "区县代码"] == "420102" and ex.loc[0, "记录"] == "Y"  # table T has no key in bdc
    assert lessons.examples(p, "zzz", domain="bdc").empty


# ------------------------------------------------------------------------------------------- data helpers


def test_sample_dir_says_how_to_make_the_data(tmp_path):
    with pytest.raises(LessonError) as info:
        lessons.sample_dir(tmp_path)
    assert "make demo" in str(info.value) and "DATA_DIR" in str(info.value)


def test_day_batches_and_working_copy(tmp_path):
    (tmp_path / "stock").mkdir()
    with pytest.raises(LessonError, match="增量"):
        lessons.day_batches(tmp_path)
    for day in ("2024-12-31", "2024-12-30", "notes"):
        (tmp_path / "incremental" / day).mkdir(parents=True)
    (tmp_path / "incremental" / "2024-12-31" / "JR_BW.csv").write_text("x\n", encoding="utf-8")
    days = lessons.day_batches(tmp_path)
    assert [d.name for d in days] == ["2024-12-30", "2024-12-31"]
    copy = lessons.working_copy(days[-1], tmp_path / "work", name="批次")
    assert (copy / "JR_BW.csv").read_text(encoding="utf-8") == "x\n"
    (copy / "JR_BW.csv").write_text("changed\n", encoding="utf-8")
    again = lessons.working_copy(days[-1], tmp_path / "work", name="批次")  # starts clean again
    assert (again / "JR_BW.csv").read_text(encoding="utf-8") == "x\n"
    with pytest.raises(LessonError):
        lessons.working_copy(tmp_path / "nope", tmp_path / "work")


@pytest.mark.slow
def test_load_check_output_reads_what_dq_check_wrote(tmp_path, bad_batch, domain):
    batch, _ = bad_batch
    result = run_check(batch, domain=domain)
    write_outputs(result, tmp_path / "out")
    counts, problems, summary = lessons.load_check_output(tmp_path / "out")
    unit = "unit_code" if "unit_code" in result.counts.columns else "QXDM"
    assert counts[unit].iloc[0] == result.counts[unit].iloc[0]  # text, leading digits kept
    assert counts["element_count"].sum() == result.counts["element_count"].sum()
    assert (
        counts["evaluated"].dtype == bool
        and counts["evaluated"].tolist() == result.counts["evaluated"].tolist()
    )
    assert problems["row"].tolist() == [int(r) for r in result.problems["row"]]
    assert summary
    shutil.rmtree(tmp_path / "out" / "data_docs", ignore_errors=True)
    (tmp_path / "out" / "problems.csv").unlink()
    with pytest.raises(LessonError, match=r"problems\.csv"):
        lessons.load_check_output(tmp_path / "out")


def test_masked_rows(domain):
    frame = pd.DataFrame(
        {"QLRMC": ["王小明"], "ZJH": ["110102199101010078"], "DH": ["13812345678"], "QXDM": ["420102"]}
    )
    out = lessons.masked_rows(frame, domain)
    assert out.iloc[0].tolist() == ["王**", "110102********0078", "138****5678", "420102"]
    assert frame.loc[0, "QLRMC"] == "王小明"  # a copy


def test_indicator_settings_come_from_the_scoring_reader():
    s = lessons.indicator_settings("empty_rate", "bdc")
    assert s == scoring.load_scoring("bdc").indicator("empty_rate")
    assert s.label_zh == "空项率" and s.direction == "down" and s.target < s.floor
    with pytest.raises(LessonError, match="nope") as info:
        lessons.indicator_settings("nope", "bdc")
    assert "empty_rate" in info.value.fix_zh


def test_no_bdc_default_below_the_command_line():
    import inspect

    for module in (lessons, corrections):
        for name in module.__all__:
            obj = getattr(module, name)
            if not callable(obj) or isinstance(obj, type):
                continue
            params = inspect.signature(obj).parameters
            if "domain" in params:
                assert params["domain"].default is inspect.Parameter.empty, f"{module.__name__}.{name}"


def test_toolkit_labels(domain):
    labels = lessons.toolkit_labels("bdc")
    assert labels["field"]["BDCDYH"] == "不动产单元号"
    assert labels["table"]["ZTT_GY_QLR"] == "权利人"
    assert labels["code"]["GYFS:2"] == "按份共有"
    assert labels["mode"] == {"stock": "存量数据", "incremental": "增量数据"}
    assert set(labels["dimension"]) == set(
        domain.config.get("labels", {}).get("dimensions") or lessons.DEFAULT_DIMENSION_LABELS
    )
    assert labels["severity"]["critical"] == "严重"
    config = scoring.load_scoring(domain)
    assert labels["indicator"] == {i.id: i.label_zh for i in config.indicators}
    assert len(labels["indicator"]) == 17 and labels["indicator"]["within_48h"] == "48小时接入率"
    assert "A4" in labels["grade"] and set(labels["level"]) == {"优", "良", "差"}
    assert lessons.toolkit_labels(domain) == labels  # a loaded pack works as well


def test_dimension_labels_cover_the_scoring_model(domain):
    labels = lessons.toolkit_labels(domain)["dimension"]
    assert {i.dimension for i in scoring.load_scoring(domain).indicators} <= set(labels)


def test_no_course_building_code_in_the_package():
    for name in (
        "build_handout",
        "render_glossary",
        "read_episode",
        "main",
        "TRAINING_DIR",
        "EXAMPLE_NUMBERS",
    ):
        assert not hasattr(lessons, name), name
    source = Path(lessons.__file__).read_text(encoding="utf-8")
    assert "yamlfile" not in source and "load_yaml" not in source  # scoring.yaml is read by toolkit.scoring


# ------------------------------------------------------------------------------------------- scores

DAY = "2024-12-02"


@pytest.fixture(scope="module")
def scored(domain):
    """Two districts, one day: 420102 has 5 bad citizen IDs of 100 and 1 empty 受理时间; 420103 is clean."""
    rules = [r.rule_id for r in domain.rules]
    bad = pd.DataFrame(
        {"period": DAY, "unit_code": "420102", "rule_id": rules, "element_count": 100, "unexpected_count": 0}
    )
    bad.loc[bad["rule_id"] == "bdc.qlr.zjh.citizen_id", "unexpected_count"] = 5
    bad.loc[bad["rule_id"] == "bdc.fdcq.slsj.required", "unexpected_count"] = 1
    clean = bad.assign(unit_code="420103", unexpected_count=0)
    counts = pd.concat([bad, clean], ignore_index=True).assign(evaluated=True)
    return scoring.score(counts, None, config=scoring.load_scoring(domain))


def test_explain_table_shows_every_indicator_as_the_model_computed_it(scored, domain):
    exp = scoring.explain(scored, "420102", DAY)
    table = lessons.explain_table(exp)
    assert list(table.columns) == list(lessons.EXPLAIN_COLUMNS)
    assert list(table["代码"]) == scoring.load_scoring(domain).ids
    ids = table.set_index("代码")
    assert (ids.loc["id_no_ok", "分子"], ids.loc["id_no_ok", "分母"]) == (195, 200)
    assert ids.loc["id_no_ok", "比率（%）"] == 97.5 and ids.loc["id_no_ok", "单项等级"] == "差"
    assert ids.loc["id_no_ok", "方向"] == "↑" and ids.loc["empty_rate", "方向"] == "↓"
    assert ids.loc["empty_rate", "分子"] == 1 and ids.loc["empty_rate", "单项等级"] == "良"
    # no rows frame, no ledger: those indicators are not scored and weigh nothing
    for iid in ("error_rate", "reconcile_rate", "fix_on_time"):
        assert ids.loc[iid, "单项等级"] == lessons.NOT_SCORED
        assert ids.loc[iid, "实际权重"] == 0 and pd.isna(ids.loc[iid, "单项得分"])
    assert table["实际权重"].sum() == pytest.approx(100, abs=0.05)
    assert table["贡献"].sum() == pytest.approx(exp.score, abs=0.1)
    assert (table["失分"] >= 0).all() and not (table["失分"].map(str) == "-0.0").any()
    assert table.loc[table["失分"] > 0, "代码"].tolist() == ["empty_rate", "id_no_ok"]


def test_weak_rules_name_the_rules_behind_the_points_lost(scored, domain):
    exp = scoring.explain(scored, "420102", DAY)
    weak = lessons.weak_rules(exp, 5, domain=domain)
    assert list(weak.columns) == list(lessons.WEAK_RULE_COLUMNS)
    assert weak["规则编号"].tolist() == ["bdc.qlr.zjh.citizen_id", "bdc.fdcq.slsj.required"]
    first = weak.iloc[0]
    assert first["指标"] == "证件号校验通过率" and first["单项等级"] == "差"
    assert (first["适用行数"], first["问题行数"]) == (100, 5)
    rule = domain.rule("bdc.qlr.zjh.citizen_id")
    assert first["问题说明"] == rule.meta["message_zh"] and first["整改办法"] == rule.meta["fix_zh"]
    assert lessons.weak_rules(exp, 1, domain=domain)["规则编号"].tolist() == ["bdc.qlr.zjh.citizen_id"]
    clean = scoring.explain(scored, "420103", DAY)
    assert lessons.weak_rules(clean, 3, domain=domain).empty  # 100 points everywhere: nothing to list


def _scores(unit="QXDM", name="QXMC") -> pd.DataFrame:
    return pd.DataFrame(
        {
            unit: ["420102", "420103", "420104", "420102", "420103", "420104", "420105"],
            name: ["江岸区", "江汉区", "硚口区"] * 2 + ["汉阳区"],
            "period": ["2024-11"] * 3 + ["2024-12"] * 4,
            "score": [90.0, 95.0, 80.0, 96.0, 95.0, None, 96.0],
            "grade": ["A4", "A2", "B4", "A2", "A2", None, "A2"],
            "rank": [2, 1, 3, 1, 3, None, 1],
        }
    )


def test_ranking_table_compares_with_the_previous_period():
    scores = _scores("unit_code", "unit_name")
    table = lessons.ranking_table(scores, domain="bdc")
    assert list(table.columns) == list(lessons.ranking_columns("bdc"))
    assert table["区县代码"].tolist() == ["420102", "420105", "420103", "420104"]
    assert table["区县"].tolist() == ["江岸区", "汉阳区", "江汉区", "硚口区"]
    row = table.set_index("区县代码")
    assert row.loc["420102", "名次变化"] == "↑1" and row.loc["420102", "得分变化"] == 6.0
    assert row.loc["420103", "名次变化"] == "↓2" and row.loc["420103", "得分变化"] == 0.0
    assert row.loc["420105", "名次变化"] == "新" and pd.isna(row.loc["420105", "上期得分"])
    assert row.loc["420104", "名次变化"] == "" and pd.isna(row.loc["420104", "名次"])
    first = lessons.ranking_table(scores, "2024-11", domain="bdc")
    assert first["名次变化"].tolist() == ["新"] * 3 and first["名次"].tolist() == [1, 2, 3]
    same = lessons.ranking_table(
        scores.assign(period=scores["period"].replace("2024-11", "2024-10")), domain="bdc"
    )
    assert same["区县代码"].tolist() == table["区县代码"].tolist()
    with pytest.raises(LessonError, match="2025-01"):
        lessons.ranking_table(scores, "2025-01", domain="bdc")
    assert lessons.ranking_table(scores.iloc[0:0], domain="bdc").empty


def test_ranking_table_shows_the_scoring_modules_ranks(scored, domain):
    table = lessons.ranking_table(scoring.scores_table(scored), domain=domain)
    assert table["名次"].tolist() == [1, 2] and table["区县代码"].tolist() == ["420103", "420102"]


@pytest.mark.parametrize(
    ("pack", "code", "name", "count"),
    [
        ("bdc", "区县代码", "区县", "涉及区县数"),
        ("gjj", "中心代码", "中心", "涉及中心数"),
        ("sgs", "部门代码", "部门", "涉及部门数"),
    ],
)
def test_tables_name_the_unit_as_the_pack_does(pack, code, name, count):
    dom = load_domain(pack)
    assert dom.unit.label_zh == name
    table = lessons.ranking_table(_scores("unit_code", "unit_name"), domain=pack)
    assert list(table.columns[1:3]) == [code, name] and table[code].tolist()[0] == "420102"
    rule_id, table_code = dom.rules[0].rule_id, dom.rules[0].table
    rows = [_problem(rule_id, "2", table=table_code), _problem(rule_id, "3", table=table_code, unit_code="x")]
    top = lessons.top_errors(
        pd.DataFrame(rows).assign(fix_zh="f", dimension="validity", severity="warning"), domain=pack
    )
    assert list(top.columns) == list(lessons.top_error_columns(pack)) and top.loc[0, count] == 2
    ex = lessons.examples(pd.DataFrame(rows), rule_id, domain=pack)
    assert list(ex.columns[:2]) == [code, dom.key_label(table_code)] and ex[code].tolist() == ["420102", "x"]
    headings = set(table.columns) | set(top.columns) | set(ex.columns)
    assert pack == "bdc" or not {"区县代码", "区县", "涉及区县数"} & headings


def test_bdc_sheet_shows_the_registrations_ywh_even_for_a_message_or_a_log(tmp_path, domain):
    """bdc names YWH its problem field: a problem of a message (JR_BW, keyed by BIZMSGID) or of a log row
    is shown with the registration's 业务号, the column clerks look registrations up by."""
    base = dict(unit_code="420102", message_zh="m", fix_zh="f", value_masked="v", field="F")
    rows = [
        dict(
            base,
            rule_id="a",
            table="JR_BW",
            record_key="420102240305000001",
            YWH="Y1",
            file="JR_BW.csv",
            row="2",
        ),
        dict(base, rule_id="b", table="QLT_FW_FDCQ_YZ", record_key="Y2", YWH="Y2", file="F.csv", row="3"),
    ]
    sheet = corrections.write_sheet(pd.DataFrame(rows), tmp_path / "s.csv", domain=domain)
    assert sheet.columns[3] == "业务号" and sheet["业务号"].tolist() == ["Y2", "Y1"]  # by file
    keyed = corrections.write_sheet(pd.DataFrame(rows).drop(columns="YWH"), tmp_path / "k.csv", domain=domain)
    assert keyed.columns[3] == "记录标识" and keyed["记录标识"].tolist() == ["Y2", "420102240305000001"]


def test_correction_sheet_names_the_unit_and_the_key_as_the_pack_does(tmp_path):
    gjj = load_domain("gjj")
    one = dict(rule_id="gjj.x", table="GRXX", unit_code="c1", record_key="G1", field="GRZH", message_zh="m")
    other = {**one, "table": "DWXX", "record_key": "D1", "field": "DWZH"}
    rows = [{**one, "file": "GRXX.csv", "row": "2", "value_masked": "v", "fix_zh": "f"}]
    sheet = corrections.write_sheet(pd.DataFrame(rows), tmp_path / "a.csv", domain=gjj)
    assert list(sheet.columns[2:4]) == ["中心代码", "个人账号"] and sheet["个人账号"].tolist() == ["G1"]
    rows.append({**other, "file": "DWXX.csv", "row": "3", "value_masked": "v", "fix_zh": "f"})
    mixed = corrections.write_sheet(pd.DataFrame(rows), tmp_path / "b.csv", domain=gjj)
    assert list(mixed.columns[2:4]) == ["中心代码", "记录标识"] and mixed["记录标识"].tolist() == ["D1", "G1"]


def test_level_css_uses_the_scoring_models_colours(domain):
    config = scoring.load_scoring(domain)
    assert lessons.level_css("优", config) == f"background-color: {config.level_colour('优')}"
    assert lessons.level_css("差", config).endswith(config.level_colour("差"))
    assert lessons.level_css("不参评", config) == lessons.level_css(None, config) == ""
    assert lessons.level_css(float("nan"), config) == ""


def test_a_formula_in_the_batch_reaches_the_log_as_text_and_none_is_written_into_it(
    tmp_path, domain, bdc_kit
):
    cmd = "=cmd|' /C calc'!A0"
    t = bdc_kit.valid_tables(bdc_kit.districts(1))
    t[bdc_kit.FDCQ][0]["FDZL"] = cmd  # hostile data in the batch
    batch = bdc_kit.write_batch(tmp_path / "b", t)
    cell = {"规则编号": "r", "文件": "QLT_FW_FDCQ_YZ.csv", "行号": "2", "字段": "FDZL"}
    refused = _sheet(tmp_path / "refused.csv", [{**cell, "改为": cmd}])
    with pytest.raises(LessonError, match="公式"):
        corrections.apply_sheet(refused, batch, domain=domain)
    sheet = _sheet(tmp_path / "改正表.csv", [{**cell, "改为": "湖北省武汉市人民路1号"}])
    corrections.apply_sheet(sheet, batch, domain=domain)
    with (tmp_path / "改正记录.csv").open(encoding="utf-8-sig", newline="") as fh:
        header, row = list(csv.reader(fh))
    assert row[header.index("原值（已脱敏）")] == "'" + cmd  # written through toolkit.sheets
    assert _read(batch / "QLT_FW_FDCQ_YZ.csv")[1][5] == "湖北省武汉市人民路1号"
