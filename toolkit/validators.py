"""Pure single-value validators for registration data — the public face of :mod:`toolkit.checks`.

Every name here is defined once, in the module of its check (``toolkit/checks/<check>.py``), and only
re-exported here. Every ``is_*`` / ``parse_*`` function takes one text value and returns a ``bool`` (or
the parsed value / ``None``). They never raise on any ``str`` input, however strange: control characters,
lone surrogates, non-ASCII digits such as ``"١"`` or ``"²"`` (which ``str.isdigit`` would accept) and very
long strings are simply invalid or handled exactly. Only ASCII digits ``0-9`` count as digits.

The two ``*_check_*`` helpers are for generating valid numbers; they raise :class:`ValueError` on a
malformed prefix, because a caller passing one is a programming error.
"""

from __future__ import annotations

from toolkit.checks.citizen_id import (
    CITIZEN_ID_CHECK_CHARS,
    CITIZEN_ID_EARLIEST_BIRTH,
    CITIZEN_ID_WEIGHTS,
    citizen_id_check_digit,
    is_citizen_id,
)
from toolkit.checks.clean_text import is_clean_text
from toolkit.checks.credit_code import (
    CREDIT_CODE_CHARSET,
    CREDIT_CODE_WEIGHTS,
    credit_code_check_char,
    is_credit_code,
)
from toolkit.checks.datetime_text import is_date, is_datetime, parse_date, parse_datetime
from toolkit.checks.decimal_in_range import Bound, is_decimal_between, parse_decimal
from toolkit.checks.integer_text import is_int_at_least
from toolkit.checks.plausible_datetime import (
    DEFAULT_MIN_YEAR,
    DEFAULT_YEARS_AHEAD,
    is_plausible_datetime,
    plausible_years,
)
from toolkit.checks.share_prefix import shares_prefix
from toolkit.checks.time_order import is_in_time_order
from toolkit.checks.unit_number import is_unit_number, unit_number_problem
from toolkit.checks.working_time_limit import is_within_working_time_limit

__all__ = [
    "CITIZEN_ID_CHECK_CHARS",
    "CITIZEN_ID_EARLIEST_BIRTH",
    "CITIZEN_ID_WEIGHTS",
    "CREDIT_CODE_CHARSET",
    "CREDIT_CODE_WEIGHTS",
    "DEFAULT_MIN_YEAR",
    "DEFAULT_YEARS_AHEAD",
    "Bound",
    "citizen_id_check_digit",
    "credit_code_check_char",
    "is_citizen_id",
    "is_clean_text",
    "is_credit_code",
    "is_date",
    "is_datetime",
    "is_decimal_between",
    "is_in_time_order",
    "is_int_at_least",
    "is_plausible_datetime",
    "is_unit_number",
    "is_within_working_time_limit",
    "parse_date",
    "parse_datetime",
    "parse_decimal",
    "plausible_years",
    "shares_prefix",
    "unit_number_problem",
]
