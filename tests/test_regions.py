"""Tests for toolkit.regions.

Besides fixed facts, the module is checked against an independent plain-text reading of stdnum's
``cn/loc.dat`` (not through stdnum.numdb, which the module itself uses).
"""

from __future__ import annotations

import re
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit import regions


def raw_loc() -> dict[str, list[str]]:
    """Six-digit code -> the comma-separated names exactly as written in loc.dat."""
    text = (resources.files("stdnum") / "cn" / "loc.dat").read_text(encoding="utf-8")
    codes: dict[str, list[str]] = {}
    province = None
    for line in text.splitlines():
        if m := re.fullmatch(r'(\d\d) province="(.*)"', line):
            province = m[1]
        elif m := re.fullmatch(r'  (\d{4}) county="(.*)"', line):
            assert province is not None
            codes[province + m[1]] = m[2].split(",")
    return codes


RAW = raw_loc()


def is_retired(names: list[str]) -> bool:
    """All names carry a closed ``[start-end]`` range."""
    return all(re.match(r"\[\d*-\d+\]", n) for n in names)


@pytest.mark.parametrize(
    ("code", "valid", "name"),
    [
        ("420102", True, "江岸区"),
        ("110103", True, "崇文区"),  # retired 2010, still valid for old records
        ("110101", True, "东城区"),  # xx01 that is a real district, not a 市辖区 placeholder
        ("120110", True, "东丽区"),  # renamed 1992: current name
        ("420121", True, "汉阳县"),  # retired 1992
        ("132622", True, "宽城满族自治县"),  # retired 1993 under its second name
        ("429004", True, "仙桃市"),  # 省直辖县级市
        ("420100", False, None),  # 武汉市 (prefecture)
        ("420000", False, None),  # 湖北省
        ("420101", False, None),  # 市辖区 placeholder
        ("140101", False, None),  # 市辖区 with two ranges
        ("999999", False, None),
        ("42010", False, None),
        ("4201020", False, None),
        ("42O102", False, None),
        ("４２０１０２", False, None),
        (" 420102", False, None),
        ("", False, None),
    ],
)
def test_known_codes(code: str, valid: bool, name: str | None) -> None:
    assert regions.is_county_code(code) is valid
    assert regions.county_name(code) == name


def test_hubei_counties() -> None:
    counties = regions.province_counties("42")
    codes = [c for c, _ in counties]
    assert ("420102", "江岸区") in counties
    assert ("429004", "仙桃市") in counties
    assert len(counties) > 90
    assert codes == sorted(codes)
    assert len(set(codes)) == len(codes)
    assert "420121" not in codes  # 汉阳县, retired
    assert "420101" not in codes and "420100" not in codes
    for code, name in counties:
        assert code.startswith("42")
        assert regions.is_county_code(code)
        assert regions.county_name(code) == name
        assert not is_retired(RAW[code]), code


def test_beijing_has_no_retired_districts() -> None:
    codes = {c for c, _ in regions.province_counties("11")}
    assert {"110101", "110102", "110105", "110119"} <= codes
    assert not {"110103", "110104", "110110", "110228"} & codes


def test_unknown_province() -> None:
    assert regions.province_counties("99") == []
    assert regions.province_counties("4") == []
    assert regions.province_name("99") is None


def test_province_names() -> None:
    assert regions.province_name("42") == "湖北省"
    assert regions.province_name("11") == "北京市"
    assert regions.province_name("65") == "新疆维吾尔自治区"


def test_agrees_with_raw_file_everywhere() -> None:
    current_by_province: dict[str, set[str]] = {}
    for code, names in RAW.items():
        placeholder = code.endswith("01") and all(re.sub(r"^\[\d*-\d*\]", "", n) == "市辖区" for n in names)
        expected = not code.endswith("00") and not placeholder
        assert regions.is_county_code(code) is expected, code
        if expected and not is_retired(names):
            current_by_province.setdefault(code[:2], set()).add(code)
    for prefix, codes in current_by_province.items():
        assert {c for c, _ in regions.province_counties(prefix)} == codes, prefix


def test_names_have_no_bracket_prefix() -> None:
    for code in RAW:
        name = regions.county_name(code)
        assert name is None or ("[" not in name and "]" not in name and name), code


@given(st.text(max_size=8))
def test_never_raises(value: str) -> None:
    assert isinstance(regions.is_county_code(value), bool)
    assert regions.county_name(value) is None or regions.is_county_code(value)
    assert isinstance(regions.province_counties(value), list)


@given(st.text(alphabet="0123456789", min_size=6, max_size=6))
def test_unknown_codes_are_invalid(code: str) -> None:
    if code not in RAW:
        assert not regions.is_county_code(code)
