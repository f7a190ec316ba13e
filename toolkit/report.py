"""Bulletins (数据质量通报): daily, weekly and monthly reports on the district scores.

``dq report`` turns the scores of a period (``scores.csv``: ``QXDM, QXMC, period, <indicator ids…>, score,
grade, rank``, one row per district × period, several periods for the trend) into

* ``bulletin_<period>.html``: one self-contained page (inline CSS, charts as ``data:`` PNG, an embedded
  subset of the Chinese font) that opens offline and prints on A4;
* ``bulletin_<period>.xlsx``: the same figures as sheets 概况, 排名, 指标, 常见问题, 建议, 趋势.

Contents, as provincial bulletins have them: headline figures (provincial average score and its change,
grade distribution, districts meeting A4), the ranking with grade, score and change against the previous
period, the indicators' levels 优/良/差 in colour, the provincial trend, a tile-grid map coloured by score
with warnings (below A4, falling), the biggest movers, and for the bottom districts their weakest
indicators with the rules behind them as targeted advice (the rules' plain ``message_zh`` / ``fix_zh``).

Every number shown is taken from the inputs as given (the score, grade and rank of ``scores``; rates,
points and levels of the optional long *trace* frame ``QXDM, period, indicator, rate, points, level,
rule_ids``); the bulletin computes only averages, counts and differences of them.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.common_problems import CommonProblems, build_common_problems, district_name
from toolkit.sheets import read_csv

__all__ = [
    "GRADE_ORDER",
    "PERIOD_KINDS",
    "Bulletin",
    "Indicator",
    "build_bulletin",
    "level_of",
    "load_indicators",
    "period_title",
    "points_of",
    "render_html",
    "write_bulletin",
    "xlsx_writer",
]

PERIOD_KINDS = {"day": "日报", "week": "周报", "month": "月报"}
GRADE_ORDER = [f"{letter}{i}" for letter in "ABC" for i in range(1, 5)] + ["D"]
LEVELS = ("优", "良", "差")
LEVEL_COLOURS = {"优": "#1a9850", "良": "#f4a300", "差": "#d73027"}
LEVEL_FILLS = {"优": "C7E9C0", "良": "FFE8A8", "差": "F8B4B0"}
FIXED_COLUMNS = ("QXDM", "QXMC", "period", "score", "grade", "rank")
TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Periods shown in the trend chart, by period kind.
TREND_LENGTH = {"day": 30, "week": 12, "month": 12}


# ------------------------------------------------------------------------------------------ indicators


@dataclass(frozen=True)
class Indicator:
    """One scored indicator (see shared/spec/scoring.md), as far as the bulletin needs it."""

    id: str
    label: str
    lower_is_better: bool = False
    weight: float | None = None
    target: float | None = None
    floor: float | None = None
    rules: tuple[str, ...] = ()
    """Rule ids (or ``fnmatch`` patterns such as ``bdc.*.required``) counted by this indicator."""


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _indicator_from(iid: str, spec: Mapping[str, Any]) -> Indicator:
    label = next((spec[k] for k in ("label_zh", "label", "name_zh", "name", "指标") if spec.get(k)), iid)
    direction = str(spec.get("direction", spec.get("better", ""))).lower()
    lower = bool(spec.get("lower_is_better")) or direction in ("down", "lower", "↓", "lower_is_better", "min")
    rules = spec.get("rules") or spec.get("rule_ids") or ()
    if isinstance(rules, str):
        rules = [rules]
    return Indicator(
        id=iid,
        label=str(label),
        lower_is_better=lower,
        weight=_num(spec.get("weight")),
        target=_num(spec.get("target")),
        floor=_num(spec.get("floor")),
        rules=tuple(str(r) for r in rules),
    )


def load_indicators(domain=None, columns: Sequence[str] | None = None) -> list[Indicator]:
    """The indicators of a domain's ``scoring.yaml`` (``indicators:`` as a mapping id → spec or a list
    of specs with ``id``), restricted to and ordered like ``columns`` when given; an indicator column
    without a spec gets its id as label."""
    from toolkit.yamlfile import load_yaml

    specs: dict[str, Indicator] = {}
    path = None
    if domain is not None:
        dom_path = getattr(domain, "path", None)
        if dom_path is None:
            from toolkit.domain import domain_path

            dom_path = domain_path(domain)
        path = Path(dom_path) / "scoring.yaml"
    if path is not None and path.exists():
        cfg = load_yaml(path) or {}
        raw = cfg.get("indicators") or {}
        if isinstance(raw, Mapping):
            items = [(str(k), v or {}) for k, v in raw.items()]
        else:
            items = [(str(v.get("id")), v) for v in raw if isinstance(v, Mapping) and v.get("id")]
        for iid, spec in items:
            specs[iid] = _indicator_from(iid, spec if isinstance(spec, Mapping) else {})
    if columns is None:
        return list(specs.values())
    return [specs.get(c, Indicator(c, c)) for c in columns]


def indicator_columns(scores: pd.DataFrame, known: Sequence[str] = ()) -> list[str]:
    """Indicator columns of a scores frame: the known ids present, else the columns between ``period``
    and ``score`` (the order of the scores.csv contract)."""
    cols = list(scores.columns)
    present = [c for c in known if c in cols]
    if present:
        return present
    if "period" in cols and "score" in cols and cols.index("score") > cols.index("period"):
        return [c for c in cols[cols.index("period") + 1 : cols.index("score")] if c not in FIXED_COLUMNS]
    return [c for c in cols if c not in FIXED_COLUMNS]


def points_of(rate: float | None, ind: Indicator) -> float | None:
    """Points 0–100 of a rate (linear between floor and target, scoring.md); None if not scored."""
    if rate is None or ind.target is None or ind.floor is None or ind.target == ind.floor:
        return None
    share = (rate - ind.floor) / (ind.target - ind.floor)
    return 100.0 * min(1.0, max(0.0, share))


def level_of(points: float | None) -> str | None:
    """优 at 100 points (target met), 良 from 60, 差 below; None when not scored."""
    if points is None or (isinstance(points, float) and math.isnan(points)):
        return None
    if points >= 100.0 - 1e-9:
        return "优"
    return "良" if points >= 60.0 else "差"


def _rule_list(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, (list, tuple, set)):
        return [str(v) for v in value if str(v)]
    return [v for v in re.split(r"[;,|\s]+", str(value)) if v]


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
    kind: str
    current: str
    previous: str | None
    title: str
    period_text: str
    province: str
    indicators: list[Indicator]
    ranking: pd.DataFrame
    """Current period, best first: QXDM, QXMC, score, grade, rank, prev_score, prev_rank, change,
    rank_change, meets_a4, falling."""
    grades: pd.DataFrame
    """grade, n."""
    headline: dict[str, Any]
    rates: pd.DataFrame
    """QXDM × indicator id → rate (as given)."""
    levels: pd.DataFrame
    """QXDM × indicator id → 优/良/差 or None."""
    points: pd.DataFrame
    trend: pd.DataFrame
    """period, 平均分, 达标数, 区县数, 达标率."""
    movers: dict[str, pd.DataFrame]
    advice: list[dict[str, Any]]
    common: CommonProblems | None
    tiles: list
    layout_note: str
    extra: dict[str, Any] = field(default_factory=dict)


def average(values, decimals: int = 2) -> float | None:
    """Mean of the scores shown, rounded half up to ``decimals``: the sum is exact (``math.fsum``) so the
    result does not depend on the order of the districts, and binary noise (89.92499999…) is removed by
    rounding to 9 decimals first, as the scoring model does."""
    from decimal import ROUND_HALF_UP, Decimal

    nums = [float(v) for v in values if _num(v) is not None]
    if not nums:
        return None
    mean = round(math.fsum(nums) / len(nums), 9)
    return float(Decimal(repr(mean)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def _meets(grade: Any) -> bool:
    return isinstance(grade, str) and grade.strip().upper().startswith("A")


def _filter_period(frame: pd.DataFrame | None, current: str) -> pd.DataFrame | None:
    if frame is None:
        return None
    if "period" in frame.columns:
        return frame[frame["period"].astype(str) == current]
    return frame


def _failures(problems: pd.DataFrame | None, counts: pd.DataFrame | None) -> pd.DataFrame:
    """QXDM, rule_id, n (failures) of the period."""
    if counts is not None and "unexpected_count" in counts.columns:
        c = counts.copy()
        c["QXDM"] = c["QXDM"].fillna("").astype(str)
        out = c.groupby(["QXDM", "rule_id"])["unexpected_count"].sum().rename("n").reset_index()
        return out[out["n"] > 0]
    if problems is not None and len(problems):
        p = problems.copy()
        p["QXDM"] = p["QXDM"].fillna("").astype(str)
        return p.groupby(["QXDM", "rule_id"]).size().rename("n").reset_index()
    return pd.DataFrame(columns=["QXDM", "rule_id", "n"])


def build_bulletin(
    scores: pd.DataFrame,
    *,
    period: str = "week",
    trace: pd.DataFrame | None = None,
    problems: pd.DataFrame | None = None,
    counts: pd.DataFrame | None = None,
    domain=None,
    indicators: Sequence[Indicator] | None = None,
    current: str | None = None,
    bottom: int = 3,
    fall_threshold: float = 2.0,
    movers: int = 3,
    names: Mapping[str, str] | None = None,
    layout: Mapping[str, tuple[int, int]] | None = None,
) -> Bulletin:
    """Everything a bulletin shows, as frames (see :class:`Bulletin`). ``problems`` / ``counts`` /
    ``trace`` may hold several periods (a ``period`` column) or only the current one."""
    from toolkit import charts, regions

    if period not in PERIOD_KINDS:
        raise ValueError(f"period must be one of {', '.join(PERIOD_KINDS)}")
    if scores is None or scores.empty:
        from toolkit.errors import InputError

        raise InputError("没有可通报的得分（scores 为空）。", "no scores to report (empty scores).")
    dom = _load_domain(domain)
    s = scores.copy()
    s["QXDM"] = s["QXDM"].astype(str)
    s["period"] = s["period"].astype(str)
    if "QXMC" not in s.columns:
        s["QXMC"] = [district_name(q, names) for q in s["QXDM"]]
    s["QXMC"] = [
        m if isinstance(m, str) and m else district_name(q, names)
        for q, m in zip(s["QXDM"], s["QXMC"], strict=True)
    ]
    ind_cols = indicator_columns(s, [i.id for i in indicators] if indicators else [])
    if indicators:
        by_id = {i.id: i for i in indicators}
        inds = [by_id.get(c, Indicator(c, c)) for c in ind_cols]
    else:
        inds = load_indicators(dom, ind_cols)
        ind_cols = [i.id for i in inds]
    periods = sorted(s["period"].unique())
    current = str(current) if current is not None else periods[-1]
    if current not in periods:
        from toolkit.errors import InputError

        raise InputError(f"得分中没有周期 {current}。", f"no scores for period {current}.")
    earlier = [p for p in periods if p < current]
    previous = earlier[-1] if earlier else None

    s["score"] = pd.to_numeric(s["score"], errors="coerce")
    s["rank"] = pd.to_numeric(s["rank"], errors="coerce")
    cur = s[s["period"] == current].copy()
    cur = cur.sort_values(["rank", "QXDM"], kind="mergesort", na_position="last").reset_index(drop=True)
    cur["scored"] = cur["score"].notna()
    if previous is not None:
        prev = s[s["period"] == previous].set_index("QXDM")
        cur["prev_score"] = cur["QXDM"].map(prev["score"])
        cur["prev_rank"] = cur["QXDM"].map(prev["rank"])
    else:
        cur["prev_score"] = float("nan")
        cur["prev_rank"] = float("nan")
    cur["change"] = cur["score"] - cur["prev_score"]
    cur["rank_change"] = cur["prev_rank"] - cur["rank"]
    cur["meets_a4"] = cur["grade"].map(_meets) & cur["scored"]
    cur["below_a4"] = cur["scored"] & ~cur["meets_a4"]
    cur["falling"] = cur["change"] <= -abs(fall_threshold)

    grade_counts = cur.loc[cur["scored"], "grade"].astype(str).value_counts()
    order = GRADE_ORDER + sorted(g for g in grade_counts.index if g not in GRADE_ORDER)
    grades = pd.DataFrame({"grade": order, "n": [int(grade_counts.get(g, 0)) for g in order]})

    avg = average(cur["score"])
    prev_avg = average(s[s["period"] == previous]["score"]) if previous is not None else None
    prefixes = {q[:2] for q in cur["QXDM"]}
    province = (regions.province_name(next(iter(prefixes))) or "") if len(prefixes) == 1 else ""
    headline = {
        "districts": int(cur["scored"].sum()),
        "unscored": int((~cur["scored"]).sum()),
        "average": avg,
        "prev_average": prev_avg,
        "average_change": None if prev_avg is None or avg is None else round(avg - prev_avg, 2),
        "meets_a4": int(cur["meets_a4"].sum()),
        "below_a4": int(cur["below_a4"].sum()),
        "falling": int(cur["falling"].sum()),
        "best": cur.iloc[0][["QXDM", "QXMC", "score"]].to_dict(),
        "max": float(cur["score"].max()),
        "min": float(cur["score"].min()),
    }

    # indicator rates, points and levels
    rates = cur.set_index("QXDM")[ind_cols].apply(pd.to_numeric, errors="coerce")
    points = pd.DataFrame(index=rates.index, columns=ind_cols, dtype=float)
    levels = pd.DataFrame(index=rates.index, columns=ind_cols, dtype=object)
    rule_ids: dict[tuple[str, str], list[str]] = {}
    tr = _filter_period(trace, current)
    if tr is not None and len(tr):
        tr = tr.copy()
        tr["QXDM"] = tr["QXDM"].astype(str)
        for r in tr.itertuples(index=False):
            rec = r._asdict()
            q, i = rec["QXDM"], rec["indicator"]
            if q not in rates.index or i not in ind_cols:
                continue
            if "points" in rec:
                points.loc[q, i] = _num(rec["points"])
            if rec.get("level") in LEVELS:
                levels.loc[q, i] = rec["level"]
            rule_ids[(q, i)] = _rule_list(rec.get("rule_ids", rec.get("rules")))
    for ind in inds:
        given = f"{ind.id}_level"  # scores.csv of the scoring module carries the levels too
        if given in cur.columns:
            for q, lv in zip(cur["QXDM"], cur[given], strict=True):
                if lv in LEVELS and levels.loc[q, ind.id] not in LEVELS:
                    levels.loc[q, ind.id] = lv
        for q in rates.index:
            if pd.isna(points.loc[q, ind.id]):
                points.loc[q, ind.id] = points_of(_num(rates.loc[q, ind.id]), ind)
            if levels.loc[q, ind.id] not in LEVELS:
                levels.loc[q, ind.id] = level_of(_num(points.loc[q, ind.id]))

    # trend
    upto = [p for p in periods if p <= current][-TREND_LENGTH.get(period, 12) :]
    tdf = s[s["period"].isin(upto)]
    trend = (
        tdf.groupby("period")
        .agg(
            平均分=("score", average),
            达标数=("grade", lambda g: int(sum(_meets(x) for x in g))),
            区县数=("QXDM", "size"),
        )
        .reset_index()
    )
    trend["达标率"] = 100.0 * trend["达标数"] / trend["区县数"]

    # movers
    moved = cur.dropna(subset=["change"])
    mv = {
        "up": moved[moved["change"] > 0]
        .sort_values(["change", "QXDM"], ascending=[False, True])
        .head(movers),
        "down": moved[moved["change"] < 0]
        .sort_values(["change", "QXDM"], ascending=[True, True])
        .head(movers),
    }

    # targeted advice for the bottom districts
    probs = _filter_period(problems, current)
    cnts = _filter_period(counts, current)
    fails = _failures(probs, cnts)
    advice = []
    for row in (
        cur[cur["scored"]]
        .sort_values(["rank", "QXDM"], ascending=[False, False], kind="mergesort")
        .head(bottom)
        .itertuples()
    ):
        advice.append(_advice(row, inds, rates, points, levels, rule_ids, fails, probs, dom, cur))

    common = None
    if (probs is not None and len(probs)) or (cnts is not None and len(cnts)):
        common = build_common_problems(
            probs if probs is not None and len(probs) else None,
            None if probs is not None and len(probs) else cnts,
            domain=dom,
            names=dict(zip(cur["QXDM"], cur["QXMC"], strict=True)),
            period=period_title(current, period),
        )

    tiles = charts.grid_layout(list(zip(cur["QXDM"], cur["QXMC"], strict=True)), dict(layout or {}))
    label = dom.config.get("label_zh", "") if dom is not None else ""
    return Bulletin(
        kind=period,
        current=current,
        previous=previous,
        title=f"{province}{label}数据质量{PERIOD_KINDS[period]}",
        period_text=period_title(current, period),
        province=province,
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
        layout_note="按地市分组排列的色块图（非地理位置）" if not layout else "按 tilemap.csv 的位置排列",
    )


def _load_domain(domain):
    if domain is None:
        return None
    if isinstance(domain, str | Path):
        from toolkit.domain import load_domain

        return load_domain(domain)
    return domain


def _fmt_rate(v: float | None) -> str:
    """A rate as a percentage with one decimal — more where one decimal would show a rate that is not 0
    or 100 % as 0.0 % or 100.0 % (a 99.96 % unit-number rate is not "100.0 %")."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if abs(v) > 1.0:
        return f"{v:.1f}"
    p = 100.0 * v
    for digits in (1, 2, 3):
        text = f"{p:.{digits}f}"
        if float(text) not in (0.0, 100.0) or p in (0.0, 100.0):
            break
    return f"{text}%"


