"""Locality overlays (地方规则): adapt the national suites without editing them.

An overlay is a YAML file::

    name: 某市本地规则
    domain: bdc
    rules:                                   # change shipped rules, by rule id
      bdc.qlr.dh.format: {enabled: false}    # switch a rule off
      bdc.fdcq.jzmj.range: {severity: warning, tolerance: 0.01}   # demote it; allow 1 % failures
    add:                                     # add local rules (full GX expectation + meta)
      - suite: bdc.fdcq
        type: expect_column_values_to_match_regex
        kwargs: {column: DJJG, regex: "^某市"}
        meta: {rule_id: local.fdcq.djjg.prefix, table: QLT_FW_FDCQ_YZ, field: DJJG, ...}

Overlays travel between offices and are **untrusted**: the file is read with
:func:`toolkit.yamlfile.load_yaml` (size, alias and depth limits), every key and value is checked here
(types, ranges, lengths, known rules, tables and fields), and every added rule must pass
:func:`toolkit.sqlcompile.vet_rule` in strict mode — its row condition parsed by the strict parser, its
regular expression proven safe, every keyword understood by the compiler — before any engine sees it.
Nothing in an overlay is ever executed or evaluated. A run records the overlay's name, file and SHA-256
in ``summary.json``.
"""

from __future__ import annotations

import copy
import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.errors import ConfigError
from toolkit.rules import DIMENSIONS, META_KEYS, SEVERITIES, Rule
from toolkit.sqlcompile import vet_rule
from toolkit.yamlfile import load_yaml_bytes

if TYPE_CHECKING:
    from toolkit.domain import Domain

__all__ = ["CHANGEABLE", "apply_overlay"]

#: What an overlay may change in a shipped rule.
CHANGEABLE = {"enabled", "severity", "tolerance", "message_zh", "fix_zh", "applies_to"}
_TOP_KEYS = {"name", "domain", "description", "rules", "add"}
_ADD_KEYS = {"suite", "type", "kwargs", "meta"}
_META_OPTIONAL = {
    "tolerance",
    "message_tech_zh",
    "message_en",
    "fix_en",
    "note",
    "requires",
    "requires_columns",
}
_RULE_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}")
_MAX_TEXT = 1000
_MAX_ADDED = 500


def _err(path: Path, zh: str, en: str) -> ConfigError:
    return ConfigError(
        zh,
        en,
        path=path,
        fix_zh="请对照 toolkit/overlay.py 中的示例修改地方规则文件。",
        fix_en="see the example at the top of toolkit/overlay.py.",
    )


def _text(path: Path, where: str, value: Any, *, limit: int = _MAX_TEXT) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise _err(
            path,
            f"{where} 应为不超过 {limit} 字的文字。",
            f"{where} must be non-empty text of at most {limit} characters.",
        )
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise _err(path, f"{where} 含有控制字符。", f"{where} contains control characters.")
    return value


def _tolerance(path: Path, where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise _err(
            path,
            f"{where} 的容差应为 0 到 1 之间的数（如 0.01），实际为 {value!r}。",
            f"{where}: tolerance must be a number in [0, 1) such as 0.01, got {value!r}.",
        )
    return float(value)


def _modes(path: Path, where: str, value: Any, modes: list[str]) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(m, str) and m in modes for m in value):
        raise _err(
            path,
            f"{where} 的适用模式应为 {modes} 中的一个或多个。",
            f"{where}: applies_to must list some of {modes}.",
        )
    return list(value)


def _columns_of(kwargs: dict[str, Any]) -> list[str]:
    return [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]


def _known_columns(domain: Domain, suite: dict[str, Any]) -> set[str]:
    """Fields a rule of ``suite`` may read: the table's fields, or for a view the columns its shipped
    rules read (a view's columns are defined by its SQL)."""
    meta = suite.get("meta", {})
    target = meta.get("target")
    if meta.get("target_kind", "table") == "table" and target in domain.tables:
        return set(domain.tables[target]["fields"])
    cols: set[str] = set()
    for exp in suite.get("expectations", []):
        cols.update(c for c in _columns_of(exp.get("kwargs", {})) if isinstance(c, str))
        rule = Rule("", "", target, "view", exp["type"], dict(exp.get("kwargs", {})), {})
        cond = rule.condition
        if cond is not None:
            cols.update(cond.columns)
    return cols


