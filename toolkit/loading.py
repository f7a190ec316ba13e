"""Reading a batch: one folder, one file per table (``<TABLE_CODE>.csv``, ``.xlsx`` or ``.parquet``).

Everything is read as **text**. Each table becomes a :class:`LoadedTable` whose ``frame`` holds, in every
column, either a Python ``str`` or ``None`` (object dtype). ``None`` is the *only* representation of an
empty cell; empty means the empty string or only whitespace (``str.isspace``: includes tabs, the NBSP
U+00A0 and the full-width space U+3000). Non-empty values are kept exactly as written, surrounding spaces
included: flagging them is the rules' job, not the loader's.

Row numbers. The frame gets a column ``_ROW`` (text of an int): the row a user sees when the file is
opened in Excel/WPS. The header is row 1, so the first data row is 2.

* xlsx: the worksheet row number.
* csv: the 1-based number of the CSV *record* (the header is record 1). A quoted value that spans
  several physical lines is one record, so ``_ROW`` counts records, not lines; Excel shows the record the
  same way. A blank line is a record of its own (Excel shows it as an empty row).
* parquet: position + 2, as if the table had been exported to a sheet with a header row.

Rows in which every cell is empty are skipped and counted in :attr:`LoadedTable.blank_rows` (never
silently dropped); ``_ROW`` of later rows still points at their real position. ``rows + blank_rows`` is
the number of data records in the file.

Errors are :class:`~toolkit.errors.InputError` subclasses; each names the file and, where it applies,
the column, row or byte at fault, and says what to do.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import math
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.errors import (
    BatchNotFoundError,
    InputError,
    MissingColumnError,
    NoKnownTableError,
    UnreadableFileError,
)

__all__ = [
    "FORMATS",
    "ROW_COLUMN",
    "Batch",
    "LoadedTable",
    "is_empty",
    "load_batch",
    "normalise_header",
    "read_table",
]

#: File extension (lower case) → format name.
FORMATS: dict[str, str] = {".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet"}

#: Name of the row-number column added to every frame.
ROW_COLUMN = "_ROW"

_UTF8_BOM = b"\xef\xbb\xbf"
_FIX_UTF8_ZH = "请用 Excel/WPS 或文本编辑器将文件另存为“CSV UTF-8”格式后重试。"
_FIX_UTF8_EN = "save the file as 'CSV UTF-8' from Excel/WPS or a text editor and try again."
_PANDAS_INDEX = re.compile(r"__index_level_\d+__")

#: A data record as read: (row number as the user sees it, raw cell values).
_Record = tuple[int, list[Any]]
#: Row number → (Chinese, English) description of where that row is in the file.
_Locator = Callable[[int], tuple[str, str]]


@dataclass
class LoadedTable:
    """One table file read as text."""

    table: str
    """Upper-case table code, e.g. ``QLT_FW_FDCQ_YZ``."""
    path: Path
    format: str
    """``'csv'``, ``'xlsx'`` or ``'parquet'``."""
    encoding: str | None
    """For csv ``'utf-8'``, ``'utf-8-sig'`` or ``'gb18030'``; ``None`` otherwise."""
    frame: pd.DataFrame
    """Object dtype; values are ``str`` or ``None``; plus the column ``_ROW``."""
    rows: int
    """Data rows in ``frame``."""
    blank_rows: int
    """Fully blank data rows that were skipped."""
    extra_columns: list[str] = field(default_factory=list)
    """Columns not in the required list (kept in the frame), in file order."""
    renamed_columns: dict[str, str] = field(default_factory=dict)
    """Header as written → normalised name, for every header that normalisation changed."""


@dataclass
class Batch:
    """A folder of table files, read."""

    folder: Path
    tables: dict[str, LoadedTable]
    """Only the tables present, in the order of the ``tables`` mapping given to :func:`load_batch`."""
    unknown_files: list[str]
    """Names of files in the folder that are not known tables (ignored), sorted."""
    rows_read: int
    """Sum of :attr:`LoadedTable.rows`."""
    absent_tables: list[str] = field(default_factory=list)
    """Known table codes with no file in the folder (their rules are *not evaluated*)."""


# ---------------------------------------------------------------------------------------------------
# small helpers


def is_empty(value: object) -> bool:
    """True for ``None``, NaN, the empty string and whitespace-only text (incl. U+3000 and U+00A0)."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, float):
        return math.isnan(value)
    return False


