"""Hostile and broken input: no code execution, no leaked personal data, no injected formulas or
scripts, no false pass, no lost row, no hang, no crash dressed up as a result.

One case per class of the hostile-input review (issue 8). Every case asserts the exit code (0 pass, 1 the
data failed the gate, 2 unusable input or configuration, 3 internal error), the message (Chinese and
English, naming the file), that no output that could pass for a result is left behind, and — where the
case plants something — a scan of every output file (CSV, JSON, HTML, XLSX, SQLite) for it.

Cases that could hang (a FIFO, a YAML bomb, a million columns) run ``dq`` in a subprocess with a timeout;
the others run in-process through Typer's test runner.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from scan import find, formula_cells, texts
from typer.testing import CliRunner

from toolkit.cli import app

RUNNER = CliRunner()
OUTPUTS = ("counts.csv", "problems.csv", "summary.json", "data_docs")


def dq(*argv: str):
    return RUNNER.invoke(app, [str(a) for a in argv])


def dq_subprocess(*argv: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "CI": "1"}
    return subprocess.run(
        [sys.executable, "-m", "toolkit.cli", *map(str, argv)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def no_result_left(out: Path) -> bool:
    return not any((out / name).exists() for name in OUTPUTS)


def flat(text: str) -> str:
    return text.replace("\n", "")


def squash(text: str) -> str:
    """Without any whitespace (the terminal may wrap a line at a space or inside a word)."""
    return "".join(text.split())


@pytest.fixture(scope="module")
def tables(bdc_kit):
    return bdc_kit.valid_tables(bdc_kit.districts(2))


@pytest.fixture
def batch(tmp_path, bdc_kit, tables) -> Path:
    """A clean incremental batch (every rule passes: exit 0)."""
    return bdc_kit.write_batch(tmp_path / "batch", tables)


def check(batch: Path, out: Path, *more: str):
    return dq("check", "--domain", "bdc", "--mode", "incremental", "--input", batch, "--out", out, *more)


def test_the_clean_batch_passes(batch, tmp_path):
    res = check(batch, tmp_path / "out")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out" / "data_docs" / "index.html").exists()


# ============================================================================ 1. code execution


RCE = '@pd.io.common.os.system("touch PWNED")'


def _overlay_adding(row_condition: str, extra_kwargs: str = "") -> str:
    return f"""name: 恶意规则
add:
  - suite: bdc.fdcq
    type: expect_column_values_to_not_be_null
    kwargs: {{column: FDZL, row_condition: '{row_condition}', condition_parser: pandas{extra_kwargs}}}
    meta: {{rule_id: local.evil, table: QLT_FW_FDCQ_YZ, field: FDZL, dimension: completeness,
            severity: critical, applies_to: [incremental], message_zh: x, fix_zh: y, standard: z}}
