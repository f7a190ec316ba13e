"""随机抽查 / reproducible random audit of registrations (``dq audit``).

Registrations of a batch are sampled per district, stratified by registration type (``DJLX``):
proportional allocation, at least one registration of every type present (:func:`allocate`). The draw
depends only on the seed and the data — not on the order of the rows in the files nor on the machine —
so a checklist can be reproduced and verified later: within each district × type the rows are ordered
by (table, 业务号, row) and drawn with :class:`random.Random` seeded with ``"<seed>:<district>:<type>"``.

The checklist is an XLSX workbook for the inspector: one row per sampled registration (序号, 区县, 业务号,
不动产单元号, 登记类型, 登记时间, …, personal data masked), one column per check item (是 / 否 / 不适用)
and blank columns 核查结果 / 问题描述 / 核查人 / 日期; a second sheet records the seed, the population and
the sample of every stratum. What is sampled and checked is domain data: ``expectations/<domain>/audit.yaml``.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.common_problems import district_name, safe_value
from toolkit.errors import ConfigError, InputError
from toolkit.masking import Masker
from toolkit.yamlfile import load_yaml

__all__ = ["AuditResult", "allocate", "draw_sample", "load_audit_config", "run_audit", "write_checklist"]

EMPTY_STRATUM = "（空）"


def allocate(population: Mapping[str, int], size: int) -> dict[str, int]:
    """Sample size per stratum: proportional to ``population``, at least 1 for every stratum present,
    never more than the stratum has.

    Strata whose proportional quota is below 1 get exactly 1; the rest of the sample is shared among the
    other strata in proportion to their size (repeated until no quota is below 1), by largest remainders
    (ties: the larger stratum, then the code). ``size`` is raised to the number of strata when smaller; a
    district with no more than ``size`` rows is taken whole."""
    strata = {str(k): int(v) for k, v in population.items() if int(v) > 0}
    total = sum(strata.values())
    if size >= total:
        return dict(strata)
    size = max(size, len(strata))
    fixed: dict[str, int] = {}
    free = dict(strata)
    while free:
        rest = size - len(fixed)
        pool = sum(free.values())
        small = [k for k, n in free.items() if rest * n / pool < 1]
        if not small:
            break
        for k in small:
            fixed[k] = 1
            del free[k]
    rest = size - len(fixed)
    pool = sum(free.values()) or 1
    quota = {k: rest * n / pool for k, n in free.items()}
    alloc = {k: min(free[k], math.floor(q)) for k, q in quota.items()}
    while sum(alloc.values()) < rest:
        open_ = [k for k in alloc if alloc[k] < free[k]]
        if not open_:
            break
        k = max(open_, key=lambda k: (quota[k] - alloc[k], free[k], k))
        alloc[k] += 1
    out = {**fixed, **alloc}
    while sum(out.values()) < size:  # only when the large strata are exhausted
        k = max((k for k in out if out[k] < strata[k]), key=lambda k: (strata[k] - out[k], k))
        out[k] += 1
    return {k: out[k] for k in strata}


def load_audit_config(domain) -> dict[str, Any]:
    path = Path(domain.path) / "audit.yaml"
    if not path.exists():
        raise ConfigError("该领域没有抽查配置 audit.yaml。", "this domain has no audit.yaml.", path=path)
    cfg = load_yaml(path) or {}
    for key in ("tables", "district", "stratum", "columns"):
        if key not in cfg:
            raise ConfigError(f"audit.yaml 缺少 {key}。", f"audit.yaml lacks {key}.", path=path)
    return cfg


@dataclass
class AuditResult:
    sample: pd.DataFrame
    """The sampled registrations, masked, in checklist order (district, type, table, 业务号)."""
    strata: pd.DataFrame
    """区县代码, 区县名称, 登记类型, 总体 (population), 抽取 (sample) per district × type."""
    seed: int
    size: int
    batch: Path
    config: dict[str, Any]


def _registrations(batch, cfg: Mapping[str, Any], domain) -> pd.DataFrame:
    from toolkit.loading import ROW_COLUMN

    dcol, scol = cfg["district"], cfg["stratum"]
    frames = []
    for table in cfg["tables"]:
        if table not in batch.tables:
            continue
        f = batch.tables[table].frame
        cols = [c for c in dict.fromkeys([*cfg["columns"], dcol, scol, ROW_COLUMN]) if c in f.columns]
        part = f[cols].copy()
        for c in [*cfg["columns"], dcol, scol]:
            if c not in part.columns:
                part[c] = None
        part["_TABLE"] = table
        frames.append(part)
    if not frames:
        raise InputError(
            f"批次中没有可抽查的登记表（{', '.join(cfg['tables'])}）。",
            f"the batch holds none of the tables to sample ({', '.join(cfg['tables'])}).",
            path=batch.folder,
        )
    reg = pd.concat(frames, ignore_index=True)
    reg[dcol] = reg[dcol].fillna("").astype(str)
    reg[scol] = reg[scol].fillna(EMPTY_STRATUM).astype(str)
    return reg


def draw_sample(
    registrations: pd.DataFrame, *, size: int, seed: int, district: str = "QXDM", stratum: str = "DJLX"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(sample rows, allocation table) from a frame with the district and stratum columns (see module
    docstring for why the draw is reproducible)."""
    row_col = "_ROW" if "_ROW" in registrations.columns else None
    picked = []
    strata = []
    for d, dframe in registrations.groupby(district, sort=True):
        pop = dframe[stratum].value_counts().to_dict()
        alloc = allocate(pop, size)
        for s in sorted(pop):
            rows = dframe[dframe[stratum] == s]
            keys = ["_TABLE", "YWH"] if "_TABLE" in rows.columns and "YWH" in rows.columns else []
            if row_col:
                rows = rows.assign(_ORD=pd.to_numeric(rows[row_col], errors="coerce"))
                keys.append("_ORD")
            rows = rows.sort_values(keys, kind="mergesort", na_position="last") if keys else rows
            n = alloc.get(s, 0)
            rng = random.Random(f"{seed}:{d}:{s}")
            idx = sorted(rng.sample(range(len(rows)), n))
            picked.append(rows.iloc[idx])
            strata.append({"区县代码": d, "登记类型": s, "总体": len(rows), "抽取": n})
    sample = pd.concat(picked, ignore_index=True) if picked else registrations.iloc[0:0]
    return sample.drop(columns=["_ORD"], errors="ignore"), pd.DataFrame(strata)


