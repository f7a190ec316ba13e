"""sgs 示例数据生成器 / the embedded sample-data generator of the 双公示 domain (licences and penalties).

``generate(out, ...)`` writes, for one city (东莞市, 441900) and up to 30 of its departments::

    out/stock/{XZXK,XZCF,FRK,FRK_BD}.csv                      what is disclosed now (存量)
    out/incremental/YYYY-MM-DD/{XZXK,XZCF,FRK,FRK_BD}.csv     each working day's uploads of every department
    out/truth.csv                                              every injected error × rule it breaks
    out/timeliness.csv                                         every record's fate across the batches
    out/departments.csv                                        code, name, quality (base error factor)

Data files are UTF-8 CSV (no BOM) whose header is exactly the dictionary's field codes; the other files
are UTF-8 with BOM. The same seed gives byte-identical files (every draw comes from ``random.Random``
seeded with the seed; nothing depends on the clock). The departments' codes and names do not depend on the
seed (``roster.csv`` names their responsible persons).

The city
========
Departments (``DEPARTMENTS``, largest first; ``districts`` takes the first n) decide licences (行政许可)
and penalties (行政处罚) on working days — licences far more often — for parties of three kinds:
organisations (法人及非法人组织, credit code 91…, some with their organisation code and a branch name in
full-width brackets), individual businesses (个体工商户, credit code 92… or, for one in five, the
placeholder ``00000000000000000X`` with a 15-digit 工商注册号) and natural persons (自然人, a citizen ID or
a passport number). Each department writes dates in its own spelling (``YYYY/MM/DD`` or ``YYYY-MM-DD``);
upload times (SBSJ) are ``YYYY-MM-DD HH:MM:SS`` except for a few small departments that write
``YYYY/MM/DD HH:MM:SS`` (the batch's as-of is the latest SBSJ in the ``-`` spelling, as the toolkit reads it).

Registers: each batch carries ``FRK_BD`` (the city's register: every entity with a credit code that the
batch's rows name, up to date) and ``FRK`` (the provincial register as the platform sees it on that day: the
same entities, except those registered less than their *lag* ago — 3 to 12 days). Some licences are for
entities registered in the last days (新设立的市场主体); uploaded before the provincial register has them,
they are rejected by ``*.xdr_shxym.in_registry`` (and flagged by the warning ``*.registry_lag``) — the false
rejections that the Dongguan overlay removes.

Uploads, rejections and timeliness
==================================
A decision is first uploaded 0–6 working days after its decision date, or — with a probability that is
higher for poor departments and falls over time — 8–16 working days after (a late upload). A first upload
carries an error with probability ``0.16 × error_scale × quality × (1 − 0.75·t)`` (t: 0 on the first batch
day, 1 on the last). An upload with a *critical* error (or a register-lag rejection) is rejected; the
department re-uploads the corrected record some working days later (faster for good departments and later
in time; a few are never corrected). A warning-only upload is accepted. ``timeliness.csv`` lists, per
record (department, table, decision number): the decision date, the first upload, the first accepted
upload and the status at the end (``timely``: accepted within 7 working days after the decision date;
``late``; ``pending``: not accepted and its 7 days have not passed).

truth.csv
=========
``batch`` ("stock" or "incremental/YYYY-MM-DD"), ``table`` (the rule's ``meta.table``), ``unit_code`` (the
department code in that row), ``key`` (the decision number as uploaded), ``row`` (the ``_ROW`` the toolkit
reports: header = 1; view rules give the table's row), ``field`` (the rule's ``meta.field``), ``rule_id``,
``error_id`` (one per injection). An upload more than 7 working days after its decision (first upload or
re-upload) is listed under ``sgs.<t>.sbsj.within_7wd`` with error id ``…-late``. ``error_scale=0``: no
errors, no late uploads, no register lag — every row passes every rule.

Injection catalogue (``KINDS``: name → table, weight, critical, also in stock); each breaks exactly the
rules its function returns and nothing else:

* completeness: an R field emptied (``required``), the decision number emptied, the credit code of an
  organisation or individual business, the legal representative, a person's ID number, the registration
  number beside the placeholder, the fine / confiscated amount / licence named by the categories;
* codes: 行政相对人类别 企业/个人, 许可类别 其他/许可, 当前状态 有效, 证件类型 居民身份证, 处罚类别 with an extra
  part 责令改正;
* identifiers: a party's credit code with a wrong check character (also ``in_registry``: the register has
  the right code), the placeholder for an organisation (also ``required_if_placeholder``), an authority's
  code, an organisation code with a wrong check character or hyphen (also ``matches_usc``) or another
  valid one (``matches_usc`` only), a citizen ID with a wrong check digit;
* dates: a date in another spelling (``20240305``, ``2024.3.5``, ``2024年3月5日``), an upload time without
  seconds, a decision date after the batch (``not_future`` and ``sbsj.after_jdrq``), an upload time before
  the decision, 有效期至 before 有效期自, 处罚有效期 before the decision, 公示截止期 before 处罚有效期 or
  outside 3 months – 3 years;
* a duplicated row (``wsh.unique`` on both rows), an ID or mobile number in public text (in an
  organisation's name also ``matches_registry``), a fine written as ``2000元``, a fine of 0, a fine without
  the category 罚款, a natural person with a legal representative, a name differing from the register's,
  a party unknown to both registers (``in_registry``; with the overlay ``in_local_registry``);
* warnings: half-width brackets or stray spaces in an organisation's name (the register comparison still
  passes: brackets and spaces are normalised), a fine in 元 (``unit_wan``), a legal basis without 《》,
  有效期自 before the decision date.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import random
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from toolkit.validators import CREDIT_CODE_CHARSET, citizen_id_check_digit, credit_code_check_char
from toolkit.workdays import WorkdayCalendar

__all__ = ["DEPARTMENTS", "KINDS", "department_codes", "generate"]

HERE = Path(__file__).resolve().parent
XK, CF, FRK, FRK_BD = "XZXK", "XZCF", "FRK", "FRK_BD"
TABLES = (XK, CF, FRK, FRK_BD)
SHORT = {XK: "xk", CF: "cf"}
PREFIX = {XK: "XK_", CF: "CF_"}
CITY, CITY_CODE = "东莞市", "441900"
TRUTH_COLUMNS = ("batch", "table", "unit_code", "key", "row", "field", "rule_id", "error_id")
TIMELINESS_COLUMNS = ("unit_code", "table", "key", "decided", "first_upload", "first_accepted", "status")
ORG, BIZ, PERSON = "法人及非法人组织", "个体工商户", "自然人"
WORKING_DAYS = 7

BASE_RATE = 0.16  # errors per first upload at t = 0, quality 1.0, error_scale 1
STOCK_RATE = 0.08
LATE_RATE = 0.12  # late first uploads at t = 0, quality 1.0
NEW_ENTITY_RATE = 0.07  # licences for an entity registered in the last days
NEVER_FIXED = 0.04  # rejected records never corrected (× quality)
XK_PER_DAY, CF_PER_DAY = 60.0, 6.0  # decisions per working day, whole city (30 departments)


def _load_pack() -> tuple[dict[str, list[str]], dict[str, tuple[str, str]], str]:
    dictionary = yaml.safe_load((HERE / "dictionary.yaml").read_text(encoding="utf-8"))
    fields = {code: list(spec["fields"]) for code, spec in dictionary["tables"].items()}
    rules: dict[str, tuple[str, str]] = {}
    for path in sorted((HERE / "suites").glob("*.json")):
        for exp in json.loads(path.read_text(encoding="utf-8")).get("expectations", []):
            rules[exp["meta"]["rule_id"]] = (exp["meta"]["table"], exp["meta"]["field"])
    return fields, rules, dictionary["placeholder_credit_code"]


FIELDS, RULES, PLACEHOLDER = _load_pack()
USC_CHARS = CREDIT_CODE_CHARSET  # digits and capitals without I, O, Z, S, V
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714, written here independently of the toolkit's check
ORG_VALUES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


# ------------------------------------------------------------------------------------------------ word lists

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢钟"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红玲芬燕彬鹏辉斌宇浩凯健俊帆旭宁龙林欣佳琪晨阳雪婷颖"
BRANDS = (
    "华信", "恒通", "鸿泰", "粤海", "虎门", "松湖", "金盛", "东城", "南城", "新城", "博远", "天元", "中诚", "安居",
    "顺达", "宏远", "长安", "凤岗", "嘉禾", "裕丰", "汇智", "联升", "盈科", "永兴", "大朗", "常平", "塘厦", "厚街",
)  # fmt: skip
TRADES = (
    "电子科技",
    "五金制品",
    "塑胶制品",
    "家具",
    "服装",
    "食品",
    "贸易",
    "物流",
    "模具",
    "印刷",
    "包装材料",
    "精密机械",
)
TOWNS = (
    "莞城",
    "南城",
    "东城",
    "万江",
    "石碣",
    "石龙",
    "茶山",
    "寮步",
    "大朗",
    "长安",
    "虎门",
    "厚街",
    "常平",
    "樟木头",
)
SHOPS = ("五金店", "餐饮店", "便利店", "副食店", "美发店", "手机店", "茶行", "小吃店", "快餐店", "烟酒店")
BRANCHES = ("东城分公司", "南城分公司", "长安分公司", "虎门分公司")
STAFF = "何卫东 白文军 曹家豪 贺丽华 邓志强 梁婉仪 陈国栋 黄晓敏 叶子健 李嘉欣 罗志伟 莫慧玲 钟振华 袁美玲 谢文辉".split()


# ------------------------------------------------------------------------------------------------ departments

# licence templates: title, category, certificate, content, licence-number prefix, years valid (0: long-term),
# party kinds (weights of org, biz, person)
LT = {
    "food": ("食品经营许可决定书", "普通", "食品经营许可证", "准予食品经营许可，经营项目：预包装食品销售、热食类食品制售", "JY1441900", 5, (4, 6, 0)),
    "setup": ("设立登记准予决定书", "登记", "营业执照", "准予设立登记，核发营业执照", "", 0, (7, 3, 0)),
    "road": ("道路运输经营许可决定书", "普通", "道路运输经营许可证", "准予从事道路普通货物运输经营", "粤交运管许可东字", 4, (8, 0, 2)),
    "emission": ("排污许可决定书", "普通", "排污许可证", "准予按许可证载明的种类和浓度排放大气污染物、水污染物", "粤环许", 5, (10, 0, 0)),
    "works": ("建筑工程施工许可决定书", "普通", "建筑工程施工许可证", "准予建筑工程施工，工程名称：厂房扩建工程", "441900", 1, (10, 0, 0)),
    "land": ("建设用地规划许可决定书", "核准", "建设用地规划许可证", "准予建设用地规划许可，用地性质：工业用地", "地字第", 0, (10, 0, 0)),
    "clinic": ("医疗机构执业许可决定书", "普通", "医疗机构执业许可证", "准予医疗机构执业，诊疗科目：内科、外科", "PDY", 5, (7, 3, 0)),
    "hygiene": ("公共场所卫生许可决定书", "普通", "卫生许可证", "准予公共场所卫生许可，项目：住宿、美容美发", "粤卫公证字", 4, (4, 6, 0)),
    "sign": ("户外广告设施设置许可决定书", "普通", "", "准予设置户外广告设施，设置期限一年", "", 1, (6, 4, 0)),
    "chemicals": ("危险化学品经营许可决定书", "普通", "危险化学品经营许可证", "准予经营危险化学品（不带储存设施）", "粤莞危化经字", 3, (10, 0, 0)),
    "blasting": ("爆破作业人员许可决定书", "认可", "爆破作业人员许可证", "准予从事爆破作业", "4419", 3, (0, 0, 10)),
    "tobacco": ("烟草专卖零售许可决定书", "特许", "烟草专卖零售许可证", "准予从事卷烟、雪茄烟零售业务", "441900", 5, (2, 8, 0)),
    "leisure": ("娱乐场所经营许可决定书", "普通", "娱乐经营许可证", "准予从事歌舞娱乐场所经营", "441900", 2, (8, 2, 0)),
    "quality": ("资质认定决定书", "认可", "资质证书", "准予资质认定，认定范围详见证书附表", "", 5, (10, 0, 0)),
    "fire": ("消防安全检查合格决定书", "核准", "", "准予公众聚集场所投入使用、营业", "", 0, (7, 3, 0)),
    "filing": ("备案确认决定书", "其他-备案", "", "予以备案确认", "", 0, (6, 4, 0)),
}  # fmt: skip
# penalty templates: offence, facts, legal basis, categories (weighted), party kinds (org, biz, person)
PT = {
    "food": ("经营超过保质期的食品", "当事人在经营场所销售超过保质期的预包装食品", "《中华人民共和国食品安全法》第一百二十四条第一款第（五）项",
             (("警告;罚款", 4), ("罚款", 4), ("没收违法所得;罚款", 2)), (4, 6, 0)),
    "unlicensed": ("未取得许可从事食品经营活动", "当事人未取得食品经营许可从事食品经营活动", "《中华人民共和国食品安全法》第一百二十二条第一款",
                   (("没收违法所得;没收非法财物;罚款", 5), ("没收违法所得;罚款", 5)), (2, 6, 2)),
    "overload": ("车辆超限运输", "当事人驾驶的货运车辆超过规定的限载标准在公路上行驶", "《公路安全保护条例》第六十四条",
                 (("罚款", 10),), (5, 0, 5)),
    "emission": ("超标排放大气污染物", "当事人排放的大气污染物浓度超过国家规定的排放标准", "《中华人民共和国大气污染防治法》第九十九条第二项",
                 (("罚款", 7), ("责令停产停业;罚款", 3)), (10, 0, 0)),
    "works": ("未取得施工许可证擅自施工", "当事人未取得施工许可证擅自开工建设", "《建筑工程施工许可管理办法》第十二条",
              (("罚款", 10),), (10, 0, 0)),
    "street": ("占道经营", "当事人在城市道路上擅自摆摊经营，影响市容", "《城市市容和环境卫生管理条例》第三十六条",
               (("警告", 5), ("罚款", 5)), (0, 5, 5)),
    "safety": ("未按规定开展安全生产教育和培训", "当事人未按规定对从业人员进行安全生产教育和培训", "《中华人民共和国安全生产法》第九十七条第三项",
               (("警告;罚款", 6), ("罚款", 4)), (10, 0, 0)),
    "order": ("扰乱公共秩序", "当事人在公共场所起哄闹事，扰乱公共秩序", "《中华人民共和国治安管理处罚法》第二十三条",
              (("警告", 3), ("罚款", 4), ("行政拘留", 3)), (0, 0, 10)),
    "tobacco": ("无证经营烟草制品零售业务", "当事人未取得烟草专卖零售许可证经营卷烟零售业务", "《中华人民共和国烟草专卖法实施条例》第五十七条",
                (("没收违法所得;罚款", 10),), (0, 8, 2)),
    "clinic": ("使用非卫生技术人员从事医疗卫生技术工作", "当事人使用未取得执业资格的人员从事诊疗活动", "《医疗机构管理条例》第四十七条",
               (("警告;罚款", 6), ("罚款;吊销许可证件", 1), ("通报批评", 3)), (7, 3, 0)),
    "fraud": ("以欺骗手段取得行政许可", "当事人提交虚假材料取得行政许可", "《中华人民共和国行政许可法》第七十九条",
              (("吊销许可证件", 5), ("暂扣许可证件;罚款", 5)), (10, 0, 0)),
}  # fmt: skip

# name, short name (decision numbers), licences and penalties per day (weights), licence and penalty templates
DEPARTMENTS: tuple[tuple[str, str, float, float, tuple[str, ...], tuple[str, ...]], ...] = (
    ("东莞市市场监督管理局", "东市监", 30, 8, ("food", "setup", "setup"), ("food", "unlicensed")),
    ("东莞市交通运输局", "东交", 6, 6, ("road",), ("overload",)),
    ("东莞市城市管理和综合执法局", "东城管", 4, 6, ("sign",), ("street",)),
    ("东莞市生态环境局", "东环", 3, 5, ("emission",), ("emission",)),
    ("东莞市公安局", "东公", 4, 4, ("blasting", "chemicals"), ("order",)),
    ("东莞市住房和城乡建设局", "东建", 5, 3, ("works",), ("works",)),
    ("东莞市卫生健康局", "东卫", 4, 2, ("clinic", "hygiene"), ("clinic",)),
    ("东莞市应急管理局", "东应急", 2, 2, ("chemicals",), ("safety",)),
    ("东莞市消防救援支队", "东消", 2, 2, ("fire",), ("safety",)),
    ("东莞市烟草专卖局", "东烟", 2, 1, ("tobacco",), ("tobacco",)),
    ("东莞市文化广电旅游体育局", "东文旅", 2, 1.5, ("leisure",), ("safety",)),
    ("东莞市自然资源局", "东自然", 3, 2, ("land",), ("works",)),
    ("东莞市人力资源和社会保障局", "东人社", 2, 1, ("quality", "filing"), ("safety",)),
    ("东莞市农业农村局", "东农", 2, 1, ("quality",), ("food",)),
    ("东莞市水务局", "东水", 2, 1, ("works",), ("emission",)),
    ("东莞市医疗保障局", "东医保", 0.5, 1, ("filing",), ("fraud",)),
    ("东莞市教育局", "东教", 1, 0.3, ("quality",), ("safety",)),
    ("东莞市商务局", "东商", 1, 0.3, ("filing",), ("fraud",)),
    ("东莞市民政局", "东民", 1, 0.2, ("filing",), ("fraud",)),
    ("东莞市司法局", "东司", 1, 0.3, ("quality",), ("fraud",)),
    ("东莞市发展和改革局", "东发改", 1, 0.3, ("filing",), ("fraud",)),
    ("东莞市工业和信息化局", "东工信", 1, 0.3, ("quality",), ("safety",)),
    ("东莞市林业局", "东林", 0.5, 0.5, ("filing",), ("emission",)),
    ("东莞市科学技术局", "东科", 0.5, 0.1, ("quality",), ("fraud",)),
    ("东莞市人民防空办公室", "东人防", 0.5, 0.2, ("works",), ("works",)),
    ("东莞市气象局", "东气", 0.3, 0.2, ("filing",), ("safety",)),
    ("东莞市统计局", "东统", 0.2, 0.3, ("filing",), ("fraud",)),
    ("东莞市港务局", "东港", 0.5, 0.3, ("road",), ("overload",)),
    ("东莞市财政局", "东财", 0.5, 0.2, ("filing",), ("fraud",)),
    ("东莞市新闻出版局", "东新出", 0.5, 0.2, ("filing",), ("fraud",)),
)


# ------------------------------------------------------------------------------------------------ codes


def _org_check(body: str) -> str:
    check = 11 - sum(ORG_VALUES.index(c) * w for c, w in zip(body, ORG_WEIGHTS, strict=True)) % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def _usc(kind: str, body8: str) -> str:
    """A credit code: registration authority/type ``kind`` (11 机关, 91 企业, 92 个体工商户), the city, the
    organisation code (``body8`` + its GB 11714 check) and the GB 32100 check character."""
    first17 = kind + CITY_CODE + body8 + _org_check(body8)
    return first17 + credit_code_check_char(first17)


def department_codes() -> list[tuple[str, str]]:
    """(credit code, name) of every department, in ``DEPARTMENTS`` order (independent of the seed)."""
    return [(_usc("11", f"MB{710000 + 137 * i:06d}"), d[0]) for i, d in enumerate(DEPARTMENTS)]


def _citizen_id(rng: random.Random) -> str:
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(18000))
    body = f"{CITY_CODE}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return body + citizen_id_check_digit(body)


def _body8(rng: random.Random, first: str) -> str:
    return first + "".join(rng.choice(USC_CHARS) for _ in range(7))


def _wrong_check(code: str) -> str:
    """``code`` with another character of the credit-code set in place of its check character."""
    return code[:17] + USC_CHARS[(USC_CHARS.index(code[17]) + 1 + (ord(code[0]) % 29)) % len(USC_CHARS)]


# ------------------------------------------------------------------------------------------------ helpers


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _weighted(rng: random.Random, items: list[tuple[Any, float]]) -> Any:
    total = sum(w for _, w in items)
    x = rng.random() * total
    for item, w in items:
        x -= w
        if x < 0:
            return item
    return items[-1][0]


def _add_months(day: dt.date, months: int) -> dt.date:
    n = day.year * 12 + day.month - 1 + months
    y, m = divmod(n, 12)
    last = (dt.date(y + (m == 11), (m + 1) % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(y, m + 1, min(day.day, last))


def _fmt(day: dt.date, slash: bool) -> str:
    return day.strftime("%Y/%m/%d" if slash else "%Y-%m-%d")


def _yuan_to_wan(yuan: int) -> str:
    value = (Decimal(yuan) / Decimal(10000)).normalize()
    text = format(value, "f")
    return text


class Dept:
    __slots__ = (
        "abbr",
        "cf_t",
        "cf_w",
        "code",
        "index",
        "name",
        "quality",
        "sbsj_slash",
        "slash",
        "xk_t",
        "xk_w",
    )

    def __init__(self, index: int, code: str, rng: random.Random) -> None:
        name, abbr, xk_w, cf_w, xk_t, cf_t = DEPARTMENTS[index]
        self.index, self.code, self.name, self.abbr = index, code, name, abbr
        self.xk_w, self.cf_w, self.xk_t, self.cf_t = xk_w, cf_w, xk_t, cf_t
        self.quality = round(0.4 + 1.2 * rng.random(), 2)
        self.slash = rng.random() < 0.6
        self.sbsj_slash = index >= 20 and index % 4 == 1  # a few small departments


class Party:
    __slots__ = (
        "clrq",
        "code",
        "fr_zjhm",
        "fr_zjlx",
        "frdb",
        "gszc",
        "kind",
        "lag",
        "name",
        "registered",
        "zjhm",
        "zjlx",
        "zzjg",
    )

    def __init__(self, kind: str, name: str) -> None:
        self.kind, self.name = kind, name
        self.code = self.gszc = self.zzjg = self.frdb = self.fr_zjlx = self.fr_zjhm = self.zjlx = (
            self.zjhm
        ) = ""
        self.clrq = dt.date(2015, 1, 1)
        self.lag = 0
        self.registered = True  # in both registers (False: an unknown entity)

    @property
    def has_code(self) -> bool:
        return bool(self.code) and self.code != PLACEHOLDER

    def provincial_from(self) -> dt.date:
        return self.clrq + dt.timedelta(days=self.lag)


class Upload:
    __slots__ = ("critical", "day", "dup", "error_id", "kind", "lag", "party", "row", "rules")

    def __init__(self, day: dt.date, row: dict[str, str], party: Party) -> None:
        self.day, self.row, self.party = day, row, party
        self.rules: list[str] = []
        self.kind = ""
        self.error_id = ""
        self.critical = False
        self.lag = False
        self.dup = False


class Record:
    __slots__ = ("decided", "dept", "key", "party", "row", "table", "uploads")

    def __init__(
        self, dept: Dept, table: str, key: str, decided: dt.date, party: Party, row: dict[str, str]
    ) -> None:
        self.dept, self.table, self.key, self.decided, self.party, self.row = (
            dept,
            table,
            key,
            decided,
            party,
            row,
        )
        self.uploads: list[Upload] = []


# ------------------------------------------------------------------------------------------------ the kinds

Injector = Callable[["_Generator", Record, Upload, random.Random], "list[str] | None"]
#: name -> (table: xk | cf | any, weight, critical, also in stock)
KINDS: dict[str, tuple[str, float, bool, bool]] = {}
_INJECT: dict[str, Injector] = {}


def _kind(
    name: str, table: str, weight: float, critical: bool, stock: bool = True
) -> Callable[[Injector], Injector]:
    def register(fn: Injector) -> Injector:
        KINDS[name] = (table, weight, critical, stock)
        _INJECT[name] = fn
        return fn

    return register


def _rid(rec: Record, field: str, check: str) -> str:
    p = PREFIX[rec.table]
    name = field[len(p) :].lower() if field.startswith(p) else field.lower()
    return f"sgs.{SHORT[rec.table]}.{name}.{check}"


REQUIRED_FIELDS = {
    XK: ("XK_XDR_MC", "XK_XKWS", "XK_XKLB", "XK_NR", "XK_JDRQ", "XK_YXQZI", "XK_XKJG", "XK_ZT", "XK_LYDW", "SBSJ"),
    CF: ("CF_XDR_MC", "CF_WFXW", "CF_SY", "CF_YJ", "CF_CFLB", "CF_NR", "CF_YXQ", "CF_GSJZQ", "CF_CFJG", "CF_SJLY", "SBSJ"),
}  # fmt: skip


@_kind("required", "any", 10, True)
def _k_required(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    field = rng.choice(REQUIRED_FIELDS[rec.table])
    up.row[field] = ""
    return [_rid(rec, field, "required")]


@_kind("wsh_required", "any", 1.5, True)
def _k_wsh_required(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    up.row[PREFIX[rec.table] + "WSH"] = ""
    return [_rid(rec, "WSH", "required")]


@_kind("shxym_missing", "any", 1.5, True)
def _k_shxym_missing(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if not up.party.has_code:
        return None
    up.row[PREFIX[rec.table] + "XDR_SHXYM"] = ""
    return [_rid(rec, "XDR_SHXYM", "required_if_not_person")]


@_kind("frdb_missing", "any", 1.5, True)
def _k_frdb_missing(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if up.party.kind != ORG:
        return None
    up.row[PREFIX[rec.table] + "FRDB"] = ""
    return [_rid(rec, "FRDB", "required_if_org")]


@_kind("zjhm_missing", "any", 1, True)
def _k_zjhm_missing(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if up.party.kind != PERSON:
        return None
    up.row[PREFIX[rec.table] + "XDR_ZJHM"] = ""
    return [_rid(rec, "XDR_ZJHM", "required_if_person")]


@_kind("gszc_missing", "any", 0.7, True)
def _k_gszc_missing(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if up.party.code != PLACEHOLDER:
        return None
    up.row[PREFIX[rec.table] + "XDR_GSZC"] = ""
    return [_rid(rec, "XDR_GSZC", "required_if_placeholder")]


def _has(rec: Record, *kinds: str) -> bool:
    return any(k in rec.row["CF_CFLB"].split(";") for k in kinds)


@_kind("fine_missing", "cf", 1.5, True)
def _k_fine_missing(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if not _has(rec, "罚款"):
        return None
    up.row["CF_NR_FK"] = ""
    return ["sgs.cf.nr_fk.required_if_fine"]


@_kind("wfff_missing", "cf", 0.5, True)
def _k_wfff_missing(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if not _has(rec, "没收违法所得", "没收非法财物"):
        return None
    up.row["CF_NR_WFFF"] = ""
    return ["sgs.cf.nr_wfff.required_if_confiscation"]


@_kind("zkdx_missing", "cf", 0.5, True)
def _k_zkdx_missing(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if not _has(rec, "暂扣许可证件", "吊销许可证件"):
        return None
    up.row["CF_NR_ZKDX"] = ""
    return ["sgs.cf.nr_zkdx.required_if_licence_action"]


@_kind("lb_code", "any", 1.5, True)
def _k_lb_code(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if up.party.code == PLACEHOLDER:
        return None
    up.row[PREFIX[rec.table] + "XDR_LB"] = {ORG: "企业", BIZ: "个体户", PERSON: "个人"}[up.party.kind]
    return [_rid(rec, "XDR_LB", "code")]


@_kind("xklb_code", "xk", 1.2, True)
def _k_xklb_code(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    up.row["XK_XKLB"] = rng.choice(("其他", "许可", "其他-"))
    return ["sgs.xk.xklb.code"]


@_kind("zt_code", "xk", 0.8, True)
def _k_zt_code(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    up.row["XK_ZT"] = "有效"
    return ["sgs.xk.zt.code"]


@_kind("zjlx_code", "any", 0.8, True)
def _k_zjlx_code(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if up.party.kind != PERSON:
        return None
    up.row[PREFIX[rec.table] + "XDR_ZJLX"] = "居民身份证"
    return [_rid(rec, "XDR_ZJLX", "code")]


@_kind("fr_zjlx_code", "any", 0.5, True)
def _k_fr_zjlx_code(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if not up.party.fr_zjlx:
        return None
    up.row[PREFIX[rec.table] + "FR_ZJLX"] = "二代身份证"
    return [_rid(rec, "FR_ZJLX", "code")]


@_kind("cflb_code", "cf", 1.2, True)
def _k_cflb_code(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    up.row["CF_CFLB"] = rec.row["CF_CFLB"] + ";责令改正"
    return ["sgs.cf.cflb.code"]


@_kind("check_digit", "any", 2, True)
def _k_check_digit(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if not up.party.has_code:
        return None
    up.row[PREFIX[rec.table] + "XDR_SHXYM"] = _wrong_check(up.party.code)
    return [_rid(rec, "XDR_SHXYM", "check_digit"), _rid(rec, "XDR_SHXYM", "in_registry")]


@_kind("placeholder_org", "any", 0.6, True)
def _k_placeholder_org(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if up.party.kind != ORG:
        return None
    up.row[PREFIX[rec.table] + "XDR_SHXYM"] = PLACEHOLDER
    return [_rid(rec, "XDR_SHXYM", "check_digit"), _rid(rec, "XDR_GSZC", "required_if_placeholder")]


@_kind("jgdm_check", "any", 0.6, True)
def _k_jgdm_check(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    field = "XK_XKJGDM" if rec.table == XK else "CF_CFJGDM"
    up.row[field] = _wrong_check(up.row[field])
    return [_rid(rec, field, "check_digit")]


@_kind("org_code", "any", 0.8, True)
def _k_org_code(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if not up.party.zzjg:
        return None
    z = up.party.zzjg
    up.row[PREFIX[rec.table] + "XDR_ZZJG"] = (
        f"{z[:8]}-{z[8]}"
        if rng.random() < 0.4
        else z[:8] + ("0" if z[8] == "X" else "X" if z[8] == "0" else "0")
    )
    return [_rid(rec, "XDR_ZZJG", "org_code"), _rid(rec, "XDR_ZZJG", "matches_usc")]


@_kind("zzjg_mismatch", "any", 0.5, True)
def _k_zzjg_mismatch(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if not up.party.zzjg:
        return None
    while True:
        body = _body8(rng, "M")
        if body != up.party.zzjg[:8]:
            break
    up.row[PREFIX[rec.table] + "XDR_ZZJG"] = body + _org_check(body)
    return [_rid(rec, "XDR_ZZJG", "matches_usc")]


def _bad_citizen_id(rng: random.Random, value: str) -> str:
    if value[17] == "X" and rng.random() < 0.5:
        return value[:17] + "x"
    if rng.random() < 0.2:
        return value[:17]
    return value[:17] + ("1" if value[17] == "0" else "0")


@_kind("citizen_id", "any", 1.2, True)
def _k_citizen_id(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if up.party.kind != PERSON or up.party.zjlx != "身份证":
        return None
    field = PREFIX[rec.table] + "XDR_ZJHM"
    up.row[field] = _bad_citizen_id(rng, up.row[field])
    return [_rid(rec, "XDR_ZJHM", "citizen_id")]


@_kind("fr_citizen_id", "any", 0.5, True)
def _k_fr_citizen_id(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if up.party.fr_zjlx != "身份证":
        return None
    field = PREFIX[rec.table] + "FR_ZJHM"
    up.row[field] = _bad_citizen_id(rng, up.row[field])
    return [_rid(rec, "FR_ZJHM", "citizen_id")]


def _bad_date(rng: random.Random, day: dt.date) -> str:
    style = rng.randrange(5)
    if style == 0:
        return day.strftime("%Y%m%d")
    if style == 1:
        return f"{day.year}.{day.month}.{day.day}"
    if style == 2:
        return f"{day.year}年{day.month}月{day.day}日"
    if style == 3:
        return str((day - dt.date(1899, 12, 30)).days)  # an Excel serial number
    return f"{day.year}/{day.month}/{day.day}" if day.month < 10 or day.day < 10 else day.strftime("%Y.%m.%d")


@_kind("date", "any", 2, True)
def _k_date(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    p = PREFIX[rec.table]
    names = ("JDRQ", "YXQZ", "YXQZI") if rec.table == XK else ("JDRQ", "YXQ", "GSJZQ")
    field = p + rng.choice(names)
    text = up.row[field]
    day = dt.date(int(text[:4]), int(text[5:7]), int(text[8:10]))
    up.row[field] = _bad_date(rng, day)
    return [_rid(rec, field, "date")]


@_kind("sbsj_datetime", "any", 0.6, True)
def _k_sbsj_datetime(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    t = up.row["SBSJ"]
    up.row["SBSJ"] = (
        t[:16]
        if rng.random() < 0.5
        else t.replace("-", "").replace("/", "").replace(":", "").replace(" ", "")
    )
    return [_rid(rec, "SBSJ", "datetime")]


def _set_decided(rec: Record, up: Upload, day: dt.date) -> None:
    """Rewrite the decision date (and the dates that follow from it) of an upload's row."""
    row, slash = up.row, rec.dept.slash
    if rec.table == XK:
        row["XK_JDRQ"] = row["XK_YXQZ"] = _fmt(day, slash)
        if not row["XK_YXQZI"].startswith("2099"):
            row["XK_YXQZI"] = _fmt(_add_months(day, 12 * 5), slash)
    else:
        row["CF_JDRQ"] = _fmt(day, slash)
        row["CF_YXQ"] = _fmt(_add_months(day, 12), slash)
        row["CF_GSJZQ"] = _fmt(_add_months(day, 36), slash)


