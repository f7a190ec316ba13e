"""The one place that writes tabular files (CSV and XLSX) — so that no value from the data is ever run.

Input batches are not trusted: a cell may hold ``=cmd|' /C calc'!A0``, ``=HYPERLINK(...)``, a NUL byte or a
terminal escape sequence. Every CSV and XLSX file the toolkit writes goes through this module, which
guarantees:

* **No invisible characters.** :func:`safe_text` replaces control characters — C0 except tab and line feed
  (so also CR), DEL, C1, lone surrogates and the non-characters U+FFFE/U+FFFF — by a visible escape such as
  ``\\x1b`` or ``\\x00``. Nothing invisible or terminal-controlling reaches a file, and openpyxl never
  raises ``IllegalCharacterError``.
* **CSV: no formula.** :func:`neutralise_csv` puts an apostrophe ``'`` before a text that starts with
  ``=``, ``+``, ``-``, ``@``, tab or CR (or the full-width ``＝ ＋ － ＠``, which Excel/WPS may also take as
  the start of a formula), so that Excel/WPS show it as text. **Exception:** a value that is a plain
  number as a whole (``-2.8``, ``+3``, ``-1e5``; see :data:`PLAIN_NUMBER`) is left as it is — a plain
  number cannot be a formula, and machine readers of counts and scores must keep working. Numeric columns
  are never touched. Files are UTF-8 with BOM (:data:`CSV_ENCODING`) without the index.
* **XLSX: every text is a text cell.** :func:`save_workbook` walks every cell of every worksheet before
  saving: a text gets :func:`safe_text`, is stored as a string cell (never a formula ``<f>`` nor an error
  value such as ``#N/A``), and a text that starts with a formula character also gets the cell's
  "quote prefix" (the apostrophe Excel shows when one types ``'=1``), so that it stays text even when
  somebody edits the cell. The toolkit writes no formula on purpose; a caller that ever needs one must
  name the cells in ``allow_formulas``. :func:`frames_to_xlsx` writes data frames (like
  ``DataFrame.to_excel``) the same way: text stays text (an 18-digit ID keeps all its digits), and an
  integer of 16 or more digits — which Excel would round — is written as text too.

Reading these files back: a CSV cell may start with the added ``'``; an XLSX cell's value is the text
itself (the quote prefix is a cell style, not part of the value).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from toolkit.text import escape_controls

if TYPE_CHECKING:
    from openpyxl import Workbook

__all__ = [
    "CSV_ENCODING",
    "FORMULA_PREFIXES",
    "PLAIN_NUMBER",
    "append_csv",
    "append_csv_query",
    "csv_cell",
    "frames_to_xlsx",
    "guard_workbook",
    "is_formula_like",
    "neutralise_csv",
    "read_csv",
    "relabel_csv_column",
    "restore_csv",
    "safe_frame",
    "safe_text",
    "save_workbook",
    "write_csv",
    "xlsx_value",
]

CSV_ENCODING = "utf-8-sig"
"""UTF-8 with BOM, so that Excel and WPS open the CSV files with the right encoding."""

FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
"""First characters that make Excel/WPS (or LibreOffice) read a cell as a formula."""

PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
"""A plain decimal number (``-2.8``, ``+3``, ``1e5``, ``-0``); matched against the whole value."""

# Excel keeps 15 significant digits; larger integers are written as text so that no digit is lost.
_MAX_EXACT_INT = 10**15

_DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"  # as pandas.ExcelWriter
_DATE_FORMAT = "yyyy-mm-dd"


def safe_text(value: Any) -> Any:
    """``value`` with every control character replaced by a visible escape (``\\x1b``, ``\\x00``, ``\\ud800``).

    Kept: tab and line feed. Replaced: the other C0 characters (including CR), DEL, C1, lone surrogates
    and U+FFFE/U+FFFF. A value that is not a ``str`` is returned unchanged.
    """
    if not isinstance(value, str):
        return value
    return escape_controls(value)


def is_formula_like(value: Any) -> bool:
    """True for a ``str`` that a spreadsheet could take for a formula: it starts with one of
    :data:`FORMULA_PREFIXES` and is not a plain number as a whole."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not PLAIN_NUMBER.fullmatch(value)


