"""Hand-built bdc batches for the end-to-end tests (test_check, test_overlay, test_privacy).

``valid_tables(districts)`` returns, per district, a small incremental batch that passes every rule:
two house registrations (an individual transfer with two holders by shares, and a transfer to an
enterprise registered within 90 minutes), one mortgage, their holders, one successful message each and
the daily log. Values are text (or None = empty cell), exactly as a clerk's export would hold them.
``write_batch`` writes such tables as CSV files named by table code.
"""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace

import pytest
from stdnum.cn import ric, uscc

from toolkit import regions

FIELDS = {
    "QLT_FW_FDCQ_YZ": [
        "YWH",
        "BDCDYH",
        "QXDM",
        "DJLX",
        "QLLX",
        "FDZL",
        "JZMJ",
        "BDCQZH",
        "SLSJ",
        "DJSJ",
        "DBR",
        "DJJG",
        "QSZT",
        "SLRY",
        "SHRY",
    ],
    "ZTT_GY_QLR": ["YWH", "BDCDYH", "SXH", "QLRMC", "ZJZL", "ZJH", "QLRLX", "GYFS", "QLBL", "DH", "QXDM"],
    "QLF_QL_DYAQ": [
        "YWH",
        "BDCDYH",
        "QXDM",
        "DJLX",
        "DYFS",
        "BDBZZQSE",
        "ZGZQSE",
        "ZWLXQSSJ",
        "ZWLXJSSJ",
        "DYQR",
        "SLSJ",
        "DJSJ",
        "DBR",
        "SLRY",
        "SHRY",
    ],
    "JR_BW": ["BIZMSGID", "YWH", "QXDM", "RECTYPE", "JRSJ", "JRZT"],
    "DJ_DBRZ": ["QXDM", "RZRQ", "DJLX", "SL"],
}
FDCQ, QLR, DYAQ, JRBW, DBRZ = FIELDS

# latest timestamp of the valid batch (the mortgage's message): the default as-of
AS_OF = "2024-03-05 15:10:00"


def districts(n: int) -> list[str]:
    """n current county codes of Hubei (all pass GB/T 2260)."""
    codes = [c for c, _ in regions.province_counties("42")]
    assert len(codes) >= n
    return codes[:n]


def citizen_id(county: str, birth: str, seq: int) -> str:
    body = f"{county}{birth}{seq % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def credit_code(county: str, seq: int) -> str:
    body = f"91{county}MA4K{seq % 10000:04d}L"
    assert len(body) == 17
    return body + uscc.calc_check_digit(body)


def ywh(d: str, n: int) -> str:
    return f"YW{d}{n:04d}"


