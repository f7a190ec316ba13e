"""Chinese fonts for charts and reports (中文字体).

Charts are drawn by matplotlib/seaborn, which only show Chinese if a font with CJK glyphs is configured;
otherwise every character becomes an empty box (and matplotlib warns "Glyph … missing from font(s)").
:func:`find_cjk_font` looks, in this order, at

1. the file named by the environment variable ``DQ_CJK_FONT`` (a ``.ttf``, ``.otf`` or ``.ttc``);
2. the font the toolkit installs with its requirements: the PyPI package ``noto-cjk-sans-otc`` (Noto
   Sans CJK, SIL Open Font License 1.1), so a clean clone has Chinese charts after ``make``;
3. fonts of the system known to matplotlib: Noto Sans CJK / Source Han Sans / WenQuanYi (Linux),
   Microsoft YaHei / SimHei / DengXian (Windows), PingFang / Hiragino / Heiti (macOS), and then any other
   font that has the glyphs;

and accepts a font only if it really has a glyph for every character of :data:`CJK_SAMPLE`. When none
is found, :class:`CJKFontNotFoundError` says in Chinese and English what to install.

HTML reports embed a *subset* of the same font (only the characters the page uses, a few hundred KB) with
``@font-face`` (:func:`font_face_css`), so a bulletin shows Chinese offline on any computer, printed or
on screen, whether or not that computer has a Chinese font.
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from toolkit.errors import CJKFontNotFoundError

__all__ = [
    "CJK_SAMPLE",
    "CSS_FAMILY",
    "CJKFont",
    "CJKFontNotFoundError",
    "cjk_rc",
    "find_cjk_font",
    "font_face_css",
    "has_glyphs",
    "setup_matplotlib",
    "use_cjk",
]

#: Characters a font must have to be used (the title of every bulletin).
CJK_SAMPLE = "数据质量通报区县排名优良差"

#: Name of the embedded web font in the HTML reports' CSS.
CSS_FAMILY = "DQ CJK"

#: Simplified-Chinese families first; JP/KR/TC faces of the same collections draw some Chinese
#: characters in their own regional shapes, so they come last.
PREFERRED_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "Microsoft YaHei",
    "DengXian",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "STHeiti",
    "Songti SC",
    "SimSun",
    "Noto Serif CJK SC",
    "Source Han Serif SC",
    "AR PL UMing CN",
    "Noto Sans CJK TC",
    "Noto Sans CJK HK",
    "Noto Sans CJK JP",
)

#: Packages (importable module names) that ship a CJK font file; see the module docstring.
FONT_PACKAGES = ("noto_cjk_sans_otc",)

_FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")


@dataclass(frozen=True)
class CJKFont:
    """A font face that has Chinese glyphs."""

    family: str
    """The family name matplotlib knows it by, e.g. ``Noto Sans CJK SC``."""
    path: Path
    index: int = 0
    """Face index inside a font collection (``.ttc``)."""
    source: str = "system"
    """``env`` (DQ_CJK_FONT), ``package`` (installed with the toolkit) or ``system``."""


def has_glyphs(path: str | Path, index: int = 0, text: str = CJK_SAMPLE) -> bool:
    """True if face ``index`` of the font file has a glyph for every character of ``text``."""
    from matplotlib import ft2font

    try:
        font = ft2font.FT2Font(str(path), face_index=index)
    except (OSError, RuntimeError, ValueError):
        return False
    return all(font.get_char_index(ord(c)) != 0 for c in text if not c.isspace())


def _package_font_files() -> list[Path]:
    import importlib.util

    files: list[Path] = []
    for mod in FONT_PACKAGES:
        spec = importlib.util.find_spec(mod)
        if spec is None or not spec.submodule_search_locations:
            continue
        for loc in spec.submodule_search_locations:
            files.extend(sorted(p for p in Path(loc).iterdir() if p.suffix.lower() in _FONT_SUFFIXES))
    return files


def _register(path: Path) -> list[tuple[str, int]]:
    """Add every face of a font file to matplotlib's font manager; return (family, index) per face."""
    from matplotlib import font_manager, ft2font

    font_manager.fontManager.addfont(str(path))
    first = ft2font.FT2Font(str(path))
    faces = [(first.family_name, 0)]
    for i in range(1, first.num_faces):
        faces.append((ft2font.FT2Font(str(path), face_index=i).family_name, i))
    return faces


def _pick(faces: list[tuple[str, Path, int]], source: str) -> CJKFont | None:
    """The preferred family among ``faces`` that has the glyphs, else any face that has them."""
    by_name: dict[str, tuple[Path, int]] = {}
    for fam, path, idx in faces:
        by_name.setdefault(fam, (path, idx))
    for fam in PREFERRED_FAMILIES:
        if fam in by_name and has_glyphs(*by_name[fam]):
            return CJKFont(fam, by_name[fam][0], by_name[fam][1], source)
    return None


