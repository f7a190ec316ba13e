"""A domain is data (issue 9): scoring, history, bulletin and common problems for a pack that is not bdc.

The fixture pack ``tests/fixtures/xpack`` (a locality's own pack, passed by path) has other tables and
columns (unit ``JGDM`` named from ``JGMC``, record key ``DJBH``), non-geographic units (no map), its own
grades (优秀/良好/合格/不合格, ``pass_grade: 合格``) and levels (达标/基本达标/未达标). ``tests/xpack.py``
writes its daily batches with errors at known places.

* ``dq score`` / ``dq report`` on it give scores for both offices with their names from the data, its
  grades, a bulletin with 机构 labels, no map, and counts equal to the errors written;
* changing ``grades``, ``levels`` (names, thresholds, colours) and ``pass_grade`` in a copy of the pack's
  ``scoring.yaml`` changes the bulletin (HTML and XLSX) accordingly;
* the modules of scoring, history and reports name nothing of bdc.
"""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook
from typer.testing import CliRunner
from xpack import OFFICES, PACK, write_history

from toolkit.cli import app

DAYS = [dt.date(2024, 3, 4), dt.date(2024, 3, 5), dt.date(2024, 4, 1)]
XPACK_GRADES = ["优秀", "良好", "合格", "不合格"]
XPACK_LEVELS = ["达标", "基本达标", "未达标"]
# a changed model: other grade names and thresholds, another pass grade, other levels and colours
NEW_GRADES = [
    {"grade": "甲", "min": 90},
    {"grade": "乙", "min": 75},
    {"grade": "丙", "min": 60},
    {"grade": "丁", "min": 0},
]
NEW_LEVELS = [
    {"level": "好", "min": 100, "colour": "#aabbcc"},
    {"level": "中", "min": 40, "colour": "#ddeeff"},
    {"level": "差", "min": 0, "colour": "#ffcc00"},
]


def invoke(args: list[str]):
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, (res.output, res.exception)
    return res


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> tuple[Path, dict[str, Counter]]:
    root = tmp_path_factory.mktemp("xpack") / "incremental"
    return root, write_history(root, DAYS)


def report_of(pack: Path, root: Path, out: Path) -> dict[str, Path]:
    invoke(["report", "--domain", str(pack), "--period", "month", "--history", str(root), "--out", str(out)])
    return {
        "html": out / "bulletin_2024-04.html",
        "xlsx": out / "bulletin_2024-04.xlsx",
        "cp_html": out / "common_problems_2024-04.html",
        "cp_xlsx": out / "common_problems_2024-04.xlsx",
    }


@pytest.fixture(scope="module")
def scored(history, tmp_path_factory):
    root, expected = history
    out = tmp_path_factory.mktemp("xscores")
    res = invoke(["score", "--domain", str(PACK), "--history", str(root), "--out", str(out)])
    return out, expected, res.output


@pytest.fixture(scope="module")
def reported(history, tmp_path_factory):
    return report_of(PACK, history[0], tmp_path_factory.mktemp("xreport"))


def visible(html: str) -> str:
    body = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


# ------------------------------------------------------------------------------------------ dq score


def test_scores_for_both_offices_with_their_names_and_grades(scored):
    out, _, output = scored
    table = pd.read_csv(out / "scores.csv", dtype={"unit_code": str}, encoding="utf-8-sig")
    assert list(table.columns[:3]) == ["unit_code", "unit_name", "period"]
    assert "QXDM" not in table.columns and "QXMC" not in table.columns, "xpack has no legacy columns"
    assert set(table["unit_code"]) == set(OFFICES)
    assert dict(zip(table["unit_code"], table["unit_name"], strict=True)) == OFFICES
    assert set(table["period"]) == {d.isoformat() for d in DAYS}
    assert set(table["grade"]) <= set(XPACK_GRADES)
    levels = {v for c in table.columns if c.endswith("_level") for v in table[c].dropna()}
    assert levels <= set(XPACK_LEVELS) and levels
    # a clean day scores 100 (优秀) for both offices; a day with errors less
    clean = table[table["period"] == DAYS[1].isoformat()]
    assert set(clean["score"]) == {100.0} and set(clean["grade"]) == {"优秀"}
    dirty = table[table["period"] == DAYS[0].isoformat()]
    assert (dirty["score"] < 100).all()
    for name in ("机构 / office", "东城窗口", "西城窗口"):
        assert name in output