def valid_tables(codes: list[str]) -> dict[str, list[dict]]:
    t: dict[str, list[dict]] = {name: [] for name in FIELDS}
    for k, d in enumerate(codes):
        f1, f2, dy = ywh(d, 1), ywh(d, 2), ywh(d, 3)
        u1, u2, u3 = f"{d}100302GB00001F00010001", f"{d}100302GB00001F00010002", f"{d}100302GB00002F00010001"
        t[FDCQ] += [
            dict(
                YWH=f1,
                BDCDYH=u1,
                QXDM=d,
                DJLX="200",
                QLLX="4",
                FDZL="湖北省武汉市解放大道1号",
                JZMJ="89.50",
                BDCQZH=f"鄂(2024)武汉市不动产权第{k * 10 + 1:07d}号",
                SLSJ="2024-03-01 09:00:00",
                DJSJ="2024-03-04 10:00:00",
                DBR="周登簿",
                SLRY="钱受理",
                SHRY="孙审核",
                DJJG="武汉市不动产登记中心",
                QSZT="1",
            ),
            dict(
                YWH=f2,
                BDCDYH=u2,
                QXDM=d,
                DJLX="200",
                QLLX="4",
                FDZL="湖北省武汉市解放大道2号",
                JZMJ="120",
                BDCQZH=f"鄂(2024)武汉市不动产权第{k * 10 + 2:07d}号",
                SLSJ="2024-03-05 09:00:00",
                DJSJ="2024-03-05 10:00:00",
                DBR="周登簿",
                SLRY="钱受理",
                SHRY="孙审核",
                DJJG="武汉市不动产登记中心",
                QSZT="1",
            ),
        ]
        t[DYAQ].append(
            dict(
                YWH=dy,
                BDCDYH=u3,
                QXDM=d,
                DJLX="100",
                DYFS="1",
                BDBZZQSE="120",
                ZGZQSE=None,
                ZWLXQSSJ="2024-03-05 00:00:00",
                ZWLXJSSJ="2054-03-04 00:00:00",
                DYQR="招商银行股份有限公司武汉分行",
                SLSJ="2024-03-05 09:30:00",
                DJSJ="2024-03-05 15:00:00",
                DBR="吴登簿",
                SLRY="钱受理",
                SHRY="孙审核",
            )
        )
        t[QLR] += [
            dict(
                YWH=f1,
                BDCDYH=u1,
                SXH="1",
                QLRMC="王小明",
                ZJZL="1",
                ZJH=citizen_id("420102", "19850612", k),
                QLRLX="1",
                GYFS="2",
                QLBL="60",
                DH="13812345678",
                QXDM=d,
            ),
            dict(
                YWH=f1,
                BDCDYH=u1,
                SXH="2",
                QLRMC="李小红",
                ZJZL="1",
                ZJH=citizen_id("420103", "19870304", k),
                QLRLX="1",
                GYFS="2",
                QLBL="40",
                DH=None,
                QXDM=d,
            ),
            dict(
                YWH=f2,
                BDCDYH=u2,
                SXH="1",
                QLRMC="武汉某某置业有限公司",
                ZJZL="8",
                ZJH=credit_code(d, k),
                QLRLX="2",
                GYFS="0",
                QLBL=None,
                DH="027-87654321",
                QXDM=d,
            ),
            dict(
                YWH=dy,
                BDCDYH=u3,
                SXH="1",
                QLRMC="招商银行股份有限公司武汉分行",
                ZJZL="8",
                ZJH=credit_code(d, k + 500),
                QLRLX="2",
                GYFS="0",
                QLBL=None,
                DH=None,
                QXDM=d,
            ),
        ]
        t[JRBW] += [
            dict(
                BIZMSGID=f"{d}240304000001",
                YWH=f1,
                QXDM=d,
                RECTYPE="2000101",
                JRSJ="2024-03-04 10:05:00",
                JRZT="1",
            ),
            dict(
                BIZMSGID=f"{d}240305000002",
                YWH=f2,
                QXDM=d,
                RECTYPE="2000101",
                JRSJ="2024-03-05 10:05:00",
                JRZT="1",
            ),
            dict(BIZMSGID=f"{d}240305000003", YWH=dy, QXDM=d, RECTYPE="1000401", JRSJ=AS_OF, JRZT="1"),
        ]
        t[DBRZ] += [
            dict(QXDM=d, RZRQ="2024-03-04", DJLX="200", SL="1"),
            dict(QXDM=d, RZRQ="2024-03-05", DJLX="200", SL="1"),
            dict(QXDM=d, RZRQ="2024-03-05", DJLX="100", SL="1"),
        ]
    return t


def find(tables: dict[str, list[dict]], table: str, **match) -> dict:
    """The one row of ``table`` whose fields equal ``match``."""
    rows = [r for r in tables[table] if all(r.get(k) == v for k, v in match.items())]
    assert len(rows) == 1, (table, match, len(rows))
    return rows[0]


def write_batch(
    folder: Path, tables: dict[str, list[dict]], *, skip: tuple[str, ...] = (), encoding: str = "utf-8"
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        if name in skip:
            continue
        header = FIELDS[name] + [c for r in rows for c in r if c not in FIELDS[name]]
        header = list(dict.fromkeys(header))
        with (folder / f"{name}.csv").open("w", encoding=encoding, newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            for r in rows:
                w.writerow(["" if r.get(c) is None else r[c] for c in header])
    return folder


@pytest.fixture(scope="session")
def bdc_kit() -> SimpleNamespace:
    return SimpleNamespace(
        FIELDS=FIELDS,
        FDCQ=FDCQ,
        QLR=QLR,
        DYAQ=DYAQ,
        JRBW=JRBW,
        DBRZ=DBRZ,
        AS_OF=AS_OF,
        districts=districts,
        valid_tables=valid_tables,
        write_batch=write_batch,
        find=find,
        ywh=ywh,
        citizen_id=citizen_id,
        credit_code=credit_code,
    )
