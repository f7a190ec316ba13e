"""Prefecture-level administrative division code (GB/T 2260, ``xxxx00``, e.g. ``620100`` 兰州市).

Check ``expect_column_values_to_be_prefecture_code``: the code of a prefecture-level unit (地级市、地区、
自治州、盟) in the region list, current or retired — the unit of assessment of packs whose units are
cities (``geographic: prefecture``, :meth:`toolkit.domain.Unit.is_scored`). The pure function is
:func:`toolkit.regions.prefecture_name`; the SQL compares with the list of those codes.
"""

from __future__ import annotations

from functools import cache

from toolkit import regions
from toolkit.checks.base import Check, Example
from toolkit.checks.sql import CompiledRule, RuleSql, literal, nn

__all__ = ["CHECK", "TYPE", "is_prefecture_code", "prefecture_codes"]

TYPE = "expect_column_values_to_be_prefecture_code"


def is_prefecture_code(value: str) -> bool:
    """True if ``value`` is a prefecture-level code of the region list. Never raises."""
    return regions.prefecture_name(value) is not None


@cache
def prefecture_codes() -> tuple[str, ...]:
    """Every code :func:`is_prefecture_code` accepts."""
    return tuple(sorted(c for c in regions._load()[1] if is_prefecture_code(c)))


def build_sql(r: RuleSql) -> CompiledRule:
    c, v = r.single()
    codes = ", ".join(literal(x) for x in prefecture_codes())
    return r.done([c], nn(v, f"{v} NOT IN ({codes})"))


CHECK = Check(
    type=TYPE,
    sql=build_sql,
    predicate=lambda: is_prefecture_code,
    metric="column_values.dq_prefecture_code",
    doc="A prefecture-level GB/T 2260 code (xxxx00), current or retired.",
    tags=("china", "region"),
    examples=(
        Example(("620100", "623000", "420100", "620102", "620000", "629900", "62010", "620100 ", "６20100")),
    ),
)
