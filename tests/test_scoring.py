"""The scoring model (toolkit/scoring.py, expectations/bdc/scoring.yaml): indicators, points, grades,
ranks, periods and the trace from every score back to rule counts. Expectations are hand-computed."""

from __future__ import annotations

import copy
import fnmatch
import math
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from toolkit import scoring
from toolkit.domain import load_domain
from toolkit.errors import ConfigError

SPEC = [  # (id, 指标, dimension, direction) of shared/spec/scoring.md, in its order
    ("empty_rate", "空项率", "completeness", "down"),
    ("error_rate", "错误率", "validity", "down"),
    ("unit_no_ok", "单元号规范率", "validity", "up"),
    ("id_no_ok", "证件号校验通过率", "validity", "up"),
    ("code_ok", "代码值规范率", "validity", "up"),
    ("dup_rate", "重复率", "uniqueness", "down"),
    ("link_ok", "关联完整率", "consistency", "up"),
    ("logic_ok", "逻辑一致率", "consistency", "up"),
    ("log_match", "日志一致率", "consistency", "up"),
    ("submit_rate", "汇交率", "coverage", "up"),
    ("access_ok", "接入成功率", "coverage", "up"),
    ("realtime_24h", "实时接入率", "timeliness", "up"),
    ("within_48h", "48小时接入率", "timeliness", "up"),
    ("reconcile_rate", "销账率", "closed_loop", "up"),
    ("log_reported", "日志上报率", "timeliness", "up"),
    ("time_limit_ok", "办理时限达标率", "timeliness", "up"),
    ("fix_on_time", "整改及时率", "closed_loop", "up"),
]
IDS = [s[0] for s in SPEC]
D1, D2, D3 = "420102", "420103", "420104"  # 江岸区, 江汉区, 硚口区
DAY = "2024-03-05"  # a Tuesday (working day)


@pytest.fixture(scope="module")
def cfg() -> scoring.ScoringConfig:
    return scoring.load_scoring("bdc")


@pytest.fixture(scope="module")
def raw_yaml(cfg: scoring.ScoringConfig) -> dict:
    assert cfg.path is not None
    return yaml.safe_load(cfg.path.read_text(encoding="utf-8"))


def counts_frame(rows: list[tuple], period: str = DAY) -> pd.DataFrame:
    """(unit_code, rule_id, element, unexpected[, evaluated]) → a counts frame like dq check's."""
    dom = load_domain("bdc")
    recs = []
    for r in rows:
        q, rid, elem, unexp = r[:4]
        rule = dom.rule(rid)
        recs.append(
            dict(
                period=period,
                unit_code=q,
                rule_id=rid,
                table=rule.table,
                field=rule.field,
                dimension=rule.dimension,
                severity=rule.severity,
                element_count=elem,
                unexpected_count=unexp,
                evaluated=r[4] if len(r) > 4 else True,
            )
        )
    return pd.DataFrame(recs)


def rows_frame(rows: list[tuple], period: str = DAY) -> pd.DataFrame:
    """(unit_code, table, rows, failing_validity) → a rows frame."""
    return pd.DataFrame(
        [dict(period=period, unit_code=q, table=t, rows=n, failing_validity=f) for q, t, n, f in rows]
    )


def ledger_frame(rows: list[tuple], period: str = DAY) -> pd.DataFrame:
    return pd.DataFrame(
        [
            dict(
                period=period, unit_code=q, problems_due=due, closed_after_recheck=c, fixed_before_deadline=f
            )
            for q, due, c, f in rows
        ]
    )


def mini_config(**over) -> scoring.ScoringConfig:
    """A two-indicator model for hand computations: a (↑, weight 60, 0.89 → 0.99), b (↓, weight 40,
    0.11 → 0.01); either can be replaced through ``over``."""
    data = {
        "grades": [{"grade": g, "min": m} for g, m in (("A", 90), ("B", 80), ("C", 0))],
        "pass_grade": "A",
        "levels": [{"level": lv, "min": m} for lv, m in (("优", 100), ("良", 60), ("差", 0))],
        "indicators": {
            "a": dict(
                label_zh="甲",
                label_en="a",
                dimension="validity",
                direction="up",
                weight=60,
                target=0.99,
                floor=0.89,
                rules=["bdc.fdcq.djlx.code"],
            ),
            "b": dict(
                label_zh="乙",
                label_en="b",
                dimension="completeness",
                direction="down",
                weight=40,
                target=0.01,
                floor=0.11,
                rules=["bdc.fdcq.ywh.required"],
            ),
        },
    }
    for k, v in over.items():
        data["indicators"][k] = v
    return scoring.parse_scoring(data, unit=load_domain("bdc").unit)


# ============================================================================ the shipped configuration


def test_shipped_config_has_the_17_indicators_of_the_spec(cfg: scoring.ScoringConfig) -> None:
    assert cfg.ids == IDS
    for ind_id, label, dim, direction in SPEC:
        ind = cfg.indicator(ind_id)
        assert (ind.label_zh, ind.dimension, ind.direction) == (label, dim, direction)
        assert ind.label_en and ind.description_zh
        assert 0 <= min(ind.target, ind.floor) <= max(ind.target, ind.floor) <= 1


def test_weights_sum_to_100(cfg: scoring.ScoringConfig) -> None:
    assert sum(i.weight for i in cfg.indicators) == pytest.approx(100)
    assert all(i.weight > 0 for i in cfg.indicators)


def test_every_rule_pattern_matches_a_rule_of_the_shipped_suites(raw_yaml: dict) -> None:
    rule_ids = [r.rule_id for r in load_domain("bdc").rules]
    patterns = [
        (ind_id, p)
        for ind_id, spec in raw_yaml["indicators"].items()
        for key in ("rules", "exclude")
        for p in spec.get(key, [])
    ]
    assert len(patterns) >= 15
    for ind_id, p in patterns:
        assert any(fnmatch.fnmatchcase(r, p) for r in rule_ids), (ind_id, p)


def test_rules_outside_every_indicator_are_the_documented_ones(cfg: scoring.ScoringConfig) -> None:
    """A rule added to the suites must be placed in an indicator or added to the list in scoring.yaml."""
    dom = load_domain("bdc")
    outside = {
        r.rule_id
        for r in dom.rules
        if not any(
            i.rules and i.matches(r.rule_id) and (i.kind == "rules" or r.dimension == i.failing)
            for i in cfg.indicators
        )
    }
    assert cfg.path is not None
    documented = cfg.path.read_text(encoding="utf-8").split("目前不计入任何指标")[1].split("\n#\n")[0]
    assert outside == {r for r in outside if r in documented}
    assert len(outside) == documented.count("bdc.")


