"""常见问题清单 / the common-problems list of a period.

From the problem list of ``dq check`` (``problems.csv``: one row per failing row × rule) — or, without it,
from the district counts (``counts.csv``) — the rules are ranked by the number of failures. Each rule is
shown with its plain-language message and fix (``message_zh`` / ``fix_zh`` of the suites' meta), the
districts it affects most and a few examples. The same is given per district, so that each office gets
its own short list. Written as one self-contained HTML page and an XLSX workbook.

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

__all__ = [
    "CommonProblems",
    "build_common_problems",
    "district_name",
    "safe_value",
    "scrub_text",
    "write_common_problems",
]

NO_DISTRICT_NAME = "（未填区县）"

# how many characters each personal-data class keeps visible (see toolkit.masking)
_VISIBLE = {"name": 1, "id_no": 10, "phone": 7}


def safe_value(value: Any, kind: str | None = None, *, exempt: bool = False) -> str:
    """A value fit to be shown: masked by its personal-data class ``kind`` (unless it already is, which
    is recognised by its ``*`` and the number of visible characters), then scrubbed for ID and phone
    numbers unless ``exempt`` (keys such as 业务号 that are not personal data)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    s = str(value)
    fn = masker_for(kind)
    if fn is not None and s.strip():
        visible = len(s.replace("*", ""))
        if not ("*" in s and visible <= _VISIBLE.get(kind or "", 0)):
            s = fn(s)
    return s if exempt else scrub_text(s)


def district_name(code: Any, names: Mapping[str, str] | None = None) -> str:
    """Name of a district code: from ``names``, else the county list (GB/T 2260), else the code."""
    if code is None or (isinstance(code, float) and code != code) or str(code) == "":
        return NO_DISTRICT_NAME
    code = str(code)
    if names and names.get(code):
        return names[code]
    from toolkit import regions

    return regions.county_name(code) or code


@dataclass
class CommonProblems:
    """The list, as frames (Chinese column names, ready to show)."""

    rules: pd.DataFrame
    """One row per failing rule, most failures first: 序号, 规则编号, 问题说明, 整改办法, 表, 字段, 问题条数,
    涉及区县数, 主要区县, 示例, 严重程度, 维度."""
    by_district: pd.DataFrame
    """One row per district × failing rule: 区县代码, 区县名称, 序号 (within the district), 规则编号,
    问题说明, 整改办法, 问题条数, 示例."""
    districts: pd.DataFrame
    """One row per district with problems: 区县代码, 区县名称, 问题条数, 规则数, 最多的问题."""
    total: int
    """All failures counted."""
    source: str
    """``problems`` or ``counts``: what was counted."""
    period: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _domain(domain):
    if domain is None or isinstance(domain, str):
        from toolkit.domain import load_domain

        return load_domain(domain or "bdc")
    return domain


def _rule_meta(dom, rule_id: str) -> dict[str, Any]:
    try:
        return dict(dom.rule(rule_id).meta)
    except KeyError:
        return {}


def _key_fields(dom) -> set[str]:
    keys = {"YWH"}
    for t in dom.tables.values():
        k = t.get("key")
        keys.update(k if isinstance(k, list) else [k] if k else [])
    return keys


