"""The self-check service's verdict equals ``dq check``'s, business by business (differential test).

For every business of a sample day — bdc (generated with many injected errors) and the fixture pack
xpack (tests/xpack.py, errors at known places) — the business's rows are (a) written as a batch folder and
checked by ``dq check`` (Great Expectations) and (b) posted to the real service on a loopback port. Pass,
the failing rules, the rules not evaluated, the number of rules checked and every problem (rule, table,
row, field, masked value, record key, unit code and name) must be equal. The sample is small: one day,
two districts (bdc), ten registrations (xpack).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from pathlib import Path

import httpx
import pytest
import xpack

from toolkit.check import run_check
from toolkit.domain import load_domain
from toolkit.loading import ROW_COLUMN, load_batch
from toolkit.samples import generate_sample
from toolkit.serve.auth import add_token
from toolkit.serve.server import BackgroundServer, build_app
from toolkit.serve.standards import business_key_columns, check_mode

pytestmark = pytest.mark.slow


def businesses(domain, day: Path) -> list[tuple[str, dict[str, tuple[list[str], list[dict]]]]]:
    """The day's businesses: key → {table: (columns, rows)} for every table holding the key columns."""
    mode = check_mode(domain)
    keys = business_key_columns(domain, mode)
    required = domain.required_columns()
    batch = load_batch(day, {t: required[t] for t in domain.mode_tables(mode)})
    order: list[str] = []
    out: dict[str, dict[str, tuple[list[str], list[dict]]]] = {}
    tables = {c: t for c, t in batch.tables.items() if all(k in t.frame.columns for k in keys)}
    for code, table in tables.items():
        frame = table.frame.sort_values(ROW_COLUMN, key=lambda s: s.astype(int))
        cols = [c for c in frame.columns if c != ROW_COLUMN]
        for rec in frame[cols].to_dict("records"):
            if any(rec.get(k) is None for k in keys):
                continue
            key = "|".join(rec[k] for k in keys)
            if key not in out:
                order.append(key)
                out[key] = {
                    c: ([x for x in t.frame.columns if x != ROW_COLUMN], []) for c, t in tables.items()
                }
            out[key][code][1].append(rec)
    return [(k, out[k]) for k in order]


