"""The scoring model: indicators, points, scores, grades and ranks as pure functions over rule counts.

The model itself is data: ``expectations/<domain>/scoring.yaml`` (see ``shared/spec/scoring.md``), read
ONCE by :func:`load_scoring` into a :class:`ScoringConfig` — indicators, ``grades`` (best first),
``levels`` (best first, each with a colour), ``pass_grade`` (the lowest grade that meets the standard) and
the pack's unit of assessment. Every other module (history, bulletin, lessons) takes its grades, levels,
colours and "meets the standard" from that object; none reads ``scoring.yaml`` itself.

Per unit of assessment (a pack's :class:`~toolkit.domain.Unit`: a county, a fund centre, an office …)
and period this module computes:

1. a **trace**: one row per (group, unit, indicator, source), where a source is a rule (its
   ``element_count`` / ``unexpected_count``), a table of the rows frame (rows / rows failing), the day's
   registration log, or the problem ledger. Every source contributes ``numerator`` and ``denominator``:
   for a ↑ indicator (direction ``up``) numerator = element − unexpected (what passed), for a ↓ indicator
   numerator = unexpected; denominator = element. Sources with role ``detail`` are only shown (they
   contribute 0), e.g. the validity rules behind ``error_rate``, which is counted per row; so are rules
   that were not evaluated (``evaluated`` false: a table was absent), whatever their counts;
2. **indicator rates**: Σ numerator / Σ denominator of the trace; a zero denominator means *not scored*
   (rate NaN), and its weight is spread over the scored indicators, never counted as 0 or 100;
3. **points** (100 at or beyond the target, 0 at or beyond the floor, linear between) and **levels**;
4. the **score** Σ weight × points / Σ weight over scored indicators, rounded half up to one decimal
   (after rounding to 9 decimals, so that binary noise such as 92.4999999997 does not decide), the
   **grade** of that published score, and the **rank** per period (:func:`rank_scores`: 1 = best, ties
   share the best rank).

Over a longer period (:func:`period_scores`), indicator rates come from the summed daily numerators and
denominators, while the score is the mean of the published daily scores (the headline
"增量数据质量平均分"), rounded half up; its grade is the grade of that mean.

Inputs (all plain DataFrames, so they can come from ``dq check``, the DuckDB engine or a test):

``counts``
    ``<by…>, unit_code[, unit_name], rule_id, element_count, unexpected_count[, evaluated, table, field,
    dimension, severity]`` — one row per group × unit × rule (``CheckResult.counts`` or the engine's
    counts plus a period column).
``rows``
    ``<by…>, unit_code, table, rows, failing_<dimension>…`` — per group × unit × table of the batch, the
    rows read and the rows with at least one failure of a rule of that dimension on that table
    (:func:`row_counts` builds it from a :class:`~toolkit.check.CheckResult`). A table of the batch has an
    entry for every unit of the batch (``rows`` may be 0); an absent table has none.
``ledger``
    ``<by…>, unit_code, problems_due, closed_after_recheck, fixed_before_deadline`` — from the ledger.
``records``
    ``<by…>, unit_code, uploads, accepted_uploads, due_records, timely_records, accepted_records,
    late_records`` — records and uploads judged across batches (:func:`toolkit.timeliness.record_figures`,
    from the history): indicators of kind ``records`` take a numerator and a denominator column, and their
    rate is numerator / denominator whatever their direction.

Units: only the codes the pack scores are scored (:meth:`toolkit.domain.Unit.is_scored`: county codes of
the region list for ``geographic: county``, any non-empty code for non-geographic units); rows that cannot
be attributed to a unit are reported by the pack's own rules, not scored. Names come from
:meth:`~toolkit.domain.Unit.name_of` with the names seen in the data (a ``unit_name`` column of the inputs
or ``unit_names=``). Output frames carry ``unit_code`` and ``unit_name``; files add the pack's legacy
columns (:meth:`toolkit.domain.Domain.with_legacy`) where they are written.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from toolkit import workdays
from toolkit.domain import DIMENSIONS, Domain, Unit, domain_path, load_domain
from toolkit.errors import ConfigError
from toolkit.yamlfile import load_yaml

if TYPE_CHECKING:
    from toolkit.check import CheckResult

__all__ = [
    "KINDS",
    "LEDGER_COLUMNS",
    "RECORD_COLUMNS",
    "UNIT",
    "UNIT_NAME",
    "Explanation",
    "Indicator",
    "ScoreResult",
    "ScoringConfig",
    "explain",
    "grade",
    "indicator_rates",
    "indicator_trace",
    "level",
    "load_scoring",
    "parse_scoring",
    "period_label",
    "period_scores",
    "points",
    "rank_scores",
    "round_half_up",
    "row_counts",
    "score",
    "scores_table",
]

KINDS = ("rules", "rows", "log_days", "ledger", "records")
DIRECTIONS = ("up", "down")
LEDGER_COLUMNS = ("problems_due", "closed_after_recheck", "fixed_before_deadline")
#: Columns of the ``records`` input (kind ``records``: figures of records judged across batches).
RECORD_COLUMNS = (
    "uploads",
    "accepted_uploads",
    "due_records",
    "timely_records",
    "accepted_records",
    "late_records",
)
PERIODS = ("day", "week", "month", "quarter", "year")
#: The unit column of every frame of this module (the pack's unit column is read by the engine / check).
UNIT = "unit_code"
UNIT_NAME = "unit_name"
#: Cell colours of the levels when ``scoring.yaml`` gives none: from best (green) to worst (red).
DEFAULT_LEVEL_COLOURS = ("#c7e9c0", "#ffe8a8", "#f8b4b0")

_COMMON_KEYS = {
    "label_zh",
    "label_en",
    "dimension",
    "direction",
    "weight",
    "target",
    "floor",
    "kind",
    "description_zh",
    "description_en",
}
_KIND_KEYS = {
    "rules": {"rules", "exclude"},
    "rows": {"tables", "failing", "rules", "exclude"},
    "log_days": {"table"},
    "ledger": {"numerator", "denominator"},
    "records": {"numerator", "denominator"},
}
_TOP_KEYS = {"name", "decimals", "grades", "pass_grade", "levels", "indicators", "description_zh"}
_COLOUR_RE = re.compile(r"#[0-9A-Fa-f]{6}")
_ID_RE = re.compile(r"[a-z][a-z0-9_]*")

TRACE_COLUMNS = [
    "indicator",
    "source",
    "kind",
    "role",
    "table",
    "element_count",
    "unexpected_count",
    "evaluated",
    "numerator",
    "denominator",
]


# ============================================================================================ config


@dataclass(frozen=True)
class Indicator:
    """One indicator of the model (see ``scoring.yaml``)."""

    id: str
    label_zh: str
    label_en: str
    dimension: str
    direction: str  # "up": higher is better; "down": lower is better
    weight: float
    target: float
    floor: float
    kind: str = "rules"
    rules: tuple[str, ...] = ()  # rule-id glob patterns
    exclude: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()  # kind rows / log_days
    failing: str = ""  # kind rows: the dimension whose failing rows count
    numerator: str = ""  # kinds ledger, records
    denominator: str = ""  # kinds ledger, records
    description_zh: str = ""
    description_en: str = ""

    def matches(self, rule_id: str) -> bool:
        """True if ``rule_id`` matches one of the indicator's patterns and none of its exclusions."""
        return any(fnmatch.fnmatchcase(rule_id, p) for p in self.rules) and not any(
            fnmatch.fnmatchcase(rule_id, p) for p in self.exclude
        )

    def points(self, rate: float) -> float:
        return points(rate, self.target, self.floor, self.direction)