def neutralise_csv(value: Any) -> Any:
    """``value`` with a leading apostrophe if it :func:`looks like a formula <is_formula_like>`.

    ``'=1+1'`` → ``"'=1+1"``; ``'-2.8'``, ``'+3'`` and ``'-1e5'`` (plain numbers) and values that are not a
    ``str`` are returned unchanged.
    """
    return "'" + value if is_formula_like(value) else value


def restore_csv(value: Any) -> Any:
    """Undo :func:`neutralise_csv` when reading back a CSV the toolkit wrote: ``"'=1+1"`` → ``'=1+1'``.
    A value that merely starts with an apostrophe (``"'abc"``) is kept as it is."""
    if isinstance(value, str) and value.startswith("'") and is_formula_like(value[1:]):
        return value[1:]
    return value


def read_csv(path: str | Path, **kwargs: Any) -> pd.DataFrame:
    """Read a CSV the toolkit wrote (UTF-8 with BOM; text by default), undoing :func:`neutralise_csv`."""
    kwargs.setdefault("dtype", str)
    kwargs.setdefault("encoding", CSV_ENCODING)
    frame = pd.read_csv(path, **kwargs)
    for col in frame.columns:
        if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col]):
            frame[col] = frame[col].map(restore_csv)
    return frame


def csv_cell(value: Any) -> Any:
    """A value as it goes into a CSV cell: :func:`neutralise_csv`, then :func:`safe_text`."""
    if not isinstance(value, str):
        return value
    return safe_text(neutralise_csv(value))


def _texty(series: pd.Series) -> bool:
    dtype = series.dtype
    return (
        pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    )


# the cells csv_cell may change, for a vectorised first pass over Arrow-backed text columns (an Arrow string
# holds no lone surrogate, so they need not be in the pattern)
_ARROW_SUSPECT = "^[" + re.escape("".join(FORMULA_PREFIXES)) + "]|[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]"


# the same for a Python str, which may also hold a lone surrogate
_CELL_SUSPECT = re.compile(_ARROW_SUSPECT + "|[\ud800-\udfff]")


def _safe_column(col: pd.Series) -> pd.Series:
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        col = col.astype(object)
    elif isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        suspect = col.str.contains(_ARROW_SUSPECT, regex=True, na=False)
        if not suspect.any():
            return col
        col = col.copy()
        col[suspect] = col[suspect].map(csv_cell)
        return col
    try:  # the distinct values only: a problem list repeats its rule, message and unit on every row
        uniques = pd.unique(col.dropna())
    except TypeError:  # unhashable cells
        return col.map(csv_cell, na_action="ignore")
    if all(not isinstance(v, str) or csv_cell(v) == v for v in uniques):
        return col
    return col.map(csv_cell, na_action="ignore")


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell (and column name) passed through :func:`csv_cell`;
    numeric, boolean and date columns are untouched."""
    out = frame.copy(deep=False)
    names = [csv_cell(c) for c in out.columns]
    if any(a is not b for a, b in zip(names, out.columns, strict=True)):
        out.columns = names
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if _texty(col):
            out.isetitem(i, _safe_column(col))
    return out


def write_csv(frame: pd.DataFrame, path: str | Path, *, encoding: str = CSV_ENCODING) -> Path:
    """Write ``frame`` as CSV (UTF-8 with BOM, no index); text cells as :func:`csv_cell` makes them."""
    path = Path(path)
    safe_frame(frame).to_csv(path, index=False, encoding=encoding)
    return path


def append_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Append ``frame`` to the CSV ``path`` like :func:`write_csv`: a new (or empty) file gets the BOM and
    the header row; an existing one only the rows (no second BOM)."""
    path = Path(path)
    new = not path.exists() or path.stat().st_size == 0
    safe_frame(frame).to_csv(
        path, mode="a", header=new, index=False, encoding=CSV_ENCODING if new else "utf-8"
    )
    return path


# what makes the csv module (QUOTE_MINIMAL, delimiter ``,``, quote ``"``, line end ``\n``) quote a cell
_CSV_QUOTE = (",", '"', "\n")


def _re2_class(chars: str) -> str:
    return "".join(f"\\x{{{ord(c):x}}}" for c in chars)


