"""不动产单元号 (real-estate unit number, GB/T 37346-2019): the 28-character structure.

Check ``expect_column_values_to_be_valid_unit_number``. Layout: county code (6 digits), cadastral zone
(3), sub-zone (3), parcel feature code (2: owner + parcel type), parcel number (5, not 00000), fixture
feature code (1) and fixture number (8: 00000000 exactly when there is no fixture ``W``). The county code
is only checked for being six digits, not for existing. The one home of the code letters below.
"""

from __future__ import annotations

from toolkit.checks.base import Check, Example, all_digits
from toolkit.checks.sql import CompiledRule, RuleSql, nn

__all__ = [
    "CHECK",
    "COLLECTIVE",
    "COLLECTIVE_ONLY_PARCEL_TYPES",
    "FIXTURE_TYPES",
    "NO_FIXTURE",
    "PARCEL_OWNERS",
    "PARCEL_TYPES",
    "TYPE",
    "UNIT_NUMBER_REGEX",
    "is_unit_number",
    "sql_unit_number_ok",
    "unit_number_problem",
]

TYPE = "expect_column_values_to_be_valid_unit_number"

PARCEL_OWNERS = "GJZ"  # 宗地特征码 first char: 国有 G / 集体 J / 争议 Z
COLLECTIVE = "J"
PARCEL_TYPES = "ABSXCDEFHGWYLN"  # 宗地特征码 second char
COLLECTIVE_ONLY_PARCEL_TYPES = "AC"  # 集体土地所有权 A, 宅基地 C only on collective land
FIXTURE_TYPES = "FLQW"  # 定着物特征码: 房屋 F / 林木 L / 构筑物 Q / 无定着物 W
NO_FIXTURE = "W"


def unit_number_problem(value: str) -> str | None:
    """Explain, in short plain Chinese, the first thing wrong with a 28-character unit number.

    Returns ``None`` if ``value`` is a well-formed 不动产单元号. Positions in the message are 1-based.
    """
    if not isinstance(value, str):
        return "不是文本"
    if len(value) != 28:
        return f"长度应为 28 位，实际为 {len(value)} 位"
    county, zone, subzone = value[0:6], value[6:9], value[9:12]
    parcel_kind, parcel_seq = value[12:14], value[14:19]
    fixture_kind, fixture_no = value[19], value[20:28]
    if not all_digits(county):
        return f"第1–6位县级行政区划代码“{county}”应为 6 位数字"
    if not all_digits(zone):
        return f"第7–9位地籍区代码“{zone}”应为 3 位数字"
    if not all_digits(subzone):
        return f"第10–12位地籍子区代码“{subzone}”应为 3 位数字"
    owner, kind = parcel_kind[0], parcel_kind[1]
    if owner not in PARCEL_OWNERS:
        return f"第13–14位宗地特征码“{parcel_kind}”无效：第一位应为 G、J 或 Z"
    if kind not in PARCEL_TYPES:
        return f"第13–14位宗地特征码“{parcel_kind}”无效：第二位“{kind}”不是有效的宗地类型"
    if kind in COLLECTIVE_ONLY_PARCEL_TYPES and owner != COLLECTIVE:
        return f"第13–14位宗地特征码“{parcel_kind}”无效：{kind} 只能跟在 J 之后"
    if not all_digits(parcel_seq):
        return f"第15–19位宗地顺序号“{parcel_seq}”应为 5 位数字"
    if parcel_seq == "00000":
        return "第15–19位宗地顺序号不能为 00000"
    if fixture_kind not in FIXTURE_TYPES:
        return f"第20位定着物特征码“{fixture_kind}”无效：应为 F、L、Q 或 W"
    if fixture_kind == NO_FIXTURE:
        if fixture_no != "00000000":
            return f"第21–28位定着物单元编号“{fixture_no}”无效：定着物特征码为 W 时应为 00000000"
        return None
    if not all_digits(fixture_no):
        return f"第21–28位定着物单元编号“{fixture_no}”应为 8 位数字"
    if fixture_no == "00000000":
        return f"第21–28位定着物单元编号不能为 00000000（定着物特征码为 {fixture_kind}）"
    return None


def is_unit_number(value: str) -> bool:
    """True if ``value`` is a well-formed 28-character 不动产单元号 (see :func:`unit_number_problem`)."""
    return unit_number_problem(value) is None


# ------------------------------------------------------------------------------------------------ SQL


def _without(chars: str, drop: str) -> str:
    return "".join(c for c in chars if c not in drop)


#: The structure as one RE2/Python pattern (without the two "not all zeros" rules).
UNIT_NUMBER_REGEX = (
    f"[0-9]{{12}}(?:{COLLECTIVE}[{PARCEL_TYPES}]"
    f"|[{_without(PARCEL_OWNERS, COLLECTIVE)}][{_without(PARCEL_TYPES, COLLECTIVE_ONLY_PARCEL_TYPES)}])"
    f"[0-9]{{5}}(?:{NO_FIXTURE}00000000|[{_without(FIXTURE_TYPES, NO_FIXTURE)}][0-9]{{8}})"
)


def sql_unit_number_ok(v: str) -> str:
    """:func:`is_unit_number` as SQL for non-NULL text."""
    return (
        f"(regexp_full_match({v}, '{UNIT_NUMBER_REGEX}')"
        f" AND substr({v}, 15, 5) <> '00000'"
        f" AND (substr({v}, 20, 1) = '{NO_FIXTURE}' OR substr({v}, 21, 8) <> '00000000'))"
    )


def build_sql(r: RuleSql) -> CompiledRule:
    c, v = r.single()
    return r.done([c], nn(v, f"NOT coalesce({sql_unit_number_ok(v)}, false)"))


CHECK = Check(
    type=TYPE,
    sql=build_sql,
    predicate=lambda: is_unit_number,
    metric="column_values.dq_valid_unit_number",
    doc="不动产单元号 (GB/T 37346-2019): the 28-character structure.",
    tags=("china", "real-estate"),
    examples=(
        Example(
            (
                "420102100302GB00001F00010001",
                "320684100302JA00001W00000000",
                "420102100302ZC00001L00000001",  # C only on collective land
                "420102100302GA00001F00010001",  # A only on collective land
                "420102100302GB00000F00010001",  # parcel 00000
                "420102100302GB00001W00010001",  # W must end 00000000
                "420102100302GB00001F00000000",  # F must not end 00000000
                "420102100302gb00001F00010001",
                "420102100302GB00001F0001000",  # 27 characters
                "42010210030２GB00001F00010001",
            )
        ),
    ),
)
