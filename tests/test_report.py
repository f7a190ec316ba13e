"""The bulletin (dq report): its numbers are the scores given, it is self-contained, and it renders.

Inputs are hand-made frames that follow the scores.csv / trace / problems.csv contracts
(tests/report_fixtures.py), so these tests do not depend on scoring a history; the model (indicators,
grades, levels, pass_grade) is a ScoringConfig. A pack's own model and labels are tested end to end in
tests/test_pack_scoring.py.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest
from report_fixtures import (
    CONFIG,
    DISTRICTS,
    INDICATORS,
    RAW_ID,
    RAW_ID2,
    RAW_NAME,
    RAW_PHONE,
    WEEKS,
    make_problems,
    make_scores,
)

from toolkit.domain import load_domain
from toolkit.report import build_bulletin, period_title, write_bulletin

CURRENT, PREVIOUS = WEEKS[-1], WEEKS[-2]


class Page(HTMLParser):
    """Elements of interest: every element with an id or data-* attributes, with its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[dict] = []
        self.elements: list[dict] = []
        self.text: list[str] = []
        self.srcs: list[str] = []
        self.hrefs: list[str] = []
        self.style = ""
        self._in_style = False

    VOID: ClassVar[set[str]] = {"img", "meta", "br", "link", "input", "hr"}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "src" in a:
            self.srcs.append(a["src"])
        if "href" in a:
            self.hrefs.append(a["href"])
        if tag == "style":
            self._in_style = True
        if tag in self.VOID:
            return
        el = {"tag": tag, "attrs": a, "text": [], "parent": self.stack[-1] if self.stack else None}
        self.stack.append(el)
        if tag in ("td", "th") or "id" in a or any(k.startswith("data-") for k in a):
            self.elements.append(el)

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False
        if tag in self.VOID:
            return
        while self.stack:
            el = self.stack.pop()
            if el["tag"] == tag:
                break

    def handle_data(self, data):
        if self._in_style:
            self.style += data
            return
        self.text.append(data)
        for el in self.stack:
            el["text"].append(data)

    def by_id(self, ident: str) -> dict:
        return next(e for e in self.elements if e["attrs"].get("id") == ident)

    def rows_in(self, table_id: str) -> list[dict]:
        table = self.by_id(table_id)
        out = []
        for e in self.elements:
            p = e["parent"]
            while p is not None and p is not table:
                p = p["parent"]
            if p is table and e["tag"] == "tr":
                out.append(e)
        return out


def cells_of(page: Page, row: dict) -> list[str]:
    return [text_of(e) for e in page.elements if e["parent"] is row and e["tag"] in ("td", "th")]


def text_of(el: dict) -> str:
    return re.sub(r"\s+", " ", "".join(el["text"])).strip()


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="module")
def inputs():
    scores, trace = make_scores()
    problems = make_problems()
    problems["period"] = CURRENT
    return scores, trace, problems


@pytest.fixture(scope="module")
def written(inputs, tmp_path_factory):
    scores, trace, problems = inputs
    out = tmp_path_factory.mktemp("bulletin")
    paths = write_bulletin(
        scores,
        period="week",
        out_dir=out,
        trace=trace,
        problems=problems,
        domain="bdc",
        config=CONFIG,
    )
    return paths


def percent(rate: float) -> str:
    """One decimal, or as many (up to 3) as needed not to show a rate strictly between 0 and 1 as 0 or 100."""
    if math.isnan(rate):
        return "—"
    for digits in (1, 2, 3):
        text = f"{100 * rate:.{digits}f}"
        if rate in (0, 1) or float(text) not in (0, 100):
            return text + "%"
    return text + "%"


