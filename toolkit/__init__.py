"""政务登记数据质量工具包 / data-quality toolkit for Chinese government registration data.

The standards live as Great Expectations suites in ``expectations/<domain>/``; this package loads
batches, prepares views, runs the suites as a checkpoint (:func:`run_check`), counts rules at any grain on
DuckDB (:func:`count_batches`), scores districts (:mod:`toolkit.scoring`), keeps a score history, a
problem ledger, and writes bulletins, common-problem lists and audit checklists.

Names are imported lazily: ``import toolkit`` is instant, and Great Expectations (slow to import) is
loaded only when a name that needs it is used.
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

# Great Expectations imports pyspark whenever it is installed (it is, for --engine spark), and pyspark then
# warns on stderr that it "does not yet fully support pandas >= 3" — on every command, about code the
# toolkit does not run there. Only that one notice is silenced; toolkit.spark handles pyspark's warnings.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)

# public name -> module that defines it
_EXPORTS = {
    # checking
    "CheckResult": "toolkit.check",
    "run_check": "toolkit.check",
    "write_outputs": "toolkit.outputs",
    # domain packs
    "Domain": "toolkit.domain",
    "Rule": "toolkit.domain",
    "load_domain": "toolkit.domain",
    "apply_overlay": "toolkit.overlay",
    # loading
    "Batch": "toolkit.loading",
    "LoadedTable": "toolkit.loading",
    "load_batch": "toolkit.loading",
    "read_table": "toolkit.loading",
    # errors
    "DQError": "toolkit.errors",
    "InputError": "toolkit.errors",
    "BatchNotFoundError": "toolkit.errors",
    "NoKnownTableError": "toolkit.errors",
    "UnreadableFileError": "toolkit.errors",
    "MissingColumnError": "toolkit.errors",
    "ConfigError": "toolkit.errors",
    "LedgerError": "toolkit.ledger",
    # personal data
    "mask_id": "toolkit.masking",
    "mask_name": "toolkit.masking",
    "mask_phone": "toolkit.masking",
    "mask_value": "toolkit.masking",
    # calendar and sample data
    "WorkdayCalendar": "toolkit.workdays",
    "generate_sample": "toolkit.samples",
    # counting and scoring
    "EngineCounts": "toolkit.engine",
    "count_batches": "toolkit.engine",
    "ScoreResult": "toolkit.scoring",
    "ScoringConfig": "toolkit.scoring",
    "load_scoring": "toolkit.scoring",
    "score": "toolkit.scoring",
    "period_scores": "toolkit.scoring",
    "scores_table": "toolkit.scoring",
    "indicator_rates": "toolkit.scoring",
    "row_counts": "toolkit.scoring",
    "explain": "toolkit.scoring",
    "History": "toolkit.history",
    "score_history": "toolkit.history",
    "score_batches": "toolkit.history",
    # closed loop, bulletins, audits
    "sync_check": "toolkit.ledger",
    "ledger_figures": "toolkit.ledger",
    "write_bulletin": "toolkit.report",
    "build_common_problems": "toolkit.common_problems",
    "write_common_problems": "toolkit.common_problems",
    "run_audit": "toolkit.audit",
    "find_cjk_font": "toolkit.fonts",
    "setup_matplotlib": "toolkit.fonts",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'toolkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for type checkers and IDEs
    from toolkit.check import CheckResult, run_check  # noqa: F401
    from toolkit.domain import Domain, Rule, load_domain  # noqa: F401
