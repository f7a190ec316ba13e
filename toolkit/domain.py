"""Domain packs: a folder of data under ``expectations/<domain>/`` (see its ``domain.yaml``).

The toolkit knows nothing about real-estate registration itself; everything domain-specific (tables,
fields, code lists, suites, views, scoring, messages) is read from the pack.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from toolkit.errors import ConfigError
from toolkit.overlay import apply_overlay
from toolkit.rules import DIMENSIONS, META_KEYS, PLAUSIBLE_TYPE, SEVERITIES, Rule
from toolkit.sqlcompile import vet_rule
from toolkit.validators import plausible_years
from toolkit.yamlfile import load_yaml

#: Where the shipped domain packs live (``expectations/`` at the top of the repository). Can be moved
#: with the environment variable ``DQ_EXPECTATIONS``.
EXPECTATIONS_DIR = Path(
    os.environ.get("DQ_EXPECTATIONS", Path(__file__).resolve().parent.parent / "expectations")
)


@dataclass(frozen=True)
class Unit:
    """The unit of assessment of a pack (``unit:`` in ``domain.yaml``): who is scored and ranked — a
    county (``bdc``), a fund centre (``gjj``), a department (``sgs``).

    ``column`` is the unit's code column in every table, ``columns`` overrides it per table. ``names``
    says where a unit's name comes from: ``regions`` (the GB/T 2260 names of python-stdnum's region
    list), ``column:<FIELD>`` (a column of the data, e.g. the department's name beside its code) or
    ``file:<csv>`` (``code,name`` beside ``domain.yaml``). ``geographic`` is ``county`` or ``prefecture``
    when the units are places a map can show, else ``none``."""

    column: str
    label_zh: str = "单位"
    label_en: str = "unit"
    columns: dict[str, str] = field(default_factory=dict)
    names: str = "column"
    geographic: str = "none"
    name_table: dict[str, str] = field(default_factory=dict)

    def column_of(self, table: str) -> str:
        """The unit column of ``table`` (a table or a prepared view)."""
        return self.columns.get(table, self.column)

    def is_scored(self, code: Any) -> bool:
        """Whether rows of this unit code are scored and ranked: a county (or prefecture) code of the
        region list for geographic units, any non-empty code otherwise. Rows that cannot be attributed
        to a unit are reported by the pack's own rules (e.g. ``*.qxdm.code``), not scored."""
        if not isinstance(code, str) or not code.strip():
            return False
        if self.geographic == "county":
            from toolkit import regions

            return regions.is_county_code(code)
        if self.geographic == "prefecture":
            from toolkit import regions

            return regions.prefecture_name(code) is not None
        return True

    def name_of(self, code: Any, seen: dict[str, str] | None = None) -> str:
        """A unit's name: from ``seen`` (names read from the data), the pack's name file, or the region
        list; empty when unknown."""
        if code is None or (isinstance(code, float) and code != code) or str(code) == "":
            return ""
        code = str(code)
        if seen and seen.get(code):
            return seen[code]
        if code in self.name_table:
            return self.name_table[code]
        if self.names == "regions":
            from toolkit import regions

            return regions.county_name(code) or regions.prefecture_name(code) or ""
        return ""


@dataclass
class Domain:
    name: str
    path: Path
    config: dict[str, Any]
    dictionary: dict[str, Any]
    suites: dict[str, dict[str, Any]]  # suite name -> GX suite JSON
    overlay: dict[str, Any] | None = None
    views_sql: dict[str, str] = field(default_factory=dict)

    # ------------------------------------------------------------------ tables and fields
    @property
    def tables(self) -> dict[str, dict[str, Any]]:
        return self.dictionary["tables"]

    @property
    def code_lists(self) -> dict[str, dict[str, str]]:
        return self.dictionary.get("code_lists", {})

    def table_by_short(self, short: str) -> str:
        for code, t in self.tables.items():
            if t.get("short") == short:
                return code
        raise KeyError(short)

    def required_columns(self) -> dict[str, list[str]]:
        """Columns every file of a table must have as headers (all fields of the dictionary)."""
        return {
            code: [f for f, spec in t["fields"].items() if spec.get("header", True)]
            for code, t in self.tables.items()
        }

    def pii_fields(self) -> dict[str, str]:
        """Field code -> personal-data class (name | id_no | phone), over all tables."""
        out: dict[str, str] = {}
        for t in self.tables.values():
            for f, spec in t["fields"].items():
                if spec.get("pii"):
                    out[f] = spec["pii"]
        return out

    def key_fields(self) -> set[str]:
        """The record-key columns of every table (they identify records, not persons)."""
        out: set[str] = set()
        for t in self.tables.values():
            key = t.get("key")
            out.update(key if isinstance(key, list) else [key] if key else [])
        return out

    def field_label(self, table: str, field_code: str) -> str:
        try:
            return self.tables[table]["fields"][field_code]["label_zh"]
        except KeyError:
            return field_code

    def field_label_any(self, field_code: str) -> str:
        """The label of ``field_code`` in the first table that has it (the dictionary gives a code used by
        several tables one label, e.g. YWH 业务号), else the code."""
        for table in self.tables.values():
            if field_code in table["fields"]:
                return table["fields"][field_code]["label_zh"]
        return field_code

    def table_label(self, table: str) -> str:
        return self.tables.get(table, {}).get("label_zh", table)

    def mode_tables(self, mode: str) -> list[str]:
        modes = self.config.get("modes", {})
        if mode not in modes:
            raise ConfigError(
                f"领域 {self.name} 没有检查模式 {mode}。",
                f"domain {self.name} has no mode {mode}.",
                fix_zh=f"可选：{', '.join(modes)}",
                fix_en=f"choose one of {', '.join(modes)}",
            )
        return list(modes[mode]["tables"])

    @cached_property
    def unit(self) -> Unit:
        """The unit of assessment (see :class:`Unit`); a pack without ``unit:`` is a configuration error."""
        raw = self.config.get("unit")
        if not isinstance(raw, dict) or not isinstance(raw.get("column"), str):
            raise ConfigError(
                f"领域包 {self.name} 没有写明考核对象（domain.yaml 的 unit.column）。",
                f"pack {self.name} does not declare its unit of assessment (unit.column in domain.yaml).",
                path=self.path / "domain.yaml",
                fix_zh="例如 unit: {column: <单位代码字段>, label_zh: 区县, names: regions}",
                fix_en="e.g. unit: {column: <unit code field>, label_zh: county, names: regions}",
            )
        known = {"column", "label_zh", "label_en", "columns", "names", "geographic"}
        extra = set(raw) - known
        names = str(raw.get("names", "column"))
        geographic = str(raw.get("geographic", "none"))
        if (
            extra
            or geographic not in ("county", "prefecture", "none")
            or not (names in ("regions", "column") or names.startswith(("column:", "file:")))
        ):
            raise ConfigError(
                f"domain.yaml 的 unit 写法有误：{sorted(map(str, extra)) or names or geographic}",
                f"bad unit in domain.yaml: {sorted(map(str, extra)) or names or geographic}",
                path=self.path / "domain.yaml",
                fix_zh="可用的键：column、label_zh、label_en、columns、names、geographic。",
                fix_en="keys: column, label_zh, label_en, columns, names (regions | column:F | file:F), "
                "geographic (county | prefecture | none).",
            )
        table: dict[str, str] = {}
        if names.startswith("file:"):
            import csv

            p = self.path / names[5:]
            try:
                rows = list(csv.reader(p.read_text(encoding="utf-8-sig").splitlines()))
            except OSError as exc:
                raise ConfigError(
                    f"无法读取单位名称文件：{exc}", f"cannot read the unit names: {exc}", path=p
                ) from exc
            table = {r[0]: r[1] for r in rows[1:] if len(r) >= 2}
        return Unit(
            column=raw["column"],
            label_zh=str(raw.get("label_zh", "单位")),
            label_en=str(raw.get("label_en", "unit")),
            columns={str(k): str(v) for k, v in (raw.get("columns") or {}).items()},
            names=names,
            geographic=geographic,
            name_table=table,
        )

    @property
    def legacy_columns(self) -> dict[str, str]:
        """Extra output columns a pack keeps for outside readers (``legacy_columns:`` in ``domain.yaml``):
        ``unit_code`` / ``unit_name`` / ``record_key`` → the old column name (``bdc``: QXDM, QXMC, YWH)."""
        raw = self.config.get("legacy_columns") or {}
        bad = set(raw) - {"unit_code", "unit_name", "record_key"}
        if bad:
            raise ConfigError(
                f"legacy_columns 只能写 unit_code、unit_name、record_key：{sorted(map(str, bad))}",
                f"legacy_columns takes unit_code, unit_name, record_key only: {sorted(map(str, bad))}",
                path=self.path / "domain.yaml",
            )
        return {str(k): str(v) for k, v in raw.items()}

    def with_legacy(self, frame: Any) -> Any:
        """``frame`` (with ``unit_code``/``unit_name``/``record_key`` columns) plus the pack's legacy
        columns, each placed right after the column it copies."""
        out = frame.copy()
        for std, old in self.legacy_columns.items():
            if std in out.columns and old not in out.columns:
                out.insert(list(out.columns).index(std) + 1, old, out[std])
        return out

    @property
    def problem_fields(self) -> list[str]:
        """Fields copied into every problem row whose table has them (``problem_fields:``; bdc: YWH)."""
        return [str(f) for f in self.config.get("problem_fields") or []]

    def record_key(self, table: str) -> list[str]:
        """The columns that identify a record of ``table`` (the dictionary's ``key``)."""
        key = self.tables.get(table, {}).get("key")
        return list(key) if isinstance(key, list) else [key] if key else []

    def key_label(self, table: str) -> str:
        """What a record of ``table`` is called: the labels of its key fields (bdc: 业务号; gjj's
        ``DW``: 单位账号), else 记录."""
        keys = self.record_key(table) if table else []
        return "、".join(self.field_label(table, k) for k in keys) or "记录"

    def rule_key_label(self, rule_id: str, table: str = "") -> str:
        """What the records of a rule's problems are called: the :meth:`key_label` of ``table`` (the table
        its problem rows name), else of the rule's table (a rule the pack no longer has: 记录)."""
        if not table:
            try:
                table = self.rule(rule_id).table
            except KeyError:
                table = ""
        return self.key_label(table)

    def key_header(self, tables: Iterable[str]) -> str:
        """The heading of a record-key column over rows of ``tables``: their :meth:`key_label` when they
        share one (bdc: 业务号), else 记录标识."""
        labels = {self.key_label(t) for t in tables if t}
        return labels.pop() if len(labels) == 1 else "记录标识"

    @property
    def label(self) -> str:
        """The pack's Chinese name (``label_zh``), e.g. 不动产登记."""
        return str(self.config.get("label_zh", self.name))

    @property
    def period(self) -> str:
        """The grain of incremental batches: ``day`` (a folder per day, ``YYYY-MM-DD``) or ``month``
        (``YYYY-MM``)."""
        return str(self.config.get("period", "day"))

    def title(self, key: str, default: str = "") -> str:
        """A report title of the pack (``titles:`` in ``domain.yaml``)."""
        return str((self.config.get("titles") or {}).get(key, default))

    def core_tables(self, mode: str) -> list[str]:
        """The tables every batch of ``mode`` must contain (``core:`` under the mode in ``domain.yaml``;
        none when absent): a batch without one cannot pass (:class:`~toolkit.errors.CoreTableMissingError`)."""
        tables = self.mode_tables(mode)
        core = list(self.config["modes"][mode].get("core") or [])
        stray = [t for t in core if t not in tables]
        if stray:
            raise ConfigError(
                f"领域 {self.name} 的模式 {mode} 的主表 {', '.join(stray)} 不在该模式的表中。",
                f"domain {self.name}, mode {mode}: core table(s) {', '.join(stray)} not among the mode's tables.",
                fix_zh="core 只能列出 tables 中的表。",
                fix_en="list under core only tables listed under tables.",
            )
        return core

    @property
    def views(self) -> dict[str, dict[str, Any]]:
        return self.config.get("views", {})

    def with_suites(self, suites: dict[str, dict[str, Any]], overlay: dict[str, Any] | None) -> Domain:
        """The same pack with other suites (a deep copy of ``suites``) and the overlay that made them."""
        return Domain(
            name=self.name,
            path=self.path,
            config=self.config,
            dictionary=self.dictionary,
            suites=copy.deepcopy(suites),
            overlay=overlay,
            views_sql=self.views_sql,
        )

    # ------------------------------------------------------------------ rules
    @cached_property
    def rules(self) -> list[Rule]:
        out: list[Rule] = []
        for sname, suite in self.suites.items():
            smeta = suite.get("meta", {})
            for exp in suite.get("expectations", []):
                meta = exp.get("meta", {})
                out.append(
                    Rule(
                        rule_id=meta["rule_id"],
                        suite=sname,
                        target=smeta["target"],
                        target_kind=smeta.get("target_kind", "table"),
                        type=exp["type"],
                        kwargs=dict(exp.get("kwargs", {})),
                        meta=dict(meta),
                    )
                )
        return out

    def plausible_years(self, table: str, field_code: str) -> tuple[int, int]:
        """The window of years a timestamp of ``table.field_code`` may fall in: from the pack's
        plausibility rule on that field (``expect_column_values_to_be_plausible_datetime``), else the
        toolkit's default. A timestamp outside it is a typo and never becomes a batch's as-of."""
        for r in self.rules:
            if r.type == PLAUSIBLE_TYPE and r.target == table and r.kwargs.get("column") == field_code:
                return plausible_years(r.kwargs.get("min_year"), r.kwargs.get("years_ahead"))
        return plausible_years()

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.rule_id == rule_id:
                return r
        raise KeyError(rule_id)


def _read_yaml(path: Path) -> Any:
    return load_yaml(path)


def _check_suite(path: Path, suite: dict[str, Any], dictionary: dict[str, Any]) -> None:
    if "meta" not in suite or "target" not in suite["meta"]:
        raise ConfigError(
            "规则集缺少 meta.target（要检查的表或视图）。", "suite lacks meta.target.", path=path
        )
    for i, exp in enumerate(suite.get("expectations", [])):
        meta = exp.get("meta") or {}
        missing = [k for k in META_KEYS if k not in meta]
        if missing:
            raise ConfigError(
                f"第 {i + 1} 条规则的 meta 缺少：{', '.join(missing)}。",
                f"expectation #{i + 1} lacks meta keys: {', '.join(missing)}.",
                path=path,
                fix_zh="每条规则都要写明 rule_id、维度、严重程度、适用模式、提示语和整改办法。",
            )
        if meta["severity"] not in SEVERITIES:
            raise ConfigError(
                f"规则 {meta['rule_id']} 的严重程度 {meta['severity']} 无效。",
                f"rule {meta['rule_id']}: severity must be one of {SEVERITIES}.",
                path=path,
            )
        if meta["dimension"] not in DIMENSIONS:
            raise ConfigError(
                f"规则 {meta['rule_id']} 的维度 {meta['dimension']} 无效。",
                f"rule {meta['rule_id']}: dimension must be one of {DIMENSIONS}.",
                path=path,
            )
        if meta["table"] not in dictionary["tables"]:
            raise ConfigError(
                f"规则 {meta['rule_id']} 指向未知的表 {meta['table']}。",
                f"rule {meta['rule_id']}: unknown table {meta['table']}.",
                path=path,
            )


def _view_sql(path: Path) -> str:
    """A pack's view SQL: exactly one ``SELECT`` statement (it is run inside a sandbox, see
    :func:`toolkit.views.sandbox`; anything else — ``COPY``, ``ATTACH``, ``INSTALL``, ``SET``, a second
    statement — is refused here)."""
    import duckdb

    try:
        sql = path.read_text(encoding="utf-8")
        statements = duckdb.connect(":memory:").extract_statements(sql)
    except (OSError, UnicodeDecodeError, duckdb.Error) as exc:
        raise ConfigError(
            f"视图 SQL 无法读取或解析：{exc}", f"the view SQL cannot be read or parsed: {exc}", path=path
        ) from exc
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise ConfigError(
            "视图 SQL 只能是一条 SELECT 语句。",
            "a view's SQL must be exactly one SELECT statement.",
            path=path,
            fix_zh="删除其他语句（COPY、ATTACH、SET、INSTALL 等）。",
            fix_en="remove any other statement (COPY, ATTACH, SET, INSTALL …).",
        )
    return sql.strip().rstrip(";")


def domain_path(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if p.is_dir() and (p / "domain.yaml").exists():
        return p
    p = EXPECTATIONS_DIR / str(name_or_path)
    if not (p / "domain.yaml").exists():
        known = (
            sorted(d.name for d in EXPECTATIONS_DIR.iterdir() if (d / "domain.yaml").exists())
            if EXPECTATIONS_DIR.is_dir()
            else []
        )
        raise ConfigError(
            f"找不到领域包 {name_or_path}。",
            f"unknown domain {name_or_path}.",
            path=p,
            fix_zh=f"可用的领域：{', '.join(known) or '无'}",
            fix_en=f"known domains: {', '.join(known) or 'none'}",
        )
    return p


def load_domain(name_or_path: str | Path, overlay: str | Path | None = None) -> Domain:
    """Read a domain pack (and optionally apply a locality's overlay, see :mod:`toolkit.overlay`)."""
    path = domain_path(name_or_path)
    config = _read_yaml(path / "domain.yaml")
    dictionary = _read_yaml(path / "dictionary.yaml")
    suites: dict[str, dict[str, Any]] = {}
    for sp in sorted((path / "suites").glob("*.json")):
        try:
            suite = json.loads(sp.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"规则集不是有效的 JSON：{exc}", f"suite is not valid JSON: {exc}", path=sp
            ) from exc
        _check_suite(sp, suite, dictionary)
        suites[suite["name"]] = suite
    views_sql = {}
    for name in config.get("views", {}):
        vp = path / "views" / f"{name}.sql"
        if not vp.exists():
            raise ConfigError(f"视图 {name} 缺少 SQL 文件。", f"view {name} has no SQL file.", path=vp)
        views_sql[name] = _view_sql(vp)
    domain = Domain(
        name=config.get("name", path.name),
        path=path,
        config=config,
        dictionary=dictionary,
        suites=suites,
        views_sql=views_sql,
    )
    for r in domain.rules:  # nothing in a pack is run before the strict parser has seen it
        try:
            vet_rule(r, strict=False)
        except ConfigError as exc:
            raise ConfigError(
                exc.zh, exc.en, path=path / "suites", fix_zh=exc.fix_zh, fix_en=exc.fix_en
            ) from exc
    ids = [r.rule_id for r in domain.rules]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ConfigError(
            f"规则编号重复：{', '.join(dup)}", f"duplicate rule ids: {', '.join(dup)}", path=path
        )
    if overlay is not None:
        domain = apply_overlay(domain, overlay)
    return domain


def copy_domain(domain: Domain, suites: dict[str, dict[str, Any]], overlay: dict[str, Any] | None) -> Domain:
    """``domain`` with other suites (see :meth:`Domain.with_suites`)."""
    return domain.with_suites(suites, overlay)