def province_average(scores) -> str:
    """Exact decimal mean of the one-decimal scores, rounded half up to two decimals."""
    total = sum(Decimal(f"{v:.1f}") for v in scores)
    return str((total / len(scores)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _current(scores: pd.DataFrame) -> pd.DataFrame:
    return scores[scores["period"] == CURRENT].set_index("unit_code")


def test_files_are_written(written):
    assert written["html"].name == f"bulletin_{CURRENT}.html"
    assert written["html"].stat().st_size > 50_000
    assert written["xlsx"].stat().st_size > 10_000


def test_html_ranking_equals_the_scores(inputs, written):
    scores = inputs[0]
    cur = _current(scores)
    prev = scores[scores["period"] == PREVIOUS].set_index("unit_code")
    page = parse(written["html"])
    rows = page.rows_in("ranking")
    assert [r["attrs"]["data-unit"] for r in rows] == list(cur.sort_values(["rank", "unit_code"]).index), (
        "ranked best first, as given"
    )
    for r in rows:
        q = r["attrs"]["data-unit"]
        assert r["attrs"]["data-score"] == f"{cur.loc[q, 'score']:.1f}"
        assert r["attrs"]["data-grade"] == cur.loc[q, "grade"]
        assert int(r["attrs"]["data-rank"]) == cur.loc[q, "rank"]
        cells = cells_of(page, r)
        # the visible text says the same: rank, name, code, score, grade, previous score, change
        assert cells[0] == str(cur.loc[q, "rank"])
        assert cells[1] == cur.loc[q, "unit_name"] and cells[2] == q
        assert cells[3] == f"{cur.loc[q, 'score']:.1f}" and cells[4] == cur.loc[q, "grade"]
        assert cells[5] == f"{prev.loc[q, 'score']:.1f}"
        change = round(cur.loc[q, "score"] - prev.loc[q, "score"], 1)
        expected = "持平" if change == 0 else f"{'+' if change > 0 else '−'}{abs(change):.1f}"
        assert cells[6] == expected


def test_html_headline_equals_the_scores(inputs, written):
    cur = _current(inputs[0])
    page = parse(written["html"])
    avg = page.by_id("avg-score")
    assert avg["attrs"]["data-value"] == province_average(cur["score"]) == text_of(avg)
    meets = int(cur["grade"].str.startswith("A").sum())
    assert page.by_id("n-pass")["attrs"]["data-value"] == str(meets)
    assert text_of(page.by_id("n-pass")) == f"{meets}/{len(cur)}"
    assert page.by_id("n-below")["attrs"]["data-value"] == str(len(cur) - meets)
    counts = cur["grade"].value_counts()
    cells = [e for e in page.elements if "data-grade" in e["attrs"] and e["tag"] == "td"]
    assert {
        c["attrs"]["data-grade"]: int(c["attrs"]["data-n"]) for c in cells if c["attrs"]["data-n"] != "0"
    } == {g: int(n) for g, n in counts.items()}
    assert sum(int(c["attrs"]["data-n"]) for c in cells) == len(cur)


def test_html_indicator_levels_are_the_trace_levels(inputs, written):
    scores, trace, _ = inputs
    tr = trace[trace["period"] == CURRENT].set_index(["unit_code", "indicator"])
    page = parse(written["html"])
    rows = [r for r in page.rows_in("indicators") if "data-unit" in r["attrs"]]
    assert len(rows) == len(_current(scores))
    for r in rows:
        q = r["attrs"]["data-unit"]
        cells = [e for e in page.elements if e["parent"] is r and "data-level" in e["attrs"]]
        assert len(cells) == len(INDICATORS) == 17
        for ind, cell in zip(INDICATORS, cells, strict=True):
            want = tr.loc[(q, ind.id), "level"]
            assert cell["attrs"]["data-level"] == (want or "")
            rate = tr.loc[(q, ind.id), "rate"]
            assert text_of(cell) == percent(rate)


def test_html_is_self_contained_and_printable(written):
    html = written["html"].read_text(encoding="utf-8")
    page = parse(written["html"])
    assert page.srcs and all(s.startswith("data:image/png;base64,") for s in page.srcs)
    assert not page.hrefs, "no links to anything outside the file"
    assert "http://" not in page.style and "https://" not in page.style
    assert "@page" in page.style and "A4" in page.style
    assert "@font-face" in page.style and "data:font/woff;base64," in page.style
    assert '<meta charset="utf-8">' in html
    assert "湖北省不动产登记数据质量周报" in html and "2024年第52周" in html


def test_bottom_districts_get_advice_from_the_rules(inputs, written):
    scores, _, problems = inputs
    cur = _current(scores)
    dom = load_domain("bdc")
    bottom = list(cur.sort_values(["rank", "unit_code"], ascending=[False, False]).index[:3])
    page = parse(written["html"])
    boxes = [e for e in page.elements if e["tag"] == "div" and "data-unit" in e["attrs"]]
    assert [b["attrs"]["data-unit"] for b in boxes] == bottom
    for box in boxes:
        q = box["attrs"]["data-unit"]
        text = text_of(box)
        own = problems[problems["unit_code"] == q]["rule_id"].value_counts()
        top_rule = own.index[0]
        # plain message and fix of the suites' meta, with the district's failure count
        assert dom.rule(top_rule).meta["message_zh"] in text
        assert dom.rule(top_rule).meta["fix_zh"] in text
        assert f"本期 {own.iloc[0]} 条" in text
        assert f"{cur.loc[q, 'score']:.1f} 分" in text


def test_xlsx_sheets_equal_the_scores(inputs, written):
    scores = inputs[0]
    cur = _current(scores)
    prev = scores[scores["period"] == PREVIOUS].set_index("unit_code")
    with pd.ExcelFile(written["xlsx"]) as book:
        assert {"排名", "指标", "常见问题", "建议"} <= set(book.sheet_names)
        rk = pd.read_excel(book, "排名", header=1, dtype={"区县代码": str}).set_index("区县代码")
        assert list(rk.index) == list(cur.sort_values(["rank", "unit_code"]).index)
        for q, r in rk.iterrows():
            assert r["综合得分"] == cur.loc[q, "score"]
            assert r["等级"] == cur.loc[q, "grade"] and r["排名"] == cur.loc[q, "rank"]
            assert r["上期得分"] == prev.loc[q, "score"]
            assert r["得分变化"] == pytest.approx(cur.loc[q, "score"] - prev.loc[q, "score"])
            assert r["达到A4"] == ("是" if cur.loc[q, "grade"].startswith("A") else "否")
        ind = pd.read_excel(book, "指标", header=1, dtype={"区县代码": str}, nrows=len(cur)).set_index(
            "区县代码"
        )
        for i in INDICATORS:
            got = ind[i.label_zh]
            want = cur[i.id].reindex(got.index)
            assert ((got - want).abs() < 1e-12).sum() + (got.isna() & want.isna()).sum() == len(cur), i.id
        facts = pd.read_excel(book, "概况", header=3, nrows=10).set_index("项目")["数值"]
        assert f"{facts['全省平均分']:.2f}" == province_average(cur["score"])
        assert facts["达到 A4 的区县数"] == cur["grade"].str.startswith("A").sum()
        adv = pd.read_excel(book, "建议", header=1, dtype={"区县代码": str})
        assert set(adv["区县代码"]) == set(cur.sort_values("rank").index[-3:])


def test_no_personal_data_in_the_bulletin(written):
    text = written["html"].read_text(encoding="utf-8")
    book = pd.read_excel(written["xlsx"], sheet_name=None, header=None)
    cells = " ".join(str(v) for sheet in book.values() for v in sheet.to_numpy().ravel())
    for raw in (RAW_ID, RAW_ID2, RAW_PHONE, RAW_NAME):
        assert raw not in text and raw not in cells


def test_levels_from_points_when_there_is_no_trace(inputs, tmp_path):
    """Without a trace, levels come from target/floor (scoring.md); a single period has no change."""
    scores = inputs[0]
    one = scores[scores["period"] == CURRENT]
    b = build_bulletin(one, period="week", domain="bdc", config=CONFIG)
    assert b.previous is None and b.ranking["change"].isna().all()
    trace = inputs[1].set_index(["unit_code", "period", "indicator"])
    for q in one["unit_code"]:
        for i in INDICATORS:
            assert b.levels.loc[q, i.id] == (trace.loc[(q, CURRENT, i.id), "level"] or None)
    paths = write_bulletin(one, period="week", out_dir=tmp_path, domain="bdc", config=CONFIG)
    page = parse(paths["html"])
    assert {cells_of(page, r)[-1] for r in page.rows_in("ranking")} == {"新"}


def test_scores_of_the_scoring_module_shape(inputs, tmp_path):
    """scores.csv as written by the scoring module: extra columns, <id>_level columns, a district
    without a score (not ranked), labels from scoring.yaml."""
    scores = inputs[0].copy()
    scores["n_days"] = 5
    scores["scored_weight"] = 100.0
    for i in INDICATORS:
        scores[f"{i.id}_level"] = None
    cur = scores["period"] == CURRENT
    scores.loc[cur & (scores["unit_code"] == "420102"), ["score", "grade", "rank"]] = [
        float("nan"),
        None,
        None,
    ]
    scores.loc[cur, "empty_rate_level"] = "差"
    path = tmp_path / "scores.csv"
    scores.to_csv(path, index=False, encoding="utf-8-sig")
    back = pd.read_csv(path, dtype={"unit_code": str}, encoding="utf-8-sig")
    paths = write_bulletin(back, period="week", out_dir=tmp_path, domain="bdc")
    b = build_bulletin(back, period="week", domain="bdc")
    assert [i.id for i in b.indicators] == [i.id for i in INDICATORS]
    assert b.indicators[0].label_zh == "空项率" and b.indicators[0].direction == "down"
    assert b.headline["units"] == 11 and b.headline["unscored"] == 1
    assert (b.levels["empty_rate"] == "差").all()
    page = parse(paths["html"])
    rows = page.rows_in("ranking")
    assert rows[-1]["attrs"]["data-unit"] == "420102" and rows[-1]["attrs"]["data-rank"] == ""
    assert "不参评" in text_of(rows[-1])


def test_period_titles():
    assert period_title("2024-12-31", "day") == "2024年12月31日"
    assert period_title("2024-W05", "week") == "2024年第5周"
    assert period_title("2024-03", "month") == "2024年3月"
    assert period_title("其他", "month") == "其他"


# ------------------------------------------------------------------------------------------ Chromium

CHROMIUM = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None
)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium not installed (Debian: apt-get install chromium); rendering not checked",
)


