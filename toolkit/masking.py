"""Masking of personal data (个人信息脱敏) — the one pass every output and message goes through.

Which fields are personal is domain data (``pii:`` in the dictionary): ``name`` (a person's name),
``id_no`` (citizen ID, credit code or any certificate number) and ``phone``. A value of such a field is
masked by its class:

    >>> mask_id("42010219910101007X")
    '420102********007X'
    >>> mask_name("张三")
    '张*'
    >>> mask_phone("13812345678")
    '138****5678'

Any other text — free text such as an address, a remark, a file name, an error message — is *scrubbed*
(:func:`scrub_text`): personal data typed into it is found and masked wherever it stands:

* citizen ID numbers: 18 characters (17 digits and a digit or ``X``/``x``, whether or not the check digit
  or the birth date is right: a mistyped ID is still personal data) and the old 15 digits (with a
  month-day in place), also written with spaces or hyphens between the groups (``420102 19910101 007X``);
* mobile numbers: ``1[3-9]`` + 9 digits, also ``139-1234-5678``, ``139 1234 5678``, ``+86 139…``,
  ``0086…``, ``86139…``;
* unified social credit codes of individual businesses (个体工商户, registration type ``92``), which
  identify a person;
* the names of persons that the batch itself marks as personal (the values of its ``name`` fields): a
  :class:`Masker` built for a batch masks such a name wherever it appears, e.g. ``张三`` typed into a
  remark becomes ``张*``.

Masking is idempotent (masked text never looks like personal data again). Staff names (the roster's
responsible persons, ``--actor``) are not personal data of the registrations: the ledger keeps them
(see :mod:`toolkit.ledger`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "Masker",
    "mask_id",
    "mask_name",
    "mask_phone",
    "mask_staff_name",
    "mask_value",
    "masker_for",
    "person_names",
    "scrub_text",
]


def mask_id(value: str) -> str:
    """Keep the first 6 and the last 4 characters of a long number, hide the rest."""
    s = str(value)
    if len(s) >= 12:
        return s[:6] + "*" * (len(s) - 10) + s[-4:]
    if len(s) >= 4:
        return s[:2] + "*" * (len(s) - 2)
    return "*" * len(s)


def mask_phone(value: str) -> str:
    """Mobile numbers keep 3 + 4 digits (``138****5678``); anything else keeps only its last 4."""
    s = str(value)
    if len(s) == 11 and s.isdigit():
        return s[:3] + "****" + s[7:]
    if len(s) > 6:
        return "*" * (len(s) - 4) + s[-4:]
    return "*" * len(s)


def mask_name(value: str) -> str:
    """Keep the first character of a name (``张*``, ``欧**``); company names are masked the same way."""
    s = str(value)
    stripped = s.strip()
    if not stripped:
        return s
    return stripped[0] + "*" * max(len(stripped) - 1, 1)


def mask_staff_name(value: str) -> str:
    """A staff member's name when a pack masks them too: first and last character kept (``何*东``)."""
    s = str(value).strip()
    if len(s) <= 1:
        return s
    if len(s) == 2:
        return s[0] + "*"
    return s[0] + "*" * (len(s) - 2) + s[-1]


_MASKERS = {"name": mask_name, "id_no": mask_id, "phone": mask_phone}


def masker_for(kind: str | None):
    return _MASKERS.get(kind or "", None)


# ------------------------------------------------------------------------------------------ free text

_SEP = r"[ \-\u00a0\u3000]?"
_ID18 = r"\d{6}" + _SEP + r"\d{8}" + _SEP + r"\d{3}[0-9Xx]"
_ID15 = r"[1-9]\d{5}" + _SEP + r"\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])" + _SEP + r"\d{3}"
_ID_RE = re.compile(rf"(?<![0-9A-Za-z])(?:{_ID18}|{_ID15})(?![0-9A-Za-z])")
_MOBILE_RE = re.compile(
    r"(?<![0-9A-Za-z+])(?:(?:\+|00)?86[ \-]?)?(1[3-9]\d)[ \-]?(\d{4})[ \-]?(\d{4})(?![0-9A-Za-z])"
)
_USCC_PERSON_RE = re.compile(r"(?<![0-9A-Z])(92\d{6}[0-9A-HJ-NPQRTUWXY]{10})(?![0-9A-Z])")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff·•]+")


def _mask_id_text(m: re.Match[str]) -> str:
    raw = m.group(0)
    digits = re.sub(r"[ \-\u00a0\u3000]", "", raw)
    return mask_id(digits)


def _mask_mobile_text(m: re.Match[str]) -> str:
    return f"{m.group(1)}****{m.group(3)}"


