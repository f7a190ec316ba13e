"""toolkit.sheets: no value from the data becomes a formula or reaches a file as a control character.

Table-driven over the dangerous prefixes; every file is read back the way a reviewer would (the ``csv``
module; openpyxl and the raw sheet XML inside the XLSX zip). Then one end-to-end case per caller with a
planted ``=cmd|' /C calc'!A0``.
"""

from __future__ import annotations

import csv
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from toolkit import sheets
from toolkit.sheets import (
    append_csv,
    frames_to_xlsx,
    neutralise_csv,
    safe_text,
    save_workbook,
    write_csv,
)

CMD = "=cmd|' /C calc'!A0"
DANGEROUS = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", CMD, "＝1+1", '=HYPERLINK("http://x","y")']
PLAIN_NUMBERS = ["-2.8", "+3", "1e5", "-0", "-1e5", "+.5", "-3.", "12"]
CONTROLS = [
    ("a\x00b", "a\\x00b"),
    ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
    ("bell\x07", "bell\\x07"),
    ("del\x7f", "del\\x7f"),
    ("c1\x9b", "c1\\x9b"),
    ("cr\rlf", "cr\\x0dlf"),
    ("lone\ud800", "lone\\ud800"),
    ("ok\tand\nkept", "ok\tand\nkept"),
]
CITIZEN_ID = "420102199101010070"


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def sheet_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/sheet"))


def assert_no_formula(path: Path) -> None:
    xml = sheet_xml(path)
    assert not re.search(r"<(\w+:)?f[ >/]", xml), "a formula element in the sheet XML"
    wb = load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)


# ------------------------------------------------------------------------------------------- unit level


@pytest.mark.parametrize("value", DANGEROUS, ids=repr)
def test_dangerous_text_gets_an_apostrophe(value):
    assert neutralise_csv(value) == "'" + value


@pytest.mark.parametrize("value", [*PLAIN_NUMBERS, "abc", "", "1-1", " =1", "420102199101010070", "a=b"])
def test_harmless_text_is_unchanged(value):
    assert neutralise_csv(value) == value


@pytest.mark.parametrize("value", [None, 3, -2.8, True, pd.NA])
def test_non_text_passes_through(value):
    assert neutralise_csv(value) is value
    assert safe_text(value) is value


@pytest.mark.parametrize(("raw", "shown"), CONTROLS, ids=repr)
def test_control_characters_become_visible_escapes(raw, shown):
    assert safe_text(raw) == shown
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]", safe_text(raw))


# ----------------------------------------------------------------------------------------------- CSV