def test_trace_counts_are_the_errors_written(scored):
    out, expected, _ = scored
    trace = pd.read_csv(out / "trace.csv", dtype={"unit_code": str, "period": str}, encoding="utf-8-sig")
    rules = trace[trace["kind"] == "rule"].drop_duplicates(["period", "unit_code", "source"])
    got = {
        (p, u, r): n
        for p, u, r, n in rules[["period", "unit_code", "source", "unexpected_count"]].itertuples(index=False)
        if n
    }
    want = {(day, u, r): n for day, counter in expected.items() for (u, r), n in counter.items()}
    # every error written is counted where an indicator uses its rule
    for key, n in want.items():
        if key[2] in set(rules["source"]):
            assert got.get(key) == n, key
    assert set(got) <= set(want)
    for name in ("indicators.csv", "trend.csv"):
        assert (out / name).exists()
    trend = pd.read_csv(out / "trend.csv", encoding="utf-8-sig")
    assert set(trend["grade"]) <= set(XPACK_GRADES)


# ------------------------------------------------------------------------------------------ dq report


def test_bulletin_of_the_pack(reported):
    html = reported["html"].read_text(encoding="utf-8")
    text = visible(html)
    assert "某市许可登记数据质量月报" in text and "2024年4月" in text
    for words in ("机构排名", "达到 合格 的机构", "排名靠后机构及整改建议", "本期参评机构 2 个"):
        assert words in text, words
    assert "区县" not in text, "no county label for a pack of offices"
    assert "全省" not in text and "省" not in text.replace("省略", ""), (
        "no region for units that are not places"
    )
    assert "A4 的" not in text and "达到 A4" not in text
    # its own grades, in its own order
    head = re.search(r'<table id="grades">.*?</thead>', html, re.S).group(0)
    assert re.findall(r'<th class="c">([^<]+)</th>', head) == XPACK_GRADES
    ranked = re.findall(r'<tr data-unit="(JG\d+)" data-score="[\d.]+" data-grade="([^"]*)"', html)
    assert {u for u, _ in ranked} == set(OFFICES) and {g for _, g in ranked} <= set(XPACK_GRADES)
    assert "东城窗口" in text and "西城窗口" in text
    # its own levels in the legend and the cells
    legend = re.findall(r'<span class="lv-\d" data-level="([^"]+)"', html)
    assert legend == XPACK_LEVELS
    # no map: the only picture is the trend chart
    assert 'id="map"' not in html and "地图" not in text
    assert len(re.findall(r"<img ", html)) == 1
    # advice quotes the rules of the pack and names records by its key (登记编号)
    assert "[xpack.djxx.djbh.unique]" in html


def test_bulletin_workbook_of_the_pack(reported):
    wb = load_workbook(reported["xlsx"])
    assert not wb["概况"]._images[1:], "one picture (the trend), no map"
    rk = pd.read_excel(reported["xlsx"], "排名", header=1, dtype={"机构代码": str})
    assert {"机构代码", "机构名称", "达到合格"} <= set(rk.columns)
    assert set(rk["机构代码"]) == set(OFFICES) and set(rk["等级"]) <= set(XPACK_GRADES)
    facts = pd.read_excel(reported["xlsx"], "概况", header=3, nrows=10)
    assert "参评机构数" in set(facts["项目"]) and "达到 合格 的机构数" in set(facts["项目"])


def test_common_problems_of_the_pack(reported):
    text = visible(reported["cp_html"].read_text(encoding="utf-8"))
    assert "许可登记常见问题清单" in text and "各机构问题清单" in text and "区县" not in text
    with pd.ExcelFile(reported["cp_xlsx"]) as book:
        assert book.sheet_names == ["常见问题", "分机构", "机构汇总"]
        rules = pd.read_excel(book, "常见问题", header=1)
    assert {"涉及机构数", "主要机构"} <= set(rules.columns)
    assert rules["规则编号"].str.startswith("xpack.").all()


# ------------------------------------------------------------------------------------------ the model is data


def changed_pack(tmp_path: Path) -> Path:
    pack = tmp_path / "pack"
    shutil.copytree(PACK, pack)
    path = pack / "scoring.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(grades=NEW_GRADES, levels=NEW_LEVELS, pass_grade="乙")
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return pack


