"""``report.html`` of ``dq check``: the first page a QA person opens.

One self-contained Chinese page (rendered by :func:`toolkit.render.render_html`: everything escaped, the
subset of the embedded Chinese font inside, no external resource, A4): the gate's verdict and why, the
critical problems to fix first, problems by rule (plain message, fix, count, rate, masked examples) and by
unit of assessment, and the rules that could not be evaluated. It is built from the counts
(``counts.csv``) and the few masked failing values a run keeps — never from the batch itself — so it
costs nothing at any size.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.render import fmt_rate, render_html

if TYPE_CHECKING:
    from toolkit.check import CheckResult

__all__ = ["check_report_context", "write_check_report"]

SEVERITY_ZH = {"critical": "严重", "warning": "警告", "info": "提示"}
MODE_ZH = {"stock": "存量", "incremental": "增量"}
_EXAMPLES = 3


def _examples(result: CheckResult) -> dict[str, list[str]]:
    """Rule id → up to three distinct masked failing values."""
    if result.samples:
        raw = result.samples
    elif result.problems_frame is not None and len(result.problems_frame):
        frame = result.problems_frame
        raw = {
            str(rid): list(part["value_masked"].dropna().head(50))
            for rid, part in frame.groupby("rule_id", sort=False)
        }
    else:
        raw = {}
    out = {}
    for rid, values in raw.items():
        seen = [str(v) for v in dict.fromkeys(v for v in values if v is not None and str(v) != "")]
        out[rid] = seen[:_EXAMPLES]
    return out


def check_report_context(result: CheckResult) -> dict[str, Any]:
    """The values the template shows (every text already masked; the template escapes)."""
    dom, masker = result.domain, result.masker
    counts = result.counts
    code = result.exit_code
    critical_ids = set(result.critical_failures)
    examples = _examples(result)
    ev = counts[counts["evaluated"].astype(bool)]
    per_rule = ev.groupby("rule_id")[["element_count", "unexpected_count"]].sum()
    rules = []
    by_id = {r.rule_id: r for r in result.rules}
    for rid, row in per_rule.iterrows():
        n, u = int(row["element_count"]), int(row["unexpected_count"])
        if u == 0:
            continue
        r = by_id[str(rid)]
        res = result.results.get(str(rid))
        rules.append(
            {
                "rule_id": str(rid),
                "message": r.meta.get("message_zh", ""),
                "fix": r.meta.get("fix_zh", ""),
                "table": r.table,
                "field": r.field,
                "severity": r.severity,
                "severity_zh": SEVERITY_ZH.get(r.severity, r.severity),
                "unexpected": u,
                "element": n,
                "rate": fmt_rate(u / n) if n else "—",
                "passed": bool(res.success) if res is not None else False,
                "examples": "、".join(examples.get(str(rid), [])),
            }
        )
    rules.sort(key=lambda x: (x["severity"] != "critical", x["passed"], -x["unexpected"], x["rule_id"]))
    critical = [x for x in rules if x["rule_id"] in critical_ids]
    units = []
    sev = {r.rule_id: r.severity for r in result.rules}
    msg = {r.rule_id: r.meta.get("message_zh", "") for r in result.rules}
    failing = ev[ev["unexpected_count"] > 0]
    names = dict(zip(counts["unit_code"], counts["unit_name"], strict=False))
    for unit, part in failing.groupby("unit_code"):
        part = part.sort_values(["unexpected_count", "rule_id"], ascending=[False, True])
        units.append(
            {
                "code": str(unit),
                "name": str(names.get(unit, "") or ""),
                "problems": int(part["unexpected_count"].sum()),
                "rules": len(part),
                "critical": int(sum(1 for rid in part["rule_id"] if sev.get(rid) == "critical")),
                "top": [
                    {"message": msg.get(rid, rid), "n": int(n)}
                    for rid, n in zip(part["rule_id"].head(3), part["unexpected_count"].head(3), strict=True)
                ],
            }
        )
    units.sort(key=lambda x: (-x["problems"], x["code"]))
    if code == 0:
        verdict = {
            "code": 0,
            "css": "pass",
            "zh": "通过：可以上报",
            "why": "没有严重（critical）规则超出容差。请仍按下面的清单改正其余问题。",
        }
    elif code == 1:
        verdict = {
            "code": 1,
            "css": "fail",
            "zh": "未通过：暂停上报",
            "why": f"有 {len(critical_ids)} 条严重规则超出容差，改正后重新检查。",
        }
    else:
        verdict = {
            "code": code,
            "css": "error",
            "zh": "无法完成检查",
            "why": "有规则执行出错，检查结果不能算作通过；见下面“未执行的规则”。",
        }
    evaluated = len([r for r in result.rules if r.rule_id not in result.not_evaluated])
    failed = sum(1 for r in result.results.values() if not r.success and not r.error)
    return {
        "title": f"{dom.label}数据质检报告",
        "batch": masker.text(Path(str(result.batch.folder)).name),
        "mode_zh": MODE_ZH.get(result.mode, result.mode),
        "as_of": result.as_of.strftime("%Y-%m-%d %H:%M:%S") if result.as_of else "—",
        "started": result.started.strftime("%Y-%m-%d %H:%M"),
        "verdict": verdict,
        "rows": int(result.batch.rows_read),
        "evaluated": evaluated,
        "failed": failed,
        "critical": critical,
        "problems": int(result.n_problems),
        "unit_label": dom.unit.label_zh,
        "units": units,
        "rules": rules,
        "not_evaluated": [
            {"rule_id": rid, "message": msg.get(rid, ""), "reason": masker.text(why)}
            for rid, why in sorted(result.not_evaluated.items())
        ],
        "engine": "DuckDB 计数引擎" if result.engine == "duckdb" else "Great Expectations",
    }


def write_check_report(result: CheckResult, path: Path) -> Path:
    """Write ``report.html`` (see the module docstring)."""
    html = render_html("check_report.html.j2", **check_report_context(result))
    Path(path).write_text(html, encoding="utf-8")
    return Path(path)
