"""Masking of personal data (个人信息脱敏) for every output: problem lists, Data Docs, logs, notebooks.

Which fields are personal is domain data (``pii:`` in the dictionary): ``name`` (a person's name),
``id_no`` (citizen ID, credit code or any certificate number) and ``phone``.

    >>> mask_id("42010219910101007X")
    '420102********007X'
    >>> mask_name("张三")
    '张*'
    >>> mask_phone("13812345678")
    '138****5678'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["mask_id", "mask_name", "mask_phone", "mask_value", "masker_for"]


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


_MASKERS = {"name": mask_name, "id_no": mask_id, "phone": mask_phone}


def masker_for(kind: str | None):
    return _MASKERS.get(kind or "", None)


def mask_value(field: str, value: Any, pii_fields: Mapping[str, str]) -> Any:
    """Mask ``value`` if ``field`` is personal data; other values pass through unchanged."""
    if value is None or (isinstance(value, float) and value != value):
        return value
    fn = masker_for(pii_fields.get(field))
    return fn(str(value)) if fn else value