def test_changing_the_model_changes_the_bulletin(history, reported, tmp_path):
    """Same data, a copy of the pack with other grades, levels, colours and pass grade: the bulletin
    shows the new names, thresholds and colours, in HTML and XLSX."""
    before = reported["html"].read_text(encoding="utf-8")
    after_paths = report_of(changed_pack(tmp_path), history[0], tmp_path / "out")
    after = after_paths["html"].read_text(encoding="utf-8")
    new_grades = [g["grade"] for g in NEW_GRADES]
    new_levels = [lv["level"] for lv in NEW_LEVELS]

    def grade_head(html: str) -> list[str]:
        head = re.search(r'<table id="grades">.*?</thead>', html, re.S).group(0)
        return re.findall(r'<th class="c">([^<]+)</th>', head)

    assert grade_head(before) == XPACK_GRADES and grade_head(after) == new_grades
    # the same scores (about 73 in April) are 合格 (≥ 70, meets the standard) before and 丙 (60–75,
    # below the pass grade 乙) after
    grades_before = dict(
        re.findall(r'<tr data-unit="(JG\d+)" data-score="[\d.]+" data-grade="([^"]*)"', before)
    )
    grades_after = dict(
        re.findall(r'<tr data-unit="(JG\d+)" data-score="[\d.]+" data-grade="([^"]*)"', after)
    )
    assert set(grades_before.values()) == {"合格"} and set(grades_after.values()) == {"丙"}
    n_pass = re.compile(r'id="n-pass" data-value="(\d+)"')
    assert n_pass.search(before).group(1) == "2" and n_pass.search(after).group(1) == "0"
    n_below = re.compile(r'id="n-below" data-value="(\d+)"')
    assert n_below.search(after).group(1) == "2"
    text = visible(after)
    assert (
        "达到 乙 的机构" in text
        and "乙 达标线（75.0 分）" in text
        and "等级 甲–乙 达标，丙–丁 未达标" in text
    )
    assert "未达到 乙（丙）" in text, "the warnings name the new pass grade"
    # levels: names, thresholds in the legend, colours in the CSS, cells
    assert re.findall(r'<span class="lv-\d" data-level="([^"]+)"', after) == new_levels
    assert "中（≥40 分）" in text and "差（<40 分）" in text
    for k, lv in enumerate(NEW_LEVELS):
        assert f".lv-{k} {{ background: {lv['colour']}; }}" in after
    cells = set(re.findall(r'<td class="lv-[\w-]+" data-level="([^"]*)"', after))
    assert cells <= {*new_levels, ""} and cells & set(new_levels)
    assert not set(re.findall(r'data-level="([^"]+)"', after)) & set(XPACK_LEVELS)

    # XLSX: the pass grade in the headers, the grades, the level colours as fills
    rk = pd.read_excel(after_paths["xlsx"], "排名", header=1, dtype={"机构代码": str})
    assert "达到乙" in rk.columns and set(rk["达到乙"]) == {"否"} and set(rk["等级"]) == {"丙"}
    wb = load_workbook(after_paths["xlsx"])
    ws = wb["指标"]
    fills = {
        c.fill.fgColor.rgb[-6:].lower() for row in ws.iter_rows() for c in row if c.fill.fill_type == "solid"
    }
    assert {lv["colour"][1:] for lv in NEW_LEVELS} & fills
    assert not {"c7e9c0", "ffe8a8", "f8b4b0"} & fills, "no colour of the default levels"
    counted = [ws.cell(row=r, column=1).value for r in range(1, ws.max_row + 1)]
    assert [v for v in counted if v in new_levels] == new_levels, "one count row per new level"
    grades_sheet = pd.read_excel(after_paths["xlsx"], "概况", header=None)
    assert set(new_grades) <= set(grades_sheet.stack().astype(str))


def test_a_model_without_a_valid_pass_grade_is_refused(tmp_path, history):
    pack = changed_pack(tmp_path)
    path = pack / "scoring.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["pass_grade"] = "A4"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    res = CliRunner().invoke(
        app, ["score", "--domain", str(pack), "--history", str(history[0]), "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 2
    flat = re.sub(r"\s+", "", res.output)
    assert "pass_grade" in flat and "scoring.yaml" in flat and "甲、乙、丙、丁" in flat


# ------------------------------------------------------------------------------------------ no bdc in code


MODULES = ["scoring.py", "history.py", "report.py", "common_problems.py", "charts.py", "render.py"]
BDC_NAMES = ["QXDM", "QXMC", "YWH", "QLT_FW_FDCQ_YZ", "ZTT_GY_QLR", "DJLX", "BDCDYH", "不动产"]


@pytest.mark.parametrize("name", MODULES)
def test_the_modules_name_nothing_of_bdc(name):
    """Scoring, history and the reports know no pack: no bdc table, field or code, no bdc default, no
    grade of bdc's scale."""
    source = (Path(__file__).resolve().parent.parent / "toolkit" / name).read_text(encoding="utf-8")
    for word in BDC_NAMES:
        assert word not in source, f"{name} names {word}"
    assert not re.search(r"""["']bdc["']""", source), f"{name} names the bdc pack"
    assert not re.search(r"""["'](A4|[ABC][1-4]|D)["']""", source), f"{name} names a grade of bdc's scale"
    assert "GRADE_ORDER" not in source
