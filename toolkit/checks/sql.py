"""SQL building blocks for the checks' builders (DuckDB dialect; no DuckDB imported here).

A builder gets a :class:`RuleSql` — the rule, its declared type, its compiled row condition and today's
date — and returns a :class:`CompiledRule`: a SQL boolean *unexpected* expression over one row of the rule's
target, counted only where the row condition holds. Anything the builder is not sure to reproduce bit for
bit raises :class:`~toolkit.errors.NotCompilable` (the engine then hands the rule to Great Expectations).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from toolkit.errors import NotCompilable

if TYPE_CHECKING:
    from toolkit.checks.base import RuleType
    from toolkit.rules import Rule

__all__ = ["CompiledRule", "RuleSql", "alias", "ident", "let", "literal", "nn", "pair_case"]


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A SQL string literal (DuckDB: no backslash escapes)."""
    return "'" + value.replace("'", "''") + "'"


def nn(v: str, bad: str) -> str:
    """``bad`` evaluated only where ``v`` is not NULL (CASE runs its branch on those rows only)."""
    return f"CASE WHEN {v} IS NULL THEN false ELSE {bad} END"


def pair_case(a: str, b: str, bad: str) -> str:
    """``bad`` evaluated only where both values of a pair are present (``ignore_row_if`` either missing)."""
    return f"CASE WHEN {a} IS NOT NULL AND {b} IS NOT NULL THEN {bad} ELSE false END"


def let(expr: str) -> tuple[str, str]:
    """A named per-row value (see :class:`CompiledRule`)."""
    return "dq_let_" + hashlib.sha1(expr.encode("utf-8")).hexdigest()[:12], expr


def alias(prefix: str, column: str) -> str:
    """A join alias for ``column`` that is a plain SQL name."""
    return f"dq_{prefix}_" + "".join(
        ch if ch.isalnum() and ch.isascii() else f"_{ord(ch):x}_" for ch in column
    )


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


@dataclass
class RuleSql:
    """What a builder compiles: ``rule`` of type ``kind``, its row condition already as SQL."""

    rule: Rule
    kind: RuleType
    rule_index: int
    today: dt.date
    condition: str | None
    condition_columns: list[str]

    @property
    def kwargs(self) -> dict[str, Any]:
        return self.rule.kwargs

    def get(self, key: str) -> Any:
        """The rule's value of ``key``, else the type's declared default."""
        return self.rule.kwargs.get(key, self.kind.default(key))

    def flag(self, key: str) -> bool:
        """A true/false keyword (missing or null: the declared default)."""
        default = bool(self.kind.default(key))
        value = self.rule.kwargs.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise NotCompilable(f"{key} must be true/false")
        return value

    def int_or_none(self, key: str) -> int | None:
        """A whole-number keyword as written in the rule (null or absent: ``None``)."""
        value = self.rule.kwargs.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
            raise NotCompilable(f"{key} must be an integer")
        return int(value)

    def text_list(self, key: str) -> list[str]:
        values = self.rule.kwargs.get(key)
        if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
            raise NotCompilable(f"{key} must be a list of text values")
        return list(values)

    def column(self, key: str = "column") -> str:
        value = self.rule.kwargs.get(key)
        if not isinstance(value, str) or not value:
            raise NotCompilable(f"{key} missing")
        return value

    def _vet_keywords(self) -> None:
        extra = set(self.rule.kwargs) - self.kind.allowed_keywords
        if extra:
            raise NotCompilable(f"keyword(s) {sorted(extra)} not supported by the engine")
        raw = self.rule.kwargs.get("row_condition")
        if (
            raw is not None
            and not isinstance(raw, str)
            and not (isinstance(raw, dict) and "pass_through_filter" in raw)
        ):
            raise NotCompilable("row_condition given as a Great Expectations condition object")
        parser = self.rule.kwargs.get("condition_parser")
        if self.rule.row_condition is not None and parser not in (None, "pandas"):
            raise NotCompilable(f"condition_parser {parser!r}")

    def single(self) -> tuple[str, str]:
        """Vet the keywords of a single-column rule; its column name and SQL identifier."""
        self._vet_keywords()
        c = self.column()
        return c, ident(c)

    def pair(self) -> tuple[str, str, str, str]:
        """Vet the keywords of a column-pair rule: ``(column_A, column_B, SQL of A, SQL of B)``. Only
        ``ignore_row_if = either_value_is_missing`` (given or the type's default) is compiled."""
        self._vet_keywords()
        ca, cb = self.column("column_A"), self.column("column_B")
        if self.rule.kwargs.get("ignore_row_if", self.kind.ignore_row_if) != "either_value_is_missing":
            raise NotCompilable("ignore_row_if other than either_value_is_missing")
        return ca, cb, ident(ca), ident(cb)

    def done(self, columns: list[str], unexpected: str, **more: Any) -> CompiledRule:
        """The compiled rule: ``unexpected`` over ``columns`` (the row condition's columns are added)."""
        return CompiledRule(
            rule=self.rule,
            columns=list(dict.fromkeys([*columns, *self.condition_columns])),
            condition=self.condition,
            unexpected=unexpected,
            **more,
        )