def _advice(row, inds, rates, points, levels, rule_ids, fails, probs, dom, cur) -> dict[str, Any]:
    """A bottom district's weakest indicators and the rules behind them."""
    q = row.QXDM
    weakest = []
    for ind in inds:
        pts = _num(points.loc[q, ind.id])
        rate = _num(rates.loc[q, ind.id])
        if pts is not None:
            if pts >= 100.0 - 1e-9:
                continue
            lost = (
                (ind.weight if ind.weight is not None else 100.0 / max(len(inds), 1)) * (100.0 - pts) / 100.0
            )
            weakest.append((lost, ind, rate, pts))
        elif rate is not None:
            col = pd.to_numeric(rates[ind.id], errors="coerce")
            gap = (rate - col.mean()) if ind.lower_is_better else (col.mean() - rate)
            if gap > 0:
                weakest.append((gap, ind, rate, None))
    weakest.sort(key=lambda w: (-w[0], w[1].id))
    weakest = weakest[:3]
    own = fails[fails["QXDM"] == q]
    counts = dict(zip(own["rule_id"], own["n"], strict=True))
    chosen: list[str] = []
    for _, ind, _, _ in weakest:
        patterns = rule_ids.get((q, ind.id)) or list(ind.rules)
        behind = [r for r in counts if any(fnmatch(r, pat) for pat in patterns)]
        behind = sorted((r for r in behind if counts.get(r, 0) > 0), key=lambda r: (-counts.get(r, 0), r))
        chosen.extend(r for r in behind[:2] if r not in chosen)
    if len(chosen) < 3:  # the district's most frequent problems, whatever indicator they belong to
        chosen.extend(r for r in sorted(counts, key=lambda r: (-counts[r], r)) if r not in chosen)
    items = []
    for rid in chosen[:4]:
        meta: dict[str, Any] = {}
        if dom is not None:
            with contextlib.suppress(KeyError):
                meta = dict(dom.rule(rid).meta)
        examples: list[str] = []
        if probs is not None and len(probs):
            sel = probs[(probs["rule_id"] == rid) & (probs["QXDM"].fillna("").astype(str) == q)]
            if "message_zh" not in meta and len(sel):
                meta["message_zh"] = sel.iloc[0].get("message_zh", "")
                meta["fix_zh"] = sel.iloc[0].get("fix_zh", "")
            examples = [str(y) for y in sel["YWH"].dropna().astype(str).unique()[:3]] if "YWH" in sel else []
        items.append(
            {
                "rule_id": rid,
                "message": meta.get("message_zh", rid),
                "fix": meta.get("fix_zh", ""),
                "n": int(counts.get(rid, 0)),
                "examples": examples,
            }
        )
    n = int(cur["scored"].sum())
    change = _num(row.change)
    parts = [f"{row.QXMC}本期综合得分 {row.score:.1f} 分，等级 {row.grade}，排名第 {int(row.rank)}/{n} 位"]
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
                f"{ind.label} {_fmt_rate(rate)}" + (f"（{level_of(pts)}）" if pts is not None else "")
                for _, ind, rate, pts in weakest
            )
            + "。"
        )
    return {
        "QXDM": q,
        "QXMC": row.QXMC,
        "score": float(row.score),
        "grade": row.grade,
        "rank": int(row.rank),
        "summary": summary,
        "weakest": [
            {
                "id": ind.id,
                "label": ind.label,
                "rate": rate,
                "rate_text": _fmt_rate(rate),
                "points": pts,
                "level": level_of(pts) if pts is not None else None,
            }
            for _, ind, rate, pts in weakest
        ],
        "items": items,
    }


