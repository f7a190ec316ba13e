"""The QA gate on the count engine (``dq check --engine duckdb``, toolkit.gate) against the reference,
Great Expectations (``--engine gx``): differential tests on every shipped pack's sample, the CLI end to
end, streaming, memory limits, Data Docs offline and masked, report.html, and the ``mostly`` gate against
hand-computed values.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from scan import find
from typer.testing import CliRunner

from toolkit import gate
from toolkit.check import run_check
from toolkit.cli import app
from toolkit.domain import EXPECTATIONS_DIR, load_domain
from toolkit.errors import ConfigError
from toolkit.rules import Rule
from toolkit.samples import generate_sample
from toolkit.sheets import FORMULA_PREFIXES, read_csv

#: Every pack shipped under expectations/ (a new pack is tested as soon as it is added).
PACKS = sorted(p.name for p in EXPECTATIONS_DIR.iterdir() if (p / "domain.yaml").is_file())
SAMPLE_OPTIONS = {"seed": 7, "districts": 3, "days": 1, "stock_rows": 300, "error_scale": 4.0}


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for pack in PACKS:
        if not (EXPECTATIONS_DIR / pack / "sample.py").is_file():
            continue
        folder = tmp_path_factory.mktemp(f"sample_{pack}")
        generate_sample(pack, folder, **SAMPLE_OPTIONS)
        out[pack] = folder
    return out


def _batch(sample: Path, mode: str) -> Path:
    if mode == "stock":
        return sample / "stock"
    return sorted(p for p in (sample / "incremental").iterdir() if p.is_dir())[-1]


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.astype(object).where(frame.notna(), "").astype(str)  # a CSV knows no None
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


@pytest.mark.parametrize("mode", ["stock", "incremental"])
@pytest.mark.parametrize("pack", PACKS)
def test_engine_gate_equals_great_expectations(samples, pack, mode):
    """counts (every unit × rule), the problem list (every column of every row: keys, masked values,
    messages, file and row), the verdict and the rules not evaluated are identical."""
    if pack not in samples:
        pytest.skip(f"pack {pack} ships no sample generator (sample.py): nothing to compare on")
    batch = _batch(samples[pack], mode)
    gx = run_check(batch, domain=pack, mode=mode, engine="gx")
    eng = run_check(batch, domain=pack, mode=mode, engine="duckdb")
    assert eng.engine == "duckdb" and gx.engine == "gx"
    assert len(gx.problems) > 0, "the sample injects errors: an empty list would prove nothing"
    pd.testing.assert_frame_equal(eng.counts.reset_index(drop=True), gx.counts.reset_index(drop=True))
    assert list(eng.problems.columns) == list(gx.problems.columns)
    pd.testing.assert_frame_equal(_sorted(eng.problems), _sorted(gx.problems))
    assert eng.exit_code == gx.exit_code
    assert eng.critical_failures == gx.critical_failures
    assert eng.not_evaluated == gx.not_evaluated
    assert {k: r.success for k, r in eng.results.items()} == {k: r.success for k, r in gx.results.items()}
    assert eng.as_of == gx.as_of
    assert eng.batch.rows_read == gx.batch.rows_read
    assert eng.rows_checked == {code: len(t.frame) for code, t in gx.batch.tables.items()}


def test_streamed_problem_list_in_small_chunks(samples, tmp_path, monkeypatch):
    """Streaming the list in chunks of 7 rows gives the same file as keeping it in memory."""
    batch = _batch(samples["bdc"], "stock")
    kept = run_check(batch, domain="bdc", mode="stock")
    monkeypatch.setattr(gate, "_CHUNK", 7)
    path = tmp_path / "problems.csv"
    streamed = run_check(batch, domain="bdc", mode="stock", problems_path=path)
    assert streamed.problems_frame is None and streamed.n_problems == len(kept.problems) > 7
    on_disk = read_csv(path)
    assert on_disk["YWH"].tolist() == on_disk["record_key"].tolist()  # bdc's legacy column
    pd.testing.assert_frame_equal(_sorted(streamed.problems), _sorted(kept.problems))


def test_small_memory_limit_counts_the_same(samples, tmp_path):
    batch = _batch(samples["bdc"], "stock")
    big = run_check(batch, domain="bdc", mode="stock")
    small = run_check(batch, domain="bdc", mode="stock", memory_limit="64MB")
    pd.testing.assert_frame_equal(small.counts, big.counts)
    assert small.n_problems == big.n_problems


def test_unknown_engine_is_a_config_error(samples):
    with pytest.raises(ConfigError, match="engine"):
        run_check(_batch(samples["bdc"], "stock"), domain="bdc", mode="stock", engine="pandas")


# ------------------------------------------------------------------------------------------------ the gate


def _rule(type_: str, tolerance: float, **kwargs) -> Rule:
    meta = {"rule_id": "t.r", "table": "T", "field": "A", "dimension": "validity", "severity": "critical"}
    if tolerance:
        meta["tolerance"] = tolerance
    return Rule(
        rule_id="t.r", suite="t", target="T", target_kind="table", type=type_, kwargs=kwargs, meta=meta
    )


@pytest.mark.parametrize(
    ("type_", "kwargs", "tolerance", "element", "unexpected", "considered", "success"),
    [
        # tolerance 0: any failing row fails the rule
        ("expect_column_values_to_match_regex", {"column": "A"}, 0.0, 10, 0, 10, True),
        ("expect_column_values_to_match_regex", {"column": "A"}, 0.0, 10, 1, 10, False),
        # 10 % tolerance over the non-empty values (GX: nonnull_count), not over all rows
        ("expect_column_values_to_match_regex", {"column": "A"}, 0.1, 100, 1, 10, True),
        ("expect_column_values_to_match_regex", {"column": "A"}, 0.1, 100, 2, 10, False),
        ("expect_column_values_to_match_regex", {"column": "A"}, 0.1, 100, 9, 100, True),
        ("expect_column_values_to_match_regex", {"column": "A"}, 0.1, 100, 11, 100, False),
        # not null: over every row
        ("expect_column_values_to_not_be_null", {"column": "A"}, 0.25, 8, 2, 8, True),
        ("expect_column_values_to_not_be_null", {"column": "A"}, 0.25, 8, 3, 8, False),
    ],
)
def test_gate_success_as_great_expectations(
    type_, kwargs, tolerance, element, unexpected, considered, success
):
    r = _rule(type_, tolerance, **kwargs)
    assert gate._gx_success(r, element, unexpected, considered) is success


def test_tolerance_overlay_gate_equals_gx(samples, tmp_path):
    """A locality overlay giving failing critical rules a tolerance: the verdict per rule is GX's."""
    batch = _batch(samples["bdc"], "stock")
    base = run_check(batch, domain="bdc", mode="stock")
    failing = [rid for rid in base.critical_failures][:6]
    overlay = tmp_path / "overlay.yaml"
    lines = ["rules:"]
    for i, rid in enumerate(failing):
        lines.append(f"  {rid}: {{tolerance: {[0.01, 0.05, 0.2, 0.5, 0.9, 0.03][i]}}}")
    overlay.write_text("\n".join(lines) + "\n", encoding="utf-8")
    gx = run_check(batch, domain="bdc", mode="stock", overlay=overlay, engine="gx")
    eng = run_check(batch, domain="bdc", mode="stock", overlay=overlay)
    succ = {k: r.success for k, r in gx.results.items()}
    assert succ == {k: r.success for k, r in eng.results.items()}
    assert any(succ[r] for r in failing) and not all(succ[r] for r in failing), "tolerances must matter"
    assert eng.exit_code == gx.exit_code


