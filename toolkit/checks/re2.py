"""Python ``re`` patterns → equivalent RE2 patterns for DuckDB's ``regexp_matches``.

:func:`python_regex_to_re2` translates a pattern as ``re.search`` uses it, construct by construct from
Python's own parse tree; anything whose meaning could differ between the engines (flags, look-arounds,
back-references, word boundaries, ``$`` not at the very end, huge repeat counts …) raises ``ValueError``
and the rule is validated by Great Expectations instead. Whether a pattern is *safe* to run at all is
:func:`toolkit.sqlcompile.check_regex`'s business.
"""

from __future__ import annotations

import re
from re import _constants as sre_c  # type: ignore[attr-defined]
from re import _parser as sre_p  # type: ignore[attr-defined]
from typing import Any

from toolkit.checks.charclass import class_body, complement, merge_ranges, ranges_matching

__all__ = ["python_regex_to_re2"]


class _Untranslatable(Exception):
    pass


_CATEGORY = {
    sre_c.CATEGORY_DIGIT: (r"\d", False),
    sre_c.CATEGORY_NOT_DIGIT: (r"\d", True),
    sre_c.CATEGORY_WORD: (r"\w", False),
    sre_c.CATEGORY_NOT_WORD: (r"\w", True),
    sre_c.CATEGORY_SPACE: (r"\s", False),
    sre_c.CATEGORY_NOT_SPACE: (r"\s", True),
}
_MAX_REPEAT_RE2 = 1000


def _cp_ranges_of_in(items: list[tuple[Any, Any]]) -> tuple[bool, list[tuple[int, int]]]:
    negate = False
    cps: list[tuple[int, int]] = []
    for op, av in items:
        if op is sre_c.NEGATE:
            negate = True
        elif op is sre_c.LITERAL:
            cps.append((av, av))
        elif op is sre_c.RANGE:
            cps.append((av[0], av[1]))
        elif op is sre_c.CATEGORY and av in _CATEGORY:
            name, neg = _CATEGORY[av]
            rng = list(ranges_matching(name))
            if neg:
                rng = complement(rng)
            cps.extend(rng)
        else:
            raise _Untranslatable(f"character class item {op}")
    return negate, cps


def _emit(seq: Any, at_top_end: bool) -> str:
    """RE2 text for a parsed sre sequence. ``at_top_end``: this sequence ends the whole pattern."""
    items = list(seq)
    out: list[str] = []
    for i, (op, av) in enumerate(items):
        last = at_top_end and i == len(items) - 1
        if op is sre_c.LITERAL:
            out.append(f"\\x{{{av:X}}}")
        elif op is sre_c.NOT_LITERAL:
            out.append(f"[^\\x{{{av:X}}}]")
        elif op is sre_c.ANY:
            out.append(".")
        elif op is sre_c.IN:
            negate, cps = _cp_ranges_of_in(av)
            cps = merge_ranges(cps)
            if not cps:
                out.append("[^\\x00-\\x{10FFFF}]" if not negate else "(?s:.)")
            else:
                out.append(("[^" if negate else "[") + class_body(cps) + "]")
        elif op is sre_c.CATEGORY and av in _CATEGORY:
            name, neg = _CATEGORY[av]
            rng = list(ranges_matching(name))
            out.append("[" + class_body(complement(rng) if neg else rng) + "]")
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
            lo, hi, sub = av
            if lo > _MAX_REPEAT_RE2 or (hi is not sre_c.MAXREPEAT and hi > _MAX_REPEAT_RE2):
                raise _Untranslatable("repeat count too large for RE2")
            body = "(?:" + _emit(sub, False) + ")"
            if hi is sre_c.MAXREPEAT:
                q = "*" if lo == 0 else "+" if lo == 1 else f"{{{lo},}}"
            else:
                q = f"{{{lo},{hi}}}"
            out.append(body + q)
        elif op is sre_c.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            if add_flags or del_flags:
                raise _Untranslatable("inline flags")
            out.append("(?:" + _emit(sub, last) + ")")
        elif op is sre_c.BRANCH:
            _, branches = av
            out.append("(?:" + "|".join(_emit(b, last) for b in branches) + ")")
        elif op is sre_c.AT:
            if av is sre_c.AT_BEGINNING or av is sre_c.AT_BEGINNING_STRING:
                out.append(r"\A")
            elif av is sre_c.AT_END_STRING:
                out.append(r"\z")
            elif av is sre_c.AT_END and last:
                # Python's "$": end of text or just before a final newline. Only where nothing follows.
                out.append(r"(?:\n?\z)")
            else:
                raise _Untranslatable(f"anchor {av}")
        else:
            raise _Untranslatable(f"regex construct {op}")
    return "".join(out)


def python_regex_to_re2(pattern: str) -> str:
    """Translate a Python ``re`` pattern (as ``re.search`` would use it) to an equivalent RE2 pattern.

    Raises ``ValueError`` for anything whose meaning could differ (flags, look-arounds, back-references,
    word boundaries, ``$`` not at the very end …)."""
    try:
        parsed = sre_p.parse(pattern, 0)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from exc
    flags = parsed.state.flags
    if flags & ~(sre_c.SRE_FLAG_UNICODE):
        raise ValueError("regex flags are not supported")
    try:
        return _emit(parsed, True)
    except _Untranslatable as exc:
        raise ValueError(str(exc)) from exc
