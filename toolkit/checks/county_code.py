"""County-level administrative division code (GB/T 2260), current or retired.

Check ``expect_column_values_to_be_county_code``. The pure function is
:func:`toolkit.regions.is_county_code` (the region list lives there); the SQL looks the value up in the
engine's table ``dq_county`` (:data:`COUNTY_TABLE`, filled with :func:`county_codes`).
"""

from __future__ import annotations

from functools import cache

from toolkit import regions
from toolkit.checks.base import Check, Example
from toolkit.checks.sql import CompiledRule, RuleSql, alias, nn

__all__ = ["CHECK", "COUNTY_TABLE", "TYPE", "county_codes", "is_county_code"]

TYPE = "expect_column_values_to_be_county_code"
#: The engine's table of every county code (one VARCHAR column ``dq_code``).
COUNTY_TABLE = "dq_county"

is_county_code = regions.is_county_code


@cache
def county_codes() -> tuple[str, ...]:
    """Every code :func:`toolkit.regions.is_county_code` accepts."""
    entries = regions._load()[1]
    return tuple(sorted(c for c in entries if regions.is_county_code(c)))


def build_sql(r: RuleSql) -> CompiledRule:
    c, v = r.single()
    a = alias("cty", c)
    join = f"LEFT JOIN {COUNTY_TABLE} {a} ON {a}.dq_code = t.{v}"
    return r.done([c], nn(v, f"{a}.dq_code IS NULL"), joins=[(a, join)])


CHECK = Check(
    type=TYPE,
    sql=build_sql,
    predicate=lambda: is_county_code,
    metric="column_values.dq_county_code",
    doc="A county-level GB/T 2260 code, current or retired.",
    tags=("china", "region"),
    examples=(
        Example(("420102", "110105", "420100", "999999", "42010", "4201021", "420102 ", "000000", "４20102")),
    ),
)