def _change_rule(
    path: Path,
    domain: Domain,
    rule_id: str,
    change: Any,
    suite: dict[str, Any],
    exp: dict[str, Any],
    name: str,
) -> None:
    if not isinstance(change, dict) or not change or set(change) - CHANGEABLE:
        bad = sorted(map(str, set(change) - CHANGEABLE)) if isinstance(change, dict) else change
        raise _err(
            path,
            f"规则 {rule_id} 的修改项无效：{bad!r}（可改：{sorted(CHANGEABLE)}）",
            f"rule {rule_id}: cannot change {bad!r} (allowed: {sorted(CHANGEABLE)}).",
        )
    if "enabled" in change and not isinstance(change["enabled"], bool):
        raise _err(
            path,
            f"规则 {rule_id} 的 enabled 应为 true 或 false。",
            f"rule {rule_id}: enabled must be true/false.",
        )
    if change.get("enabled") is False:
        suite["expectations"].remove(exp)
        return
    if "severity" in change and change["severity"] not in SEVERITIES:
        raise _err(
            path,
            f"规则 {rule_id} 的严重程度无效：{change['severity']!r}（可选 {list(SEVERITIES)}）。",
            f"rule {rule_id}: bad severity {change['severity']!r} (one of {list(SEVERITIES)}).",
        )
    if "tolerance" in change:
        change = {
            **change,
            "tolerance": _tolerance(path, f"规则 {rule_id} / rule {rule_id}", change["tolerance"]),
        }
    for key in ("message_zh", "fix_zh"):
        if key in change:
            _text(path, f"规则 {rule_id} 的 {key} / rule {rule_id} {key}", change[key])
    if "applies_to" in change:
        _modes(
            path,
            f"规则 {rule_id} / rule {rule_id}",
            change["applies_to"],
            list(domain.config.get("modes", {})),
        )
    for k, v in change.items():
        if k != "enabled":
            exp["meta"][k] = v
    if "severity" in change:
        exp["severity"] = change["severity"]
    exp["meta"]["overlay"] = name


def _added_rule(
    path: Path,
    domain: Domain,
    suites: dict[str, dict[str, Any]],
    i: int,
    new: Any,
    known: set[str],
    name: str,
) -> tuple[str, dict[str, Any]]:
    where_zh, where_en = f"新增的第 {i + 1} 条规则", f"added rule #{i + 1}"
    if not isinstance(new, dict):
        raise _err(path, f"{where_zh}应是键值结构。", f"{where_en} must be a mapping.")
    meta = new.get("meta")
    missing = [k for k in ("suite", "type", "meta") if k not in new]
    if not missing and isinstance(meta, dict):
        missing = [f"meta.{k}" for k in META_KEYS if k not in meta and k != "requires"]
    if missing or not isinstance(meta, dict):
        raise _err(
            path,
            f"{where_zh}不完整（需要 suite、type、kwargs 和 meta：{', '.join(missing) or 'meta'}）。",
            f"{where_en} is incomplete (suite, type, kwargs, meta: {', '.join(missing) or 'meta'}).",
        )
    if set(new) - _ADD_KEYS:
        raise _err(
            path,
            f"{where_zh}有未知的键：{sorted(map(str, set(new) - _ADD_KEYS))}",
            f"{where_en}: unknown keys.",
        )
    unknown_meta = set(meta) - set(META_KEYS) - _META_OPTIONAL
    if unknown_meta:
        raise _err(
            path,
            f"{where_zh}的 meta 有未知的键：{sorted(map(str, unknown_meta))}",
            f"{where_en}: unknown meta keys {sorted(map(str, unknown_meta))}.",
        )
    rid = meta["rule_id"]
    if not isinstance(rid, str) or not _RULE_ID.fullmatch(rid):
        raise _err(
            path,
            f"{where_zh}的规则编号 {rid!r} 无效（字母、数字、点、下划线、连字符，至多 100 个字符）。",
            f"{where_en}: bad rule id {rid!r} (letters, digits, . _ -, at most 100 characters).",
        )
    if rid in known:
        raise _err(path, f"新增规则编号 {rid} 与已有规则重复。", f"rule id {rid} exists.")
    suite_name = new["suite"]
    if not isinstance(suite_name, str) or suite_name not in suites:
        raise _err(
            path,
            f"规则 {rid} 的规则集 {suite_name!r} 不存在（可选：{', '.join(sorted(suites))}）。",
            f"rule {rid}: unknown suite {suite_name!r} (one of {', '.join(sorted(suites))}).",
        )
    suite = suites[suite_name]
    if meta["severity"] not in SEVERITIES or meta["dimension"] not in DIMENSIONS:
        raise _err(path, f"新增规则 {rid} 的严重程度或维度无效。", f"rule {rid}: bad severity or dimension.")
    if meta["table"] not in domain.tables:
        raise _err(
            path,
            f"新增规则 {rid} 的表 {meta['table']!r} 不存在。",
            f"rule {rid}: unknown table {meta['table']!r}.",
        )
    for key in ("message_zh", "fix_zh", "standard", "field"):
        _text(path, f"规则 {rid} 的 {key} / rule {rid} {key}", meta[key])
    for key in _META_OPTIONAL & set(meta) - {"tolerance", "requires", "requires_columns"}:
        _text(path, f"规则 {rid} 的 {key} / rule {rid} {key}", meta[key])
    _modes(path, f"规则 {rid} / rule {rid}", meta["applies_to"], list(domain.config.get("modes", {})))
    if "tolerance" in meta:
        _tolerance(path, f"规则 {rid} / rule {rid}", meta["tolerance"])
    requires = meta.get("requires", [meta["table"]])
    if not isinstance(requires, list) or not all(isinstance(t, str) and t in domain.tables for t in requires):
        raise _err(
            path, f"规则 {rid} 的 requires 应列出已知的表。", f"rule {rid}: requires must list known tables."
        )
    cols = meta.get("requires_columns", [])
    fields = domain.tables[meta["table"]]["fields"]
    if not isinstance(cols, list) or not all(isinstance(c, str) and c in fields for c in cols):
        raise _err(
            path,
            f"规则 {rid} 的 requires_columns 应列出该表的字段。",
            f"rule {rid}: requires_columns must list fields.",
        )
    kwargs = new.get("kwargs", {})
    if not isinstance(kwargs, dict):
        raise _err(path, f"规则 {rid} 的 kwargs 应是键值结构。", f"rule {rid}: kwargs must be a mapping.")
    meta = {**meta, "requires": requires, "overlay": name}
    target = suite.get("meta", {}).get("target", "")
    rule = Rule(
        rid, suite_name, target, suite.get("meta", {}).get("target_kind", "table"), new["type"], kwargs, meta
    )
    try:
        vet_rule(rule, strict=True)
    except ConfigError as exc:
        raise ConfigError(exc.zh, exc.en, path=path, fix_zh=exc.fix_zh, fix_en=exc.fix_en) from exc
    allowed = _known_columns(domain, suite)
    used = [*_columns_of(kwargs), *(rule.condition.columns if rule.condition else [])]
    unknown = [c for c in used if c not in allowed]
    if unknown:
        raise _err(
            path,
            f"规则 {rid} 用到的字段 {unknown} 不在 {target} 中。",
            f"rule {rid}: field(s) {unknown} are not in {target}.",
        )
    return suite_name, {"type": new["type"], "kwargs": kwargs, "meta": meta, "severity": meta["severity"]}