@dataclass(frozen=True)
class ScoringConfig:
    """The scoring model of a pack, as read ONCE from its ``scoring.yaml`` (:func:`load_scoring`).

    ``grades`` and ``levels``: ``(name, minimum)`` pairs, best first, the last minimum 0 (a score ≥ the
    minimum has that grade; an indicator's points ≥ the minimum have that level). ``pass_grade``: the
    lowest grade that meets the standard (bdc: A4); :meth:`meets` tells whether a grade does.
    ``level_colours``: level → cell colour ``#rrggbb`` (``colour:`` of ``levels``, else a default from
    green to red). ``unit``: the pack's unit of assessment (which codes are scored, their names); ``None``
    for a configuration parsed without a pack (then every non-empty code is scored)."""

    indicators: tuple[Indicator, ...]
    grades: tuple[tuple[str, float], ...]  # (grade, min score), best first
    levels: tuple[tuple[str, float], ...]  # (level, min points), best first
    pass_grade: str = ""
    level_colours: Mapping[str, str] = field(default_factory=dict, hash=False)
    decimals: int = 1
    path: Path | None = None
    name: str = ""
    unit: Unit | None = field(default=None, hash=False)

    @property
    def ids(self) -> list[str]:
        return [i.id for i in self.indicators]

    @property
    def grade_names(self) -> list[str]:
        """The grades, best first."""
        return [g for g, _ in self.grades]

    @property
    def level_names(self) -> list[str]:
        """The indicator levels, best first."""
        return [lv for lv, _ in self.levels]

    @property
    def pass_score(self) -> float:
        """The minimum score of :attr:`pass_grade` (the standard line of charts)."""
        return dict(self.grades)[self.pass_grade]

    @property
    def passing_grades(self) -> list[str]:
        """The grades that meet the standard: the best down to :attr:`pass_grade`."""
        names = self.grade_names
        return names[: names.index(self.pass_grade) + 1]

    def meets(self, grade_value: Any) -> bool:
        """Whether ``grade_value`` is :attr:`pass_grade` or better (``False`` for no grade)."""
        return isinstance(grade_value, str) and grade_value in self.passing_grades

    def level_colour(self, level_value: Any) -> str | None:
        """The cell colour of a level (``None`` for no level)."""
        return self.level_colours.get(level_value) if isinstance(level_value, str) else None

    def indicator(self, ind_id: str) -> Indicator:
        for ind in self.indicators:
            if ind.id == ind_id:
                return ind
        raise KeyError(ind_id)

    def grade(self, score_value: float) -> str | None:
        return grade(score_value, self)

    def level(self, points_value: float) -> str | None:
        return level(points_value, self)

    def is_scored(self, code: Any) -> bool:
        """Whether a unit code is scored (:meth:`toolkit.domain.Unit.is_scored`; without a unit: any
        non-empty text)."""
        if self.unit is not None:
            return self.unit.is_scored(code)
        return isinstance(code, str) and bool(code.strip())

    def unit_name(self, code: Any, seen: Mapping[str, str] | None = None) -> str:
        """A unit's name: ``seen`` (names in the data), then the pack (:meth:`toolkit.domain.Unit.name_of`)."""
        if self.unit is not None:
            return self.unit.name_of(code, dict(seen or {}))
        if code is None or (isinstance(code, float) and code != code):
            return ""
        return str((seen or {}).get(str(code), ""))


def _bad(path: Path | None, key: str, zh: str, en: str, fix_zh: str = "", fix_en: str = "") -> ConfigError:
    return ConfigError(
        f"评分配置项 {key}：{zh}", f"scoring key {key}: {en}", path=path, fix_zh=fix_zh, fix_en=fix_en
    )