@pytest.mark.parametrize("value", DANGEROUS, ids=repr)
def test_csv_neutralises_formulas(tmp_path, value):
    path = write_csv(pd.DataFrame({"v": [value], "n": [1]}), tmp_path / "x.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    (header, row) = csv_rows(path)
    assert header == ["v", "n"]
    assert row[0].startswith("'"), row
    assert row[1] == "1"


@pytest.mark.parametrize("value", PLAIN_NUMBERS, ids=repr)
def test_csv_keeps_plain_numbers(tmp_path, value):
    path = write_csv(pd.DataFrame({"v": [value]}, dtype=object), tmp_path / "x.csv")
    assert csv_rows(path)[1] == [value]


def test_csv_numeric_columns_untouched(tmp_path):
    frame = pd.DataFrame({"i": [-1, 2], "f": [-2.5, None], "b": [True, False], "s": ["-1", "x"]})
    path = write_csv(frame, tmp_path / "x.csv")
    assert csv_rows(path)[1:] == [["-1", "-2.5", "True", "-1"], ["2", "", "False", "x"]]
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert back["i"].tolist() == [-1, 2] and back["f"].iloc[0] == -2.5


# pandas' default string dtype (Arrow) cannot even hold a lone surrogate: that case only as object
@pytest.mark.parametrize(
    ("raw", "shown", "dtype"),
    [(r, s, d) for r, s in CONTROLS for d in (object, "str") if d is object or "\ud800" not in r],
    ids=repr,
)
def test_csv_control_characters(tmp_path, raw, shown, dtype):
    path = write_csv(pd.DataFrame({"v": [raw, "=1"], "n": [1, 2]}, dtype=dtype), tmp_path / "x.csv")
    assert csv_rows(path)[1:] == [[shown, "1"], ["'=1", "2"]]


def test_csv_id_keeps_its_digits_and_other_dtypes(tmp_path):
    frame = pd.DataFrame(
        {"id": [CITIZEN_ID], "cat": pd.Categorical(["=1"]), "obj": pd.Series(["@x"], dtype=object)}
    )
    path = write_csv(frame, tmp_path / "x.csv")
    assert csv_rows(path)[1] == [CITIZEN_ID, "'=1", "'@x"]
    assert frame["cat"].iloc[0] == "=1", "the caller's frame is not modified"


def test_csv_column_names_are_neutralised(tmp_path):
    path = write_csv(pd.DataFrame({"=1+1": ["a"]}), tmp_path / "x.csv")
    assert csv_rows(path)[0] == ["'=1+1"]


def test_append_csv_writes_one_bom_and_one_header(tmp_path):
    path = tmp_path / "log.csv"
    append_csv(pd.DataFrame({"a": [CMD]}), path)
    append_csv(pd.DataFrame({"a": ["x\x1by"]}), path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    assert csv_rows(path) == [["a"], ["'" + CMD], ["x\\x1by"]]


# ---------------------------------------------------------------------------------------------- XLSX


@pytest.mark.parametrize("value", DANGEROUS, ids=repr)
def test_xlsx_frames_dangerous_text_is_a_text_cell(tmp_path, value):
    path = frames_to_xlsx({"S": pd.DataFrame({"v": [value]})}, tmp_path / "x.xlsx")
    assert_no_formula(path)
    cell = load_workbook(path)["S"]["A2"]
    assert cell.data_type == "s"
    assert cell.value == safe_text(value)  # the value itself, no apostrophe in it
    if sheets.is_formula_like(cell.value):
        assert cell.quotePrefix, "stays text when somebody edits the cell"


@pytest.mark.parametrize("value", DANGEROUS, ids=repr)
def test_save_workbook_turns_every_formula_into_text(tmp_path, value):
    wb = Workbook()
    ws = wb.active
    ws["A1"] = safe_text(value)  # what openpyxl would write as a formula for "=..."
    ws["B1"] = "#N/A"  # an error value, not text, if left alone
    ws["C1"] = 7
    path = save_workbook(wb, tmp_path / "sub" / "x.xlsx")
    assert_no_formula(path)
    ws = load_workbook(path).active
    assert ws["A1"].data_type == "s" and ws["A1"].value == safe_text(value)
    assert ws["B1"].data_type == "s" and ws["B1"].value == "#N/A"
    assert ws["C1"].value == 7 and ws["C1"].data_type == "n"


def test_save_workbook_keeps_allowed_formulas(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    ws["A1"], ws["A2"], ws["A3"] = 1, "=A1+1", "=A1+2"
    path = save_workbook(wb, tmp_path / "x.xlsx", allow_formulas={"汇总!A2"})
    ws = load_workbook(path)["汇总"]
    assert ws["A2"].data_type == "f" and ws["A2"].value == "=A1+1"
    assert ws["A3"].data_type == "s" and ws["A3"].value == "=A1+2"


@pytest.mark.parametrize("value", PLAIN_NUMBERS, ids=repr)
def test_xlsx_plain_number_text_stays_text(tmp_path, value):
    path = frames_to_xlsx({"S": pd.DataFrame({"v": [value]}, dtype=object)}, tmp_path / "x.xlsx")
    cell = load_workbook(path)["S"]["A2"]
    assert cell.value == value and cell.data_type == "s"


@pytest.mark.parametrize(("raw", "shown"), CONTROLS, ids=repr)
def test_xlsx_control_characters_save_without_error(tmp_path, raw, shown):
    path = frames_to_xlsx({"S": pd.DataFrame({"v": [raw]}, dtype=object)}, tmp_path / "x.xlsx")
    assert load_workbook(path)["S"]["A2"].value == shown


def test_xlsx_ids_numbers_dates_and_missing(tmp_path):
    frame = pd.DataFrame(
        {
            "证件号": [CITIZEN_ID, "0012"],
            "big": [420102199101010070, 5],
            "n": [-2, 3],
            "f": [-2.8, float("nan")],
            "when": pd.to_datetime(["2025-01-02 03:04:05", None]),
            "s": ["x", None],
        }
    )
    path = frames_to_xlsx({"台账": frame, "空": frame.iloc[:0]}, tmp_path / "x.xlsx")
    wb = load_workbook(path)
    ws = wb["台账"]
    assert [c.value for c in ws[1]] == list(frame.columns)
    assert all(c.font.bold for c in ws[1])
    assert ws["A2"].value == CITIZEN_ID and ws["A2"].data_type == "s" and ws["A2"].number_format == "@"
    assert ws["A3"].value == "0012" and ws["A3"].data_type == "s"
    assert ws["B2"].value == "420102199101010070", "an integer Excel would round is written as text"
    assert ws["B3"].value == 5 and ws["C2"].value == -2 and ws["D2"].value == -2.8
    assert ws["D3"].value is None and ws["E3"].value is None and ws["F3"].value is None
    assert ws["E2"].value.isoformat() == "2025-01-02T03:04:05" and ws["E2"].is_date
    assert [c.value for c in wb["空"][1]] == list(frame.columns) and wb["空"].max_row == 1
    back = pd.read_excel(path, sheet_name="台账", dtype={"证件号": str})
    assert back["证件号"].tolist() == [CITIZEN_ID, "0012"]


# ----------------------------------------------------------------------------------------- end to end


def test_ledger_export(tmp_path):
    from test_ledger import problem, sync_input

    from toolkit import ledger as L

    db = tmp_path / "l.sqlite"
    p = problem('=HYPERLINK("http://evil","点我")')
    p["value_masked"] = CMD
    L.apply_sync(db, sync_input([p]), as_of="2024-03-04 10:00:00")
    out_csv = L.export_ledger(db, tmp_path / "台账.csv", as_of="2024-03-05")
    rows = csv_rows(out_csv)
    cells = [c for r in rows[1:] for c in r]
    assert "'" + CMD in cells and '\'=HYPERLINK("http://evil","点我")' in cells
    assert not any(c.startswith("=") for c in cells)
    out_xlsx = L.export_ledger(db, tmp_path / "台账.xlsx", as_of="2024-03-05")
    assert_no_formula(out_xlsx)
    wb = load_workbook(out_xlsx)
    assert wb.sheetnames == ["问题台账", "流转记录"]
    found = [c for ws in wb for row in ws.iter_rows() for c in row if c.value == CMD]
    assert found and all(c.data_type == "s" and c.quotePrefix for c in found)


def test_ledger_cli_figures_csv(tmp_path):
    from test_ledger import problem, sync_input
    from typer.testing import CliRunner

    from toolkit import ledger as L
    from toolkit.cli import app

    db = tmp_path / "l.sqlite"
    L.apply_sync(db, sync_input([problem("Y1")]), as_of="2024-03-04 10:00:00")
    out = tmp_path / "figures.csv"
    args = [
        "ledger",
        "figures",
        "--ledger",
        str(db),
        "--by",
        "week",
        "--as-of",
        "2024-04-30",
        "--out",
        str(out),
    ]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(out, encoding="utf-8-sig", dtype={"QXDM": str})
    assert back["QXDM"].tolist() == ["420102"] and back["problems_due"].tolist() == [1]


def test_audit_checklist(tmp_path):
    from test_audit import write_batch

    from toolkit.audit import run_audit, write_checklist

    folder = tmp_path / "2024-12-20"
    write_batch(folder)
    path = folder / "QLT_FW_FDCQ_YZ.csv"
    frame = pd.read_csv(path, dtype=str)
    frame["BDCDYH"] = CMD
    frame["DBR"] = "\x1b[2J"
    frame.to_csv(path, index=False)
    res = run_audit(folder, domain="bdc", size=3, seed=1)
    out = write_checklist(res, tmp_path / "out")
    assert_no_formula(out)
    ws = load_workbook(out)["抽查清单"]
    assert ws.data_validations.dataValidation, "the checklist keeps its drop-down lists"
    planted = [c for row in ws.iter_rows() for c in row if c.value == CMD]
    assert planted and all(c.data_type == "s" and c.quotePrefix for c in planted)
    assert "\x1b" not in sheet_xml(out)


def test_common_problems_workbook(tmp_path):
    from report_fixtures import make_problems

    from toolkit.common_problems import build_common_problems, write_common_problems

    problems = make_problems()
    planted = problems.iloc[:3].assign(rule_id=CMD, message_zh='=HYPERLINK("http://x")', fix_zh="@SUM(A1)")
    cp = build_common_problems(pd.concat([problems, planted], ignore_index=True), domain="bdc")
    paths = write_common_problems(cp, tmp_path)
    assert_no_formula(paths["xlsx"])
    wb = load_workbook(paths["xlsx"])
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if c.value == CMD]
    assert cells and all(c.data_type == "s" and c.quotePrefix for c in cells)


def test_report_xlsx_book(tmp_path):
    from toolkit.report import xlsx_writer

    frame = pd.DataFrame({"区县": [CMD, "a\x00b"], "得分": [-2.8, 90.0], "证件号": [CITIZEN_ID, None]})
    path = tmp_path / "b" / "bulletin.xlsx"
    with xlsx_writer(path) as book:
        book.add_table("排名", frame, title="=标题", note="\x07note")
    assert_no_formula(path)
    ws = load_workbook(path)["排名"]
    assert ws["A1"].value == "=标题" and ws["A1"].data_type == "s" and ws["A1"].font.bold
    assert ws["A2"].value == "\\x07note"
    assert [ws.cell(row=4, column=j).value for j in (1, 2, 3)] == [CMD, -2.8, CITIZEN_ID]
    assert ws["A5"].value == "a\\x00b" and ws["C4"].data_type == "s"


def test_correction_sheet_round_trip(tmp_path):
    from toolkit import corrections

    problems = pd.DataFrame(
        [
            dict(
                rule_id="bdc.fdcq.jzmj.range",
                table="QLT_FW_FDCQ_YZ",
                QXDM="420102",
                YWH=CMD,
                field="JZMJ",
                value_masked="=1+1\x00",
                message_zh="m",
                fix_zh="f",
                file="QLT_FW_FDCQ_YZ.csv",
                row="10",
            )
        ]
    )
    xlsx = tmp_path / "改正表.xlsx"
    corrections.write_sheet(problems, xlsx, domain="bdc")
    assert_no_formula(xlsx)
    ws = load_workbook(xlsx).active
    header = [c.value for c in ws[1]]
    ywh = ws.cell(row=2, column=header.index("业务号") + 1)
    assert ywh.value == CMD and ywh.data_type == "s" and ywh.number_format == "@"
    assert ws.cell(row=2, column=header.index("当前值（已脱敏）") + 1).value == "=1+1\\x00"
    assert ws.cell(row=2, column=header.index("行号") + 1).value == 10
    back = corrections.read_sheet(xlsx)
    assert back["业务号"].tolist() == [CMD], "the XLSX round trip keeps the text as it was"
    sheet_csv = tmp_path / "改正表.csv"
    corrections.write_sheet(problems, sheet_csv, domain="bdc")
    (header, row) = csv_rows(sheet_csv)
    assert row[header.index("业务号")] == "'" + CMD and row[header.index("行号")] == "10"
    assert row[header.index("当前值（已脱敏）")] == "'=1+1\\x00"


# (a formula in the batch reaching the correction log as text, and never written into the batch:
# tests/test_lessons.py::test_a_formula_in_the_batch_reaches_the_log_as_text_and_none_is_written_into_it)


def test_dq_check_outputs_go_through_sheets():
    from toolkit import outputs

    assert outputs.write_csv is sheets.write_csv and outputs.CSV_ENCODING == "utf-8-sig"


def test_no_other_writer_in_the_toolkit():
    """Every CSV/XLSX file is written by toolkit/sheets.py."""
    root = Path(sheets.__file__).parent
    pattern = re.compile(r"\.to_csv\(|\.to_excel\(|ExcelWriter|\bwb\.save\(|\.wb\.save\(")
    offenders = [
        f"{p.name}:{i}"
        for p in sorted(root.glob("*.py"))
        if p.name != "sheets.py"
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert offenders == []


# ------------------------------------------------------------------------------------------------ column-wise append

_cells = st.one_of(
    st.none(), st.text(max_size=12), st.sampled_from(["=1+1", "-2.8", "+3", "＠x", "a\x1bb", "'=x"])
)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20))
def test_cell_suspect_finds_every_cell_csv_cell_changes(value: str) -> None:
    """The pre-filters (Python's for str, RE2's in DuckDB for append_csv_query) may flag too much, never
    too little."""
    import duckdb

    if sheets.csv_cell(value) != value:
        assert sheets._CELL_SUSPECT.search(value)
        if not any("\ud800" <= ch <= "\udfff" for ch in value):  # DuckDB text holds no lone surrogate
            assert duckdb.execute("SELECT regexp_matches(?, ?)", [value, sheets._ARROW_SUSPECT]).fetchone()[0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_cells, _cells, _cells), min_size=1, max_size=20))