def run_audit(
    batch_dir: str | Path,
    *,
    domain: str | Any = "bdc",
    size: int | None = None,
    seed: int = 42,
) -> AuditResult:
    """Load ``batch_dir`` and draw the sample (masked)."""
    from toolkit.domain import Domain, load_domain
    from toolkit.loading import load_batch

    dom = domain if isinstance(domain, Domain) else load_domain(domain)
    cfg = load_audit_config(dom)
    size = int(size if size is not None else cfg.get("per_district", 10))
    if size < 1:
        raise ConfigError("抽样数量必须至少为 1。", "the sample size must be at least 1.")
    wanted = {t: [] for t in cfg["tables"]}
    holders = cfg.get("holders") or {}
    if holders.get("table"):
        wanted[holders["table"]] = []
    batch = load_batch(batch_dir, wanted)
    reg = _registrations(batch, cfg, dom)
    sample, strata = draw_sample(reg, size=size, seed=seed, district=cfg["district"], stratum=cfg["stratum"])

    # masked holders' names
    if holders.get("table") in batch.tables and len(sample):
        hf = batch.tables[holders["table"]].frame
        key, name = holders.get("key", "YWH"), holders.get("name")
        if key in hf.columns and name in hf.columns:
            pii = dom.pii_fields()
            names = (
                hf.dropna(subset=[key])
                .groupby(key)[name]
                .apply(lambda s: "、".join(safe_value(v, pii.get(name, "name")) for v in s.dropna()))
            )
            sample[holders.get("label", "权利人")] = sample["YWH"].map(names).fillna("")
    # mask personal fields and scrub every other text (an ID typed into an address …), label codes
    masker = Masker.for_frames(dom.pii_fields(), [t.frame for t in batch.tables.values()], dom.key_fields())
    for c in cfg["columns"]:
        if c in sample.columns and sample[c].dtype == object:
            sample[c] = [masker.value(c, v) for v in sample[c]]
    strata.insert(1, "区县名称", [district_name(d) for d in strata["区县代码"]])
    return AuditResult(sample=sample, strata=strata, seed=seed, size=size, batch=Path(batch_dir), config=cfg)


def _code_label(dom, table: str, fld: str, value: Any) -> str:
    if value is None or value == "" or value == EMPTY_STRATUM:
        return EMPTY_STRATUM
    spec = dom.tables.get(table, {}).get("fields", {}).get(fld, {})
    codes = dom.code_lists.get(spec.get("codes", ""), {})
    label = codes.get(str(value))
    return f"{value} {label}" if label else str(value)


