"""Tests for the bdc sample generator (expectations/bdc/sample.py, ``dq sample``)."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from toolkit import regions, validators
from toolkit.samples import sample_module
from toolkit.workdays import WorkdayCalendar

sample = sample_module("bdc")

PACK = Path(sample.__file__).resolve().parent
DICTIONARY = yaml.safe_load((PACK / "dictionary.yaml").read_text(encoding="utf-8"))
FIELDS = {code: list(spec["fields"]) for code, spec in DICTIONARY["tables"].items()}
CODES = DICTIONARY["code_lists"]
FDCQ, QLR, DYAQ, JRBW, DBRZ = "QLT_FW_FDCQ_YZ", "ZTT_GY_QLR", "QLF_QL_DYAQ", "JR_BW", "DJ_DBRZ"
END = dt.date(2024, 12, 31)
SMALL = {"districts": 3, "days": 5, "stock_rows": 300}

BDCQZH_RE = re.compile(r"鄂\((19|20)[0-9]{2}\)[\u4e00-\u9fa5]{1,20}不动产权第[0-9]{7}号")
BIZMSGID_RE = re.compile(r"[0-9]{6}[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{6}")
DH_RE = re.compile(r"1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}")
CHINESE_NAME_RE = re.compile(r"[\u4e00-\u9fa5]{2,3}")
MIN = dt.timedelta(minutes=1)


# ------------------------------------------------------------------------------------------------ helpers


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        return header, [dict(zip(header, row, strict=True)) for row in reader]


def rows(path: Path) -> list[dict[str, str]]:
    return read(path)[1]


def batches(root: Path) -> list[Path]:
    inc = root / "incremental"
    return (
        [root / "stock", *sorted(p for p in inc.iterdir() if p.is_dir())]
        if inc.is_dir()
        else [root / "stock"]
    )


def label(root: Path, batch: Path) -> str:
    return batch.relative_to(root).as_posix()


def ts(value: str) -> dt.datetime:
    parsed = validators.parse_datetime(value)
    assert parsed is not None, value
    return parsed


def all_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def generate(root: Path, **options: Any) -> dict[str, Any]:
    return sample.generate(root, **options)


# ------------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("small")
    return root, generate(root, seed=42, **SMALL)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("clean")
    return root, generate(root, seed=5, districts=4, days=12, stock_rows=500, error_scale=0)


@pytest.fixture(scope="module")
def heavy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """Many errors of every kind, for the truth checks."""
    root = tmp_path_factory.mktemp("heavy")
    return root, generate(root, seed=23, districts=8, days=14, stock_rows=3000, error_scale=5)


@pytest.fixture(scope="module")
def trend(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("trend")
    return root, generate(root, seed=1, districts=6, days=45, stock_rows=4000)


# ------------------------------------------------------------------------------------------------ layout


def test_layout_and_headers(small: tuple[Path, dict[str, Any]]) -> None:
    root, summary = small
    assert sorted(p.name for p in (root / "stock").iterdir()) == sorted(f"{t}.csv" for t in (FDCQ, QLR, DYAQ))
    days = sorted(p.name for p in (root / "incremental").iterdir())
    assert days == [d.isoformat() for d in sample.incremental_days(END, 3, 5)]
    assert days[-1] == "2024-12-31" and len(days) == 5
    cal = WorkdayCalendar()
    for day in days:
        assert cal.is_workday(dt.date.fromisoformat(day))
        folder = root / "incremental" / day
        assert sorted(p.name for p in folder.iterdir()) == sorted(f"{t}.csv" for t in FIELDS)
    for batch in batches(root):
        for path in batch.iterdir():
            raw = path.read_bytes()
            assert not raw.startswith(b"\xef\xbb\xbf")
            assert read(path)[0] == FIELDS[path.stem], path
    assert summary["batches"] == 6
    assert summary["rows"]["stock"][FDCQ] == 300 == len(rows(root / "stock" / f"{FDCQ}.csv"))
    assert summary["rows"]["stock"][DYAQ] == 75
    assert set(summary["as_of"]) == {"stock", *(f"incremental/{d}" for d in days)}
    assert isinstance(summary["summary"], str)


def test_districts_file(small: tuple[Path, dict[str, Any]]) -> None:
    root, _ = small
    assert (root / "districts.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    header, districts = read(root / "districts.csv")
    assert header == ["QXDM", "QXMC", "quality"]
    counties = dict(regions.province_counties("42"))
    assert [d["QXDM"] for d in districts] == [list(counties)[i * len(counties) // 3] for i in range(3)]
    for d in districts:
        assert counties[d["QXDM"]] == d["QXMC"]
        assert 0.4 <= float(d["quality"]) <= 1.6
    assert len({d["quality"] for d in districts}) == 3


def test_same_seed_same_bytes(small: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    root, _ = small
    again = tmp_path / "again"
    generate(again, seed=42, **SMALL)
    assert all_files(root) == all_files(again)


def test_other_seed_other_data(small: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    root, _ = small
    other = tmp_path / "other"
    generate(other, seed=43, **SMALL)
    a, b = all_files(root), all_files(other)
    assert a.keys() == b.keys()
    assert a[f"stock/{FDCQ}.csv"] != b[f"stock/{FDCQ}.csv"]
    assert a["truth.csv"] != b["truth.csv"]


def test_stale_batches_removed(tmp_path: Path) -> None:
    generate(tmp_path, seed=1, districts=1, days=3, stock_rows=10)
    generate(tmp_path, seed=1, districts=1, days=1, stock_rows=10)
    assert [p.name for p in (tmp_path / "incremental").iterdir()] == ["2024-12-31"]


def test_stock_only(tmp_path: Path) -> None:
    summary = generate(tmp_path, districts=2, stock_rows=50, incremental=False)
    assert not (tmp_path / "incremental").exists()
    assert summary["batches"] == 1
    assert len(rows(tmp_path / "stock" / f"{FDCQ}.csv")) == 50


def test_empty_stock(tmp_path: Path) -> None:
    generate(tmp_path, districts=1, days=1, stock_rows=0)
    assert rows(tmp_path / "stock" / f"{FDCQ}.csv") == []
    assert read(tmp_path / "stock" / f"{QLR}.csv")[0] == FIELDS[QLR]


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path, districts=0)
    with pytest.raises(ValueError):
        generate(tmp_path, districts=10_000)
    with pytest.raises(ValueError):
        generate(tmp_path, stock_rows=-1)


def test_incremental_days() -> None:
    cal = WorkdayCalendar()
    days = sample.incremental_days(END, 3, None)
    assert days[0] > dt.date(2021, 12, 31) and days[-1] == END
    assert all(cal.is_workday(d) for d in days) and days == sorted(set(days))
    assert 700 < len(days) < 780
    assert sample.incremental_days(END, 3, 10) == days[-10:]
    assert sample.incremental_days(dt.date(2024, 10, 6), 1, 1) == [dt.date(2024, 9, 30)]  # national day


# ------------------------------------------------------------------------------------------------ clean data


def _registrations(batch: Path) -> tuple[list[dict[str, str]], list[dict[str, str]], list[dict[str, str]]]:
    return rows(batch / f"{FDCQ}.csv"), rows(batch / f"{QLR}.csv"), rows(batch / f"{DYAQ}.csv")


def test_clean_sample_has_no_errors(clean: tuple[Path, dict[str, Any]]) -> None:
    root, summary = clean
    assert rows(root / "truth.csv") == []
    assert summary["errors"]["total"] == 0


def test_clean_registrations(clean: tuple[Path, dict[str, Any]]) -> None:
    root, _ = clean
    districts = {d["QXDM"]: d["QXMC"] for d in rows(root / "districts.csv")}
    seen: set[str] = set()
    for batch in batches(root):
        fdcq, _, dyaq = _registrations(batch)
        for r in fdcq + dyaq:
            assert r["YWH"] not in seen, r["YWH"]  # unique across the whole sample
            seen.add(r["YWH"])
            assert len(r["YWH"]) <= 32 and r["YWH"].startswith(r["QXDM"])
            assert r["QXDM"] in districts and regions.is_county_code(r["QXDM"])
            assert validators.is_unit_number(r["BDCDYH"]) and r["BDCDYH"][:6] == r["QXDM"]
            assert r["DJLX"] in CODES["DJLX"]
            assert validators.is_datetime(r["SLSJ"]) and validators.is_datetime(r["DJSJ"])
            assert r["SLSJ"] <= r["DJSJ"]
            assert CHINESE_NAME_RE.fullmatch(r["DBR"]), r["DBR"]
            djsj = ts(r["DJSJ"])
            assert (
                dt.time(8, 30) <= djsj.time() <= dt.time(17, 30) and dt.date(2005, 1, 1) <= djsj.date() <= END
            )
        for r in fdcq:
            assert r["QLLX"] in CODES["QLLX"] and r["QSZT"] in CODES["QSZT"]
            for f in ("FDZL", "DBR", "DJJG"):
                assert validators.is_clean_text(r[f]) and r[f]
            assert r["FDZL"].startswith("湖北省") and districts[r["QXDM"]] in r["FDZL"]
            assert r["DJJG"] == f"{districts[r['QXDM']]}不动产登记中心"
            assert validators.is_decimal_between(r["JZMJ"], 30, 300) and re.fullmatch(r"\d+\.\d\d", r["JZMJ"])
            if r["DJLX"] in ("100", "200", "300", "500"):
                assert r["BDCQZH"]
            if r["BDCQZH"]:
                assert BDCQZH_RE.fullmatch(r["BDCQZH"]) and districts[r["QXDM"]] in r["BDCQZH"]
                assert r["BDCQZH"][2:6] == r["DJSJ"][:4]
        for r in dyaq:
            assert r["DYFS"] in CODES["DYFS"]
            amount, empty = ("BDBZZQSE", "ZGZQSE") if r["DYFS"] == "1" else ("ZGZQSE", "BDBZZQSE")
            assert validators.is_decimal_between(r[amount], 0, strict_min=True) and r[empty] == ""
            assert ts(r["ZWLXQSSJ"]) < ts(r["ZWLXJSSJ"])
            assert validators.is_clean_text(r["DYQR"]) and r["DYQR"].endswith(f"{districts[r['QXDM']]}支行")
            assert r["SLSJ"][:10] == r["DJSJ"][:10] and r["SLSJ"] < r["DJSJ"]


def test_clean_holders(clean: tuple[Path, dict[str, Any]]) -> None:
    root, _ = clean
    counties = {c for c, _ in regions.province_counties("42")}
    today = dt.date(2024, 12, 31)
    stock_fdcq, stock_holders, _ = _registrations(root / "stock")
    assert 1.3 < len(stock_holders) / len(stock_fdcq) < 1.6
    for batch in batches(root):
        fdcq, holders, dyaq = _registrations(batch)
        units = {r["YWH"]: r for r in fdcq}
        groups: dict[str, list[dict[str, str]]] = defaultdict(list)
        for h in holders:
            groups[h["YWH"]].append(h)
        assert set(groups) == set(units), "every fdcq registration has holders, and only they"
        assert not {r["YWH"] for r in dyaq} & set(groups)
        for ywh, group in groups.items():
            reg = units[ywh]
            assert [h["SXH"] for h in group] == [str(i + 1) for i in range(len(group))]
            gyfs = {h["GYFS"] for h in group}
            assert len(gyfs) == 1
            (g,) = gyfs
            low, high = {"0": (1, 1), "1": (2, 2), "2": (2, 3)}[g]
            assert low <= len(group) <= high
            if g == "2":
                assert sum(Decimal(h["QLBL"]) for h in group) == 100
                assert all(validators.is_decimal_between(h["QLBL"], 0, 100, strict_min=True) for h in group)
            else:
                assert all(h["QLBL"] == "" for h in group)
            for h in group:
                assert h["BDCDYH"] == reg["BDCDYH"] and h["QXDM"] == reg["QXDM"]
                assert validators.is_clean_text(h["QLRMC"]) and h["QLRMC"]
                assert h["DH"] == "" or DH_RE.fullmatch(h["DH"])
                if h["QLRLX"] == "1":
                    assert h["ZJZL"] == "1" and validators.is_citizen_id(h["ZJH"], today=today)
                    assert h["ZJH"][:6] in counties and "1940" <= h["ZJH"][6:10] <= "2004"
                    assert CHINESE_NAME_RE.fullmatch(h["QLRMC"])
                else:
                    assert h["QLRLX"] == "2" and h["ZJZL"] == "8" and validators.is_credit_code(h["ZJH"])
                    assert h["QLRMC"].endswith("有限公司")


def test_clean_time_limits(clean: tuple[Path, dict[str, Any]]) -> None:
    root, _ = clean
    cal = WorkdayCalendar()
    fast_seen = 0
    for batch in batches(root)[1:]:
        day = dt.date.fromisoformat(batch.name)
        fdcq, holders, dyaq = _registrations(batch)
        enterprise = {h["YWH"] for h in holders if h["QLRLX"] == "2"}
        for r in fdcq:
            slsj, djsj = ts(r["SLSJ"]), ts(r["DJSJ"])
            assert djsj.date() == day
            if r["DJLX"] == "200" and r["YWH"] in enterprise:
                fast_seen += 1
                assert 10 * MIN <= djsj - slsj <= 80 * MIN
            else:
                assert 0 <= cal.workdays_elapsed(slsj, djsj) <= 3
                assert cal.is_workday(slsj)
        for r in dyaq:
            slsj, djsj = ts(r["SLSJ"]), ts(r["DJSJ"])
            assert djsj.date() == day and slsj <= djsj and cal.workdays_elapsed(slsj, djsj) == 0
    assert fast_seen > 0


def test_clean_messages_and_logs(clean: tuple[Path, dict[str, Any]]) -> None:
    root, summary = clean
    for batch in batches(root)[1:]:
        day = dt.date.fromisoformat(batch.name)
        fdcq, _, dyaq = _registrations(batch)
        messages, logs = rows(batch / f"{JRBW}.csv"), rows(batch / f"{DBRZ}.csv")
        regs = {r["YWH"]: r for r in fdcq + dyaq}
        assert sorted(m["YWH"] for m in messages) == sorted(regs)  # exactly one message each
        assert len({m["BIZMSGID"] for m in messages}) == len(messages)
        latest = max(ts(v) for r in fdcq + dyaq for v in (r["SLSJ"], r["DJSJ"]))
        for m in messages:
            reg = regs[m["YWH"]]
            jrsj = ts(m["JRSJ"])
            assert m["JRZT"] == "1" and MIN <= jrsj - ts(reg["DJSJ"]) <= 180 * MIN
            assert BIZMSGID_RE.fullmatch(m["BIZMSGID"]) and m["BIZMSGID"][:6] == m["QXDM"] == reg["QXDM"]
            assert m["BIZMSGID"][6:12] == f"{jrsj:%y%m%d}"
            assert re.fullmatch(r"[1-9][0-9]{6}", m["RECTYPE"]) and m["RECTYPE"][0] == reg["DJLX"][0]
            latest = max(latest, jrsj)
        assert summary["as_of"][label(root, batch)] == f"{latest:%Y-%m-%d %H:%M:%S}"
        expected = Counter((r["QXDM"], r["DJLX"]) for r in fdcq + dyaq)
        assert {(g["QXDM"], g["DJLX"]): int(g["SL"]) for g in logs} == expected
        assert all(g["RZRQ"] == day.isoformat() and g["DJLX"] in CODES["DJLX"] for g in logs)
        assert len(logs) == len(expected)


# ------------------------------------------------------------------------------------------------ truth


def _broken(rule: str, value: str, row: dict[str, str]) -> bool | None:
    """Does ``value`` (the rule's field in the truth row) break ``rule`` by itself? ``None``: not a value rule."""
    table_check = {
        "bdc.fdcq.jzmj.range": lambda v: not validators.is_decimal_between(v, 0, 100000, strict_min=True),
        "bdc.dyaq.bdbzzqse.range": lambda v: not validators.is_decimal_between(v, 0, strict_min=True),
        "bdc.dyaq.zgzqse.range": lambda v: not validators.is_decimal_between(v, 0, strict_min=True),
        "bdc.qlr.qlbl.range": lambda v: not validators.is_decimal_between(v, 0, 100, strict_min=True),
        "bdc.fdcq.bdcqzh.format": lambda v: not BDCQZH_RE.fullmatch(v),
        "bdc.qlr.dh.format": lambda v: not DH_RE.fullmatch(v),
        "bdc.qlr.zjh.citizen_id": lambda v: not validators.is_citizen_id(v),
        "bdc.qlr.zjh.credit_code": lambda v: not validators.is_credit_code(v),
        "bdc.qlr.sxh.integer": lambda v: not validators.is_int_at_least(v, 1),
        "bdc.dbrz.sl.integer": lambda v: not validators.is_int_at_least(v, 0),
        "bdc.jrbw.bizmsgid.format": lambda v: not BIZMSGID_RE.fullmatch(v),
        "bdc.jrbw.rectype.format": lambda v: not re.fullmatch(r"[1-9][0-9]{6}", v),
        "bdc.dbrz.rzrq.date": lambda v: not validators.is_date(v),
        "bdc.fdcq.ywh.length": lambda v: len(v) > 32,
        "bdc.fdcq.djsj.after_slsj": lambda v: ts(row["SLSJ"]) > ts(v),
        "bdc.dyaq.djsj.after_slsj": lambda v: ts(row["SLSJ"]) > ts(v),
        "bdc.dyaq.zwlxjssj.after_start": lambda v: ts(row["ZWLXQSSJ"]) >= ts(v),
    }
    if rule in table_check:
        return bool(table_check[rule](value))
    if rule.endswith(".roles.separated"):
        return bool(row["SLRY"]) and row["SLRY"] == row["SHRY"] == row["DBR"]
    check = rule.rsplit(".", 1)[1]
    if rule.endswith(".qxdm.code"):
        return not regions.is_county_code(value)
    if check == "required":
        return value == ""
    if check == "clean_text":
        return bool(value) and not validators.is_clean_text(value)
    if check == "datetime":
        return bool(value) and not validators.is_datetime(value)
    if check == "plausible":
        return validators.is_datetime(value) and not validators.is_plausible_datetime(value)
    if check == "format" and rule.endswith("bdcdyh.format"):
        return not validators.is_unit_number(value)
    if check == "qxdm_prefix":
        return value[:6] != row["QXDM"]
    if check == "code":
        field = rule.split(".")[2].upper()
        return value not in CODES[field]
    return None


def _check_truth(root: Path) -> set[str]:
    """Every truth row points at a row whose value (or relation) really breaks the rule; returns the rules."""
    truth = rows(root / "truth.csv")
    assert read(root / "truth.csv")[0] == list(sample.TRUTH_COLUMNS)
    assert (root / "truth.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    by_batch: dict[str, list[dict[str, str]]] = defaultdict(list)
    for t in truth:
        by_batch[t["batch"]].append(t)
    rules_seen: set[str] = set()
    assert len({(t["batch"], t["rule_id"], t["row"]) for t in truth}) == len(truth), (
        "one truth row per rule × row"
    )
    batch_of_error = {}
    for t in truth:
        assert batch_of_error.setdefault(t["error_id"], t["batch"]) == t["batch"]
    for name, items in by_batch.items():
        batch = root / name
        tables = {p.stem: rows(p) for p in batch.iterdir()}
        regs = {r["YWH"]: r for r in tables[FDCQ] + tables[DYAQ]}
        holders: dict[str, list[dict[str, str]]] = defaultdict(list)
        for h in tables[QLR]:
            holders[h["YWH"]].append(h)
        messages: dict[str, list[dict[str, str]]] = defaultdict(list)
        for m in tables.get(JRBW, []):
            messages[m["YWH"]].append(m)
        for t in items:
            table_rows = tables[t["table"]]
            index = int(t["row"]) - 2
            assert 0 <= index < len(table_rows), t
            row = table_rows[index]
            rule = t["rule_id"]
            rules_seen.add(rule)
            assert sample.RULES[rule] == (t["table"], t["field"])
            key = (
                "|".join(row[k] for k in ("QXDM", "RZRQ", "DJLX"))
                if t["table"] == DBRZ
                else row["BIZMSGID" if t["table"] == JRBW else "YWH"]
            )
            assert key == t["key"], t
            if rule == "bdc.qlr.qlbl.sum_100":
                group = [h for h in holders[row["YWH"]] if h["GYFS"] == "2"]
                assert group[0] is row and t["QXDM"] == min(h["QXDM"] for h in group)
                assert sum(Decimal(h["QLBL"]) for h in group) != 100
                continue
            assert row["QXDM"] == t["QXDM"], t
            verdict = _broken(rule, row[t["field"]], row)
            if verdict is not None:
                assert verdict, (t, row[t["field"]])
            elif rule.endswith(".unique"):
                assert sum(r[t["field"]] == row[t["field"]] for r in table_rows) >= 2
            elif rule.endswith(".ywh.exists"):
                assert row["YWH"] not in regs
            elif rule == "bdc.qlr.bdcdyh.matches":
                assert row["BDCDYH"] != regs[row["YWH"]]["BDCDYH"]
            elif rule == "bdc.fdcq.qlr.present":
                assert not holders[row["YWH"]]
            elif rule.endswith(".jrbw.submitted"):
                assert not messages[row["YWH"]]
            elif rule.endswith((".within_24h", ".within_48h")):
                hours = 24 if rule.endswith("24h") else 48
                ok = [ts(m["JRSJ"]) for m in messages[row["YWH"]] if m["JRZT"] == "1"]
                # no message at all, only failed ones, or the first success too late
                assert not ok or min(ok) > ts(row["DJSJ"]) + dt.timedelta(hours=hours)
            elif rule == "bdc.jrbw.jrzt.success":
                assert row["JRZT"] in ("2", "3")
            elif rule == "bdc.jrbw.rectype.djlx":
                assert row["RECTYPE"][0] != regs[row["YWH"]]["DJLX"][0]
            elif rule == "bdc.jrbw.bizmsgid.qxdm_prefix":
                assert row["BIZMSGID"][:6] != row["QXDM"]
            elif rule == "bdc.dbrz.sl.matches":
                n = sum(
                    r["QXDM"] == row["QXDM"]
                    and r["DJLX"] == row["DJLX"]
                    and r["DJSJ"][:10] == row["RZRQ"]
                    and validators.is_datetime(r["DJSJ"])
                    for r in tables[FDCQ] + tables[DYAQ]
                )
                assert int(row["SL"]) != n
            elif rule == "bdc.fdcq.djsj.time_limit":
                assert WorkdayCalendar().workdays_elapsed(ts(row["SLSJ"]), ts(row["DJSJ"])) > 3
            elif rule == "bdc.dyaq.djsj.time_limit":
                assert WorkdayCalendar().workdays_elapsed(ts(row["SLSJ"]), ts(row["DJSJ"])) > 0
            elif rule == "bdc.fdcq.djsj.time_limit_enterprise":
                assert ts(row["DJSJ"]) - ts(row["SLSJ"]) > 90 * MIN
            else:
                raise AssertionError(f"no check for {rule}")
    return rules_seen


def test_truth_points_at_broken_rows(small: tuple[Path, dict[str, Any]]) -> None:
    root, summary = small
    assert _check_truth(root)
    assert summary["truth_rows"] == len(rows(root / "truth.csv"))
    assert summary["errors"]["total"] == len({t["error_id"] for t in rows(root / "truth.csv")})


def test_truth_covers_every_kind(heavy: tuple[Path, dict[str, Any]]) -> None:
    root, summary = heavy
    seen = _check_truth(root)
    assert set(summary["errors"]["by_kind"]) >= set(sample.KINDS)
    assert seen == set(sample.RULES), sorted(set(sample.RULES) - seen)  # every rule of every suite


def test_duplicates_are_the_only_repeated_keys(heavy: tuple[Path, dict[str, Any]]) -> None:
    root, _ = heavy
    truth = rows(root / "truth.csv")
    all_ywh: Counter[str] = Counter()
    for batch in batches(root):
        dup_rows = {
            (t["table"], int(t["row"]))
            for t in truth
            if t["batch"] == label(root, batch) and t["rule_id"].endswith(".unique")
        }
        for table, key in ((FDCQ, "YWH"), (DYAQ, "YWH"), (JRBW, "BIZMSGID")):
            path = batch / f"{table}.csv"
            if not path.exists():
                continue
            data = rows(path)
            counts = Counter(r[key] for r in data if r[key])  # empty keys are bdc.*.required, not duplicates
            repeated = {(table, i + 2) for i, r in enumerate(data) if counts[r[key]] > 1}
            assert repeated == {d for d in dup_rows if d[0] == table}
            if table != JRBW:
                all_ywh.update(counts.keys())
    assert max(all_ywh.values()) == 1, "YWH unique across the whole sample"


def test_stock_has_no_incremental_kinds(heavy: tuple[Path, dict[str, Any]]) -> None:
    root, _ = heavy
    stock_rules = {t["rule_id"] for t in rows(root / "truth.csv") if t["batch"] == "stock"}
    assert stock_rules
    assert not {r for r in stock_rules if "jrbw" in r or "dbrz" in r or "time_limit" in r}
    assert "bdc.fdcq.qlr.present" in stock_rules


# ------------------------------------------------------------------------------------------------ rates


def _error_rates(root: Path) -> tuple[list[float], dict[str, float]]:
    truth = rows(root / "truth.csv")
    districts = {d["QXDM"] for d in rows(root / "districts.csv")}

    def district(qxdm: str, ywh: str) -> str:  # QXDM may be the injected error (empty, a prefecture code)
        return qxdm if qxdm in districts else ywh[:6]

    errors_by_batch: dict[str, set[str]] = defaultdict(set)
    stock_errors: dict[str, set[str]] = defaultdict(set)
    for t in truth:
        errors_by_batch[t["batch"]].add(t["error_id"])
        if t["batch"] == "stock":
            stock_errors[district(t["QXDM"], t["key"])].add(t["error_id"])
    daily = []
    for batch in batches(root)[1:]:
        n = len(rows(batch / f"{FDCQ}.csv")) + len(rows(batch / f"{DYAQ}.csv"))
        daily.append(len(errors_by_batch[label(root, batch)]) / n)
    stock = rows(root / "stock" / f"{FDCQ}.csv") + rows(root / "stock" / f"{DYAQ}.csv")
    per_district = Counter(district(r["QXDM"], r["YWH"]) for r in stock)
    assert set(per_district) == districts
    return daily, {q: len(stock_errors[q]) / n for q, n in per_district.items()}


def test_error_rates_fall_over_time(trend: tuple[Path, dict[str, Any]]) -> None:
    root, _ = trend
    daily, _ = _error_rates(root)
    third = len(daily) // 3
    early, late = sum(daily[:third]) / third, sum(daily[-third:]) / third
    assert 0.12 < early < 0.35
    assert 0.01 < late < 0.09
    assert early > 2 * late


def test_error_rates_differ_by_district(trend: tuple[Path, dict[str, Any]]) -> None:
    root, _ = trend
    _, stock = _error_rates(root)
    quality = {d["QXDM"]: float(d["quality"]) for d in rows(root / "districts.csv")}
    worst, best = max(quality, key=quality.__getitem__), min(quality, key=quality.__getitem__)
    assert stock[worst] > 2 * stock[best]
    assert 0.05 < sum(stock.values()) / len(stock) < 0.15