def test_append_csv_query_writes_what_append_csv_writes(tmp_path_factory, rows: list) -> None:
    """Differential: DuckDB's lines (the gate's problem list) against the pandas writer, byte for byte,
    in the order asked for."""
    import duckdb
    import pyarrow as pa

    tmp = tmp_path_factory.mktemp("query")
    frame = pd.DataFrame(rows, columns=["a", "b", "c"], dtype=object)
    by_frame, by_query = tmp / "frame.csv", tmp / "query.csv"
    sheets.write_csv(frame.iloc[:0], by_frame)
    sheets.append_csv(frame, by_frame)
    sheets.write_csv(frame.iloc[:0], by_query)
    con = duckdb.connect()
    data = {c: pa.array(list(frame[c]), pa.string()) for c in frame.columns}
    con.register("src", pa.table({**data, "n": list(range(len(rows)))[::-1]}))
    n = sheets.append_csv_query(con, "SELECT * FROM src", ["a", "b", "c"], by_query, ["n DESC"])
    assert n == len(rows)
    assert by_query.read_bytes() == by_frame.read_bytes()


_clean_cells = _cells.filter(lambda v: v is None or sheets.csv_cell(v) == v)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_cells, _clean_cells, _cells), min_size=1, max_size=20), st.booleans())
def test_append_csv_query_clean_columns_are_written_as_append_csv_writes(
    tmp_path_factory, rows: list, all_clean: bool
) -> None:
    """Differential: columns the caller declares clean (csv_cell leaves each of their values as it is) are
    quoted but not searched, the other cells of their line still are — byte for byte the pandas writer's
    output, a column written twice (a pack's legacy copy) included."""
    import duckdb
    import pyarrow as pa

    if all_clean:
        rows = [(a, k, c) for a, k, c in rows if sheets.csv_cell(a) == a and sheets.csv_cell(c) == c] or [
            (None, None, None)
        ]
    tmp = tmp_path_factory.mktemp("clean")
    frame = pd.DataFrame(rows, columns=["a", "k", "c"], dtype=object)
    frame.insert(2, "k2", frame["k"])
    by_frame, by_query = tmp / "frame.csv", tmp / "query.csv"
    sheets.write_csv(frame.iloc[:0], by_frame)
    sheets.append_csv(frame, by_frame)
    sheets.write_csv(frame.iloc[:0], by_query)
    con = duckdb.connect()
    data = {c: pa.array(list(frame[c]), pa.string()) for c in ("a", "k", "c")}
    con.register("src", pa.table({**data, "n": list(range(len(rows)))}))
    clean = {"a", "k", "c"} if all_clean else {"k"}
    n = sheets.append_csv_query(con, "SELECT * FROM src", ["a", "k", "k", "c"], by_query, ["n"], clean=clean)
    assert n == len(rows)
    assert by_query.read_bytes() == by_frame.read_bytes()
