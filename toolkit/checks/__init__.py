"""The custom checks, one module each, and the registry of every expectation type a pack may use.

Each check module (``toolkit/checks/<name>.py``) holds side by side its constants, its pure Python
function(s), its SQL builder for the count engine and a :class:`~toolkit.checks.base.Check` named
``CHECK`` declaring its expectation type, keywords and defaults, Great Expectations metric and docstring.
Everything else derives from the registry here:

* :data:`CHECKS` — expectation type → custom check, in :data:`CHECK_MODULES` order;
  :mod:`toolkit.gx_expectations` makes and registers their Great Expectations classes;
* :data:`RULE_TYPES` — every allowed type (GX core types of :mod:`toolkit.checks.core` and the custom
  checks) → its declaration; :mod:`toolkit.sqlcompile` derives the keyword allow-list (``TYPE_KWARGS``),
  the compiled types (``ENGINE_TYPES``), the compiler's dispatch table and the DuckDB macros from it.

Adding a check: write ``toolkit/checks/<name>.py`` with a ``CHECK`` (copy ``share_prefix.py``) and add
``"<name>"`` to :data:`CHECK_MODULES`. ``tests/test_checks.py`` then runs its examples through the pure
function, the SQL and Great Expectations. Importing this package does not import Great Expectations or
DuckDB.
"""

from __future__ import annotations

import importlib

from toolkit.checks import core
from toolkit.checks.base import Check, RuleType

__all__ = ["CHECKS", "CHECK_MODULES", "RULE_TYPES", "Check", "RuleType"]

#: One line per custom check: the module under ``toolkit/checks/`` that defines its ``CHECK``.
CHECK_MODULES = (
    "citizen_id",
    "credit_code",
    "unit_number",
    "clean_text",
    "county_code",
    "datetime_text",
    "plausible_datetime",
    "decimal_in_range",
    "integer_text",
    "time_order",
    "working_time_limit",
    "share_prefix",
    # housing provident fund (gjj) needs, usable by any pack
    "date_spelling",
    "month_text",
    "ratio_scale",
    "amount_match",
    "amount_order",
    "prefecture_code",
    # 双公示 (sgs) needs, usable by any pack
    "template_date",
    "month_span",
    "working_days_after",
    "code_list",
    "org_code",
    "party_credit_code",
    "no_personal_data",
    "same_name",
    "org_name",
    "amount_in_wan",
)


def _load_checks() -> dict[str, Check]:
    checks: dict[str, Check] = {}
    for name in CHECK_MODULES:
        check = importlib.import_module(f"{__name__}.{name}").CHECK
        if not isinstance(check, Check):
            raise TypeError(f"toolkit.checks.{name}.CHECK is not a Check")
        if check.type in checks:
            raise ValueError(f"expectation type {check.type} declared twice")
        checks[check.type] = check
    return checks


CHECKS: dict[str, Check] = _load_checks()
RULE_TYPES: dict[str, RuleType] = {t.type: t for t in core.TYPES} | CHECKS
if len(RULE_TYPES) != len(core.TYPES) + len(CHECKS):
    raise ValueError("a custom check reuses the name of a Great Expectations core type")
