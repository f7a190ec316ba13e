"""随机抽查 / reproducible random audit of registrations (``dq audit``).

Registrations of a batch are sampled **per unit of assessment** (the pack's unit,
:attr:`toolkit.domain.Domain.unit`: its code column in each table, :meth:`~toolkit.domain.Unit.column_of`),
stratified by the field that ``audit.yaml`` names (``stratum``, e.g. the registration type): proportional
allocation, at least one registration of every stratum present (:func:`allocate`). The draw depends only
on the seed and the data — not on the order of the rows in the files nor on the machine — so a checklist
can be reproduced and verified later: within each unit × stratum the rows are ordered by (table, the
table's record key — :meth:`~toolkit.domain.Domain.record_key` —, row) and drawn with
:class:`random.Random` seeded with ``"<seed>:<unit code>:<stratum>"``.

The checklist is an XLSX workbook for the inspector (written through :mod:`toolkit.render`): one row per
sampled registration (序号, the unit — labelled as the pack labels it, e.g. 区县 or 机构 —, the columns
``audit.yaml`` lists, the source table, the holders' masked names), one column per check item
(是 / 否 / 不适用) and blank columns 核查结果 / 问题描述 / 核查人 / 日期; a second sheet records the seed, the
population and the sample of every stratum. Personal data is masked (:class:`toolkit.masking.Masker`).

What is sampled and checked is pack data, ``<pack>/audit.yaml``: ``tables`` (sampled), ``stratum``,
``per_unit`` (default sample size per unit; ``per_district`` is read too), ``columns`` (field → checklist
header), ``holders`` (``table``, ``key`` — the column joining them to a registration —, ``name``,
``label``), ``checks``, ``results``. A ``district`` key is no longer needed (the unit comes from
``domain.yaml``); one naming another column than the unit's is refused.
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

from toolkit.errors import ConfigError, InputError
from toolkit.masking import Masker
from toolkit.yamlfile import load_yaml

__all__ = ["AuditResult", "allocate", "draw_sample", "load_audit_config", "run_audit", "write_checklist"]

EMPTY_STRATUM = "（空）"
UNIT, UNIT_NAME, TABLE = "unit_code", "unit_name", "_TABLE"


def allocate(population: Mapping[str, int], size: int) -> dict[str, int]:
    """Sample size per stratum: proportional to ``population``, at least 1 for every stratum present,
    never more than the stratum has.

    Strata whose proportional quota is below 1 get exactly 1; the rest of the sample is shared among the
    other strata in proportion to their size (repeated until no quota is below 1), by largest remainders
    (ties: the larger stratum, then the code). ``size`` is raised to the number of strata when smaller; a
    unit with no more than ``size`` rows is taken whole."""
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
    """``<pack>/audit.yaml``, checked against the pack (tables, fields, the holders' join column)."""
    path = Path(domain.path) / "audit.yaml"
    if not path.exists():
        raise ConfigError(
            "该领域包没有抽查配置 audit.yaml。",
            "this domain pack has no audit.yaml.",
            path=path,
            fix_zh="在领域包中写一个 audit.yaml（tables、stratum、columns 等，见 toolkit/audit.py 开头的说明）。",
            fix_en="add an audit.yaml to the pack (tables, stratum, columns …; see toolkit/audit.py).",
        )
    cfg = load_yaml(path) or {}
    if not isinstance(cfg, dict):
        raise ConfigError("audit.yaml 应为映射。", "audit.yaml must be a mapping.", path=path)
    for key in ("tables", "stratum", "columns"):
        if key not in cfg:
            raise ConfigError(
                f"audit.yaml 缺少 {key}。",
                f"audit.yaml lacks {key}.",
                path=path,
                fix_zh="必须写明 tables（抽取哪些表）、stratum（分层字段）和 columns（清单列）。",
                fix_en="tables (what is sampled), stratum (the field to stratify by) and columns are required.",
            )
    unknown = [t for t in cfg["tables"] if t not in domain.tables]
    if unknown:
        raise ConfigError(
            f"audit.yaml 的 tables 中有数据字典没有的表：{', '.join(map(str, unknown))}。",
            f"audit.yaml names tables the dictionary lacks: {', '.join(map(str, unknown))}.",
            path=path,
            fix_zh=f"可用的表：{', '.join(domain.tables)}",
            fix_en=f"tables of the pack: {', '.join(domain.tables)}",
        )
    columns = {domain.unit.column_of(t) for t in cfg["tables"]}
    if cfg.get("district") is not None and str(cfg["district"]) not in columns:
        raise ConfigError(
            f"audit.yaml 的 district（{cfg['district']}）与领域包的考核对象列（{', '.join(sorted(columns))}）不一致。",
            f"audit.yaml's district ({cfg['district']}) is not the pack's unit column "
            f"({', '.join(sorted(columns))}).",
            path=path,
            fix_zh="删除 district：抽查按 domain.yaml 的 unit 分组。",
            fix_en="remove district: the audit samples per unit as domain.yaml declares it.",
        )
    holders = cfg.get("holders") or {}
    if holders and not (holders.get("table") and holders.get("key") and holders.get("name")):
        raise ConfigError(
            "audit.yaml 的 holders 应写明 table、key（与登记关联的列）和 name。",
            "audit.yaml's holders needs table, key (the column joining them to a registration) and name.",
            path=path,
        )
    size = cfg.get("per_unit", cfg.get("per_district", 10))
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ConfigError(
            "audit.yaml 的 per_unit 应为正整数。",
            "audit.yaml's per_unit must be a positive integer.",
            path=path,
        )
    return {**cfg, "per_unit": size}


@dataclass
class AuditResult:
    sample: pd.DataFrame
    """The sampled registrations, masked, in checklist order (unit, stratum, table, record key); the unit
    as ``unit_code`` / ``unit_name``, the source table as ``_TABLE``."""
    strata: pd.DataFrame
    """Per unit × stratum: <unit>代码, <unit>名称, <stratum label>, 总体 (population), 抽取 (sample) — the
    unit and the stratum labelled as the pack labels them (e.g. 区县代码, 区县名称, 登记类型)."""
    seed: int
    size: int
    batch: Path
    config: dict[str, Any]
    domain: Any = None


def _stratum_label(dom, cfg: Mapping[str, Any]) -> str:
    return dom.field_label(cfg["tables"][0], cfg["stratum"])


def _key_columns(dom, tables: list[str]) -> list[str]:
    """The record-key columns of the sampled tables, in order (they order rows before the draw)."""
    return list(dict.fromkeys(c for t in tables for c in dom.record_key(t)))


def _registrations(batch, cfg: Mapping[str, Any], dom) -> pd.DataFrame:
    from toolkit.loading import ROW_COLUMN

    scol = cfg["stratum"]
    keys = _key_columns(dom, list(cfg["tables"]))
    hkey = (cfg.get("holders") or {}).get("key")
    frames = []
    for table in cfg["tables"]:
        if table not in batch.tables:
            continue
        f = batch.tables[table].frame
        ucol = dom.unit.column_of(table)
        wanted = [*cfg["columns"], *keys, *([hkey] if hkey else []), scol]
        cols = [c for c in dict.fromkeys([*wanted, ROW_COLUMN]) if c in f.columns]
        part = f[cols].copy()
        for c in wanted:
            if c not in part.columns:
                part[c] = None
        part[UNIT] = f[ucol] if ucol in f.columns else None
        part[TABLE] = table
        frames.append(part)
    if not frames:
        raise InputError(
            f"批次中没有可抽查的登记表（{', '.join(cfg['tables'])}）。",
            f"the batch holds none of the tables to sample ({', '.join(cfg['tables'])}).",
            path=batch.folder,
            fix_zh="请确认批次目录正确，且包含 audit.yaml 的 tables 所列的表。",
            fix_en="check the batch folder: it must hold the tables listed under tables in audit.yaml.",
        )
    reg = pd.concat(frames, ignore_index=True)
    reg[UNIT] = reg[UNIT].fillna("").astype(str)
    reg[scol] = reg[scol].fillna(EMPTY_STRATUM).astype(str)
    return reg


def draw_sample(
    registrations: pd.DataFrame,
    *,
    size: int,
    seed: int,
    unit: str = UNIT,
    stratum: str,
    keys: list[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(sample rows, allocation table) from a frame with the ``unit`` and ``stratum`` columns: per unit and
    stratum the rows are ordered by (``_TABLE``, ``keys``, row) and drawn reproducibly (module docstring).
    The allocation table has the columns ``unit``, ``stratum``, 总体, 抽取."""
    row_col = "_ROW" if "_ROW" in registrations.columns else None
    order = [c for c in [TABLE, *(keys or [])] if c in registrations.columns]
    picked = []
    strata = []
    for d, dframe in registrations.groupby(unit, sort=True):
        pop = dframe[stratum].value_counts().to_dict()
        alloc = allocate(pop, size)
        for s in sorted(pop):
            rows = dframe[dframe[stratum] == s]
            by = list(order)
            if row_col:
                rows = rows.assign(_ORD=pd.to_numeric(rows[row_col], errors="coerce"))
                by.append("_ORD")
            rows = rows.sort_values(by, kind="mergesort", na_position="last") if by else rows
            n = alloc.get(s, 0)
            rng = random.Random(f"{seed}:{d}:{s}")
            idx = sorted(rng.sample(range(len(rows)), n))
            picked.append(rows.iloc[idx])
            strata.append({unit: d, stratum: s, "总体": len(rows), "抽取": n})
    sample = pd.concat(picked, ignore_index=True) if picked else registrations.iloc[0:0]
    return sample.drop(columns=["_ORD"], errors="ignore"), pd.DataFrame(
        strata, columns=[unit, stratum, "总体", "抽取"]
    )


def run_audit(
    batch_dir: str | Path,
    *,
    domain: Any,
    size: int | None = None,
    seed: int = 42,
) -> AuditResult:
    """Load ``batch_dir`` and draw the sample (masked). ``domain``: a :class:`~toolkit.domain.Domain` or a
    pack's name or folder."""
    from toolkit.check import unit_names
    from toolkit.domain import Domain, load_domain
    from toolkit.loading import load_batch

    dom = domain if isinstance(domain, Domain) else load_domain(domain)
    cfg = load_audit_config(dom)
    size = int(size if size is not None else cfg["per_unit"])
    if size < 1:
        raise ConfigError(
            "抽样数量必须至少为 1。",
            "the sample size must be at least 1.",
            fix_zh="--size 写正整数。",
            fix_en="give --size a positive integer.",
        )
    wanted: dict[str, list[str]] = {t: [] for t in cfg["tables"]}
    holders = cfg.get("holders") or {}
    if holders.get("table"):
        wanted[holders["table"]] = []
    batch = load_batch(batch_dir, wanted)
    frames = {t: loaded.frame for t, loaded in batch.tables.items()}
    reg = _registrations(batch, cfg, dom)
    keys = _key_columns(dom, list(cfg["tables"]))
    sample, strata = draw_sample(reg, size=size, seed=seed, stratum=cfg["stratum"], keys=keys)
    masker = Masker.for_frames(dom.pii_fields(), list(frames.values()), dom.key_fields())

    # the holders' masked names, joined on the holders' key column
    label = holders.get("label", "权利人")
    if holders.get("table") in batch.tables and len(sample):
        hf = frames[holders["table"]]
        key, name = holders["key"], holders["name"]
        if key in hf.columns and name in hf.columns and key in sample.columns:
            names_masker = Masker(
                {name: dom.pii_fields().get(name, "name")}, masker.names, masker.exempt
            )  # a holder's name is masked as a name even if the dictionary does not say so
            names = (
                hf.dropna(subset=[key])
                .groupby(key)[name]
                .apply(lambda s: "、".join(str(names_masker.value(name, v)) for v in s.dropna()))
            )
            sample[label] = sample[key].map(names).fillna("")
    # mask personal fields and scrub every other text (an ID typed into an address …)
    for c in cfg["columns"]:
        if c in sample.columns and sample[c].dtype == object:
            sample[c] = [masker.value(c, v) for v in sample[c]]
    codes = sorted(set(reg[UNIT]))
    names_of = unit_names(dom, frames, codes)
    sample.insert(
        list(sample.columns).index(UNIT) + 1,
        UNIT_NAME,
        [masker.text(names_of.get(c, "")) for c in sample[UNIT]],
    )
    sample[UNIT] = [masker.text(c) for c in sample[UNIT]]
    ulabel = dom.unit.label_zh
    strata.insert(1, f"{ulabel}名称", [masker.text(names_of.get(c, "")) for c in strata[UNIT]])
    strata[UNIT] = [masker.text(c) for c in strata[UNIT]]
    strata = strata.rename(columns={UNIT: f"{ulabel}代码", cfg["stratum"]: _stratum_label(dom, cfg)})
    return AuditResult(
        sample=sample, strata=strata, seed=seed, size=size, batch=Path(batch_dir), config=cfg, domain=dom
    )


def _code_label(dom, table: str, fld: str, value: Any) -> str:
    if value is None or value == "" or value == EMPTY_STRATUM:
        return EMPTY_STRATUM
    spec = dom.tables.get(table, {}).get("fields", {}).get(fld, {})
    codes = dom.code_lists.get(spec.get("codes", ""), {})
    label = codes.get(str(value))
    return f"{value} {label}" if label else str(value)


def _checklist_columns(dom, cfg: Mapping[str, Any]) -> dict[str, str]:
    """``audit.yaml`` ``columns`` (field → header) without the unit's own code and name fields (the unit
    column shows both); a header equal to one of the checklist's fixed headers gets its field added."""
    unit = dom.unit
    own = {unit.column_of(t) for t in cfg["tables"]}
    if unit.names.startswith("column:"):
        own.add(unit.names.split(":", 1)[1])
    fixed = {"序号", unit.label_zh, "来源表", "核查结果", "问题描述", "核查人", "日期"}
    out: dict[str, str] = {}
    for fld, header in cfg["columns"].items():
        if fld in own:
            continue
        header = str(header)
        out[str(fld)] = f"{header}（{fld}）" if header in fixed or header in out.values() else header
    return out


def write_checklist(
    result: AuditResult,
    out_dir: str | Path,
    *,
    domain: Any = None,
    name: str = "audit_checklist.xlsx",
) -> Path:
    """Write the inspector's checklist; return its path. ``domain``: the pack (default: the result's)."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from toolkit.domain import Domain, load_domain
    from toolkit.render import xlsx_writer

    if domain is None:
        domain = result.domain
    if domain is None:
        raise ConfigError(
            "写抽查清单需要领域包。",
            "the checklist needs the domain pack.",
            fix_zh="传入 domain（领域包名称或目录）。",
            fix_en="pass domain= (the pack's name or folder).",
        )
    dom = domain if isinstance(domain, Domain) else load_domain(domain)
    cfg = result.config
    scol = cfg["stratum"]
    slabel = _stratum_label(dom, cfg)
    ulabel = dom.unit.label_zh
    s = result.sample
    checks = [str(c) for c in cfg.get("checks") or []]
    results = [str(r) for r in cfg.get("results") or ["合格", "不合格"]]
    holder_label = (cfg.get("holders") or {}).get("label", "权利人")
    shown = _checklist_columns(dom, cfg)
    rows = []
    for i, r in enumerate(s.to_dict("records"), start=1):
        rec: dict[str, Any] = {"序号": i, ulabel: f"{r[UNIT]} {r.get(UNIT_NAME) or ''}".strip()}
        for fld, header in shown.items():
            if fld == scol:
                rec[header] = _code_label(dom, r[TABLE], fld, r.get(fld))
            else:
                rec[header] = r.get(fld) if r.get(fld) is not None else ""
        rec["来源表"] = dom.table_label(r[TABLE])
        if holder_label in r:
            rec[holder_label] = r[holder_label]
        for c in checks:
            rec[c] = None
        rec.update({"核查结果": None, "问题描述": None, "核查人": None, "日期": None})
        rows.append(rec)
    columns = ["序号", ulabel, *shown.values(), "来源表"]
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
            title=dom.title("audit", f"{dom.label}随机抽查清单"),
            note=(
                f"批次 {result.batch.name}　随机种子 {result.seed}　每个{ulabel} {result.size} 件（按{slabel}分层，"
                f"每类至少 1 件）　共 {len(frame)} 件　生成时间 {generated:%Y-%m-%d %H:%M}　个人信息已脱敏"
            ),
            widths={"问题描述": 36, "核查人": 10, "日期": 12, "核查结果": 10, **{c: 9 for c in checks}},
        )
        header_row = 3
        first, last = header_row + 1, header_row + max(len(frame), 1)

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

        strata = result.strata.rename(columns={slabel: f"{slabel}代码"})
        strata.insert(
            3, slabel, [_code_label(dom, cfg["tables"][0], scol, v) for v in strata[f"{slabel}代码"]]
        )
        book.add_table(
            "抽样说明",
            strata,
            title="抽样框与抽样数量（可据此复核抽样）",
            note=(
                f"方法：每个{ulabel}按{slabel}分层，按各类件数比例分配（最大余数法），每类至少 1 件；{ulabel}件数不超过 "
                f"{result.size} 件时全部抽取。同一批次、同一随机种子（{result.seed}）得到同一份清单。"
            ),
        )
    return path