def write_business(domain, folder: Path, tables: dict[str, tuple[list[str], list[dict]]]) -> None:
    """The business as a batch folder holding exactly what the request says: a table sent without rows
    has only the columns every export must have (a request cannot name optional columns without a row)."""
    folder.mkdir(parents=True)
    for code, (cols, rows) in tables.items():
        if not rows:
            spec = domain.tables[code]["fields"]
            cols = [c for c in cols if spec.get(c, {}).get("header", True)]
        with (folder / f"{code}.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(cols)
            for r in rows:
                w.writerow(["" if r.get(c) is None else r[c] for c in cols])


def check_answer(result) -> dict:
    problems = sorted(
        (
            p["rule_id"],
            p["table"],
            int(p["row"]) - 1,  # dq check: the file's line (header = 1); the service: position in the list
            p["field"],
            str(p["value_masked"]),
            p["record_key"],
            p["unit_code"],
            p["unit_name"],
        )
        for p in result.problems.to_dict("records")
    )
    return {
        "pass": result.exit_code == 0,
        "failed": sorted(rid for rid, r in result.results.items() if not r.success),
        "not_evaluated": sorted(result.not_evaluated),
        "checked": len(result.rules) - len(result.not_evaluated),
        "problems": problems,
    }


def serve_answer(body: dict) -> dict:
    return {
        "pass": body["pass"],
        "failed": sorted(body["failed_rules"]),
        "not_evaluated": sorted(n["rule_id"] for n in body["not_evaluated"]),
        "checked": body["checked_rules"],
        "problems": sorted(
            (
                p["rule_id"],
                p["table"],
                p["row"],
                p["field"],
                str(p["value_masked"]),
                p["record_key"],
                p["unit_code"],
                p["unit_name"],
            )
            for p in body["problems"]
        ),
    }


def _server(tmp: Path, pack):
    tokens = tmp / "tokens"
    token = add_token(tokens, "*")
    app, standards = build_app(pack, tokens=tokens, log_dir=tmp / "log")
    return app, standards, token


def _compare(pack, day: Path, tmp: Path) -> tuple[int, int, set[str]]:
    domain = load_domain(pack)
    app, standards, token = _server(tmp, pack)
    items = businesses(domain, day)
    assert len(items) >= 8
    passed = 0
    failing: set[str] = set()
    with BackgroundServer(app) as server:
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as client:
            for n, (key, tables) in enumerate(items):
                folder = tmp / "biz" / str(n)
                write_business(domain, folder, tables)
                expected = check_answer(run_check(folder, domain=domain, mode=standards.mode))
                body = {"stage": "dengbu", "tables": {c: rows for c, (_, rows) in tables.items()}}
                r = client.post(f"/v1/{domain.name}/check", json=body)
                assert r.status_code == 200, r.text
                got = serve_answer(r.json())
                assert set(got["not_evaluated"]) == set(expected["not_evaluated"]), (
                    set(got["not_evaluated"]) ^ set(expected["not_evaluated"]),
                    r.json()["not_evaluated"],
                )
                assert got == expected, f"business {key}"
                passed += got["pass"]
                failing |= set(got["failed"])
    return len(items), passed, failing


def test_every_bdc_business_of_a_day_gets_dq_checks_verdict(tmp_path_factory):
    root = tmp_path_factory.mktemp("bdc_sample")
    generate_sample("bdc", root, seed=11, districts=1, days=1, stock_rows=20, error_scale=3.0)
    days = sorted((root / "incremental").iterdir())
    n, passed, failing = _compare("bdc", days[-1], tmp_path_factory.mktemp("bdc_serve"))
    # both verdicts occur and many rules fail somewhere, so the comparison says something
    assert 0 < passed < n
    assert len(failing) >= 4, failing


def test_every_xpack_business_of_a_day_gets_dq_checks_verdict(tmp_path_factory):
    day = tmp_path_factory.mktemp("xpack_day") / "2024-12-31"
    xpack.write_batch(day, dt.date(2024, 12, 31))
    n, passed, failing = _compare(xpack.PACK, day, tmp_path_factory.mktemp("xpack_serve"))
    # ten registrations; the injected duplicate number leaves one with two DJXX rows and one with its
    # applicants only
    assert n == 10
    assert 0 < passed < n
    assert {"xpack.djxx.djlb.code", "xpack.djxx.djbh.unique", "xpack.sqr.zjhm.citizen_id"} <= failing


def test_tokens_file_is_private():
    # the helper above relies on add_token creating the file with mode 600
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "t"
        add_token(path, "*")
        assert os.stat(path).st_mode & 0o777 == 0o600


def test_one_pass_over_many_businesses_gives_each_its_own_views(tmp_path_factory):
    """Under load a worker builds the views of every waiting business in one DuckDB pass (rows handed
    over as Arrow arrays above a few rows); each business must get exactly the views it gets alone."""
    from toolkit.serve.payload import parse_business
    from toolkit.serve.standards import Standards
    from toolkit.serve.views import _VALUES_MAX, ViewJob, ViewRunner

    root = tmp_path_factory.mktemp("bdc_pass")
    generate_sample("bdc", root, seed=12, districts=2, days=1, stock_rows=20, error_scale=3.0)
    domain = load_domain("bdc")
    standards = Standards(domain)
    day = sorted((root / "incremental").iterdir())[-1]
    prepared = [
        standards.prepare(
            parse_business(
                {"stage": "dengbu", "tables": {c: rows for c, (_, rows) in t.items()}},
                tables=standards.tables,
                limits=standards.limits,
            )
        )
        for _, t in businesses(domain, day)
    ]
    rows_in_pass = sum(len(rs) for p in prepared for rs in p.rows.values())
    assert 3 * (rows_in_pass + len(prepared)) > _VALUES_MAX  # three values a row and an as-of: Arrow path
    runner = ViewRunner(domain)
    try:
        together = runner.run([ViewJob(p.rows, p.as_of, p.views) for p in prepared])
        alone = [runner.run([ViewJob(p.rows, p.as_of, p.views)])[0] for p in prepared]
    finally:
        runner.close()
    assert together == alone
    assert sum(len(rows) for views in together for rows in views.values()) > len(prepared)
