"""The problem ledger (问题台账, toolkit.ledger): transitions, re-check scope, repeats, deadlines in working
days, concurrent writers, a killed run, the ``dq ledger`` commands and privacy of the stored data.

The closed-loop tests run the real ``dq check`` on a small sample (two districts, two days) and on a
copy of a daily batch in which two problems were fixed; the mechanics (transition table, figures,
concurrency, a killed process) use small synthetic :class:`~toolkit.ledger.SyncInput` objects.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import multiprocessing
import os
import shutil
import signal
import sqlite3
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from toolkit import ledger as L
from toolkit.check import run_check
from toolkit.cli import app
from toolkit.domain import domain_path
from toolkit.errors import ConfigError
from toolkit.samples import generate_sample
from toolkit.workdays import WorkdayCalendar

D = dt.date
FDCQ = "QLT_FW_FDCQ_YZ"
R_JZMJ = "bdc.fdcq.jzmj.range"
R_QSZT = "bdc.fdcq.qszt.code"
R_DJLX = "bdc.fdcq.djlx.code"
RULES = [R_JZMJ, R_QSZT, R_DJLX]
MANUAL_PATH = {
    L.FOUND: [],
    L.ISSUED: [L.ISSUED],
    L.FIXING: [L.ISSUED, L.FIXING],
    L.RECHECK: [L.ISSUED, L.FIXING, L.RECHECK],
    L.RETURNED: [L.ISSUED, L.FIXING, L.RECHECK, L.RETURNED],
    L.CLOSED: [L.ISSUED, L.FIXING, L.RECHECK, L.CLOSED],
}


# ----------------------------------------------------------------------------------- synthetic input
def problem(
    ywh: str,
    *,
    rule: str = R_JZMJ,
    field: str = "JZMJ",
    qxdm: str = "420102",
    severity: str = "critical",
    key: str | None = None,
    anchor: str | None = None,
) -> dict:
    key = key or ywh
    return {
        "rule_id": rule,
        "table": FDCQ,
        "field": field,
        "record_key": key,
        "key_kind": "hash" if key.startswith("#h:") else "key",
        "key_fields": "YWH",
        "anchor": anchor or key,
        "QXDM": qxdm,
        "YWH": ywh,
        "severity": severity,
        "dimension": "validity",
        "value_masked": "-1",
        "message_zh": "建筑面积应大于 0",
        "fix_zh": "核实建筑面积",
        "detail_zh": None,
        "file": f"{FDCQ}.csv",
        "row": 2,
    }


def sync_input(
    problems: list[dict],
    present: list[str] | None = None,
    *,
    mode: str = "incremental",
    rules: list[str] = RULES,
    districts: tuple[str, ...] = ("420102", "420802"),
) -> L.SyncInput:
    """``present``: the record anchors in the batch (default: those of ``problems``)."""
    anchors = sorted(set(present if present is not None else [p["anchor"] for p in problems]))
    return L.SyncInput(
        domain="bdc",
        domain_path=str(domain_path("bdc")),
        mode=mode,
        input="synthetic",
        data_as_of="2024-03-04 10:00:00",
        rows=len(anchors),
        rules_evaluated=list(rules),
        tables=[FDCQ],
        districts={FDCQ: list(districts)},
        anchors={FDCQ: anchors},
        problems=problems,
    )


def state(db: Path, pid: int) -> tuple[str, int]:
    con = sqlite3.connect(db, timeout=60)
    try:
        row = con.execute("SELECT state, last_seq FROM problems WHERE problem_id = ?", (pid,)).fetchone()
    finally:
        con.close()
    return row[0], row[1]


def count(db: Path, sql: str, *args) -> int:
    con = sqlite3.connect(db, timeout=60)
    try:
        return con.execute(sql, args).fetchone()[0]
    finally:
        con.close()


# ----------------------------------------------------------------------------------- transition table
PAIRS = [(a, b) for a in L.STATES for b in L.STATES]
MANUAL_ALLOWED = {(t.from_state, t.to_state) for t in L.TRANSITIONS if t.by in ("manual", "both")}


@pytest.mark.parametrize(("frm", "to"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_manual_transitions(tmp_path: Path, frm: str, to: str) -> None:
    db = tmp_path / "l.sqlite"
    rep = L.apply_sync(db, sync_input([problem("Y1")]), as_of="2024-03-04 10:00:00")
    (pid,) = rep.problem_ids["opened"]
    for s in MANUAL_PATH[frm]:
        L.update(db, pid, s, actor="科员甲", at="2024-03-05")
    assert state(db, pid)[0] == frm
    if (frm, to) in MANUAL_ALLOWED:
        L.update(db, pid, to, actor="科员乙", note="表驱动测试", at="2024-03-06")
        assert state(db, pid) == (to, len(MANUAL_PATH[frm]) + 2)
    else:
        with pytest.raises(L.TransitionError) as exc:
            L.update(db, pid, to, actor="科员乙", at="2024-03-06")
        assert "不允许" in exc.value.zh and "cannot go" in exc.value.en
        assert state(db, pid) == (frm, len(MANUAL_PATH[frm]) + 1)  # nothing written
    assert L.verify_ledger(db) == []


def test_transition_table_shape() -> None:
    pairs = {(t.from_state, t.to_state): t.by for t in L.TRANSITIONS}
    assert len(pairs) == len(L.TRANSITIONS)  # no duplicates
    # only a re-check opens or reopens a problem; closing always comes from 待复核
    assert {k for k, by in pairs.items() if k[1] == L.FOUND} == {(None, L.FOUND), (L.CLOSED, L.FOUND)}
    assert all(by == "recheck" for k, by in pairs.items() if k[1] == L.FOUND)
    assert {k[0] for k in pairs if k[1] == L.CLOSED} == {L.RECHECK}
    # every state is reachable and every open state can progress
    reach, todo = {None}, [None]
    while todo:
        s = todo.pop()
        for a, b in pairs:
            if a == s and b not in reach:
                reach.add(b)
                todo.append(b)
    assert reach == {None, *L.STATES}
    assert all(any(a == s for a, _ in pairs) for s in L.OPEN_STATES)


def test_recheck_only_transition_is_refused_to_people(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    (pid,) = L.apply_sync(db, sync_input([problem("Y1")])).problem_ids["opened"]
    L.update(db, pid, "issued", actor="甲")
    with pytest.raises(L.TransitionError) as exc:
        L.update(db, pid, L.RECHECK, actor="甲")  # 已下发 → 待复核 exists, but only for a re-check
    assert "复核" in exc.value.fix_zh and "re-check" in exc.value.fix_en
    with pytest.raises(L.TransitionError):
        L.update(db, pid, "found", actor="甲")


def test_update_is_all_or_nothing_and_validates(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    rep = L.apply_sync(db, sync_input([problem("Y1"), problem("Y2")]))
    a, b = rep.problem_ids["opened"]
    L.update(db, a, "issued", actor="甲")
    with pytest.raises(L.TransitionError):  # b can go, a cannot: neither moves
        L.update(db, [b, a], "issued", actor="甲")
    assert state(db, b)[0] == L.FOUND
    with pytest.raises(L.ProblemNotFoundError):
        L.update(db, [b, 999], "issued", actor="甲")
    assert state(db, b)[0] == L.FOUND
    with pytest.raises(L.LedgerError):
        L.update(db, b, "issued", actor="  ")
    with pytest.raises(L.StateConflictError) as conflict:  # someone else moved it meanwhile
        L.update(db, a, "fixing", actor="乙", expect="found")
    assert "他人更改" in conflict.value.zh and state(db, a)[0] == L.ISSUED
    L.update(db, a, "fixing", actor="乙", expect="issued")
    with pytest.raises(L.LedgerError) as exc:
        L.update(db, b, "done", actor="甲")
    assert "未知的状态" in exc.value.zh
    assert L.normalise_state("Awaiting recheck") == L.RECHECK
    assert count(db, "SELECT count(*) FROM runs WHERE kind = 'update'") == 2
    assert L.verify_ledger(db) == []


def test_notes_are_scrubbed_and_events_append_only(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    (pid,) = L.apply_sync(db, sync_input([problem("Y1")])).problem_ids["opened"]
    L.update(db, pid, "issued", actor="甲", note="权利人 110102199101010078，电话 13812345678，请核实")
    note = L.events_frame(db, pid)["note"].iloc[-1]
    assert note == "权利人 110102********0078，电话 138****5678，请核实"
    con = sqlite3.connect(db)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("UPDATE events SET note = 'x'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("DELETE FROM events")
        with pytest.raises(sqlite3.DatabaseError, match="never deleted"):
            con.execute("DELETE FROM problems")
    finally:
        con.close()


def test_not_a_ledger(tmp_path: Path) -> None:
    text = tmp_path / "notes.sqlite"
    text.write_text("这不是数据库 / not a database", encoding="utf-8")
    with pytest.raises(L.LedgerError) as exc:
        L.problems_frame(text)
    assert "不是问题台账" in exc.value.zh
    other = tmp_path / "other.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(L.LedgerError):
        L.apply_sync(other, sync_input([problem("Y1")]))
    missing = tmp_path / "missing.sqlite"
    with pytest.raises(L.LedgerError) as exc:
        L.problems_frame(missing)
    assert "不存在" in exc.value.zh and not missing.exists()


# ----------------------------------------------------------------------------------- scope and keys
def test_incremental_scope_only_closes_rechecked_records(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    first = sync_input([problem("Y1"), problem("Y2"), problem("Y3", rule=R_QSZT, field="QSZT")])
    y1, y2, y3 = L.apply_sync(db, first, as_of="2024-03-04 10:00").problem_ids["opened"]
    # next day's batch: holds Y1 (fixed) and Y9 only; Y2 was not re-checked; Y3's rule not evaluated
    nxt = sync_input([], present=["Y1", "Y9", "Y3"], rules=[R_JZMJ, R_DJLX])
    rep = L.apply_sync(db, nxt, as_of="2024-03-05 10:00")
    assert rep.problem_ids["closed"] == [y1] and rep.closed == 1
    assert [state(db, p)[0] for p in (y1, y2, y3)] == [L.CLOSED, L.FOUND, L.FOUND]
    hist = L.events_frame(db, y1)
    assert list(zip(hist["from_state"].fillna(""), hist["to_state"], strict=True)) == [
        ("", L.FOUND),
        (L.FOUND, L.RECHECK),
        (L.RECHECK, L.CLOSED),
    ]
    assert set(hist["actor"]) == {"dq check"} and hist["run_id"].iloc[-1] == rep.run_id


def test_stock_scope_and_hash_keys(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    probs = [
        problem("", key="#h:00000000000000aa", qxdm="420102"),
        problem("", key="#h:00000000000000bb", qxdm="420999"),  # a district the next stock batch lacks
        problem("K1"),  # keyed record absent from the next export
    ]
    a, b, k = L.apply_sync(db, sync_input(probs, mode="stock")).problem_ids["opened"]
    # an incremental batch never closes hash-keyed problems it does not contain
    L.apply_sync(db, sync_input([], present=["X"], districts=("420102",)))
    assert [state(db, p)[0] for p in (a, b, k)] == [L.FOUND] * 3
    rep = L.apply_sync(db, sync_input([], present=["X"], mode="stock", districts=("420102",)))
    assert rep.problem_ids["closed"] == [a]
    assert [state(db, p)[0] for p in (a, b, k)] == [L.CLOSED, L.FOUND, L.FOUND]


def test_identical_keys_in_one_run_get_ordinals(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    dup = [problem("Y1", rule=R_DJLX, field="YWH"), problem("Y1", rule=R_DJLX, field="YWH")]
    rep = L.apply_sync(db, sync_input(dup))
    keys = L.problems_frame(db, as_of="2024-03-05")["record_key"].tolist()
    assert rep.opened == 2 and keys == ["Y1", "Y1#2"]
    assert L.apply_sync(db, sync_input(dup)).opened == 0  # stable on the next run


def test_failed_sync_rolls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "l.sqlite"
    L.apply_sync(db, sync_input([problem("Y1")]))
    before = (count(db, "SELECT count(*) FROM events"), count(db, "SELECT count(*) FROM runs"))

    def boom() -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(L, "_test_pause", boom)
    with pytest.raises(RuntimeError):
        L.apply_sync(db, sync_input([problem(f"Z{i}") for i in range(6)], present=["Z0"]))
    after = (count(db, "SELECT count(*) FROM events"), count(db, "SELECT count(*) FROM runs"))
    assert after == before and count(db, "SELECT count(*) FROM problems") == 1
    assert L.verify_ledger(db) == []


# ----------------------------------------------------------------------------------- deadlines
def test_deadline_in_working_days_across_national_day(tmp_path: Path) -> None:
    cal = WorkdayCalendar()
    # 2024-10-01…07 off; Sunday 09-29 and Saturday 10-12 are make-up working days
    assert L.deadline_for(D(2024, 9, 30), 3, cal) == D(2024, 10, 10)
    assert L.deadline_for(D(2024, 9, 29), 3, cal) == D(2024, 10, 9)
    assert L.deadline_for(D(2024, 10, 3), 0, cal) == D(2024, 10, 8)  # found on a holiday
    assert L.deadline_for(D(2024, 9, 30), 10, cal) == D(2024, 10, 18)  # counts Saturday 10-12
    day = D(2024, 1, 1)
    while day.year == 2024:
        for n in (0, 1, 3, 10):
            end = L.deadline_for(day, n, cal)
            assert cal.is_workday(end) and cal.workdays_elapsed(day, end) == n, (day, n)
        day += dt.timedelta(days=1)
    db = tmp_path / "l.sqlite"
    probs = [problem("Y1"), problem("Y2", rule=R_QSZT, field="QSZT", severity="warning")]
    L.apply_sync(db, sync_input(probs), as_of="2024-09-30 16:00:00")
    frame = L.problems_frame(db, as_of="2024-10-11")
    assert frame.set_index("record_key")["deadline"].to_dict() == {"Y1": "2024-10-10", "Y2": "2024-10-18"}
    late = L.problems_frame(db, overdue=True, as_of="2024-10-14")
    # 10-11 (Fri), 10-12 (make-up Saturday), 10-14 (Mon): three working days late
    assert late["record_key"].tolist() == ["Y1"] and late["overdue_workdays"].tolist() == [3]


def test_deadline_uses_the_given_calendar(tmp_path: Path) -> None:
    extra_holiday = WorkdayCalendar(holidays=[D(2024, 3, 6)])
    db = tmp_path / "l.sqlite"
    L.apply_sync(db, sync_input([problem("Y1")]), as_of="2024-03-04 09:00", calendar=extra_holiday)
    assert L.problems_frame(db, as_of="2024-03-04")["deadline"].tolist() == ["2024-03-08"]


def test_config_and_roster(tmp_path: Path) -> None:
    cfg = L.load_config("bdc")
    assert cfg.workdays_for("critical") == 3 and cfg.workdays_for("warning") == 10
    assert cfg.record_keys["ZTT_GY_QLR"] == {"key": ["YWH", "SXH"], "anchor": ["YWH"]}
    entry = cfg.roster["420102"]
    assert entry.unit.endswith("不动产登记中心") and entry.phone_masked.startswith("138****")
    bad = tmp_path / "roster.csv"
    bad.write_text("QXDM,姓名\n420102,张三\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        L.load_roster(bad)
    bad.write_text(
        "QXDM,责任人,联系电话,单位\n420102,张三,13800001111,甲\n420102,李四,,乙\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"twice|重复"):
        L.load_roster(bad)


# ----------------------------------------------------------------------------------- figures
def test_ledger_figures(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    monday = sync_input([problem(f"P{i}") for i in range(1, 5)] + [problem("B1", qxdm="420802")])
    L.apply_sync(db, monday, as_of="2024-03-04 09:00")
    p2 = L.problems_frame(db, as_of="2024-03-04").set_index("record_key").loc["P2", "problem_id"]
    # deadline of all five: Thursday 2024-03-07 (3 working days)
    L.apply_sync(db, sync_input([], present=["P1"]), as_of="2024-03-06 10:00")  # P1 fixed in time
    for s in ("issued", "fixing", "recheck"):
        L.update(db, int(p2), s, actor="甲", at="2024-03-07 17:00")  # P2 fixed on the deadline day …
    L.update(db, int(p2), "closed", actor="复核员", at="2024-03-11 09:00")  # … confirmed after it
    L.apply_sync(db, sync_input([], present=["P3"]), as_of="2024-03-12 10:00")  # P3 fixed late
    assert L.apply_sync(db, sync_input([problem("P5")]), as_of="2024-03-11 09:00").opened == 1
    # P1 comes back on Wednesday 03-13: a new cycle, due Monday 03-18
    assert L.apply_sync(db, sync_input([problem("P1")]), as_of="2024-03-13 09:00").reopened == 1

    week = L.ledger_figures(db, "week", as_of="2024-03-31")
    got = {(r.QXDM, r.period): r for r in week.itertuples()}
    w10 = got[("420102", "2024-W10")]
    assert (w10.problems_due, w10.closed_after_recheck, w10.fixed_before_deadline) == (4, 3, 2)
    assert w10.reconcile_rate == 0.75 and w10.fix_on_time == 0.5
    assert (w10.period_start, w10.period_end) == ("2024-03-04", "2024-03-10")
    w11 = got[("420102", "2024-W11")]
    assert (w11.problems_due, w11.closed_after_recheck, w11.fixed_before_deadline) == (1, 0, 0)
    w12 = got[("420102", "2024-W12")]  # P1's second cycle
    assert (w12.problems_due, w12.closed_after_recheck) == (1, 0)
    b = got[("420802", "2024-W10")]
    assert (b.problems_due, b.closed_after_recheck, b.fixed_before_deadline) == (1, 0, 0)
    assert list(week.columns) == L.FIGURE_COLUMNS

    early = L.ledger_figures(db, "day", as_of="2024-03-10 23:59:59")
    day = early.set_index(["QXDM", "period"]).loc[("420102", "2024-03-07")]
    assert (day.problems_due, day.closed_after_recheck, day.fixed_before_deadline) == (4, 1, 1)
    assert "2024-03-14" not in set(early["period"])  # not yet due by as_of
    month = L.ledger_figures(db, "month", as_of="2024-03-31").set_index(["QXDM", "period"])
    assert month.loc[("420102", "2024-03"), "problems_due"] == 6
    with pytest.raises(L.LedgerError):
        L.ledger_figures(db, "fortnight")
    assert L.verify_ledger(db) == []


# ----------------------------------------------------------------------------------- concurrency
TARGET = 13  # events per contested problem (1 found + 12 updates)
NEXT = {
    L.FOUND: L.ISSUED,
    L.ISSUED: L.FIXING,
    L.FIXING: L.RECHECK,
    L.RECHECK: L.RETURNED,
    L.RETURNED: L.FIXING,
}


def _updater(db: str, pids: list[int], out: str) -> None:
    ok = refused = 0
    done: set[int] = set()
    while len(done) < len(pids):
        for pid in pids:
            st, seq = state(Path(db), pid)
            if seq >= TARGET:
                done.add(pid)
                continue
            try:
                L.update(db, pid, NEXT[st], actor=f"进程{os.getpid()}", expect=st, expect_seq=seq)
                ok += 1
            except L.StateConflictError:
                refused += 1  # another process moved it first
    Path(out).write_text(json.dumps({"ok": ok, "refused": refused}), encoding="utf-8")


def _syncer(db: str, inputs: list[str], rounds: int, out: str) -> None:
    present, absent = (L.SyncInput.from_json(t) for t in inputs)
    events = 0
    for i in range(rounds):
        events += L.apply_sync(db, present if i % 2 == 0 else absent).events
    Path(out).write_text(json.dumps({"events": events}), encoding="utf-8")


def _start(ctx, target, *args):
    proc = ctx.Process(target=target, args=args)
    with warnings.catch_warnings():  # Python ≥ 3.12 warns about fork in a threaded process
        warnings.simplefilter("ignore", DeprecationWarning)
        proc.start()
    return proc


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    contested = L.apply_sync(
        db, sync_input([problem(f"C{i}", rule=R_DJLX) for i in range(3)], rules=[R_DJLX])
    )
    pids = contested.problem_ids["opened"]
    ctx = multiprocessing.get_context("fork")
    procs, outs = [], []
    for i, rule in enumerate((R_JZMJ, R_QSZT)):
        probs = [problem(f"S{i}-{k}", rule=rule) for k in range(4)]
        pair = [
            sync_input(probs, rules=[rule]).to_json(),
            sync_input([], present=[p["anchor"] for p in probs], rules=[rule]).to_json(),
        ]
        outs.append(tmp_path / f"sync{i}.json")
        procs.append(_start(ctx, _syncer, str(db), pair, 6, str(outs[-1])))
    for i in range(3):
        outs.append(tmp_path / f"upd{i}.json")
        procs.append(_start(ctx, _updater, str(db), pids, str(outs[-1])))
    for p in procs:
        p.join(180)
        assert p.exitcode == 0
    results = [json.loads(o.read_text(encoding="utf-8")) for o in outs]
    # 6 alternating syncs per set: found, closed (2), reopened, closed (2), reopened, closed (2) = 9 each
    assert [r["events"] for r in results[:2]] == [4 * 9, 4 * 9]
    assert sum(r["ok"] for r in results[2:]) == 3 * (TARGET - 1)  # each seen state moved once
    assert sum(r["refused"] for r in results[2:]) > 0  # the updaters did collide
    assert count(
        db, "SELECT count(*) FROM events e JOIN runs r USING (run_id) WHERE r.kind = 'update'"
    ) == 3 * (TARGET - 1)
    assert count(db, "SELECT count(*) FROM events") == 3 + 3 * (TARGET - 1) + 2 * 4 * 9
    for pid in pids:
        assert state(db, pid)[1] == TARGET
    frame = L.problems_frame(db, states=[L.CLOSED], as_of="2024-03-05")
    assert len(frame) == 8 and set(frame["repeats"]) == {2}
    assert L.verify_ledger(db) == []


def _sync_and_die(db: str, text: str) -> None:
    L.apply_sync(db, L.SyncInput.from_json(text), as_of="2024-03-05 10:00")


def test_killed_run_leaves_the_ledger_consistent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "l.sqlite"
    old = L.apply_sync(db, sync_input([problem(f"OLD{i}") for i in range(5)]), as_of="2024-03-04 10:00")
    new = sync_input([problem(f"NEW{i}") for i in range(40)], present=[f"OLD{i}" for i in range(5)])
    before = {t: count(db, f"SELECT count(*) FROM {t}") for t in ("events", "runs", "problems", "cycles")}
    marker = tmp_path / "paused"
    monkeypatch.setenv("DQ_LEDGER_TEST_PAUSE", "120")
    monkeypatch.setenv("DQ_LEDGER_TEST_MARKER", str(marker))
    proc = _start(multiprocessing.get_context("fork"), _sync_and_die, str(db), new.to_json())
    monkeypatch.delenv("DQ_LEDGER_TEST_PAUSE")
    t0 = time.monotonic()
    while not marker.exists():
        assert time.monotonic() - t0 < 120 and proc.is_alive(), "the sync never reached the pause"
        time.sleep(0.05)
    # half of the run's events are written inside the open transaction: readers do not see them
    assert {t: count(db, f"SELECT count(*) FROM {t}") for t in before} == before
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(30)
    assert proc.exitcode == -signal.SIGKILL
    assert {t: count(db, f"SELECT count(*) FROM {t}") for t in before} == before
    assert L.verify_ledger(db) == []
    assert [state(db, p)[0] for p in old.problem_ids["opened"]] == [L.FOUND] * 5
    rep = L.apply_sync(db, new, as_of="2024-03-05 10:00")  # the rerun completes
    assert (rep.opened, rep.closed) == (40, 5)
    assert count(db, "SELECT count(*) FROM events") == before["events"] + 40 + 2 * 5
    assert L.verify_ledger(db) == []


# ----------------------------------------------------------------------------------- the real loop
def _fix_rows(folder: Path, table: str, fixes: dict[int, dict[str, str]]) -> None:
    """Change cells of ``table``'s CSV by the row number the toolkit reports (header = 1)."""
    path = folder / f"{table}.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    for row_no, cells in fixes.items():
        for col, value in cells.items():
            rows[row_no - 1][header.index(col)] = value
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


