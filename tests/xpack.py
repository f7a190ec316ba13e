"""Batches for the fixture pack ``tests/fixtures/xpack`` (a locality's own pack, passed by path).

``write_batch(folder, day)`` writes a day's DJXX and SQR with errors at known places and returns the
expected unexpected counts per (office, rule): two offices (JG001 东城窗口, JG002 西城窗口), five registrations
each, two applicants per registration. Nothing here knows about bdc.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path

from stdnum.cn import ric

PACK = Path(__file__).parent / "fixtures" / "xpack"
OFFICES = {"JG001": "东城窗口", "JG002": "西城窗口"}
DJXX = ["DJBH", "JGDM", "JGMC", "DJLB", "SLSJ", "DJSJ", "MJ", "BZ"]
SQR = ["DJBH", "XH", "JGDM", "XM", "ZJHM", "DH"]
NAMES = ["林小雨", "陈大文", "黄美玲", "周志强", "吴晓东", "郑丽华", "王建国", "冯秀英", "何家明", "许文静"]


def citizen_id(seq: int) -> str:
    body = f"110101198{seq % 10}0101{seq % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def write_batch(folder: Path, day: dt.date, *, errors: bool = True) -> Counter[tuple[str, str]]:
    """Write one day; return Counter((JGDM, rule_id) → injected failing rows)."""
    folder.mkdir(parents=True, exist_ok=True)
    expected: Counter[tuple[str, str]] = Counter()
    djxx, sqr = [], []
    n = 0
    for code, name in OFFICES.items():
        for i in range(5):
            n += 1
            djbh = f"{code}-{day:%Y%m%d}-{i + 1:03d}"
            row = {
                "DJBH": djbh,
                "JGDM": code,
                "JGMC": name,
                "DJLB": "01" if i % 2 == 0 else "02",
                "SLSJ": f"{day} 09:0{i}:00",
                "DJSJ": f"{day} 15:0{i}:00",
                "MJ": f"{80 + i}.5",
                "BZ": "" if i else "首次办理",
            }
            djxx.append(row)
            for xh in (1, 2):
                sqr.append(
                    {
                        "DJBH": djbh,
                        "XH": str(xh),
                        "JGDM": code,
                        "XM": NAMES[(n + xh) % len(NAMES)],
                        "ZJHM": citizen_id(n * 10 + xh),
                        "DH": f"1390000{n:02d}{xh:02d}",
                    }
                )
    if errors:
        # JG001: a bad category, a registration before its acceptance, an applicant with a bad ID
        djxx[1]["DJLB"] = "09"
        expected[("JG001", "xpack.djxx.djlb.code")] += 1
        djxx[2]["DJSJ"] = f"{day} 08:00:00"
        expected[("JG001", "xpack.djxx.djsj.after_slsj")] += 1
        sqr[0]["ZJHM"] = sqr[0]["ZJHM"][:-1] + ("0" if sqr[0]["ZJHM"][-1] != "0" else "1")
        expected[("JG001", "xpack.sqr.zjhm.citizen_id")] += 1
        # JG002: a duplicate registration number (both rows count), an empty name, a doubled space
        djxx[6]["DJBH"] = djxx[5]["DJBH"]
        expected[("JG002", "xpack.djxx.djbh.unique")] += 2
        sqr[13]["XM"] = ""
        expected[("JG002", "xpack.sqr.xm.required")] += 1
        djxx[7]["BZ"] = "补正  材料"
        expected[("JG002", "xpack.djxx.bz.clean_text")] += 1
    for name, fields, rows in (("DJXX", DJXX, djxx), ("SQR", SQR, sqr)):
        with (folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
    return expected


def write_history(root: Path, days: list[dt.date]) -> dict[str, Counter[tuple[str, str]]]:
    """One folder per day under ``root`` (``YYYY-MM-DD``); the expected counts per day."""
    return {
        d.isoformat(): write_batch(root / d.isoformat(), d, errors=i % 2 == 0) for i, d in enumerate(days)
    }
