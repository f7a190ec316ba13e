"""Locality overlays (``dq check --overlay``): switch off, demote, tolerate and add rules, end to end.

A valid hand-built batch (conftest.py) gets one bad JZMJ (building area) in the first district: the
national rule ``bdc.fdcq.jzmj.range`` is critical, so the plain run exits 1; each overlay changes that in
its own way, and summary.json records which overlay was used.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from toolkit.cli import app

RULE = "bdc.fdcq.jzmj.range"


@pytest.fixture(scope="module")
def batch(tmp_path_factory, bdc_kit) -> Path:
    codes = bdc_kit.districts(2)
    tables = bdc_kit.valid_tables(codes)
    bdc_kit.find(tables, bdc_kit.FDCQ, YWH=bdc_kit.ywh(codes[0], 1))["JZMJ"] = "-5"
    return bdc_kit.write_batch(tmp_path_factory.mktemp("overlay") / "batch", tables)


def run(batch: Path, out: Path, overlay: Path | None = None):
    argv = ["check", "--input", str(batch), "--out", str(out), "--no-data-docs"]
    if overlay is not None:
        argv += ["--overlay", str(overlay)]
    return CliRunner().invoke(app, argv)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def counts(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "counts.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")


def test_without_overlay_the_critical_rule_fails(batch, tmp_path):
    res = run(batch, tmp_path / "out")
    assert res.exit_code == 1, res.output
    c = counts(tmp_path / "out")
    assert c[c.rule_id == RULE].unexpected_count.astype(int).sum() == 1
    assert json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))["overlay"] is None


OVERLAYS = [
    # (case, overlay rules block, exit code, rule present in counts, its severity)
    ("disable", f"{RULE}: {{enabled: false}}", 0, False, None),
    ("demote", f"{RULE}: {{severity: warning}}", 0, True, "warning"),
    # one failure in 4 registrations = 25 %: a 30 % tolerance passes, a 20 % tolerance does not
    ("tolerate", f"{RULE}: {{tolerance: 0.3}}", 0, True, "critical"),
    ("tolerate-too-little", f"{RULE}: {{tolerance: 0.2}}", 1, True, "critical"),
]


@pytest.mark.parametrize(
    ("case", "rules", "code", "present", "severity"), OVERLAYS, ids=[o[0] for o in OVERLAYS]
)
def test_overlay_changes_a_national_rule(batch, tmp_path, case, rules, code, present, severity):
    ov = write(tmp_path / "local.yaml", f"name: 某市本地规则\ndomain: bdc\nrules:\n  {rules}\n")
    res = run(batch, tmp_path / "out", ov)
    assert res.exit_code == code, res.output
    c = counts(tmp_path / "out")
    assert (RULE in set(c.rule_id)) is present
    if present:
        assert set(c[c.rule_id == RULE].severity) == {severity}
        assert c[c.rule_id == RULE].unexpected_count.astype(int).sum() == 1
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["overlay"]["name"] == "某市本地规则"
    assert summary["overlay"]["sha256"] == hashlib.sha256(ov.read_bytes()).hexdigest()
    assert summary["overlay"]["changed"] == [RULE]


def test_overlay_adds_a_local_rule(batch, tmp_path, bdc_kit):
    ov = write(
        tmp_path / "add.yaml",
        """name: 某市本地规则
domain: bdc
rules:
  bdc.fdcq.jzmj.range: {enabled: false}
add:
  - suite: bdc.fdcq
    type: expect_column_values_to_match_regex
    kwargs: {column: FDZL, regex: "^湖北省武汉市解放大道1号$"}
    meta:
      rule_id: local.fdcq.fdzl.road
      table: QLT_FW_FDCQ_YZ
      field: FDZL
      dimension: validity
      severity: critical
      applies_to: [stock, incremental]
      message_zh: 坐落不在本市试点路段。
      fix_zh: 核对坐落。
      standard: 本地规定
""",
    )
    res = run(batch, tmp_path / "out", ov)
    assert res.exit_code == 1, res.output  # every district's second registration is on road no. 2
    c = counts(tmp_path / "out")
    local = c[c.rule_id == "local.fdcq.fdzl.road"]
    assert dict(zip(local.QXDM, local.unexpected_count.astype(int), strict=True)) == {
        d: 1 for d in bdc_kit.districts(2)
    }
    assert set(local.element_count.astype(int)) == {2}
    problems = pd.read_csv(tmp_path / "out" / "problems.csv", dtype=str, encoding="utf-8-sig")
    assert set(problems[problems.rule_id == "local.fdcq.fdzl.road"].message_zh) == {"坐落不在本市试点路段。"}
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["overlay"]["added"] == ["local.fdcq.fdzl.road"]


BAD = [
    ("unknown-rule", "rules:\n  bdc.nope.rule: {enabled: false}\n", "bdc.nope.rule"),
    ("bad-key", f"rules:\n  {RULE}: {{colour: red}}\n", "colour"),
    ("bad-severity", f"rules:\n  {RULE}: {{severity: fatal}}\n", RULE),
    ("bad-tolerance", f"rules:\n  {RULE}: {{tolerance: 2}}\n", RULE),
    ("other-domain", "domain: gjj\n", "gjj"),
    ("incomplete-add", "add:\n  - suite: bdc.fdcq\n    type: expect_column_values_to_not_be_null\n", "meta"),
    ("not-yaml", "rules: [unclosed\n", "local.yaml"),
]


@pytest.mark.parametrize(("case", "text", "word"), BAD, ids=[b[0] for b in BAD])
def test_bad_overlay_exits_2_naming_the_file(batch, tmp_path, case, text, word):
    ov = write(tmp_path / "local.yaml", text)
    res = run(batch, tmp_path / "out", ov)
    assert res.exit_code == 2, res.output
    assert word in res.output.replace("\n", "") and "local.yaml" in res.output.replace("\n", "")
    assert not (tmp_path / "out" / "counts.csv").exists()