def screenshot(html: Path, png: Path, tmp: Path, size: str = "1240,1754") -> None:
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp / 'chromium-profile'}",
        f"--screenshot={png}",
        f"--window-size={size}",
        html.resolve().as_uri(),
    ]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    assert png.exists()


@pytest.mark.slow
@needs_chromium
def test_bulletin_renders_in_chromium(written, tmp_path):
    from PIL import Image

    png = tmp_path / "bulletin.png"
    screenshot(written["html"], png, tmp_path)
    img = Image.open(png).convert("RGB")
    assert img.size == (1240, 1754)
    colours = img.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 200, "a real page, not a blank one"
    # the red title (#b2182b) is drawn at the top of the page
    top = img.crop((0, 0, 1240, 120))
    red = sum(n for n, (r, g, b) in top.getcolors(1 << 20) if r > 150 and g < 80 and b < 90)
    assert red > 300


@pytest.mark.slow
@needs_chromium
def test_chinese_glyphs_are_visible_in_chromium(written, tmp_path):
    """Draw four different characters with the bulletin's own CSS (its embedded font): each must come
    out as a different, inked shape. Missing glyphs would all be the same empty box ("tofu")."""
    from PIL import Image, ImageChops

    html = written["html"].read_text(encoding="utf-8")
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    chars = "数据质量"
    boxes = "".join(
        f'<div style="position:absolute;left:{20 + 130 * i}px;top:20px;width:120px;height:120px;'
        f'font-size:96px;line-height:120px;text-align:center">{c}</div>'
        for i, c in enumerate(chars)
    )
    probe = tmp_path / "probe.html"
    probe.write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><style>{style} body{{margin:0;max-width:none}}'
        f"</style></head><body>{boxes}</body></html>",
        encoding="utf-8",
    )
    png = tmp_path / "probe.png"
    screenshot(probe, png, tmp_path, size="600,200")
    img = Image.open(png).convert("L")
    crops = [img.crop((20 + 130 * i, 20, 140 + 130 * i, 140)) for i in range(len(chars))]
    for c in crops:
        dark = sum(n for n, v in c.getcolors(256) if v < 128)
        assert dark > 300, "the character is drawn"
    for i in range(len(crops)):
        for j in range(i + 1, len(crops)):
            diff = ImageChops.difference(crops[i], crops[j])
            assert sum(n for n, v in diff.getcolors(256) if v > 64) > 300, (
                f"{chars[i]} and {chars[j]} look alike"
            )


