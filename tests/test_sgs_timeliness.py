"""The 7-working-day rule of 双公示 across batches (sgs-contract.md, "Timeliness").

A record is judged on its first *accepted* upload: rejected on working day 2 and accepted on day 5 it is
timely; accepted on day 9 it is late; rejected and never corrected it is late once its 7 days have passed.
The decision date 2024-09-27 (Friday) puts the National Day holiday (1–7 October) and two make-up working
days (Sunday 29 September, Saturday 12 October) inside the limit, so a calendar that counted Monday–Friday or
calendar days would judge differently. The expected working days are counted by hand from the State
Council's 2024 holiday notice:

    day 1 = 09-29 (Sun, make-up)  2 = 09-30  3 = 10-08  4 = 10-09  5 = 10-10  6 = 10-11
    day 7 = 10-12 (Sat, make-up)  8 = 10-14  9 = 10-15

The second part follows every record of a small sample across its batches and compares the toolkit's
verdict with the generator's own (``timeliness.csv``), and the 及时率 of the scores with it.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest

from toolkit.check import run_check
from toolkit.history import score_history
from toolkit.samples import generate_sample
from toolkit.timeliness import deadline, judge_records, record_figures, upload_outcomes
from toolkit.workdays import active_calendar

DECIDED = "2024/09/27"
DAY = {2: "2024-09-30", 5: "2024-10-10", 7: "2024-10-12", 8: "2024-10-14", 9: "2024-10-15"}


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sgs_clean")
    generate_sample("sgs", out, seed=3, districts=1, days=1, stock_rows=0, error_scale=0)
    return next((out / "incremental").iterdir())


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, header, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


@pytest.fixture(scope="module")
def history(template, tmp_path_factory) -> Path:
    """Three batch days: A and B rejected on day 2 (an empty 许可内容), A re-uploaded corrected on day 5, B on
    day 9; C rejected on day 2 and never corrected."""
    header, rows = _read(template / "XZXK.csv")
    assert len(rows) >= 3
    recs = {}
    for name, row in zip("ABC", rows, strict=False):
        recs[name] = {**row, "XK_WSH": f"东市监许〔2024〕900{name}号", "XK_JDRQ": DECIDED, "XK_YXQZ": DECIDED}
    root = tmp_path_factory.mktemp("sgs_days")
    plan = {
        DAY[2]: [("A", False), ("B", False), ("C", False)],
        DAY[5]: [("A", True)],
        DAY[9]: [("B", True)],
    }
    for day, uploads in plan.items():
        folder = root / day
        folder.mkdir()
        for f in ("XZCF.csv", "FRK.csv", "FRK_BD.csv"):
            shutil.copy(template / f, folder / f)
        out = []
        for name, good in uploads:
            r = {**recs[name], "SBSJ": f"{day} 10:00:00"}
            if not good:
                r["XK_NR"] = ""
            out.append(r)
        _write(folder / "XZXK.csv", header, out)
    return root


def test_the_hand_counted_calendar():
    cal = active_calendar()
    assert deadline(dt.date(2024, 9, 27), 7, cal) == dt.date.fromisoformat(DAY[7])
    days, d = [], dt.date(2024, 9, 27)
    while len(days) < 9:
        d += dt.timedelta(days=1)
        if cal.is_workday(d):
            days.append(d.isoformat())
    assert {i: days[i - 1] for i in DAY} == DAY


def test_rejected_day_2_accepted_day_5_is_timely_day_9_is_late(history):
    uploads = upload_outcomes(sorted(history.iterdir()), domain="sgs")
    by = {(r.batch, r.record_key[-2]): bool(r.accepted) for r in uploads.itertuples()}
    assert by == {
        (DAY[2], "A"): False,
        (DAY[2], "B"): False,
        (DAY[2], "C"): False,
        (DAY[5], "A"): True,
        (DAY[9], "B"): True,
    }
    rec = judge_records(uploads, working_days=7).set_index("record_key")
    status = {k[-2]: v for k, v in rec["status"].items()}
    assert status == {"A": "timely", "B": "late", "C": "late"}
    a, b = rec.loc["东市监许〔2024〕900A号"], rec.loc["东市监许〔2024〕900B号"]
    assert a.working_days == 5 and b.working_days == 9
    assert a.judged == dt.date.fromisoformat(DAY[5])
    assert str(b.deadline) == DAY[7]
    # C: never accepted; judged late on the first working day after its limit
    assert rec.loc["东市监许〔2024〕900C号"].judged == dt.date.fromisoformat(DAY[8])


def test_a_record_not_yet_past_its_limit_is_pending(history):
    uploads = upload_outcomes(sorted(history.iterdir())[:1], domain="sgs")  # day 2 only
    rec = judge_records(uploads, working_days=7)
    assert set(rec.status) == {"pending"}
    fig = record_figures(uploads, by="month", working_days=7)
    assert fig[["uploads", "accepted_uploads", "due_records"]].sum().to_dict() == {
        "uploads": 3,
        "accepted_uploads": 0,
        "due_records": 0,
    }


def test_indicator_figures_and_scores(history, tmp_path):
    uploads = upload_outcomes(sorted(history.iterdir()), domain="sgs")
    fig = record_figures(uploads, by="month", working_days=7).set_index("period")
    assert fig.loc["2024-09", ["uploads", "accepted_uploads", "due_records"]].tolist() == [3, 0, 0]
    oct_ = fig.loc["2024-10"]
    assert oct_[["uploads", "accepted_uploads"]].tolist() == [2, 2]
    # A timely (10-10), B late (10-15), C late (judged 10-14): 1 of 3; 1 of the 2 accepted was late
    assert oct_[["due_records", "timely_records", "accepted_records", "late_records"]].tolist() == [
        3,
        1,
        2,
        1,
    ]
    run = score_history(history, domain="sgs", out_dir=tmp_path / "scores", by="month")
    ind = pd.read_csv(tmp_path / "scores" / "indicators.csv", dtype=str, encoding="utf-8-sig")
    row = ind[(ind.period == "2024-10") & (ind.indicator == "timely_rate")].iloc[0]
    assert (int(row.numerator), int(row.denominator)) == (1, 3)
    late = ind[(ind.period == "2024-10") & (ind.indicator == "late_rate")].iloc[0]
    assert (int(late.numerator), int(late.denominator)) == (1, 2)
    assert run.table is not None


def test_the_single_upload_rule_agrees_with_the_working_days(history):
    """``sgs.xk.sbsj.within_7wd`` judges one upload: the day-9 upload is beyond the limit, the day-5 one is
    not."""
    day5 = run_check(history / DAY[5], domain="sgs", mode="incremental")
    day9 = run_check(history / DAY[9], domain="sgs", mode="incremental")
    assert day5.results["sgs.xk.sbsj.within_7wd"].unexpected_count == 0
    assert day9.results["sgs.xk.sbsj.within_7wd"].unexpected_count == 1


# ------------------------------------------------------------------ the sample: every record's fate


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sgs_tl")
    generate_sample("sgs", out, seed=11, districts=6, days=25, stock_rows=0, error_scale=3.0)
    return out


@pytest.fixture(scope="module")
def sample_uploads(sample) -> pd.DataFrame:
    return upload_outcomes(sorted((sample / "incremental").iterdir()), domain="sgs")


def test_every_record_judged_as_the_generator_says(sample, sample_uploads):
    want = pd.read_csv(sample / "timeliness.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    got = judge_records(sample_uploads, working_days=7)
    g = {(r.unit_code, r.table, r.record_key): r.status for r in got.itertuples()}
    w = {(r.unit_code, r.table, r.key): r.status for r in want.itertuples()}
    assert len(w) > 300
    assert {"timely", "late"} <= set(w.values())
    assert g == w, sorted(set(g.items()) ^ set(w.items()))[:10]
    # records rejected at first and still timely exist (the point of the rule)
    first = want[want.first_upload != want.first_accepted]
    assert (first.status == "timely").any() and (first.status == "late").any()


def test_timely_rate_of_the_scores_is_the_generators(sample, tmp_path):
    want = pd.read_csv(sample / "timeliness.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    score_history(sample / "incremental", domain="sgs", out_dir=tmp_path, by="month")
    ind = pd.read_csv(tmp_path / "indicators.csv", dtype=str, encoding="utf-8-sig")
    t = ind[ind.indicator == "timely_rate"]
    num, den = t.numerator.astype(int).sum(), t.denominator.astype(int).sum()
    judged = want[want.status != "pending"]
    assert (num, den) == ((judged.status == "timely").sum(), len(judged))
