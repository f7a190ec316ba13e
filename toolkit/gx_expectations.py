"""Custom Great Expectations (1.x) expectations for Chinese registration data.

Importing this module registers them with Great Expectations, so that suites stored as JSON can name
them by ``type``. Every check delegates to a pure function in :mod:`toolkit.validators` or
:mod:`toolkit.workdays`; the count engine and the tests use the same functions.

Semantics shared by all of them (as in Great Expectations' own map expectations): an empty cell is
*missing*, never *unexpected* — only ``expect_column_values_to_not_be_null`` reports empties. Column-pair
expectations ignore a row where either value is missing or cannot be read as a date/time: the
datetime rules report those rows, so one bad value is counted once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import pandas as pd
from great_expectations.compatibility import pydantic
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation, ColumnPairMapExpectation
from great_expectations.expectations.metrics import ColumnMapMetricProvider, column_condition_partial
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnPairMapMetricProvider,
    column_pair_condition_partial,
)

from toolkit import validators, workdays

__all__ = ["CUSTOM_EXPECTATION_TYPES"]


def _map(column: pd.Series, fn: Callable[[str], bool]) -> pd.Series:
    return column.map(lambda v: True if v is None else bool(fn(v))).astype(bool)


# ----------------------------------------------------------------------------------- single column


class ColumnValuesValidCitizenId(ColumnMapMetricProvider):
    condition_metric_name = "column_values.dq_valid_citizen_id"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return _map(column, validators.is_citizen_id)


class ExpectColumnValuesToBeValidCitizenId(ColumnMapExpectation):
    """公民身份号码 (GB 11643-1999): 18 characters, MOD 11-2 check digit, a real birth date."""

    map_metric = "column_values.dq_valid_citizen_id"
    success_keys = ("mostly",)
    library_metadata: ClassVar[dict] = {"tags": ["china", "identity"], "contributors": ["dq-toolkit"]}


class ColumnValuesValidCreditCode(ColumnMapMetricProvider):
    condition_metric_name = "column_values.dq_valid_credit_code"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return _map(column, validators.is_credit_code)


class ExpectColumnValuesToBeValidCreditCode(ColumnMapExpectation):
    """统一社会信用代码 (GB 32100-2015): 18 characters, MOD 31 check character."""

    map_metric = "column_values.dq_valid_credit_code"
    success_keys = ("mostly",)
    library_metadata: ClassVar[dict] = {"tags": ["china", "identity"], "contributors": ["dq-toolkit"]}


class ColumnValuesValidUnitNumber(ColumnMapMetricProvider):
    condition_metric_name = "column_values.dq_valid_unit_number"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return _map(column, validators.is_unit_number)


class ExpectColumnValuesToBeValidUnitNumber(ColumnMapExpectation):
    """不动产单元号 (GB/T 37346-2019): the 28-character structure."""

    map_metric = "column_values.dq_valid_unit_number"
    success_keys = ("mostly",)
    library_metadata: ClassVar[dict] = {"tags": ["china", "real-estate"], "contributors": ["dq-toolkit"]}


class ColumnValuesCleanText(ColumnMapMetricProvider):
    condition_metric_name = "column_values.dq_clean_text"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return _map(column, validators.is_clean_text)


class ExpectColumnValuesToBeCleanText(ColumnMapExpectation):
    """No control characters, no leading/trailing or doubled spaces (full-width spaces included)."""

    map_metric = "column_values.dq_clean_text"
    success_keys = ("mostly",)
    library_metadata: ClassVar[dict] = {"tags": ["text"], "contributors": ["dq-toolkit"]}


class ColumnValuesCountyCode(ColumnMapMetricProvider):
    condition_metric_name = "column_values.dq_county_code"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        from toolkit import regions

        return _map(column, regions.is_county_code)


class ExpectColumnValuesToBeCountyCode(ColumnMapExpectation):
    """A county-level GB/T 2260 code, current or retired."""

    map_metric = "column_values.dq_county_code"
    success_keys = ("mostly",)
    library_metadata: ClassVar[dict] = {"tags": ["china", "region"], "contributors": ["dq-toolkit"]}


class ColumnValuesValidDatetimeText(ColumnMapMetricProvider):
    condition_metric_name = "column_values.dq_valid_datetime_text"
    condition_value_keys = ("date_only",)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, date_only=False, **kwargs):
        return _map(column, validators.is_date if date_only else validators.is_datetime)


class ExpectColumnValuesToBeValidDatetimeText(ColumnMapExpectation):
    """Text in ``YYYY-MM-DD HH:MM:SS`` (or ``YYYY-MM-DD``) that names a real date and time."""

    date_only: bool = pydantic.Field(default=False)
    map_metric = "column_values.dq_valid_datetime_text"
    success_keys = ("date_only", "mostly")
    library_metadata: ClassVar[dict] = {"tags": ["datetime"], "contributors": ["dq-toolkit"]}


class ColumnValuesPlausibleDatetime(ColumnMapMetricProvider):
    condition_metric_name = "column_values.dq_plausible_datetime"
    condition_value_keys = ("min_year", "years_ahead")

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, min_year=None, years_ahead=None, **kwargs):
        return _map(column, lambda v: validators.is_plausible_datetime(v, min_year, years_ahead))


class ExpectColumnValuesToBePlausibleDatetime(ColumnMapExpectation):
    """A readable timestamp whose year lies between ``min_year`` and ``years_ahead`` years after the
    current one (a typo such as 2204 fails; unreadable values are left to the format rule)."""

    min_year: int | None = None
    years_ahead: int | None = None
    map_metric = "column_values.dq_plausible_datetime"
    success_keys = ("min_year", "years_ahead", "mostly")
    library_metadata: ClassVar[dict] = {"tags": ["datetime"], "contributors": ["dq-toolkit"]}


class ColumnValuesDecimalInRange(ColumnMapMetricProvider):
    condition_metric_name = "column_values.dq_decimal_in_range"
    condition_value_keys = ("min_value", "max_value", "strict_min", "strict_max")

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, min_value=None, max_value=None, strict_min=False, strict_max=False, **kwargs):
        def check(v: str) -> bool:
            return validators.is_decimal_between(v, min_value, max_value, strict_min, strict_max)

        return _map(column, check)


class ExpectColumnValuesToBeDecimalInRange(ColumnMapExpectation):
    """Text that is a plain decimal number within [min_value, max_value] (bounds optional)."""

    min_value: float | None = None
    max_value: float | None = None
    strict_min: bool = False
    strict_max: bool = False
    map_metric = "column_values.dq_decimal_in_range"
    success_keys = ("min_value", "max_value", "strict_min", "strict_max", "mostly")
    library_metadata: ClassVar[dict] = {"tags": ["numeric"], "contributors": ["dq-toolkit"]}


class ColumnValuesIntegerText(ColumnMapMetricProvider):
    condition_metric_name = "column_values.dq_integer_text"
    condition_value_keys = ("min_value",)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, min_value=0, **kwargs):
        return _map(column, lambda v: validators.is_int_at_least(v, int(min_value)))


class ExpectColumnValuesToBeIntegerText(ColumnMapExpectation):
    """Text that is a whole number ≥ min_value."""

    min_value: int = 0
    map_metric = "column_values.dq_integer_text"
    success_keys = ("min_value", "mostly")
    library_metadata: ClassVar[dict] = {"tags": ["numeric"], "contributors": ["dq-toolkit"]}


# ---------------------------------------------------------------------------------------- pairs


def _pair(a: pd.Series, b: pd.Series, fn: Callable[[str, str], bool]) -> pd.Series:
    out = [True if (x is None or y is None) else bool(fn(x, y)) for x, y in zip(a, b, strict=True)]
    return pd.Series(out, index=a.index, dtype=bool)


def _isna(v: object) -> bool:
    return v is None or (isinstance(v, float) and v != v)


def _clean(s: pd.Series) -> pd.Series:
    return s.map(lambda v: None if _isna(v) else str(v)).astype(object)


class ColumnPairValuesInTimeOrder(ColumnPairMapMetricProvider):
    condition_metric_name = "column_pair_values.dq_in_time_order"
    condition_domain_keys = (
        "batch_id",
        "table",
        "column_A",
        "column_B",
        "row_condition",
        "condition_parser",
        "ignore_row_if",
    )
    condition_value_keys = ("or_equal",)

    @column_pair_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_A, column_B, or_equal=True, **kwargs):
        def check(x: str, y: str) -> bool:
            a, b = validators.parse_datetime(x), validators.parse_datetime(y)
            if a is None or b is None:
                return True
            return a <= b if or_equal else a < b

        return _pair(_clean(column_A), _clean(column_B), check)


class ExpectColumnPairValuesToBeInTimeOrder(ColumnPairMapExpectation):
    """column_A is not later than column_B (strictly earlier when ``or_equal`` is false)."""

    or_equal: bool = True
    ignore_row_if: str = "either_value_is_missing"
    map_metric = "column_pair_values.dq_in_time_order"
    success_keys = ("column_A", "column_B", "or_equal", "ignore_row_if", "mostly")
    library_metadata: ClassVar[dict] = {"tags": ["datetime"], "contributors": ["dq-toolkit"]}


class ColumnPairValuesWithinWorkingTimeLimit(ColumnPairMapMetricProvider):
    condition_metric_name = "column_pair_values.dq_within_working_time_limit"
    condition_domain_keys = (
        "batch_id",
        "table",
        "column_A",
        "column_B",
        "row_condition",
        "condition_parser",
        "ignore_row_if",
    )
    condition_value_keys = ("working_days", "minutes")

    @column_pair_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_A, column_B, working_days=None, minutes=None, **kwargs):
        calendar = workdays.active_calendar()
        lo, hi = validators.plausible_years()

        def check(x: str, y: str) -> bool:
            a, b = validators.parse_datetime(x), validators.parse_datetime(y)
            if a is None or b is None or b < a:
                return True  # unreadable or reversed times are reported by other rules
            if not (lo <= a.year <= hi and lo <= b.year <= hi):
                return True  # an implausible year (a typo such as 2204) is the plausibility rules' business
            if minutes is not None and (b - a).total_seconds() > float(minutes) * 60:
                return False
            return not (working_days is not None and calendar.workdays_elapsed(a, b) > int(working_days))

        return _pair(_clean(column_A), _clean(column_B), check)


class ExpectColumnPairValuesToBeWithinWorkingTimeLimit(ColumnPairMapExpectation):
    """From column_A (accepted) to column_B (registered) within ``working_days`` Chinese working days
    (public holidays and make-up workdays count) and/or within ``minutes`` wall-clock minutes. Rows with
    an unreadable, reversed or implausible time (a year outside :func:`toolkit.validators.plausible_years`)
    are left to the rules that report those."""

    working_days: int | None = None
    minutes: int | None = None
    ignore_row_if: str = "either_value_is_missing"
    map_metric = "column_pair_values.dq_within_working_time_limit"
    success_keys = ("column_A", "column_B", "working_days", "minutes", "ignore_row_if", "mostly")
    library_metadata: ClassVar[dict] = {"tags": ["datetime", "china"], "contributors": ["dq-toolkit"]}


class ColumnPairValuesSharePrefix(ColumnPairMapMetricProvider):
    condition_metric_name = "column_pair_values.dq_share_prefix"
    condition_domain_keys = (
        "batch_id",
        "table",
        "column_A",
        "column_B",
        "row_condition",
        "condition_parser",
        "ignore_row_if",
    )
    condition_value_keys = ("length",)

    @column_pair_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_A, column_B, length=6, **kwargs):
        n = int(length)
        return _pair(_clean(column_A), _clean(column_B), lambda x, y: x[:n] == y[:n])


class ExpectColumnPairValuesToSharePrefix(ColumnPairMapExpectation):
    """The first ``length`` characters of column_A equal those of column_B (e.g. BDCDYH and QXDM)."""

    length: int = 6
    ignore_row_if: str = "either_value_is_missing"
    map_metric = "column_pair_values.dq_share_prefix"
    success_keys = ("column_A", "column_B", "length", "ignore_row_if", "mostly")
    library_metadata: ClassVar[dict] = {"tags": ["consistency"], "contributors": ["dq-toolkit"]}


CUSTOM_EXPECTATION_TYPES = (
    "expect_column_values_to_be_valid_citizen_id",
    "expect_column_values_to_be_valid_credit_code",
    "expect_column_values_to_be_valid_unit_number",
    "expect_column_values_to_be_clean_text",
    "expect_column_values_to_be_county_code",
    "expect_column_values_to_be_valid_datetime_text",
    "expect_column_values_to_be_plausible_datetime",
    "expect_column_values_to_be_decimal_in_range",
    "expect_column_values_to_be_integer_text",
    "expect_column_pair_values_to_be_in_time_order",
    "expect_column_pair_values_to_be_within_working_time_limit",
    "expect_column_pair_values_to_share_prefix",
)
