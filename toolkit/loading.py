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
the column, row or byte at fault, and says what to do. File names, header names and cell values quoted in
a message have their non-printable characters escaped (``\\x1b``, ``\\u3000``), and a quoted cell value is
cut to its first few characters (it may be an ID number).

Which file is which table: :func:`discover_tables` (used by :func:`load_batch` and by the count engine,
:func:`toolkit.staging.discover`). A file counts only if it is named exactly ``<TABLE_CODE>.csv``,
``.xlsx`` or ``.parquet`` (any case) and is a regular file; anything that merely *looks* like a table file
is an error rather than a silently absent table — see :func:`discover_tables` for the full contract.

Limits: a header may have at most :data:`MAX_COLUMNS` columns; a CSV value may be up to
:data:`MAX_FIELD_CHARS` characters long. A CSV containing NUL bytes is refused (naming the line): a text
export never holds one, so the file is damaged, binary or UTF-16. An ``.xlsx`` workbook must hold the table
on its first worksheet and nothing on any other (rows there would be lost).

Numbers in spreadsheets. XLSX cells typed as numbers (and numeric Parquet columns) are read as their
text, but an ID number stored as an Excel number has already lost its digits beyond the 15th and its
leading zeros. :attr:`LoadedTable.numeric_columns` and :attr:`LoadedTable.lossy_columns` say where that
happened so the caller can warn; the loader itself does not judge.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import decimal
import io
import math
import os
import re
import stat
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.errors import (
    BatchNotFoundError,
    CoreTableMissingError,
    InputError,
    MisnamedTableFileError,
    MisplacedTableFileError,
    MissingColumnError,
    NoKnownTableError,
    UnreadableFileError,
)
from toolkit.text import printable

__all__ = [
    "FORMATS",
    "MAX_COLUMNS",
    "MAX_FIELD_CHARS",
    "ROW_COLUMN",
    "UTF8_STRAY_RATIO",
    "Batch",
    "LoadedTable",
    "TableFiles",
    "Utf8Scan",
    "check_other_sheets",
    "discover_tables",
    "is_empty",
    "load_batch",
    "normalise_header",
    "read_table",
    "scan_utf8",
]

#: File extension (lower case) → format name.
FORMATS: dict[str, str] = {".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet"}

#: Most columns a table file may have (header cells, empty ones included; in xlsx up to the last non-empty
#: header cell, as formatting alone can extend a row). The data contracts have a few
#: dozen fields at most; a header much wider is a broken or hostile export, and building frames (or DuckDB
#: column lists) that wide takes minutes. Checked on the header, before anything else is built.
MAX_COLUMNS = 2_000

#: Longest CSV value read, in characters (Python's csv module stops at 131,072 by default; long free-text
#: remarks can exceed that). A value longer than this almost always means a quote that is never closed.
MAX_FIELD_CHARS = 16 * 1024 * 1024

#: A CSV that is not valid UTF-8 is taken for *UTF-8 with damaged bytes* (and refused, naming the lines)
#: instead of being decoded as GB18030 when the bytes of its well-formed multi-byte UTF-8 sequences are at
#: least this many times the bytes of its ill-formed ones (see :func:`scan_utf8`).
UTF8_STRAY_RATIO = 16

#: Name of the row-number column added to every frame.
ROW_COLUMN = "_ROW"

_UTF8_BOM = b"\xef\xbb\xbf"
_FIX_UTF8_ZH = "请用 Excel/WPS 或文本编辑器将文件另存为“CSV UTF-8”格式后重试。"
_FIX_UTF8_EN = "save the file as 'CSV UTF-8' from Excel/WPS or a text editor and try again."
_PANDAS_INDEX = re.compile(r"__index_level_\d+__")
_ASCII = bytes(range(128))
#: Ill-formed UTF-8 sequences examined at most by :func:`scan_utf8`: a file with more is not "UTF-8 with a
#: few damaged bytes" (a GB18030 file reaches this within its first few kilobytes).
_UTF8_STRAY_MAX = 4096
_UTF8_WINDOW = 1 << 16
#: Characters of a cell value shown in a message (values may be ID numbers: never shown in full).
_VALUE_SHOWN = 6

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
    numeric_columns: dict[str, int] = field(default_factory=dict)
    """xlsx and Parquet only (CSV is text by nature): normalised column name → number of data cells stored
    as a *number* rather than as text (xlsx: a cell typed int/float, booleans and dates excluded; Parquet:
    the non-null values of an integer, floating-point or decimal column). Only columns with at least one
    such cell are listed. An ID, code or phone number stored as a number has lost its leading zeros and,
    beyond 15 digits, its last digits: the caller should tell the user to format that column as text
    (设置单元格格式为文本)."""
    lossy_columns: list[str] = field(default_factory=list)
    """The columns of :attr:`numeric_columns` (in file order) holding at least one number whose digits may
    already be lost: a number of 16 or more significant digits (Excel keeps 15; an 18-digit ID typed as a
    number comes back as ``4.20102198506121E+17``), or a floating-point value whose shortest text has 16 or
    more significant digits (binary noise such as ``0.30000000000000004``). Parquet integer and decimal
    columns are exact and never listed here."""


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


def _visible(text: str) -> str:
    """``text`` safe to print in a terminal (:func:`toolkit.text.printable`)."""
    return printable(text)


def _quoted(text: str) -> str:
    """A file, sheet or header name for a message: quoted, non-printables escaped."""
    return f"'{_visible(text)}'"


def _value_hint(value: object) -> tuple[str, str]:
    """A cell value for a message, (Chinese, English): its first few characters only (it may be an ID
    number), escaped, with its length when cut."""
    text = str(value)
    if len(text) <= _VALUE_SHOWN:
        return _quoted(text), _quoted(text)
    shown = _quoted(text[:_VALUE_SHOWN] + "…")
    return f"{shown}（共 {len(text)} 个字符）", f"{shown} ({len(text)} characters)"


