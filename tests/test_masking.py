"""Masking of personal data (toolkit.masking): the shapes promised by shared/spec/cli-and-outputs.md
(``420102********123X``, ``张*``, ``138****5678``), short values, and that non-personal fields pass through."""

from __future__ import annotations

import math

import pytest

from toolkit.domain import load_domain
from toolkit.masking import mask_id, mask_name, mask_phone, mask_value, masker_for


@pytest.fixture(scope="module")
def pii() -> dict[str, str]:
    return load_domain("bdc").pii_fields()


def test_bdc_declares_exactly_the_personal_fields(pii):
    # holder name, registrar (DBR) and mortgagee (DYQR) are names; ZJH an ID; DH a phone
    assert pii == {"DBR": "name", "QLRMC": "name", "ZJH": "id_no", "DH": "phone", "DYQR": "name"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("42010219910101123X", "420102********123X"),  # citizen ID (18): 6 + 8 hidden + 4
        ("420102199101011234", "420102********1234"),
        ("91420100MA4K2L3X1Q", "914201********3X1Q"),  # credit code (18)
        ("420102910101123", "420102*****1123"),  # old 15-digit ID
        ("123456789012", "123456**9012"),  # 12: shortest "long" number
        ("12345678901", "12*********"),  # 11: only the first 2 kept
        ("E1234567", "E1******"),  # passport-like
        ("1234", "12**"),
        ("123", "***"),
        ("1", "*"),
        ("", ""),
    ],
)
def test_mask_id(value, expected):
    got = mask_id(value)
    assert got == expected
    assert len(got) == len(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13812345678", "138****5678"),
        ("19900001111", "199****1111"),
        ("027-87654321", "********4321"),  # landline: only the last 4 kept
        ("02787654321", "027****4321"),  # 11 digits, whatever the prefix
        ("1381234567", "******4567"),  # 10 digits (a typo) is not shown in full either
        ("1234567", "***4567"),
        ("123456", "******"),  # too short to keep anything
        ("12", "**"),
        ("", ""),
    ],
)
def test_mask_phone(value, expected):
    got = mask_phone(value)
    assert got == expected
    assert len(got) == len(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("张三", "张*"),
        ("欧阳娜娜", "欧***"),
        ("王小明", "王**"),
        ("张", "张*"),  # a single character still gets a star
        (" 李四 ", "李*"),  # surrounding spaces are not part of the name
        ("\u3000赵六\u3000", "赵*"),  # full-width spaces too
        ("某某有限公司", "某*****"),
        ("Zhang San", "Z********"),
        ("   ", "   "),  # nothing to hide
        ("", ""),
    ],
)
def test_mask_name(value, expected):
    assert mask_name(value) == expected


@pytest.mark.parametrize("name", ["张三", "欧阳娜娜", "诸葛孔明", "司马相如"])
def test_masked_name_never_contains_the_full_name(name):
    assert name not in mask_name(name)
    assert mask_name(name)[0] == name[0]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("QLRMC", "欧阳娜娜", "欧***"),
        ("DBR", "张三", "张*"),
        ("DYQR", "李四", "李*"),
        ("ZJH", "42010219910101123X", "420102********123X"),
        ("DH", "13812345678", "138****5678"),
        ("ZJH", 420102199101011234, "420102********1234"),  # non-text values are masked as text
    ],
)
def test_mask_value_masks_personal_fields(pii, field, value, expected):
    assert mask_value(field, value, pii) == expected


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("YWH", "YW2024030500001"),
        ("BDCDYH", "420102100302GB00001F00010001"),
        ("QXDM", "420102"),
        ("FDZL", "湖北省武汉市江岸区解放大道1号"),
        ("DJJG", "江岸区不动产登记中心"),
        ("JZMJ", "89.50"),
        ("BIZMSGID", "420102240305000001"),
        ("SLSJ", "2024-03-05 09:00:00"),
        ("QLBL", 50),
        (
            "UNKNOWN_FIELD",
            "42010219910101123X",
        ),  # not declared personal: the toolkit only masks declared fields
    ],
)
def test_mask_value_leaves_other_fields_alone(pii, field, value):
    got = mask_value(field, value, pii)
    assert got == value
    assert type(got) is type(value)


@pytest.mark.parametrize("field", ["QLRMC", "ZJH", "DH", "YWH"])
def test_mask_value_keeps_missing_values_missing(pii, field):
    assert mask_value(field, None, pii) is None
    assert math.isnan(mask_value(field, float("nan"), pii))


def test_masker_for():
    assert masker_for("name") is mask_name
    assert masker_for("id_no") is mask_id
    assert masker_for("phone") is mask_phone
    assert masker_for(None) is None
    assert masker_for("address") is None
