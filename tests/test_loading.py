"""Tests of toolkit.loading: batch discovery, csv/xlsx/parquet reading as text, row accounting, errors."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.styles import PatternFill

from toolkit.errors import (
    BatchNotFoundError,
    InputError,
    MissingColumnError,
    NoKnownTableError,
    UnreadableFileError,
)
from toolkit.loading import ROW_COLUMN, Batch, LoadedTable, is_empty, load_batch, normalise_header, read_table

FDCQ = "QLT_FW_FDCQ_YZ"
QLR = "ZTT_GY_QLR"
TABLES = {FDCQ: ["YWH", "QXDM", "SLSJ"], QLR: ["YWH", "QLRMC"]}


# ---------------------------------------------------------------------------------------------------
# fixture helpers


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    """Write ``rows`` with the csv module (CRLF, minimal quoting) in ``encoding``."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def write_parquet(path: Path, columns: dict[str, pa.Array]) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


def write_table(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """The same text table in whichever format ``path``'s extension says (all cells text)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return write_csv(path, [header, *rows])
    if suffix == ".xlsx":
        return write_xlsx(path, [header, *rows])
    columns = {name: pa.array([row[i] for row in rows], pa.string()) for i, name in enumerate(header)}
    return write_parquet(path, columns)


def values(table: LoadedTable, column: str) -> list[str | None]:
    return table.frame[column].tolist()


def assert_text_frame(table: LoadedTable) -> None:
    """Every cell is str or None, ``_ROW`` is the last column, and the accounting adds up."""
    frame = table.frame
    assert list(frame.columns)[-1] == ROW_COLUMN
    assert len(frame) == table.rows
    for column in frame.columns:
        assert frame[column].dtype == object, column
        assert all(v is None or type(v) is str for v in frame[column]), column
        # None is the only empty representation: isna() is true exactly for None
        assert frame[column].isna().tolist() == [v is None for v in frame[column]], column
        assert not any(isinstance(v, str) and v.strip() == "" for v in frame[column]), column
    assert all(v is not None and v.isdigit() for v in frame[ROW_COLUMN])


FORMAT_SUFFIXES = [".csv", ".xlsx", ".parquet"]


# ---------------------------------------------------------------------------------------------------
# CSV encodings


@pytest.mark.parametrize(
    ("codec", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"), ("gbk", "gb18030")],
)
def test_csv_encoding_is_detected(tmp_path: Path, codec: str, expected: str) -> None:
    rows = [
        ["YWH", "QXDM", "SLSJ", "FDZL"],
        ["YW001", "420102", "2024-01-05 09:00:00", "湖北省武汉市江岸区中山大道1号"],
    ]
    path = write_csv(tmp_path / f"{FDCQ}.csv", rows, codec)
    if expected == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")  # the fixture really is not UTF-8

    table = read_table(path, FDCQ)

    assert table.encoding == expected
    assert table.format == "csv"
    assert list(table.frame.columns) == ["YWH", "QXDM", "SLSJ", "FDZL", ROW_COLUMN]
    assert values(table, "FDZL") == ["湖北省武汉市江岸区中山大道1号"]
    assert table.renamed_columns == {}  # the BOM is part of the encoding, not of the header
    assert_text_frame(table)


def test_csv_encoding_is_decided_on_the_whole_file(tmp_path: Path) -> None:
    # 2000 ASCII lines, then one GBK line: a detector that sniffs only the start would pick UTF-8
    rows = [["YWH", "QLRMC"]] + [[f"YW{i:05d}", "ZHANG"] for i in range(2000)] + [["YW99999", "张三"]]
    path = write_csv(tmp_path / f"{QLR}.csv", rows, "gbk")

    table = read_table(path, QLR)

    assert table.encoding == "gb18030"
    assert values(table, "QLRMC")[-1] == "张三"
    assert table.rows == 2001


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"YWH,QLRMC\r\nYW1,\xe5\xbc\xa0\r\nYW2,\x81\xff\r\n", 3),  # UTF-8, then a byte neither codec accepts
        (b"YWH,QLRMC\nYW1,\xd5\xc5\nYW2,\xff\n", 3),  # GBK, then 0xFF
    ],
)
def test_undecodable_bytes_name_file_and_line(tmp_path: Path, data: bytes, line: int) -> None:
    path = tmp_path / f"{QLR}.csv"
    path.write_bytes(data)

    with pytest.raises(UnreadableFileError) as info:
        read_table(path, QLR)

    message = str(info.value)
    assert path.name in message
    assert f"第 {line} 行" in message and f"line {line}" in message
    assert "UTF-8" in info.value.fix_en
    assert info.value.path == path


def test_utf16_file_is_rejected_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / f"{QLR}.csv"
    path.write_bytes("YWH,QLRMC\r\nYW1,张三\r\n".encode("utf-16"))

    with pytest.raises(UnreadableFileError, match="UTF-16"):
        read_table(path, QLR)


# ---------------------------------------------------------------------------------------------------
# values are text, exactly as written; empty means None


TEXT_VALUES = [
    "NA",
    "null",
    "NULL",
    "N/A",
    "None",
    "0012",
    " a",
    "a ",
    "1e5",
    "TRUE",
    "-0",
    "  x  y  ",
    "中\u3000文",
]


@pytest.mark.parametrize("suffix", FORMAT_SUFFIXES)
def test_text_values_are_kept_exactly(tmp_path: Path, suffix: str) -> None:
    path = write_table(
        tmp_path / f"{QLR}{suffix}", ["YWH", "QLRMC"], [[f"YW{i}", v] for i, v in enumerate(TEXT_VALUES)]
    )

    table = read_table(path, QLR)

    assert values(table, "QLRMC") == TEXT_VALUES
    assert table.frame["QLRMC"].isna().sum() == 0
    assert_text_frame(table)


EMPTY_VALUES = ["", " ", "   ", "\u3000", "\u3000\u3000", "\xa0", "\t", " \t\u3000\xa0 "]


@pytest.mark.parametrize("suffix", FORMAT_SUFFIXES)
def test_whitespace_only_values_become_none(tmp_path: Path, suffix: str) -> None:
    rows = [[f"YW{i}", v] for i, v in enumerate(EMPTY_VALUES)] + [["YWX", " a"], ["YWY", "\u3000b"]]
    path = write_table(tmp_path / f"{QLR}{suffix}", ["YWH", "QLRMC"], rows)

    table = read_table(path, QLR)

    assert table.frame["QLRMC"].isna().tolist() == [True] * len(EMPTY_VALUES) + [False, False]
    assert values(table, "QLRMC")[-2:] == [" a", "\u3000b"]  # leading space / U+3000 kept
    assert table.blank_rows == 0  # YWH is filled, so none of these rows is blank
    assert_text_frame(table)


def test_malformed_date_stays_text(tmp_path: Path) -> None:
    bad = ["2024-13-45 25:61:00", "2024/1/5", "二〇二四年一月五日", "45292", "0000-00-00 00:00:00"]
    rows = [["YWH", "QXDM", "SLSJ"]] + [[f"YW{i}", "420102", v] for i, v in enumerate(bad)]
    path = write_csv(tmp_path / f"{FDCQ}.csv", rows)

    batch = load_batch(tmp_path, TABLES)

    assert values(batch.tables[FDCQ], "SLSJ") == bad
    assert batch.tables[FDCQ].rows == len(bad)
    assert path.exists()


def test_fewer_fields_than_header_are_empty(tmp_path: Path) -> None:
    path = tmp_path / f"{QLR}.csv"
    path.write_text("YWH,QLRMC,DH\nYW1\nYW2,张三\nYW3,李四,13800000000\n", encoding="utf-8")

    table = read_table(path, QLR)

    assert values(table, "QLRMC") == [None, "张三", "李四"]
    assert values(table, "DH") == [None, None, "13800000000"]
    assert table.blank_rows == 0


# ---------------------------------------------------------------------------------------------------
# row numbers and blank rows


def test_csv_row_numbers_skip_blank_lines_and_count_records(tmp_path: Path) -> None:
    path = tmp_path / f"{QLR}.csv"
    text = (
        "YWH,QLRMC\r\n"  # record 1 (header)
        "YW1,张三\r\n"  # 2
        "\r\n"  # 3: blank line
        ",\r\n"  # 4: only empty fields
        " ,\u3000\r\n"  # 5: only whitespace
        'YW2,"多行\r\n地址"\r\n'  # 6: one record on two lines
        "YW3,李四\r\n"  # 7 (physical line 8)
        "\r\n"  # 8: trailing blank line
    )
    path.write_text(text, encoding="utf-8")

    table = read_table(path, QLR)

    assert values(table, ROW_COLUMN) == ["2", "6", "7"]
    assert values(table, "QLRMC") == ["张三", "多行\r\n地址", "李四"]
    assert table.rows == 3
    assert table.blank_rows == 4
    assert table.rows + table.blank_rows == 7  # data records in the file


def test_csv_without_final_newline_and_with_lf_only(tmp_path: Path) -> None:
    path = tmp_path / f"{QLR}.csv"
    path.write_bytes(b"YWH,QLRMC\nYW1,a\n\nYW2,b")

    table = read_table(path, QLR)

    assert values(table, ROW_COLUMN) == ["2", "4"]
    assert values(table, "YWH") == ["YW1", "YW2"]
    assert table.blank_rows == 1


def test_xlsx_cell_conversion_and_trailing_empty_rows(tmp_path: Path) -> None:
    path = tmp_path / f"{FDCQ}.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["YWH", "QXDM", "SLSJ", "RZRQ", "SJ", "JZMJ", "SFYX", "BZ"])
    sheet.append(
        [
            "YW1",
            420102,
            dt.datetime(2024, 1, 5, 13, 4, 5),
            dt.date(2024, 1, 5),
            dt.time(8, 30),
            89.5,
            True,
            12.0,
        ]
    )
    sheet.append(
        ["YW2", "0012", dt.datetime(2024, 2, 29, 0, 0), dt.date(1999, 12, 31), None, 100.25, False, None]
    )
    # row 4 is never written (a gap openpyxl reports as an empty row), row 5 holds data
    sheet.cell(row=5, column=1, value="YW3")
    sheet.cell(row=5, column=3, value="2024-99-99")  # malformed date typed as text
    # trailing empty rows that openpyxl still reports: styled-but-empty cells and a whitespace cell
    fill = PatternFill("solid", fgColor="FFFF00")
    for row in (6, 7, 8):
        sheet.cell(row=row, column=2).fill = fill
    sheet.cell(row=9, column=4, value="  ")
    workbook.save(path)

    table = read_table(path, FDCQ, required=["YWH", "QXDM"])

    assert table.format == "xlsx" and table.encoding is None
    frame = table.frame
    assert values(table, ROW_COLUMN) == ["2", "3", "5"]
    assert values(table, "QXDM") == ["420102", "0012", None]  # number → str(int); text kept
    assert values(table, "SLSJ") == ["2024-01-05 13:04:05", "2024-02-29 00:00:00", "2024-99-99"]
    assert values(table, "RZRQ") == ["2024-01-05", "1999-12-31", None]
    assert values(table, "SJ") == ["08:30:00", None, None]
    assert values(table, "JZMJ") == ["89.5", "100.25", None]
    assert values(table, "SFYX") == ["TRUE", "FALSE", None]
    assert values(table, "BZ") == ["12", None, None]  # integral float → '12'
    assert table.rows == 3
    assert table.blank_rows == 5  # row 4 and rows 6-9
    assert table.extra_columns == ["SLSJ", "RZRQ", "SJ", "JZMJ", "SFYX", "BZ"]
    assert len(frame.columns) == 9
    assert_text_frame(table)


def test_xlsx_empty_header_column_without_values_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / f"{QLR}.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["YWH", None, "QLRMC", None])
    sheet.append(["YW1", None, "张三", "  "])
    sheet.cell(row=3, column=6).fill = PatternFill("solid", fgColor="FFFF00")  # formatted column F
    workbook.save(path)

    table = read_table(path, QLR)

    assert list(table.frame.columns) == ["YWH", "QLRMC", ROW_COLUMN]
    assert table.rows == 1 and table.blank_rows == 1


def test_xlsx_with_a_wrong_stored_dimension_is_read_fully(tmp_path: Path) -> None:
    # some exporters write <dimension ref="A1"/> whatever the sheet holds; read-only openpyxl trusts it
    path = write_xlsx(tmp_path / f"{QLR}.xlsx", [["YWH", "QLRMC"], ["YW1", "张三"], ["YW2", "李四"]])
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet], replaced = re.subn(rb'<dimension ref="A1:B3"\s*/>', b'<dimension ref="A1"/>', parts[sheet])
    assert replaced == 1
    with zipfile.ZipFile(path, "w") as target:
        for name, content in parts.items():
            target.writestr(name, content)

    table = read_table(path, QLR)

    assert values(table, "QLRMC") == ["张三", "李四"]
    assert values(table, ROW_COLUMN) == ["2", "3"]


@pytest.mark.parametrize(
    ("suffix", "where"),
    [(".xlsx", "C"), (".csv", "C")],
)
def test_empty_header_with_values_names_the_column(tmp_path: Path, suffix: str, where: str) -> None:
    path = write_table(
        tmp_path / f"{QLR}{suffix}", ["YWH", "QLRMC", ""], [["YW1", "张三", ""], ["YW2", "李四", "x"]]
    )

    with pytest.raises(UnreadableFileError) as info:
        read_table(path, QLR)

    message = str(info.value)
    assert f"第 {where} 列" in message and f"column {where}" in message
    assert "第 3 行" in message and path.name in message


def test_parquet_types_become_text(tmp_path: Path) -> None:
    path = write_parquet(
        tmp_path / f"{FDCQ}.parquet",
        {
            "YWH": pa.array(["YW1", "YW2", None, "YW4"]),
            "QXDM": pa.array([420102, None, None, 12], pa.int64()),
            "SLSJ": pa.array(
                [
                    dt.datetime(2024, 1, 5, 13, 4, 5),
                    dt.datetime(2024, 2, 29),
                    None,
                    dt.datetime(2024, 3, 1, 0, 0, 1),
                ],
                pa.timestamp("ms"),
            ),
            "RZRQ": pa.array([dt.date(2024, 1, 5), None, None, dt.date(1999, 12, 31)], pa.date32()),
            "JZMJ": pa.array([89.5, 1e-7, None, 120.0], pa.float64()),
            "BDBZZQSE": pa.array(
                [decimal.Decimal("1.50"), decimal.Decimal("1000"), None, decimal.Decimal("0.01")],
                pa.decimal128(12, 2),
            ),
            "SFYX": pa.array([True, False, None, True]),
            "BZ": pa.array(["a", "b", None, "a"]).dictionary_encode(),
        },
    )

    table = read_table(path, FDCQ, required=TABLES[FDCQ])

    assert table.format == "parquet" and table.encoding is None
    assert values(table, ROW_COLUMN) == ["2", "3", "5"]  # the all-null row 4 is blank
    assert table.blank_rows == 1 and table.rows == 3
    assert values(table, "QXDM") == ["420102", None, "12"]
    assert values(table, "SLSJ") == ["2024-01-05 13:04:05", "2024-02-29 00:00:00", "2024-03-01 00:00:01"]
    assert values(table, "RZRQ") == ["2024-01-05", None, "1999-12-31"]
    assert values(table, "JZMJ") == ["89.5", "0.0000001", "120"]
    assert values(table, "BDBZZQSE") == ["1.50", "1000.00", "0.01"]
    assert values(table, "SFYX") == ["TRUE", "FALSE", "TRUE"]
    assert values(table, "BZ") == ["a", "b", "a"]
    assert_text_frame(table)


def test_parquet_nanosecond_timestamp_keeps_its_fraction(tmp_path: Path) -> None:
    path = write_parquet(
        tmp_path / f"{FDCQ}.parquet",
        {
            "YWH": pa.array(["YW1", "YW2"]),
            "SLSJ": pa.array([1_704_416_645_000_000_000, 1_704_416_645_123_000_000], pa.timestamp("ns")),
        },
    )

    table = read_table(path, FDCQ)

    assert values(table, "SLSJ") == ["2024-01-05 01:04:05", "2024-01-05 01:04:05.123"]


# ---------------------------------------------------------------------------------------------------
# headers and columns


@pytest.mark.parametrize("suffix", FORMAT_SUFFIXES)
def test_header_normalisation_and_extra_columns(tmp_path: Path, suffix: str) -> None:
    header = [" ywh ", "QlrMc", "\ufeffDH", "\u3000bz\t"]
    path = write_table(tmp_path / f"{QLR}{suffix}", header, [["YW1", "张三", "13800000000", "note"]])

    table = read_table(path, QLR, required=TABLES[QLR])

    assert list(table.frame.columns) == ["YWH", "QLRMC", "DH", "BZ", ROW_COLUMN]
    assert table.renamed_columns == {" ywh ": "YWH", "QlrMc": "QLRMC", "\ufeffDH": "DH", "\u3000bz\t": "BZ"}
    assert table.extra_columns == ["DH", "BZ"]
    assert values(table, "BZ") == ["note"]  # extra columns are kept


@pytest.mark.parametrize("suffix", FORMAT_SUFFIXES)
def test_duplicate_column_after_normalisation(tmp_path: Path, suffix: str) -> None:
    path = write_table(tmp_path / f"{QLR}{suffix}", ["YWH", "QLRMC", " ywh"], [["YW1", "张三", "YW1"]])

    with pytest.raises(UnreadableFileError) as info:
        read_table(path, QLR)

    assert "YWH" in str(info.value) and "duplicate column" in str(info.value)


def test_reserved_row_column_name(tmp_path: Path) -> None:
    path = write_table(tmp_path / f"{QLR}.csv", ["YWH", "_row"], [["YW1", "7"]])

    with pytest.raises(UnreadableFileError, match=ROW_COLUMN):
        read_table(path, QLR)


@pytest.mark.parametrize("suffix", FORMAT_SUFFIXES)
def test_missing_required_column_names_table_and_column(tmp_path: Path, suffix: str) -> None:
    write_table(tmp_path / f"{QLR}{suffix}", ["YWH", "DH"], [["YW1", "13800000000"]])

    with pytest.raises(MissingColumnError) as info:
        load_batch(tmp_path, TABLES)

    error = info.value
    assert isinstance(error, InputError)
    assert error.table == QLR and error.columns == ["QLRMC"]
    assert QLR in str(error) and "QLRMC" in str(error)
    assert error.path is not None and error.path.name == f"{QLR}{suffix}"


@pytest.mark.parametrize("suffix", FORMAT_SUFFIXES)
def test_header_only_file_is_a_table_with_no_rows(tmp_path: Path, suffix: str) -> None:
    path = write_table(tmp_path / f"{QLR}{suffix}", ["YWH", "QLRMC"], [])

    table = read_table(path, QLR, required=TABLES[QLR])

    assert table.rows == 0 and table.blank_rows == 0
    assert list(table.frame.columns) == ["YWH", "QLRMC", ROW_COLUMN]
    assert table.frame.empty
    assert all(table.frame[c].dtype == object for c in table.frame.columns)


def test_csv_header_only_without_newline(tmp_path: Path) -> None:
    path = tmp_path / f"{QLR}.csv"
    path.write_bytes(b"\xef\xbb\xbfYWH,QLRMC")

    table = read_table(path, QLR)

    assert table.encoding == "utf-8-sig"
    assert table.rows == 0 and list(table.frame.columns) == ["YWH", "QLRMC", ROW_COLUMN]


@pytest.mark.parametrize("data", [b"\n\nYWH,QLRMC\nYW1,a\n", b" , \nYW1,a\n"])
def test_blank_header_row_is_an_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / f"{QLR}.csv"
    path.write_bytes(data)

    with pytest.raises(UnreadableFileError, match="表头"):
        read_table(path, QLR)


# ---------------------------------------------------------------------------------------------------
# unreadable files


@pytest.mark.parametrize("suffix", [*FORMAT_SUFFIXES, ".CSV"])
def test_zero_byte_file_is_unreadable(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"{QLR}{suffix}"
    path.write_bytes(b"")

    with pytest.raises(UnreadableFileError) as info:
        load_batch(tmp_path, TABLES)

    assert "文件为空" in str(info.value) and "file is empty" in str(info.value)
    assert info.value.path == path


def test_bom_only_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / f"{QLR}.csv"
    path.write_bytes(b"\xef\xbb\xbf")

    with pytest.raises(UnreadableFileError, match="file is empty"):
        read_table(path, QLR)


@pytest.mark.parametrize(
    ("data", "line", "fields"),
    [
        (b"YWH,QLRMC\nYW1,a\nYW2,b,c\n", 3, 3),
        (b'YWH,QLRMC\nYW1,"x\ny"\nYW2,b,,c\n', 4, 4),  # record 3 starts on line 4
    ],
)
def test_too_many_fields_names_the_line(tmp_path: Path, data: bytes, line: int, fields: int) -> None:
    path = tmp_path / f"{QLR}.csv"
    path.write_bytes(data)

    with pytest.raises(UnreadableFileError) as info:
        read_table(path, QLR)

    message = str(info.value)
    assert f"第 {line} 行" in message and f"line {line}" in message
    assert f"has {fields} fields but the header has 2" in message
    assert path.name in message


def test_trailing_empty_fields_beyond_header_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / f"{QLR}.csv"
    path.write_bytes(b"YWH,QLRMC\nYW1,a,\nYW2,b, ,\n")

    table = read_table(path, QLR)

    assert list(table.frame.columns) == ["YWH", "QLRMC", ROW_COLUMN]
    assert values(table, "QLRMC") == ["a", "b"]


def test_unclosed_quote_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / f"{QLR}.csv"
    path.write_bytes(b'YWH,QLRMC\nYW1,a\nYW2,"b\nYW3,c\n')

    with pytest.raises(UnreadableFileError) as info:
        read_table(path, QLR)

    assert "第 3 行" in str(info.value) and "line 3" in str(info.value)


@pytest.mark.parametrize(
    ("suffix", "data"),
    [
        (".xlsx", b"this is not a zip file"),
        (".xlsx", b"PK\x03\x04" + b"\x00" * 100),
        (".parquet", b"PAR1 truncated"),
        (".parquet", b"YWH,QLRMC\nYW1,a\n"),
    ],
)
def test_corrupt_binary_file_is_unreadable(tmp_path: Path, suffix: str, data: bytes) -> None:
    path = tmp_path / f"{QLR}{suffix}"
    path.write_bytes(data)

    with pytest.raises(UnreadableFileError) as info:
        read_table(path, QLR)

    assert info.value.path == path
    assert "cannot read" in str(info.value)


def test_unsupported_extension_for_read_table(tmp_path: Path) -> None:
    path = tmp_path / f"{QLR}.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")

    with pytest.raises(UnreadableFileError, match=r"\.xls"):
        read_table(path, QLR)


# ---------------------------------------------------------------------------------------------------
# batches


def test_load_batch_reads_known_tables_and_reports_the_rest(tmp_path: Path) -> None:
    write_csv(tmp_path / "qlt_fw_fdcq_yz.CSV", [["YWH", "QXDM", "SLSJ"], ["YW1", "420102", "2024-01-05"], []])
    write_xlsx(tmp_path / "Ztt_Gy_Qlr.XLSX", [["YWH", "QLRMC"], ["YW1", "张三"], ["YW1", "李四"]])
    (tmp_path / "readme.txt").write_text("notes", encoding="utf-8")
    (tmp_path / "old_export.xls").write_bytes(b"old excel")  # JR_BW.xls would be an error: test_discovery
    (tmp_path / "~$Ztt_Gy_Qlr.XLSX").write_bytes(b"excel lock file")
    (tmp_path / "subfolder").mkdir()

    batch = load_batch(str(tmp_path), {**TABLES, "JR_BW": ["BIZMSGID"]})

    assert isinstance(batch, Batch)
    assert batch.folder == tmp_path
    assert list(batch.tables) == [FDCQ, QLR]
    assert batch.tables[FDCQ].table == FDCQ and batch.tables[FDCQ].path.name == "qlt_fw_fdcq_yz.CSV"
    assert batch.tables[QLR].format == "xlsx"
    assert batch.unknown_files == sorted(["readme.txt", "old_export.xls", "~$Ztt_Gy_Qlr.XLSX"])
    assert batch.absent_tables == ["JR_BW"]
    assert batch.rows_read == 3
    assert batch.tables[FDCQ].blank_rows == 1


def test_load_batch_is_silent_without_progress(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_csv(tmp_path / f"{QLR}.csv", [["YWH", "QLRMC"], ["YW1", "a"]])

    load_batch(tmp_path, TABLES)

    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_load_batch_with_progress(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_csv(tmp_path / f"{QLR}.csv", [["YWH", "QLRMC"], ["YW1", "a"]])

    batch = load_batch(tmp_path, TABLES, progress=True)

    assert batch.rows_read == 1
    captured = capsys.readouterr()
    assert captured.out == ""  # progress goes to stderr
    assert f"{QLR}.csv" in captured.err


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_batch_folder_not_found(tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "batch"
    if kind == "file":
        folder.write_text("not a folder", encoding="utf-8")

    with pytest.raises(BatchNotFoundError) as info:
        load_batch(folder, TABLES)

    assert isinstance(info.value, InputError)
    assert info.value.path == folder
    assert ("不存在" if kind == "missing" else "不是文件夹") in str(info.value)


@pytest.mark.parametrize("files", [[], ["readme.txt"], [f"{FDCQ}.xls", f"{QLR}.txt", "OTHER.csv"]])
def test_no_known_table(tmp_path: Path, files: list[str]) -> None:
    for name in files:
        (tmp_path / name).write_bytes(b"x")

    with pytest.raises(NoKnownTableError) as info:
        load_batch(tmp_path, TABLES)

    message = str(info.value)
    assert f"{FDCQ}.csv" in message and f"{QLR}.csv" in message  # the expected names
    assert all(name in message for name in files)  # and what was found instead


@pytest.mark.parametrize(
    "names",
    [
        [f"{FDCQ}.csv", f"{FDCQ}.xlsx"],
        [f"{FDCQ}.parquet", f"{FDCQ.lower()}.csv"],
        [f"{FDCQ}.csv", f"{FDCQ}.CSV"],
    ],
)
def test_duplicate_table_files(tmp_path: Path, names: list[str]) -> None:
    for name in names:
        write_table(tmp_path / name, TABLES[FDCQ], [["YW1", "420102", "2024-01-05 00:00:00"]])
    write_csv(tmp_path / f"{QLR}.csv", [["YWH", "QLRMC"], ["YW1", "a"]])

    with pytest.raises(InputError) as info:
        load_batch(tmp_path, TABLES)

    assert type(info.value) is InputError
    assert all(name in str(info.value) for name in names)
    assert FDCQ in str(info.value)


# ---------------------------------------------------------------------------------------------------
# helpers and a round-trip property


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, True),
        ("", True),
        (" ", True),
        ("\u3000", True),
        ("\xa0\t", True),
        (float("nan"), True),
        (" a", False),
        ("0", False),
        (0, False),
        ("\u200b", False),
    ],
)
def test_is_empty(value: object, expected: bool) -> None:
    assert is_empty(value) is expected


@pytest.mark.parametrize(
    ("raw", "expected"), [(" ywh ", "YWH"), ("\ufeffQxdm", "QXDM"), ("\u3000dh\t", "DH")]
)
def test_normalise_header(raw: str, expected: str) -> None:
    assert normalise_header(raw) == expected


CELL = st.text(
    alphabet=st.sampled_from(["a", "中", " ", "\u3000", ",", '"', "\n", "\r", "0", "N", "\t"]), max_size=6
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(CELL, min_size=3, max_size=3), max_size=8),
    codec=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
)
def test_csv_round_trip_property(tmp_path: Path, rows: list[list[str]], codec: str) -> None:
    path = write_csv(tmp_path / f"{QLR}.csv", [["YWH", "QLRMC", "DH"], *rows], codec)

    table = read_table(path, QLR)

    expected = [
        (str(number), [None if v.strip() == "" else v for v in row])
        for number, row in enumerate(rows, start=2)
        if any(v.strip() for v in row)
    ]
    assert values(table, ROW_COLUMN) == [number for number, _ in expected]
    assert table.frame[["YWH", "QLRMC", "DH"]].values.tolist() == [cells for _, cells in expected]
    assert table.rows + table.blank_rows == len(rows)
