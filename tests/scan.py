"""Reading every output file the way its reader would, to search it for planted text.

``texts(folder)`` yields (path, text) for every file under a folder: CSV/JSON/HTML/JS/text decoded (plus
HTML entities, ``\\uXXXX`` escapes and URL escapes undone), XLSX as the text of every cell (shared and
inline strings, formulas), SQLite as every text value of every table, and other binaries as Latin-1.
``formula_cells(path)`` lists the cells of an XLSX file that hold a formula.
"""

from __future__ import annotations

import html
import re
import sqlite3
import urllib.parse
import zipfile
from collections.abc import Iterator
from pathlib import Path


def _undo_escapes(text: str) -> str:
    variants = [text, html.unescape(text), urllib.parse.unquote(text)]
    escaped = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    variants += [escaped, html.unescape(escaped)]
    return "\n".join(variants)


def _xlsx_text(path: Path) -> str:
    parts = []
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.endswith(".xml"):
                parts.append(html.unescape(z.read(name).decode("utf-8", errors="replace")))
    return "\n".join(parts)


def _sqlite_text(path: Path) -> str:
    parts = []
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for t in tables:
            for row in con.execute(f'SELECT * FROM "{t}"'):
                parts.extend(str(v) for v in row if v is not None)
    finally:
        con.close()
    return "\n".join(parts)


def text_of(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix.lower() == ".xlsx":
        return _xlsx_text(path)
    if data.startswith(b"SQLite format 3\x00"):
        return _sqlite_text(path)
    return _undo_escapes(data.decode("utf-8", errors="replace"))


def texts(folder: Path) -> Iterator[tuple[Path, str]]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path, text_of(path)


def find(folder: Path, needles: list[str]) -> list[tuple[str, str]]:
    """(file, needle) for every planted needle found in any output under ``folder``."""
    hits = []
    for path, text in texts(folder):
        for n in needles:
            if n in text:
                hits.append((str(path.relative_to(folder)), n))
    return hits


def formula_cells(path: Path) -> list[str]:
    """Cells holding a formula (``<f>`` elements) in any sheet of an XLSX file."""
    out = []
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = z.read(name).decode("utf-8", errors="replace")
                out += [f"{name}: {m}" for m in re.findall(r"<f[ >][^<]*", xml)]
    return out