def _lossy_number(v: int | float) -> bool:
    """True if a number read from a spreadsheet may already have lost digits (see
    :attr:`LoadedTable.lossy_columns`)."""
    if isinstance(v, int):
        return abs(v) >= 10**15  # 16 or more digits: more than Excel keeps
    if not math.isfinite(v):
        return False
    if abs(v) >= 1e15:
        return True
    digits = repr(abs(v)).split("e")[0].replace(".", "").lstrip("0")
    return len(digits) >= 16


def _raise_csv_field_limit() -> None:
    """Let Python's csv module read values up to :data:`MAX_FIELD_CHARS` (the limit is process-wide; it is
    only ever raised)."""
    if csv.field_size_limit() < MAX_FIELD_CHARS:
        csv.field_size_limit(MAX_FIELD_CHARS)


def _too_many_columns(path: Path, width: int) -> UnreadableFileError:
    return UnreadableFileError(
        f"表头有 {width:,} 列，超过上限 {MAX_COLUMNS:,} 列。",
        f"the header has {width:,} columns; at most {MAX_COLUMNS:,} are supported.",
        path=path,
        fix_zh="请检查第 1 行（表头）是否只包含字段代码，删除多余的列后重新导出。",
        fix_en="check that row 1 (the header) holds only the field codes; delete the extra columns and "
        "export again.",
    )


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


@dataclass
class Utf8Scan:
    """What :func:`scan_utf8` found."""

    multibyte: int
    """Bytes of well-formed multi-byte UTF-8 sequences (Chinese characters are three bytes each)."""
    invalid: int
    """Bytes of ill-formed sequences (counted up to the cap, see ``complete``)."""
    ranges: list[tuple[int, int]]
    """(start, end) byte offsets of the ill-formed sequences, in file order."""
    complete: bool
    """False if the scan stopped at the cap of ill-formed sequences (the counts are then partial)."""

    @property
    def ok(self) -> bool:
        """The whole file is valid UTF-8."""
        return self.complete and self.invalid == 0

    @property
    def stray(self) -> bool:
        """Not valid UTF-8, yet overwhelmingly UTF-8: ``multibyte >= UTF8_STRAY_RATIO * invalid``."""
        return self.complete and self.invalid > 0 and self.multibyte >= UTF8_STRAY_RATIO * self.invalid


def scan_utf8(chunks: Iterable[bytes]) -> Utf8Scan:
    """Read a file (as consecutive chunks of bytes) as UTF-8 and count its well-formed multi-byte
    sequences and its ill-formed bytes.

    The heuristic (:attr:`Utf8Scan.stray`). GBK/GB18030 Chinese text read as UTF-8 is mostly ill-formed:
    only a GBK character whose two bytes happen to form a UTF-8 sequence (about one in seven) passes, so
    such text has fewer well-formed multi-byte bytes than ill-formed ones — measured on the sample data,
    0.3–0.6 times as many over a whole table and never more than 5 times in any single line. A UTF-8
    file with a few damaged bytes has hundreds or thousands of times as many. A file is therefore taken
    for UTF-8 with damaged bytes when the ratio is at least :data:`UTF8_STRAY_RATIO` (16), which needs at
    least 16 bytes (six Chinese characters) of well-formed UTF-8 per bad byte. At most
    :data:`_UTF8_STRAY_MAX` ill-formed sequences are examined (a GB18030 file reaches that within a few
    kilobytes); beyond it the file is not "UTF-8 with a few bad bytes" (``complete`` is False). A UTF-8
    file with very little Chinese text (fewer than six characters per bad byte) is not recognised and is
    tried as GB18030, as before.
    """
    multibyte = invalid = 0
    ranges: list[tuple[int, int]] = []
    pending = b""
    offset = 0  # absolute offset of pending[0]

    def decode(buf: bytes, final: bool) -> tuple[int, bool]:
        """Decode ``buf`` window by window (an error copies only its window); returns (bytes used,
        False if the cap was reached). Without ``final`` an incomplete sequence at the end is left."""
        nonlocal invalid
        pos, end = 0, len(buf)
        while pos < end:
            window = buf[pos : pos + _UTF8_WINDOW]
            try:
                _, used = codecs.utf_8_decode(window, "strict", final and pos + _UTF8_WINDOW >= end)
            except UnicodeDecodeError as exc:
                ranges.append((offset + pos + exc.start, offset + pos + exc.end))
                invalid += exc.end - exc.start
                pos += exc.end
                if len(ranges) > _UTF8_STRAY_MAX:
                    return pos, False
                continue
            if used == 0:  # only an incomplete sequence is left: it continues in the next chunk
                break
            pos += used
        return pos, True

    for chunk in chunks:
        buf = pending + chunk if pending else chunk
        used, complete = decode(buf, False)
        if not complete:  # given up before counting the rest (a GB18030 file stops here, cheaply)
            return Utf8Scan(multibyte - invalid, invalid, ranges, False)
        for at in range(0, len(chunk), 1 << 24):  # bytes >= 0x80, 16 MiB at a time
            multibyte += len(chunk[at : at + (1 << 24)].translate(None, _ASCII))
        pending, offset = buf[used:], offset + used
    if pending:
        _, complete = decode(pending, True)
        if not complete:
            return Utf8Scan(multibyte - invalid, invalid, ranges, False)
    return Utf8Scan(multibyte - invalid, invalid, ranges, True)