def normalise_header(name: str) -> str:
    """Header as a field code: stray BOMs removed, surrounding whitespace stripped, upper case."""
    return name.replace("\ufeff", "").strip().upper()


def _column_letter(index: int) -> str:
    """0-based column index → Excel letter (0 → A, 26 → AA)."""
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _fraction(microseconds: int, nanoseconds: int = 0) -> str:
    total = microseconds * 1000 + nanoseconds
    return "." + f"{total:09d}".rstrip("0") if total else ""


def _date_text(v: dt.date) -> str:
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d}"


def _time_text(v: dt.time | dt.datetime) -> str:
    return f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}" + _fraction(
        v.microsecond, getattr(v, "nanosecond", 0)
    )


def _float_text(v: float) -> str | None:
    if math.isnan(v):
        return None
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v.is_integer():
        return str(int(v))
    text = repr(v)
    if "e" in text or "E" in text:  # shortest round-trip digits, written without an exponent
        text = format(decimal.Decimal(text), "f")
    return text


def _to_text(v: Any) -> str | None:
    """A cell value read by openpyxl or pyarrow → text (or ``None``). Raises TypeError on nested values."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _float_text(v)
    if isinstance(v, decimal.Decimal):
        return None if v.is_nan() else format(v, "f")
    if isinstance(v, dt.datetime):  # before date: datetime is a date
        return f"{_date_text(v)} {_time_text(v)}"
    if isinstance(v, dt.date):
        return _date_text(v)
    if isinstance(v, dt.time):
        return _time_text(v)
    if isinstance(v, dt.timedelta):
        seconds = int(v.total_seconds())
        sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
        return f"{sign}{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if isinstance(v, bytes):
        return v.decode("utf-8")
    raise TypeError(f"unsupported value type {type(v).__name__}")


# ---------------------------------------------------------------------------------------------------
# CSV


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _decode(path: Path, data: bytes) -> tuple[str, str]:
    """Decode the whole file once: UTF-8 with BOM, else UTF-8, else GB18030."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFileError(
            "文件是 UTF-16 编码（Excel 的“Unicode 文本”），不受支持。",
            "the file is UTF-16 encoded (Excel 'Unicode text'), which is not supported.",
            path=path,
            fix_zh=_FIX_UTF8_ZH,
            fix_en=_FIX_UTF8_EN,
        )
    if data.startswith(_UTF8_BOM):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            bad = data[exc.start : exc.start + 4].hex(" ")
            raise UnreadableFileError(
                f"文件以 UTF-8 BOM 开头，但第 {_line_of(data, exc.start)} 行（字节偏移 {exc.start}，"
                f"字节 {bad}）不是有效的 UTF-8。",
                f"the file starts with a UTF-8 BOM but line {_line_of(data, exc.start)} (byte offset "
                f"{exc.start}, bytes {bad}) is not valid UTF-8.",
                path=path,
                fix_zh=_FIX_UTF8_ZH,
                fix_en=_FIX_UTF8_EN,
            ) from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_exc:
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError as gb_exc:
            u, g = utf8_exc.start, gb_exc.start
            bad = data[g : g + 4].hex(" ")
            raise UnreadableFileError(
                f"无法识别文件编码：既不是 UTF-8（第 {_line_of(data, u)} 行、字节偏移 {u} 处无效），"
                f"也不是 GB18030/GBK（第 {_line_of(data, g)} 行、字节偏移 {g} 处无效，字节 {bad}）。",
                f"cannot decode the file: it is neither UTF-8 (invalid at line {_line_of(data, u)}, byte "
                f"offset {u}) nor GB18030/GBK (invalid at line {_line_of(data, g)}, byte offset {g}, "
                f"bytes {bad}).",
                path=path,
                fix_zh=_FIX_UTF8_ZH,
                fix_en=_FIX_UTF8_EN,
            ) from gb_exc


