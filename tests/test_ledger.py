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
from rich.cells import cell_len
from typer.testing import CliRunner

from toolkit import ledger as L
from toolkit.check import run_check
from toolkit.cli import app
from toolkit.domain import domain_path
from toolkit.errors import ConfigError
from toolkit.masking import scrub_text
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
        "unit_code": qxdm,
        "unit_name": None,
        "fields": {"YWH": ywh} if ywh else {},
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
    period: str | None = None,
    data_as_of: str = "2024-03-04 10:00:00",
) -> L.SyncInput:
    """``present``: the record anchors in the batch (default: those of ``problems``); ``period``: the
    batch period (``None``: unknown, so that no record is taken as deleted)."""
    anchors = sorted(set(present if present is not None else [p["anchor"] for p in problems]))
    return L.SyncInput(
        domain="bdc",
        domain_path=str(domain_path("bdc")),
        mode=mode,
        input="synthetic",
        data_as_of=data_as_of,
        rows=len(anchors),
        rules_evaluated=list(rules),
        tables=[FDCQ],
        units={FDCQ: list(districts)},
        anchors={FDCQ: anchors},
        problems=problems,
        period=None if mode == "stock" else period,
        pack={
            "unit_label_zh": "区县",
            "unit_label_en": "county",
            "legacy_columns": {"unit_code": "QXDM", "unit_name": "QXMC"},
            "problem_fields": {"YWH": "业务号"},
        },
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
    # an incremental batch never closes what it does not contain (a stock finding has no batch period)
    L.apply_sync(db, sync_input([], present=["X"], districts=("420102",), period="2024-03-04"))
    assert [state(db, p)[0] for p in (a, b, k)] == [L.FOUND] * 3
    # a stock export older than the run that found them cannot close them
    older = sync_input(
        [], present=["X"], mode="stock", districts=("420102",), data_as_of="2024-03-01 10:00:00"
    )
    assert L.apply_sync(db, older).closed == 0
    # a full export as new or newer covers every record of its units: a's row is no longer as it was, K1
    # was deleted; b's unit is not in the export
    rep = L.apply_sync(db, sync_input([], present=["X"], mode="stock", districts=("420102",)))
    assert rep.problem_ids["closed"] == [a, k] and rep.problem_ids["deleted"] == [a, k] and rep.deleted == 2
    assert [state(db, p)[0] for p in (a, b, k)] == [L.CLOSED, L.FOUND, L.CLOSED]
    assert L.events_frame(db, k)["note"].iloc[-1] == "记录已删除，销号 / record deleted, closed"
    assert "已修改或删除" in L.events_frame(db, a)["note"].iloc[-2]
    assert L.verify_ledger(db) == []


def test_recheck_of_the_same_period_closes_deleted_records(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    day = sync_input([problem("Y1"), problem("Y2"), problem("Y3", qxdm="420802")], period="2024-03-04")
    y1, y2, y3 = L.apply_sync(db, day).problem_ids["opened"]
    # another day's batch holds other records: nothing of 03-04 is closed
    rep = L.apply_sync(db, sync_input([], present=["Z1"], period="2024-03-05"), as_of="2024-03-05 10:00")
    assert rep.closed == 0 and rep.out_of_scope_open == 3
    # 03-04 exported again: Y1 fixed, Y2 deleted, Y3's unit not in the batch
    again = sync_input([], present=["Y1"], districts=("420102",), period="2024-03-04")
    rep = L.apply_sync(db, again, as_of="2024-03-06 09:00")
    assert rep.problem_ids["closed"] == [y1, y2] and rep.problem_ids["deleted"] == [y2]
    assert [state(db, p)[0] for p in (y1, y2, y3)] == [L.CLOSED, L.CLOSED, L.FOUND]
    assert L.events_frame(db, y2)["note"].tolist()[-2:] == [
        "复核：记录已删除 / re-check: record deleted",
        "记录已删除，销号 / record deleted, closed",
    ]
    assert "自动复核通过" in L.events_frame(db, y1)["note"].iloc[-1]
    assert "记录已删除 1" in rep.line()
    assert json.loads(L.runs_frame(db).set_index("run_id").loc[rep.run_id, "scope"])["deleted"] == 1
    assert L.verify_ledger(db) == []


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
    assert cfg.unit_column == "QXDM"
    entry = cfg.roster["420102"]
    assert entry.unit.endswith("不动产登记中心") and entry.phone_masked.startswith("138****")
    bad = tmp_path / "roster.csv"
    bad.write_text("QXDM,姓名\n420102,张三\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        L.load_roster(bad, "QXDM")
    assert "QXDM,责任人,联系电话,单位" in exc.value.zh and "QXDM,责任人,联系电话,单位" in exc.value.en
    bad.write_text(
        "QXDM,责任人,联系电话,单位\n420102,张三,13800001111,甲\n420102,李四,,乙\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"twice|重复"):
        L.load_roster(bad, "QXDM")
    # ledger.yaml's record keys must name tables and fields of the pack
    pack = tmp_path / "pack"
    shutil.copytree(domain_path("bdc"), pack, ignore=shutil.ignore_patterns("suites", "views", "*.py"))
    text = (pack / "ledger.yaml").read_text(encoding="utf-8")
    (pack / "ledger.yaml").write_text(text.replace("anchor: [YWH]}", "anchor: [YWHH]}", 1), encoding="utf-8")
    with pytest.raises(ConfigError, match="YWHH"):
        L.load_config(pack)
    (pack / "ledger.yaml").write_text(text.replace("ZTT_GY_QLR:", "ZTT_GY_QLRR:"), encoding="utf-8")
    with pytest.raises(ConfigError, match="ZTT_GY_QLRR"):
        L.load_config(pack)


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
    got = {(r.unit_code, r.period): r for r in week.itertuples()}
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
    day = early.set_index(["unit_code", "period"]).loc[("420102", "2024-03-07")]
    assert (day.problems_due, day.closed_after_recheck, day.fixed_before_deadline) == (4, 1, 1)
    assert "2024-03-14" not in set(early["period"])  # not yet due by as_of
    month = L.ledger_figures(db, "month", as_of="2024-03-31").set_index(["unit_code", "period"])
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
    res1 = run_check(day1, domain="bdc", mode="incremental")
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
        "res2": run_check(day2, domain="bdc", mode="incremental"),
        "res_fixed": run_check(fixed, domain="bdc", mode="incremental"),
        "res_stock": run_check(base / "stock", domain="bdc", mode="stock"),
        "fixed_keys": {(R_JZMJ, jzmj["YWH"]), ("bdc.jrbw.jrzt.success", jrzt["YWH"])},
    }


def test_recheck_closes_fixed_problems_and_reopens_repeats(real: dict, tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    r1 = L.sync_check(db, real["res1"])
    n1 = len(real["res1"].problems)
    assert r1.opened == n1 and r1.at == "2024-12-30 19:43:48"  # the batch's as-of
    frame = L.problems_frame(db, as_of="2025-01-03")
    assert set(frame["state"]) == {L.FOUND}
    assert set(frame[frame["unit_code"] == "420802"]["deadline"]) <= {"2025-01-03", "2025-01-14"}  # 元旦 off
    assert frame[frame["unit_code"] == "420802"]["responsible"].notna().all()
    assert set(frame[frame["unit_code"] == "420802"]["unit_name"]) == {"东宝区"}
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
    n102 = len(L.problems_frame(db, states=["found"], units=["420102"], as_of="2025-01-02"))
    assert 0 < n102 < n
    assert f"— {n102} 条" in dq("list", "--state", "found", "--unit", "420102", "--as-of", "2025-01-02")
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


# ----------------------------------------------------------------------------------- deleted records
ORPHAN = "bdc.qlr.ywh.exists"  # a holder row whose registration exists nowhere


def _drop_rows(folder: Path, table: str, rows: set[int]) -> None:
    """Delete rows of ``table``'s CSV by the row number the toolkit reports (header = 1)."""
    path = folder / f"{table}.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        lines = list(csv.reader(fh))
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(r for i, r in enumerate(lines, 1) if i not in rows)


def test_deleted_records_are_closed_by_a_recheck_of_the_same_export(real: dict, tmp_path: Path) -> None:
    """Issue 9: three orphan holder rows removed and the export checked again closed nothing, ever."""
    stock = real["res_stock"]
    orphans = stock.problems[stock.problems["rule_id"] == ORPHAN]
    assert len(orphans) >= 4, "the sample has orphan holders (qlr.orphan)"
    gone = orphans.head(3)
    copy = tmp_path / "stock"
    shutil.copytree(real["base"] / "stock", copy)
    _drop_rows(copy, "ZTT_GY_QLR", {int(r) for r in gone["row"]})
    rechecked = run_check(copy, domain="bdc", mode="stock")
    left = rechecked.problems[rechecked.problems["rule_id"] == ORPHAN]
    assert len(left) == len(orphans) - 3 and rechecked.as_of == stock.as_of

    db = tmp_path / "l.sqlite"
    L.sync_check(db, stock)
    L.sync_check(db, real["res1"])  # a daily batch newer than the export
    assert L.sync_check(db, stock).closed == 0  # the same export again: nothing is fixed or gone
    frame = L.problems_frame(db, as_of="2025-01-03")
    by_ywh = frame[frame["rule_id"] == ORPHAN].set_index("YWH")["problem_id"]
    deleted = {int(by_ywh[y]) for y in gone["YWH"]}
    rep = L.sync_check(db, rechecked, as_of="2025-01-03 09:00:00")
    assert set(rep.problem_ids["deleted"]) == deleted and rep.deleted == 3
    assert set(rep.problem_ids["closed"]) == deleted  # nothing else: the rest is listed again, or newer
    after = L.problems_frame(db, as_of="2025-01-03").set_index("problem_id")
    assert set(after.loc[sorted(deleted), "state"]) == {L.CLOSED}
    assert set(after.loc[[int(by_ywh[y]) for y in left["YWH"]], "state"]) == {L.FOUND}
    newer = after[after["period"] == "2024-12-30"]  # the daily batch's problems are left alone
    assert len(newer) == len(real["res1"].problems) and (newer["state"] == L.FOUND).all()
    for pid in deleted:
        hist = L.events_frame(db, pid)
        assert hist["to_state"].tolist() == [L.FOUND, L.RECHECK, L.CLOSED]
        assert hist["note"].iloc[-1] == "记录已删除，销号 / record deleted, closed"
    assert "记录已删除 3" in rep.line()
    assert L.verify_ledger(db) == []


# ----------------------------------------------------------------------------------- output formats
def _rows(output: str) -> list[list[str]]:
    """The rows of a ``dq ledger list`` table: a row starts at a line whose first column (the id) is
    filled; its continuation lines leave it blank."""
    blocks: list[list[str]] = []
    for line in output.splitlines():
        if line[:6].strip().isdigit():
            blocks.append([line])
        elif blocks and line.strip():
            blocks[-1].append(line)
    return blocks


def _from_cell(line: str, offset: int) -> str:
    """The part of ``line`` from terminal cell ``offset`` on (CJK characters take two cells)."""
    for i in range(len(line) + 1):
        if cell_len(line[:i]) >= offset:
            return line[i:]
    return ""


def _fits(output: str, width: int = 80) -> None:
    wide = [line for line in output.splitlines() if cell_len(line) > width]
    assert not wide, wide[:3]


def test_list_fits_80_columns_and_pipes_get_csv_and_json(real: dict, tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    for res in (real["res_stock"], real["res1"]):
        L.sync_check(db, res)
    L.update(db, [1, 2], "issued", actor="科长甲")
    frame = L.problems_frame(db, as_of="2025-01-03")
    runner = CliRunner()

    def dq(*args: str) -> str:
        r = runner.invoke(app, ["ledger", *args, "--ledger", str(db)], env={"COLUMNS": "80"})
        assert r.exit_code == 0, r.output
        return r.output

    table = dq("list", "--as-of", "2025-01-03", "--limit", "1000")
    _fits(table)
    header = table.splitlines()[2]
    assert "区县" in header  # the unit's label from the pack
    blocks = _rows(table)
    assert [int(b[0].split()[0]) for b in blocks] == frame["problem_id"].tolist()
    # no column is narrower than the first characters of its content: short values stand whole on a line
    # of their row, and the message column is wide enough for its first 12 characters and keeps them all
    start = cell_len(header[: header.index("问题 / problem")])
    assert 80 - start >= 24
    for block, rec in zip(blocks, frame.to_dict("records"), strict=True):
        values = [
            rec["state"],
            rec["deadline"],
            rec["unit_code"],
            rec["unit_name"],
            rec["responsible"],
            rec["phone_masked"],
            rec["rule_id"][:24],
            rec["record_key"][:24],
        ]
        for v in (scrub_text(v) for v in values if isinstance(v, str) and v):  # shown scrubbed
            assert any(v in line for line in block), (v, block)
        problem_text = "".join(_from_cell(line, start) for line in block).replace(" ", "")
        assert scrub_text(rec["message_zh"]).replace(" ", "") in problem_text, (rec["message_zh"], block)
    for command in (
        ["overdue", "--as-of", "2025-06-30"],
        ["runs"],
        ["figures", "--by", "week", "--as-of", "2025-01-31"],
        ["show", "2", "--as-of", "2025-01-03"],
    ):
        _fits(dq(*command))
    # csv and json for pipes: every problem, every column, the pack's legacy columns
    rows = list(csv.DictReader(dq("list", "--format", "csv", "--as-of", "2025-01-03").splitlines()))
    assert [int(r["problem_id"]) for r in rows] == frame["problem_id"].tolist()
    assert {"unit_code", "unit_name", "QXDM", "QXMC", "record_key", "YWH", "message_zh"} <= set(rows[0])
    assert all(r["QXDM"] == r["unit_code"] for r in rows)
    text = dq("list", "--format", "json", "--as-of", "2025-01-03")
    assert "发现" in text and "\\u" not in text  # ensure_ascii=False
    records = json.loads(text)
    assert [r["problem_id"] for r in records] == frame["problem_id"].tolist()
    assert records[0]["overdue"] is True and records[0]["state"] == "已下发"
    overdue = json.loads(dq("overdue", "--format", "json", "--as-of", "2025-06-30"))
    assert len(overdue) == len(frame)
    assert len(list(csv.DictReader(dq("runs", "--format", "csv").splitlines()))) == 3
    weeks = json.loads(dq("figures", "--by", "week", "--format", "json", "--as-of", "2025-01-31"))
    assert weeks and {"unit_code", "unit_name", "QXDM", "problems_due"} <= set(weeks[0])
    shown = json.loads(dq("show", "1", "--format", "json"))
    assert shown["problem"]["problem_id"] == 1 and [e["seq"] for e in shown["events"]] == [1, 2]
    history = list(csv.DictReader(dq("show", "1", "--format", "csv").splitlines()))
    assert [h["to_state"] for h in history] == [L.FOUND, L.ISSUED]
    bad = runner.invoke(app, ["ledger", "list", "--format", "xml", "--ledger", str(db)])
    assert bad.exit_code == 2


# ----------------------------------------------------------------------------------- old ledgers
V1_SCHEMA = [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('check', 'update')),
        domain TEXT, mode TEXT, input TEXT, data_as_of TEXT,
        at TEXT NOT NULL, started TEXT NOT NULL, finished TEXT NOT NULL, actor TEXT NOT NULL,
        rows INTEGER, rules_evaluated INTEGER, problems_listed INTEGER,
        opened INTEGER NOT NULL DEFAULT 0, reopened INTEGER NOT NULL DEFAULT 0,
        returned INTEGER NOT NULL DEFAULT 0, closed INTEGER NOT NULL DEFAULT 0,
        updated INTEGER NOT NULL DEFAULT 0, events INTEGER NOT NULL DEFAULT 0,
        scope TEXT)""",
    """CREATE TABLE problems (
        problem_id INTEGER PRIMARY KEY,
        domain TEXT NOT NULL, rule_id TEXT NOT NULL, tbl TEXT NOT NULL, record_key TEXT NOT NULL,
        field TEXT NOT NULL, key_fields TEXT NOT NULL, key_kind TEXT NOT NULL, anchor TEXT NOT NULL,
        qxdm TEXT NOT NULL, ywh TEXT, severity TEXT, dimension TEXT,
        message_zh TEXT, fix_zh TEXT, detail_zh TEXT, value_masked TEXT, file TEXT, row INTEGER,
        state TEXT NOT NULL, cycle INTEGER NOT NULL, repeats INTEGER NOT NULL DEFAULT 0,
        first_found TEXT NOT NULL, found_at TEXT NOT NULL, deadline TEXT NOT NULL,
        last_seen TEXT NOT NULL, last_run TEXT NOT NULL, closed_at TEXT, updated_at TEXT NOT NULL,
        responsible TEXT, unit TEXT, phone_masked TEXT, last_seq INTEGER NOT NULL,
        UNIQUE (domain, rule_id, tbl, record_key, field))""",
    "CREATE INDEX problems_state ON problems (state, qxdm)",
    """CREATE TABLE events (
        event_id INTEGER PRIMARY KEY AUTOINCREMENT,
        problem_id INTEGER NOT NULL REFERENCES problems (problem_id),
        seq INTEGER NOT NULL, cycle INTEGER NOT NULL,
        at TEXT NOT NULL, recorded TEXT NOT NULL, actor TEXT NOT NULL,
        from_state TEXT, to_state TEXT NOT NULL, note TEXT, value_masked TEXT,
        run_id TEXT NOT NULL REFERENCES runs (run_id) DEFERRABLE INITIALLY DEFERRED,
        UNIQUE (problem_id, seq))""",
    """CREATE TABLE cycles (
        problem_id INTEGER NOT NULL REFERENCES problems (problem_id), cycle INTEGER NOT NULL,
        found_at TEXT NOT NULL, deadline TEXT NOT NULL, fixed_at TEXT, closed_at TEXT, closed_by TEXT,
        PRIMARY KEY (problem_id, cycle))""",
    """CREATE TRIGGER problems_no_delete BEFORE DELETE ON problems
        BEGIN SELECT RAISE(ABORT, '问题不能删除 / ledger problems are never deleted'); END""",
]


def test_a_version_1_ledger_is_upgraded_in_place(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    con = sqlite3.connect(db)
    for stmt in V1_SCHEMA:
        con.execute(stmt)
    at = "2024-03-04 10:00:00"
    con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    con.execute(
        "INSERT INTO runs (run_id, kind, domain, mode, at, started, finished, actor, opened, events)"
        " VALUES ('r1', 'check', 'bdc', 'incremental', ?, ?, ?, 'dq check', 1, 1)",
        (at, at, at),
    )
    con.execute(
        "INSERT INTO problems (domain, rule_id, tbl, record_key, field, key_fields, key_kind, anchor, qxdm,"
        " ywh, severity, state, cycle, first_found, found_at, deadline, last_seen, last_run, updated_at,"
        " responsible, unit, last_seq) VALUES ('bdc', ?, ?, 'Y1', 'JZMJ', 'YWH', 'key', 'Y1', '420102', 'Y1',"
        " 'critical', ?, 1, ?, ?, '2024-03-07', ?, 'r1', ?, '何卫东', '江岸区不动产登记中心', 1)",
        (R_JZMJ, FDCQ, L.FOUND, at, at, at, at),
    )
    con.execute(
        "INSERT INTO events (problem_id, seq, cycle, at, recorded, actor, from_state, to_state, run_id)"
        " VALUES (1, 1, 1, ?, ?, 'dq check', NULL, ?, 'r1')",
        (at, at, L.FOUND),
    )
    con.execute("INSERT INTO cycles VALUES (1, 1, ?, '2024-03-07', NULL, NULL, NULL)", (at,))
    con.execute(f"PRAGMA application_id = {L.APPLICATION_ID}")
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()

    frame = L.problems_frame(db, as_of="2024-03-05")  # reading upgrades it
    rec = frame.iloc[0]
    assert (rec["unit_code"], rec["YWH"], rec["responsible_unit"]) == ("420102", "Y1", "江岸区不动产登记中心")
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA user_version").fetchone()[0] == L.SCHEMA_VERSION == 2
        cols = {r[1] for r in con.execute("PRAGMA table_info(problems)")}
        assert {"unit_code", "unit_name", "period", "seen_as_of", "fields"} <= cols
        assert not cols & {"qxdm", "ywh", "unit"}
    finally:
        con.close()
    assert L.verify_ledger(db) == []
    # the old problem goes on: listed again, then fixed
    assert L.apply_sync(db, sync_input([problem("Y1")]), as_of="2024-03-05 10:00").still_open == 1
    rep = L.apply_sync(db, sync_input([], present=["Y1"]), as_of="2024-03-06 10:00")
    assert rep.problem_ids["closed"] == [1]
    assert L.verify_ledger(db) == []
