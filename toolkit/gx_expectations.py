"""Great Expectations (1.x) classes of the custom checks, made from their declarations in :mod:`toolkit.checks`.

Importing this module makes, for every check of :data:`toolkit.checks.CHECKS`, a metric provider and an
expectation class (:func:`expectation_class`) and so registers them with Great Expectations: suites
stored as JSON name them by ``type``. Each class is also an attribute of this module under its GX name
(``ExpectColumnValuesToBeValidCitizenId`` …). The metric delegates to the check's pure function, which
the count engine's SQL mirrors.

Semantics shared by all of them (as in Great Expectations' own map expectations): an empty cell is
*missing*, never *unexpected* — only ``expect_column_values_to_not_be_null`` reports empties. Column-pair
expectations skip a row where either value is missing (``ignore_row_if`` defaults to
``either_value_is_missing``); the checks themselves skip values they leave to other rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import pandas as pd
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import (
    ColumnMapExpectation,
    ColumnPairMapExpectation,
    Expectation,
)
from great_expectations.expectations.metrics import ColumnMapMetricProvider, column_condition_partial
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnPairMapMetricProvider,
    column_pair_condition_partial,
)

from toolkit.checks import CHECKS, Check

__all__ = ["CUSTOM_EXPECTATION_TYPES", "EXPECTATIONS", "expectation_class"]

_PAIR_DOMAIN_KEYS = (
    "batch_id",
    "table",
    "column_A",
    "column_B",
    "row_condition",
    "condition_parser",
    "ignore_row_if",
)


def _map(column: pd.Series, test: Callable[[str], bool]) -> pd.Series:
    return column.map(lambda v: True if v is None else bool(test(v))).astype(bool)


def _isna(v: object) -> bool:
    return v is None or (isinstance(v, float) and v != v)


def _clean(s: pd.Series) -> pd.Series:
    return s.map(lambda v: None if _isna(v) else str(v)).astype(object)


def _pair(a: pd.Series, b: pd.Series, test: Callable[[str, str], bool]) -> pd.Series:
    a, b = _clean(a), _clean(b)
    out = [True if (x is None or y is None) else bool(test(x, y)) for x, y in zip(a, b, strict=True)]
    return pd.Series(out, index=a.index, dtype=bool)


def _camel(type_name: str) -> str:
    """``expect_column_values_to_be_x`` → ``ExpectColumnValuesToBeX`` (GX snake-cases it back)."""
    return "".join(word.capitalize() for word in type_name.split("_"))


def expectation_class(check: Check) -> type[Expectation]:
    """Make the metric provider and the expectation class of ``check`` (GX registers both on creation).

    Keywords become pydantic fields with the declared types and defaults and are passed to the metric
    (``condition_value_keys``) and to success (``success_keys``, before ``mostly``); pairs also get
    ``ignore_row_if`` with the check's default."""
    names = tuple(p.name for p in check.params)
    fields: dict[str, tuple[Any, Any]] = {p.name: (p.annotation, p.default) for p in check.params}
    if check.pair:

        def condition(cls, column_A, column_B, **kwargs):
            return _pair(column_A, column_B, check.bind(kwargs))

        provider = {"condition_domain_keys": _PAIR_DOMAIN_KEYS}
        provider_base, partial, base = (
            ColumnPairMapMetricProvider,
            column_pair_condition_partial,
            ColumnPairMapExpectation,
        )
        fields["ignore_row_if"] = (str, check.ignore_row_if)
        success_keys = ("column_A", "column_B", *names, "ignore_row_if", "mostly")
    else:

        def condition(cls, column, **kwargs):
            return _map(column, check.bind(kwargs))

        provider = {}
        provider_base, partial, base = ColumnMapMetricProvider, column_condition_partial, ColumnMapExpectation
        success_keys = (*names, "mostly")
    name = _camel(check.type)
    type(
        f"{name}Metric",
        (provider_base,),
        {
            "__module__": __name__,
            "condition_metric_name": check.metric,
            "condition_value_keys": names,
            **provider,
            "_pandas": partial(engine=PandasExecutionEngine)(condition),
        },
    )
    return type(
        name,
        (base,),
        {
            "__module__": __name__,
            "__qualname__": name,
            "__doc__": check.doc,
            "__annotations__": {k: ann for k, (ann, _) in fields.items()}
            | {"library_metadata": ClassVar[dict]},
            **{k: default for k, (_, default) in fields.items()},
            "map_metric": check.metric,
            "success_keys": success_keys,
            "library_metadata": {"tags": list(check.tags), "contributors": ["dq-toolkit"]},
        },
    )


#: Expectation type → its Great Expectations class.
EXPECTATIONS: dict[str, type[Expectation]] = {t: expectation_class(c) for t, c in CHECKS.items()}
globals().update({cls.__name__: cls for cls in EXPECTATIONS.values()})

CUSTOM_EXPECTATION_TYPES = tuple(CHECKS)
