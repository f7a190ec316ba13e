"""Rendering of the toolkit's reports: the ONE place for their HTML and XLSX.

The bulletin (:mod:`toolkit.report`), the common-problems list (:mod:`toolkit.common_problems`) and the
audit checklist (:mod:`toolkit.audit`) all render through this module; it imports none of them, so that
no report module imports another.

HTML
    :func:`render_html` renders a template of ``toolkit/templates`` with a Jinja2 environment that
    **escapes everything** (``autoescape``; text from the data and from a pack can never become markup)
    and undefined names are errors. Every page extends ``_page.html.j2`` (the page shell: ``<head>`` with
    charset and title, the shared A4 stylesheet ``_style.css``, an optional page-specific style block,
    the footer) and gets the subset of the embedded Chinese font (:func:`toolkit.fonts.font_face_css`)
    of exactly the characters it uses, so the file opens offline and prints on A4. Charts go in as
    ``data:`` URIs (:func:`data_uri`). Filters: ``f1``/``f2`` (one / two decimals, ``—`` for nothing),
    ``signed`` (+1.2 / −1.2 / 持平), ``rate`` (a rate as a percentage, :func:`fmt_rate`), ``rankmove``
    (↑2 / ↓1 / — / 新).

XLSX
    :class:`XlsxBook` (``with xlsx_writer(path) as book: book.add_table(...)``): titled, styled,
    printable tables (A4 landscape, fit to width, frozen and filtered header). Every value goes in
    through :func:`toolkit.sheets.xlsx_value` and the workbook is saved by
    :func:`toolkit.sheets.save_workbook` — ``toolkit/sheets.py`` stays the one CSV/XLSX writer, and text
    from the data is always a text cell, never a formula.

Colours: :func:`tint` lightens a ``#rrggbb`` colour (a level's colour of ``scoring.yaml``) for a cell
background; :func:`xlsx_colour` gives openpyxl's ``RRGGBB``.
"""

from __future__ import annotations

import base64
import contextlib
import math
import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "TEMPLATES",
    "XlsxBook",
    "data_uri",
    "environment",
    "fmt_rate",
    "num",
    "rank_move",
    "render_html",
    "signed",
    "text_width",
    "tint",
    "xlsx_colour",
    "xlsx_writer",
]

#: The templates of every report (``_page.html.j2`` is the page shell, ``_style.css`` its stylesheet).
TEMPLATES = Path(__file__).resolve().parent / "templates"

_HEX = re.compile(r"#?([0-9A-Fa-f]{6})")


# ------------------------------------------------------------------------------------------ numbers


