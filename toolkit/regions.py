"""County-level administrative division codes (GB/T 2260), past and present.

The data is python-stdnum's bundled ``stdnum/cn/loc.dat`` (compiled from Wikipedia), read through
:func:`stdnum.numdb.get`. Its tree is a two-digit province with four-digit children, e.g.::

    42 province="湖北省"
      0102 county="[1983-]江岸区"
      0121 county="[-1992]汉阳县"
      0110 county="[-1991]东郊区,[1992-]东丽区"

A ``[start-end]`` prefix gives the years a name was in use; an open end (or no prefix) means the name
is current. A code is *retired* if none of its names is current. Retired codes still count as county
codes here, because old records (and ID numbers) legitimately carry them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

__all__ = [
    "county_name",
    "is_county_code",
    "prefecture_name",
    "province_counties",
    "province_name",
    "province_prefectures",
]

_NAME_RE = re.compile(r"\[(\d*)-(\d*)\](.*)")
_PLACEHOLDER = "市辖区"


@dataclass(frozen=True)
class _Name:
    name: str
    start: int | None
    end: int | None  # None: still in use

    @property
    def current(self) -> bool:
        return self.end is None


@dataclass(frozen=True)
class _Entry:
    code: str
    names: tuple[_Name, ...]

    @property
    def current(self) -> bool:
        return any(n.current for n in self.names)

    @property
    def display_name(self) -> str:
        """The current name, or for a retired code the name it had last."""
        for n in self.names:
            if n.current:
                return n.name
        return max(self.names, key=lambda n: n.end or 0).name

    @property
    def is_county_level(self) -> bool:
        """Not a province/prefecture (``xx00``) and not the ``xx01`` 市辖区 placeholder."""
        if self.code.endswith("00"):
            return False
        return not (self.code.endswith("01") and all(n.name == _PLACEHOLDER for n in self.names))


def _parse_names(raw: str) -> tuple[_Name, ...]:
    names = []
    for part in raw.split(","):
        m = _NAME_RE.fullmatch(part)
        if m is None:
            names.append(_Name(part, None, None))
        else:
            start, end, name = m.groups()
            names.append(_Name(name, int(start) if start else None, int(end) if end else None))
    return tuple(names)


@cache
def _load() -> tuple[dict[str, str], dict[str, _Entry]]:
    """Return (province prefix → name, six-digit code → entry) from stdnum's loc.dat."""
    from stdnum import numdb

    provinces: dict[str, str] = {}
    entries: dict[str, _Entry] = {}
    for length, low, high, props, children in numdb.get("cn/loc").prefixes:
        if length != 2 or low != high or "province" not in props:
            continue
        provinces[low] = props["province"]
        for c_length, c_low, c_high, c_props, _ in children:
            if c_length != 4 or c_low != c_high or "county" not in c_props:
                continue
            code = low + c_low
            entries[code] = _Entry(code, _parse_names(c_props["county"]))
    return provinces, entries


def _is_six_digits(value: object) -> bool:
    return isinstance(value, str) and len(value) == 6 and all(c in "0123456789" for c in value)


def is_county_code(value: str) -> bool:
    """True if ``value`` is a six-digit code that is or was a county-level unit (区、县、县级市、旗…).

    Codes ending in ``00`` (provinces, prefectures) and ``xx01`` 市辖区 placeholders are not county
    codes. Retired codes such as ``110103`` (崇文区, merged 2010) are. Never raises.
    """
    if not _is_six_digits(value):
        return False
    entry = _load()[1].get(value)
    return entry is not None and entry.is_county_level


def county_name(code: str) -> str | None:
    """The name of a county-level code (current name; for a retired code, its last name), else ``None``."""
    if not is_county_code(code):
        return None
    return _load()[1][code].display_name


def prefecture_name(code: str) -> str | None:
    """The name of a prefecture-level code (``xxxx00``, e.g. ``620100`` → 兰州市), else ``None``."""
    if not _is_six_digits(code) or not code.endswith("00") or code.endswith("0000"):
        return None
    entry = _load()[1].get(code)
    return entry.display_name if entry is not None else None


def province_prefectures(province_prefix: str) -> list[tuple[str, str]]:
    """Current prefecture-level ``(code, name)`` pairs of a province (``xxxx00``), sorted by code."""
    return sorted(
        (code, entry.display_name)
        for code, entry in _load()[1].items()
        if code.startswith(province_prefix)
        and code.endswith("00")
        and not code.endswith("0000")
        and entry.current
    )


def province_name(prefix: str) -> str | None:
    """The name of the province with two-digit ``prefix`` (e.g. ``"42"`` → 湖北省), else ``None``."""
    if not isinstance(prefix, str):
        return None
    return _load()[0].get(prefix)


def province_counties(province_prefix: str) -> list[tuple[str, str]]:
    """Current (not retired) county-level ``(code, name)`` pairs of a province, sorted by code.

    ``province_prefix`` is the two-digit province code, e.g. ``"42"`` for 湖北省. An unknown prefix
    gives an empty list.
    """
    if province_name(province_prefix) is None:
        return []
    return sorted(
        (code, entry.display_name)
        for code, entry in _load()[1].items()
        if code.startswith(province_prefix) and entry.is_county_level and entry.current
    )
