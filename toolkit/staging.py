"""Batch files as DuckDB sources for the count engine, with the loader's semantics (:mod:`toolkit.loading`).

The engine never loads a table into pandas. For each table file of a batch it decides how DuckDB reads it:

* **UTF-8 CSV** (with or without BOM) is read directly with ``read_csv`` (every column ``VARCHAR``, no
  sniffing, RFC 4180 quoting). The file is streamed once in Python first: to check that it really is
  UTF-8 (the loader's encoding rule), to read the header record with Python's ``csv`` module, and to
  look for the few constructs on which DuckDB's parser and Python's differ (a space next to a quote
  character, a carriage return that is not part of ``\\r\\n``, ``\\r\\n`` mixed with ``\\n``). Such a file,
  and any file DuckDB refuses, is read by the loader instead (see below), so the result is always the
  loader's.
* **GB18030/GBK CSV** is transcoded chunk by chunk to a temporary UTF-8 file, which is then read as above.
* **Parquet** whose columns are all text or integers is read directly with ``read_parquet``
  (integers as their decimal text, like the loader); other column types are converted chunk by chunk
  (``pyarrow`` record batches) with the loader's own value-to-text function into a temporary
  all-text Parquet file.
* **XLSX** is streamed (``openpyxl`` read-only mode) into a temporary all-text Parquet file in chunks,
  cell by cell as the loader converts cells.
* Anything unusual (an empty or duplicate header name that holds data, the reserved ``_ROW`` header,
  a header wider than :data:`toolkit.loading.MAX_COLUMNS`, a NUL byte, UTF-8 with a few damaged bytes,
  a record DuckDB cannot parse …) is read by :func:`toolkit.loading.read_table` itself and written to a
  temporary Parquet file: whatever the loader does — including raising its exact error — the engine does.

Which file is which table is decided by :func:`toolkit.loading.discover_tables` (see :func:`discover`),
and an XLSX workbook with rows on a sheet other than the first is refused by the loader's own
:func:`toolkit.loading.check_other_sheets`.

Every source is then read through the same SQL: each cell that is empty or whitespace only
(``str.isspace``, so U+3000 and U+00A0 too) becomes ``NULL``, headers are normalised like the loader's
(BOM removed, stripped, upper case), and rows whose cells are all empty are skipped (not counted).
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.errors import InputError, MissingColumnError, UnreadableFileError
from toolkit.loading import (
    FORMATS,
    MAX_COLUMNS,
    ROW_COLUMN,
    Utf8Scan,
    _lossy_number,
    _raise_csv_field_limit,
    _to_text,
    _xlsx_cell_text,
    check_other_sheets,
    discover_tables,
    normalise_header,
    read_table,
    scan_utf8,
)
from toolkit.sqlcompile import _isspace_ranges, ident, isspace_class, literal

__all__ = ["Source", "discover", "normalise_sql", "prepare_source"]

CHUNK_BYTES = 16 << 20
CHUNK_ROWS = 65_536
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass
class Source:
    """How DuckDB reads one table file of one batch.

    ``columns`` maps each column DuckDB produces (positional ``c0``, ``c1`` … for CSV, names for
    Parquet) to the normalised field code, or to ``None`` for a column that is dropped (a header-less
    column that is empty, or a pandas index in Parquet)."""

    batch: str
    table: str
    path: Path
    format: str  # of the original file: csv | xlsx | parquet
    reader: str  # "csv" | "parquet": what DuckDB reads
    read_path: Path
    columns: list[tuple[str, str | None]]
    encoding: str | None = None
    staged: str | None = None  # None (read directly) or how it was converted
    notes: list[str] = field(default_factory=list)
    casts: frozenset[str] = frozenset()  # source columns to cast to text (Parquet integers)
    null_padding: bool = False  # CSV: DuckDB pads short records (second attempt; see toolkit.engine)
    encoding_checked: bool = False  # CSV: the loader's encoding test has been run
    empty_line: bool = False  # CSV: has an empty line before its last record (when asked; see _EmptyLines)
    numeric_columns: dict[str, int] = field(default_factory=dict)  # XLSX: cells stored as numbers
    lossy_columns: list[str] = field(default_factory=list)  # … of which digits may be lost (IDs)

    @property
    def fields(self) -> list[str]:
        return [f for _, f in self.columns if f is not None]

    def signature(self) -> tuple[Any, ...]:
        """Sources with the same signature can be read by one DuckDB ``read_*`` call over many files."""
        return (self.reader, tuple(self.columns), self.casts, self.null_padding)

    def column_sql(self, source_column: str, alias: str = "r") -> str:
        expr = f"{alias}.{ident(source_column)}"
        return f"CAST({expr} AS VARCHAR)" if source_column in self.casts else expr

    def read_sql(self, paths: Sequence[Path]) -> str:
        files = "[" + ", ".join(literal(str(p)) for p in paths) + "]"
        if self.reader == "parquet":
            return f"read_parquet({files}, filename = true)"
        spec = "{" + ", ".join(f"{literal(c)}: 'VARCHAR'" for c, _ in self.columns) + "}"
        return (
            f"read_csv({files}, columns = {spec}, header = true, auto_detect = false, delim = ',', "
            f"quote = '\"', escape = '\"', strict_mode = true, null_padding = {str(self.null_padding).lower()}, "
            "allow_quoted_nulls = true, filename = true, max_line_size = 16777216)"
        )


def normalise_sql(column_sql: str) -> str:
    """SQL that maps an empty or whitespace-only value to NULL (the loader's "empty").

    A cheap pre-test keeps the regular expression off almost every value: text that is whitespace only
    starts with a character below ``!`` or in the range U+0085…U+3000 (the non-ASCII ``isspace``
    characters); DuckDB compares text bytewise, which for UTF-8 is code-point order."""
    non_ascii = [cp for a, b in _isspace_ranges() for cp in range(a, b + 1) if cp > 0x20]
    low, high = min(non_ascii), max(non_ascii)
    pre = f"({column_sql} < '!' OR ({column_sql} >= chr({low}) AND {column_sql} < chr({high + 1})))"
    return (
        f"CASE WHEN {pre} AND regexp_full_match({column_sql}, '[{isspace_class()}]*') "
        f"THEN NULL ELSE {column_sql} END"
    )


# ------------------------------------------------------------------------------------------------ discovery


def discover(
    folder: Path, tables: Mapping[str, Sequence[str]], *, core: Sequence[str] = ()
) -> tuple[dict[str, Path], list[str], list[str]]:
    """The table files of a batch folder: :func:`toolkit.loading.discover_tables`, the very function
    :func:`toolkit.loading.load_batch` uses (same files, same errors; ``core`` as there).

    Returns (table code → file, unknown file names, absent table codes)."""
    found = discover_tables(folder, tables, core=core)
    return found.files, found.unknown_files, found.absent_tables


# ------------------------------------------------------------------------------------------------ helpers


class _Fallback(Exception):
    """Read this file with the loader."""


def _header_names(raw: Sequence[str | None]) -> list[str | None]:
    """Normalised names, ``None`` for an empty header cell; raises _Fallback for anything the loader
    would reject or treat specially (duplicates, the reserved ``_ROW``, an empty header row)."""
    if len(raw) > MAX_COLUMNS:
        raise _Fallback("too many columns")
    names: list[str | None] = []
    seen: set[str] = set()
    for h in raw:
        name = "" if h is None else normalise_header(str(h))
        if name == "":
            names.append(None)
            continue
        if name == ROW_COLUMN or name in seen:
            raise _Fallback(f"header {name!r}")
        seen.add(name)
        names.append(name)
    if not any(n is not None for n in names):
        raise _Fallback("empty header")
    return names


def _check_required(
    path: Path, table: str, names: Sequence[str | None], required: Sequence[str] | None
) -> None:
    if required is None:
        return
    have = {n for n in names if n is not None}
    missing = [c for c in (normalise_header(r) for r in required) if c not in have]
    if missing:
        raise MissingColumnError(path, table, missing)


def _head(path: Path) -> bool:
    """True if the file starts with a UTF-8 BOM; _Fallback for an empty or UTF-16 file (the loader's error)."""
    if path.stat().st_size == 0:
        raise _Fallback("empty file")
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _Fallback("utf-16")
    return head.startswith(_UTF8_BOM)


def _chunks_marked(fh: Any) -> Any:
    """The file's chunks, each with whether it is the last."""
    data = fh.read(CHUNK_BYTES)
    while data:
        more = fh.read(CHUNK_BYTES)
        yield data, not more
        data = more


def _scan_csv(path: Path, empty_lines: bool = False) -> tuple[bool, bool]:
    """One read of the file: ``(risky, empty_line)``. ``risky``: the file holds a construct on which
    DuckDB's CSV parser and Python's may differ — a space next to a quote character (DuckDB trims it), a
    carriage return that is not part of ``\\r\\n``, or ``\\r\\n`` mixed with ``\\n`` — or a NUL byte,
    which the loader refuses (naming its line). ``empty_line`` (asked for with ``empty_lines``; a risky
    file is read by the loader anyway): see :class:`_EmptyLines`. Fast: ``memchr`` searches, unless
    quotes or CRs occur, and a vectorised search for empty lines, which runs in a second thread (numpy
    releases the GIL) one chunk behind the other searches."""
    prev = b""
    has_cr = False
    empty = _EmptyLines() if empty_lines else None
    found = False
    pending: Future[bool] | None = None  # the empty-line search of the previous chunk
    with ThreadPoolExecutor(1) as pool, path.open("rb") as fh:
        for chunk, last in _chunks_marked(fh):
            if chunk.find(b"\x00") >= 0:
                return True, found
            if chunk.find(b'"') >= 0 or prev == b'"':
                window = prev + chunk
                if b' "' in window or b'" ' in window:
                    return True, found
            has_cr = has_cr or chunk.find(b"\r") >= 0
            prev = chunk[-1:]
            if pending is not None:  # chunk by chunk, in order: the search carries the previous chunk's end
                found, pending = pending.result(), None
            if empty is not None and not found:
                pending = pool.submit(empty.feed, chunk, last)
        if pending is not None:
            found = pending.result()
    if not has_cr:
        return False, found
    cr = crlf = lf = 0
    prev = b""
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            cr += chunk.count(b"\r")
            lf += chunk.count(b"\n")
            crlf += (prev + chunk).count(b"\r\n") if prev == b"\r" else chunk.count(b"\r\n")
            prev = chunk[-1:]
    return cr != crlf or lf != crlf, found


def _chunks(path: Path) -> Any:
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            yield chunk


def utf8_scan(path: Path) -> Utf8Scan:
    """The loader's encoding test, streaming: :func:`toolkit.loading.scan_utf8` over the whole file
    (``.ok``: valid UTF-8; ``.stray``: UTF-8 with a few damaged bytes, which the loader refuses)."""
    return scan_utf8(_chunks(path))


def is_utf8(path: Path) -> bool:
    """The loader's test: does the whole file decode as UTF-8 (streaming)?"""
    return utf8_scan(path).ok


def _csv_header(path: Path, encoding: str) -> list[str]:
    """The first CSV record (the header), read with Python's csv module like the loader."""
    _raise_csv_field_limit()
    with path.open("r", encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, strict=True)
        try:
            header = next(reader)
        except StopIteration as exc:
            raise _Fallback("no header") from exc
        except csv.Error as exc:
            raise _Fallback(f"header: {exc}") from exc
    return list(header)


def _transcode_gb18030(path: Path, out: Path) -> None:
    decoder = codecs.getincrementaldecoder("gb18030")()
    with path.open("rb") as src, out.open("wb") as dst:
        try:
            while chunk := src.read(CHUNK_BYTES):
                dst.write(decoder.decode(chunk).encode("utf-8"))
            dst.write(decoder.decode(b"", final=True).encode("utf-8"))
        except UnicodeDecodeError as exc:
            raise _Fallback("not GB18030 either") from exc


def _write_text_parquet(out: Path, width: int, rows_iter: Any) -> None:
    """Write rows (lists of str | None, ``width`` long) to an all-text Parquet file in chunks."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(f"c{i}", pa.string()) for i in range(width)])
    with pq.ParquetWriter(out, schema) as writer:
        chunk: list[list[str | None]] = []
        for row in rows_iter:
            chunk.append(row)
            if len(chunk) >= CHUNK_ROWS:
                writer.write_table(_table(chunk, width, schema))
                chunk = []
        if chunk:
            writer.write_table(_table(chunk, width, schema))


def _table(chunk: list[list[str | None]], width: int, schema: Any) -> Any:
    import pyarrow as pa

    columns = list(zip(*chunk, strict=True)) if width else []
    return pa.Table.from_arrays([pa.array(list(c), pa.string()) for c in columns], schema=schema)


def _positional(names: Sequence[str | None]) -> list[tuple[str, str | None]]:
    return [(f"c{i}", n) for i, n in enumerate(names)]


# ------------------------------------------------------------------------------------------------ per format


def _csv_source(
    batch: str,
    table: str,
    path: Path,
    required: Sequence[str] | None,
    work: Path,
    *,
    gb18030: bool = False,
    empty_lines: bool = False,
) -> Source:
    """A CSV file as a DuckDB source. UTF-8 is assumed (DuckDB rejects any byte sequence that is not
    UTF-8, and the engine then calls :func:`recover_csv`); ``gb18030`` transcodes first. ``empty_lines``:
    also look for empty lines (:attr:`Source.empty_line`), in the same read."""
    bom = _head(path)
    read_path, staged, encoding = path, None, "utf-8-sig" if bom else "utf-8"
    if gb18030:
        read_path = work / f"{batch}__{table}.utf8.csv"
        _transcode_gb18030(path, read_path)
        staged, encoding = "gb18030→utf-8", "gb18030"
    risky, empty_line = _scan_csv(read_path, empty_lines)
    if risky:
        raise _Fallback("csv construct DuckDB parses differently")
    try:
        raw = _csv_header(read_path, "utf-8-sig" if (bom and not gb18030) else "utf-8")
    except UnicodeDecodeError as exc:
        if gb18030 or bom:
            raise _Fallback("header not decodable") from exc
        scan = utf8_scan(path)
        if scan.ok or scan.stray:  # the loader decides (and refuses UTF-8 with damaged bytes)
            raise _Fallback("header not decodable") from exc
        return _csv_source(batch, table, path, required, work, gb18030=True, empty_lines=empty_lines)
    names = _header_names(raw)
    if any(n is None for n in names):
        raise _Fallback("header-less column")
    _check_required(path, table, names, required)
    return Source(
        batch=batch,
        table=table,
        path=path,
        format="csv",
        reader="csv",
        read_path=read_path,
        columns=_positional(names),
        encoding=encoding,
        staged=staged,
        encoding_checked=gb18030,
        empty_line=empty_line,
    )


def recover_csv(source: Source, required: Sequence[str] | None, work: Path) -> Source:
    """DuckDB refused a CSV file read as UTF-8: if the file is not UTF-8 (the loader's test over the
    whole file), the same file transcoded from GB18030 (or read by the loader); else the source itself,
    marked as checked."""
    if source.encoding == "utf-8-sig":
        return dataclasses.replace(source, encoding_checked=True)
    scan = utf8_scan(source.path)
    if scan.ok:
        return dataclasses.replace(source, encoding_checked=True)
    if scan.stray:  # UTF-8 with a few damaged bytes: the loader refuses it, naming the lines
        return _loader_source(source.batch, source.table, source.path, required, work, "utf-8 damaged")
    try:
        return _csv_source(source.batch, source.table, source.path, required, work, gb18030=True)
    except _Fallback as why:
        return _loader_source(source.batch, source.table, source.path, required, work, str(why))


def _parquet_source(batch: str, table: str, path: Path, required: Sequence[str] | None, work: Path) -> Source:
    import re

    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.stat().st_size == 0:
        raise _Fallback("empty file")
    try:
        schema = pq.read_schema(path)
    except Exception as exc:
        raise _Fallback(f"schema: {exc}") from exc
    index = re.compile(r"__index_level_\d+__")
    kept = [(f.name, f.type) for f in schema if not index.fullmatch(f.name)]
    names = _header_names([n for n, _ in kept])
    if any(n is None for n in names):
        raise _Fallback("header-less column")
    _check_required(path, table, names, required)

    def direct(t: Any) -> bool:
        return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t)

    if all(direct(t) for _, t in kept):
        return Source(
            batch=batch,
            table=table,
            path=path,
            format="parquet",
            reader="parquet",
            read_path=path,
            columns=[(name, norm) for (name, _), norm in zip(kept, names, strict=True)],
            casts=frozenset(name for name, kind in kept if pa.types.is_integer(kind)),
        )
    # convert column by column, as the loader does, chunk by chunk
    out = work / f"{batch}__{table}.text.parquet"
    pf = pq.ParquetFile(path)
    positions = [schema.get_field_index(n) for n, _ in kept]

    def rows() -> Any:
        for rb in pf.iter_batches(batch_size=CHUNK_ROWS):
            columns = []
            for pos in positions:
                column = rb.column(pos)
                kind = column.type
                try:
                    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
                        values = column.to_pylist()
                    elif pa.types.is_integer(kind):
                        values = column.cast(pa.string()).to_pylist()
                    elif pa.types.is_nested(kind):
                        raise _Fallback("nested type")
                    else:
                        values = [_to_text(v) for v in column.to_pylist()]
                except (TypeError, ValueError, pa.ArrowException) as exc:
                    raise _Fallback(f"conversion: {exc}") from exc
                columns.append(values)
            yield from (list(r) for r in zip(*columns, strict=True))

    _write_text_parquet(out, len(kept), rows())
    return Source(
        batch=batch,
        table=table,
        path=path,
        format="parquet",
        reader="parquet",
        read_path=out,
        columns=_positional(names),
        staged="parquet→text",
    )


def _xlsx_source(batch: str, table: str, path: Path, required: Sequence[str] | None, work: Path) -> Source:
    import openpyxl

    cell_text = _xlsx_cell_text  # as toolkit.loading._read_xlsx

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise _Fallback(f"open: {exc}") from exc
    out = work / f"{batch}__{table}.xlsx.parquet"
    it: Any = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if not workbook.worksheets:
                raise _Fallback("no worksheet")
            check_other_sheets(workbook, path)  # rows on another sheet: the loader's error
            sheet = workbook.worksheets[0]
            sheet.reset_dimensions()
            it = sheet.iter_rows()
            try:
                header_row = next(it)
            except StopIteration as exc:
                raise _Fallback("empty sheet") from exc
            raw = [cell_text(c) for c in header_row]
            while raw and (raw[-1] is None or raw[-1].strip() == ""):
                raw.pop()  # trailing empty (formatted) header cells: as the loader counts the width
            names = _header_names(raw)
            _check_required(path, table, names, required)
            width = len(names)
            keep = [i for i, n in enumerate(names) if n is not None]
            numeric: dict[int, int] = {}
            lossy: set[int] = set()

            def rows() -> Any:
                for row in it:
                    for i, cell in enumerate(row):  # numbers, not text: as the loader counts them
                        kind = type(cell.value)
                        if kind is int or kind is float:
                            numeric[i] = numeric.get(i, 0) + 1
                            if i not in lossy and _lossy_number(cell.value):
                                lossy.add(i)
                    values = [cell_text(c) for c in row]
                    for i, v in enumerate(values):
                        if (i >= width or names[i] is None) and v is not None and v != "" and not v.isspace():
                            raise _Fallback("value in a header-less column")
                    if len(values) < width:
                        values.extend([None] * (width - len(values)))
                    yield [values[i] for i in keep]

            _write_text_parquet(out, len(keep), rows())
    except (InputError, _Fallback):
        raise
    except Exception as exc:
        raise _Fallback(f"read: {exc}") from exc
    finally:
        if it is not None:
            it.close()  # closes the sheet's file inside the archive (if left unfinished)
        workbook.close()
    return Source(
        batch=batch,
        table=table,
        path=path,
        format="xlsx",
        reader="parquet",
        read_path=out,
        columns=_positional([names[i] for i in keep]),
        staged="xlsx→text",
        numeric_columns={
            names[i]: n for i, n in sorted(numeric.items()) if i < width and names[i] is not None
        },
        lossy_columns=[names[i] for i in sorted(lossy) if i < width and names[i] is not None],
    )


def _loader_source(
    batch: str, table: str, path: Path, required: Sequence[str] | None, work: Path, why: str
) -> Source:
    """Read the file with the loader itself (raising its error if it has one), staged as Parquet."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    loaded = read_table(path, table, required=required)
    frame = loaded.frame.drop(columns=[ROW_COLUMN])
    rows = pd.to_numeric(loaded.frame[ROW_COLUMN], errors="coerce")
    if len(rows) and rows.notna().all() and list(rows) != list(range(2, len(rows) + 2)):
        # blank records keep their place as empty rows: records numbered as read get the loader's _ROW
        frame = frame.set_axis(rows.astype(int)).reindex(range(2, int(rows.max()) + 1))
        frame = frame.astype(object).where(frame.notna(), None)
    out = work / f"{batch}__{table}.loader.parquet"
    arrays = [pa.array(list(frame[c]), pa.string()) for c in frame.columns]
    schema = pa.schema([(f"c{i}", pa.string()) for i in range(len(frame.columns))])
    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), out)
    return Source(
        batch=batch,
        table=table,
        path=path,
        format=loaded.format,
        reader="parquet",
        read_path=out,
        columns=_positional(list(frame.columns)),
        encoding=loaded.encoding,
        staged="loader",
        notes=[why],
        numeric_columns=dict(loaded.numeric_columns),
        lossy_columns=list(loaded.lossy_columns),
    )


