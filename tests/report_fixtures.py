"""Hand-made inputs for the report, common-problems and audit tests.

They follow the contracts only (scores.csv columns ``unit_code, unit_name, period, …``, the long trace
frame, the problem list's ``unit_code, record_key, …``), so the tests do not depend on the scoring of a
history folder. The model of the bulletin is :data:`CONFIG`: the 17 indicators below with the grades,
levels and ``pass_grade`` of the bdc pack's ``scoring.yaml``.
"""

from __future__ import annotations

import random

import pandas as pd

from toolkit import scoring
from toolkit.domain import load_domain

# the 17 indicators of shared/spec/scoring.md: id, label, lower is better, weight, target, floor
SPEC = [
    ("empty_rate", "空项率", True, 8, 0.005, 0.05),
    ("error_rate", "错误率", True, 8, 0.01, 0.10),
    ("unit_no_ok", "单元号规范率", False, 6, 0.995, 0.90),
    ("id_no_ok", "证件号校验通过率", False, 6, 0.995, 0.90),
    ("code_ok", "代码值规范率", False, 5, 0.995, 0.90),
    ("dup_rate", "重复率", True, 6, 0.001, 0.02),
    ("link_ok", "关联完整率", False, 6, 0.995, 0.90),
    ("logic_ok", "逻辑一致率", False, 5, 0.995, 0.90),
    ("log_match", "日志一致率", False, 5, 0.98, 0.80),
    ("submit_rate", "汇交率", False, 8, 0.99, 0.85),
    ("access_ok", "接入成功率", False, 5, 0.99, 0.85),
    ("realtime_24h", "实时接入率", False, 6, 0.95, 0.70),
    ("within_48h", "48小时接入率", False, 5, 0.98, 0.80),
    ("reconcile_rate", "销账率", False, 5, 0.95, 0.60),
    ("log_reported", "日志上报率", False, 4, 1.0, 0.80),
    ("time_limit_ok", "办理时限达标率", False, 6, 0.98, 0.80),
    ("fix_on_time", "整改及时率", False, 6, 0.95, 0.60),
]
RULES = {
    "empty_rate": ("bdc.*.required",),
    "error_rate": ("bdc.*.datetime", "bdc.*.format", "bdc.*.code", "bdc.*.range"),
    "unit_no_ok": ("bdc.*.bdcdyh.format", "bdc.*.bdcdyh.qxdm_prefix"),
    "id_no_ok": ("bdc.qlr.zjh.*",),
    "submit_rate": ("bdc.*.jrbw.submitted",),
    "realtime_24h": ("bdc.*.jrbw.within_24h",),
    "time_limit_ok": ("bdc.*.djsj.time_limit*",),
}
DIMENSION = {"empty_rate": "completeness", "dup_rate": "uniqueness"}


def make_config(**top) -> scoring.ScoringConfig:
    """The fixture's model: the indicators of :data:`SPEC` (their rules as patterns where given), and the
    grades, ``pass_grade`` and levels of the bdc pack unless ``top`` replaces them."""
    bdc = scoring.load_scoring("bdc")
    data = {
        "grades": [{"grade": g, "min": m} for g, m in bdc.grades],
        "pass_grade": bdc.pass_grade,
        "levels": [{"level": lv, "min": m, "colour": bdc.level_colours[lv]} for lv, m in bdc.levels],
        "indicators": {
            i: {
                "label_zh": label,
                "dimension": DIMENSION.get(i, "validity"),
                "direction": "down" if lower else "up",
                "weight": w,
                "target": t,
                "floor": f,
                "rules": list(RULES.get(i, ("bdc.*",))),
            }
            for i, label, lower, w, t, f in SPEC
        },
        **top,
    }
    return scoring.parse_scoring(data, unit=load_domain("bdc").unit)


CONFIG = make_config()
INDICATORS = list(CONFIG.indicators)
assert sum(i.weight for i in INDICATORS) == 100

# twelve real districts of 湖北省 in four prefectures
DISTRICTS = [
    ("420102", "江岸区"),
    ("420103", "江汉区"),
    ("420104", "硚口区"),
    ("420105", "汉阳区"),
    ("420106", "武昌区"),
    ("420111", "洪山区"),
    ("420202", "黄石港区"),
    ("420222", "阳新县"),
    ("420502", "西陵区"),
    ("420525", "远安县"),
    ("421002", "沙市区"),
    ("421022", "公安县"),
]
WEEKS = [f"2024-W{w:02d}" for w in range(41, 53)]


def points(rate: float, ind: scoring.Indicator) -> float:
    share = (rate - ind.floor) / (ind.target - ind.floor)
    return 100.0 * min(1.0, max(0.0, share))