def _stray_bytes_error(path: Path, data: bytes, scan: Utf8Scan) -> UnreadableFileError:
    """The file is UTF-8 except for a few ill-formed bytes: name the lines (up to five) and offsets."""
    by_line: dict[int, list[tuple[int, int]]] = {}
    line, counted = 1, 0
    for start, end in scan.ranges:
        line += data.count(b"\n", counted, start)
        counted = start
        by_line.setdefault(line, []).append((start, end))
    zh_parts, en_parts = [], []
    for number, spans in list(by_line.items())[:5]:
        n = sum(e - s for s, e in spans)
        first = spans[0][0]
        bad = b"".join(data[s:e] for s, e in spans)[:8].hex(" ") + (" …" if n > 8 else "")
        zh_parts.append(f"第 {number} 行有 {n} 个无效字节（字节偏移 {first}：{bad}）")
        en_parts.append(f"line {number} has {n} (byte offset {first}: {bad})")
    more_zh = f"等，共 {len(by_line)} 行" if len(by_line) > 5 else ""
    more_en = f"; {len(by_line)} lines in all" if len(by_line) > 5 else ""
    return UnreadableFileError(
        f"文件基本是 UTF-8，但有 {scan.invalid} 个无效字节：{'；'.join(zh_parts)}{more_zh}。"
        "这些字节多半是损坏的字符，按 GB18030 读取只会得到乱码。",
        f"the file is UTF-8 except for {scan.invalid} invalid byte(s): {'; '.join(en_parts)}{more_en}. "
        "They are most likely damaged characters; reading the file as GB18030 would only give garbled text.",
        path=path,
        fix_zh="请在文本编辑器中改正这些行中损坏的字符，或从源系统重新导出为“CSV UTF-8”格式。",
        fix_en="correct the damaged characters on those lines in a text editor, or export the table again "
        "as 'CSV UTF-8' from the source system.",
    )


def _nul_error(path: Path, data: bytes, first: int) -> UnreadableFileError:
    count = data.count(b"\x00")
    line = _line_of(data, first)
    utf16 = count * 4 >= len(data)  # every other byte NUL: UTF-16 without a byte-order mark
    why_zh = (
        "文件很可能是没有 BOM 的 UTF-16 编码"
        if utf16
        else "文本文件中不应有 NUL 字节：文件可能已损坏或不是文本文件"
    )
    why_en = (
        "the file is most likely UTF-16 without a byte-order mark"
        if utf16
        else "a text file holds no NUL bytes: the file is probably damaged or not a text file"
    )
    return UnreadableFileError(
        f"第 {line} 行（字节偏移 {first}）含有 NUL 空字节（全文件共 {count} 个）；{why_zh}。",
        f"line {line} (byte offset {first}) contains a NUL byte ({count} in the file); {why_en}.",
        path=path,
        fix_zh=_FIX_UTF8_ZH,
        fix_en=_FIX_UTF8_EN,
    )


