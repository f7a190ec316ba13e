"""Compile Great Expectations rules to DuckDB SQL for the count engine (:mod:`toolkit.engine`).

Each supported expectation type becomes a SQL boolean *unexpected* expression over one row of the
rule's target (table or view), plus the rule's row condition as a SQL boolean. The semantics mirror
:mod:`toolkit.gx_expectations` / :mod:`toolkit.validators` and Great Expectations' own pandas
implementations exactly:

* a rule's ``element_count`` is every row its row condition keeps (column-pair rules included: GX counts
  the rows that ``ignore_row_if`` skips too);
* an empty cell (SQL ``NULL``) is never unexpected, except for ``expect_column_values_to_not_be_null``;
* column-pair rules ignore a row where either value is missing.

Everything is compiled *conservatively*: a configuration the compiler is not sure to reproduce bit for
bit (an unknown keyword, a non-text value set, a regular expression using look-arounds or ``\\b``,
``ignore_row_if`` other than ``either_value_is_missing`` …) makes :func:`compile_rule` return ``None``
with a reason, and the engine validates that rule through Great Expectations instead. Row conditions
are the exception: they are parsed by a small strict parser (:func:`compile_condition`) and anything it
does not know is a :class:`~toolkit.errors.ConfigError`.

Character classes that Python defines through Unicode (``str.isspace``, ``\\d``/``\\w``/``\\s`` in ``re``,
the categories ``is_clean_text`` rejects) are spelled out as explicit code-point ranges computed from the
running Python, so RE2's own Unicode tables never matter.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import TYPE_CHECKING, Any

from toolkit import regions, validators
from toolkit.conditions import parse_condition

if TYPE_CHECKING:
    from toolkit.domain import Rule
from toolkit.errors import ConfigError

try:  # Python ≥ 3.11
    from re import _constants as sre_c
    from re import _parser as sre_p
except ImportError:  # pragma: no cover
    import sre_constants as sre_c  # type: ignore[no-redef]
    import sre_parse as sre_p  # type: ignore[no-redef]

__all__ = [
    "ENGINE_TYPES",
    "TYPE_KWARGS",
    "CompiledRule",
    "check_regex",
    "compile_condition",
    "compile_rule",
    "condition_columns",
    "ident",
    "isspace_class",
    "literal",
    "python_regex_to_re2",
    "vet_rule",
]


# ------------------------------------------------------------------------------------------------ basics


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A SQL string literal (DuckDB: no backslash escapes)."""
    return "'" + value.replace("'", "''") + "'"


