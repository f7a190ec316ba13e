"""gjj 示例数据生成器 / the embedded sample-data generator of the housing provident fund domain.

``generate(out, ...)`` writes, for the prefecture-level centres of 甘肃省 (``toolkit.regions
.province_prefectures("62")``, 14 centres)::

    out/stock/{DWXX,GRXX,DKZH,ZCXX}.csv                   a full snapshot at the end of the last month (存量)
    out/incremental/YYYY-MM/{DWXX,GRXX,GRMX,DKZH,ZCXX,TJBB}.csv   one batch per month (月度数据)
    out/truth.csv             every injected error × rule it breaks (row by row)
    out/reconcile_truth.csv   every filed report line dq reconcile must find (matches, identity, carry)
    out/centres.csv           CSDM, name, quality (the base error factor), date spelling of the centre

Data files are UTF-8 CSV (no BOM) whose header is exactly the dictionary's field codes; ``truth.csv``,
``reconcile_truth.csv`` and ``centres.csv`` are UTF-8 with BOM. The same seed gives byte-identical files
(every random draw comes from ``random.Random`` seeded with the seed, and per batch with the seed and the
batch name; nothing depends on the clock).

The province month by month
===========================
Each centre starts with ``persons`` member accounts (default: ``stock_rows`` / centres) in employer units
of realistic economic types, with a stock history: closed accounts (04 转出, 05 提取), sealed accounts (02)
of which some have been sealed for years (dormant), a few frozen accounts (06, never changing), and housing
loans (open and settled). Every month: units pay 汇缴 (01) for their active and frozen members on a pay day
(the largest unit of each centre on the month's last working day, which is therefore every batch's as-of);
members withdraw (11), close by withdrawal (12 → 05) or transfer out (07 → 04), are sealed (05 → 02) and
unsealed (04 → 01), new members open accounts (03), new units open and small units close; centres clear
dormant accounts (睡眠账户) at a rate that grows over time; new loans are paid out and loans amortise,
prepay and settle; a few postings are reversed (CZBZ 02 with its original). Bases are raised every July and
kept within the city's floor and cap; balances roll over each January (上年结转). Monthly amounts are
round(base × ratio, 2), half up. Policy parameters (ZCXX) are per city and year. Some centres export dates as
``YYYYMMDD`` and months as ``YYYYMM`` (both valid); the as-of fields JZRQ and ZJJYRQ are always
``YYYY-MM-DD``. Clean data passes every rule; the filed report (TJBB) is built from the batch's final data
(computed lines), its own identities and the previous month's closing lines.

Error rates
===========
Every centre has a quality factor (``centres.csv``: 0.4–1.6, higher = more errors). A record (unit, account,
posting, loan, report line) of month ``t`` (0 … T−1) carries an error with probability ``rate × error_scale
× quality × (1 − 0.8·t/(T−1))``; stock records with the ``STOCK`` rates. Each injection touches records no
other injection of the batch touches (an employer injection locks its whole unit; an account, posting or
loan injection locks the account; one report injection per centre), so every truth row is exactly one
unexpected row of ``dq check`` (``error_scale=0``: no errors at all).

truth.csv
=========
``batch`` ("stock" or "incremental/YYYY-MM"), ``table`` (the rule's ``meta.table``), ``CSDM`` (the value in
that row), ``key`` (the table's record key), ``row`` (the ``_ROW`` the toolkit reports: header = 1; view
rules give the row of the base table), ``field`` (the rule's ``meta.field``), ``rule_id``, ``error_id`` (one
per injection; the cross-row rules 一人多户, 睡眠账户, 一人一笔在贷 and the age-term cap are computed from the
batch's final data by this module's own Python, so their error id names the rule).

Injection catalogue (``KINDS``: name → carrier, weight, in stock): each kind's function says in its
docstring which rules it breaks. Every rule of the pack is broken by at least one kind.
"""

import csv
import datetime as dt
import random
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import yaml

from toolkit import regions
from toolkit.validators import CREDIT_CODE_CHARSET, citizen_id_check_digit, credit_code_check_char

__all__ = ["KINDS", "generate"]

HERE = Path(__file__).resolve().parent
PROVINCE = "62"
DWXX, GRXX, GRMX, DKZH, ZCXX, TJBB = "DWXX", "GRXX", "GRMX", "DKZH", "ZCXX", "TJBB"
STOCK_TABLES = (DWXX, GRXX, DKZH, ZCXX)
INCREMENTAL_TABLES = (DWXX, GRXX, GRMX, DKZH, ZCXX, TJBB)
TRUTH_COLUMNS = ("batch", "table", "CSDM", "key", "row", "field", "rule_id", "error_id")
RECONCILE_COLUMNS = ("batch", "CSDM", "HC", "check", "error_id")

#: error probability per record of the first month (quality 1.0, error_scale 1.0)
RATES = {DWXX: 0.05, GRXX: 0.012, GRMX: 0.004, DKZH: 0.02, ZCXX: 0.05, TJBB: 0.012, "multi": 0.003}
#: … and of the stock batch
STOCK = {DWXX: 0.03, GRXX: 0.008, DKZH: 0.012, ZCXX: 0.05, "multi": 0.002}
CENT = Decimal("0.01")
ZERO = Decimal("0")
DORMANT_MONTHS = 24  # N = M of grxx_links.sql

DEPOSITS = ("01", "02", "08", "09")
OUTGOING = ("07", "11", "12")


def _load_pack() -> tuple[dict[str, list[str]], dict[str, Any], dict[str, Any]]:
    dictionary = yaml.safe_load((HERE / "dictionary.yaml").read_text(encoding="utf-8"))
    fields = {t: list(spec["fields"]) for t, spec in dictionary["tables"].items()}
    config = yaml.safe_load((HERE / "domain.yaml").read_text(encoding="utf-8"))
    return fields, dictionary["code_lists"], config["reconcile"]


FIELDS, CODE_LISTS, RECONCILE = _load_pack()
KEYS = {
    DWXX: ("DWZH",),
    GRXX: ("GRZH",),
    GRMX: ("YWLSH",),
    DKZH: ("DKZH",),
    ZCXX: ("CSDM", "ND"),
    TJBB: ("CSDM", "TJNY", "HC"),
}
LINES = list(CODE_LISTS["HC"])
AMOUNT_LINES = set(RECONCILE["amount_lines"])
COMPUTED_LINES = list(RECONCILE["lines"])
IDENTITIES = {h: e.split() for h, e in RECONCILE["identities"].items()}
CARRY = dict(RECONCILE["carry"])

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红玲芬燕彬鹏辉斌宇浩凯健俊帆旭宁龙林欣佳琪晨"
    "阳雪婷颖倩丹慧莉凤洁梅琳晶博文思雨涵轩睿泽志国建新春海波"
)
BRANDS = (
    "陇原",
    "金城",
    "祁连",
    "河西",
    "丝路",
    "敦煌",
    "黄河",
    "昆仑",
    "飞天",
    "天马",
    "崆峒",
    "麦积",
    "陇南",
    "西部",
    "长城",
    "新源",
)
TRADES = (
    "建设工程",
    "商贸",
    "物流",
    "医药",
    "农业科技",
    "能源",
    "机械制造",
    "信息技术",
    "食品",
    "建材",
    "旅游",
    "物业服务",
)
OFFICES = (
    "人民医院",
    "第一中学",
    "实验小学",
    "自然资源局",
    "住房和城乡建设局",
    "税务局",
    "供电公司",
    "疾病预防控制中心",
)
#: economic type (GB/T 12402) → weight, affiliation codes it may carry
ECONOMIC = (
    ("110", 24, ("40", "50", "20")),
    ("120", 4, ("50", "61", "62")),
    ("130", 2, ("90",)),
    ("140", 1, ("90",)),
    ("150", 30, ("90",)),
    ("160", 8, ("90",)),
    ("170", 24, ("90",)),
    ("190", 2, ("90",)),
    ("200", 2, ("90",)),
    ("300", 2, ("90",)),
    ("900", 1, ("90",)),
)
RATIOS = ("0.05", "0.08", "0.10", "0.12", "0.12", "0.12")


# ------------------------------------------------------------------------------------------------ helpers


def money(x: Decimal) -> str:
    return f"{x.quantize(CENT, rounding=ROUND_HALF_UP)}"


def half_up(x: Decimal, places: str = "0.01") -> Decimal:
    return x.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def month_key(d: dt.date) -> int:
    return d.year * 12 + d.month


def month_text(y: int, m: int, compact: bool = False) -> str:
    return f"{y:04d}{m:02d}" if compact else f"{y:04d}-{m:02d}"


def last_day(y: int, m: int) -> dt.date:
    nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def working_days(y: int, m: int) -> list[dt.date]:
    d, out = dt.date(y, m, 1), []
    while d.month == m:
        if d.weekday() < 5:
            out.append(d)
        d += dt.timedelta(days=1)
    return out


def add_months(d: dt.date, n: int) -> dt.date:
    k = d.year * 12 + d.month - 1 + n
    y, m = divmod(k, 12)
    return dt.date(y, m + 1, min(d.day, last_day(y, m + 1).day))


def parse_date(value: Any) -> dt.date | None:
    """Either spelling of the pack (YYYY-MM-DD, YYYYMMDD), strictly; else None."""
    if not isinstance(value, str):
        return None
    if re.fullmatch(r"[0-9]{8}", value):
        value = f"{value[:4]}-{value[4:6]}-{value[6:]}"
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def parse_month(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    m = re.fullmatch(r"([0-9]{4})-?([0-9]{2})", value)
    if not m or m.group(1) == "0000" or not 1 <= int(m.group(2)) <= 12:
        return None
    return int(m.group(1)) * 12 + int(m.group(2))


AMOUNT_RE = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,6})?")


def amount(value: Any) -> Decimal | None:
    return Decimal(value) if isinstance(value, str) and AMOUNT_RE.fullmatch(value) else None