def num(value: Any) -> float | None:
    """``value`` as a float, or ``None`` when it is missing, NaN or not a number."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def fmt_rate(value: float | None) -> str:
    """A rate as a percentage with one decimal — more where one decimal would show a rate that is not 0
    or 100 % as 0.0 % or 100.0 % (a 99.96 % rate is not "100.0 %"); ``—`` for nothing; a value above 1
    is not a rate and is shown with one decimal."""
    v = num(value)
    if v is None:
        return "—"
    if abs(v) > 1.0:
        return f"{v:.1f}"
    p = 100.0 * v
    text = f"{p:.1f}"
    for digits in (1, 2, 3):
        text = f"{p:.{digits}f}"
        if float(text) not in (0.0, 100.0) or p in (0.0, 100.0):
            break
    return f"{text}%"


def signed(value: Any, digits: int = 1) -> str:
    """A change with its sign (+1.2 / −1.2), 持平 when it rounds to 0, ``—`` for nothing."""
    f = num(value)
    if f is None:
        return "—"
    if round(f, digits) == 0:
        return "持平"
    return f"{'+' if f > 0 else '−'}{abs(f):.{digits}f}"


def rank_move(value: Any) -> str:
    """A change of rank (previous − current): ↑2, ↓1, — (same), 新 (no previous rank)."""
    f = num(value)
    if f is None:
        return "新"
    if f == 0:
        return "—"
    return f"↑{int(f)}" if f > 0 else f"↓{int(-f)}"


def text_width(value: Any) -> int:
    """Display width of a text: a CJK character counts two."""
    s = "" if value is None else str(value)
    return sum(2 if ord(c) > 255 else 1 for c in s)


# ------------------------------------------------------------------------------------------ colours


def _rgb(colour: str) -> tuple[int, int, int]:
    m = _HEX.fullmatch(str(colour).strip())
    if m is None:
        raise ValueError(f"not a #rrggbb colour: {colour!r}")
    h = m.group(1)
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def tint(colour: str, share: float = 0.0) -> str:
    """``colour`` (``#rrggbb``) mixed with ``share`` of white (0 = unchanged), as ``#rrggbb``."""
    r, g, b = _rgb(colour)
    mix = [round(c + (255 - c) * share) for c in (r, g, b)]
    return "#" + "".join(f"{c:02x}" for c in mix)


def xlsx_colour(colour: str | None) -> str | None:
    """``#rrggbb`` → ``RRGGBB`` (openpyxl's form); ``None`` stays ``None``."""
    if not colour:
        return None
    return "".join(f"{c:02X}" for c in _rgb(colour))


# ------------------------------------------------------------------------------------------ HTML


@cache
def environment():
    """The Jinja2 environment of the reports: templates of :data:`TEMPLATES`, everything escaped,
    undefined names are errors, the filters of the module docstring."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html", "j2"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["f1"] = lambda v: "—" if num(v) is None else f"{num(v):.1f}"
    env.filters["f2"] = lambda v: "—" if num(v) is None else f"{num(v):.2f}"
    env.filters["signed"] = signed
    env.filters["rate"] = fmt_rate
    env.filters["rankmove"] = rank_move
    return env


def render_html(template: str, **context: Any) -> str:
    """Render ``template`` (a file of ``toolkit/templates`` that extends ``_page.html.j2``) and embed the
    subset of the Chinese font that the page uses."""
    from toolkit.fonts import font_face_css

    html = environment().get_template(template).render(**context)
    return html.replace("/*FONT-FACE*/", font_face_css(html), 1)


def data_uri(png: bytes) -> str:
    """PNG bytes as a ``data:`` URI (the HTML then needs no other file)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


# ------------------------------------------------------------------------------------------ XLSX


class XlsxBook:
    """A small helper over openpyxl: titled, styled, printable tables (A4 landscape, fit to width).
    Values go in through :func:`toolkit.sheets.xlsx_value` and the book is saved by
    :func:`toolkit.sheets.save_workbook`: text from the data is always a text cell, never a formula."""

    def __init__(self, path: str | Path) -> None:
        from openpyxl import Workbook

        self.path = Path(path)
        self.wb = Workbook()
        self._fresh = True

    def sheet(self, name: str):
        """A new sheet (the workbook's first sheet the first time), set up for A4 landscape printing."""
        if self._fresh:
            ws = self.wb.active
            ws.title = name
            self._fresh = False
        else:
            ws = self.wb.create_sheet(name)
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        return ws

    def add_table(
        self,
        name: str,
        frame: pd.DataFrame,
        *,
        title: str | None = None,
        widths: Mapping[str, int] | None = None,
        formats: Mapping[str, str] | None = None,
        fills: pd.DataFrame | None = None,
        note: str | None = None,
        ws=None,
        start_row: int | None = None,
    ):
        """Write ``frame`` with a bold title row, a header row (frozen, filtered) and wrapped cells.
        ``fills`` (same index/columns as ``frame``, ``RRGGBB`` colours or None) colours cells."""
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
        from openpyxl.utils import get_column_letter

        from toolkit.sheets import xlsx_value

        ws = ws or self.sheet(name)
        row0 = start_row or (ws.max_row + 2 if ws.max_row > 1 else 1)
        thin = Side(style="thin", color="BBBBBB")
        border = Border(left=thin, right=thin, top=thin, bottom=thin)
        if title:
            ws.cell(row=row0, column=1, value=xlsx_value(title)).font = Font(bold=True, size=13)
            row0 += 1
        if note:
            c = ws.cell(row=row0, column=1, value=xlsx_value(note))
            c.font = Font(color="666666", size=9)
            row0 += 1
        header = row0
        widths = dict(widths or {})
        formats = dict(formats or {})
        for j, col in enumerate(frame.columns, start=1):
            c = ws.cell(row=header, column=j, value=xlsx_value(str(col)))
            c.font = Font(bold=True)
            c.fill = PatternFill("solid", fgColor="DDE7F3")
            c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            c.border = border
        for i, rec in enumerate(frame.itertuples(index=False), start=1):
            for j, v in enumerate(rec, start=1):
                col = frame.columns[j - 1]
                v = xlsx_value(v)
                c = ws.cell(row=header + i, column=j, value=v)
                c.border = border
                c.alignment = Alignment(vertical="top", wrap_text=isinstance(v, str) and text_width(v) > 20)
                if col in formats:
                    c.number_format = formats[col]
                if fills is not None:
                    colour = fills.iloc[i - 1, j - 1]
                    if isinstance(colour, str) and colour:
                        c.fill = PatternFill("solid", fgColor=colour)
        for j, col in enumerate(frame.columns, start=1):
            letter = get_column_letter(j)
            if col in widths:
                w = widths[col]
            else:
                sample = [col, *frame[col].head(200).tolist()]
                w = min(
                    30,
                    max(
                        6, max(text_width(x if not isinstance(x, float) else f"{x:.2f}") for x in sample) + 2
                    ),
                )
            ws.column_dimensions[letter].width = max(ws.column_dimensions[letter].width or 0, w)
        if start_row is None and ws.freeze_panes is None:
            ws.freeze_panes = ws.cell(row=header + 1, column=1)
            if len(frame):
                ws.auto_filter.ref = f"A{header}:{get_column_letter(len(frame.columns))}{header + len(frame)}"
            ws.print_title_rows = f"{header}:{header}"
        return ws

    def add_image(self, ws, png: bytes, anchor: str, width_px: int | None = None) -> None:
        """Place a PNG on ``ws`` at ``anchor`` (e.g. ``"E4"``), scaled to ``width_px``."""
        import io

        from openpyxl.drawing.image import Image

        img = Image(io.BytesIO(png))
        if width_px:
            ratio = width_px / img.width
            img.width, img.height = width_px, int(img.height * ratio)
        ws.add_image(img, anchor)

    def save(self) -> None:
        from toolkit.sheets import save_workbook

        save_workbook(self.wb, self.path)


@contextlib.contextmanager
def xlsx_writer(path: str | Path) -> Iterator[XlsxBook]:
    """``with xlsx_writer(path) as book: …`` — the workbook is saved (through :mod:`toolkit.sheets`) when
    the block ends without an error."""
    book = XlsxBook(Path(path))
    yield book
    book.save()