@pytest.fixture(scope="module")
def real(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("ledger_sample")
    generate_sample("bdc", base, seed=7, districts=2, days=2, stock_rows=200, error_scale=4.0)
    day1, day2 = sorted(p for p in (base / "incremental").iterdir() if p.is_dir())
    res1 = run_check(day1, mode="incremental")
    probs = res1.problems
    jzmj = probs[probs["rule_id"] == R_JZMJ].iloc[0]
    jrzt = probs[probs["rule_id"] == "bdc.jrbw.jrzt.success"].iloc[0]
    fixed = base / "day1_fixed"
    shutil.copytree(day1, fixed)
    _fix_rows(fixed, FDCQ, {int(jzmj["row"]): {"JZMJ": "89.50"}})
    _fix_rows(fixed, "JR_BW", {int(jrzt["row"]): {"JRZT": "1"}})
    return {
        "base": base,
        "day1": day1,
        "day2": day2,
        "fixed": fixed,
        "res1": res1,
        "res2": run_check(day2, mode="incremental"),
        "res_fixed": run_check(fixed, mode="incremental"),
        "res_stock": run_check(base / "stock", mode="stock"),
        "fixed_keys": {(R_JZMJ, jzmj["YWH"]), ("bdc.jrbw.jrzt.success", jrzt["YWH"])},
    }


def test_recheck_closes_fixed_problems_and_reopens_repeats(real: dict, tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    r1 = L.sync_check(db, real["res1"])
    n1 = len(real["res1"].problems)
    assert r1.opened == n1 and r1.at == "2024-12-30 19:43:48"  # the batch's as-of
    frame = L.problems_frame(db, as_of="2025-01-03")
    assert set(frame["state"]) == {L.FOUND}
    assert set(frame[frame["QXDM"] == "420802"]["deadline"]) <= {"2025-01-03", "2025-01-14"}  # 元旦 off
    assert frame[frame["QXDM"] == "420802"]["responsible"].notna().all()
    # the next day's batch re-checks other records: nothing of day 1 is closed
    r2 = L.sync_check(db, real["res2"])
    assert r2.closed == 0 and r2.opened == len(real["res2"].problems) and r2.out_of_scope_open == n1
    # someone starts fixing the area problem
    by_key = {(r.rule_id, r.YWH): r.problem_id for r in frame.itertuples()}
    area = by_key[next(k for k in real["fixed_keys"] if k[0] == R_JZMJ)]
    L.update(db, area, "issued", actor="科长甲", at="2024-12-31 09:00")
    L.update(db, area, "fixing", actor="登记员乙", at="2024-12-31 10:00")
    # the corrected day-1 batch is checked again
    r3 = L.sync_check(db, real["res_fixed"], as_of="2025-01-02 09:00:00")
    closed = {by_key[k] for k in real["fixed_keys"]}
    assert set(r3.problem_ids["closed"]) == closed
    assert r3.still_open == n1 - 2 and r3.opened == 0
    states = L.problems_frame(db, as_of="2025-01-02").set_index("problem_id")["state"]
    assert set(states[list(closed)]) == {L.CLOSED}
    hist = L.events_frame(db, area)
    assert hist["to_state"].tolist() == [L.FOUND, L.ISSUED, L.FIXING, L.RECHECK, L.CLOSED]
    assert hist["seq"].tolist() == [1, 2, 3, 4, 5]
    # the uncorrected export comes back: the two problems are repeats
    r4 = L.sync_check(db, real["res1"], as_of="2025-01-06 09:00:00")
    assert set(r4.problem_ids["reopened"]) == closed and r4.opened == 0
    again = L.problems_frame(db, as_of="2025-01-06").set_index("problem_id").loc[list(closed)]
    assert set(again["state"]) == {L.FOUND} and set(again["repeats"]) == {1} and set(again["cycle"]) == {2}
    assert set(again["found_at"]) == {"2025-01-06 09:00:00"}
    assert set(again["deadline"]) <= {"2025-01-09", "2025-01-20"}  # 3 or 10 working days
    assert L.verify_ledger(db) == []
    runs = L.runs_frame(db)
    assert runs["kind"].tolist().count("check") == 4


def test_ledger_stores_no_raw_personal_data(real: dict, tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    for res in (real["res_stock"], real["res1"], real["res2"]):
        L.sync_check(db, res)
    (pid,) = L.problems_frame(db, as_of="2025-01-03").head(1)["problem_id"]
    L.update(db, pid, "issued", actor="科长甲", note="联系 13812345678")
    pii = real["res1"].domain.pii_fields()
    frame = L.problems_frame(db, as_of="2025-01-03")
    on_pii = frame[frame["field"].isin(list(pii))]
    assert len(on_pii) >= 3 and on_pii["value_masked"].dropna().str.contains(r"\*").all()
    raw: set[str] = set()
    for res in (real["res_stock"], real["res1"], real["res2"]):
        for t in res.batch.tables.values():
            for f in pii:
                if f in t.frame.columns:
                    raw |= {str(v).strip() for v in t.frame[f].dropna()}
    staff = {e.name for e in L.load_config("bdc").roster.values()}
    raw = {v for v in raw if len(v) >= 2 and v not in staff} | {"13812345678"}
    assert len(raw) > 100
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("l.sqlite"))
    text = blob.decode("utf-8", errors="ignore")
    leaks = sorted(v for v in raw if v in text)
    assert leaks == []


# ----------------------------------------------------------------------------------- the command line
def test_cli(real: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    db = tmp_path / "l.sqlite"
    out = tmp_path / "out"
    res = runner.invoke(
        app,
        ["check", "--input", str(real["day1"]), "--out", str(out), "--no-data-docs", "--ledger", str(db)],
    )
    assert res.exit_code == 1, res.output  # the sample has critical failures
    assert "台账" in res.output and (out / "problems.csv").exists()
    n = len(real["res1"].problems)
    assert len(L.problems_frame(db, as_of="2025-01-03")) == n

    def dq(*args: str, code: int = 0) -> str:
        r = runner.invoke(app, ["ledger", *args, "--ledger", str(db)], env={"COLUMNS": "250"})
        assert r.exit_code == code, r.output
        return r.output

    listing = dq("list", "--as-of", "2025-01-02", "--limit", "500")
    assert "问题台账" in listing and f"{n} 条" in listing and "138****" in listing
    assert "13800000" not in listing  # roster phones masked
    n102 = len(L.problems_frame(db, states=["found"], districts=["420102"], as_of="2025-01-02"))
    assert 0 < n102 < n
    assert f"— {n102} 条" in dq("list", "--state", "found", "--district", "420102", "--as-of", "2025-01-02")
    assert "逾期" in dq("overdue", "--as-of", "2025-06-30")
    assert "（显示 0）" in dq("list", "--overdue", "--as-of", "2024-12-31")
    assert "已更新" in dq("update", "1", "2", "--to", "已下发", "--actor", "科长甲", "--note", "请整改")
    refused = dq("update", "1", "--to", "closed", "--actor", "科长甲", code=2)
    assert "不允许" in refused and "cannot go" in refused
    assert "没有编号" in dq("update", "99999", "--to", "issued", "--actor", "甲", code=2)
    shown = dq("show", "1", "--as-of", "2025-01-02")
    assert "流转记录" in shown and "科长甲" in shown and "检查发现" in shown
    assert "W01" in dq("figures", "--by", "week", "--as-of", "2025-01-31")
    assert "运行记录" in dq("runs")
    assert "台账一致" in dq("verify")
    csv_path, xlsx_path = tmp_path / "台账.csv", tmp_path / "台账.xlsx"
    dq("export", "--out", str(csv_path), "--as-of", "2025-01-02")
    dq("export", "--out", str(xlsx_path), "--as-of", "2025-01-02")
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf")
    exported = pd.read_csv(csv_path, encoding="utf-8-sig", dtype=str)
    assert {"问题编号", "状态", "区县", "整改期限", "责任人", "联系电话（已脱敏）"} <= set(exported.columns)
    assert len(exported) == n
    sheets = pd.read_excel(xlsx_path, sheet_name=None)
    assert set(sheets) == {"问题台账", "流转记录"} and len(sheets["流转记录"]) == n + 2
    assert "不支持" in dq("export", "--out", str(tmp_path / "x.pdf"), code=2)
    # recheck = check + sync without outputs (the check itself is the cached corrected batch)
    monkeypatch.setattr("toolkit.check.run_check", lambda *a, **k: real["res_fixed"])
    rechecked = dq("recheck", "--input", str(real["fixed"]))
    assert "销号 closed 2" in rechecked
    # read commands never create a ledger
    missing = tmp_path / "missing.sqlite"
    r = runner.invoke(app, ["ledger", "list", "--ledger", str(missing)])
    assert r.exit_code == 2 and "不存在" in r.output and not missing.exists()


def test_cli_check_fails_when_the_ledger_is_unusable(
    real: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "ledger.sqlite"
    bad.write_text("not a ledger", encoding="utf-8")
    monkeypatch.setattr("toolkit.check.run_check", lambda *a, **k: real["res1"])
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app,
        ["check", "--input", str(real["day1"]), "--out", str(out), "--no-data-docs", "--ledger", str(bad)],
    )
    assert res.exit_code == 2 and "不是问题台账" in res.output
    assert not (out / "problems.csv").exists()