def grade(score: float) -> str:
    if score < 70:
        return "D"
    steps = int((score - 70) // 2.5)  # 0 … 11 (and 12 at 100)
    steps = min(steps, 11)
    letter = "CBA"[steps // 4]
    return f"{letter}{4 - steps % 4}"


def make_scores(periods=WEEKS, districts=DISTRICTS, seed: int = 7, unscored=("reconcile_rate",)):
    """scores.csv-like frame (``unit_code, unit_name, period, …``) and the matching long trace frame
    (unit_code, period, indicator, rate, points, level, rule_ids). District quality differs and improves
    over time; ``unscored`` indicators have no denominator in the first period (NaN)."""
    rng = random.Random(seed)
    quality = {q: rng.uniform(0.2, 1.6) for q, _ in districts}
    rows, trace = [], []
    for t, period in enumerate(periods):
        improve = 1.0 - 0.6 * t / max(len(periods) - 1, 1)
        for q, name in districts:
            rec = {"unit_code": q, "unit_name": name, "period": period}
            total, weights = 0.0, 0.0
            for ind in INDICATORS:
                if t == 0 and ind.id in unscored:
                    rec[ind.id] = float("nan")
                    trace.append((q, period, ind.id, float("nan"), float("nan"), None, ""))
                    continue
                bad = abs(ind.floor - ind.target) * quality[q] * improve * max(0.0, rng.uniform(-0.5, 1.4))
                rate = ind.target + bad if ind.direction == "down" else ind.target - bad
                rate = round(min(1.0, max(0.0, rate)), 4)
                pts = points(rate, ind)
                level = "优" if pts >= 100 else "良" if pts >= 60 else "差"
                rec[ind.id] = rate
                total += ind.weight * pts
                weights += ind.weight
                trace.append((q, period, ind.id, rate, pts, level, ";".join(RULES.get(ind.id, ()))))
            rec["score"] = round(total / weights, 1)
            rows.append(rec)
    scores = pd.DataFrame(rows)
    scores["grade"] = scores["score"].map(grade)
    scores["rank"] = scores.groupby("period")["score"].rank(method="min", ascending=False).astype(int)
    trace = pd.DataFrame(
        trace, columns=["unit_code", "period", "indicator", "rate", "points", "level", "rule_ids"]
    )
    return scores, trace


# raw personal data that must never appear in an output
RAW_ID = "110102199101010078"
RAW_ID2 = "44011320141005001X"
RAW_PHONE = "13812345678"
RAW_NAME = "欧阳娜娜"


def make_problems(districts=DISTRICTS, seed: int = 3) -> pd.DataFrame:
    """A problems.csv-like frame with known counts per rule and district; some rows carry *unmasked*
    personal data in ``value_masked`` (as a careless upstream could) to prove the outputs mask them."""
    rng = random.Random(seed)
    plan = [
        # rule_id, table, field, message, fix, value factory, weight per district index
        ("bdc.fdcq.jrbw.submitted", "QLT_FW_FDCQ_YZ", "YWH", None, None, lambda i: None, 9),
        ("bdc.fdcq.fdzl.required", "QLT_FW_FDCQ_YZ", "FDZL", None, None, lambda i: None, 6),
        (
            "bdc.qlr.zjh.citizen_id",
            "ZTT_GY_QLR",
            "ZJH",
            None,
            None,
            lambda i: RAW_ID if i % 2 else RAW_ID2,
            4,
        ),
        ("bdc.qlr.dh.format", "ZTT_GY_QLR", "DH", None, None, lambda i: RAW_PHONE + "0", 3),
        ("bdc.qlr.qlrmc.clean_text", "ZTT_GY_QLR", "QLRMC", None, None, lambda i: RAW_NAME + " ", 2),
        (
            "bdc.fdcq.djsj.time_limit",
            "QLT_FW_FDCQ_YZ",
            "DJSJ",
            None,
            None,
            lambda i: "2024-12-20 10:00:00",
            2,
        ),
    ]
    rows = []
    for d_index, (q, _) in enumerate(districts):
        for rule_id, table, fld, _m, _f, value, weight in plan:
            n = rng.randint(0, weight) if d_index % 3 else rng.randint(weight, 3 * weight)
            for k in range(n):
                rows.append(
                    {
                        "rule_id": rule_id,
                        "table": table,
                        "unit_code": q,
                        "record_key": f"{q}20241220{k + 1:06d}",
                        "YWH": f"{q}20241220{k + 1:06d}",
                        "field": fld,
                        "value_masked": value(k),
                        "message_zh": f"问题说明 {rule_id}",
                        "fix_zh": f"整改办法 {rule_id}",
                        "detail_zh": "",
                        "severity": "critical",
                        "dimension": "validity",
                        "file": f"{table}.csv",
                        "row": str(k + 2),
                    }
                )
    # one phone number hidden in free text of a non-personal field, one raw phone in the DH field
    rows.append(
        {
            **rows[0],
            "field": "FDZL",
            "value_masked": f"联系{RAW_PHONE}",
            "rule_id": "bdc.fdcq.fdzl.clean_text",
        }
    )
    rows.append({**rows[0], "field": "DH", "value_masked": RAW_PHONE, "rule_id": "bdc.qlr.dh.format"})
    return pd.DataFrame(rows)