def _number(value: Any, path: Path | None, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _bad(path, key, f"应为数字，实际为 {value!r}。", f"must be a number, got {value!r}.")
    return float(value)


def _str_list(value: Any, path: Path | None, key: str, *, allow_empty: bool = False) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _bad(path, key, "应为字符串列表。", "must be a list of strings.")
    if not value and not allow_empty:
        raise _bad(path, key, "不能为空。", "must not be empty.")
    return tuple(value)


def _ladder(
    raw: Any, path: Path | None, key: str, name: str, *, colours: dict[str, str] | None = None
) -> tuple[tuple[str, float], ...]:
    """A list of {<name>: label, min: number}, strictly descending, ending at 0. With ``colours`` (a
    dict to fill), an item may also give ``colour: "#rrggbb"``."""
    if not isinstance(raw, list) or not raw:
        raise _bad(path, key, "应为非空列表。", "must be a non-empty list.")
    allowed = {name, "min", "colour"} if colours is not None else {name, "min"}
    extra = ', colour: "#rrggbb"' if colours is not None else ""
    shape = f"{{{name}: …, min: …{extra}}}"
    out: list[tuple[str, float]] = []
    for i, item in enumerate(raw):
        k = f"{key}[{i}]"
        if not isinstance(item, dict) or not {name, "min"} <= set(item) or set(item) - allowed:
            raise _bad(path, k, f"应写成 {shape}。", f"must be {shape}.")
        label = item[name]
        if not isinstance(label, str) or not label:
            raise _bad(path, f"{k}.{name}", "应为非空文字。", "must be a non-empty string.")
        lo = _number(item["min"], path, f"{k}.min")
        if out and lo >= out[-1][1]:
            raise _bad(
                path,
                f"{k}.min",
                "下限应自上而下严格递减。",
                "minimums must strictly decrease from top to bottom.",
            )
        if label in {lbl for lbl, _ in out}:
            raise _bad(path, f"{k}.{name}", f"{label} 重复。", f"{label} appears twice.")
        if colours is not None and "colour" in item:
            colour = item["colour"]
            if not isinstance(colour, str) or not _COLOUR_RE.fullmatch(colour):
                raise _bad(
                    path,
                    f"{k}.colour",
                    f"颜色应写成 #rrggbb（如 #c7e9c0），实际为 {colour!r}。",
                    f"a colour is #rrggbb (e.g. #c7e9c0), got {colour!r}.",
                )
            colours[label] = colour.lower()
        out.append((label, lo))
    if out[-1][1] != 0:
        raise _bad(
            path,
            f"{key}[{len(out) - 1}].min",
            "最后一级的下限应为 0（覆盖所有得分）。",
            "the last minimum must be 0 so that every score has a grade.",
        )
    return tuple(out)


def _default_colours(levels: Sequence[str], given: dict[str, str]) -> dict[str, str]:
    """Every level's colour: as given, else spread over :data:`DEFAULT_LEVEL_COLOURS` (best → worst)."""
    from toolkit.render import tint

    out = {}
    n = len(levels)
    for i, lv in enumerate(levels):
        if lv in given:
            out[lv] = given[lv]
            continue
        pos = 0 if n == 1 else round(i * (len(DEFAULT_LEVEL_COLOURS) - 1) / (n - 1))
        out[lv] = tint(DEFAULT_LEVEL_COLOURS[pos])
    return out


def _check_patterns(
    patterns: tuple[str, ...], rule_ids: Sequence[str] | None, path: Path | None, key: str
) -> None:
    if rule_ids is None:
        return
    for p in patterns:
        if not any(fnmatch.fnmatchcase(r, p) for r in rule_ids):
            raise _bad(
                path,
                key,
                f"规则模式 {p} 没有匹配到任何规则。",
                f"rule pattern {p} matches no rule of the suites.",
                fix_zh="请核对规则编号（见 suites/*.json 的 meta.rule_id），* 可匹配任意字符。",
                fix_en="check the rule ids (meta.rule_id in suites/*.json); * matches any characters.",
            )


def parse_scoring(
    data: Any,
    *,
    path: Path | None = None,
    rule_ids: Sequence[str] | None = None,
    tables: Sequence[str] | None = None,
    unit: Unit | None = None,
) -> ScoringConfig:
    """Validate a scoring configuration (the parsed YAML) and build a :class:`ScoringConfig`.

    ``rule_ids`` / ``tables``: the domain's rule ids and table codes; when given, every rule pattern must
    match a rule and every table must exist. ``unit``: the pack's unit of assessment. Any problem is a
    :class:`ConfigError` naming ``path`` and the key (e.g. ``indicators.empty_rate.weight``).
    """
    if not isinstance(data, dict):
        raise _bad(path, "(root)", "文件内容应为一个映射。", "the file must hold a mapping.")
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise _bad(
            path, unknown[0], "未知的配置项。", "unknown key.", fix_zh=f"可用：{', '.join(sorted(_TOP_KEYS))}"
        )
    decimals = data.get("decimals", 1)
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 6:
        raise _bad(path, "decimals", "应为 0–6 的整数。", "must be an integer 0–6.")
    grades = _ladder(data.get("grades"), path, "grades", "grade")
    given_colours: dict[str, str] = {}
    levels = _ladder(data.get("levels"), path, "levels", "level", colours=given_colours)
    pass_grade = data.get("pass_grade")
    names = [g for g, _ in grades]
    if not isinstance(pass_grade, str) or pass_grade not in names:
        raise _bad(
            path,
            "pass_grade",
            f"应为 grades 中的一个等级（达到标准的最低等级），实际为 {pass_grade!r}。",
            f"must name one of the grades (the lowest grade that meets the standard), got {pass_grade!r}.",
            fix_zh=f"例如 pass_grade: {names[len(names) // 2]}；可选：{'、'.join(names)}",
            fix_en=f"e.g. pass_grade: {names[len(names) // 2]}; one of {', '.join(names)}",
        )
    raw = data.get("indicators")
    if not isinstance(raw, dict) or not raw:
        raise _bad(
            path,
            "indicators",
            "应为非空映射（指标编号 → 定义）。",
            "must be a non-empty mapping id → definition.",
        )
    indicators: list[Indicator] = []
    for ind_id, spec in raw.items():
        key = f"indicators.{ind_id}"
        if not isinstance(ind_id, str) or not _ID_RE.fullmatch(ind_id):
            raise _bad(
                path,
                key,
                "指标编号只能用小写字母、数字和下划线。",
                "ids are lower-case letters, digits and _.",
            )
        if not isinstance(spec, dict):
            raise _bad(path, key, "应为映射。", "must be a mapping.")
        kind = spec.get("kind", "rules")
        if kind not in KINDS:
            raise _bad(path, f"{key}.kind", f"{kind!r} 无效。", f"{kind!r} is not one of {KINDS}.")
        unknown = sorted(set(spec) - _COMMON_KEYS - _KIND_KEYS[kind])
        if unknown:
            raise _bad(
                path,
                f"{key}.{unknown[0]}",
                f"未知的配置项（kind: {kind}）。",
                f"unknown key for kind {kind}.",
                fix_zh=f"可用：{', '.join(sorted(_COMMON_KEYS | _KIND_KEYS[kind]))}",
            )
        for req in ("label_zh", "dimension", "direction", "weight", "target", "floor"):
            if req not in spec:
                raise _bad(path, f"{key}.{req}", "缺少此项。", "missing.")
        for txt in ("label_zh", "label_en", "description_zh", "description_en"):
            if txt in spec and not isinstance(spec[txt], str):
                raise _bad(path, f"{key}.{txt}", "应为文字。", "must be text.")
        if spec["dimension"] not in DIMENSIONS:
            raise _bad(
                path, f"{key}.dimension", f"{spec['dimension']!r} 无效。", f"must be one of {DIMENSIONS}."
            )
        direction = spec["direction"]
        if direction not in DIRECTIONS:
            raise _bad(
                path, f"{key}.direction", f"{direction!r} 无效，应为 up 或 down。", "must be up or down."
            )
        weight = _number(spec["weight"], path, f"{key}.weight")
        if weight <= 0:
            raise _bad(path, f"{key}.weight", "权重应大于 0。", "must be > 0.", fix_zh="不需要的指标请删除。")
        target = _number(spec["target"], path, f"{key}.target")
        floor = _number(spec["floor"], path, f"{key}.floor")
        for k, v in (("target", target), ("floor", floor)):
            if not 0 <= v <= 1:
                raise _bad(
                    path, f"{key}.{k}", f"比率应在 0 到 1 之间，实际为 {v}。", f"a rate in [0, 1], got {v}."
                )
        if direction == "up" and not target > floor:
            raise _bad(
                path,
                f"{key}.target",
                f"↑ 指标的目标值 {target} 应大于底线 {floor}。",
                f"an up indicator needs target ({target}) > floor ({floor}).",
            )
        if direction == "down" and not target < floor:
            raise _bad(
                path,
                f"{key}.target",
                f"↓ 指标的目标值 {target} 应小于底线 {floor}。",
                f"a down indicator needs target ({target}) < floor ({floor}).",
            )
        extra: dict[str, Any] = {}
        if kind in ("rules", "rows"):
            if kind == "rules" or "rules" in spec:
                extra["rules"] = _str_list(spec.get("rules"), path, f"{key}.rules")
                _check_patterns(extra["rules"], rule_ids, path, f"{key}.rules")
            if "exclude" in spec:
                extra["exclude"] = _str_list(spec["exclude"], path, f"{key}.exclude")
                _check_patterns(extra["exclude"], rule_ids, path, f"{key}.exclude")
        if kind in ("rows", "log_days"):
            tkey = "tables" if kind == "rows" else "table"
            if tkey not in spec:
                raise _bad(path, f"{key}.{tkey}", "缺少此项。", "missing.")
            tabs = _str_list(spec[tkey], path, f"{key}.{tkey}")
            if kind == "log_days" and len(tabs) != 1:
                raise _bad(path, f"{key}.table", "应为一张表。", "must name one table.")
            if tables is not None:
                for t in tabs:
                    if t not in tables:
                        raise _bad(path, f"{key}.{tkey}", f"未知的表 {t}。", f"unknown table {t}.")
            extra["tables"] = tabs
        if kind == "rows":
            failing = spec.get("failing")
            if failing not in DIMENSIONS:
                raise _bad(
                    path, f"{key}.failing", f"{failing!r} 不是规则维度。", f"must be one of {DIMENSIONS}."
                )
            extra["failing"] = failing
        if kind in ("ledger", "records"):
            columns = LEDGER_COLUMNS if kind == "ledger" else RECORD_COLUMNS
            for k in ("numerator", "denominator"):
                if spec.get(k) not in columns:
                    raise _bad(
                        path,
                        f"{key}.{k}",
                        f"{spec.get(k)!r} 不是{'台账' if kind == 'ledger' else '记录统计'}列。",
                        f"must be a {kind} column, one of {columns}.",
                    )
                extra[k] = spec[k]
            if extra["numerator"] == extra["denominator"]:
                raise _bad(
                    path, f"{key}.numerator", "分子与分母不能相同。", "numerator and denominator differ."
                )
        indicators.append(
            Indicator(
                id=ind_id,
                label_zh=spec["label_zh"],
                label_en=spec.get("label_en", ind_id),
                dimension=spec["dimension"],
                direction=direction,
                weight=weight,
                target=target,
                floor=floor,
                kind=kind,
                description_zh=spec.get("description_zh", ""),
                description_en=spec.get("description_en", ""),
                **extra,
            )
        )
    total = sum(i.weight for i in indicators)
    if abs(total - 100) > 1e-6:
        raise _bad(
            path,
            "indicators.*.weight",
            f"权重合计应为 100，实际为 {total:g}。",
            f"weights must sum to 100, they sum to {total:g}.",
        )
    return ScoringConfig(
        indicators=tuple(indicators),
        grades=grades,
        levels=levels,
        pass_grade=pass_grade,
        level_colours=_default_colours([lv for lv, _ in levels], given_colours),
        decimals=decimals,
        path=path,
        name=str(data.get("name", "")),
        unit=unit,
    )


def load_scoring(domain: str | Path | Domain, path: str | Path | None = None) -> ScoringConfig:
    """THE reader of a pack's scoring model: read and validate ``scoring.yaml`` of the domain pack
    ``domain`` (a shipped pack's name, a pack folder or a loaded :class:`~toolkit.domain.Domain`) — or
    the file ``path`` — checking its rule patterns and tables against the pack's suites and dictionary,
    with the pack's unit of assessment attached."""
    dom = domain if isinstance(domain, Domain) else load_domain(domain)
    p = Path(path) if path is not None else domain_path(dom.path) / "scoring.yaml"
    data = load_yaml(p)
    return parse_scoring(
        data, path=p, rule_ids=[r.rule_id for r in dom.rules], tables=list(dom.tables), unit=dom.unit
    )


# ============================================================================================ maths


def points(rate: float, target: float, floor: float, direction: str) -> float:
    """Points of one rate: 100 at or beyond ``target``, 0 at or beyond ``floor``, linear between.
    NaN (not scored) stays NaN."""
    if rate is None or (isinstance(rate, float) and math.isnan(rate)):
        return math.nan
    if direction == "up":
        if rate >= target:
            return 100.0
        if rate <= floor:
            return 0.0
        return 100.0 * (rate - floor) / (target - floor)
    if direction == "down":
        if rate <= target:
            return 100.0
        if rate >= floor:
            return 0.0
        return 100.0 * (floor - rate) / (floor - target)
    raise ValueError(f"direction must be up or down, not {direction!r}")


def _points_vec(rate: pd.Series, target: pd.Series, floor: pd.Series, up: pd.Series) -> pd.Series:
    r, t, f = rate.to_numpy(float), target.to_numpy(float), floor.to_numpy(float)
    u = up.to_numpy(bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        lin = np.where(u, (r - f) / (t - f), (f - r) / (f - t)) * 100.0
        good = np.where(u, r >= t, r <= t)
        bad = np.where(u, r <= f, r >= f)
    out = np.where(good, 100.0, np.where(bad, 0.0, lin))
    out = np.where(np.isnan(r), np.nan, out)
    return pd.Series(out, index=rate.index)


def round_half_up(value: float, decimals: int = 1) -> float:
    """Round half up (四舍五入), after rounding to 9 decimals to cancel binary noise: 92.45 → 92.5,
    92.44999999999 → 92.4 only if the noise is above 1e-9. NaN stays NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    clean = Decimal(repr(round(float(value), 9)))
    return float(clean.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def _need_config(config: ScoringConfig | None) -> ScoringConfig:
    if not isinstance(config, ScoringConfig):
        raise TypeError("config must be the ScoringConfig of the pack (toolkit.scoring.load_scoring(domain))")
    return config


def grade(score_value: float, config: ScoringConfig) -> str | None:
    """The overall grade of a score on the pack's scale (``grades``); ``None`` for NaN (nothing scored)."""
    cfg = _need_config(config)
    if score_value is None or (isinstance(score_value, float) and math.isnan(score_value)):
        return None
    for label, lo in cfg.grades:
        if score_value >= lo:
            return label
    return cfg.grades[-1][0]


def level(points_value: float, config: ScoringConfig) -> str | None:
    """The indicator level of points on the pack's scale (``levels``); ``None`` for NaN (not scored)."""
    cfg = _need_config(config)
    if points_value is None or (isinstance(points_value, float) and math.isnan(points_value)):
        return None
    for label, lo in cfg.levels:
        if points_value >= lo:
            return label
    return cfg.levels[-1][0]


def rank_scores(scores: pd.Series, groups: pd.Series | Sequence[pd.Series] | None = None) -> pd.Series:
    """Ranks of published scores (1 = best, ties share the best rank: 1, 1, 3), per group when
    ``groups`` (e.g. the period column) is given; a missing score has no rank. Returns ``Int64``."""
    values = pd.to_numeric(scores, errors="coerce")
    if values.empty:
        return pd.Series(dtype="Int64", index=values.index)
    if groups is None:
        r = values.rank(method="min", ascending=False)
    else:
        r = values.groupby(groups, dropna=False).rank(method="min", ascending=False)
    return r.round().astype("Int64")


# ============================================================================================ inputs


def row_counts(
    result: CheckResult, *, period: str | None = None, units: Iterable[str] | None = None
) -> pd.DataFrame:
    """The ``rows`` frame of one checked batch: per unit × table of the batch, ``rows`` and
    ``failing_<dimension>`` (rows with at least one unexpected row of an evaluated rule of that
    dimension whose ``meta.table`` is that table; view rules report the base table's row) and
    ``failing_any``. A row's unit is its table's unit column (:meth:`toolkit.domain.Unit.column_of`).
    ``period`` adds a ``period`` column; ``units`` adds units of a roster that the batch does not contain
    (with 0 rows)."""
    from toolkit.loading import ROW_COLUMN

    unit = result.domain.unit
    frames = {code: t.frame for code, t in result.batch.tables.items()}
    all_units = sorted(
        {
            u
            for code, f in frames.items()
            if unit.column_of(code) in f.columns
            for u in f[unit.column_of(code)].fillna("").unique()
        }
        | set(units or ())
    )
    failing: dict[str, dict[str, set[str]]] = {}
    for res in result.results.values():
        if res.error or not res.unexpected_rows:
            continue
        per = failing.setdefault(res.rule.table, {})
        per.setdefault(res.rule.dimension, set()).update(res.unexpected_rows)
        per.setdefault("any", set()).update(res.unexpected_rows)
    records = []
    for table, frame in frames.items():
        ucol = unit.column_of(table)
        of_row = (
            frame.set_index(ROW_COLUMN)[ucol].fillna("")
            if ucol in frame.columns
            else pd.Series("", index=frame[ROW_COLUMN])
        )
        n = of_row.value_counts()
        fails = {dim: of_row.loc[sorted(rows)].value_counts() for dim, rows in failing.get(table, {}).items()}
        for u in all_units:
            rec: dict[str, Any] = {UNIT: u, "table": table, "rows": int(n.get(u, 0))}
            for dim in (*DIMENSIONS, "any"):
                rec[f"failing_{dim}"] = int(fails[dim].get(u, 0)) if dim in fails else 0
            records.append(rec)
    cols = [UNIT, "table", "rows", *(f"failing_{d}" for d in (*DIMENSIONS, "any"))]
    out = pd.DataFrame.from_records(records, columns=cols)
    if period is not None:
        out.insert(0, "period", period)
    return out


def _as_list(by: str | Sequence[str]) -> list[str]:
    return [by] if isinstance(by, str) else list(by)


def _need(frame: pd.DataFrame, cols: Iterable[str], what: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} frame lacks column(s): {', '.join(missing)}")


def _keep(frame: pd.DataFrame, units: Iterable[str] | None, cfg: ScoringConfig) -> pd.DataFrame:
    """The rows of the scored units: ``units`` when given, else the codes the pack scores."""
    if frame.empty:
        return frame
    q = frame[UNIT]
    if units is None:
        keep = [c for c in q.dropna().unique() if cfg.is_scored(c)]
    else:
        keep = list(units)
    return frame.loc[q.isin(keep).to_numpy(bool)]


def _seen_names(frames: Iterable[pd.DataFrame | None], given: Mapping[str, str] | None) -> dict[str, str]:
    """Unit names seen in the data: ``given`` first, then any ``unit_name`` column of the frames."""
    out = {str(k): str(v) for k, v in (given or {}).items() if isinstance(v, str) and v}
    for f in frames:
        if f is None or f.empty or UNIT_NAME not in f.columns:
            continue
        pairs = f[[UNIT, UNIT_NAME]].dropna().drop_duplicates(UNIT)
        for code, name in zip(pairs[UNIT], pairs[UNIT_NAME], strict=True):
            if isinstance(name, str) and name:
                out.setdefault(str(code), name)
    return out


def _bools(values: pd.Series) -> pd.Series:
    """``evaluated`` as booleans, also when read back from a CSV file as text ("True"/"False")."""
    if values.dtype == bool:
        return values
    text = values.astype(str).str.strip().str.lower()
    return text.isin(["true", "1", "yes", "是"])


def _as_date(value: Any) -> dt.date | None:
    """A day (``YYYY-MM-DD…`` text, a date or datetime), else ``None``."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


# ============================================================================================ trace


def indicator_trace(
    counts: pd.DataFrame,
    rows: pd.DataFrame | None = None,
    ledger: pd.DataFrame | None = None,
    *,
    config: ScoringConfig,
    by: str | Sequence[str] = ("period",),
    units: Iterable[str] | None = None,
    records: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every number behind every indicator: one row per group × unit × indicator × source with
    ``element_count``, ``unexpected_count``, ``numerator``, ``denominator`` (see the module docstring).
    Columns: ``<by…>, unit_code, indicator, source, kind, role, table, element_count, unexpected_count,
    evaluated, numerator, denominator``."""
    cfg = _need_config(config)
    by = _as_list(by)
    keys = [*by, UNIT]
    parts: list[pd.DataFrame] = []
    direction = {i.id: i.direction for i in cfg.indicators}

    # --- rules
    _need(counts, [*keys, "rule_id", "element_count", "unexpected_count"], "counts")
    c = _keep(counts, units, cfg)
    rule_ids = sorted(c["rule_id"].unique()) if not c.empty else []
    pairs = []
    for ind in cfg.indicators:
        if ind.kind == "rules":
            pairs += [(r, ind.id, "count") for r in rule_ids if ind.matches(r)]
        elif ind.kind == "rows" and ind.rules:
            pairs += [(r, ind.id, "detail") for r in rule_ids if ind.matches(r)]
    if pairs:
        mapping = pd.DataFrame(pairs, columns=["rule_id", "indicator", "role"])
        m = c.merge(mapping, on="rule_id", how="inner")
        if "dimension" in m.columns:  # detail rules of a rows indicator: only its failing dimension
            failing = {i.id: i.failing for i in cfg.indicators if i.kind == "rows"}
            keep = (m["role"] == "count") | (m["dimension"] == m["indicator"].map(failing))
            m = m.loc[keep]
        part = pd.DataFrame(
            {
                **{k: m[k] for k in keys},
                "indicator": m["indicator"],
                "source": m["rule_id"],
                "kind": "rule",
                "role": m["role"],
                "table": m["table"] if "table" in m.columns else "",
                "element_count": m["element_count"].astype("int64"),
                "unexpected_count": m["unexpected_count"].astype("int64"),
                "evaluated": _bools(m["evaluated"]) if "evaluated" in m.columns else True,
            }
        )
        parts.append(part)

    # --- rows and log days
    if rows is not None:
        _need(rows, [*keys, "table", "rows"], "rows")
        rw = _keep(rows, units, cfg)
        for ind in cfg.indicators:
            if ind.kind == "rows":
                col = f"failing_{ind.failing}"
                _need(rows, [col], "rows")
                sub = rw.loc[rw["table"].isin(ind.tables)]
                parts.append(
                    pd.DataFrame(
                        {
                            **{k: sub[k] for k in keys},
                            "indicator": ind.id,
                            "source": sub["table"],
                            "kind": "rows",
                            "role": "count",
                            "table": sub["table"],
                            "element_count": sub["rows"].astype("int64"),
                            "unexpected_count": sub[col].astype("int64"),
                            "evaluated": True,
                        }
                    )
                )
            elif ind.kind == "log_days":
                parts.append(_log_days(rw, ind, by))

    # --- ledger: only for groups (batches) that exist in counts or rows
    if ledger is not None:
        parts.append(_ledger_trace(ledger, cfg, keys, units, _groups([c, rows], keys)))
    if records is not None:  # records judged across batches: likewise only for existing groups
        parts.append(_ledger_trace(records, cfg, keys, units, _groups([c, rows], keys), kind="records"))

    parts = [p for p in parts if not p.empty]
    if parts:
        trace = pd.concat(parts, ignore_index=True)
    else:
        trace = pd.DataFrame(columns=[*keys, *TRACE_COLUMNS[:-2]])
    return _finish_trace(trace, keys, direction)


def _ledger_trace(
    ledger: pd.DataFrame,
    cfg: ScoringConfig,
    keys: list[str],
    units: Iterable[str] | None,
    groups: pd.DataFrame,
    kind: str = "ledger",
) -> pd.DataFrame:
    """Trace rows of the ledger indicators (``kind`` ``records``: of the indicators of records judged
    across batches, from the ``records`` frame), for the (group, unit) pairs of ``groups`` only: a
    deadline on a day without a batch does not make a daily score of its own. A ``records`` indicator's
    rate is numerator / denominator in either direction."""
    _need(ledger, [*keys, *(LEDGER_COLUMNS if kind == "ledger" else RECORD_COLUMNS)], kind)
    lg = _keep(ledger, units, cfg)
    if lg.empty or groups.empty:
        return pd.DataFrame()
    lg = lg.merge(groups, on=keys, how="inner")
    parts = []
    for ind in cfg.indicators:
        if ind.kind != kind:
            continue
        den = lg[ind.denominator].astype("int64")
        num = lg[ind.numerator].astype("int64")
        if ((num > den) | (num < 0)).any():
            raise ValueError(f"{kind}: {ind.numerator} must be between 0 and {ind.denominator}")
        parts.append(
            pd.DataFrame(
                {
                    **{k: lg[k] for k in keys},
                    "indicator": ind.id,
                    "source": kind,
                    "kind": kind,
                    "role": "count",
                    "table": "",
                    "element_count": den,
                    "unexpected_count": num if kind == "records" and ind.direction == "down" else den - num,
                    "evaluated": True,
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _finish_trace(trace: pd.DataFrame, keys: list[str], direction: dict[str, str]) -> pd.DataFrame:
    trace = trace.copy()
    for col in ("element_count", "unexpected_count"):
        trace[col] = trace[col].astype("int64")
    trace["evaluated"] = trace["evaluated"].astype(bool)
    # a rule that was not evaluated contributes nothing, whatever its counts say
    count = ((trace["role"] == "count") & trace["evaluated"]).to_numpy(bool)
    up = (trace["indicator"].map(direction) == "up").to_numpy()
    elem = trace["element_count"].to_numpy()
    unexp = trace["unexpected_count"].to_numpy()
    trace["numerator"] = np.where(count, np.where(up, elem - unexp, unexp), 0).astype("int64")
    trace["denominator"] = np.where(count, elem, 0).astype("int64")
    trace["table"] = trace["table"].fillna("").astype(str)
    order = {d: i for i, d in enumerate(direction)}
    trace["_o"] = trace["indicator"].map(order)
    trace = trace.sort_values([*keys, "_o", "role", "source"], kind="stable").drop(columns="_o")
    return trace[[*keys, *TRACE_COLUMNS]].reset_index(drop=True)


def _log_days(rw: pd.DataFrame, ind: Indicator, by: list[str]) -> pd.DataFrame:
    """Per group × unit of the rows frame: 1 working day (element) and whether the log table had
    no row of that unit (unexpected). A group whose batch lacks the table is not measured; a
    group that is not a working day (its first ``by`` value is a date off work) is not counted."""
    table = ind.tables[0]
    keys = [*by, UNIT]
    if rw.empty:
        return pd.DataFrame()
    has_table = rw.assign(_t=rw["table"] == table).groupby(by, dropna=False)["_t"].any() if by else None
    logged = (
        rw.assign(_n=np.where(rw["table"] == table, rw["rows"], 0)).groupby(keys, dropna=False)["_n"].sum()
    )
    frame = logged.reset_index()
    if by:
        frame = frame.merge(has_table.rename("_has").reset_index(), on=by, how="left")
    else:
        frame["_has"] = bool((rw["table"] == table).any())
    cal = workdays.active_calendar()
    if by:
        flags = {}
        for v in frame[by[0]].unique():
            d = _as_date(v)
            flags[v] = True if d is None else cal.is_workday(d)  # a group that is not a day: counted
        work = frame[by[0]].map(flags).astype(bool)
    else:
        work = pd.Series(True, index=frame.index)
    elem = (frame["_has"].astype(bool) & work).astype("int64")
    unexp = (elem.astype(bool) & (frame["_n"] == 0)).astype("int64")
    return pd.DataFrame(
        {
            **{k: frame[k] for k in keys},
            "indicator": ind.id,
            "source": table,
            "kind": "log_days",
            "role": "count",
            "table": table,
            "element_count": elem,
            "unexpected_count": unexp,
            "evaluated": frame["_has"].astype(bool),
        }
    )


# ============================================================================================ rates, scores


def _rates_from_trace(
    trace: pd.DataFrame, groups: pd.DataFrame, keys: list[str], cfg: ScoringConfig
) -> pd.DataFrame:
    """One row per group × unit × indicator (every indicator, scored or not)."""
    ind_frame = pd.DataFrame(
        {
            "indicator": [i.id for i in cfg.indicators],
            "label_zh": [i.label_zh for i in cfg.indicators],
            "dimension": [i.dimension for i in cfg.indicators],
            "direction": [i.direction for i in cfg.indicators],
            "weight": [i.weight for i in cfg.indicators],
            "target": [i.target for i in cfg.indicators],
            "floor": [i.floor for i in cfg.indicators],
        }
    )
    base = groups.merge(ind_frame, how="cross")
    if trace.empty:
        sums = pd.DataFrame(
            columns=[*keys, "indicator", "numerator", "denominator", "rules", "not_evaluated"]
        )
    else:
        agg = trace.groupby([*keys, "indicator"], dropna=False, sort=False)
        sums = agg[["numerator", "denominator"]].sum()
        sums = sums.reset_index()
        sums = sums.merge(_rule_lists(trace, [*keys, "indicator"]), on=[*keys, "indicator"], how="left")
    out = base.merge(sums, on=[*keys, "indicator"], how="left")
    out["numerator"] = out["numerator"].fillna(0).astype("int64")
    out["denominator"] = out["denominator"].fillna(0).astype("int64")
    out["rules"] = out["rules"].fillna("").astype(str)
    out["not_evaluated"] = out["not_evaluated"].fillna("").astype(str)
    den = out["denominator"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["rate"] = np.where(den > 0, out["numerator"].to_numpy(float) / den, np.nan)
    out["scored"] = den > 0
    out["points"] = _points_vec(out["rate"], out["target"], out["floor"], out["direction"] == "up")
    out["level"] = out["points"].map(lambda p: level(p, cfg))
    scored_weight = out["weight"].where(out["scored"], 0.0)
    total = scored_weight.groupby([out[k] for k in keys], dropna=False).transform("sum")
    with np.errstate(invalid="ignore", divide="ignore"):
        out["effective_weight"] = np.where(total > 0, 100.0 * scored_weight / total, np.nan)
    out["contribution"] = np.where(out["scored"], out["effective_weight"] * out["points"] / 100.0, np.nan)
    out["lost"] = np.where(out["scored"], out["effective_weight"] - out["contribution"], np.nan)
    cols = [
        *keys,
        "indicator",
        "label_zh",
        "dimension",
        "direction",
        "numerator",
        "denominator",
        "rate",
        "scored",
        "target",
        "floor",
        "points",
        "level",
        "weight",
        "effective_weight",
        "contribution",
        "lost",
        "rules",
        "not_evaluated",
    ]
    return out[cols]


def _rule_lists(trace: pd.DataFrame, gkeys: list[str]) -> pd.DataFrame:
    """Per group: the evaluated (``rules``) and not evaluated (``not_evaluated``) rule ids, sorted and
    joined with ``;``. Groups share a handful of distinct rule sets, so each set is identified by the sum
    of random 52-bit tags of its members (vectorised) and its text is built once."""
    rr = trace.loc[trace["kind"] == "rule", [*gkeys, "source", "evaluated"]].drop_duplicates()
    if rr.empty:
        return pd.DataFrame(columns=[*gkeys, "rules", "not_evaluated"])
    codes, names = pd.factorize(rr["source"])
    tags = np.random.default_rng(20240305).integers(1, 2**52, len(names), dtype=np.int64)[codes]
    ev = rr["evaluated"].to_numpy(bool)
    tagged = rr[gkeys].assign(_e=np.where(ev, tags, 0), _n=np.where(ev, 0, tags), _code=codes)
    sig = tagged.groupby(gkeys, sort=False, dropna=False)[["_e", "_n"]].sum().reset_index()
    # one representative group per distinct signature pair, and the rule ids of that group
    rep = sig.drop_duplicates(["_e", "_n"])
    members = tagged.merge(rep, on=gkeys, how="inner", suffixes=("", "_sig"))
    texts: dict[tuple[int, int], tuple[str, str]] = {}
    names_list = list(names)
    for (e, n), grp in members.groupby(["_e_sig", "_n_sig"], sort=False):
        ids_ev = sorted(names_list[c] for c, t in zip(grp["_code"], grp["_e"], strict=True) if t)
        ids_nev = sorted(names_list[c] for c, t in zip(grp["_code"], grp["_n"], strict=True) if t)
        texts[(int(e), int(n))] = (";".join(ids_ev), ";".join(ids_nev))
    pairs = list(zip(sig["_e"].tolist(), sig["_n"].tolist(), strict=True))
    sig["rules"] = [texts[p][0] for p in pairs]
    sig["not_evaluated"] = [texts[p][1] for p in pairs]
    return sig[[*gkeys, "rules", "not_evaluated"]]


def _groups(frames: Iterable[pd.DataFrame | None], keys: list[str]) -> pd.DataFrame:
    got = [f[keys] for f in frames if f is not None and not f.empty]
    if not got:
        return pd.DataFrame(columns=keys)
    return pd.concat(got, ignore_index=True).drop_duplicates().sort_values(keys).reset_index(drop=True)


def indicator_rates(
    counts: pd.DataFrame,
    rows: pd.DataFrame | None = None,
    ledger: pd.DataFrame | None = None,
    *,
    config: ScoringConfig,
    by: str | Sequence[str] = ("period",),
    units: Iterable[str] | None = None,
    unit_names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Indicator rates (long): one row per group × unit × indicator with ``numerator``,
    ``denominator``, ``rate`` (NaN = not scored), ``points``, ``level``, weights and the rule ids behind
    it (``rules``; ``not_evaluated`` lists matched rules that could not run)."""
    return score(counts, rows, ledger, by=by, config=config, units=units, unit_names=unit_names).indicators


@dataclass
class ScoreResult:
    """Scores of units per group (day, week, month …), with everything needed to trace them. Every frame
    has ``unit_code`` and ``unit_name`` after the grouping columns."""

    by: list[str]
    config: ScoringConfig
    trace: pd.DataFrame  # see indicator_trace
    indicators: pd.DataFrame  # see indicator_rates
    scores: (
        pd.DataFrame
    )  # <by…>, unit_code, unit_name, score, score_exact, grade, scored_weight, n_days, rank
    daily: pd.DataFrame | None = None  # period results: <by…>, unit_code, unit_name, day, score of each day
    period: str = "day"
    unit_names: dict[str, str] = field(default_factory=dict)  # names seen in the data

    @property
    def keys(self) -> list[str]:
        return [*self.by, UNIT]

    def name_of(self, code: Any) -> str:
        """The name of a unit (names seen in the data, then the pack's)."""
        return self.config.unit_name(code, self.unit_names)


def _named(frame: pd.DataFrame, cfg: ScoringConfig, seen: Mapping[str, str]) -> pd.DataFrame:
    """``frame`` with ``unit_name`` right after ``unit_code`` (replacing any it had)."""
    out = frame.drop(columns=[UNIT_NAME], errors="ignore")
    if UNIT not in out.columns:
        return out
    names = {c: cfg.unit_name(c, seen) for c in out[UNIT].dropna().unique()}
    out.insert(list(out.columns).index(UNIT) + 1, UNIT_NAME, out[UNIT].map(names).fillna("").astype(str))
    return out


def _unit_scores(ind: pd.DataFrame, keys: list[str], cfg: ScoringConfig) -> pd.DataFrame:
    by = keys[:-1]
    g = ind.assign(_w=ind["weight"].where(ind["scored"], 0.0), _c=ind["weight"] * ind["points"].fillna(0.0))
    g = g.assign(_c=g["_c"].where(g["scored"], 0.0))
    agg = g.groupby(keys, dropna=False, sort=True)[["_w", "_c"]].sum().reset_index()
    raw = np.where(agg["_w"] > 0, agg["_c"] / agg["_w"].where(agg["_w"] > 0, 1.0), np.nan)
    out = agg[keys].copy()
    out["score"] = [round_half_up(v, cfg.decimals) for v in raw]
    out["score_exact"] = raw
    out["grade"] = out["score"].map(lambda s: grade(s, cfg))
    out["scored_weight"] = agg["_w"].to_numpy()
    out["n_days"] = (~np.isnan(raw)).astype("int64")
    out["rank"] = rank_scores(out["score"], [out[k] for k in by] if by else None)
    return out


def score(
    counts: pd.DataFrame,
    rows: pd.DataFrame | None = None,
    ledger: pd.DataFrame | None = None,
    *,
    config: ScoringConfig,
    by: str | Sequence[str] = ("period",),
    units: Iterable[str] | None = None,
    unit_names: Mapping[str, str] | None = None,
    records: pd.DataFrame | None = None,
) -> ScoreResult:
    """Score every unit of every group (normally one group = one day's batch). ``config``: the pack's
    model (:func:`load_scoring`); ``units``: the codes to score (default: those the pack scores, see
    :meth:`ScoringConfig.is_scored`); ``unit_names``: names seen in the data (a ``unit_name`` column of
    ``counts`` / ``rows`` is used too); ``records``: figures of records judged across batches (kind
    ``records``)."""
    cfg = _need_config(config)
    by = _as_list(by)
    keys = [*by, UNIT]
    units = list(units) if units is not None else None
    seen = _seen_names([counts, rows], unit_names)
    trace = indicator_trace(counts, rows, ledger, by=by, config=cfg, units=units, records=records)
    # groups = the (batch, unit) pairs of the counts and rows; the ledger only adds figures to them
    groups = _groups([_keep(f, units, cfg) if f is not None else None for f in (counts, rows)], keys)
    ind = _rates_from_trace(trace, groups, keys, cfg)
    return ScoreResult(
        by=by,
        config=cfg,
        trace=_named(trace, cfg, seen),
        indicators=_named(ind, cfg, seen),
        scores=_named(_unit_scores(ind, keys, cfg), cfg, seen),
        unit_names=seen,
    )


# ============================================================================================ periods


_MONTH_RE = re.compile(r"(\d{4})-(\d{2})")


def period_label(day: Any, by: str) -> str:
    """The label of the period a day belongs to: ``2024-03-05`` (day), ``2024-W10`` (ISO week),
    ``2024-03`` (month), ``2024-Q1`` (quarter), ``2024`` (year). A month (``2024-03``: the batch of a
    pack whose ``period`` is ``month``) belongs to its month, quarter and year, not to a day or week."""
    if by not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}, not {by!r}")
    d = _as_date(day)
    if d is None and isinstance(day, str) and (m := _MONTH_RE.fullmatch(day.strip())):
        if by in ("day", "week"):
            raise ValueError(f"a month ({day}) has no {by}: score monthly batches by month, quarter or year")
        d = dt.date(int(m[1]), int(m[2]), 1)
    if d is None:
        raise ValueError(f"not a date: {day!r}")
    if by == "day":
        return d.isoformat()
    if by == "week":
        y, w, _ = d.isocalendar()
        return f"{y}-W{w:02d}"
    if by == "month":
        return f"{d.year}-{d.month:02d}"
    if by == "quarter":
        return f"{d.year}-Q{(d.month - 1) // 3 + 1}"
    return str(d.year)


def period_scores(
    daily: ScoreResult,
    by: str = "month",
    *,
    ledger: pd.DataFrame | None = None,
    period_col: str = "period",
    units: Iterable[str] | None = None,
    records: pd.DataFrame | None = None,
) -> ScoreResult:
    """Scores of weeks / months / … from daily scores (or monthly scores of a monthly pack).

    The score of a unit in a period is the mean of its published daily scores (days with a score),
    rounded half up; its grade is the grade of that mean and the rank is per period. Indicator rates,
    points and levels of the period come from the summed daily numerators and denominators (the
    trace is summed over the days). ``ledger``: figures of the ledger per period (labels of
    :func:`period_label`, e.g. ``toolkit.ledger.ledger_figures(path, "month")``); they replace the summed
    daily ledger figures, so that problems due on a day without a batch count too. ``records``: likewise,
    figures of records judged across batches per period (:func:`toolkit.timeliness.record_figures`)."""
    if period_col not in daily.by:
        raise ValueError(f"the daily scores are not grouped by {period_col!r} (by = {daily.by})")
    if by not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}, not {by!r}")
    cfg = daily.config
    keys = daily.keys
    units = list(units) if units is not None else None
    labels = {v: period_label(v, by) for v in daily.scores[period_col].unique()}
    labels.update({v: period_label(v, by) for v in daily.trace[period_col].unique()})

    trace = daily.trace.drop(columns=[UNIT_NAME], errors="ignore")
    trace[period_col] = trace[period_col].map(labels)
    sum_cols = ["element_count", "unexpected_count", "numerator", "denominator"]
    grp = [*keys, "indicator", "source", "kind", "role", "table"]
    if trace.empty:
        ptrace = trace
    else:
        agg = trace.groupby(grp, dropna=False, sort=False)
        ptrace = agg[sum_cols].sum().join(agg["evaluated"].any()).reset_index()
    direction = {i.id: i.direction for i in cfg.indicators}
    groups = daily.scores[keys].copy()
    groups[period_col] = groups[period_col].map(labels)
    groups = groups.drop_duplicates().sort_values(keys).reset_index(drop=True)
    if ledger is not None:
        ptrace = ptrace.loc[ptrace["kind"] != "ledger"]
        extra = _ledger_trace(ledger, cfg, keys, units, groups)
        if not extra.empty:
            ptrace = pd.concat([ptrace, extra], ignore_index=True)
    if records is not None:
        ptrace = ptrace.loc[ptrace["kind"] != "records"]
        extra = _ledger_trace(records, cfg, keys, units, groups, kind="records")
        if not extra.empty:
            ptrace = pd.concat([ptrace, extra], ignore_index=True)
    if not ptrace.empty:
        ptrace = _finish_trace(ptrace, keys, direction)

    ds = daily.scores.loc[daily.scores["score"].notna()].copy()
    days = ds.rename(columns={period_col: "day"})
    days.insert(0, period_col, days["day"].map(labels))
    days = days[[period_col, *[k for k in keys if k != period_col], "day", "score"]].reset_index(drop=True)

    ind = _rates_from_trace(ptrace, groups, keys, cfg)

    wsum = ind.assign(_w=ind["weight"].where(ind["scored"], 0.0)).groupby(keys, dropna=False)["_w"].sum()
    mean = days.groupby(keys, dropna=False)["score"].agg(["mean", "size"])
    out = groups.merge(mean.reset_index(), on=keys, how="left")
    out["score_exact"] = out["mean"]
    out["score"] = [round_half_up(v, cfg.decimals) for v in out["mean"]]
    out["grade"] = out["score"].map(lambda s: grade(s, cfg))
    out = out.merge(wsum.rename("scored_weight").reset_index(), on=keys, how="left")
    out["n_days"] = out["size"].fillna(0).astype("int64")
    out = out.drop(columns=["mean", "size"])
    out["rank"] = rank_scores(out["score"], [out[k] for k in daily.by] if daily.by else None)
    out = out[[*keys, "score", "score_exact", "grade", "scored_weight", "n_days", "rank"]]
    seen = daily.unit_names
    return ScoreResult(
        by=daily.by,
        config=cfg,
        trace=_named(ptrace, cfg, seen),
        indicators=_named(ind, cfg, seen),
        scores=_named(out, cfg, seen),
        daily=_named(days, cfg, seen),
        period=by,
        unit_names=dict(seen),
    )


# ============================================================================================ outputs


def scores_table(result: ScoreResult, *, period_col: str = "period") -> pd.DataFrame:
    """The ``scores.csv`` frame: ``unit_code, unit_name, period, <indicator ids…>, score, grade, rank``
    (indicator columns are rates in [0, 1], empty = not scored), then ``n_days, scored_weight,
    <id>_level…`` and any other grouping columns. The file adds the pack's legacy columns
    (:meth:`toolkit.domain.Domain.with_legacy`, the columns ``legacy_columns`` of ``domain.yaml``)."""
    if period_col not in result.by:
        raise ValueError(f"the result is not grouped by {period_col!r} (by = {result.by})")
    keys = result.keys
    cfg = result.config
    wide = result.indicators.pivot(index=keys, columns="indicator", values="rate")
    levels = result.indicators.pivot(index=keys, columns="indicator", values="level")
    wide = wide.reindex(columns=cfg.ids)
    levels = levels.reindex(columns=cfg.ids).rename(columns=lambda c: f"{c}_level")
    base = result.scores.drop(columns=[UNIT_NAME], errors="ignore").set_index(keys)
    table = base.join(wide, how="left").join(levels, how="left").reset_index()
    table = _named(table, cfg, result.unit_names)
    other = [k for k in result.by if k != period_col]
    cols = [
        UNIT,
        UNIT_NAME,
        period_col,
        *cfg.ids,
        "score",
        "grade",
        "rank",
        "n_days",
        "scored_weight",
        *[f"{i}_level" for i in cfg.ids],
        *other,
    ]
    table = table[cols].rename(columns={period_col: "period"})
    table = table.sort_values(["period", *other, "rank", UNIT], na_position="last", kind="stable")
    return table.reset_index(drop=True)


@dataclass
class Explanation:
    """How one unit's score in one period came about."""

    unit_code: str
    unit_name: str
    period: Any
    score: float
    grade: str | None
    rank: int | None
    n_days: int
    indicators: pd.DataFrame  # one row per indicator: numerator, denominator, rate, points, level …
    sources: pd.DataFrame  # the trace: one row per indicator × source (rule, table, log, ledger)
    daily: pd.DataFrame | None = None  # period results: the daily scores averaged
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def district(self) -> str:
        """The unit's code (the name of earlier versions, kept for notebooks)."""
        return self.unit_code

    @property
    def district_name(self) -> str:
        """The unit's name (the name of earlier versions, kept for notebooks)."""
        return self.unit_name

    def weakest(self, n: int = 3) -> pd.DataFrame:
        """The scored indicators that lost most points, with the rules behind them (a loss below 1e-9
        points is floating-point noise of an indicator at its target, not a weakness)."""
        ind = self.indicators.loc[self.indicators["scored"] & (self.indicators["lost"] > 1e-9)]
        return ind.sort_values("lost", ascending=False, kind="stable").head(n)

    def text(self) -> str:
        """A plain-text account (Chinese first) that a reader can check by hand."""
        lines = [
            f"{self.unit_code} {self.unit_name} {self.period}：得分 / score {self.score}，"
            f"等级 / grade {self.grade}，排名 / rank {self.rank}",
        ]
        if self.daily is not None:
            vals = ", ".join(f"{s:g}" for s in self.daily["score"])
            lines.append(
                f"  周期得分 = {self.n_days} 个日得分的平均 / mean of {self.n_days} daily scores: {vals}"
            )
        for r in self.indicators.itertuples(index=False):
            if not r.scored:
                lines.append(
                    f"  {r.indicator} {r.label_zh}: 不参评 / not scored (分母为 0 / zero denominator)"
                )
                continue
            lines.append(
                f"  {r.indicator} {r.label_zh}: {r.numerator}/{r.denominator} = {r.rate:.6f} → "
                f"{r.points:.2f} 分 ({r.level})，权重 {r.effective_weight:.2f}，贡献 {r.contribution:.2f}"
            )
            src = self.sources.loc[(self.sources["indicator"] == r.indicator)]
            for s in src.itertuples(index=False):
                if s.role == "count" and s.denominator == 0 and s.unexpected_count == 0:
                    continue
                if s.role == "detail" and s.unexpected_count == 0:
                    continue
                tag = "" if s.role == "count" else " (明细 / detail)"
                lines.append(f"      {s.source}{tag}: 适用 {s.element_count}，问题 {s.unexpected_count}")
        return "\n".join(lines)


def explain(result: ScoreResult, unit_code: str, period: Any, *, period_col: str = "period") -> Explanation:
    """Each indicator's numerator, denominator, rate, points and level for one unit and period, with the
    sources (rules and their counts) behind it."""
    if period_col not in result.by:
        raise ValueError(f"the result is not grouped by {period_col!r} (by = {result.by})")

    def pick(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.loc[(frame[UNIT] == unit_code) & (frame[period_col] == period)].reset_index(drop=True)

    sc = pick(result.scores)
    if sc.empty:
        raise KeyError(f"no score for unit {unit_code} in period {period}")
    row = sc.iloc[0]
    rank = row["rank"]
    return Explanation(
        unit_code=unit_code,
        unit_name=result.name_of(unit_code),
        period=period,
        score=float(row["score"]),
        grade=None if pd.isna(row["grade"]) else str(row["grade"]),
        rank=None if pd.isna(rank) else int(rank),
        n_days=int(row["n_days"]),
        indicators=pick(result.indicators),
        sources=pick(result.trace),
        daily=pick(result.daily) if result.daily is not None else None,
    )
