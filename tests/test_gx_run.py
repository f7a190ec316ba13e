"""Running suites through Great Expectations: metric errors are never silent counts."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.domain import Rule
from toolkit.gx_run import run_checkpoint
from toolkit.masking import Masker

META = {
    "rule_id": "t.pair",
    "table": "T",
    "field": "A",
    "dimension": "consistency",
    "severity": "critical",
    "applies_to": ["incremental"],
    "message_zh": "x",
    "fix_zh": "y",
    "standard": "z",
}


def test_a_metric_error_is_an_error_not_zero_of_zero():
    """GX reports some metric errors per metric, not as the expectation's ``raised_exception``: a
    column-pair rule with the default ``ignore_row_if`` on text with missing values ("boolean value of NA
    is ambiguous") used to come back as failed with 0 of 0 rows."""
    frame = pd.DataFrame(
        {"A": ["1", None, "3", None], "B": ["1", "2", None, None], "_ROW": ["2", "3", "4", "5"]}
    )
    rule = Rule(
        "t.pair",
        "s",
        "T",
        "table",
        "expect_column_pair_values_to_be_equal",
        {"column_A": "A", "column_B": "B"},
        META,
    )
    res = run_checkpoint("x", {"T": frame.astype(object)}, {"T": [rule]}, masker=Masker(), docs_dir=None)[
        "t.pair"
    ]
    assert res.error and "NA is ambiguous" in res.error and not res.success


def test_dq_check_marks_such_a_rule_not_evaluated_with_the_reason(tmp_path, bdc_kit):
    t = bdc_kit.valid_tables(bdc_kit.districts(1))
    t[bdc_kit.FDCQ][0]["BDCQZH"] = None
    batch = bdc_kit.write_batch(tmp_path / "batch", t)
    ov = tmp_path / "pair.yaml"
    ov.write_text(
        """add:
  - suite: bdc.fdcq
    type: expect_column_pair_values_to_be_equal
    kwargs: {column_A: BDCQZH, column_B: DJJG}
    meta: {rule_id: local.pair, table: QLT_FW_FDCQ_YZ, field: BDCQZH, dimension: consistency,
           severity: warning, applies_to: [incremental], message_zh: x, fix_zh: y, standard: z}
""",
        encoding="utf-8",
    )
    res = CliRunner().invoke(
        app,
        [
            "check",
            "--domain",
            "bdc",
            "--input",
            str(batch),
            "--out",
            str(tmp_path / "out"),
            "--overlay",
            str(ov),
        ],
    )
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    reasons = {r["rule_id"]: r["reason"] for r in summary["not_evaluated_rules"]}
    assert "NA is ambiguous" in reasons["local.pair"]
    counts = pd.read_csv(tmp_path / "out" / "counts.csv", dtype=str, encoding="utf-8-sig")
    assert set(counts[counts.rule_id == "local.pair"].evaluated) == {"False"}
    assert res.exit_code == 2  # a rule that could not run: the gate cannot say "pass"


def test_data_docs_work_offline(tmp_path, bdc_kit):
    """No page references a remote resource or link (intranets have no internet); every local script and
    stylesheet a page loads exists."""
    import re

    batch = bdc_kit.write_batch(tmp_path / "batch", bdc_kit.valid_tables(bdc_kit.districts(1)))
    res = CliRunner().invoke(
        app, ["check", "--domain", "bdc", "--input", str(batch), "--out", str(tmp_path / "out")]
    )
    assert res.exit_code == 0, res.output
    docs = tmp_path / "out" / "data_docs"
    pages = list(docs.rglob("*.html"))
    assert len(pages) > 3
    remote = re.compile(
        r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//""", re.IGNORECASE
    )
    for page in [*pages, *docs.rglob("*.css")]:
        text = page.read_text(encoding="utf-8")
        assert not remote.search(text), (page, remote.search(text))
    for page in pages:
        text = page.read_text(encoding="utf-8")
        local = re.findall(r'<(?:script src|link rel="stylesheet" href)="([^"]+)"', text)
        assert any("jquery" in s for s in local) and any("bootstrap.min.css" in s for s in local)
        for ref in local:
            assert (page.parent / ref).resolve().is_file(), (page, ref)
