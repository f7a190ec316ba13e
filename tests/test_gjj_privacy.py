"""Every output of a ``gjj`` run shows no unmasked ID number, name or mobile number: ``dq check`` (counts,
problems, summary, Data Docs, the dormant and multi-account lists with their XLSX forms), ``dq reconcile``
(CSV and XLSX), ``dq score`` and ``dq report`` — every file read the way its reader would (tests/scan.py)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from scan import find
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.domain import load_domain
from toolkit.samples import generate_sample


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gjj_privacy")
    generate_sample("gjj", out, seed=12, districts=3, days=2, stock_rows=240, error_scale=5.0)
    return out


def _needles(folder: Path) -> list[str]:
    """The batch's personal data, as written: ID numbers, names and mobile numbers."""
    dom = load_domain("gjj")
    pii = dom.pii_fields()
    out: set[str] = set()
    for path in folder.glob("*.csv"):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                for f, kind in pii.items():
                    v = (row.get(f) or "").strip()
                    if kind == "name" and re.fullmatch(r"[\u4e00-\u9fff·]{2,6}", v):
                        out.add(v)
                    elif kind != "name" and re.fullmatch(r"[0-9Xx]{11,18}", v):
                        out.add(v)
    return sorted(out)


@pytest.fixture(scope="module")
def outputs(sample, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("gjj_outputs")
    months = sorted((sample / "incremental").iterdir())
    runner = CliRunner()
    for name, batch, mode in [("stock", sample / "stock", "stock"), ("month", months[-1], "incremental")]:
        res = runner.invoke(
            app,
            ["check", "--domain", "gjj", "--mode", mode, "--input", str(batch), "--out", str(root / name)],
        )
        assert res.exit_code in (0, 1), res.output
    res = runner.invoke(
        app, ["reconcile", "--history", str(sample / "incremental"), "--out", str(root / "rec")]
    )
    assert res.exit_code in (0, 1), res.output
    hist = sample / "incremental"
    res = runner.invoke(
        app,
        ["score", "--domain", "gjj", "--history", str(hist), "--out", str(root / "score"), "--by", "month"],
    )
    assert res.exit_code == 0, res.output
    return root


def test_pii_fields_are_declared():
    pii = load_domain("gjj").pii_fields()
    assert {"XINGMING", "JKRXM", "ZJHM", "JKRZJH", "SJHM"} <= set(pii)


def test_no_output_shows_personal_data(sample, outputs):
    needles = sorted(
        set(_needles(sample / "stock")) | {n for p in (sample / "incremental").iterdir() for n in _needles(p)}
    )
    assert len(needles) > 100 and any(len(n) == 18 for n in needles) and any(len(n) == 11 for n in needles)
    written = {p.name for p in outputs.rglob("*") if p.is_file()}
    for name in ("dormant.csv", "dormant.xlsx", "multi_account.csv", "multi_account.xlsx", "problems.csv"):
        assert name in written, name
    assert {"reconcile.csv", "reconcile.xlsx", "reconcile_basis.csv", "scores.csv"} <= written
    hits = find(outputs, needles)
    assert not hits, hits[:10]


def test_lists_show_masked_ids(outputs):
    for name in ("stock", "month"):
        with (outputs / name / "dormant.csv").open(encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
        for r in rows:
            assert re.fullmatch(r"[0-9]{6}\*{8}[0-9]{3}[0-9X]", r["证件号码"]), r["证件号码"]
            assert r["姓名"].count("*") >= 1