# a CSV line DuckDB built (cells quoted as the csv module quotes) holding a cell csv_cell may change: one
# that starts with a formula character (at the line's start or after a comma, perhaps after the opening
# quote; a comma inside a quoted cell only flags too much) or any control character (RE2, as DuckDB's)
_LINE_SUSPECT = (
    f'(?:^|,)"?[{_re2_class("".join(FORMULA_PREFIXES))}]'
    "|[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\x{fffe}\\x{ffff}]"
)


def append_csv_query(
    con: Any,
    query: str,
    columns: Sequence[str],
    path: str | Path,
    order_by: Sequence[str] = (),
    clean: Collection[str] = (),
) -> int:
    """Append the rows of a DuckDB ``query`` (its ``columns``, text or NULL, in ``order_by``'s order) to a
    CSV that :func:`write_csv` started: the bytes :func:`append_csv` writes for the same cells —
    :func:`csv_cell` on every text, NULL as an empty cell, quoted as the csv module quotes. DuckDB builds
    each line, so a long problem list does not pass through Python cell by cell; a line that may hold a
    cell :func:`csv_cell` changes (:data:`_LINE_SUSPECT`, which flags too much, never too little) is
    written again by the csv module from its cells. ``clean``: columns whose every value the caller has
    found :func:`csv_cell` leaves as it is (a rule's message, checked once per rule rather than on each of
    its rows): quoted, but not searched. Returns the number of rows appended."""
    import io

    import pyarrow as pa

    from toolkit.checks.sql import ident, literal

    if not columns:
        raise ValueError("append_csv_query needs at least one column")
    cells = [f"dq_q.{ident(c)}" for c in columns]
    quote = " OR ".join(f"contains({{0}}, {literal(ch)})" for ch in _CSV_QUOTE)
    quoted = [
        f"CASE WHEN {c} IS NULL THEN '' WHEN {quote.format(c)} "
        f"THEN '\"' || replace({c}, '\"', '\"\"') || '\"' ELSE {c} END"
        for c in cells
    ]
    line = "concat(" + ", ',', ".join(quoted) + ", chr(10))"
    # the cells to search, joined by commas (each starts the text or follows a comma, as in the line)
    searched = dict.fromkeys(c for name, c in zip(columns, cells, strict=True) if name not in clean)
    suspect = (
        f"regexp_matches(concat_ws(',', {', '.join(searched)}), {literal(_LINE_SUSPECT)})"
        if searched
        else "false"
    )
    order = f" ORDER BY {', '.join(order_by)}" if order_by else ""
    sql = (
        f"SELECT dq_line, CASE WHEN {suspect} THEN [{', '.join(cells)}] END "
        f"FROM (SELECT {line} AS dq_line, dq_q.* FROM ({query}) dq_q) dq_q{order}"
    )
    n = 0
    with Path(path).open("ab") as fh:
        for chunk in con.sql(sql).to_arrow_reader(100_000):  # a relation's Arrow reader keeps the order
            lines, again = chunk.column(0), chunk.column(1)
            if not (pa.types.is_string(lines.type) or pa.types.is_large_string(lines.type)):
                lines = lines.cast(pa.large_string())
            width = np.int32 if pa.types.is_string(lines.type) else np.int64
            ends = np.frombuffer(lines.buffers()[1], dtype=width)[
                lines.offset : lines.offset + len(lines) + 1
            ]
            data = memoryview(lines.buffers()[2])  # the lines' UTF-8 bytes, one after the other
            at = int(ends[0])
            for i in np.flatnonzero(again.is_valid().to_numpy(zero_copy_only=False)):
                buf = io.StringIO()  # written again by the csv module, every cell through csv_cell
                csv.writer(buf, lineterminator="\n").writerow([csv_cell(v) for v in again[i].as_py()])
                fh.write(data[at : int(ends[i])])
                fh.write(buf.getvalue().encode("utf-8"))
                at = int(ends[i + 1])
            fh.write(data[at : int(ends[-1])])
            n += len(lines)
    return n


def relabel_csv_column(path: str | Path, column: str, mapping: dict[str, str]) -> int:
    """Rewrite one column of a CSV written here, value by value through ``mapping`` (others unchanged),
    streaming row by row (a problem list may be larger than memory); a new value gets :func:`csv_cell`.
    Returns the number of cells changed. A file without that column is left alone."""
    import os

    path = Path(path)
    if not mapping or not path.exists():
        return 0
    tmp = path.with_name(path.name + ".relabel")
    changed = 0
    with path.open(encoding=CSV_ENCODING, newline="") as src:
        reader = csv.reader(src)
        header = next(reader, None)
        if header is None or column not in header:
            return 0
        at = header.index(column)
        with tmp.open("w", encoding=CSV_ENCODING, newline="") as dst:
            writer = csv.writer(dst, lineterminator="\n")
            writer.writerow(header)
            for row in reader:
                if at < len(row) and row[at] in mapping:
                    row[at] = csv_cell(mapping[row[at]])
                    changed += 1
                writer.writerow(row)
    os.replace(tmp, path)
    return changed


