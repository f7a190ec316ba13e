"""bdc 示例数据生成器 / the embedded sample-data generator of the real-estate registration domain.

``generate(out, ...)`` writes, for real county codes of 湖北省 (``toolkit.regions.province_counties("42")``)::

    out/stock/{QLT_FW_FDCQ_YZ,ZTT_GY_QLR,QLF_QL_DYAQ}.csv        a stock batch (存量)
    out/incremental/YYYY-MM-DD/<5 tables>.csv                     one batch per working day (增量)
    out/truth.csv                                                  every injected error × rule it breaks
    out/districts.csv                                              QXDM, QXMC, quality (base error factor)

Data files are UTF-8 CSV (no BOM) whose header is exactly the dictionary's field codes; ``truth.csv`` and
``districts.csv`` are UTF-8 with BOM. The same seed gives byte-identical files (every random draw comes from
``random.Random`` seeded with the seed and the batch name; nothing depends on the clock).

Clean data
==========
Clean rows pass every rule of every suite. In short: YWH = QXDM + yyyymmdd(DJSJ) + 6-digit sequence
(incremental sequences start at 000001, stock sequences at 500001, made-up YWH of orphan rows use 9xxxxx);
BDCDYH follows GB/T 37346 with the row's QXDM as prefix; DJSJ/SLSJ are office hours on working days
(general registrations: SLSJ 0–2 working days before DJSJ; fast track = DJLX 200 with an enterprise holder:
10–80 minutes; mortgages: the same day); every incremental registration has one message (JRZT 1, JRSJ
1–180 minutes after DJSJ, BIZMSGID = QXDM + yyMMdd(JRSJ) + 6 digits, the first digit of the sequence
being the days between DJSJ and JRSJ so ids never repeat across batches; RECTYPE = DJLX + ``0101``
(fdcq) or ``0301`` (dyaq)); DJ_DBRZ holds one row per district × DJLX (code list) with SL = rows of
QLT_FW_FDCQ_YZ + QLF_QL_DYAQ in the final files with that QXDM, DJLX and a strictly parseable DJSJ on
that day. Holders: 单独所有 (GYFS 0, one holder), 共同共有 (GYFS 1, two persons), 按份共有 (GYFS 2, 2–3
holders whose QLBL sum to exactly 100).

Error rates
===========
Every district has a quality factor (``districts.csv``: 0.4–1.6, higher = more errors). A registration of
incremental day ``t`` (0 … T−1) carries an error with probability ``0.2 × error_scale × quality ×
(1 − 0.8·t/(T−1))``; a stock registration with ``0.1 × error_scale × quality``; a DJ_DBRZ row with half the
day's rate. Each injection modifies rows of one registration that no other injection touches (or adds
rows), so every truth row is exactly one unexpected row of the toolkit's check (``error_scale=0``: no
errors at all).

truth.csv
=========
``batch`` ("stock" or "incremental/YYYY-MM-DD"), ``table`` (the rule's ``meta.table``), ``QXDM`` (the
value in that row; for ``bdc.qlr.qlbl.sum_100`` the smallest QXDM of the group), ``key`` (YWH; BIZMSGID
for JR_BW; ``QXDM|RZRQ|DJLX`` for DJ_DBRZ), ``row`` (the ``_ROW`` the toolkit reports: header = 1; view
rules give the row of the base table; ``sum_100`` the first holder row of the YWH), ``field`` (the rule's
``meta.field``), ``rule_id``, ``error_id`` (one per injection). The batch's as-of is the toolkit's
default (latest strictly parseable SLSJ/DJSJ/JRSJ); pending-dependent truth is computed against it.

Injection catalogue: error → the rules it breaks (and nothing else)
-------------------------------------------------------------------
``S`` = also in stock; all others only in incremental batches. ``fdcq`` rows carry their holders'
and messages' fate; a view rule's row is the base table's row.

fdcq (QLT_FW_FDCQ_YZ)
  * ``fdcq.required`` S: FDZL/JZMJ/DBR/DJJG/QSZT/QLLX/SLSJ emptied, or BDCQZH where DJLX ∈ 100/200/300/500
    → ``bdc.fdcq.<field>.required``
  * ``fdcq.duplicate`` S: an exact copy of the row appended to the file → ``bdc.fdcq.ywh.unique`` on both rows
    (holders/messages not copied; DJ_DBRZ.SL counts both rows)
  * ``fdcq.required_more`` S: BDCDYH/DJLX/DJSJ/QXDM emptied → ``bdc.fdcq.<field>.required`` (NULLs: the prefix, code,
    time and view rules ignore the row; the log does not count it; an empty QXDM is district "")
  * ``fdcq.ywh_required`` S: YWH emptied, its holders and messages dropped (they could not be linked) →
    ``bdc.fdcq.ywh.required`` (HAS_QLR/HAS_MSG are NULL)
  * ``fdcq.ywh_length`` S: YWH of 33 characters, holders and messages carry it too → ``bdc.fdcq.ywh.length``
  * ``fdcq.qxdm_code`` S: QXDM = the prefecture code (xxxx00) and BDCDYH's prefix with it (holders too) →
    ``bdc.fdcq.qxdm.code`` (no log row for that code)
  * ``fdcq.bdcdyh_format`` S: GA 宗地特征码 / 27 chars / X 定着物码 / 00000 宗地顺序号 (first 6 kept, holders get the
    same value) → ``bdc.fdcq.bdcdyh.format``
  * ``fdcq.bdcdyh_prefix`` S: first 6 = another real county (holders too) → ``bdc.fdcq.bdcdyh.qxdm_prefix``
  * ``fdcq.djlx_code`` S: DJLX 200 → 210 → ``bdc.fdcq.djlx.code`` (RECTYPE still starts with 2; no log row)
  * ``fdcq.qllx_code`` S: QLLX 23 → ``bdc.fdcq.qllx.code``;  ``fdcq.qszt_code`` S: QSZT 5 → ``bdc.fdcq.qszt.code``
  * ``fdcq.clean_text`` S: FDZL/DBR/DJJG + trailing space or a doubled U+3000 → ``bdc.fdcq.<field>.clean_text``
  * ``fdcq.jzmj_range`` S: JZMJ 0 / -12.5 / 150000 / ``89.5㎡`` → ``bdc.fdcq.jzmj.range``
  * ``fdcq.bdcqzh_format`` S: 5-digit number or full-width brackets → ``bdc.fdcq.bdcqzh.format``
  * ``fdcq.slsj_datetime`` S: ``2024/03/05 09:00:00`` style → ``bdc.fdcq.slsj.datetime``
  * ``fdcq.djsj_datetime`` S: malformed DJSJ → ``bdc.fdcq.djsj.datetime`` (its message is clean, so PENDING=0 and
    OK_24H/OK_48H are NULL; the log does not count the row)
  * ``fdcq.slsj_year`` S / ``fdcq.djsj_year`` (stock only): the year typed as +180 or −100 (2024 → 2204 / 1924) →
    ``bdc.fdcq.<field>.plausible`` (and ``bdc.fdcq.djsj.after_slsj`` when the order flips; time limits, the
    as-of and the log ignore implausible years)
  * ``fdcq.after_slsj`` S: SLSJ = DJSJ + 1–3 h → ``bdc.fdcq.djsj.after_slsj`` (time limits ignore reversed times)
  * ``fdcq.time_limit``: not fast track, SLSJ 5–8 working days before DJSJ → ``bdc.fdcq.djsj.time_limit``
  * ``fdcq.time_limit_enterprise``: fast track, SLSJ 2–5 h before DJSJ (same day) →
    ``bdc.fdcq.djsj.time_limit_enterprise``
  * ``fdcq.qlr_missing`` S: not fast track, all holders removed → ``bdc.fdcq.qlr.present``
  * ``fdcq.msg_missing``: no message, registration not pending → ``bdc.fdcq.jrbw.submitted`` +
    ``bdc.fdcq.jrbw.within_24h`` (+ ``within_48h`` if DJSJ ≤ as-of − 48 h): never accessed is not accessed in
    time (bdc-contract.md). (Resolved last: if
    one of them would be pending against the batch's as-of, the earliest is turned into ``msg_late24`` with a
    JRSJ late enough that the others are not pending.)
  * ``fdcq.msg_late24``: first success at DJSJ + 25–47 h → ``bdc.fdcq.jrbw.within_24h``
  * ``fdcq.msg_late48``: first success at DJSJ + 49–70 h → ``bdc.fdcq.jrbw.within_24h`` + ``within_48h``
  * ``fdcq.msg_failed``: the only message has JRZT 2/3 → ``bdc.jrbw.jrzt.success`` (message row) +
    ``bdc.fdcq.jrbw.within_24h`` if DJSJ ≤ as-of − 24 h + ``within_48h`` if DJSJ ≤ as-of − 48 h
  * ``fdcq.msg_failed_then_ok``: JRZT 2/3 then a success ≤ 3 h later → ``bdc.jrbw.jrzt.success`` only
qlr (ZTT_GY_QLR, one holder of an fdcq registration) — all S
  * ``qlr.required``: QLRMC/ZJH/SXH (mostly), ZJZL, BDCDYH, QXDM, QLRLX (a person), GYFS (GYFS 0/1) or YWH (one
    of two GYFS 1 holders) emptied → ``bdc.qlr.<field>.required``
  * ``qlr.zjzl_code``: ZJZL 10 → ``bdc.qlr.zjzl.code``
  * ``qlr.qlrlx_code``: QLRLX 1 → 5 (non-transfer registrations) → ``bdc.qlr.qlrlx.code``
  * ``qlr.gyfs_code``: GYFS 0/1 → 4 → ``bdc.qlr.gyfs.code``
  * ``qlr.qlrmc_clean``: trailing space → ``bdc.qlr.qlrmc.clean_text``;  ``qlr.sxh_integer``: SXH 0 → ``bdc.qlr.sxh.integer``
  * ``qlr.citizen_id``: wrong check digit / lower-case x / birth date 19990231 → ``bdc.qlr.zjh.citizen_id``
  * ``qlr.credit_code``: wrong check character → ``bdc.qlr.zjh.credit_code``
  * ``qlr.qlbl_range``: QLBL ``50%`` (GYFS 2) → ``bdc.qlr.qlbl.range`` (the group's sum is NULL)
  * ``qlr.qlbl_required``: QLBL emptied (GYFS 2) → ``bdc.qlr.qlbl.required`` (the sum is NULL)
  * ``qlr.qlbl_sum``: the first holder's share − 10 → ``bdc.qlr.qlbl.sum_100`` (row = first holder row)
  * ``qlr.dh_format``: DH ``1381234567`` / ``138-1234-5678`` style → ``bdc.qlr.dh.format``
  * ``qlr.qxdm_code``: QXDM 420100 → ``bdc.qlr.qxdm.code``
  * ``qlr.orphan``: an extra holder (GYFS 0) whose YWH exists nowhere → ``bdc.qlr.ywh.exists``
  * ``qlr.bdcdyh_mismatch``: BDCDYH = another valid unit number → ``bdc.qlr.bdcdyh.matches``
dyaq (QLF_QL_DYAQ)
  * ``dyaq.required`` S: DYQR/DBR/ZWLXJSSJ, BDBZZQSE (DYFS 1) or ZGZQSE (DYFS 2) (mostly), ZWLXQSSJ, SLSJ, DYFS,
    BDCDYH, DJLX, DJSJ or QXDM emptied → ``bdc.dyaq.<field>.required``
  * ``dyaq.ywh_required`` S: YWH emptied, messages dropped → ``bdc.dyaq.ywh.required``;  ``dyaq.qxdm_code`` S: as
    ``fdcq.qxdm_code`` → ``bdc.dyaq.qxdm.code``
  * ``dyaq.duplicate`` S → ``bdc.dyaq.ywh.unique`` (both rows);  ``dyaq.bdcdyh_format`` S → ``bdc.dyaq.bdcdyh.format``;
    ``dyaq.bdcdyh_prefix`` S → ``bdc.dyaq.bdcdyh.qxdm_prefix``
  * ``dyaq.djlx_code`` S: DJLX x00 → x10 → ``bdc.dyaq.djlx.code``;  ``dyaq.dyfs_code`` S: DYFS 3 → ``bdc.dyaq.dyfs.code``
  * ``dyaq.bdbzzqse_range`` S: -100 (DYFS 1) → ``bdc.dyaq.bdbzzqse.range``;  ``dyaq.zgzqse_range`` S: 0 (DYFS 2) →
    ``bdc.dyaq.zgzqse.range``
  * ``dyaq.zwlx_order`` S: ZWLXJSSJ before ZWLXQSSJ → ``bdc.dyaq.zwlxjssj.after_start``
  * ``dyaq.zwlx_datetime`` S: ZWLXQSSJ or ZWLXJSSJ ``2024.03.05`` → ``bdc.dyaq.<field>.datetime``
  * ``dyaq.slsj_datetime`` S → ``bdc.dyaq.slsj.datetime``;  ``dyaq.djsj_datetime`` S → ``bdc.dyaq.djsj.datetime``
  * ``dyaq.slsj_year`` S / ``dyaq.djsj_year`` (stock only): as ``fdcq.*_year`` → ``bdc.dyaq.<field>.plausible``
  * ``fdcq.one_person`` / ``dyaq.one_person`` S: SLRY = SHRY = DBR (only in the half of the districts that
    record SLRY/SHRY; the others leave both empty) → ``bdc.<carrier>.roles.separated``;
    ``*.staff_clean_text`` S: SLRY or SHRY + a trailing space or U+3000 → ``bdc.<carrier>.<field>.clean_text``
  * ``dyaq.after_slsj`` S: SLSJ = DJSJ + 1–3 h → ``bdc.dyaq.djsj.after_slsj``
  * ``dyaq.clean_text`` S: DYQR/DBR + trailing space → ``bdc.dyaq.<field>.clean_text``
  * ``dyaq.time_limit``: SLSJ on the previous working day → ``bdc.dyaq.djsj.time_limit``
  * ``dyaq.msg_*``: as ``fdcq.msg_*`` with ``bdc.dyaq.jrbw.*``
jrbw (JR_BW, the message of an fdcq or dyaq registration)
  * ``jrbw.bizmsgid_dup``: takes the BIZMSGID of another clean registration's message of the same district →
    ``bdc.jrbw.bizmsgid.unique`` on both message rows
  * ``jrbw.bizmsgid_format``: 17 digits (prefix kept) → ``bdc.jrbw.bizmsgid.format``
  * ``jrbw.bizmsgid_prefix``: first 6 = a county that is not in the sample → ``bdc.jrbw.bizmsgid.qxdm_prefix``
  * ``jrbw.rectype_format``: 6 digits → ``bdc.jrbw.rectype.format``;  ``jrbw.rectype_djlx``: wrong first digit →
    ``bdc.jrbw.rectype.djlx``
  * ``jrbw.resend_bad_jrsj``: extra JRZT 1 message with a malformed JRSJ → ``bdc.jrbw.jrsj.datetime``
  * ``jrbw.resend_jrsj_year``: extra JRZT 1 message whose JRSJ year is typed as +180 or −100 → ``bdc.jrbw.jrsj.plausible``
  * ``jrbw.resend_bad_jrzt``: extra message with JRZT 9 → ``bdc.jrbw.jrzt.code``
  * ``jrbw.resend_required``: extra message (after the success) with BIZMSGID/YWH/QXDM/RECTYPE/JRSJ/JRZT empty →
    ``bdc.jrbw.<field>.required``
  * ``jrbw.qxdm_code``: message QXDM (and BIZMSGID prefix) = the prefecture code → ``bdc.jrbw.qxdm.code``
  * ``jrbw.orphan``: extra message whose YWH exists nowhere → ``bdc.jrbw.ywh.exists``
dbrz (DJ_DBRZ, per log row; ``dbrz.extra_*`` per district and day)
  * ``dbrz.sl_off``: SL + 1..3 → ``bdc.dbrz.sl.matches``;  ``dbrz.sl_integer``: SL ``3.0`` → ``bdc.dbrz.sl.integer``
  * ``dbrz.rzrq_date``: RZRQ ``2024/03/05`` → ``bdc.dbrz.rzrq.date``;  ``dbrz.sl_empty`` → ``bdc.dbrz.sl.required``
  * ``dbrz.required``: QXDM/RZRQ/DJLX emptied → ``bdc.dbrz.<field>.required`` (REC_N is NULL)
  * ``dbrz.extra_code``: an extra row with DJLX 000 and SL 0 → ``bdc.dbrz.djlx.code``
  * ``dbrz.extra_qxdm``: an extra row for the prefecture code (xxxx00), DJLX 100, SL 0 → ``bdc.dbrz.qxdm.code``

Every one of the domain's rules is broken by at least one kind (``KINDS``: name → carrier, weight, in stock).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import random
import re
import sys
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import Any

import yaml

from toolkit import regions
from toolkit.validators import (
    CREDIT_CODE_CHARSET,
    citizen_id_check_digit,
    credit_code_check_char,
    is_unit_number,
    parse_datetime,
    plausible_years,
)
from toolkit.workdays import WorkdayCalendar

__all__ = ["KINDS", "generate"]

HERE = Path(__file__).resolve().parent
PROVINCE = "42"
PROVINCE_ABBR = "鄂"

FDCQ, QLR, DYAQ, JRBW, DBRZ = "QLT_FW_FDCQ_YZ", "ZTT_GY_QLR", "QLF_QL_DYAQ", "JR_BW", "DJ_DBRZ"
STOCK_TABLES = (FDCQ, QLR, DYAQ)
INCREMENTAL_TABLES = (FDCQ, QLR, DYAQ, JRBW, DBRZ)
TRUTH_COLUMNS = ("batch", "table", "QXDM", "key", "row", "field", "rule_id", "error_id")

BASE_RATE = 0.2  # incremental, day 0, quality 1.0
STOCK_RATE = 0.1
LOG_RATE = 0.5  # × the day's rate, per DJ_DBRZ row
TYPO_RATE = 0.08  # × the day's rate, per registration without another error: a year typed wrong
STOCK_CHUNK = 5000
DYAQ_SHARE = 0.25
CERT_DJLX = ("100", "200", "300", "500")

H = dt.timedelta(hours=1)
MIN = dt.timedelta(minutes=1)


# ------------------------------------------------------------------------------------------------ pack data


def _load_pack() -> tuple[
    dict[str, list[str]], dict[str, Any], dict[str, list[str]], dict[str, tuple[str, str]]
]:
    dictionary = yaml.safe_load((HERE / "dictionary.yaml").read_text(encoding="utf-8"))
    fields = {code: list(spec["fields"]) for code, spec in dictionary["tables"].items()}
    keys = {code: spec["key"] for code, spec in dictionary["tables"].items()}
    keys = {code: (k if isinstance(k, list) else [k]) for code, k in keys.items()}
    rules: dict[str, tuple[str, str]] = {}
    for path in sorted((HERE / "suites").glob("*.json")):
        for exp in json.loads(path.read_text(encoding="utf-8")).get("expectations", []):
            meta = exp["meta"]
            rules[meta["rule_id"]] = (meta["table"], meta["field"])
    return fields, dictionary["code_lists"], keys, rules


FIELDS, CODE_LISTS, KEYS, RULES = _load_pack()
DJLX_CODES = tuple(CODE_LISTS["DJLX"])
#: birth dates (YYYYMMDD) of the sample's people: 1940-01-01 … 2004-12-31
BIRTH_DATES = [f"{dt.date(1940, 1, 1) + dt.timedelta(days=i):%Y%m%d}" for i in range(23742)]

# ------------------------------------------------------------------------------------------------ word lists

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红玲芬燕彬鹏辉斌宇浩凯健俊帆旭宁龙林欣佳琪晨"
    "阳雪婷颖倩丹慧莉凤洁梅琳晶博文思雨涵轩睿泽志国建新春海波"
)
BRANDS = (
    "华信",
    "恒通",
    "鸿泰",
    "长江",
    "楚天",
    "汉正",
    "金盛",
    "东湖",
    "荆楚",
    "新城",
    "博远",
    "天元",
    "中诚",
    "安居",
    "顺达",
    "宏远",
    "光谷",
    "江城",
    "九州",
    "嘉禾",
)
INDUSTRIES = ("置业", "房地产开发", "实业", "投资", "建设", "商贸", "物业管理", "科技")
BANKS = (
    "中国建设银行股份有限公司",
    "中国工商银行股份有限公司",
    "中国农业银行股份有限公司",
    "中国银行股份有限公司",
    "交通银行股份有限公司",
    "招商银行股份有限公司",
    "湖北银行股份有限公司",
    "中国邮政储蓄银行股份有限公司",
)
ROADS = (
    "建设大道",
    "解放大道",
    "中山大道",
    "人民路",
    "和平大道",
    "发展大道",
    "友谊大道",
    "新华路",
    "民主路",
    "胜利街",
    "光明路",
    "青年路",
    "文化路",
    "育才路",
    "长江路",
    "滨江大道",
    "沿河路",
    "幸福路",
    "团结路",
    "东风路",
)
CREDIT_CHARS = CREDIT_CODE_CHARSET
MOBILE_PREFIX = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "157",
    "158",
    "159",
    "166",
    "170",
    "176",
    "177",
    "180",
    "181",
    "182",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
)

FDCQ_DJLX = (
    ("100", 28),
    ("200", 40),
    ("300", 14),
    ("400", 6),
    ("500", 3),
    ("600", 2),
    ("700", 4),
    ("800", 2),
    ("900", 1),
)
DYAQ_DJLX = (("100", 80), ("200", 2), ("300", 8), ("400", 10))


# ------------------------------------------------------------------------------------------------ helpers


def _ts(value: dt.datetime) -> str:
    return value.isoformat(sep=" ")


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _cum(weights: Iterable[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _pick(rng: random.Random, seq: Any) -> Any:
    """``rng.choice`` without its overhead (hot paths; the stock may have millions of rows)."""
    return seq[int(rng.random() * len(seq))]


def _int(rng: random.Random, low: int, high: int) -> int:
    """A uniform integer in ``[low, high]`` (hot-path ``randint``)."""
    return low + int(rng.random() * (high - low + 1))


def _wpick(rng: random.Random, items: Any, cum: list[float]) -> Any:
    """A weighted choice from cumulative weights (hot-path ``choices``)."""
    return items[bisect_right(cum, rng.random() * cum[-1])]


def _area(rng: random.Random) -> str:
    """A floor area 30.00 … 300.00 m² with two decimals."""
    cents = _int(rng, 3000, 30000)
    return f"{cents // 100}.{cents % 100:02d}"


def _bad_datetime(rng: random.Random, value: dt.datetime) -> str:
    """A plausible but not strictly parseable rendering of ``value``."""
    style = rng.randrange(5)
    if style == 0:
        text = value.strftime("%Y/%m/%d %H:%M:%S")
    elif style == 1:
        text = value.strftime("%Y-%m-%dT%H:%M:%S")
    elif style == 2:
        text = value.strftime("%Y%m%d %H%M%S")
    elif style == 3:
        text = value.strftime("%Y-%m-%d %H:%M")
    else:
        text = f"{value.year}-{value.month}-{value.day} {value.hour}:{value.minute:02d}:{value.second:02d}"
        if parse_datetime(text) is not None:  # month and day both two-digit already
            text = value.strftime("%Y年%m月%d日 %H:%M:%S")
    return text


def _max_ts(best: str, values: Iterable[str]) -> str:
    """Latest strictly parseable ``YYYY-MM-DD HH:MM:SS`` text (all generated valid values have that form)."""
    lo, hi = plausible_years()
    for v in values:
        ts = parse_datetime(v)
        if v > best and ts is not None and lo <= ts.year <= hi:  # a typed year such as 2204 is no as-of
            best = v
    return best


def _typo_year(value: dt.datetime, rng: random.Random) -> str:
    """``value`` with an implausible year, as a slip of the keyboard makes it: 2024 → 2204 or 1924."""
    year = value.year + 180 if rng.random() < 0.5 else value.year - 100
    return _ts(value.replace(year=year, day=min(value.day, 28)))


class District:
    """A county of the sample (plain class: this module is loaded from a file, not imported as a package)."""

    __slots__ = ("city", "clerks", "code", "name", "quality", "roads", "volume")

    def __init__(
        self,
        code: str,
        name: str,
        city: str,
        quality: float,
        volume: float,
        clerks: list[str],
        roads: tuple[str, ...],
    ) -> None:
        self.code, self.name, self.city, self.quality = code, name, city, quality
        self.volume = volume  # fdcq registrations per working day
        self.clerks, self.roads = clerks, roads


class Reg:
    """One registration (fdcq or dyaq) with its holders and messages."""

    __slots__ = ("carrier", "district", "djsj", "fast", "holders", "kind", "msgs", "row")

    def __init__(
        self,
        kind: str,
        district: District,
        row: dict[str, str],
        djsj: dt.datetime,
        holders: list[dict[str, str]] | None = None,
        fast: bool = False,
    ) -> None:
        self.kind = kind  # "fdcq" | "dyaq"
        self.district = district
        self.row = row
        self.djsj = djsj
        self.holders = holders if holders is not None else []
        self.msgs: list[dict[str, str]] = []
        self.fast = fast
        self.carrier = False


class Hit:
    """One truth row: ``rec`` breaks ``rule_id`` (``qxdm`` overrides the row's QXDM, for qlr_shares)."""

    __slots__ = ("error_id", "qxdm", "rec", "rule_id")

    def __init__(self, error_id: str, rec: dict[str, str], rule_id: str, qxdm: str | None = None) -> None:
        self.error_id, self.rec, self.rule_id, self.qxdm = error_id, rec, rule_id, qxdm


class Deferred:
    """A truth row that holds only if the registration is not pending (24 or 48 hours) at the batch's as-of."""

    __slots__ = ("hit", "hours", "reg")

    def __init__(self, hit: Hit, reg: Reg, hours: int) -> None:
        self.hit, self.reg, self.hours = hit, reg, hours


class _Batch:
    """The rows of one batch (or of one stock chunk) while they are generated and broken."""

    def __init__(
        self,
        label: str,
        day: dt.date | None,
        rng: random.Random,
        incremental: bool,
        errors: Counter[str],
        tag: str,
    ) -> None:
        self.label = label
        self.day = day
        self.rng = rng
        self.incremental = incremental
        self.regs: list[Reg] = []
        self.extra: dict[str, list[dict[str, str]]] = {FDCQ: [], QLR: [], DYAQ: [], JRBW: []}
        self.logs: list[dict[str, str]] = []
        self.hits: list[Hit] = []
        self.deferred: list[Deferred] = []
        self.missing: list[tuple[str, Reg]] = []
        self.errors = errors  # kind -> count, shared by the chunks of a batch
        self.tag = tag
        self.msg_ids: set[str] = set()
        self.msg_seq: Counter[tuple[str, dt.date]] = Counter()
        self.ywh_seq: Counter[str] = Counter()
        self.orphan_seq: Counter[str] = Counter()
        self.partners: dict[str, list[Reg]] = {}

    # --------------------------------------------------------------------------- ids
    def next_error_id(self) -> str:
        return f"{self.tag}-{sum(self.errors.values()) + 1:06d}"

    def orphan_ywh(self, d: District, day: dt.date) -> str:
        self.orphan_seq[d.code] += 1
        return f"{d.code}{day:%Y%m%d}9{self.orphan_seq[d.code]:05d}"

    def message(
        self, reg_ywh: str, d: District, djlx: str, kind: str, jrsj: dt.datetime, jrzt: str
    ) -> dict[str, str]:
        assert self.day is not None
        jday = jrsj.date()
        self.msg_seq[(d.code, jday)] += 1
        lag = (jday - self.day).days
        msg_id = f"{d.code}{jday:%y%m%d}{lag * 100000 + self.msg_seq[(d.code, jday)]:06d}"
        self.msg_ids.add(msg_id)
        return {
            "BIZMSGID": msg_id,
            "YWH": reg_ywh,
            "QXDM": d.code,
            "RECTYPE": djlx + ("0101" if kind == "fdcq" else "0301"),
            "JRSJ": _ts(jrsj),
            "JRZT": jrzt,
        }

    def reg_message(self, reg: Reg, jrsj: dt.datetime, jrzt: str) -> dict[str, str]:
        return self.message(reg.row["YWH"], reg.district, reg.row["DJLX"], reg.kind, jrsj, jrzt)

    # --------------------------------------------------------------------------- final rows
    def table_rows(self, table: str) -> list[dict[str, str]]:
        if table == FDCQ:
            rows = [r.row for r in self.regs if r.kind == "fdcq"]
        elif table == DYAQ:
            rows = [r.row for r in self.regs if r.kind == "dyaq"]
        elif table == QLR:
            rows = [h for r in self.regs for h in r.holders]
        elif table == JRBW:
            rows = [m for r in self.regs for m in r.msgs]
        else:
            return self.logs
        return rows + self.extra[table]

    def as_of_text(self) -> str:
        best = ""
        for table in (FDCQ, DYAQ):
            for row in self.table_rows(table):
                best = _max_ts(best, (row["SLSJ"], row["DJSJ"]))
        if self.incremental:
            best = _max_ts(best, (m["JRSJ"] for m in self.table_rows(JRBW)))
        return best


# ------------------------------------------------------------------------------------------------ the kinds

Kind = Callable[["_Generator", _Batch, Reg, str], "list[Hit] | None"]
#: name -> (carrier: fdcq | dyaq | any, weight, also in stock)
KINDS: dict[str, tuple[str, float, bool]] = {}
_KIND_FUNCS: dict[str, Kind] = {}


#: Kinds injected in a second pass with a random stream of their own (``TYPO_RATE``), into registrations
#: that carry no other error: adding them changed no other kind's draws, so earlier samples stay as they were.
EXTRA_KINDS: set[str] = set()


def _kind(name: str, carrier: str, weight: float, stock: bool, extra: bool = False) -> Callable[[Kind], Kind]:
    def register(fn: Kind) -> Kind:
        KINDS[name] = (carrier, weight, stock)
        if extra:
            EXTRA_KINDS.add(name)
        _KIND_FUNCS[name] = fn
        return fn

    return register


def _hits(eid: str, *pairs: tuple[dict[str, str], str]) -> list[Hit]:
    return [Hit(eid, rec, rule) for rec, rule in pairs]


# ---- fdcq


@_kind("fdcq.required", "fdcq", 3.0, True)
def _k_fdcq_required(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    row = reg.row
    choices = ["FDZL", "JZMJ", "DBR", "DJJG", "QSZT", "QLLX", "SLSJ"]
    if row["DJLX"] in CERT_DJLX and row["BDCQZH"]:
        choices += ["BDCQZH", "BDCQZH"]
    f = b.rng.choice(choices)
    row[f] = ""
    return _hits(eid, (row, f"bdc.fdcq.{f.lower()}.required"))


@_kind("fdcq.duplicate", "fdcq", 1.0, True)
def _k_fdcq_duplicate(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    copy = dict(reg.row)
    b.extra[FDCQ].append(copy)
    return _hits(eid, (reg.row, "bdc.fdcq.ywh.unique"), (copy, "bdc.fdcq.ywh.unique"))


@_kind("fdcq.required_more", "fdcq", 1.0, True)
def _k_fdcq_required_more(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    f = b.rng.choice(("BDCDYH", "DJLX", "DJSJ", "QXDM"))
    reg.row[f] = ""
    return _hits(eid, (reg.row, f"bdc.fdcq.{f.lower()}.required"))


def _drop_ywh(reg: Reg) -> None:
    """YWH emptied: its holders and messages cannot be linked any more, so they go too."""
    reg.row["YWH"] = ""
    reg.holders = []
    reg.msgs = []


def _long_ywh(rng: random.Random, reg: Reg) -> None:
    """A YWH of 33+ characters, carried over to the holders and messages (they stay linked)."""
    ywh = reg.row["YWH"] + "-" + f"{rng.randrange(10**12):012d}"
    reg.row["YWH"] = ywh
    for rec in reg.holders + reg.msgs:
        rec["YWH"] = ywh


def _foreign_qxdm(reg: Reg) -> None:
    """QXDM = the prefecture code (not a county), BDCDYH prefix (and the holders' BDCDYH) following it."""
    code = reg.district.code[:4] + "00"
    reg.row["QXDM"] = code
    _set_unit_number(reg, code + reg.row["BDCDYH"][6:])


@_kind("fdcq.ywh_required", "fdcq", 0.5, True)
def _k_fdcq_ywh_required(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    _drop_ywh(reg)
    return _hits(eid, (reg.row, "bdc.fdcq.ywh.required"))


@_kind("fdcq.ywh_length", "fdcq", 0.5, True)
def _k_fdcq_ywh_length(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    _long_ywh(b.rng, reg)
    return _hits(eid, (reg.row, "bdc.fdcq.ywh.length"))


@_kind("fdcq.qxdm_code", "fdcq", 0.5, True)
def _k_fdcq_qxdm_code(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    _foreign_qxdm(reg)
    return _hits(eid, (reg.row, "bdc.fdcq.qxdm.code"))


def _broken_unit_number(rng: random.Random, value: str) -> str:
    style = rng.randrange(4)
    if style == 0:
        new = value[:12] + "GA" + value[14:]
    elif style == 1:
        new = value[:-1]
    elif style == 2:
        new = value[:19] + "X" + value[20:]
    else:
        new = value[:14] + "00000" + value[19:]
    assert not is_unit_number(new) and new[:6] == value[:6], new
    return new


def _set_unit_number(reg: Reg, value: str) -> None:
    reg.row["BDCDYH"] = value
    for h in reg.holders:
        h["BDCDYH"] = value


@_kind("fdcq.bdcdyh_format", "fdcq", 1.0, True)
def _k_fdcq_bdcdyh_format(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    _set_unit_number(reg, _broken_unit_number(b.rng, reg.row["BDCDYH"]))
    return _hits(eid, (reg.row, "bdc.fdcq.bdcdyh.format"))


@_kind("fdcq.bdcdyh_prefix", "fdcq", 1.0, True)
def _k_fdcq_bdcdyh_prefix(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    _set_unit_number(reg, b.rng.choice(g.foreign) + reg.row["BDCDYH"][6:])
    return _hits(eid, (reg.row, "bdc.fdcq.bdcdyh.qxdm_prefix"))


@_kind("fdcq.djlx_code", "fdcq", 0.7, True)
def _k_fdcq_djlx_code(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    if reg.row["DJLX"] != "200":
        return None
    reg.row["DJLX"] = "210"
    return _hits(eid, (reg.row, "bdc.fdcq.djlx.code"))


@_kind("fdcq.qllx_code", "fdcq", 0.7, True)
def _k_fdcq_qllx_code(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    reg.row["QLLX"] = "23"
    return _hits(eid, (reg.row, "bdc.fdcq.qllx.code"))


@_kind("fdcq.qszt_code", "fdcq", 0.7, True)
def _k_fdcq_qszt_code(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    reg.row["QSZT"] = "5"
    return _hits(eid, (reg.row, "bdc.fdcq.qszt.code"))


def _unclean(rng: random.Random, value: str) -> str:
    if rng.random() < 0.5 or len(value) < 2:
        return value + " "
    cut = max(1, len(value) // 2)
    return value[:cut] + "\u3000\u3000" + value[cut:]


@_kind("fdcq.clean_text", "fdcq", 1.5, True)
def _k_fdcq_clean_text(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    f = b.rng.choice(("FDZL", "DBR", "DJJG"))
    reg.row[f] = _unclean(b.rng, reg.row[f])
    return _hits(eid, (reg.row, f"bdc.fdcq.{f.lower()}.clean_text"))


@_kind("fdcq.jzmj_range", "fdcq", 1.0, True)
def _k_fdcq_jzmj_range(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    reg.row["JZMJ"] = b.rng.choice(("0", "-12.5", "150000", reg.row["JZMJ"] + "㎡"))
    return _hits(eid, (reg.row, "bdc.fdcq.jzmj.range"))


@_kind("fdcq.bdcqzh_format", "fdcq", 1.0, True)
def _k_fdcq_bdcqzh_format(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    value = reg.row["BDCQZH"]
    if not value:
        return None
    if b.rng.random() < 0.5:
        value = re.sub(r"第[0-9]{2}([0-9]{5})号", r"第\1号", value)
    else:
        value = value.replace("(", "（").replace(")", "）")
    reg.row["BDCQZH"] = value
    return _hits(eid, (reg.row, "bdc.fdcq.bdcqzh.format"))


@_kind("fdcq.slsj_datetime", "fdcq", 1.0, True)
def _k_fdcq_slsj_datetime(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    reg.row["SLSJ"] = _bad_datetime(b.rng, parse_datetime(reg.row["SLSJ"]))  # type: ignore[arg-type]
    return _hits(eid, (reg.row, "bdc.fdcq.slsj.datetime"))


@_kind("fdcq.djsj_datetime", "fdcq", 0.7, True)
def _k_fdcq_djsj_datetime(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    reg.row["DJSJ"] = _bad_datetime(b.rng, reg.djsj)
    return _hits(eid, (reg.row, "bdc.fdcq.djsj.datetime"))


@_kind("fdcq.slsj_year", "fdcq", 0.3, True, extra=True)
def _k_fdcq_slsj_year(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    reg.row["SLSJ"] = _typo_year(parse_datetime(reg.row["SLSJ"]), b.rng)  # type: ignore[arg-type]
    if reg.row["SLSJ"] > reg.row["DJSJ"]:
        return _hits(eid, (reg.row, "bdc.fdcq.slsj.plausible"), (reg.row, "bdc.fdcq.djsj.after_slsj"))
    return _hits(eid, (reg.row, "bdc.fdcq.slsj.plausible"))


@_kind("fdcq.djsj_year", "fdcq", 0.2, True, extra=True)
def _k_fdcq_djsj_year(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    if b.incremental:  # keep the day's timeliness checks out of it: those registrations are in stock only
        return None
    reg.row["DJSJ"] = _typo_year(reg.djsj, b.rng)
    if reg.row["SLSJ"] > reg.row["DJSJ"]:
        return _hits(eid, (reg.row, "bdc.fdcq.djsj.plausible"), (reg.row, "bdc.fdcq.djsj.after_slsj"))
    return _hits(eid, (reg.row, "bdc.fdcq.djsj.plausible"))


@_kind("fdcq.after_slsj", "fdcq", 1.0, True)
def _k_fdcq_after_slsj(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    reg.row["SLSJ"] = _ts(reg.djsj + dt.timedelta(seconds=b.rng.randrange(3600, 10801)))
    return _hits(eid, (reg.row, "bdc.fdcq.djsj.after_slsj"))


@_kind("fdcq.time_limit", "fdcq", 2.0, False)
def _k_fdcq_time_limit(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    if reg.fast:
        return None
    start = g.workday_before(reg.djsj.date(), b.rng.randint(5, 8))
    reg.row["SLSJ"] = _ts(g.office_time(b.rng, start, 8 * 60 + 30, 17 * 60 + 30))
    return _hits(eid, (reg.row, "bdc.fdcq.djsj.time_limit"))


@_kind("fdcq.time_limit_enterprise", "fdcq", 6.0, False)
def _k_fdcq_time_limit_enterprise(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    if not reg.fast:
        return None
    room = int((reg.djsj - _midnight(reg.djsj.date()) - dt.timedelta(hours=8)).total_seconds())
    if room < 7200:
        return None
    reg.row["SLSJ"] = _ts(reg.djsj - dt.timedelta(seconds=b.rng.randint(7200, min(room, 18000))))
    return _hits(eid, (reg.row, "bdc.fdcq.djsj.time_limit_enterprise"))


@_kind("fdcq.qlr_missing", "fdcq", 1.5, True)
def _k_fdcq_qlr_missing(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    if reg.fast:
        return None
    reg.holders = []
    return _hits(eid, (reg.row, "bdc.fdcq.qlr.present"))


# ---- messages of a registration (fdcq or dyaq)


def _msg_missing(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    b.missing.append((eid, reg))
    return []


def _msg_late(hours: tuple[int, int], rules: tuple[str, ...]) -> Kind:
    def fn(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
        jrsj = reg.djsj + dt.timedelta(seconds=b.rng.randrange(hours[0] * 3600 + 60, hours[1] * 3600))
        reg.msgs = [b.reg_message(reg, jrsj, "1")]
        return _hits(eid, *((reg.row, f"bdc.{reg.kind}.jrbw.{r}") for r in rules))

    return fn


def _msg_failed(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    msg = reg.msgs[0]
    msg["JRZT"] = b.rng.choice("23")
    b.deferred.append(Deferred(Hit(eid, reg.row, f"bdc.{reg.kind}.jrbw.within_24h"), reg, 24))
    b.deferred.append(Deferred(Hit(eid, reg.row, f"bdc.{reg.kind}.jrbw.within_48h"), reg, 48))
    return _hits(eid, (msg, "bdc.jrbw.jrzt.success"))


def _msg_failed_then_ok(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    msg = reg.msgs[0]
    msg["JRZT"] = b.rng.choice("23")
    retry = parse_datetime(msg["JRSJ"]) + dt.timedelta(seconds=b.rng.randrange(600, 10801))  # type: ignore[operator]
    reg.msgs.append(b.reg_message(reg, retry, "1"))
    return _hits(eid, (msg, "bdc.jrbw.jrzt.success"))


for _carrier in ("fdcq", "dyaq"):
    _kind(f"{_carrier}.msg_missing", _carrier, 1.5, False)(_msg_missing)
    _kind(f"{_carrier}.msg_late24", _carrier, 1.5, False)(_msg_late((25, 47), ("within_24h",)))
    _kind(f"{_carrier}.msg_late48", _carrier, 1.0, False)(_msg_late((49, 70), ("within_24h", "within_48h")))
    _kind(f"{_carrier}.msg_failed", _carrier, 1.0, False)(_msg_failed)
    _kind(f"{_carrier}.msg_failed_then_ok", _carrier, 1.0, False)(_msg_failed_then_ok)


# ---- qlr (a holder of an fdcq registration)


def _holder(
    b: _Batch, reg: Reg, pred: Callable[[dict[str, str]], bool] = lambda h: True
) -> dict[str, str] | None:
    pool = [h for h in reg.holders if pred(h)]
    return b.rng.choice(pool) if pool else None


def _qlr_set(
    name: str,
    weight: float,
    fieldname: str,
    value: Callable[[random.Random, dict[str, str]], str],
    rule: str,
    pred: Callable[[Reg, dict[str, str]], bool] = lambda r, h: True,
) -> None:
    def fn(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
        h = _holder(b, reg, lambda h: pred(reg, h))
        if h is None:
            return None
        h[fieldname] = value(b.rng, h)
        return _hits(eid, (h, rule))

    _kind(name, "fdcq", weight, True)(fn)


@_kind("qlr.required", "fdcq", 1.5, True)
def _k_qlr_required(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    f = b.rng.choice(
        ("QLRMC", "ZJH", "SXH", "QLRMC", "ZJH", "SXH", "ZJZL", "BDCDYH", "QXDM", "QLRLX", "GYFS", "YWH")
    )
    if f == "QLRLX":  # a person: an enterprise's type decides the fast track
        h = _holder(b, reg, lambda h: h["QLRLX"] == "1")
    elif f == "GYFS":  # not in a 按份共有 group (its sum would change)
        h = _holder(b, reg, lambda h: h["GYFS"] in ("0", "1"))
    elif f == "YWH":  # one of two 共同共有 holders: the registration keeps a holder
        h = _holder(b, reg, lambda h: h["GYFS"] == "1")
    else:
        h = _holder(b, reg)
    if h is None:
        return None
    h[f] = ""
    return _hits(eid, (h, f"bdc.qlr.{f.lower()}.required"))


def _bad_citizen_id(rng: random.Random, h: dict[str, str]) -> str:
    value = h["ZJH"]
    style = rng.randrange(3)
    if style == 0:
        return value[:17] + rng.choice([c for c in "0123456789X" if c != value[17]])
    if style == 1:  # the same person's number would have to end in X: make one that does, in lower case
        for seq in range(1000):
            body = value[:14] + f"{seq:03d}"
            if citizen_id_check_digit(body) == "X":
                return body + "x"
    body = value[:6] + "19990231" + value[14:17]
    return body + citizen_id_check_digit(body)


def _bad_credit_code(rng: random.Random, h: dict[str, str]) -> str:
    value = h["ZJH"]
    return value[:17] + rng.choice([c for c in CREDIT_CHARS if c != value[17]])


def _bad_phone(rng: random.Random, h: dict[str, str]) -> str:
    mobile = (
        h["DH"] if len(h["DH"]) == 11 and h["DH"].startswith("1") else "138" + f"{rng.randrange(10**8):08d}"
    )
    if rng.random() < 0.5:
        return mobile[:-1]
    return f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"


def _is_person(reg: Reg, h: dict[str, str]) -> bool:
    return h["ZJZL"] == "1"


_qlr_set("qlr.zjzl_code", 1.0, "ZJZL", lambda rng, h: "10", "bdc.qlr.zjzl.code")
_qlr_set(
    "qlr.qlrlx_code",
    1.0,
    "QLRLX",
    lambda rng, h: "5",
    "bdc.qlr.qlrlx.code",
    lambda r, h: h["QLRLX"] == "1" and r.row["DJLX"] != "200",
)
_qlr_set(
    "qlr.gyfs_code",
    1.0,
    "GYFS",
    lambda rng, h: "4",
    "bdc.qlr.gyfs.code",
    lambda r, h: h["GYFS"] in ("0", "1"),
)
_qlr_set("qlr.qlrmc_clean", 1.0, "QLRMC", lambda rng, h: h["QLRMC"] + " ", "bdc.qlr.qlrmc.clean_text")
_qlr_set("qlr.sxh_integer", 1.0, "SXH", lambda rng, h: "0", "bdc.qlr.sxh.integer")
_qlr_set("qlr.citizen_id", 1.5, "ZJH", _bad_citizen_id, "bdc.qlr.zjh.citizen_id", _is_person)
_qlr_set(
    "qlr.credit_code", 3.0, "ZJH", _bad_credit_code, "bdc.qlr.zjh.credit_code", lambda r, h: h["ZJZL"] == "8"
)
_qlr_set(
    "qlr.qlbl_range",
    2.0,
    "QLBL",
    lambda rng, h: h["QLBL"] + "%",
    "bdc.qlr.qlbl.range",
    lambda r, h: h["GYFS"] == "2",
)
_qlr_set(
    "qlr.qlbl_required",
    2.0,
    "QLBL",
    lambda rng, h: "",
    "bdc.qlr.qlbl.required",
    lambda r, h: h["GYFS"] == "2",
)
_qlr_set("qlr.dh_format", 1.0, "DH", _bad_phone, "bdc.qlr.dh.format")
_qlr_set("qlr.qxdm_code", 1.0, "QXDM", lambda rng, h: PROVINCE + "0100", "bdc.qlr.qxdm.code")


@_kind("qlr.qlbl_sum", "fdcq", 2.0, True)
def _k_qlr_qlbl_sum(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    group = [h for h in reg.holders if h["GYFS"] == "2"]
    if not group:
        return None
    first = group[0]
    first["QLBL"] = str(Decimal(first["QLBL"]) - 10)
    return [Hit(eid, first, "bdc.qlr.qlbl.sum_100", qxdm=min(h["QXDM"] for h in group))]


@_kind("qlr.orphan", "fdcq", 1.0, True)
def _k_qlr_orphan(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    d = reg.district
    orphan = g.person(b.rng, d, b.orphan_ywh(d, reg.djsj.date()), g.unit_number(b.rng, d, "4"), "0", 1, "")
    b.extra[QLR].append(orphan)
    return _hits(eid, (orphan, "bdc.qlr.ywh.exists"))


@_kind("qlr.bdcdyh_mismatch", "fdcq", 1.0, True)
def _k_qlr_bdcdyh_mismatch(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    h = _holder(b, reg)
    if h is None:
        return None
    other = reg.row["BDCDYH"]
    while other == reg.row["BDCDYH"]:
        other = g.unit_number(b.rng, reg.district, reg.row["QLLX"])
    h["BDCDYH"] = other
    return _hits(eid, (h, "bdc.qlr.bdcdyh.matches"))


# ---- dyaq


@_kind("dyaq.required", "dyaq", 2.0, True)
def _k_dyaq_required(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    row = reg.row
    amount = "BDBZZQSE" if row["DYFS"] == "1" else "ZGZQSE"
    f = b.rng.choice(
        (
            "DYQR",
            "DBR",
            "ZWLXJSSJ",
            amount,
            "DYQR",
            "DBR",
            "ZWLXJSSJ",
            amount,
            "ZWLXQSSJ",
            "SLSJ",
            "DYFS",
            "BDCDYH",
            "DJLX",
            "DJSJ",
            "QXDM",
        )
    )
    row[f] = ""
    return _hits(eid, (row, f"bdc.dyaq.{f.lower()}.required"))


@_kind("dyaq.ywh_required", "dyaq", 0.5, True)
def _k_dyaq_ywh_required(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    _drop_ywh(reg)
    return _hits(eid, (reg.row, "bdc.dyaq.ywh.required"))


@_kind("dyaq.qxdm_code", "dyaq", 0.5, True)
def _k_dyaq_qxdm_code(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    _foreign_qxdm(reg)
    return _hits(eid, (reg.row, "bdc.dyaq.qxdm.code"))


@_kind("dyaq.duplicate", "dyaq", 1.0, True)
def _k_dyaq_duplicate(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    copy = dict(reg.row)
    b.extra[DYAQ].append(copy)
    return _hits(eid, (reg.row, "bdc.dyaq.ywh.unique"), (copy, "bdc.dyaq.ywh.unique"))


@_kind("dyaq.bdcdyh_format", "dyaq", 1.0, True)
def _k_dyaq_bdcdyh_format(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    reg.row["BDCDYH"] = _broken_unit_number(b.rng, reg.row["BDCDYH"])
    return _hits(eid, (reg.row, "bdc.dyaq.bdcdyh.format"))


@_kind("dyaq.bdcdyh_prefix", "dyaq", 1.0, True)
def _k_dyaq_bdcdyh_prefix(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    reg.row["BDCDYH"] = b.rng.choice(g.foreign) + reg.row["BDCDYH"][6:]
    return _hits(eid, (reg.row, "bdc.dyaq.bdcdyh.qxdm_prefix"))


@_kind("dyaq.djlx_code", "dyaq", 0.7, True)
def _k_dyaq_djlx_code(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    reg.row["DJLX"] = reg.row["DJLX"][0] + "10"
    return _hits(eid, (reg.row, "bdc.dyaq.djlx.code"))


@_kind("dyaq.dyfs_code", "dyaq", 1.0, True)
def _k_dyaq_dyfs_code(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    reg.row["DYFS"] = "3"
    return _hits(eid, (reg.row, "bdc.dyaq.dyfs.code"))


@_kind("dyaq.bdbzzqse_range", "dyaq", 1.0, True)
def _k_dyaq_bdbzzqse_range(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    if reg.row["DYFS"] != "1":
        return None
    reg.row["BDBZZQSE"] = "-100"
    return _hits(eid, (reg.row, "bdc.dyaq.bdbzzqse.range"))


@_kind("dyaq.zgzqse_range", "dyaq", 1.0, True)
def _k_dyaq_zgzqse_range(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    if reg.row["DYFS"] != "2":
        return None
    reg.row["ZGZQSE"] = "0"
    return _hits(eid, (reg.row, "bdc.dyaq.zgzqse.range"))


@_kind("dyaq.zwlx_order", "dyaq", 1.0, True)
def _k_dyaq_zwlx_order(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    start = parse_datetime(reg.row["ZWLXQSSJ"])
    assert start is not None
    reg.row["ZWLXJSSJ"] = _ts(start - dt.timedelta(days=b.rng.randint(1, 365)))
    return _hits(eid, (reg.row, "bdc.dyaq.zwlxjssj.after_start"))


@_kind("dyaq.zwlx_datetime", "dyaq", 1.0, True)
def _k_dyaq_zwlx_datetime(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    f = "ZWLXQSSJ" if b.rng.random() < 0.7 else "ZWLXJSSJ"
    reg.row[f] = reg.row[f][:10].replace("-", ".")
    return _hits(eid, (reg.row, f"bdc.dyaq.{f.lower()}.datetime"))


@_kind("dyaq.slsj_datetime", "dyaq", 0.7, True)
def _k_dyaq_slsj_datetime(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    reg.row["SLSJ"] = _bad_datetime(b.rng, parse_datetime(reg.row["SLSJ"]))  # type: ignore[arg-type]
    return _hits(eid, (reg.row, "bdc.dyaq.slsj.datetime"))


@_kind("dyaq.djsj_datetime", "dyaq", 0.7, True)
def _k_dyaq_djsj_datetime(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    reg.row["DJSJ"] = _bad_datetime(b.rng, reg.djsj)
    return _hits(eid, (reg.row, "bdc.dyaq.djsj.datetime"))


@_kind("dyaq.slsj_year", "dyaq", 0.2, True, extra=True)
def _k_dyaq_slsj_year(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    reg.row["SLSJ"] = _typo_year(parse_datetime(reg.row["SLSJ"]), b.rng)  # type: ignore[arg-type]
    if reg.row["SLSJ"] > reg.row["DJSJ"]:
        return _hits(eid, (reg.row, "bdc.dyaq.slsj.plausible"), (reg.row, "bdc.dyaq.djsj.after_slsj"))
    return _hits(eid, (reg.row, "bdc.dyaq.slsj.plausible"))


@_kind("dyaq.djsj_year", "dyaq", 0.2, True, extra=True)
def _k_dyaq_djsj_year(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    if b.incremental:
        return None
    reg.row["DJSJ"] = _typo_year(reg.djsj, b.rng)
    if reg.row["SLSJ"] > reg.row["DJSJ"]:
        return _hits(eid, (reg.row, "bdc.dyaq.djsj.plausible"), (reg.row, "bdc.dyaq.djsj.after_slsj"))
    return _hits(eid, (reg.row, "bdc.dyaq.djsj.plausible"))


@_kind("dyaq.after_slsj", "dyaq", 0.7, True)
def _k_dyaq_after_slsj(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    reg.row["SLSJ"] = _ts(reg.djsj + dt.timedelta(seconds=b.rng.randrange(3600, 10801)))
    return _hits(eid, (reg.row, "bdc.dyaq.djsj.after_slsj"))


@_kind("dyaq.clean_text", "dyaq", 1.0, True)
def _k_dyaq_clean_text(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    f = "DYQR" if b.rng.random() < 0.7 else "DBR"
    reg.row[f] = reg.row[f] + " "
    return _hits(eid, (reg.row, f"bdc.dyaq.{f.lower()}.clean_text"))


@_kind("dyaq.time_limit", "dyaq", 2.0, False)
def _k_dyaq_time_limit(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    start = g.workday_before(reg.djsj.date(), 1)
    reg.row["SLSJ"] = _ts(g.office_time(b.rng, start, 8 * 60 + 30, 17 * 60 + 30))
    return _hits(eid, (reg.row, "bdc.dyaq.djsj.time_limit"))


# ---- jrbw (the message of a registration)


@_kind("jrbw.bizmsgid_dup", "any", 1.0, False)
def _k_jrbw_bizmsgid_dup(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    pool = b.partners.get(reg.district.code) or []
    if not pool:
        return None
    partner = pool.pop(b.rng.randrange(len(pool)))
    msg, other = reg.msgs[0], partner.msgs[0]
    msg["BIZMSGID"] = other["BIZMSGID"]
    return _hits(eid, (msg, "bdc.jrbw.bizmsgid.unique"), (other, "bdc.jrbw.bizmsgid.unique"))


@_kind("jrbw.bizmsgid_format", "any", 1.0, False)
def _k_jrbw_bizmsgid_format(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    msg = reg.msgs[0]
    value = msg["BIZMSGID"]
    for cut in (17, 16, 15, 14):
        new = value[:cut] + value[cut + 1 :]
        if new not in b.msg_ids:
            b.msg_ids.add(new)
            msg["BIZMSGID"] = new
            return _hits(eid, (msg, "bdc.jrbw.bizmsgid.format"))
    return None


@_kind("jrbw.bizmsgid_prefix", "any", 1.0, False)
def _k_jrbw_bizmsgid_prefix(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    msg = reg.msgs[0]
    new = b.rng.choice(g.foreign) + msg["BIZMSGID"][6:]
    if new in b.msg_ids:
        return None
    b.msg_ids.add(new)
    msg["BIZMSGID"] = new
    return _hits(eid, (msg, "bdc.jrbw.bizmsgid.qxdm_prefix"))


@_kind("jrbw.rectype_format", "any", 1.0, False)
def _k_jrbw_rectype_format(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    msg = reg.msgs[0]
    msg["RECTYPE"] = msg["RECTYPE"][:6]
    return _hits(eid, (msg, "bdc.jrbw.rectype.format"))


@_kind("jrbw.rectype_djlx", "any", 1.0, False)
def _k_jrbw_rectype_djlx(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    msg = reg.msgs[0]
    msg["RECTYPE"] = b.rng.choice([c for c in "123456789" if c != msg["RECTYPE"][0]]) + msg["RECTYPE"][1:]
    return _hits(eid, (msg, "bdc.jrbw.rectype.djlx"))


@_kind("jrbw.resend_bad_jrsj", "any", 1.0, False)
def _k_jrbw_resend_bad_jrsj(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    when = parse_datetime(reg.msgs[0]["JRSJ"]) + dt.timedelta(seconds=b.rng.randrange(600, 7201))  # type: ignore[operator]
    resend = b.reg_message(reg, when, "1")
    resend["JRSJ"] = _bad_datetime(b.rng, when)
    reg.msgs.append(resend)
    return _hits(eid, (resend, "bdc.jrbw.jrsj.datetime"))


def _one_person(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    if not reg.row["SLRY"]:
        return None  # the district does not record SLRY/SHRY
    reg.row["SLRY"] = reg.row["SHRY"] = reg.row["DBR"]
    return _hits(eid, (reg.row, f"bdc.{reg.kind}.roles.separated"))


def _staff_clean_text(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    if not reg.row["SLRY"]:
        return None
    f = ("SLRY", "SHRY")[int(eid[-1]) % 2]  # alternately, so that both rules get errors
    reg.row[f] = reg.row[f] + ("\u3000\u3000" if b.rng.random() < 0.5 else " ")
    return _hits(eid, (reg.row, f"bdc.{reg.kind}.{f.lower()}.clean_text"))


for _carrier in ("fdcq", "dyaq"):
    _kind(f"{_carrier}.one_person", _carrier, 0.3, True, extra=True)(_one_person)
    _kind(f"{_carrier}.staff_clean_text", _carrier, 0.4, True, extra=True)(_staff_clean_text)


@_kind("jrbw.resend_jrsj_year", "any", 0.3, False, extra=True)
def _k_jrbw_resend_jrsj_year(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    when = parse_datetime(reg.msgs[0]["JRSJ"]) + dt.timedelta(seconds=b.rng.randrange(600, 7201))  # type: ignore[operator]
    resend = b.reg_message(reg, when, "1")
    resend["JRSJ"] = _typo_year(when, b.rng)
    reg.msgs.append(resend)
    return _hits(eid, (resend, "bdc.jrbw.jrsj.plausible"))


@_kind("jrbw.resend_bad_jrzt", "any", 1.0, False)
def _k_jrbw_resend_bad_jrzt(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    when = parse_datetime(reg.msgs[0]["JRSJ"]) + dt.timedelta(seconds=b.rng.randrange(600, 7201))  # type: ignore[operator]
    resend = b.reg_message(reg, when, "9")
    reg.msgs.append(resend)
    return _hits(eid, (resend, "bdc.jrbw.jrzt.code"))


@_kind("jrbw.resend_required", "any", 1.0, False)
def _k_jrbw_resend_required(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    when = parse_datetime(reg.msgs[0]["JRSJ"]) + dt.timedelta(seconds=b.rng.randrange(600, 7201))  # type: ignore[operator]
    resend = b.reg_message(reg, when, "1")
    f = b.rng.choice(("BIZMSGID", "YWH", "QXDM", "RECTYPE", "JRSJ", "JRZT"))
    resend[f] = ""
    reg.msgs.append(resend)
    return _hits(eid, (resend, f"bdc.jrbw.{f.lower()}.required"))


@_kind("jrbw.qxdm_code", "any", 0.5, False)
def _k_jrbw_qxdm_code(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    msg = reg.msgs[0]
    code = reg.district.code[:4] + "00"
    new = code + msg["BIZMSGID"][6:]  # the id follows the (wrong) QXDM: only qxdm.code breaks
    if new in b.msg_ids:
        return None
    b.msg_ids.add(new)
    msg["BIZMSGID"], msg["QXDM"] = new, code
    return _hits(eid, (msg, "bdc.jrbw.qxdm.code"))


@_kind("jrbw.orphan", "any", 1.0, False)
def _k_jrbw_orphan(g: _Generator, b: _Batch, reg: Reg, eid: str) -> list[Hit] | None:
    d = reg.district
    when = reg.djsj + dt.timedelta(seconds=b.rng.randrange(60, 10801))
    orphan = b.message(b.orphan_ywh(d, reg.djsj.date()), d, reg.row["DJLX"], reg.kind, when, "1")
    b.extra[JRBW].append(orphan)
    return _hits(eid, (orphan, "bdc.jrbw.ywh.exists"))


# ------------------------------------------------------------------------------------------------ generator


class _Generator:
    def __init__(
        self, out: Path, seed: int, districts: int, end: dt.date, error_scale: float, progress: bool
    ) -> None:
        self.out = out
        self.seed = seed
        self.end = end
        self.error_scale = error_scale
        self.progress = progress
        self.calendar = WorkdayCalendar()
        rng = random.Random(f"{seed}/districts")
        counties = regions.province_counties(PROVINCE)
        if not 1 <= districts <= len(counties):
            raise ValueError(f"districts must be between 1 and {len(counties)}, got {districts}")
        chosen = [counties[i * len(counties) // districts] for i in range(districts)]
        factors = [1.0] if districts == 1 else [0.4 + 1.2 * i / (districts - 1) for i in range(districts)]
        rng.shuffle(factors)
        self.districts: list[District] = []
        for (code, name), quality in zip(chosen, factors, strict=True):
            clerks = sorted({self.person_name(rng) for _ in range(5)})
            self.districts.append(
                District(
                    code=code,
                    name=name,
                    city=_city_name(code),
                    quality=round(quality, 2),
                    volume=6.0 + 10.0 * rng.random(),
                    clerks=clerks,
                    roads=tuple(rng.sample(ROADS, 6)),
                )
            )
        taken = {d.code for d in self.districts}
        self.foreign = [c for c, _ in counties if c not in taken] or [
            c for c, _ in regions.province_counties("43")
        ]
        self.id_counties = [c for c, _ in counties]
        self.volume_cum = _cum(d.volume for d in self.districts)
        # working days from 2004 (stock SLSJ may precede 2005) to a little after the end
        first = dt.date(2004, 1, 1)
        self.workdays: list[dt.date] = []
        day = first
        while day <= end + dt.timedelta(days=20):
            if self.calendar.is_workday(day):
                self.workdays.append(day)
            day += dt.timedelta(days=1)
        self.workday_index = {d: i for i, d in enumerate(self.workdays)}
        self.truth_rows = 0
        self.kind_counts: Counter[str] = Counter()

    # --------------------------------------------------------------------------- calendar and times
    def workday_before(self, day: dt.date, k: int) -> dt.date:
        return self.workdays[self.workday_index[day] - k]

    @staticmethod
    def office_time(rng: random.Random, day: dt.date, start_min: int, end_min: int) -> dt.datetime:
        return _midnight(day) + dt.timedelta(seconds=_int(rng, start_min * 60, end_min * 60 - 1))

    # --------------------------------------------------------------------------- values
    @staticmethod
    def person_name(rng: random.Random) -> str:
        given = _pick(rng, GIVEN) if rng.random() < 0.35 else _pick(rng, GIVEN) + _pick(rng, GIVEN)
        return _pick(rng, SURNAMES) + given

    def citizen_id(self, rng: random.Random) -> str:
        birth = BIRTH_DATES[int(rng.random() * len(BIRTH_DATES))]
        body = f"{_pick(rng, self.id_counties)}{birth}{_int(rng, 1, 999):03d}"
        return body + citizen_id_check_digit(body)

    @staticmethod
    def credit_code(rng: random.Random, d: District) -> str:
        body = "91" + d.code + "".join(rng.choices(CREDIT_CHARS, k=9))
        return body + credit_code_check_char(body)

    @staticmethod
    def mobile(rng: random.Random) -> str:
        return _pick(rng, MOBILE_PREFIX) + f"{int(rng.random() * 10**8):08d}"

    @staticmethod
    def unit_number(rng: random.Random, d: District, qllx: str) -> str:
        parcel = {"6": "JC", "8": "JB"}.get(qllx, "GB")
        return (
            f"{d.code}{_int(rng, 1, 30):03d}{_int(rng, 1, 20):03d}{parcel}{_int(rng, 1, 99999):05d}"
            f"F{_int(rng, 1, 99):04d}{_int(rng, 1, 3000):04d}"
        )

    def person(
        self, rng: random.Random, d: District, ywh: str, bdcdyh: str, gyfs: str, sxh: int, qlbl: str
    ) -> dict[str, str]:
        return {
            "YWH": ywh,
            "BDCDYH": bdcdyh,
            "SXH": str(sxh),
            "QLRMC": self.person_name(rng),
            "ZJZL": "1",
            "ZJH": self.citizen_id(rng),
            "QLRLX": "1",
            "GYFS": gyfs,
            "QLBL": qlbl,
            "DH": self.mobile(rng) if rng.random() < 0.7 else "",
            "QXDM": d.code,
        }

    def enterprise(
        self, rng: random.Random, d: District, ywh: str, bdcdyh: str, gyfs: str, sxh: int, qlbl: str
    ) -> dict[str, str]:
        prefix = d.city[:-1] if d.city.endswith("市") else d.name[:2]
        r = rng.random()
        phone = (
            f"0{rng.choice(('27', '710', '711', '712', '713', '714', '715', '716', '717', '718', '719'))}-"
            f"{rng.randrange(2, 9)}{rng.randrange(10**6, 10**7)}"
            if r < 0.4
            else (self.mobile(rng) if r < 0.7 else "")
        )
        return {
            "YWH": ywh,
            "BDCDYH": bdcdyh,
            "SXH": str(sxh),
            "QLRMC": f"{prefix}{rng.choice(BRANDS)}{rng.choice(INDUSTRIES)}有限公司",
            "ZJZL": "8",
            "ZJH": self.credit_code(rng, d),
            "QLRLX": "2",
            "GYFS": gyfs,
            "QLBL": qlbl,
            "DH": phone,
            "QXDM": d.code,
        }

    def holders(self, rng: random.Random, d: District, ywh: str, bdcdyh: str) -> list[dict[str, str]]:
        r = rng.random()
        if r < 0.65:
            make = self.enterprise if rng.random() < 0.15 else self.person
            return [make(rng, d, ywh, bdcdyh, "0", 1, "")]
        if r < 0.82:
            return [self.person(rng, d, ywh, bdcdyh, "1", i + 1, "") for i in range(2)]
        shares = (
            rng.choice((("50", "50"), ("60", "40"), ("70", "30"), ("80", "20")))
            if rng.random() < 0.7
            else rng.choice(
                (("33.33", "33.33", "33.34"), ("50", "30", "20"), ("40", "30", "30"), ("50", "25", "25"))
            )
        )
        return [
            (self.enterprise if rng.random() < 0.1 else self.person)(rng, d, ywh, bdcdyh, "2", i + 1, s)
            for i, s in enumerate(shares)
        ]

    # --------------------------------------------------------------------------- registrations
    def fdcq(self, rng: random.Random, d: District, day: dt.date, ywh: str) -> Reg:
        djlx = _wpick(rng, FDCQ_DJLX_CODES, FDCQ_DJLX_CUM)
        qllx = "4" if rng.random() < 0.85 else _pick(rng, ("6", "6", "8"))
        bdcdyh = self.unit_number(rng, d, qllx)
        holders = self.holders(rng, d, ywh, bdcdyh)
        fast = djlx == "200" and any(h["QLRLX"] == "2" for h in holders)
        if fast:
            slsj = self.office_time(rng, day, 8 * 60 + 30, 15 * 60 + 30)
            djsj = slsj + dt.timedelta(seconds=_int(rng, 600, 4800))
        else:
            djsj = self.office_time(rng, day, 9 * 60, 17 * 60 + 30)
            r = rng.random()
            k = 0 if r < 0.4 else (1 if r < 0.75 else 2)
            if k == 0:
                lo = _midnight(day) + dt.timedelta(hours=8, minutes=30)
                slsj = lo + dt.timedelta(seconds=int(rng.random() * ((djsj - lo).total_seconds() - 300)))
            else:
                slsj = self.office_time(rng, self.workday_before(day, k), 8 * 60 + 30, 17 * 60 + 30)
        cert = ""
        if djlx in CERT_DJLX or (djlx in ("700", "900") and rng.random() < 0.5):
            cert = f"{PROVINCE_ABBR}({day.year}){d.name}不动产权第{_int(rng, 1, 9999999):07d}号"
        fdzl = (
            f"湖北省{d.city}{d.name}{_pick(rng, d.roads)}{_int(rng, 1, 999)}号{_int(rng, 1, 30)}栋"
            f"{_int(rng, 1, 4)}单元{_int(rng, 1, 33)}{_int(rng, 1, 6):02d}室"
        )
        qszt = "3" if djlx == "400" else ("1" if rng.random() < 0.96 else "2")
        row = {
            "YWH": ywh,
            "BDCDYH": bdcdyh,
            "QXDM": d.code,
            "DJLX": djlx,
            "QLLX": qllx,
            "FDZL": fdzl,
            "JZMJ": _area(rng),
            "BDCQZH": cert,
            "SLSJ": _ts(slsj),
            "DJSJ": _ts(djsj),
            "DBR": _pick(rng, d.clerks),
            "SLRY": "",
            "SHRY": "",
            "DJJG": f"{d.name}不动产登记中心",
            "QSZT": qszt,
        }
        return Reg("fdcq", d, row, djsj, holders=holders, fast=fast)

    def dyaq(self, rng: random.Random, d: District, day: dt.date, ywh: str) -> Reg:
        djlx = _wpick(rng, DYAQ_DJLX_CODES, DYAQ_DJLX_CUM)
        djsj = self.office_time(rng, day, 9 * 60, 17 * 60 + 30)
        lo = _midnight(day) + dt.timedelta(hours=8, minutes=30)
        slsj = lo + dt.timedelta(seconds=int(rng.random() * ((djsj - lo).total_seconds() - 600)))
        dyfs = "1" if rng.random() < 0.7 else "2"
        cents = _int(rng, 1000, 50000) if dyfs == "1" else _int(rng, 5000, 200000)
        amount = f"{cents // 100}.{cents % 100:02d}"
        start = _midnight(day)
        row = {
            "YWH": ywh,
            "BDCDYH": self.unit_number(rng, d, "4"),
            "QXDM": d.code,
            "DJLX": djlx,
            "DYFS": dyfs,
            "BDBZZQSE": amount if dyfs == "1" else "",
            "ZGZQSE": amount if dyfs == "2" else "",
            "ZWLXQSSJ": _ts(start),
            "ZWLXJSSJ": _ts(_midnight(_add_years(day, _int(rng, 1, 30)))),
            "DYQR": _pick(rng, BANKS) + d.name + "支行",
            "SLSJ": _ts(slsj),
            "DJSJ": _ts(djsj),
            "DBR": _pick(rng, d.clerks),
            "SLRY": "",
            "SHRY": "",
        }
        return Reg("dyaq", d, row, djsj)

    # --------------------------------------------------------------------------- injections
    def inject(self, b: _Batch, rates: dict[str, float]) -> None:
        carriers = [reg for reg in b.regs if b.rng.random() < rates[reg.district.code]]
        for reg in carriers:
            reg.carrier = True
        if b.incremental:
            for reg in b.regs:
                if not reg.carrier:
                    b.partners.setdefault(reg.district.code, []).append(reg)
        for reg in carriers:
            names = [
                n
                for n, (carrier, _, stock) in KINDS.items()
                if carrier in (reg.kind, "any") and (b.incremental or stock) and n not in EXTRA_KINDS
            ]
            while names:
                cum = _cum(KINDS[n][1] for n in names)
                name = b.rng.choices(names, cum_weights=cum)[0]
                eid = b.next_error_id()
                hits = _KIND_FUNCS[name](self, b, reg, eid)
                if hits is None:
                    names.remove(name)
                    continue
                b.hits.extend(hits)
                b.errors[name] += 1
                break
        first = b.regs[0].row["YWH"] if b.regs else ""
        # half of the districts record who accepted and who reviewed (SLRY, SHRY): two different clerks
        roles = random.Random(f"{b.tag}/{first}/roles")
        recording = {d.code for d in sorted(self.districts, key=lambda d: d.code)[::2]}
        for reg in b.regs:
            if reg.district.code in recording and len(reg.district.clerks) >= 2:
                reg.row["SLRY"], reg.row["SHRY"] = roles.sample(reg.district.clerks, 2)
        rng = random.Random(f"{b.tag}/{first}/typos")  # a stream of its own: the draws above are unchanged
        for reg in b.regs:
            if reg.carrier or rng.random() >= TYPO_RATE * rates[reg.district.code]:
                continue
            names = [
                n
                for n in sorted(EXTRA_KINDS)
                if KINDS[n][0] in (reg.kind, "any") and (b.incremental or KINDS[n][2])
            ]
            while names:
                name = rng.choices(names, cum_weights=_cum(KINDS[n][1] for n in names))[0]
                eid = b.next_error_id()
                state = b.rng
                b.rng = rng  # the kind draws from the second stream too
                try:
                    hits = _KIND_FUNCS[name](self, b, reg, eid)
                finally:
                    b.rng = state
                if hits is None:
                    names.remove(name)
                    continue
                reg.carrier = True
                b.hits.extend(hits)
                b.errors[name] += 1
                break

    def resolve_messages(self, b: _Batch) -> dt.datetime | None:
        """Decide the ``msg_missing`` registrations (never pending) and the pending-dependent truth."""
        as_of = parse_datetime(b.as_of_text()) if b.regs else None
        if b.missing:
            assert as_of is not None
            cands = sorted(b.missing, key=lambda x: x[1].djsj)
            if any(reg.djsj > as_of - 24 * H for _, reg in cands):
                eid, first = cands.pop(0)
                lo = first.djsj + 25 * H
                if cands:
                    lo = max(lo, max(reg.djsj for _, reg in cands) + 24 * H + MIN)
                hi = first.djsj + 47 * H
                jrsj = lo + dt.timedelta(seconds=b.rng.randrange(int((hi - lo).total_seconds())))
                first.msgs = [b.reg_message(first, jrsj, "1")]
                b.hits.append(Hit(eid, first.row, f"bdc.{first.kind}.jrbw.within_24h"))
                b.errors[f"{first.kind}.msg_missing"] -= 1
                b.errors[f"{first.kind}.msg_late24"] += 1
                as_of = max(as_of, jrsj)
            for eid, reg in cands:
                assert reg.djsj <= as_of - 24 * H
                reg.msgs = []
                b.hits.append(Hit(eid, reg.row, f"bdc.{reg.kind}.jrbw.submitted"))
                # never accessed, so not accessed in time either (bdc-contract.md)
                b.hits.append(Hit(eid, reg.row, f"bdc.{reg.kind}.jrbw.within_24h"))
                if reg.djsj <= as_of - 48 * H:
                    b.hits.append(Hit(eid, reg.row, f"bdc.{reg.kind}.jrbw.within_48h"))
        final = parse_datetime(b.as_of_text()) if b.regs else None
        assert final == as_of, (final, as_of)
        if b.deferred:
            assert as_of is not None
            first_ok: dict[str, dt.datetime] = {}
            for m in b.table_rows(JRBW):
                ts = parse_datetime(m["JRSJ"])
                if (
                    m["JRZT"] == "1"
                    and ts is not None
                    and (m["YWH"] not in first_ok or ts < first_ok[m["YWH"]])
                ):
                    first_ok[m["YWH"]] = ts
            for item in b.deferred:
                djsj = parse_datetime(item.reg.row["DJSJ"])
                assert djsj is not None and item.reg.row["YWH"] not in first_ok
                if djsj <= as_of - item.hours * H:
                    b.hits.append(item.hit)
        return as_of

    def logs(self, b: _Batch, rates: dict[str, float]) -> None:
        assert b.day is not None
        day_text = b.day.isoformat()
        counts: Counter[tuple[str, str]] = Counter()
        codes = {d.code for d in self.districts}
        for table in (FDCQ, DYAQ):
            for row in b.table_rows(table):
                ts = parse_datetime(row["DJSJ"])
                if (
                    ts is not None
                    and ts.date() == b.day
                    and row["QXDM"] in codes
                    and row["DJLX"] in DJLX_CODES
                ):
                    counts[(row["QXDM"], row["DJLX"])] += 1
        for d in self.districts:
            for djlx in DJLX_CODES:
                n = counts.get((d.code, djlx))
                if n:
                    b.logs.append({"QXDM": d.code, "RZRQ": day_text, "DJLX": djlx, "SL": str(n)})
        extra = []
        for log in b.logs:
            if b.rng.random() >= LOG_RATE * rates[log["QXDM"]]:
                continue
            eid = b.next_error_id()
            kind = b.rng.choice(
                ("dbrz.sl_off", "dbrz.sl_integer", "dbrz.rzrq_date", "dbrz.sl_empty", "dbrz.required")
            )
            if kind == "dbrz.sl_off":
                log["SL"] = str(int(log["SL"]) + b.rng.randint(1, 3))
                rule = "bdc.dbrz.sl.matches"
            elif kind == "dbrz.sl_integer":
                log["SL"] += ".0"
                rule = "bdc.dbrz.sl.integer"
            elif kind == "dbrz.rzrq_date":
                log["RZRQ"] = b.day.strftime("%Y/%m/%d")
                rule = "bdc.dbrz.rzrq.date"
            elif kind == "dbrz.sl_empty":
                log["SL"] = ""
                rule = "bdc.dbrz.sl.required"
            else:
                f = b.rng.choice(("QXDM", "RZRQ", "DJLX"))
                log[f] = ""
                rule = f"bdc.dbrz.{f.lower()}.required"
            b.hits.append(Hit(eid, log, rule))
            b.errors[kind] += 1
        for d in self.districts:
            if b.rng.random() < 0.3 * LOG_RATE * rates[d.code]:
                eid = b.next_error_id()
                if b.rng.random() < 0.6:
                    log = {"QXDM": d.code, "RZRQ": day_text, "DJLX": "000", "SL": "0"}
                    rule, kind = "bdc.dbrz.djlx.code", "dbrz.extra_code"
                else:
                    log = {"QXDM": d.code[:4] + "00", "RZRQ": day_text, "DJLX": "100", "SL": "0"}
                    rule, kind = "bdc.dbrz.qxdm.code", "dbrz.extra_qxdm"
                extra.append(log)
                b.hits.append(Hit(eid, log, rule))
                b.errors[kind] += 1
        b.logs.extend(extra)

    # --------------------------------------------------------------------------- truth
    def truth(self, writer: Any, label: str, hits: Iterable[Hit], rows: dict[int, int]) -> None:
        for hit in hits:
            table, fieldname = RULES[hit.rule_id]
            rec = hit.rec
            key = "|".join(rec[k] for k in KEYS[table]) if table == DBRZ else rec[KEYS[table][0]]
            writer.writerow(
                (
                    label,
                    table,
                    hit.qxdm if hit.qxdm is not None else rec["QXDM"],
                    key,
                    rows[id(rec)],
                    fieldname,
                    hit.rule_id,
                    hit.error_id,
                )
            )
            self.truth_rows += 1

    # --------------------------------------------------------------------------- stock
    def stock(self, stock_rows: int, truth_writer: Any) -> dict[str, Any]:
        folder = self.out / "stock"
        folder.mkdir(parents=True, exist_ok=True)
        rng = random.Random(f"{self.seed}/stock")
        rates = {d.code: min(0.95, STOCK_RATE * self.error_scale * d.quality) for d in self.districts}
        first = self.workday_index[self.calendar.first_workday_on_or_after(dt.date(2005, 1, 3))]
        last = max(i for i, d in enumerate(self.workdays) if d <= self.end)
        days = self.workdays[first : last + 1]
        day_cum = _cum(1.0 + 2.0 * i / max(1, len(days) - 1) for i in range(len(days)))
        seqs: Counter[tuple[str, dt.date]] = Counter()
        errors: Counter[str] = Counter()
        n_dyaq = round(stock_rows * DYAQ_SHARE)
        files = {t: (folder / f"{t}.csv").open("w", encoding="utf-8", newline="") for t in STOCK_TABLES}
        try:
            writers = {t: csv.writer(fh, lineterminator="\n") for t, fh in files.items()}
            written = dict.fromkeys(STOCK_TABLES, 0)
            for t, w in writers.items():
                w.writerow(FIELDS[t])
            getters = {t: itemgetter(*FIELDS[t]) for t in STOCK_TABLES}
            extras: dict[str, list[dict[str, str]]] = {FDCQ: [], QLR: [], DYAQ: []}
            late_hits: list[Hit] = []
            best = ""
            done_f = done_d = 0
            while done_f < stock_rows or done_d < n_dyaq:
                nf = min(STOCK_CHUNK, stock_rows - done_f)
                nd = (round(n_dyaq * (done_f + nf) / stock_rows) if stock_rows else n_dyaq) - done_d
                b = _Batch("stock", None, rng, False, errors, "S")
                for i in range(nf + nd):
                    d = _wpick(rng, self.districts, self.volume_cum)
                    day = _wpick(rng, days, day_cum)
                    seqs[(d.code, day)] += 1
                    ywh = f"{d.code}{day:%Y%m%d}{500000 + seqs[(d.code, day)]:06d}"
                    b.regs.append(self.fdcq(rng, d, day, ywh) if i < nf else self.dyaq(rng, d, day, ywh))
                self.inject(b, rates)
                # a duplicate takes the place of an untouched registration: the file keeps stock_rows rows
                for kind, table in (("fdcq", FDCQ), ("dyaq", DYAQ)):
                    surplus = len(b.extra[table])
                    if surplus:
                        spare = [reg for reg in b.regs if reg.kind == kind and not reg.carrier][-surplus:]
                        dropped = {id(reg) for reg in spare}
                        b.regs = [reg for reg in b.regs if id(reg) not in dropped]
                rows: dict[int, int] = {}
                for t in STOCK_TABLES:
                    chunk = b.table_rows(t)
                    extras[t].extend(b.extra[t])
                    for rec in chunk[: len(chunk) - len(b.extra[t])]:
                        written[t] += 1
                        rows[id(rec)] = written[t] + 1
                        writers[t].writerow(getters[t](rec))
                        if t != QLR:
                            best = _max_ts(best, (rec["SLSJ"], rec["DJSJ"]))
                self.truth(truth_writer, "stock", [h for h in b.hits if id(h.rec) in rows], rows)
                late_hits.extend(h for h in b.hits if id(h.rec) not in rows)
                done_f += nf
                done_d += nd
                if self.progress:
                    print(f"\r存量 / stock {done_f:,}/{stock_rows:,}", end="", file=sys.stderr, flush=True)
            rows = {}
            for t in STOCK_TABLES:
                for rec in extras[t]:
                    written[t] += 1
                    rows[id(rec)] = written[t] + 1
                    writers[t].writerow(getters[t](rec))
                    if t != QLR:
                        best = _max_ts(best, (rec["SLSJ"], rec["DJSJ"]))
            self.truth(truth_writer, "stock", late_hits, rows)
        finally:
            for fh in files.values():
                fh.close()
        if self.progress:
            print(file=sys.stderr)
        self.kind_counts.update(errors)
        return {"rows": written, "errors": sum(errors.values()), "as_of": best or None}

    # --------------------------------------------------------------------------- incremental
    def incremental(self, days: list[dt.date], truth_writer: Any) -> dict[str, Any]:
        totals = dict.fromkeys(INCREMENTAL_TABLES, 0)
        as_of: dict[str, str | None] = {}
        n_errors = 0
        span = max(1, len(days) - 1)
        for t, day in enumerate(days):
            rng = random.Random(f"{self.seed}/incremental/{day.isoformat()}")
            trend = 1.0 - 0.8 * t / span
            rates = {
                d.code: min(0.95, BASE_RATE * self.error_scale * d.quality * trend) for d in self.districts
            }
            errors: Counter[str] = Counter()
            b = _Batch(f"incremental/{day.isoformat()}", day, rng, True, errors, f"{day:%Y%m%d}")
            for d in self.districts:
                nf, nd = _poisson(rng, d.volume), _poisson(rng, d.volume * DYAQ_SHARE)
                for i in range(nf + nd):
                    b.ywh_seq[d.code] += 1
                    ywh = f"{d.code}{day:%Y%m%d}{b.ywh_seq[d.code]:06d}"
                    b.regs.append(self.fdcq(rng, d, day, ywh) if i < nf else self.dyaq(rng, d, day, ywh))
            for reg in b.regs:
                jrsj = reg.djsj + dt.timedelta(seconds=rng.randrange(60, 10801))
                reg.msgs = [b.reg_message(reg, jrsj, "1")]
            self.inject(b, rates)
            batch_as_of = self.resolve_messages(b)
            self.logs(b, rates)
            folder = self.out / "incremental" / day.isoformat()
            folder.mkdir(parents=True, exist_ok=True)
            rows: dict[int, int] = {}
            for table in INCREMENTAL_TABLES:
                recs = b.table_rows(table)
                with (folder / f"{table}.csv").open("w", encoding="utf-8", newline="") as fh:
                    writer = csv.writer(fh, lineterminator="\n")
                    writer.writerow(FIELDS[table])
                    getter = itemgetter(*FIELDS[table])
                    for i, rec in enumerate(recs):
                        rows[id(rec)] = i + 2
                        writer.writerow(getter(rec))
                totals[table] += len(recs)
            self.truth(truth_writer, b.label, b.hits, rows)
            as_of[b.label] = _ts(batch_as_of) if batch_as_of else None
            n_errors += sum(errors.values())
            self.kind_counts.update(errors)
            if self.progress:
                print(f"\r增量 / incremental {t + 1}/{len(days)} {day}", end="", file=sys.stderr, flush=True)
        if self.progress and days:
            print(file=sys.stderr)
        return {"rows": totals, "errors": n_errors, "as_of": as_of}


FDCQ_DJLX_CODES = [c for c, _ in FDCQ_DJLX]
FDCQ_DJLX_CUM = _cum(w for _, w in FDCQ_DJLX)
DYAQ_DJLX_CODES = [c for c, _ in DYAQ_DJLX]
DYAQ_DJLX_CUM = _cum(w for _, w in DYAQ_DJLX)


def _city_name(code: str) -> str:
    """The prefecture's name for an address (empty for 省直辖 counties or when unknown)."""
    try:
        entry = regions._load()[1].get(code[:4] + "00")
        name = entry.display_name if entry is not None else ""
    except Exception:  # the registry's internals are not an interface; an address without a city is fine
        return ""
    return name if name.endswith(("市", "州", "地区")) and "直辖" not in name else ""


def incremental_days(
    end: dt.date, years: int, days: int | None, calendar: WorkdayCalendar | None = None
) -> list[dt.date]:
    """The working days that get an incremental batch."""
    calendar = calendar or WorkdayCalendar()
    start = _add_years(end, -years) + dt.timedelta(days=1)
    out = []
    day = end
    while True:
        if days is not None and len(out) >= days:
            break
        if days is None and day < start:
            break
        if calendar.is_workday(day):
            out.append(day)
        day -= dt.timedelta(days=1)
    return out[::-1]


def _remove_stale_batches(folder: Path, keep: set[str]) -> None:
    """Remove day folders of an earlier run (only folders named YYYY-MM-DD holding only table files)."""
    if not folder.is_dir():
        return
    ours = {f"{t}.csv" for t in INCREMENTAL_TABLES}
    for sub in sorted(folder.iterdir()):
        if not sub.is_dir() or sub.name in keep or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", sub.name):
            continue
        files = list(sub.iterdir())
        if all(f.is_file() and f.name in ours for f in files):
            for f in files:
                f.unlink()
            sub.rmdir()


# ------------------------------------------------------------------------------------------------ entry point


def generate(
    out: Path,
    *,
    seed: int = 42,
    districts: int = 12,
    days: int | None = None,
    stock_rows: int = 20000,
    end: dt.date = dt.date(2024, 12, 31),
    years: int = 3,
    progress: bool = False,
    error_scale: float = 1.0,
    incremental: bool = True,
) -> dict[str, Any]:
    """Write the sample (see the module docstring) into ``out`` and return a summary.

    ``days``: only the last ``days`` working days up to ``end`` get an incremental batch (default: all
    working days of the last ``years`` years). ``error_scale`` multiplies every error rate (0: clean data).
    ``incremental=False`` writes the stock batch only.
    """
    out = Path(out)
    if isinstance(end, str):
        end = dt.date.fromisoformat(end)
    if stock_rows < 0 or years < 1 or (days is not None and days < 0) or error_scale < 0:
        raise ValueError("stock_rows, days and error_scale must be ≥ 0 and years ≥ 1")
    out.mkdir(parents=True, exist_ok=True)
    gen = _Generator(out, seed, districts, end, error_scale, progress)
    with (out / "districts.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(("QXDM", "QXMC", "quality"))
        for d in gen.districts:
            writer.writerow((d.code, d.name, f"{d.quality:.2f}"))
    batch_days = incremental_days(end, years, days, gen.calendar) if incremental else []
    _remove_stale_batches(out / "incremental", {d.isoformat() for d in batch_days})
    with (out / "truth.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        truth_writer = csv.writer(fh, lineterminator="\n")
        truth_writer.writerow(TRUTH_COLUMNS)
        stock = gen.stock(stock_rows, truth_writer)
        inc = gen.incremental(batch_days, truth_writer)
    errors = stock["errors"] + inc["errors"]
    return {
        "out": str(out),
        "seed": seed,
        "districts": [{"QXDM": d.code, "QXMC": d.name, "quality": d.quality} for d in gen.districts],
        "batches": 1 + len(batch_days),
        "rows": {"stock": stock["rows"], "incremental": inc["rows"]},
        "errors": {
            "stock": stock["errors"],
            "incremental": inc["errors"],
            "total": errors,
            "by_kind": dict(sorted(gen.kind_counts.items())),
        },
        "truth_rows": gen.truth_rows,
        "as_of": {"stock": stock["as_of"], **inc["as_of"]},
        "summary": f"{len(gen.districts)} 个区县 / districts, 存量 / stock {stock['rows'][FDCQ]:,} 条, "
        f"增量 / incremental {len(batch_days)} 天 / days, 注入错误 / errors injected {errors:,}",
    }