def test_overlay_formula_message_is_neutralised_in_the_streamed_list(samples, tmp_path):
    """A rule's own cells are checked for formulas once per rule, not on each row: an overlay's message and
    fix that a spreadsheet would run reach problems.csv neutralised (leading apostrophe), as the GX path
    writes them, while the other rules' cells stay as they are."""
    batch = _batch(samples["bdc"], "stock")
    base = run_check(batch, domain="bdc", mode="stock")
    cells = base.problems.astype(str)
    # a failing rule none of whose row cells looks like a formula: its lines are not rewritten cell by cell
    plain = (
        cells.apply(lambda col: col.str.startswith(FORMULA_PREFIXES)).groupby(cells.rule_id).sum().sum(axis=1)
    )
    rid = sorted(r for r in base.critical_failures if plain.get(r, 1) == 0)[0]
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(
        f"rules:\n  {rid}: {{message_zh: '=HYPERLINK(\"http://x\")', fix_zh: '@SUM(1)'}}\n", encoding="utf-8"
    )
    files = {}
    for engine in ("duckdb", "gx"):
        out = tmp_path / engine
        res = _dq("check", "--input", str(batch), "--out", str(out), "--mode", "stock", "--overlay", str(overlay),
                  "--engine", engine, "--no-data-docs")  # fmt: skip
        assert res.exit_code == 1, res.output
        files[engine] = pd.read_csv(
            out / "problems.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig"
        )
    eng = files["duckdb"]
    mine = eng[eng.rule_id == rid]
    assert (
        len(mine)
        and set(mine.message_zh) == {'\'=HYPERLINK("http://x")'}
        and set(mine.fix_zh) == {"'@SUM(1)"}
    )
    others = eng[eng.rule_id != rid]
    assert len(others) and not others.message_zh.str.startswith("'").any()
    assert _sorted(eng).equals(_sorted(files["gx"]))


