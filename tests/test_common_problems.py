"""常见问题清单: rules ranked by failures as a hand count says, per district too, never showing personal data."""

from __future__ import annotations

import re
from collections import Counter

import pandas as pd
import pytest
from report_fixtures import RAW_ID, RAW_ID2, RAW_NAME, RAW_PHONE, make_problems
from stdnum.cn import ric

from toolkit.common_problems import build_common_problems, safe_value, scrub_text, write_common_problems
from toolkit.domain import load_domain


@pytest.fixture(scope="module")
def problems():
    return make_problems()


@pytest.fixture(scope="module")
def cp(problems):
    return build_common_problems(problems, domain="bdc", period="2024年第52周")


def test_rules_ranked_by_hand_count(problems, cp):
    hand = Counter(problems["rule_id"])
    assert dict(zip(cp.rules["规则编号"], cp.rules["问题条数"], strict=True)) == dict(hand)
    assert list(cp.rules["问题条数"]) == sorted(hand.values(), reverse=True)
    assert list(cp.rules["序号"]) == list(range(1, len(hand) + 1))
    assert cp.total == len(problems)
    districts = problems.groupby("rule_id")["unit_code"].nunique()
    assert dict(zip(cp.rules["规则编号"], cp.rules["涉及区县数"], strict=True)) == districts.to_dict()


def test_top_districts_per_rule(problems, cp):
    first = cp.rules.iloc[0]
    counts = problems[problems["rule_id"] == first["规则编号"]]["unit_code"].value_counts()
    top = counts.sort_values(ascending=False).iloc[0]
    assert first["主要区县"].split("、")[0].endswith(f" {top} 条")


def test_per_district_lists_equal_hand_count(problems, cp):
    hand = Counter(zip(problems["unit_code"], problems["rule_id"], strict=True))
    got = {(r["区县代码"], r["规则编号"]): r["问题条数"] for r in cp.by_unit.to_dict("records")}
    assert got == dict(hand)
    for d, grp in cp.by_unit.groupby("区县代码"):
        assert list(grp["问题条数"]) == sorted(grp["问题条数"], reverse=True)
        assert list(grp["序号"]) == list(range(1, len(grp) + 1))
        assert cp.units.set_index("区县代码").loc[d, "问题条数"] == grp["问题条数"].sum()
    assert cp.units.set_index("区县代码").loc["420102", "区县名称"] == "江岸区"


def test_messages_and_fixes_come_from_the_suites(cp):
    dom = load_domain("bdc")
    for r in cp.rules.to_dict("records"):
        meta = dom.rule(r["规则编号"]).meta
        assert r["问题说明"] == meta["message_zh"] and r["整改办法"] == meta["fix_zh"]
        assert r["表"] == dom.table_label(meta["table"])


def test_counts_give_the_same_ranking(problems, cp):
    counts = problems.groupby(["unit_code", "rule_id"]).size().rename("unexpected_count").reset_index()
    counts["element_count"] = 1000
    counts["evaluated"] = True
    never = counts.iloc[:1].assign(rule_id="bdc.fdcq.qszt.code", unexpected_count=0)
    cc = build_common_problems(counts=pd.concat([counts, never]), domain="bdc")
    assert cc.source == "counts"
    assert list(cc.rules["规则编号"]) == list(cp.rules["规则编号"])
    assert list(cc.rules["问题条数"]) == list(cp.rules["问题条数"])
    assert "bdc.fdcq.qszt.code" not in set(cc.rules["规则编号"]), "rules without failures are not listed"


def _all_text(paths) -> str:
    html = paths["html"].read_text(encoding="utf-8")
    book = pd.read_excel(paths["xlsx"], sheet_name=None, header=None)
    cells = " ".join(str(v) for sheet in book.values() for v in sheet.to_numpy().ravel())
    return html + " " + cells


def test_outputs_show_no_personal_data(cp, tmp_path):
    paths = write_common_problems(cp, tmp_path)
    text = _all_text(paths)
    assert "常见问题清单" in text and "示例" in text
    for raw in (RAW_ID, RAW_ID2, RAW_PHONE, RAW_NAME, RAW_NAME[1:]):
        assert raw not in text
    # nothing that looks like a valid citizen ID or a mobile number is left anywhere
    assert not [m for m in re.findall(r"(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])", text) if ric.is_valid(m)]
    assert not re.findall(r"(?<!\d)1[3-9]\d{9}(?!\d)", text)
    # the masked forms are shown, so the clerk can still recognise the record
    assert "110102********0078" in text and "欧***" in text and "138****5678" in text


def test_html_ranking_matches(cp, tmp_path):
    paths = write_common_problems(cp, tmp_path)
    html = paths["html"].read_text(encoding="utf-8")
    found = re.findall(r'data-rule="([^"]+)" data-n="(\d+)"', html)
    assert found == [(r, str(n)) for r, n in zip(cp.rules["规则编号"], cp.rules["问题条数"], strict=True)]
    assert "@font-face" in html and "@page" in html


def test_safe_value():
    assert safe_value("110102199101010078", "id_no") == "110102********0078"
    assert safe_value("110102********0078", "id_no") == "110102********0078", "already masked stays"
    assert safe_value("138****5678", "phone") == "138****5678"
    assert safe_value("13812345678", "phone") == "138****5678"
    assert safe_value("张三", "name") == "张*" and safe_value("张*", "name") == "张*"
    assert safe_value("张*三", "name") == "张**", "a half-masked name is masked again"
    assert safe_value(None) == "" and safe_value(float("nan")) == ""
    # IDs and phones hidden in other fields are masked too; keys are left alone
    assert (
        scrub_text("电话13812345678，身份证44011320141005001X") == "电话138****5678，身份证440113********001X"
    )
    assert safe_value("420102202412200000011", exempt=True) == "420102202412200000011"
    assert safe_value("420102241220000001") == "420102********0001", "an 18-digit non-key is treated as an ID"


def test_title_and_labels_come_from_the_pack(problems, cp, tmp_path):
    """The title is the pack's (titles.common_problems), the unit columns carry its label (区县)."""
    dom = load_domain("bdc")
    assert cp.title == dom.title("common_problems") and cp.label == dom.unit.label_zh == "区县"
    assert {"涉及区县数", "主要区县"} <= set(cp.rules.columns)
    paths = write_common_problems(cp, tmp_path)
    html = paths["html"].read_text(encoding="utf-8")
    assert f"<h1>{cp.title}</h1>" in html and "各区县问题清单" in html
    with pd.ExcelFile(paths["xlsx"]) as book:
        assert book.sheet_names == ["常见问题", "分区县", "区县汇总"]
    # examples name the record by its key's label (业务号 for the registrations)
    assert "业务号 420102" in " ".join(cp.rules["示例"])


def test_a_problems_file_with_the_legacy_columns_only(problems):
    """A problems.csv of an earlier version (QXDM, key) gives the same list."""
    old = problems.rename(columns={"unit_code": "QXDM"}).drop(columns=["record_key"])
    old["key"] = problems["record_key"]
    again = build_common_problems(old, domain="bdc", period="2024年第52周")
    assert list(again.rules["问题条数"]) == list(
        build_common_problems(problems, domain="bdc").rules["问题条数"]
    )
    assert "业务号 420102" in " ".join(again.rules["示例"])


def test_the_pack_is_required(problems):
    with pytest.raises(TypeError, match="pack"):
        build_common_problems(problems, domain=None)
