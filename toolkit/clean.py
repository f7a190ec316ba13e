"""``dq clean``: batch format clean-up with a reviewed plan, backups and a traceable, reversible change log.

The way the housing provident fund centres of Shenzhen, Xiamen, Yangzhou and Hangzhou fixed their date and
special-character format errors (shared/reference/seeds/003): the data department draws up a batch
correction plan, the data leadership group reviews and approves it, then the correction runs — with a
backup of the data and a record of every change, so that every correction can be traced and undone.

1. **Plan** (:func:`make_plan`, :func:`write_plan`; ``dq clean plan``). The pack's *fixers*
   (:mod:`toolkit.fixers`, declared per field in the ``fixers:`` section of ``domain.yaml``) are run over
   every table file of the batch. A cell is offered to its field's fixers only if it fails one of the
   pack's rules of a type they make pass (the *target rules*). A fix is kept only if the new value passes
   every target rule that applies to the row, breaks no other rule of that field, no column-pair rule of
   the row and no uniqueness rule; otherwise — and whenever the fixers cannot tell the one right value —
   the cell is listed as **needs a person** (需人工) with the reason. Nothing in the batch changes. The
   plan folder holds ``plan.csv`` (every change: file, Excel row, field, fixers, the rules it makes pass,
   old and new value *masked*), ``needs_person.csv``, ``summary.csv`` (per fixer and unit),
   ``plan.xlsx`` (the same for the review, every cell text) and ``plan.json`` (what :func:`apply_plan`
   checks: the SHA-256 of every table file of the batch and of the pack's fixers and rules). No output
   holds a personal value in clear.
2. **Apply** (:func:`apply_plan`; ``dq clean apply --plan PLAN --approved-by NAME``). Refused (exit 2,
   nothing written) when any table file of the batch changed since planning (content hash), when the
   pack's fixers or rules changed, or when planning again would not give exactly the reviewed plan. The
   corrected batch goes to a new folder (default ``PLAN/cleaned/<batch name>/``: every file copied byte
   for byte, the changed ones edited) or, with ``in_place``, replaces the batch's files (each written
   beside it and renamed, so a reader sees the old or the new file, never half of one). Before any file
   is written its original is copied to the backup folder (``<log>-backup/<run>/``) and checked by its
   SHA-256; after writing, every changed file is read back with the loader and must differ from the
   original in exactly the planned cells. The change log gets one run (id, time, approver, plan, batch,
   target, backup) with its files (SHA-256 before and after) and every change (file, row, field,
   fixers, rules, masked old and new value, and keyed hashes of the raw old and new value).
3. **Undo** (:func:`undo_run`; ``dq clean undo RUN``) copies the backed-up originals back, byte for byte,
   after checking that each file is still exactly what the run wrote (else it is refused: a later run or
   a person changed it) and that each backup still has its recorded SHA-256. **Log** (:func:`log_runs`,
   :func:`log_changes`; ``dq clean log``) lists runs and their changes.

What an edit keeps (CSV): the encoding (UTF-8, UTF-8 with BOM, GB18030 stays GB18030), column and row
order, line endings and every byte of every field that is not corrected — a corrected field is written
in the quoting it had. XLSX: only the corrected cells of the first worksheet are rewritten (as text
cells, keeping their style); every other cell, style, sheet and part of the workbook keeps its content,
but the archive is packed again, so the file's bytes differ (undo restores the original bytes from the
backup). Parquet files and symbolic links are not edited (listed as skipped in the plan).

The change log (SQLite, append-only: triggers refuse every UPDATE and DELETE) holds no personal value in
clear: values are masked (:class:`toolkit.masking.Masker`, with the person names of the batch) and the
raw values are kept only as HMAC-SHA256 hashes under a key made for the run and stored in the run's
backup folder — a plain hash of an 18-digit ID number could be reversed by trying every birth date and
sequence number. Whoever holds the backup (which holds the originals anyway) can prove any logged change.
**The backup folder is sensitive**: it holds the original files with all personal data; it is created
readable by its owner only (0700 / 0600) and must be kept and disposed of like the batch itself.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import difflib
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import shutil
import sqlite3
import time
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree import ElementTree

import numpy as np
import pandas as pd

from toolkit.checks import CHECKS
from toolkit.checks.datetime_text import parse_datetime
from toolkit.domain import Domain, Rule, load_domain
from toolkit.errors import CleanError, ConfigError, InternalError, StalePlanError
from toolkit.fixers import FIXED, FIXERS, PERSON, FieldFixer, Outcome, field_fixers, fixers_digest
from toolkit.loading import (
    MAX_FIELD_CHARS,
    ROW_COLUMN,
    LoadedTable,
    discover_tables,
    normalise_header,
    read_table,
)
from toolkit.masking import Masker
from toolkit.sheets import frames_to_xlsx, write_csv
from toolkit.text import printable

__all__ = [
    "CHANGE_COLUMNS",
    "NEEDS_PERSON_COLUMNS",
    "PLAN_FILES",
    "SUMMARY_COLUMNS",
    "ApplyResult",
    "Change",
    "CleanPlan",
    "NeedsPerson",
    "UndoResult",
    "apply_plan",
    "csv_encoding",
    "default_backup_root",
    "describe_change",
    "log_changes",
    "log_runs",
    "make_plan",
    "read_plan",
    "rewrite_csv",
    "sha256_file",
    "undo_run",
    "write_plan",
]

PLAN_FORMAT = "dq-clean-plan/1"
PLAN_FILES = ("plan.json", "plan.csv", "needs_person.csv", "summary.csv", "plan.xlsx")
CHANGE_COLUMNS = [
    "file",
    "row",
    "table",
    "field",
    "field_label",
    "unit_code",
    "unit_name",
    "record_key",
    "fixers",
    "rule_ids",
    "old_masked",
    "new_masked",
    "detail",
]
NEEDS_PERSON_COLUMNS = [
    "file",
    "row",
    "table",
    "field",
    "field_label",
    "unit_code",
    "unit_name",
    "record_key",
    "fixers",
    "rule_ids",
    "value_masked",
    "reason_zh",
    "reason_en",
]
SUMMARY_COLUMNS = ["fixer", "fixer_label", "unit_code", "unit_name", "changes", "needs_person"]
_XLSX_HEADERS = {
    "file": "文件",
    "row": "行号",
    "table": "表",
    "field": "字段",
    "field_label": "字段名称",
    "record_key": "记录键",
    "fixers": "整理器",
    "fixer": "整理器",
    "fixer_label": "整理器名称",
    "rule_ids": "规则",
    "old_masked": "原值（已脱敏）",
    "new_masked": "新值（已脱敏）",
    "value_masked": "当前值（已脱敏）",
    "detail": "改了什么",
    "reason_zh": "原因",
    "reason_en": "reason",
    "changes": "改动数",
    "needs_person": "需人工数",
}
_UTF8_BOM = b"\xef\xbb\xbf"
_CHUNK = 1 << 20


def _domain(domain: str | Path | Domain) -> Domain:
    return domain if isinstance(domain, Domain) else load_domain(domain)


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone().replace(microsecond=0)


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _shown(path: Any) -> str:
    return printable(str(path))


# ================================================================================================ rules in Python


def _value_test(rule: Rule) -> Callable[[str], bool] | None:
    """The test a present value of a single-column rule must pass (``True`` = expected), or ``None`` when
    the rule is not a per-value test (uniqueness, emptiness)."""
    kw = rule.kwargs
    check = CHECKS.get(rule.type)
    if check is not None and not check.pair:
        return check.bind(kw)
    if rule.type == "expect_column_values_to_be_in_set":
        allowed = {str(v) for v in kw.get("value_set") or []}
        return allowed.__contains__
    if rule.type == "expect_column_values_to_not_be_in_set":
        banned = {str(v) for v in kw.get("value_set") or []}
        return lambda v: v not in banned
    if rule.type in ("expect_column_values_to_match_regex", "expect_column_values_to_not_match_regex"):
        pattern = re.compile(str(kw.get("regex", "")))  # vetted when the pack was loaded (vet_rule)
        if rule.type.endswith("_not_match_regex"):
            return lambda v: pattern.search(v) is None
        return lambda v: pattern.search(v) is not None
    if rule.type == "expect_column_value_lengths_to_be_between":
        lo, hi = kw.get("min_value"), kw.get("max_value")
        smin, smax = bool(kw.get("strict_min")), bool(kw.get("strict_max"))

        def length_ok(v: str) -> bool:
            n = len(v)
            if lo is not None and (n <= int(lo) if smin else n < int(lo)):
                return False
            return not (hi is not None and (n >= int(hi) if smax else n > int(hi)))

        return length_ok
    return None


def _pair_test(rule: Rule) -> tuple[Callable[[str, str], bool], str] | None:
    """(test, ignore_row_if) of a column-pair rule, or ``None``."""
    check = CHECKS.get(rule.type)
    ignore = str(rule.kwargs.get("ignore_row_if") or "")
    if check is not None and check.pair:
        return check.bind(rule.kwargs), ignore or (check.ignore_row_if or "both_values_are_missing")
    if rule.type == "expect_column_pair_values_to_be_equal":
        return (lambda a, b: a == b), ignore or "both_values_are_missing"
    return None


def _pair_passes(test: Callable[[str, str], bool], ignore: str, a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        if ignore == "either_value_is_missing" or (a is None and b is None) or ignore == "never":
            return True
        return a == b  # one missing: GX compares the values (None never equals text)
    return bool(test(a, b))


# ================================================================================================ the plan


@dataclass(frozen=True)
class Change:
    """One cell the plan changes. ``old`` and ``new`` are full values (personal data): they are never
    written; :meth:`CleanPlan.changes_table` shows them masked."""

    file: str
    table: str
    row: int
    field: str
    old: str
    new: str
    fixers: tuple[str, ...]
    rule_ids: tuple[str, ...]
    unit_code: str
    record_key: str


@dataclass(frozen=True)
class NeedsPerson:
    """A cell that fails a target rule and that no fixer can correct with certainty (需人工)."""

    file: str
    table: str
    row: int
    field: str
    value: str
    fixers: tuple[str, ...]
    rule_ids: tuple[str, ...]
    reason_zh: str
    reason_en: str
    unit_code: str
    record_key: str


@dataclass(frozen=True)
class FileInfo:
    name: str
    table: str
    format: str
    sha256: str
    encoding: str | None = None


@dataclass
class CleanPlan:
    """What :func:`apply_plan` would do to a batch (see the module docstring)."""

    domain: Domain
    batch_dir: Path
    files: dict[str, FileInfo]
    changes: list[Change]
    needs_person: list[NeedsPerson]
    skipped: dict[str, str]
    masker: Masker = field(repr=False)
    unit_names: dict[str, str] = field(default_factory=dict)
    digest: str = ""
    created: dt.datetime = field(default_factory=_now)
    plan_id: str = ""
    rows_read: int = 0
    seconds: float = 0.0
    frames: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.changes)

    @property
    def changed_files(self) -> list[str]:
        """Names of the batch files the plan changes, in file order."""
        used = {c.file for c in self.changes}
        return [name for name in self.files if name in used]

    @property
    def batch_sha256(self) -> str:
        """One hash over the names and SHA-256 of every table file of the batch."""
        blob = "\n".join(f"{n}\t{self.files[n].sha256}" for n in sorted(self.files))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def _label(self, table: str, field_code: str) -> str:
        return self.domain.field_label(table, field_code)

    def _unit(self, code: str) -> tuple[str, str]:
        return self.masker.text(code), self.unit_names.get(code, "")

    def changes_table(self) -> pd.DataFrame:
        """Every change, masked (:data:`CHANGE_COLUMNS`, plus the pack's legacy columns)."""
        rows = []
        for c in self.changes:
            code, name = self._unit(c.unit_code)
            rows.append(
                {
                    "file": self.masker.text(c.file),
                    "row": c.row,
                    "table": c.table,
                    "field": c.field,
                    "field_label": self._label(c.table, c.field),
                    "unit_code": code,
                    "unit_name": name,
                    "record_key": c.record_key,
                    "fixers": "+".join(c.fixers),
                    "rule_ids": "、".join(c.rule_ids),
                    "old_masked": self.masker.value(c.field, c.old),
                    "new_masked": self.masker.value(c.field, c.new),
                    "detail": describe_change(c.old, c.new),
                }
            )
        return self.domain.with_legacy(pd.DataFrame(rows, columns=CHANGE_COLUMNS))

    def needs_person_table(self) -> pd.DataFrame:
        """Every cell that needs a person, masked (:data:`NEEDS_PERSON_COLUMNS`)."""
        rows = []
        for p in self.needs_person:
            code, name = self._unit(p.unit_code)
            rows.append(
                {
                    "file": self.masker.text(p.file),
                    "row": p.row,
                    "table": p.table,
                    "field": p.field,
                    "field_label": self._label(p.table, p.field),
                    "unit_code": code,
                    "unit_name": name,
                    "record_key": p.record_key,
                    "fixers": "+".join(p.fixers),
                    "rule_ids": "、".join(p.rule_ids),
                    "value_masked": self.masker.value(p.field, p.value),
                    "reason_zh": self.masker.text(p.reason_zh),
                    "reason_en": self.masker.text(p.reason_en),
                }
            )
        return self.domain.with_legacy(pd.DataFrame(rows, columns=NEEDS_PERSON_COLUMNS))

    def summary(self) -> pd.DataFrame:
        """Per fixer and unit: cells changed and cells that need a person (:data:`SUMMARY_COLUMNS`)."""
        counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for c in self.changes:
            for f in c.fixers:
                counts[(f, c.unit_code)][0] += 1
        for p in self.needs_person:
            for f in p.fixers:
                counts[(f, p.unit_code)][1] += 1
        order = list(FIXERS)
        rows = []
        for (fixer, unit), (n_changes, n_person) in sorted(
            counts.items(), key=lambda kv: (order.index(kv[0][0]) if kv[0][0] in order else 99, kv[0][1])
        ):
            code, name = self._unit(unit)
            rows.append(
                {
                    "fixer": fixer,
                    "fixer_label": FIXERS[fixer].label_zh if fixer in FIXERS else fixer,
                    "unit_code": code,
                    "unit_name": name,
                    "changes": n_changes,
                    "needs_person": n_person,
                }
            )
        return self.domain.with_legacy(pd.DataFrame(rows, columns=SUMMARY_COLUMNS))

    def change_keys(self) -> list[list[Any]]:
        """What identifies the plan's changes (all masked): the reviewed plan must match them exactly."""
        t = self.changes_table()
        cols = ["file", "row", "field", "fixers", "rule_ids", "old_masked", "new_masked"]
        return [[str(v) for v in r] for r in t[cols].itertuples(index=False, name=None)]

    def to_json(self) -> dict[str, Any]:
        """``plan.json``: everything :func:`apply_plan` checks, no personal value in clear."""
        return {
            "format": PLAN_FORMAT,
            "plan_id": self.plan_id,
            "created": self.created.isoformat(),
            "domain": {"name": self.domain.name, "path": str(self.domain.path.resolve())},
            "batch": str(self.batch_dir.resolve()),
            "batch_sha256": self.batch_sha256,
            "fixers_digest": self.digest,
            "files": {
                n: {"table": f.table, "format": f.format, "encoding": f.encoding, "sha256": f.sha256}
                for n, f in self.files.items()
            },
            "skipped": self.skipped,
            "counts": {
                "rows_read": self.rows_read,
                "changes": len(self.changes),
                "needs_person": len(self.needs_person),
                "files_changed": len(self.changed_files),
            },
            "changes": self.change_keys(),
        }


def _shape(segment: str) -> str:
    if not segment:
        return "∅"
    if all(ch.isalnum() for ch in segment):
        return f"{len(segment)}字"
    return printable("".join("·" if ch.isalnum() else "␣" if ch == " " else ch for ch in segment))


def describe_change(old: str, new: str) -> str:
    """What changed, without showing the data: where (开头/中间/末尾) and which characters — spaces (␣),
    punctuation and invisible characters (escaped, e.g. ``\\u200b``) are shown, letters, digits and Chinese
    characters only as ``·`` (or counted)."""
    ops = [
        op for op in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes() if op[0] != "equal"
    ]
    parts = []
    for _tag, i1, i2, j1, j2 in ops[:4]:
        where = "开头" if i1 == 0 else "末尾" if i2 == len(old) else "中间"
        parts.append(f"{where} {_shape(old[i1:i2])}→{_shape(new[j1:j2])}")
    if len(ops) > 4:
        parts.append(f"…共 {len(ops)} 处")
    return "；".join(parts)


def _unit_names(dom: Domain, frames: dict[str, pd.DataFrame], codes: Iterable[str]) -> dict[str, str]:
    seen: dict[str, str] = {}
    unit = dom.unit
    if unit.names.startswith("column:"):
        name_col = unit.names.split(":", 1)[1]
        for table, frame in frames.items():
            col = unit.column_of(table)
            if col in frame.columns and name_col in frame.columns:
                pairs = frame[[col, name_col]].dropna()
                for c, n in zip(pairs[col], pairs[name_col], strict=True):
                    seen.setdefault(c, n)
    return {c: unit.name_of(c, seen) for c in codes}


@dataclass
class _Cell:
    """A proposed change while the table is planned."""

    index: int  # position in the frame
    field: str
    old: str
    new: str
    fixers: tuple[str, ...]
    rule_ids: tuple[str, ...]


class _TablePlanner:
    """Plans one table (see :func:`make_plan`)."""

    def __init__(self, dom: Domain, loaded: LoadedTable, fixers: list[FieldFixer]) -> None:
        self.dom = dom
        self.loaded = loaded
        self.frame = loaded.frame
        self.fixers = fixers
        self.rules = [r for r in dom.rules if r.target == loaded.table and r.target_kind == "table"]
        self._masks: dict[str, np.ndarray] = {}
        self.person: list[tuple[int, str, str, tuple[str, ...], tuple[str, ...], str, str]] = []

    def applies(self, rule: Rule) -> np.ndarray:
        if rule.rule_id not in self._masks:
            cond = rule.condition
            if cond is None:
                mask = np.ones(len(self.frame), dtype=bool)
            elif any(c not in self.frame.columns for c in cond.columns):
                mask = np.zeros(len(self.frame), dtype=bool)  # not evaluated on this file
            else:
                mask = cond.mask(self.frame).to_numpy(dtype=bool)
            self._masks[rule.rule_id] = mask
        return self._masks[rule.rule_id]

    def _single(self, field_code: str) -> list[Rule]:
        return [
            r
            for r in self.rules
            if not r.type.startswith("expect_column_pair_") and r.kwargs.get("column") == field_code
        ]

    def plan(self) -> list[_Cell]:
        by_field: dict[str, list[FieldFixer]] = {}
        for ff in self.fixers:
            by_field.setdefault(ff.field, []).append(ff)
        cells: list[_Cell] = []
        for field_code, ffs in by_field.items():
            if field_code not in self.frame.columns:
                continue  # an optional column this export does not have
            cells += self._plan_field(field_code, ffs)
        cells = self._check_pairs(cells)
        return self._check_unique(cells)

    def _plan_field(self, field_code: str, ffs: list[FieldFixer]) -> list[_Cell]:
        types = frozenset().union(*(ff.fixer.rule_types for ff in ffs))
        single = self._single(field_code)
        targets = [r for r in single if r.type in types and _value_test(r) is not None]
        if not targets:
            ids = "、".join(dict.fromkeys(ff.fixer.id for ff in ffs))
            raise ConfigError(
                f"领域包为 {self.loaded.table}.{field_code} 声明了整理器 {ids}，但该字段没有这些整理器能使之通过的规则。",
                f"the pack declares fixer(s) {ids} for {self.loaded.table}.{field_code}, but the field has no "
                "rule they can make pass.",
                path=self.dom.path / "domain.yaml",
                fix_zh="删除这项声明，或为该字段加上相应的格式规则。",
                fix_en="remove the declaration or give the field the matching format rule.",
            )
        others = [(r, t) for r in single if r not in targets and (t := _value_test(r)) is not None]
        tests = {r.rule_id: _value_test(r) for r in targets}
        col = self.frame[field_code]
        values = col.to_numpy(dtype=object)
        present = col.notna().to_numpy()
        failing = np.zeros(len(col), dtype=bool)
        for r in targets:
            where = present & self.applies(r)
            test = tests[r.rule_id]
            bad = {v for v in pd.unique(values[where]) if not test(v)}
            if bad:
                failing |= where & col.isin(list(bad)).to_numpy()
        chain = [(ff.fixer.id, ff.bind()) for ff in ffs]
        fixer_ids = tuple(dict.fromkeys(i for i, _ in chain))
        memo: dict[str, tuple[str, tuple[str, ...], list[Outcome]]] = {}
        passes: dict[tuple[str, str], bool] = {}

        def ok(rule_id: str, test: Callable[[str], bool], v: str) -> bool:
            key = (rule_id, v)
            if key not in passes:
                passes[key] = bool(test(v))
            return passes[key]

        out: list[_Cell] = []
        for i in np.flatnonzero(failing):
            old = values[i]
            if old not in memo:
                current, used, refusals = old, [], []
                for fid, fn in chain:
                    outcome = fn(current)
                    if outcome.kind == FIXED:
                        current = outcome.value
                        used.append(fid)
                    elif outcome.kind == PERSON:
                        refusals.append(outcome)
                memo[old] = (current, tuple(dict.fromkeys(used)), refusals)
            new, used, refusals = memo[old]
            applying = [r for r in targets if self.applies(r)[i]]
            failed = [r for r in applying if not ok(r.rule_id, tests[r.rule_id], old)]
            rule_ids = tuple(r.rule_id for r in failed)
            if new == old:
                zh, en = _why(refusals, failed)
                self.person.append((i, field_code, old, fixer_ids, rule_ids, zh, en))
                continue
            still = [r for r in applying if not ok(r.rule_id, tests[r.rule_id], new)]
            broken = [
                r
                for r, t in others
                if self.applies(r)[i] and ok(r.rule_id, t, old) and not ok(r.rule_id, t, new)
            ]
            if not new.strip():
                broken = broken or failed
            if still or broken:
                r = (still or broken)[0]
                if still:
                    zh, en = _why(refusals, still)
                else:
                    zh, en = _breaks(r)
                self.person.append((i, field_code, old, fixer_ids, rule_ids, zh, en))
                continue
            out.append(_Cell(int(i), field_code, old, new, used, rule_ids))
        return out

    def _withdraw(self, cells: list[_Cell], drop: set[int], rule: Rule) -> list[_Cell]:
        zh, en = _breaks(rule)
        keep = []
        for k, c in enumerate(cells):
            if k in drop:
                fixers = tuple(dict.fromkeys(ff.fixer.id for ff in self.fixers if ff.field == c.field))
                self.person.append((c.index, c.field, c.old, fixers, c.rule_ids, zh, en))
            else:
                keep.append(c)
        return keep

    def _check_pairs(self, cells: list[_Cell]) -> list[_Cell]:
        """Withdraw the changes of a row that would make one of its column-pair rules fail."""
        pairs = [(r, pt) for r in self.rules if (pt := _pair_test(r)) is not None]
        for _ in range(4):
            by_row: dict[int, dict[str, int]] = defaultdict(dict)
            for k, c in enumerate(cells):
                by_row[c.index][c.field] = k
            drop: set[int] = set()
            culprit: Rule | None = None
            for rule, (test, ignore) in pairs:
                a_col, b_col = rule.kwargs.get("column_A"), rule.kwargs.get("column_B")
                if a_col not in self.frame.columns or b_col not in self.frame.columns:
                    continue
                mask = self.applies(rule)
                a_vals, b_vals = (
                    self.frame[a_col].to_numpy(dtype=object),
                    self.frame[b_col].to_numpy(dtype=object),
                )
                for i, fields in by_row.items():
                    if (a_col not in fields and b_col not in fields) or not mask[i]:
                        continue
                    a_old, b_old = a_vals[i], b_vals[i]
                    a_new = cells[fields[a_col]].new if a_col in fields else a_old
                    b_new = cells[fields[b_col]].new if b_col in fields else b_old
                    if _pair_passes(test, ignore, a_old, b_old) and not _pair_passes(
                        test, ignore, a_new, b_new
                    ):
                        drop |= {fields[f] for f in (a_col, b_col) if f in fields}
                        culprit = culprit or rule
            if not drop or culprit is None:
                return cells
            cells = self._withdraw(cells, drop, culprit)
        return cells

    def _check_unique(self, cells: list[_Cell]) -> list[_Cell]:
        """Withdraw changes that would make a value of a uniqueness rule's column occur twice."""
        uniques = [r for r in self.rules if r.type == "expect_column_values_to_be_unique"]
        for _ in range(4):
            drop: set[int] = set()
            culprit: Rule | None = None
            for rule in uniques:
                col_name = rule.kwargs.get("column")
                mine = {k: c for k, c in enumerate(cells) if c.field == col_name}
                if not mine:
                    continue
                where = self.applies(rule)
                before = self.frame[col_name].where(where, None)
                after = before.copy()
                for c in mine.values():
                    if where[c.index]:
                        after.iat[c.index] = c.new
                dup_before = before.notna() & before.duplicated(keep=False)
                dup_after = after.notna() & after.duplicated(keep=False)
                newly = set(after[dup_after & ~dup_before].dropna().unique())
                hit = {k for k, c in mine.items() if c.new in newly}
                if hit:
                    drop |= hit
                    culprit = culprit or rule
            if not drop or culprit is None:
                return cells
            cells = self._withdraw(cells, drop, culprit)
        return cells


def _why(refusals: list[Outcome], failed: list[Rule]) -> tuple[str, str]:
    if refusals:
        return refusals[0].reason_zh, refusals[0].reason_en
    rule = failed[0] if failed else None
    what = f"（规则 {rule.rule_id}：{rule.meta.get('message_zh', '')}）" if rule else ""
    what_en = f" (rule {rule.rule_id})" if rule else ""
    return (
        f"该值不符合规则{what}，但不是能确定改法的格式问题；请对照原始记录改正。",
        f"the value fails its rule{what_en}, but this is no format slip with one right correction; "
        "check the original record.",
    )


def _breaks(rule: Rule) -> tuple[str, str]:
    return (
        f"改正写法后会使规则 {rule.rule_id} 不通过（{rule.meta.get('message_zh', '')}）：这一处要一并核对，请人工处理。",
        f"correcting the spelling would make rule {rule.rule_id} fail: the record needs checking by a person.",
    )


def _as_of(dom: Domain, frames: dict[str, pd.DataFrame]) -> dt.datetime | None:
    """The batch's default as-of, as :func:`toolkit.check.latest_timestamp` computes it (the latest
    readable, plausible timestamp of the pack's ``as_of_fields``); kept here so that planning does not load
    Great Expectations. ``tests/test_clean.py`` checks that the two agree."""
    best: dt.datetime | None = None
    for table, fields in (dom.config.get("as_of_fields") or {}).items():
        frame = frames.get(table)
        if frame is None:
            continue
        for f in fields:
            if f not in frame.columns:
                continue
            lo, hi = dom.plausible_years(table, f)
            for v in frame[f].dropna().unique():
                ts = parse_datetime(v)
                if ts is not None and lo <= ts.year <= hi and (best is None or ts > best):
                    best = ts
    return best


class _ViewGuard:
    """The pack's cross-table rules (on its prepared views), evaluated before and after a set of changes:
    a change that would make one of them newly fail is withdrawn (it needs a person).

    The views are the pack's own SQL, run in the DuckDB sandbox over the batch's tables as the check runs
    them; the rules are evaluated in Python (:func:`_value_test`, :func:`_pair_test`) with their row
    conditions. Rules of other kinds on views (none in the shipped packs) are not evaluated here; the
    re-check after applying shows them."""

    def __init__(self, dom: Domain, frames: dict[str, pd.DataFrame]) -> None:
        from toolkit.views import AS_OF_TABLE, connect, sandbox

        self.dom = dom
        self.frames = frames
        self._positions: dict[str, dict[str, int]] = {}
        self.rules: dict[str, list[tuple[Rule, Any, bool]]] = defaultdict(list)
        for r in dom.rules:
            if r.target_kind != "view" or r.target not in dom.views or r.target not in dom.views_sql:
                continue
            if not all(t in frames for t in dom.views[r.target].get("tables", [])):
                continue
            if any(t not in frames for t in r.requires) or any(
                c not in frames[r.table].columns for c in r.requires_columns if r.table in frames
            ):
                continue
            single, pair = _value_test(r), _pair_test(r)
            if single is not None or pair is not None:
                self.rules[r.target].append((r, single if single is not None else pair, pair is not None))
        self.as_of_table = AS_OF_TABLE
        self.con = None
        if not self.rules:
            return
        batch = _FramesBatch(frames)
        self.as_of = _as_of(dom, frames)
        self.con = connect(dom, batch, self.as_of)  # type: ignore[arg-type]
        sandbox(self.con)
        self.applied: dict[tuple[str, int, str], str] = {}
        self.before = self._failures()

    def close(self) -> None:
        if self.con is not None:
            self.con.close()

    def _value(self, table: str, row: int, field_code: str) -> Any:
        """The batch's value of a cell (by Excel row), through a row index built once per table."""
        positions = self._positions.get(table)
        if positions is None:
            rows = self.frames[table][ROW_COLUMN].to_numpy(dtype=object)
            positions = self._positions[table] = {str(r): i for i, r in enumerate(rows)}
        return self.frames[table][field_code].iat[positions[str(row)]]

    def _failures(self) -> dict[tuple[str, str], set[str]]:
        """(rule id, unit code) → the failing rows (the view's ``_ROW``)."""
        out: dict[tuple[str, str], set[str]] = defaultdict(set)
        for view, rules in self.rules.items():
            sql = self.dom.views_sql[view]
            frame = self.con.execute(f"SELECT * FROM ({sql})").df().astype(object)
            frame = frame.where(frame.notna(), None)
            ucol = self.dom.unit.column_of(view)
            units = frame[ucol].to_numpy(dtype=object) if ucol in frame.columns else np.full(len(frame), "")
            rows = frame[ROW_COLUMN].to_numpy(dtype=object)
            for rule, test, is_pair in rules:
                cond = rule.condition
                if cond is not None and any(c not in frame.columns for c in cond.columns):
                    continue
                mask = (
                    cond.mask(frame).to_numpy(dtype=bool) if cond is not None else np.ones(len(frame), bool)
                )
                if is_pair:
                    a, b = rule.kwargs.get("column_A"), rule.kwargs.get("column_B")
                    if a not in frame.columns or b not in frame.columns:
                        continue
                    fn, ignore = test
                    a_vals, b_vals = frame[a].to_numpy(dtype=object), frame[b].to_numpy(dtype=object)
                    pair_memo: dict[tuple[Any, Any], bool] = {}
                    bad = []
                    for i in np.flatnonzero(mask):
                        key = (a_vals[i], b_vals[i])
                        passes = pair_memo.get(key)
                        if passes is None:
                            passes = pair_memo[key] = _pair_passes(fn, ignore, *key)
                        if not passes:
                            bad.append(i)
                else:
                    col = rule.kwargs.get("column")
                    if col not in frame.columns:
                        continue
                    values = frame[col].to_numpy(dtype=object)
                    memo: dict[str, bool] = {}
                    bad = [
                        i
                        for i in np.flatnonzero(mask)
                        if values[i] is not None and not memo.setdefault(values[i], bool(test(values[i])))
                    ]
                for i in bad:
                    out[(rule.rule_id, str(units[i] or ""))].add(str(rows[i]))
        return out

    def _set(self, changes: list[Change]) -> None:
        wanted = {(c.table, c.row, c.field): c.new for c in changes}
        cells: dict[tuple[str, str], list[tuple[str, str | None]]] = defaultdict(list)
        for key in set(self.applied) | set(wanted):
            if self.applied.get(key) == wanted.get(key):
                continue
            table, row, field_code = key
            value = wanted[key] if key in wanted else self._value(table, row, field_code)
            cells[(table, field_code)].append((str(row), value))
        for (table, field_code), values in cells.items():
            upd = pd.DataFrame(values, columns=["r", "v"], dtype=object)
            self.con.register("dq_upd", upd)
            self.con.execute(
                f'UPDATE "{table}" SET "{field_code}" = dq_upd.v FROM dq_upd WHERE "{table}".{ROW_COLUMN} = dq_upd.r'
            )
            self.con.unregister("dq_upd")
        self.applied = wanted
        fields = self.dom.config.get("as_of_fields") or {}
        if any(f in fields.get(t, ()) for t, f in cells):
            self.con.execute(
                f"UPDATE {self.as_of_table} SET AS_OF = CAST(? AS TIMESTAMP)", [self._as_of_after(wanted)]
            )

    def _as_of_after(self, wanted: dict[tuple[str, int, str], str]) -> dt.datetime | None:
        """The as-of with these cells changed: a changed value can only add a timestamp, unless its old
        value was itself a readable one (then it is computed again from scratch)."""
        fields = self.dom.config.get("as_of_fields") or {}
        best = self.as_of
        for (table, row, field_code), new in wanted.items():
            if field_code not in fields.get(table, ()):
                continue
            lo, hi = self.dom.plausible_years(table, field_code)
            old = self._value(table, row, field_code)
            if (ts := parse_datetime(old)) is not None and lo <= ts.year <= hi:
                frames = {t: f.copy() for t, f in self.frames.items()}
                for (t, r, f), v in wanted.items():
                    frames[t].loc[frames[t][ROW_COLUMN] == str(r), f] = v
                return _as_of(self.dom, frames)
            ts = parse_datetime(new)
            if ts is not None and lo <= ts.year <= hi and (best is None or ts > best):
                best = ts
        return best

    def new_failures(self, changes: list[Change]) -> dict[tuple[str, str], set[str]]:
        if self.con is None:
            return {}
        self._set(changes)
        after = self._failures()
        return {
            k: rows - self.before.get(k, set())
            for k, rows in after.items()
            if rows - self.before.get(k, set())
        }

    def candidates(self, rule: Rule, unit: str, changes: list[Change]) -> list[Change]:
        """The changes that can affect ``rule``'s view in ``unit``: in one of its tables, of a field its SQL
        names (every field when the SQL selects ``*``)."""
        spec = self.dom.views[rule.target]
        tables = {*spec.get("tables", []), *spec.get("joins", [])}
        sql = self.dom.views_sql[rule.target]
        names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", sql))
        star = re.search(r"\*\s*(?:,|FROM\b)", sql, re.I) is not None
        return [
            c
            for c in changes
            if c.table in tables and (star or c.field in names) and (not unit or c.unit_code == unit)
        ]


class _FramesBatch:
    """What :func:`toolkit.views.connect` needs of a batch: its tables' frames."""

    def __init__(self, frames: dict[str, pd.DataFrame]) -> None:
        self.tables = {code: _FramesTable(frame) for code, frame in frames.items()}


@dataclass
class _FramesTable:
    frame: pd.DataFrame


def _guard_views(
    dom: Domain, frames: dict[str, pd.DataFrame], changes: list[Change]
) -> tuple[list[Change], list[tuple[Change, Rule]]]:
    """Split ``changes`` into those kept and those withdrawn because a cross-table rule would newly fail
    (see :class:`_ViewGuard`): for each rule and unit that would newly fail, the smallest group of changes
    (same table and field) whose withdrawal prevents it, else all the changes that can affect it."""
    if not changes:
        return changes, []
    guard = _ViewGuard(dom, frames)
    withdrawn: list[tuple[Change, Rule]] = []
    try:
        kept = list(changes)
        for _ in range(50):
            new = guard.new_failures(kept)
            if not new:
                break
            (rule_id, unit) = sorted(new)[0]
            rule = dom.rule(rule_id)
            cands = guard.candidates(rule, unit, kept)
            if not cands:
                break  # nothing the plan changes can be blamed: the re-check shows it
            groups: dict[tuple[str, str], list[Change]] = defaultdict(list)
            for c in cands:
                groups[(c.table, c.field)].append(c)
            chosen = cands
            if len(groups) > 1:
                for group in groups.values():
                    ids = {id(c) for c in group}
                    trial = [c for c in kept if id(c) not in ids]
                    if (rule_id, unit) not in guard.new_failures(trial):
                        chosen = group
                        break
            ids = {id(c) for c in chosen}
            kept = [c for c in kept if id(c) not in ids]
            withdrawn += [(c, rule) for c in chosen]
        else:
            new = guard.new_failures(kept)
            for rule_id, unit in sorted(new):
                rule = dom.rule(rule_id)
                cands = guard.candidates(rule, unit, kept)
                ids = {id(c) for c in cands}
                kept = [c for c in kept if id(c) not in ids]
                withdrawn += [(c, rule) for c in cands]
    finally:
        guard.close()
    return kept, withdrawn


def _batch_files(dom: Domain, batch: Path) -> tuple[dict[str, Path], dict[str, str]]:
    """Table code → file of the batch, and the files that are not edited (name → why)."""
    found = discover_tables(batch, list(dom.tables))
    files: dict[str, Path] = {}
    skipped: dict[str, str] = {}
    for table, path in found.files.items():
        if path.is_symlink():
            skipped[path.name] = (
                "符号链接，不整理（请整理它指向的文件）/ a symbolic link: clean the file it points to"
            )
        elif path.suffix.lower() == ".parquet":
            skipped[path.name] = (
                "Parquet 文件不整理（请在源系统中改正后重新导出）/ Parquet files are not edited"
            )
        else:
            files[table] = path
    return files, skipped


def make_plan(batch_dir: str | Path, *, domain: str | Path | Domain, progress: bool = False) -> CleanPlan:
    """Plan the clean-up of a batch (see the module docstring); nothing is written.

    Raises :class:`~toolkit.errors.InputError` if the batch cannot be read and
    :class:`~toolkit.errors.ConfigError` if the pack's ``fixers:`` section is wrong."""
    started = time.perf_counter()
    dom = _domain(domain)
    batch = Path(batch_dir)
    ffs = field_fixers(dom)
    files, skipped = _batch_files(dom, batch)
    loaded: dict[str, LoadedTable] = {}
    infos: dict[str, FileInfo] = {}
    for table, path in files.items():
        if progress:
            from toolkit.console import err

            err.print(f"读取 / reading {_shown(path.name)}", highlight=False)
        lt = read_table(path, table)
        loaded[table] = lt
        infos[path.name] = FileInfo(path.name, table, lt.format, sha256_file(path), lt.encoding)
    frames = {t: lt.frame for t, lt in loaded.items()}
    masker = Masker.for_frames(dom.pii_fields(), frames.values(), exempt=dom.key_fields())
    changes: list[Change] = []
    person: list[NeedsPerson] = []
    for table, lt in loaded.items():
        mine = [ff for ff in ffs if ff.table == table]
        if not mine:
            continue
        planner = _TablePlanner(dom, lt, mine)
        cells = planner.plan()
        frame = lt.frame
        rows = frame[ROW_COLUMN].to_numpy(dtype=object)
        ucol = dom.unit.column_of(table)
        units = frame[ucol].to_numpy(dtype=object) if ucol in frame.columns else None
        key_cols = [k for k in dom.record_key(table) if k in frame.columns]
        keys = [frame[k].to_numpy(dtype=object) for k in key_cols]

        def where(
            i: int, _u: Any = units, _keys: list[Any] = keys, _kc: list[str] = key_cols
        ) -> tuple[str, str]:
            unit = "" if _u is None or _u[i] is None else str(_u[i])
            key = "|".join(str(masker.value(k, v[i]) or "") for k, v in zip(_kc, _keys, strict=True))
            return unit, key

        for c in sorted(cells, key=lambda c: (c.index, list(frame.columns).index(c.field))):
            unit, key = where(c.index)
            changes.append(
                Change(
                    lt.path.name,
                    table,
                    int(rows[c.index]),
                    c.field,
                    c.old,
                    c.new,
                    c.fixers,
                    c.rule_ids,
                    unit,
                    key,
                )
            )
        for i, f, v, fixers, rule_ids, zh, en in sorted(planner.person, key=lambda p: (p[0], p[1])):
            unit, key = where(i)
            person.append(
                NeedsPerson(lt.path.name, table, int(rows[i]), f, v, fixers, rule_ids, zh, en, unit, key)
            )
    changes, withdrawn = _guard_views(dom, {t: lt.frame for t, lt in loaded.items()}, changes)
    for c, rule in withdrawn:
        zh, en = _breaks(rule)
        fixers = tuple(
            dict.fromkeys(ff.fixer.id for ff in ffs if ff.table == c.table and ff.field == c.field)
        )
        person.append(
            NeedsPerson(
                c.file, c.table, c.row, c.field, c.old, fixers, c.rule_ids, zh, en, c.unit_code, c.record_key
            )
        )
    person.sort(key=lambda p: (list(infos).index(p.file), p.row, p.field))
    codes = {c.unit_code for c in changes} | {p.unit_code for p in person}
    created = _now()
    plan = CleanPlan(
        domain=dom,
        batch_dir=batch,
        files=infos,
        changes=changes,
        needs_person=person,
        skipped=skipped,
        masker=masker,
        unit_names=_unit_names(dom, frames, codes),
        digest=fixers_digest(dom),
        created=created,
        rows_read=sum(lt.rows for lt in loaded.values()),
        frames=frames,
    )
    plan.plan_id = f"{created:%Y%m%d-%H%M%S}-{plan.batch_sha256[:8]}"
    plan.seconds = time.perf_counter() - started
    return plan


# ================================================================================================ plan files


def _xlsx_frame(frame: pd.DataFrame, unit_label: str) -> pd.DataFrame:
    names = {**_XLSX_HEADERS, "unit_code": f"{unit_label}代码", "unit_name": f"{unit_label}名称"}
    return frame.rename(columns={c: names.get(c, c) for c in frame.columns})


def _prepare_plan_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise CleanError(
            "计划输出位置是一个文件，不是文件夹。",
            "the plan's output is a file, not a folder.",
            path=out,
            fix_zh="--out 请给一个新的或空的文件夹。",
            fix_en="give --out a new or empty folder.",
        )
    if out.is_dir():
        stray = sorted(p.name for p in out.iterdir() if p.name not in PLAN_FILES and p.name != "cleaned")
        if stray:
            raise CleanError(
                f"计划文件夹中有不是本工具生成的文件（{_shown(', '.join(stray[:5]))}），不会覆盖。",
                f"the plan folder holds files the toolkit did not write ({_shown(', '.join(stray[:5]))}); "
                "nothing is overwritten.",
                path=out,
                fix_zh="--out 请给一个新的或空的文件夹。",
                fix_en="give --out a new or empty folder.",
            )
    out.mkdir(parents=True, exist_ok=True)


def write_plan(plan: CleanPlan, out_dir: str | Path) -> dict[str, Path]:
    """Write the plan files (:data:`PLAN_FILES`) to ``out_dir`` (new, empty or an earlier plan's folder);
    return their paths. Every value is masked; CSV and XLSX go through :mod:`toolkit.sheets`."""
    out = Path(out_dir)
    _prepare_plan_dir(out)
    unit_label = plan.domain.unit.label_zh
    changes, person, summary = plan.changes_table(), plan.needs_person_table(), plan.summary()
    paths = {name: out / name for name in PLAN_FILES}
    write_csv(changes, paths["plan.csv"])
    write_csv(person, paths["needs_person.csv"])
    write_csv(summary, paths["summary.csv"])
    info = pd.DataFrame(
        [
            ("计划编号 plan", plan.plan_id),
            ("领域 domain", f"{plan.domain.name} {plan.domain.label}"),
            ("批次 batch", plan.masker.text(str(plan.batch_dir.resolve()))),
            ("批次哈希 batch SHA-256", plan.batch_sha256),
            ("生成时间 created", plan.created.isoformat(sep=" ")),
            ("读取行数 rows read", str(plan.rows_read)),
            ("改动 changes", str(len(plan.changes))),
            ("需人工 needs a person", str(len(plan.needs_person))),
            ("涉及文件 files changed", "、".join(plan.masker.text(n) for n in plan.changed_files) or "—"),
            *((f"未整理 skipped: {plan.masker.text(n)}", why) for n, why in plan.skipped.items()),
            (
                "批准后执行 apply after approval",
                f"dq clean apply --plan {plan.masker.text(str(out))} --approved-by <批准人 approver>",
            ),
            (
                "说明 note",
                "值已脱敏；只改格式，不猜内容。批次在生成计划后有任何改动，执行时会被拒绝。"
                " Values are masked; only spellings change. If the batch changes after planning, apply refuses.",
            ),
        ],
        columns=["项目 item", "内容 value"],
    )
    frames_to_xlsx(
        {
            "说明": info,
            "改动": _xlsx_frame(changes, unit_label),
            "需人工": _xlsx_frame(person, unit_label),
            "汇总": _xlsx_frame(summary, unit_label),
        },
        paths["plan.xlsx"],
    )
    paths["plan.json"].write_text(json.dumps(plan.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    return paths


def read_plan(plan: str | Path) -> tuple[dict[str, Any], Path]:
    """``plan.json`` of a plan folder (or the file itself) and the plan folder."""
    path = Path(plan)
    folder = path if path.is_dir() else path.parent
    file = path / "plan.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CleanError(
            f"无法读取整理计划：{exc}",
            f"cannot read the clean-up plan: {exc}",
            path=file,
            fix_zh="--plan 应指向 dq clean plan 写出的文件夹（含 plan.json）。",
            fix_en="--plan must name the folder dq clean plan wrote (it holds plan.json).",
        ) from exc
    if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
        raise CleanError(
            "不是整理计划文件（plan.json 格式不对）。",
            "not a clean-up plan (plan.json has the wrong format).",
            path=file,
            fix_zh="用 dq clean plan 重新生成计划。",
            fix_en="plan again with dq clean plan.",
        )
    return data, folder


# ================================================================================================ editing files


def csv_encoding(data: bytes, path: Path) -> str:
    """``utf-8-sig`` (with BOM), ``utf-8`` or ``gb18030``: what Excel/WPS save and the loader reads."""
    candidates = ("utf-8-sig",) if data.startswith(_UTF8_BOM) else ("utf-8", "gb18030")
    for encoding in candidates:
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    raise CleanError(
        f"文件 {_shown(path.name)} 既不是 UTF-8 也不是 GB18030 编码。",
        f"file {_shown(path.name)} is neither UTF-8 nor GB18030 encoded.",
        path=path,
        fix_zh="在 Excel/WPS 中另存为“CSV UTF-8（逗号分隔）”。",
        fix_en="save it as 'CSV UTF-8 (comma delimited)' from Excel/WPS.",
    )


def _field_spans(text: str) -> list[tuple[int, int]] | None:
    """Start and end of each field of one CSV record (without its line ending), as the ``excel`` dialect
    reads it; ``None`` if the record is not well formed."""
    spans: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while True:
        start = i
        if i < n and text[i] == '"':
            i += 1
            while True:
                j = text.find('"', i)
                if j < 0:
                    return None
                if j + 1 < n and text[j + 1] == '"':
                    i = j + 2
                    continue
                i = j + 1
                break
            if i < n and text[i] != ",":
                return None
        else:
            j = text.find(",", i)
            i = n if j < 0 else j
        spans.append((start, i))
        if i >= n:
            return spans
        i += 1
        if i == n:
            spans.append((n, n))
            return spans


def _unquote(raw: str) -> str:
    return raw[1:-1].replace('""', '"') if raw.startswith('"') else raw


def _quote(value: str, quoted: bool) -> str:
    if quoted or any(c in value for c in ',"\r\n') or value == "":
        return '"' + value.replace('"', '""') + '"'
    return value


def _rewrite_record(text: str, edits: dict[int, tuple[str | None, str]], where: str) -> str:
    """One record (line ending included) with the fields ``edits`` names (column index → (expected old
    value or ``None`` for "any", new value)) replaced; every other byte kept."""
    body = text.rstrip("\r\n")
    ending = text[len(body) :]
    fields = next(csv.reader([body], strict=True), []) if body else []
    spans = _field_spans(body) if body else []
    if spans is None or [_unquote(body[a:b]) for a, b in spans] != fields:
        spans = None  # fall back to writing the whole record
    for col, (old, _new) in edits.items():
        current = fields[col] if col < len(fields) else ""
        if old is not None and current != old:
            raise InternalError(
                f"{where}第 {col + 1} 列的值与计划不符。",
                f"{where}: column {col + 1} does not hold the planned value.",
            )
    if spans is None:
        values = list(fields)
        for col, (_old, new) in edits.items():
            values.extend([""] * (col + 1 - len(values)))
            values[col] = new
        buf = io.StringIO(newline="")
        csv.writer(buf, lineterminator="").writerow(values)
        return buf.getvalue() + ending
    out = body
    extra = max(edits) + 1 - len(spans) if edits else 0
    if extra > 0:  # a short record: add the missing empty fields
        spans = spans + [(len(body) + k + 1, len(body) + k + 1) for k in range(extra)]
        out = body + "," * extra
    for col in sorted(edits, reverse=True):  # right to left: earlier spans stay valid
        a, b = spans[col]
        out = out[:a] + _quote(edits[col][1], out[a:b].startswith('"')) + out[b:]
    return out + ending


def _records(body: bytes, codec: str) -> Iterator[tuple[int, list[bytes], str]]:
    """(record number, its raw lines as bytes, its decoded text) for each CSV record."""
    if csv.field_size_limit() < MAX_FIELD_CHARS:
        csv.field_size_limit(MAX_FIELD_CHARS)
    pending: list[bytes] = []
    texts: list[str] = []
    lines = iter(body.splitlines(keepends=True))

    def feed() -> Iterator[str]:
        for line in lines:
            pending.append(line)
            text = line.decode(codec)
            texts.append(text)
            yield text

    reader = csv.reader(feed(), strict=True)
    number = 0
    for _record in reader:
        number += 1
        yield number, pending[:], "".join(texts)
        pending.clear()
        texts.clear()


Edits = dict[int, dict[str, tuple[str | None, str]]]
"""Cells to change: row as Excel shows it (header = 1) → field code → (expected old value or ``None``,
new value)."""


def _resolve(header: list[str], edits: Edits, path: Path) -> dict[int, dict[int, tuple[str | None, str]]]:
    index = {}
    for i, h in enumerate(header):
        index.setdefault(normalise_header(h), i)
    out: dict[int, dict[int, tuple[str | None, str]]] = {}
    for row, cells in edits.items():
        for field_code, change in cells.items():
            if normalise_header(field_code) not in index:
                raise CleanError(
                    f"文件 {_shown(path.name)} 没有字段 {_shown(field_code)}。",
                    f"file {_shown(path.name)} has no field {_shown(field_code)}.",
                    path=path,
                )
            out.setdefault(row, {})[index[normalise_header(field_code)]] = change
    return out


def rewrite_csv(data: bytes, path: Path, edits: Edits) -> bytes:
    """The bytes of a CSV file with the cells ``edits`` names changed (see :data:`Edits`; the field is
    found by the file's header). The encoding is kept, and every record and every field that is not
    edited keeps its exact bytes (quoting, line ending). A file of plain ASCII bytes carries no sign of its
    encoding: it is UTF-8, as the loader reads it (a new non-ASCII value is written in UTF-8)."""
    encoding = csv_encoding(data, path)
    bom = _UTF8_BOM if encoding == "utf-8-sig" else b""
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    body = data[len(bom) :]
    out = [bom]
    done = set()
    by_index: dict[int, dict[int, tuple[str | None, str]]] = {}
    try:
        for number, raw, text in _records(body, codec):
            if number == 1:
                by_index = _resolve(next(csv.reader([text.rstrip("\r\n")], strict=True), []), edits, path)
            if number in by_index:
                out.append(
                    _rewrite_record(text, by_index[number], f"{path.name} 第 {number} 行").encode(codec)
                )
                done.add(number)
            else:
                out.extend(raw)
    except csv.Error as exc:
        raise CleanError(
            f"文件 {_shown(path.name)} 无法按 CSV 解析：{exc}。",
            f"file {_shown(path.name)} cannot be parsed as CSV: {exc}.",
            path=path,
            fix_zh="先用 dq check 检查该批次，按提示修好文件后再整理。",
            fix_en="check the batch with dq check first and repair the file as it says.",
        ) from exc
    missing = sorted(set(edits) - done)
    if missing:
        raise CleanError(
            f"文件 {_shown(path.name)} 没有第 {missing[0]} 行。",
            f"file {_shown(path.name)} has no row {missing[0]}.",
            path=path,
        )
    return b"".join(out)


_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _part(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    parts: list[str] = []
    for piece in (str(PurePosixPath(base).parent) + "/" + target).split("/"):
        if piece in ("", "."):
            continue
        if piece == "..":
            if parts:
                parts.pop()
        else:
            parts.append(piece)
    return "/".join(parts)


def _rels(z: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    p = PurePosixPath(part)
    name = str(p.parent / "_rels" / (p.name + ".rels")) if str(p.parent) != "." else f"_rels/{p.name}.rels"
    root = ElementTree.fromstring(z.read(name))
    return {
        r.get("Id", ""): (r.get("Type", ""), _part(part, r.get("Target", "")))
        for r in root.iter(f"{{{_PKG_REL_NS}}}Relationship")
    }


def _first_sheet_part(z: zipfile.ZipFile) -> str:
    """The part name of the workbook's first worksheet (the one the loader reads)."""
    top = _rels(z, "")
    book = next(t for kind, t in top.values() if kind.endswith("/officeDocument"))
    rels = _rels(z, book)
    root = ElementTree.fromstring(z.read(book))
    for sheet in root.iter(f"{{{_MAIN_NS}}}sheet"):
        kind, target = rels.get(sheet.get(f"{{{_REL_NS}}}id", ""), ("", ""))
        if kind.endswith("/worksheet"):
            return target
    raise KeyError("worksheet")


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _xml_escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_ATTR = re.compile(r"""\s+([\w:.-]+)\s*=\s*("[^"]*"|'[^']*')""")


def _patch_sheet(xml: str, edits: dict[int, dict[int, tuple[str | None, str]]], path: Path) -> str:
    """The worksheet XML with the edited cells replaced by inline-string cells (style kept)."""
    row_re = re.compile(r"<((?:[A-Za-z_][\w.-]*:)?)row\b[^>]*?\sr\s*=\s*[\"'](\d+)[\"'][^>]*?(/?)>")
    pieces: list[str] = []
    last = 0
    done: set[int] = set()
    for m in row_re.finditer(xml):
        number = int(m.group(2))
        if number not in edits:
            continue
        prefix = m.group(1)
        if m.group(3) == "/":
            continue
        end = xml.find(f"</{prefix}row>", m.end())
        if end < 0:
            break
        row_xml = xml[m.end() : end]
        for col, (_old, new) in edits[number].items():
            ref = f"{_column_letter(col)}{number}"
            cell_re = re.compile(
                rf"<{re.escape(prefix)}c\b(?P<attrs>[^>]*?\sr\s*=\s*[\"']{ref}[\"'][^>]*?)(?:/>|>(?P<body>.*?)</{re.escape(prefix)}c>)",
                re.S,
            )
            cm = cell_re.search(row_xml)
            if cm is None:
                raise CleanError(
                    f"Excel 文件 {_shown(path.name)} 中找不到单元格 {ref}（工作表没有写单元格地址）。",
                    f"cell {ref} cannot be found in the Excel file {_shown(path.name)} (the sheet does not "
                    "write cell addresses).",
                    path=path,
                    fix_zh="请用 Excel/WPS 打开并重新保存为 .xlsx，或另存为 CSV UTF-8 后再整理。",
                    fix_en="open it in Excel/WPS and save it again as .xlsx, or save it as CSV UTF-8.",
                )
            if cm.group("body") and re.search(rf"<{re.escape(prefix)}f\b", cm.group("body")):
                raise CleanError(
                    f"Excel 文件 {_shown(path.name)} 的单元格 {ref} 是公式，不能整理。",
                    f"cell {ref} of the Excel file {_shown(path.name)} holds a formula and is not edited.",
                    path=path,
                    fix_zh="请在 Excel/WPS 中把公式改为值，或在源系统中改正。",
                    fix_en="replace the formula by its value in Excel/WPS, or correct it at the source.",
                )
            if _XML_BAD.search(new):
                raise InternalError(
                    "新值含有 XML 不允许的字符。", "the new value holds a character XML forbids."
                )
            attrs = "".join(
                f" {a.group(1)}={a.group(2)}" for a in _ATTR.finditer(cm.group("attrs")) if a.group(1) != "t"
            )
            space = ' xml:space="preserve"' if new != new.strip() else ""
            cell = (
                f'<{prefix}c{attrs} t="inlineStr"><{prefix}is><{prefix}t{space}>{_xml_escape(new)}'
                f"</{prefix}t></{prefix}is></{prefix}c>"
            )
            row_xml = row_xml[: cm.start()] + cell + row_xml[cm.end() :]
        pieces.append(xml[last : m.end()])
        pieces.append(row_xml)
        last = end
        done.add(number)
    pieces.append(xml[last:])
    missing = sorted(set(edits) - done)
    if missing:
        raise CleanError(
            f"Excel 文件 {_shown(path.name)} 中找不到第 {missing[0]} 行（工作表没有写行号）。",
            f"row {missing[0]} cannot be found in the Excel file {_shown(path.name)}.",
            path=path,
            fix_zh="请用 Excel/WPS 打开并重新保存为 .xlsx，或另存为 CSV UTF-8 后再整理。",
            fix_en="open it in Excel/WPS and save it again as .xlsx, or save it as CSV UTF-8.",
        )
    return "".join(pieces)


def _xlsx_header(path: Path) -> list[str]:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = wb.worksheets[0].iter_rows(min_row=1, max_row=1, values_only=True)
        return ["" if v is None else str(v) for v in next(rows, ())]
    finally:
        wb.close()


def rewrite_xlsx(path: Path, out: Path, edits: Edits) -> None:
    """Write ``path`` to ``out`` with the cells ``edits`` names (see :data:`Edits`) of the first worksheet
    replaced by text cells (their style kept); every other part's content is copied as it is."""
    by_index = _resolve(_xlsx_header(path), edits, path)
    with zipfile.ZipFile(path) as zin:
        try:
            sheet = _first_sheet_part(zin)
            xml_bytes = zin.read(sheet)
        except (KeyError, StopIteration, ElementTree.ParseError) as exc:
            raise CleanError(
                f"无法在 Excel 文件 {_shown(path.name)} 中找到第一个工作表。",
                f"cannot find the first worksheet of the Excel file {_shown(path.name)}.",
                path=path,
                fix_zh="请用 Excel/WPS 打开并重新保存为 .xlsx，或另存为 CSV UTF-8 后再整理。",
                fix_en="open it in Excel/WPS and save it again as .xlsx, or save it as CSV UTF-8.",
            ) from exc
        declared = re.match(rb"<\?xml[^>]*encoding=[\"']([^\"']+)", xml_bytes)
        if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
            raise CleanError(
                f"Excel 文件 {_shown(path.name)} 的工作表不是 UTF-8 编码。",
                f"the worksheet of {_shown(path.name)} is not UTF-8 encoded.",
                path=path,
                fix_zh="请用 Excel/WPS 重新保存为 .xlsx。",
                fix_en="save it again as .xlsx from Excel/WPS.",
            )
        patched = _patch_sheet(xml_bytes.decode("utf-8"), by_index, path).encode("utf-8")
        with zipfile.ZipFile(out, "w") as zout:
            for item in zin.infolist():
                data = patched if item.filename == sheet else zin.read(item)
                zout.writestr(item, data, compress_type=item.compress_type)


def _write_edited(src: Path, dst: Path, fmt: str, edits: Edits) -> None:
    if fmt == "csv":
        dst.write_bytes(rewrite_csv(src.read_bytes(), src, edits))
    else:
        rewrite_xlsx(src, dst, edits)
    shutil.copymode(src, dst)


def _verify_written(
    path: Path, table: str, original: pd.DataFrame, cells: dict[tuple[int, str], str], shown: str
) -> None:
    """Read the written file back: it must hold the original values except exactly the planned cells."""
    back = read_table(path, table).frame
    expect = original.copy()
    row_pos = {r: i for i, r in enumerate(original[ROW_COLUMN].astype(int))}
    for (row, field_code), new in cells.items():
        expect.iat[row_pos[row], list(expect.columns).index(field_code)] = new
    same = list(back.columns) == list(expect.columns) and len(back) == len(expect)
    if same:
        a = back.fillna("\x00").to_numpy(dtype=object)
        b = expect.fillna("\x00").to_numpy(dtype=object)
        same = bool((a == b).all())
    if not same:
        raise InternalError(
            f"写出的文件 {shown} 与计划不符（除计划的单元格外还有改动），已停止，原文件未被替换。",
            f"the written file {shown} differs from the plan beyond the planned cells; stopped, the original "
            "was not replaced.",
        )


# ================================================================================================ the log


_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS runs (
        run_id TEXT PRIMARY KEY, kind TEXT NOT NULL, undoes TEXT, at TEXT NOT NULL, actor TEXT NOT NULL,
        domain TEXT, plan_id TEXT, batch TEXT, target TEXT, in_place INTEGER, backup TEXT,
        files INTEGER NOT NULL, changes INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS files (
        run_id TEXT NOT NULL, file TEXT NOT NULL, table_code TEXT, format TEXT, encoding TEXT,
        sha256_before TEXT NOT NULL, sha256_after TEXT NOT NULL, changes INTEGER NOT NULL,
        PRIMARY KEY (run_id, file))""",
    """CREATE TABLE IF NOT EXISTS changes (
        run_id TEXT NOT NULL, seq INTEGER NOT NULL, file TEXT NOT NULL, row INTEGER NOT NULL,
        table_code TEXT, field TEXT NOT NULL, fixers TEXT, rule_ids TEXT, unit_code TEXT, record_key TEXT,
        old_masked TEXT, new_masked TEXT, old_hash TEXT NOT NULL, new_hash TEXT NOT NULL,
        PRIMARY KEY (run_id, seq))""",
    """CREATE TABLE IF NOT EXISTS events (
        id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, at TEXT NOT NULL, event TEXT NOT NULL,
        detail TEXT)""",
    *(
        f"""CREATE TRIGGER IF NOT EXISTS {t}_no_{op.lower()} BEFORE {op} ON {t}
            BEGIN SELECT RAISE(ABORT, '整理记录只能追加 / the clean-up log is append-only'); END"""
        for t in ("runs", "files", "changes", "events")
        for op in ("UPDATE", "DELETE")
    ),
)


def _connect(log: Path, *, create: bool) -> sqlite3.Connection:
    if not create and not log.is_file():
        raise CleanError(
            "整理记录文件不存在。",
            "the clean-up log does not exist.",
            path=log,
            fix_zh="用 --log 指定 dq clean apply 时用的记录文件（或设置环境变量 DQ_CLEAN_LOG）。",
            fix_en="name the log dq clean apply wrote with --log (or set DQ_CLEAN_LOG).",
        )
    if create:
        log.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = sqlite3.connect(log, timeout=30, isolation_level=None)
        con.execute("PRAGMA busy_timeout = 30000")
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA synchronous = FULL")
        for stmt in _SCHEMA:
            con.execute(stmt)
    except sqlite3.DatabaseError as exc:
        raise CleanError(
            f"整理记录文件无法打开：{exc}",
            f"the clean-up log cannot be opened: {exc}",
            path=log,
            fix_zh="请确认这是 dq clean 的记录文件（SQLite），并检查权限和磁盘空间。",
            fix_en="check that it is a dq clean log (SQLite), its permissions and the free disk space.",
        ) from exc
    return con


@contextlib.contextmanager
def _transaction(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    con.execute("BEGIN IMMEDIATE")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def default_backup_root(log: str | Path) -> Path:
    """Where the originals are kept by default: ``<log name>-backup/`` beside the log (sensitive)."""
    p = Path(log)
    return p.with_name(f"{p.stem}-backup")


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o700)
    return path


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive advisory lock on a folder (POSIX): two clean-ups of one batch never interleave."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: SQLite's own locking is all there is
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@dataclass
class ApplyResult:
    run_id: str
    target: Path
    in_place: bool
    changes: int
    files: list[str]
    backup: Path
    log: Path
    seconds: float


def _value_hash(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def _check_approver(name: str) -> str:
    text = (name or "").strip()
    if not text or len(text) > 100 or not text.isprintable():
        raise CleanError(
            "请写明批准人（--approved-by），不超过 100 个字符、不含控制字符。",
            "name the approver (--approved-by): at most 100 characters, no control characters.",
            fix_zh="例如 --approved-by 数据质量领导小组张组长",
            fix_en="e.g. --approved-by 'data quality group, head Zhang'",
        )
    return text


def _stale(zh: str, en: str, path: Path | None = None) -> StalePlanError:
    return StalePlanError(
        zh + " 没有写入任何文件。",
        en + " Nothing was written.",
        path=path,
        fix_zh="重新生成整理计划（dq clean plan），审核批准后再执行。",
        fix_en="plan again (dq clean plan), have the new plan reviewed and approved, then apply it.",
    )


def _check_batch(data: dict[str, Any], dom: Domain, batch: Path) -> None:
    if not batch.is_dir():
        raise _stale("计划针对的批次文件夹不存在了。", "the plan's batch folder no longer exists.", batch)
    files, _skipped = _batch_files(dom, batch)
    now = {p.name: p for p in files.values()}
    planned = data.get("files") or {}
    added = sorted(set(now) - set(planned))
    removed = sorted(set(planned) - set(now))
    changed = sorted(n for n in set(now) & set(planned) if sha256_file(now[n]) != planned[n].get("sha256"))
    if added or removed or changed:
        what = "、".join(_shown(n) for n in [*changed, *added, *removed])
        raise _stale(
            f"批次在生成整理计划之后被改动了（{what}），计划作废。",
            f"the batch changed after the plan was made ({what}); the plan no longer applies.",
            batch / (changed or added or removed)[0],
        )


def apply_plan(
    plan: str | Path,
    *,
    approved_by: str,
    log: str | Path,
    out: str | Path | None = None,
    in_place: bool = False,
    backup_root: str | Path | None = None,
    progress: bool = False,
) -> ApplyResult:
    """Carry out a reviewed plan (see the module docstring); return what was done.

    ``plan``: the plan folder (or its ``plan.json``). The corrected batch goes to ``out`` (default
    ``<plan>/cleaned/<batch name>``; it must not exist or be empty) or, with ``in_place``, replaces the
    batch's files. Raises :class:`~toolkit.errors.StalePlanError` (nothing written) when the batch, the
    pack's fixers or rules, or the plan's changes are not exactly as reviewed."""
    started = time.perf_counter()
    approver = _check_approver(approved_by)
    data, plan_dir = read_plan(plan)
    if in_place and out is not None:
        raise CleanError(
            "--out 和 --in-place 只能选一个。",
            "give either --out or --in-place, not both.",
            fix_zh="默认写到新文件夹；确需覆盖原批次时用 --in-place。",
            fix_en="by default a new folder is written; use --in-place only to replace the batch's files.",
        )
    dpath = Path(str((data.get("domain") or {}).get("path", "")))
    dom = load_domain(dpath if (dpath / "domain.yaml").is_file() else str(data["domain"]["name"]))
    batch = Path(str(data.get("batch", "")))
    log_path = Path(log)
    target = batch if in_place else Path(out) if out is not None else plan_dir / "cleaned" / batch.name
    if not in_place and target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise CleanError(
            "整理后批次的输出文件夹已存在且不为空，不会覆盖。",
            "the output folder for the cleaned batch exists and is not empty; nothing is overwritten.",
            path=target,
            fix_zh="用 --out 给一个新文件夹，或删除该文件夹。",
            fix_en="give --out a new folder, or remove that folder.",
        )
    with _folder_lock(batch if batch.is_dir() else batch.parent):
        _check_batch(data, dom, batch)
        if fixers_digest(dom) != data.get("fixers_digest"):
            raise _stale(
                "生成计划之后，领域包的整理器声明或规则有变化（或工具包版本不同）。",
                "the pack's fixers or rules (or the toolkit's fixers) changed after the plan was made.",
                dom.path / "domain.yaml",
            )
        again = make_plan(batch, domain=dom, progress=progress)
        if again.change_keys() != data.get("changes"):
            raise _stale(
                "按同一批次重新计算的改动与审核的计划不一致。",
                "planning the same batch again does not give the reviewed plan.",
                plan_dir / "plan.json",
            )
        if not again.changes:
            raise CleanError(
                "计划中没有要改的单元格，没有执行。",
                "the plan changes no cell; nothing was done.",
                path=plan_dir / "plan.json",
            )
        return _execute(again, data, approver, log_path, target, in_place, backup_root, started)


def _execute(
    plan: CleanPlan,
    data: dict[str, Any],
    approver: str,
    log_path: Path,
    target: Path,
    in_place: bool,
    backup_root: str | Path | None,
    started: float,
) -> ApplyResult:
    at = _now()
    run_id = f"{at:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    root = Path(backup_root) if backup_root is not None else default_backup_root(log_path)
    backup = _private_dir(root / run_id)
    state = {"logged": False}
    try:
        return _run(plan, data, approver, log_path, target, in_place, started, at, run_id, backup, state)
    except BaseException:
        if not state["logged"]:
            shutil.rmtree(backup, ignore_errors=True)  # nothing was changed: no stray copy of the originals
        raise


def _run(
    plan: CleanPlan,
    data: dict[str, Any],
    approver: str,
    log_path: Path,
    target: Path,
    in_place: bool,
    started: float,
    at: dt.datetime,
    run_id: str,
    backup: Path,
    state: dict[str, bool],
) -> ApplyResult:
    key = secrets.token_bytes(32)
    key_file = backup / "hash.key"
    key_file.write_bytes(key)
    os.chmod(key_file, 0o600)
    names = plan.changed_files
    batch = plan.batch_dir
    by_file: dict[str, list[Change]] = defaultdict(list)
    for c in plan.changes:
        by_file[c.file].append(c)
    # 1. the originals, verified
    for name in names:
        copy = backup / name
        shutil.copyfile(batch / name, copy)
        os.chmod(copy, 0o600)
        if sha256_file(copy) != plan.files[name].sha256:
            raise InternalError(
                f"备份文件 {_shown(name)} 的 SHA-256 与原文件不一致。",
                f"the backup of {_shown(name)} does not have the original's SHA-256.",
            )
    # 2. the new files, beside their destination, verified
    staging = target.parent / f".{target.name}.dq-clean-{run_id}" if not in_place else None
    written: dict[str, Path] = {}
    try:
        if staging is not None:
            staging.mkdir(parents=True)
            for p in sorted(batch.iterdir()):
                if (p.is_file() or p.is_symlink()) and p.name not in names:
                    shutil.copy2(p, staging / p.name, follow_symlinks=False)
        for name in names:
            info = plan.files[name]
            tmp_name = f".{Path(name).stem}.dq-clean-{run_id}{Path(name).suffix}"  # hidden, same extension
            dst = (staging / name) if staging is not None else batch / tmp_name
            written[name] = dst  # removed again below unless it replaced the original
            edits: Edits = defaultdict(dict)
            frame = plan.frames[info.table]
            for c in by_file[name]:
                edits[c.row][c.field] = (c.old if info.format == "csv" else None, c.new)
            _write_edited(backup / name, dst, info.format, dict(edits))
            _verify_written(
                dst, info.table, frame, {(c.row, c.field): c.new for c in by_file[name]}, _shown(name)
            )
        after = {name: sha256_file(p) for name, p in written.items()}
        manifest = {
            "run_id": run_id,
            "plan_id": data.get("plan_id"),
            "batch": str(batch.resolve()),
            "target": str(target.resolve()),
            "files": {n: {"sha256_before": plan.files[n].sha256, "sha256_after": after[n]} for n in names},
        }
        (backup / "MANIFEST.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        os.chmod(backup / "MANIFEST.json", 0o600)
        # 3. the log (started), then the switch, then the log (committed)
        con = _connect(log_path, create=True)
        try:
            with _transaction(con):
                con.execute(
                    "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        run_id,
                        "apply",
                        None,
                        at.isoformat(),
                        approver,
                        plan.domain.name,
                        data.get("plan_id"),
                        str(batch.resolve()),
                        str(target.resolve()),
                        int(in_place),
                        str(backup.resolve()),
                        len(names),
                        len(plan.changes),
                    ),
                )
                con.executemany(
                    "INSERT INTO files VALUES (?,?,?,?,?,?,?,?)",
                    [
                        (
                            run_id,
                            n,
                            plan.files[n].table,
                            plan.files[n].format,
                            plan.files[n].encoding,
                            plan.files[n].sha256,
                            after[n],
                            len(by_file[n]),
                        )
                        for n in names
                    ],
                )
                table = plan.changes_table()
                con.executemany(
                    "INSERT INTO changes VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    [
                        (
                            run_id,
                            seq,
                            c.file,
                            c.row,
                            c.table,
                            c.field,
                            "+".join(c.fixers),
                            "、".join(c.rule_ids),
                            str(t.unit_code),
                            c.record_key,
                            str(t.old_masked),
                            str(t.new_masked),
                            _value_hash(key, c.old),
                            _value_hash(key, c.new),
                        )
                        for seq, (c, t) in enumerate(
                            zip(plan.changes, table.itertuples(index=False), strict=True), 1
                        )
                    ],
                )
                con.execute(
                    "INSERT INTO events (run_id, at, event, detail) VALUES (?,?,?,?)",
                    (run_id, at.isoformat(), "started", None),
                )
            state["logged"] = True  # from here on the log names the backup: it is kept whatever happens
            if staging is not None and target.exists():
                _move_into(staging, target)
            elif staging is not None:
                os.replace(staging, target)
            else:
                for name, p in written.items():
                    os.replace(p, batch / name)
            with _transaction(con):
                con.execute(
                    "INSERT INTO events (run_id, at, event, detail) VALUES (?,?,?,?)",
                    (run_id, _now().isoformat(), "committed", None),
                )
        finally:
            con.close()
    finally:
        if staging is not None and staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        for p in written.values():
            if p.name.startswith(".") and p.exists() and p.parent == batch:
                p.unlink(missing_ok=True)
    return ApplyResult(
        run_id=run_id,
        target=target,
        in_place=in_place,
        changes=len(plan.changes),
        files=names,
        backup=backup,
        log=log_path,
        seconds=time.perf_counter() - started,
    )


def _move_into(staging: Path, target: Path) -> None:
    """Move the staged files into an existing empty folder."""
    for p in staging.iterdir():
        os.replace(p, target / p.name)
    staging.rmdir()


# ================================================================================================ undo, log


@dataclass
class UndoResult:
    run_id: str
    undone: str
    restored: list[str]
    target: Path


def _find_run(con: sqlite3.Connection, run: str, log: Path) -> sqlite3.Row:
    con.row_factory = sqlite3.Row
    rows = con.execute(
        "SELECT * FROM runs WHERE run_id = ? OR run_id LIKE ? ORDER BY run_id", (run, f"{run}%")
    ).fetchall()
    exact = [r for r in rows if r["run_id"] == run]
    if exact:
        return exact[0]
    if len(rows) == 1 and run:
        return rows[0]
    raise CleanError(
        f"整理记录中{'有多个' if rows else '没有'}编号为 {_shown(run)} 的运行。",
        f"the log has {'several runs' if rows else 'no run'} matching {_shown(run)}.",
        path=log,
        fix_zh="用 dq clean log 查看运行编号。",
        fix_en="list the run ids with dq clean log.",
    )


def _events(con: sqlite3.Connection, run_id: str) -> list[str]:
    return [r[0] for r in con.execute("SELECT event FROM events WHERE run_id = ? ORDER BY id", (run_id,))]


def undo_run(run: str, *, log: str | Path, by: str = "dq clean undo") -> UndoResult:
    """Restore the originals of an apply run byte for byte (see the module docstring)."""
    log_path = Path(log)
    actor = _check_approver(by)
    con = _connect(log_path, create=False)
    try:
        row = _find_run(con, run, log_path)
        run_id = row["run_id"]
        if row["kind"] != "apply":
            raise CleanError(
                f"运行 {run_id} 本身是一次撤销，不能再撤销。",
                f"run {run_id} is an undo itself and cannot be undone.",
                path=log_path,
            )
        if "undone" in _events(con, run_id):
            raise CleanError(
                f"运行 {run_id} 已经撤销过了。", f"run {run_id} has already been undone.", path=log_path
            )
        files = con.execute("SELECT * FROM files WHERE run_id = ? ORDER BY file", (run_id,)).fetchall()
        target, backup = Path(row["target"]), Path(row["backup"])
        with _folder_lock(target if target.is_dir() else target.parent):
            todo: list[tuple[str, Path, Path]] = []
            for f in files:
                original, current = backup / f["file"], target / f["file"]
                if not original.is_file() or sha256_file(original) != f["sha256_before"]:
                    raise CleanError(
                        f"备份 {_shown(f['file'])} 不存在或已被改动（SHA-256 不符），不能撤销。",
                        f"the backup of {_shown(f['file'])} is missing or altered (SHA-256 differs); cannot undo.",
                        path=original,
                        fix_zh="请找回原备份文件夹后再撤销。",
                        fix_en="restore the original backup folder, then undo.",
                    )
                now = sha256_file(current) if current.is_file() else ""
                if now == f["sha256_before"]:
                    continue  # already the original (an interrupted run, or restored by hand)
                if now != f["sha256_after"]:
                    raise CleanError(
                        f"文件 {_shown(f['file'])} 在这次整理之后又被改动过，撤销会丢失那些改动，已拒绝。",
                        f"file {_shown(f['file'])} changed after this run; undoing would lose those changes, so "
                        "nothing was restored.",
                        path=current,
                        fix_zh="先撤销之后的整理（dq clean log 查看），或手工处理该文件。",
                        fix_en="undo the later runs first (see dq clean log), or handle the file by hand.",
                    )
                todo.append((f["file"], original, current))
            at = _now()
            undo_id = f"{at:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
            restored = []
            for name, original, current in todo:
                tmp = current.with_name(f".{name}.dq-undo-{undo_id}")
                try:
                    shutil.copyfile(original, tmp)
                    shutil.copymode(current, tmp)
                    if sha256_file(tmp) != sha256_file(original):
                        raise InternalError(
                            "恢复的副本与备份不一致。", "the restored copy differs from the backup."
                        )
                    os.replace(tmp, current)
                finally:
                    tmp.unlink(missing_ok=True)
                restored.append(name)
            with _transaction(con):
                con.execute(
                    "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        undo_id,
                        "undo",
                        run_id,
                        at.isoformat(),
                        actor,
                        row["domain"],
                        row["plan_id"],
                        row["batch"],
                        row["target"],
                        row["in_place"],
                        row["backup"],
                        len(restored),
                        0,
                    ),
                )
                con.executemany(
                    "INSERT INTO files VALUES (?,?,?,?,?,?,?,?)",
                    [
                        (
                            undo_id,
                            f["file"],
                            f["table_code"],
                            f["format"],
                            f["encoding"],
                            f["sha256_after"],
                            f["sha256_before"],
                            0,
                        )
                        for f in files
                        if f["file"] in restored
                    ],
                )
                con.executemany(
                    "INSERT INTO events (run_id, at, event, detail) VALUES (?,?,?,?)",
                    [
                        (undo_id, at.isoformat(), "committed", None),
                        (run_id, at.isoformat(), "undone", undo_id),
                    ],
                )
    finally:
        con.close()
    return UndoResult(run_id=undo_id, undone=run_id, restored=restored, target=target)


_STATUS = {"started": "未完成 incomplete", "committed": "已完成 done", "undone": "已撤销 undone"}


def log_runs(log: str | Path) -> pd.DataFrame:
    """Every run of the log, oldest first: run_id, kind, at, actor, domain, plan_id, batch, target,
    in_place, backup, files, changes, status, undoes."""
    con = _connect(Path(log), create=False)
    try:
        runs = pd.read_sql_query("SELECT * FROM runs ORDER BY rowid", con)  # append order (at: to the second)
        events = pd.read_sql_query("SELECT run_id, event FROM events ORDER BY id", con)
    finally:
        con.close()
    last = events.groupby("run_id")["event"].agg(list)
    runs["status"] = [
        _STATUS["undone"]
        if "undone" in last.get(r, [])
        else _STATUS.get((last.get(r) or ["started"])[-1], "")
        for r in runs["run_id"]
    ]
    cols = [
        "run_id",
        "kind",
        "at",
        "actor",
        "domain",
        "plan_id",
        "batch",
        "target",
        "in_place",
        "backup",
        "files",
        "changes",
        "status",
        "undoes",
    ]
    return runs[cols]


def log_changes(log: str | Path, run: str) -> pd.DataFrame:
    """The changes of one run (masked values and keyed hashes of the raw values), in order."""
    log_path = Path(log)
    con = _connect(log_path, create=False)
    try:
        run_id = _find_run(con, run, log_path)["run_id"]
        con.row_factory = None
        return pd.read_sql_query(
            "SELECT run_id, seq, file, row, table_code AS [table], field, fixers, rule_ids, unit_code, record_key, "
            "old_masked, new_masked, old_hash, new_hash FROM changes WHERE run_id = ? ORDER BY seq",
            con,
            params=(run_id,),
        )
    finally:
        con.close()
