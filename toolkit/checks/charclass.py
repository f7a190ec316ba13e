"""Character classes that Python defines through Unicode, spelled out for RE2 (DuckDB's regex engine).

``str.isspace``, ``\\d``/``\\w``/``\\s`` in ``re`` and Unicode general categories are turned into explicit
code-point ranges computed from the *running* Python, so RE2's own Unicode tables never matter and SQL
agrees with Python character for character. Class bodies are written ``\\x{...}`` (RE2 syntax).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache

__all__ = [
    "all_text",
    "class_body",
    "complement",
    "isspace_class",
    "isspace_code_points",
    "isspace_ranges",
    "merge_ranges",
    "ranges",
    "ranges_matching",
    "unicode_category_ranges",
]

Ranges = list[tuple[int, int]]


def ranges(code_points: Iterable[int]) -> Ranges:
    """Sorted, merged ``(first, last)`` ranges of some code points."""
    out: Ranges = []
    for cp in sorted(code_points):
        if out and cp == out[-1][1] + 1:
            out[-1] = (out[-1][0], cp)
        else:
            out.append((cp, cp))
    return out


def class_body(rng: Ranges) -> str:
    """RE2 character-class body (without the brackets) of code-point ranges."""
    return "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in rng)


@cache
def all_text() -> str:
    """Every code point that can occur in text (all but the surrogates), in order."""
    return "".join(map(chr, range(0xD800))) + "".join(map(chr, range(0xE000, 0x110000)))


def merge_ranges(rng: Ranges) -> Ranges:
    """Overlapping or adjacent ranges merged, sorted."""
    out: Ranges = []
    for a, b in sorted(rng):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


@cache
def ranges_matching(pattern: str) -> tuple[tuple[int, int], ...]:
    """Code-point ranges of the characters Python's ``re`` matches with a one-character ``pattern``."""
    return tuple(
        merge_ranges(
            [(ord(m.group()[0]), ord(m.group()[-1])) for m in re.finditer(pattern + "+", all_text())]
        )
    )


def complement(rng: Ranges) -> Ranges:
    """Every code point not in ``rng``, without the surrogates (RE2 in UTF-8 mode cannot hold them; they
    never occur in text either)."""
    out: Ranges = []
    nxt = 0
    for a, b in sorted(rng):
        if a > nxt:
            out.append((nxt, a - 1))
        nxt = max(nxt, b + 1)
    if nxt <= 0x10FFFF:
        out.append((nxt, 0x10FFFF))
    clean: Ranges = []
    for a, b in out:
        if b < 0xD800 or a > 0xDFFF:
            clean.append((a, b))
            continue
        if a < 0xD800:
            clean.append((a, 0xD7FF))
        if b > 0xDFFF:
            clean.append((0xE000, b))
    return clean


@cache
def isspace_ranges() -> tuple[tuple[int, int], ...]:
    """Code-point ranges of ``str.isspace`` (the loader's "empty")."""
    # re's \s for str patterns is exactly str.isspace (CPython's Py_UNICODE_ISSPACE); checked below
    rng = ranges_matching(r"\s")
    assert all(chr(a).isspace() and chr(b).isspace() for a, b in rng)
    return rng


def isspace_class() -> str:
    """RE2 character-class body of the characters ``str.isspace`` accepts (the loader's "empty")."""
    return class_body(list(isspace_ranges()))


def isspace_code_points() -> list[int]:
    return [cp for a, b in isspace_ranges() for cp in range(a, b + 1)]


@cache
def unicode_category_ranges(categories: frozenset[str]) -> tuple[tuple[int, int], ...]:
    """Code-point ranges of the characters whose Unicode general category is one of ``categories``."""
    return tuple(ranges(ord(ch) for ch in all_text() if unicodedata.category(ch) in categories))
