"""``dq score --history``: the persistent history counts each batch once and scores it as the GX path would.

The differential test scores the same daily batches twice — from Great Expectations' counts
(``run_check`` + ``scoring.row_counts``, one batch at a time) and from the DuckDB history — and asserts
identical scores, grades and ranks for every district and day.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from toolkit import scoring
from toolkit.check import run_check
from toolkit.cli import app
from toolkit.errors import InputError
from toolkit.history import History, batch_folders, score_frames, score_history
from toolkit.samples import generate_sample

SCORES_COLUMNS = ["QXDM", "QXMC", "period"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hist")
    generate_sample("bdc", out, seed=5, districts=3, days=4, stock_rows=200, error_scale=3.0)
    return out


@pytest.fixture(scope="module")
def scored(sample, tmp_path_factory):
    out = tmp_path_factory.mktemp("scores")
    run = score_history(sample / "incremental", out, by="day")
    return out, run


def test_scores_csv_follows_the_contract(scored):
    out, run = scored
    table = pd.read_csv(out / "scores.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    ids = scoring.load_scoring("bdc").ids
    assert list(table.columns[: 3 + len(ids) + 3]) == [*SCORES_COLUMNS, *ids, "score", "grade", "rank"]
    assert (out / "scores.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert set(table.period) == set(run.frames["batches"].batch)
    assert table.QXMC.str.len().min() > 0


def test_history_equals_great_expectations_path(sample, scored):
    """Scores from the DuckDB history == scores from GX's counts, district by district, day by day."""
    _, run = scored
    counts, rows = [], []
    for name, _, path in batch_folders(sample / "incremental"):
        res = run_check(path, domain="bdc", mode="incremental")
        counts.append(res.counts.assign(period=name))
        rows.append(scoring.row_counts(res, period=name))
    gx = score_frames(pd.concat(counts), pd.concat(rows), by="day")
    key = ["QXDM", "period"]
    a = gx.table.set_index(key).sort_index()
    b = run.table.set_index(key).sort_index()
    assert list(a.index) == list(b.index)
    pd.testing.assert_series_equal(a["score"], b["score"], check_dtype=False)
    assert list(a["grade"]) == list(b["grade"]) and list(a["rank"]) == list(b["rank"])
    ids = scoring.load_scoring("bdc").ids
    pd.testing.assert_frame_equal(a[ids].astype(float), b[ids].astype(float), check_dtype=False)


def test_only_changed_batches_are_counted_again(sample, tmp_path):
    root = tmp_path / "incremental"
    shutil.copytree(sample / "incremental", root)
    hist = History(tmp_path / "h.duckdb")
    first = hist.update(root)
    assert (first.batches, first.counted, first.removed) == (4, 4, 0) and first.rows_read > 0
    again = hist.update(root)
    assert (again.counted, again.rows_read) == (0, 0)

    day = sorted(p for p in root.iterdir())[1]
    f = next(day.glob("*.csv"))
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    shutil.rmtree(sorted(p for p in root.iterdir())[-1])
    third = hist.update(root)
    assert (third.batches, third.counted, third.removed) == (3, 1, 1)
    assert sorted(hist.known()) == sorted(p.name for p in root.iterdir())
    frames = hist.frames()
    assert set(frames["counts"].batch) == set(hist.known())


def test_a_changed_standard_recounts_everything(sample, tmp_path):
    root = sample / "incremental"
    History(tmp_path / "h.duckdb").update(root)
    overlay = tmp_path / "o.yaml"
    overlay.write_text("name: t\nrules:\n  bdc.qlr.dh.format: {enabled: false}\n", encoding="utf-8")
    changed = History(tmp_path / "h.duckdb", overlay=overlay)
    rep = changed.update(root)
    assert rep.counted == 4
    assert "bdc.qlr.dh.format" not in set(changed.frames()["counts"].rule_id)


def test_week_and_month_scores_are_means_of_days(scored):
    _, run = scored
    month = score_frames(run.frames["counts"], run.frames["rows"], by="month")
    daily = run.table
    for (qx, per), grp in daily.assign(m=daily.period.str[:7]).groupby(["QXDM", "m"]):
        row = month.table[(month.table.QXDM == qx) & (month.table.period == per)]
        assert len(row) == 1
        assert row.score.iloc[0] == scoring.round_half_up(grp.score.mean(), 1)


def test_history_folder_with_a_stray_folder_is_refused(sample, tmp_path):
    root = tmp_path / "inc"
    shutil.copytree(sample / "incremental", root)
    (root / "backup").mkdir()
    with pytest.raises(InputError, match="backup"):
        batch_folders(root)


def test_cli_score(sample, tmp_path):
    res = CliRunner().invoke(
        app, ["score", "--history", str(sample / "incremental"), "--out", str(tmp_path), "--by", "week"]
    )
    assert res.exit_code == 0, (res.output, res.exception)
    table = pd.read_csv(tmp_path / "scores.csv", encoding="utf-8-sig", dtype={"QXDM": str})
    assert table.period.str.fullmatch(r"\d{4}-W\d{2}").all()
    assert (tmp_path / "trend.csv").exists() and (tmp_path / "trace.csv").exists()
    bad = CliRunner().invoke(app, ["score", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "--history" in bad.output
    stock = CliRunner().invoke(
        app, ["score", "--input", str(sample / "stock"), "--mode", "stock", "--out", str(tmp_path / "s")]
    )
    assert stock.exit_code == 0, (stock.output, stock.exception)
    st = pd.read_csv(tmp_path / "s" / "scores.csv", encoding="utf-8-sig", dtype={"QXDM": str})
    assert set(st.period) == {"stock"} and st.grade.notna().all()