def test_cli_report_from_files(inputs, tmp_path):
    from typer.testing import CliRunner

    from toolkit.cli import app

    scores, trace, problems = inputs
    # files as an earlier version wrote them: the bdc columns QXDM / QXMC only (read through the pack's
    # legacy_columns)
    legacy = {"unit_code": "QXDM", "unit_name": "QXMC"}
    scores.rename(columns=legacy).to_csv(tmp_path / "scores.csv", index=False, encoding="utf-8-sig")
    trace.rename(columns=legacy).to_csv(tmp_path / "trace.csv", index=False, encoding="utf-8-sig")
    problems.rename(columns=legacy).to_csv(tmp_path / "problems.csv", index=False, encoding="utf-8-sig")
    out = tmp_path / "out"
    args = ["report", "--period", "week", "--out", str(out), "--scores", str(tmp_path / "scores.csv")]
    args += ["--trace", str(tmp_path / "trace.csv"), "--problems", str(tmp_path / "problems.csv")]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    names = {p.name for p in out.iterdir()}
    assert {
        f"bulletin_{CURRENT}.html",
        f"bulletin_{CURRENT}.xlsx",
        f"common_problems_{CURRENT}.html",
    } <= names
    bad = CliRunner().invoke(app, ["report", "--period", "year", "--out", str(out)])
    assert bad.exit_code == 2 and "--period" in bad.output