def _decode(path: Path, data: bytes) -> tuple[str, str]:
    """Decode the whole file once: UTF-8 with BOM, else UTF-8, else GB18030.

    Refused: UTF-16 (byte-order mark), any NUL byte (naming its line), and a file that is UTF-8 except for
    a few damaged bytes (:func:`scan_utf8`; it would otherwise be decoded as GB18030 into garbage)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFileError(
            "文件是 UTF-16 编码（Excel 的“Unicode 文本”），不受支持。",
            "the file is UTF-16 encoded (Excel 'Unicode text'), which is not supported.",
            path=path,
            fix_zh=_FIX_UTF8_ZH,
            fix_en=_FIX_UTF8_EN,
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        raise _nul_error(path, data, nul)
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
        scan = scan_utf8([data])
        if scan.stray:
            raise _stray_bytes_error(path, data, scan) from utf8_exc
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
    _raise_csv_field_limit()
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
                if len(fields) > MAX_COLUMNS:
                    raise _too_many_columns(path, len(fields))
                header = list(fields)
                continue
            if len(fields) > len(header):
                extra = fields[len(header) :]
                if not all(is_empty(v) for v in extra):
                    zh, en = _where_csv(starts)(number)
                    value_zh, value_en = _value_hint(next(v for v in extra if not is_empty(v)))
                    raise UnreadableFileError(
                        f"{zh}有 {len(fields)} 个字段，多于表头的 {len(header)} 个（多出的值：{value_zh}）。",
                        f"{en} has {len(fields)} fields but the header has {len(header)} (first extra "
                        f"value: {value_en}).",
                        path=path,
                        fix_zh="请检查该行是否有多余的逗号，含逗号的值需用英文双引号括起来。",
                        fix_en="check that line for a stray comma; a value containing a comma must be "
                        'enclosed in double quotes (").',
                    )
                fields = fields[: len(header)]  # trailing empty fields: an empty, header-less column
            records.append((number, fields))
    except csv.Error as exc:
        line = previous_line + 1
        if "field larger than field limit" in str(exc):
            raise UnreadableFileError(
                f"第 {line} 行起的记录中有一个值长于 {MAX_FIELD_CHARS:,} 个字符。",
                f"the record starting at line {line} holds a value longer than {MAX_FIELD_CHARS:,} "
                "characters.",
                path=path,
                fix_zh="这通常是某个英文双引号没有配对，导致其后的许多行被读成一个值：请检查该行及其后"
                '各行的双引号；值中的双引号需写成两个（""）。',
                fix_en="this usually means a double quote is never closed, so the lines after it were read "
                "as one value: check the quotes on that line and the following ones (a quote inside a "
                'value is written twice, "").',
            ) from exc
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


def _xlsx_cell_text(cell: Any) -> str | None:
    """An openpyxl cell as the loader's text: a date-only cell as ``YYYY-MM-DD`` (what Excel shows),
    anything else by :func:`_to_text`."""
    v = cell.value
    if isinstance(v, dt.datetime) and v.time() == dt.time(0):
        from openpyxl.styles.numbers import is_datetime

        if is_datetime(getattr(cell, "number_format", None) or "General") == "date":
            return _date_text(v)
    return _to_text(v)


def check_other_sheets(workbook: Any, path: Path) -> None:
    """Raise :class:`~toolkit.errors.UnreadableFileError` if any worksheet but the first holds a non-empty
    cell (its rows would silently not be read). ``workbook``: an openpyxl workbook (read-only mode is fine);
    chart sheets are not worksheets and are ignored. Shared by the loader and :mod:`toolkit.staging`."""
    found: list[tuple[str, int, bool]] = []  # (sheet title, non-empty rows, hidden)
    for sheet in workbook.worksheets[1:]:
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()
        rows = sum(1 for row in sheet.iter_rows(values_only=True) if not all(is_empty(v) for v in row))
        if rows:
            found.append((sheet.title, rows, getattr(sheet, "sheet_state", "visible") != "visible"))
    if not found:
        return
    zh = "、".join(f"{_quoted(t)}{'（隐藏）' if h else ''}有 {n} 行" for t, n, h in found)
    en = ", ".join(f"{_quoted(t)}{' (hidden)' if h else ''}: {n} row(s)" for t, n, h in found)
    first = _quoted(workbook.worksheets[0].title)
    raise UnreadableFileError(
        f"表格数据只能放在第一个工作表（{first}），但其他工作表也有非空数据：{zh}。这些行不会被读取。",
        f"the table must be on the first sheet only ({first}), but other sheets hold non-empty rows: {en}. "
        "Those rows would not be read.",
        path=path,
        fix_zh="请把所有行合并到第一个工作表并删除其他工作表，或导出为 CSV（超过 1,048,576 行时必须用 CSV）。",
        fix_en="combine the rows into the first sheet and delete the other sheets, or export CSV (needed "
        "above 1,048,576 rows).",
    )


def _read_xlsx(
    path: Path,
) -> tuple[list[str | None], list[_Record], _Locator, dict[int, int], set[int]]:
    """Header, records, locator, and per column index: numeric cell count and lossy flag."""
    import openpyxl

    try:
        with warnings.catch_warnings():  # openpyxl warns about styles/extensions it drops; never print
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise _unreadable_xlsx(path, exc) from exc
    numeric: dict[int, int] = {}
    lossy: set[int] = set()
    rows_iter: Any = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if not workbook.worksheets:
                raise UnreadableFileError("工作簿中没有工作表。", "the workbook has no worksheet.", path=path)
            check_other_sheets(workbook, path)
            sheet = workbook.worksheets[0]
            sheet.reset_dimensions()  # do not trust the stored dimension: read every row there is
            rows_iter = sheet.iter_rows()
            header_row = next(rows_iter, None)
            if header_row is None:
                raise UnreadableFileError(
                    "第一个工作表是空的。",
                    "the first worksheet is empty.",
                    path=path,
                    fix_zh="请把数据放在第一个工作表，第 1 行为表头（字段代码）。",
                    fix_en="put the data on the first worksheet with the field codes in row 1.",
                )
            header = [_xlsx_cell_text(c) for c in header_row]
            width = next((i + 1 for i in range(len(header) - 1, -1, -1) if not is_empty(header[i])), 0)
            if width > MAX_COLUMNS:  # trailing empty (formatted) header cells are not counted
                raise _too_many_columns(path, width)
            records: list[_Record] = []
            for number, row in enumerate(rows_iter, start=2):
                values = []
                for i, cell in enumerate(row):
                    kind = type(cell.value)
                    if kind is int or kind is float:  # a number, not text (bool is its own type)
                        numeric[i] = numeric.get(i, 0) + 1
                        if i not in lossy and _lossy_number(cell.value):
                            lossy.add(i)
                    values.append(_xlsx_cell_text(cell))
                records.append((number, values))
    except InputError:
        raise
    except Exception as exc:
        raise _unreadable_xlsx(path, exc) from exc
    finally:
        if rows_iter is not None:
            rows_iter.close()  # closes the sheet's file inside the archive (if left unfinished)
        workbook.close()
    return header, records, lambda row: (f"第 {row} 行", f"row {row}"), numeric, lossy


# ---------------------------------------------------------------------------------------------------
# Parquet


def _read_parquet(
    path: Path,
) -> tuple[list[str | None], list[_Record], _Locator, dict[int, int], set[int]]:
    """Header, records, locator, and per column index: numeric value count and lossy flag."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def unreadable(exc: Exception) -> UnreadableFileError:
        return UnreadableFileError(
            f"无法读取 Parquet 文件（文件损坏或不是 Parquet 格式）：{type(exc).__name__}: {exc}",
            f"cannot read the Parquet file (corrupt or not Parquet): {type(exc).__name__}: {exc}",
            path=path,
            fix_zh="请重新导出该表。",
            fix_en="export the table again.",
        )

    try:
        width = len(pq.read_schema(path))
    except Exception as exc:
        raise unreadable(exc) from exc
    if width > MAX_COLUMNS:
        raise _too_many_columns(path, width)
    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise unreadable(exc) from exc
    header: list[str | None] = []
    columns: list[list[str | None]] = []
    numeric: dict[int, int] = {}
    lossy: set[int] = set()
    for name, column in zip(table.column_names, table.columns, strict=True):
        if _PANDAS_INDEX.fullmatch(name):
            continue  # a pandas index written along with the data, not a field
        kind = column.type
        index = len(header)
        try:
            if pa.types.is_string(kind) or pa.types.is_large_string(kind):
                values = column.to_pylist()
            elif pa.types.is_integer(kind):
                values = column.cast(pa.string()).to_pylist()
            elif pa.types.is_nested(kind):
                raise TypeError(f"nested type {kind}")
            else:
                raw = column.to_pylist()
                if pa.types.is_floating(kind) and any(isinstance(v, float) and _lossy_number(v) for v in raw):
                    lossy.add(index)
                values = [_to_text(v) for v in raw]
        except (TypeError, ValueError, pa.ArrowException) as exc:
            raise UnreadableFileError(
                f"列 {_quoted(name)} 的类型 {kind} 无法转换为文本：{exc}",
                f"column {_quoted(name)} of type {kind} cannot be converted to text: {exc}",
                path=path,
                fix_zh="请将该列导出为文本、数值或日期时间类型。",
                fix_en="export that column as text, number or date/time.",
            ) from exc
        if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
            count = len(column) - column.null_count
            if count:
                numeric[index] = count
        header.append(name)
        columns.append(values)
    if columns:
        records = [(i + 2, list(values)) for i, values in enumerate(zip(*columns, strict=True))]
    else:
        records = [(i + 2, []) for i in range(table.num_rows)]
    return header, records, lambda row: (f"第 {row} 行", f"row {row}"), numeric, lossy


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
    numeric: Mapping[int, int] | None = None,
    lossy: set[int] | None = None,
) -> LoadedTable:
    if all(is_empty(h) for h in header):
        raise UnreadableFileError(
            "第 1 行（表头）为空。",
            "row 1 (the header) is empty.",
            path=path,
            fix_zh="第 1 行必须是表头，写数据规范中的字段代码。",
            fix_en="row 1 must be the header holding the field codes of the data contract.",
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
    numeric_columns: dict[str, int] = {}
    lossy_columns: list[str] = []
    for index, raw in enumerate(header):
        letter = _column_letter(index)
        name = "" if raw is None else normalise_header(raw)
        values = columns[index]
        if name == "":
            filled = next((i for i, v in enumerate(values) if v is not None), None)
            if filled is None:
                continue  # an empty column without a header: ignored
            zh, en = locate(int(row_numbers[filled]))
            value_zh, value_en = _value_hint(values[filled])
            raise UnreadableFileError(
                f"第 {letter} 列没有表头，但有数据（{zh}：{value_zh}）。",
                f"column {letter} has no header but holds values ({en}: {value_en}).",
                path=path,
                fix_zh=f"请在第 {letter} 列第 1 行填写字段代码，或删除该列。",
                fix_en=f"write the field code in row 1 of column {letter}, or delete that column.",
            )
        if name == ROW_COLUMN:
            raise UnreadableFileError(
                f"第 {letter} 列的列名 {_quoted(raw)} 是工具保留的列名 {ROW_COLUMN}。",
                f"column {letter} is named {_quoted(raw)}, which is the reserved name {ROW_COLUMN}.",
                path=path,
                fix_zh="请重命名或删除该列。",
                fix_en="rename or delete that column.",
            )
        if name in seen:
            first = _column_letter(seen[name])
            raise UnreadableFileError(
                f"列名 {_visible(name)} 重复（第 {first} 列和第 {letter} 列）。",
                f"duplicate column {_visible(name)} (columns {first} and {letter}).",
                path=path,
                fix_zh="每个字段只能有一列，请删除或改名重复的列。",
                fix_en="keep one column per field: delete or rename the duplicate.",
            )
        seen[name] = index
        if raw != name and raw is not None:
            renamed[raw] = name
        names.append(name)
        data[name] = list(values)
        if numeric and index in numeric:
            numeric_columns[name] = numeric[index]
            if lossy and index in lossy:
                lossy_columns.append(name)

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
        numeric_columns=numeric_columns,
        lossy_columns=lossy_columns,
    )


