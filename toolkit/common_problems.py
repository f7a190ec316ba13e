"""常见问题清单 / the common-problems list of a period, for any domain pack.

From the problem list of ``dq check`` (``CheckResult.problems`` or ``problems.csv``: one row per failing
row × rule) — or, without it, from the unit counts (``counts``) — the rules are ranked by the number of
failures. Each rule is shown with its plain-language message and fix (``message_zh`` / ``fix_zh`` of the
suites' meta), the units it affects most and a few examples. The same is given per unit, so that each
office gets its own short list. Written as one self-contained HTML page and an XLSX workbook through
:mod:`toolkit.render`.

Everything about the domain comes from the pack (:class:`toolkit.domain.Domain`): the unit of assessment
(its label — 区县, 中心, 机构 … — in the column names and headings, and its names), the record keys shown
in the examples and the title (``titles.common_problems`` of ``domain.yaml``). Input frames carry the unit
as ``unit_code`` (and ``unit_name``) and a problem's record as ``record_key``; a file that only has the
pack's legacy columns (``legacy_columns`` of ``domain.yaml``) is read through them.

Personal data is never shown: an example's value is masked by the field's personal-data class (the
dictionary's ``pii``), and any value that looks like a citizen ID or a mobile number is masked whatever
its field (see :func:`safe_value`), so a problem list that reached this module unmasked still leaves it
masked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.masking import masker_for, scrub_text
from toolkit.render import render_html, xlsx_writer

__all__ = [
    "CommonProblems",
    "build_common_problems",
    "district_name",
    "safe_value",
    "scrub_text",
    "standard_columns",
    "unit_name",
    "write_common_problems",
]

UNIT = "unit_code"
UNIT_NAME = "unit_name"

# how many characters each personal-data class keeps visible (see toolkit.masking)
_VISIBLE = {"name": 1, "id_no": 10, "phone": 7}


def safe_value(value: Any, kind: str | None = None, *, exempt: bool = False) -> str:
    """A value fit to be shown: masked by its personal-data class ``kind`` (unless it already is, which
    is recognised by its ``*`` and the number of visible characters), then scrubbed for ID and phone
    numbers unless ``exempt`` (record keys, which are not personal data)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    s = str(value)
    fn = masker_for(kind)
    if fn is not None and s.strip():
        visible = len(s.replace("*", ""))
        if not ("*" in s and visible <= _VISIBLE.get(kind or "", 0)):
            s = fn(s)
    return s if exempt else scrub_text(s)


def _missing(code: Any) -> bool:
    return code is None or (isinstance(code, float) and code != code) or str(code) == ""


def unit_name(code: Any, domain, names: Mapping[str, str] | None = None) -> str:
    """The name of a unit code of the pack ``domain``: from ``names`` (seen in the data), else the pack
    (:meth:`toolkit.domain.Unit.name_of`), else the code itself; ``（未填<单位>）`` for an empty code."""
    dom = _domain(domain)
    if _missing(code):
        return f"（未填{dom.unit.label_zh}）"
    return dom.unit.name_of(str(code), dict(names or {})) or str(code)


def district_name(code: Any, names: Mapping[str, str] | None = None, *, domain=None) -> str:
    """Compatibility name of :func:`unit_name` (earlier versions named counties only).

    With ``domain`` it is :func:`unit_name`. Without, a code is named from ``names``, else the GB/T 2260
    region list, else shown as it is. New code should call :func:`unit_name` with the pack."""
    if domain is not None:
        return unit_name(code, domain, names)
    if _missing(code):
        return "（未填）"
    code = str(code)
    if names and names.get(code):
        return names[code]
    from toolkit import regions

    return regions.county_name(code) or code


