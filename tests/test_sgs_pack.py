"""The 双公示 pack (sgs) end to end on its sample data.

* what `dq check` (Great Expectations) finds equals what the generator injected (``truth.csv``), row by row
  and department by department, for every rule — the rules with no injected error find nothing;
* the DuckDB count engine and Great Expectations agree on every sgs rule (differential);
* the Dongguan overlay removes exactly the register-lag false rejections and nothing else;
* the pack declares what the contract asks (rule ids, meta with the technical wording, no map)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from toolkit.check import run_check
from toolkit.domain import EXPECTATIONS_DIR, load_domain
from toolkit.engine import count_batches
from toolkit.samples import generate_sample

OVERLAY = EXPECTATIONS_DIR / "sgs" / "overlays" / "dongguan.yaml"
REGISTRY = ("sgs.xk.xdr_shxym.in_registry", "sgs.cf.xdr_shxym.in_registry")
LOCAL = ("sgs.xk.xdr_shxym.in_local_registry", "sgs.cf.xdr_shxym.in_local_registry")


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sgs_sample")
    generate_sample("sgs", out, seed=7, districts=8, days=6, stock_rows=500, error_scale=4.0)
    return out


def _batches(root: Path) -> list[tuple[str, Path, str]]:
    days = sorted(p for p in (root / "incremental").iterdir() if p.is_dir())
    return [("stock", root / "stock", "stock")] + [(f"incremental/{p.name}", p, "incremental") for p in days]


@pytest.fixture(scope="module")
def checked(sample):
    return {name: run_check(path, domain="sgs", mode=mode) for name, path, mode in _batches(sample)}


@pytest.fixture(scope="module")
def truth(sample) -> pd.DataFrame:
    return pd.read_csv(sample / "truth.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)


def _failing(result) -> Counter:
    return Counter((rid, str(row)) for rid, res in result.results.items() for row in res.unexpected_rows)


# ------------------------------------------------------------------------------------------ truth.csv


def test_failing_rows_equal_truth_row_by_row(checked, truth):
    for name, result in checked.items():
        t = truth[truth.batch == name]
        expected = Counter(zip(t.rule_id, t.row, strict=True))
        got = _failing(result)
        assert got == expected, (
            name,
            sorted((got - expected).items())[:8],
            sorted((expected - got).items())[:8],
        )


def test_counts_equal_truth_department_by_department(checked, truth):
    for name, result in checked.items():
        counts = result.counts[result.counts.evaluated]
        got = {
            (u, r): n
            for u, r, n in zip(counts.unit_code, counts.rule_id, counts.unexpected_count, strict=True)
            if n
        }
        expected = truth[truth.batch == name].groupby(["unit_code", "rule_id"]).size().to_dict()
        assert got == expected, (name, set(got.items()) ^ set(expected.items()))


def test_every_injected_error_type_is_present(truth):
    """Every kind of check of the contract is injected at least once (the test above would pass vacuously
    for a kind the sample never injects)."""
    kinds = {rid.rsplit(".", 1)[1] for rid in truth.rule_id}
    needed = {
        "required",
        "required_if_not_person",
        "required_if_org",
        "required_if_person",
        "required_if_placeholder",
        "required_if_fine",
        "code",
        "check_digit",
        "citizen_id",
        "natural_person_fields",
        "date",
        "datetime",
        "not_future",
        "after_jdrq",
        "after_yxqz",
        "after_yxq",
        "window",
        "unique",
        "decimal",
        "no_personal_data",
        "clean_text",
        "in_registry",
        "matches_registry",
        "registry_lag",
        "within_7wd",
    }
    assert needed <= kinds, needed - kinds
    # both tables, several departments and the three kinds of error ids (stock, incremental, register lag)
    assert set(truth.table) == {"XZXK", "XZCF"}
    assert truth.unit_code.nunique() >= 6
    assert {e.split("-")[0] for e in truth.error_id if not e.startswith("incremental/")} >= {"S", "E", "L"}


def test_rules_not_injected_find_nothing(checked, truth):
    injected = set(truth.rule_id)
    for result in checked.values():
        for rid, res in result.results.items():
            if rid not in injected:
                assert res.unexpected_count == 0, rid


def test_every_row_read_is_checked_and_every_rule_evaluated(checked):
    for name, result in checked.items():
        for code, table in result.batch.tables.items():
            assert len(result.frames[code]) == table.rows
        assert not result.not_evaluated, (name, result.not_evaluated)


def test_a_batch_without_registers_does_not_evaluate_the_register_rules(sample, tmp_path):
    day = sorted((sample / "incremental").iterdir())[-1]
    for f in day.iterdir():
        if not f.stem.startswith("FRK"):
            (tmp_path / f.name).write_bytes(f.read_bytes())
    result = run_check(tmp_path, domain="sgs", mode="incremental")
    assert set(REGISTRY) <= set(result.not_evaluated)
    assert {"sgs.xk.xdr_mc.matches_registry", "sgs.cf.xdr_mc.matches_registry"} <= set(result.not_evaluated)
    assert "sgs.xk.xdr_shxym.check_digit" not in result.not_evaluated


# -------------------------------------------------------------------- engine = Great Expectations


@pytest.fixture(scope="module")
def engine_sample(sample):
    return {
        "stock": count_batches(sample / "stock", mode="stock", domain="sgs"),
        "incremental": count_batches(sample / "incremental", mode="incremental", domain="sgs"),
    }


def test_engine_counts_equal_gx_for_every_rule_and_department(checked, engine_sample):
    dom = load_domain("sgs")
    seen = set()
    for name, gx in checked.items():
        batch = "stock" if name == "stock" else name.split("/", 1)[1]
        engine = engine_sample["stock" if name == "stock" else "incremental"]
        g = gx.counts.set_index(["unit_code", "rule_id"]).sort_index()
        e = engine.counts[engine.counts.batch == batch].set_index(["unit_code", "rule_id"]).sort_index()
        assert list(g.index) == list(e.index), name
        for col in (
            "table",
            "field",
            "dimension",
            "severity",
            "element_count",
            "unexpected_count",
            "evaluated",
        ):
            diff = g[col] != e[col]
            assert not diff.any(), (name, col, pd.concat([g[col], e[col]], axis=1)[diff].head(10))
        seen |= set(g.index.get_level_values("rule_id"))
    assert seen == {r.rule_id for r in dom.rules}  # every rule of the pack was compared
    for res in engine_sample.values():
        assert set(res.counts.engine) == {"duckdb"} and not res.gx_rules  # all compiled to SQL


def test_engine_failing_rows_per_department_equal_gx(checked, engine_sample):
    dom = load_domain("sgs")
    unit_col = {"XZXK": "XK_LYDWDM", "XZCF": "CF_SJLYDM"}
    for name, gx in checked.items():
        batch = "stock" if name == "stock" else name.split("/", 1)[1]
        rows = engine_sample["stock" if name == "stock" else "incremental"].rows
        rows = rows[rows.batch == batch]
        for code in ("XZXK", "XZCF"):
            frame = gx.batch.tables[code].frame.set_index("_ROW")
            for dim in ("completeness", "validity", "uniqueness", "consistency", "timeliness"):
                failing = set()
                for rid, res in gx.results.items():
                    r = dom.rule(rid)
                    if r.target == code and r.dimension == dim:
                        failing |= set(res.unexpected_rows)
                want = frame.loc[sorted(failing), unit_col[code]].fillna("").value_counts().to_dict()
                got = rows[rows.table == code].set_index("unit_code")[f"failing_{dim}"]
                assert {k: v for k, v in got.items() if v} == want, (name, code, dim)


# ---------------------------------------------------------------------------- the Dongguan overlay


def test_overlay_removes_exactly_the_register_lag_rejections(sample, checked, truth):
    lag_rows = 0
    for name, path, mode in _batches(sample):
        local = run_check(path, domain="sgs", mode=mode, overlay=OVERLAY)
        t = truth[truth.batch == name]
        lag = t.error_id.str.startswith("L") & t.rule_id.isin(REGISTRY)
        lag_rows += int(lag.sum())
        expected = Counter(zip(t.rule_id[~lag], t.row[~lag], strict=True))
        # the local rule rejects what the provincial one rejected for any other reason (a wrong code)
        for rid, row in list(expected.elements()):
            if rid in REGISTRY:
                expected[(rid.replace("in_registry", "in_local_registry"), row)] += 1
                expected[(rid, row)] -= 1
        expected = +expected
        got = _failing(local)
        assert got == expected, (
            name,
            sorted((got - expected).items())[:8],
            sorted((expected - got).items())[:8],
        )
        assert not set(REGISTRY) & set(local.results) and set(LOCAL) <= set(local.results)
        # nothing else changed: every other rule fails on the same rows as without the overlay
        before = _failing(checked[name])
        for (rid, row), n in before.items():
            if rid not in REGISTRY:
                assert got[(rid, row)] == n, (name, rid, row)
        # the lag warnings stay, with Dongguan's message
        for rid in ("sgs.xk.xdr_shxym.registry_lag", "sgs.cf.xdr_shxym.registry_lag"):
            assert local.domain.rule(rid).meta["message_zh"].startswith("这是新登记的主体")
    assert lag_rows > 0  # the sample does contain register-lag rejections


# ----------------------------------------------------------------------------------------- the pack


def test_every_rule_has_the_contract_meta():
    dom = load_domain("sgs")
    assert len(dom.rules) >= 100
    for r in dom.rules:
        assert r.rule_id.startswith(("sgs.xk.", "sgs.cf.")), r.rule_id
        meta = r.meta
        for key in ("message_zh", "message_tech_zh", "fix_zh", "dimension", "severity", "table", "field"):
            assert meta.get(key), (r.rule_id, key)
        assert meta["message_tech_zh"] != meta["message_zh"], r.rule_id


def test_contract_rule_ids_exist():
    ids = {r.rule_id for r in load_domain("sgs").rules}
    for t in ("xk", "cf"):
        for suffix in (
            "xdr_lb.code",
            "xdr_zjlx.code",
            "fr_zjlx.code",
            "xdr_shxym.check_digit",
            "xdr_zjhm.citizen_id",
            "fr_zjhm.citizen_id",
            "xdr_zzjg.matches_usc",
            "xdr_lb.natural_person_fields",
            "jdrq.not_future",
            "wsh.unique",
            "xdr_mc.clean_text",
            "xdr_shxym.in_registry",
            "xdr_mc.matches_registry",
            "sbsj.within_7wd",
            "nr.no_personal_data",
        ):
            assert f"sgs.{t}.{suffix}" in ids, f"sgs.{t}.{suffix}"
    for rid in (
        "sgs.xk.xklb.code",
        "sgs.xk.zt.code",
        "sgs.cf.cflb.code",
        "sgs.xk.yxqzi.after_yxqz",
        "sgs.cf.gsjzq.window",
        "sgs.cf.nr_fk.required_if_fine",
        "sgs.cf.nr_fk.implies_fine",
        "sgs.cf.nr_fk.unit_wan",
        "sgs.xk.xkjgdm.check_digit",
        "sgs.cf.cfjgdm.check_digit",
        "sgs.xk.lydwdm.check_digit",
        "sgs.cf.sjlydm.check_digit",
        "sgs.cf.sy.no_personal_data",
    ):
        assert rid in ids, rid


def test_the_unit_is_the_department_without_a_map():
    dom = load_domain("sgs")
    assert dom.unit.column_of("XZXK") == "XK_LYDWDM"
    assert dom.unit.column_of("XZCF") == "CF_SJLYDM"
    assert dom.unit.geographic == "none"