def scrub_text(text: Any, names: Iterable[str] | frozenset[str] = frozenset()) -> Any:
    """Mask ID numbers, mobile numbers, personal credit codes and the given person ``names`` in free
    text. Non-text values are returned unchanged."""
    if not isinstance(text, str) or not text:
        return text
    out = _ID_RE.sub(_mask_id_text, text)
    out = _USCC_PERSON_RE.sub(lambda m: mask_id(m.group(1)), out)
    out = _MOBILE_RE.sub(_mask_mobile_text, out)
    known = names if isinstance(names, frozenset | set) else frozenset(names)
    if known:
        out = _scrub_names(out, known)
    return out


_NAME_MIN, _NAME_MAX = 2, 10


def _scrub_names(text: str, names: frozenset[str] | set[str]) -> str:
    """Replace every occurrence of a known name (longest first) inside runs of Chinese characters."""

    def run(m: re.Match[str]) -> str:
        s = m.group(0)
        chars = list(s)
        i = 0
        while i < len(s):
            for n in range(min(_NAME_MAX, len(s) - i), _NAME_MIN - 1, -1):
                if s[i : i + n] in names:
                    chars[i + 1 : i + n] = ["*"] * (n - 1)
                    i += n
                    break
            else:
                i += 1
        return "".join(chars)

    return _CJK.sub(run, text)


def person_names(values: Iterable[Any]) -> set[str]:
    """The values of a personal-name field that look like a person's name (2–10 Chinese characters,
    ``·`` allowed for minority names), to be masked wherever they appear in free text."""
    out: set[str] = set()
    for v in values:
        if isinstance(v, str):
            s = v.strip()
            if _NAME_MIN <= len(s) <= _NAME_MAX and _CJK.fullmatch(s) and s.strip("·•"):
                out.add(s)
    return out


def mask_value(
    field: str,
    value: Any,
    pii_fields: Mapping[str, str],
    names: Iterable[str] = frozenset(),
    exempt: Iterable[str] = frozenset(),
) -> Any:
    """Mask ``value`` by the personal-data class of ``field``; any other text is scrubbed, except in the
    ``exempt`` fields (record keys such as 业务号, which identify a registration, not a person, and must
    stay usable)."""
    if value is None or (isinstance(value, float) and value != value):
        return value
    fn = masker_for(pii_fields.get(field))
    if fn:  # the part a class masker keeps visible may itself hold free text (a name typed into an ID)
        return scrub_text(fn(str(value)), names)
    if field in exempt:
        return value
    return scrub_text(value, names)


class Masker:
    """The masking pass of one run: the domain's personal-data classes plus the person names found in
    the batch. ``value(field, v)`` masks a cell, ``text(s)`` scrubs any text (messages, notes, names of
    files), ``row(mapping)`` masks a record."""

    def __init__(
        self,
        pii_fields: Mapping[str, str] | None = None,
        names: Iterable[str] = (),
        exempt: Iterable[str] = (),
    ) -> None:
        self.pii_fields = dict(pii_fields or {})
        self.names = frozenset(names)
        self.exempt = frozenset(exempt)

    @classmethod
    def for_frames(
        cls, pii_fields: Mapping[str, str], frames: Iterable[Any], exempt: Iterable[str] = ()
    ) -> Masker:
        """A masker knowing the person names in the ``name`` fields of these pandas frames."""
        names: set[str] = set()
        name_fields = [f for f, kind in pii_fields.items() if kind == "name"]
        for frame in frames:
            for f in name_fields:
                if f in getattr(frame, "columns", ()):
                    names |= person_names(frame[f].dropna().unique())
        return cls(pii_fields, names, exempt)

    def value(self, field: str | None, value: Any) -> Any:
        return mask_value(field or "", value, self.pii_fields, self.names, self.exempt)

    def text(self, value: Any) -> Any:
        return scrub_text(value, self.names)

    def row(self, record: Mapping[str, Any]) -> dict[str, Any]:
        return {k: self.value(k, v) for k, v in record.items()}

    def may_change_sql(self, field_sql: str, value_sql: str, always: Iterable[str] = ()) -> str:
        """SQL (DuckDB): :meth:`value` may change the value ``value_sql`` of the field ``field_sql`` (``""``:
        free text) — a superset, so that a caller masks only these in Python: a personal-data field's values
        (and the keys in ``always``) always; a record key's never; free text when it could hold a number
        :func:`scrub_text` masks (8 or more digits: ASCII digits and non-ASCII characters counted, so any
        Unicode digit is) or, when person names are known, any non-ASCII character."""
        from toolkit.checks.sql import literal

        v = value_sql
        maybe = f"length(regexp_replace({v}, '[\\x00-/:-\\x7f]', '', 'g')) >= 8"
        if self.names:
            maybe += f" OR regexp_matches({v}, '[^\\x00-\\x7f]')"
        yes = [*sorted(self.pii_fields), *always]
        exempt = sorted(self.exempt - set(yes) - {""})
        never = f"WHEN {field_sql} IN ({', '.join(map(literal, exempt))}) THEN false " if exempt else ""
        first = f"WHEN {field_sql} IN ({', '.join(map(literal, yes))}) THEN true " if yes else ""
        return f"CASE {first}{never}ELSE {maybe} END"
