"""Random audit (dq audit): reproducible, stratified by registration type, every unit, masked — for bdc and
for a locality's own pack passed by path (tests/fixtures/xpack: unit JGDM, key DJBH, no ``district:``)."""

from __future__ import annotations

import csv
import random
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.audit import allocate, run_audit, write_checklist

# district -> table -> {DJLX: rows}
PLAN = {
    "420102": {"QLT_FW_FDCQ_YZ": {"100": 40, "200": 30, "300": 6}, "QLF_QL_DYAQ": {"100": 20, "400": 3}},
    "420103": {"QLT_FW_FDCQ_YZ": {"200": 3}, "QLF_QL_DYAQ": {"100": 2}},
    "420104": {"QLT_FW_FDCQ_YZ": {"200": 55}},
    "420111": {"QLT_FW_FDCQ_YZ": {"100": 12, "200": 12, "500": 12, "900": 1}, "QLF_QL_DYAQ": {"100": 12}},
}
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 3)))


def write_batch(folder: Path, shuffle_seed: int | None = None) -> dict[str, list[str]]:
    """The batch of PLAN; returns every raw personal name written."""
    rng = random.Random(5)
    folder.mkdir(parents=True, exist_ok=True)
    tables: dict[str, list[dict]] = {"QLT_FW_FDCQ_YZ": [], "QLF_QL_DYAQ": [], "ZTT_GY_QLR": []}
    names: list[str] = []
    seq = 0
    for q, per_table in PLAN.items():
        for table, strata in per_table.items():
            for djlx, n in strata.items():
                for _ in range(n):
                    seq += 1
                    ywh = f"{q}20241220{seq:06d}"
                    dbr = person(rng)
                    holder = person(rng)
                    names += [dbr, holder]
                    tables[table].append(
                        {
                            "YWH": ywh,
                            "BDCDYH": f"{q}001001GB{seq:05d}F{seq:08d}",
                            "QXDM": q,
                            "DJLX": djlx,
                            "SLSJ": "2024-12-19 09:00:00",
                            "DJSJ": "2024-12-20 10:00:00",
                            "DBR": dbr,
                        }
                    )
                    tables["ZTT_GY_QLR"].append(
                        {"YWH": ywh, "QLRMC": holder, "ZJH": "110102199101010078", "QXDM": q}
                    )
    if shuffle_seed is not None:
        for rows in tables.values():
            random.Random(shuffle_seed).shuffle(rows)
    for table, rows in tables.items():
        with (folder / f"{table}.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    return {"names": names}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    folder = tmp_path_factory.mktemp("audit") / "2024-12-20"
    info = write_batch(folder)
    return folder, info


def population() -> dict[str, Counter]:
    out: dict[str, Counter] = {}
    for q, per_table in PLAN.items():
        c: Counter = Counter()
        for strata in per_table.values():
            c.update(strata)
        out[q] = c
    return out


def ywh(result) -> list[str]:
    return list(result.sample["YWH"])


def test_same_seed_same_sample_different_seed_different(batch, tmp_path):
    folder, _ = batch
    a = run_audit(folder, domain="bdc", size=10, seed=7)
    b = run_audit(folder, domain="bdc", size=10, seed=7)
    c = run_audit(folder, domain="bdc", size=10, seed=8)
    assert ywh(a) == ywh(b)
    assert ywh(a) != ywh(c)
    # the order of the rows in the files does not matter
    shuffled = tmp_path / "2024-12-20"
    write_batch(shuffled, shuffle_seed=99)
    assert ywh(run_audit(shuffled, domain="bdc", size=10, seed=7)) == ywh(a)


def test_every_district_and_stratum_covered_proportionally(batch):
    folder, _ = batch
    size = 10
    res = run_audit(folder, domain="bdc", size=size, seed=3)
    pop = population()
    assert set(res.sample["unit_code"]) == set(PLAN)
    got = Counter(zip(res.sample["unit_code"], res.sample["DJLX"], strict=True))
    for q, strata in pop.items():
        total = sum(strata.values())
        n = sum(got[(q, s)] for s in strata)
        assert n == (total if total <= size else max(size, len(strata)))
        for s, n_h in strata.items():
            assert 1 <= got[(q, s)] <= n_h, (
                "every registration type present is sampled, never more than it has"
            )
    # by hand: 420102 has 60/30/6/3 of types 100/200/300/400; 300 and 400 are below one tenth (quota < 1)
    # and get 1 each; the other 8 go 60:30 → 5.33 / 2.67 → 5 / 3 (largest remainder)
    assert {s: got[("420102", s)] for s in pop["420102"]} == {"100": 5, "200": 3, "300": 1, "400": 1}
    # 420111: 24/12/12/1 → 900 gets 1, then 9 × 24/48 = 4.5, 2.25, 2.25 → 5 / 2 / 2
    assert {s: got[("420111", s)] for s in pop["420111"]} == {"100": 5, "200": 2, "500": 2, "900": 1}
    assert {s: got[("420104", s)] for s in pop["420104"]} == {"200": 10}
    table = res.strata.set_index(["区县代码", "登记类型"])
    assert table.loc[("420102", "100"), "总体"] == 60 and table.loc[("420102", "100"), "抽取"] == 5
    assert table.loc[("420103", "200"), "抽取"] == 3, "a small district is taken whole"
    assert list(res.strata.columns) == ["区县代码", "区县名称", "登记类型", "总体", "抽取"]
    assert set(res.strata["区县名称"]) >= {"江岸区", "江汉区"}


def test_checklist_is_masked_and_has_the_inspector_columns(batch, tmp_path):
    folder, info = batch
    res = run_audit(folder, domain="bdc", size=6, seed=1)
    path = write_checklist(res, tmp_path)
    sheet = pd.read_excel(path, sheet_name="抽查清单", header=2, dtype=str)
    for col in [
        "序号",
        "区县",
        "业务号",
        "不动产单元号",
        "登记类型",
        "登记时间",
        "核查结果",
        "问题描述",
        "核查人",
        "日期",
    ]:
        assert col in sheet.columns, col
    for col in ["表格填写规范", "申请材料齐全", "办理流程规范", "未超时限办理"]:
        assert col in sheet.columns and sheet[col].isna().all(), "check items are left for the inspector"
    assert list(sheet["序号"].astype(int)) == list(range(1, len(res.sample) + 1))
    assert sheet["区县"].iloc[0] == "420102 江岸区"
    assert set(sheet["登记类型"]) >= {"100 首次登记", "200 转移登记"}
    assert sheet["登簿人"].str.fullmatch(r".\*+").all() and sheet["权利人"].str.fullmatch(r".\*+").all()
    book = pd.read_excel(path, sheet_name=None, header=None)
    cells = {str(v) for s in book.values() for v in s.to_numpy().ravel()}
    text = " ".join(cells)
    assert "110102199101010078" not in text
    assert not [n for n in set(info["names"]) if n in cells], "no full name anywhere"
    assert "随机种子 1" in text
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb["抽查清单"]
    assert any("是,否,不适用" in dv.formula1 for dv in ws.data_validations.dataValidation)
    wb.close()


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["100", "200", "300", "400", "500", "900"]), st.integers(0, 300), min_size=1
    ),
    st.integers(1, 40),
)
def test_allocation_properties(pop, size):
    alloc = allocate(pop, size)
    present = {k: n for k, n in pop.items() if n > 0}
    assert set(alloc) == set(present)
    total = sum(present.values())
    if not present:
        return
    assert sum(alloc.values()) == (total if total <= size else max(size, len(present)))
    assert all(1 <= alloc[k] <= present[k] for k in present)
    # without forced minimums it is exactly proportional (largest remainder: within 1 of the quota)
    if total > size and all(size * n / total >= 1 for n in present.values()):
        assert all(abs(alloc[k] - size * n / total) < 1 for k, n in present.items())
    # bigger strata never get fewer than smaller ones
    for a in present:
        for b in present:
            if present[a] > present[b]:
                assert alloc[a] >= alloc[b]


