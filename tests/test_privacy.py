"""No output of ``dq check`` shows personal data that is in the input (cli-and-outputs.md).

The sample batch (with injected errors, so that problem lists and Data Docs carry failing values) is
checked through the command line with Data Docs on; then every file written — CSV, JSON, HTML, JS —
is read, decoded as far as a reader of it would (HTML entities, ``\\uXXXX`` JSON escapes, URL
escapes) and searched for every citizen ID, credit code, phone number and full name of the input.
"""

from __future__ import annotations

import html
import json
import re
import urllib.parse
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.domain import load_domain
from toolkit.loading import load_batch
from toolkit.samples import generate_sample


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("privacy")
    generate_sample("bdc", out, seed=11, districts=3, days=2, stock_rows=300, error_scale=4.0)
    return out


def _batches(sample: Path) -> list[tuple[str, Path]]:
    days = sorted(p for p in (sample / "incremental").iterdir() if p.is_dir())
    return [("stock", sample / "stock"), ("incremental", days[-1])]


def _decoded(path: Path) -> str:
    text = path.read_bytes().decode("utf-8", errors="replace")
    variants = [text, html.unescape(text), urllib.parse.unquote(text)]
    escaped = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    variants += [escaped, html.unescape(escaped)]
    return "\n".join(variants)


def _personal_values(batch: Path) -> dict[str, set[str]]:
    """Every personal value of the input, by kind, and the non-personal text it may hide in."""
    domain = load_domain("bdc")
    pii = {(t, f): spec.get("pii") for t, ts in domain.tables.items() for f, spec in ts["fields"].items()}
    values: dict[str, set[str]] = {"name": set(), "id_no": set(), "phone": set(), "_other": set()}
    for table, loaded in load_batch(batch, {t: [] for t in domain.tables}).tables.items():
        for col in loaded.frame.columns:
            kind = pii.get((table, col))
            vals = {str(v) for v in loaded.frame[col].dropna()}
            values[kind or "_other"] |= vals
    return values


@pytest.mark.parametrize("mode", ["stock", "incremental"])
def test_no_output_file_shows_personal_data_of_the_input(sample, tmp_path, mode):
    batch = dict(_batches(sample))[mode]
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["check", "--mode", mode, "--input", str(batch), "--out", str(out)])
    assert res.exit_code in (0, 1), res.output
    files = [p for p in out.rglob("*") if p.is_file()]
    assert (out / "problems.csv") in files and any(p.suffix == ".html" for p in files)
    problems = pd.read_csv(out / "problems.csv", dtype=str, encoding="utf-8-sig")
    assert len(problems) > 0, "the sample must produce problems for this test to mean anything"

    values = _personal_values(batch)
    # text that is legitimately in the outputs (rule messages, labels, addresses, bank names) may contain
    # a short personal name by coincidence (森林林木 contains 林林): such names cannot be told apart
    allowed = "\n".join(values["_other"]) + json.dumps(load_domain("bdc").suites, ensure_ascii=False)
    names = {n for n in values["name"] if len(n) >= 2 and n not in allowed}
    numbers = {v for v in values["id_no"] | values["phone"] if len(v) >= 7}
    assert len(names) > 50 and len(numbers) > 50  # the scan has something to find

    leaks = []
    for path in files:
        text = _decoded(path)
        found = [v for v in numbers if v in text] + [n for n in names if n in text]
        leaks += [(str(path.relative_to(out)), v) for v in found[:5]]
    assert not leaks, leaks


def test_the_scan_would_find_a_leak(sample, tmp_path):
    """The scanner itself: a raw ID written into an output file is found, also JSON-escaped."""
    values = _personal_values(sample / "stock")
    some_id = sorted(v for v in values["id_no"] if len(v) == 18)[0]
    some_name = sorted(n for n in values["name"] if len(n) == 3)[0]
    (tmp_path / "x.json").write_text(json.dumps({"v": some_name}), encoding="utf-8")
    (tmp_path / "y.html").write_text(f"<td>{html.escape(some_id)}</td>", encoding="utf-8")
    assert some_name in _decoded(tmp_path / "x.json")
    assert "\\u" in (tmp_path / "x.json").read_text(encoding="utf-8")
    assert some_id in _decoded(tmp_path / "y.html")


def test_no_output_of_the_demo_shows_personal_data(tmp_path):
    """Everything `make demo` writes (checks, Data Docs, scores, history, bulletin, common problems; HTML,
    XLSX, CSV, JSON, DuckDB) is scanned for every ID, phone number and name of the sample it ran on."""
    from scan import text_of

    from toolkit import demo

    out = tmp_path / "demo"
    assert demo.main(["--out", str(out), "--domain", "bdc", "--days", "3", "--stock-rows", "300"]) == 0
    sample = out / "sample"
    values: dict[str, set[str]] = {"name": set(), "id_no": set(), "phone": set(), "_other": set()}
    for batch in [sample / "stock", *sorted((sample / "incremental").iterdir())]:
        for kind, vals in _personal_values(batch).items():
            values[kind] |= vals
    allowed = "\n".join(values["_other"]) + json.dumps(load_domain("bdc").suites, ensure_ascii=False)
    names = {n for n in values["name"] if len(n) >= 2 and n not in allowed}
    numbers = {v for v in values["id_no"] | values["phone"] if len(v) >= 7}
    assert len(names) > 50 and len(numbers) > 50
    files = [p for p in out.rglob("*") if p.is_file() and sample not in p.parents]
    kinds = {p.suffix for p in files}
    assert {".html", ".xlsx", ".csv", ".json"} <= kinds, kinds
    leaks = []
    for path in files:
        text = text_of(path)
        found = [v for v in numbers if v in text] + [n for n in names if n in text]
        leaks += [(str(path.relative_to(out)), v) for v in found[:5]]
    assert not leaks, leaks