def write_checklist(
    result: AuditResult, out_dir: str | Path, *, domain: str | Any = "bdc", name: str = "audit_checklist.xlsx"
) -> Path:
    """Write the inspector's checklist; return its path."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    from toolkit.domain import Domain, load_domain
    from toolkit.report import xlsx_writer

    dom = domain if isinstance(domain, Domain) else load_domain(domain)
    cfg = result.config
    dcol, scol = cfg["district"], cfg["stratum"]
    s = result.sample
    checks = list(cfg.get("checks") or [])
    results = list(cfg.get("results") or ["合格", "不合格"])
    holder_label = (cfg.get("holders") or {}).get("label", "权利人")
    rows = []
    for i, r in enumerate(s.to_dict("records"), start=1):
        rec: dict[str, Any] = {"序号": i, "区县": f"{r[dcol]} {district_name(r[dcol])}".strip()}
        for fld, header in cfg["columns"].items():
            if fld == scol:
                rec[header] = _code_label(dom, r["_TABLE"], fld, r.get(fld))
            else:
                rec[header] = r.get(fld) if r.get(fld) is not None else ""
        rec["来源表"] = dom.table_label(r["_TABLE"])
        if holder_label in r:
            rec[holder_label] = r[holder_label]
        for c in checks:
            rec[c] = None
        rec.update({"核查结果": None, "问题描述": None, "核查人": None, "日期": None})
        rows.append(rec)
    columns = ["序号", "区县", *cfg["columns"].values(), "来源表"]
    if holder_label in s.columns:
        columns.append(holder_label)
    columns += [*checks, "核查结果", "问题描述", "核查人", "日期"]
    frame = pd.DataFrame(rows, columns=columns)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    generated = dt.datetime.now().replace(microsecond=0)
    with xlsx_writer(path) as book:
        ws = book.add_table(
            "抽查清单",
            frame,
            title=f"{dom.config.get('label_zh', '')}随机抽查核查表",
            note=(
                f"批次 {result.batch.name}　随机种子 {result.seed}　每区县 {result.size} 件（按登记类型分层，"
                f"每类至少 1 件）　共 {len(frame)} 件　生成时间 {generated:%Y-%m-%d %H:%M}　个人信息已脱敏"
            ),
            widths={
                "区县": 16,
                "业务号": 24,
                "不动产单元号": 31,
                "登记类型": 12,
                "登记时间": 19,
                "受理时间": 19,
                "问题描述": 36,
                "核查人": 10,
                "日期": 12,
                "核查结果": 10,
                holder_label: 14,
                **{c: 9 for c in checks},
            },
        )
        header_row = 3
        first, last = header_row + 1, header_row + max(len(frame), 1)
        from openpyxl.utils import get_column_letter

        def col_of(title: str) -> str:
            return get_column_letter(columns.index(title) + 1)

        if checks:
            yes_no = DataValidation(type="list", formula1='"是,否,不适用"', allow_blank=True)
            yes_no.prompt, yes_no.promptTitle = "填写 是 / 否 / 不适用", "检查项"
            ws.add_data_validation(yes_no)
            yes_no.add(f"{col_of(checks[0])}{first}:{col_of(checks[-1])}{last}")
        verdict = DataValidation(type="list", formula1='"' + ",".join(results) + '"', allow_blank=True)
        ws.add_data_validation(verdict)
        verdict.add(f"{col_of('核查结果')}{first}:{col_of('核查结果')}{last}")
        date_dv = DataValidation(type="date", operator="greaterThan", formula1="36526", allow_blank=True)
        date_dv.error = "请填写日期，如 2025-01-15"
        ws.add_data_validation(date_dv)
        date_dv.add(f"{col_of('日期')}{first}:{col_of('日期')}{last}")
        for row in ws.iter_rows(min_row=first, max_row=last):
            for c in row:
                c.alignment = Alignment(vertical="center", wrap_text=c.alignment.wrap_text)
            row[columns.index("日期")].number_format = "yyyy-mm-dd"
        ws.row_dimensions[header_row].height = 32
        ws.cell(row=1, column=1).font = Font(bold=True, size=14)
        ws.freeze_panes = ws.cell(row=header_row + 1, column=3)

        strata = result.strata.rename(columns={"登记类型": "登记类型代码"})
        strata.insert(
            3, "登记类型", [_code_label(dom, cfg["tables"][0], scol, v) for v in strata["登记类型代码"]]
        )
        book.add_table(
            "抽样说明",
            strata,
            title="抽样框与抽样数量（可据此复核抽样）",
            note=(
                f"方法：每个区县按登记类型分层，按各类件数比例分配（最大余数法），每类至少 1 件；区县件数不超过 "
                f"{result.size} 件时全部抽取。同一批次、同一随机种子（{result.seed}）得到同一份清单。"
            ),
        )
    return path