def test_cli_audit(batch, tmp_path):
    from typer.testing import CliRunner

    from toolkit.cli import app

    folder, _ = batch
    res = CliRunner().invoke(
        app, ["audit", "--input", str(folder), "--out", str(tmp_path), "--seed", "3", "--size", "4"]
    )
    assert res.exit_code == 0, res.output
    sheet = pd.read_excel(tmp_path / "audit_checklist.xlsx", sheet_name="抽查清单", header=2, dtype=str)
    assert list(sheet["业务号"]) == ywh(run_audit(folder, domain="bdc", size=4, seed=3))
    missing = CliRunner().invoke(app, ["audit", "--input", str(tmp_path / "nope"), "--out", str(tmp_path)])
    assert missing.exit_code == 2


# ------------------------------------------------------------------------------ a pack with other columns
def test_audit_of_a_pack_with_other_columns(tmp_path):
    """``dq audit --domain <folder>``: the unit is the office (JGDM, named from JGMC), the registrations are
    keyed by DJBH, the applicants joined on DJBH; audit.yaml has no ``district:``."""
    import datetime as dt

    import xpack
    from typer.testing import CliRunner

    from toolkit.cli import app

    folder = tmp_path / "2024-03-04"
    xpack.write_batch(folder, dt.date(2024, 3, 4))
    out = tmp_path / "out"
    args = ["audit", "--domain", str(xpack.PACK), "--input", str(folder), "--out", str(out), "--seed", "5"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    result = run_audit(folder, domain=str(xpack.PACK), seed=5)
    assert result.size == 2  # per_district of the pack's audit.yaml
    assert set(result.sample["unit_name"]) == {"东城窗口", "西城窗口"}
    # every category an office has is sampled: JG001 has three (one of them the wrong 09), so its sample
    # of 2 is raised to 3
    assert Counter(zip(result.sample["unit_code"], result.sample["DJLB"], strict=True)) == {
        ("JG001", "01"): 1,
        ("JG001", "02"): 1,
        ("JG001", "09"): 1,
        ("JG002", "01"): 1,
        ("JG002", "02"): 1,
    }
    sheet = pd.read_excel(out / "audit_checklist.xlsx", sheet_name="抽查清单", header=2, dtype=str)
    assert list(sheet["登记编号"]) == list(result.sample["DJBH"])
    assert set(sheet["机构"]) == {"JG001 东城窗口", "JG002 西城窗口"}
    assert sheet["申请人"].str.fullmatch(r".\*+(、.\*+)*").all()
    assert {"材料齐全", "流程规范", "核查结果"} <= set(sheet.columns)
    book = pd.read_excel(out / "audit_checklist.xlsx", sheet_name=None, header=None)
    assert book["抽查清单"].iloc[0, 0] == "许可登记随机抽查清单"  # the pack's title
    cells = " ".join(str(v) for s in book.values() for v in s.to_numpy().ravel())
    assert "每个机构 2 件（按登记类别分层" in cells
    assert not [n for n in xpack.NAMES if n in cells], "no full name anywhere"
    strata = pd.read_excel(out / "audit_checklist.xlsx", sheet_name="抽样说明", header=2, dtype=str)
    assert list(strata.columns) == ["机构代码", "机构名称", "登记类别代码", "登记类别", "总体", "抽取"]
    assert "01 新办" in set(strata["登记类别"])


def test_audit_yaml_district_must_be_the_unit(tmp_path):
    import shutil

    import xpack

    from toolkit.errors import ConfigError

    folder = tmp_path / "2024-03-04"
    xpack.write_batch(folder, __import__("datetime").date(2024, 3, 4))
    pack = tmp_path / "pack"
    shutil.copytree(xpack.PACK, pack)
    text = (pack / "audit.yaml").read_text(encoding="utf-8")
    (pack / "audit.yaml").write_text(text + "district: JGDM\n", encoding="utf-8")
    assert len(run_audit(folder, domain=str(pack), size=1).sample) >= 2  # the unit's own column: fine
    (pack / "audit.yaml").write_text(text + "district: QXDM\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        run_audit(folder, domain=str(pack))
    assert "district" in exc.value.zh and "JGDM" in exc.value.zh and "remove district" in exc.value.fix_en
