"""What a check returns, whichever engine ran it: :class:`CheckResult` (one batch), :class:`RuleResult`
(one rule), the columns of ``counts.csv`` and ``problems.csv``, and :func:`collect_warnings`.

Free of Great Expectations, so that the engine's gate (:mod:`toolkit.gate`) and every command that only
reads results start without importing it (importing Great Expectations takes seconds); the reference
path (:mod:`toolkit.gx_check`) and Data Docs (:mod:`toolkit.gx_run`) import it when they run.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.domain import Domain, Rule
from toolkit.errors import DQWarning, warning_lines
from toolkit.loading import Batch
from toolkit.masking import Masker

__all__ = [
    "COUNT_COLUMNS",
    "NO_UNIT",
    "PROBLEM_COLUMNS",
    "CheckResult",
    "RuleResult",
    "collect_warnings",
]

NO_UNIT = ""  # rows whose unit code is empty


@dataclass
class RuleResult:
    rule: Rule
    success: bool
    element_count: int
    unexpected_count: int
    unexpected_rows: list[str]  # _ROW values
    error: str | None = None


@dataclass
class CheckResult:
    domain: Domain
    mode: str
    batch: Batch
    as_of: dt.datetime | None
    as_of_source: str
    rules: list[Rule]
    results: dict[str, RuleResult]
    not_evaluated: dict[str, str]  # rule id -> reason
    counts: pd.DataFrame
    problems_frame: pd.DataFrame | None
    frames: Mapping[str, pd.DataFrame]
    started: dt.datetime
    masker: Masker = field(default_factory=Masker)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    engine: str = "gx"
    """Which engine checked the batch: ``duckdb`` (:mod:`toolkit.gate`) or ``gx``."""
    problems_path: Path | None = None
    """Where the engine streamed the problem list (``problems.csv``); ``None``: kept in memory."""
    problem_count: int | None = None
    rows_checked: dict[str, int] | None = None
    """Rows checked per table (default: the length of each table's frame)."""
    samples: dict[str, list[Any]] = field(default_factory=dict)
    """Rule id → a few masked failing values (engine runs: for Data Docs and ``report.html``)."""
    gx_rules: dict[str, str] = field(default_factory=dict)
    """Engine runs: rules validated by Great Expectations because the compiler declined them (why)."""

    @property
    def problems(self) -> pd.DataFrame:
        """The problem list (see :data:`PROBLEM_COLUMNS`). After a streamed engine run it is read back
        from ``problems.csv`` on first use (without the pack's legacy columns; empty cells as ``""``)."""
        if self.problems_frame is None:
            from toolkit.sheets import read_csv

            frame = read_csv(self.problems_path, keep_default_na=False)  # type: ignore[arg-type]
            legacy = [c for c in self.domain.legacy_columns.values() if c in frame.columns]
            self.problems_frame = frame.drop(columns=legacy)
        return self.problems_frame

    @property
    def n_problems(self) -> int:
        """Number of problem rows (without reading a streamed list back)."""
        if self.problem_count is not None:
            return self.problem_count
        return len(self.problems)

    def batch_warnings(self) -> list[str]:
        """Warnings about how the batch was read (e.g. IDs stored as numbers in Excel)."""
        out = []
        for t in self.batch.tables.values():
            for col in getattr(t, "lossy_columns", []) or []:
                out.append(
                    f"{t.path.name} 的 {col} 列在 Excel 中存为数字，超过 15 位的号码可能已丢失末尾数字；请把该列设为“文本”格式后重新导出。"
                    f" / column {col} of {t.path.name} holds numbers in Excel: digits beyond the 15th may be lost;"
                    " format the column as text and export again."
                )
        return out

    @property
    def critical_failures(self) -> list[str]:
        return sorted(
            rid for rid, r in self.results.items() if r.rule.severity == "critical" and not r.success
        )

    @property
    def errored(self) -> list[str]:
        return sorted(rid for rid, r in self.results.items() if r.error)

    @property
    def exit_code(self) -> int:
        if self.errored:
            return 2
        return 1 if self.critical_failures else 0


#: Columns of :attr:`CheckResult.counts` after ``unit_code, unit_name``.
COUNT_COLUMNS = [
    "rule_id",
    "table",
    "field",
    "dimension",
    "severity",
    "element_count",
    "unexpected_count",
    "evaluated",
]
#: Columns of :attr:`CheckResult.problems` (the pack's ``problem_fields`` follow ``record_key``).
PROBLEM_COLUMNS = [
    "rule_id",
    "table",
    "unit_code",
    "unit_name",
    "record_key",
    "field",
    "value_masked",
    "message_zh",
    "fix_zh",
    "detail_zh",
    "severity",
    "dimension",
    "file",
    "row",
]


def collect_warnings(run: Any, *args: Any, **kwargs: Any) -> CheckResult:
    """Call ``run`` (a checking function returning a :class:`CheckResult`); the toolkit's warnings raised
    on the way are collected in :attr:`CheckResult.warnings`, once each (others are shown as usual)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DQWarning)
        result = run(*args, **kwargs)
    for w in caught:
        if not issubclass(w.category, DQWarning):  # shown as Python would have shown it
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    result.warnings = list(dict.fromkeys([*result.batch_warnings(), *warning_lines(caught)]))
    return result
