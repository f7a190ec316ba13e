"""The declarations a check module fills in (no Great Expectations, no DuckDB imported here).

A :class:`RuleType` is an expectation type a domain pack or an overlay may use: its keyword set (the
security allow-list of :func:`toolkit.sqlcompile.vet_rule`), its SQL builder for the count engine
(``None``: Great Expectations validates it, ``engine = gx``), the DuckDB macros the builder's SQL calls and,
for column pairs, Great Expectations' default ``ignore_row_if``.

A :class:`Check` is one of *our* expectation types. On top of that it carries the pure Python function
every engine mirrors (:attr:`Check.predicate`), and the declaration :mod:`toolkit.gx_expectations` makes the
Great Expectations classes from (metric name, keyword types and defaults, docstring, tags). Its
:attr:`Check.examples` are values the test template of ``tests/test_checks.py`` runs through all three.

Contract of a check, whatever the engine: an empty cell is *missing*, never *unexpected*; a column-pair
check skips a row where either value is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from toolkit.checks.sql import CompiledRule, RuleSql

__all__ = [
    "COMMON_KWARGS",
    "DIGITS",
    "PAIR_KWARGS",
    "Check",
    "Example",
    "Param",
    "RuleType",
    "SqlBuilder",
    "all_digits",
]

#: The only characters that count as digits anywhere in the checks (``str.isdigit`` also accepts ``²``).
DIGITS = frozenset("0123456789")


def all_digits(text: str) -> bool:
    """True if ``text`` is non-empty and consists of ASCII digits only."""
    return bool(text) and all(c in DIGITS for c in text)


#: Keywords every single-column type takes besides its own.
COMMON_KWARGS = frozenset(
    {"column", "row_condition", "condition_parser", "mostly", "result_format", "catch_exceptions"}
)
#: Keywords every column-pair type takes besides its own.
PAIR_KWARGS = frozenset(
    {
        "column_A",
        "column_B",
        "row_condition",
        "condition_parser",
        "mostly",
        "result_format",
        "catch_exceptions",
        "ignore_row_if",
    }
)

#: Compiles one rule of a type to SQL; raises :class:`~toolkit.errors.NotCompilable` to hand it to GX.
SqlBuilder = Callable[["RuleSql"], "CompiledRule"]


@dataclass(frozen=True)
class Param:
    """A keyword of a type: its name, its default and the field type of the Great Expectations class."""

    name: str
    default: Any = None
    annotation: Any = Any


@dataclass(frozen=True)
class Example:
    """Values (pairs: ``(A, B)`` tuples) to run through every engine with the keyword values ``params``."""

    values: tuple[Any, ...]
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, eq=False)
class RuleType:
    """An expectation type a pack may use (see the module docstring)."""

    type: str
    params: tuple[Param, ...] = ()
    sql: SqlBuilder | None = None
    macros: tuple[str, ...] = ()
    ignore_row_if: str | None = None

    @property
    def pair(self) -> bool:
        """A column-pair type (``column_A``/``column_B``)."""
        return self.type.startswith("expect_column_pair_")

    @property
    def keywords(self) -> frozenset[str]:
        """The keywords this type takes besides :data:`COMMON_KWARGS` / :data:`PAIR_KWARGS`."""
        return frozenset(p.name for p in self.params)

    @property
    def allowed_keywords(self) -> frozenset[str]:
        """Every keyword a rule of this type may carry."""
        return (PAIR_KWARGS if self.pair else COMMON_KWARGS) | self.keywords

    def default(self, name: str) -> Any:
        """The declared default of keyword ``name`` (``None`` if it has none)."""
        return next((p.default for p in self.params if p.name == name), None)


@dataclass(frozen=True, kw_only=True, eq=False)
class Check(RuleType):
    """One custom check: constants and pure function live in its module, all engines derive from here.

    ``predicate(**keyword values)`` returns the value test (pairs: ``test(a, b)``): ``True`` means the
    value is *expected*. It is only called on present values (text). ``metric`` is the Great Expectations
    metric name, ``doc`` the expectation's docstring, ``tags`` its gallery tags."""

    sql: SqlBuilder
    predicate: Callable[..., Callable[..., bool]]
    metric: str
    doc: str
    tags: tuple[str, ...] = ()
    examples: tuple[Example, ...] = ()

    def bind(self, values: Mapping[str, Any]) -> Callable[..., bool]:
        """The value test for a rule's keyword ``values`` (declared defaults where a keyword is absent)."""
        return self.predicate(**{p.name: values.get(p.name, p.default) for p in self.params})