@cache
def find_cjk_font() -> CJKFont:
    """The Chinese font to use (see the module docstring); raises :class:`CJKFontNotFoundError`."""
    from matplotlib import font_manager

    env = os.environ.get("DQ_CJK_FONT")
    if env:
        path = Path(env)
        if not path.is_file():
            raise CJKFontNotFoundError(
                f" 环境变量 DQ_CJK_FONT 指向的文件不存在：{path}。",
                f" DQ_CJK_FONT points at a file that does not exist: {path}.",
            )
        faces = _register(path)
        for fam, idx in faces:
            if fam in PREFERRED_FAMILIES and has_glyphs(path, idx):
                return CJKFont(fam, path, idx, "env")
        for fam, idx in faces:
            if has_glyphs(path, idx):
                return CJKFont(fam, path, idx, "env")
        raise CJKFontNotFoundError(
            f" DQ_CJK_FONT 指向的字体 {path} 没有中文字形。",
            f" the font DQ_CJK_FONT points at ({path}) has no Chinese glyphs.",
        )

    package_faces = [(fam, p, idx) for p in _package_font_files() for fam, idx in _register(p)]
    found = _pick(package_faces, "package")
    if found:
        return found

    system = [
        (e.name, Path(e.fname), getattr(e, "index", 0))
        for e in font_manager.fontManager.ttflist
        if Path(e.fname).suffix.lower() in _FONT_SUFFIXES
    ]
    found = _pick(system, "system")
    if found:
        return found
    for fam, path, idx in sorted(system, key=lambda f: (f[0], str(f[1]), f[2])):
        if has_glyphs(path, idx):
            return CJKFont(fam, path, idx, "system")
    raise CJKFontNotFoundError()


def cjk_rc(font: CJKFont | None = None) -> dict[str, object]:
    """matplotlib rcParams that draw text in the Chinese font (DejaVu Sans as fallback for symbols)."""
    font = font or find_cjk_font()
    return {
        "font.family": "sans-serif",
        "font.sans-serif": [font.family, "DejaVu Sans"],
        "axes.unicode_minus": False,
        "svg.fonttype": "path",
        "pdf.fonttype": 42,
    }


def setup_matplotlib(font: CJKFont | None = None) -> CJKFont:
    """Configure matplotlib (and seaborn, which uses the same rcParams) globally; return the font."""
    import matplotlib as mpl

    font = font or find_cjk_font()
    mpl.rcParams.update(cjk_rc(font))
    return font


@contextlib.contextmanager
def use_cjk(
    style: str = "whitegrid", font: CJKFont | None = None, context: str = "paper"
) -> Iterator[CJKFont]:
    """A seaborn style with the Chinese font, for the duration of a ``with`` block only."""
    import matplotlib as mpl
    import seaborn as sns

    font = font or find_cjk_font()
    with mpl.rc_context():
        sns.set_theme(context=context, style=style, rc=cjk_rc(font))
        mpl.rcParams.update(cjk_rc(font))
        yield font


# ------------------------------------------------------------------------------------ web font


def _embeddable(tt) -> bool:
    """The font's licence flags (OS/2 fsType) allow embedding a subset in a document."""
    if "OS/2" not in tt:
        return True
    fs = tt["OS/2"].fsType
    if fs & 0x0002 and not fs & 0x000C:  # restricted licence embedding
        return False
    return not fs & 0x0100  # no subsetting


@cache
def _subset_woff(path: str, index: int, chars: str) -> bytes | None:
    from fontTools.ttLib import TTFont

    try:
        tt = TTFont(
            path,
            fontNumber=index if path.lower().endswith((".ttc", ".otc")) else -1,
            lazy=True,
            recalcBBoxes=False,  # recomputing every glyph's bounds costs seconds and changes nothing
            recalcTimestamp=False,
        )
    except Exception:  # an unreadable font: no embedded font, the page falls back to system fonts
        return None
    try:
        return _subset_open_font(tt, chars)
    finally:
        tt.close()


def _subset_open_font(tt, chars: str) -> bytes | None:
    from fontTools import subset

    if not _embeddable(tt):
        return None
    opts = subset.Options()
    opts.flavor = "woff"  # zlib-compressed; needs no extra package (woff2 would need brotli)
    opts.hinting = False
    opts.desubroutinize = True
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.notdef_outline = True
    # vertical forms for the vertical table headers; proportional-spacing GPOS is not worth its time
    opts.layout_features = ["vert", "vrt2", "locl"]
    opts.drop_tables = [*opts.drop_tables, "GPOS"]
    sub = subset.Subsetter(opts)
    sub.populate(text=chars)
    sub.subset(tt)
    buf = io.BytesIO()
    tt.flavor = "woff"
    tt.save(buf)
    return buf.getvalue()


def font_face_css(text: str, font: CJKFont | None = None) -> str:
    """``@font-face`` CSS embedding the characters of ``text`` (a subset of the Chinese font) as
    :data:`CSS_FAMILY`; the empty string if no font can be embedded (the page then uses system fonts).
    """
    try:
        font = font or find_cjk_font()
    except CJKFontNotFoundError:
        return ""
    chars = "".join(sorted({c for c in text if c not in " \t\r\n\f\v"} | set("0123456789.%-—　")))
    data = _subset_woff(str(font.path), font.index, chars)
    if not data:
        return ""
    b64 = base64.b64encode(data).decode("ascii")
    return (
        f"@font-face{{font-family:'{CSS_FAMILY}';font-style:normal;font-weight:100 900;"
        f"src:url(data:font/woff;base64,{b64}) format('woff');}}"
    )