# ---------------------------------------------------------------------------------------------------
# which file is which table


#: Extensions of files that may hold a table's data although the loader cannot read them; beside the
#: table's own file such a look-alike makes the batch ambiguous (see :func:`discover_tables`).
_DATA_LIKE = frozenset({*FORMATS, ".xls", ".xlsm", ".xlsb", ".et", ".ods", ".tsv", ".txt", ".json"})
#: Archives: a table's file may be inside (``QLT_FW_FDCQ_YZ_0305.zip``).
_ARCHIVES = frozenset({".zip", ".gz", ".7z", ".rar", ".tar", ".tgz", ".bz2", ".xz"})
_EXTENSION = re.compile(r"\.[A-Z0-9]{1,8}$")
_ASCII_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
#: Folders never searched for misplaced table files (macOS archive debris).
_SKIP_FOLDERS = frozenset({"__MACOSX"})
#: Entries listed at most per subfolder when looking for misplaced table files.
_SUBFOLDER_ENTRIES = 10_000


@dataclass
class TableFiles:
    """The table files of a batch folder, as :func:`discover_tables` found them."""

    folder: Path
    files: dict[str, Path]
    """Table code → its file (a regular file, or a symbolic link to one), in the order of ``tables``."""
    unknown_files: list[str]
    """Names of the other entries of the folder that are not folders (ignored), sorted."""
    absent_tables: list[str]
    """Table codes with no file, in the order of ``tables``."""


def _is_hidden(name: str) -> bool:
    """Hidden and lock files: ``.DS_Store``, ``._x`` (macOS), ``.~lock.x#`` (LibreOffice), ``~$x`` (Excel)."""
    return name.startswith((".", "~$"))


def _squeeze(name: str) -> str:
    """A name reduced for comparison with table codes: NFKC (full-width → ASCII), format characters and
    whitespace removed, upper case, hyphens as underscores, trailing extensions and dots stripped."""
    text = unicodedata.normalize("NFKC", name)
    text = "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")
    text = text.upper().replace("-", "_")
    while True:
        stripped = _EXTENSION.sub("", text).rstrip(".")
        if stripped == text:
            return text
        text = stripped


def _looks_like(name: str, codes: Sequence[str]) -> str | None:
    """The table code a (non-exact) file name looks like, or ``None``: its squeezed name equals a code
    (also ignoring underscores: ``QLT FW FDCQ YZ``), whatever the extension; or, for a data file or
    archive (extension in ``_DATA_LIKE`` or ``_ARCHIVES``), the squeezed name starts or ends with a code
    set off by a character that is not an ASCII letter or digit (``QLT_FW_FDCQ_YZ(1).csv``,
    ``QLT_FW_FDCQ_YZ_20240305.csv``, ``房地产权_QLT_FW_FDCQ_YZ.xlsx``; but not ``JR_BW说明.pdf``). The
    longest matching code wins."""
    squeezed = _squeeze(name)
    if not squeezed:
        return None
    bare = squeezed.replace("_", "")
    suffix = Path(name.strip()).suffix.lower()
    decorated = suffix in _DATA_LIKE or suffix in _ARCHIVES
    for code in sorted(codes, key=len, reverse=True):
        if squeezed == code or bare == code.replace("_", ""):
            return code
        n = len(code)
        if not decorated or len(squeezed) <= n:
            continue
        if squeezed.startswith(code) and squeezed[n] not in _ASCII_ALNUM:
            return code
        if squeezed.endswith(code) and squeezed[-n - 1] not in _ASCII_ALNUM:
            return code
    return None


