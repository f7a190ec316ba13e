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

A run records the overlay's name, file and SHA-256 in ``summary.json``.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

import yaml

from toolkit.domain import DIMENSIONS, META_KEYS, SEVERITIES, Domain, copy_domain
from toolkit.errors import ConfigError

CHANGEABLE = {"enabled", "severity", "tolerance", "message_zh", "fix_zh", "applies_to"}


def _err(path: Path, zh: str, en: str) -> ConfigError:
    return ConfigError(
        zh,
        en,
        path=path,
        fix_zh="请对照 toolkit/overlay.py 中的示例修改地方规则文件。",
        fix_en="see the example at the top of toolkit/overlay.py.",
    )


def apply_overlay(domain: Domain, overlay: str | Path | dict[str, Any]) -> Domain:
    if isinstance(overlay, dict):
        path, raw, data = Path("<overlay>"), b"", overlay
    else:
        path = Path(overlay)
        try:
            raw = path.read_bytes()
            data = yaml.safe_load(raw.decode("utf-8")) or {}
        except FileNotFoundError as exc:
            raise _err(path, "找不到地方规则文件。", "overlay file not found.") from exc
        except (UnicodeDecodeError, yaml.YAMLError) as exc:
            raise _err(path, f"地方规则文件无法读取：{exc}", f"overlay cannot be read: {exc}") from exc
    if not isinstance(data, dict):
        raise _err(path, "地方规则文件应是键值结构。", "overlay must be a mapping.")
    if data.get("domain", domain.name) != domain.name:
        raise _err(
            path,
            f"该地方规则属于领域 {data['domain']}，不是 {domain.name}。",
            f"overlay is for domain {data['domain']}, not {domain.name}.",
        )
    suites = copy.deepcopy(domain.suites)
    known = {e["meta"]["rule_id"]: (s, e) for s in suites.values() for e in s["expectations"]}
    for rule_id, change in (data.get("rules") or {}).items():
        if rule_id not in known:
            raise _err(path, f"规则 {rule_id} 不存在。", f"unknown rule id {rule_id}.")
        if not isinstance(change, dict) or set(change) - CHANGEABLE:
            bad = sorted(set(change) - CHANGEABLE) if isinstance(change, dict) else change
            raise _err(
                path,
                f"规则 {rule_id} 的修改项无效：{bad}（可改：{sorted(CHANGEABLE)}）",
                f"rule {rule_id}: cannot change {bad} (allowed: {sorted(CHANGEABLE)}).",
            )
        suite, exp = known[rule_id]
        if change.get("enabled") is False:
            suite["expectations"].remove(exp)
            continue
        if "severity" in change and change["severity"] not in SEVERITIES:
            raise _err(path, f"规则 {rule_id} 的严重程度无效。", f"rule {rule_id}: bad severity.")
        if "tolerance" in change and not 0 <= float(change["tolerance"]) < 1:
            raise _err(
                path, f"规则 {rule_id} 的容差应在 0 到 1 之间。", f"rule {rule_id}: tolerance in [0, 1)."
            )
        for k, v in change.items():
            if k != "enabled":
                exp["meta"][k] = v
        if "severity" in change:
            exp["severity"] = change["severity"]
        exp["meta"]["overlay"] = data.get("name", path.name)
    for i, new in enumerate(data.get("add") or []):
        meta = (new or {}).get("meta") or {}
        # ``requires`` (the tables a rule needs) defaults to the rule's own table
        missing = [k for k in META_KEYS if k not in meta and k != "requires"]
        if new.get("suite") not in suites or "type" not in new or missing:
            raise _err(
                path,
                f"新增的第 {i + 1} 条规则不完整（需要 suite、type、kwargs 和 meta：{', '.join(missing)}）。",
                f"added rule #{i + 1} is incomplete (suite, type, kwargs, meta: {', '.join(missing)}).",
            )
        if meta["rule_id"] in known:
            raise _err(
                path, f"新增规则编号 {meta['rule_id']} 与已有规则重复。", f"rule id {meta['rule_id']} exists."
            )
        if meta["severity"] not in SEVERITIES or meta["dimension"] not in DIMENSIONS:
            raise _err(
                path, f"新增规则 {meta['rule_id']} 的严重程度或维度无效。", "bad severity or dimension."
            )
        meta = {"requires": [meta["table"]], **meta, "overlay": data.get("name", path.name)}
        suites[new["suite"]]["expectations"].append(
            {"type": new["type"], "kwargs": new.get("kwargs", {}), "meta": meta, "severity": meta["severity"]}
        )
        known[meta["rule_id"]] = (suites[new["suite"]], new)
    info = {
        "name": data.get("name", path.name),
        "file": str(path),
        "sha256": hashlib.sha256(raw).hexdigest() if raw else None,
        "changed": sorted((data.get("rules") or {}).keys()),
        "added": [a["meta"]["rule_id"] for a in data.get("add") or []],
    }
    return copy_domain(domain, suites, info)
