"""The housing provident fund pack (``gjj``) end to end on its sample data.

* what ``dq check`` (Great Expectations) finds equals what the generator injected (``truth.csv``), row by
  row and centre by centre, for every rule — rules with nothing injected find nothing;
* the count engine (DuckDB) and Great Expectations agree on every rule, centre and batch;
* ``dq reconcile`` finds exactly the injected misfiled report lines (``reconcile_truth.csv``), agrees with
  the report rules of ``counts.csv``, and its computed figures equal a hand computation from the CSV files;
* the lists (``dormant.csv``, ``multi_account.csv``) hold exactly the accounts the generator's own oracle
  flags, grouped by a stable hash;
* the pack honours the contract (rule ids, meta, policy parameters).
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pytest

from toolkit.check import run_check
from toolkit.domain import load_domain
from toolkit.engine import count_batches
from toolkit.lists import group_key, list_specs
from toolkit.outputs import write_outputs
from toolkit.reconcile import DIFFERS, reconcile, write_reconcile
from toolkit.regions import province_prefectures
from toolkit.samples import generate_sample

SEED = 12  # this seed's three months hold a carry-forward error as well


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gjj_sample")
    generate_sample("gjj", out, seed=SEED, districts=4, days=3, stock_rows=480, error_scale=5.0)
    return out


def _batches(root: Path) -> list[tuple[str, Path, str]]:
    months = sorted(p for p in (root / "incremental").iterdir() if p.is_dir())
    return [("stock", root / "stock", "stock")] + [
        (f"incremental/{p.name}", p, "incremental") for p in months
    ]


@pytest.fixture(scope="module")
def checked(sample):
    return {
        name: run_check(path, domain="gjj", mode=mode, engine="gx") for name, path, mode in _batches(sample)
    }


@pytest.fixture(scope="module")
def truth(sample) -> pd.DataFrame:
    return pd.read_csv(sample / "truth.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)


@pytest.fixture(scope="module")
def reconciled(sample):
    return reconcile(sorted((sample / "incremental").iterdir()), domain="gjj")


# ------------------------------------------------------------------------------------------------ the pack


CONTRACT_RULES = """
gjj.dwxx.dwzh.unique gjj.grxx.grzh.unique gjj.grmx.ywlsh.unique gjj.dkzh.dkzh.unique
gjj.grxx.zjhm.citizen_id gjj.dkzh.jkrzjh.citizen_id gjj.dwxx.tyshxydm.check_digit
gjj.dwxx.dwjcbl.range gjj.dwxx.grjcbl.range gjj.dwxx.dwjcbl.scale gjj.grxx.grjcjs.range
gjj.grxx.gryjce.matches gjj.grxx.dwyjce.matches gjj.grxx.grzhye.closed_zero gjj.grxx.grzhye.parts_sum
gjj.dwxx.dwzhye.sum_of_persons gjj.grxx.dwzh.exists gjj.grmx.grzh.exists gjj.dkzh.jkrgjjzh.exists
gjj.grmx.fse.sign gjj.grmx.tqyy.required_if_withdrawal gjj.grmx.frozen.no_withdrawal gjj.dkzh.dkye.range
gjj.dkzh.htdkje.cap gjj.dkzh.dkqs.range gjj.dkzh.age_term.cap gjj.dkzh.jkrzjh.one_open_loan
gjj.grxx.zjhm.one_active_account gjj.grxx.dormant
""".split()


def test_contract_rule_ids_and_meta():
    dom = load_domain("gjj")
    ids = {r.rule_id for r in dom.rules}
    assert len(ids) == len(dom.rules) > 100
    assert set(CONTRACT_RULES) <= ids, set(CONTRACT_RULES) - ids
    for table, spec in dom.tables.items():
        short = table.lower()
        for f, fs in spec["fields"].items():
            if fs.get("required") is True:
                assert f"gjj.{short}.{f.lower()}.required" in ids, (table, f)
            if fs.get("codes") or fs.get("code_list"):
                assert f"gjj.{short}.{f.lower()}.code" in ids, (table, f)
    spec = dom.config["reconcile"]
    for line in spec["lines"]:
        assert f"gjj.tjbb.{line}.matches" in ids
    for line in spec["identities"]:
        assert f"gjj.tjbb.{line}.identity" in ids
    for r in dom.rules:
        for key in ("message_zh", "fix_zh", "dimension", "severity", "table", "field"):
            assert r.meta.get(key), (r.rule_id, key)
        assert "{" not in r.meta["message_zh"] and "{" not in r.meta["fix_zh"], r.rule_id


def test_unit_is_the_centre_named_from_the_region_data():
    dom = load_domain("gjj")
    assert dom.unit.column == "CSDM" and dom.unit.geographic == "prefecture" and dom.period == "month"
    names = dict(province_prefectures("62"))
    assert len(names) == 14
    for code, name in names.items():
        assert dom.unit.name_of(code) == name and dom.unit.is_scored(code)
    assert not dom.unit.is_scored("620102")  # a county is not a centre


# ------------------------------------------------------------------------------------------------ truth


def test_failing_rows_equal_truth_row_by_row(checked, truth):
    for name, result in checked.items():
        got = Counter((rid, str(row)) for rid, res in result.results.items() for row in res.unexpected_rows)
        t = truth[truth.batch == name]
        expected = Counter(zip(t.rule_id, t.row, strict=True))
        assert got == expected, (
            name,
            sorted((got - expected).items())[:10],
            sorted((expected - got).items())[:10],
        )


def test_counts_equal_truth_centre_by_centre(checked, truth):
    for name, result in checked.items():
        assert not result.not_evaluated, (name, result.not_evaluated)
        counts = result.counts[result.counts.evaluated]
        got = {
            (u, r): n
            for u, r, n in zip(counts.unit_code, counts.rule_id, counts.unexpected_count, strict=True)
        }
        expected = truth[truth.batch == name].groupby(["CSDM", "rule_id"]).size().to_dict()
        assert {k: v for k, v in got.items() if v} == expected, name


def test_truth_covers_the_kinds_of_check(truth):
    kinds = {rid.rsplit(".", 1)[1] for rid in truth.rule_id}
    needed = {
        "required",
        "code",
        "unique",
        "citizen_id",
        "check_digit",
        "date",
        "month",
        "scale",
        "range",
        "matches",
        "closed_zero",
        "parts_sum",
        "sum_of_persons",
        "exists",
        "one_active_account",
        "dormant",
        "policy",
        "cap",
        "in_month",
    }
    assert needed <= kinds, needed - kinds
    months = sorted(b for b in truth.batch.unique() if b.startswith("incremental/"))
    assert len(months) == 3


def test_errors_differ_by_centre(truth):
    centres = [code for code, _ in province_prefectures("62")][:4]
    inc = truth[truth.batch.str.startswith("incremental/") & truth.CSDM.isin(centres)]
    per = inc.groupby("CSDM").size()
    assert len(per) == 4 and per.max() > 2 * per.min()


# ------------------------------------------------------------------------------------------------ engine


def test_engine_counts_equal_gx_for_every_rule_and_centre(sample, checked):
    engine = {
        "stock": count_batches(sample / "stock", mode="stock", domain="gjj"),
        "incremental": count_batches(sample / "incremental", mode="incremental", domain="gjj"),
    }
    for res in engine.values():
        assert set(res.counts.engine) == {"duckdb"} and not res.gx_rules
    for name, gx in checked.items():
        e = engine["stock" if name == "stock" else "incremental"]
        batch = name.split("/")[-1]
        g = gx.counts.set_index(["unit_code", "rule_id"]).sort_index()
        ec = e.counts[e.counts.batch == batch].set_index(["unit_code", "rule_id"]).sort_index()
        assert list(g.index) == list(ec.index), name
        for col in ("element_count", "unexpected_count", "evaluated"):
            diff = g[col] != ec[col]
            assert not diff.any(), (name, col, pd.concat([g[col], ec[col]], axis=1)[diff].head(10))
        assert e.as_of[batch] == gx.as_of


# ------------------------------------------------------------------------------------------------ reconcile


def test_reconcile_finds_exactly_the_injected_misfiled_lines(sample, reconciled):
    rt = pd.read_csv(sample / "reconcile_truth.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    expected = Counter(zip(rt.batch.str.split("/").str[-1], rt.CSDM, rt.HC, rt.check, strict=True))
    d = reconciled.differences
    got = Counter(zip(d.batch, d.unit_code, d.line, d["check"], strict=True))
    assert got == expected
    assert "carry" in {c for *_, c in expected}  # the seed holds a carry-forward error
    assert reconciled.exit_code == 1


def test_reconcile_agrees_with_the_report_rules(checked, reconciled):
    rows = reconciled.rows[reconciled.rows["check"].isin(["matches", "identity"])]
    for name, result in checked.items():
        if name == "stock":
            continue
        batch = name.split("/")[-1]
        c = result.counts[result.counts.rule_id.str.match(r"gjj\.tjbb\.[0-9]+\.(matches|identity)$")]
        got = rows[(rows.batch == batch) & (rows.status == DIFFERS)].groupby(["unit_code", "rule_id"]).size()
        want = c[c.unexpected_count > 0].set_index(["unit_code", "rule_id"]).unexpected_count
        assert got.to_dict() == want.to_dict(), batch
        compared = rows[rows.batch == batch].groupby("rule_id").size()  # every filed row of the line
        assert compared.to_dict() == c.groupby("rule_id").element_count.sum()[lambda s: s > 0].to_dict()


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _yuan_to_wan(x: Decimal) -> str:
    return str((x / 10000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def test_reconcile_computed_figures_by_hand(sample, reconciled):
    """Lines 101, 102, 108, 109, 119, 207, 211 of every centre and month, computed here from the CSV files."""
    for folder in sorted((sample / "incremental").iterdir()):
        grmx, grxx, dkzh = (_read(folder / f"{t}.csv") for t in ("GRMX", "GRXX", "DKZH"))

        def amount(v: str) -> Decimal | None:
            try:
                return Decimal(v) if v and v.lstrip("-").replace(".", "", 1).isdigit() else None
            except ArithmeticError:
                return None

        hand: dict[tuple[str, str], str] = {}
        by = defaultdict(list)
        for r in grmx:
            by[r["CSDM"]].append(r)
        for code, rs in by.items():
            dep = [r for r in rs if r["GJHTQYWLX"] in ("01", "02")]
            hand[(code, "101")] = str(len({r["DWZH"] for r in dep if r["DWZH"]}))
            hand[(code, "102")] = str(len({r["GRZH"] for r in dep if r["GRZH"]}))
            hand[(code, "108")] = _yuan_to_wan(sum((amount(r["FSE"]) or Decimal(0) for r in dep), Decimal(0)))
            out = [r for r in rs if r["GJHTQYWLX"] in ("11", "12")]
            hand[(code, "109")] = _yuan_to_wan(
                -sum((amount(r["FSE"]) or Decimal(0) for r in out), Decimal(0))
            )
        for code in {r["CSDM"] for r in grxx if r["CSDM"]}:
            hand[(code, "119")] = str(sum(r["CSDM"] == code and r["GRZHZT"] in ("01", "02") for r in grxx))
        for code in {r["CSDM"] for r in dkzh if r["CSDM"]}:
            ye = [amount(r["DKYE"]) for r in dkzh if r["CSDM"] == code]
            hand[(code, "207")] = _yuan_to_wan(sum((x for x in ye if x is not None), Decimal(0)))
            hand[(code, "211")] = str(sum(1 for x in ye if x is not None and x > 0))
        rows = reconciled.rows[
            (reconciled.rows.batch == folder.name) & (reconciled.rows["check"] == "matches")
        ]
        seen = 0
        for code, line, expected in zip(rows.unit_code, rows.line, rows.expected, strict=True):
            if (code, line) in hand:
                assert Decimal(expected) == Decimal(hand[(code, line)]), (folder.name, code, line)
                seen += 1
        assert seen >= 4 * 6, folder.name


def test_reconcile_basis_rows_make_up_the_computed_figures(reconciled):
    b = reconciled.basis
    rows = reconciled.rows[reconciled.rows["check"] == "matches"]
    for r in rows.itertuples():
        g = b[(b.batch == r.batch) & (b.unit_code == r.unit_code) & (b.line == r.line)]
        assert r.basis_rows == len(g)
        if r.line in ("108", "109", "204", "207"):
            total = sum((Decimal(x) for x in g.amount), Decimal(0))
            assert Decimal(_yuan_to_wan(total)) == Decimal(r.expected), (r.batch, r.unit_code, r.line)
        elif r.line in ("101", "102"):
            assert len(set(g.counted)) == int(r.expected)
        else:
            assert len(g) == int(r.expected)


def test_reconcile_carry_from_the_sibling_month_and_a_hand_made_error(sample, tmp_path):
    src = sorted((sample / "incremental").iterdir())
    for p in src[-2:]:
        shutil.copytree(p, tmp_path / p.name)
    last = tmp_path / src[-1].name
    rows = _read(last / "TJBB.csv")
    code = rows[0]["CSDM"]
    for r in rows:
        if r["CSDM"] == code and r["HC"] == "103":
            r["BQZ"] = str(Decimal(r["BQZ"]) + Decimal("1.50"))
    with (last / "TJBB.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    res = reconcile([last], domain="gjj")  # last month is read from the sibling folder
    d = res.differences
    mine = d[d.unit_code == code]
    assert {("103", "carry"), ("114", "identity")} <= set(zip(mine.line, mine["check"], strict=True))
    carry = mine[mine["check"] == "carry"].iloc[0]
    assert Decimal(carry.difference) == Decimal("1.5")
    paths = write_reconcile(res, tmp_path / "out")
    assert {p.name for p in paths.values()} == {"reconcile.csv", "reconcile_basis.csv", "reconcile.xlsx"}


# ------------------------------------------------------------------------------------------------ lists


def test_lists_hold_exactly_the_flagged_accounts(sample, checked, truth, tmp_path):
    assert [s.name for s in list_specs(load_domain("gjj"))] == ["dormant", "multi_account"]
    rules = {"dormant": "gjj.grxx.dormant", "multi_account": "gjj.grxx.zjhm.one_active_account"}
    found = Counter()
    for name, result in checked.items():
        out = tmp_path / name.replace("/", "_")
        write_outputs(result, out)
        grxx = {r["GRZH"]: r for r in _read(result.batch.folder / "GRXX.csv")}
        for lst, rid in rules.items():
            t = truth[(truth.batch == name) & (truth.rule_id == rid) & (truth.table == "GRXX")]
            listed = _read(out / f"{lst}.csv")
            assert Counter(r["record_key"] for r in listed) == Counter(t.key), (name, lst)
            assert (out / f"{lst}.xlsx").is_file()
            found[lst] += len(listed)
            if lst == "multi_account":
                by_hash = defaultdict(set)
                for r in listed:
                    raw = grxx[r["record_key"]]["ZJHM"]
                    assert r["group_key"] == group_key("gjj", raw) and len(r["group_key"]) == 16
                    assert r["证件号码"] != raw and "*" in r["证件号码"]
                    by_hash[r["group_key"]].add(raw)
                assert all(len(ids) == 1 for ids in by_hash.values())
                assert all(n >= 2 for n in Counter(r["group_key"] for r in listed).values())
            else:
                for r in listed:
                    assert int(r["封存月数"]) >= 24 and int(r["无业务月数"]) >= 24
    assert found["dormant"] and found["multi_account"]


def test_group_key_is_stable_and_keyed(monkeypatch):
    a = group_key("gjj", "620102199001011234")
    assert a == group_key("gjj", "620102199001011234") != group_key("gjj", "620102199001011242")
    monkeypatch.setenv("DQ_GROUP_KEY", "secret of the province")
    assert group_key("gjj", "620102199001011234") != a
    assert group_key("gjj", "") == "" and group_key("gjj", None) == ""
