"""Hostile batch folders and files: every one is either read completely or refused with a clear, bilingual
:class:`~toolkit.errors.InputError` naming the file (and the line, column or sheet) — never a table silently
taken as absent, rows silently lost or text silently garbled. The loader (``dq check``) and the count
engine (:mod:`toolkit.staging`) must agree on each case."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from toolkit.domain import load_domain
from toolkit.engine import count_batches, read_batch_frames
from toolkit.errors import (
    ConfigError,
    CoreTableMissingError,
    InputError,
    MisnamedTableFileError,
    MisplacedTableFileError,
    NoKnownTableError,
    UnreadableFileError,
)
from toolkit.loading import (
    MAX_COLUMNS,
    MAX_FIELD_CHARS,
    UTF8_STRAY_RATIO,
    discover_tables,
    load_batch,
    read_table,
    scan_utf8,
)
from toolkit.staging import discover

DOMAIN = load_domain("bdc")
REQUIRED = DOMAIN.required_columns()
FDCQ, QLR = "QLT_FW_FDCQ_YZ", "ZTT_GY_QLR"
STOCK = {t: REQUIRED[t] for t in DOMAIN.mode_tables("stock")}
CORE = DOMAIN.core_tables("stock")
ROWS = 3  # data records per table file written by make_batch


# ---------------------------------------------------------------------------------------------------
# helpers


def rows_of(table: str, n: int = ROWS) -> list[list[str]]:
    """``n`` data rows of text for ``table`` (distinct, plain values; QXDM a real county)."""
    out = []
    for i in range(n):
        row = []
        for col in REQUIRED[table]:
            row.append("420102" if col == "QXDM" else f"{col}{i}中文")
        out.append(row)
    return out


def csv_bytes(table: str, rows: list[list[str]] | None = None) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\n").writerows([REQUIRED[table], *(rows or rows_of(table))])
    return buffer.getvalue().encode("utf-8")


def make_batch(folder: Path, *, skip: tuple[str, ...] = (FDCQ,)) -> Path:
    """A stock batch of UTF-8 CSV files, one per table, except the tables in ``skip``."""
    folder.mkdir(parents=True, exist_ok=True)
    for table in STOCK:
        if table not in skip:
            (folder / f"{table}.csv").write_bytes(csv_bytes(table))
    return folder


def both(message: str, zh: str, en: str) -> None:
    first, second = message.split("\n", 1)
    assert zh in first, message
    assert en in second, message


@pytest.fixture
def alarm() -> Iterator[None]:
    """Fail (instead of hanging forever) if the test blocks, e.g. by opening a named pipe."""

    def hung(signum: int, frame: object) -> None:
        raise TimeoutError("blocked: a named pipe was opened?")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def engine_frames(folder: Path, mode: str = "stock") -> dict:
    return read_batch_frames(folder, domain=DOMAIN, mode=mode)


# ---------------------------------------------------------------------------------------------------
# 1. discovery: the main table's file exists, but not as a usable, exactly named file


def _fifo(b: Path) -> str:
    os.mkfifo(b / f"{FDCQ}.csv")
    return f"{FDCQ}.csv"


def _dangling(b: Path) -> str:
    os.symlink(b / "gone" / f"{FDCQ}.csv", b / f"{FDCQ}.csv")
    return f"{FDCQ}.csv"


def _directory(b: Path) -> str:
    (b / f"{FDCQ}.csv").mkdir()
    (b / f"{FDCQ}.csv" / "data.csv").write_bytes(csv_bytes(FDCQ))
    return f"{FDCQ}.csv"


def _subfolder(b: Path) -> str:
    (b / "房地产权").mkdir()
    (b / "房地产权" / f"{FDCQ}.csv").write_bytes(csv_bytes(FDCQ))
    return f"房地产权/{FDCQ}.csv"


def _unpacked_twice(b: Path) -> str:  # batch.zip unpacked into batch/, which holds batch/ again
    inner = b / "export" / "export"
    inner.mkdir(parents=True)
    (inner / f"{FDCQ}.csv").write_bytes(csv_bytes(FDCQ))
    return f"export/export/{FDCQ}.csv"


def _named(name: str) -> Callable[[Path], str]:
    def setup(b: Path) -> str:
        (b / name).write_bytes(csv_bytes(FDCQ))
        return name

    return setup


def _fifo_lookalike(b: Path) -> str:
    os.mkfifo(b / f"{FDCQ} .csv")
    return f"{FDCQ} .csv"


UNUSABLE = [
    pytest.param(_fifo, UnreadableFileError, "命名管道", "named pipe", id="fifo"),
    pytest.param(_dangling, UnreadableFileError, "符号链接", "symbolic link", id="dangling-symlink"),
    pytest.param(_directory, UnreadableFileError, "是一个文件夹", "is a folder", id="directory"),
    pytest.param(_subfolder, MisplacedTableFileError, "子文件夹", "subfolder", id="subfolder"),
    pytest.param(_unpacked_twice, MisplacedTableFileError, "子文件夹", "subfolder", id="zip-unpacked-twice"),
    pytest.param(
        _fifo_lookalike, MisnamedTableFileError, "看起来是表", "looks like table", id="fifo-lookalike"
    ),
]

LOOKALIKES = [
    f"{FDCQ} .csv",
    f" {FDCQ}.csv",
    f"{FDCQ}.csv.csv",
    "qlt-fw-fdcq-yz.csv",
    "ＱＬＴ＿ＦＷ＿ＦＤＣＱ＿ＹＺ.csv",  # full-width letters and underscores
    f"{FDCQ}.CSV.xlsx",
    f"{FDCQ}.csv.gz",
    f"{FDCQ}(1).csv",
    f"{FDCQ}_20240305.csv",
    "QLT FW FDCQ YZ.csv",
    f"{FDCQ}\u200b.csv",  # an invisible zero-width space
]
UNSUPPORTED = [f"{FDCQ}.xls", f"{FDCQ}.txt", f"{FDCQ}.json", f"{FDCQ}.zip", f"{FDCQ}.et"]


@pytest.mark.parametrize(("setup", "error", "zh", "en"), UNUSABLE)
def test_unusable_table_file_is_an_input_error(tmp_path, alarm, setup, error, zh, en):
    batch = make_batch(tmp_path / "b")
    shown = setup(batch)

    with pytest.raises(error) as info:
        load_batch(batch, STOCK)  # no core table given: the file itself is the error
    assert isinstance(info.value, InputError)
    both(str(info.value), zh, en)
    assert shown in str(info.value)
    with pytest.raises(error):
        discover(batch, STOCK)  # the engine's discovery is the same function
    with pytest.raises(error):
        engine_frames(batch)


@pytest.mark.parametrize("name", LOOKALIKES)
def test_lookalike_name_is_an_input_error(tmp_path, name):
    batch = make_batch(tmp_path / "b")
    _named(name)(batch)

    with pytest.raises(MisnamedTableFileError) as info:
        load_batch(batch, STOCK, core=CORE)
    message = str(info.value)
    both(message, f"看起来是表 {FDCQ} 的文件", f"looks like table {FDCQ}")
    shown = name.replace("\u200b", "\\u200b")
    assert f"'{shown}'" in message
    assert f"{FDCQ}.csv" in info.value.fix_zh and f"{FDCQ}.csv" in info.value.fix_en
    with pytest.raises(MisnamedTableFileError):
        engine_frames(batch)


@pytest.mark.parametrize("name", UNSUPPORTED)
def test_unsupported_format_of_a_known_table_is_an_input_error(tmp_path, name):
    batch = make_batch(tmp_path / "b")
    (batch / name).write_bytes(b"\xd0\xcf\x11\xe0 not readable here")

    with pytest.raises(MisnamedTableFileError) as info:
        load_batch(batch, STOCK)
    both(str(info.value), f"是表 {FDCQ} 的文件", f"is table {FDCQ}'s file")
    assert name in str(info.value) and Path(name).suffix in str(info.value)
    assert ".xlsx" in info.value.fix_en and f"{FDCQ}.csv" in info.value.fix_zh


@pytest.mark.parametrize(
    "name", [f"{FDCQ} .csv", f"{FDCQ}(1).csv", f"{FDCQ}.xls", f"{FDCQ.lower()}.CSV.xlsx"]
)
def test_lookalike_data_file_beside_the_table_file_is_ambiguous(tmp_path, name):
    batch = make_batch(tmp_path / "b", skip=())
    (batch / name).write_bytes(csv_bytes(FDCQ))

    with pytest.raises(MisnamedTableFileError) as info:
        load_batch(batch, STOCK)
    both(str(info.value), "看起来也是表", "also looks like table")
    assert name in str(info.value) and f"'{FDCQ}.csv'" in str(info.value)


def test_file_names_in_messages_are_escaped(tmp_path):
    batch = make_batch(tmp_path / "b")
    name = f"{FDCQ}\x1b[31m.csv"
    (batch / name).write_bytes(csv_bytes(FDCQ))

    with pytest.raises(MisnamedTableFileError) as info:
        load_batch(batch, STOCK)
    assert "\x1b" not in str(info.value)
    assert f"'{FDCQ}\\x1b[31m.csv'" in str(info.value)


def test_only_lookalikes_is_no_known_table_with_hints(tmp_path):
    (tmp_path / f"{FDCQ} .csv").write_bytes(csv_bytes(FDCQ))
    (tmp_path / f"{QLR}.xls").write_bytes(b"old excel")

    with pytest.raises(NoKnownTableError) as info:
        load_batch(tmp_path, STOCK)
    both(str(info.value), f"看起来是表 {FDCQ} 的文件", f"looks like table {FDCQ}")
    assert f"'{QLR}.xls' looks like table {QLR}" in str(info.value)


# ---------------------------------------------------------------------------------------------------
# 1b. what is not an error: hidden and lock files, checksums, symlinks to files; every row is read


def test_hidden_lock_and_checksum_files_are_unknown_and_every_row_is_read(tmp_path):
    batch = make_batch(tmp_path / "b", skip=(FDCQ, QLR))
    (batch / f"{FDCQ}.csv").write_bytes(csv_bytes(FDCQ, [*rows_of(FDCQ, 5), [""] * len(REQUIRED[FDCQ])]))
    target = tmp_path / "elsewhere.csv"
    target.write_bytes(csv_bytes(QLR))
    os.symlink(target, batch / f"{QLR}.csv")  # a symbolic link to a regular file is fine
    others = [
        ".DS_Store",
        f"._{FDCQ}.csv",
        f".~lock.{FDCQ}.csv#",
        f"~${FDCQ}.xlsx",
        f"{FDCQ}.csv.md5",
        "说明.docx",
    ]
    for name in others:
        (batch / name).write_bytes(b"x")
    (batch / ".hidden").mkdir()
    (batch / ".hidden" / f"{FDCQ}.csv").write_bytes(csv_bytes(FDCQ))
    (batch / "__MACOSX").mkdir()

    loaded = load_batch(batch, STOCK, core=CORE)

    assert sorted(loaded.unknown_files) == sorted(others)
    assert set(loaded.tables) == set(STOCK)
    table = loaded.tables[FDCQ]
    assert table.rows == 5 and table.blank_rows == 1  # rows + blank_rows == records in the file
    assert loaded.tables[QLR].rows + loaded.tables[QLR].blank_rows == ROWS
    files, unknown, absent = discover(batch, STOCK, core=CORE)
    assert files == {code: t.path for code, t in loaded.tables.items()} and unknown == loaded.unknown_files
    assert absent == []
    assert len(engine_frames(batch)[FDCQ]) == 5


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("JR_BW接入报文说明.pdf", None),  # a document about the table, not the table
        ("JR_BW_notes.docx", None),
        ("JR_BW_0305.zip", MisnamedTableFileError),  # an archive may hold the table: unpack it
        ("JR_BW(1).csv", MisnamedTableFileError),
        ("JR_BW.pdf", MisnamedTableFileError),  # the table's own name, a format that cannot be read
    ],
)
def test_decorated_names_count_only_for_data_files_and_archives(tmp_path, name, error):
    batch = make_batch(tmp_path / "b", skip=("JR_BW",))
    (batch / name).write_bytes(b"x")

    if error is None:
        loaded = load_batch(batch, STOCK, core=CORE)
        assert loaded.unknown_files == [name] and loaded.absent_tables == ["JR_BW"]
    else:
        with pytest.raises(error) as info:
            load_batch(batch, STOCK, core=CORE)
        assert f"'{name}'" in str(info.value) and "JR_BW" in str(info.value)


def test_table_present_at_top_ignores_copies_in_subfolders(tmp_path):
    batch = make_batch(tmp_path / "b", skip=())
    (batch / "old").mkdir()
    (batch / "old" / f"{FDCQ}.csv").write_bytes(csv_bytes(FDCQ, rows_of(FDCQ, 9)))

    assert load_batch(batch, STOCK, core=CORE).tables[FDCQ].rows == ROWS


def test_folder_of_batches_is_named_as_such(tmp_path):
    for day in ("2024-03-04", "2024-03-05"):
        make_batch(tmp_path / day, skip=())

    with pytest.raises(MisplacedTableFileError) as info:
        load_batch(tmp_path, STOCK)
    both(str(info.value), "多个批次", "folder of batches")
    assert f"2024-03-04/{FDCQ}.csv" in str(info.value)


# ---------------------------------------------------------------------------------------------------
# 2. core tables


def test_core_tables_of_the_domain():
    assert DOMAIN.core_tables("stock") == [FDCQ]
    assert DOMAIN.core_tables("incremental") == [FDCQ]
    modes = {m: {k: v for k, v in spec.items() if k != "core"} for m, spec in DOMAIN.config["modes"].items()}
    plain = dataclasses.replace(DOMAIN, config={**DOMAIN.config, "modes": modes})
    assert plain.core_tables("stock") == []  # no core: list → none
    wrong = dataclasses.replace(
        DOMAIN, config={**DOMAIN.config, "modes": {"stock": {**modes["stock"], "core": ["DJ_DBRZ"]}}}
    )
    with pytest.raises(ConfigError):
        wrong.core_tables("stock")


def test_missing_core_table_is_an_input_error(tmp_path):
    batch = make_batch(tmp_path / "b")

    with pytest.raises(CoreTableMissingError) as info:
        load_batch(batch, STOCK, core=CORE)
    both(str(info.value), f"批次缺少主表 {FDCQ}", f"lacks its core table(s) {FDCQ}")
    assert info.value.path == batch and info.value.tables == [FDCQ]
    assert load_batch(batch, STOCK).absent_tables == [FDCQ]  # without core: absent, as before
    with pytest.raises(CoreTableMissingError):
        count_batches(batch, domain=DOMAIN, mode="stock")
    assert FDCQ not in engine_frames(batch)  # the debugging reader reads what there is


def test_engine_names_the_day_batch_without_its_core_table(tmp_path, bdc_kit):
    tables = bdc_kit.valid_tables(bdc_kit.districts(1))
    bdc_kit.write_batch(tmp_path / "days" / "2024-03-04", tables)
    bdc_kit.write_batch(tmp_path / "days" / "2024-03-05", tables, skip=(FDCQ,))

    with pytest.raises(CoreTableMissingError) as info:
        count_batches(tmp_path / "days", domain=DOMAIN)
    assert info.value.path == tmp_path / "days" / "2024-03-05"
    assert "2024-03-05" in str(info.value)


def test_every_sample_batch_has_its_core_tables(tmp_path):
    from toolkit.samples import generate_sample

    generate_sample("bdc", tmp_path, seed=3, districts=2, days=2, stock_rows=40)
    batches = {"stock": [tmp_path / "stock"], "incremental": sorted((tmp_path / "incremental").iterdir())}
    for mode, folders in batches.items():
        required = {t: REQUIRED[t] for t in DOMAIN.mode_tables(mode)}
        for folder in folders:
            found = discover_tables(folder, required, core=DOMAIN.core_tables(mode))
            assert set(DOMAIN.core_tables(mode)) <= set(found.files)


def test_dq_check_refuses_a_lookalike_name_and_writes_nothing(tmp_path):
    batch = make_batch(tmp_path / "b")
    (batch / f"{FDCQ} .csv").write_bytes(csv_bytes(FDCQ))
    out = tmp_path / "out"
    dq = Path(sys.executable).with_name("dq")

    res = subprocess.run(
        [str(dq), "check", "--domain", "bdc", "--mode", "stock", "--input", str(batch), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "2000"},
    )

    assert res.returncode == 2, res.stdout + res.stderr
    shown = " ".join(res.stderr.split())
    assert f"'{FDCQ} .csv' looks like table {FDCQ}" in shown
    assert f"看起来是表 {FDCQ} 的文件" in shown
    for name in ("counts.csv", "problems.csv", "summary.json"):
        assert not (out / name).exists()


# ---------------------------------------------------------------------------------------------------
# 3. xlsx: the table is the first sheet; rows anywhere else are an error


def write_workbook(path: Path, sheets: dict[str, list[list[object]]], hidden: tuple[str, ...] = ()) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
        if title in hidden:
            sheet.sheet_state = "hidden"
    workbook.save(path)
    return path


@pytest.mark.parametrize("hidden", [(), ("续表",)])
def test_rows_on_a_second_sheet_are_an_error(tmp_path, hidden):
    batch = make_batch(tmp_path / "b", skip=(FDCQ, QLR))
    (batch / f"{FDCQ}.csv").write_bytes(csv_bytes(FDCQ))
    rows = rows_of(QLR, 5)
    write_workbook(
        batch / f"{QLR}.xlsx",
        {"权利人": [REQUIRED[QLR], *rows[:2]], "续表": rows[2:], "空表": [[None, "  "]]},
        hidden,
    )

    with pytest.raises(UnreadableFileError) as info:
        load_batch(batch, STOCK, core=CORE)
    message = str(info.value)
    both(message, "表格数据只能放在第一个工作表", "the table must be on the first sheet only")
    assert info.value.path == batch / f"{QLR}.xlsx"
    if hidden:
        assert "'续表'（隐藏）有 3 行" in message and "'续表' (hidden): 3 row(s)" in message
    else:
        assert "'续表'有 3 行" in message and "'续表': 3 row(s)" in message
    assert "空表" not in message  # a sheet with only empty cells is fine
    assert "1,048,576" in info.value.fix_en
    with pytest.raises(UnreadableFileError, match="first sheet"):
        engine_frames(batch)


def test_empty_other_sheets_are_fine_and_every_row_is_read(tmp_path):
    batch = make_batch(tmp_path / "b", skip=(FDCQ, QLR))
    (batch / f"{FDCQ}.csv").write_bytes(csv_bytes(FDCQ))
    write_workbook(batch / f"{QLR}.xlsx", {"权利人": [REQUIRED[QLR], *rows_of(QLR, 4)], "Sheet2": []})

    table = load_batch(batch, STOCK, core=CORE).tables[QLR]
    assert table.rows + table.blank_rows == 4
    assert len(engine_frames(batch)[QLR]) == 4


# ---------------------------------------------------------------------------------------------------
# 4. limits: header width, long values


def test_header_wider_than_the_limit_is_an_error(tmp_path):
    batch = make_batch(tmp_path / "b", skip=())
    header = REQUIRED[FDCQ] + [f"X{i}" for i in range(1_000_000)]
    (batch / f"{FDCQ}.csv").write_text(",".join(header) + "\n", encoding="utf-8")

    with pytest.raises(UnreadableFileError) as info:
        load_batch(batch, STOCK)
    both(str(info.value), f"{len(header):,} 列", f"{len(header):,} columns")
    assert f"{MAX_COLUMNS:,}" in str(info.value) and info.value.path == batch / f"{FDCQ}.csv"
    with pytest.raises(UnreadableFileError, match="columns"):
        engine_frames(batch)


def test_xlsx_header_width_counts_up_to_the_last_non_empty_cell(tmp_path):
    from openpyxl.styles import Font

    batch = make_batch(tmp_path / "b", skip=(FDCQ, QLR))
    (batch / f"{FDCQ}.csv").write_bytes(csv_bytes(FDCQ))
    path = write_workbook(batch / f"{QLR}.xlsx", {"Sheet1": [REQUIRED[QLR], *rows_of(QLR, 2)]})
    workbook = openpyxl.load_workbook(path)
    for column in range(len(REQUIRED[QLR]) + 1, MAX_COLUMNS + 500):
        workbook.active.cell(row=1, column=column).font = Font(bold=True)  # formatted, empty
    workbook.save(path)

    assert load_batch(batch, STOCK, core=CORE).tables[QLR].rows == 2
    assert len(engine_frames(batch)[QLR]) == 2

    workbook.active.cell(row=1, column=MAX_COLUMNS + 1, value="X")
    workbook.save(path)
    with pytest.raises(UnreadableFileError) as info:
        load_batch(batch, STOCK)
    both(str(info.value), f"表头有 {MAX_COLUMNS + 1:,} 列", f"the header has {MAX_COLUMNS + 1:,} columns")
    with pytest.raises(UnreadableFileError, match="columns"):
        engine_frames(batch)


def test_header_at_the_limit_is_read(tmp_path):
    path = tmp_path / f"{QLR}.csv"
    header = REQUIRED[QLR] + [f"X{i}" for i in range(MAX_COLUMNS - len(REQUIRED[QLR]))]
    path.write_text(",".join(header) + "\n" + ",".join(["a"] * MAX_COLUMNS) + "\n", encoding="utf-8")

    table = read_table(path, QLR, required=REQUIRED[QLR])
    assert table.rows == 1 and len(table.frame.columns) == MAX_COLUMNS + 1


@pytest.mark.parametrize("size", [128 * 1024, 1024 * 1024])
def test_long_values_are_read_by_loader_and_engine(tmp_path, size):
    batch = make_batch(tmp_path / "b", skip=())
    rows = rows_of(FDCQ)
    column = REQUIRED[FDCQ].index("FDZL")
    rows[1][column] = "长" * size
    (batch / f"{FDCQ}.csv").write_bytes(csv_bytes(FDCQ, rows))

    table = load_batch(batch, STOCK, core=CORE).tables[FDCQ]
    assert table.rows + table.blank_rows == ROWS
    assert len(table.frame["FDZL"].iloc[1]) == size
    frame = engine_frames(batch)[FDCQ]
    assert sorted(len(v) for v in frame["FDZL"]) == sorted(len(v) for v in table.frame["FDZL"])


def test_value_beyond_the_field_limit_names_the_line(tmp_path):
    path = tmp_path / f"{QLR}.csv"
    body = b'YWH,QLRMC\nYW1,a\nYW2,"unclosed' + b"x" * (MAX_FIELD_CHARS + 10) + b"\nYW3,c\n"
    path.write_bytes(body)

    with pytest.raises(UnreadableFileError) as info:
        read_table(path, QLR)
    both(str(info.value), "第 3 行", "line 3")
    both(str(info.value), f"长于 {MAX_FIELD_CHARS:,} 个字符", f"longer than {MAX_FIELD_CHARS:,} characters")
    assert "quote" in info.value.fix_en and "field limit" not in str(info.value)


# ---------------------------------------------------------------------------------------------------
# 5. UTF-8 with a few damaged bytes is refused, genuine GB18030 is read


def stray_utf8() -> tuple[bytes, int]:
    """A ZTT_GY_QLR file: UTF-8 Chinese text with two stray bytes that, as a whole, *also* decodes as
    GB18030 (into garbage): every Chinese run is an even number of bytes, and so are the stray ones."""
    width = len(REQUIRED[QLR])
    lines = [",".join(REQUIRED[QLR])] + [
        ",".join([f"YW{i:03d}"] + ["中文名称"] * (width - 1)) for i in range(8)
    ]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    cut = data.index(b"\n", len(lines[0]) + 200)
    return data[:cut] + b"\xb7\xc9" + data[cut:], data[:cut].count(b"\n") + 1


def test_utf8_with_two_stray_bytes_is_refused_naming_the_line(tmp_path):
    data, line = stray_utf8()
    data.decode("gb18030")  # the trap: a GB18030 decoder accepts it
    batch = make_batch(tmp_path / "b", skip=(FDCQ, QLR))
    (batch / f"{FDCQ}.csv").write_bytes(csv_bytes(FDCQ))
    (batch / f"{QLR}.csv").write_bytes(data)

    with pytest.raises(UnreadableFileError) as info:
        load_batch(batch, STOCK)
    message = str(info.value)
    both(message, f"文件基本是 UTF-8，但有 2 个无效字节：第 {line} 行有 2 个", f"line {line} has 2")
    both(message, "b7 c9", "the file is UTF-8 except for 2 invalid byte(s)")
    assert info.value.path == batch / f"{QLR}.csv"
    with pytest.raises(UnreadableFileError, match="UTF-8 except"):
        read_batch_frames(batch, domain=DOMAIN, mode="stock")


@pytest.mark.parametrize("codec", ["gb18030", "gbk"])
def test_genuine_gb18030_chinese_is_still_read(tmp_path, codec):
    rows = [
        [f"YW{i}", name] for i, name in enumerate(["张三", "李四", "王小明", "湖北省武汉市江岸区中山大道1号"])
    ]
    text = "YWH,QLRMC\n" + "".join(f"{a},{b}\n" for a, b in rows)
    path = tmp_path / f"{QLR}.csv"
    path.write_bytes(text.encode(codec))

    table = read_table(path, QLR)
    assert table.encoding == "gb18030" and table.frame["QLRMC"].tolist() == [b for _, b in rows]
    assert table.rows + table.blank_rows == len(rows)


def test_mojibake_heuristic_margins():
    sample = "".join(f"{i},湖北省武汉市江岸区中山大道{i}号,张三,王小明,抵押权人\n" for i in range(200))
    gb = scan_utf8([sample.encode("gb18030")])
    assert not gb.ok and not gb.stray
    assert not gb.complete or gb.multibyte < gb.invalid  # GB18030 text is mostly ill-formed as UTF-8
    one_line = scan_utf8(["1,张三\n".encode("gb18030")])
    assert not one_line.stray
    good = sample.encode("utf-8")
    assert scan_utf8([good]).ok
    cut = good.index(b"\n", 400) + 1
    damaged = good[:cut] + b"\xff" + good[cut:]
    scan = scan_utf8([damaged[i : i + 7] for i in range(0, len(damaged), 7)])  # chunked, as staging reads
    assert scan.stray and scan.invalid == 1 and scan.ranges == [(cut, cut + 1)]
    assert scan.multibyte >= UTF8_STRAY_RATIO
    few = "1,中文\n".encode() + b"\xb7\xc9"  # too little UTF-8 to tell: tried as GB18030
    assert not scan_utf8([few]).stray


# ---------------------------------------------------------------------------------------------------
# 6. NUL bytes and control characters in messages


@pytest.mark.parametrize(
    ("data", "line", "hint"),
    [
        (b"YWH,QLRMC\nYW1,a\nYW2,b\x00c\n", 3, "damaged"),
        ("YWH,QLRMC\r\nYW1,张三\r\n".encode("utf-16-le"), 1, "UTF-16"),
    ],
)
def test_nul_bytes_are_refused_naming_the_line(tmp_path, data, line, hint):
    batch = make_batch(tmp_path / "b", skip=(FDCQ, QLR))
    (batch / f"{FDCQ}.csv").write_bytes(csv_bytes(FDCQ))
    (batch / f"{QLR}.csv").write_bytes(data)

    with pytest.raises(UnreadableFileError) as info:
        load_batch(batch, {**STOCK, QLR: []})
    both(str(info.value), f"第 {line} 行", f"line {line}")
    both(str(info.value), "NUL", hint)
    assert info.value.path == batch / f"{QLR}.csv"
    with pytest.raises(UnreadableFileError, match="NUL"):
        read_batch_frames(batch, domain=DOMAIN, mode="stock")


def test_values_quoted_in_messages_are_escaped_and_cut(tmp_path):
    path = tmp_path / f"{QLR}.csv"
    secret = "420102198506120012"
    path.write_text(f"YWH,QLRMC\nYW1,a,\x1b[2J{secret}\n", encoding="utf-8")

    with pytest.raises(UnreadableFileError) as info:
        read_table(path, QLR)
    message = str(info.value)
    both(message, "第 2 行有 3 个字段", "line 2 has 3 fields")
    assert "\x1b" not in message and "\\x1b" in message
    assert secret not in message and "'\\x1b[2J42…' (22 characters)" in message


# ---------------------------------------------------------------------------------------------------
# 7. numbers stored as numbers in xlsx / parquet


def test_xlsx_numeric_and_lossy_columns(tmp_path):
    path = write_workbook(
        tmp_path / f"{QLR}.xlsx",
        {
            "Sheet1": [
                ["YWH", "ZJH", "QLBL", "SXH", "DH", "BZ"],
                ["YW1", 4.20102198506121e17, 60.5, 1, "13800000000", True],
                ["YW2", "420102198506120012", 40, 2, None, None],
                ["YW3", 420102198506, 0.25, 3, None, None],
            ]
        },
    )

    table = read_table(path, QLR)
    assert table.numeric_columns == {"ZJH": 2, "QLBL": 3, "SXH": 3}
    assert table.lossy_columns == ["ZJH"]
    assert table.rows + table.blank_rows == 3


def test_parquet_numeric_and_lossy_columns(tmp_path):
    path = tmp_path / f"{QLR}.parquet"
    pq.write_table(
        pa.table(
            {
                "YWH": ["YW1", "YW2", "YW3"],
                "ZJH": pa.array([4.20102198506121e17, None, 1.0], pa.float64()),
                "SXH": pa.array([1, 2, None], pa.int64()),
                "QLBL": pa.array([0.5, 60.0, None], pa.float64()),
                "DH": ["1", None, "2"],
            }
        ),
        path,
    )

    table = read_table(path, QLR)
    assert table.numeric_columns == {"ZJH": 2, "SXH": 2, "QLBL": 2}
    assert table.lossy_columns == ["ZJH"]


def test_csv_has_no_numeric_columns(tmp_path):
    path = tmp_path / f"{QLR}.csv"
    path.write_bytes(csv_bytes(QLR))

    table = read_table(path, QLR)
    assert table.numeric_columns == {} and table.lossy_columns == []


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1 << 16, 1 << 20])
def test_scan_utf8_is_the_same_in_any_chunks(size):
    text = "".join(f"{i},中文名称,湖北\n" for i in range(3000)).encode("utf-8")
    bad = [1000, 20_001, 65_536, len(text) - 3]
    data = bytearray(text)
    for at in bad:
        data[at] = 0xFF
    data = bytes(data)
    whole = scan_utf8([data])
    chunked = scan_utf8([data[i : i + size] for i in range(0, len(data), size)])
    assert whole == chunked
    assert not whole.ok and whole.complete and whole.stray
    assert all(any(start <= at < end for start, end in whole.ranges) for at in bad)
