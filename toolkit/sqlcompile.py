"""Compile Great Expectations rules to DuckDB SQL for the count engine (:mod:`toolkit.engine`), and vet
every rule before any engine sees it (:func:`vet_rule`).

Each expectation type is declared once, in :mod:`toolkit.checks` (the registry
:data:`toolkit.checks.RULE_TYPES`): its keywords, its SQL builder and the DuckDB macros the SQL uses.
This module derives from it the security allow-list (:data:`TYPE_KWARGS`), the compiled types
(:data:`ENGINE_TYPES`), the dispatch table of :func:`compile_rule` (:data:`COMPILERS`) and :data:`MACROS`.
A compiled rule is a SQL boolean *unexpected* expression over one row of the rule's target (table or
view), plus the rule's row condition as a SQL boolean. The semantics mirror the checks' pure functions,
:mod:`toolkit.gx_expectations` and Great Expectations' own pandas implementations exactly:

* a rule's ``element_count`` is every row its row condition keeps (column-pair rules included: GX counts
  the rows that ``ignore_row_if`` skips too);
* an empty cell (SQL ``NULL``) is never unexpected, except for ``expect_column_values_to_not_be_null``;
* column-pair rules ignore a row where either value is missing.

Everything is compiled *conservatively*: a configuration a builder is not sure to reproduce bit for bit
(an unknown keyword, a non-text value set, a regular expression using look-arounds or ``\\b``,
``ignore_row_if`` other than ``either_value_is_missing`` …) makes :func:`compile_rule` raise
:class:`~toolkit.errors.NotCompilable` with a reason, and the engine validates that rule through Great
Expectations instead. Row conditions are the exception: they are parsed by a small strict parser
(:func:`compile_condition`) and anything it does not know is a :class:`~toolkit.errors.ConfigError`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from toolkit.checks import RULE_TYPES
from toolkit.checks.base import COMMON_KWARGS as _COMMON_KWARGS
from toolkit.checks.base import PAIR_KWARGS as _PAIR_KWARGS
from toolkit.checks.base import SqlBuilder
from toolkit.checks.charclass import isspace_class, isspace_code_points, isspace_ranges
from toolkit.checks.clean_text import clean_text_regex
from toolkit.checks.county_code import county_codes
from toolkit.checks.plausible_datetime import sql_year_between
from toolkit.checks.re2 import python_regex_to_re2
from toolkit.checks.sql import CompiledRule, RuleSql, ident, literal
from toolkit.conditions import parse_condition
from toolkit.errors import ConfigError, NotCompilable

if TYPE_CHECKING:
    from toolkit.rules import Rule

try:  # Python ≥ 3.11
    from re import _constants as sre_c
    from re import _parser as sre_p
except ImportError:  # pragma: no cover
    import sre_constants as sre_c  # type: ignore[no-redef]
    import sre_parse as sre_p  # type: ignore[no-redef]

__all__ = [
    "COMPILERS",
    "ENGINE_TYPES",
    "MACROS",
    "MAX_REGEX_LENGTH",
    "TYPE_KWARGS",
    "CompiledRule",
    "NotCompilable",
    "check_regex",
    "clean_text_regex",
    "compile_condition",
    "compile_rule",
    "condition_columns",
    "county_codes",
    "ident",
    "isspace_class",
    "isspace_code_points",
    "literal",
    "python_regex_to_re2",
    "sql_year_between",
    "vet_rule",
]

# ------------------------------------------------------------------------------------------------ registry

#: Every expectation type a domain pack or an overlay may use, with the keywords it takes besides the
#: common ones (``column`` or ``column_A``/``column_B``, ``row_condition``, ``condition_parser``,
#: ``mostly``, ``result_format``, ``catch_exceptions``; pairs also ``ignore_row_if``). An unknown type
#: could do anything inside Great Expectations, so no other type is accepted.
TYPE_KWARGS: dict[str, frozenset[str]] = {t: kind.keywords for t, kind in RULE_TYPES.items()}
#: Expectation type → its SQL builder: the types :func:`compile_rule` compiles.
COMPILERS: dict[str, SqlBuilder] = {t: kind.sql for t, kind in RULE_TYPES.items() if kind.sql is not None}
#: The types :func:`compile_rule` compiles to SQL.
ENGINE_TYPES = frozenset(COMPILERS)
#: Every DuckDB macro the compiled rules call (each declared by its check, installed once per connection).
MACROS = "".join(dict.fromkeys(m for kind in RULE_TYPES.values() for m in kind.macros))

_isspace_ranges = isspace_ranges  # the name toolkit.staging and benchmarks/ import

# ------------------------------------------------------------------------------------------------ regex safety

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
    """Compile one rule through :data:`COMPILERS`; raises :class:`NotCompilable` if it must go to Great
    Expectations and :class:`~toolkit.errors.ConfigError` if its row condition is outside the supported
    grammar."""
    condition = compile_condition(rule.row_condition)  # a bad row condition is an error for any type
    build = COMPILERS.get(rule.type)
    if build is None:
        raise NotCompilable(f"expectation type {rule.type} is not compiled by the engine")
    return build(
        RuleSql(
            rule=rule,
            kind=RULE_TYPES[rule.type],
            rule_index=rule_index,
            today=today or dt.date.today(),
            condition=condition,
            condition_columns=condition_columns(rule.row_condition),
        )
    )
