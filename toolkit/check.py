"""The QA gate (``dq check``): check one batch on the chosen engine and return a :class:`CheckResult`.

Two engines give the same result (differential tests in ``tests/test_gate.py``):

* ``duckdb`` (default, :mod:`toolkit.gate`): every rule counted and its failing rows selected in SQL by
  the count engine, out of core under a memory limit, the problem list streamed to ``problems.csv``;
* ``gx`` (:mod:`toolkit.gx_check`): Great Expectations on pandas, the reference.

Counting follows Great Expectations: a rule's ``element_count`` is the rows it applies to (after its
row condition), its ``unexpected_count`` the rows that break it. :class:`CheckResult` is defined in
:mod:`toolkit.results`; the helpers shared with the reference path in :mod:`toolkit.gx_check` (loaded on
first use: it imports Great Expectations). Both are re-exported here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit import workdays
from toolkit.domain import Domain, load_domain
from toolkit.errors import ConfigError
from toolkit.results import COUNT_COLUMNS, NO_UNIT, PROBLEM_COLUMNS, CheckResult, RuleResult, collect_warnings

if TYPE_CHECKING:
    from toolkit.gx_check import (
        _problems,
        _rule_rows,
        _unit_counts,
        latest_timestamp,
        select_rules,
        unit_names,
    )

#: Shared with the reference path, which imports Great Expectations: loaded on first use (PEP 562), so
#: that ``dq check`` on the engine starts without it.
_FROM_GX_CHECK = (
    "_problems",
    "_rule_rows",
    "_run_check",
    "_unit_counts",
    "latest_timestamp",
    "select_rules",
    "unit_names",
)


def __getattr__(name: str) -> Any:
    if name in _FROM_GX_CHECK:
        from toolkit import gx_check

        return getattr(gx_check, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "COUNT_COLUMNS",
    "ENGINES",
    "NO_UNIT",
    "PROBLEM_COLUMNS",
    "CheckResult",
    "RuleResult",
    "_problems",
    "_rule_rows",
    "_unit_counts",
    "latest_timestamp",
    "run_check",
    "select_rules",
    "unit_names",
]


def run_check(
    batch_dir: str | Path,
    *,
    domain: str | Domain,
    mode: str = "incremental",
    as_of: dt.datetime | None = None,
    overlay: str | Path | None = None,
    docs_dir: Path | None = None,
    calendar: workdays.WorkdayCalendar | None = None,
    progress: bool = False,
    engine: str = "duckdb",
    problems_path: Path | None = None,
    memory_limit: str = "1.5GB",
) -> CheckResult:
    """Check one batch (see the module docstring). The toolkit's warnings raised on the way (e.g. a year
    the holiday calendar does not cover) are collected in :attr:`CheckResult.warnings`, once each.

    ``engine``: ``"duckdb"`` (default: the count engine, :mod:`toolkit.gate`; nothing of the batch held
    in pandas) or ``"gx"`` (Great Expectations on pandas, the reference); see :data:`ENGINES`.
    ``problems_path`` (engine only): stream the problem list to this CSV instead of keeping it in
    memory. ``memory_limit``: DuckDB's memory limit (engine only)."""
    run = ENGINES.get(engine)
    if run is None:
        raise ConfigError(
            f"未知的引擎 {engine!r}，可用：{', '.join(ENGINES)}。",
            f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}.",
            fix_zh="默认用 duckdb；--engine gx 用 Great Expectations 逐行验证（参照）。",
            fix_en="duckdb is the default; --engine gx validates with Great Expectations (the reference).",
        )
    return collect_warnings(
        run,
        batch_dir,
        domain,
        mode,
        as_of,
        overlay,
        docs_dir,
        calendar,
        progress,
        problems_path=problems_path,
        memory_limit=memory_limit,
    )


def _run_engine(
    batch_dir: str | Path,
    domain: str | Domain,
    mode: str,
    as_of: dt.datetime | None,
    overlay: str | Path | None,
    docs_dir: Path | None,
    calendar: workdays.WorkdayCalendar | None,
    progress: bool,
    **options: Any,
) -> CheckResult:
    from toolkit.gate import run_engine_check

    dom = domain if isinstance(domain, Domain) else load_domain(domain, overlay=overlay)
    return run_engine_check(batch_dir, dom, mode, as_of, docs_dir, calendar, progress, **options)


#: ``dq check --engine NAME`` → the function that checks a batch (one place to add an engine: same
#: arguments as :func:`_run_check`, returns a :class:`CheckResult`).
def _run_gx(*args: Any, **options: Any) -> CheckResult:
    from toolkit.gx_check import _run_check

    return _run_check(*args, **options)


ENGINES: dict[str, Any] = {"duckdb": _run_engine, "gx": _run_gx}
