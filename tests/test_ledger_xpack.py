"""The problem ledger on a locality's own pack (tests/fixtures/xpack, passed by path): the unit is an office
(JGDM, named from the data's JGMC), records are keyed by DJBH / [DJBH, XH], the roster's first column is
JGDM — nothing of bdc. A real ``dq check`` of the fixture's daily batches feeds the ledger; deleted
applicant rows are closed by a re-check of the same day; ``dq ledger list`` fits 80 columns and pipes get
CSV and JSON.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import xpack
from rich.cells import cell_len
from typer.testing import CliRunner

from toolkit import ledger as L
from toolkit.check import run_check
from toolkit.cli import app
from toolkit.domain import domain_path
from toolkit.errors import ConfigError

PACK = str(xpack.PACK)
DAY = dt.date(2024, 3, 4)


def _drop_rows(folder: Path, table: str, rows: set[int]) -> None:
    """Delete rows of ``table``'s CSV by the row number the toolkit reports (header = 1)."""
    path = folder / f"{table}.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        lines = list(csv.reader(fh))
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(r for i, r in enumerate(lines, 1) if i not in rows)


@pytest.fixture(scope="module")
def batches(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("xpack_ledger")
    day = base / "export" / DAY.isoformat()
    xpack.write_batch(day, DAY)
    nxt = base / "export" / (DAY + dt.timedelta(days=1)).isoformat()
    xpack.write_batch(nxt, DAY + dt.timedelta(days=1))
    res = run_check(day, domain=PACK, mode="incremental")
    probs = res.problems
    gone = probs[probs["table"] == "SQR"]  # the applicant with a bad ID and the one without a name
    assert set(gone["rule_id"]) == {"xpack.sqr.zjhm.citizen_id", "xpack.sqr.xm.required"}
    again = base / "re-export" / DAY.isoformat()  # the same day exported again, both rows deleted
    shutil.copytree(day, again)
    _drop_rows(again, "SQR", {int(r) for r in gone["row"]})
    return {
        "day": day,
        "again": again,
        "res": res,
        "res_next": run_check(nxt, domain=PACK, mode="incremental"),
        "res_again": run_check(again, domain=PACK, mode="incremental"),
        "gone": set(gone["record_key"]),
    }


def test_roster_is_keyed_by_the_pack_unit(tmp_path: Path) -> None:
    cfg = L.load_config(PACK)
    assert cfg.unit_column == "JGDM" and cfg.workdays_for("critical") == 2
    assert cfg.roster["JG001"].name == "赵主任" and cfg.roster["JG001"].phone_masked == "137****0001"
    with pytest.raises(ConfigError) as exc:  # a county roster does not fit a pack of offices
        L.load_config(PACK, roster=domain_path("bdc") / "roster.csv")
    assert "JGDM,责任人,联系电话,单位" in exc.value.zh and "JGDM,责任人,联系电话,单位" in exc.value.en
    assert "QXDM" in exc.value.zh and exc.value.fix_zh and "roster.csv" in str(exc.value.path)


def test_ledger_on_offices_and_deleted_records(batches: dict, tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    first = L.sync_check(db, batches["res"])
    n = len(batches["res"].problems)
    assert first.opened == n
    frame = L.problems_frame(db, as_of="2024-03-05")
    assert set(frame["unit_code"]) == {"JG001", "JG002"}
    assert dict(zip(frame["unit_code"], frame["unit_name"], strict=True)) == xpack.OFFICES
    assert dict(zip(frame["unit_code"], frame["responsible"], strict=True)) == {
        "JG001": "赵主任",
        "JG002": "钱主任",
    }
    assert set(frame["responsible_unit"]) == {"东城窗口", "西城窗口"}
    keys = dict(zip(frame["rule_id"], frame["record_key"], strict=True))
    assert keys["xpack.djxx.djlb.code"] == "JG001-20240304-002"  # DJBH
    assert keys["xpack.sqr.zjhm.citizen_id"] == "JG001-20240304-001|1"  # DJBH|XH
    assert set(frame["period"]) == {"2024-03-04"}
    assert L.ledger_info(db)["unit_label_zh"] == "机构"
    # deadlines of the pack's ledger.yaml: critical 2, warning 5 working days from Monday 03-04
    assert set(frame["deadline"]) <= {"2024-03-06", "2024-03-11"}

    # the next day re-checks other records: nothing of 03-04 is closed
    nxt = L.sync_check(db, batches["res_next"])
    assert nxt.closed == 0 and nxt.out_of_scope_open == n
    # 03-04 exported again without the two applicant rows: their problems close as deleted, nothing else
    again = L.sync_check(db, batches["res_again"], as_of="2024-03-06 09:00:00")
    assert again.deleted == 2 and again.closed == 2 and again.still_open == n - 2
    after = L.problems_frame(db, as_of="2024-03-06").set_index("problem_id")
    closed = after[after["state"] == L.CLOSED]
    assert set(closed["record_key"]) == batches["gone"]
    assert sorted(closed.index) == sorted(again.problem_ids["deleted"])
    for pid in closed.index:
        notes = L.events_frame(db, int(pid))["note"].tolist()
        assert notes[-2:] == [
            "复核：记录已删除 / re-check: record deleted",
            "记录已删除，销号 / record deleted, closed",
        ]
    assert L.verify_ledger(db) == []


def test_ledger_commands_on_offices(batches: dict, tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    L.sync_check(db, batches["res"])
    runner = CliRunner()

    def dq(*args: str, width: str = "80") -> str:
        r = runner.invoke(app, ["ledger", *args, "--ledger", str(db)], env={"COLUMNS": width})
        assert r.exit_code == 0, r.output
        return r.output

    table = dq("list", "--as-of", "2024-03-05")
    assert max(cell_len(line) for line in table.splitlines()) <= 80
    header = table.splitlines()[2]
    assert "机构" in header and "区县" not in table
    for code, name in xpack.OFFICES.items():
        assert code in table and name in table
    assert "赵主任" in table and "137****0001" in table and "13700000001" not in table
    only = dq("list", "--unit", "JG001", "--format", "json", "--as-of", "2024-03-05")
    assert {r["unit_code"] for r in json.loads(only)} == {"JG001"}
    rows = list(csv.DictReader(dq("list", "--format", "csv", "--as-of", "2024-03-05").splitlines()))
    assert len(rows) == len(batches["res"].problems)
    assert "unit_code" in rows[0] and "QXDM" not in rows[0] and "YWH" not in rows[0]  # no bdc columns
    overdue = dq("overdue", "--as-of", "2024-04-01")
    assert "逾期问题汇总" in overdue and "东城窗口" in overdue
    assert max(cell_len(line) for line in overdue.splitlines()) <= 80
    weeks = json.loads(dq("figures", "--by", "week", "--format", "json", "--as-of", "2024-04-01"))
    assert {w["unit_code"] for w in weeks} == {"JG001", "JG002"} and {w["unit_name"] for w in weeks} == {
        "东城窗口",
        "西城窗口",
    }
    export = tmp_path / "台账.csv"
    dq("export", "--out", str(export), "--as-of", "2024-03-05")
    exported = next(csv.reader(export.read_text(encoding="utf-8-sig").splitlines()))
    assert {"机构代码", "机构", "责任人", "责任单位"} <= set(exported)
    # a re-check of the re-exported day through the command line, pack given by path
    r = runner.invoke(
        app,
        ["ledger", "recheck", "--input", str(batches["again"]), "--domain", PACK, "--ledger", str(db)],
    )
    assert r.exit_code == 0, r.output
    assert "销号 closed 2" in r.output and "记录已删除 2" in r.output