def prepare_source(
    batch: str,
    table: str,
    path: Path,
    required: Sequence[str] | None,
    work: Path,
    *,
    empty_lines: bool = False,
) -> Source:
    """Decide how DuckDB reads ``path`` (see the module docstring); may write a file into ``work``.
    ``empty_lines``: a CSV file read by DuckDB is also searched for empty lines (:attr:`Source.empty_line`)."""
    fmt = FORMATS.get(path.suffix.lower())
    try:
        if fmt == "csv":
            return _csv_source(batch, table, path, required, work, empty_lines=empty_lines)
        if fmt == "parquet":
            return _parquet_source(batch, table, path, required, work)
        if fmt == "xlsx":
            return _xlsx_source(batch, table, path, required, work)
    except _Fallback as why:
        return _loader_source(batch, table, path, required, work, str(why))
    raise UnreadableFileError(  # pragma: no cover - discover() only returns known formats
        f"不支持的文件类型 {path.suffix!r}。", f"unsupported file type {path.suffix!r}.", path=path
    )


class _EmptyLines:
    """Is there an empty line before the file's last record? DuckDB skips empty lines, the loader counts
    each as a (blank) record, so row numbers would differ after it; a quoted value holding an empty line
    also answers yes (the file is then read by the loader: slower, exact). Fed chunk by chunk (no memory
    map: its pages would count as the process's memory), vectorised: line ends ``gap`` bytes apart, the file's line end taken from its
    first line; a pattern may straddle two chunks; trailing line ends follow the last record and move no
    row."""

    def __init__(self) -> None:
        self.pattern = b""
        self.tail = b""  # the previous chunk's last bytes

    def feed(self, data: bytes, last: bool) -> bool:
        import numpy as np

        if not self.pattern:
            first = data.find(b"\n")
            if first < 0:
                self.pattern = b"\r\r"
            else:
                self.pattern = b"\n\r\n" if data[first - 1 : first] == b"\r" else b"\n\n"
        pattern = self.pattern
        end, gap = pattern[0], len(pattern) - 1
        if last:
            data = data.rstrip(b"\r\n")
        if pattern in self.tail + data[:gap]:
            return True
        buf = np.frombuffer(data, dtype=np.uint8)
        ends = np.flatnonzero(buf == end)
        near = ends[:-1][np.diff(ends) == gap]
        if len(near) and (gap == 1 or bool(np.any(buf[near + 1] == pattern[1]))):
            return True
        self.tail = data[-gap:]
        return False


def loader_fallback(source: Source, required: Sequence[str] | None, work: Path, why: str) -> Source:
    """The same file read by the loader (used when DuckDB refuses a file)."""
    return _loader_source(source.batch, source.table, source.path, required, work, why)