"""


@pytest.mark.parametrize("command", ["check", "score"])
def test_overlay_row_condition_is_never_executed(batch, tmp_path, command):
    ov = tmp_path / "evil.yaml"
    ov.write_text(_overlay_adding(RCE), encoding="utf-8")
    work = tmp_path / "cwd"
    work.mkdir()
    if command == "check":
        argv = ["check", "--mode", "incremental", "--input", batch, "--out", tmp_path / "out"]
    else:
        argv = ["score", "--input", batch, "--out", tmp_path / "out"]
    res = dq_subprocess(*argv, "--domain", "bdc", "--overlay", ov, cwd=work)
    assert res.returncode == 2, res.stderr
    assert not (work / "PWNED").exists() and not list(tmp_path.rglob("PWNED"))
    assert (
        "evil.yaml" in flat(res.stderr) and "row condition" in flat(res.stderr) and "适用条件" in res.stderr
    )
    assert no_result_left(tmp_path / "out")


@pytest.mark.parametrize(
    "condition",
    [
        '__import__("os").system("touch PWNED")',
        "DJLX.str.len() > 0",
        "DJLX == DJLX",
        '`DJLX` == "200"',
        'DJLX == "200" or @x',
        'DJLX == f"{1}"',
        'DJLX == "1" and (GYFS == "2"',
    ],
)
def test_anything_outside_the_condition_grammar_is_refused(batch, tmp_path, condition):
    ov = tmp_path / "cond.yaml"
    ov.write_text(_overlay_adding(condition.replace("'", "''")), encoding="utf-8")
    res = check(batch, tmp_path / "out", "--overlay", ov)
    assert res.exit_code == 2, res.output
    assert "cond.yaml" in flat(res.output)
    assert no_result_left(tmp_path / "out")


def test_great_expectations_receives_structured_conditions_only():
    """No rule hands Great Expectations a string to pass to DataFrame.query."""
    from great_expectations.expectations.row_conditions import Condition

    from toolkit.domain import load_domain

    conditioned = [r for r in load_domain("bdc").rules if r.row_condition]
    assert conditioned
    for r in conditioned:
        cfg = r.expectation_config()["kwargs"]
        assert isinstance(cfg["row_condition"], Condition) and "condition_parser" not in cfg


# ============================================================================ 2.–4. planted text


@pytest.fixture(scope="module")
def planted(tmp_path_factory, bdc_kit, tables):
    """A batch with personal data, scripts and formulas typed into free-text fields of failing rows (a
    doubled space makes the clean-text rule fail, so the values reach the problem list and Data Docs),
    run through check (with a ledger), ledger export, common problems and audit."""
    base = tmp_path_factory.mktemp("planted")
    t = {k: [dict(r) for r in v] for k, v in tables.items()}
    holder = t[bdc_kit.QLR][0]["QLRMC"]
    raw_id = bdc_kit.citizen_id("420102", "19910101", 7)
    raw_id_lower = raw_id[:-1] + "x" if raw_id.endswith("X") else bdc_kit.citizen_id("420102", "19800229", 3)
    needles = {
        "id": raw_id,
        "id_spaced": f"{raw_id[:6]} {raw_id[6:14]} {raw_id[14:]}",
        "mobile_dashed": "139-1234-5678",
        "mobile_plus86": "+86 13912345678",
        "mobile": "13987654321",
        "name": holder,
        "script": "<script>alert(1)</script>",
        "img": "<img src=x onerror=alert(2)>",
        "formula": "=cmd|' /C calc'!A0",
    }
    fdcq = t[bdc_kit.FDCQ]
    fdcq[0]["FDZL"] = f"湖北省武汉市  {holder}家，身份证{raw_id}，电话{needles['mobile_dashed']}"
    fdcq[1]["FDZL"] = f"联系  {needles['mobile_plus86']} 或 {needles['id_spaced']} {needles['script']}"
    fdcq[2]["FDZL"] = f"{needles['formula']}  {needles['img']} {needles['mobile']}"
    fdcq[3]["FDZL"] = f"{needles['formula']}  {raw_id_lower}"
    needles["id_lower"] = raw_id_lower
    # and into every other text field that is not a record key, one row each
    from toolkit.domain import load_domain

    dom = load_domain("bdc")
    keys = dom.key_fields()
    payload = f"  {holder}，{raw_id}，{needles['mobile_dashed']}"
    for table, spec in dom.tables.items():
        fields = [f for f, s in spec["fields"].items() if s.get("type") == "text" and f not in keys]
        for i, f in enumerate(f for f in fields if f != "FDZL"):
            rows = t[table]
            rows[(i + 1) % len(rows)][f] = payload
    batch = bdc_kit.write_batch(base / "batch", t)
    out, ledger = base / "out", base / "ledger.sqlite"
    res = check(batch, out, "--ledger", ledger)
    assert res.exit_code == 1, res.output  # e.g. a unit number holding personal data fails critically
    assert len(pd.read_csv(out / "problems.csv", dtype=str, encoding="utf-8-sig")) > 10
    exports = base / "exports"
    exports.mkdir()
    for ext in ("csv", "xlsx"):
        r = dq("ledger", "export", "--ledger", ledger, "--out", exports / f"ledger.{ext}")
        assert r.exit_code == 0, r.output
    r = dq("ledger", "list", "--ledger", ledger)
    assert r.exit_code == 0, r.output
    (exports / "ledger_list.txt").write_text(r.output, encoding="utf-8")
    r = dq("common-problems", "--problems", out / "problems.csv", "--out", exports / "common")
    assert r.exit_code == 0, r.output
    r = dq("audit", "--input", batch, "--out", exports / "audit", "--size", "3")
    assert r.exit_code == 0, r.output
    (exports / "check_stdout.txt").write_text(res.output, encoding="utf-8")
    return base, needles


def test_planted_personal_data_is_masked_in_every_output(planted):
    base, needles = planted
    personal = [
        needles[k] for k in ("id", "id_spaced", "id_lower", "mobile_dashed", "mobile_plus86", "mobile")
    ]
    personal += ["13912345678", "1391234567", needles["id"][:14]]
    hits = find(base / "out", personal) + find(base / "exports", personal)
    hits += [
        (p.name, n) for p, t in texts(base) if p.name.startswith("ledger.sqlite") for n in personal if n in t
    ]
    assert hits == []
    # the holder's full name typed into an address is masked wherever it appears …
    name = needles["name"]
    assert find(base / "out", [name]) == [] and find(base / "exports", [name]) == []
    assert name not in next(t for p, t in texts(base) if p.name == "ledger.sqlite")
    # … and the values are still there, masked (the problem list stays useful)
    problems = pd.read_csv(base / "out" / "problems.csv", dtype=str, encoding="utf-8-sig")
    shown = " ".join(problems["value_masked"].dropna())
    assert name[0] + "*" in shown and "139****5678" in shown and needles["id"][:6] + "********" in shown


def test_scripts_are_escaped_in_data_docs_and_pages_carry_a_csp(planted):
    base, _needles = planted
    docs = base / "out" / "data_docs"
    pages = list(docs.rglob("*.html"))
    assert pages
    for page in pages:
        raw = page.read_text(encoding="utf-8")
        assert "<script>alert" not in raw and "<img src=x onerror" not in raw, page
        assert 'http-equiv="Content-Security-Policy"' in raw, page
    shown = "\n".join(p.read_text(encoding="utf-8") for p in pages)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown or "&amp;lt;script" in shown  # shown, as text
    for html_file in (base / "exports" / "common").glob("*.html"):
        assert "<script>alert" not in html_file.read_text(encoding="utf-8")


def test_formulas_are_never_live(planted):
    base, _needles = planted
    problems = pd.read_csv(base / "out" / "problems.csv", dtype=str, encoding="utf-8-sig")
    formula_like = [v for v in problems["value_masked"].dropna() if v.lstrip("'").startswith("=")]
    assert formula_like and all(v.startswith("'=") for v in formula_like)
    workbooks = list((base / "exports").rglob("*.xlsx"))
    assert {p.parent.name for p in workbooks} >= {"exports", "common", "audit"}
    for wb_path in workbooks:
        assert formula_cells(wb_path) == [], wb_path
        wb = openpyxl.load_workbook(wb_path)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if isinstance(c.value, str) and c.value.startswith("="):
                        assert c.data_type == "s", (wb_path, c.coordinate)
    for csv_path in (base / "exports").rglob("*.csv"):
        for line in csv_path.read_text(encoding="utf-8-sig").splitlines():
            for cell in line.split(","):
                assert not cell.strip('"').startswith("="), (csv_path, cell)


def test_error_messages_on_stderr_are_masked(tmp_path, bdc_kit, tables):
    t = {k: [dict(r) for r in v] for k, v in tables.items()}
    raw_id = bdc_kit.citizen_id("420102", "19910101", 9)
    batch = bdc_kit.write_batch(tmp_path / "batch", t)
    path = batch / f"{bdc_kit.FDCQ}.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] += f",{raw_id}"  # one field more than the header: the loader names the extra value
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = check(batch, tmp_path / "out")
    assert res.exit_code == 2
    assert raw_id not in flat(res.output) and "line 2" in flat(res.output)


# ============================================================================ 5.–6. nothing goes missing


def _move(batch: Path, table: str, to: Path) -> None:
    to.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(batch / f"{table}.csv"), str(to))


@pytest.mark.parametrize(
    "case",
    [
        "dangling-link",
        "directory",
        "subfolder",
        "space-before-dot",
        "double-extension",
        "xls",
        "other-case-dash",
    ],
)
def test_a_main_table_that_went_missing_is_never_a_pass(batch, tmp_path, bdc_kit, case):
    fdcq = bdc_kit.FDCQ
    if case == "dangling-link":
        (batch / f"{fdcq}.csv").unlink()
        (batch / f"{fdcq}.csv").symlink_to(tmp_path / "gone.csv")
    elif case == "directory":
        (batch / f"{fdcq}.csv").unlink()
        (batch / f"{fdcq}.csv").mkdir()
    elif case == "subfolder":
        _move(batch, fdcq, batch / "export" / f"{fdcq}.csv")
    elif case == "space-before-dot":
        _move(batch, fdcq, batch / f"{fdcq} .csv")
    elif case == "double-extension":
        _move(batch, fdcq, batch / f"{fdcq}.csv.csv")
    elif case == "xls":
        _move(batch, fdcq, batch / f"{fdcq}.xls")
    elif case == "other-case-dash":
        _move(batch, fdcq, batch / f"{fdcq.lower().replace('_', '-')}.csv")
    res = check(batch, tmp_path / "out")
    assert res.exit_code == 2, res.output
    assert fdcq in flat(res.output) and "Fix:" in flat(res.output) and "处理办法" in flat(res.output)
    assert no_result_left(tmp_path / "out")


def test_a_fifo_named_like_a_table_is_refused_without_being_opened(batch, tmp_path, bdc_kit):
    (batch / f"{bdc_kit.FDCQ}.csv").unlink()
    os.mkfifo(batch / f"{bdc_kit.FDCQ}.csv")  # opening it for reading would block for ever
    res = dq_subprocess(
        "check", "--domain", "bdc", "--input", batch, "--out", tmp_path / "out", cwd=tmp_path, timeout=120
    )
    assert res.returncode == 2, res.stderr
    assert bdc_kit.FDCQ in flat(res.stderr)
    assert no_result_left(tmp_path / "out")


def test_rows_continued_on_a_second_sheet_are_not_lost(batch, tmp_path, bdc_kit):
    frame = pd.read_csv(batch / f"{bdc_kit.FDCQ}.csv", dtype=str, keep_default_na=False)
    (batch / f"{bdc_kit.FDCQ}.csv").unlink()
    with pd.ExcelWriter(batch / f"{bdc_kit.FDCQ}.xlsx") as xw:
        frame.iloc[:2].to_excel(xw, sheet_name="Sheet1", index=False)
        frame.iloc[2:].to_excel(xw, sheet_name="Sheet2", index=False)
    res = check(batch, tmp_path / "out")
    assert res.exit_code == 2, res.output
    assert "Sheet2" in flat(res.output) and f"{bdc_kit.FDCQ}.xlsx" in flat(res.output)
    assert no_result_left(tmp_path / "out")


def test_a_batch_without_its_core_table_cannot_pass(tmp_path, bdc_kit, tables):
    batch = bdc_kit.write_batch(tmp_path / "batch", tables, skip=(bdc_kit.FDCQ,))
    res = check(batch, tmp_path / "out")
    assert res.exit_code == 2, res.output
    assert bdc_kit.FDCQ in flat(res.output)
    assert no_result_left(tmp_path / "out")


# ============================================================================ 7. hangs


def test_a_yaml_bomb_overlay_is_refused_quickly(batch, tmp_path):
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    prev = "a"
    for c in "bcdefghi":
        bomb += f"{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        prev = c
    ov = tmp_path / "bomb.yaml"
    ov.write_text(bomb, encoding="utf-8")
    assert ov.stat().st_size < 1000
    res = dq_subprocess(
        "check",
        "--domain",
        "bdc",
        "--input",
        batch,
        "--out",
        tmp_path / "out",
        "--overlay",
        ov,
        cwd=tmp_path,
        timeout=60,
    )
    assert res.returncode == 2, res.stderr
    assert "bomb.yaml" in flat(res.stderr)


def test_a_header_of_a_million_columns_is_refused_quickly(batch, tmp_path, bdc_kit):
    path = batch / f"{bdc_kit.DBRZ}.csv"
    header = path.read_text(encoding="utf-8").splitlines()[0]
    path.write_text(header + "," + ",".join(f"C{i}" for i in range(1_000_000)) + "\n", encoding="utf-8")
    res = dq_subprocess(
        "check", "--domain", "bdc", "--input", batch, "--out", tmp_path / "out", cwd=tmp_path, timeout=90
    )
    assert res.returncode == 2, res.stderr
    assert f"{bdc_kit.DBRZ}.csv" in flat(res.stderr)


def test_a_128_kib_field_is_read_and_checked(tmp_path, bdc_kit, tables):
    t = {k: [dict(r) for r in v] for k, v in tables.items()}
    t[bdc_kit.FDCQ][0]["FDZL"] = "湖北省" + "长" * (128 * 1024)
    batch = bdc_kit.write_batch(tmp_path / "batch", t)
    res = check(batch, tmp_path / "out", "--no-data-docs")
    assert res.exit_code in (0, 1), res.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["rows_read"] == sum(len(v) for v in t.values())
    assert summary["rows_checked_by_table"][bdc_kit.FDCQ] == len(t[bdc_kit.FDCQ])


# ============================================================================ 8. crashes are not verdicts


@pytest.mark.parametrize(
    ("case", "overlay", "word"),
    [
        ("tolerance-text", "rules:\n  bdc.fdcq.jzmj.range: {tolerance: abc}\n", "tolerance"),
        (
            "unknown-type",
            _overlay_adding('DJLX == "200"').replace("not_be_null", "be_a_python_object"),
            "be_a_python_object",
        ),
        (
            "bad-regex",
            _overlay_adding('DJLX == "200"')
            .replace("not_be_null", "match_regex")
            .replace("FDZL,", 'FDZL, regex: "([a-z",', 1),
            "regex",
        ),
        (
            "redos-regex",
            _overlay_adding('DJLX == "200"')
            .replace("not_be_null", "match_regex")
            .replace("FDZL,", 'FDZL, regex: "^(a+)+$",', 1),
            "nested",
        ),
        ("unknown-column", _overlay_adding('DJLX == "200"').replace("column: FDZL", "column: NOPE"), "NOPE"),
        ("unknown-key", "rulez: {}\n", "rulez"),
        ("not-a-mapping", "- a\n- b\n", "mapping"),
        ("duplicate-key", "name: a\nname: b\n", "duplicate"),
    ],
)
def test_a_malformed_overlay_is_exit_2_naming_the_file(batch, tmp_path, case, overlay, word):
    ov = tmp_path / "local.yaml"
    ov.write_text(overlay, encoding="utf-8")
    res = check(batch, tmp_path / "out", "--overlay", ov)
    assert res.exit_code == 2, res.output
    assert "local.yaml" in flat(res.output) and word in flat(res.output)
    assert "Traceback" not in res.output
    assert no_result_left(tmp_path / "out")


def test_an_overlay_switching_off_every_rule_does_not_pass(batch, tmp_path):
    from toolkit.domain import load_domain

    ids = [r.rule_id for r in load_domain("bdc").rules]
    ov = tmp_path / "off.yaml"
    ov.write_text("rules:\n" + "".join(f"  {i}: {{enabled: false}}\n" for i in ids), encoding="utf-8")
    res = check(batch, tmp_path / "out", "--overlay", ov)
    assert res.exit_code == 2, res.output
    assert no_result_left(tmp_path / "out")


def test_out_pointing_at_a_file_is_exit_2(batch, tmp_path):
    target = tmp_path / "report.txt"
    target.write_text("mine", encoding="utf-8")
    res = check(batch, target)
    assert res.exit_code == 2 and "report.txt" in flat(res.output)
    assert target.read_text(encoding="utf-8") == "mine"


def test_a_symlinked_data_docs_is_neither_followed_nor_deleted(batch, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "data_docs").symlink_to(elsewhere)
    res = check(batch, out)
    assert res.exit_code == 2, res.output
    assert (elsewhere / "keep.txt").read_text(encoding="utf-8") == "mine" and len(
        list(elsewhere.iterdir())
    ) == 1


def test_a_data_docs_folder_with_someone_elses_files_is_kept(batch, tmp_path):
    out = tmp_path / "out"
    (out / "data_docs").mkdir(parents=True)
    (out / "data_docs" / "notes.docx").write_bytes(b"mine")
    res = check(batch, out)
    assert res.exit_code == 2 and "data_docs" in flat(res.output)
    assert (out / "data_docs" / "notes.docx").read_bytes() == b"mine"
    # the toolkit's own Data Docs are replaced without a word
    (out / "data_docs" / "notes.docx").unlink()
    assert check(batch, out).exit_code == 0
    assert check(batch, out).exit_code == 0


def test_a_failed_run_leaves_no_data_docs_behind(batch, tmp_path, monkeypatch):
    import toolkit.outputs

    def boom(*a, **k):
        raise OSError(28, "No space left on device", str(tmp_path / "out" / "counts.csv"))

    monkeypatch.setattr(toolkit.outputs, "write_outputs", boom)
    res = check(batch, tmp_path / "out")
    assert res.exit_code == 2, res.output
    assert "磁盘已满" in res.output and "nospaceleft" in squash(res.output)
    assert no_result_left(tmp_path / "out")


def test_an_internal_error_is_exit_3_with_a_masked_crash_log(batch, tmp_path, monkeypatch):
    import toolkit.check

    def boom(*a, **k):
        raise RuntimeError("unexpected state for 42010219910101007X")

    monkeypatch.setattr(toolkit.check, "run_check", boom)
    res = check(batch, tmp_path / "out")
    assert res.exit_code == 3, res.output
    assert "内部错误" in res.output and "internal error" in res.output
    assert "42010219910101007X" not in flat(res.output) and "420102********007X" in flat(res.output)
    log = Path(flat(res.output).split("details:")[1].split()[0].strip())
    assert "RuntimeError" in log.read_text(encoding="utf-8")
    assert "42010219910101007X" not in log.read_text(encoding="utf-8")
    assert no_result_left(tmp_path / "out")


def test_an_as_of_of_9999_with_a_ledger_is_exit_2(batch, tmp_path):
    res = check(batch, tmp_path / "out", "--as-of", "9999-12-31 00:00:00", "--ledger", tmp_path / "l.sqlite")
    assert res.exit_code == 2, res.output
    assert "--as-of" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "l.sqlite").exists()


def test_a_full_disk_under_the_ledger_shows_the_real_error(tmp_path):
    import sqlite3

    from toolkit.ledger import _db_error, _write

    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE t (x)")
    with pytest.raises(Exception) as info, _write(con):
        con.execute("INSERT INTO t VALUES (1)")
        raise sqlite3.OperationalError("database or disk is full")
    assert "磁盘已满" in str(info.value) and "disk is full" in str(info.value)
    assert "cannot rollback" not in str(info.value)
    assert con.execute("SELECT count(*) FROM t").fetchone()[0] == 0
    assert "磁盘已满" in _db_error(None, sqlite3.OperationalError("database or disk is full")).zh


# ============================================================================ 9. implausible timestamps


def test_an_implausible_year_fails_a_rule_and_never_becomes_the_as_of(tmp_path, bdc_kit, tables):
    t = {k: [dict(r) for r in v] for k, v in tables.items()}
    t[bdc_kit.FDCQ][0]["DJSJ"] = "2204-03-04 10:00:00"
    batch = bdc_kit.write_batch(tmp_path / "batch", t)
    res = check(batch, tmp_path / "out", "--no-data-docs")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["as_of"] == bdc_kit.AS_OF  # the batch's latest *plausible* timestamp
    counts = pd.read_csv(tmp_path / "out" / "counts.csv", dtype=str, encoding="utf-8-sig")
    rule = counts[counts.rule_id == "bdc.fdcq.djsj.plausible"]
    assert rule.unexpected_count.astype(int).sum() == 1
    assert res.exit_code == 1  # a critical rule failed: the typo, not pending registrations
    timeliness = counts[(counts.dimension == "timeliness")].unexpected_count.astype(int).sum()
    assert timeliness <= 1


# ============================================================================ 10. warnings that show


def test_a_year_the_calendar_does_not_cover_is_warned_once(tmp_path, bdc_kit, tables):
    t = {k: [dict(r) for r in v] for k, v in tables.items()}
    for table in (bdc_kit.FDCQ, bdc_kit.DYAQ):
        for r in t[table]:
            for f in ("SLSJ", "DJSJ"):
                r[f] = "2001" + r[f][4:]
    batch = bdc_kit.write_batch(tmp_path / "batch", t)
    res = check(batch, tmp_path / "out", "--no-data-docs")
    assert res.exit_code in (0, 1), res.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert any("2001" in w for w in summary["warnings"])
    assert squash(res.output).count(squash("No holiday data for year 2001")) == 1


def test_ledger_list_with_an_old_as_of_prints_one_line_per_warning(planted, tmp_path):
    base, _ = planted
    res = dq("ledger", "list", "--ledger", base / "ledger.sqlite", "--as-of", "2001-06-01")
    assert res.exit_code in (0, 2), res.output
    assert squash(res.output).count(squash("No holiday data for")) <= 2
    assert "Warning" not in res.output and "warnings.warn" not in res.output


# ============================================================================ 11. leftovers


def test_work_folders_of_killed_runs_are_swept(tmp_path):
    from toolkit.tempdirs import private_root, private_tempdir

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = private_root() / f"engine-{dead.pid}-abc123"
    stale.mkdir()
    (stale / "QLT_FW_FDCQ_YZ.parquet").write_bytes(b"unmasked")
    with private_tempdir("engine") as work:
        assert work.exists() and oct(private_root().stat().st_mode)[-3:] == "700"
    assert not stale.exists() and not work.exists()


def test_dq_check_writes_no_copy_of_the_batch_to_the_temp_folder(batch, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    assert check(batch, tmp_path / "out").exit_code == 0
    left = [p for p in (tmp_path / "tmp").rglob("*") if p.is_file()]
    assert left == []


# ============================================================================ 12. smaller


def test_a_utf8_file_with_stray_bytes_is_refused_not_read_as_gb18030(batch, tmp_path, bdc_kit):
    path = batch / f"{bdc_kit.FDCQ}.csv"
    data = path.read_bytes()
    cut = data.index("解放大道".encode())
    path.write_bytes(data[:cut] + b"\xff\xfe" + data[cut:])
    res = check(batch, tmp_path / "out")
    assert res.exit_code == 2, res.output
    assert f"{bdc_kit.FDCQ}.csv" in flat(res.output) and "UTF-8" in res.output
    assert no_result_left(tmp_path / "out")


def test_terminal_escapes_in_names_and_cells_do_not_reach_the_terminal(batch, tmp_path, bdc_kit):
    evil = batch / "\x1b[31mRED\x1b[0m.csv"
    evil.write_text("a\n1\n", encoding="utf-8")
    path = batch / f"{bdc_kit.FDCQ}.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] += ",\x1b]0;owned\x07"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = check(batch, tmp_path / "out")
    assert res.exit_code == 2
    assert "\x1b" not in res.output and "\x07" not in res.output


def test_ids_stored_as_excel_numbers_are_flagged(batch, tmp_path, bdc_kit):
    frame = pd.read_csv(batch / f"{bdc_kit.QLR}.csv", dtype=str, keep_default_na=False)
    (batch / f"{bdc_kit.QLR}.csv").unlink()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(frame.columns))
    for rec in frame.itertuples(index=False):
        ws.append(
            [float(v) if c == "ZJH" and v.isdigit() else v for c, v in zip(frame.columns, rec, strict=True)]
        )
    wb.save(batch / f"{bdc_kit.QLR}.xlsx")
    res = check(batch, tmp_path / "out", "--no-data-docs")
    assert res.exit_code in (0, 1), res.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert any("ZJH" in w for w in summary["warnings"])
    assert "ZJH" in flat(res.output)


def test_the_xlsx_workbooks_have_no_external_links_or_macros(planted):
    base, _ = planted
    for wb_path in (base / "exports").rglob("*.xlsx"):
        with zipfile.ZipFile(wb_path) as z:
            names = z.namelist()
        assert not any("externalLink" in n or n.endswith(".bin") for n in names), wb_path