def test_views_keep_only_the_columns_the_problem_list_reads(samples, monkeypatch):
    """A view's failing rows are kept (during counting) as structs of the columns the problem list reads
    — ``_ROW``, the batch and each rule's value, unit, record key and problem fields — not the whole row;
    the differential test above shows nothing the list needs is missing."""
    seen: dict[str, tuple[list[str], list[str]]] = {}  # view -> (kept struct's fields, expected)
    width: dict[str, int] = {}  # view -> its columns

    def spying(*args, **kwargs):
        hook = kwargs["on_counted"]

        def on_counted(run):
            for view in run.compiled.keys() - run.tables.keys():
                got = run.con.execute(
                    f"SELECT unnest(e.r) FROM (SELECT unnest(dq_failing) AS e FROM {run.failing[view]})"
                )
                fields = [d[0] for d in got.description]
                got.fetchall()
                cols = run.target_cols[view]
                want = {"_ROW", "_BATCH"}.union(
                    *(gate._target_reads(run.dom, c.rule, view, cols) for c in run.compiled[view])
                )
                seen[view] = (fields, [c for c in cols if c in want])
                width[view] = len(cols)
            hook(run)

        kwargs["on_counted"] = on_counted
        return real(*args, **kwargs)

    real = gate.count_batches
    monkeypatch.setattr(gate, "count_batches", spying)
    for pack, folder in sorted(samples.items()):
        run_check(_batch(folder, "stock"), domain=pack, mode="stock")
    assert seen, "the samples' packs have rules on views"
    assert all(fields == want for fields, want in seen.values()), seen
    assert any(len(fields) < width[view] for view, (fields, _) in seen.items()), "no view row was narrowed"


def test_a_column_read_but_not_kept_is_an_internal_error(samples, monkeypatch):
    """Should what a view keeps and what the list reads ever disagree, the gate stops (exit 3 at the CLI)
    rather than write empty cells for a column it did not keep."""
    real = gate._target_reads
    monkeypatch.setattr(
        gate, "_target_reads", lambda dom, rule, target, cols: real(dom, rule, target, cols) - {rule.field}
    )
    with pytest.raises(RuntimeError, match="read but not in _target_reads"):
        run_check(_batch(samples["bdc"], "stock"), domain="bdc", mode="stock")


# ------------------------------------------------------------------------------------------------ CLI


def _dq(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def cli_runs(samples, tmp_path_factory):
    batch = _batch(samples["bdc"], "stock")
    out = {}
    for engine in ("duckdb", "gx"):
        folder = tmp_path_factory.mktemp(f"out_{engine}")
        proc = _dq(
            "check",
            "--domain",
            "bdc",
            "--mode",
            "stock",
            "--input",
            str(batch),
            "--out",
            str(folder),
            "--engine",
            engine,
        )
        out[engine] = (proc, folder)
    return out


def test_cli_engine_default_and_gx_write_the_same_files(cli_runs):
    (pe, de), (pg, dg) = cli_runs["duckdb"], cli_runs["gx"]
    assert pe.exit_code == pg.exit_code == 1, (pe.output[-2000:], pg.output[-2000:])
    for name in ("counts.csv", "problems.csv", "summary.json", "report.html", "data_docs/index.html"):
        assert (de / name).is_file() and (dg / name).is_file(), name
    assert (de / "counts.csv").read_bytes() == (dg / "counts.csv").read_bytes()
    pe_, pg_ = read_csv(de / "problems.csv"), read_csv(dg / "problems.csv")
    keys = ["rule_id", "unit_code", "record_key", "row"]
    assert sorted(map(tuple, pe_[keys].values.tolist())) == sorted(map(tuple, pg_[keys].values.tolist()))
    se, sg = (json.loads((d / "summary.json").read_text(encoding="utf-8")) for d in (de, dg))
    assert se["engine"] == "duckdb" and sg["engine"] == "gx"
    for key in (
        "rows_read",
        "rows_checked",
        "rows_checked_by_table",
        "rules",
        "failed_rules",
        "problems",
        "critical_failed_rules",
        "units",
        "exit_code",
        "as_of",
    ):
        assert se[key] == sg[key], key


def test_default_engine_is_duckdb(samples, tmp_path):
    proc = _dq(
        "check",
        "--domain",
        "bdc",
        "--mode",
        "stock",
        "--input",
        str(_batch(samples["bdc"], "stock")),
        "--out",
        str(tmp_path),
        "--no-data-docs",
    )
    assert proc.exit_code == 1, proc.output[-2000:]
    assert json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))["engine"] == "duckdb"