def _exact_code(name: str, codes: Mapping[str, Any]) -> str | None:
    """The table code of an exact table file name (``<CODE>.csv|.xlsx|.parquet``, any case), or ``None``."""
    path = Path(name)
    code = path.stem.upper()
    if path.suffix.lower() in FORMATS and code in codes:
        return code
    return None


def _not_regular(path: Path, what: str) -> UnreadableFileError:
    """The error for a table file that exists by name but is no regular file (never opened)."""
    name = _quoted(path.name)
    if what == "dangling":
        try:
            target = _quoted(os.readlink(path))
        except OSError:
            target = "?"
        zh = f"{name} 是一个符号链接（快捷方式），但它指向的文件 {target} 不存在。"
        en = f"{name} is a symbolic link to {target}, which does not exist."
        fix_zh, fix_en = (
            "请把表文件本身复制到批次文件夹中。",
            "copy the table file itself into the batch folder.",
        )
    elif what == "directory":
        zh = f"{name} 是一个文件夹，不是表文件。"
        en = f"{name} is a folder, not a table file."
        fix_zh = "请把表文件本身放在批次文件夹中，并删除或改名这个文件夹。"
        fix_en = "put the table file itself into the batch folder and delete or rename that folder."
    elif what.startswith("error:"):
        zh = f"无法读取 {name}：{what[6:]}。"
        en = f"cannot read {name}: {what[6:]}."
        fix_zh, fix_en = (
            "请检查该文件是否存在、是否有读取权限。",
            "check that the file exists and can be read.",
        )
    else:
        kinds = {
            "fifo": ("命名管道", "named pipe"),
            "socket": ("套接字", "socket"),
            "device": ("设备", "device"),
        }
        kind_zh, kind_en = kinds.get(what, ("特殊文件", "special file"))
        zh = f"{name} 不是普通文件（而是{kind_zh}），不会被打开读取。"
        en = f"{name} is not a regular file but a {kind_en}; it is not opened."
        fix_zh, fix_en = (
            "请把表文件本身复制到批次文件夹中。",
            "copy the table file itself into the batch folder.",
        )
    return UnreadableFileError(zh, en, path=path, fix_zh=fix_zh, fix_en=fix_en)