# ------------------------------------------------------------------------------------------ rendering


def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["f1"] = lambda v: "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.1f}"
    env.filters["f2"] = lambda v: "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.2f}"
    env.filters["signed"] = _signed
    env.filters["rate"] = _fmt_rate
    env.filters["rankmove"] = _rank_move
    return env


def _signed(v: Any, digits: int = 1) -> str:
    f = _num(v)
    if f is None:
        return "—"
    if round(f, digits) == 0:
        return "持平"
    return f"{'+' if f > 0 else '−'}{abs(f):.{digits}f}"


def _rank_move(v: Any) -> str:
    f = _num(v)
    if f is None:
        return "新"
    if f == 0:
        return "—"
    return f"↑{int(f)}" if f > 0 else f"↓{int(-f)}"


def render_html(template: str, **context: Any) -> str:
    """Render a template of ``toolkit/templates`` and embed the subset of the Chinese font it uses."""
    from toolkit.fonts import font_face_css

    html = _environment().get_template(template).render(**context)
    return html.replace("/*FONT-FACE*/", font_face_css(html), 1)


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _ranking_records(b: Bulletin) -> list[dict[str, Any]]:
    out = []
    for rec in b.ranking.to_dict("records"):
        rank = _num(rec["rank"])
        rec["rank"] = None if rank is None else int(rank)
        rec["levels"] = [
            {
                "level": b.levels.loc[rec["QXDM"], i.id],
                "text": _fmt_rate(_num(b.rates.loc[rec["QXDM"], i.id])),
            }
            for i in b.indicators
        ]
        out.append(rec)
    return out


