"""Rules: one expectation of a pack's suites, seen as a rule (its id, target, meta), and the vocabulary
every pack shares (severities, dimensions, the meta keys each rule must carry).

A leaf module: the rule compiler (:mod:`toolkit.sqlcompile`), overlays (:mod:`toolkit.overlay`) and packs
(:mod:`toolkit.domain`) all build on it, and it imports none of them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from toolkit.conditions import Condition, parse_condition

#: :func:`parse_condition` of a condition text, kept (a parsed condition is never changed).
_parse_text = functools.lru_cache(maxsize=4096)(parse_condition)

__all__ = ["DIMENSIONS", "META_KEYS", "PLAUSIBLE_TYPE", "SEVERITIES", "Rule"]

#: The expectation type whose window bounds the as-of (see :meth:`Domain.plausible_years`).
PLAUSIBLE_TYPE = "expect_column_values_to_be_plausible_datetime"
SEVERITIES = ("critical", "warning")
DIMENSIONS = (
    "completeness",
    "validity",
    "uniqueness",
    "consistency",
    "timeliness",
    "coverage",
    "closed_loop",
)
META_KEYS = (
    "rule_id",
    "table",
    "field",
    "dimension",
    "severity",
    "applies_to",
    "message_zh",
    "fix_zh",
    "standard",
    "requires",
)


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite, seen as a rule: its id, where it runs, and what it tells the user."""

    rule_id: str
    suite: str
    target: str  # table code or view name the suite validates
    target_kind: str  # "table" | "view"
    type: str  # Great Expectations expectation type
    kwargs: dict[str, Any]
    meta: dict[str, Any]

    @property
    def table(self) -> str:
        return self.meta["table"]

    @property
    def field(self) -> str:
        return self.meta["field"]

    @property
    def dimension(self) -> str:
        return self.meta["dimension"]

    @property
    def severity(self) -> str:
        return self.meta["severity"]

    @property
    def tolerance(self) -> float:
        return float(self.meta.get("tolerance", 0.0))

    @property
    def applies_to(self) -> list[str]:
        return list(self.meta["applies_to"])

    @property
    def requires(self) -> list[str]:
        return list(self.meta.get("requires") or [self.table])

    @property
    def requires_columns(self) -> list[str]:
        """Optional columns of :attr:`table` the rule needs (``meta.requires_columns``): when a batch's
        file lacks one, the rule is *not evaluated* (e.g. SLRY/SHRY, which not every system exports)."""
        return list(self.meta.get("requires_columns") or [])

    @property
    def condition(self) -> Condition | None:
        """The row condition, parsed by the strict parser (:mod:`toolkit.conditions`); a text is parsed
        once per process (the self-check service asks for it on every request)."""
        raw = self.kwargs.get("row_condition")
        return _parse_text(raw) if isinstance(raw, str) else parse_condition(raw)

    @property
    def row_condition(self) -> str | None:
        """The row condition as written in the suite (text), or ``None``."""
        cond = self.condition
        return cond.text if cond else None

    def expectation_config(self) -> dict[str, Any]:
        """The Great Expectations configuration (type, kwargs, meta, severity) of this rule. The row
        condition is handed over as a structured Great Expectations condition built from the parsed
        tree, never as text that Great Expectations would pass to ``DataFrame.query``."""
        kwargs = dict(self.kwargs)
        kwargs.pop("condition_parser", None)
        kwargs.pop("row_condition", None)
        cond = self.condition
        if cond is not None:
            kwargs["row_condition"] = cond.gx()
        if self.tolerance > 0:
            kwargs["mostly"] = round(1.0 - self.tolerance, 10)
        return {"type": self.type, "kwargs": kwargs, "meta": dict(self.meta), "severity": self.severity}