def build_common_problems(
    problems: pd.DataFrame | None = None,
    counts: pd.DataFrame | None = None,
    *,
    domain=None,
    names: Mapping[str, str] | None = None,
    district_column: str = "QXDM",
    top_districts: int = 3,
    examples: int = 3,
    period: str = "",
) -> CommonProblems:
    """Rank the rules of a period by failures (rows of ``problems``; else ``unexpected_count`` of
    ``counts``) and list them overall and per district."""
    dom = _domain(domain)
    pii = dom.pii_fields()
    keys = _key_fields(dom)
    dcol = district_column
    if problems is not None:
        source = "problems"
        frame = problems.copy()
        frame[dcol] = frame[dcol].fillna("").astype(str)
        per = frame.groupby(["rule_id", dcol], sort=False).size().rename("n").reset_index()
    elif counts is not None:
        source = "counts"
        frame = counts.copy()
        if "evaluated" in frame.columns:
            frame = frame[frame["evaluated"].astype(str).str.lower().isin(["true", "1"])]
        frame[dcol] = frame[dcol].fillna("").astype(str)
        per = frame.groupby(["rule_id", dcol], sort=False)["unexpected_count"].sum().rename("n").reset_index()
        per["n"] = per["n"].astype(int)
        per = per[per["n"] > 0]
        frame = None
    else:
        raise ValueError("build_common_problems needs problems or counts")

    def meta_of(rid: str) -> dict[str, Any]:
        meta = _rule_meta(dom, rid)
        if frame is not None and ("message_zh" not in meta or "fix_zh" not in meta):
            row = frame[frame["rule_id"] == rid].iloc[0]
            meta.setdefault("message_zh", row.get("message_zh", ""))
            meta.setdefault("fix_zh", row.get("fix_zh", ""))
            meta.setdefault("table", row.get("table", ""))
            meta.setdefault("field", row.get("field", ""))
        return meta

    def examples_of(rows: pd.DataFrame) -> str:
        out: list[str] = []
        seen: set[str] = set()
        for r in rows.itertuples(index=False):
            rec = r._asdict()
            fld = str(rec.get("field") or "")
            value = safe_value(rec.get("value_masked"), pii.get(fld), exempt=fld in keys or fld == "YWH")
            ywh = safe_value(rec.get("YWH"), exempt=True)
            text = f"业务号 {ywh}：{value or '（空）'}" if ywh else (value or "（空）")
            if text in seen:
                continue
            seen.add(text)
            out.append(text)
            if len(out) >= examples:
                break
        return "；".join(out)

    totals = per.groupby("rule_id", sort=False).agg(n=("n", "sum"), nd=(dcol, "nunique")).reset_index()
    totals = totals.sort_values(["n", "nd", "rule_id"], ascending=[False, False, True], kind="mergesort")
    rule_rows = []
    for i, t in enumerate(totals.itertuples(index=False), start=1):
        meta = meta_of(t.rule_id)
        table, fld = meta.get("table", ""), meta.get("field", "")
        top = (
            per[per["rule_id"] == t.rule_id]
            .sort_values(["n", dcol], ascending=[False, True])
            .head(top_districts)
        )
        ex = examples_of(frame[frame["rule_id"] == t.rule_id]) if frame is not None else ""
        rule_rows.append(
            {
                "序号": i,
                "规则编号": t.rule_id,
                "问题说明": meta.get("message_zh", ""),
                "整改办法": meta.get("fix_zh", ""),
                "表": dom.table_label(table) if table else "",
                "字段": f"{dom.field_label(table, fld)}（{fld}）" if fld else "",
                "问题条数": int(t.n),
                "涉及区县数": int(t.nd),
                "主要区县": "、".join(
                    f"{district_name(d, names)} {int(n)} 条" for d, n in zip(top[dcol], top["n"], strict=True)
                ),
                "示例": ex,
                "严重程度": {"critical": "严重", "warning": "警告"}.get(
                    meta.get("severity", ""), meta.get("severity", "")
                ),
                "维度": meta.get("dimension", ""),
            }
        )
    rules = pd.DataFrame(
        rule_rows,
        columns=[
            "序号",
            "规则编号",
            "问题说明",
            "整改办法",
            "表",
            "字段",
            "问题条数",
            "涉及区县数",
            "主要区县",
            "示例",
            "严重程度",
            "维度",
        ],
    )
    order = {rid: i for i, rid in enumerate(totals["rule_id"])}
    dist_rows = []
    district_rows = []
    for d, grp in per.groupby(dcol, sort=True):
        grp = grp.assign(o=grp["rule_id"].map(order)).sort_values(["n", "o"], ascending=[False, True])
        name = district_name(d, names)
        for j, g in enumerate(grp.itertuples(index=False), start=1):
            meta = meta_of(g.rule_id)
            ex = (
                examples_of(frame[(frame["rule_id"] == g.rule_id) & (frame[dcol] == d)])
                if frame is not None
                else ""
            )
            dist_rows.append(
                {
                    "区县代码": d,
                    "区县名称": name,
                    "序号": j,
                    "规则编号": g.rule_id,
                    "问题说明": meta.get("message_zh", ""),
                    "整改办法": meta.get("fix_zh", ""),
                    "问题条数": int(g.n),
                    "示例": ex,
                }
            )
        first = grp.iloc[0]
        district_rows.append(
            {
                "区县代码": d,
                "区县名称": name,
                "问题条数": int(grp["n"].sum()),
                "规则数": len(grp),
                "最多的问题": meta_of(first["rule_id"]).get("message_zh", first["rule_id"]),
            }
        )
    by_district = pd.DataFrame(
        dist_rows,
        columns=["区县代码", "区县名称", "序号", "规则编号", "问题说明", "整改办法", "问题条数", "示例"],
    )
    districts = pd.DataFrame(
        district_rows, columns=["区县代码", "区县名称", "问题条数", "规则数", "最多的问题"]
    )
    if len(districts):
        districts = districts.sort_values(["问题条数", "区县代码"], ascending=[False, True], kind="mergesort")
        districts = districts.reset_index(drop=True)
    return CommonProblems(
        rules=rules,
        by_district=by_district,
        districts=districts,
        total=int(per["n"].sum()),
        source=source,
        period=period,
    )


# ------------------------------------------------------------------------------------------ outputs


def write_common_problems(
    cp: CommonProblems,
    out_dir: str | Path,
    *,
    title: str = "不动产登记数据常见问题清单",
    stem: str = "common_problems",
    generated: dt.datetime | None = None,
) -> dict[str, Path]:
    """Write ``<stem>.html`` (self-contained) and ``<stem>.xlsx``; return their paths."""
    from toolkit.report import render_html, xlsx_writer

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
        rules=cp.rules.to_dict("records"),
        districts=[
            {
                **d,
                "items": cp.by_district[cp.by_district["区县代码"] == d["区县代码"]].to_dict("records"),
            }
            for d in cp.districts.to_dict("records")
        ],
    )
    paths["html"].write_text(html, encoding="utf-8")
    with xlsx_writer(paths["xlsx"]) as book:
        book.add_table(
            "常见问题",
            cp.rules,
            title=f"{title}{('（' + cp.period + '）') if cp.period else ''}",
            widths={"问题说明": 40, "整改办法": 40, "主要区县": 28, "示例": 40, "规则编号": 26, "字段": 18},
        )
        book.add_table(
            "分区县",
            cp.by_district,
            title="各区县常见问题",
            widths={"问题说明": 40, "整改办法": 40, "示例": 40, "规则编号": 26},
        )
        book.add_table("区县汇总", cp.districts, title="各区县问题条数", widths={"最多的问题": 50})
    return paths
