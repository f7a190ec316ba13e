"""``dq clean`` (``toolkit/clean.py``, ``toolkit/clean_cli.py``): plan → apply → check → undo.

* On the sample batches of every shipped pack that declares fixers (stock and the latest day): the plan
  changes nothing; applying it and checking again with Great Expectations shows every problem the plan
  fixed gone and **no new problem**; undo restores byte-identical files. The same in place, and with a
  GB18030 CSV and an XLSX file in the batch (a GB18030 file stays GB18030; an XLSX file differs only in
  the worksheet part and only in the planned cells).
* A plan whose batch changed after planning (a file edited, added or removed), or whose pack's fixers
  changed, is refused: exit 2, nothing written — no backup, no log entry, no output folder.
* The log is append-only; undo refuses a file changed after the run and a run undone already.
* Privacy: the plan files, the change log and everything the commands print are scanned for every
  personal value of the input (``tests/scan.py``); only the backup folder (documented as sensitive) and
  the cleaned batch itself (the data) hold them.
* The CSV editor keeps every byte it does not edit (quoting, line endings, BOM, a missing final line
  break), property-tested; the cross-table guard withdraws a fix that would make a view rule fail, and its
  Python evaluation of the view rules agrees with Great Expectations on the samples.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scan import find
from typer.testing import CliRunner

from toolkit import clean, corrections
from toolkit.check import latest_timestamp, run_check
from toolkit.cli import app
from toolkit.domain import EXPECTATIONS_DIR, load_domain
from toolkit.errors import CleanError, StalePlanError
from toolkit.loading import load_batch
from toolkit.samples import generate_sample

PACKS = sorted(
    p.name
    for p in EXPECTATIONS_DIR.iterdir()
    if (p / "domain.yaml").is_file()
    and (p / "sample.py").is_file()
    and "\nfixers:" in (p / "domain.yaml").read_text(encoding="utf-8")
)
SAMPLE_OPTIONS = {
    "bdc": dict(seed=7, districts=3, days=2, stock_rows=400, error_scale=3.0),
    "gjj": dict(seed=7, districts=2, days=2, persons=300, error_scale=5.0),
    "sgs": dict(seed=7, districts=8, days=1, stock_rows=300, error_scale=4.0),
}


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for pack in PACKS:
        root = tmp_path_factory.mktemp(f"clean-{pack}")
        generate_sample(
            pack, root, **SAMPLE_OPTIONS.get(pack, dict(seed=7, districts=3, days=2, error_scale=3.0))
        )
        out[pack] = root
    return out


def _batches(pack: str, root: Path) -> dict[str, tuple[Path, str]]:
    days = sorted(p for p in (root / "incremental").iterdir() if p.is_dir())
    return {"stock": (root / "stock", "stock"), "latest": (days[-1], "incremental")}


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _key(frame: pd.DataFrame) -> set[tuple[str, str, int, str]]:
    return {(r.rule_id, r.file, int(r.row), r.field) for r in frame.itertuples()}


def _personal_values(domain, batch: Path) -> list[str]:
    """Every personal value of the batch worth searching for (names ≥ 2 characters, numbers ≥ 7), minus
    names that also occur in non-personal text (a bank's name holds 林林 by chance)."""
    pii = domain.pii_fields()
    loaded = load_batch(batch, {t: [] for t in domain.tables})
    personal, other = set(), set()
    for lt in loaded.tables.values():
        for col in lt.frame.columns:
            vals = {str(v).strip() for v in lt.frame[col].dropna()}
            (personal if pii.get(col) else other).update(vals)
    allowed = "\n".join(other) + json.dumps(domain.suites, ensure_ascii=False)
    return sorted(
        v
        for v in personal
        if (len(v) >= 7 and any(c.isdigit() for c in v)) or (2 <= len(v) <= 10 and v not in allowed)
    )


# ------------------------------------------------------------------------------------------- end to end


@pytest.mark.parametrize("pack", PACKS)
@pytest.mark.parametrize("which", ["stock", "latest"])
def test_plan_apply_check_undo_on_the_sample(samples, tmp_path, pack, which):
    src, mode = _batches(pack, samples[pack])[which]
    batch = _copy(src, tmp_path / src.name)
    original = _bytes(batch)
    dom = load_domain(pack)

    plan = clean.make_plan(batch, domain=dom)
    paths = clean.write_plan(plan, tmp_path / "plan")
    assert _bytes(batch) == original  # planning changes nothing
    assert len(plan.changes) > 0, "the sample must have something to fix for this test to mean anything"
    assert set(paths) == set(clean.PLAN_FILES) and all(p.is_file() for p in paths.values())

    result = clean.apply_plan(tmp_path / "plan", approved_by="数据质量领导小组", log=tmp_path / "log.sqlite")
    assert result.target == tmp_path / "plan" / "cleaned" / batch.name
    assert _bytes(batch) == original  # a new folder by default
    cleaned = _bytes(result.target)
    assert set(cleaned) == set(original)
    assert {n for n in original if cleaned[n] != original[n]} == set(plan.changed_files)

    before = run_check(batch, domain=dom, mode=mode).problems
    after = run_check(result.target, domain=dom, mode=mode).problems
    fixed_cells = {(c.file, c.row, c.field) for c in plan.changes}
    closed = {k for k in _key(before) if (k[1], k[2], k[3]) in fixed_cells}
    assert closed, "the plan fixes problems the check reports"
    assert not closed & _key(after), "every problem the plan fixed is gone"
    assert _key(after) <= _key(before), f"new problems: {sorted(_key(after) - _key(before))[:5]}"
    assert {(k[1], k[2], k[3]) for k in closed} == fixed_cells, "every change closes a reported problem"

    undo = clean.undo_run(result.run_id, log=tmp_path / "log.sqlite")
    assert sorted(undo.restored) == sorted(plan.changed_files)
    assert _bytes(result.target) == original  # byte for byte


@pytest.mark.parametrize("pack", PACKS)
def test_in_place_with_gb18030_and_xlsx_files(samples, tmp_path, pack):
    import openpyxl

    src, mode = _batches(pack, samples[pack])["stock"]
    batch = _copy(src, tmp_path / "batch")
    plan0 = clean.make_plan(batch, domain=pack)
    by_file: dict[str, int] = {}
    for c in plan0.changes:
        by_file[c.file] = by_file.get(c.file, 0) + 1
    ranked = sorted(by_file, key=by_file.get, reverse=True)
    assert len(ranked) >= 2
    # GB18030 shows only in non-ASCII text: a changed file with Chinese in it; another one becomes XLSX
    as_gbk = next(n for n in ranked if not (batch / n).read_bytes().isascii())
    as_xlsx = next(n for n in ranked if n != as_gbk)
    rows = list(csv.reader(io.StringIO((batch / as_xlsx).read_text(encoding="utf-8-sig"), newline="")))
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    ws["A1"].font = openpyxl.styles.Font(bold=True)
    xlsx = batch / (Path(as_xlsx).stem + ".xlsx")
    wb.save(xlsx)
    (batch / as_xlsx).unlink()
    gbk = batch / as_gbk
    gbk.write_bytes(gbk.read_text(encoding="utf-8-sig").encode("gb18030"))
    with pytest.raises(UnicodeDecodeError):
        gbk.read_bytes().decode("utf-8")
    original = _bytes(batch)
    before = run_check(batch, domain=pack, mode=mode).problems

    plan = clean.make_plan(batch, domain=pack)
    assert plan.files[gbk.name].encoding == "gb18030" and plan.files[xlsx.name].format == "xlsx"
    assert {xlsx.name, gbk.name} <= set(plan.changed_files)
    clean.write_plan(plan, tmp_path / "plan")
    result = clean.apply_plan(
        tmp_path / "plan", approved_by="张组长", log=tmp_path / "log.sqlite", in_place=True
    )
    assert result.target == batch and not (tmp_path / "plan" / "cleaned").exists()
    assert sorted(p.name for p in batch.iterdir()) == sorted(original)  # no temporary file left
    with pytest.raises(UnicodeDecodeError):
        gbk.read_bytes().decode("utf-8")  # still GB18030
    gbk.read_bytes().decode("gb18030")
    with zipfile.ZipFile(result.backup / xlsx.name) as z1, zipfile.ZipFile(xlsx) as z2:
        assert z1.namelist() == z2.namelist()
        differ = [n for n in z1.namelist() if z1.read(n) != z2.read(n)]
    assert len(differ) == 1 and differ[0].startswith("xl/worksheets/")
    assert openpyxl.load_workbook(xlsx)["Sheet"]["A1"].font.b  # the style is kept

    after = run_check(batch, domain=pack, mode=mode).problems
    fixed_cells = {(c.file, c.row, c.field) for c in plan.changes}
    assert not {k for k in _key(after) if (k[1], k[2], k[3]) in fixed_cells}
    assert _key(after) <= _key(before)

    clean.undo_run(result.run_id[:17], log=tmp_path / "log.sqlite")  # a unique prefix will do
    assert _bytes(batch) == original


# ------------------------------------------------------------------------------------------- refusals


@pytest.fixture
def planned(samples, tmp_path) -> tuple[Path, Path]:
    src, _mode = _batches("bdc", samples["bdc"])["stock"]
    batch = _copy(src, tmp_path / "batch")
    clean.write_plan(clean.make_plan(batch, domain="bdc"), tmp_path / "plan")
    return batch, tmp_path / "plan"


def _nothing_written(tmp_path: Path, batch: Path, original: dict[str, bytes]) -> None:
    assert _bytes(batch) == original
    assert not (tmp_path / "log.sqlite").exists() and not (tmp_path / "log-backup").exists()
    assert not (tmp_path / "plan" / "cleaned").exists()
    assert not [p for p in batch.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("how", ["edited", "added", "removed", "replaced_same_size"])
def test_a_plan_whose_batch_changed_is_refused(planned, tmp_path, how):
    batch, plan = planned
    target = next(p for p in sorted(batch.iterdir()) if p.suffix == ".csv")
    if how == "edited":
        target.write_bytes(target.read_bytes() + b"\r\n")
    elif how == "added":
        shutil.copy(target, batch / "JR_BW.csv")
    elif how == "removed":
        target.unlink()
    else:
        data = bytearray(target.read_bytes())
        data[-3] = ord("9") if data[-3] != ord("9") else ord("8")
        target.write_bytes(bytes(data))
    original = _bytes(batch)
    with pytest.raises(StalePlanError) as info:
        clean.apply_plan(plan, approved_by="张组长", log=tmp_path / "log.sqlite")
    assert "计划" in info.value.zh and info.value.fix_zh
    _nothing_written(tmp_path, batch, original)
    res = CliRunner().invoke(
        app,
        [
            "clean",
            "apply",
            "--plan",
            str(plan),
            "--approved-by",
            "张组长",
            "--log",
            str(tmp_path / "log.sqlite"),
        ],
    )
    assert res.exit_code == 2 and "重新生成整理计划" in res.output
    _nothing_written(tmp_path, batch, original)


def test_a_plan_is_refused_when_the_packs_fixers_changed(planned, tmp_path):
    batch, plan = planned
    data = json.loads((plan / "plan.json").read_text(encoding="utf-8"))
    data["fixers_digest"] = "0" * 64
    (plan / "plan.json").write_text(json.dumps(data), encoding="utf-8")
    original = _bytes(batch)
    with pytest.raises(StalePlanError, match="整理器"):
        clean.apply_plan(plan, approved_by="张组长", log=tmp_path / "log.sqlite")
    _nothing_written(tmp_path, batch, original)


def test_a_tampered_plan_is_refused(planned, tmp_path):
    batch, plan = planned
    data = json.loads((plan / "plan.json").read_text(encoding="utf-8"))
    data["changes"] = data["changes"][1:]  # somebody struck a line out of the reviewed plan
    (plan / "plan.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(StalePlanError, match="审核的计划"):
        clean.apply_plan(plan, approved_by="张组长", log=tmp_path / "log.sqlite")
    _nothing_written(tmp_path, batch, _bytes(batch))


@pytest.mark.parametrize("approver", ["", "   ", "a\x1bb", "x" * 101])
def test_apply_needs_an_approver(planned, tmp_path, approver):
    batch, plan = planned
    with pytest.raises(CleanError, match="批准人"):
        clean.apply_plan(plan, approved_by=approver, log=tmp_path / "log.sqlite")
    _nothing_written(tmp_path, batch, _bytes(batch))


def test_apply_never_overwrites_an_output_folder(planned, tmp_path):
    _batch, plan = planned
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("x", encoding="utf-8")
    with pytest.raises(CleanError, match="不会覆盖"):
        clean.apply_plan(plan, approved_by="张组长", log=tmp_path / "log.sqlite", out=out)
    with pytest.raises(CleanError, match="只能选一个"):
        clean.apply_plan(plan, approved_by="张组长", log=tmp_path / "log.sqlite", out=out, in_place=True)
    assert (out / "mine.txt").read_text(encoding="utf-8") == "x"


def test_undo_refuses_a_file_changed_after_the_run_and_a_second_undo(planned, tmp_path):
    batch, plan = planned
    original = _bytes(batch)
    log = tmp_path / "log.sqlite"
    result = clean.apply_plan(plan, approved_by="张组长", log=log, in_place=True)
    touched = batch / result.files[0]
    edited = touched.read_bytes() + b"\r\n"
    touched.write_bytes(edited)
    with pytest.raises(CleanError, match="之后又被改动"):
        clean.undo_run(result.run_id, log=log)
    assert touched.read_bytes() == edited  # nothing restored
    touched.write_bytes(edited[:-2])
    clean.undo_run(result.run_id, log=log, by="李科长")
    assert _bytes(batch) == original
    with pytest.raises(CleanError, match="已经撤销"):
        clean.undo_run(result.run_id, log=log)
    runs = clean.log_runs(log)
    assert list(runs["kind"]) == ["apply", "undo"] and list(runs["actor"]) == ["张组长", "李科长"]
    assert runs["status"].iloc[0].startswith("已撤销") and runs["undoes"].iloc[1] == result.run_id


def test_undo_checks_the_backup(planned, tmp_path):
    batch, plan = planned
    log = tmp_path / "log.sqlite"
    result = clean.apply_plan(plan, approved_by="张组长", log=log, in_place=True)
    backup = result.backup / result.files[0]
    backup.chmod(0o600)
    backup.write_bytes(backup.read_bytes() + b"x")
    before = _bytes(batch)
    with pytest.raises(CleanError, match="备份"):
        clean.undo_run(result.run_id, log=log)
    assert _bytes(batch) == before


def test_the_log_is_append_only_and_holds_what_proves_a_change(planned, tmp_path):
    import hashlib
    import hmac

    batch, plan = planned
    log = tmp_path / "log.sqlite"
    original = _bytes(batch)
    result = clean.apply_plan(plan, approved_by="张组长", log=log)
    con = sqlite3.connect(log)
    try:
        for stmt in ("UPDATE changes SET new_masked = 'x'", "DELETE FROM runs", "DELETE FROM events"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                con.execute(stmt)
        files = con.execute("SELECT file, sha256_before, sha256_after FROM files").fetchall()
    finally:
        con.close()
    for name, before, after in files:
        assert hashlib.sha256(original[name]).hexdigest() == before
        assert clean.sha256_file(result.target / name) == after
    changes = clean.log_changes(log, result.run_id)
    key = (result.backup / "hash.key").read_bytes()
    plan_obj = clean.make_plan(batch, domain="bdc")
    assert len(changes) == len(plan_obj.changes)
    for c, logged in zip(plan_obj.changes, changes.itertuples(), strict=True):
        assert (logged.file, logged.row, logged.field) == (c.file, c.row, c.field)
        assert logged.old_hash == hmac.new(key, c.old.encode(), hashlib.sha256).hexdigest()
        assert logged.new_hash == hmac.new(key, c.new.encode(), hashlib.sha256).hexdigest()
    assert oct(result.backup.stat().st_mode)[-3:] == "700"
    assert all(oct(p.stat().st_mode)[-3:] == "600" for p in result.backup.iterdir())


# ------------------------------------------------------------------------------------------- privacy


@pytest.mark.parametrize("pack", PACKS)
def test_no_plan_file_log_or_message_shows_personal_data(samples, tmp_path, pack):
    src, _mode = _batches(pack, samples[pack])["stock"]
    batch = _copy(src, tmp_path / "batch")
    needles = _personal_values(load_domain(pack), batch)
    assert len(needles) > 50  # the scan has something to find
    runner = CliRunner()
    log = tmp_path / "work" / "log.sqlite"
    outputs = []
    res = runner.invoke(
        app,
        ["clean", "plan", "--domain", pack, "--input", str(batch), "--out", str(tmp_path / "work" / "plan")],
    )
    assert res.exit_code == 0, res.output
    outputs.append(res.output)
    res = runner.invoke(
        app,
        [
            "clean",
            "apply",
            "--plan",
            str(tmp_path / "work" / "plan"),
            "--approved-by",
            "张组长",
            "--log",
            str(log),
        ],
    )
    assert res.exit_code == 0, res.output
    outputs.append(res.output)
    run_id = clean.log_runs(log)["run_id"].iloc[0]
    for args in (["clean", "log", "--log", str(log)], ["clean", "log", "--log", str(log), "--run", run_id]):
        for fmt in ("table", "csv", "json"):
            res = runner.invoke(app, [*args, "--format", fmt])
            assert res.exit_code == 0, res.output
            outputs.append(res.output)
    res = runner.invoke(app, ["clean", "undo", run_id, "--log", str(log)])
    assert res.exit_code == 0, res.output
    outputs.append(res.output)
    plan = pd.read_csv(tmp_path / "work" / "plan" / "plan.csv", dtype=str, encoding="utf-8-sig")
    assert len(plan) > 0
    if pack == "bdc":  # personal values are changed, and shown masked
        assert {"text", "id_x"} <= set(plan["fixers"]) and plan["old_masked"].str.contains(r"\*").any()
    # the cleaned batch is the data itself, and the backup holds the originals (sensitive): not outputs
    shutil.rmtree(tmp_path / "work" / "plan" / "cleaned")
    shutil.rmtree(tmp_path / "work" / "log-backup")
    (tmp_path / "work" / "stdout.txt").write_text("\n".join(outputs), encoding="utf-8")
    assert find(tmp_path / "work", needles) == []


# ------------------------------------------------------------------------------------------- the plan


def test_the_plan_files(samples, tmp_path):
    from openpyxl import load_workbook

    src, _mode = _batches("bdc", samples["bdc"])["stock"]
    plan = clean.make_plan(src, domain="bdc")
    paths = clean.write_plan(plan, tmp_path / "plan")
    changes = pd.read_csv(paths["plan.csv"], dtype=str, encoding="utf-8-sig")
    assert set(clean.CHANGE_COLUMNS) <= set(changes.columns) and {"QXDM", "QXMC"} <= set(changes.columns)
    assert len(changes) == len(plan.changes) and (changes["rule_ids"] != "").all()
    person = pd.read_csv(paths["needs_person.csv"], dtype=str, encoding="utf-8-sig")
    assert len(person) == len(plan.needs_person) > 0 and (person["reason_zh"] != "").all()
    summary = pd.read_csv(
        paths["summary.csv"], dtype={"changes": int, "needs_person": int}, encoding="utf-8-sig"
    )
    assert summary["changes"].sum() == sum(len(c.fixers) for c in plan.changes)
    assert summary["needs_person"].sum() == sum(len(p.fixers) for p in plan.needs_person)
    wb = load_workbook(paths["plan.xlsx"])
    assert wb.sheetnames == ["说明", "改动", "需人工", "汇总"]
    ws = wb["改动"]
    header = [c.value for c in ws[1]]
    assert "原值（已脱敏）" in header and "区县代码" in header and ws.max_row == len(plan.changes) + 1
    col = header.index("区县代码") + 1
    assert all(
        ws.cell(row=r, column=col).data_type == "s" for r in range(2, ws.max_row + 1)
    )  # codes stay text
    data = json.loads(paths["plan.json"].read_text(encoding="utf-8"))
    assert data["batch_sha256"] == plan.batch_sha256 and len(data["changes"]) == len(plan.changes)
    assert set(data["files"]) == {p.name for p in src.iterdir() if p.suffix == ".csv"}
    # writing the plan again into its folder is fine; a folder with other files is refused
    clean.write_plan(plan, tmp_path / "plan")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(CleanError, match="不是本工具生成"):
        clean.write_plan(plan, tmp_path / "other")


def test_needs_a_person_when_there_is_no_one_right_answer(tmp_path, bdc_kit):
    codes = bdc_kit.districts(1)
    t = bdc_kit.valid_tables(codes)
    d = codes[0]
    fdcq = bdc_kit.find(t, bdc_kit.FDCQ, YWH=bdc_kit.ywh(d, 1))
    fdcq["SLSJ"] = "2024/03/04 11:00:00"  # correct spelling would put SLSJ after DJSJ (10:00): pair rule
    fdcq["FDZL"] = fdcq["FDZL"] + "\ufffd"  # a lost character
    fdcq2 = bdc_kit.find(t, bdc_kit.FDCQ, YWH=bdc_kit.ywh(d, 2))
    fdcq2["DJSJ"] = "45356"  # an Excel serial number
    holder = bdc_kit.find(t, bdc_kit.QLR, YWH=bdc_kit.ywh(d, 1), SXH="1")
    good = holder["ZJH"]
    holder["ZJH"] = good[:17] + ("0" if good[17] != "0" else "1")  # a wrong check digit
    dyaq = t[bdc_kit.DYAQ][0]
    dyaq["ZWLXQSSJ"] = "2024.03.05"
    t[bdc_kit.JRBW][0]["BIZMSGID"] = "\uff14" + t[bdc_kit.JRBW][1]["BIZMSGID"][1:]  # would duplicate a key
    batch = bdc_kit.write_batch(tmp_path / "b", t)
    plan = clean.make_plan(batch, domain="bdc")
    changed = {(c.table, c.field): c for c in plan.changes}
    person = {(p.table, p.field): p for p in plan.needs_person}
    assert changed[(bdc_kit.DYAQ, "ZWLXQSSJ")].new == "2024-03-05"
    assert "bdc.fdcq.djsj.after_slsj" in person[(bdc_kit.FDCQ, "SLSJ")].reason_zh
    assert "编码" in person[(bdc_kit.FDCQ, "FDZL")].reason_zh
    assert "Excel" in person[(bdc_kit.FDCQ, "DJSJ")].reason_zh
    assert (bdc_kit.QLR, "ZJH") in person and (bdc_kit.QLR, "ZJH") not in changed
    assert "bdc.jrbw.bizmsgid.unique" in person[(bdc_kit.JRBW, "BIZMSGID")].reason_zh
    assert good not in json.dumps(plan.to_json(), ensure_ascii=False)


def test_the_view_guard_agrees_with_great_expectations(samples):
    """The plan's Python evaluation of the cross-table rules finds exactly the rows GX reports."""
    dom = load_domain("bdc")
    for which, (batch, mode) in _batches("bdc", samples["bdc"]).items():
        loaded = load_batch(batch, {t: [] for t in dom.tables})
        frames = {t: lt.frame for t, lt in loaded.tables.items()}
        result = run_check(batch, domain=dom, mode=mode)
        assert clean._as_of(dom, frames) == latest_timestamp(dom, result.batch)
        guard = clean._ViewGuard(dom, frames)
        try:
            mine = {(rule_id, row) for (rule_id, _unit), rows in guard.before.items() for row in rows}
        finally:
            guard.close()
        view_rules = {r.rule_id for r in dom.rules if r.target_kind == "view" and mode in r.applies_to}
        gx = {
            (r.rule_id, str(r.row))
            for r in result.problems.itertuples()
            if r.rule_id in view_rules and r.rule_id not in result.not_evaluated
        }
        mine = {(rid, row) for rid, row in mine if rid in view_rules and rid not in result.not_evaluated}
        assert mine == gx, which
        assert gx, "the sample's views have problems for this comparison to mean anything"


# ------------------------------------------------------------------------------------------- the CSV editor


@pytest.mark.parametrize(
    ("original", "edits", "expected"),
    [
        ('A,B\r\n1,"x, y"\r\n2,z\r\n', {3: {"B": ("z", "Z")}}, 'A,B\r\n1,"x, y"\r\n2,Z\r\n'),
        ('A,B\r\n1,"x"\r\n', {2: {"B": ("x", "X")}}, 'A,B\r\n1,"X"\r\n'),  # quoting kept
        ("A,B\n1,x", {2: {"B": ("x", "a,b")}}, 'A,B\n1,"a,b"'),  # no final line break, quotes where needed
        ("\ufeffA,B\r1,x\r2,y\r", {3: {"A": ("2", "3")}}, "\ufeffA,B\r1,x\r3,y\r"),  # BOM and CR endings
        (
            'A,B\r\n"1","多行\r\n地址"\r\n2,y\r\n',
            {3: {"B": ("y", "z")}},
            'A,B\r\n"1","多行\r\n地址"\r\n2,z\r\n',
        ),
        ("A,B,C\r\n1\r\n", {2: {"C": (None, "c")}}, "A,B,C\r\n1,,c\r\n"),  # a short record
        ('a,b\r\n"q""uote",x\r\n', {2: {"B": ("x", 'say "hi"')}}, 'a,b\r\n"q""uote","say ""hi"""\r\n'),
    ],
)
def test_rewrite_csv_keeps_every_byte_it_does_not_edit(tmp_path, original, edits, expected):
    for encoding in ("utf-8", "gb18030"):
        data = original.encode(encoding)
        out = clean.rewrite_csv(data, tmp_path / "T.csv", edits)
        assert out == expected.encode(encoding)


def test_rewrite_csv_checks_the_planned_value(tmp_path):
    from toolkit.errors import InternalError

    with pytest.raises(InternalError):
        clean.rewrite_csv(b"A,B\r\n1,x\r\n", tmp_path / "T.csv", {2: {"B": ("y", "z")}})
    with pytest.raises(CleanError, match="没有字段"):
        clean.rewrite_csv(b"A,B\r\n1,x\r\n", tmp_path / "T.csv", {2: {"C": ("x", "z")}})
    with pytest.raises(CleanError, match="没有第 9 行"):
        clean.rewrite_csv(b"A,B\r\n1,x\r\n", tmp_path / "T.csv", {9: {"B": ("x", "z")}})


_CELL = st.text(alphabet='ab,"\r\n 张\u3000', max_size=6)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(_CELL, min_size=3, max_size=3), min_size=1, max_size=6),
    ending=st.sampled_from(["\r\n", "\n", "\r"]),
    quote_all=st.booleans(),
    picks=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 2), _CELL), max_size=4),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
)
def test_rewrite_csv_property(tmp_path, rows, ending, quote_all, picks, encoding):
    # written by hand: Python's csv writer leaves a field holding LF unquoted when the line ending is CR
    def cell(value: str) -> str:
        quoted = quote_all or any(ch in value for ch in ',"\r\n')
        return '"' + value.replace('"', '""') + '"' if quoted else value

    text = "".join(",".join(cell(v) for v in row) + ending for row in [["A", "B", "C"], *rows])
    data = text.encode(encoding)
    records = list(csv.reader(io.StringIO(text, newline="")))
    edits: dict[int, dict[str, tuple[str | None, str]]] = {}
    expected = [list(r) for r in records]
    for i, col, new in picks:
        if i >= len(rows):
            continue
        row = i + 2
        name = "ABC"[col]
        edits.setdefault(row, {})[name] = (None, new)
        expected[row - 1][col] = new
    out = clean.rewrite_csv(data, tmp_path / "T.csv", edits)
    # plain ASCII shows no encoding: it is read (and new text written) as UTF-8, as the loader does
    seen = "utf-8" if data.isascii() else encoding
    decoded = out.decode("utf-8-sig" if encoding == "utf-8-sig" else seen)
    assert list(csv.reader(io.StringIO(decoded, newline=""))) == expected
    assert out.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    # every record that is not edited keeps its bytes
    codec = "utf-8" if encoding == "utf-8-sig" else seen
    raw_in = [raw for _n, raw, _t in clean._records(data.removeprefix(b"\xef\xbb\xbf"), codec)]
    raw_out = [raw for _n, raw, _t in clean._records(out.removeprefix(b"\xef\xbb\xbf"), codec)]
    assert len(raw_in) == len(raw_out)
    for n, (a, b) in enumerate(zip(raw_in, raw_out, strict=True), start=1):
        if n not in edits:
            assert a == b
        assert a[-1].endswith(ending.encode()) == b[-1].endswith(ending.encode())


def test_describe_change_shows_no_data():
    assert clean.describe_change("韦三 ", "韦三") == "末尾 ␣→∅"
    assert clean.describe_change("2024/12/30", "2024-12-30") == "中间 /→-；中间 /→-"
    assert clean.describe_change("a\u200bb", "ab") == "中间 \\u200b→∅"
    said = clean.describe_change("４２０１０２１９９１", "4201021991")
    assert not any(ch.isdigit() for ch in said.replace("10字", ""))


def test_the_correction_sheet_uses_the_same_editor(tmp_path, bdc_kit):
    """The training's correction sheet writes through clean.rewrite_csv: one editor, one behaviour."""
    batch = bdc_kit.write_batch(tmp_path / "b", bdc_kit.valid_tables(bdc_kit.districts(1)))
    f = corrections._CsvFile.read(batch / "QLT_FW_FDCQ_YZ.csv")
    f.set(2, f.column("FDZL", "1"), "改过")
    f.prepare()
    assert f._tmp.read_bytes() == clean.rewrite_csv(f.data, f.path, {2: {"FDZL": (None, "改过")}})
    f.discard()
