"""The command line takes a pack's own defaults: ``dq sample`` writes the pack's number of units (the
contract's ~30 departments for ``sgs``, Gansu's 14 centres for ``gjj``), and ``dq score --history`` scores
a monthly pack by month without ``--by``."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.samples import generate_sample, sample_module

runner = CliRunner()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_dq_sample_uses_the_packs_number_of_departments(tmp_path):
    res = runner.invoke(
        app, ["sample", "--domain", "sgs", "--out", str(tmp_path), "--stock-rows", "200", "--days", "2"]
    )
    assert res.exit_code == 0, res.output
    departments = _rows(tmp_path / "departments.csv")
    assert len(departments) == len(sample_module("sgs").DEPARTMENTS) >= 30


def test_dq_sample_districts_option_still_wins(tmp_path):
    res = runner.invoke(
        app,
        [
            "sample",
            "--domain",
            "sgs",
            "--out",
            str(tmp_path),
            "--districts",
            "5",
            "--stock-rows",
            "100",
            "--days",
            "1",
        ],
    )
    assert res.exit_code == 0, res.output
    assert len(_rows(tmp_path / "departments.csv")) == 5


def test_dq_score_scores_a_monthly_pack_by_month(tmp_path):
    generate_sample("gjj", tmp_path / "s", seed=3, districts=3, months=3, persons=40, stock_rows=200)
    res = runner.invoke(
        app,
        [
            "score",
            "--domain",
            "gjj",
            "--history",
            str(tmp_path / "s" / "incremental"),
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert res.exit_code == 0, res.output
    periods = {r["period"] for r in _rows(tmp_path / "o" / "scores.csv")}
    assert periods == {p.name for p in (tmp_path / "s" / "incremental").iterdir() if p.is_dir()}
    assert all(len(p) == 7 for p in periods)  # YYYY-MM