_REMOTE = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|url\(\s*['"]?(?:https?:)?//|@import""", re.I)


def test_data_docs_and_report_offline_and_masked(cli_runs, samples):
    """No page references a remote URL; no full citizen ID or phone of the batch appears anywhere."""
    _, folder = cli_runs["duckdb"]
    pages = [*(folder / "data_docs").rglob("*.html"), folder / "report.html"]
    assert len(pages) >= 3
    validations = list((folder / "data_docs" / "validations").rglob("*.html"))
    assert validations, "Data Docs must show the engine's validation results"
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not _REMOTE.search(text), page
    for sheet in (folder / "data_docs").rglob("*.css"):
        assert not _REMOTE.search(sheet.read_text(encoding="utf-8")), sheet
    batch = _batch(samples["bdc"], "stock")
    qlr = read_csv(batch / "ZTT_GY_QLR.csv")
    ids = [v for v in qlr["ZJH"].dropna() if re.fullmatch(r"\d{17}[\dXx]", v)][:40]
    phones = [v for v in qlr["DH"].dropna() if re.fullmatch(r"1\d{10}", v)][:40]
    assert ids and phones
    assert find(folder, ids + phones) == []


def test_report_html(cli_runs):
    """Verdict, problems by rule (counts equal counts.csv), by unit; Chinese font embedded."""
    _, folder = cli_runs["duckdb"]
    text = (folder / "report.html").read_text(encoding="utf-8")
    assert 'data-exit="1"' in text and "未通过：暂停上报" in text
    assert "@font-face" in text and "<script" not in text
    counts = read_csv(folder / "counts.csv", keep_default_na=False)
    counts["unexpected_count"] = counts["unexpected_count"].astype(int)
    per_rule = counts.groupby("rule_id")["unexpected_count"].sum()
    shown = dict(re.findall(r'<tr data-rule="([^"]+)" data-n="(\d+)">', text))
    assert shown == {rid: str(n) for rid, n in per_rule.items() if n > 0}
    units = set(re.findall(r'<tr data-unit="([^"]*)">', text))
    assert units == set(counts.loc[counts.unexpected_count > 0, "unit_code"])
    dom = load_domain("bdc")
    fixes = {r.meta["fix_zh"] for r in dom.rules if r.rule_id in shown}
    assert all(f.replace('"', "&#34;") in text or f in text for f in fixes)


def test_row_numbers_count_blank_records_as_the_loader(tmp_path, bdc_kit):
    """The gate numbers each record by its row in the file (header = 1) with blank records — a line of
    empty cells, an empty line — counted, as the loader does: problem rows after blank records are the
    rows ``--engine gx`` reports, and the blank records themselves are never checked."""
    tables = bdc_kit.valid_tables(bdc_kit.districts(3))
    for row in tables[bdc_kit.FDCQ][1::2]:
        row["QLLX"] = "九"  # not a code of the list: one problem per changed row
    batch = bdc_kit.write_batch(tmp_path / "b", tables)
    path = batch / f"{bdc_kit.FDCQ}.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    blank = "," * (lines[0].count(","))
    lines[2:2] = [blank, ""]  # after the first record: a record of empty cells and an empty line
    lines.insert(6, blank)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    gx = run_check(batch, domain="bdc", mode="incremental", engine="gx")
    eng = run_check(batch, domain="bdc", mode="incremental", engine="duckdb")
    pd.testing.assert_frame_equal(eng.counts, gx.counts)
    mine = eng.problems[eng.problems.rule_id.str.contains("qllx")]
    theirs = gx.problems[gx.problems.rule_id.str.contains("qllx")]
    assert len(mine) == len(tables[bdc_kit.FDCQ][1::2]) > 0
    assert mine.row.astype(str).tolist() == theirs.row.astype(str).tolist()
    assert (
        eng.batch.tables[bdc_kit.FDCQ].rows == gx.batch.tables[bdc_kit.FDCQ].rows == len(tables[bdc_kit.FDCQ])
    )
    pd.testing.assert_frame_equal(_sorted(eng.problems), _sorted(gx.problems))


@pytest.mark.parametrize(("engine", "imported"), [("duckdb", False), ("gx", True)])
def test_only_the_reference_path_imports_great_expectations(samples, tmp_path, engine, imported):
    """Importing Great Expectations takes seconds: the engine's gate without Data Docs never does, the
    reference path does (a fresh interpreter each, since another test may have imported it already)."""
    import subprocess
    import sys

    batch = _batch(samples["bdc"], "stock")
    script = tmp_path / "run.py"
    script.write_text(
        "import sys\n"
        "from toolkit.check import run_check\n"
        f"run_check({str(batch)!r}, domain='bdc', mode='stock', engine={engine!r})\n"
        "print('great_expectations' in sys.modules)\n",
        encoding="utf-8",
    )
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True, timeout=600
    )
    assert out.stdout.strip().splitlines()[-1] == str(imported)