def _ranges(code_points: Iterable[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for cp in sorted(code_points):
        if out and cp == out[-1][1] + 1:
            out[-1] = (out[-1][0], cp)
        else:
            out.append((cp, cp))
    return out


def _class_body(ranges: list[tuple[int, int]]) -> str:
    return "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)


@cache
def _all_text() -> str:
    """Every code point that can occur in text (all but the surrogates), in order."""
    return "".join(map(chr, range(0xD800))) + "".join(map(chr, range(0xE000, 0x110000)))


def _ranges_matching(pattern: str) -> tuple[tuple[int, int], ...]:
    """Code-point ranges of the characters Python's ``re`` matches with a one-character ``pattern``."""
    return tuple(
        _merge_ranges(
            [(ord(m.group()[0]), ord(m.group()[-1])) for m in re.finditer(pattern + "+", _all_text())]
        )
    )


def _merge_ranges(rng: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(rng):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


@cache
def _isspace_ranges() -> tuple[tuple[int, int], ...]:
    # re's \s for str patterns is exactly str.isspace (CPython's Py_UNICODE_ISSPACE); checked below
    ranges = _ranges_matching(r"\s")
    assert all(chr(a).isspace() and chr(b).isspace() for a, b in ranges)
    return ranges


def isspace_class() -> str:
    """RE2 character-class body of the characters ``str.isspace`` accepts (the loader's "empty")."""
    return _class_body(list(_isspace_ranges()))


def isspace_code_points() -> list[int]:
    return [cp for a, b in _isspace_ranges() for cp in range(a, b + 1)]


@cache
def _unclean_ranges() -> tuple[tuple[int, int], ...]:
    bad = {"Cc", "Cf", "Cs", "Zl", "Zp"}
    text = _all_text()
    hits = [i for i, cat in enumerate(map(unicodedata.category, text)) if cat in bad]
    cps = {ord(text[i]) for i in hits} | {0xFFFD}
    return tuple(_ranges(cps))


@cache
def _re_category_ranges(category: str) -> tuple[tuple[int, int], ...]:
    return _ranges_matching(category)


# ------------------------------------------------------------------------------------------------ regex


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
            rng = list(_re_category_ranges(name))
            if neg:
                rng = _complement(rng)
            cps.extend(rng)
        else:
            raise _Untranslatable(f"character class item {op}")
    return negate, cps


def _complement(rng: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    nxt = 0
    for a, b in sorted(rng):
        if a > nxt:
            out.append((nxt, a - 1))
        nxt = max(nxt, b + 1)
    if nxt <= 0x10FFFF:
        out.append((nxt, 0x10FFFF))
    # RE2 in UTF-8 mode cannot hold surrogates; they never occur in text either
    clean: list[tuple[int, int]] = []
    for a, b in out:
        if b < 0xD800 or a > 0xDFFF:
            clean.append((a, b))
            continue
        if a < 0xD800:
            clean.append((a, 0xD7FF))
        if b > 0xDFFF:
            clean.append((0xE000, b))
    return clean


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
            cps = _merge_ranges(cps)
            if not cps:
                out.append("[^\\x00-\\x{10FFFF}]" if not negate else "(?s:.)")
            else:
                out.append(("[^" if negate else "[") + _class_body(cps) + "]")
        elif op is sre_c.CATEGORY and av in _CATEGORY:
            name, neg = _CATEGORY[av]
            rng = list(_re_category_ranges(name))
            out.append("[" + _class_body(_complement(rng) if neg else rng) + "]")
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


#: Longest regular expression a pack or overlay may use (characters).
MAX_REGEX_LENGTH = 1000


def _variable(seq: Any) -> bool:
    """True if the parsed sequence can match texts of different lengths (a quantifier or alternation)."""
    for op, av in seq:
        if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT):
            lo, hi, _sub = av
            if lo != hi:
                return True
            if _variable(_sub):
                return True
        elif op is sre_c.BRANCH:
            return True
        elif op is sre_c.SUBPATTERN and _variable(av[-1]):
            return True
        elif op in (sre_c.ASSERT, sre_c.ASSERT_NOT) and _variable(av[1]):
            return True
    return False


def _nested_unbounded(seq: Any) -> bool:
    """An unbounded quantifier over something that itself varies in length — ``(a+)+``, ``(a|ab)*`` —:
    the shapes that make a backtracking engine (Python's ``re``, used by Great Expectations) take
    exponential time on a crafted value."""
    for op, av in seq:
        if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT):
            _lo, hi, sub = av
            if (hi is sre_c.MAXREPEAT or hi > 100) and _variable(sub):
                return True
            if _nested_unbounded(sub):
                return True
        elif op is sre_c.SUBPATTERN and _nested_unbounded(av[-1]):
            return True
        elif op is sre_c.BRANCH and any(_nested_unbounded(b) for b in av[1]):
            return True
    return False


def check_regex(pattern: Any) -> str:
    """A regular expression from a pack or overlay, proven safe to run: text of at most
    :data:`MAX_REGEX_LENGTH` characters, valid for Python's ``re``, and free of nested variable-length
    quantifiers (catastrophic backtracking). Whether the engine can also translate it to RE2 is the
    compiler's business (otherwise Great Expectations validates it). Returns the pattern; raises
    ``ValueError`` saying why not."""
    if not isinstance(pattern, str):
        raise ValueError("a regular expression must be text")
    if len(pattern) > MAX_REGEX_LENGTH:
        raise ValueError(f"longer than {MAX_REGEX_LENGTH} characters")
    try:
        parsed = sre_p.parse(pattern, 0)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from exc
    if _nested_unbounded(parsed):
        raise ValueError("nested quantifiers such as (a+)+ or (a|ab)* may take exponential time")
    return pattern


# ------------------------------------------------------------------------------------------------ row conditions


def compile_condition(condition: Any) -> str | None:
    """A row condition → SQL boolean (``NULL`` counts as false, as in GX); see :mod:`toolkit.conditions`
    for the grammar. Anything outside it raises :class:`~toolkit.errors.ConfigError`."""
    parsed = parse_condition(condition)
    return parsed.sql(ident, literal) if parsed else None


def condition_columns(condition: Any) -> list[str]:
    parsed = parse_condition(condition)
    return parsed.columns if parsed else []


# ------------------------------------------------------------------------------------------------ rules


@dataclass
class CompiledRule:
    """One rule as SQL over its target. ``condition`` None = every row; ``unexpected`` is only counted
    where ``condition`` holds. ``ctes`` are extra named sub-queries the pass joins (``joins``, alias of
    the target: ``t``). ``lets`` are named values computed once per row beneath the rule expressions
    (DuckDB does not share repeated sub-expressions inside CASE branches); names derive from the
    expression, so rules that need the same value share it."""

    rule: Rule
    columns: list[str]
    condition: str | None
    unexpected: str
    ctes: list[tuple[str, str]] = field(default_factory=list)
    joins: list[tuple[str, str]] = field(default_factory=list)  # (alias, LEFT JOIN clause); t = target
    uses_calendar: bool = False
    lets: list[tuple[str, str]] = field(default_factory=list)  # (name, expression over the target's row)


class NotCompilable(Exception):
    """The rule must be validated by Great Expectations (the message says why)."""


_COMMON_KWARGS = {
    "column",
    "row_condition",
    "condition_parser",
    "mostly",
    "result_format",
    "catch_exceptions",
}
_PAIR_KWARGS = {
    "column_A",
    "column_B",
    "row_condition",
    "condition_parser",
    "mostly",
    "result_format",
    "catch_exceptions",
    "ignore_row_if",
}


def _check_kwargs(rule: Rule, allowed: set[str]) -> None:
    extra = set(rule.kwargs) - allowed
    if extra:
        raise NotCompilable(f"keyword(s) {sorted(extra)} not supported by the engine")
    raw = rule.kwargs.get("row_condition")
    if (
        raw is not None
        and not isinstance(raw, str)
        and not (isinstance(raw, dict) and "pass_through_filter" in raw)
    ):
        raise NotCompilable("row_condition given as a Great Expectations condition object")
    parser = rule.kwargs.get("condition_parser")
    if rule.row_condition is not None and parser not in (None, "pandas"):
        raise NotCompilable(f"condition_parser {parser!r}")


def _col(rule: Rule, key: str = "column") -> str:
    value = rule.kwargs.get(key)
    if not isinstance(value, str) or not value:
        raise NotCompilable(f"{key} missing")
    return value


def _bool(rule: Rule, key: str, default: bool) -> bool:
    value = rule.kwargs.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise NotCompilable(f"{key} must be true/false")
    return value


# -- exact parsing helpers (SQL text); every helper takes a SQL expression of type VARCHAR


def sql_datetime_ok(v: str, date_only: bool = False) -> str:
    """``validators.is_datetime`` (or ``is_date``) as SQL (false for NULL).

    A value is valid exactly when DuckDB reads it as a timestamp (date) and writes it back unchanged:
    DuckDB writes the canonical zero-padded ``YYYY-MM-DD HH:MM:SS`` of a real date and time, years
    0001–9999, which is what :func:`toolkit.validators.parse_datetime` accepts; a lenient reading
    (``2024-1-1``, ``T``, a fraction, year 0000 …) never writes back the same text."""
    return f"dq_date_ok({v})" if date_only else f"dq_dt_ok({v})"


def sql_year_between(v: str, lo: int, hi: int) -> str:
    """The year of a datetime text (its first four characters) lies in [lo, hi] (false if unreadable)."""
    return f"coalesce(TRY_CAST(substr({v}, 1, 4) AS INTEGER) BETWEEN {int(lo)} AND {int(hi)}, false)"


def sql_datetime_key(v: str) -> str:
    """Sortable text of a valid datetime (date-only values get `` 00:00:00``)."""
    return f"dq_dt_key({v})"


MACROS_EXACT = r"""
CREATE OR REPLACE MACRO dq_dim(y, m) AS CASE m WHEN 2 THEN
        CASE WHEN (y % 4 = 0 AND y % 100 <> 0) OR y % 400 = 0 THEN 29 ELSE 28 END
    WHEN 4 THEN 30 WHEN 6 THEN 30 WHEN 9 THEN 30 WHEN 11 THEN 30 ELSE 31 END;
CREATE OR REPLACE MACRO dq_dt_ok(v) AS coalesce(CASE length(v)
    WHEN 19 THEN CAST(TRY_CAST(v AS TIMESTAMP) AS VARCHAR) = v
    WHEN 10 THEN CAST(TRY_CAST(v AS DATE) AS VARCHAR) = v
    ELSE false END, false);
CREATE OR REPLACE MACRO dq_date_ok(v) AS coalesce(length(v) = 10 AND CAST(TRY_CAST(v AS DATE) AS VARCHAR) = v, false);
CREATE OR REPLACE MACRO dq_dt_key(v) AS CASE WHEN length(v) = 10 THEN v || ' 00:00:00' ELSE v END;
CREATE OR REPLACE MACRO dq_ts_exact(v) AS CASE WHEN dq_dt_ok(v) THEN TRY_CAST(v AS TIMESTAMP) END;
CREATE OR REPLACE MACRO dq_weekdays(d) AS
    5 * ((date_diff('day', DATE '0001-01-01', d) + 1) // 7)
    + least((date_diff('day', DATE '0001-01-01', d) + 1) % 7, 5);
"""


def _decimal_bound(value: Any, what: str) -> Decimal:
    try:
        bound = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise NotCompilable(f"{what} {value!r} is not a number") from exc
    if not bound.is_finite():
        raise NotCompilable(f"{what} must be finite")
    if abs(bound) >= Decimal(10) ** 20 or -bound.as_tuple().exponent > 18:  # type: ignore[operator]
        raise NotCompilable(f"{what} {value!r} outside DECIMAL(38,18)")
    return bound


def _fits(bound: Decimal, int_digits: int, frac_digits: int) -> bool:
    t = bound.as_tuple()
    frac = max(0, -t.exponent)  # type: ignore[operator]
    return frac <= frac_digits and abs(bound) < Decimal(10) ** int_digits


def sql_decimal_check(
    v: str, low: Decimal | None, high: Decimal | None, strict_min: bool, strict_max: bool
) -> str:
    """SQL: ``validators.is_decimal_between(v, low, high, strict_min, strict_max)`` for non-NULL text,
    exact for any length of v (plain decimal text is compared as DECIMAL(18,6) when it fits, else
    DECIMAL(38,18), else digit by digit)."""

    def ok(x: str, low_sql: str | None, high_sql: str | None) -> str:
        parts = []
        if low_sql is not None:
            parts.append(f"{x} {'>' if strict_min else '>='} {low_sql}")
        if high_sql is not None:
            parts.append(f"{x} {'<' if strict_max else '<='} {high_sql}")
        return " AND ".join(parts) or "true"

    def dec(b: Decimal | None, ty: str) -> str | None:
        return None if b is None else f"CAST('{format(b, 'f')}' AS {ty})"

    branches = []
    if all(_fits(b, 12, 6) for b in (low, high) if b is not None):
        fast = ok(f"TRY_CAST({v} AS DECIMAL(18,6))", dec(low, "DECIMAL(18,6)"), dec(high, "DECIMAL(18,6)"))
        branches.append(f"WHEN regexp_full_match({v}, '-?[0-9]{{1,12}}(\\.[0-9]{{1,6}})?') THEN {fast}")
    slow_parts = []
    if low is not None:
        slow_parts.append(f"dq_dec_cmp({v}, {dec(low, 'DECIMAL(38,18)')}) {'>' if strict_min else '>='} 0")
    if high is not None:
        slow_parts.append(f"dq_dec_cmp({v}, {dec(high, 'DECIMAL(38,18)')}) {'<' if strict_max else '<='} 0")
    slow = " AND ".join(slow_parts) or "true"
    branches.append(f"WHEN regexp_full_match({v}, '-?[0-9]+(\\.[0-9]+)?') THEN {slow}")
    return "CASE " + " ".join(branches) + " ELSE false END"


MACROS_DECIMAL = r"""
CREATE OR REPLACE MACRO dq_dec_ip(v) AS ltrim(regexp_extract(v, '^-?([0-9]+)', 1), '0');
CREATE OR REPLACE MACRO dq_dec_fp(v) AS rtrim(regexp_extract(v, '\.([0-9]+)$', 1), '0');
CREATE OR REPLACE MACRO dq_dec_neg(v) AS CASE WHEN starts_with(v, '-') THEN -1 ELSE 1 END;
CREATE OR REPLACE MACRO dq_dec_trunc(v) AS TRY_CAST(
    CASE WHEN starts_with(v, '-') THEN '-' ELSE '' END || coalesce(nullif(dq_dec_ip(v), ''), '0') || '.'
    || left(rpad(dq_dec_fp(v), 18, '0'), 18) AS DECIMAL(38,18));
CREATE OR REPLACE MACRO dq_dec_cmp(v, b) AS CASE
    WHEN regexp_full_match(v, '-?[0-9]{1,20}(\.[0-9]{1,18})?') THEN sign(TRY_CAST(v AS DECIMAL(38,18)) - b)
    WHEN length(dq_dec_ip(v)) > 20 THEN dq_dec_neg(v)
    WHEN dq_dec_trunc(v) <> b THEN sign(dq_dec_trunc(v) - b)
    WHEN length(dq_dec_fp(v)) > 18 THEN dq_dec_neg(v)
    ELSE 0 END;
CREATE OR REPLACE MACRO dq_int_ge(v, m) AS CASE
    WHEN regexp_full_match(v, '-?[0-9]{1,30}') THEN TRY_CAST(v AS HUGEINT) >= m
    WHEN length(ltrim(regexp_extract(v, '^-?([0-9]+)', 1), '0')) > 30 THEN NOT starts_with(v, '-')
    ELSE TRY_CAST(CASE WHEN starts_with(v, '-') THEN '-' ELSE '' END
        || coalesce(nullif(ltrim(regexp_extract(v, '^-?([0-9]+)', 1), '0'), ''), '0') AS HUGEINT) >= m END;
"""

_RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def let(expr: str) -> tuple[str, str]:
    """A named per-row value (see :class:`CompiledRule`)."""
    import hashlib

    return "dq_let_" + hashlib.sha1(expr.encode("utf-8")).hexdigest()[:12], expr


def sql_citizen_id_ok(v: str, today: dt.date, n: str) -> str:
    """``validators.is_citizen_id`` (with ``today``) for non-NULL text; ``n`` names the value of
    :func:`citizen_id_body` (the 17 body digits as one integer, taken apart arithmetically: much cheaper
    than 17 substrings)."""
    total = " + ".join(f"(({n} // {10 ** (16 - i)}) % 10) * {w}" for i, w in enumerate(_RIC_WEIGHTS))
    ymd = f"(({n} // 1000) % 100000000)"
    year, month, day = f"({ymd} // 10000)", f"(({ymd} // 100) % 100)", f"({ymd} % 100)"
    return (
        f"CASE WHEN {n} IS NOT NULL THEN"
        f" substr('10X98765432', CAST(({total}) % 11 AS INTEGER) + 1, 1) = substr({v}, 18, 1)"
        f" AND {ymd} BETWEEN 19000101 AND {int(today.strftime('%Y%m%d'))}"
        f" AND {month} BETWEEN 1 AND 12 AND {day} BETWEEN 1 AND dq_dim({year}, {month})"
        " ELSE false END"
    )


def citizen_id_body(v: str) -> str:
    return f"CASE WHEN regexp_full_match({v}, '[0-9]{{17}}[0-9X]') THEN TRY_CAST(substr({v}, 1, 17) AS BIGINT) END"


def sql_credit_code_ok(v: str) -> str:
    total = " + ".join(
        f"{w} * (instr('{_USCC}', substr({v}, {i + 1}, 1)) - 1)" for i, w in enumerate(_USCC_WEIGHTS)
    )
    return (
        f"CASE WHEN regexp_full_match({v}, '[0-9A-HJ-NPQRTUWXY]{{18}}')"
        f" THEN substr('{_USCC}', ((31 - ({total}) % 31) % 31) + 1, 1) = substr({v}, 18, 1) ELSE false END"
    )


def sql_unit_number_ok(v: str) -> str:
    return (
        f"(regexp_full_match({v}, '[0-9]{{12}}(?:J[ABSXCDEFHGWYLN]|[GZ][BSXDEFHGWYLN])[0-9]{{5}}"
        f"(?:W00000000|[FLQ][0-9]{{8}})')"
        f" AND substr({v}, 15, 5) <> '00000'"
        f" AND (substr({v}, 20, 1) = 'W' OR substr({v}, 21, 8) <> '00000000'))"
    )


def clean_text_regex() -> str:
    """RE2 pattern that finds what ``validators.is_clean_text`` rejects (on non-empty text)."""
    s = isspace_class()
    return f"\\A[{s}]|[{s}]\\z|[{_class_body(list(_unclean_ranges()))}]|[ \\x{{3000}}]{{2}}"


@cache
def county_codes() -> tuple[str, ...]:
    """Every code :func:`toolkit.regions.is_county_code` accepts."""
    entries = regions._load()[1]
    return tuple(sorted(c for c in entries if regions.is_county_code(c)))


def nn(v: str, bad: str) -> str:
    """``bad`` evaluated only where ``v`` is not NULL (CASE runs its branch on those rows only)."""
    return f"CASE WHEN {v} IS NULL THEN false ELSE {bad} END"


def _alias(prefix: str, column: str) -> str:
    return f"dq_{prefix}_" + "".join(
        ch if ch.isalnum() and ch.isascii() else f"_{ord(ch):x}_" for ch in column
    )


def _cal_alias(column: str, end: str) -> str:
    return _alias(f"cal_{end}", column)


def _str_list(rule: Rule, key: str) -> list[str]:
    values = rule.kwargs.get(key)
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
        raise NotCompilable(f"{key} must be a list of text values")
    return list(values)


def _int_or_none(rule: Rule, key: str) -> int | None:
    value = rule.kwargs.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
        raise NotCompilable(f"{key} must be an integer")
    return int(value)


_RANGE = {"min_value", "max_value", "strict_min", "strict_max"}
#: Every expectation type a domain pack or an overlay may use, with the keywords it takes besides the
#: common ones (``column`` or ``column_A``/``column_B``, ``row_condition``, ``condition_parser``,
#: ``mostly``, ``result_format``, ``catch_exceptions``; pairs also ``ignore_row_if``). An unknown type
#: could do anything inside Great Expectations, so no other type is accepted.
TYPE_KWARGS: dict[str, frozenset[str]] = {
    "expect_column_values_to_not_be_null": frozenset(),
    "expect_column_values_to_be_in_set": frozenset({"value_set"}),
    "expect_column_values_to_match_regex": frozenset({"regex"}),
    "expect_column_values_to_be_unique": frozenset(),
    "expect_column_value_lengths_to_be_between": frozenset(_RANGE),
    "expect_column_values_to_be_valid_citizen_id": frozenset(),
    "expect_column_values_to_be_valid_credit_code": frozenset(),
    "expect_column_values_to_be_valid_unit_number": frozenset(),
    "expect_column_values_to_be_clean_text": frozenset(),
    "expect_column_values_to_be_county_code": frozenset(),
    "expect_column_values_to_be_valid_datetime_text": frozenset({"date_only"}),
    "expect_column_values_to_be_plausible_datetime": frozenset({"min_year", "years_ahead"}),
    "expect_column_values_to_be_decimal_in_range": frozenset(_RANGE),
    "expect_column_values_to_be_integer_text": frozenset({"min_value"}),
    "expect_column_pair_values_to_be_equal": frozenset(),
    "expect_column_pair_values_to_be_in_time_order": frozenset({"or_equal"}),
    "expect_column_pair_values_to_be_within_working_time_limit": frozenset({"working_days", "minutes"}),
    "expect_column_pair_values_to_share_prefix": frozenset({"length"}),
    # validated by Great Expectations only (the engine hands them over, marked engine = gx)
    "expect_column_values_to_not_match_regex": frozenset({"regex"}),
    "expect_column_values_to_not_be_in_set": frozenset({"value_set"}),
    "expect_column_values_to_be_null": frozenset(),
}
#: The types :func:`compile_rule` compiles to SQL.
ENGINE_TYPES = frozenset(TYPE_KWARGS) - {
    "expect_column_values_to_not_match_regex",
    "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_null",
}


def _plain(value: Any, depth: int = 0) -> bool:
    """Text, numbers, booleans, null, or a list of them: the only keyword values a rule may carry."""
    if value is None or isinstance(value, str | bool | int | float):
        return not isinstance(value, str) or len(value) <= 10_000
    if isinstance(value, list) and depth == 0:
        return len(value) <= 10_000 and all(_plain(v, 1) for v in value)
    return False


def vet_rule(rule: Rule, *, strict: bool) -> None:
    """Refuse a rule that is not provably safe to run, before any engine sees it: an expectation type
    outside :data:`TYPE_KWARGS`, a row condition outside the grammar, an unsafe regular expression.
    ``strict`` (locality overlays): every keyword must be one its type takes (:data:`TYPE_KWARGS`) and
    every value plain text, a number, a boolean or a list of them, so nothing of the rule reaches Great
    Expectations unchecked. Raises :class:`~toolkit.errors.ConfigError` (the caller adds the file)."""
    if rule.type not in TYPE_KWARGS:
        raise ConfigError(
            f"规则 {rule.rule_id} 的期望类型 {rule.type!r} 不受支持。",
            f"rule {rule.rule_id}: expectation type {rule.type!r} is not supported.",
            fix_zh=f"可用的类型：{', '.join(sorted(TYPE_KWARGS))}",
            fix_en=f"supported types: {', '.join(sorted(TYPE_KWARGS))}",
        )
    try:
        parse_condition(rule.kwargs.get("row_condition"))
    except ConfigError as exc:
        raise ConfigError(
            f"规则 {rule.rule_id}：{exc.zh}",
            f"rule {rule.rule_id}: {exc.en}",
            fix_zh=exc.fix_zh,
            fix_en=exc.fix_en,
        ) from exc
    if "regex" in rule.kwargs:
        try:
            check_regex(rule.kwargs["regex"])
        except ValueError as exc:
            raise ConfigError(
                f"规则 {rule.rule_id} 的正则表达式不安全或无效：{exc}",
                f"rule {rule.rule_id}: unsafe or invalid regex: {exc}",
                fix_zh="只用字符类、定长重复和锚点（如 ^[0-9]{6}$），不要嵌套的 + 或 *。",
                fix_en="use character classes, bounded repeats and anchors (e.g. ^[0-9]{6}$), no nested + or *.",
            ) from exc
    if strict:
        pair = rule.type.startswith("expect_column_pair_")
        allowed = (_PAIR_KWARGS if pair else _COMMON_KWARGS) | TYPE_KWARGS[rule.type]
        extra = sorted(map(str, set(rule.kwargs) - allowed))
        bad = sorted(k for k, v in rule.kwargs.items() if k != "row_condition" and not _plain(v))
        columns = ["column_A", "column_B"] if pair else ["column"]
        missing = [c for c in columns if not isinstance(rule.kwargs.get(c), str) or not rule.kwargs[c]]
        if extra or bad or missing:
            raise ConfigError(
                f"规则 {rule.rule_id} 的参数无法核验：未知 {extra}，值类型不对 {bad}，缺少 {missing}。",
                f"rule {rule.rule_id}: keywords cannot be verified: unknown {extra}, bad values {bad}, "
                f"missing {missing}.",
                fix_zh=f"该类型可用的参数：{sorted(allowed)}",
                fix_en=f"keywords of this type: {sorted(allowed)}",
            )


def compile_rule(rule: Rule, *, rule_index: int, today: dt.date | None = None) -> CompiledRule:
    """Compile one rule; raises :class:`NotCompilable` if it must go to Great Expectations and
    :class:`~toolkit.errors.ConfigError` if its row condition is outside the supported grammar."""
    today = today or dt.date.today()
    t = rule.type
    cond = compile_condition(rule.row_condition)
    cond_cols = condition_columns(rule.row_condition)
    kw = rule.kwargs

    def single() -> tuple[str, str]:
        _check_kwargs(rule, _COMMON_KWARGS | TYPE_KWARGS[t])
        c = _col(rule)
        return c, ident(c)

    def done(columns: list[str], unexpected: str, **more: Any) -> CompiledRule:
        return CompiledRule(
            rule=rule,
            columns=list(dict.fromkeys([*columns, *cond_cols])),
            condition=cond,
            unexpected=unexpected,
            **more,
        )

    if t == "expect_column_values_to_not_be_null":
        c, v = single()
        return done([c], f"{v} IS NULL")
    if t == "expect_column_values_to_be_in_set":
        c, v = single()
        values = _str_list(rule, "value_set")
        if not values:
            return done([c], f"{v} IS NOT NULL")
        return done([c], nn(v, f"{v} NOT IN ({', '.join(literal(x) for x in values)})"))
    if t == "expect_column_values_to_match_regex":
        c, v = single()
        regex = kw.get("regex")
        if not isinstance(regex, str):
            raise NotCompilable("regex must be text")
        try:
            re2 = python_regex_to_re2(regex)
        except ValueError as exc:
            raise NotCompilable(f"regex: {exc}") from exc
        return done([c], nn(v, f"NOT regexp_matches({v}, {literal(re2)})"))
    if t == "expect_column_values_to_be_unique":
        c, v = single()
        name = f"dq_dup_{rule_index}"
        where = f"{v} IS NOT NULL" + (f" AND {cond}" if cond else "")
        cte = (
            f"SELECT _BATCH AS dq_b, {v} AS dq_v FROM {{target}} WHERE {where} "
            f"GROUP BY _BATCH, {v} HAVING count(*) > 1"
        )
        join = f"LEFT JOIN {name} ON {name}.dq_b = t._BATCH AND {name}.dq_v = t.{v}"
        return done([c], f"({name}.dq_v IS NOT NULL)", ctes=[(name, cte)], joins=[(name, join)])
    if t == "expect_column_value_lengths_to_be_between":
        c, v = single()
        lo, hi = _int_or_none(rule, "min_value"), _int_or_none(rule, "max_value")
        if lo is None and hi is None:
            raise NotCompilable("min_value and max_value both empty")
        smin, smax = _bool(rule, "strict_min", False), _bool(rule, "strict_max", False)
        ok = []
        if lo is not None:
            ok.append(f"length({v}) {'>' if smin else '>='} {lo}")
        if hi is not None:
            ok.append(f"length({v}) {'<' if smax else '<='} {hi}")
        return done([c], nn(v, f"NOT ({' AND '.join(ok)})"))
    if t == "expect_column_values_to_be_valid_citizen_id":
        c, v = single()
        body = let(citizen_id_body(v))
        return done([c], nn(v, f"NOT coalesce({sql_citizen_id_ok(v, today, body[0])}, false)"), lets=[body])
    if t == "expect_column_values_to_be_valid_credit_code":
        c, v = single()
        return done([c], nn(v, f"NOT coalesce({sql_credit_code_ok(v)}, false)"))
    if t == "expect_column_values_to_be_valid_unit_number":
        c, v = single()
        return done([c], nn(v, f"NOT coalesce({sql_unit_number_ok(v)}, false)"))
    if t == "expect_column_values_to_be_clean_text":
        c, v = single()
        return done([c], nn(v, f"regexp_matches({v}, {literal(clean_text_regex())})"))
    if t == "expect_column_values_to_be_county_code":
        c, v = single()
        alias = _alias("cty", c)
        join = f"LEFT JOIN dq_county {alias} ON {alias}.dq_code = t.{v}"
        return done([c], nn(v, f"{alias}.dq_code IS NULL"), joins=[(alias, join)])
    if t == "expect_column_values_to_be_valid_datetime_text":
        c, v = single()
        date_only = _bool(rule, "date_only", False)
        ok = let(sql_datetime_ok(v, date_only))
        return done([c], nn(v, f"NOT {ok[0]}"), lets=[ok])
    if t == "expect_column_values_to_be_plausible_datetime":
        c, v = single()
        for key in ("min_year", "years_ahead"):
            val = kw.get(key)
            if val is not None and (isinstance(val, bool) or not isinstance(val, int) or abs(val) > 9999):
                raise NotCompilable(f"{key} must be a whole number")
        lo, hi = validators.plausible_years(kw.get("min_year"), kw.get("years_ahead"), today=today)
        ok = let(sql_datetime_ok(v))
        return done(
            [c], nn(v, f"CASE WHEN {ok[0]} THEN NOT {sql_year_between(v, lo, hi)} ELSE false END"), lets=[ok]
        )
    if t == "expect_column_values_to_be_decimal_in_range":
        c, v = single()
        smin, smax = _bool(rule, "strict_min", False), _bool(rule, "strict_max", False)
        low = _decimal_bound(kw["min_value"], "min_value") if kw.get("min_value") is not None else None
        high = _decimal_bound(kw["max_value"], "max_value") if kw.get("max_value") is not None else None
        return done([c], nn(v, f"NOT ({sql_decimal_check(v, low, high, smin, smax)})"))
    if t == "expect_column_values_to_be_integer_text":
        c, v = single()
        minimum = kw.get("min_value", 0)
        if isinstance(minimum, bool) or not isinstance(minimum, (int, float)):
            raise NotCompilable("min_value must be a number")
        m = int(minimum)
        if abs(m) >= 10**30:
            raise NotCompilable("min_value too large")
        check = f"CASE WHEN regexp_full_match({v}, '-?[0-9]+') THEN dq_int_ge({v}, {m}) ELSE false END"
        return done([c], nn(v, f"NOT ({check})"))

    # ---- column pairs
    pair_types = {  # the default ignore_row_if of each pair type
        "expect_column_pair_values_to_be_equal": "both_values_are_missing",
        "expect_column_pair_values_to_be_in_time_order": "either_value_is_missing",
        "expect_column_pair_values_to_be_within_working_time_limit": "either_value_is_missing",
        "expect_column_pair_values_to_share_prefix": "either_value_is_missing",
    }
    if t not in pair_types:
        raise NotCompilable(f"expectation type {t} is not compiled by the engine")
    default_ignore = pair_types[t]
    _check_kwargs(rule, _PAIR_KWARGS | TYPE_KWARGS[t])
    ca, cb = _col(rule, "column_A"), _col(rule, "column_B")
    a, b = ident(ca), ident(cb)
    if kw.get("ignore_row_if", default_ignore) != "either_value_is_missing":
        raise NotCompilable("ignore_row_if other than either_value_is_missing")
    both = f"{a} IS NOT NULL AND {b} IS NOT NULL"

    def pair(bad: str) -> str:
        return f"CASE WHEN {both} THEN {bad} ELSE false END"

    if t == "expect_column_pair_values_to_be_equal":
        return done([ca, cb], pair(f"{a} <> {b}"))
    if t == "expect_column_pair_values_to_share_prefix":
        n = _int_or_none(rule, "length")
        n = 6 if n is None else n
        if n < 0:
            raise NotCompilable("negative length")
        return done([ca, cb], pair(f"left({a}, {n}) <> left({b}, {n})"))
    dt_lets = [let(sql_datetime_ok(a)), let(sql_datetime_ok(b))]
    parsed = f"{dt_lets[0][0]} AND {dt_lets[1][0]}"
    ka, kb = sql_datetime_key(a), sql_datetime_key(b)
    if t == "expect_column_pair_values_to_be_in_time_order":
        or_equal = _bool(rule, "or_equal", True)
        op = "<=" if or_equal else "<"
        return done(
            [ca, cb], pair(f"CASE WHEN {parsed} THEN NOT ({ka} {op} {kb}) ELSE false END"), lets=dt_lets
        )
    # working time limit
    wd = kw.get("working_days")
    minutes = kw.get("minutes")
    if wd is not None and (isinstance(wd, bool) or not isinstance(wd, (int, float))):
        raise NotCompilable("working_days must be a number")
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, (int, float))):
        raise NotCompilable("minutes must be a number")
    fails = []
    if minutes is not None:
        seconds = float(minutes) * 60
        fails.append(
            f"CAST(epoch(dq_ts_exact({b})) - epoch(dq_ts_exact({a})) AS DOUBLE) > CAST({seconds!r} AS DOUBLE)"
        )
    joins: list[tuple[str, str]] = []
    if wd is not None:
        da, db = _cal_alias(ca, "start"), _cal_alias(cb, "end")
        joins = [
            (da, f"LEFT JOIN dq_cal {da} ON {da}.dq_d = TRY_CAST(substr(t.{a}, 1, 10) AS DATE) - 1"),
            (db, f"LEFT JOIN dq_cal {db} ON {db}.dq_d = TRY_CAST(substr(t.{b}, 1, 10) AS DATE)"),
        ]
        elapsed = (
            f"greatest(0, coalesce({db}.dq_c, dq_wcum_out(TRY_CAST(substr({b}, 1, 10) AS DATE)))"
            f" - coalesce({da}.dq_c, dq_wcum_out(TRY_CAST(substr({a}, 1, 10) AS DATE) - 1)) - 1)"
        )
        fails.append(f"{elapsed} > {int(wd)}")
    if not fails:
        return done([ca, cb], "false")
    lo, hi = validators.plausible_years(today=today)  # implausible years are the plausibility rules' business
    plausible = f"{sql_year_between(a, lo, hi)} AND {sql_year_between(b, lo, hi)}"
    return done(
        [ca, cb],
        pair(
            f"CASE WHEN {parsed} AND {kb} >= {ka} AND {plausible} THEN ({' OR '.join(fails)}) ELSE false END"
        ),
        lets=dt_lets,
        joins=joins,
        uses_calendar=wd is not None,
    )