@dataclass
class CommonProblems:
    """The list, as frames (Chinese column names, ready to show). The unit's columns are named after the
    pack's unit label (``label`` = 区县 → 区县代码, 区县名称, 涉及区县数, 主要区县)."""

    rules: pd.DataFrame
    """One row per failing rule, most failures first: 序号, 规则编号, 问题说明, 整改办法, 表, 字段, 问题条数,
    涉及<单位>数, 主要<单位>, 示例, 严重程度, 维度."""
    by_unit: pd.DataFrame
    """One row per unit × failing rule: <单位>代码, <单位>名称, 序号 (within the unit), 规则编号, 问题说明,
    整改办法, 问题条数, 示例."""
    units: pd.DataFrame
    """One row per unit with problems: <单位>代码, <单位>名称, 问题条数, 规则数, 最多的问题."""
    total: int
    """All failures counted."""
    source: str
    """``problems`` or ``counts``: what was counted."""
    period: str = ""
    label: str = "单位"
    """The pack's unit label (区县, 中心, 机构 …)."""
    title: str = "常见问题清单"
    """The pack's title (``titles.common_problems``)."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def code_column(self) -> str:
        return f"{self.label}代码"

    @property
    def name_column(self) -> str:
        return f"{self.label}名称"

    @property
    def count_column(self) -> str:
        return f"涉及{self.label}数"

    @property
    def top_column(self) -> str:
        return f"主要{self.label}"

    # names of earlier versions (counties only), kept for callers that read them
    @property
    def by_district(self) -> pd.DataFrame:
        return self.by_unit

    @property
    def districts(self) -> pd.DataFrame:
        return self.units


def _domain(domain):
    if domain is None:
        raise TypeError("the pack is required (domain=…): a pack's name, its folder or a loaded Domain")
    if isinstance(domain, str | Path):
        from toolkit.domain import load_domain

        return load_domain(domain)
    return domain


def standard_columns(frame: pd.DataFrame | None, domain) -> pd.DataFrame | None:
    """``frame`` with ``unit_code`` / ``unit_name`` / ``record_key``: a file that only has the pack's
    legacy columns (an older ``problems.csv``) gets them from those."""
    if frame is None:
        return None
    dom = _domain(domain)
    out = frame
    for std, old in dom.legacy_columns.items():
        if std not in out.columns and old in out.columns:
            out = out.assign(**{std: out[old]})
    if "record_key" not in out.columns and "key" in out.columns:
        out = out.assign(record_key=out["key"])
    return out


def _rule_meta(dom, rule_id: str) -> dict[str, Any]:
    try:
        return dict(dom.rule(rule_id).meta)
    except KeyError:
        return {}


def _seen_names(frame: pd.DataFrame | None) -> dict[str, str]:
    if frame is None or UNIT_NAME not in frame.columns or UNIT not in frame.columns:
        return {}
    pairs = frame[[UNIT, UNIT_NAME]].dropna()
    return {str(c): str(n) for c, n in zip(pairs[UNIT], pairs[UNIT_NAME], strict=True) if str(n)}


def build_common_problems(
    problems: pd.DataFrame | None = None,
    counts: pd.DataFrame | None = None,
    *,
    domain,
    names: Mapping[str, str] | None = None,
    top_units: int = 3,
    examples: int = 3,
    period: str = "",
) -> CommonProblems:
    """Rank the rules of a period by failures (rows of ``problems``; else ``unexpected_count`` of
    ``counts``) and list them overall and per unit. ``domain``: the pack (required); ``names``: unit
    names seen elsewhere (a ``unit_name`` column of the input is used too)."""
    dom = _domain(domain)
    label = dom.unit.label_zh
    pii = dom.pii_fields()
    keys = dom.key_fields()
    if problems is not None:
        source = "problems"
        frame = standard_columns(problems, dom).copy()
        frame[UNIT] = frame[UNIT].fillna("").astype(str)
        per = frame.groupby(["rule_id", UNIT], sort=False).size().rename("n").reset_index()
    elif counts is not None:
        source = "counts"
        frame = standard_columns(counts, dom).copy()
        if "evaluated" in frame.columns:
            frame = frame[frame["evaluated"].astype(str).str.lower().isin(["true", "1"])]
        frame[UNIT] = frame[UNIT].fillna("").astype(str)
        per = frame.groupby(["rule_id", UNIT], sort=False)["unexpected_count"].sum().rename("n").reset_index()
        per["n"] = per["n"].astype(int)
        per = per[per["n"] > 0]
    else:
        raise ValueError("build_common_problems needs problems or counts")
    seen = {**_seen_names(frame), **dict(names or {})}
    examples_from = frame if source == "problems" else None

    def name_of(code: Any) -> str:
        return unit_name(code, dom, seen)

    def meta_of(rid: str) -> dict[str, Any]:
        meta = _rule_meta(dom, rid)
        if examples_from is not None and ("message_zh" not in meta or "fix_zh" not in meta):
            row = examples_from[examples_from["rule_id"] == rid].iloc[0]
            meta.setdefault("message_zh", row.get("message_zh", ""))
            meta.setdefault("fix_zh", row.get("fix_zh", ""))
            meta.setdefault("table", row.get("table", ""))
            meta.setdefault("field", row.get("field", ""))
        return meta

    def examples_of(rows: pd.DataFrame) -> str:
        out: list[str] = []
        seen_text: set[str] = set()
        for r in rows.itertuples(index=False):
            rec = r._asdict()
            fld = str(rec.get("field") or "")
            value = safe_value(rec.get("value_masked"), pii.get(fld), exempt=fld in keys)
            key = safe_value(rec.get("record_key"), exempt=True)
            table = str(rec.get("table") or "")
            text = f"{dom.key_label(table)} {key}：{value or '（空）'}" if key else (value or "（空）")
            if text in seen_text:
                continue
            seen_text.add(text)
            out.append(text)
            if len(out) >= examples:
                break
        return "；".join(out)

    code_col, name_col = f"{label}代码", f"{label}名称"
    count_col, top_col = f"涉及{label}数", f"主要{label}"
    totals = per.groupby("rule_id", sort=False).agg(n=("n", "sum"), nd=(UNIT, "nunique")).reset_index()
    totals = totals.sort_values(["n", "nd", "rule_id"], ascending=[False, False, True], kind="mergesort")
    severities = (dom.config.get("labels") or {}).get("severities") or {"critical": "严重", "warning": "警告"}
    rule_rows = []
    for i, t in enumerate(totals.itertuples(index=False), start=1):
        meta = meta_of(t.rule_id)
        table, fld = meta.get("table", ""), meta.get("field", "")
        top = (
            per[per["rule_id"] == t.rule_id].sort_values(["n", UNIT], ascending=[False, True]).head(top_units)
        )
        ex = (
            examples_of(examples_from[examples_from["rule_id"] == t.rule_id])
            if examples_from is not None
            else ""
        )
        rule_rows.append(
            {
                "序号": i,
                "规则编号": t.rule_id,
                "问题说明": meta.get("message_zh", ""),
                "整改办法": meta.get("fix_zh", ""),
                "表": dom.table_label(table) if table else "",
                "字段": f"{dom.field_label(table, fld)}（{fld}）" if fld else "",
                "问题条数": int(t.n),
                count_col: int(t.nd),
                top_col: "、".join(
                    f"{name_of(d)} {int(n)} 条" for d, n in zip(top[UNIT], top["n"], strict=True)
                ),
                "示例": ex,
                "严重程度": severities.get(meta.get("severity", ""), meta.get("severity", "")),
                "维度": meta.get("dimension", ""),
            }
        )
    rule_cols = ["序号", "规则编号", "问题说明", "整改办法", "表", "字段", "问题条数", count_col, top_col]
    rules = pd.DataFrame(rule_rows, columns=[*rule_cols, "示例", "严重程度", "维度"])
    order = {rid: i for i, rid in enumerate(totals["rule_id"])}
    item_rows = []
    unit_rows = []
    for d, grp in per.groupby(UNIT, sort=True):
        grp = grp.assign(o=grp["rule_id"].map(order)).sort_values(["n", "o"], ascending=[False, True])
        name = name_of(d)
        for j, g in enumerate(grp.itertuples(index=False), start=1):
            meta = meta_of(g.rule_id)
            ex = (
                examples_of(
                    examples_from[(examples_from["rule_id"] == g.rule_id) & (examples_from[UNIT] == d)]
                )
                if examples_from is not None
                else ""
            )
            item_rows.append(
                {
                    code_col: d,
                    name_col: name,
                    "序号": j,
                    "规则编号": g.rule_id,
                    "问题说明": meta.get("message_zh", ""),
                    "整改办法": meta.get("fix_zh", ""),
                    "问题条数": int(g.n),
                    "示例": ex,
                }
            )
        first = grp.iloc[0]
        unit_rows.append(
            {
                code_col: d,
                name_col: name,
                "问题条数": int(grp["n"].sum()),
                "规则数": len(grp),
                "最多的问题": meta_of(first["rule_id"]).get("message_zh", first["rule_id"]),
            }
        )
    by_unit = pd.DataFrame(
        item_rows,
        columns=[code_col, name_col, "序号", "规则编号", "问题说明", "整改办法", "问题条数", "示例"],
    )
    units = pd.DataFrame(unit_rows, columns=[code_col, name_col, "问题条数", "规则数", "最多的问题"])
    rules, by_unit = _with_tech(rules, meta_of), _with_tech(by_unit, meta_of)
    if len(units):
        units = units.sort_values(["问题条数", code_col], ascending=[False, True], kind="mergesort")
        units = units.reset_index(drop=True)
    return CommonProblems(
        rules=rules,
        by_unit=by_unit,
        units=units,
        total=int(per["n"].sum()),
        source=source,
        period=period,
        label=label,
        title=dom.title("common_problems", f"{dom.label}数据常见问题清单"),
    )


#: Column of the platform's technical wording (``message_tech_zh``), before the plain one: packs whose rules
#: carry it (sgs) show technical → plain; others have no such column.
TECH = "平台提示"


def _with_tech(frame: pd.DataFrame, meta_of) -> pd.DataFrame:
    tech = [meta_of(r).get("message_tech_zh", "") or "" for r in frame["规则编号"]]
    if not any(tech):
        return frame
    return frame.assign(**{TECH: tech})[
        [
            *frame.columns[: frame.columns.get_loc("问题说明")],
            TECH,
            *frame.columns[frame.columns.get_loc("问题说明") :],
        ]
    ]


def _tech_first(record: dict[str, Any]) -> dict[str, Any]:
    """A row for the HTML list: 平台提示 → 问题说明 in one cell, the way the credit office explains it."""
    if record.get(TECH):
        return {**record, "问题说明": f"平台提示“{record[TECH]}” → {record['问题说明']}"}
    return record


# ------------------------------------------------------------------------------------------ outputs


def write_common_problems(
    cp: CommonProblems,
    out_dir: str | Path,
    *,
    title: str | None = None,
    stem: str = "common_problems",
    generated: dt.datetime | None = None,
) -> dict[str, Path]:
    """Write ``<stem>.html`` (self-contained) and ``<stem>.xlsx``; return their paths. ``title``: default
    the pack's (``cp.title``)."""
    title = title or cp.title
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    generated = generated or dt.datetime.now().replace(microsecond=0)
    paths = {"html": out / f"{stem}.html", "xlsx": out / f"{stem}.xlsx"}
    html = render_html(
        "common_problems.html.j2",
        title=title,
        period=cp.period,
        generated=generated,
        cp=cp,
        label=cp.label,
        cols={"code": cp.code_column, "name": cp.name_column, "count": cp.count_column, "top": cp.top_column},
        rules=[_tech_first(r) for r in cp.rules.to_dict("records")],
        units=[
            {
                **d,
                "items": [
                    _tech_first(r)
                    for r in cp.by_unit[cp.by_unit[cp.code_column] == d[cp.code_column]].to_dict("records")
                ],
            }
            for d in cp.units.to_dict("records")
        ],
    )
    paths["html"].write_text(html, encoding="utf-8")
    widths = {
        TECH: 30,
        "问题说明": 40,
        "整改办法": 40,
        cp.top_column: 28,
        "示例": 40,
        "规则编号": 26,
        "字段": 18,
    }
    with xlsx_writer(paths["xlsx"]) as book:
        book.add_table(
            "常见问题",
            cp.rules,
            title=f"{title}{('（' + cp.period + '）') if cp.period else ''}",
            widths=widths,
        )
        book.add_table(
            f"分{cp.label}",
            cp.by_unit,
            title=f"各{cp.label}常见问题",
            widths={"问题说明": 40, "整改办法": 40, "示例": 40, "规则编号": 26},
        )
        book.add_table(f"{cp.label}汇总", cp.units, title=f"各{cp.label}问题条数", widths={"最多的问题": 50})
    return paths
