"""Pure single-value validators for registration data.

Every ``is_*`` / ``parse_*`` function takes one text value and returns a ``bool`` (or the parsed value /
``None``). They never raise on any ``str`` input, however strange: control characters, lone surrogates,
non-ASCII digits such as ``"١"`` or ``"²"`` (which ``str.isdigit`` would accept) and very long strings
are simply invalid or handled exactly. Only ASCII digits ``0-9`` count as digits anywhere in this module.

The two ``*_check_*`` helpers are for generating valid numbers; they raise :class:`ValueError` on a
malformed prefix, because a caller passing one is a programming error.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from decimal import Decimal, InvalidOperation

__all__ = [
    "citizen_id_check_digit",
    "credit_code_check_char",
    "is_citizen_id",
    "is_clean_text",
    "is_credit_code",
    "is_date",
    "is_datetime",
    "is_decimal_between",
    "is_int_at_least",
    "is_unit_number",
    "parse_date",
    "parse_datetime",
    "parse_decimal",
    "unit_number_problem",
]

_DIGITS = frozenset("0123456789")


def _all_digits(text: str) -> bool:
    """True if ``text`` is non-empty and consists of ASCII digits only."""
    return bool(text) and all(c in _DIGITS for c in text)


# --------------------------------------------------------------------------------------------------
# 公民身份号码 GB 11643-1999
# --------------------------------------------------------------------------------------------------

_RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RIC_CHECK = "10X98765432"
_RIC_EARLIEST_BIRTH = datetime.date(1900, 1, 1)


def citizen_id_check_digit(first17: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character (``0``-``9`` or ``X``) for 17 body digits.

    Raises :class:`ValueError` unless ``first17`` is exactly 17 ASCII digits.
    """
    if len(first17) != 17 or not _all_digits(first17):
        raise ValueError(f"expected 17 ASCII digits, got {first17!r}")
    total = sum(int(c) * w for c, w in zip(first17, _RIC_WEIGHTS, strict=True))
    return _RIC_CHECK[total % 11]


def is_citizen_id(value: str, today: datetime.date | None = None) -> bool:
    """True if ``value`` is a well-formed 18-character citizen ID number (公民身份号码).

    Checks: 17 ASCII digits followed by a digit or upper-case ``X`` (lower-case ``x`` is rejected),
    the MOD 11-2 check character, and that characters 7-14 are a real date ``YYYYMMDD`` between
    1900-01-01 and ``today`` (default: :meth:`datetime.date.today`). The six-digit address code is
    *not* looked up; use :func:`toolkit.regions.is_county_code` for that.
    """
    if not isinstance(value, str) or len(value) != 18:
        return False
    body, check = value[:17], value[17]
    if not _all_digits(body) or (check not in _DIGITS and check != "X"):
        return False
    if citizen_id_check_digit(body) != check:
        return False
    try:
        birth = datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    if today is None:
        today = datetime.date.today()
    return _RIC_EARLIEST_BIRTH <= birth <= today


# --------------------------------------------------------------------------------------------------
# 统一社会信用代码 GB 32100-2015
# --------------------------------------------------------------------------------------------------

CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_INDEX = {c: i for i, c in enumerate(CREDIT_CODE_CHARSET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    """Return the MOD 31 check character for the first 17 characters of a credit code.

    Raises :class:`ValueError` unless ``first17`` is 17 characters from :data:`CREDIT_CODE_CHARSET`.
    """
    if len(first17) != 17 or any(c not in _USCC_INDEX for c in first17):
        raise ValueError(f"expected 17 characters of {CREDIT_CODE_CHARSET}, got {first17!r}")
    total = sum(_USCC_INDEX[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def is_credit_code(value: str) -> bool:
    """True if ``value`` is an 18-character unified social credit code (统一社会信用代码).

    Every character must be in :data:`CREDIT_CODE_CHARSET` (upper case; no I, O, Z, S, V) and the
    last one must be the MOD 31 check character. Positions 1-2 may be letters (e.g. ``N`` 农业,
    ``Y`` 其他 registration authorities), so unlike python-stdnum we do not require the first eight
    characters to be digits.
    """
    if not isinstance(value, str) or len(value) != 18:
        return False
    if any(c not in _USCC_INDEX for c in value):
        return False
    return credit_code_check_char(value[:17]) == value[17]


# --------------------------------------------------------------------------------------------------
# 不动产单元号 GB/T 37346-2019
# --------------------------------------------------------------------------------------------------

_PARCEL_OWNER = frozenset("GJZ")  # 宗地特征码 first char: 国有 G / 集体 J / 争议 Z
_PARCEL_TYPE = frozenset("ABSXCDEFHGWYLN")  # 宗地特征码 second char
_PARCEL_TYPE_J_ONLY = frozenset("AC")  # 集体土地所有权 A, 宅基地 C only on collective land
_FIXTURE_TYPE = frozenset("FLQW")  # 定着物特征码: 房屋 F / 林木 L / 构筑物 Q / 无定着物 W


def unit_number_problem(value: str) -> str | None:
    """Explain, in short plain Chinese, the first thing wrong with a 28-character unit number.

    Returns ``None`` if ``value`` is a well-formed 不动产单元号. Positions in the message are 1-based.
    The county code is only checked for being six digits, not for existing.
    """
    if not isinstance(value, str):
        return "不是文本"
    if len(value) != 28:
        return f"长度应为 28 位，实际为 {len(value)} 位"
    county, zone, subzone = value[0:6], value[6:9], value[9:12]
    parcel_kind, parcel_seq = value[12:14], value[14:19]
    fixture_kind, fixture_no = value[19], value[20:28]
    if not _all_digits(county):
        return f"第1–6位县级行政区划代码“{county}”应为 6 位数字"
    if not _all_digits(zone):
        return f"第7–9位地籍区代码“{zone}”应为 3 位数字"
    if not _all_digits(subzone):
        return f"第10–12位地籍子区代码“{subzone}”应为 3 位数字"
    owner, kind = parcel_kind[0], parcel_kind[1]
    if owner not in _PARCEL_OWNER:
        return f"第13–14位宗地特征码“{parcel_kind}”无效：第一位应为 G、J 或 Z"
    if kind not in _PARCEL_TYPE:
        return f"第13–14位宗地特征码“{parcel_kind}”无效：第二位“{kind}”不是有效的宗地类型"
    if kind in _PARCEL_TYPE_J_ONLY and owner != "J":
        return f"第13–14位宗地特征码“{parcel_kind}”无效：{kind} 只能跟在 J 之后"
    if not _all_digits(parcel_seq):
        return f"第15–19位宗地顺序号“{parcel_seq}”应为 5 位数字"
    if parcel_seq == "00000":
        return "第15–19位宗地顺序号不能为 00000"
    if fixture_kind not in _FIXTURE_TYPE:
        return f"第20位定着物特征码“{fixture_kind}”无效：应为 F、L、Q 或 W"
    if fixture_kind == "W":
        if fixture_no != "00000000":
            return f"第21–28位定着物单元编号“{fixture_no}”无效：定着物特征码为 W 时应为 00000000"
        return None
    if not _all_digits(fixture_no):
        return f"第21–28位定着物单元编号“{fixture_no}”应为 8 位数字"
    if fixture_no == "00000000":
        return f"第21–28位定着物单元编号不能为 00000000（定着物特征码为 {fixture_kind}）"
    return None


def is_unit_number(value: str) -> bool:
    """True if ``value`` is a well-formed 28-character 不动产单元号 (see :func:`unit_number_problem`)."""
    return unit_number_problem(value) is None


# --------------------------------------------------------------------------------------------------
# Clean text
# --------------------------------------------------------------------------------------------------

# Cc/Cf as asked; Cs (lone surrogates from bad decoding) and Zl/Zp (U+2028/U+2029 line/paragraph
# separators, i.e. newlines by another name) are rejected for the same reason.
_UNCLEAN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_SPACES = frozenset(" \u3000")


def is_clean_text(value: str) -> bool:
    """True if ``value`` has no invisible junk a clerk would not have typed on purpose.

    Rejected: control and format characters (Unicode categories Cc, Cf — so tabs, newlines, zero-width
    spaces and BOMs too — plus lone surrogates and U+2028/U+2029), leading or trailing whitespace
    (anything :meth:`str.isspace` accepts, including U+3000 and NBSP U+00A0), two spaces in a row
    (ASCII space and full-width U+3000 in any mix), and the U+FFFD replacement character left by a
    wrong encoding. The empty string is clean (emptiness is a completeness question, not this one).
    """
    if not isinstance(value, str):
        return False
    if not value:
        return True
    if value[0].isspace() or value[-1].isspace():
        return False
    previous_space = False
    for ch in value:
        if ch == "\ufffd" or unicodedata.category(ch) in _UNCLEAN_CATEGORIES:
            return False
        is_space = ch in _SPACES
        if is_space and previous_space:
            return False
        previous_space = is_space
    return True


# --------------------------------------------------------------------------------------------------
# Dates and times
# --------------------------------------------------------------------------------------------------

_DATETIME_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?: ([0-9]{2}):([0-9]{2}):([0-9]{2}))?")


def parse_datetime(value: str) -> datetime.datetime | None:
    """Parse strictly ``YYYY-MM-DD HH:MM:SS`` or ``YYYY-MM-DD`` (meaning 00:00:00); else ``None``.

    The fields must be zero-padded, separated by exactly ``-``, one ASCII space and ``:``, and form a
    real calendar date and time (no 24:00:00, no leap second, no year 0000).
    """
    if not isinstance(value, str):
        return None
    m = _DATETIME_RE.fullmatch(value)
    if m is None:
        return None
    parts = [int(p) for p in m.groups() if p is not None]
    try:
        return datetime.datetime(*parts)
    except ValueError:
        return None


#: The plausible window of a registration timestamp when a pack sets none: from this year up to
#: ``DEFAULT_YEARS_AHEAD`` years after the current one.
DEFAULT_MIN_YEAR = 1949
DEFAULT_YEARS_AHEAD = 1


def plausible_years(
    min_year: int | None = None, years_ahead: int | None = None, *, today: datetime.date | None = None
) -> tuple[int, int]:
    """The window (first year, last year) a timestamp's year must fall in, relative to ``today``."""
    lo = DEFAULT_MIN_YEAR if min_year is None else int(min_year)
    ahead = DEFAULT_YEARS_AHEAD if years_ahead is None else int(years_ahead)
    return lo, (today or datetime.date.today()).year + ahead


def is_plausible_datetime(value: str, min_year: int | None = None, years_ahead: int | None = None) -> bool:
    """False only for a readable timestamp whose year is outside :func:`plausible_years` (a typo such as
    2204); unreadable values are the format rules' business and count as plausible here."""
    parsed = parse_datetime(value)
    if parsed is None:
        return True
    lo, hi = plausible_years(min_year, years_ahead)
    return lo <= parsed.year <= hi


def is_datetime(value: str) -> bool:
    """True if :func:`parse_datetime` accepts ``value``."""
    return parse_datetime(value) is not None


def parse_date(value: str) -> datetime.date | None:
    """Parse strictly ``YYYY-MM-DD`` (a real calendar date); anything else, including a time, is ``None``."""
    if not isinstance(value, str) or len(value) != 10:
        return None
    parsed = parse_datetime(value)
    return parsed.date() if parsed is not None else None


def is_date(value: str) -> bool:
    """True if :func:`parse_date` accepts ``value``."""
    return parse_date(value) is not None


# --------------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------------

_DECIMAL_RE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_INT_RE = re.compile(r"-?[0-9]+")

Bound = Decimal | int | float | str


def parse_decimal(value: str) -> Decimal | None:
    """Parse plain decimal text such as ``89.5``, ``100``, ``-3`` or ``0.01``; else ``None``.

    Allowed: an optional leading ``-``, ASCII digits, and optionally ``.`` followed by at least one
    digit. Not allowed: ``+``, spaces, thousands separators, exponents, ``.5``/``5.``, inf/nan.
    The result is exact (no float rounding), whatever the length.
    """
    if not isinstance(value, str) or _DECIMAL_RE.fullmatch(value) is None:
        return None
    try:
        return Decimal(value)
    except (InvalidOperation, ValueError):  # pragma: no cover - the regex already guarantees a number
        return None


def _to_decimal(bound: Bound) -> Decimal:
    """Convert a bound exactly as written: a float goes through ``str`` so ``0.1`` means 0.1."""
    if isinstance(bound, float):
        bound = str(bound)
    result = Decimal(bound)
    if not result.is_finite():
        raise ValueError(f"bound must be finite, got {bound!r}")
    return result


def is_decimal_between(
    value: str,
    min_value: Bound | None = None,
    max_value: Bound | None = None,
    strict_min: bool = False,
    strict_max: bool = False,
) -> bool:
    """True if ``value`` is plain decimal text (see :func:`parse_decimal`) within the bounds.

    ``None`` means unbounded on that side; ``strict_min``/``strict_max`` exclude the bound itself.
    Bounds are configuration: a non-numeric or infinite bound raises :class:`ValueError`.
    """
    low = _to_decimal(min_value) if min_value is not None else None
    high = _to_decimal(max_value) if max_value is not None else None
    number = parse_decimal(value)
    if number is None:
        return False
    if low is not None and (number <= low if strict_min else number < low):
        return False
    return not (high is not None and (number >= high if strict_max else number > high))


def is_int_at_least(value: str, minimum: int) -> bool:
    """True if ``value`` is an integer written as ASCII digits (optional leading ``-``) and ≥ ``minimum``.

    Compared exactly through :class:`~decimal.Decimal`, so even a 10 000-digit value does not raise
    (``int()`` would, past Python's integer-string conversion limit).
    """
    if not isinstance(value, str) or _INT_RE.fullmatch(value) is None:
        return False
    return Decimal(value) >= minimum
