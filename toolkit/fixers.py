"""The fixers of ``dq clean``: conservative, deterministic corrections of *format* errors.

A fixer corrects only what has exactly one right answer, and says so when there is none. It never looks
anything up, never recomputes a check digit and never guesses which of two readings is meant:

* :data:`OK` — the value already has the fixer's form; it is returned unchanged (``outcome.value``);
* :data:`FIXED` — the one right spelling of the value (``outcome.value``);
* :data:`PERSON` — "needs a person": the fixer cannot tell what the value should be (an unparseable or
  impossible date, an Excel serial number, a lost character, unbalanced brackets …); ``reason_zh`` /
  ``reason_en`` say why, in words a clerk can act on.

Contract of every fixer (``tests/test_fixers.py`` checks it with Hypothesis on arbitrary text): it never
raises; a value its own form accepts (:meth:`Fixer.accepts`) is :data:`OK` and unchanged; a :data:`FIXED`
value is different from the input, is accepted by :meth:`Fixer.accepts` and is :data:`OK` when fixed
again (idempotent).

The set is shared by all domains (:data:`FIXERS`); a pack says in the ``fixers:`` section of its
``domain.yaml`` which fixers apply to which fields (see :func:`field_fixers` and the README, "dq clean").
Which values are touched at all is decided by the pack's own rules, not by the fixer: :mod:`toolkit.clean`
offers a value to its fixers only when it fails one of the pack's rules of the types a fixer makes pass
(:attr:`Fixer.rule_types`), and keeps a fix only when the new value passes them all and breaks no other
rule. So a spelling a pack accepts (``20240305`` where compact dates are valid) is never rewritten.

=================  ==========================================================================================
``date``           date spellings → ``YYYY-MM-DD`` (``style``: also ``YYYY/MM/DD`` or ``YYYYMMDD``)
``datetime``       date-time spellings → ``YYYY-MM-DD HH:MM:SS`` (a date without time stays a date)
``month``          month spellings → ``YYYY-MM`` (``style``: also ``YYYYMM``)
``fullwidth``      full-width ASCII (``４２０１０２``, ``（）`` in a certificate number) → half-width, in code fields
``id_x``           a trailing lower-case ``x`` of an 18-character ID number → ``X``
``text``           control and zero-width characters, surrounding and doubled spaces in text
``brackets``       half-width ``()`` in Chinese organisation names → full-width ``（）``
``percent_ratio``  a ratio written as a percentage (``12``, ``12%``) → a fraction (``0.12``)
``unit_suffix``    the field's own unit typed after a number (``89.5㎡``, ``50%``) → the number
``phone``          separators and the country code in a mobile number (``138-1234-5678``) → ``13812345678``
``integer``        a whole number with a zero fraction (``3.0``) → ``3``
=================  ==========================================================================================
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from toolkit.checks.base import Param
from toolkit.checks.citizen_id import TYPE as CITIZEN_ID_TYPE
from toolkit.checks.clean_text import REPLACEMENT_CHARACTER, SPACES, UNCLEAN_CATEGORIES, is_clean_text
from toolkit.checks.datetime_text import parse_datetime
from toolkit.checks.decimal_in_range import parse_decimal
from toolkit.errors import ConfigError

__all__ = [
    "FIXED",
    "FIXERS",
    "FIXER_VERSION",
    "OK",
    "PERSON",
    "FieldFixer",
    "Fixer",
    "Outcome",
    "field_fixers",
    "fixers_digest",
    "halfwidth",
]

#: Bumped whenever a fixer's behaviour changes: a plan made by another version is planned again.
FIXER_VERSION = "2"

OK, FIXED, PERSON = "ok", "fixed", "person"


@dataclass(frozen=True)
class Outcome:
    """What a fixer says about one value (see the module docstring)."""

    kind: str
    value: str
    reason_zh: str = ""
    reason_en: str = ""


def _ok(value: str) -> Outcome:
    return Outcome(OK, value)


def _fixed(value: str) -> Outcome:
    return Outcome(FIXED, value)


def _person(value: str, zh: str, en: str) -> Outcome:
    return Outcome(PERSON, value, zh, en)


# ================================================================================================ helpers

_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}  # ！ … ～ → ! … ~


def halfwidth(value: str) -> str:
    """``value`` with every full-width ASCII variant (U+FF01–U+FF5E) replaced by its ASCII character."""
    return value.translate(_FULLWIDTH)


def _has_fullwidth(value: str) -> bool:
    return any(0xFF01 <= ord(ch) <= 0xFF5E for ch in value)


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\uf900" <= ch <= "\ufaff"


def _plain(number: Decimal) -> str:
    """Plain decimal text of ``number`` without trailing zeros (``0.1200`` → ``0.12``, ``100`` → ``100``)."""
    text = format(number.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# dates and times: ASCII digits only (``\d`` would accept other scripts' digits)
_D = "[0-9]"
_DATE_SEP = re.compile(rf"({_D}{{4}})([-/.])({_D}{{1,2}})\2({_D}{{1,2}})")
_DATE_CJK = re.compile(rf"({_D}{{4}}) ?年 ?({_D}{{1,2}}) ?月 ?({_D}{{1,2}}) ?日")
_DATE_COMPACT = re.compile(rf"({_D}{{4}})({_D}{{2}})({_D}{{2}})")
_TIME_COLON = re.compile(rf"({_D}{{1,2}}):({_D}{{2}})(?::({_D}{{2}})(?:\.(0+))?)?")
_TIME_CJK = re.compile(rf"({_D}{{1,2}}) ?[时點点] ?({_D}{{1,2}}) ?分(?: ?({_D}{{1,2}}) ?秒)?")
_TIME_COMPACT = re.compile(rf"({_D}{{2}})({_D}{{2}})({_D}{{2}})")
_COMPACT_STAMP = re.compile(rf"{_D}{{14}}")
_SERIAL = re.compile(rf"{_D}{{1,7}}(?:\.{_D}+)?")

_WHY_SERIAL = (
    "像是 Excel 的日期序列号：Excel 的 1900 和 1904 两种日期系统相差 1462 天，无法确定是哪一天；请从业务系统中查出日期后填写。",
    "looks like an Excel date serial number: Excel's 1900 and 1904 date systems differ by 1,462 days, so the "
    "day cannot be told; look the date up in the business system.",
)
_WHY_DATE = (
    "不是能确定读法的日期写法（如 2024-03-05、2024/3/5、2024年3月5日、20240305）；请对照原始记录填写。",
    "not a date spelling that can be read with certainty (e.g. 2024-03-05, 2024/3/5, 2024年3月5日, "
    "20240305); check the original record.",
)
_WHY_IMPOSSIBLE = (
    "日期或时间不存在（如 2 月 30 日、24:00:00）；请对照原始记录填写。",
    "the date or time does not exist (e.g. 30 February, 24:00:00); check the original record.",
)


def _parse_date_part(text: str) -> tuple[int, int, int] | str | None:
    """(year, month, day) of a recognised date spelling; ``None`` if not recognised; ``"serial"`` for a
    bare number that may be an Excel serial."""
    for pattern in (_DATE_SEP, _DATE_CJK):
        m = pattern.fullmatch(text)
        if m:
            g = [x for x in m.groups() if x not in ("-", "/", ".")]
            return int(g[0]), int(g[1]), int(g[2])
    m = _DATE_COMPACT.fullmatch(text)
    if m:
        return int(m.group(1)), int(m.group(2)), int(m.group(3))
    if _SERIAL.fullmatch(text):
        return "serial"
    return None


def _split_datetime(text: str) -> tuple[str, str | None]:
    """The date part and the time part (or ``None``) of a date-time spelling."""
    if _COMPACT_STAMP.fullmatch(text):  # 20240305090000: one reading only (YYYYMMDDHHMMSS)
        return text[:8], text[8:]
    m = re.fullmatch(r"(\S+?)(?:(?: +|T)(\S.*))?", text)
    if not m:
        return text, None
    date_part, time_part = m.group(1), m.group(2)
    if time_part is None and "日" in text and not text.endswith("日"):  # 2024年3月5日9时5分
        head, _, tail = text.partition("日")
        return head + "日", tail.strip() or None
    return date_part, time_part


def _parse_time(text: str, compact_date: bool) -> tuple[int, int, int] | None:
    m = _TIME_COLON.fullmatch(text) or _TIME_CJK.fullmatch(text)
    if m is None and compact_date:
        m = _TIME_COMPACT.fullmatch(text)
    if m is None:
        return None
    hour, minute = int(m.group(1)), int(m.group(2))
    second = int(m.group(3)) if m.group(3) is not None else 0
    return hour, minute, second


def _read_datetime(value: str) -> tuple[tuple[int, ...], bool] | Outcome:
    """((y, m, d[, H, M, S]), has_time) of a date or date-time spelling, or a PERSON outcome."""
    text = halfwidth(value).strip()
    date_text, time_text = _split_datetime(text)
    date = _parse_date_part(date_text)
    if date == "serial" and time_text is None:
        return _person(value, *_WHY_SERIAL)
    if not isinstance(date, tuple):
        return _person(value, *_WHY_DATE)
    if time_text is None:
        parts: tuple[int, ...] = date
    else:
        time = _parse_time(time_text, _DATE_COMPACT.fullmatch(date_text) is not None)
        if time is None:
            return _person(value, *_WHY_DATE)
        parts = date + time
    try:
        import datetime as dt

        dt.datetime(*parts) if len(parts) == 6 else dt.date(*parts)
    except ValueError:
        return _person(value, *_WHY_IMPOSSIBLE)
    if parts[0] < 1:
        return _person(value, *_WHY_IMPOSSIBLE)
    return parts, time_text is not None


_DATE_STYLES = {
    "YYYY-MM-DD": "{0:04d}-{1:02d}-{2:02d}",
    "YYYY/MM/DD": "{0:04d}/{1:02d}/{2:02d}",
    "YYYYMMDD": "{0:04d}{1:02d}{2:02d}",
}
_TIME_FORMAT = " {3:02d}:{4:02d}:{5:02d}"


def _date_form(style: str) -> re.Pattern[str]:
    return re.compile(
        {
            "YYYY-MM-DD": rf"{_D}{{4}}-{_D}{{2}}-{_D}{{2}}",
            "YYYY/MM/DD": rf"{_D}{{4}}/{_D}{{2}}/{_D}{{2}}",
        }.get(style, rf"{_D}{{8}}")
    )


def _real_date(y: str, m: str, d: str) -> bool:
    import datetime as dt

    try:
        dt.date(int(y), int(m), int(d))
    except ValueError:
        return False
    return int(y) >= 1


def _accepts_date(value: str, style: str = "YYYY-MM-DD") -> bool:
    if not _date_form(style).fullmatch(value):
        return False
    digits = re.sub("[^0-9]", "", value)
    return _real_date(digits[:4], digits[4:6], digits[6:])


# ================================================================================================ fixers


def _date(style: str = "YYYY-MM-DD") -> Callable[[str], Outcome]:
    form = _DATE_STYLES[style]

    def fix(value: str) -> Outcome:
        if _accepts_date(value, style):
            return _ok(value)
        read = _read_datetime(value)
        if isinstance(read, Outcome):
            return read
        parts, has_time = read
        if has_time and parts[3:] != (0, 0, 0):
            return _person(
                value,
                "日期字段中写了非零点的时间，去掉时间会丢失信息；请确认该字段应填的日期。",
                "a date field holds a time other than midnight; dropping it would lose information — check "
                "which date belongs in the field.",
            )
        return _fixed(form.format(*parts[:3]))

    return fix


def _accepts_datetime(value: str, style: str = "YYYY-MM-DD HH:MM:SS") -> bool:
    text = value.replace("/", "-") if style.startswith("YYYY/") else value
    if style.startswith("YYYY/") and "-" in value:
        return False
    return parse_datetime(text) is not None


def _datetime(style: str = "YYYY-MM-DD HH:MM:SS") -> Callable[[str], Outcome]:
    date_form = _DATE_STYLES["YYYY/MM/DD" if style.startswith("YYYY/") else "YYYY-MM-DD"]

    def fix(value: str) -> Outcome:
        if _accepts_datetime(value, style):
            return _ok(value)
        read = _read_datetime(value)
        if isinstance(read, Outcome):
            return read
        parts, has_time = read
        return _fixed((date_form + _TIME_FORMAT).format(*parts) if has_time else date_form.format(*parts))

    return fix


_MONTH_SEP = re.compile(rf"({_D}{{4}})([-/.])({_D}{{1,2}})")
_MONTH_CJK = re.compile(rf"({_D}{{4}}) ?年 ?({_D}{{1,2}}) ?月")
_MONTH_COMPACT = re.compile(rf"({_D}{{4}})({_D}{{2}})")
_MONTH_STYLES = {"YYYY-MM": "{0:04d}-{1:02d}", "YYYYMM": "{0:04d}{1:02d}"}


def _accepts_month(value: str, style: str = "YYYY-MM") -> bool:
    pattern = rf"({_D}{{4}})-({_D}{{2}})" if style == "YYYY-MM" else rf"({_D}{{4}})({_D}{{2}})"
    m = re.fullmatch(pattern, value)
    return bool(m) and int(m.group(1)) >= 1 and 1 <= int(m.group(2)) <= 12


def _month(style: str = "YYYY-MM") -> Callable[[str], Outcome]:
    form = _MONTH_STYLES[style]

    def fix(value: str) -> Outcome:
        if _accepts_month(value, style):
            return _ok(value)
        text = halfwidth(value).strip()
        m = _MONTH_SEP.fullmatch(text) or _MONTH_CJK.fullmatch(text) or _MONTH_COMPACT.fullmatch(text)
        if m is None:
            return _person(
                value,
                "不是能确定读法的年月写法（如 2024-03、2024/3、2024年3月、202403）；请对照原始记录填写。",
                "not a month spelling that can be read with certainty (e.g. 2024-03, 2024/3, 2024年3月, "
                "202403); check the original record.",
            )
        g = [x for x in m.groups() if x not in ("-", "/", ".")]
        year, month = int(g[0]), int(g[1])
        if year < 1 or not 1 <= month <= 12:
            return _person(value, *_WHY_IMPOSSIBLE)
        return _fixed(form.format(year, month))

    return fix


def _fullwidth() -> Callable[[str], Outcome]:
    def fix(value: str) -> Outcome:
        return _fixed(halfwidth(value)) if _has_fullwidth(value) else _ok(value)

    return fix


_ID_LOWER_X = re.compile(rf"{_D}{{17}}x")


def _id_x() -> Callable[[str], Outcome]:
    def fix(value: str) -> Outcome:
        return _fixed(value[:17] + "X") if _ID_LOWER_X.fullmatch(value) else _ok(value)

    return fix


_WHITESPACE_CONTROLS = frozenset("\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\u2028\u2029")


def _text() -> Callable[[str], Outcome]:
    def fix(value: str) -> Outcome:
        if is_clean_text(value):
            return _ok(value)
        if REPLACEMENT_CHARACTER in value or any(unicodedata.category(ch) == "Cs" for ch in value):
            return _person(
                value,
                "文字中有因编码错误丢失的字符（显示为 \ufffd 或乱码），无法知道原来是什么字；请对照原始记录重新录入。",
                "the text lost characters to a wrong encoding (shown as \ufffd); the original characters "
                "cannot be known — type it again from the original record.",
            )
        chars = []
        for ch in value:
            if ch in _WHITESPACE_CONTROLS:
                chars.append(" ")  # a line break or tab separates words: it stays a separator
            elif unicodedata.category(ch) in UNCLEAN_CATEGORIES:
                continue  # zero-width, byte-order mark, bidi marks, escape characters: invisible junk
            else:
                chars.append(ch)
        out: list[str] = []
        for ch in chars:  # a run of spaces keeps its first
            if ch in SPACES and out and out[-1] in SPACES:
                continue
            out.append(ch)
        text = "".join(out).strip()
        if not text:
            return _person(
                value,
                "只有空白或不可见字符，去掉后为空；请补录该字段。",
                "only blanks or invisible characters: nothing would be left; fill the field in.",
            )
        return _fixed(text)

    return fix


_OPEN, _CLOSE = "(（", ")）"


def _accepts_brackets(value: str) -> bool:
    return not (any(_is_cjk(ch) for ch in value) and any(ch in "()" for ch in value))


def _brackets() -> Callable[[str], Outcome]:
    def fix(value: str) -> Outcome:
        if _accepts_brackets(value):
            return _ok(value)
        depth = 0
        for ch in value:
            if ch in _OPEN:
                depth += 1
            elif ch in _CLOSE:
                depth -= 1
                if depth < 0:
                    break
        if depth != 0:
            return _person(
                value,
                "括号不成对，无法确定名称的写法；请对照营业执照或登记证书填写。",
                "the brackets do not pair up, so the name cannot be told; check the business licence or "
                "registration certificate.",
            )
        return _fixed(value.replace("(", "（").replace(")", "）"))

    return fix


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value)) if isinstance(value, float) else Decimal(value)


def _accepts_ratio(value: str, max_value: float | int | str = 1) -> bool:
    number = parse_decimal(value)
    return number is not None and 0 <= number <= _decimal(max_value)


def _percent_ratio(max_value: float | int | str = 1) -> Callable[[str], Outcome]:
    bound = _decimal(max_value)

    def fix(value: str) -> Outcome:
        if _accepts_ratio(value, bound):
            return _ok(value)
        text = halfwidth(value).strip()
        percent = text.endswith("%")
        number = parse_decimal(text[:-1].strip() if percent else text)
        if number is None:
            return _person(
                value,
                "不是数字，无法换算成比例；请对照原始记录填写（如 0.12）。",
                "not a number, so it cannot be turned into a ratio; check the original record (e.g. 0.12).",
            )
        if not percent and 0 <= number <= bound:  # only surrounding blanks or full-width digits
            return _fixed(text)
        if number < 0 or (not percent and not bound < number <= 100):
            return _person(
                value,
                f"不在 0–{_plain(bound)} 之间，也不像百分数（超过 100 或为负）；请对照原始记录填写。",
                f"not within 0–{_plain(bound)} and not a percentage either (above 100 or negative); check "
                "the original record.",
            )
        ratio = number / 100
        if ratio > bound:
            return _person(
                value,
                f"按百分数换算后（{_plain(ratio)}）仍大于 {_plain(bound)}；请对照原始记录填写。",
                f"even read as a percentage ({_plain(ratio)}) it exceeds {_plain(bound)}; check the original "
                "record.",
            )
        return _fixed(_plain(ratio))

    return fix


def _unit_suffix(units: list[str] | tuple[str, ...] = ()) -> Callable[[str], Outcome]:
    ordered = sorted({str(u) for u in units}, key=len, reverse=True)

    def fix(value: str) -> Outcome:
        text = value.strip()
        unit = next((u for u in ordered if text.endswith(u)), None)
        if unit is None:
            return _ok(value)
        number = text[: -len(unit)].strip()
        if parse_decimal(number) is None:
            return _person(
                value,
                f"去掉单位“{unit}”后不是数字；请对照原始记录填写。",
                f"without the unit {unit!r} it is not a number; check the original record.",
            )
        return _fixed(number)

    return fix


def _accepts_unit_suffix(value: str, units: list[str] | tuple[str, ...] = ()) -> bool:
    text = value.strip()
    return not any(text.endswith(str(u)) for u in units)


_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_PHONE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015()（）.]")


def _phone_digits(value: str) -> str | None:
    text = _PHONE_SEPARATORS.sub("", halfwidth(value))
    for prefix in ("+86", "0086", "86"):
        if text.startswith(prefix) and _MOBILE.fullmatch(text[len(prefix) :]):
            text = text[len(prefix) :]
            break
    return text if _MOBILE.fullmatch(text) else None


def _accepts_phone(value: str) -> bool:
    digits = _phone_digits(value)
    return digits is None or digits == value


def _phone() -> Callable[[str], Outcome]:
    def fix(value: str) -> Outcome:
        digits = _phone_digits(value)
        return _ok(value) if digits is None or digits == value else _fixed(digits)

    return fix


_ZERO_FRACTION = re.compile(r"(-?[0-9]+)\.0+")


def _integer() -> Callable[[str], Outcome]:
    def fix(value: str) -> Outcome:
        m = _ZERO_FRACTION.fullmatch(value)
        return _fixed(m.group(1)) if m else _ok(value)

    return fix


# ================================================================================================ registry

# expectation types (the pack's rules a fixer can make pass)
_DATETIME_TEXT = "expect_column_values_to_be_valid_datetime_text"
_DATE_SPELLING = "expect_column_values_to_be_date_in_spelling"
_TEMPLATE_DATE = "expect_column_values_to_be_template_date"
_MONTH_TEXT = "expect_column_values_to_be_month_text"
_REGEX = "expect_column_values_to_match_regex"
_NOT_REGEX = "expect_column_values_to_not_match_regex"
_IN_SET = "expect_column_values_to_be_in_set"
_CLEAN_TEXT = "expect_column_values_to_be_clean_text"
_CLEAN_ORG_NAME = "expect_column_values_to_be_clean_org_name"
_DECIMAL = "expect_column_values_to_be_decimal_in_range"
_INTEGER = "expect_column_values_to_be_integer_text"
_RATIO_SCALE = "expect_column_values_to_be_fraction_not_percent"
_CODE_TYPES = frozenset(
    {
        _IN_SET,
        _REGEX,
        _INTEGER,
        _DECIMAL,
        "expect_column_values_to_be_valid_citizen_id",
        "expect_column_values_to_be_valid_credit_code",
        "expect_column_values_to_be_valid_unit_number",
        "expect_column_values_to_be_county_code",
        "expect_column_values_to_be_prefecture_code",
        "expect_column_values_to_be_in_code_list",
        "expect_column_values_to_be_valid_org_code",
        "expect_column_value_lengths_to_be_between",
    }
)


@dataclass(frozen=True, kw_only=True)
class Fixer:
    """One fixer of the shared set (see the module docstring).

    ``make(**params)`` returns the value function; ``form(value, **params)`` is the fixer's own rule (the
    values it leaves alone); ``rule_types`` the expectation types of a pack's rules it makes pass;
    ``examples`` pairs of value and the expected fix (``None``: needs a person or nothing to do) that the
    tests and the README table run."""

    id: str
    label_zh: str
    label_en: str
    doc: str
    rule_types: frozenset[str]
    make: Callable[..., Callable[[str], Outcome]]
    form: Callable[..., bool]
    params: tuple[Param, ...] = ()
    examples: tuple[tuple[str, str | None], ...] = ()
    example_params: Mapping[str, Any] = field(default_factory=dict)

    def bind(self, params: Mapping[str, Any] | None = None) -> Callable[[str], Outcome]:
        """The value function for these parameter values (declared defaults where absent)."""
        return self.make(**self._values(params))

    def accepts(self, value: str, params: Mapping[str, Any] | None = None) -> bool:
        """True if ``value`` already has the fixer's form (it leaves such a value alone)."""
        return self.form(value, **self._values(params))

    def _values(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        given = dict(params or {})
        return {p.name: given.get(p.name, p.default) for p in self.params}


FIXERS: dict[str, Fixer] = {
    f.id: f
    for f in (
        Fixer(
            id="date",
            label_zh="日期写法",
            label_en="date spelling",
            doc="date spellings (2024/3/5, 2024.03.05, 2024年3月5日, 20240305, full-width digits) → YYYY-MM-DD",
            rule_types=frozenset({_DATETIME_TEXT, _DATE_SPELLING, _TEMPLATE_DATE, _REGEX}),
            make=_date,
            form=_accepts_date,
            params=(Param("style", "YYYY-MM-DD", str),),
            examples=(
                ("2024/3/5", "2024-03-05"),
                ("2024.03.05", "2024-03-05"),
                ("2024年3月5日", "2024-03-05"),
                ("20240305", "2024-03-05"),
                ("２０２４-03-05", "2024-03-05"),
                ("2024-03-05 00:00:00", "2024-03-05"),
                ("2024-03-05", None),
                ("2023-02-29", None),
                ("45356", None),
                ("3/5/2024", None),
                ("24-03-05", None),
                ("2024-03-05 09:30:00", None),
            ),
        ),
        Fixer(
            id="datetime",
            label_zh="时间写法",
            label_en="date-time spelling",
            doc="date-time spellings (2024/03/05 09:00:00, 2024-03-05T09:00:00, 20240305 090000, "
            "20240305090000, 2024-3-5 9:05:00, 2024年03月05日 09:00:00, no seconds) → YYYY-MM-DD HH:MM:SS",
            rule_types=frozenset({_DATETIME_TEXT, _TEMPLATE_DATE, _REGEX}),
            make=_datetime,
            form=_accepts_datetime,
            params=(Param("style", "YYYY-MM-DD HH:MM:SS", str),),
            examples=(
                ("2024/03/05 09:00:00", "2024-03-05 09:00:00"),
                ("2024-03-05T09:00:00", "2024-03-05 09:00:00"),
                ("20240305 090000", "2024-03-05 09:00:00"),
                ("20240305090000", "2024-03-05 09:00:00"),
                ("2024-3-5 9:05:00", "2024-03-05 09:05:00"),
                ("2024-03-05 09:05", "2024-03-05 09:05:00"),
                ("2024年03月05日 09:00:00", "2024-03-05 09:00:00"),
                ("2024.03.05", "2024-03-05"),
                ("2024-03-05 09:00:00.000", "2024-03-05 09:00:00"),
                ("2024-03-05 09:00:00", None),
                ("2024-03-05 24:00:00", None),
                ("2024-03-05 09:00:00.5", None),
                ("2024-03-05 9:5", None),
            ),
        ),
        Fixer(
            id="month",
            label_zh="年月写法",
            label_en="month spelling",
            doc="month spellings (2024/3, 2024.03, 2024-3, 2024年3月, 202403) → YYYY-MM",
            rule_types=frozenset({_MONTH_TEXT, _REGEX}),
            make=_month,
            form=_accepts_month,
            params=(Param("style", "YYYY-MM", str),),
            examples=(
                ("2024/3", "2024-03"),
                ("2024年3月", "2024-03"),
                ("202403", "2024-03"),
                ("2024-03", None),
                ("2024-13", None),
                ("24-03", None),
            ),
        ),
        Fixer(
            id="fullwidth",
            label_zh="全角字符",
            label_en="full-width characters",
            doc="full-width letters, digits and punctuation (U+FF01–U+FF5E) → half-width, in code fields",
            rule_types=_CODE_TYPES,
            make=_fullwidth,
            form=lambda value: not _has_fullwidth(value),
            examples=(
                ("４２０１０２", "420102"),
                ("鄂（2024）武汉市不动产权第0012345号", "鄂(2024)武汉市不动产权第0012345号"),
                ("420102", None),
            ),
        ),
        Fixer(
            id="id_x",
            label_zh="身份证号小写 x",
            label_en="lower-case x in an ID",
            doc="the trailing lower-case x of an 18-character ID number → X (the check digit itself is "
            "never recomputed)",
            rule_types=frozenset({CITIZEN_ID_TYPE}),
            make=_id_x,
            form=lambda value: not _ID_LOWER_X.fullmatch(value),
            examples=(("44011320141005001x", "44011320141005001X"), ("44011320141005001X", None)),
        ),
        Fixer(
            id="text",
            label_zh="不可见字符和多余空格",
            label_en="invisible characters and spaces",
            doc="control and zero-width characters removed (line breaks and tabs become a space), "
            "surrounding spaces removed, a run of spaces kept as one",
            rule_types=frozenset({_CLEAN_TEXT, _CLEAN_ORG_NAME}),
            make=_text,
            form=is_clean_text,
            examples=(
                ("江思 ", "江思"),
                ("武汉市  江岸区", "武汉市 江岸区"),
                ("人民路6\u3000\u300092号", "人民路6\u300092号"),
                ("Bank\nof China\u200b", "Bank of China"),
                ("张\ufffd三", None),
                ("\u200b", None),
                ("江思", None),
            ),
        ),
        Fixer(
            id="brackets",
            label_zh="名称中的半角括号",
            label_en="half-width brackets in a name",
            doc="half-width () in a Chinese organisation name → full-width （）, when they pair up",
            rule_types=frozenset({_CLEAN_ORG_NAME, _NOT_REGEX, _REGEX}),
            make=_brackets,
            form=_accepts_brackets,
            examples=(
                ("东莞市华信电子有限公司(分公司)", "东莞市华信电子有限公司（分公司）"),
                ("东莞市华信电子有限公司（分公司)", "东莞市华信电子有限公司（分公司）"),
                ("东莞市华信电子有限公司(分公司", None),
                ("Huaxin (Dongguan) Ltd", None),
            ),
        ),
        Fixer(
            id="percent_ratio",
            label_zh="比例写成百分数",
            label_en="ratio written as a percentage",
            doc="a ratio written as a percentage (12, 12%, 7.5) → a fraction (0.12, 0.075); above 100 or "
            "negative needs a person",
            rule_types=frozenset({_RATIO_SCALE, _DECIMAL}),
            make=_percent_ratio,
            form=_accepts_ratio,
            params=(Param("max_value", 1, float | int),),
            examples=(
                ("12", "0.12"),
                ("12%", "0.12"),
                ("7.5", "0.075"),
                ("0.5%", "0.005"),
                ("12.00", "0.12"),
                ("0.12", None),
                ("120", None),
                ("-5", None),
                ("abc", None),
            ),
        ),
        Fixer(
            id="unit_suffix",
            label_zh="数字后的单位",
            label_en="unit after a number",
            doc="the field's own unit (declared by the pack: units) typed after a number → the number",
            rule_types=frozenset({_DECIMAL, _INTEGER, _RATIO_SCALE}),
            make=_unit_suffix,
            form=_accepts_unit_suffix,
            params=(Param("units", (), list),),
            example_params={"units": ["㎡", "平方米", "%"]},
            examples=(
                ("89.5㎡", "89.5"),
                ("120 平方米", "120"),
                ("50%", "50"),
                ("约90㎡", None),
                ("89.5", None),
            ),
        ),
        Fixer(
            id="phone",
            label_zh="手机号分隔符",
            label_en="separators in a mobile number",
            doc="spaces, hyphens, brackets and the country code (+86) in a mobile number removed",
            rule_types=frozenset({_REGEX}),
            make=_phone,
            form=_accepts_phone,
            examples=(
                ("138-1234-5678", "13812345678"),
                ("+86 138 1234 5678", "13812345678"),
                ("1381234567", None),
                ("027-87654321", None),
            ),
        ),
        Fixer(
            id="integer",
            label_zh="整数带小数点",
            label_en="whole number with a zero fraction",
            doc="a whole number written with a zero fraction (3.0, 12.00) → 3, 12",
            rule_types=frozenset({_INTEGER}),
            make=_integer,
            form=lambda value: not _ZERO_FRACTION.fullmatch(value),
            examples=(("3.0", "3"), ("12.00", "12"), ("3.5", None), ("3", None)),
        ),
    )
}

_STYLES = {
    "date": set(_DATE_STYLES),
    "datetime": {"YYYY-MM-DD HH:MM:SS", "YYYY/MM/DD HH:MM:SS"},
    "month": set(_MONTH_STYLES),
}


# ================================================================================================ pack


@dataclass(frozen=True)
class FieldFixer:
    """One fixer declared for one field of a pack's table, with its parameter values."""

    table: str
    field: str
    fixer: Fixer
    params: Mapping[str, Any]
    entry: int  # position in the pack's ``fixers:`` list (1-based), for messages

    def bind(self) -> Callable[[str], Outcome]:
        return self.fixer.bind(self.params)


def _bad(path: Any, entry: int, zh: str, en: str) -> ConfigError:
    return ConfigError(
        f"domain.yaml 的 fixers 第 {entry} 项：{zh}",
        f"entry {entry} of fixers in domain.yaml: {en}",
        path=path,
        fix_zh="写法：- {fixer: <整理器>, fields: {<表>: [<字段>, …]}, params: {…}}；可用的整理器："
        + "、".join(FIXERS),
        fix_en="form: - {fixer: <id>, fields: {<TABLE>: [<FIELD>, …]}, params: {…}}; fixers: "
        + ", ".join(FIXERS),
    )


def _check_params(fixer: Fixer, params: Any, path: Any, entry: int) -> dict[str, Any]:
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise _bad(path, entry, "params 应是键值对。", "params must be a mapping.")
    known = {p.name: p for p in fixer.params}
    extra = sorted(map(str, set(params) - set(known)))
    if extra:
        raise _bad(
            path,
            entry,
            f"整理器 {fixer.id} 没有参数 {', '.join(extra)}。",
            f"fixer {fixer.id} takes no parameter {', '.join(extra)}.",
        )
    out = dict(params)
    if "style" in out and out["style"] not in _STYLES.get(fixer.id, set()):
        raise _bad(
            path,
            entry,
            f"style 只能是 {'、'.join(sorted(_STYLES.get(fixer.id, ())))}。",
            f"style must be one of {', '.join(sorted(_STYLES.get(fixer.id, ())))}.",
        )
    if "units" in out:
        units = out["units"]
        if (
            not isinstance(units, list)
            or not units
            or not all(
                isinstance(u, str) and 0 < len(u.strip()) <= 10 and u.strip()[0] not in "0123456789.-+"
                for u in units
            )
        ):
            raise _bad(
                path,
                entry,
                "units 应是单位的列表（不以数字开头），如 [㎡, 平方米]。",
                "units must be a list of units (not starting with a digit), e.g. [㎡, 平方米].",
            )
        out["units"] = tuple(u.strip() for u in units)
    if "max_value" in out:
        try:
            bound = _decimal(out["max_value"])
        except (InvalidOperation, TypeError, ValueError):
            bound = Decimal(-1)
        if isinstance(out["max_value"], bool) or not bound.is_finite() or bound <= 0:
            raise _bad(path, entry, "max_value 应是正数。", "max_value must be a positive number.")
    return out


def field_fixers(domain: Any) -> list[FieldFixer]:
    """The fixers a pack declares (``fixers:`` in its ``domain.yaml``), one per field and fixer, in
    declaration order. A pack without the section has none. Raises
    :class:`~toolkit.errors.ConfigError` for an unknown fixer, parameter, table or field."""
    raw = domain.config.get("fixers")
    path = domain.path / "domain.yaml"
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _bad(path, 0, "fixers 应是一个列表。", "fixers must be a list.")
    out: list[FieldFixer] = []
    for entry, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or set(item) - {"fixer", "fields", "params"}:
            raise _bad(
                path,
                entry,
                "每项只能有 fixer、fields、params。",
                "each entry has fixer, fields and params only.",
            )
        fixer = FIXERS.get(str(item.get("fixer")))
        if fixer is None:
            raise _bad(
                path,
                entry,
                f"没有整理器 {item.get('fixer')!r}。",
                f"there is no fixer {item.get('fixer')!r}.",
            )
        params = _check_params(fixer, item.get("params"), path, entry)
        fields = item.get("fields")
        if not isinstance(fields, dict) or not fields:
            raise _bad(path, entry, "fields 应写成 {表: [字段, …]}。", "fields must be {TABLE: [FIELD, …]}.")
        for table, names in fields.items():
            spec = domain.tables.get(str(table))
            if spec is None:
                raise _bad(path, entry, f"没有表 {table}。", f"there is no table {table}.")
            if not isinstance(names, list) or not names:
                raise _bad(
                    path, entry, f"表 {table} 的字段应是列表。", f"the fields of {table} must be a list."
                )
            for name in names:
                if str(name) not in spec["fields"]:
                    raise _bad(
                        path, entry, f"表 {table} 没有字段 {name}。", f"table {table} has no field {name}."
                    )
                out.append(FieldFixer(str(table), str(name), fixer, params, entry))
    return out


def fixers_digest(domain: Any) -> str:
    """SHA-256 of what decides a plan besides the data: the fixer version, the pack's fixer declarations
    and its rules (type, keywords, target) — a plan is applied only while all of them are unchanged."""
    rules = sorted(
        (r.rule_id, r.type, r.target, json.dumps(r.kwargs, sort_keys=True, ensure_ascii=False, default=str))
        for r in domain.rules
    )
    blob = json.dumps(
        {"version": FIXER_VERSION, "fixers": domain.config.get("fixers"), "rules": rules},
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