def apply_overlay(domain: Domain, overlay: str | Path | dict[str, Any]) -> Domain:
    """The domain with a locality's overlay applied (a copy; the national suites are not changed)."""
    if isinstance(overlay, dict):
        path, raw, data = Path("<overlay>"), b"", overlay
    else:
        path = Path(overlay)
        data, raw = load_yaml_bytes(path)
    data = data if data is not None else {}
    if not isinstance(data, dict):
        raise _err(path, "地方规则文件应是键值结构。", "overlay must be a mapping.")
    extra = set(data) - _TOP_KEYS
    if extra:
        raise _err(
            path,
            f"地方规则文件有未知的键：{sorted(map(str, extra))}（可用：{sorted(_TOP_KEYS)}）。",
            f"unknown overlay keys {sorted(map(str, extra))} (allowed: {sorted(_TOP_KEYS)}).",
        )
    if data.get("domain", domain.name) != domain.name:
        raise _err(
            path,
            f"该地方规则属于领域 {data['domain']!r}，不是 {domain.name}。",
            f"overlay is for domain {data['domain']!r}, not {domain.name}.",
        )
    name = _text(path, "name", data["name"], limit=100) if "name" in data else path.name
    rules = data.get("rules") or {}
    added = data.get("add") or []
    if not isinstance(rules, dict):
        raise _err(path, "rules 应是“规则编号: 修改项”的键值结构。", "rules must map rule ids to changes.")
    if not isinstance(added, list) or len(added) > _MAX_ADDED:
        raise _err(
            path,
            f"add 应是至多 {_MAX_ADDED} 条规则的列表。",
            f"add must be a list of at most {_MAX_ADDED} rules.",
        )
    suites = copy.deepcopy(domain.suites)
    known = {e["meta"]["rule_id"]: (s, e) for s in suites.values() for e in s["expectations"]}
    for rule_id, change in rules.items():
        if rule_id not in known:
            raise _err(path, f"规则 {rule_id!r} 不存在。", f"unknown rule id {rule_id!r}.")
        suite, exp = known[rule_id]
        _change_rule(path, domain, rule_id, change, suite, exp, name)
    added_ids: list[str] = []
    for i, new in enumerate(added):
        suite_name, exp = _added_rule(path, domain, suites, i, new, set(known) | set(added_ids), name)
        suites[suite_name]["expectations"].append(exp)
        added_ids.append(exp["meta"]["rule_id"])
    info = {
        "name": name,
        "file": str(path),
        "sha256": hashlib.sha256(raw).hexdigest() if raw else None,
        "changed": sorted(rules),
        "added": added_ids,
    }
    return domain.with_suites(suites, info)