def write_bulletin(
    scores: pd.DataFrame,
    *,
    period: str = "week",
    out_dir: str | Path,
    trace: pd.DataFrame | None = None,
    problems: pd.DataFrame | None = None,
    counts: pd.DataFrame | None = None,
    domain=None,
    indicators: Sequence[Indicator] | None = None,
    current: str | None = None,
    bottom: int = 3,
    fall_threshold: float = 2.0,
    names: Mapping[str, str] | None = None,
    layout: Mapping[str, tuple[int, int]] | None = None,
    generated: dt.datetime | None = None,
) -> dict[str, Path]:
    """Build the bulletin of the latest (or ``current``) period and write ``bulletin_<period>.html`` and
    ``.xlsx`` into ``out_dir``; return ``{"html": path, "xlsx": path}``."""
    from toolkit import charts

    b = build_bulletin(
        scores,
        period=period,
        trace=trace,
        problems=problems,
        counts=counts,
        domain=domain,
        indicators=indicators,
        current=current,
        bottom=bottom,
        fall_threshold=fall_threshold,
        names=names,
        layout=layout,
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = "bulletin_" + re.sub(r"[^0-9A-Za-z_-]+", "_", b.current)
    paths = {"html": out / f"{stem}.html", "xlsx": out / f"{stem}.xlsx"}
    generated = generated or dt.datetime.now().replace(microsecond=0)

    cur = b.ranking
    score_of = dict(zip(cur["QXDM"], cur["score"], strict=True))
    map_png = charts.tile_map_png(
        b.tiles,
        score_of,
        below=set(cur.loc[cur["below_a4"], "QXDM"]),
        falling=set(cur.loc[cur["falling"], "QXDM"]),
        title=f"{b.period_text}区县得分地图预警",
    )
    trend_png = charts.trend_png(
        b.trend.assign(period=[_short_period(p, b.kind) for p in b.trend["period"]]),
        title=f"全省平均分趋势（近 {len(b.trend)} 期）",
    )
    level_counts = {i.id: {lv: int((b.levels[i.id] == lv).sum()) for lv in LEVELS} for i in b.indicators}
    html = render_html(
        "bulletin.html.j2",
        b=b,
        generated=generated,
        rows=_ranking_records(b),
        grades=b.grades.to_dict("records"),
        level_counts=level_counts,
        level_colours=LEVEL_COLOURS,
        warnings=_warnings(b),
        map_uri=_data_uri(map_png),
        trend_uri=_data_uri(trend_png),
        trend=b.trend.to_dict("records"),
        movers_up=b.movers["up"].to_dict("records"),
        movers_down=b.movers["down"].to_dict("records"),
        common=b.common.rules.head(10).to_dict("records") if b.common is not None else [],
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
    for r in b.ranking.itertuples(index=False):
        kinds = []
        if r.below_a4:
            kinds.append(f"未达到 A4（{r.grade}）")
        if r.falling:
            kinds.append(f"较上期下降 {abs(r.change):.1f} 分")
        if kinds:
            out.append(
                {"QXDM": r.QXDM, "QXMC": r.QXMC, "score": r.score, "rank": r.rank, "what": "；".join(kinds)}
            )
    return out


# ------------------------------------------------------------------------------------------ xlsx


def _width(value: Any) -> int:
    s = "" if value is None else str(value)
    return sum(2 if ord(c) > 255 else 1 for c in s)


class XlsxBook:
    """A small helper over openpyxl: titled, styled, printable tables (A4 landscape, fit to width).
    Values go in through :func:`toolkit.sheets.xlsx_value` and the book is saved by
    :func:`toolkit.sheets.save_workbook`: text from the data is always a text cell, never a formula."""

    def __init__(self, path: Path) -> None:
        from openpyxl import Workbook

        self.path = Path(path)
        self.wb = Workbook()
        self._fresh = True

    def sheet(self, name: str):
        if self._fresh:
            ws = self.wb.active
            ws.title = name
            self._fresh = False
        else:
            ws = self.wb.create_sheet(name)
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        return ws

    def add_table(
        self,
        name: str,
        frame: pd.DataFrame,
        *,
        title: str | None = None,
        widths: Mapping[str, int] | None = None,
        formats: Mapping[str, str] | None = None,
        fills: pd.DataFrame | None = None,
        note: str | None = None,
        ws=None,
        start_row: int | None = None,
    ):
        """Write ``frame`` with a bold title row, a header row (frozen, filtered) and wrapped cells.
        ``fills`` (same index/columns as ``frame``, hex colours or None) colours cells."""
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        from toolkit.sheets import xlsx_value

        ws = ws or self.sheet(name)
        row0 = start_row or (ws.max_row + 2 if ws.max_row > 1 else 1)
        thin = Side(style="thin", color="BBBBBB")
        border = Border(left=thin, right=thin, top=thin, bottom=thin)
        if title:
            ws.cell(row=row0, column=1, value=xlsx_value(title)).font = Font(bold=True, size=13)
            row0 += 1
        if note:
            c = ws.cell(row=row0, column=1, value=xlsx_value(note))
            c.font = Font(color="666666", size=9)
            row0 += 1
        header = row0
        widths = dict(widths or {})
        formats = dict(formats or {})
        for j, col in enumerate(frame.columns, start=1):
            c = ws.cell(row=header, column=j, value=xlsx_value(str(col)))
            c.font = Font(bold=True)
            c.fill = PatternFill("solid", fgColor="DDE7F3")
            c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            c.border = border
        for i, rec in enumerate(frame.itertuples(index=False), start=1):
            for j, v in enumerate(rec, start=1):
                col = frame.columns[j - 1]
                v = xlsx_value(v)
                c = ws.cell(row=header + i, column=j, value=v)
                c.border = border
                c.alignment = Alignment(vertical="top", wrap_text=isinstance(v, str) and _width(v) > 20)
                if col in formats:
                    c.number_format = formats[col]
                if fills is not None:
                    colour = fills.iloc[i - 1, j - 1]
                    if isinstance(colour, str) and colour:
                        c.fill = PatternFill("solid", fgColor=colour)
        from openpyxl.utils import get_column_letter

        for j, col in enumerate(frame.columns, start=1):
            letter = get_column_letter(j)
            if col in widths:
                w = widths[col]
            else:
                sample = [col, *frame[col].head(200).tolist()]
                w = min(
                    30, max(6, max(_width(x if not isinstance(x, float) else f"{x:.2f}") for x in sample) + 2)
                )
            ws.column_dimensions[letter].width = max(ws.column_dimensions[letter].width or 0, w)
        if start_row is None and ws.freeze_panes is None:
            ws.freeze_panes = ws.cell(row=header + 1, column=1)
            if len(frame):
                ws.auto_filter.ref = f"A{header}:{get_column_letter(len(frame.columns))}{header + len(frame)}"
            ws.print_title_rows = f"{header}:{header}"
        return ws

    def add_image(self, ws, png: bytes, anchor: str, width_px: int | None = None) -> None:
        import io

        from openpyxl.drawing.image import Image

        img = Image(io.BytesIO(png))
        if width_px:
            ratio = width_px / img.width
            img.width, img.height = width_px, int(img.height * ratio)
        ws.add_image(img, anchor)

    def save(self) -> None:
        from toolkit.sheets import save_workbook

        save_workbook(self.wb, self.path)


@contextlib.contextmanager
def xlsx_writer(path: str | Path) -> Iterator[XlsxBook]:
    book = XlsxBook(Path(path))
    yield book
    book.save()


def _write_bulletin_xlsx(
    b: Bulletin, path: Path, generated: dt.datetime, map_png: bytes, trend_png: bytes
) -> None:
    from openpyxl.styles import Font

    h = b.headline
    cur = b.ranking
    with xlsx_writer(path) as book:
        ws = book.sheet("概况")
        ws["A1"] = b.title
        ws["A1"].font = Font(bold=True, size=15)
        ws["A2"] = f"{b.period_text}　生成时间 {generated:%Y-%m-%d %H:%M}"
        facts = pd.DataFrame(
            [
                ("统计周期", b.current),
                ("参评区县数", h["districts"]),
                ("全省平均分", h["average"]),
                ("上期平均分", h["prev_average"]),
                ("较上期变化", h["average_change"]),
                ("达到 A4 的区县数", h["meets_a4"]),
                ("未达到 A4 的区县数", h["below_a4"]),
                ("较上期下降的区县数", h["falling"]),
                ("最高分", h["max"]),
                ("最低分", h["min"]),
            ],
            columns=["项目", "数值"],
        )
        book.add_table("概况", facts, ws=ws, start_row=4, widths={"项目": 22, "数值": 14})
        gd = b.grades.rename(columns={"grade": "等级", "n": "区县数"})
        book.add_table("概况", gd, ws=ws, start_row=17, title="等级分布")
        book.add_image(ws, map_png, "E4", width_px=640)
        book.add_image(ws, trend_png, "E40", width_px=640)

        rk = pd.DataFrame(
            {
                "排名": cur["rank"].astype("Int64"),
                "区县代码": cur["QXDM"],
                "区县名称": cur["QXMC"],
                "综合得分": cur["score"].astype(float),
                "等级": cur["grade"],
                "达到A4": [
                    "是" if m else ("否" if sc else "—")
                    for m, sc in zip(cur["meets_a4"], cur["scored"], strict=True)
                ],
                "上期得分": cur["prev_score"],
                "得分变化": cur["change"],
                "上期排名": cur["prev_rank"],
                "排名变化": [_rank_move(v) for v in cur["rank_change"]],
            }
        )
        fills = pd.DataFrame(None, index=rk.index, columns=rk.columns, dtype=object)
        fills.loc[cur["below_a4"].to_numpy(), "等级"] = LEVEL_FILLS["差"]
        fills.loc[cur["falling"].to_numpy(), "得分变化"] = LEVEL_FILLS["差"]
        book.add_table(
            "排名",
            rk,
            title=f"{b.title}　区县排名（{b.period_text}）",
            formats={"综合得分": "0.0", "上期得分": "0.0", "得分变化": "+0.0;-0.0;0.0"},
            fills=fills,
        )

        ind = pd.DataFrame(
            {"排名": cur["rank"].astype("Int64"), "区县代码": cur["QXDM"], "区县名称": cur["QXMC"]}
        )
        ifill = pd.DataFrame(None, index=ind.index, columns=list(ind.columns), dtype=object)
        for i in b.indicators:
            ind[i.label] = [_num(b.rates.loc[q, i.id]) for q in cur["QXDM"]]
            ifill[i.label] = [LEVEL_FILLS.get(b.levels.loc[q, i.id]) for q in cur["QXDM"]]
        rate_fmt = {i.label: "0.0%" for i in b.indicators if (b.rates[i.id].dropna().abs() <= 1).all()}
        book.add_table(
            "指标",
            ind,
            title="指标完成情况（底色：绿 = 优，黄 = 良，红 = 差；空白 = 本期不计分）",
            formats=rate_fmt,
            fills=ifill,
            widths={i.label: 10 for i in b.indicators},
        )
        ws_ind = book.wb["指标"]
        lv = pd.DataFrame(
            [[lvl] + [int((b.levels[i.id] == lvl).sum()) for i in b.indicators] for lvl in LEVELS],
            columns=["等级", *[i.label for i in b.indicators]],
        )
        book.add_table("指标", lv, ws=ws_ind, start_row=ws_ind.max_row + 2, title="各指标优 / 良 / 差区县数")

        if b.common is not None:
            book.add_table(
                "常见问题",
                b.common.rules,
                title=f"常见问题清单（{b.period_text}）",
                widths={
                    "问题说明": 40,
                    "整改办法": 40,
                    "主要区县": 28,
                    "示例": 40,
                    "规则编号": 26,
                    "字段": 18,
                },
            )
        else:
            ws_cp = book.sheet("常见问题")
            ws_cp["A1"] = "本期没有提供问题清单（problems.csv / counts.csv）。"

        adv_rows = []
        for a in b.advice:
            if not a["items"]:
                adv_rows.append(
                    {
                        "区县代码": a["QXDM"],
                        "区县名称": a["QXMC"],
                        "综合得分": a["score"],
                        "等级": a["grade"],
                        "排名": a["rank"],
                        "情况": a["summary"],
                        "问题": "",
                        "问题条数": None,
                        "整改建议": "",
                        "示例业务号": "",
                    }
                )
            for it in a["items"]:
                adv_rows.append(
                    {
                        "区县代码": a["QXDM"],
                        "区县名称": a["QXMC"],
                        "综合得分": a["score"],
                        "等级": a["grade"],
                        "排名": a["rank"],
                        "情况": a["summary"],
                        "问题": it["message"],
                        "问题条数": it["n"],
                        "整改建议": it["fix"],
                        "示例业务号": "、".join(it["examples"]),
                    }
                )
        adv = pd.DataFrame(
            adv_rows,
            columns=[
                "区县代码",
                "区县名称",
                "综合得分",
                "等级",
                "排名",
                "情况",
                "问题",
                "问题条数",
                "整改建议",
                "示例业务号",
            ],
        )
        book.add_table(
            "建议",
            adv,
            title="排名靠后区县的针对性整改建议",
            formats={"综合得分": "0.0"},
            widths={"情况": 50, "问题": 40, "整改建议": 45, "示例业务号": 26},
        )
        tr = b.trend.rename(columns={"period": "周期"})
        book.add_table("趋势", tr, title="全省平均分趋势", formats={"平均分": "0.00", "达标率": "0.0"})


# ------------------------------------------------------------------------------------------ dq report


def _read_csv(path: Path | None) -> pd.DataFrame | None:
    if path is None:
        return None
    from toolkit.errors import InputError

    if not Path(path).is_file():
        raise InputError("文件不存在。", "file not found.", path=path)
    return read_csv(path, dtype={"QXDM": str, "period": str, "YWH": str})


def scores_from_history(
    history: str | Path, period: str, *, domain="bdc", store: str | Path | None = None
) -> dict[str, pd.DataFrame]:
    """Count the daily batches under ``history`` (incrementally, in the history file ``store``) and score
    them by ``period``: ``{"scores", "trace", "counts"}`` (counts with the period label)."""
    from toolkit import scoring
    from toolkit.history import History, score_frames

    dom = _load_domain(domain)
    store = Path(store) if store is not None else Path(history) / "history.duckdb"
    hist = History(store, domain=dom)
    hist.update(history)
    frames = hist.frames()
    run = score_frames(frames["counts"], frames["rows"], by=period, domain=dom)
    counts = frames["counts"].copy()
    labels = {d: scoring.period_label(d, period) for d in counts["period"].unique()}
    counts["period"] = counts["period"].map(labels)
    return {"scores": run.table, "trace": run.period.indicators, "counts": counts}


def problems_in(history: str | Path, period: str) -> pd.DataFrame | None:
    """``problems.csv`` files of ``dq check`` kept under the history's day folders (``DIR/<day>/…``),
    with the period label of their day; None if there are none."""
    from toolkit import scoring

    frames = []
    for path in sorted(Path(history).glob("*/**/problems.csv")):
        day = next((p.name for p in path.parents if re.fullmatch(r"\d{4}-\d{2}-\d{2}", p.name)), None)
        if day is None:
            continue
        f = read_csv(path)
        f["period"] = scoring.period_label(day, period)
        frames.append(f)
    return pd.concat(frames, ignore_index=True) if frames else None


def run_report(
    *,
    period: str,
    out_dir: str | Path,
    history: str | Path | None = None,
    scores: str | Path | None = None,
    trace: str | Path | None = None,
    problems: str | Path | None = None,
    counts: str | Path | None = None,
    domain="bdc",
    current: str | None = None,
    bottom: int = 3,
    store: str | Path | None = None,
    scored: dict[str, pd.DataFrame] | None = None,
) -> dict[str, Path]:
    """``dq report``: the bulletin (HTML + XLSX) and the period's common-problems list.

    ``scored``: frames already computed by :func:`scores_from_history` (``scores``, ``trace``,
    ``counts``), so that a caller who has just scored the history does not score it again."""
    from toolkit.common_problems import write_common_problems
    from toolkit.errors import InputError

    dom = _load_domain(domain)
    sc, tr, pr, ct = _read_csv(scores), _read_csv(trace), _read_csv(problems), _read_csv(counts)
    if sc is None and scored is not None:
        sc, tr, ct = scored["scores"], scored["trace"], scored["counts"]
    if sc is None:
        if history is None:
            raise InputError(
                "没有得分数据：请给出 --history 或 --scores。",
                "no scores: give --history or --scores.",
                fix_zh="--history 指向按日期分文件夹的增量数据目录；或用 --scores 指定 dq score 写出的 scores.csv。",
                fix_en="--history: the folder of daily batches; or --scores: a scores.csv written by dq score.",
            )
        got = scores_from_history(
            history, period, domain=dom, store=store or Path(out_dir) / "history.duckdb"
        )
        sc, tr = got["scores"], tr if tr is not None else got["trace"]
        ct = ct if ct is not None else got["counts"]
    if pr is None and history is not None:
        pr = problems_in(history, period)
    out = Path(out_dir)
    paths = write_bulletin(
        sc,
        period=period,
        out_dir=out,
        trace=tr,
        problems=pr,
        counts=ct,
        domain=dom,
        current=current,
        bottom=bottom,
    )
    b_current = current or sorted(sc["period"].astype(str).unique())[-1]
    prs = _filter_period(pr, b_current)
    cts = _filter_period(ct, b_current)
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