def _where_csv(starts: list[int]) -> _Locator:
    def locate(record: int) -> tuple[str, str]:
        line = starts[record - 1]
        if line == record:
            return f"第 {line} 行", f"line {line}"
        return f"第 {line} 行（第 {record} 条记录）", f"line {line} (record {record})"

    return locate


def _read_csv(path: Path, data: bytes) -> tuple[str, list[str | None], list[_Record], _Locator]:
    text, encoding = _decode(path, data)
    if text == "":
        raise UnreadableFileError(
            "文件为空（只有 BOM）。",
            "file is empty (only a BOM).",
            path=path,
            fix_zh="请重新导出该表（至少包含表头行）。",
            fix_en="export the table again (at least the header row).",
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    starts: list[int] = []  # physical line on which each record starts
    records: list[_Record] = []
    header: list[str | None] = []
    previous_line = 0
    try:
        for number, fields in enumerate(reader, start=1):
            starts.append(previous_line + 1)
            previous_line = reader.line_num
            if number == 1:
                header = list(fields)
                continue
            if len(fields) > len(header):
                extra = fields[len(header) :]
                if not all(is_empty(v) for v in extra):
                    zh, en = _where_csv(starts)(number)
                    raise UnreadableFileError(
                        f"{zh}有 {len(fields)} 个字段，多于表头的 {len(header)} 个（多出的值："
                        f"{next(v for v in extra if not is_empty(v))!r}）。",
                        f"{en} has {len(fields)} fields but the header has {len(header)} (first extra "
                        f"value: {next(v for v in extra if not is_empty(v))!r}).",
                        path=path,
                        fix_zh="请检查该行是否有多余的逗号，含逗号的值需用英文双引号括起来。",
                        fix_en="check that line for a stray comma; a value containing a comma must be "
                        'enclosed in double quotes (").',
                    )
                fields = fields[: len(header)]  # trailing empty fields: an empty, header-less column
            records.append((number, fields))
    except csv.Error as exc:
        line = previous_line + 1
        raise UnreadableFileError(
            f"第 {line} 行起的内容无法按 CSV 解析：{exc}。",
            f"cannot parse the CSV from line {line} on: {exc}.",
            path=path,
            fix_zh='请检查该行的英文双引号是否成对；值中的双引号需写成两个（""）。',
            fix_en="check that the double quotes on that line are balanced; a quote inside a value is "
            'written twice ("").',
        ) from exc
    return encoding, header, records, _where_csv(starts)


# ---------------------------------------------------------------------------------------------------
# XLSX


def _unreadable_xlsx(path: Path, exc: BaseException) -> UnreadableFileError:
    return UnreadableFileError(
        f"无法读取 Excel 文件（文件损坏、加密或不是 .xlsx 格式）：{type(exc).__name__}: {exc}",
        f"cannot read the Excel file (corrupt, password-protected or not really .xlsx): "
        f"{type(exc).__name__}: {exc}",
        path=path,
        fix_zh="请用 Excel/WPS 打开并另存为 .xlsx（不设密码）或 CSV UTF-8 后重试。",
        fix_en="open it in Excel/WPS and save it again as .xlsx (without password) or CSV UTF-8.",
    )


def _read_xlsx(path: Path) -> tuple[list[str | None], list[_Record], _Locator]:
    import openpyxl
    from openpyxl.styles.numbers import is_datetime

    def cell_text(cell: Any) -> str | None:
        v = cell.value
        if (
            isinstance(v, dt.datetime)
            and v.time() == dt.time(0)
            and is_datetime(getattr(cell, "number_format", None) or "General") == "date"
        ):
            return _date_text(v)  # a date-only cell: show what Excel shows
        return _to_text(v)

    try:
        with warnings.catch_warnings():  # openpyxl warns about styles/extensions it drops; never print
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise _unreadable_xlsx(path, exc) from exc
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if not workbook.worksheets:
                raise UnreadableFileError("工作簿中没有工作表。", "the workbook has no worksheet.", path=path)
            sheet = workbook.worksheets[0]
            sheet.reset_dimensions()  # do not trust the stored dimension: read every row there is
            rows = [[cell_text(c) for c in row] for row in sheet.iter_rows()]
    except InputError:
        raise
    except Exception as exc:
        raise _unreadable_xlsx(path, exc) from exc
    finally:
        workbook.close()
    if not rows:
        raise UnreadableFileError(
            "第一个工作表是空的。",
            "the first worksheet is empty.",
            path=path,
            fix_zh="请把数据放在第一个工作表，第 1 行为表头（字段代码）。",
            fix_en="put the data on the first worksheet with the field codes in row 1.",
        )
    records = [(number, values) for number, values in enumerate(rows[1:], start=2)]
    return rows[0], records, lambda row: (f"第 {row} 行", f"row {row}")


# ---------------------------------------------------------------------------------------------------
# Parquet


def _read_parquet(path: Path) -> tuple[list[str | None], list[_Record], _Locator]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise UnreadableFileError(
            f"无法读取 Parquet 文件（文件损坏或不是 Parquet 格式）：{type(exc).__name__}: {exc}",
            f"cannot read the Parquet file (corrupt or not Parquet): {type(exc).__name__}: {exc}",
            path=path,
            fix_zh="请重新导出该表。",
            fix_en="export the table again.",
        ) from exc
    header: list[str | None] = []
    columns: list[list[str | None]] = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        if _PANDAS_INDEX.fullmatch(name):
            continue  # a pandas index written along with the data, not a field
        kind = column.type
        try:
            if pa.types.is_string(kind) or pa.types.is_large_string(kind):
                values = column.to_pylist()
            elif pa.types.is_integer(kind):
                values = column.cast(pa.string()).to_pylist()
            elif pa.types.is_nested(kind):
                raise TypeError(f"nested type {kind}")
            else:
                values = [_to_text(v) for v in column.to_pylist()]
        except (TypeError, ValueError, pa.ArrowException) as exc:
            raise UnreadableFileError(
                f"列 {name} 的类型 {kind} 无法转换为文本：{exc}",
                f"column {name} of type {kind} cannot be converted to text: {exc}",
                path=path,
                fix_zh="请将该列导出为文本、数值或日期时间类型。",
                fix_en="export that column as text, number or date/time.",
            ) from exc
        header.append(name)
        columns.append(values)
    if columns:
        records = [(i + 2, list(values)) for i, values in enumerate(zip(*columns, strict=True))]
    else:
        records = [(i + 2, []) for i in range(table.num_rows)]
    return header, records, lambda row: (f"第 {row} 行", f"row {row}")


# ---------------------------------------------------------------------------------------------------
# common part: blank rows, header normalisation, frame


def _assemble(
    path: Path,
    table: str,
    fmt: str,
    encoding: str | None,
    header: list[str | None],
    records: list[_Record],
    locate: _Locator,
    required: Sequence[str] | None,
) -> LoadedTable:
    if all(is_empty(h) for h in header):
        raise UnreadableFileError(
            "第 1 行（表头）为空。",
            "row 1 (the header) is empty.",
            path=path,
            fix_zh="第 1 行必须是表头，写字段代码（如 YWH、QXDM）。",
            fix_en="row 1 must be the header holding the field codes (such as YWH, QXDM).",
        )
    width = max([len(header), *(len(values) for _, values in records)])
    header = header + [None] * (width - len(header))

    row_numbers: list[str] = []
    kept: list[list[str | None]] = []
    blank_rows = 0
    for number, values in records:
        # empty = "" or whitespace only (same test as is_empty, written for speed)
        cells = [v if v and not v.isspace() else None for v in values]
        if not any(cells):
            blank_rows += 1
            continue
        if len(cells) < width:
            cells.extend([None] * (width - len(cells)))
        row_numbers.append(str(number))
        kept.append(cells)
    columns: list[tuple[str | None, ...]] = list(zip(*kept, strict=True)) if kept else [()] * width

    names: list[str] = []
    data: dict[str, list[str | None]] = {}
    seen: dict[str, int] = {}
    renamed: dict[str, str] = {}
    for index, raw in enumerate(header):
        letter = _column_letter(index)
        name = "" if raw is None else normalise_header(raw)
        values = columns[index]
        if name == "":
            filled = next((i for i, v in enumerate(values) if v is not None), None)
            if filled is None:
                continue  # an empty column without a header: ignored
            zh, en = locate(int(row_numbers[filled]))
            raise UnreadableFileError(
                f"第 {letter} 列没有表头，但有数据（{zh}：{values[filled]!r}）。",
                f"column {letter} has no header but holds values ({en}: {values[filled]!r}).",
                path=path,
                fix_zh=f"请在第 {letter} 列第 1 行填写字段代码，或删除该列。",
                fix_en=f"write the field code in row 1 of column {letter}, or delete that column.",
            )
        if name == ROW_COLUMN:
            raise UnreadableFileError(
                f"第 {letter} 列的列名 {raw!r} 是工具保留的列名 {ROW_COLUMN}。",
                f"column {letter} is named {raw!r}, which is the reserved name {ROW_COLUMN}.",
                path=path,
                fix_zh="请重命名或删除该列。",
                fix_en="rename or delete that column.",
            )
        if name in seen:
            first = _column_letter(seen[name])
            raise UnreadableFileError(
                f"列名 {name} 重复（第 {first} 列和第 {letter} 列）。",
                f"duplicate column {name} (columns {first} and {letter}).",
                path=path,
                fix_zh="每个字段只能有一列，请删除或改名重复的列。",
                fix_en="keep one column per field: delete or rename the duplicate.",
            )
        seen[name] = index
        if raw != name and raw is not None:
            renamed[raw] = name
        names.append(name)
        data[name] = list(values)

    extra: list[str] = []
    if required is not None:
        wanted = [normalise_header(c) for c in required]
        missing = [c for c in wanted if c not in seen]
        if missing:
            raise MissingColumnError(path, table, missing)
        extra = [n for n in names if n not in set(wanted)]

    data[ROW_COLUMN] = row_numbers
    frame = pd.DataFrame(data, columns=[*names, ROW_COLUMN], dtype=object)
    return LoadedTable(
        table=table,
        path=path,
        format=fmt,
        encoding=encoding,
        frame=frame,
        rows=len(kept),
        blank_rows=blank_rows,
        extra_columns=extra,
        renamed_columns=renamed,
    )


# ---------------------------------------------------------------------------------------------------
# public API


def read_table(path: str | Path, table: str, *, required: Sequence[str] | None = None) -> LoadedTable:
    """Read one table file (format chosen by extension, any case) as text.

    ``required``: the column codes that must be present; a missing one raises
    :class:`~toolkit.errors.MissingColumnError` and every other column is listed in ``extra_columns``.
    Without it nothing is checked and ``extra_columns`` stays empty.
    """
    path = Path(path)
    table = table.strip().upper()
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UnreadableFileError(
            f"不支持的文件类型 {path.suffix!r}。",
            f"unsupported file type {path.suffix!r}.",
            path=path,
            fix_zh="请另存为 .csv（UTF-8）、.xlsx 或 .parquet。",
            fix_en="save it as .csv (UTF-8), .xlsx or .parquet.",
        )
    try:
        data = path.read_bytes() if fmt == "csv" else b""
        size = len(data) if fmt == "csv" else path.stat().st_size
    except OSError as exc:
        raise UnreadableFileError(
            f"无法打开文件：{exc.strerror or exc}。",
            f"cannot open the file: {exc}.",
            path=path,
            fix_zh="请检查文件是否存在、是否有读取权限。",
            fix_en="check that the file exists and can be read.",
        ) from exc
    if size == 0:
        raise UnreadableFileError(
            "文件为空（0 字节）。",
            "file is empty (0 bytes).",
            path=path,
            fix_zh="请重新导出该表（至少包含表头行）。",
            fix_en="export the table again (at least the header row).",
        )
    encoding: str | None = None
    if fmt == "csv":
        encoding, header, records, locate = _read_csv(path, data)
    elif fmt == "xlsx":
        header, records, locate = _read_xlsx(path)
    else:
        header, records, locate = _read_parquet(path)
    header_text: list[str | None] = [None if h is None else str(h) for h in header]
    return _assemble(path, table, fmt, encoding, header_text, records, locate, required)


def load_batch(folder: str | Path, tables: Mapping[str, Sequence[str]], *, progress: bool = False) -> Batch:
    """Read every known table file of a batch folder.

    ``tables`` maps each known table code to the column codes that must be present. File names are
    matched case-insensitively (``qlt_fw_fdcq_yz.CSV`` is table ``QLT_FW_FDCQ_YZ``). Files that are not
    known tables are ignored and listed in :attr:`Batch.unknown_files`. ``progress=True`` shows a rich
    progress bar on stderr; otherwise nothing is printed.
    """
    folder = Path(folder)
    if not folder.exists():
        raise BatchNotFoundError(
            "批次文件夹不存在。",
            "the batch folder does not exist.",
            path=folder,
            fix_zh="请检查路径是否正确。",
            fix_en="check the path.",
        )
    if not folder.is_dir():
        raise BatchNotFoundError(
            "该路径不是文件夹。",
            "the path is not a folder.",
            path=folder,
            fix_zh="请给出存放各表文件的文件夹（压缩包请先解压）。",
            fix_en="give the folder holding the table files (unpack an archive first).",
        )
    required = {code.strip().upper(): list(columns) for code, columns in tables.items()}
    try:
        entries = sorted((p for p in folder.iterdir() if p.is_file()), key=lambda p: p.name)
    except OSError as exc:
        raise BatchNotFoundError(
            f"无法读取文件夹：{exc.strerror or exc}。",
            f"cannot list the folder: {exc}.",
            path=folder,
            fix_zh="请检查读取权限。",
            fix_en="check the permissions.",
        ) from exc

    found: dict[str, list[Path]] = {}
    unknown: list[str] = []
    for entry in entries:
        code = entry.stem.upper()
        if entry.suffix.lower() in FORMATS and code in required:
            found.setdefault(code, []).append(entry)
        else:
            unknown.append(entry.name)

    for code, paths in found.items():
        if len(paths) > 1:
            names = ", ".join(p.name for p in paths)
            raise InputError(
                f"表 {code} 有多个文件：{names}。",
                f"table {code} has more than one file: {names}.",
                path=folder,
                fix_zh="每个表只能保留一个文件，请删除或移走多余的文件。",
                fix_en="keep exactly one file per table: delete or move the others.",
            )
    if not found:
        expected = ", ".join(f"{c}.csv" for c in required) or "-"
        seen = ", ".join(unknown[:20]) + (" …" if len(unknown) > 20 else "") if unknown else "无 / none"
        raise NoKnownTableError(
            f"文件夹中没有可识别的表文件。应有以下文件之一：{expected}（扩展名也可以是 .xlsx 或 .parquet）。"
            f"文件夹中的文件：{seen}。",
            f"no known table file in the folder. Expected file names: {expected} (the extension may also "
            f"be .xlsx or .parquet). Files found: {seen}.",
            path=folder,
            fix_zh="请按表代码命名文件（如 QLT_FW_FDCQ_YZ.csv）。",
            fix_en="name each file by its table code (e.g. QLT_FW_FDCQ_YZ.csv).",
        )

    jobs = [(code, found[code][0]) for code in required if code in found]
    loaded: dict[str, LoadedTable] = {}
    if progress:
        from rich.console import Console
        from rich.progress import Progress

        with Progress(console=Console(stderr=True)) as bar:
            task = bar.add_task("读取 / reading", total=len(jobs))
            for code, path in jobs:
                bar.update(task, description=f"读取 / reading {path.name}")
                loaded[code] = read_table(path, code, required=required[code])
                bar.advance(task)
    else:
        for code, path in jobs:
            loaded[code] = read_table(path, code, required=required[code])

    return Batch(
        folder=folder,
        tables=loaded,
        unknown_files=unknown,
        rows_read=sum(t.rows for t in loaded.values()),
        absent_tables=[code for code in required if code not in found],
    )
