"""笔记本的显示辅助函数 / display helpers for the training and the analyst notebooks.

Notebooks under ``training/`` and ``notebooks/`` contain no ``def`` or ``class``: what they need beyond the
toolkit's public API lives here — small functions that find the sample data and turn the toolkit's results
into tables with Chinese headings — documented and tested (``tests/test_lessons.py``). Nothing here
computes a result of its own: checks come from :func:`toolkit.run_check`, scores, grades and ranks from
:mod:`toolkit.scoring` (its reader :func:`~toolkit.scoring.load_scoring` is the one reader of
``scoring.yaml``), check characters from :mod:`toolkit.validators`, the correction exercise from
:mod:`toolkit.corrections`. The course material itself (glossary, handout, generated blocks of the
episodes) is built by ``training/build.py``, which is not part of the package.

Data
    :func:`sample_dir`, :func:`day_batches`, :func:`working_copy`, :func:`load_check_output`,
    :func:`masked_rows`.
Labels
    :func:`toolkit_labels` (the toolkit's own Chinese labels, by kind), :func:`indicator_settings` (one
    indicator of the scoring model).
The most common errors
    :func:`top_errors` (ranked like districts: ties share the best rank), :func:`examples`.
Scores, rankings and bulletins
    :func:`explain_table` (one district's indicators: numerator, denominator, points, level, with Chinese
    headings, from :func:`toolkit.scoring.explain`), :func:`weak_rules` (the rules behind its weakest
    indicators, with ``message_zh`` / ``fix_zh``), :func:`ranking_table` (a period's ranking with the
    change against the period before), :func:`level_css` (a level in the scoring model's colours).
Check digits by hand
    :func:`check_digit_worksheet`, :func:`unit_number_parts`.

Frames name the unit of assessment and the record as the scoring module does (``unit_code``,
``unit_name``, ``record_key``: every file the toolkit writes has them, beside the pack's legacy columns such
as bdc's ``QXDM``, ``QXMC``, ``YWH``); the tables shown name them as the pack does (its unit label: 区县代码,
中心代码 …; its key fields: 业务号, 个人账号 …).

Functions that need a domain pack take ``domain`` explicitly (a notebook passes its ``DOMAIN``
parameter); there is no default pack below the command line. Errors a learner can cause are
:class:`~toolkit.errors.LessonError` (Chinese first, naming the file and the fix). Personal data: functions
that return values of a batch mask them by the dictionary's ``pii`` classes (:mod:`toolkit.masking`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit import scoring, validators
from toolkit.domain import Domain, load_domain
from toolkit.errors import LessonError
from toolkit.masking import mask_value
from toolkit.sheets import read_csv

__all__ = [
    "DEFAULT_DIMENSION_LABELS",
    "DEFAULT_SEVERITY_LABELS",
    "EXPLAIN_COLUMNS",
    "NOT_SCORED",
    "WEAK_RULE_COLUMNS",
    "check_digit_worksheet",
    "day_batches",
    "examples",
    "explain_table",
    "indicator_settings",
    "level_css",
    "load_check_output",
    "masked_rows",
    "ranking_columns",
    "ranking_table",
    "sample_dir",
    "toolkit_labels",
    "top_error_columns",
    "top_errors",
    "unit_number_parts",
    "weak_rules",
    "working_copy",
]

#: Chinese labels of the rule dimensions and severities, used when the domain pack does not give its
#: own (``domain.yaml``: ``labels: {dimensions: …, severities: …}``).
DEFAULT_DIMENSION_LABELS = {
    "completeness": "完整性",
    "validity": "有效性",
    "uniqueness": "唯一性",
    "consistency": "一致性",
    "timeliness": "及时性",
    "coverage": "汇交",
    "closed_loop": "闭环",
}
DEFAULT_SEVERITY_LABELS = {"critical": "严重", "warning": "警告"}


def _domain(domain: str | Path | Domain) -> Domain:
    return domain if isinstance(domain, Domain) else load_domain(domain)


_UNIT = ("unit_code",)
_UNIT_NAME = ("unit_name",)
_RECORD = ("record_key",)


def _col(frame: pd.DataFrame, names: tuple[str, ...]) -> pd.Series:
    """The first column of ``names`` that ``frame`` has, else an empty text column."""
    for name in names:
        if name in frame.columns:
            return frame[name]
    return pd.Series("", index=frame.index, dtype=object)


# ================================================================================================ data


def sample_dir(data_dir: str | Path) -> Path:
    """The sample data folder of the lessons (``make demo`` writes it to ``demo_out/bdc/sample``).

    ``data_dir`` is resolved against the current directory (a notebook's own folder in JupyterLab).
    Raises :class:`LessonError`, saying how to create the data, if it has no ``stock`` batch.
    """
    path = Path(data_dir).expanduser().resolve()
    if not (path / "stock").is_dir():
        raise LessonError(
            f"找不到示例数据（{path} 下没有 stock 文件夹）。",
            f"no sample data ({path} has no stock folder).",
            path=path,
            fix_zh="在项目根目录运行 make demo（会生成 demo_out/<领域>/sample），或把笔记本参数 DATA_DIR 改为示例数据所在的文件夹。",
            fix_en="run `make demo` at the top of the repository (it writes demo_out/<domain>/sample), or set the "
            "notebook parameter DATA_DIR to the folder of the sample data.",
        )
    return path


def day_batches(data_dir: str | Path) -> list[Path]:
    """The incremental batches, oldest first: one folder per day (``incremental/YYYY-MM-DD``) or, for a
    pack with monthly batches, per month (``incremental/YYYY-MM``)."""
    inc = sample_dir(data_dir) / "incremental"
    days = (
        sorted(
            p
            for p in inc.iterdir()
            if p.is_dir() and (validators.is_date(p.name) or validators.is_date(p.name + "-01"))
        )
        if inc.is_dir()
        else []
    )
    if not days:
        raise LessonError(
            f"{inc} 下没有增量批次。",
            f"no incremental batch under {inc}.",
            path=inc,
            fix_zh="重新运行 make demo 生成增量数据。",
            fix_en="run `make demo` again to write the incremental batches.",
        )
    return days


def working_copy(batch_dir: str | Path, work_dir: str | Path, *, name: str | None = None) -> Path:
    """Copy a batch into ``work_dir/name`` (default: the batch folder's name), replacing an old copy.

    Exercises edit the copy, never the shared sample. Only the batch's files are copied.
    """
    src = Path(batch_dir)
    if not src.is_dir():
        raise LessonError(f"批次文件夹 {src} 不存在。", f"batch folder {src} does not exist.", path=src)
    dst = Path(work_dir) / (name or src.name)
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    for f in sorted(src.iterdir()):
        if f.is_file():
            shutil.copy2(f, dst / f.name)
    return dst


def load_check_output(out_dir: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Read what ``dq check`` wrote into ``out_dir``: ``(counts, problems, summary)``.

    Codes stay text (``QXDM`` ``420102`` is not a number); counts are integers, ``evaluated`` a bool,
    ``row`` an integer.
    """
    out = Path(out_dir)
    missing = [n for n in ("counts.csv", "problems.csv") if not (out / n).exists()]
    if missing:
        raise LessonError(
            f"{out} 下缺少 {', '.join(missing)}（不是 dq check 的输出文件夹）。",
            f"{out} lacks {', '.join(missing)} (not an output folder of dq check).",
            path=out,
            fix_zh="先运行 make demo，或用 dq check --out 指定的文件夹。",
            fix_en="run `make demo` first, or give the folder passed to `dq check --out`.",
        )
    counts = read_csv(out / "counts.csv", keep_default_na=False)
    for col in ("element_count", "unexpected_count"):
        counts[col] = counts[col].astype(int)
    counts["evaluated"] = counts["evaluated"].str.lower().eq("true")
    problems = read_csv(out / "problems.csv", keep_default_na=False)
    problems["row"] = problems["row"].astype(int)
    summary_path = out / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.exists() else {}
    return counts, problems, summary


def masked_rows(frame: pd.DataFrame, domain: str | Domain) -> pd.DataFrame:
    """A copy of ``frame`` (rows of a batch table) with every personal-data column masked."""
    pii = _domain(domain).pii_fields()
    out = frame.copy()
    for col in out.columns:
        if col in pii:
            out[col] = [mask_value(col, v, pii) for v in out[col]]
    return out


# ================================================================================================ labels


def _scoring_config(dom: Domain) -> scoring.ScoringConfig | None:
    """The pack's scoring model (:func:`toolkit.scoring.load_scoring`), ``None`` if it has none."""
    if not (dom.path / "scoring.yaml").exists():
        return None
    return scoring.load_scoring(dom)


def indicator_settings(indicator: str, domain: str | Path | Domain) -> scoring.Indicator:
    """One indicator of the scoring model (``label_zh``, ``weight``, ``target``, ``floor``,
    ``direction``, ``rules`` …) as :func:`toolkit.scoring.load_scoring` reads it; raises
    :class:`~toolkit.errors.LessonError` if the model has no such indicator."""
    dom = _domain(domain)
    config = _scoring_config(dom)
    if config is not None and indicator in config.ids:
        return config.indicator(indicator)
    known = "、".join(config.ids) if config is not None else ""
    raise LessonError(
        f"评分模型中没有指标 {indicator}。",
        f"the scoring model has no indicator {indicator}.",
        path=dom.path / "scoring.yaml",
        fix_zh=f"可用的指标代码：{known}。" if known else "该领域包没有评分模型。",
        fix_en=f"indicator ids: {', '.join(config.ids)}." if config is not None else "the pack has no model.",
    )


def toolkit_labels(domain: str | Path | Domain) -> dict[str, dict[str, str]]:
    """The toolkit's own Chinese labels, by kind, read from the domain pack (and the ledger's states).

    Kinds: ``field`` (dictionary field code → label; a code used by several tables has one label),
    ``table``, ``code`` (``"DJLX:100"`` → 首次登记), ``mode``, ``dimension``, ``severity``,
    ``indicator``, ``grade`` and ``level`` (the scoring model, :func:`toolkit.scoring.load_scoring`),
    ``state`` (problem ledger, if installed).
    """
    dom = _domain(domain)
    labels: dict[str, dict[str, str]] = {k: {} for k in ("field", "table", "code", "mode")}
    for tcode, table in dom.tables.items():
        labels["table"][tcode] = table["label_zh"]
        for fcode, spec in table["fields"].items():
            labels["field"].setdefault(fcode, spec["label_zh"])
    for list_name, codes in dom.code_lists.items():
        for code, text in codes.items():
            labels["code"][f"{list_name}:{code}"] = text
    for mode, spec in (dom.config.get("modes") or {}).items():
        labels["mode"][mode] = spec.get("label_zh", mode)
    own = dom.config.get("labels") or {}
    labels["dimension"] = dict(own.get("dimensions") or DEFAULT_DIMENSION_LABELS)
    labels["severity"] = dict(own.get("severities") or DEFAULT_SEVERITY_LABELS)
    config = _scoring_config(dom)
    labels["indicator"] = {i.id: i.label_zh for i in config.indicators} if config else {}
    labels["grade"] = {g: g for g, _ in config.grades} if config else {}
    labels["level"] = {lv: lv for lv, _ in config.levels} if config else {}
    try:
        from toolkit import ledger

        labels["state"] = {alias: s for alias, s in ledger.STATE_ALIASES.items() if s in ledger.STATES}
    except (ImportError, AttributeError):  # the ledger is optional
        labels["state"] = {}
    return labels


# ================================================================================================ common errors


def _unit_label(domain: str | Path | Domain) -> str:
    """The pack's unit label (bdc: 区县, gjj: 中心, sgs: 部门), which names the unit's columns."""
    return _domain(domain).unit.label_zh


def top_error_columns(domain: str | Path | Domain) -> tuple[str, ...]:
    """Columns of :func:`top_errors`, in order; the units counted are named as the pack names them
    (bdc: 涉及区县数, gjj: 涉及中心数)."""
    return (
        "排名",
        "规则编号",
        "问题说明",
        "整改办法",
        "维度",
        "严重程度",
        "问题数",
        "占比（%）",
        f"涉及{_unit_label(domain)}数",
        "文件",
    )


def top_errors(problems: pd.DataFrame, n: int = 10, *, domain: str | Path | Domain) -> pd.DataFrame:
    """The ``n`` rules with the most problem rows (most first; equal counts by rule id), with what to
    tell the clerks (:func:`top_error_columns`). 排名 is ranked like the districts' scores: rules with the
    same number of problems share the best rank (1, 2, 2, 4 …)."""
    dom = _domain(domain)
    cols = list(top_error_columns(dom))
    if problems.empty:
        return pd.DataFrame(columns=cols)
    labels = toolkit_labels(dom)
    grouped = (
        problems.assign(_d=_col(problems, _UNIT).fillna(""))
        .groupby("rule_id", sort=True)
        .agg(
            问题说明=("message_zh", "first"),
            整改办法=("fix_zh", "first"),
            维度=("dimension", "first"),
            严重程度=("severity", "first"),
            问题数=("rule_id", "size"),
            **{cols[8]: ("_d", "nunique")},
            文件=("file", "first"),
        )
        .reset_index()
        .rename(columns={"rule_id": "规则编号"})
    )
    grouped["排名"] = scoring.rank_scores(grouped["问题数"])  # as districts are ranked: 1, 2, 2, 4 …
    grouped = grouped.sort_values(["问题数", "规则编号"], ascending=[False, True], kind="stable").head(n)
    grouped["占比（%）"] = (grouped["问题数"] / len(problems) * 100).round(1)
    grouped["维度"] = grouped["维度"].map(lambda d: labels["dimension"].get(d, d))
    grouped["严重程度"] = grouped["严重程度"].map(lambda s: labels["severity"].get(s, s))
    return grouped[cols].reset_index(drop=True)


def examples(
    problems: pd.DataFrame, rule_id: str, n: int = 3, *, domain: str | Path | Domain
) -> pd.DataFrame:
    """Up to ``n`` problem rows of one rule, as a clerk would look them up (values already masked). The
    unit's and the record's columns are named as the pack names them (bdc: 区县代码, 业务号; gjj: 中心代码
    and the key of the rule's table, e.g. 个人账号)."""
    dom = _domain(domain)
    rows = problems[problems["rule_id"] == rule_id].head(n)
    table = str(rows["table"].iloc[0]) if "table" in rows.columns and len(rows) else ""
    out = pd.DataFrame(
        {
            f"{dom.unit.label_zh}代码": _col(rows, _UNIT),
            dom.rule_key_label(rule_id, table): _col(rows, _RECORD),
            "文件": rows["file"],
            "行号": rows["row"],
            "字段": rows["field"],
            "问题值（已脱敏）": rows["value_masked"],
            "具体原因": rows.get("detail_zh", pd.Series("", index=rows.index)),
        }
    )
    return out.fillna("").reset_index(drop=True)


# ================================================================================================ scores

NOT_SCORED = "不参评"

#: Columns of :func:`explain_table`, in order.
EXPLAIN_COLUMNS = (
    "指标",
    "代码",
    "方向",
    "分子",
    "分母",
    "比率（%）",
    "目标值（%）",
    "底线（%）",
    "单项得分",
    "单项等级",
    "权重",
    "实际权重",
    "贡献",
    "失分",
)
#: Columns of :func:`weak_rules`, in order.
WEAK_RULE_COLUMNS = (
    "指标",
    "单项得分",
    "单项等级",
    "规则编号",
    "适用行数",
    "问题行数",
    "问题说明",
    "整改办法",
)


def ranking_columns(domain: str | Path | Domain) -> tuple[str, ...]:
    """Columns of :func:`ranking_table`, in order; the unit's code and name are named as the pack names
    the unit (bdc: 区县代码, 区县; gjj: 中心代码, 中心)."""
    label = _unit_label(domain)
    return ("名次", f"{label}代码", label, "得分", "等级", "上期得分", "得分变化", "上期名次", "名次变化")


#: Points lost below this are binary noise of the weights (an indicator at 100 points lost nothing).
_NOISE = 1e-9


def level_css(value: Any, config: scoring.ScoringConfig) -> str:
    """CSS of a table cell that shows an indicator level: the level's colour in the scoring model
    (:meth:`toolkit.scoring.ScoringConfig.level_colour`, the bulletin's colours), none for anything else
    (不参评, empty). Use it as ``frame.style.map(lessons.level_css, config=result.config)``."""
    fill = config.level_colour(value)
    return f"background-color: {fill}" if fill else ""


def explain_table(explanation: Any) -> pd.DataFrame:
    """Every indicator of one district and period (a :class:`toolkit.scoring.Explanation`) as a table
    with Chinese headings: numerator, denominator, rate, target and floor (rates in percent), points,
    level (``不参评`` when the denominator is 0), weight, the weight after spreading the weights of the
    indicators not scored (实际权重), contribution to the score and points lost (失分).

    Σ 贡献 is the score before rounding; Σ 失分 = 100 − Σ 贡献.
    """
    ind = explanation.indicators
    scored = ind["scored"].astype(bool)
    lost = ind["lost"].astype(float)

    def pct(col: str) -> pd.Series:
        return (ind[col].astype(float) * 100).round(4)

    table = pd.DataFrame(
        {
            "指标": ind["label_zh"],
            "代码": ind["indicator"],
            "方向": ["↑" if d == "up" else "↓" for d in ind["direction"]],
            "分子": ind["numerator"].astype("Int64"),
            "分母": ind["denominator"].astype("Int64"),
            "比率（%）": pct("rate").where(scored),
            "目标值（%）": pct("target"),
            "底线（%）": pct("floor"),
            "单项得分": ind["points"].astype(float).round(1).where(scored),
            "单项等级": [lv if ok else NOT_SCORED for lv, ok in zip(ind["level"], scored, strict=True)],
            "权重": ind["weight"].astype(float),
            "实际权重": ind["effective_weight"].astype(float).round(2).where(scored, 0.0),
            "贡献": ind["contribution"].astype(float).round(2).where(scored, 0.0),
            "失分": lost.round(2).where(scored & (lost > _NOISE), 0.0),
        },
        columns=list(EXPLAIN_COLUMNS),
    )
    return table.reset_index(drop=True)


def weak_rules(explanation: Any, n: int = 3, *, domain: str | Path | Domain) -> pd.DataFrame:
    """The rules behind the ``n`` indicators that lost most points (``explanation.weakest(n)``), each
    with its counts in that district and period and what to tell the clerks (the rule's ``message_zh``
    and ``fix_zh``); indicators that lost nothing are skipped. Only rules with problem rows are listed,
    most problems first within an indicator. An indicator with no such rule (one counted from the
    registration log or the problem ledger) is listed with its other sources (a table's rows, the log,
    the ledger) and its description (``description_zh`` of the scoring model) as 问题说明.
    """
    dom = _domain(domain)
    rules = {r.rule_id: r for r in dom.rules}
    config = _scoring_config(dom)
    about = {i.id: " ".join(i.description_zh.split()) for i in config.indicators} if config else {}
    src = explanation.sources
    records = []
    for w in explanation.weakest(n).itertuples(index=False):
        if w.lost <= _NOISE:  # 100 points: nothing lost but binary noise
            continue
        mine = src[src["indicator"] == w.indicator]
        failing = mine[mine["unexpected_count"] > 0]
        by_rule = failing[failing["source"].isin(rules)]
        mine = by_rule if len(by_rule) else failing if len(failing) else mine.head(1)
        mine = mine.sort_values(["unexpected_count", "source"], ascending=[False, True], kind="stable")
        for s in mine.itertuples(index=False):
            rule = rules.get(s.source)
            records.append(
                {
                    "指标": w.label_zh,
                    "单项得分": round(float(w.points), 1),
                    "单项等级": w.level,
                    "规则编号": s.source,
                    "适用行数": int(s.element_count),
                    "问题行数": int(s.unexpected_count),
                    "问题说明": rule.meta.get("message_zh", "") if rule else about.get(w.indicator, ""),
                    "整改办法": rule.meta.get("fix_zh", "") if rule else "",
                }
            )
    return pd.DataFrame.from_records(records, columns=list(WEAK_RULE_COLUMNS))


def ranking_table(
    scores: pd.DataFrame, period: str | None = None, *, domain: str | Path | Domain
) -> pd.DataFrame:
    """The ranking of one period (default: the latest) from a scores frame
    (:func:`toolkit.scoring.scores_table` or ``scores.csv``: ``unit_code, unit_name, period, score, grade,
    rank``), best first, with the change against the period before (:func:`ranking_columns`: the unit's
    columns named as ``domain`` names its unit). The ranks are the scoring module's
    (:func:`toolkit.scoring.rank_scores`), never recomputed here.

    名次变化 reads ``↑2`` (two places up), ``↓1``, ``—`` (same place) or ``新`` (no score in the previous
    period); 得分变化 is the difference of the published scores. Units not scored come last.
    """
    cols = list(ranking_columns(domain))
    s = scores.copy()
    s["period"] = s["period"].astype(str)
    s["_unit"] = _col(s, _UNIT)
    periods = sorted(s["period"].unique())
    if not periods:
        return pd.DataFrame(columns=cols)
    current = str(period) if period is not None else periods[-1]
    if current not in periods:
        raise LessonError(
            f"得分中没有统计期 {current}（有 {periods[0]} 至 {periods[-1]}）。",
            f"no scores for period {current} (there are {periods[0]} to {periods[-1]}).",
        )
    earlier = [p for p in periods if p < current]
    cur = s[s["period"] == current]
    prev = s[s["period"] == earlier[-1]] if earlier else s.iloc[0:0]
    prev = prev.set_index("_unit")
    prev_score = cur["_unit"].map(prev["score"]).astype(float)
    prev_rank = cur["_unit"].map(prev["rank"]).astype(float)
    rank = cur["rank"].astype(float)
    moves = []
    for r, p in zip(rank, prev_rank, strict=True):
        if pd.isna(p) or pd.isna(r):
            moves.append("新" if pd.isna(p) and not pd.isna(r) else "")
        elif r < p:
            moves.append(f"↑{int(p - r)}")
        elif r > p:
            moves.append(f"↓{int(r - p)}")
        else:
            moves.append("—")
    table = pd.DataFrame(
        {
            "名次": cur["rank"].astype("Int64"),
            cols[1]: cur["_unit"],
            cols[2]: _col(cur, _UNIT_NAME),
            "得分": cur["score"].astype(float),
            "等级": cur["grade"],
            "上期得分": prev_score,
            "得分变化": (cur["score"].astype(float) - prev_score).round(1),
            "上期名次": prev_rank.astype("Int64"),
            "名次变化": moves,
        },
        columns=cols,
    )
    table = table.sort_values(["名次", cols[1]], na_position="last", kind="stable")
    return table.reset_index(drop=True)


# ================================================================================================ check digits by hand


def check_digit_worksheet(first17: str, kind: str = "citizen_id") -> pd.DataFrame:
    """The hand calculation of a check character, one row per position, then the sum, the remainder and
    the check character — the worksheet of episode 3.

    ``kind``: ``citizen_id`` (公民身份号码, GB 11643: Σ digit × weight, mod 11, ``10X98765432``) or
    ``credit_code`` (统一社会信用代码, GB 32100: Σ value × weight, mod 31, ``(31 − r) mod 31``). Weights,
    character values and the check character are the checks' own, from :mod:`toolkit.validators`
    (:data:`~toolkit.validators.CITIZEN_ID_WEIGHTS`, :data:`~toolkit.validators.CREDIT_CODE_WEIGHTS`,
    :data:`~toolkit.validators.CREDIT_CODE_CHARSET`, :func:`~toolkit.validators.citizen_id_check_digit`,
    :func:`~toolkit.validators.credit_code_check_char`). A malformed ``first17`` raises
    :class:`~toolkit.errors.LessonError` saying what is wrong.
    """
    if kind == "citizen_id":
        allowed, what, what_en = "0123456789", "数字", "digits"
    elif kind == "credit_code":
        allowed = validators.CREDIT_CODE_CHARSET
        what, what_en = "数字或大写字母（不含 I、O、Z、S、V）", "digits or capital letters (no I, O, Z, S, V)"
    else:
        raise ValueError(f"kind must be citizen_id or credit_code, not {kind!r}")
    bad = "".join(dict.fromkeys(c for c in first17 if c not in allowed))
    if len(first17) != 17 or bad:
        raise LessonError(
            f"校验码由前 17 位算出：应为 17 个{what}，实际为 {len(first17)} 位"
            + (f"，含不允许的字符 {bad}" if bad else "")
            + "。",
            f"the check character is computed from the first 17 characters: expected 17 {what_en}, got "
            f"{len(first17)}" + (f" with characters not allowed: {bad}" if bad else "") + ".",
            fix_zh="只填号码的前 17 位（不含校验码），全部用半角字符。",
            fix_en="give the first 17 characters of the number (without the check character), half-width.",
        )
    if kind == "citizen_id":
        values, weights = [int(c) for c in first17], validators.CITIZEN_ID_WEIGHTS
    else:
        values = [validators.CREDIT_CODE_CHARSET.index(c) for c in first17]
        weights = validators.CREDIT_CODE_WEIGHTS
    rows: list[dict[str, Any]] = [
        {"位置": str(i + 1), "字符": c, "数值": v, "权重": w, "乘积": v * w}
        for i, (c, v, w) in enumerate(zip(first17, values, weights, strict=True))
    ]
    total = sum(r["乘积"] for r in rows)
    if kind == "citizen_id":
        steps = [
            ("合计", total),
            ("合计 ÷ 11 的余数", total % 11),
            (
                f"校验码 = “{validators.CITIZEN_ID_CHECK_CHARS}”的第（余数+1）个字符",
                validators.citizen_id_check_digit(first17),
            ),
        ]
    else:
        rem = total % 31
        steps = [
            ("合计", total),
            ("合计 ÷ 31 的余数", rem),
            ("31 − 余数（等于 31 时取 0）", (31 - rem) % 31),
            ("校验码 = 字符表中该数值对应的字符", validators.credit_code_check_char(first17)),
        ]
    rows += [{"位置": label, "字符": "", "数值": "", "权重": "", "乘积": value} for label, value in steps]
    return pd.DataFrame(rows, columns=["位置", "字符", "数值", "权重", "乘积"])


_PARCEL_OWNER = {"G": "国家土地所有权", "J": "集体土地所有权", "Z": "土地所有权未确定或有争议"}
_PARCEL_TYPE = {
    "A": "集体土地所有权宗地",
    "B": "建设用地使用权宗地（地表）",
    "S": "建设用地使用权宗地（地上）",
    "X": "建设用地使用权宗地（地下）",
    "C": "宅基地使用权宗地",
    "D": "土地承包经营权宗地（耕地）",
    "E": "林地使用权宗地（承包经营以外的）或土地承包经营权宗地（林地）",
    "F": "土地承包经营权宗地（草地）",
    "H": "海域使用权宗海",
    "G": "无居民海岛使用权海岛",
    "W": "使用权未确定或有争议的土地",
    "Y": "其他使用权宗地",
    "L": "林地使用权宗地（部分系统）",
    "N": "农用地使用权宗地（部分系统）",
}
_FIXTURE = {"F": "房屋等建筑物、构筑物", "L": "森林或林木", "Q": "其他定着物", "W": "无定着物"}


def unit_number_parts(value: str) -> pd.DataFrame:
    """The seven parts of a 不动产单元号 (GB/T 37346): positions, value, meaning and whether it is right.

    The last column says, for the first wrong part, what :func:`toolkit.validators.unit_number_problem`
    says; a value of the wrong length is cut into the parts it would have.
    """
    v = str(value)
    parts = [
        ("1–6", "县级行政区划代码", v[0:6]),
        ("7–9", "地籍区", v[6:9]),
        ("10–12", "地籍子区", v[9:12]),
        ("13–14", "宗地（宗海）特征码", v[12:14]),
        ("15–19", "宗地（宗海）顺序号", v[14:19]),
        ("20", "定着物特征码", v[19:20]),
        ("21–28", "定着物单元编号", v[20:28]),
    ]
    problem = validators.unit_number_problem(v)
    rows = []
    for pos, name, text in parts:
        meaning = ""
        if name.startswith("宗地（宗海）特征码") and len(text) == 2:
            meaning = f"{_PARCEL_OWNER.get(text[0], '？')} + {_PARCEL_TYPE.get(text[1], '？')}"
        elif name == "定着物特征码":
            meaning = _FIXTURE.get(text, "？")
        elif name == "县级行政区划代码":
            meaning = "应与区县代码相同"
        verdict = "✗ " + problem if problem and problem.startswith(f"第{pos}位") else ""
        rows.append({"位置": pos, "名称": name, "值": text, "含义": meaning, "检查": verdict})
    table = pd.DataFrame(rows)
    if problem and not (table["检查"] != "").any():
        table.loc[0, "检查"] = "✗ " + problem
    return table
