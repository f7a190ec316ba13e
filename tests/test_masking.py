"""Masking of personal data (toolkit.masking): the shapes promised by shared/spec/cli-and-outputs.md
(``420102********123X``, ``张*``, ``138****5678``), short values, and that non-personal fields pass through."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.domain import load_domain
from toolkit.masking import (
    Masker,
    mask_id,
    mask_name,
    mask_phone,
    mask_staff_name,
    mask_value,
    masker_for,
    scrub_text,
)


@pytest.fixture(scope="module")
def pii() -> dict[str, str]:
    return load_domain("bdc").pii_fields()


def test_bdc_declares_exactly_the_personal_fields(pii):
    # holder name, registrar (DBR), accepting and reviewing clerks (SLRY, SHRY) and mortgagee (DYQR) are
    # names; ZJH an ID; DH a phone
    assert pii == {
        "DBR": "name",
        "SLRY": "name",
        "SHRY": "name",
        "QLRMC": "name",
        "ZJH": "id_no",
        "DH": "phone",
        "DYQR": "name",
    }


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
    ],
)
def test_mask_value_leaves_other_fields_alone(pii, field, value):
    got = mask_value(field, value, pii, exempt={"BIZMSGID", "YWH"})  # record keys are not scrubbed
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


# ------------------------------------------------------------------------------------ free text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("身份证42010219910101007X号", "身份证420102********007X号"),
        ("身份证42010219910101007x", "身份证420102********007x"),
        ("420102 19910101 007X", "420102********007X"),
        ("420102-19910101-007X", "420102********007X"),
        ("旧证420102910101007。", "旧证420102*****1007。"),
        ("电话13912345678", "电话139****5678"),
        ("电话139-1234-5678", "电话139****5678"),
        ("电话139 1234 5678", "电话139****5678"),
        ("+86 139 1234 5678", "139****5678"),
        ("+8613912345678", "139****5678"),
        ("008613912345678", "139****5678"),
        ("个体户92420102MA4K12345X", "个体户924201********345X"),
        ("公司91420102MA4K12345X", "公司91420102MA4K12345X"),  # an enterprise's code is public
        ("单元号420102001001GB00001F00010001", "单元号420102001001GB00001F00010001"),
        ("业务号42038120210311500001", "业务号42038120210311500001"),  # 20 digits: not an ID
        ("面积 123.45，2024-03-05 09:00:00", "面积 123.45，2024-03-05 09:00:00"),
        ("座机027-12345678", "座机027-12345678"),
    ],
)
def test_free_text_is_scrubbed(text, expected):
    assert scrub_text(text) == expected
    assert scrub_text(expected) == expected  # idempotent: masked text never looks personal again


def test_names_of_the_batch_are_masked_wherever_they_appear():
    masker = Masker.for_frames(
        {"QLRMC": "name", "ZJH": "id_no"},
        [
            pd.DataFrame(
                {
                    "QLRMC": ["张三", "欧阳娜娜", "某某有限公司这是一个很长的公司名称", None],
                    "ZJH": ["1", "2", "3", "4"],
                }
            )
        ],
        exempt={"YWH"},
    )
    assert masker.names == {"张三", "欧阳娜娜"}  # a company is not a person's name
    assert masker.value("FDZL", "张三家住欧阳娜娜隔壁") == "张*家住欧***隔壁"
    assert masker.value("QLRMC", "张三") == "张*"
    assert masker.value("YWH", "42010219910101007X") == "42010219910101007X"  # a record key stays usable
    assert masker.text("备注：张三 13912345678") == "备注：张* 139****5678"


def test_staff_names_can_be_masked_too():
    assert [mask_staff_name(n) for n in ("何晓东", "何东", "欧阳晓东", "何")] == [
        "何*东",
        "何*",
        "欧**东",
        "何",
    ]


# pieces of ID and mobile numbers, credit codes, names, Unicode digits, separators
_MASK_TEXT = st.lists(
    st.sampled_from([*"0123456789Xx -+()#ab张三李四路号１２３٣·", "86", "139", "92", "4201021991"]),
    max_size=30,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(value=_MASK_TEXT, names=st.booleans())
def test_values_left_out_of_masking_are_unchanged_by_it(value: str, names: bool) -> None:
    """The SQL pre-filter of the gate's masking (Masker.may_change_sql) may send too much to Python, never
    too little: a value it leaves out is returned unchanged by the masker, for free text, a record key and
    any field."""
    import duckdb

    masker = Masker({"ZJH": "id_no", "QLRMC": "name"}, {"张三", "李四"} if names else set(), {"YWH"})
    con = duckdb.connect()
    for f in ["", "ZL", "YWH", "ZJH", "QLRMC"]:
        needs = con.execute(f"SELECT {masker.may_change_sql('$f', '$v')}", {"f": f, "v": value})
        if not needs.fetchone()[0]:
            assert masker.value(f, value) == value, (f, value)