# ------------------------------------------------------------------------------------------------ xlsx


def xlsx_value(value: Any) -> Any:
    """``value`` ready to assign to an openpyxl cell: missing values (None, NaN, NA, NaT) → None, numpy
    scalars → Python, text → :func:`safe_text`, an integer of 16 or more digits → its digits as text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.datetime64):
        return None if pd.isna(value) else pd.Timestamp(value).to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()  # numpy scalar
        if isinstance(value, float) and math.isnan(value):
            return None
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _MAX_EXACT_INT:
        return str(value)
    return value


def _formula_text(value: Any) -> str:
    text = getattr(value, "text", None)  # ArrayFormula
    return str(text if text is not None else value)


def guard_workbook(wb: Workbook, *, allow_formulas: Collection[str] = ()) -> Workbook:
    """Make every cell of ``wb`` safe in place (see the module docstring) and return ``wb``.

    ``allow_formulas``: cells that may keep a formula, as ``"<sheet title>!<coordinate>"`` (``"汇总!B7"``).
    """
    if getattr(wb, "write_only", False):
        raise TypeError("guard_workbook needs a normal workbook, not a write-only one")
    allowed = set(allow_formulas)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if cell.data_type == "f" and f"{ws.title}!{cell.coordinate}" in allowed:
                    continue
                if isinstance(value, str):
                    text = safe_text(value)
                elif cell.data_type == "f" and value is not None:  # ArrayFormula, DataTableFormula
                    text = safe_text(_formula_text(value))
                else:
                    continue
                if text is not value:
                    cell.value = text
                if cell.data_type != "s":  # "f" formula, "e" error value such as #N/A
                    cell.data_type = "s"
                if is_formula_like(text) and not cell.quotePrefix:
                    cell.quotePrefix = True
    return wb


def save_workbook(wb: Workbook, path: str | Path, *, allow_formulas: Collection[str] = ()) -> Path:
    """:func:`guard_workbook`, then save ``wb`` to ``path`` (creating its folder)."""
    path = Path(path)
    guard_workbook(wb, allow_formulas=allow_formulas)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def frames_to_xlsx(sheets: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write data frames to one workbook, one worksheet per item (title → frame), like
    ``DataFrame.to_excel(index=False)`` in a ``pandas.ExcelWriter``: a bold, bordered header row, dates
    as dates. Text stays text (formatted ``@``, so that digits typed later stay text as well); numbers
    stay numbers, except integers of 16 or more digits (written as text, see :func:`xlsx_value`)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    wb = Workbook()
    wb.remove(wb.active)
    thin = Side(style="thin")
    header_font = Font(bold=True)
    header_border = Border(left=thin, right=thin, top=thin, bottom=thin)
    header_alignment = Alignment(horizontal="center", vertical="top")
    for title, frame in sheets.items():
        ws = wb.create_sheet(title)
        for j, name in enumerate(frame.columns, start=1):
            c = ws.cell(row=1, column=j, value=xlsx_value(name))
            c.font, c.border, c.alignment = header_font, header_border, header_alignment
        for i, record in enumerate(frame.itertuples(index=False, name=None), start=2):
            for j, raw in enumerate(record, start=1):
                value = xlsx_value(raw)
                if isinstance(value, dt.datetime) and value.tzinfo is not None:
                    value = value.isoformat(sep=" ")  # Excel has no time zones
                if value is None:
                    continue
                c = ws.cell(row=i, column=j, value=value)
                if isinstance(value, str):
                    c.number_format = "@"
                elif isinstance(value, dt.datetime):
                    c.number_format = _DATETIME_FORMAT
                elif isinstance(value, dt.date):
                    c.number_format = _DATE_FORMAT
    if not wb.worksheets:
        wb.create_sheet("Sheet1")
    return save_workbook(wb, path)