def full_years(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - (1 if (on.month, on.day) < (birth.month, birth.day) else 0)


# ------------------------------------------------------------------------------------------------ the state


@dataclass
class Centre:
    code: str
    name: str
    quality: float
    compact: bool  # exports dates YYYYMMDD and months YYYYMM
    counties: list[str]
    tier: int  # minimum-wage tier 0 (Lanzhou) … 3
    cleanup: float  # share of dormant accounts cleared per month at the start (grows over time)
    seq: Counter = field(default_factory=Counter)

    def date(self, d: dt.date | None) -> str:
        if d is None:
            return ""
        return d.strftime("%Y%m%d") if self.compact else d.isoformat()

    def month(self, y: int, m: int) -> str:
        return month_text(y, m, self.compact)

    def next(self, what: str) -> int:
        self.seq[what] += 1
        return self.seq[what]


@dataclass
class Unit:
    dwzh: str
    dwmc: str
    uscc: str
    jjlx: str
    lsgx: str
    slrq: dt.date
    khrq: dt.date
    dwjcbl: str
    grjcbl: str
    status: str  # 01, 03 缓缴, 04
    csdm: str
    xhrq: dt.date | None = None
    pay_day: int = 15  # index into the month's working days (clamped)
    jzny_ahead: int = 0


@dataclass
class Person:
    name: str
    zjhm: str
    sex: str
    birth: dt.date
    sjhm: str


@dataclass
class Account:
    grzh: str
    dwzh: str
    person: Person
    base: Decimal
    gryjce: Decimal
    dwyjce: Decimal
    status: str
    khrq: dt.date
    csdm: str
    carried: Decimal = ZERO
    collected: Decimal = ZERO
    xhrq: dt.date | None = None
    fcrq: dt.date | None = None
    zjjyrq: dt.date | None = None

    @property
    def balance(self) -> Decimal:
        return self.carried + self.collected

    def take(self, x: Decimal) -> None:
        """Withdraw ``x`` from this year's collection first, then from the carried balance."""
        from_collected = min(x, self.collected)
        self.collected -= from_collected
        self.carried -= x - from_collected


@dataclass
class Loan:
    dkzh: str
    htbh: str
    grzh: str
    person: Person
    htdkje: Decimal
    dkffe: Decimal
    ffrq: dt.date
    dkye: Decimal
    dkqs: int
    dkll: str
    hkfs: str
    dblx: str
    fwzj: Decimal
    qdrq: dt.date
    csdm: str
    jqrq: dt.date | None = None
    yqbjze: Decimal = ZERO
    ljyqqs: int = 0
    fxdj: str = "01"

    @property
    def open(self) -> bool:
        return self.dkye > 0


@dataclass
class Policy:
    dwjcblxx: str = "0.05"
    dwjcblsx: str = "0.12"
    grjcblxx: str = "0.05"
    grjcblsx: str = "0.12"
    jcjsxx: Decimal = Decimal("1820")
    jcjssx: Decimal = Decimal("24000")
    dkzged: Decimal = Decimal("600000")
    dkzcnx: int = 30
    dkzgbl: str = "0.80"
    jknlsx: int = 65


def _policy(tier: int, year: int) -> Policy:
    floors = {2021: (1820, 1770, 1720, 1670), 2022: (1820, 1770, 1720, 1670), 2023: (1820, 1770, 1720, 1670)}
    floor = floors.get(year, (2020, 1960, 1910, 1850))[tier]
    cap = (25200, 21900, 20400, 19500)[tier] + 600 * max(0, year - 2021)
    return Policy(
        jcjsxx=Decimal(floor),
        jcjssx=Decimal(cap),
        dkzged=Decimal((700000, 600000, 550000, 500000)[tier]),
        dkzcnx=30,
        dkzgbl="0.80",
        jknlsx=65,
    )


class _Province:
    """The clean state of the province and its evolution, month by month (see the module docstring)."""

    def __init__(self, seed: int, centres: int, persons: int, first: tuple[int, int]) -> None:
        self.rng = random.Random(f"gjj:{seed}")
        rng = self.rng
        prefectures = regions.province_prefectures(PROVINCE)[:centres]
        counties = regions.province_counties(PROVINCE)
        self.centres: list[Centre] = []
        for i, (code, name) in enumerate(prefectures):
            own = [c for c, _ in counties if c.startswith(code[:4])] or [code[:4] + "02"]
            self.centres.append(
                Centre(
                    code=code,
                    name=name,
                    quality=round(rng.uniform(0.4, 1.6), 2),
                    compact=i % 3 == 1,
                    counties=own,
                    tier=0 if code == "620100" else rng.choice((1, 2, 2, 3)),
                    cleanup=rng.uniform(0.004, 0.03),
                )
            )
        self.by_code = {c.code: c for c in self.centres}
        self.units: dict[str, list[Unit]] = {c.code: [] for c in self.centres}
        self.unit_by: dict[str, Unit] = {}
        self.accounts: dict[str, list[Account]] = {c.code: [] for c in self.centres}
        self.members: dict[str, list[Account]] = defaultdict(list)  # dwzh -> accounts
        self.loans: dict[str, list[Loan]] = {c.code: [] for c in self.centres}
        self.open_loan: dict[str, Loan] = {}  # zjhm -> open loan
        self.ids: set[str] = set()
        self.usccs: set[str] = set()
        self.policies: dict[tuple[str, int], Policy] = {}
        y0, m0 = first
        self.start = dt.date(y0, m0, 1) - dt.timedelta(days=1)  # the day before the first month
        for c in self.centres:
            for y in range(y0 - 6, y0 + 4):
                self.policies[(c.code, y)] = _policy(c.tier, y)
            self._seed_centre(c, persons)

    # ------------------------------------------------------------------ people and codes
    def person(self, c: Centre, age_lo: int, age_hi: int, on: dt.date) -> Person:
        rng = self.rng
        while True:
            birth = on - dt.timedelta(days=rng.randint(age_lo * 365 + 5, age_hi * 365 - 5))
            body = f"{rng.choice(c.counties)}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
            zjhm = body + citizen_id_check_digit(body)
            if zjhm not in self.ids:
                self.ids.add(zjhm)
                break
        sex = "1" if int(zjhm[16]) % 2 else "2"
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        sjhm = f"1{rng.choice('3456789')}{rng.randint(0, 999999999):09d}"
        return Person(name, zjhm, sex, birth, sjhm)

    def uscc(self, c: Centre) -> str:
        rng = self.rng
        chars = CREDIT_CODE_CHARSET
        while True:
            body = "91" + rng.choice(c.counties) + "".join(rng.choice(chars) for _ in range(9))
            code = body + credit_code_check_char(body)
            if code not in self.usccs:
                self.usccs.add(code)
                return code

    def unit_name(self, c: Centre, jjlx: str) -> str:
        rng = self.rng
        city = c.name.removesuffix("市")
        if jjlx == "110":
            return f"{city}{rng.choice(OFFICES)}"
        return f"{city}{rng.choice(BRANDS)}{rng.choice(TRADES)}有限公司"

    def base(self, c: Centre, year: int) -> Decimal:
        """A contribution base: 2 600–14 000 yuan, inside every year's floor and cap of every city (raised
        at most 6 % a year, it stays so over the sample's years)."""
        return Decimal(self.rng.randint(2600, 14000))

    # ------------------------------------------------------------------ the stock history
    def new_unit(self, c: Centre, opened: dt.date, founded: dt.date | None = None) -> Unit:
        rng = self.rng
        jjlx = rng.choices([e[0] for e in ECONOMIC], [e[1] for e in ECONOMIC])[0]
        lsgx = rng.choice(next(e[2] for e in ECONOMIC if e[0] == jjlx))
        ratio = rng.choice(RATIOS)
        u = Unit(
            dwzh=f"{c.code[:4]}{c.next('unit'):06d}",
            dwmc=self.unit_name(c, jjlx),
            uscc=self.uscc(c),
            jjlx=jjlx,
            lsgx=lsgx if rng.random() < 0.8 else "",
            slrq=founded or opened - dt.timedelta(days=rng.randint(10, 3000)),
            khrq=opened,
            dwjcbl=ratio,
            grjcbl=ratio if rng.random() < 0.85 else rng.choice(RATIOS),
            status="01",
            csdm=c.code,
            pay_day=rng.randint(0, 19),
            jzny_ahead=rng.choice((0, 0, 0, 1, 3)),
        )
        self.units[c.code].append(u)
        self.unit_by[u.dwzh] = u
        return u

    def new_account(self, c: Centre, u: Unit, opened: dt.date, age: tuple[int, int] = (22, 45)) -> Account:
        p = self.person(c, age[0], age[1], opened)
        base = self.base(c, opened.year)
        a = Account(
            grzh=f"{c.code[:4]}1{c.next('account'):08d}",
            dwzh=u.dwzh,
            person=p,
            base=base,
            gryjce=half_up(base * Decimal(u.grjcbl)),
            dwyjce=half_up(base * Decimal(u.dwjcbl)),
            status="01",
            khrq=opened,
            csdm=c.code,
            zjjyrq=opened,
        )
        self.accounts[c.code].append(a)
        self.members[u.dwzh].append(a)
        return a

    def _seed_centre(self, c: Centre, persons: int) -> None:
        rng = self.rng
        start = self.start
        sealed_share = rng.uniform(0.05, 0.16)
        dormant_share = rng.uniform(0.3, 0.7)  # of the sealed
        n = 0
        while n < persons:
            size = max(1, min(persons - n, int(rng.lognormvariate(2.2, 1.0))))
            opened = start - dt.timedelta(days=rng.randint(400, 7000))
            u = self.new_unit(c, opened)
            if rng.random() < 0.03:
                u.status = "03"  # 缓缴
            for _ in range(size):
                khrq = opened + dt.timedelta(days=rng.randint(0, max(1, (start - opened).days - 40)))
                a = self.new_account(c, u, khrq, (22, 56))
                months = max(1, (start - khrq).days // 30)
                monthly = a.gryjce + a.dwyjce
                total = monthly * Decimal(min(months, 240)) * Decimal(str(round(rng.uniform(0.35, 0.95), 2)))
                a.collected = monthly * Decimal(start.month)
                a.carried = max(Decimal("100.00"), half_up(total - a.collected))
                a.zjjyrq = add_months(start, -1).replace(day=min(28, 10 + u.pay_day))
                r = rng.random()
                if r < sealed_share:
                    a.status = "02"
                    back = rng.randint(25, 96) if rng.random() < dormant_share else rng.randint(1, 22)
                    a.fcrq = add_months(start, -back).replace(day=rng.randint(1, 28))
                    a.fcrq = min(max(a.fcrq, a.khrq + dt.timedelta(days=20)), start - dt.timedelta(days=5))
                    a.zjjyrq = a.fcrq
                    a.carried, a.collected = a.balance, ZERO
                elif r < sealed_share + 0.10:
                    a.status = rng.choice(("04", "05"))
                    a.xhrq = khrq + dt.timedelta(days=rng.randint(30, max(31, (start - khrq).days - 1)))
                    a.xhrq = min(a.xhrq, start - dt.timedelta(days=35))
                    if a.xhrq < a.khrq:
                        a.xhrq = a.khrq
                    a.zjjyrq = a.xhrq
                    a.carried = a.collected = ZERO
                elif r < sealed_share + 0.104:
                    a.status = "06"  # frozen (by a court order); stays so
                n += 1
        # loans: about 12 % of the active members have had one
        for a in self.accounts[c.code]:
            if a.status in ("01", "02") and rng.random() < 0.13:
                ffrq = start - dt.timedelta(days=rng.randint(60, 5000))
                if ffrq < a.khrq:
                    continue
                loan = self.new_loan(c, a, ffrq)
                if loan is None:
                    continue
                elapsed = month_key(start) - month_key(ffrq)
                if elapsed >= loan.dkqs or rng.random() < 0.25:
                    loan.dkye = ZERO
                    loan.jqrq = min(
                        start - dt.timedelta(days=5), add_months(ffrq, rng.randint(12, max(13, elapsed)))
                    )
                    if loan.jqrq <= ffrq:
                        loan.jqrq = ffrq + dt.timedelta(days=30)
                    self.open_loan.pop(a.person.zjhm, None)
                else:
                    loan.dkye = half_up(loan.dkffe * Decimal(loan.dkqs - elapsed) / Decimal(loan.dkqs))

    def new_loan(self, c: Centre, a: Account, ffrq: dt.date) -> Loan | None:
        rng = self.rng
        if a.person.zjhm in self.open_loan:
            return None
        p = (
            self.policies[(c.code, ffrq.year)]
            if (c.code, ffrq.year) in self.policies
            else _policy(c.tier, ffrq.year)
        )
        age = full_years(a.person.birth, ffrq)
        years = min(p.dkzcnx, p.jknlsx - age - 1, rng.choice((10, 15, 20, 20, 25, 30, 30)))
        if years < 5:
            return None
        fwzj = Decimal(rng.randint(30, 160) * 10000)
        cap = min(p.dkzged, fwzj * Decimal(p.dkzgbl))
        htdkje = Decimal(int(cap * Decimal(str(round(rng.uniform(0.45, 1.0), 2))) / 1000) * 1000)
        if htdkje <= 0:
            return None
        rate = (
            "0.0285"
            if ffrq >= dt.date(2024, 5, 18)
            else "0.031"
            if ffrq >= dt.date(2022, 10, 1)
            else "0.0325"
        )
        loan = Loan(
            dkzh=f"{c.code[:4]}DK{c.next('loan'):08d}",
            htbh=f"JK{c.code[:4]}{ffrq.year}{c.next('contract'):06d}",
            grzh=a.grzh,
            person=a.person,
            htdkje=htdkje,
            dkffe=htdkje,
            ffrq=ffrq,
            dkye=htdkje,
            dkqs=years * 12,
            dkll=rate,
            hkfs=rng.choice(("01", "01", "01", "02")),
            dblx=rng.choice(("01", "01", "01", "03")),
            fwzj=fwzj,
            qdrq=ffrq - dt.timedelta(days=rng.randint(3, 30)),
            csdm=c.code,
        )
        self.loans[c.code].append(loan)
        self.open_loan[a.person.zjhm] = loan
        return loan

    # ------------------------------------------------------------------ one month
    def month(self, y: int, m: int, t: int, months: int) -> dict[str, Any]:
        """Advance the state through month (y, m); the month's postings and figures per centre."""
        rng = self.rng
        days = working_days(y, m)
        as_of = days[-1]
        postings: dict[str, list[dict[str, str]]] = {c.code: [] for c in self.centres}
        figures: dict[str, Counter] = {c.code: Counter() for c in self.centres}
        progress = t / max(1, months - 1)
        for c in self.centres:
            policy = self.policies[(c.code, y)]
            out = postings[c.code]
            fig = figures[c.code]

            def post(
                a: Account, kind: str, fse: Decimal, day: dt.date, c=c, out=out, **extra: str
            ) -> dict[str, str]:
                row = {
                    "YWLSH": f"{c.code[:4]}{y:04d}{m:02d}{c.next(f'p{y}{m}'):07d}",
                    "GRZH": a.grzh,
                    "DWZH": a.dwzh,
                    "JZRQ": day.isoformat(),
                    "GJHTQYWLX": kind,
                    "FSE": money(fse),
                    "HBJNY": extra.get("HBJNY", ""),
                    "TQYY": extra.get("TQYY", ""),
                    "TQFS": extra.get("TQFS", ""),
                    "CZBZ": extra.get("CZBZ", "01"),
                    "CSDM": c.code,
                }
                out.append(row)
                a.zjjyrq = max(a.zjjyrq or day, day)
                return row

            if m == 1:  # 上年结转
                for a in self.accounts[c.code]:
                    a.carried, a.collected = a.balance, ZERO
            if m in (1, 7):  # 基数调整 (July) and the new year's floor and cap (January)
                for a in self.accounts[c.code]:
                    if a.status not in ("01", "06"):
                        continue
                    base = a.base * Decimal(str(round(rng.uniform(1.02, 1.06), 3))) if m == 7 else a.base
                    base = half_up(max(policy.jcjsxx + 100, min(policy.jcjssx - 500, base)), "1")
                    u = self.unit_by[a.dwzh]
                    a.base = base
                    a.gryjce = half_up(base * Decimal(u.grjcbl))
                    a.dwyjce = half_up(base * Decimal(u.dwjcbl))
            # units: a new one now and then; a small one closes now and then
            if rng.random() < 0.25:
                u = self.new_unit(c, rng.choice(days[:-1]))
                fig["units_opened"] += 1
                for _ in range(rng.randint(1, 6)):
                    a = self.new_account(c, u, rng.choice([d for d in days if d >= u.khrq]))
                    post(a, "03", ZERO, a.khrq)
                    fig["accounts_opened"] += 1
            if rng.random() < 0.08:
                small = [
                    u
                    for u in self.units[c.code]
                    if u.status != "04"
                    and u.khrq < days[0]
                    and 0 < sum(a.status in ("01", "02") for a in self.members[u.dwzh]) <= 4
                    and not any(a.status == "06" for a in self.members[u.dwzh])
                ]
                if small:
                    u = rng.choice(small)
                    day = rng.choice(days[:-1])
                    for a in self.members[u.dwzh]:
                        if a.status in ("01", "02") and a.balance > 0:
                            post(a, "07", -a.balance, day)
                            a.carried = a.collected = ZERO
                            a.status, a.xhrq, a.fcrq = "04", day, None
                        elif a.status in ("01", "02"):
                            a.status, a.xhrq, a.fcrq = "04", day, None
                    u.status, u.xhrq = "04", day
                    fig["units_closed"] += 1
            # contributions
            payers = [u for u in self.units[c.code] if u.status == "01"]
            biggest = max(payers, key=lambda u: len(self.members[u.dwzh]), default=None)
            for u in payers:
                day = as_of if u is biggest else days[min(u.pay_day, len(days) - 1)]
                for a in self.members[u.dwzh]:
                    if a.status in ("01", "06") and a.khrq < days[0]:
                        fse = a.gryjce + a.dwyjce
                        post(a, "01", fse, day, HBJNY=c.month(y, m))
                        a.collected += fse
                        if rng.random() < 0.002:  # a posting booked twice and reversed
                            post(a, "01", fse, day, HBJNY=c.month(y, m))
                            post(a, "01", -fse, day, HBJNY=c.month(y, m), CZBZ="02")
            # members' business
            dormant_rate = c.cleanup * (1 + 2.5 * progress)
            for a in list(self.accounts[c.code]):
                r = rng.random()
                day = rng.choice(days)
                if a.status == "01" and a.khrq < days[0]:
                    if r < 0.02 and a.balance >= 500:
                        x = Decimal(
                            int(a.balance * Decimal(str(round(rng.uniform(0.1, 0.6), 2))) / 100) * 100
                        )
                        if x > 0:
                            post(a, "11", -x, day, TQYY=rng.choice(("06", "06", "07", "01", "09")), TQFS="02")
                            a.take(x)
                    elif r < 0.0215 and a.balance > 0:
                        post(
                            a,
                            "12",
                            -a.balance,
                            day,
                            TQYY=rng.choice(("03", "03", "05", "08", "04")),
                            TQFS="02",
                        )
                        a.carried = a.collected = ZERO
                        a.status, a.xhrq = "05", day
                    elif r < 0.023 and a.balance > 0:
                        post(a, "07", -a.balance, day)
                        a.carried = a.collected = ZERO
                        a.status, a.xhrq = "04", day
                    elif r < 0.027 and a.balance > 0:
                        post(a, "05", ZERO, day)
                        a.status, a.fcrq = "02", day
                elif a.status == "02" and a.fcrq is not None and a.fcrq < days[0]:
                    sealed = month_key(as_of) - month_key(a.fcrq)
                    idle = month_key(as_of) - month_key(a.zjjyrq or a.fcrq)
                    dormant = sealed >= DORMANT_MONTHS and idle >= DORMANT_MONTHS
                    if dormant and r < dormant_rate and a.balance > 0:
                        if rng.random() < 0.6:
                            post(a, "12", -a.balance, day, TQYY=rng.choice(("03", "05", "99")), TQFS="02")
                            a.status = "05"
                        else:
                            post(a, "07", -a.balance, day)
                            a.status = "04"
                        a.carried = a.collected = ZERO
                        a.xhrq, a.fcrq = day, None
                    elif not dormant and r < 0.03 and self.unit_by[a.dwzh].status == "01":
                        post(a, "04", ZERO, day)
                        a.status, a.fcrq = "01", None
            # new members
            for u in payers:
                if rng.random() < 0.012 * max(1, len(self.members[u.dwzh]) ** 0.8):
                    a = self.new_account(c, u, rng.choice(days))
                    post(a, "03", ZERO, a.khrq)
                    fig["accounts_opened"] += 1
            # loans
            for loan in self.loans[c.code]:
                if not loan.open or loan.ffrq >= days[0]:
                    continue
                principal = half_up(loan.dkffe / Decimal(loan.dkqs))
                if rng.random() < 0.004 or loan.dkye <= principal:
                    loan.dkye, loan.jqrq = ZERO, rng.choice(days)
                    loan.yqbjze, loan.ljyqqs, loan.fxdj = ZERO, 0, "01"
                    self.open_loan.pop(loan.person.zjhm, None)
                    fig["loans_settled"] += 1
                    continue
                loan.dkye -= principal
                if rng.random() < 0.012:
                    k = rng.randint(1, 3)
                    loan.yqbjze, loan.ljyqqs, loan.fxdj = (
                        min(loan.dkye, principal * k),
                        k,
                        "02" if k < 3 else "03",
                    )
                else:
                    loan.yqbjze, loan.ljyqqs, loan.fxdj = ZERO, 0, "01"
            for a in self.accounts[c.code]:
                if a.status == "01" and a.khrq < days[0] and rng.random() < 0.004:
                    loan = self.new_loan(c, a, rng.choice(days[:-1]))
                    if loan is not None:
                        fig["loans_issued"] += 1
        return {"as_of": as_of, "postings": postings, "figures": figures}


# ------------------------------------------------------------------------------------------------ a batch


@dataclass
class Hit:
    table: str
    row: dict[str, str]
    field: str
    rule_id: str
    error_id: str


class _Batch:
    """The rows of one batch (snapshots of the clean state, the month's postings), the injections made on
    them and the truth."""

    def __init__(
        self,
        prov: _Province,
        name: str,
        ym: tuple[int, int],
        as_of: dt.date,
        seed: int,
        postings: dict[str, list[dict[str, str]]] | None,
    ) -> None:
        self.prov = prov
        self.name = name
        self.y, self.m = ym
        self.as_of = as_of
        self.first_day = dt.date(self.y, self.m, 1)
        self.rng = random.Random(f"gjj:{seed}:{name}")
        self.stock = postings is None
        self.hits: list[Hit] = []
        self.kind_counts: Counter = Counter()
        self.errors = 0
        self.locked_units: set[str] = set()
        self.locked_accounts: set[str] = set()
        self.locked_reports: set[str] = set()
        self.fixed: set[tuple[int, str]] = set()  # (id(row), field) set by an injection: not derived again
        self.reconcile: list[tuple[str, str, str, str]] = []  # (CSDM, HC, check, error id)
        self.tables: dict[str, list[dict[str, str]]] = {t: [] for t in INCREMENTAL_TABLES}
        self.unit_row: dict[str, dict[str, str]] = {}
        self.acct_row: dict[str, dict[str, str]] = {}
        self.acct: dict[str, Account] = {}
        self.loan_row: dict[str, dict[str, str]] = {}
        self.loan: dict[str, Loan] = {}
        self.centre_of: dict[str, Centre] = {}
        self.posts_of: dict[str, list[dict[str, str]]] = defaultdict(list)
        self.loans_of: dict[str, list[Loan]] = defaultdict(list)
        for c in prov.centres:
            for u in prov.units[c.code]:
                row = self._unit(c, u)
                self.tables[DWXX].append(row)
                self.unit_row[u.dwzh] = row
                self.centre_of[u.dwzh] = c
            for a in prov.accounts[c.code]:
                row = self._account(c, a)
                self.tables[GRXX].append(row)
                self.acct_row[a.grzh] = row
                self.acct[a.grzh] = a
                self.centre_of[a.grzh] = c
            for loan in prov.loans[c.code]:
                row = self._loan(c, loan)
                self.tables[DKZH].append(row)
                self.loan_row[loan.dkzh] = row
                self.loan[loan.dkzh] = loan
                self.loans_of[loan.grzh].append(loan)
            years = range(self.y - 6, self.y + 1) if self.stock else (self.y - 1, self.y)
            for year in years:
                self.tables[ZCXX].append(self._policy(c, year))
            if postings is not None:
                for row in postings[c.code]:
                    row = dict(row)
                    self.tables[GRMX].append(row)
                    self.posts_of[row["GRZH"]].append(row)

    # ------------------------------------------------------------------ rows of the clean state
    def _unit(self, c: Centre, u: Unit) -> dict[str, str]:
        ahead = add_months(self.first_day, u.jzny_ahead)
        jzny = (u.xhrq or self.first_day) if u.status == "04" else ahead
        return {
            "DWZH": u.dwzh,
            "DWMC": u.dwmc,
            "TYSHXYDM": u.uscc,
            "DWJJLX": u.jjlx,
            "DWLSGX": u.lsgx,
            "DWSLRQ": c.date(u.slrq),
            "DWKHRQ": c.date(u.khrq),
            "DWJCBL": u.dwjcbl,
            "GRJCBL": u.grjcbl,
            "DWJCRS": "",
            "DWZHYE": "",
            "DWZHZT": u.status,
            "DWXHRQ": c.date(u.xhrq),
            "JZNY": c.month(jzny.year, jzny.month) if u.status != "03" else "",
            "CSDM": c.code,
        }

    def _account(self, c: Centre, a: Account) -> dict[str, str]:
        p = a.person
        foreign = int(p.zjhm[14:17]) % 97 == 0  # about 1 %: a passport holder
        return {
            "GRZH": a.grzh,
            "DWZH": a.dwzh,
            "XINGMING": p.name,
            "ZJLX": "03" if foreign else "01",
            "ZJHM": f"E{p.zjhm[6:14]}" if foreign else p.zjhm,
            "XINGBIE": p.sex,
            "CSNY": c.month(p.birth.year, p.birth.month),
            "SJHM": p.sjhm if int(p.zjhm[-4:-1]) % 7 else "",
            "GRJCJS": money(a.base),
            "GRYJCE": money(a.gryjce),
            "DWYJCE": money(a.dwyjce),
            "GRZHZT": a.status,
            "KHRQ": c.date(a.khrq),
            "GRZHYE": money(a.balance),
            "GRZHSNJZYE": money(a.carried),
            "GRZHDNGJYE": money(a.collected),
            "XHRQ": c.date(a.xhrq),
            "FCRQ": c.date(a.fcrq),
            "ZJJYRQ": a.zjjyrq.isoformat() if a.zjjyrq else "",
            "CSDM": c.code,
        }

    def _loan(self, c: Centre, k: Loan) -> dict[str, str]:
        foreign = int(k.person.zjhm[14:17]) % 97 == 0
        return {
            "DKZH": k.dkzh,
            "JKHTBH": k.htbh,
            "JKRGJJZH": k.grzh,
            "JKRXM": k.person.name,
            "JKRZJLX": "03" if foreign else "01",
            "JKRZJH": f"E{k.person.zjhm[6:14]}" if foreign else k.person.zjhm,
            "HTDKJE": money(k.htdkje),
            "DKFFE": money(k.dkffe),
            "DKFFRQ": c.date(k.ffrq),
            "DKYE": money(k.dkye),
            "DKQS": str(k.dkqs),
            "DKLL": k.dkll,
            "DKHKFS": k.hkfs,
            "DKDBLX": k.dblx,
            "FWZJ": money(k.fwzj),
            "JKHTQDRQ": c.date(k.qdrq),
            "DKJQRQ": c.date(k.jqrq),
            "YQBJZE": money(k.yqbjze),
            "LJYQQS": str(k.ljyqqs),
            "DKFXDJ": k.fxdj,
            "CSDM": c.code,
        }

    def _policy(self, c: Centre, year: int) -> dict[str, str]:
        p = self.prov.policies[(c.code, year)]
        return {
            "CSDM": c.code,
            "ND": str(year),
            "DWJCBLXX": p.dwjcblxx,
            "DWJCBLSX": p.dwjcblsx,
            "GRJCBLXX": p.grjcblxx,
            "GRJCBLSX": p.grjcblsx,
            "JCJSXX": money(p.jcjsxx),
            "JCJSSX": money(p.jcjssx),
            "DKZGED": money(p.dkzged),
            "DKZCNX": str(p.dkzcnx),
            "DKZGBL": p.dkzgbl,
            "JKNLSX": str(p.jknlsx),
        }

    # ------------------------------------------------------------------ bookkeeping
    def hit(self, table: str, row: dict[str, str], field: str, rule_id: str, eid: str) -> Hit:
        return Hit(table, row, field, rule_id, eid)

    def set(self, row: dict[str, str], field: str, value: str) -> None:
        row[field] = value
        self.fixed.add((id(row), field))

    def this_month(self, value: str) -> bool:
        d = parse_date(value)
        return d is not None and (d.year, d.month) == (self.y, self.m)

    def now(self, d: dt.date | None) -> bool:
        """True if ``d`` falls in the batch month."""
        return d is not None and (d.year, d.month) == (self.y, self.m)

    def members(self, dwzh: str) -> list[dict[str, str]]:
        return [self.acct_row[a.grzh] for a in self.prov.members.get(dwzh, [])]

    def append_copy(self, table: str, row: dict[str, str]) -> dict[str, str]:
        copy = dict(row)
        rows = self.tables[table]
        rows.insert(rows.index(row) + 1, copy)
        return copy


# ------------------------------------------------------------------------------------------------ injections

Kind = Callable[[_Batch, Any, str], list[Hit] | None]


@dataclass(frozen=True)
class KindSpec:
    name: str
    carrier: str  # DWXX | GRXX | GRMX | DKZH | ZCXX | TJBB | multi
    weight: float
    stock: bool
    fn: Kind


KINDS: dict[str, KindSpec] = {}


def _kind(name: str, carrier: str, weight: float, stock: bool = True) -> Callable[[Kind], Kind]:
    def register(fn: Kind) -> Kind:
        KINDS[name] = KindSpec(name, carrier, weight, stock, fn)
        return fn

    return register


def _bad_date(rng: random.Random, d: dt.date) -> str:
    return rng.choice(
        (f"{d:%Y/%m/%d}", f"{d:%Y.%m.%d}", f"{d.year}年{d.month}月{d.day}日", f"{d:%Y-%m-%d} 00:00:00")
    )


def _bad_month(rng: random.Random, y: int, m: int) -> str:
    return rng.choice((f"{y}/{m:02d}", f"{y}.{m:02d}", f"{y}年{m}月", f"{y % 100:02d}-{m:02d}"))


def _unclean(rng: random.Random, value: str) -> str:
    return rng.choice((value + " ", " " + value, value[:1] + "\u3000\u3000" + value[1:]))


def _with_comma(x: Decimal) -> str:
    return f"{x:,.2f}" if abs(x) >= 1000 else f"{x:.2f}元"


def _wrong_check(rng: random.Random, value: str) -> str:
    return value[:17] + rng.choice([c for c in "0123456789X" if c != value[17]])


def _h(b: _Batch, table: str, row: dict[str, str], field: str, rule: str, eid: str) -> list[Hit]:
    return [b.hit(table, row, field, rule, eid)]


# ---- units (DWXX): an injection locks the whole unit (its members are not touched by others)


@_kind("dwxx.required", DWXX, 6)
def _k_dwxx_required(b: _Batch, u: Unit, eid: str) -> list[Hit] | None:
    """DWMC … CSDM emptied → ``gjj.dwxx.<field>.required``."""
    row = b.unit_row[u.dwzh]
    f = b.rng.choice(
        (
            "DWMC",
            "TYSHXYDM",
            "DWJJLX",
            "DWSLRQ",
            "DWKHRQ",
            "DWJCBL",
            "GRJCBL",
            "DWJCRS",
            "DWZHYE",
            "DWZHZT",
            "CSDM",
        )
    )
    b.set(row, f, "")
    return _h(b, DWXX, row, f, f"gjj.dwxx.{f.lower()}.required", eid)


@_kind("dwxx.dwxhrq_required", DWXX, 1)
def _k_dwxx_dwxhrq_required(b: _Batch, u: Unit, eid: str) -> list[Hit] | None:
    """A closed unit (04) without DWXHRQ → ``gjj.dwxx.dwxhrq.required_if_closed``."""
    if u.status != "04":
        return None
    row = b.unit_row[u.dwzh]
    b.set(row, "DWXHRQ", "")
    return _h(b, DWXX, row, "DWXHRQ", "gjj.dwxx.dwxhrq.required_if_closed", eid)


@_kind("dwxx.duplicate", DWXX, 1)
def _k_dwxx_duplicate(b: _Batch, u: Unit, eid: str) -> list[Hit] | None:
    """An exact copy of the unit's row → ``gjj.dwxx.dwzh.unique`` on both rows (members' monthly amounts
    cannot be judged against a repeated unit)."""
    row = b.unit_row[u.dwzh]
    copy = b.append_copy(DWXX, row)
    return [b.hit(DWXX, r, "DWZH", "gjj.dwxx.dwzh.unique", eid) for r in (row, copy)]


@_kind("dwxx.dwzh_length", DWXX, 1)
def _k_dwxx_dwzh_length(b: _Batch, u: Unit, eid: str) -> list[Hit] | None:
    """DWZH of 21–24 characters, carried by its members and their postings → ``gjj.dwxx.dwzh.length``."""
    row = b.unit_row[u.dwzh]
    new = u.dwzh + "0" * b.rng.randint(21 - len(u.dwzh), 24 - len(u.dwzh))
    b.set(row, "DWZH", new)
    for m in b.members(u.dwzh):
        b.set(m, "DWZH", new)
        for p in b.posts_of.get(m["GRZH"], []):
            if p["DWZH"] == u.dwzh:
                b.set(p, "DWZH", new)
    return _h(b, DWXX, row, "DWZH", "gjj.dwxx.dwzh.length", eid)


@_kind("dwxx.clean_text", DWXX, 1)
def _k_dwxx_clean(b: _Batch, u: Unit, eid: str) -> list[Hit] | None:
    """DWMC with a stray space → ``gjj.dwxx.dwmc.clean_text``."""
    row = b.unit_row[u.dwzh]
    b.set(row, "DWMC", _unclean(b.rng, row["DWMC"]))
    return _h(b, DWXX, row, "DWMC", "gjj.dwxx.dwmc.clean_text", eid)


@_kind("dwxx.check_digit", DWXX, 2)
def _k_dwxx_uscc(b: _Batch, u: Unit, eid: str) -> list[Hit] | None:
    """A wrong check character → ``gjj.dwxx.tyshxydm.check_digit``."""
    row = b.unit_row[u.dwzh]
    v = row["TYSHXYDM"]
    b.set(row, "TYSHXYDM", v[:17] + b.rng.choice([c for c in CREDIT_CODE_CHARSET if c != v[17]]))
    return _h(b, DWXX, row, "TYSHXYDM", "gjj.dwxx.tyshxydm.check_digit", eid)


@_kind("dwxx.code", DWXX, 2)
def _k_dwxx_code(b: _Batch, u: Unit, eid: str) -> list[Hit] | None:
    """DWJJLX 180 / DWLSGX 30 / DWZHZT 07 (an active unit) → ``gjj.dwxx.<field>.code``."""
    row = b.unit_row[u.dwzh]
    f = b.rng.choice(("DWJJLX", "DWLSGX", "DWZHZT"))
    if f == "DWZHZT" and u.status != "01":
        return None
    b.set(row, f, {"DWJJLX": b.rng.choice(("180", "999", "11")), "DWLSGX": "30", "DWZHZT": "07"}[f])
    return _h(b, DWXX, row, f, f"gjj.dwxx.{f.lower()}.code", eid)


@_kind("dwxx.date", DWXX, 2)
def _k_dwxx_date(b: _Batch, u: Unit, eid: str) -> list[Hit] | None:
    """DWSLRQ / DWKHRQ / DWXHRQ (closed units) written 2015/03/05 → ``gjj.dwxx.<field>.date``."""
    row = b.unit_row[u.dwzh]
    f = b.rng.choice(("DWSLRQ", "DWKHRQ", "DWXHRQ"))
    d = {"DWSLRQ": u.slrq, "DWKHRQ": u.khrq, "DWXHRQ": u.xhrq}[f]
    if d is None:
        return None
    b.set(row, f, _bad_date(b.rng, d))
    return _h(b, DWXX, row, f, f"gjj.dwxx.{f.lower()}.date", eid)


@_kind("dwxx.jzny_month", DWXX, 1)
def _k_dwxx_jzny_month(b: _Batch, u: Unit, eid: str) -> list[Hit] | None:
    """JZNY written 2024/03 → ``gjj.dwxx.jzny.month``."""
    row = b.unit_row[u.dwzh]
    if parse_month(row["JZNY"]) is None:
        return None
    k = parse_month(row["JZNY"]) - 1
    b.set(row, "JZNY", _bad_month(b.rng, k // 12, k % 12 + 1))
    return _h(b, DWXX, row, "JZNY", "gjj.dwxx.jzny.month", eid)


@_kind("dwxx.jzny_ahead", DWXX, 1)
def _k_dwxx_jzny_ahead(b: _Batch, u: Unit, eid: str) -> list[Hit] | None:
    """JZNY 13–30 months ahead → ``gjj.dwxx.jzny.not_ahead``."""
    if u.status != "01":
        return None
    row = b.unit_row[u.dwzh]
    d = add_months(b.first_day, b.rng.randint(13, 30))
    b.set(row, "JZNY", b.centre_of[u.dwzh].month(d.year, d.month))
    return _h(b, DWXX, row, "JZNY", "gjj.dwxx.jzny.not_ahead", eid)


@_kind("dwxx.ratio_number", DWXX, 1)
def _k_dwxx_ratio_number(b: _Batch, u: Unit, eid: str) -> list[Hit] | None:
    """DWJCBL / GRJCBL written 12% → ``gjj.dwxx.<field>.number``."""
    row = b.unit_row[u.dwzh]
    f = b.rng.choice(("DWJCBL", "GRJCBL"))
    b.set(row, f, f"{int(Decimal(row[f]) * 100)}%")
    return _h(b, DWXX, row, f, f"gjj.dwxx.{f.lower()}.number", eid)


@_kind("dwxx.ratio_scale", DWXX, 3)
def _k_dwxx_ratio_scale(b: _Batch, u: Unit, eid: str) -> list[Hit] | None:
    """DWJCBL / GRJCBL written as a percentage (12 for 0.12) → ``gjj.dwxx.<field>.scale``."""
    row = b.unit_row[u.dwzh]
    f = b.rng.choice(("DWJCBL", "GRJCBL"))
    b.set(row, f, str(int(Decimal(row[f]) * 100)))
    return _h(b, DWXX, row, f, f"gjj.dwxx.{f.lower()}.scale", eid)


@_kind("dwxx.ratio_range", DWXX, 2)
def _k_dwxx_ratio_range(b: _Batch, u: Unit, eid: str) -> list[Hit] | None:
    """A ratio outside the city's floor and cap (0.03, 0.04, 0.13, 0.15; its members' monthly amounts follow
    it) → ``gjj.dwxx.<field>.range``."""
    row = b.unit_row[u.dwzh]
    f = b.rng.choice(("DWJCBL", "GRJCBL"))
    new = b.rng.choice(("0.03", "0.04", "0.13", "0.15"))
    b.set(row, f, new)
    target = "DWYJCE" if f == "DWJCBL" else "GRYJCE"
    for m in b.members(u.dwzh):
        base = amount(m["GRJCJS"])
        if base is not None:
            b.set(m, target, money(half_up(base * Decimal(new))))
    return _h(b, DWXX, row, f, f"gjj.dwxx.{f.lower()}.range", eid)


def _active(b: _Batch, dwzh: str) -> int:
    return sum(1 for r in b.tables[GRXX] if r["DWZH"] == dwzh and r["GRZHZT"] == "01")


def _balance(b: _Batch, dwzh: str) -> Decimal:
    return sum((amount(r["GRZHYE"]) or ZERO for r in b.tables[GRXX] if r["DWZH"] == dwzh), ZERO)


@_kind("dwxx.dwjcrs_integer", DWXX, 1)
def _k_dwxx_dwjcrs_integer(b: _Batch, u: Unit, eid: str) -> list[Hit] | None:
    """DWJCRS written 12.0 → ``gjj.dwxx.dwjcrs.integer``."""
    row = b.unit_row[u.dwzh]
    b.set(row, "DWJCRS", f"{_active(b, u.dwzh)}.0")
    return _h(b, DWXX, row, "DWJCRS", "gjj.dwxx.dwjcrs.integer", eid)


@_kind("dwxx.dwjcrs_matches", DWXX, 2)
def _k_dwxx_dwjcrs_matches(b: _Batch, u: Unit, eid: str) -> list[Hit] | None:
    """DWJCRS 1–5 more than the members in state 01 → ``gjj.dwxx.dwjcrs.matches``."""
    row = b.unit_row[u.dwzh]
    b.set(row, "DWJCRS", str(_active(b, u.dwzh) + b.rng.randint(1, 5)))
    return _h(b, DWXX, row, "DWJCRS", "gjj.dwxx.dwjcrs.matches", eid)


@_kind("dwxx.dwzhye_range", DWXX, 1)
def _k_dwxx_dwzhye_range(b: _Batch, u: Unit, eid: str) -> list[Hit] | None:
    """DWZHYE written 12,345.60 or 123.45元 → ``gjj.dwxx.dwzhye.range``."""
    row = b.unit_row[u.dwzh]
    b.set(row, "DWZHYE", _with_comma(_balance(b, u.dwzh)))
    return _h(b, DWXX, row, "DWZHYE", "gjj.dwxx.dwzhye.range", eid)


@_kind("dwxx.dwzhye_sum", DWXX, 3)
def _k_dwxx_dwzhye_sum(b: _Batch, u: Unit, eid: str) -> list[Hit] | None:
    """DWZHYE 100–5000 yuan off its members' balances → ``gjj.dwxx.dwzhye.sum_of_persons``."""
    row = b.unit_row[u.dwzh]
    b.set(row, "DWZHYE", money(_balance(b, u.dwzh) + Decimal(b.rng.randint(10000, 500000)) / 100))
    return _h(b, DWXX, row, "DWZHYE", "gjj.dwxx.dwzhye.sum_of_persons", eid)


@_kind("dwxx.closed_zero", DWXX, 2)
def _k_dwxx_closed_zero(b: _Batch, u: Unit, eid: str) -> list[Hit] | None:
    """A closed unit (04) with a balance left → ``gjj.dwxx.dwzhye.closed_zero`` (and ``sum_of_persons``)."""
    if u.status != "04":
        return None
    row = b.unit_row[u.dwzh]
    x = Decimal(b.rng.randint(1000, 900000)) / 100
    b.set(row, "DWZHYE", money(x))
    hits = _h(b, DWXX, row, "DWZHYE", "gjj.dwxx.dwzhye.closed_zero", eid)
    if abs(x - _balance(b, u.dwzh)) > CENT:
        hits += _h(b, DWXX, row, "DWZHYE", "gjj.dwxx.dwzhye.sum_of_persons", eid)
    return hits


@_kind("dwxx.csdm_code", DWXX, 1)
def _k_dwxx_csdm(b: _Batch, u: Unit, eid: str) -> list[Hit] | None:
    """CSDM = a county code of the city → ``gjj.dwxx.csdm.code`` and ``gjj.dwxx.csdm.policy``."""
    row = b.unit_row[u.dwzh]
    b.set(row, "CSDM", b.rng.choice(b.centre_of[u.dwzh].counties))
    return _h(b, DWXX, row, "CSDM", "gjj.dwxx.csdm.code", eid) + _h(
        b, DWXX, row, "CSDM", "gjj.dwxx.csdm.policy", eid
    )


@_kind("dwxx.after_dwslrq", DWXX, 1)
def _k_dwxx_order(b: _Batch, u: Unit, eid: str) -> list[Hit] | None:
    """DWSLRQ 30–300 days after DWKHRQ → ``gjj.dwxx.dwkhrq.after_dwslrq``."""
    row = b.unit_row[u.dwzh]
    b.set(row, "DWSLRQ", b.centre_of[u.dwzh].date(u.khrq + dt.timedelta(days=b.rng.randint(30, 300))))
    return _h(b, DWXX, row, "DWKHRQ", "gjj.dwxx.dwkhrq.after_dwslrq", eid)


@_kind("dwxx.khrq_future", DWXX, 1)
def _k_dwxx_future(b: _Batch, u: Unit, eid: str) -> list[Hit] | None:
    """DWKHRQ after the as-of → ``gjj.dwxx.dwkhrq.not_future`` and, for every member with a readable
    opening date, ``gjj.grxx.khrq.after_unit``."""
    row = b.unit_row[u.dwzh]
    new = b.as_of + dt.timedelta(days=b.rng.randint(10, 300))
    b.set(row, "DWKHRQ", b.centre_of[u.dwzh].date(new))
    hits = _h(b, DWXX, row, "DWKHRQ", "gjj.dwxx.dwkhrq.not_future", eid)
    for m in b.members(u.dwzh):
        d = parse_date(m["KHRQ"])
        if d is not None and d < new:
            hits += _h(b, GRXX, m, "KHRQ", "gjj.grxx.khrq.after_unit", eid)
    return hits


@_kind("dwxx.xhrq_stray", DWXX, 1)
def _k_dwxx_xhrq_stray(b: _Batch, u: Unit, eid: str) -> list[Hit] | None:
    """An active unit with a closing date → ``gjj.dwxx.dwxhrq.only_if_closed``."""
    if u.status == "04":
        return None
    row = b.unit_row[u.dwzh]
    b.set(row, "DWXHRQ", b.centre_of[u.dwzh].date(b.as_of - dt.timedelta(days=b.rng.randint(1, 200))))
    return _h(b, DWXX, row, "DWXHRQ", "gjj.dwxx.dwxhrq.only_if_closed", eid)


# ---- accounts (GRXX): an injection locks the account (and its postings and loans)


def _closed_before(b: _Batch, a: Account) -> bool:
    return a.status in ("03", "04", "05") and a.xhrq is not None and not b.now(a.xhrq)


@_kind("grxx.required", GRXX, 8)
def _k_grxx_required(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """A required field emptied → ``gjj.grxx.<field>.required``. KHRQ only of accounts not opened this
    month, CSDM / GRZH only of accounts closed before this month (GRZH: without loans), GRZHZT only of
    frozen accounts (06): the report's counted lines stay as they were."""
    row = b.acct_row[a.grzh]
    options = ["XINGMING", "ZJLX", "ZJHM", "CSNY", "GRJCJS", "GRYJCE", "DWYJCE", "GRZHYE", "DWZH"]
    if not b.now(a.khrq):
        options.append("KHRQ")
    if _closed_before(b, a):
        options.append("CSDM")
        if not b.loans_of.get(a.grzh):
            options.append("GRZH")
    if a.status == "06":
        options.append("GRZHZT")
    f = b.rng.choice(options)
    b.set(row, f, "")
    return _h(b, GRXX, row, f, f"gjj.grxx.{f.lower()}.required", eid)


@_kind("grxx.xhrq_required", GRXX, 1)
def _k_grxx_xhrq_required(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """A closed account (before this month) without XHRQ → ``gjj.grxx.xhrq.required_if_closed``."""
    if not _closed_before(b, a):
        return None
    row = b.acct_row[a.grzh]
    b.set(row, "XHRQ", "")
    return _h(b, GRXX, row, "XHRQ", "gjj.grxx.xhrq.required_if_closed", eid)


@_kind("grxx.fcrq_required", GRXX, 1)
def _k_grxx_fcrq_required(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """A sealed account (02) without FCRQ → ``gjj.grxx.fcrq.required_if_sealed``."""
    if a.status != "02":
        return None
    row = b.acct_row[a.grzh]
    b.set(row, "FCRQ", "")
    return _h(b, GRXX, row, "FCRQ", "gjj.grxx.fcrq.required_if_sealed", eid)


@_kind("grxx.duplicate", GRXX, 1)
def _k_grxx_duplicate(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """A closed account (before this month, balance 0) exported twice → ``gjj.grxx.grzh.unique`` on both."""
    if not _closed_before(b, a):
        return None
    row = b.acct_row[a.grzh]
    copy = b.append_copy(GRXX, row)
    return [b.hit(GRXX, r, "GRZH", "gjj.grxx.grzh.unique", eid) for r in (row, copy)]


@_kind("grxx.grzh_length", GRXX, 1)
def _k_grxx_grzh_length(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """GRZH of 21–23 characters, carried by its postings and loans → ``gjj.grxx.grzh.length``."""
    row = b.acct_row[a.grzh]
    new = a.grzh + "0" * b.rng.randint(21 - len(a.grzh), 23 - len(a.grzh))
    b.set(row, "GRZH", new)
    for p in b.posts_of.get(a.grzh, []):
        b.set(p, "GRZH", new)
    for k in b.loans_of.get(a.grzh, []):
        b.set(b.loan_row[k.dkzh], "JKRGJJZH", new)
    return _h(b, GRXX, row, "GRZH", "gjj.grxx.grzh.length", eid)


@_kind("grxx.clean_text", GRXX, 1)
def _k_grxx_clean(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """XINGMING with a stray space (accounts without loans) → ``gjj.grxx.xingming.clean_text``."""
    if b.loans_of.get(a.grzh):
        return None
    row = b.acct_row[a.grzh]
    b.set(row, "XINGMING", _unclean(b.rng, row["XINGMING"]))
    return _h(b, GRXX, row, "XINGMING", "gjj.grxx.xingming.clean_text", eid)


@_kind("grxx.code", GRXX, 2)
def _k_grxx_code(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """ZJLX 1 / XINGBIE 3 / GRZHZT 07 (frozen accounts) → ``gjj.grxx.<field>.code``."""
    row = b.acct_row[a.grzh]
    f = b.rng.choice(("ZJLX", "XINGBIE", "GRZHZT"))
    if f == "GRZHZT" and a.status != "06":
        return None
    b.set(row, f, {"ZJLX": "1", "XINGBIE": "3", "GRZHZT": "07"}[f])
    return _h(b, GRXX, row, f, f"gjj.grxx.{f.lower()}.code", eid)


@_kind("grxx.citizen_id", GRXX, 4)
def _k_grxx_citizen(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """A wrong check digit or a lower-case x → ``gjj.grxx.zjhm.citizen_id``."""
    row = b.acct_row[a.grzh]
    v = row["ZJHM"]
    if row["ZJLX"] != "01":
        return None
    b.set(row, "ZJHM", v[:17] + "x" if v.endswith("X") else _wrong_check(b.rng, v))
    return _h(b, GRXX, row, "ZJHM", "gjj.grxx.zjhm.citizen_id", eid)


@_kind("grxx.csny_month", GRXX, 1)
def _k_grxx_csny_month(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """CSNY written 1985/06 → ``gjj.grxx.csny.month``."""
    row = b.acct_row[a.grzh]
    b.set(row, "CSNY", _bad_month(b.rng, a.person.birth.year, a.person.birth.month))
    return _h(b, GRXX, row, "CSNY", "gjj.grxx.csny.month", eid)


@_kind("grxx.csny_mismatch", GRXX, 2)
def _k_grxx_csny_mismatch(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """CSNY another month than the ID's → ``gjj.grxx.csny.matches_id``."""
    row = b.acct_row[a.grzh]
    if row["ZJLX"] != "01":
        return None
    d = add_months(a.person.birth, b.rng.choice((-13, -12, -1, 1, 11, 12)))
    b.set(row, "CSNY", b.centre_of[a.grzh].month(d.year, d.month))
    return _h(b, GRXX, row, "CSNY", "gjj.grxx.csny.matches_id", eid)


@_kind("grxx.xingbie_mismatch", GRXX, 1)
def _k_grxx_xingbie(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """XINGBIE the other sex than the ID's → ``gjj.grxx.xingbie.matches_id``."""
    row = b.acct_row[a.grzh]
    if row["ZJLX"] != "01":
        return None
    b.set(row, "XINGBIE", "2" if row["XINGBIE"] == "1" else "1")
    return _h(b, GRXX, row, "XINGBIE", "gjj.grxx.xingbie.matches_id", eid)


@_kind("grxx.sjhm", GRXX, 1)
def _k_grxx_sjhm(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """SJHM of 10 digits or with separators → ``gjj.grxx.sjhm.format``."""
    row = b.acct_row[a.grzh]
    v = a.person.sjhm
    b.set(row, "SJHM", b.rng.choice((v[:10], f"{v[:3]}-{v[3:7]}-{v[7:]}", f"+86{v}", f"0931-{v[4:]}")))
    return _h(b, GRXX, row, "SJHM", "gjj.grxx.sjhm.format", eid)


@_kind("grxx.date", GRXX, 3)
def _k_grxx_date(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """KHRQ (not this month), XHRQ (closed before), FCRQ (sealed), ZJJYRQ (before the as-of) written
    2019/03/05 → ``gjj.grxx.<field>.date``."""
    row = b.acct_row[a.grzh]
    options = []
    if not b.now(a.khrq):
        options.append(("KHRQ", a.khrq))
    if _closed_before(b, a):
        options.append(("XHRQ", a.xhrq))
    if a.status == "02" and a.fcrq:
        options.append(("FCRQ", a.fcrq))
    if a.zjjyrq and a.zjjyrq < b.as_of:
        options.append(("ZJJYRQ", a.zjjyrq))
    if not options:
        return None
    f, d = b.rng.choice(options)
    b.set(row, f, _bad_date(b.rng, d))
    return _h(b, GRXX, row, f, f"gjj.grxx.{f.lower()}.date", eid)


@_kind("grxx.grjcjs_amount", GRXX, 1)
def _k_grxx_grjcjs_amount(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """GRJCJS written 5,200.00 → ``gjj.grxx.grjcjs.amount``."""
    row = b.acct_row[a.grzh]
    b.set(row, "GRJCJS", _with_comma(a.base))
    return _h(b, GRXX, row, "GRJCJS", "gjj.grxx.grjcjs.amount", eid)


@_kind("grxx.grjcjs_range", GRXX, 3)
def _k_grxx_grjcjs_range(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """GRJCJS below the city's floor or above its cap (the monthly amounts follow it) →
    ``gjj.grxx.grjcjs.range``."""
    row = b.acct_row[a.grzh]
    p = b.prov.policies[(a.csdm, b.y)]
    base = p.jcjsxx - b.rng.randint(50, 600) if b.rng.random() < 0.5 else p.jcjssx + b.rng.randint(500, 9000)
    unit = b.unit_row[a.dwzh]
    b.set(row, "GRJCJS", money(Decimal(base)))
    b.set(row, "GRYJCE", money(half_up(Decimal(base) * Decimal(unit["GRJCBL"]))))
    b.set(row, "DWYJCE", money(half_up(Decimal(base) * Decimal(unit["DWJCBL"]))))
    return _h(b, GRXX, row, "GRJCJS", "gjj.grxx.grjcjs.range", eid)


@_kind("grxx.yjce_amount", GRXX, 1)
def _k_grxx_yjce_amount(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """GRYJCE / DWYJCE written 360.00元 → ``gjj.grxx.<field>.amount``."""
    row = b.acct_row[a.grzh]
    f = b.rng.choice(("GRYJCE", "DWYJCE"))
    b.set(row, f, row[f] + "元")
    return _h(b, GRXX, row, f, f"gjj.grxx.{f.lower()}.amount", eid)


@_kind("grxx.yjce_matches", GRXX, 5)
def _k_grxx_yjce_matches(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """GRYJCE / DWYJCE 1–50 yuan off base × ratio → ``gjj.grxx.<field>.matches``."""
    row = b.acct_row[a.grzh]
    f = b.rng.choice(("GRYJCE", "DWYJCE"))
    b.set(row, f, money(Decimal(row[f]) + Decimal(b.rng.choice((-1, 1)) * b.rng.randint(100, 5000)) / 100))
    if Decimal(row[f]) < 0:
        b.set(row, f, money(-Decimal(row[f])))
    return _h(b, GRXX, row, f, f"gjj.grxx.{f.lower()}.matches", eid)


@_kind("grxx.grzhye_range", GRXX, 1)
def _k_grxx_grzhye_range(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """GRZHYE written 12,345.60 or 123.45元 (open accounts) → ``gjj.grxx.grzhye.range``."""
    if a.status not in ("01", "02", "06"):
        return None
    row = b.acct_row[a.grzh]
    b.set(row, "GRZHYE", _with_comma(a.balance))
    return _h(b, GRXX, row, "GRZHYE", "gjj.grxx.grzhye.range", eid)


@_kind("grxx.closed_zero", GRXX, 2)
def _k_grxx_closed_zero(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """A closed account (before this month) with a balance left (its parts agree) →
    ``gjj.grxx.grzhye.closed_zero``."""
    if not _closed_before(b, a):
        return None
    row = b.acct_row[a.grzh]
    x = money(Decimal(b.rng.randint(100, 500000)) / 100)
    b.set(row, "GRZHYE", x)
    b.set(row, "GRZHDNGJYE", x)
    b.set(row, "GRZHSNJZYE", "0.00")
    return _h(b, GRXX, row, "GRZHYE", "gjj.grxx.grzhye.closed_zero", eid)


@_kind("grxx.parts_money", GRXX, 1)
def _k_grxx_parts_money(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """GRZHSNJZYE / GRZHDNGJYE written 1,234.00 → ``gjj.grxx.<field>.money``."""
    row = b.acct_row[a.grzh]
    f = b.rng.choice(("GRZHSNJZYE", "GRZHDNGJYE"))
    b.set(row, f, _with_comma(Decimal(row[f])))
    return _h(b, GRXX, row, f, f"gjj.grxx.{f.lower()}.money", eid)


@_kind("grxx.parts_sum", GRXX, 2)
def _k_grxx_parts_sum(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """GRZHDNGJYE 1–999 yuan too high → ``gjj.grxx.grzhye.parts_sum``."""
    row = b.acct_row[a.grzh]
    b.set(row, "GRZHDNGJYE", money(Decimal(row["GRZHDNGJYE"]) + Decimal(b.rng.randint(100, 99900)) / 100))
    return _h(b, GRXX, row, "GRZHYE", "gjj.grxx.grzhye.parts_sum", eid)


@_kind("grxx.csdm_code", GRXX, 1)
def _k_grxx_csdm(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """CSDM = a county code (accounts closed before this month) → ``gjj.grxx.csdm.code``."""
    if not _closed_before(b, a):
        return None
    row = b.acct_row[a.grzh]
    b.set(row, "CSDM", b.rng.choice(b.centre_of[a.grzh].counties))
    return _h(b, GRXX, row, "CSDM", "gjj.grxx.csdm.code", eid)


@_kind("grxx.dwzh_exists", GRXX, 2)
def _k_grxx_dwzh_exists(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """DWZH of no unit (its postings carry it too) → ``gjj.grxx.dwzh.exists``."""
    row = b.acct_row[a.grzh]
    new = f"{a.csdm[:4]}9{b.rng.randint(0, 99999):05d}"
    b.set(row, "DWZH", new)
    for p in b.posts_of.get(a.grzh, []):
        b.set(p, "DWZH", new)
    return _h(b, GRXX, row, "DWZH", "gjj.grxx.dwzh.exists", eid)


@_kind("grxx.khrq_future", GRXX, 1)
def _k_grxx_khrq_future(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """KHRQ after the as-of (open accounts not opened this month) → ``gjj.grxx.khrq.not_future``."""
    if a.status not in ("01", "02", "06") or b.now(a.khrq):
        return None
    row = b.acct_row[a.grzh]
    b.set(row, "KHRQ", b.centre_of[a.grzh].date(b.as_of + dt.timedelta(days=b.rng.randint(5, 300))))
    return _h(b, GRXX, row, "KHRQ", "gjj.grxx.khrq.not_future", eid)


@_kind("grxx.khrq_before_unit", GRXX, 1)
def _k_grxx_before_unit(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """KHRQ 10–400 days before the unit's DWKHRQ → ``gjj.grxx.khrq.after_unit``."""
    if b.now(a.khrq):
        return None
    unit = b.prov.unit_by[a.dwzh]
    row = b.acct_row[a.grzh]
    b.set(row, "KHRQ", b.centre_of[a.grzh].date(unit.khrq - dt.timedelta(days=b.rng.randint(10, 400))))
    return _h(b, GRXX, row, "KHRQ", "gjj.grxx.khrq.after_unit", eid)


@_kind("grxx.xhrq_order", GRXX, 1)
def _k_grxx_xhrq_order(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """XHRQ 1–100 days before KHRQ (closed before this month) → ``gjj.grxx.xhrq.after_khrq``."""
    if not _closed_before(b, a):
        return None
    row = b.acct_row[a.grzh]
    b.set(row, "XHRQ", b.centre_of[a.grzh].date(a.khrq - dt.timedelta(days=b.rng.randint(1, 100))))
    return _h(b, GRXX, row, "XHRQ", "gjj.grxx.xhrq.after_khrq", eid)


@_kind("grxx.xhrq_stray", GRXX, 1)
def _k_grxx_xhrq_stray(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """An open account (01/02) with a closing date before this month → ``gjj.grxx.xhrq.only_if_closed``."""
    end = b.first_day - dt.timedelta(days=1)
    if a.status not in ("01", "02") or a.khrq >= end:
        return None
    row = b.acct_row[a.grzh]
    d = a.khrq + dt.timedelta(days=b.rng.randint(0, (end - a.khrq).days))
    b.set(row, "XHRQ", b.centre_of[a.grzh].date(d))
    return _h(b, GRXX, row, "XHRQ", "gjj.grxx.xhrq.only_if_closed", eid)


@_kind("grxx.fcrq_stray", GRXX, 1)
def _k_grxx_fcrq_stray(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """An active account (01) with a sealing date → ``gjj.grxx.fcrq.only_if_sealed``."""
    if a.status != "01" or a.khrq >= b.as_of:
        return None
    row = b.acct_row[a.grzh]
    d = a.khrq + dt.timedelta(days=b.rng.randint(0, (b.as_of - a.khrq).days))
    b.set(row, "FCRQ", b.centre_of[a.grzh].date(d))
    return _h(b, GRXX, row, "FCRQ", "gjj.grxx.fcrq.only_if_sealed", eid)


@_kind("grxx.frozen_withdrawal", GRXX, 3, stock=False)
def _k_grxx_frozen(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """A withdrawal (11) this month on an account frozen (06) at month end →
    ``gjj.grmx.frozen.no_withdrawal``."""
    if a.status != "06" or b.stock:
        return None
    c = b.centre_of[a.grzh]
    row = {
        "YWLSH": f"{c.code[:4]}{b.y:04d}{b.m:02d}9{c.next('inj'):06d}",
        "GRZH": a.grzh,
        "DWZH": a.dwzh,
        "JZRQ": b.rng.choice(working_days(b.y, b.m)[:-1]).isoformat(),
        "GJHTQYWLX": "11",
        "FSE": money(-Decimal(b.rng.randint(5, 80) * 100)),
        "HBJNY": "",
        "TQYY": "07",
        "TQFS": "02",
        "CZBZ": "01",
        "CSDM": c.code,
    }
    b.tables[GRMX].append(row)
    b.posts_of[a.grzh].append(row)
    return _h(b, GRMX, row, "GJHTQYWLX", "gjj.grmx.frozen.no_withdrawal", eid)


@_kind("multi.account", "multi", 1)
def _k_multi(b: _Batch, a: Account, eid: str) -> list[Hit] | None:
    """一人多户: an active account (01, no loans) takes the person (name, ID, month of birth, sex, mobile) of
    another active account of the centre → ``gjj.grxx.zjhm.one_active_account`` on the rows of that ID
    (computed from the final data, see :func:`_oracles`)."""
    if a.status != "01" or b.loans_of.get(a.grzh):
        return None
    c = b.centre_of[a.grzh]
    others = [
        o
        for o in b.prov.accounts[c.code]
        if o.status == "01"
        and o.grzh != a.grzh
        and o.grzh not in b.locked_accounts
        and o.dwzh not in b.locked_units
        and b.acct_row[o.grzh]["ZJLX"] == "01"
    ]
    if not others:
        return None
    other = b.rng.choice(others)
    row, src = b.acct_row[a.grzh], b.acct_row[other.grzh]
    for f in ("XINGMING", "ZJLX", "ZJHM", "CSNY", "XINGBIE", "SJHM"):
        b.set(row, f, src[f])
    b.locked_accounts.add(other.grzh)
    return []


# ---- postings (GRMX): an injection locks the account; accounts with a reversal are left alone


def _can_move(b: _Batch, row: dict[str, str]) -> bool:
    """A posting whose date may change: not on the as-of day (the batch's latest date)."""
    return row["JZRQ"] < b.as_of.isoformat()


@_kind("grmx.required", GRMX, 6, stock=False)
def _k_grmx_required(b: _Batch, row: dict[str, str], eid: str) -> list[Hit] | None:
    """YWLSH … CSDM emptied (JZRQ only before the as-of day) → ``gjj.grmx.<field>.required``."""
    options = ["YWLSH", "GRZH", "DWZH", "GJHTQYWLX", "FSE", "CZBZ", "CSDM"] + (
        ["JZRQ"] if _can_move(b, row) else []
    )
    f = b.rng.choice(options)
    b.set(row, f, "")
    return _h(b, GRMX, row, f, f"gjj.grmx.{f.lower()}.required", eid)


@_kind("grmx.required_if", GRMX, 2, stock=False)
def _k_grmx_required_if(b: _Batch, row: dict[str, str], eid: str) -> list[Hit] | None:
    """HBJNY of a deposit (01/02), TQYY or TQFS of a withdrawal (11/12) emptied →
    ``…required_if_deposit`` / ``…required_if_withdrawal``."""
    if row["GJHTQYWLX"] in ("01", "02"):
        b.set(row, "HBJNY", "")
        return _h(b, GRMX, row, "HBJNY", "gjj.grmx.hbjny.required_if_deposit", eid)
    if row["GJHTQYWLX"] in ("11", "12"):
        f = b.rng.choice(("TQYY", "TQFS"))
        b.set(row, f, "")
        return _h(b, GRMX, row, f, f"gjj.grmx.{f.lower()}.required_if_withdrawal", eid)
    return None


@_kind("grmx.duplicate", GRMX, 1, stock=False)
def _k_grmx_duplicate(b: _Batch, row: dict[str, str], eid: str) -> list[Hit] | None:
    """A contribution (01) exported twice → ``gjj.grmx.ywlsh.unique`` on both rows."""
    if row["GJHTQYWLX"] != "01":
        return None
    copy = b.append_copy(GRMX, row)
    b.posts_of[row["GRZH"]].append(copy)
    return [b.hit(GRMX, r, "YWLSH", "gjj.grmx.ywlsh.unique", eid) for r in (row, copy)]


@_kind("grmx.code", GRMX, 2, stock=False)
def _k_grmx_code(b: _Batch, row: dict[str, str], eid: str) -> list[Hit] | None:
    """GJHTQYWLX 16 (a contribution), TQYY 10 / TQFS 03 (a withdrawal), CZBZ 03 → ``gjj.grmx.<field>.code``."""
    options = ["CZBZ"] + (["GJHTQYWLX"] if row["GJHTQYWLX"] == "01" else [])
    options += ["TQYY", "TQFS"] if row["GJHTQYWLX"] in ("11", "12") else []
    f = b.rng.choice(options)
    b.set(row, f, {"CZBZ": "03", "GJHTQYWLX": "16", "TQYY": "10", "TQFS": "03"}[f])
    return _h(b, GRMX, row, f, f"gjj.grmx.{f.lower()}.code", eid)


@_kind("grmx.jzrq_date", GRMX, 1, stock=False)
def _k_grmx_jzrq_date(b: _Batch, row: dict[str, str], eid: str) -> list[Hit] | None:
    """JZRQ written 2024/03/05 → ``gjj.grmx.jzrq.date``."""
    if not _can_move(b, row):
        return None
    b.set(row, "JZRQ", _bad_date(b.rng, dt.date.fromisoformat(row["JZRQ"])))
    return _h(b, GRMX, row, "JZRQ", "gjj.grmx.jzrq.date", eid)


@_kind("grmx.jzrq_in_month", GRMX, 2, stock=False)
def _k_grmx_jzrq_month(b: _Batch, row: dict[str, str], eid: str) -> list[Hit] | None:
    """JZRQ in the previous month → ``gjj.grmx.jzrq.in_month``."""
    if not _can_move(b, row):
        return None
    prev = b.first_day - dt.timedelta(days=b.rng.randint(1, 25))
    b.set(row, "JZRQ", prev.isoformat())
    return _h(b, GRMX, row, "JZRQ", "gjj.grmx.jzrq.in_month", eid)


@_kind("grmx.hbjny_month", GRMX, 1, stock=False)
def _k_grmx_hbjny(b: _Batch, row: dict[str, str], eid: str) -> list[Hit] | None:
    """HBJNY written 2024/03 → ``gjj.grmx.hbjny.month``."""
    if row["GJHTQYWLX"] not in ("01", "02"):
        return None
    b.set(row, "HBJNY", _bad_month(b.rng, b.y, b.m))
    return _h(b, GRMX, row, "HBJNY", "gjj.grmx.hbjny.month", eid)


@_kind("grmx.fse_money", GRMX, 1, stock=False)
def _k_grmx_fse_money(b: _Batch, row: dict[str, str], eid: str) -> list[Hit] | None:
    """FSE written 1,234.00 or 360.00元 → ``gjj.grmx.fse.money``."""
    b.set(row, "FSE", _with_comma(Decimal(row["FSE"])))
    return _h(b, GRMX, row, "FSE", "gjj.grmx.fse.money", eid)


@_kind("grmx.fse_sign", GRMX, 3, stock=False)
def _k_grmx_fse_sign(b: _Batch, row: dict[str, str], eid: str) -> list[Hit] | None:
    """The sign of a contribution or a withdrawal flipped → ``gjj.grmx.fse.sign``."""
    if row["GJHTQYWLX"] not in DEPOSITS + OUTGOING or Decimal(row["FSE"]) == 0:
        return None
    b.set(row, "FSE", money(-Decimal(row["FSE"])))
    return _h(b, GRMX, row, "FSE", "gjj.grmx.fse.sign", eid)


@_kind("grmx.grzh_exists", GRMX, 2, stock=False)
def _k_grmx_grzh(b: _Batch, row: dict[str, str], eid: str) -> list[Hit] | None:
    """GRZH of no account → ``gjj.grmx.grzh.exists``."""
    b.set(row, "GRZH", f"{row['CSDM'][:4]}19{b.rng.randint(0, 99999999):08d}")
    return _h(b, GRMX, row, "GRZH", "gjj.grmx.grzh.exists", eid)


@_kind("grmx.dwzh_mismatch", GRMX, 1, stock=False)
def _k_grmx_dwzh(b: _Batch, row: dict[str, str], eid: str) -> list[Hit] | None:
    """DWZH of another unit than the account's → ``gjj.grmx.dwzh.matches_account``."""
    units = [u.dwzh for u in b.prov.units[row["CSDM"]] if u.dwzh != row["DWZH"]]
    b.set(row, "DWZH", b.rng.choice(units))
    return _h(b, GRMX, row, "DWZH", "gjj.grmx.dwzh.matches_account", eid)


@_kind("grmx.csdm_code", GRMX, 1, stock=False)
def _k_grmx_csdm(b: _Batch, row: dict[str, str], eid: str) -> list[Hit] | None:
    """CSDM = a county code → ``gjj.grmx.csdm.code``."""
    b.set(row, "CSDM", b.rng.choice(b.prov.by_code[row["CSDM"]].counties))
    return _h(b, GRMX, row, "CSDM", "gjj.grmx.csdm.code", eid)


@_kind("grmx.closes_account", GRMX, 2, stock=False)
def _k_grmx_closes(b: _Batch, row: dict[str, str], eid: str) -> list[Hit] | None:
    """A closing withdrawal (12) on an account that stays open → ``gjj.grmx.gjhtqywlx.closes_account``."""
    a = b.acct.get(row["GRZH"])
    if a is None or a.status != "01" or row["GJHTQYWLX"] != "01":
        return None
    c = b.prov.by_code[row["CSDM"]]
    new = dict(
        row,
        YWLSH=f"{c.code[:4]}{b.y:04d}{b.m:02d}9{c.next('inj'):06d}",
        GJHTQYWLX="12",
        FSE=money(-Decimal(b.rng.randint(5, 50) * 100)),
        HBJNY="",
        TQYY="03",
        TQFS="02",
    )
    b.tables[GRMX].append(new)
    b.posts_of[row["GRZH"]].append(new)
    return _h(b, GRMX, new, "GJHTQYWLX", "gjj.grmx.gjhtqywlx.closes_account", eid)


@_kind("grmx.reversal_orphan", GRMX, 1, stock=False)
def _k_grmx_reversal(b: _Batch, row: dict[str, str], eid: str) -> list[Hit] | None:
    """A reversal (CZBZ 02) matching no posting of the account → ``gjj.grmx.czbz.has_original``."""
    if row["GJHTQYWLX"] != "01":
        return None
    c = b.prov.by_code[row["CSDM"]]
    x = Decimal(row["FSE"]) + Decimal(b.rng.randint(1, 99900)) / 100
    new = dict(row, YWLSH=f"{c.code[:4]}{b.y:04d}{b.m:02d}9{c.next('inj'):06d}", FSE=money(-x), CZBZ="02")
    b.tables[GRMX].append(new)
    b.posts_of[row["GRZH"]].append(new)
    return _h(b, GRMX, new, "CZBZ", "gjj.grmx.czbz.has_original", eid)


# ---- loans (DKZH): an injection locks the borrower's account


@_kind("dkzh.required", DKZH, 8)
def _k_dkzh_required(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """A required field emptied → ``gjj.dkzh.<field>.required``."""
    row = b.loan_row[k.dkzh]
    f = b.rng.choice(
        (
            "DKZH",
            "JKHTBH",
            "JKRGJJZH",
            "JKRXM",
            "JKRZJLX",
            "JKRZJH",
            "HTDKJE",
            "DKFFE",
            "DKFFRQ",
            "DKYE",
            "DKQS",
            "DKLL",
            "DKHKFS",
            "DKDBLX",
            "FWZJ",
            "JKHTQDRQ",
            "DKFXDJ",
            "CSDM",
        )
    )
    b.set(row, f, "")
    return _h(b, DKZH, row, f, f"gjj.dkzh.{f.lower()}.required", eid)


@_kind("dkzh.dkjqrq_required", DKZH, 1)
def _k_dkzh_jqrq_required(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """A settled loan (DKYE 0) without DKJQRQ → ``gjj.dkzh.dkjqrq.required_if_settled``."""
    if k.open:
        return None
    row = b.loan_row[k.dkzh]
    b.set(row, "DKJQRQ", "")
    return _h(b, DKZH, row, "DKJQRQ", "gjj.dkzh.dkjqrq.required_if_settled", eid)


@_kind("dkzh.duplicate", DKZH, 1)
def _k_dkzh_duplicate(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """A settled loan paid out before this month, exported twice → ``gjj.dkzh.dkzh.unique`` on both."""
    if k.open or b.now(k.ffrq):
        return None
    row = b.loan_row[k.dkzh]
    copy = b.append_copy(DKZH, row)
    return [b.hit(DKZH, r, "DKZH", "gjj.dkzh.dkzh.unique", eid) for r in (row, copy)]


@_kind("dkzh.dkzh_length", DKZH, 1)
def _k_dkzh_length(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """DKZH of 31–33 characters → ``gjj.dkzh.dkzh.length``."""
    row = b.loan_row[k.dkzh]
    b.set(row, "DKZH", k.dkzh + "0" * b.rng.randint(31 - len(k.dkzh), 33 - len(k.dkzh)))
    return _h(b, DKZH, row, "DKZH", "gjj.dkzh.dkzh.length", eid)


@_kind("dkzh.code", DKZH, 2)
def _k_dkzh_code(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """DKHKFS 05 / DKDBLX 04 / DKFXDJ 06 / JKRZJLX 1 → ``gjj.dkzh.<field>.code``."""
    row = b.loan_row[k.dkzh]
    f = b.rng.choice(("DKHKFS", "DKDBLX", "DKFXDJ", "JKRZJLX"))
    b.set(row, f, {"DKHKFS": "05", "DKDBLX": "04", "DKFXDJ": "06", "JKRZJLX": "1"}[f])
    return _h(b, DKZH, row, f, f"gjj.dkzh.{f.lower()}.code", eid)


@_kind("dkzh.citizen_id", DKZH, 3)
def _k_dkzh_citizen(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """A wrong check digit in JKRZJH → ``gjj.dkzh.jkrzjh.citizen_id``."""
    row = b.loan_row[k.dkzh]
    if row["JKRZJLX"] != "01":
        return None
    b.set(row, "JKRZJH", _wrong_check(b.rng, row["JKRZJH"]))
    return _h(b, DKZH, row, "JKRZJH", "gjj.dkzh.jkrzjh.citizen_id", eid)


@_kind("dkzh.clean_text", DKZH, 1)
def _k_dkzh_clean(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """JKRXM with a stray space → ``gjj.dkzh.jkrxm.clean_text`` and ``gjj.dkzh.jkrxm.matches``."""
    row = b.loan_row[k.dkzh]
    b.set(row, "JKRXM", _unclean(b.rng, row["JKRXM"]))
    return _h(b, DKZH, row, "JKRXM", "gjj.dkzh.jkrxm.clean_text", eid) + _h(
        b, DKZH, row, "JKRXM", "gjj.dkzh.jkrxm.matches", eid
    )


@_kind("dkzh.amount", DKZH, 2)
def _k_dkzh_amount(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """HTDKJE / DKFFE written 300,000.00, or FWZJ 0 → ``gjj.dkzh.<field>.amount``."""
    row = b.loan_row[k.dkzh]
    f = b.rng.choice(("HTDKJE", "DKFFE", "FWZJ"))
    b.set(row, f, "0" if f == "FWZJ" else _with_comma(Decimal(row[f])))
    return _h(b, DKZH, row, f, f"gjj.dkzh.{f.lower()}.amount", eid)


@_kind("dkzh.within_contract", DKZH, 2)
def _k_dkzh_within(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """DKFFE 1 000–20 000 yuan above HTDKJE → ``gjj.dkzh.dkffe.within_contract``."""
    row = b.loan_row[k.dkzh]
    b.set(row, "DKFFE", money(k.htdkje + Decimal(b.rng.randint(10, 200) * 100)))
    return _h(b, DKZH, row, "DKFFE", "gjj.dkzh.dkffe.within_contract", eid)


@_kind("dkzh.dkye_money", DKZH, 1)
def _k_dkzh_dkye_money(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """DKYE written 123,456.78 (open loans) → ``gjj.dkzh.dkye.money``."""
    if not k.open:
        return None
    row = b.loan_row[k.dkzh]
    b.set(row, "DKYE", _with_comma(k.dkye))
    return _h(b, DKZH, row, "DKYE", "gjj.dkzh.dkye.money", eid)


@_kind("dkzh.dkye_range", DKZH, 2)
def _k_dkzh_dkye_range(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """DKYE above DKFFE (open loans) → ``gjj.dkzh.dkye.range``."""
    if not k.open:
        return None
    row = b.loan_row[k.dkzh]
    b.set(row, "DKYE", money(k.dkffe + Decimal(b.rng.randint(10, 900) * 100)))
    return _h(b, DKZH, row, "DKYE", "gjj.dkzh.dkye.range", eid)


@_kind("dkzh.dkll", DKZH, 3)
def _k_dkzh_dkll(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """DKLL 0.15 or 0 → ``gjj.dkzh.dkll.range``; written as a percentage (2.85) → ``range`` and ``scale``."""
    row = b.loan_row[k.dkzh]
    if b.rng.random() < 0.5:
        b.set(row, "DKLL", b.rng.choice(("0.15", "0", "0.0000")))
        return _h(b, DKZH, row, "DKLL", "gjj.dkzh.dkll.range", eid)
    b.set(row, "DKLL", str(Decimal(k.dkll) * 100).rstrip("0").rstrip("."))
    return _h(b, DKZH, row, "DKLL", "gjj.dkzh.dkll.range", eid) + _h(
        b, DKZH, row, "DKLL", "gjj.dkzh.dkll.scale", eid
    )


@_kind("dkzh.dkqs_integer", DKZH, 1)
def _k_dkzh_dkqs_integer(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """DKQS written 240.0 → ``gjj.dkzh.dkqs.integer``."""
    row = b.loan_row[k.dkzh]
    b.set(row, "DKQS", f"{k.dkqs}.0")
    return _h(b, DKZH, row, "DKQS", "gjj.dkzh.dkqs.integer", eid)


@_kind("dkzh.dkqs_range", DKZH, 2)
def _k_dkzh_dkqs_range(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """DKQS 1–10 years beyond the longest term → ``gjj.dkzh.dkqs.range`` (the age-term cap is computed)."""
    row = b.loan_row[k.dkzh]
    p = b.prov.policies[(k.csdm, b.y)]
    b.set(row, "DKQS", str(p.dkzcnx * 12 + 12 * b.rng.randint(1, 10)))
    return _h(b, DKZH, row, "DKQS", "gjj.dkzh.dkqs.range", eid)


@_kind("dkzh.ljyqqs_integer", DKZH, 1)
def _k_dkzh_ljyqqs(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """LJYQQS written 1.5 → ``gjj.dkzh.ljyqqs.integer``."""
    row = b.loan_row[k.dkzh]
    b.set(row, "LJYQQS", b.rng.choice(("1.5", "-1", "两期")))
    return _h(b, DKZH, row, "LJYQQS", "gjj.dkzh.ljyqqs.integer", eid)


@_kind("dkzh.yqbjze_money", DKZH, 1)
def _k_dkzh_yqbjze_money(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """YQBJZE written 1,000.00 or 0.00元 → ``gjj.dkzh.yqbjze.money``."""
    row = b.loan_row[k.dkzh]
    b.set(row, "YQBJZE", _with_comma(k.yqbjze))
    return _h(b, DKZH, row, "YQBJZE", "gjj.dkzh.yqbjze.money", eid)


@_kind("dkzh.date", DKZH, 2)
def _k_dkzh_date(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """DKFFRQ / JKHTQDRQ / DKJQRQ (settled) written 2020/05/06 → ``gjj.dkzh.<field>.date`` (the age-term cap
    is computed)."""
    row = b.loan_row[k.dkzh]
    options = [("DKFFRQ", k.ffrq), ("JKHTQDRQ", k.qdrq)] + ([("DKJQRQ", k.jqrq)] if k.jqrq else [])
    f, d = b.rng.choice(options)
    b.set(row, f, _bad_date(b.rng, d))
    return _h(b, DKZH, row, f, f"gjj.dkzh.{f.lower()}.date", eid)


@_kind("dkzh.exists", DKZH, 2)
def _k_dkzh_exists(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """JKRGJJZH of no account → ``gjj.dkzh.jkrgjjzh.exists``."""
    row = b.loan_row[k.dkzh]
    b.set(row, "JKRGJJZH", f"{k.csdm[:4]}18{b.rng.randint(0, 99999999):08d}")
    return _h(b, DKZH, row, "JKRGJJZH", "gjj.dkzh.jkrgjjzh.exists", eid)


@_kind("dkzh.name_mismatch", DKZH, 1)
def _k_dkzh_name(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """JKRXM another name than the account's → ``gjj.dkzh.jkrxm.matches``."""
    row = b.loan_row[k.dkzh]
    name = row["JKRXM"]
    while name == row["JKRXM"]:
        name = b.rng.choice(SURNAMES) + b.rng.choice(GIVEN) + b.rng.choice(GIVEN)
    b.set(row, "JKRXM", name)
    return _h(b, DKZH, row, "JKRXM", "gjj.dkzh.jkrxm.matches", eid)


@_kind("dkzh.cap", DKZH, 2)
def _k_dkzh_cap(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """HTDKJE above the city's cap → ``gjj.dkzh.htdkje.cap``."""
    row = b.loan_row[k.dkzh]
    p = b.prov.policies[(k.csdm, b.y)]
    b.set(row, "HTDKJE", money(p.dkzged + Decimal(b.rng.randint(1, 30) * 10000)))
    return _h(b, DKZH, row, "HTDKJE", "gjj.dkzh.htdkje.cap", eid)


@_kind("dkzh.jqrq_stray", DKZH, 1)
def _k_dkzh_jqrq_stray(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """An open loan with a settlement date → ``gjj.dkzh.dkjqrq.only_if_settled``."""
    if not k.open or k.ffrq >= b.as_of:
        return None
    row = b.loan_row[k.dkzh]
    d = k.ffrq + dt.timedelta(days=b.rng.randint(0, (b.as_of - k.ffrq).days))
    b.set(row, "DKJQRQ", b.prov.by_code[k.csdm].date(d))
    return _h(b, DKZH, row, "DKJQRQ", "gjj.dkzh.dkjqrq.only_if_settled", eid)


@_kind("dkzh.after_contract", DKZH, 1)
def _k_dkzh_after(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """DKFFRQ 5–60 days before the contract → ``gjj.dkzh.dkffrq.after_contract`` (loans paid out before
    this month; the age-term cap is computed)."""
    if b.now(k.ffrq):
        return None
    row = b.loan_row[k.dkzh]
    b.set(row, "DKFFRQ", b.prov.by_code[k.csdm].date(k.qdrq - dt.timedelta(days=b.rng.randint(5, 60))))
    return _h(b, DKZH, row, "DKFFRQ", "gjj.dkzh.dkffrq.after_contract", eid)


@_kind("dkzh.yqbjze_range", DKZH, 2)
def _k_dkzh_yqbjze(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """YQBJZE above DKYE, or overdue principal while the risk class is 01 (open loans) →
    ``gjj.dkzh.yqbjze.range``."""
    if not k.open:
        return None
    row = b.loan_row[k.dkzh]
    if k.fxdj == "01" and b.rng.random() < 0.5:
        b.set(row, "YQBJZE", money(Decimal(b.rng.randint(100, 5000))))
    else:
        b.set(row, "YQBJZE", money(k.dkye + Decimal(b.rng.randint(100, 5000))))
    return _h(b, DKZH, row, "YQBJZE", "gjj.dkzh.yqbjze.range", eid)


@_kind("dkzh.second_loan", DKZH, 2)
def _k_dkzh_second(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """A second open loan of the same borrower (another loan and contract number) →
    ``gjj.dkzh.jkrzjh.one_open_loan`` on both (computed)."""
    if not k.open:
        return None
    row = b.loan_row[k.dkzh]
    c = b.prov.by_code[k.csdm]
    copy = b.append_copy(DKZH, row)
    b.set(copy, "DKZH", f"{c.code[:4]}DK9{c.next('inj'):07d}")
    b.set(copy, "JKHTBH", f"JK{c.code[:4]}{b.y}9{c.next('inj'):05d}")
    return []


@_kind("dkzh.age_term", DKZH, 2)
def _k_dkzh_age(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """A term that takes an older borrower past the age cap but within the longest term →
    ``gjj.dkzh.age_term.cap`` (computed)."""
    row = b.loan_row[k.dkzh]
    p = b.prov.policies[(k.csdm, b.y)]
    age = full_years(k.person.birth, k.ffrq)
    longest = min(p.dkzcnx * 12, 360)
    need = (p.jknlsx - age) * 12 + 1
    if row["JKRZJLX"] != "01" or need > longest or need < 1:
        return None
    b.set(row, "DKQS", str(b.rng.randint(need, longest)))
    return []


@_kind("dkzh.csdm_code", DKZH, 1)
def _k_dkzh_csdm(b: _Batch, k: Loan, eid: str) -> list[Hit] | None:
    """CSDM = a county code → ``gjj.dkzh.csdm.code``."""
    row = b.loan_row[k.dkzh]
    b.set(row, "CSDM", b.rng.choice(b.prov.by_code[k.csdm].counties))
    return _h(b, DKZH, row, "CSDM", "gjj.dkzh.csdm.code", eid)


# ---- policy rows (ZCXX): only rows of earlier years than the batch's (no rule reads those)

_ZCXX_RATIOS = ("DWJCBLXX", "DWJCBLSX", "GRJCBLXX", "GRJCBLSX", "DKZGBL")
_ZCXX_PAIRS = {"DWJCBLXX": "DWJCBLSX", "GRJCBLXX": "GRJCBLSX", "JCJSXX": "JCJSSX"}


@_kind("zcxx.required", ZCXX, 3)
def _k_zcxx_required(b: _Batch, row: dict[str, str], eid: str) -> list[Hit] | None:
    """A field emptied → ``gjj.zcxx.<field>.required``."""
    f = b.rng.choice([f for f in FIELDS[ZCXX] if f not in ("CSDM", "ND")])
    b.set(row, f, "")
    return _h(b, ZCXX, row, f, f"gjj.zcxx.{f.lower()}.required", eid)


@_kind("zcxx.scale", ZCXX, 3)
def _k_zcxx_scale(b: _Batch, row: dict[str, str], eid: str) -> list[Hit] | None:
    """A ratio written as a percentage → ``gjj.zcxx.<field>.scale`` (a floor above its cap:
    ``…above_floor`` too)."""
    f = b.rng.choice(_ZCXX_RATIOS)
    b.set(row, f, str(int(Decimal(row[f]) * 100)))
    hits = _h(b, ZCXX, row, f, f"gjj.zcxx.{f.lower()}.scale", eid)
    if f in _ZCXX_PAIRS:
        hi = _ZCXX_PAIRS[f]
        hits += _h(b, ZCXX, row, hi, f"gjj.zcxx.{hi.lower()}.above_floor", eid)
    return hits


@_kind("zcxx.above_floor", ZCXX, 2)
def _k_zcxx_order(b: _Batch, row: dict[str, str], eid: str) -> list[Hit] | None:
    """Floor and cap swapped → ``gjj.zcxx.<cap>.above_floor``."""
    lo, hi = b.rng.choice(list(_ZCXX_PAIRS.items()))
    x, y = row[lo], row[hi]
    b.set(row, lo, y)
    b.set(row, hi, x)
    return _h(b, ZCXX, row, hi, f"gjj.zcxx.{hi.lower()}.above_floor", eid)


@_kind("zcxx.amount", ZCXX, 1)
def _k_zcxx_amount(b: _Batch, row: dict[str, str], eid: str) -> list[Hit] | None:
    """JCJSXX / JCJSSX / DKZGED written 1,820.00 → ``gjj.zcxx.<field>.amount``."""
    f = b.rng.choice(("JCJSXX", "JCJSSX", "DKZGED"))
    b.set(row, f, _with_comma(Decimal(row[f])))
    return _h(b, ZCXX, row, f, f"gjj.zcxx.{f.lower()}.amount", eid)


@_kind("zcxx.integer", ZCXX, 1)
def _k_zcxx_integer(b: _Batch, row: dict[str, str], eid: str) -> list[Hit] | None:
    """DKZCNX / JKNLSX written 30.0 → ``gjj.zcxx.<field>.integer``."""
    f = b.rng.choice(("DKZCNX", "JKNLSX"))
    b.set(row, f, row[f] + ".0")
    return _h(b, ZCXX, row, f, f"gjj.zcxx.{f.lower()}.integer", eid)


@_kind("zcxx.nd_year", ZCXX, 1)
def _k_zcxx_nd(b: _Batch, row: dict[str, str], eid: str) -> list[Hit] | None:
    """ND written with two digits → ``gjj.zcxx.nd.year``."""
    b.set(row, "ND", row["ND"][2:])
    return _h(b, ZCXX, row, "ND", "gjj.zcxx.nd.year", eid)


@_kind("zcxx.duplicate", ZCXX, 1)
def _k_zcxx_duplicate(b: _Batch, row: dict[str, str], eid: str) -> list[Hit] | None:
    """The row exported twice → ``gjj.zcxx.nd.unique`` on both."""
    copy = b.append_copy(ZCXX, row)
    return [b.hit(ZCXX, r, "ND", "gjj.zcxx.nd.unique", eid) for r in (row, copy)]


# ------------------------------------------------------------------------------------------------ derived values


def _derive(b: _Batch) -> None:
    """Values a system computes from the final rows: a unit's contributors (DWJCRS) and balance (DWZHYE)
    — except where an injection set them."""
    active: Counter = Counter()
    balance: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for r in b.tables[GRXX]:
        if r["DWZH"]:
            if r["GRZHZT"] == "01":
                active[r["DWZH"]] += 1
            x = amount(r["GRZHYE"])
            if x is not None:
                balance[r["DWZH"]] += x
    for row in b.tables[DWXX]:
        if (id(row), "DWJCRS") not in b.fixed:
            row["DWJCRS"] = str(active[row["DWZH"]])
        if (id(row), "DWZHYE") not in b.fixed:
            row["DWZHYE"] = money(balance[row["DWZH"]])


def computed_lines(b: _Batch, code: str) -> dict[str, Decimal]:
    """The report lines computed from the batch's final business rows of city ``code`` — this module's own
    Python reading of ``tjbb_basis.sql`` (an oracle for the engine and ``dq reconcile``)."""
    ym = (b.y, b.m)

    def in_month(v: str) -> bool:
        d = parse_date(v)
        return d is not None and (d.year, d.month) == ym

    out: dict[str, Decimal] = {}
    posts = [r for r in b.tables[GRMX] if r["CSDM"] == code]
    dep = [r for r in posts if r["GJHTQYWLX"] in ("01", "02")]
    wd = [r for r in posts if r["GJHTQYWLX"] in ("11", "12")]
    out["101"] = Decimal(len({r["DWZH"] for r in dep if r["DWZH"]}))
    out["102"] = Decimal(len({r["GRZH"] for r in dep if r["GRZH"]}))
    out["108"] = half_up(sum((amount(r["FSE"]) or ZERO for r in dep), ZERO) / 10000)
    out["109"] = half_up(sum((-(amount(r["FSE"]) or ZERO) for r in wd), ZERO) / 10000)
    accts = [r for r in b.tables[GRXX] if r["CSDM"] == code]
    out["112"] = Decimal(sum(in_month(r["KHRQ"]) for r in accts))
    out["113"] = Decimal(sum(in_month(r["XHRQ"]) for r in accts))
    out["119"] = Decimal(sum(r["GRZHZT"] in ("01", "02") for r in accts))
    out["120"] = Decimal(sum(r["GRZHZT"] == "02" for r in accts))
    loans = [r for r in b.tables[DKZH] if r["CSDM"] == code]
    out["204"] = half_up(
        sum((amount(r["DKFFE"]) or ZERO for r in loans if in_month(r["DKFFRQ"])), ZERO) / 10000
    )
    out["207"] = half_up(sum((amount(r["DKYE"]) or ZERO for r in loans), ZERO) / 10000)
    out["211"] = Decimal(sum((amount(r["DKYE"]) or ZERO) > 0 for r in loans))
    out["212"] = Decimal(sum((amount(r["YQBJZE"]) or ZERO) > 0 for r in loans))
    return out


def _fmt(line: str, v: Decimal) -> str:
    return money(v) if line in AMOUNT_LINES else str(int(v))


def _identity(values: dict[str, Decimal], line: str) -> Decimal:
    terms = IDENTITIES[line]
    total = values[terms[0]]
    for op, t in zip(terms[1::2], terms[2::2], strict=True):
        total = total + values[t] if op == "+" else total - values[t]
    return total


# ------------------------------------------------------------------------------------------------ the filed report


@dataclass
class _Report:
    """One centre's filed 建金3-1 of one month, while it is being made."""

    centre: Centre
    comp: dict[str, Decimal]
    values: dict[str, Decimal] = field(default_factory=dict)
    rows: dict[str, dict[str, str]] = field(default_factory=dict)
    first: bool = True
    plan: list[tuple[str, str]] = field(default_factory=list)  # (check, line) a value kind misfiles

    def row_of(self, line: str) -> dict[str, str]:
        return self.rows[line]


_BASE_LINES = ("101", "102", "108", "109", "120", "204", "211", "212")
_CLOSING_ONLY = ("114", "115", "116", "118", "206", "210")
_OPENINGS = ("103", "104", "105", "106", "201", "203")
_PLAIN = ("117", "208")  # lines neither computed nor in an identity nor carried


def _off(b: _Batch, line: str, v: Decimal) -> Decimal:
    """A misfiled value of ``line``: a count 1–15 off (never negative), an amount 0.05–80 万元 off."""
    if line in AMOUNT_LINES:
        return v + Decimal(b.rng.choice((-1, 1)) * b.rng.randint(5, 8000)) / 100
    d = b.rng.randint(1, 15)
    return v + d if v < d or b.rng.random() < 0.5 else v - d


def _tjbb_hit(b: _Batch, rep: _Report, line: str, check: str, eid: str) -> list[Hit]:
    b.reconcile.append((rep.centre.code, line, check, eid))
    return _h(b, TJBB, rep.rows[line], "BQZ", f"gjj.tjbb.{line}.{check}", eid)


@_kind("tjbb.misfile", TJBB, 4, stock=False)
def _k_tjbb_misfile(b: _Batch, rep: _Report, eid: str) -> list[Hit] | None:
    """A computed line filed off (the report's closing lines follow it) → ``gjj.tjbb.<line>.matches``;
    119 or 207 filed off → ``.matches`` and ``.identity`` (and next month's carry check of 107 / 202)."""
    line = b.rng.choice((*_BASE_LINES, "119", "207"))
    rep.plan = [("matches", line), ("identity", line)] if line in ("119", "207") else [("matches", line)]
    return []


@_kind("tjbb.identity", TJBB, 2, stock=False)
def _k_tjbb_identity(b: _Batch, rep: _Report, eid: str) -> list[Hit] | None:
    """A closing line filed off its identity → ``gjj.tjbb.<line>.identity``."""
    rep.plan = [("identity", b.rng.choice(_CLOSING_ONLY))]
    return []


@_kind("tjbb.carry", TJBB, 2, stock=False)
def _k_tjbb_carry(b: _Batch, rep: _Report, eid: str) -> list[Hit] | None:
    """An opening line that is not last month's closing line (the closing lines follow it): found only by
    ``dq reconcile`` with the history (carry)."""
    if rep.first:
        return None
    rep.plan = [("carry", b.rng.choice(_OPENINGS))]
    return []


def _row_kind(
    fn: Callable[[_Batch, _Report, str], list[Hit] | None],
) -> Callable[[_Batch, _Report, str], list[Hit] | None]:
    fn.row_kind = True  # type: ignore[attr-defined]
    return fn


@_kind("tjbb.required", TJBB, 2, stock=False)
@_row_kind
def _k_tjbb_required(b: _Batch, rep: _Report, eid: str) -> list[Hit] | None:
    """BQZ of a line, or TJNY / HC / CSDM of a plain line (117, 208) emptied → ``gjj.tjbb.<field>.required``."""
    f = b.rng.choice(("BQZ", "BQZ", "TJNY", "HC", "CSDM"))
    line = b.rng.choice(LINES) if f == "BQZ" else b.rng.choice(_PLAIN)
    row = rep.rows[line]
    b.set(row, f, "")
    return _h(b, TJBB, row, f, f"gjj.tjbb.{f.lower()}.required", eid)


@_kind("tjbb.tjny_month", TJBB, 1, stock=False)
@_row_kind
def _k_tjbb_tjny(b: _Batch, rep: _Report, eid: str) -> list[Hit] | None:
    """TJNY of a line written 2024/03 → ``gjj.tjbb.tjny.month``."""
    row = rep.rows[b.rng.choice(LINES)]
    b.set(row, "TJNY", _bad_month(b.rng, b.y, b.m))
    return _h(b, TJBB, row, "TJNY", "gjj.tjbb.tjny.month", eid)


@_kind("tjbb.tjny_in_month", TJBB, 1, stock=False)
@_row_kind
def _k_tjbb_tjny_month(b: _Batch, rep: _Report, eid: str) -> list[Hit] | None:
    """TJNY of a plain line = last month → ``gjj.tjbb.tjny.in_month``."""
    row = rep.rows[b.rng.choice(_PLAIN)]
    prev = b.first_day - dt.timedelta(days=1)
    b.set(row, "TJNY", rep.centre.month(prev.year, prev.month))
    return _h(b, TJBB, row, "TJNY", "gjj.tjbb.tjny.in_month", eid)


@_kind("tjbb.hc_code", TJBB, 1, stock=False)
@_row_kind
def _k_tjbb_hc(b: _Batch, rep: _Report, eid: str) -> list[Hit] | None:
    """HC of a plain line = 121 / 300 → ``gjj.tjbb.hc.code``."""
    row = rep.rows[b.rng.choice(_PLAIN)]
    b.set(row, "HC", b.rng.choice(("121", "300", "1170")))
    return _h(b, TJBB, row, "HC", "gjj.tjbb.hc.code", eid)


@_kind("tjbb.bqz_integer", TJBB, 1, stock=False)
@_row_kind
def _k_tjbb_integer(b: _Batch, rep: _Report, eid: str) -> list[Hit] | None:
    """A count line written 12.0 → ``gjj.tjbb.bqz.integer``."""
    row = rep.rows[b.rng.choice([h for h in LINES if h not in AMOUNT_LINES])]
    b.set(row, "BQZ", row["BQZ"] + ".0")
    return _h(b, TJBB, row, "BQZ", "gjj.tjbb.bqz.integer", eid)


@_kind("tjbb.bqz_money", TJBB, 1, stock=False)
@_row_kind
def _k_tjbb_money(b: _Batch, rep: _Report, eid: str) -> list[Hit] | None:
    """An amount line written 1234.56万元 → ``gjj.tjbb.bqz.money``."""
    row = rep.rows[b.rng.choice(sorted(AMOUNT_LINES))]
    b.set(row, "BQZ", row["BQZ"] + "万元")
    return _h(b, TJBB, row, "BQZ", "gjj.tjbb.bqz.money", eid)


@_kind("tjbb.duplicate", TJBB, 1, stock=False)
@_row_kind
def _k_tjbb_duplicate(b: _Batch, rep: _Report, eid: str) -> list[Hit] | None:
    """A line reported twice (101, 102, 120, 211, 212, 117, 208) → ``gjj.tjbb.hc.unique`` on both."""
    row = rep.rows[b.rng.choice(("101", "102", "120", "211", "212", *_PLAIN))]
    copy = b.append_copy(TJBB, row)
    return [b.hit(TJBB, r, "HC", "gjj.tjbb.hc.unique", eid) for r in (row, copy)]


@_kind("tjbb.csdm_code", TJBB, 1, stock=False)
@_row_kind
def _k_tjbb_csdm(b: _Batch, rep: _Report, eid: str) -> list[Hit] | None:
    """CSDM of a plain line = a county code → ``gjj.tjbb.csdm.code``."""
    row = rep.rows[b.rng.choice(_PLAIN)]
    b.set(row, "CSDM", b.rng.choice(rep.centre.counties))
    return _h(b, TJBB, row, "CSDM", "gjj.tjbb.csdm.code", eid)


@dataclass
class _Chain:
    """What a centre's next report carries over: last month's filed closing lines and computed 119 / 207."""

    filed: dict[str, Decimal]
    computed: dict[str, Decimal]
    carry_off: str = ""


def _report(
    b: _Batch, c: Centre, fig: Counter, chain: _Chain | None, initial: dict[str, Decimal], rate: float
) -> _Chain:
    """Make centre ``c``'s filed report of the batch month (see the module docstring), with at most one
    injection; return what next month's report carries over."""
    comp = computed_lines(b, c.code)
    rep = _Report(centre=c, comp=comp, first=chain is None)
    v = rep.values
    for line in (*_BASE_LINES, "112", "113", "119", "207"):
        v[line] = comp[line]
    v["110"], v["111"] = Decimal(fig["units_opened"]), Decimal(fig["units_closed"])
    v["117"] = ZERO
    v["208"], v["209"] = Decimal(fig["loans_settled"]), Decimal(fig["loans_issued"])
    if chain is None:
        for line in ("103", "104", "105", "106", "201", "203", "202"):
            v[line] = initial[line]
        v["107"] = comp["119"] - comp["112"] + comp["113"]
    else:
        for opening, closing in CARRY.items():
            v[opening] = chain.filed[closing]
        v["107"], v["202"] = chain.computed["119"], chain.computed["207"]
    spec = None
    eid = f"{b.name}:{c.code}:report"
    if b.rng.random() < 1 - (1 - rate) ** len(LINES):
        specs = [s for s in KINDS.values() if s.carrier == TJBB]
        spec = b.rng.choices(specs, [s.weight for s in specs])[0]
        if not getattr(spec.fn, "row_kind", False) and spec.fn(b, rep, eid) is None:
            spec = None
    planned = {line for _, line in rep.plan}
    for line in planned - {"119", "207", *_CLOSING_ONLY}:  # openings and base lines: the report follows them
        v[line] = _off(b, line, v[line])
    for line in IDENTITIES:
        if line not in ("119", "207"):
            v[line] = _identity(v, line)
    v["205"] = v["202"] + v["204"] - v["207"]
    if _identity(v, "119") != v["119"] or _identity(v, "207") != v["207"]:
        raise RuntimeError(f"sample {b.name} {c.code}: the report does not add up")
    for line in planned & {"119", "207", *_CLOSING_ONLY}:  # closing lines filed off their identity
        v[line] = _off(b, line, v[line])
    month = c.month(b.y, b.m)
    for line in LINES:
        row = {"CSDM": c.code, "TJNY": month, "HC": line, "BQZ": _fmt(line, v[line])}
        rep.rows[line] = row
        b.tables[TJBB].append(row)
    for check, line in rep.plan:
        if check == "carry":
            b.reconcile.append((c.code, line, "carry", eid))
        else:
            b.hits += _tjbb_hit(b, rep, line, check, eid)
    if spec is not None and getattr(spec.fn, "row_kind", False):
        got = spec.fn(b, rep, eid)
        spec = None if got is None else spec
        b.hits += got or []
    if spec is not None:
        b.kind_counts[spec.name] += 1
        b.errors += 1
    if chain is not None and chain.carry_off:
        b.reconcile.append((c.code, chain.carry_off, "carry", f"{b.name}:{c.code}:carry"))
    off = {"119": "107", "207": "202"}
    return _Chain(
        filed=dict(v),
        computed={"119": comp["119"], "207": comp["207"]},
        carry_off=next((off[line] for line in planned if line in off), ""),
    )


# ------------------------------------------------------------------------------------------------ oracles


def _policy_rows(b: _Batch) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in b.tables[ZCXX]:
        if r["CSDM"] and r["ND"] == str(b.as_of.year):
            out[r["CSDM"]].append(r)
    return out


def _oracles(b: _Batch) -> None:
    """The cross-row rules, computed from the batch's final rows by this module's own Python:
    一人多户 (``gjj.grxx.zjhm.one_active_account``), 睡眠账户 (``gjj.grxx.dormant``), one open loan per
    borrower (``gjj.dkzh.jkrzjh.one_open_loan``) and the age-term cap (``gjj.dkzh.age_term.cap``)."""
    bm = month_key(b.as_of)
    by_id: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in b.tables[GRXX]:
        if r["ZJHM"]:
            by_id[r["ZJHM"]].append(r)
    for rows in by_id.values():
        if sum(r["GRZHZT"] == "01" for r in rows) >= 2:
            b.hits += [
                b.hit(GRXX, r, "ZJHM", "gjj.grxx.zjhm.one_active_account", "oracle:multi") for r in rows
            ]
    for r in b.tables[GRXX]:
        sealed, idle = parse_date(r["FCRQ"]), parse_date(r["ZJJYRQ"])
        if r["GRZHZT"] == "02" and sealed and idle:
            if bm - month_key(sealed) >= DORMANT_MONTHS and bm - month_key(idle) >= DORMANT_MONTHS:
                b.hits.append(b.hit(GRXX, r, "GRZHZT", "gjj.grxx.dormant", "oracle:dormant"))
    open_by: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in b.tables[DKZH]:
        x = amount(r["DKYE"])
        if r["JKRZJH"] and x is not None and x > 0:
            open_by[r["JKRZJH"]].append(r)
    for rows in open_by.values():
        if len(rows) >= 2:
            b.hits += [
                b.hit(DKZH, r, "JKRZJH", "gjj.dkzh.jkrzjh.one_open_loan", "oracle:loans") for r in rows
            ]
    policies = _policy_rows(b)
    for r in b.tables[DKZH]:
        zjh, paid, term = r["JKRZJH"], parse_date(r["DKFFRQ"]), r["DKQS"]
        rows = policies.get(r["CSDM"], [])
        if r["JKRZJLX"] != "01" or not re.fullmatch(r"[0-9]{17}[0-9X]", zjh or "") or paid is None:
            continue
        if (
            not re.fullmatch(r"[0-9]{1,6}", term)
            or len(rows) != 1
            or not re.fullmatch(r"[0-9]{1,3}", rows[0]["JKNLSX"])
        ):
            continue
        birth = parse_date(zjh[6:14])
        if birth is None:
            continue
        if full_years(birth, paid) * 12 + int(term) > int(rows[0]["JKNLSX"]) * 12:
            b.hits.append(b.hit(DKZH, r, "DKQS", "gjj.dkzh.age_term.cap", "oracle:age_term"))


def _as_of(b: _Batch) -> dt.date | None:
    """The batch's as-of as the toolkit finds it (latest YYYY-MM-DD of GRMX.JZRQ and GRXX.ZJJYRQ)."""
    days = [r["JZRQ"] for r in b.tables[GRMX]] + [r["ZJJYRQ"] for r in b.tables[GRXX]]
    good = [d for d in days if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", d or "") and parse_date(d)]
    return dt.date.fromisoformat(max(good)) if good else None


# ------------------------------------------------------------------------------------------------ injecting


def _inject(b: _Batch, rates: dict[str, float], factor: float) -> None:
    rng = b.rng
    prov = b.prov
    seq = Counter()

    def attempt(carrier: str, obj: Any) -> list[Hit] | None:
        specs = [s for s in KINDS.values() if s.carrier == carrier and (s.stock or not b.stock)]
        weights = [s.weight for s in specs]
        for _ in range(8):
            spec = rng.choices(specs, weights)[0]
            seq["n"] += 1
            eid = f"{b.name}:{seq['n']}"
            got = spec.fn(b, obj, eid)
            if got is not None:
                b.kind_counts[spec.name] += 1
                b.errors += 1
                b.hits += got
                return got
        return None

    for c in prov.centres:
        q = c.quality * factor
        for u in prov.units[c.code]:
            if rng.random() < rates[DWXX] * q and attempt(DWXX, u) is not None:
                b.locked_units.add(u.dwzh)
        reversed_accounts = {r["GRZH"] for r in b.tables[GRMX] if r["CZBZ"] == "02" and r["CSDM"] == c.code}
        for a in prov.accounts[c.code]:
            if a.dwzh in b.locked_units or a.grzh in b.locked_accounts:
                continue
            if rng.random() < rates["multi"] * q:
                if attempt("multi", a) is not None:
                    b.locked_accounts.add(a.grzh)
                continue
            if rng.random() < rates[GRXX] * q and attempt(GRXX, a) is not None:
                b.locked_accounts.add(a.grzh)
        for loan in prov.loans[c.code]:
            if loan.grzh in b.locked_accounts:
                continue
            if rng.random() < rates[DKZH] * q and attempt(DKZH, loan) is not None:
                b.locked_accounts.add(loan.grzh)
        if not b.stock:
            for row in [r for r in b.tables[GRMX] if r["CSDM"] == c.code]:
                grzh = row["GRZH"]
                a = b.acct.get(grzh)
                if (
                    grzh in b.locked_accounts
                    or grzh in reversed_accounts
                    or a is None
                    or a.dwzh in b.locked_units
                ):
                    continue
                if rng.random() < rates[GRMX] * q and attempt(GRMX, row) is not None:
                    b.locked_accounts.add(grzh)
        current = str(b.y)
        for row in [r for r in b.tables[ZCXX] if r["CSDM"] == c.code and r["ND"] != current]:
            if rng.random() < rates[ZCXX] * q:
                attempt(ZCXX, row)


# ------------------------------------------------------------------------------------------------ writing


def _write_batch(
    b: _Batch, folder: Path, tables: tuple[str, ...], truth: Any, reconcile: Any
) -> dict[str, int]:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.csv"):
        if old.stem not in tables:
            old.unlink()
    index: dict[str, dict[int, int]] = {}
    counts = {}
    for t in tables:
        rows = b.tables[t]
        index[t] = {id(r): i for i, r in enumerate(rows)}
        with (folder / f"{t}.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(FIELDS[t])
            for r in rows:
                w.writerow([r.get(f, "") for f in FIELDS[t]])
        counts[t] = len(rows)
    for h in b.hits:
        key = "|".join(h.row.get(k, "") for k in KEYS[h.table])
        truth.writerow(
            (
                b.name,
                h.table,
                h.row.get("CSDM", ""),
                key,
                index[h.table][id(h.row)] + 2,
                h.field,
                h.rule_id,
                h.error_id,
            )
        )
    for code, line, check, eid in b.reconcile:
        reconcile.writerow((b.name, code, line, check, eid))
    return counts


def _initial(prov: _Province, rng: random.Random) -> dict[str, dict[str, Decimal]]:
    out = {}
    for c in prov.centres:
        balance = sum((a.balance for a in prov.accounts[c.code]), ZERO) / 10000
        total = half_up(balance * Decimal(str(round(rng.uniform(2.5, 4.0), 2))))
        loans = prov.loans[c.code]
        out[c.code] = {
            "103": total,
            "104": total - half_up(balance),
            "105": half_up(balance),
            "106": Decimal(sum(u.status != "04" for u in prov.units[c.code])),
            "201": half_up(
                sum((k.dkffe for k in loans), ZERO) / 10000 * Decimal(str(round(rng.uniform(1.3, 2.0), 2)))
            ),
            "202": half_up(sum((k.dkye for k in loans), ZERO) / 10000),
            "203": Decimal(len(loans) * 2),
        }
    return out


def _remove_stale(root: Path, keep: set[str]) -> None:
    if not root.is_dir():
        return
    for p in root.iterdir():
        if p.is_dir() and p.name not in keep and re.fullmatch(r"[0-9]{4}-[0-9]{2}", p.name):
            for f in p.glob("*.csv"):
                f.unlink()
            p.rmdir()


def generate(
    out: Path,
    *,
    seed: int = 42,
    districts: int = 14,
    days: int | None = None,
    months: int | None = None,
    persons: int | None = None,
    stock_rows: int = 20000,
    end: dt.date | str = dt.date(2024, 12, 31),
    progress: bool = False,
    error_scale: float = 1.0,
    incremental: bool = True,
) -> dict[str, Any]:
    """Write the sample (see the module docstring) into ``out`` and return a summary.

    ``districts``: centres (the first of Gansu's 14 by code); ``months`` (or ``days``, the option name of
    ``dq sample``): monthly batches ending with the month of ``end`` (default 24); ``persons``: member
    accounts per centre at the start (default ``stock_rows`` / centres); ``error_scale`` multiplies every
    error rate (0: clean data); ``incremental=False`` writes the stock batch only.
    """
    out = Path(out)
    if isinstance(end, str):
        end = dt.date.fromisoformat(end)
    months = months if months is not None else days if days is not None else 24
    centres = max(1, min(14, districts))
    persons = persons if persons is not None else max(20, stock_rows // centres)
    if months < 1 or persons < 1 or error_scale < 0:
        raise ValueError("months and persons must be ≥ 1 and error_scale ≥ 0")
    first_key = end.year * 12 + end.month - 1 - (months - 1)
    first = (first_key // 12, first_key % 12 + 1)
    out.mkdir(parents=True, exist_ok=True)
    prov = _Province(seed, centres, persons, first)
    initial = _initial(prov, random.Random(f"gjj:{seed}:initial"))
    with (out / "centres.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(("CSDM", "name", "quality", "dates"))
        for c in prov.centres:
            w.writerow((c.code, c.name, f"{c.quality:.2f}", "YYYYMMDD" if c.compact else "YYYY-MM-DD"))
    names = [f"{(first_key + i) // 12:04d}-{(first_key + i) % 12 + 1:02d}" for i in range(months)]
    if incremental:
        _remove_stale(out / "incremental", set(names))
    kinds: Counter = Counter()
    rows: dict[str, Any] = {"incremental": Counter()}
    errors = {"stock": 0, "incremental": 0}
    as_of: dict[str, str] = {}
    with (
        (out / "truth.csv").open("w", encoding="utf-8-sig", newline="") as tf,
        (out / "reconcile_truth.csv").open("w", encoding="utf-8-sig", newline="") as rf,
    ):
        truth = csv.writer(tf, lineterminator="\n")
        truth.writerow(TRUTH_COLUMNS)
        recon = csv.writer(rf, lineterminator="\n")
        recon.writerow(RECONCILE_COLUMNS)
        chains: dict[str, _Chain | None] = {c.code: None for c in prov.centres}
        last = None
        for t in range(months):
            y, m = divmod(first_key + t, 12)
            m += 1
            month = prov.month(y, m, t, months)
            last = (y, m, month["as_of"])
            if not incremental:
                continue
            name = f"{y:04d}-{m:02d}"
            b = _Batch(prov, f"incremental/{name}", (y, m), month["as_of"], seed, month["postings"])
            factor = error_scale * (1 - 0.8 * t / (months - 1)) if months > 1 else error_scale
            _inject(b, RATES, factor)
            _derive(b)
            for c in prov.centres:
                chains[c.code] = _report(
                    b,
                    c,
                    month["figures"][c.code],
                    chains[c.code],
                    initial[c.code],
                    RATES[TJBB] * c.quality * factor,
                )
            _oracles(b)
            if _as_of(b) != b.as_of:
                raise RuntimeError(f"sample {name}: the as-of would be {_as_of(b)}, not {b.as_of}")
            rows["incremental"].update(
                _write_batch(b, out / "incremental" / name, INCREMENTAL_TABLES, truth, recon)
            )
            kinds.update(b.kind_counts)
            errors["incremental"] += b.errors
            as_of[name] = b.as_of.isoformat()
            if progress:
                print(f"[gjj sample] {name}: {b.errors} errors", file=sys.stderr, flush=True)
        assert last is not None
        y, m, day = last
        b = _Batch(prov, "stock", (y, m), day, seed, None)
        _inject(b, STOCK, error_scale)
        _derive(b)
        _oracles(b)
        rows["stock"] = _write_batch(b, out / "stock", STOCK_TABLES, truth, recon)
        kinds.update(b.kind_counts)
        errors["stock"] = b.errors
        as_of["stock"] = day.isoformat()
    return {
        "out": str(out),
        "seed": seed,
        "centres": [{"CSDM": c.code, "name": c.name, "quality": c.quality} for c in prov.centres],
        "batches": 1 + (months if incremental else 0),
        "rows": {"stock": rows["stock"], "incremental": dict(rows["incremental"])},
        "errors": {
            **errors,
            "total": errors["stock"] + errors["incremental"],
            "by_kind": dict(sorted(kinds.items())),
        },
        "as_of": as_of,
        "summary": f"{len(prov.centres)} 个中心 / centres, 每个中心约 {persons} 名职工 / members each, "
        f"{months if incremental else 0} 个月度批次 / monthly batches, 注入错误 / errors injected "
        f"{errors['stock'] + errors['incremental']:,}",
    }