def test_ledger_and_rows_indicators_are_wired(cfg: scoring.ScoringConfig) -> None:
    assert cfg.indicator("reconcile_rate").kind == "ledger"
    assert cfg.indicator("fix_on_time").kind == "ledger"
    assert cfg.indicator("error_rate").kind == "rows"
    assert cfg.indicator("log_reported").kind == "log_days"


# ============================================================================ config validation


def _mutate(raw: dict, fn) -> dict:
    data = copy.deepcopy(raw)
    fn(data)
    return data


def _set(path: list, value):
    def fn(data):
        node = data
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value

    return fn


def _del(path: list):
    def fn(data):
        node = data
        for k in path[:-1]:
            node = node[k]
        del node[path[-1]]

    return fn


BAD_CONFIGS = [
    # (mutation, key named in the message, words of the message)
    (_set(["indicators", "empty_rate", "weight"], 13), "indicators.*.weight", "101"),
    (_del(["indicators", "fix_on_time"]), "indicators.*.weight", "95"),
    (_set(["indicators", "code_ok", "rules"], ["bdc.*.*.kode"]), "indicators.code_ok.rules", "bdc.*.*.kode"),
    (
        _set(["indicators", "code_ok", "exclude"], ["bdc.nothing"]),
        "indicators.code_ok.exclude",
        "bdc.nothing",
    ),
    (_set(["indicators", "code_ok", "target"], 0.9), "indicators.code_ok.target", "floor"),
    (_set(["indicators", "empty_rate", "target"], 0.5), "indicators.empty_rate.target", "floor"),
    (_set(["indicators", "submit_rate", "floor"], 0.999), "indicators.submit_rate.target", "floor"),
    (_set(["indicators", "submit_rate", "target"], 99.9), "indicators.submit_rate.target", "[0, 1]"),
    (_set(["indicators", "submit_rate", "weight"], 0), "indicators.submit_rate.weight", "> 0"),
    (_set(["indicators", "submit_rate", "weight"], "10"), "indicators.submit_rate.weight", "number"),
    (_set(["indicators", "submit_rate", "weight"], True), "indicators.submit_rate.weight", "number"),
    (_set(["indicators", "submit_rate", "direction"], "higher"), "indicators.submit_rate.direction", "up"),
    (_set(["indicators", "submit_rate", "dimension"], "speed"), "indicators.submit_rate.dimension", "one of"),
    (_set(["indicators", "submit_rate", "kind"], "magic"), "indicators.submit_rate.kind", "magic"),
    (_set(["indicators", "submit_rate", "rule"], ["x"]), "indicators.submit_rate.rule", "unknown key"),
    (_del(["indicators", "submit_rate", "label_zh"]), "indicators.submit_rate.label_zh", "missing"),
    (_del(["indicators", "submit_rate", "rules"]), "indicators.submit_rate.rules", "list of strings"),
    (_set(["indicators", "error_rate", "tables"], ["QLT_XX"]), "indicators.error_rate.tables", "QLT_XX"),
    (_set(["indicators", "error_rate", "failing"], "badness"), "indicators.error_rate.failing", "one of"),
    (
        _set(["indicators", "log_reported", "table"], ["DJ_DBRZ", "JR_BW"]),
        "indicators.log_reported.table",
        "one",
    ),
    (_set(["indicators", "fix_on_time", "numerator"], "fixed"), "indicators.fix_on_time.numerator", "ledger"),
    (_set(["indicators", "Fix"], {}), "indicators.Fix", "lower-case"),
    (_set(["grades", 1, "min"], 98), "grades[1].min", "decrease"),
    (_set(["grades", 12, "min"], 10), "grades[12].min", "0"),
    (_set(["levels", 0], {"level": "优"}), "levels[0]", "min"),
    (_set(["decimals"], 1.5), "decimals", "integer"),
    (_set(["pass_grade"], "Z9"), "pass_grade", "one of the grades"),
    (_del(["pass_grade"]), "pass_grade", "lowest grade that meets the standard"),
    (_set(["pass_grade"], ["A4"]), "pass_grade", "one of the grades"),
    (_set(["levels", 0, "colour"], "green"), "levels[0].colour", "#rrggbb"),
    (_set(["grades", 0, "colour"], "#ffffff"), "grades[0]", "must be"),
    (_set(["weights"], {}), "weights", "unknown key"),
]