def test_the_ranking_shows_each_units_self_check_rate(inputs, tmp_path):
    """``dq report --selfcheck selfcheck_rates.csv``: the ranking (HTML and XLSX) gets a 自检率 column —
    the rate of each unit in the file, ``—`` for a unit the file does not name; without it, no column."""
    import openpyxl

    scores, trace, _ = inputs
    units = [code for code, _ in DISTRICTS]
    rates = pd.DataFrame(
        {"unit_code": units[:-1], "selfcheck_rate": [0.5 if i % 2 else 0.875 for i in range(len(units) - 1)]}
    )
    out = tmp_path / "with"
    paths = write_bulletin(
        scores, period="week", out_dir=out, trace=trace, domain="bdc", config=CONFIG, selfcheck=rates
    )
    html = paths["html"].read_text(encoding="utf-8")
    assert '<th class="num">自检率</th>' in html
    page = parse(paths["html"])
    shown = {}
    for row in page.rows_in("ranking"):
        cells = [e for e in page.elements if e["parent"] is row and "data-selfcheck" in e["attrs"]]
        shown[row["attrs"]["data-unit"]] = text_of(cells[0])
    expected = {u: ("50.0%" if i % 2 else "87.5%") for i, u in enumerate(units[:-1])} | {units[-1]: "—"}
    assert shown == expected
    book = openpyxl.load_workbook(paths["xlsx"], read_only=True)
    try:  # a read-only workbook keeps its file open until closed
        rows = list(book["排名"].iter_rows(values_only=True))
    finally:
        book.close()
    at = next(i for i, r in enumerate(rows) if "自检率" in r)
    col = rows[at].index("自检率")
    code_col = next(i for i, v in enumerate(rows[at]) if isinstance(v, str) and v.endswith("代码"))
    got = {r[code_col]: r[col] for r in rows[at + 1 :] if r[code_col]}
    assert got[units[0]] == pytest.approx(0.875) and got[units[1]] == pytest.approx(0.5)
    assert got[units[-1]] is None
    without = write_bulletin(
        scores, period="week", out_dir=tmp_path / "without", trace=trace, domain="bdc", config=CONFIG
    )
    assert "自检率" not in without["html"].read_text(encoding="utf-8")