def _kind(path: Path) -> str:
    """``'file'`` (a regular file, possibly through symbolic links), ``'directory'``, ``'dangling'``,
    ``'fifo'``, ``'socket'``, ``'device'``, ``'other'`` or ``'error:<reason>'``. Uses ``stat`` only: a
    named pipe or device is never opened."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "dangling" if os.path.islink(path) else "error:not found"
    except OSError as exc:
        return f"error:{exc.strerror or exc}"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "other"


def _list(folder: Path, limit: int | None = None) -> list[os.DirEntry[str]]:
    with os.scandir(folder) as it:
        out = []
        for entry in it:
            out.append(entry)
            if limit is not None and len(out) >= limit:
                break
    return sorted(out, key=lambda e: e.name)


def _subfolder_files(folder: Path, codes: Mapping[str, Any]) -> dict[str, list[Path]]:
    """Exact table files (regular files only) one folder level below ``folder`` — and two levels below
    when a subfolder holds a folder of its own name, or nothing but one folder (an archive unpacked into
    a folder named after it). Hidden folders and ``__MACOSX`` are skipped; listing errors are ignored."""
    found: dict[str, list[Path]] = {}

    def look(directory: Path, depth: int) -> None:
        try:
            entries = _list(directory, _SUBFOLDER_ENTRIES)
        except OSError:
            return
        visible = [e for e in entries if not _is_hidden(e.name)]
        for entry in visible if depth else []:
            code = _exact_code(entry.name, codes)
            if code is not None and _kind(Path(entry.path)) == "file":
                found.setdefault(code, []).append(Path(entry.path))
        if depth >= 2:
            return
        dirs = [e for e in visible if e.name not in _SKIP_FOLDERS and e.is_dir()]
        for entry in dirs:
            if depth == 0 or len(visible) == 1 or _squeeze(entry.name) == _squeeze(directory.name):
                look(Path(entry.path), depth + 1)

    look(folder, 0)
    return found


def _names(paths: Iterable[str], limit: int = 20) -> str:
    items = [_quoted(p) for p in paths]
    return ", ".join(items[:limit]) + (" …" if len(items) > limit else "")


def discover_tables(folder: str | Path, tables: Iterable[str], *, core: Sequence[str] = ()) -> TableFiles:
    """Which file of a batch folder is which table. Used by :func:`load_batch` and by the count engine
    (:func:`toolkit.staging.discover`), so both see exactly the same files. Nothing is opened: entries are
    classified by name and by ``stat`` (a named pipe is never opened, a symbolic link is followed only
    to learn what it points to).

    ``tables``: the known table codes (case-insensitive). ``core``: codes of tables every batch must
    have (``core:`` under the mode in ``domain.yaml``).

    Every entry of the folder is one of:

    * **a table file**: named exactly ``<CODE>.csv``, ``.xlsx`` or ``.parquet`` (any case) and a regular
      file, or a symbolic link to one;
    * **an unusable table file** — that exact name, but a dangling symbolic link, a named pipe, socket,
      device or folder: :class:`~toolkit.errors.UnreadableFileError`;
    * **hidden** (``.DS_Store``, ``._x``, ``.~lock.x#``, ``~$x.xlsx``): an unknown file, never an error;
    * **a look-alike** — not exact, but its name, with full-width characters folded (NFKC), spaces and
      invisible characters removed, case ignored, ``-`` read as ``_`` and every extension stripped, is a
      table code, or starts or ends with one set off by a non-alphanumeric character
      (``QLT_FW_FDCQ_YZ .csv``, ``qlt-fw-fdcq-yz.csv``, ``QLT_FW_FDCQ_YZ.CSV.xlsx``, ``QLT_FW_FDCQ_YZ.xls``,
      ``QLT_FW_FDCQ_YZ.csv.gz``; for a data file or archive also ``QLT_FW_FDCQ_YZ(1).csv``,
      ``QLT_FW_FDCQ_YZ_0305.zip``, not ``QLT_FW_FDCQ_YZ说明.pdf``): :class:`~toolkit.errors.MisnamedTableFileError`
      if that table has no file — or if it has one and the look-alike is a data file too (extension
      ``.csv .xlsx .parquet .xls .xlsm .xlsb .et .ods .tsv .txt .json``), which makes the batch
      ambiguous; a look-alike such as ``QLT_FW_FDCQ_YZ.csv.md5`` beside the table's file is unknown;
    * **a folder**: not listed; searched for misplaced table files (below);
    * anything else: an unknown file (:attr:`TableFiles.unknown_files`).

    Then, in this order: two files for one table → :class:`~toolkit.errors.InputError`; if some table file
    was found, look-alikes → :class:`~toolkit.errors.MisnamedTableFileError`; a table with no file here but
    an exact table file in a subfolder (one level down; two when the subfolder only wraps one folder, or a
    folder of its own name, as an unpacked archive does) → :class:`~toolkit.errors.MisplacedTableFileError`;
    no table file at all → :class:`~toolkit.errors.NoKnownTableError` (listing the files seen and the
    look-alikes); a core table without a file → :class:`~toolkit.errors.CoreTableMissingError`. The folder
    itself missing or not a folder → :class:`~toolkit.errors.BatchNotFoundError`. Names in messages have
    non-printable characters escaped.
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
    codes = {code.strip().upper(): None for code in tables}
    core = [code.strip().upper() for code in core]
    try:
        entries = _list(folder)
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
    lookalikes: list[tuple[str, str]] = []  # (file name, table code)
    has_subfolders = False
    for entry in entries:
        name, path = entry.name, Path(entry.path)
        code = None if _is_hidden(name) else _exact_code(name, codes)
        if code is not None:
            kind = _kind(path)
            if kind != "file":
                raise _not_regular(path, kind)
            found.setdefault(code, []).append(path)
            continue
        if entry.is_dir():
            has_subfolders = has_subfolders or not _is_hidden(name)
            continue
        unknown.append(name)
        if not _is_hidden(name):
            like = _looks_like(name, list(codes))
            if like is not None:
                lookalikes.append((name, like))

    for code, paths in found.items():
        if len(paths) > 1:
            names = ", ".join(_quoted(p.name) for p in paths)
            raise InputError(
                f"表 {code} 有多个文件：{names}。",
                f"table {code} has more than one file: {names}.",
                path=folder,
                fix_zh="每个表只能保留一个文件，请删除或移走多余的文件。",
                fix_en="keep exactly one file per table: delete or move the others.",
            )
    conflicts = [
        (name, code)
        for name, code in lookalikes
        if code not in found or Path(name.strip()).suffix.lower() in _DATA_LIKE
    ]
    if found and conflicts:
        raise _misnamed(folder, conflicts, found)
    misplaced = _subfolder_files(folder, codes) if has_subfolders else {}
    misplaced = {code: paths for code, paths in misplaced.items() if code not in found}
    if misplaced:
        raise _misplaced(folder, misplaced)
    if not found:
        expected = ", ".join(f"{c}.csv" for c in codes) or "-"
        example = next(iter(codes), "TABLE_CODE")
        seen = _names(unknown) if unknown else "无 / none"
        hint_zh = hint_en = ""
        if conflicts:
            hint_zh = (
                "其中 " + "、".join(f"{_quoted(n)} 看起来是表 {c} 的文件" for n, c in conflicts[:5]) + "。"
            )
            hint_en = (
                " Of these, "
                + "; ".join(f"{_quoted(n)} looks like table {c}" for n, c in conflicts[:5])
                + "."
            )
        raise NoKnownTableError(
            f"文件夹中没有可识别的表文件。应有以下文件之一：{expected}（扩展名也可以是 .xlsx 或 .parquet）。"
            f"文件夹中的文件：{seen}。{hint_zh}",
            f"no known table file in the folder. Expected file names: {expected} (the extension may also "
            f"be .xlsx or .parquet). Files found: {seen}.{hint_en}",
            path=folder,
            fix_zh=f"请按表代码命名文件（如 {example}.csv），并保存为 .csv（UTF-8）、.xlsx 或 .parquet。",
            fix_en=f"name each file by its table code (e.g. {example}.csv) and save it as .csv (UTF-8), "
            ".xlsx or .parquet.",
        )
    missing_core = [code for code in core if code not in found]
    if missing_core:
        raise CoreTableMissingError(folder, missing_core)
    return TableFiles(
        folder=folder,
        files={code: found[code][0] for code in codes if code in found},
        unknown_files=sorted(unknown),
        absent_tables=[code for code in codes if code not in found],
    )


def _misnamed(
    folder: Path, conflicts: list[tuple[str, str]], found: Mapping[str, list[Path]]
) -> MisnamedTableFileError:
    zh_parts, en_parts = [], []
    for name, code in conflicts[:5]:
        shown = _quoted(name)
        if code in found:
            own = _quoted(found[code][0].name)
            zh_parts.append(f"{shown} 看起来也是表 {code} 的文件（该表已有 {own}）")
            en_parts.append(f"{shown} also looks like table {code}, which already has {own}")
        elif Path(name).stem.upper() == code:  # the right name, a format the loader cannot read
            suffix = _quoted(Path(name).suffix)
            zh_parts.append(f"{shown} 是表 {code} 的文件，但 {suffix} 格式无法读取")
            en_parts.append(f"{shown} is table {code}'s file, but the {suffix} format cannot be read")
        else:
            zh_parts.append(
                f"{shown} 看起来是表 {code} 的文件，但文件名不是 {code}.csv（或 .xlsx、.parquet）"
            )
            en_parts.append(
                f"{shown} looks like table {code} but is not named {code}.csv (or .xlsx, .parquet)"
            )
    more = len(conflicts) - 5
    code = conflicts[0][1]
    return MisnamedTableFileError(
        "文件名看起来像表文件，但不能识别："
        + "；".join(zh_parts)
        + (f"；另有 {more} 个" if more > 0 else "")
        + "。这样的文件会被忽略，该表会被当作缺失。",
        "file name looks like a table file but is not one: "
        + "; ".join(en_parts)
        + (f"; and {more} more" if more > 0 else "")
        + ". Such a file would be ignored and the table taken as absent.",
        path=folder,
        fix_zh=f"请把表文件保存为 .csv（UTF-8）、.xlsx 或 .parquet，文件名为表代码加扩展名（如 {code}.csv）；"
        "多余的副本请删除或移出批次文件夹。",
        fix_en=f"save the table as .csv (UTF-8), .xlsx or .parquet, named by its table code (e.g. {code}.csv); "
        "delete or move any extra copy out of the batch folder.",
    )


def _misplaced(folder: Path, misplaced: Mapping[str, list[Path]]) -> MisplacedTableFileError:
    rel = [p.relative_to(folder).as_posix() for paths in misplaced.values() for p in paths]
    subfolders = sorted({p.relative_to(folder).parts[0] for paths in misplaced.values() for p in paths})
    listing = _names(rel, 10)
    if len(subfolders) > 1:
        return MisplacedTableFileError(
            f"批次文件夹中没有表文件，但多个子文件夹中有：{listing}。这看起来是存放多个批次的文件夹。",
            f"the batch folder has no table file itself, but several of its subfolders do: {listing}. "
            "It looks like a folder of batches.",
            path=folder,
            fix_zh="请一次检查一个批次文件夹（--input 指向含表文件的那一层文件夹）。",
            fix_en="check one batch folder at a time (--input is the folder that holds the table files).",
        )
    return MisplacedTableFileError(
        f"表 {', '.join(misplaced)} 的文件不在批次文件夹中，而在子文件夹里：{listing}。",
        f"the file(s) of table(s) {', '.join(misplaced)} are not in the batch folder but in a subfolder: "
        f"{listing}.",
        path=folder,
        fix_zh="请把表文件移到批次文件夹这一层（压缩包解压后常多出一层同名文件夹），或把 --input 指向该子文件夹。",
        fix_en="move the table files up into the batch folder itself (unpacking an archive often adds a "
        "folder of the same name), or give that subfolder as --input.",
    )


# ---------------------------------------------------------------------------------------------------
# public API


def read_table(path: str | Path, table: str, *, required: Sequence[str] | None = None) -> LoadedTable:
    """Read one table file (format chosen by extension, any case) as text.

    ``required``: the column codes that must be present; a missing one raises
    :class:`~toolkit.errors.MissingColumnError` and every other column is listed in ``extra_columns``.
    Without it nothing is checked and ``extra_columns`` stays empty. Anything but a regular file (a named
    pipe, a device, a folder, a dangling link) is refused without being opened.
    """
    path = Path(path)
    table = table.strip().upper()
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UnreadableFileError(
            f"不支持的文件类型 {_quoted(path.suffix)}。",
            f"unsupported file type {_quoted(path.suffix)}.",
            path=path,
            fix_zh="请另存为 .csv（UTF-8）、.xlsx 或 .parquet。",
            fix_en="save it as .csv (UTF-8), .xlsx or .parquet.",
        )
    kind = _kind(path)
    if kind != "file":
        raise _not_regular(path, kind)
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
    numeric: dict[int, int] = {}
    lossy: set[int] = set()
    if fmt == "csv":
        encoding, header, records, locate = _read_csv(path, data)
    elif fmt == "xlsx":
        header, records, locate, numeric, lossy = _read_xlsx(path)
    else:
        header, records, locate, numeric, lossy = _read_parquet(path)
    header_text: list[str | None] = [None if h is None else str(h) for h in header]
    return _assemble(path, table, fmt, encoding, header_text, records, locate, required, numeric, lossy)


def load_batch(
    folder: str | Path,
    tables: Mapping[str, Sequence[str]],
    *,
    core: Sequence[str] = (),
    progress: bool = False,
) -> Batch:
    """Read every known table file of a batch folder.

    ``tables`` maps each known table code to the column codes that must be present. Files are found by
    :func:`discover_tables` (exact names such as ``QLT_FW_FDCQ_YZ.csv``, any case; look-alike names, files in
    subfolders, unusable files are errors); ``core``: table codes the batch must contain
    (:class:`~toolkit.errors.CoreTableMissingError` otherwise). Files that are not known tables are ignored
    and listed in :attr:`Batch.unknown_files`. ``progress=True`` shows a rich progress bar on stderr;
    otherwise nothing is printed.
    """
    required = {code.strip().upper(): list(columns) for code, columns in tables.items()}
    found = discover_tables(folder, required, core=core)
    jobs = list(found.files.items())
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
        folder=found.folder,
        tables=loaded,
        unknown_files=found.unknown_files,
        rows_read=sum(t.rows for t in loaded.values()),
        absent_tables=found.absent_tables,
    )
