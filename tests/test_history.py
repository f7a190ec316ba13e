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

BDC = "bdc"


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hist")
    generate_sample("bdc", out, seed=5, districts=3, days=4, stock_rows=200, error_scale=3.0)
    return out


@pytest.fixture(scope="module")
def scored(sample, tmp_path_factory):
    out = tmp_path_factory.mktemp("scores")
    run = score_history(sample / "incremental", out, domain=BDC, by="day")
    return out, run


def test_scores_csv_follows_the_contract(scored):
    """unit_code, unit_name for every pack; bdc keeps QXDM, QXMC beside them (cli-and-outputs.md)."""
    out, run = scored
    table = pd.read_csv(out / "scores.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    ids = scoring.load_scoring(BDC).ids
    cols = list(table.columns)
    assert cols[:5] == ["unit_code", "QXDM", "unit_name", "QXMC", "period"]
    assert cols[5 : 5 + len(ids) + 3] == [*ids, "score", "grade", "rank"]
    assert (out / "scores.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert set(table.period) == set(run.frames["batches"].batch)
    assert table.QXMC.str.len().min() > 0
    assert (table.QXDM == table.unit_code).all() and (table.QXMC == table.unit_name).all()
    for name in ("indicators.csv", "trace.csv"):
        other = pd.read_csv(out / name, dtype=str, encoding="utf-8-sig", nrows=5)
        assert {"unit_code", "unit_name", "QXDM", "QXMC"} <= set(other.columns), name
    trend = pd.read_csv(out / "trend.csv", encoding="utf-8-sig")
    assert list(trend.columns) == ["period", "units", "average", "min", "max", "meeting_standard", "grade"]


def test_history_equals_great_expectations_path(sample, scored):
    """Scores from the DuckDB history == scores from GX's counts, district by district, day by day."""
    _, run = scored
    counts, rows = [], []
    for name, _, path in batch_folders(sample / "incremental"):
        res = run_check(path, domain=BDC, mode="incremental")
        counts.append(res.counts.assign(period=name))
        rows.append(scoring.row_counts(res, period=name))
    gx = score_frames(pd.concat(counts), pd.concat(rows), domain=BDC, by="day")
    key = ["unit_code", "period"]
    a = gx.table.set_index(key).sort_index()
    b = run.table.set_index(key).sort_index()
    assert list(a.index) == list(b.index)
    pd.testing.assert_series_equal(a["score"], b["score"], check_dtype=False)
    assert list(a["grade"]) == list(b["grade"]) and list(a["rank"]) == list(b["rank"])
    ids = scoring.load_scoring(BDC).ids
    pd.testing.assert_frame_equal(a[ids].astype(float), b[ids].astype(float), check_dtype=False)
    assert list(a["unit_name"]) == list(b["unit_name"])


def test_only_changed_batches_are_counted_again(sample, tmp_path):
    root = tmp_path / "incremental"
    shutil.copytree(sample / "incremental", root)
    hist = History(tmp_path / "h.duckdb", domain=BDC)
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
    History(tmp_path / "h.duckdb", domain=BDC).update(root)
    overlay = tmp_path / "o.yaml"
    overlay.write_text("name: t\nrules:\n  bdc.qlr.dh.format: {enabled: false}\n", encoding="utf-8")
    changed = History(tmp_path / "h.duckdb", domain=BDC, overlay=overlay)
    rep = changed.update(root)
    assert rep.counted == 4
    assert "bdc.qlr.dh.format" not in set(changed.frames()["counts"].rule_id)


def test_week_and_month_scores_are_means_of_days(scored):
    _, run = scored
    month = score_frames(run.frames["counts"], run.frames["rows"], domain=BDC, by="month")
    daily = run.table
    for (qx, per), grp in daily.assign(m=daily.period.str[:7]).groupby(["unit_code", "m"]):
        row = month.table[(month.table.unit_code == qx) & (month.table.period == per)]
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


def test_a_history_of_an_earlier_layout_is_recounted(sample, tmp_path):
    """A history file whose counts have another unit column (an earlier layout) is emptied and counted
    again rather than mixed with new counts."""
    import duckdb

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE batches(batch VARCHAR, day DATE, fingerprint VARCHAR)")
    con.execute("INSERT INTO batches VALUES ('2024-12-26', '2024-12-26', 'x')")
    con.execute("CREATE TABLE counts(batch VARCHAR, QXDM VARCHAR, rule_id VARCHAR)")
    con.close()
    hist = History(path, domain=BDC)
    assert hist.known() == {}
    rep = hist.update(sample / "incremental")
    assert rep.counted == rep.batches == 4
    assert "unit_code" in hist.frames()["counts"].columns


def test_monthly_batches(tmp_path):
    """A pack whose period is month keeps one folder per month (YYYY-MM) and cannot be scored by day."""
    import datetime as dt
    import shutil as sh

    from xpack import PACK, write_batch

    pack = tmp_path / "pack"
    sh.copytree(PACK, pack)
    text = (pack / "domain.yaml").read_text(encoding="utf-8").replace("period: day", "period: month")
    (pack / "domain.yaml").write_text(text, encoding="utf-8")
    root = tmp_path / "monthly"
    for month in ("2024-01", "2024-02"):
        write_batch(root / month, dt.date.fromisoformat(f"{month}-15"), errors=month == "2024-02")
    assert [n for n, _, _ in batch_folders(root, "month")] == ["2024-01", "2024-02"]
    with pytest.raises(InputError, match="YYYY-MM"):
        batch_folders(root, "day")
    run = score_history(root, tmp_path / "out", domain=pack, by="month")
    assert set(run.table.period) == {"2024-01", "2024-02"}
    assert run.table.set_index(["period", "unit_code"]).loc[("2024-01", "JG001"), "score"] == 100.0
    with pytest.raises(InputError, match="month"):
        score_history(root, tmp_path / "out2", domain=pack, by="day")