@pytest.mark.parametrize(("mutation", "key", "words"), BAD_CONFIGS)
def test_config_errors_name_the_file_and_key(raw_yaml: dict, tmp_path: Path, mutation, key, words) -> None:
    path = tmp_path / "scoring.yaml"
    path.write_text(yaml.safe_dump(_mutate(raw_yaml, mutation), allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        scoring.load_scoring("bdc", path=path)
    msg = str(info.value)
    assert str(path) in msg
    assert key in msg
    assert words in msg


def test_config_duplicate_key_missing_file_and_bad_yaml(tmp_path: Path, cfg: scoring.ScoringConfig) -> None:
    assert cfg.path is not None
    text = cfg.path.read_text(encoding="utf-8")
    dup = tmp_path / "dup.yaml"
    dup.write_text(text.replace("  fix_on_time:", "  empty_rate:"), encoding="utf-8")
    with pytest.raises(ConfigError, match="duplicate key 'empty_rate'"):
        scoring.load_scoring("bdc", path=dup)
    with pytest.raises(ConfigError, match="not found"):
        scoring.load_scoring("bdc", path=tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("indicators: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        scoring.load_scoring("bdc", path=bad)


def test_patterns_and_exclusions() -> None:
    ind = scoring.Indicator(
        "x", "x", "x", "validity", "up", 100, 1, 0, rules=("bdc.*.*.code",), exclude=("bdc.*.qxdm.code",)
    )
    assert ind.matches("bdc.fdcq.djlx.code")
    assert not ind.matches("bdc.fdcq.qxdm.code")
    assert not ind.matches("bdc.fdcq.djlx.required")


# ============================================================================ points, levels, rounding, grades

POINTS = [
    # rate, target, floor, direction, points
    (0.999, 0.99, 0.89, "up", 100.0),
    (0.99, 0.99, 0.89, "up", 100.0),
    (0.94, 0.99, 0.89, "up", 50.0),
    (0.965, 0.99, 0.89, "up", 75.0),
    (0.89, 0.99, 0.89, "up", 0.0),
    (0.5, 0.99, 0.89, "up", 0.0),
    (0.0, 0.01, 0.11, "down", 100.0),
    (0.01, 0.01, 0.11, "down", 100.0),
    (0.035, 0.01, 0.11, "down", 75.0),
    (0.06, 0.01, 0.11, "down", 50.0),
    (0.11, 0.01, 0.11, "down", 0.0),
    (0.9, 0.01, 0.11, "down", 0.0),
    (1.0, 1.0, 0.8, "up", 100.0),
    (0.9, 1.0, 0.8, "up", 50.0),
]


@pytest.mark.parametrize(("rate", "target", "floor", "direction", "expected"), POINTS)
def test_points_interpolate_and_respect_direction(rate, target, floor, direction, expected) -> None:
    assert scoring.points(rate, target, floor, direction) == pytest.approx(expected)
    vec = scoring._points_vec(
        pd.Series([rate]), pd.Series([target]), pd.Series([floor]), pd.Series([direction == "up"])
    )
    assert vec.iloc[0] == pytest.approx(expected)


def test_points_of_not_scored_is_nan() -> None:
    assert math.isnan(scoring.points(math.nan, 0.99, 0.89, "up"))
    with pytest.raises(ValueError):
        scoring.points(0.5, 0.99, 0.89, "sideways")


@pytest.mark.parametrize(
    ("pts", "expected"),
    [(100.0, "优"), (99.99, "良"), (60.0, "良"), (59.99, "差"), (0.0, "差"), (math.nan, None)],
)
def test_levels(cfg: scoring.ScoringConfig, pts, expected) -> None:
    assert scoring.level(pts, cfg) == expected


GRADES = [
    (100, "A1"),
    (97.5, "A1"),
    (97.49, "A2"),
    (95, "A2"),
    (94.99, "A3"),
    (92.5, "A3"),
    (92.49, "A4"),
    (90, "A4"),
    (89.99, "B1"),
    (87.5, "B1"),
    (87.49, "B2"),
    (85, "B2"),
    (84.99, "B3"),
    (82.5, "B3"),
    (82.49, "B4"),
    (80, "B4"),
    (79.99, "C1"),
    (77.5, "C1"),
    (77.49, "C2"),
    (75, "C2"),
    (74.99, "C3"),
    (72.5, "C3"),
    (72.49, "C4"),
    (70, "C4"),
    (69.9, "D"),
    (0, "D"),
]


@pytest.mark.parametrize(("value", "expected"), GRADES)
def test_grade_boundaries(cfg: scoring.ScoringConfig, value, expected) -> None:
    assert scoring.grade(value, cfg) == expected


def test_grade_of_nothing_scored_is_none(cfg: scoring.ScoringConfig) -> None:
    assert scoring.grade(math.nan, cfg) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (84.25, 84.3),  # Python's round() gives 84.2 (banker's rounding)
        (0.15, 0.2),  # binary 0.1499999… still rounds up
        (80.05, 80.1),
        (92.44, 92.4),
        (92.46, 92.5),
        (97.45, 97.5),  # rounds into A1
        (69.95, 70.0),
        (100.0, 100.0),
    ],
)
def test_round_half_up(value, expected) -> None:
    assert scoring.round_half_up(value, 1) == expected


# ============================================================================ each indicator, by hand

ALL_COUNTS = [
    # empty_rate: 3 / 180
    (D1, "bdc.fdcq.ywh.required", 100, 1),
    (D1, "bdc.qlr.zjh.required", 50, 2),
    (D1, "bdc.jrbw.jrsj.required", 30, 0),
    # unit_no_ok: (100 - 4) / 100
    (D1, "bdc.fdcq.bdcdyh.format", 40, 1),
    (D1, "bdc.dyaq.bdcdyh.format", 10, 0),
    (D1, "bdc.fdcq.bdcdyh.qxdm_prefix", 40, 2),
    (D1, "bdc.dyaq.bdcdyh.qxdm_prefix", 10, 1),
    # id_no_ok: 38 / 40
    (D1, "bdc.qlr.zjh.citizen_id", 30, 1),
    (D1, "bdc.qlr.zjh.credit_code", 10, 1),
    # code_ok: 117 / 120
    (D1, "bdc.fdcq.djlx.code", 40, 1),
    (D1, "bdc.qlr.zjzl.code", 60, 0),
    (D1, "bdc.jrbw.jrzt.code", 20, 2),
    # dup_rate: 4 / 70
    (D1, "bdc.fdcq.ywh.unique", 40, 2),
    (D1, "bdc.dyaq.ywh.unique", 10, 0),
    (D1, "bdc.jrbw.bizmsgid.unique", 20, 2),
    # link_ok: 176 / 180
    (D1, "bdc.fdcq.qlr.present", 40, 1),
    (D1, "bdc.qlr.ywh.exists", 60, 2),
    (D1, "bdc.qlr.bdcdyh.matches", 60, 0),
    (D1, "bdc.jrbw.ywh.exists", 20, 1),
    # logic_ok: 112 / 115
    (D1, "bdc.fdcq.djsj.after_slsj", 40, 1),
    (D1, "bdc.dyaq.djsj.after_slsj", 10, 0),
    (D1, "bdc.dyaq.zwlxjssj.after_start", 10, 1),
    (D1, "bdc.qlr.qlbl.sum_100", 15, 1),
    (D1, "bdc.jrbw.rectype.djlx", 20, 0),
    (D1, "bdc.jrbw.bizmsgid.qxdm_prefix", 20, 0),
    # log_match: 8 / 9
    (D1, "bdc.dbrz.sl.matches", 9, 1),
    # submit_rate: 46 / 48
    (D1, "bdc.fdcq.jrbw.submitted", 38, 1),
    (D1, "bdc.dyaq.jrbw.submitted", 10, 1),
    # access_ok: 20 / 22
    (D1, "bdc.jrbw.jrzt.success", 22, 2),
    # realtime_24h: 43 / 46
    (D1, "bdc.fdcq.jrbw.within_24h", 37, 3),
    (D1, "bdc.dyaq.jrbw.within_24h", 9, 0),
    # within_48h: 42 / 44
    (D1, "bdc.fdcq.jrbw.within_48h", 35, 1),
    (D1, "bdc.dyaq.jrbw.within_48h", 9, 1),
    # time_limit_ok: 46 / 48
    (D1, "bdc.fdcq.djsj.time_limit", 30, 1),
    (D1, "bdc.fdcq.djsj.time_limit_enterprise", 8, 1),
    (D1, "bdc.dyaq.djsj.time_limit", 10, 0),
    # validity rules that count only per row (error_rate), not in any rule-based indicator above
    (D1, "bdc.fdcq.jzmj.range", 40, 1),
    (D1, "bdc.dyaq.slsj.datetime", 10, 1),
]
ALL_ROWS = [
    (D1, "QLT_FW_FDCQ_YZ", 40, 2),  # error_rate: (2 + 1) / (40 + 10)
    (D1, "QLF_QL_DYAQ", 10, 1),
    (D1, "ZTT_GY_QLR", 60, 5),  # holders are not registrations
    (D1, "JR_BW", 22, 2),
    (D1, "DJ_DBRZ", 9, 0),  # log_reported: 1 / 1
]
ALL_LEDGER = [(D1, 8, 6, 5)]  # reconcile_rate 6 / 8, fix_on_time 5 / 8

EXPECTED = {
    "empty_rate": (3, 180, {"bdc.fdcq.ywh.required", "bdc.qlr.zjh.required", "bdc.jrbw.jrsj.required"}),
    "error_rate": (3, 50, {"bdc.fdcq.djlx.code", "bdc.fdcq.jzmj.range", "bdc.dyaq.slsj.datetime"}),
    "unit_no_ok": (96, 100, {"bdc.fdcq.bdcdyh.format", "bdc.dyaq.bdcdyh.qxdm_prefix"}),
    "id_no_ok": (38, 40, {"bdc.qlr.zjh.citizen_id", "bdc.qlr.zjh.credit_code"}),
    "code_ok": (117, 120, {"bdc.fdcq.djlx.code", "bdc.qlr.zjzl.code", "bdc.jrbw.jrzt.code"}),
    "dup_rate": (4, 70, {"bdc.fdcq.ywh.unique", "bdc.jrbw.bizmsgid.unique"}),
    "link_ok": (176, 180, {"bdc.fdcq.qlr.present", "bdc.qlr.ywh.exists", "bdc.jrbw.ywh.exists"}),
    "logic_ok": (112, 115, {"bdc.qlr.qlbl.sum_100", "bdc.dyaq.zwlxjssj.after_start"}),
    "log_match": (8, 9, {"bdc.dbrz.sl.matches"}),
    "submit_rate": (46, 48, {"bdc.fdcq.jrbw.submitted", "bdc.dyaq.jrbw.submitted"}),
    "access_ok": (20, 22, {"bdc.jrbw.jrzt.success"}),
    "realtime_24h": (43, 46, {"bdc.fdcq.jrbw.within_24h"}),
    "within_48h": (42, 44, {"bdc.dyaq.jrbw.within_48h"}),
    "reconcile_rate": (6, 8, set()),
    "log_reported": (1, 1, set()),
    "time_limit_ok": (46, 48, {"bdc.fdcq.djsj.time_limit_enterprise", "bdc.dyaq.djsj.time_limit"}),
    "fix_on_time": (5, 8, set()),
}


@pytest.fixture(scope="module")
def full(cfg: scoring.ScoringConfig) -> scoring.ScoreResult:
    return scoring.score(
        counts_frame(ALL_COUNTS), rows_frame(ALL_ROWS), ledger_frame(ALL_LEDGER), by="period", config=cfg
    )


@pytest.mark.parametrize("ind_id", IDS)
def test_indicator_by_hand(full: scoring.ScoreResult, cfg: scoring.ScoringConfig, ind_id: str) -> None:
    num, den, rules = EXPECTED[ind_id]
    row = full.indicators.set_index("indicator").loc[ind_id]
    assert (row["numerator"], row["denominator"]) == (num, den)
    assert row["rate"] == pytest.approx(num / den)
    ind = cfg.indicator(ind_id)
    assert row["points"] == pytest.approx(scoring.points(num / den, ind.target, ind.floor, ind.direction))
    assert row["level"] == scoring.level(row["points"], cfg)
    assert rules <= set(row["rules"].split(";")) if rules else True


def test_indicator_rates_is_the_long_frame(cfg: scoring.ScoringConfig) -> None:
    long = scoring.indicator_rates(
        counts_frame(ALL_COUNTS), rows_frame(ALL_ROWS), ledger_frame(ALL_LEDGER), by=["period"], config=cfg
    )
    assert list(long["indicator"]) == IDS
    assert {"period", "unit_code", "numerator", "denominator", "rate", "rules", "points", "level"} <= set(
        long.columns
    )


def test_full_score_by_hand(full: scoring.ScoreResult, cfg: scoring.ScoringConfig) -> None:
    expected = sum(
        cfg.indicator(i).weight * cfg.indicator(i).points(n / d) for i, (n, d, _) in EXPECTED.items()
    ) / sum(i.weight for i in cfg.indicators)
    row = full.scores.iloc[0]
    assert row["score_exact"] == pytest.approx(expected)
    assert row["score"] == scoring.round_half_up(expected, 1)
    assert row["grade"] == scoring.grade(row["score"], cfg)
    assert row["scored_weight"] == pytest.approx(100)


# ============================================================================ not scored


def test_zero_denominator_is_not_scored_and_its_weight_is_spread() -> None:
    cfg = mini_config()
    # a: 94 of 100 pass → 50 points; b: nothing to measure (element 0)
    counts = counts_frame([(D1, "bdc.fdcq.djlx.code", 100, 6), (D1, "bdc.fdcq.ywh.required", 0, 0)])
    res = scoring.score(counts, config=cfg)
    ind = res.indicators.set_index("indicator")
    assert math.isnan(ind.loc["b", "rate"]) and not ind.loc["b", "scored"]
    assert math.isnan(ind.loc["b", "points"]) and pd.isna(ind.loc["b", "level"])
    assert ind.loc["a", "effective_weight"] == pytest.approx(100)
    assert ind.loc["b", "effective_weight"] == 0
    assert res.scores.iloc[0]["score"] == 50.0  # not 0.6 × 50 = 30 (b as 0) and not 70 (b as 100)
    assert res.scores.iloc[0]["scored_weight"] == 60


def test_both_scored_by_hand() -> None:
    cfg = mini_config()
    # a: 94/100 → 50 points; b: 7/200 = 0.035 → 75 points; score = 0.6 × 50 + 0.4 × 75 = 60
    counts = counts_frame([(D1, "bdc.fdcq.djlx.code", 100, 6), (D1, "bdc.fdcq.ywh.required", 200, 7)])
    res = scoring.score(counts, config=cfg)
    assert res.scores.iloc[0]["score"] == 60.0
    assert res.scores.iloc[0]["grade"] == "C"


def test_rules_not_evaluated_are_not_scored_and_listed() -> None:
    cfg = mini_config()
    counts = counts_frame([(D1, "bdc.fdcq.djlx.code", 100, 6), (D1, "bdc.fdcq.ywh.required", 0, 0, False)])
    ind = scoring.score(counts, config=cfg).indicators.set_index("indicator")
    assert not ind.loc["b", "scored"]
    assert ind.loc["b", "not_evaluated"] == "bdc.fdcq.ywh.required"
    assert ind.loc["b", "rules"] == ""


def test_without_ledger_the_closed_loop_indicators_are_not_scored(cfg: scoring.ScoringConfig) -> None:
    res = scoring.score(counts_frame(ALL_COUNTS), rows_frame(ALL_ROWS), None, config=cfg)
    ind = res.indicators.set_index("indicator")
    for i in ("reconcile_rate", "fix_on_time"):
        assert not ind.loc[i, "scored"] and math.isnan(ind.loc[i, "rate"])
        assert ind.loc[i, "effective_weight"] == 0
    scored = ind.loc[ind["scored"]]
    assert scored["effective_weight"].sum() == pytest.approx(100)
    # the score is the weighted mean of the 15 others
    expect = (scored["weight"] * scored["points"]).sum() / scored["weight"].sum()
    assert res.scores.iloc[0]["score_exact"] == pytest.approx(expect)
    # a ledger with nothing due is not scored either
    res0 = scoring.score(
        counts_frame(ALL_COUNTS), rows_frame(ALL_ROWS), ledger_frame([(D1, 0, 0, 0)]), config=cfg
    )
    assert not res0.indicators.set_index("indicator").loc["reconcile_rate", "scored"]
    assert res0.scores.iloc[0]["score"] == res.scores.iloc[0]["score"]


def test_ledger_figures_join_existing_batches_and_periods(cfg: scoring.ScoringConfig) -> None:
    counts = pd.concat([counts_frame(ALL_COUNTS, "2024-03-04"), counts_frame(ALL_COUNTS, "2024-03-05")])
    ledger = pd.concat(
        [
            ledger_frame([(D1, 4, 2, 1)], "2024-03-04"),
            ledger_frame([(D1, 3, 3, 3)], "2024-03-09"),  # a Saturday: no batch, no daily score of its own
        ]
    )
    daily = scoring.score(counts, None, ledger, config=cfg)
    assert list(daily.scores["period"]) == ["2024-03-04", "2024-03-05"]
    ind = daily.indicators.set_index(["period", "indicator"])
    assert ind.loc[("2024-03-04", "reconcile_rate"), "rate"] == 0.5
    assert not ind.loc[("2024-03-05", "reconcile_rate"), "scored"]
    # summed daily figures: only the day with a batch
    month = scoring.period_scores(daily, "month")
    mi = month.indicators.set_index("indicator")
    assert (mi.loc["reconcile_rate", "numerator"], mi.loc["reconcile_rate", "denominator"]) == (2, 4)
    # figures of the ledger per month: everything due in March
    monthly_ledger = ledger_frame([(D1, 7, 5, 4)], "2024-03")
    month2 = scoring.period_scores(daily, "month", ledger=monthly_ledger)
    mi2 = month2.indicators.set_index("indicator")
    assert (mi2.loc["reconcile_rate", "numerator"], mi2.loc["reconcile_rate", "denominator"]) == (5, 7)
    assert (mi2.loc["fix_on_time", "numerator"], mi2.loc["fix_on_time", "denominator"]) == (4, 7)
    assert month2.scores.iloc[0]["score"] == month.scores.iloc[0]["score"]  # still the mean of the days
    _assert_traceable(month2)


def test_counts_read_back_from_csv_score_the_same(full: scoring.ScoreResult, cfg, tmp_path: Path) -> None:
    path = tmp_path / "counts.csv"
    counts = counts_frame(ALL_COUNTS)
    counts.loc[counts["rule_id"] == "bdc.dbrz.sl.matches", "evaluated"] = False
    counts.to_csv(path, index=False, encoding="utf-8-sig")
    back = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    back[["element_count", "unexpected_count"]] = back[["element_count", "unexpected_count"]].astype(int)
    res = scoring.score(back, rows_frame(ALL_ROWS), ledger_frame(ALL_LEDGER), config=cfg)
    ind = res.indicators.set_index("indicator")
    assert not ind.loc["log_match", "scored"]  # "False" read as text is still false
    assert ind.loc["log_match", "not_evaluated"] == "bdc.dbrz.sl.matches"
    same = full.indicators.set_index("indicator").drop(index="log_match")
    assert (ind.drop(index="log_match")["numerator"] == same["numerator"]).all()


def test_stock_counts_leave_the_incremental_indicators_unscored(cfg: scoring.ScoringConfig) -> None:
    dom = load_domain("bdc")
    stock_rules = {r.rule_id for r in dom.rules if "stock" in r.applies_to}
    counts = counts_frame([c for c in ALL_COUNTS if c[1] in stock_rules], "stock")
    rows = rows_frame([r for r in ALL_ROWS if r[1] != "DJ_DBRZ"], "stock")
    res = scoring.score(counts, rows, config=cfg)
    scored = set(res.indicators.loc[res.indicators["scored"], "indicator"])
    assert scored == {
        "empty_rate", "error_rate", "unit_no_ok", "id_no_ok", "code_ok", "dup_rate", "link_ok", "logic_ok",
        "access_ok",
    }  # fmt: skip
    assert res.scores.iloc[0]["scored_weight"] == sum(cfg.indicator(i).weight for i in scored)
    assert scoring.scores_table(res).iloc[0]["period"] == "stock"


def test_nothing_scored_gives_no_score_grade_or_rank() -> None:
    cfg = mini_config()
    counts = counts_frame([(D1, "bdc.fdcq.djlx.code", 0, 0), (D2, "bdc.fdcq.djlx.code", 10, 0)])
    sc = scoring.score(counts, config=cfg).scores.set_index("unit_code")
    assert math.isnan(sc.loc[D1, "score"]) and pd.isna(sc.loc[D1, "grade"]) and pd.isna(sc.loc[D1, "rank"])
    assert sc.loc[D2, "score"] == 100.0 and sc.loc[D2, "rank"] == 1


def test_ledger_figures_must_be_consistent(cfg: scoring.ScoringConfig) -> None:
    with pytest.raises(ValueError, match="closed_after_recheck"):
        scoring.score(counts_frame(ALL_COUNTS), None, ledger_frame([(D1, 2, 3, 0)]), config=cfg)


# ============================================================================ rounding, ranking


def test_score_rounds_half_up() -> None:
    cfg = mini_config(
        a=dict(label_zh="甲", label_en="a", dimension="validity", direction="up", weight=50, target=1.0, floor=0.0,
               rules=["bdc.fdcq.djlx.code"]),
        b=dict(label_zh="乙", label_en="b", dimension="completeness", direction="down", weight=50, target=0.0,
               floor=1.0, rules=["bdc.fdcq.ywh.required"]),
    )  # fmt: skip
    # a: 137/200 pass = 68.5 points, b: 0 empty = 100 points → 84.25 → 84.3 (Python round: 84.2)
    counts = counts_frame([(D1, "bdc.fdcq.djlx.code", 200, 63), (D1, "bdc.fdcq.ywh.required", 200, 0)])
    sc = scoring.score(counts, config=cfg).scores.iloc[0]
    assert sc["score_exact"] == pytest.approx(84.25)
    assert sc["score"] == 84.3


def _one_indicator_config() -> scoring.ScoringConfig:
    only = dict(label_zh="甲", label_en="a", dimension="validity", direction="up", weight=100, target=1.0,
                floor=0.0, rules=["bdc.fdcq.djlx.code"])  # fmt: skip
    data = {
        "grades": [{"grade": "A", "min": 90}, {"grade": "B", "min": 0}],
        "pass_grade": "A",
        "levels": [{"level": "优", "min": 100}, {"level": "差", "min": 0}],
        "indicators": {"a": only},
    }
    return scoring.parse_scoring(data, unit=load_domain("bdc").unit)


def test_ranking_ties_share_the_best_rank_per_period() -> None:
    cfg = _one_indicator_config()
    counts = pd.concat(
        [
            counts_frame(
                [
                    (D1, "bdc.fdcq.djlx.code", 1000, 100),  # 90.0
                    (D2, "bdc.fdcq.djlx.code", 100, 10),  # 90.0
                    (D3, "bdc.fdcq.djlx.code", 10, 2),  # 80.0
                ],
                "2024-03-05",
            ),
            counts_frame(
                [
                    (D1, "bdc.fdcq.djlx.code", 10000, 1004),  # 89.96 → 90.0
                    (D2, "bdc.fdcq.djlx.code", 10000, 996),  # 90.04 → 90.0
                    (D3, "bdc.fdcq.djlx.code", 10, 0),  # 100
                ],
                "2024-03-06",
            ),
        ]
    )
    sc = scoring.score(counts, config=cfg).scores.set_index(["period", "unit_code"])
    assert [sc.loc[("2024-03-05", d), "rank"] for d in (D1, D2, D3)] == [1, 1, 3]
    assert [sc.loc[("2024-03-06", d), "score"] for d in (D1, D2, D3)] == [90.0, 90.0, 100.0]
    # ties are decided on the published score
    assert [sc.loc[("2024-03-06", d), "rank"] for d in (D1, D2, D3)] == [2, 2, 1]


# ============================================================================ districts


def test_only_county_codes_are_scored_by_default() -> None:
    cfg = mini_config()
    counts = counts_frame(
        [
            (D1, "bdc.fdcq.djlx.code", 10, 0),
            ("420100", "bdc.fdcq.djlx.code", 3, 3),  # a prefecture code (bdc.fdcq.qxdm.code reports it)
            ("", "bdc.fdcq.djlx.code", 2, 2),  # empty district
        ]
    )
    assert list(scoring.score(counts, config=cfg).scores["unit_code"]) == [D1]
    assert list(scoring.score(counts, config=cfg, units=[D1, "420100"]).scores["unit_code"]) == ["420100", D1]


def test_units_of_a_pack_without_places_are_any_non_empty_code() -> None:
    """Without a unit (a model parsed on its own) or for a non-geographic pack, every non-empty code is a
    unit; names come from the data (a unit_name column) before the pack."""
    cfg = scoring.parse_scoring(
        {
            "grades": [{"grade": "好", "min": 60}, {"grade": "差", "min": 0}],
            "pass_grade": "好",
            "levels": [{"level": "达标", "min": 100}, {"level": "未达标", "min": 0}],
            "indicators": {
                "a": dict(
                    label_zh="甲",
                    dimension="validity",
                    direction="up",
                    weight=100,
                    target=1.0,
                    floor=0.0,
                    rules=["x.*"],
                ),
            },
        }
    )
    assert cfg.unit is None and cfg.indicator("a").label_en == "a", "label_en is optional"
    counts = counts_frame([(D1, "bdc.fdcq.djlx.code", 10, 1)]).assign(rule_id="x.a")
    counts = pd.concat(
        [counts, counts.assign(unit_code="JG001", unit_name="东城窗口"), counts.assign(unit_code="")]
    )
    res = scoring.score(counts, config=cfg)
    assert sorted(res.scores["unit_code"]) == sorted([D1, "JG001"])
    names = dict(zip(res.scores["unit_code"], res.scores["unit_name"], strict=True))
    assert names == {D1: "", "JG001": "东城窗口"}
    assert set(res.scores["grade"]) == {"好"}


def test_pass_grade_and_level_colours(cfg: scoring.ScoringConfig) -> None:
    assert cfg.pass_grade == "A4" and cfg.pass_score == 90
    assert cfg.passing_grades == ["A1", "A2", "A3", "A4"]
    assert cfg.meets("A4") and cfg.meets("A1") and not cfg.meets("B1") and not cfg.meets(None)
    assert cfg.level_names == ["优", "良", "差"]
    assert all(re.fullmatch(r"#[0-9a-f]{6}", cfg.level_colour(lv)) for lv in cfg.level_names)
    assert cfg.level_colour(None) is None
    # levels without colours get a default from green to red, one per level
    two = mini_config()
    assert len(set(two.level_colours.values())) == 3


def test_rank_scores_ties_share_the_best_rank() -> None:
    s = pd.Series([90.0, 95.0, 90.0, math.nan, 80.0])
    assert list(scoring.rank_scores(s)) == [2, 1, 2, pd.NA, 4]
    groups = pd.Series(["a", "a", "b", "b", "b"])
    assert list(scoring.rank_scores(s, groups)) == [2, 1, 1, pd.NA, 2]
    assert scoring.rank_scores(pd.Series([], dtype=float)).empty


# ============================================================================ log days and periods


def test_log_reported_counts_working_days_with_a_log(cfg: scoring.ScoringConfig) -> None:
    rows = pd.concat(
        [
            rows_frame(
                [(D1, "DJ_DBRZ", 9, 0), (D2, "DJ_DBRZ", 0, 0), (D2, "QLT_FW_FDCQ_YZ", 5, 0)], "2024-03-04"
            ),
            rows_frame([(D1, "DJ_DBRZ", 9, 0), (D2, "DJ_DBRZ", 9, 0)], "2024-03-05"),
            rows_frame([(D1, "DJ_DBRZ", 0, 0), (D2, "DJ_DBRZ", 9, 0)], "2024-03-09"),  # Saturday
            # no log table in the batch of 2024-03-11
            rows_frame([(D1, "QLT_FW_FDCQ_YZ", 5, 0), (D2, "QLT_FW_FDCQ_YZ", 5, 0)], "2024-03-11"),
        ]
    )
    counts = counts_frame([(D1, "bdc.fdcq.djlx.code", 1, 0)], "2024-03-04")
    daily = scoring.score(counts, rows, config=cfg)
    ind = daily.indicators.loc[daily.indicators["indicator"] == "log_reported"].set_index(
        ["period", "unit_code"]
    )
    assert ind.loc[("2024-03-04", D1), "rate"] == 1.0
    assert ind.loc[("2024-03-04", D2), "rate"] == 0.0
    assert not ind.loc[("2024-03-09", D1), "scored"]  # not a working day
    assert not ind.loc[("2024-03-11", D1), "scored"]  # the batch had no log table
    month = scoring.period_scores(daily, "month")
    mi = month.indicators.loc[month.indicators["indicator"] == "log_reported"].set_index("unit_code")
    assert (mi.loc[D2, "numerator"], mi.loc[D2, "denominator"]) == (1, 2)
    assert (mi.loc[D1, "numerator"], mi.loc[D1, "denominator"]) == (2, 2)


@pytest.mark.parametrize(
    ("day", "by", "label"),
    [
        ("2024-03-05", "day", "2024-03-05"),
        ("2024-01-01", "week", "2024-W01"),
        ("2021-01-01", "week", "2020-W53"),
        ("2024-03-05", "month", "2024-03"),
        ("2024-11-30", "quarter", "2024-Q4"),
        ("2024-03-05", "year", "2024"),
    ],
)
def test_period_labels(day, by, label) -> None:
    assert scoring.period_label(day, by) == label


def test_period_score_is_the_mean_of_daily_scores_and_rates_come_from_summed_counts() -> None:
    cfg = mini_config()
    counts = pd.concat(
        [
            # day 1: a 94/100 → 50 points, b 1/100 → 100 points → 70.0
            counts_frame(
                [(D1, "bdc.fdcq.djlx.code", 100, 6), (D1, "bdc.fdcq.ywh.required", 100, 1)], "2024-03-04"
            ),
            # day 2: a 299/300 → 100, b 30/300 = 0.1 → 10 points → 64.0
            counts_frame(
                [(D1, "bdc.fdcq.djlx.code", 300, 1), (D1, "bdc.fdcq.ywh.required", 300, 30)], "2024-03-05"
            ),
            # day 3 (next month): a 100/100, b 0/50 → 100
            counts_frame(
                [(D1, "bdc.fdcq.djlx.code", 100, 0), (D1, "bdc.fdcq.ywh.required", 50, 0)], "2024-04-01"
            ),
        ]
    )
    daily = scoring.score(counts, config=cfg)
    assert list(daily.scores["score"]) == [70.0, 64.0, 100.0]
    month = scoring.period_scores(daily, "month")
    sc = month.scores.set_index("period")
    assert sc.loc["2024-03", "score"] == 67.0  # (70 + 64) / 2
    assert sc.loc["2024-03", "n_days"] == 2 and sc.loc["2024-04", "n_days"] == 1
    assert sc.loc["2024-03", "grade"] == "C"
    ind = month.indicators.set_index(["period", "indicator"])
    # b over the month: 31 / 400 (summed counts), not the mean of the daily rates (0.01 + 0.1) / 2
    assert (ind.loc[("2024-03", "b"), "numerator"], ind.loc[("2024-03", "b"), "denominator"]) == (31, 400)
    assert ind.loc[("2024-03", "a"), "rate"] == pytest.approx(393 / 400)
    assert list(month.daily.loc[month.daily["period"] == "2024-03", "score"]) == [70.0, 64.0]


def test_period_mean_rounds_half_up() -> None:
    cfg = _one_indicator_config()
    counts = pd.concat(
        [
            counts_frame([(D1, "bdc.fdcq.djlx.code", 1000, 200)], "2024-03-04"),  # 80.0
            counts_frame([(D1, "bdc.fdcq.djlx.code", 1000, 199)], "2024-03-05"),  # 80.1
        ]
    )
    month = scoring.period_scores(scoring.score(counts, config=cfg), "month")
    assert month.scores.iloc[0]["score"] == 80.1  # 80.05 half up
    week = scoring.period_scores(scoring.score(counts, config=cfg), "week")
    assert list(week.scores["period"]) == ["2024-W10"]


def test_period_scores_needs_a_period_column() -> None:
    cfg = mini_config()
    res = scoring.score(counts_frame([(D1, "bdc.fdcq.djlx.code", 1, 0)]).rename(columns={"period": "batch"}),
                        by="batch", config=cfg)  # fmt: skip
    with pytest.raises(ValueError, match="period"):
        scoring.period_scores(res, "month")
    with pytest.raises(ValueError, match="fortnight"):
        scoring.period_scores(
            scoring.score(counts_frame([(D1, "bdc.fdcq.djlx.code", 1, 0)]), config=cfg), "fortnight"
        )


# ============================================================================ scores.csv and the trace


def test_scores_table_columns(full: scoring.ScoreResult) -> None:
    table = scoring.scores_table(full)
    assert list(table.columns[: 3 + 17 + 3]) == [
        "unit_code",
        "unit_name",
        "period",
        *IDS,
        "score",
        "grade",
        "rank",
    ]
    row = table.iloc[0]
    assert (row["unit_code"], row["unit_name"], row["period"]) == (D1, "江岸区", DAY)
    assert row["submit_rate"] == pytest.approx(46 / 48)
    assert row["submit_rate_level"] == scoring.level(
        full.indicators.set_index("indicator").loc["submit_rate", "points"], full.config
    )
    assert row["n_days"] == 1


def test_scores_table_of_a_period_keeps_unscored_cells_empty() -> None:
    cfg = mini_config()
    counts = counts_frame([(D1, "bdc.fdcq.djlx.code", 10, 1), (D2, "bdc.fdcq.ywh.required", 10, 0)])
    table = scoring.scores_table(scoring.period_scores(scoring.score(counts, config=cfg), "month"))
    assert list(table.columns[:7]) == ["unit_code", "unit_name", "period", "a", "b", "score", "grade"]
    t = table.set_index("unit_code")
    assert math.isnan(t.loc[D1, "b"]) and math.isnan(t.loc[D2, "a"])
    assert list(table["rank"]) == [1, 2]  # D2 (100) before D1 (0.9 → 10 points)


def _assert_traceable(res: scoring.ScoreResult) -> None:
    keys = res.keys
    tr = res.trace.groupby([*keys, "indicator"])[["numerator", "denominator"]].sum()
    ind = res.indicators.set_index([*keys, "indicator"])
    joined = ind[["numerator", "denominator", "rate", "points", "effective_weight", "scored"]].join(
        tr.add_suffix("_trace"), how="left"
    )
    joined = joined.fillna({"numerator_trace": 0, "denominator_trace": 0})
    assert (joined["numerator"] == joined["numerator_trace"]).all()
    assert (joined["denominator"] == joined["denominator_trace"]).all()
    scored = joined.loc[joined["scored"]]
    assert (scored["rate"] - scored["numerator"] / scored["denominator"]).abs().max() < 1e-12
    # rule counts: up → element − unexpected, down → unexpected
    t = res.trace.loc[(res.trace["role"] == "count") & res.trace["evaluated"]]
    up = t["indicator"].map({i.id: i.direction == "up" for i in res.config.indicators})
    expect = t["unexpected_count"].where(~up, t["element_count"] - t["unexpected_count"])
    assert (t["numerator"] == expect).all() and (t["denominator"] == t["element_count"]).all()
    rest = res.trace.loc[(res.trace["role"] == "detail") | ~res.trace["evaluated"]]
    assert (rest[["numerator", "denominator"]] == 0).all().all()


def test_rates_recomputed_from_the_trace_equal_the_table(full: scoring.ScoreResult) -> None:
    _assert_traceable(full)
    # and the score from the indicator rows
    ind = full.indicators.loc[full.indicators["scored"]]
    again = (ind["effective_weight"] * ind["points"]).sum() / 100
    assert full.scores.iloc[0]["score"] == scoring.round_half_up(again, 1)
    # each rule's counts appear unchanged in the trace
    tr = full.trace.set_index(["indicator", "source"])
    assert tuple(tr.loc[("code_ok", "bdc.jrbw.jrzt.code"), ["element_count", "unexpected_count"]]) == (20, 2)
    assert tuple(tr.loc[("error_rate", "QLF_QL_DYAQ"), ["element_count", "unexpected_count"]]) == (10, 1)


def test_explain_gives_the_numbers_behind_a_score(full: scoring.ScoreResult) -> None:
    ex = scoring.explain(full, D1, DAY)
    assert ex.score == full.scores.iloc[0]["score"] and ex.district_name == "江岸区"
    ind = ex.indicators.set_index("indicator")
    assert (ind.loc["dup_rate", "numerator"], ind.loc["dup_rate", "denominator"]) == (4, 70)
    src = ex.sources.loc[ex.sources["indicator"] == "dup_rate"].set_index("source")
    assert src.loc["bdc.jrbw.bizmsgid.unique", "unexpected_count"] == 2
    assert src["numerator"].sum() == 4 and src["denominator"].sum() == 70
    text = ex.text()
    assert "dup_rate 重复率: 4/70" in text and "bdc.jrbw.bizmsgid.unique" in text
    weakest = ex.weakest(3)
    assert len(weakest) == 3 and weakest["lost"].is_monotonic_decreasing
    with pytest.raises(KeyError):
        scoring.explain(full, D2, DAY)


def test_explain_of_a_period_lists_the_daily_scores() -> None:
    cfg = mini_config()
    counts = pd.concat(
        [
            counts_frame([(D1, "bdc.fdcq.djlx.code", 100, 6)], "2024-03-04"),
            counts_frame([(D1, "bdc.fdcq.djlx.code", 100, 0)], "2024-03-05"),
        ]
    )
    month = scoring.period_scores(scoring.score(counts, config=cfg), "month")
    _assert_traceable(month)
    ex = scoring.explain(month, D1, "2024-03")
    assert ex.score == 75.0 and ex.n_days == 2
    assert list(ex.daily["score"]) == [50.0, 100.0]
    assert "mean of 2 daily scores" in ex.text()
    src = ex.sources.set_index("source")
    assert tuple(src.loc["bdc.fdcq.djlx.code", ["element_count", "unexpected_count"]]) == (200, 6)


# ============================================================================ end to end: dq check → score


def test_check_result_to_scores(tmp_path: Path, bdc_kit) -> None:
    from toolkit.check import run_check

    codes = bdc_kit.districts(2)
    tables = bdc_kit.valid_tables(codes)
    bdc_kit.find(tables, bdc_kit.FDCQ, YWH=bdc_kit.ywh(codes[0], 1))["JZMJ"] = "-3"  # range (validity)
    bdc_kit.find(tables, bdc_kit.FDCQ, YWH=bdc_kit.ywh(codes[0], 2))["FDZL"] = None  # required
    batch = bdc_kit.write_batch(tmp_path / "b", tables)
    result = run_check(batch, domain="bdc", mode="incremental")
    counts = result.counts.assign(period="2024-03-05")
    rows = scoring.row_counts(result, period="2024-03-05")
    assert set(rows["table"]) == set(bdc_kit.FIELDS)
    r = rows.set_index(["unit_code", "table"])
    assert r.loc[(codes[0], bdc_kit.FDCQ), "rows"] == 2
    assert r.loc[(codes[0], bdc_kit.FDCQ), "failing_validity"] == 1
    assert r.loc[(codes[0], bdc_kit.FDCQ), "failing_completeness"] == 1
    assert r.loc[(codes[1], bdc_kit.FDCQ), "failing_any"] == 0

    res = scoring.score(counts, rows, config=scoring.load_scoring("bdc"))
    _assert_traceable(res)
    table = scoring.scores_table(res)
    assert list(table["unit_code"]) == [codes[1], codes[0]]  # the clean district first
    t = table.set_index("unit_code")
    assert t.loc[codes[1], "score"] == 100.0 and t.loc[codes[1], "grade"] == "A1"
    assert t.loc[codes[0], "error_rate"] == pytest.approx(1 / 3)  # 1 of 2 fdcq + 1 dyaq rows
    assert t.loc[codes[0], "score"] < 100
    assert math.isnan(t.loc[codes[0], "reconcile_rate"])  # no ledger yet
    ex = scoring.explain(res, codes[0], "2024-03-05")
    assert "bdc.fdcq.jzmj.range" in ex.text()


def test_weakest_ignores_floating_point_noise(full: scoring.ScoreResult) -> None:
    """An indicator at its target can show a loss of ~1e-15 points from float arithmetic: not weak."""
    import dataclasses

    ex = scoring.explain(full, D1, DAY)
    ind = ex.indicators.copy()
    scored = ind.index[ind["scored"]]
    ind.loc[scored, "lost"] = 0.0
    ind.loc[scored[0], "lost"] = 1e-15
    ind.loc[scored[1], "lost"] = 2.5
    weakest = dataclasses.replace(ex, indicators=ind).weakest(3)
    assert list(weakest.index) == [scored[1]]
