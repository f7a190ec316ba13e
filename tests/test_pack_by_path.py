"""A domain is data: a locality's own pack, kept outside the toolkit and passed by path, goes through every
command — check, score, report, ledger, audit — with the right counts.

The fixture pack ``tests/fixtures/xpack`` has other tables and column names (unit of assessment: the office
``JGDM``, named from the data's ``JGMC``; records keyed by ``DJBH`` and ``[DJBH, XH]``), its own grade scale
(优秀 / 良好 / 合格 / 不合格) and no sample generator. ``tests/xpack.py`` writes its batches with errors at
known places.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd
import pytest
import xpack
from typer.testing import CliRunner

from toolkit.cli import app

PACK = str(xpack.PACK)
DAYS = [dt.date(2024, 3, 4), dt.date(2024, 3, 5), dt.date(2024, 3, 6)]


def dq(*argv) -> tuple[int, str]:
    res = CliRunner().invoke(app, [str(a) for a in argv])
    return res.exit_code, res.output


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("xpack") / "incremental"
    return root, xpack.write_history(root, DAYS)


def test_check_counts_and_lists_problems_by_office(history, tmp_path):
    root, expected = history
    day = DAYS[0].isoformat()
    code, out = dq(
        "check", "--domain", PACK, "--mode", "incremental", "--input", root / day, "--out", tmp_path
    )
    assert code == 1, out  # a critical rule fails (a bad ID number)
    counts = pd.read_csv(tmp_path / "counts.csv", dtype=str, encoding="utf-8-sig")
    assert list(counts.columns[:2]) == ["unit_code", "unit_name"] and "QXDM" not in counts.columns
    got = {
        (u, r): int(n)
        for u, r, n in zip(counts.unit_code, counts.rule_id, counts.unexpected_count, strict=True)
        if int(n)
    }
    assert got == dict(expected[day])
    assert dict(zip(counts.unit_code, counts.unit_name, strict=True)) == xpack.OFFICES
    problems = pd.read_csv(tmp_path / "problems.csv", dtype=str, encoding="utf-8-sig")
    assert len(problems) == sum(expected[day].values())
    dup = problems[problems.rule_id == "xpack.djxx.djbh.unique"]
    assert set(dup.record_key) == {f"JG002-{DAYS[0]:%Y%m%d}-001"}
    holder = problems[problems.rule_id == "xpack.sqr.zjhm.citizen_id"].iloc[0]
    assert holder.record_key == f"JG001-{DAYS[0]:%Y%m%d}-001|1" and "*" in holder.value_masked
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["units"] == ["JG001", "JG002"] and summary["unit"]["label_zh"] == "机构"


def test_score_and_report_use_the_packs_units_and_grades(history, tmp_path):
    root, _expected = history
    code, out = dq("score", "--domain", PACK, "--history", root, "--out", tmp_path / "scores", "--by", "day")
    assert code == 0, out
    scores = pd.read_csv(tmp_path / "scores" / "scores.csv", dtype=str, encoding="utf-8-sig")
    assert set(scores.unit_code) == set(xpack.OFFICES) and set(scores.unit_name) == set(
        xpack.OFFICES.values()
    )
    assert set(scores.period) == {d.isoformat() for d in DAYS}
    assert set(scores.grade) <= {"优秀", "良好", "合格", "不合格"}
    # a clean day scores 100 for both offices
    clean = scores[scores.period == DAYS[1].isoformat()]
    assert set(clean.score.astype(float)) == {100.0} and set(clean["rank"]) == {"1"}
    code, out = dq(
        "report", "--domain", PACK, "--period", "month", "--history", root, "--out", tmp_path / "report"
    )
    assert code == 0, out
    page = next((tmp_path / "report").glob("bulletin_*.html")).read_text(encoding="utf-8")
    visible = re.sub(r"<(style|script)[^>]*>.*?</\1>|<[^>]+>|data:[^\"')]+", " ", page, flags=re.S)
    assert "某市许可登记数据质量" in visible and "机构" in visible and "东城窗口" in visible
    assert "区县" not in visible  # its own unit label …
    assert not re.search(r"\b(A[1-4]|B[1-4]|C[1-4])\b", visible.replace("A4 纸", ""))  # … and its own grades


def test_ledger_keeps_problems_by_office_and_record_key(history, tmp_path):
    root, expected = history
    ledger = tmp_path / "ledger.sqlite"
    day = DAYS[0].isoformat()
    code, out = dq(
        "check", "--domain", PACK, "--input", root / day, "--out", tmp_path / "out", "--ledger", ledger
    )
    assert code == 1, out
    code, out = dq("ledger", "export", "--ledger", ledger, "--out", tmp_path / "ledger.csv")
    assert code == 0, out
    exported = pd.read_csv(tmp_path / "ledger.csv", dtype=str, encoding="utf-8-sig")
    assert len(exported) == sum(expected[day].values())  # one problem per failing row and rule
    assert "赵主任" in set(exported.astype(str).stack())  # the office's responsible person from its roster


def test_audit_samples_per_office(history, tmp_path):
    root, _ = history
    code, out = dq(
        "audit", "--domain", PACK, "--input", root / DAYS[0].isoformat(), "--out", tmp_path, "--size", "2"
    )
    assert code == 0, out
    book = next(tmp_path.glob("*.xlsx"))
    frame = pd.read_excel(book, sheet_name=0, dtype=str, header=None)
    text = " ".join(frame.fillna("").astype(str).stack())
    assert "东城窗口" in text and "西城窗口" in text and "JG001-" in text
