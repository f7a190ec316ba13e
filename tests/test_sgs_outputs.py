"""Every output of an sgs run shows no unmasked ID number or natural person's name.

The demo path of the pack (sample, check of the stock and of the latest day with Data Docs, score history,
monthly bulletin, common problems) runs on a small sample, then the command line adds a check with the
ledger, the ledger listing and the random audit. Every file written — CSV, JSON, HTML, JS, XLSX, SQLite,
DuckDB — is read the way its reader would (``tests/scan.py``) and searched for every citizen ID, business
registration number, legal representative, natural person's name and mobile number of the input, including
those the sample planted in public text (许可内容, 违法事实). The same run shows the department as the unit,
the roster's responsible persons, the common-problems list with the platform's technical wording before the
plain one, and no map.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from scan import text_of
from typer.testing import CliRunner

from toolkit import demo
from toolkit.cli import app
from toolkit.domain import load_domain
from toolkit.loading import load_batch

MOBILE = re.compile(r"1[3-9]\d{9}")
CITIZEN = re.compile(r"\d{17}[\dXx]")
RUNS = re.compile(r"[0-9Xx]{11,}|[\u3400-\u9fff·]{2,}")
PLACEHOLDER = "00000000000000000X"  # the template's placeholder credit code: not personal


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sgs_demo")
    assert demo.main(["--out", str(out), "--domain", "sgs", "--days", "4", "--stock-rows", "200"]) == 0
    sample = out / "sample"
    day = sorted((sample / "incremental").iterdir())[-1]
    cli = CliRunner()
    ledger = out / "cli" / "ledger.sqlite"
    check = ["check", "--domain", "sgs", "--mode", "incremental", "--input", str(day)]
    res = cli.invoke(app, [*check, "--out", str(out / "cli" / "day"), "--ledger", str(ledger)])
    assert res.exit_code in (0, 1), res.output
    res = cli.invoke(app, ["ledger", "list", "--ledger", str(ledger), "--format", "csv"])
    assert res.exit_code == 0, res.output
    (out / "cli" / "ledger_list.csv").write_text(res.output, encoding="utf-8")
    res = cli.invoke(
        app,
        ["audit", "--domain", "sgs", "--input", str(sample / "stock"), "--out", str(out / "cli" / "audit")],
    )
    assert res.exit_code == 0, res.output
    return out


def _personal(sample: Path) -> tuple[set[str], set[str]]:
    """(names, numbers) of the input: natural persons' names (行政相对人名称 of 自然人, 法定代表人), ID and
    registration numbers, and every ID-like or mobile number written anywhere (public text)."""
    dom = load_domain("sgs")
    pii = {(t, f): spec.get("pii") for t, ts in dom.tables.items() for f, spec in ts["fields"].items()}
    text = {
        (t, f) for t, ts in dom.tables.items() for f, spec in ts["fields"].items() if spec["type"] == "text"
    }
    names: set[str] = set()
    numbers: set[str] = set()
    other: set[str] = set()
    for batch in [sample / "stock", *sorted((sample / "incremental").iterdir())]:
        for table, loaded in load_batch(batch, {t: [] for t in dom.tables}).tables.items():
            f = loaded.frame
            for col in f.columns:
                kind = pii.get((table, col))
                vals = {str(v) for v in f[col].dropna()}
                if kind == "id_no":
                    numbers |= vals
                elif kind == "name" and col.endswith("_XDR_MC"):
                    lb = col.replace("_MC", "_LB")
                    names |= {str(v) for v in f.loc[f[lb] == "自然人", col].dropna()}
                    orgs = {str(v) for v in f.loc[f[lb] != "自然人", col].dropna()}
                    other |= orgs
                    for v in orgs:  # an ID or mobile number written into an organisation's name
                        numbers |= set(MOBILE.findall(v)) | set(CITIZEN.findall(v))
                elif kind == "name":
                    names |= vals
                else:
                    other |= vals
                    for v in vals if (table, col) in text else ():  # public free text
                        numbers |= set(MOBILE.findall(v)) | set(CITIZEN.findall(v))
    # a short name may occur inside other text of the outputs by coincidence (rule messages, organisation
    # names): such names cannot be told apart and are left out
    allowed = "\n".join(other) + str(dom.suites)
    names = {n for n in names if len(n) >= 2 and n not in allowed}
    numbers = {n for n in numbers if len(n) >= 11 and n != PLACEHOLDER}
    return names, numbers


def test_no_output_shows_personal_data(run):
    names, numbers = _personal(run / "sample")
    assert len(names) > 50 and len(numbers) > 50  # the scan has something to find
    files = [p for p in run.rglob("*") if p.is_file() and (run / "sample") not in p.parents]
    kinds = {p.suffix for p in files}
    assert {".html", ".xlsx", ".csv", ".json", ".sqlite"} <= kinds, kinds
    leaks = []
    for path in files:
        found = _found(text_of(path), numbers | names)
        leaks += [(str(path.relative_to(run)), v) for v in sorted(found)[:5]]
    assert not leaks, leaks


def _found(text: str, needles: set[str]) -> set[str]:
    """The needles (numbers, names) that occur in ``text``: every substring of the right lengths of every run
    of digits or of Chinese characters is looked up (as ``needle in text`` would find, but fast)."""
    lengths = {len(n) for n in needles}
    hits = set()
    for run in RUNS.findall(text):
        for n in lengths:
            for i in range(len(run) - n + 1):
                if run[i : i + n] in needles:
                    hits.add(run[i : i + n])
    return hits


def test_the_scan_finds_a_planted_leak(run, tmp_path):
    names, numbers = _personal(run / "sample")
    name, number = sorted(names)[0], sorted(numbers)[0]
    (tmp_path / "x.html").write_text(f"<td>{name}</td><td>{number}</td>", encoding="utf-8")
    text = text_of(tmp_path / "x.html")
    assert _found(text, names | numbers) == {name, number}
    assert _found(f"（{name}）：x{number}x；", names | numbers) == {name, number}


def test_departments_are_the_units_with_their_names(run):
    scores = pd.read_csv(run / "scores" / "scores.csv", dtype=str, encoding="utf-8-sig")
    depts = pd.read_csv(run / "sample" / "departments.csv", dtype=str, encoding="utf-8-sig")
    names = dict(zip(depts.unit_code, depts.unit_name, strict=True))
    assert set(scores.unit_code) <= set(names) and scores.unit_code.nunique() >= 20
    assert all(names[c] == n for c, n in zip(scores.unit_code, scores.unit_name, strict=True))
    for col in ("timely_rate", "late_rate", "pass_rate", "empty_rate", "accuracy", "privacy_ok"):
        assert col in scores.columns
    problems = pd.read_csv(run / "cli" / "day" / "problems.csv", dtype=str, encoding="utf-8-sig")
    assert {"unit_code", "unit_name", "record_key"} <= set(problems.columns)
    assert set(problems.unit_code) <= set(names)


def test_ledger_names_the_departments_responsible_person(run):
    listing = pd.read_csv(run / "cli" / "ledger_list.csv", dtype=str)
    roster = pd.read_csv(load_domain("sgs").path / "roster.csv", dtype=str, encoding="utf-8-sig")
    who = dict(zip(roster.XK_LYDWDM, roster["责任人"], strict=True))
    assert len(listing)
    assert all(who[u] == r for u, r in zip(listing.unit_code, listing.responsible, strict=True))
    assert not listing.phone_masked.str.contains("0769-2283").any()  # phone numbers masked


def test_common_problems_show_technical_then_plain_and_the_bulletin_no_map(run):
    report = run / "report"
    cp = next(report.glob("common_problems_*.html")).read_text(encoding="utf-8")
    dom = load_domain("sgs")
    tech = {r.meta["message_tech_zh"] for r in dom.rules}
    assert "平台提示“" in cp and " → " in cp
    assert any(t in cp for t in tech)
    xlsx = text_of(next(report.glob("common_problems_*.xlsx")))
    assert "平台提示" in xlsx
    bulletin = next(report.glob("bulletin_*.html")).read_text(encoding="utf-8")
    assert 'id="map"' not in bulletin and "部门" in bulletin