@_kind("not_future", "any", 0.5, True)
def _k_not_future(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    # the batch's as-of is at most the end of its day (upload times are office hours of the batch day);
    # the stock's as-of is at most its last day
    base = max(up.day, g.future_floor or up.day)
    _set_decided(rec, up, base + dt.timedelta(days=rng.randint(3, 90)))
    return [_rid(rec, "JDRQ", "not_future"), _rid(rec, "SBSJ", "after_jdrq")]


@_kind("sbsj_before", "any", 0.5, True)
def _k_sbsj_before(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    before = rec.decided - dt.timedelta(days=rng.randint(1, 20))
    up.row["SBSJ"] = f"{before:%Y-%m-%d} 10:00:00"
    return [_rid(rec, "SBSJ", "after_jdrq")]


@_kind("yxqzi_order", "xk", 0.6, True)
def _k_yxqzi_order(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    up.row["XK_YXQZI"] = _fmt(_add_months(rec.decided, -12), rec.dept.slash)
    return ["sgs.xk.yxqzi.after_yxqz"]


@_kind("yxq_order", "cf", 0.5, True)
def _k_yxq_order(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    up.row["CF_YXQ"] = _fmt(rec.decided - dt.timedelta(days=rng.randint(1, 30)), rec.dept.slash)
    return ["sgs.cf.yxq.after_jdrq"]


@_kind("gsjzq_order", "cf", 0.4, True)
def _k_gsjzq_order(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    up.row["CF_YXQ"] = _fmt(_add_months(rec.decided, 24), rec.dept.slash)
    up.row["CF_GSJZQ"] = _fmt(_add_months(rec.decided, 12), rec.dept.slash)
    return ["sgs.cf.gsjzq.after_yxq"]


@_kind("gsjzq_window", "cf", 1, True)
def _k_gsjzq_window(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if rng.random() < 0.5:
        up.row["CF_YXQ"] = _fmt(rec.decided, rec.dept.slash)
        up.row["CF_GSJZQ"] = _fmt(_add_months(rec.decided, 1), rec.dept.slash)
    else:
        up.row["CF_GSJZQ"] = _fmt(_add_months(rec.decided, 60), rec.dept.slash)
    return ["sgs.cf.gsjzq.window"]


@_kind("duplicate", "any", 0.8, True)
def _k_duplicate(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    up.dup = True  # the row is written twice; both rows break the rule (see _Generator.write_batch)
    return [_rid(rec, "WSH", "unique")]


def _mobile(rng: random.Random) -> str:
    return rng.choice(("138", "139", "135", "186", "189", "137")) + f"{rng.randrange(10**8):08d}"


@_kind("personal_text", "any", 1.2, True)
def _k_personal_text(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    field = "XK_NR" if rec.table == XK else rng.choice(("CF_SY", "CF_NR"))
    extra = f"（联系电话{_mobile(rng)}）" if rng.random() < 0.5 else f"（当事人身份证号{_citizen_id(rng)}）"
    up.row[field] = up.row[field] + extra
    return [_rid(rec, field, "no_personal_data")]


@_kind("personal_name", "any", 0.3, True)
def _k_personal_name(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if up.party.kind != ORG or not up.party.registered:
        return None
    field = PREFIX[rec.table] + "XDR_MC"
    up.row[field] = up.row[field] + f"（联系人{_mobile(rng)}）"
    return [_rid(rec, "XDR_MC", "no_personal_data"), _rid(rec, "XDR_MC", "matches_registry")]


@_kind("fk_decimal", "cf", 0.8, True)
def _k_fk_decimal(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if not up.row["CF_NR_FK"]:
        return None
    v = up.row["CF_NR_FK"]
    up.row["CF_NR_FK"] = rng.choice((f"{v}万元", f"{v} ", f"¥{v}", "0.1234567"))
    return ["sgs.cf.nr_fk.decimal"]


@_kind("wfff_decimal", "cf", 0.3, True)
def _k_wfff_decimal(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if not up.row["CF_NR_WFFF"]:
        return None
    up.row["CF_NR_WFFF"] = up.row["CF_NR_WFFF"] + "万元"
    return ["sgs.cf.nr_wfff.decimal"]


@_kind("fk_zero", "cf", 0.4, True)
def _k_fk_zero(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if not up.row["CF_NR_FK"]:
        return None
    up.row["CF_NR_FK"] = rng.choice(("0", "0.00"))
    return ["sgs.cf.nr_fk.positive_if_fine"]


@_kind("fine_uncategorised", "cf", 0.4, True)
def _k_fine_uncategorised(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if not up.row["CF_NR_FK"]:
        return None
    rest = [k for k in up.row["CF_CFLB"].split(";") if k != "罚款"]
    up.row["CF_CFLB"] = ";".join(rest) or "警告"
    return ["sgs.cf.nr_fk.implies_fine"]


@_kind("wfff_zero", "cf", 0.2, True)
def _k_wfff_zero(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if not up.row["CF_NR_WFFF"]:
        return None
    up.row["CF_NR_WFFF"] = "0"
    return ["sgs.cf.nr_wfff.positive_if_confiscation"]


@_kind("person_frdb", "any", 0.6, True)
def _k_person_frdb(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if up.party.kind != PERSON:
        return None
    up.row[PREFIX[rec.table] + "FRDB"] = up.party.name
    return [_rid(rec, "XDR_LB", "natural_person_fields")]


@_kind("name_mismatch", "any", 1.2, True)
def _k_name_mismatch(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if not up.party.has_code or not up.party.registered:
        return None
    field = PREFIX[rec.table] + "XDR_MC"
    name = up.party.name
    changed = name.replace("有限公司", "公司", 1) if "有限公司" in name else name.replace(CITY, "东莞", 1)
    if changed == name:
        return None
    up.row[field] = changed
    return [_rid(rec, "XDR_MC", "matches_registry")]


@_kind("unregistered", "any", 0.6, True)
def _k_unregistered(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if up.party.kind != ORG:
        return None
    fake = g.new_party(ORG, rng, registered=False)
    up.party = fake
    g.fill_party(up.row, rec.table, fake)
    return [_rid(rec, "XDR_SHXYM", "in_registry")]


@_kind("clean_name", "any", 1.5, False)
def _k_clean_name(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if up.party.kind == PERSON:
        return None
    field = PREFIX[rec.table] + "XDR_MC"
    name = up.row[field]
    if "（" in name:
        up.row[field] = name.replace("（", "(").replace("）", ")")
    elif rng.random() < 0.5:
        up.row[field] = name + " "
    else:
        up.row[field] = name[:3] + "  " + name[3:]
    return [_rid(rec, "XDR_MC", "clean_text")]


@_kind("unit_wan", "cf", 0.8, False)
def _k_unit_wan(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    if not up.row["CF_NR_FK"]:
        return None
    yuan = Decimal(up.row["CF_NR_FK"]) * 10000
    up.row["CF_NR_FK"] = format(yuan.normalize(), "f")
    return ["sgs.cf.nr_fk.unit_wan"]


@_kind("cites_law", "cf", 0.8, False)
def _k_cites_law(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    up.row["CF_YJ"] = up.row["CF_YJ"].replace("《", "").replace("》", "")
    return ["sgs.cf.yj.cites_law"]


@_kind("yxqz_before", "xk", 0.6, False)
def _k_yxqz_before(g: _Generator, rec: Record, up: Upload, rng: random.Random) -> list[str] | None:
    up.row["XK_YXQZ"] = _fmt(rec.decided - dt.timedelta(days=rng.randint(1, 30)), rec.dept.slash)
    return ["sgs.xk.yxqz.after_jdrq"]


# ------------------------------------------------------------------------------------------------ generator


class _Generator:
    def __init__(self, seed: int, n_depts: int, error_scale: float, progress: bool) -> None:
        if not 1 <= n_depts <= len(DEPARTMENTS):
            raise ValueError(f"districts (departments) must be 1–{len(DEPARTMENTS)}")
        self.seed, self.error_scale, self.progress = seed, error_scale, progress
        self.calendar = WorkdayCalendar()
        rng = random.Random(f"{seed}:departments")
        self.depts = [Dept(i, code, rng) for i, (code, _name) in enumerate(department_codes()[:n_depts])]
        self.rng_parties = random.Random(f"{seed}:parties")
        self.orgs = [self.new_party(ORG, self.rng_parties) for _ in range(1500)]
        self.bizs = [self.new_party(BIZ, self.rng_parties) for _ in range(1200)]
        self.seq: Counter[tuple[str, str, int]] = Counter()
        self.kinds: Counter[str] = Counter()
        self.truth_rows = 0
        self._error_seq = 0
        self.future_floor: dt.date | None = None  # the stock's last day while the stock is generated

    # ----------------------------------------------------------------------------- parties
    def new_party(
        self, kind: str, rng: random.Random, *, registered: bool = True, clrq: dt.date | None = None
    ) -> Party:
        if kind == PERSON:
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
            p = Party(PERSON, name)
            if rng.random() < 0.92:
                p.zjlx, p.zjhm = "身份证", _citizen_id(rng)
            else:
                p.zjlx, p.zjhm = "护照号", f"E{rng.randrange(10**8):08d}"
            return p
        if kind == ORG:
            name = f"{CITY}{rng.choice(BRANDS)}{rng.choice(TRADES)}有限公司"
            if rng.random() < 0.2:
                name += f"（{rng.choice(BRANCHES)}）"
            p = Party(ORG, name)
            p.code = _usc("91", _body8(rng, "M"))
            p.zzjg = p.code[8:17] if rng.random() < 0.5 else ""
            p.frdb = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(2))
            if rng.random() < 0.5:
                p.fr_zjlx, p.fr_zjhm = "身份证", _citizen_id(rng)
        else:
            p = Party(BIZ, f"{CITY}{rng.choice(TOWNS)}{rng.choice(BRANDS)}{rng.choice(SHOPS)}")
            if rng.random() < 0.8:
                p.code = _usc("92", _body8(rng, "L"))
            else:
                p.code, p.gszc = PLACEHOLDER, f"441900600{rng.randrange(10**6):06d}"
        p.clrq = clrq or dt.date(2005, 1, 1) + dt.timedelta(days=rng.randrange(5000))
        p.registered = registered
        return p

    def fill_party(self, row: dict[str, str], table: str, p: Party) -> None:
        x = PREFIX[table]
        row[x + "XDR_MC"] = p.name
        row[x + "XDR_LB"] = p.kind
        row[x + "XDR_SHXYM"] = p.code
        row[x + "XDR_GSZC"] = p.gszc
        row[x + "XDR_ZZJG"] = p.zzjg
        row[x + "FRDB"] = p.frdb
        row[x + "FR_ZJLX"], row[x + "FR_ZJHM"] = p.fr_zjlx, p.fr_zjhm
        row[x + "XDR_ZJLX"], row[x + "XDR_ZJHM"] = p.zjlx, p.zjhm

    def pick_party(
        self, rng: random.Random, kinds: tuple[int, int, int], decided: dt.date, new_ok: bool
    ) -> Party:
        kind = _weighted(rng, [(ORG, kinds[0]), (BIZ, kinds[1]), (PERSON, kinds[2])])
        if kind == PERSON:
            return self.new_party(PERSON, rng)
        if new_ok and rng.random() < NEW_ENTITY_RATE:
            p = self.new_party(kind, rng, clrq=decided - dt.timedelta(days=rng.randint(0, 5)))
            if p.code == PLACEHOLDER:
                return p
            p.lag = rng.randint(3, 12) if self.error_scale > 0 else 0
            return p
        return rng.choice(self.orgs if kind == ORG else self.bizs)

    # ----------------------------------------------------------------------------- records
    def decision_number(self, d: Dept, table: str, decided: dt.date, stock: bool) -> str:
        key = (d.code, table, decided.year)
        self.seq[key] += 1
        n = self.seq[key] + (50000 if stock else 0)
        kind = "许" if table == XK else "罚"
        return f"{d.abbr}{kind}〔{decided.year}〕{n}号"

    def make_record(self, d: Dept, table: str, decided: dt.date, rng: random.Random, stock: bool) -> Record:
        row = dict.fromkeys(FIELDS[table], "")
        key = self.decision_number(d, table, decided, stock)
        if table == XK:
            title, cat, cert, content, prefix, years, kinds = LT[rng.choice(d.xk_t)]
            party = self.pick_party(
                rng, kinds, decided, new_ok=not stock and title.startswith(("设立", "食品"))
            )
            row.update(
                XK_XKWS=title,
                XK_WSH=key,
                XK_XKLB=cat,
                XK_XKZS=cert,
                XK_XKBH=f"{prefix}{rng.randrange(10**7):07d}" if prefix else "",
                XK_NR=content,
                XK_JDRQ=_fmt(decided, d.slash),
                XK_YXQZ=_fmt(decided, d.slash),
                XK_YXQZI="2099/12/31" if years == 0 else _fmt(_add_months(decided, 12 * years), d.slash),
                XK_XKJG=d.name,
                XK_XKJGDM=d.code,
                XK_ZT="1",
                XK_LYDW=d.name,
                XK_LYDWDM=d.code,
            )
        else:
            wfxw, facts, law, cats, kinds = PT[rng.choice(d.cf_t)]
            party = self.pick_party(rng, kinds, decided, new_ok=False)
            cflb = _weighted(rng, list(cats))
            parts, texts = cflb.split(";"), []
            fine = confiscated = 0
            for k in parts:
                if k == "警告":
                    texts.append("给予警告")
                elif k == "通报批评":
                    texts.append("通报批评")
                elif k == "罚款":
                    fine = rng.choice((500, 1000, 2000, 3000, 5000, 10000, 20000, 50000, 100000))
                    texts.append(f"罚款人民币{fine}元")
                elif k == "没收违法所得":
                    n = rng.choice((800, 1500, 3200, 6000))
                    confiscated += n
                    texts.append(f"没收违法所得人民币{n}元")
                elif k == "没收非法财物":
                    n = rng.choice((500, 1200, 2500))
                    confiscated += n
                    texts.append(f"没收非法财物（价值人民币{n}元）")
                elif k == "行政拘留":
                    texts.append("行政拘留五日")
                elif k == "责令停产停业":
                    texts.append("责令停产停业三个月")
                elif k in ("吊销许可证件", "暂扣许可证件"):
                    texts.append(f"{k[:2]}许可证件")
            light = all(k in ("警告", "通报批评") for k in parts)
            row.update(
                CF_WSH=key,
                CF_WFXW=wfxw,
                CF_SY=facts,
                CF_YJ="依据" + law,
                CF_CFLB=cflb,
                CF_NR="；".join(texts),
                CF_NR_FK=_yuan_to_wan(fine) if fine else "",
                CF_NR_WFFF=_yuan_to_wan(confiscated) if confiscated else "",
                CF_NR_ZKDX=f"许可证（编号JY{rng.randrange(10**10):010d}）" if "许可证件" in cflb else "",
                CF_JDRQ=_fmt(decided, d.slash),
                CF_YXQ=_fmt(_add_months(decided, 3 if light else 12), d.slash),
                CF_GSJZQ=_fmt(_add_months(decided, 3 if light else 36), d.slash),
                CF_CFJG=d.name,
                CF_CFJGDM=d.code,
                CF_SJLY=d.name,
                CF_SJLYDM=d.code,
            )
        self.fill_party(row, table, party)
        return Record(d, table, key, decided, party, row)

    def upload(self, rec: Record, day: dt.date, rng: random.Random) -> Upload:
        row = dict(rec.row)
        t = dt.datetime(day.year, day.month, day.day, 8, 30) + dt.timedelta(seconds=rng.randrange(9 * 3600))
        row["SBSJ"] = t.strftime("%Y/%m/%d %H:%M:%S" if rec.dept.sbsj_slash else "%Y-%m-%d %H:%M:%S")
        up = Upload(day, row, rec.party)
        rec.uploads.append(up)
        return up

    def next_error_id(self, tag: str) -> str:
        self._error_seq += 1
        return f"{tag}-{self._error_seq:06d}"

    def inject(self, rec: Record, up: Upload, rng: random.Random, tag: str, stock: bool) -> None:
        """Break the upload with one kind that applies to it (drawn by weight)."""
        options = [
            (name, w)
            for name, (table, w, _crit, in_stock) in KINDS.items()
            if table in ("any", SHORT[rec.table]) and (in_stock or not stock)
        ]
        for _ in range(20):
            name = _weighted(rng, options)
            before = dict(up.row)
            rules = _INJECT[name](self, rec, up, rng)
            if rules:
                up.kind, up.rules, up.critical = name, rules, KINDS[name][2]
                up.error_id = self.next_error_id(tag)
                self.kinds[name] += 1
                return
            up.row = before

    # ----------------------------------------------------------------------------- timeliness
    def workdays_after(self, day: dt.date, n: int) -> dt.date:
        while n > 0:
            day += dt.timedelta(days=1)
            if self.calendar.is_workday(day):
                n -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (counted day by day)."""
        n, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            n += self.calendar.is_workday(day)
        return n

    def first_workday_on_or_after(self, day: dt.date) -> dt.date:
        while not self.calendar.is_workday(day):
            day += dt.timedelta(days=1)
        return day


# ------------------------------------------------------------------------------------------------ writing


def _read_date(text: str) -> dt.date | None:
    if len(text) == 10 and text[4] == text[7] and text[4] in "/-":
        try:
            return dt.date(int(text[:4]), int(text[5:7]), int(text[8:10]))
        except ValueError:
            return None
    return None


def _read_sbsj(text: str) -> dt.date | None:
    return _read_date(text[:10]) if len(text) == 19 and text[10] == " " and text[13] == ":" else None


def _as_of(rows: list[dict[str, str]]) -> str:
    """The toolkit's as-of of a batch: the latest upload time written YYYY-MM-DD HH:MM:SS."""
    best = ""
    for r in rows:
        v = r.get("SBSJ", "")
        if len(v) == 19 and v[4] == "-" and v[10] == " " and v > best:
            best = v
    return best


def _write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow([r.get(c, "") for c in header])


def _register_rows(parties: list[Party], day: dt.date | None, provincial: bool) -> list[dict[str, str]]:
    out, seen = [], set()
    for p in parties:
        if not p.has_code or not p.registered or p.code in seen:
            continue
        if provincial and day is not None and p.provincial_from() > day:
            continue
        seen.add(p.code)
        out.append(
            {
                "TYSHXYDM": p.code,
                "JGMC": p.name,
                "CLRQ": p.clrq.strftime("%Y/%m/%d"),
                "DJJG": "东莞市市场监督管理局",
            }
        )
    return out


def _write_batch(
    g: _Generator, folder: Path, label: str, ups: list[tuple[Record, Upload]], day: dt.date | None, truth: Any
) -> int:
    """Write one batch; return the rows written. Truth rows: each injection's rules and, for incremental
    batches, each upload more than 7 working days after its decision."""
    folder.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[dict[str, str]]] = {XK: [], CF: []}
    placed: list[tuple[Record, Upload, int, str]] = []  # record, upload, row number, table
    for rec, up in ups:
        for _ in range(2 if up.dup else 1):
            rows[rec.table].append(up.row)
            placed.append((rec, up, len(rows[rec.table]) + 1, rec.table))
    parties = [up.party for _, up in ups]
    _write_csv(folder / f"{XK}.csv", FIELDS[XK], rows[XK])
    _write_csv(folder / f"{CF}.csv", FIELDS[CF], rows[CF])
    _write_csv(folder / f"{FRK}.csv", FIELDS[FRK], _register_rows(parties, day, True))
    _write_csv(folder / f"{FRK_BD}.csv", FIELDS[FRK_BD], _register_rows(parties, day, False))
    as_of = _as_of(rows[XK] + rows[CF])
    for _rec, up, row_no, table in placed:
        unit = up.row[PREFIX[table] + ("LYDWDM" if table == XK else "SJLYDM")]
        key = up.row[PREFIX[table] + "WSH"]
        rules = list(up.rules)
        if "sgs.xk.jdrq.not_future" in rules or "sgs.cf.jdrq.not_future" in rules:
            if not as_of:  # no as-of in the batch: the rule has nothing to compare with
                rules = [r for r in rules if not r.endswith("not_future")]
        for rid in rules:
            g.truth_rows += 1
            truth.writerow((label, table, unit, key, row_no, RULES[rid][1], rid, up.error_id))
        if day is not None:  # incremental: the 7-working-day rule, on every upload that can be judged
            decided = _read_date(up.row[PREFIX[table] + "JDRQ"])
            sent = _read_sbsj(up.row["SBSJ"])
            if decided and sent and sent >= decided and g.working_days_between(decided, sent) > WORKING_DAYS:
                rid = f"sgs.{SHORT[table]}.sbsj.within_7wd"
                g.truth_rows += 1
                truth.writerow(
                    (label, table, unit, key, row_no, RULES[rid][1], rid, f"{label}-late-{row_no}-{table}")
                )
    return len(rows[XK]) + len(rows[CF])


# ------------------------------------------------------------------------------------------------ main


def incremental_days(end: dt.date, years: int, days: int | None, calendar: WorkdayCalendar) -> list[dt.date]:
    """The working days that get a batch: the last ``days`` up to ``end`` (default: ``years`` years)."""
    start = _add_months(end, -12 * years) + dt.timedelta(days=1)
    out, day = [], end
    while day >= start and (days is None or len(out) < days):
        if calendar.is_workday(day):
            out.append(day)
        day -= dt.timedelta(days=1)
    return sorted(out)


def _stock(g: _Generator, out: Path, rows: int, end: dt.date, truth: Any) -> dict[str, Any]:
    rng = random.Random(f"{g.seed}:stock")
    g.future_floor = end
    weights = [(d, d.xk_w + d.cf_w) for d in g.depts]
    start = end - dt.timedelta(days=3 * 365)
    ups: list[tuple[Record, Upload]] = []
    errors = 0
    for _ in range(rows):
        d = _weighted(rng, weights)
        table = XK if rng.random() < d.xk_w / (d.xk_w + d.cf_w) else CF
        decided = g.first_workday_on_or_after(
            start + dt.timedelta(days=rng.randrange((end - start).days - 14))
        )
        rec = g.make_record(d, table, decided, rng, stock=True)
        up = g.upload(rec, g.workdays_after(decided, rng.randint(1, 5)), rng)
        if rng.random() < STOCK_RATE * g.error_scale * d.quality:
            g.inject(rec, up, rng, "S", stock=True)
            errors += bool(up.kind)
        ups.append((rec, up))
    n = _write_batch(g, out / "stock", "stock", ups, None, truth)
    g.future_floor = None
    return {"rows": n, "errors": errors}


def _incremental(
    g: _Generator, out: Path, days: list[dt.date], truth: Any, timeliness: Any
) -> dict[str, Any]:
    rng = random.Random(f"{g.seed}:incremental")
    if not days:
        return {"rows": 0, "errors": 0, "records": 0}
    first, last = days[0], days[-1]
    span = max(len(days) - 1, 1)
    position = {d: i for i, d in enumerate(days)}
    schedule: dict[dt.date, list[tuple[Record, Upload]]] = {d: [] for d in days}
    records: list[Record] = []
    xk_total = sum(d.xk_w for d in g.depts) or 1.0
    cf_total = sum(d.cf_w for d in g.depts) or 1.0
    scale = len(g.depts) / len(DEPARTMENTS)
    day = first - dt.timedelta(days=30)  # decisions before the first batch: their uploads fill the early days
    errors = 0
    while day <= last:
        if g.calendar.is_workday(day):
            t = min(max(position.get(day, 0) / span, 0.0), 1.0)
            for d in g.depts:
                for table, lam in (
                    (XK, XK_PER_DAY * scale * d.xk_w / xk_total),
                    (CF, CF_PER_DAY * scale * d.cf_w / cf_total),
                ):
                    for _ in range(_poisson(rng, lam)):
                        rec = g.make_record(d, table, day, rng, stock=False)
                        errors += _plan(g, rec, rng, t, schedule, last)
                        records.append(rec)
        day += dt.timedelta(days=1)
    n_rows = 0
    for i, batch_day in enumerate(days):
        ups = schedule[batch_day]
        order = {d.code: d.index for d in g.depts}
        ups.sort(key=lambda ru: (order[ru[0].dept.code], ru[0].table))
        label = f"incremental/{batch_day.isoformat()}"
        n_rows += _write_batch(g, out / "incremental" / batch_day.isoformat(), label, ups, batch_day, truth)
        if g.progress and (i + 1) % 100 == 0:
            print(f"sgs sample: {i + 1}/{len(days)} batches", flush=True)
    for rec in records:
        ups = [u for u in rec.uploads if first <= u.day <= last]
        if not ups:
            continue
        accepted = next((u for u in ups if not u.critical and not u.lag), None)
        decided: dt.date | None = rec.decided
        if accepted is None:  # what the uploads say: the last readable decision date, if any
            seen = [x for x in (_read_date(u.row[PREFIX[rec.table] + "JDRQ"]) for u in ups) if x is not None]
            decided = seen[-1] if seen else None
        if accepted is not None:
            status = "timely" if accepted.day <= g.workdays_after(rec.decided, WORKING_DAYS) else "late"
        elif decided is not None and g.workdays_after(decided, WORKING_DAYS + 1) <= last:
            status = "late"
        else:
            status = "pending"
        timeliness.writerow(
            (
                rec.dept.code,
                rec.table,
                rec.key,
                rec.decided.isoformat(),
                ups[0].day.isoformat(),
                accepted.day.isoformat() if accepted else "",
                status,
            )
        )
    return {"rows": n_rows, "errors": errors, "records": len(records)}


def _plan(
    g: _Generator,
    rec: Record,
    rng: random.Random,
    t: float,
    schedule: dict[dt.date, list[tuple[Record, Upload]]],
    last: dt.date,
) -> int:
    """Plan a record's uploads: the first (maybe late, maybe broken), and the corrected re-upload after a
    rejection. Only uploads on batch days are kept. Returns the number of injected errors."""
    q = rec.dept.quality
    late = rng.random() < LATE_RATE * min(g.error_scale, 1.0) * q * (1 - 0.85 * t)
    k = rng.randint(8, 16) if late else min(_poisson(rng, 1.2), 6)
    day = g.workdays_after(rec.decided, k)
    errors = 0
    while day <= last:
        up = g.upload(rec, day, rng)
        if day in schedule:
            schedule[day].append((rec, up))
        p = rec.party
        lagging = p.has_code and p.registered and p.lag > 0 and p.provincial_from() > day
        if lagging:  # the provincial register does not have it yet: rejected, not the department's fault
            up.lag, up.critical = True, True
            up.rules = [
                f"sgs.{SHORT[rec.table]}.xdr_shxym.in_registry",
                f"sgs.{SHORT[rec.table]}.xdr_shxym.registry_lag",
            ]
            up.error_id = g.next_error_id("L")
            g.kinds["registry_lag"] += 1
        elif len(rec.uploads) == 1 and rng.random() < BASE_RATE * g.error_scale * q * (1 - 0.75 * t):
            g.inject(rec, up, rng, "E", stock=False)
            errors += bool(up.kind)
        if not up.critical:
            return errors
        if rng.random() < NEVER_FIXED * q:
            return errors
        # the department re-uploads the corrected record (after a register lag: once the register has it)
        delay = 1 + _poisson(rng, 2.5 * q * (1 - 0.6 * t))
        day = g.workdays_after(day, delay)
        if up.lag:
            day = max(
                day, g.first_workday_on_or_after(p.provincial_from() + dt.timedelta(days=rng.randint(0, 2)))
            )
    return errors


def generate(
    out: Path,
    *,
    seed: int = 42,
    districts: int = len(DEPARTMENTS),
    days: int | None = None,
    stock_rows: int = 20000,
    end: dt.date = dt.date(2024, 12, 31),
    years: int = 2,
    progress: bool = False,
    error_scale: float = 1.0,
    incremental: bool = True,
) -> dict[str, Any]:
    """Write the sample (see the module docstring) into ``out`` and return a summary.

    ``districts``: the number of departments (the largest first; at most 30). ``days``: only the last
    ``days`` working days up to ``end`` get a batch (default: all working days of the last ``years``
    years). ``error_scale`` multiplies every error rate (0: clean data). ``incremental=False`` writes the
    stock batch only.
    """
    out = Path(out)
    if isinstance(end, str):
        end = dt.date.fromisoformat(end)
    if stock_rows < 0 or years < 1 or (days is not None and days < 0) or error_scale < 0:
        raise ValueError("stock_rows, days and error_scale must be ≥ 0 and years ≥ 1")
    out.mkdir(parents=True, exist_ok=True)
    g = _Generator(seed, districts, error_scale, progress)
    with (out / "departments.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(("unit_code", "unit_name", "quality", "date_spelling"))
        for d in g.depts:
            w.writerow((d.code, d.name, f"{d.quality:.2f}", "YYYY/MM/DD" if d.slash else "YYYY-MM-DD"))
    batch_days = incremental_days(end, years, days, g.calendar) if incremental else []
    inc_root = out / "incremental"
    if inc_root.is_dir():  # batches of an earlier, longer run would otherwise remain
        keep = {d.isoformat() for d in batch_days}
        for p in inc_root.iterdir():
            if p.is_dir() and p.name not in keep:
                for f in p.iterdir():
                    f.unlink()
                p.rmdir()
    with (
        (out / "truth.csv").open("w", encoding="utf-8-sig", newline="") as fh,
        (out / "timeliness.csv").open("w", encoding="utf-8-sig", newline="") as th,
    ):
        truth = csv.writer(fh, lineterminator="\n")
        truth.writerow(TRUTH_COLUMNS)
        tw = csv.writer(th, lineterminator="\n")
        tw.writerow(TIMELINESS_COLUMNS)
        stock = _stock(g, out, stock_rows, end, truth)
        inc = _incremental(g, out, batch_days, truth, tw)
    return {
        "out": str(out),
        "seed": seed,
        "departments": [{"unit_code": d.code, "unit_name": d.name, "quality": d.quality} for d in g.depts],
        "batches": 1 + len(batch_days),
        "rows": {"stock": stock["rows"], "incremental": inc["rows"]},
        "errors": {
            "stock": stock["errors"],
            "incremental": inc["errors"],
            "by_kind": dict(sorted(g.kinds.items())),
        },
        "records": inc.get("records", 0),
        "truth_rows": g.truth_rows,
        "summary": f"{CITY} {len(g.depts)} 个部门 / departments, 存量 / stock {stock['rows']:,} 条, "
        f"增量 / incremental {len(batch_days)} 天 / days {inc['rows']:,} 条, "
        f"注入错误 / errors injected {stock['errors'] + inc['errors']:,}",
    }
