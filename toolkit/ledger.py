"""问题台账 / the problem ledger: the closed loop 发现 → 下发 → 整改 → 复核 → 销号 in one SQLite file.

Every problem that ``dq check`` lists (a failing row × rule) becomes a ledger entry the first time it is
found. Its life is a sequence of **events** (appended, never changed or deleted); the current state of a
problem is maintained from its events in the same transaction, so the two never disagree.

Nothing here knows a domain: the unit of assessment (its code column, its label such as 区县 or 机构, the
names of its units), the record keys and the extra fields of a problem all come from the pack
(:class:`toolkit.domain.Domain`) and from its ``ledger.yaml``. Frames carry the unit as ``unit_code`` and
``unit_name`` and a problem's record as ``record_key``; the pack's ``problem_fields`` (the fields that tie
a problem to its main record) follow ``record_key``.

Problem key (stable across re-exports)
======================================
A problem is identified by ``(domain, rule_id, table, record_key, field)``. ``record_key`` identifies the
*record*, not the row number of one export:

* the table's key columns (``ledger.yaml`` ``record_keys.<table>.key``, else the dictionary's ``key`` of
  the table, :meth:`~toolkit.domain.Domain.record_key`), joined by ``|``;
* if any key column of the row is empty, ``#h:`` + a 64-bit BLAKE2b hash of all of the row's values
  (such a record has no identity of its own; fixing it changes the hash — see *Scope* below);
* a key column that the dictionary marks as personal data is stored as a hash of its value, never raw;
* when one run lists the same key twice (e.g. an exact duplicate row breaking a uniqueness rule), the
  second gets ``#2``, the third ``#3`` (in the order of their rows).

Only masked values are stored (``value_masked`` of the problem list); notes entered by people are
scrubbed of citizen IDs, credit codes and mobile numbers before they are stored.

States and transitions
======================
``发现 → 已下发 → 整改中 → 待复核 → 已销号``, and ``待复核 → 退回 → 整改中``. :data:`TRANSITIONS` is
the complete table; anything else is refused with a :class:`TransitionError`. Some transitions are
taken only by a re-check (``dq check --ledger`` / ``dq ledger recheck``): opening a problem, reopening a
closed one that is found again (``已销号 → 发现``, a *repeat*: ``repeats`` + 1 and a new deadline), and
moving a problem that the re-check no longer finds to 待复核 (then 已销号). Every closure therefore passes
through 待复核: a problem is only ever closed after a re-check (automatic or by a reviewer).

Scope of a re-check (which open problems a run may close)
=========================================================
An open problem that a run does not list is closed by the run when its rule was evaluated in the run
(rule of the mode, its tables present, no error) and either

1. **its record was re-checked** — the record's *anchor* (``ledger.yaml`` ``record_keys.<table>.anchor``,
   default the key; e.g. a child row is anchored on its parent record, whose rows a batch carries
   together) occurs in that table of the batch: the problem is fixed (note "自动复核通过"); or
2. **its record is gone** — the anchor does not occur, but the run covers the problem's *scope*: the
   problem's unit occurs in the batch, and

   * an incremental run is of the same **batch period** as the run that last listed the problem (the
     period is the batch folder's name when it is a period label of the pack — ``YYYY-MM-DD`` for
     ``period: day``, ``YYYY-MM`` for ``month`` — else the period of the batch's as-of), or
   * a stock run (a full export covers every period) is not older than the batch that last listed the
     problem (its data as-of is the same or later).

   The record was deleted (or its key was corrected; for a hash-keyed problem: the row was changed or
   deleted): the events say so ("记录已删除 / record deleted", "原记录已不存在"), and
   :class:`SyncReport` counts it under ``deleted``.

Any other open problem is out of the run's scope and stays as it is: a daily batch says nothing about
the records of other days, and a stock export older than the last daily batch cannot close what that
batch found.

Deadlines and responsibility
============================
``deadline = found date + N working days`` (``ledger.yaml`` ``deadline_workdays`` per severity; the
clock starts on the first working day on or after the found date; holidays and make-up days via
:mod:`toolkit.workdays`). The responsible person and office come from the pack's roster (``ledger.yaml``
``roster``: a CSV whose header is ``<unit column>,责任人,联系电话,单位`` — the first column is the pack's
unit column, e.g. the county or office code); the phone number is masked when the roster is read. The
names of officials in the roster are staff data, not registrants' personal data, and are shown unless
``mask_staff_names`` is set.

The ledger file
===============
WAL journal, ``busy_timeout``, ``synchronous=FULL``; every write (a whole sync, or one update command)
is one ``BEGIN IMMEDIATE`` transaction that also inserts its ``runs`` row, so a killed process leaves
either all of a run's events or none. Triggers refuse UPDATE/DELETE of events and runs. Each sync stores
the pack's labels (unit label, legacy columns, labels of the problem fields) in the ledger, so that
listing and exporting need no pack. Schema version 2 (unit columns named ``unit_code``/``unit_name``, a
problem's batch period and data as-of, its problem fields as JSON); a version-1 ledger is upgraded in
place the first time it is opened (its unit column becomes ``unit_code``, its record column a problem
field; nothing is lost, and its problems are closed as deleted only by a stock export).

Figures for scoring
===================
:func:`ledger_figures` counts, per unit (``unit_code``) and period of the *deadline*, the cycles (a
problem's found → closed rounds) that fell due by ``as_of``, those closed (after re-check) by ``as_of``,
and those whose accepted fix (entry into 待复核 that led to the closure) came on or before the deadline
day. They feed ``reconcile_rate`` (销账率) and ``fix_on_time`` (整改及时率) of the scoring model.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import hashlib
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from toolkit.errors import (
    ConfigError,
    LedgerError,
    ProblemNotFoundError,
    StateConflictError,
    TransitionError,
)
from toolkit.masking import mask_phone, mask_staff_name, scrub_text
from toolkit.workdays import WorkdayCalendar
from toolkit.yamlfile import load_yaml

if TYPE_CHECKING:
    from toolkit.check import CheckResult
    from toolkit.domain import Domain

__all__ = [
    "CLOSED",
    "FIGURE_COLUMNS",
    "FIXING",
    "FOUND",
    "ISSUED",
    "LABELS_ZH",
    "OPEN_STATES",
    "PROBLEM_COLUMNS",
    "RECHECK",
    "RETURNED",
    "STATES",
    "TRANSITIONS",
    "LedgerConfig",
    "LedgerError",
    "ProblemNotFoundError",
    "StateConflictError",
    "SyncInput",
    "SyncReport",
    "Transition",
    "TransitionError",
    "apply_sync",
    "batch_period",
    "deadline_for",
    "events_frame",
    "export_ledger",
    "labels_zh",
    "ledger_figures",
    "ledger_info",
    "load_config",
    "load_roster",
    "normalise_state",
    "pack_labels",
    "prepare_sync",
    "problems_frame",
    "runs_frame",
    "sync_check",
    "unit_names",
    "update",
    "verify_ledger",
    "with_legacy",
]

# --------------------------------------------------------------------------- states and transitions
FOUND, ISSUED, FIXING, RECHECK, RETURNED, CLOSED = "发现", "已下发", "整改中", "待复核", "退回", "已销号"
STATES: tuple[str, ...] = (FOUND, ISSUED, FIXING, RECHECK, RETURNED, CLOSED)
OPEN_STATES: tuple[str, ...] = (FOUND, ISSUED, FIXING, RECHECK, RETURNED)
STATE_EN = {
    FOUND: "found",
    ISSUED: "issued",
    FIXING: "fixing",
    RECHECK: "awaiting re-check",
    RETURNED: "returned",
    CLOSED: "closed",
}
#: Names accepted on the command line for each state (besides the Chinese name).
STATE_ALIASES = {
    "found": FOUND,
    "issued": ISSUED,
    "fixing": FIXING,
    "recheck": RECHECK,
    "awaiting-recheck": RECHECK,
    "returned": RETURNED,
    "closed": CLOSED,
}

MANUAL, AUTO, BOTH = "manual", "recheck", "both"


@dataclass(frozen=True)
class Transition:
    """One allowed change of state. ``by``: ``manual`` (a person, ``dq ledger update``), ``recheck``
    (only a re-check run may take it) or ``both``."""

    from_state: str | None
    to_state: str
    by: str
    label_zh: str
    label_en: str


#: The complete transition table (data, not code): anything not listed here is refused.
TRANSITIONS: tuple[Transition, ...] = (
    Transition(None, FOUND, AUTO, "检查发现问题", "found by a check"),
    Transition(FOUND, ISSUED, MANUAL, "下发至责任人", "issued to the responsible person"),
    Transition(ISSUED, FIXING, MANUAL, "开始整改", "rectification started"),
    Transition(FIXING, RECHECK, BOTH, "整改完成，提请复核", "fixed, re-check requested"),
    Transition(RECHECK, CLOSED, BOTH, "复核通过，销号", "re-check passed, closed"),
    Transition(RECHECK, RETURNED, BOTH, "复核未通过，退回", "re-check failed, returned"),
    Transition(RETURNED, FIXING, MANUAL, "退回后重新整改", "rectifying again after return"),
    Transition(FOUND, RECHECK, AUTO, "复核时问题已不存在", "no longer found by a re-check"),
    Transition(ISSUED, RECHECK, AUTO, "复核时问题已不存在", "no longer found by a re-check"),
    Transition(RETURNED, RECHECK, AUTO, "复核时问题已不存在", "no longer found by a re-check"),
    Transition(CLOSED, FOUND, AUTO, "销号后再次发现（复发）", "found again after closing (repeat)"),
)
_BY_PAIR = {(t.from_state, t.to_state): t for t in TRANSITIONS}


def normalise_state(name: str) -> str:
    """The Chinese state name for ``name`` (Chinese or an English alias such as ``issued``)."""
    s = str(name).strip()
    if s in STATES:
        return s
    key = s.lower().replace("_", "-").replace(" ", "-")
    if key in STATE_ALIASES:
        return STATE_ALIASES[key]
    choices = "、".join(f"{z}（{STATE_EN[z]}）" for z in STATES)
    raise LedgerError(
        f"未知的状态“{s}”。",
        f"unknown state {s!r}.",
        fix_zh=f"可选：{choices}",
        fix_en="use one of "
        + ", ".join(f"{z} ({k})" for k, z in STATE_ALIASES.items() if k != "awaiting-recheck"),
    )


def check_transition(
    from_state: str | None, to_state: str, *, by: str, problem_id: int | None = None
) -> Transition:
    """The transition ``from_state → to_state`` if ``by`` (``manual`` / ``recheck``) may take it."""
    t = _BY_PAIR.get((from_state, to_state))
    if t is not None and (t.by == BOTH or t.by == by):
        return t
    who = f"问题 {problem_id} " if problem_id is not None else ""
    who_en = f"problem {problem_id} " if problem_id is not None else ""
    frm_zh = from_state or "（新）"
    frm_en = STATE_EN.get(from_state, "new") if from_state else "new"
    nxt = [x for x in TRANSITIONS if x.from_state == from_state and x.by in (BOTH, by)]
    allowed_zh = "、".join(x.to_state for x in nxt) or "无"
    allowed_en = ", ".join(f"{x.to_state} ({STATE_EN[x.to_state]})" for x in nxt) or "none"
    if t is not None:  # exists, but only for the other kind of actor
        fix_zh = "该变更只能由复核自动完成（dq check --ledger 或 dq ledger recheck）。"
        fix_en = "only a re-check makes this change (dq check --ledger or dq ledger recheck)."
    else:
        fix_zh = f"当前状态下可改为：{allowed_zh}。"
        fix_en = f"from this state it may go to: {allowed_en}."
    raise TransitionError(
        f"{who}当前状态为“{frm_zh}”，不允许改为“{to_state}”。",
        f"{who_en}is '{frm_en}'; it cannot go to '{STATE_EN.get(to_state, to_state)}'.",
        fix_zh=fix_zh,
        fix_en=fix_en,
    )


# --------------------------------------------------------------------------- configuration and roster
@dataclass(frozen=True)
class RosterEntry:
    name: str
    unit: str
    phone_masked: str


@dataclass
class LedgerConfig:
    deadline_workdays: dict[str, int] = field(
        default_factory=lambda: {"critical": 3, "warning": 10, "default": 10}
    )
    roster: dict[str, RosterEntry] = field(default_factory=dict)
    """Unit code → the responsible person and office (``RosterEntry.unit`` is the office, 单位)."""
    record_keys: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    path: str | None = None
    mask_staff_names: bool = False
    """``ledger.yaml`` ``mask_staff_names``: staff (responsible persons, actors) act in an official role
    and are named in the ledger by default; a pack can have their names masked too (``何*东``)."""
    unit_column: str = ""
    """The pack's unit column: the first column of the roster."""

    def workdays_for(self, severity: str | None) -> int:
        d = self.deadline_workdays
        return int(d.get(severity or "", d.get("default", 10)))


#: The roster's columns after the unit column (the pack's unit code column comes first).
ROSTER_COLUMNS = ("责任人", "联系电话", "单位")


def load_roster(path: str | Path, unit_column: str) -> dict[str, RosterEntry]:
    """Read a roster CSV (``<unit_column>, 责任人, 联系电话, 单位``, UTF-8 with or without BOM): unit code →
    :class:`RosterEntry`. ``unit_column`` is the pack's unit column (:attr:`toolkit.domain.Unit.column`).
    Phones are masked here: the raw number never leaves this function."""
    path = Path(path)
    header = [unit_column, *ROSTER_COLUMNS]
    expected = ",".join(header)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"无法读取责任人名单：{exc}",
            f"cannot read the roster: {exc}",
            path=path,
            fix_zh=f"请提供 UTF-8 编码的 CSV，表头为 {expected}。",
            fix_en=f"give a UTF-8 CSV with the header {expected}.",
        ) from exc
    rows = list(csv.reader(text.splitlines()))
    got = [c.strip() for c in rows[0]] if rows else []
    if got != header:
        shown = ",".join(got) or "（空）"
        raise ConfigError(
            f"责任人名单的表头应为 {expected}（第一列是领域包的考核对象代码列 {unit_column}），实际为 {shown}。",
            f"the roster header must be {expected} (the first column is the pack's unit column "
            f"{unit_column}); it is {shown or '(empty)'}.",
            path=path,
            fix_zh=f"把名单的第一行改为 {expected}，第一列填写{unit_column}代码。",
            fix_en=f"make the first line of the roster {expected}, with the unit codes in the first column.",
        )
    out: dict[str, RosterEntry] = {}
    for i, row in enumerate(rows[1:], start=2):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if len(cells) != len(header) or not cells[0] or not cells[1]:
            raise ConfigError(
                f"责任人名单第 {i} 行应有 {len(header)} 列，且 {unit_column} 和责任人不能为空。",
                f"roster line {i}: expected {len(header)} columns with {unit_column} and 责任人 filled.",
                path=path,
                fix_zh=f"按表头 {expected} 填写该行。",
                fix_en=f"fill the line as the header {expected} says.",
            )
        if cells[0] in out:
            raise ConfigError(
                f"责任人名单第 {i} 行：{unit_column} {cells[0]} 重复。",
                f"roster line {i}: {unit_column} {cells[0]} is listed twice.",
                path=path,
                fix_zh="每个考核对象只写一行。",
                fix_en="list every unit once.",
            )
        out[cells[0]] = RosterEntry(cells[1], cells[3], mask_phone(cells[2]) if cells[2] else "")
    return out


def _pack(domain: Domain | str | Path) -> Domain:
    """The pack ``domain`` (a :class:`~toolkit.domain.Domain`, or a pack's name or folder). A name or
    folder is read for its declarations only (``domain.yaml`` and the dictionary, not its suites): the
    ledger needs the unit, the record keys and the labels, and a sync must stay cheap."""
    from toolkit.domain import Domain, domain_path

    if isinstance(domain, Domain):
        return domain
    path = domain_path(domain)
    stamp = tuple(
        (p.stat().st_mtime_ns if p.exists() else 0) for p in (path / "domain.yaml", path / "dictionary.yaml")
    )
    return _pack_declarations(str(path.resolve()), stamp)


@functools.lru_cache(maxsize=8)
def _pack_declarations(path: str, stamp: tuple[int, ...]) -> Domain:
    from toolkit.domain import Domain

    base = Path(path)
    config = load_yaml(base / "domain.yaml") or {}
    dictionary = load_yaml(base / "dictionary.yaml") or {}
    if not isinstance(config, dict) or not isinstance(dictionary, dict):
        raise ConfigError(
            "领域包的 domain.yaml 或 dictionary.yaml 不是映射。",
            "domain.yaml or dictionary.yaml of the pack is not a mapping.",
            path=base,
        )
    return Domain(
        name=str(config.get("name", base.name)),
        path=base,
        config=config,
        dictionary={"tables": {}, **dictionary},
        suites={},
    )


def load_config(domain: Domain | str | Path, *, roster: str | Path | None = None) -> LedgerConfig:
    """The ledger configuration of a domain pack (``<pack>/ledger.yaml``; defaults if absent).

    ``domain``: a :class:`~toolkit.domain.Domain`, or a pack's name or folder. ``record_keys`` must name
    tables of the pack's dictionary and fields of those tables; the roster's first column is the pack's
    unit column."""
    pack = _pack(domain)
    path = Path(pack.path) / "ledger.yaml"
    cfg = LedgerConfig(unit_column=pack.unit.column)
    raw: dict[str, Any] = {}
    if path.exists():
        raw = load_yaml(path) or {}
        cfg.path = str(path)
    if not isinstance(raw, dict):
        raise ConfigError("ledger.yaml 应为映射。", "ledger.yaml must be a mapping.", path=path)
    days = raw.get("deadline_workdays") or {}
    if not isinstance(days, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in days.values()
    ):
        raise ConfigError(
            "deadline_workdays 应为“严重程度: 工作日数（非负整数）”。",
            "deadline_workdays must map severity to a non-negative integer of working days.",
            path=path,
            fix_zh="例如 deadline_workdays: {critical: 3, warning: 10, default: 10}",
            fix_en="e.g. deadline_workdays: {critical: 3, warning: 10, default: 10}",
        )
    cfg.deadline_workdays.update(days)
    keys = raw.get("record_keys") or {}
    if not isinstance(keys, dict):
        keys = {"": keys}
    for table, spec in keys.items():
        ok = isinstance(spec, dict) and set(spec) <= {"key", "anchor"}
        ok = ok and all(
            isinstance(v, list) and v and all(isinstance(c, str) for c in v) for v in spec.values()
        )
        if not ok:
            raise ConfigError(
                f"record_keys.{table} 应写成 {{key: [列...], anchor: [列...]}}。",
                f"record_keys.{table} must be {{key: [columns], anchor: [columns]}}.",
                path=path,
                fix_zh="key 是识别记录的列，anchor 是表示“本批次复查了该记录”的列，都写成列表。",
                fix_en="key: the columns that identify the record; anchor: the columns that say a batch "
                "re-checked it; both lists.",
            )
        fields = (pack.tables.get(table) or {}).get("fields")
        if pack.tables and fields is None:
            raise ConfigError(
                f"record_keys 中的表 {table} 不在领域包 {pack.name} 的数据字典中。",
                f"record_keys names table {table}, which the dictionary of pack {pack.name} lacks.",
                path=path,
                fix_zh=f"可用的表：{', '.join(pack.tables)}",
                fix_en=f"tables of the pack: {', '.join(pack.tables)}",
            )
        unknown = [c for cols in spec.values() for c in cols if fields is not None and c not in fields]
        if unknown:
            raise ConfigError(
                f"record_keys.{table} 中的列 {', '.join(unknown)} 不是表 {table} 的字段。",
                f"record_keys.{table}: {', '.join(unknown)} not a field of table {table}.",
                path=path,
                fix_zh=f"表 {table} 的字段：{', '.join(fields or {})}",
                fix_en=f"fields of {table}: {', '.join(fields or {})}",
            )
    cfg.record_keys = {t: {k: list(v) for k, v in spec.items()} for t, spec in keys.items()}
    mask_staff = raw.get("mask_staff_names", False)
    if not isinstance(mask_staff, bool):
        raise ConfigError(
            "mask_staff_names 应为 true 或 false。", "mask_staff_names must be true or false.", path=path
        )
    cfg.mask_staff_names = mask_staff
    roster_path = Path(roster) if roster is not None else None
    if roster_path is None and raw.get("roster"):
        roster_path = path.parent / str(raw["roster"])
    if roster_path is not None:
        cfg.roster = load_roster(roster_path, cfg.unit_column)
        if cfg.mask_staff_names:
            cfg.roster = {k: replace(v, name=mask_staff_name(v.name)) for k, v in cfg.roster.items()}
    return cfg


def _staff_masking(con: sqlite3.Connection, setting: bool | None = None) -> bool:
    """The ledger's ``mask_staff_names`` setting: stored by each sync (from the pack's ledger.yaml) and
    read by manual updates, which do not know the pack."""
    if setting is not None:
        con.execute("INSERT OR REPLACE INTO meta VALUES ('mask_staff_names', ?)", ("1" if setting else "0",))
        return setting
    row = con.execute("SELECT value FROM meta WHERE key = 'mask_staff_names'").fetchone()
    return bool(row) and row[0] == "1"


# --------------------------------------------------------------------------- working days
_DEFAULT_CALENDAR: WorkdayCalendar | None = None


def _calendar(calendar: WorkdayCalendar | None) -> WorkdayCalendar:
    global _DEFAULT_CALENDAR
    if calendar is not None:
        return calendar
    if _DEFAULT_CALENDAR is None:
        _DEFAULT_CALENDAR = WorkdayCalendar()
    return _DEFAULT_CALENDAR


def deadline_for(found: dt.date, workdays: int, calendar: WorkdayCalendar | None = None) -> dt.date:
    """The deadline of a problem found on ``found`` with ``workdays`` working days to fix it.

    The clock starts on the first working day on or after ``found`` (day 0) and the deadline is the
    working day on which ``workdays`` working days have elapsed, so that
    ``calendar.workdays_elapsed(found, deadline) == workdays``.
    """
    cal = _calendar(calendar)
    start = found.date() if isinstance(found, dt.datetime) else found
    if start.year > 9000:
        raise LedgerError(
            f"发现日期 {start} 不合理，无法计算整改期限。",
            f"the found date {start} is implausible; no deadline can be computed.",
            fix_zh="请检查数据截止时间（--as-of 或批次中的时间）。",
            fix_en="check the as-of (--as-of or the batch's timestamps).",
        )
    day = cal.first_workday_on_or_after(start)
    left = workdays
    while left > 0:
        day += dt.timedelta(days=1)
        if cal.is_workday(day):
            left -= 1
    return day


# --------------------------------------------------------------------------- record keys
_HASH_PREFIX = "#h:"


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip())


def _digest(*parts: str) -> str:
    h = hashlib.blake2b(digest_size=8, person=b"dq-ledger")
    h.update(json.dumps(parts, ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()


def _row_hash(table: str, row: Mapping[str, Any], row_column: str) -> str:
    items = sorted((str(k), "" if _empty(v) else str(v)) for k, v in row.items() if k != row_column)
    return _HASH_PREFIX + _digest(table, *(f"{k}={v}" for k, v in items))


def _compose(cols: Sequence[str], row: Mapping[str, Any], pii: Mapping[str, str]) -> str | None:
    parts = []
    for c in cols:
        v = row.get(c)
        if _empty(v):
            return None
        s = str(v)
        parts.append("#" + _digest(c, s) if c in pii else s)
    return "|".join(parts)


def _key_spec(domain: Domain, cfg: LedgerConfig, table: str) -> tuple[list[str], list[str]]:
    """(key columns, anchor columns) of ``table``: ``ledger.yaml`` ``record_keys``, else the dictionary's
    key (:meth:`~toolkit.domain.Domain.record_key`) for both."""
    spec = cfg.record_keys.get(table, {})
    key = list(spec.get("key") or domain.record_key(table))
    anchor = list(spec.get("anchor") or key)
    return key, anchor


# --------------------------------------------------------------------------- sync input
STOCK = "stock"
"""The mode of a full export (every record of every period); any other mode is a periodic batch."""

_PERIOD_FORMATS = {"day": "%Y-%m-%d", "month": "%Y-%m"}


def batch_period(domain: Domain, folder: str | Path, as_of: dt.datetime | None) -> str | None:
    """The period of an incremental batch: the folder's name when it is a period label of the pack
    (``YYYY-MM-DD`` for ``period: day``, ``YYYY-MM`` for ``month``), else the period of ``as_of``; ``None``
    when neither says (then no problem of the batch is taken as deleted by a later run)."""
    fmt = _PERIOD_FORMATS.get(domain.period)
    if fmt is None:
        return None
    name = Path(folder).name
    try:
        return dt.datetime.strptime(name, fmt).strftime(fmt)
    except ValueError:
        pass
    return as_of.strftime(fmt) if as_of is not None else None


@dataclass
class SyncInput:
    """What a sync needs from one check run, as plain data (JSON-serialisable; no raw personal data).

    ``units``: table → the unit codes present in the batch (masked as in the problem list);
    ``anchors``: table → the record anchors present; ``period``: the batch period of an incremental run
    (:func:`batch_period`), ``None`` for a stock run; ``pack``: the pack's labels, stored in the ledger
    (``label_zh``, ``unit_label_zh``, ``unit_label_en``, ``legacy_columns``, ``problem_fields`` →
    Chinese label). Each problem: ``rule_id, table, field, record_key, key_kind, key_fields, anchor,
    unit_code, unit_name, fields`` (the pack's problem fields → masked value), ``severity, dimension,
    value_masked, message_zh, fix_zh, detail_zh, file, row``."""

    domain: str
    domain_path: str
    mode: str
    input: str
    data_as_of: str | None
    rows: int
    rules_evaluated: list[str]
    tables: list[str]
    units: dict[str, list[str]]
    anchors: dict[str, list[str]]
    problems: list[dict[str, Any]]
    period: str | None = None
    pack: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> SyncInput:
        return cls(**json.loads(text))


def _text(v: Any) -> str | None:
    return None if _empty(v) else str(v)


def pack_labels(domain: Domain) -> dict[str, Any]:
    """The labels of ``domain`` that the ledger keeps (see :class:`SyncInput` ``pack``)."""

    def label(f: str) -> str:
        for table in domain.tables:
            if f in domain.tables[table].get("fields", {}):
                return domain.field_label(table, f)
        return f

    unit = domain.unit
    return {
        "label_zh": domain.label,
        "unit_label_zh": unit.label_zh,
        "unit_label_en": unit.label_en,
        "legacy_columns": domain.legacy_columns,
        "problem_fields": {f: label(f) for f in domain.problem_fields},
    }


def prepare_sync(result: CheckResult, config: LedgerConfig | None = None) -> SyncInput:
    """Turn a :class:`~toolkit.check.CheckResult` into a :class:`SyncInput`: problem keys, anchors, the
    units and the period of the batch."""
    dom = result.domain
    cfg = config or load_config(dom)
    unit = dom.unit
    masker = result.masker
    rcol = dom.config.get("row_column", "_ROW")
    pii = dom.pii_fields()
    anchors: dict[str, list[str]] = {}
    units: dict[str, list[str]] = {}
    positions: dict[str, dict[str, int]] = {}
    for table, loaded in result.batch.tables.items():
        frame = loaded.frame
        _, anchor_cols = _key_spec(dom, cfg, table)
        cols = list(frame.columns)
        seen: set[str] = set()
        usable = bool(anchor_cols) and all(c in cols for c in anchor_cols)
        values = zip(*(frame[c].tolist() for c in anchor_cols), strict=True) if usable else None
        for i in range(len(frame)):
            a = (
                _compose(anchor_cols, dict(zip(anchor_cols, next(values), strict=True)), pii)
                if values
                else None
            )
            seen.add(a if a is not None else _row_hash(table, frame.iloc[i].to_dict(), rcol))
        anchors[table] = sorted(seen)
        ucol = unit.column_of(table)
        units[table] = (
            sorted({"" if _empty(v) else str(masker.text(str(v))) for v in frame[ucol].unique()})
            if ucol in cols
            else []
        )
        if rcol in cols:
            positions[table] = {str(v): i for i, v in enumerate(frame[rcol])}
    extra = [f for f in dom.problem_fields if f in result.problems.columns]
    problems: list[dict[str, Any]] = []
    for p in result.problems.to_dict("records"):
        table = p["table"]
        key_cols, anchor_cols = _key_spec(dom, cfg, table)
        loaded = result.batch.tables.get(table)
        pos = positions.get(table, {}).get(str(p.get("row")))
        if loaded is not None and pos is not None:
            rec = loaded.frame.iloc[pos].to_dict()
            composed = _compose(key_cols, rec, pii) if key_cols else None
            row_hash = _row_hash(table, rec, rcol)
            record_key, kind = (composed, "key") if composed is not None else (row_hash, "hash")
            a = _compose(anchor_cols, rec, pii) if anchor_cols else None
            anchor = a if a is not None else row_hash
        else:  # the row cannot be found in its table (should not happen): use what the list says
            listed = _text(p.get("record_key"))
            listed = listed if listed and listed.strip("|") else None
            record_key = listed or _HASH_PREFIX + _digest(
                p["rule_id"], table, str(p.get("file")), str(p.get("row"))
            )
            kind, anchor = ("key" if listed else "hash"), record_key
        problems.append(
            {
                "rule_id": p["rule_id"],
                "table": table,
                "field": p["field"],
                "record_key": record_key,
                "key_kind": kind,
                "key_fields": "|".join(key_cols),
                "anchor": anchor,
                "unit_code": _text(p.get("unit_code")) or "",
                "unit_name": _text(p.get("unit_name")),
                "fields": {f: _text(p.get(f)) for f in extra if _text(p.get(f)) is not None},
                "severity": _text(p.get("severity")),
                "dimension": _text(p.get("dimension")),
                "value_masked": _text(p.get("value_masked")),
                "message_zh": _text(p.get("message_zh")),
                "fix_zh": _text(p.get("fix_zh")),
                "detail_zh": _text(p.get("detail_zh")),
                "file": _text(p.get("file")),
                "row": int(p["row"]) if not _empty(p.get("row")) and str(p["row"]).isdigit() else None,
            }
        )
    evaluated = sorted(r.rule_id for r in result.rules if r.rule_id not in result.not_evaluated)
    as_of = result.as_of.replace(microsecond=0) if result.as_of else None
    return SyncInput(
        domain=dom.name,
        domain_path=str(dom.path),
        mode=result.mode,
        input=str(result.batch.folder),
        data_as_of=as_of.isoformat(sep=" ") if as_of else None,
        rows=int(result.batch.rows_read),
        rules_evaluated=evaluated,
        tables=sorted(result.batch.tables),
        units=units,
        anchors=anchors,
        problems=problems,
        period=None if result.mode == STOCK else batch_period(dom, result.batch.folder, result.as_of),
        pack=pack_labels(dom),
    )


# --------------------------------------------------------------------------- the SQLite file
APPLICATION_ID = 0x44514C47  # "DQLG"
SCHEMA_VERSION = 2
BUSY_TIMEOUT_MS = 60_000

#: ``problems`` (schema 2): ``unit_code``/``unit_name`` the unit, ``period`` the batch period and
#: ``seen_as_of`` the data as-of of the run that last listed the problem, ``fields`` its problem fields
#: (JSON), ``responsible_unit`` the roster's office.
_PROBLEMS_TABLE = """CREATE TABLE problems (
        problem_id INTEGER PRIMARY KEY,
        domain TEXT NOT NULL, rule_id TEXT NOT NULL, tbl TEXT NOT NULL, record_key TEXT NOT NULL,
        field TEXT NOT NULL, key_fields TEXT NOT NULL, key_kind TEXT NOT NULL, anchor TEXT NOT NULL,
        unit_code TEXT NOT NULL, severity TEXT, dimension TEXT,
        message_zh TEXT, fix_zh TEXT, detail_zh TEXT, value_masked TEXT, file TEXT, row INTEGER,
        state TEXT NOT NULL, cycle INTEGER NOT NULL, repeats INTEGER NOT NULL DEFAULT 0,
        first_found TEXT NOT NULL, found_at TEXT NOT NULL, deadline TEXT NOT NULL,
        last_seen TEXT NOT NULL, last_run TEXT NOT NULL, closed_at TEXT, updated_at TEXT NOT NULL,
        responsible TEXT, responsible_unit TEXT, phone_masked TEXT, last_seq INTEGER NOT NULL,
        unit_name TEXT, period TEXT, seen_as_of TEXT, fields TEXT,
        UNIQUE (domain, rule_id, tbl, record_key, field))"""

_SCHEMA = [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('check', 'update')),
        domain TEXT, mode TEXT, input TEXT, data_as_of TEXT,
        at TEXT NOT NULL, started TEXT NOT NULL, finished TEXT NOT NULL, actor TEXT NOT NULL,
        rows INTEGER, rules_evaluated INTEGER, problems_listed INTEGER,
        opened INTEGER NOT NULL DEFAULT 0, reopened INTEGER NOT NULL DEFAULT 0,
        returned INTEGER NOT NULL DEFAULT 0, closed INTEGER NOT NULL DEFAULT 0,
        updated INTEGER NOT NULL DEFAULT 0, events INTEGER NOT NULL DEFAULT 0,
        scope TEXT)""",
    _PROBLEMS_TABLE,
    "CREATE INDEX problems_state ON problems (state, unit_code)",
    """CREATE TABLE events (
        event_id INTEGER PRIMARY KEY AUTOINCREMENT,
        problem_id INTEGER NOT NULL REFERENCES problems (problem_id),
        seq INTEGER NOT NULL, cycle INTEGER NOT NULL,
        at TEXT NOT NULL, recorded TEXT NOT NULL, actor TEXT NOT NULL,
        from_state TEXT, to_state TEXT NOT NULL, note TEXT, value_masked TEXT,
        run_id TEXT NOT NULL REFERENCES runs (run_id) DEFERRABLE INITIALLY DEFERRED,
        UNIQUE (problem_id, seq))""",
    "CREATE INDEX events_run ON events (run_id)",
    """CREATE TABLE cycles (
        problem_id INTEGER NOT NULL REFERENCES problems (problem_id), cycle INTEGER NOT NULL,
        found_at TEXT NOT NULL, deadline TEXT NOT NULL, fixed_at TEXT, closed_at TEXT, closed_by TEXT,
        PRIMARY KEY (problem_id, cycle))""",
    """CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, '事件只能追加 / ledger events are append-only'); END""",
    """CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, '事件只能追加 / ledger events are append-only'); END""",
    """CREATE TRIGGER runs_no_update BEFORE UPDATE ON runs
        BEGIN SELECT RAISE(ABORT, '运行记录只能追加 / ledger runs are append-only'); END""",
    """CREATE TRIGGER runs_no_delete BEFORE DELETE ON runs
        BEGIN SELECT RAISE(ABORT, '运行记录只能追加 / ledger runs are append-only'); END""",
    """CREATE TRIGGER problems_no_delete BEFORE DELETE ON problems
        BEGIN SELECT RAISE(ABORT, '问题不能删除 / ledger problems are never deleted'); END""",
]


def _not_a_ledger(path: Path, detail: str = "") -> LedgerError:
    return LedgerError(
        f"该文件不是问题台账（SQLite）{('：' + detail) if detail else ''}。",
        f"not a problem ledger (SQLite){(': ' + detail) if detail else ''}.",
        path=path,
        fix_zh="请指定 dq 创建的台账文件，或换一个新文件名以新建台账。",
        fix_en="point to a ledger file created by dq, or give a new file name to start a ledger.",
    )


def _retry_locked(fn, *args):
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            return fn(*args)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _connect(path: str | Path, *, create: bool) -> sqlite3.Connection:
    path = Path(path)
    if not path.exists():
        if not create:
            raise LedgerError(
                "台账文件不存在。",
                "the ledger file does not exist.",
                path=path,
                fix_zh="先用 dq check --ledger 文件 建立台账。",
                fix_en="create it with dq check --ledger FILE first.",
            )
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.Error as exc:
        raise _not_a_ledger(path, str(exc)) from exc
    try:
        con.row_factory = sqlite3.Row
        con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        con.execute("PRAGMA foreign_keys = ON")
        _retry_locked(con.execute, "PRAGMA journal_mode = WAL")
        con.execute("PRAGMA synchronous = FULL")
        _ensure_schema(con, path, create)
    except sqlite3.DatabaseError as exc:
        con.close()
        raise _not_a_ledger(path, str(exc)) from exc
    except BaseException:
        con.close()
        raise
    return con


def _ensure_schema(con: sqlite3.Connection, path: Path, create: bool) -> None:
    app = con.execute("PRAGMA application_id").fetchone()[0]
    if app == 0:
        if not create:
            raise _not_a_ledger(path)
        con.execute("BEGIN IMMEDIATE")
        try:
            app = con.execute("PRAGMA application_id").fetchone()[0]
            if app == 0:  # still empty once we hold the write lock: create the schema
                if con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                    raise _not_a_ledger(path, "已有其他数据表 / it holds other tables")
                for stmt in _SCHEMA:
                    con.execute(stmt)
                con.execute(
                    "INSERT INTO meta VALUES ('schema_version', ?), ('created', ?)",
                    (str(SCHEMA_VERSION), _now()),
                )
                con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            con.execute("COMMIT")
        except BaseException as exc:
            _rollback(con)
            if isinstance(exc, sqlite3.Error):
                raise _db_error(path, exc) from exc
            raise
        app = con.execute("PRAGMA application_id").fetchone()[0]
    if app != APPLICATION_ID:
        raise _not_a_ledger(path)
    version = con.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise LedgerError(
            f"台账由更新版本的工具创建（结构版本 {version}）。",
            f"the ledger was written by a newer toolkit (schema version {version}).",
            path=path,
            fix_zh="请升级工具包。",
            fix_en="upgrade the toolkit.",
        )
    if version < SCHEMA_VERSION:
        _upgrade(con, path)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@functools.cache
def _problem_columns() -> tuple[str, ...]:
    """The columns of ``problems`` in the current schema."""
    mem = sqlite3.connect(":memory:")
    try:
        mem.execute(_PROBLEMS_TABLE)
        return tuple(r[1] for r in mem.execute("PRAGMA table_info(problems)"))
    finally:
        mem.close()


def _upgrade(con: sqlite3.Connection, path: Path) -> None:
    """Bring an older ledger up to :data:`SCHEMA_VERSION`, in one transaction (all of it or nothing)."""
    _retry_locked(con.execute, "BEGIN IMMEDIATE")
    try:
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if version == 1:
            _upgrade_v1(con, path)
        elif version != SCHEMA_VERSION:  # (== SCHEMA_VERSION: another process upgraded it meanwhile)
            raise _not_a_ledger(path, f"未知的结构版本 {version} / unknown schema version {version}")
        con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        con.execute("COMMIT")
    except BaseException as exc:
        _rollback(con)
        if isinstance(exc, sqlite3.Error):
            raise LedgerError(
                f"台账是旧版本（结构版本 1），升级时出错，台账未作任何修改：{exc}",
                f"the ledger has the old schema (version 1) and could not be upgraded; it is unchanged: {exc}",
                path=path,
                fix_zh="请确认台账文件可写、磁盘有空间，然后重新运行（升级只需一次）。",
                fix_en="make sure the ledger file is writable and the disk has space, then run again "
                "(the upgrade happens once).",
            ) from exc
        raise


def _upgrade_v1(con: sqlite3.Connection, path: Path) -> None:
    """Schema 1 → 2. Version 1 named the unit column and one record column of its pack; they are found
    by the layout, not by name: the one NOT NULL column that schema 2 lacks is the unit
    (→ ``unit_code``), any other such column is a problem field (→ ``fields``, under its upper-case
    name). The roster's office ``unit`` becomes ``responsible_unit``; ``seen_as_of`` starts as
    ``last_seen`` (the business time of the last listing, by default the data as-of), ``period`` and
    ``unit_name`` start empty (the next run that lists the problem fills them)."""
    current = set(_problem_columns())
    cols = con.execute("PRAGMA table_info(problems)").fetchall()
    names = {c["name"] for c in cols}
    if "unit" in names and "responsible_unit" not in names:
        con.execute("ALTER TABLE problems RENAME COLUMN unit TO responsible_unit")
        names = (names - {"unit"}) | {"responsible_unit"}
    leftover = [c for c in cols if c["name"] not in current and c["name"] != "unit"]
    unit_cols = [c["name"] for c in leftover if c["notnull"]]
    if "unit_code" not in names:
        if len(unit_cols) != 1:
            raise _not_a_ledger(path, "结构版本 1 的问题表无法识别 / unrecognised version-1 problems table")
        con.execute(f"ALTER TABLE problems RENAME COLUMN {_quote(unit_cols[0])} TO unit_code")
        names.add("unit_code")
    for c in ("unit_name", "period", "seen_as_of", "fields"):
        if c not in names:
            con.execute(f"ALTER TABLE problems ADD COLUMN {c} TEXT")
    for c in (c["name"] for c in leftover if not c["notnull"]):
        key = json.dumps(c.upper())
        con.execute(
            f"UPDATE problems SET fields = json_set(coalesce(fields, '{{}}'), ?, {_quote(c)})"
            f" WHERE {_quote(c)} IS NOT NULL",
            (f"$.{key}",),
        )
        con.execute(f"ALTER TABLE problems DROP COLUMN {_quote(c)}")
    con.execute("UPDATE problems SET seen_as_of = last_seen WHERE seen_as_of IS NULL")
    con.execute("INSERT OR REPLACE INTO meta VALUES ('upgraded_from_1', ?)", (_now(),))


@contextlib.contextmanager
def _open(path: str | Path, *, create: bool = False) -> Iterator[sqlite3.Connection]:
    con = _connect(path, create=create)
    try:
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def _write(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One ``BEGIN IMMEDIATE`` transaction: all of it is committed, or none of it."""
    _retry_locked(con.execute, "BEGIN IMMEDIATE")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException as exc:
        _rollback(con)
        if isinstance(exc, sqlite3.Error):
            raise _db_error(None, exc) from exc
        raise


def _rollback(con: sqlite3.Connection) -> None:
    """Roll back if a transaction is still open (SQLite rolls back by itself after some errors, such as
    a full disk; a second ROLLBACK would then hide the real error behind "cannot rollback")."""
    if con.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            con.execute("ROLLBACK")


def _db_error(path: Path | str | None, exc: sqlite3.Error) -> LedgerError:
    full = "full" in str(exc).lower()
    return LedgerError(
        "台账写入失败：磁盘已满，本次的修改全部未保存。"
        if full
        else f"台账写入失败，本次的修改全部未保存：{exc}",
        "the ledger could not be written: the disk is full; none of this run's changes were saved."
        if full
        else f"the ledger could not be written; none of this run's changes were saved: {exc}",
        path=path,
        fix_zh="请清理磁盘空间后重新运行。" if full else "请检查台账文件的权限和所在磁盘。",
        fix_en="free some disk space and run again."
        if full
        else "check the ledger file's permissions and disk.",
    )


def _now() -> str:
    return dt.datetime.now().isoformat(sep=" ", timespec="seconds")


def _ts(value: dt.datetime | dt.date | str | None) -> str:
    if value is None:
        return _now()
    if isinstance(value, str):
        from toolkit.validators import parse_datetime

        parsed = parse_datetime(value)
        if parsed is None:
            with contextlib.suppress(ValueError):
                parsed = dt.datetime.fromisoformat(value.strip())
        if parsed is None:
            raise LedgerError(
                f"时间“{value}”无效。",
                f"invalid time {value!r}.",
                fix_zh="写成 2024-03-05 或 2024-03-05 18:00:00",
                fix_en="use e.g. 2024-03-05 or 2024-03-05 18:00:00",
            )
        value = parsed
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    return value.isoformat(sep=" ", timespec="seconds")


def _new_run_id() -> str:
    return f"{dt.datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def scrub(text: str | None) -> str | None:
    """Free text for the ledger (notes, messages): personal data masked (:func:`toolkit.masking.scrub_text`)."""
    return None if text is None else scrub_text(text)


def _test_pause() -> None:
    """Test hook: ``DQ_LEDGER_TEST_PAUSE=<seconds>`` sleeps in the middle of a sync's transaction (after
    half of its events are written) and touches ``DQ_LEDGER_TEST_MARKER`` first, so that a test can kill
    the process there."""
    pause = os.environ.get("DQ_LEDGER_TEST_PAUSE")
    if not pause:
        return
    marker = os.environ.get("DQ_LEDGER_TEST_MARKER")
    if marker:
        Path(marker).write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(float(pause))


# --------------------------------------------------------------------------- writing events
class _Writer:
    """Appends events inside an open write transaction and keeps ``problems`` and ``cycles`` in step."""

    def __init__(self, con: sqlite3.Connection, run_id: str, at: str, actor: str, by: str) -> None:
        self.con, self.run_id, self.at, self.actor, self.by = con, run_id, at, actor, by
        self.recorded = _now()
        self.events = 0

    def event(
        self, p: dict[str, Any], to_state: str, note: str | None = None, value: str | None = None
    ) -> None:
        """``p``: the problem's row as a dict (updated in place)."""
        from_state = p["state"]
        check_transition(from_state, to_state, by=self.by, problem_id=p["problem_id"])
        seq = p["last_seq"] + 1
        self.con.execute(
            "INSERT INTO events (problem_id, seq, cycle, at, recorded, actor, from_state, to_state, note,"
            " value_masked, run_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                p["problem_id"],
                seq,
                p["cycle"],
                self.at,
                self.recorded,
                self.actor,
                from_state,
                to_state,
                scrub(note),
                value,
                self.run_id,
            ),
        )
        p["state"], p["last_seq"] = to_state, seq
        sets = {"state": to_state, "last_seq": seq, "updated_at": self.at}
        if to_state == RECHECK:
            self.con.execute(
                "UPDATE cycles SET fixed_at = ? WHERE problem_id = ? AND cycle = ?",
                (self.at, p["problem_id"], p["cycle"]),
            )
        elif to_state == RETURNED:
            self.con.execute(
                "UPDATE cycles SET fixed_at = NULL WHERE problem_id = ? AND cycle = ?",
                (p["problem_id"], p["cycle"]),
            )
        elif to_state == CLOSED:
            sets["closed_at"] = self.at
            self.con.execute(
                "UPDATE cycles SET closed_at = ?, closed_by = ? WHERE problem_id = ? AND cycle = ?",
                (self.at, self.actor, p["problem_id"], p["cycle"]),
            )
        cols = ", ".join(f"{k} = ?" for k in sets)
        self.con.execute(
            f"UPDATE problems SET {cols} WHERE problem_id = ?", (*sets.values(), p["problem_id"])
        )
        self.events += 1

    def new_cycle(self, p: dict[str, Any], deadline: str) -> None:
        self.con.execute(
            "INSERT INTO cycles (problem_id, cycle, found_at, deadline) VALUES (?,?,?,?)",
            (p["problem_id"], p["cycle"], self.at, deadline),
        )


#: problems column -> key of a SyncInput problem
_PROBLEM_FIELDS = {
    c: c
    for c in (
        "rule_id",
        "field",
        "record_key",
        "key_fields",
        "key_kind",
        "anchor",
        "severity",
        "dimension",
        "value_masked",
        "message_zh",
        "fix_zh",
        "detail_zh",
        "file",
        "row",
        "unit_code",
        "unit_name",
    )
} | {"tbl": "table"}


def _insert(con: sqlite3.Connection, table: str, row: dict[str, Any]) -> int:
    cols = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    cur = con.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", tuple(row.values()))
    return int(cur.lastrowid or 0)


# --------------------------------------------------------------------------- sync
_FOUND_NOTE = {
    STOCK: "存量检查发现 / found by a stock check",
    "incremental": "增量检查发现 / found by an incremental check",
}
_FIXED_NOTES = (
    "复核：问题已不存在 / re-check: no longer found",
    "自动复核通过，销号 / automatic re-check passed, closed",
)
_DELETED_NOTES = {
    "key": (
        "复核：记录已删除 / re-check: record deleted",
        "记录已删除，销号 / record deleted, closed",
    ),
    "hash": (
        "复核：原记录已不存在（已修改或删除）/ re-check: the row no longer exists as it was (changed or deleted)",
        "原记录已不存在，销号 / the row no longer exists as it was, closed",
    ),
}


@dataclass
class SyncReport:
    run_id: str
    at: str
    listed: int = 0  # problems the run listed
    opened: int = 0
    reopened: int = 0
    returned: int = 0
    closed: int = 0
    deleted: int = 0  # of the closed: their record is gone (see the module docstring, *Scope*)
    still_open: int = 0
    out_of_scope_open: int = 0
    events: int = 0
    problem_ids: dict[str, list[int]] = field(default_factory=dict)

    def line(self) -> str:
        gone = (
            f"（其中记录已删除 {self.deleted} / of which record deleted {self.deleted}）"
            if self.deleted
            else ""
        )
        return (
            f"台账 / ledger: 新增 opened {self.opened}，复发 reopened {self.reopened}，"
            f"退回 returned {self.returned}，销号 closed {self.closed}{gone}，"
            f"仍未整改 still open {self.still_open}（运行 run {self.run_id}）"
        )


def sync_check(
    ledger_path: str | Path,
    result: CheckResult,
    *,
    as_of: dt.datetime | dt.date | str | None = None,
    actor: str = "dq check",
    calendar: WorkdayCalendar | None = None,
    config: LedgerConfig | None = None,
) -> SyncReport:
    """Bring the ledger in line with one ``dq check`` run (one transaction).

    Opens the problems the run lists for the first time, reopens closed ones found again (repeats),
    returns problems awaiting re-check that are still found, and closes (待复核 → 已销号) the open
    problems the run re-checked and no longer found, or whose records the run shows to be deleted (see
    the module docstring, *Scope*). ``as_of`` is the business time of the events and the found date of
    new problems (default: the check's as-of, else now).
    """
    cfg = config or load_config(result.domain)
    inp = prepare_sync(result, cfg)
    return apply_sync(ledger_path, inp, as_of=as_of, actor=actor, calendar=calendar, config=cfg)


def _dedupe(problems: Iterable[dict[str, Any]]) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    ordered = sorted(
        problems,
        key=lambda p: (
            p["rule_id"],
            p["table"],
            p["record_key"],
            p["field"],
            p.get("file") or "",
            p.get("row") or 0,
        ),
    )
    out: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for p in ordered:
        base = (p["rule_id"], p["table"], p["record_key"], p["field"])
        key, n = base, 1
        while key in out:
            n += 1
            key = (base[0], base[1], f"{base[2]}#{n}", base[3])
        out[key] = {**p, "record_key": key[2]}
    return out


def _fields_json(p: Mapping[str, Any]) -> str | None:
    fields = {k: v for k, v in (p.get("fields") or {}).items() if v is not None}
    return json.dumps(fields, ensure_ascii=False, sort_keys=True) if fields else None


def _store_pack(con: sqlite3.Connection, domain: str, pack: Mapping[str, Any]) -> None:
    """Keep the pack's labels in the ledger (``meta`` ``pack:<domain>``), for reading without the pack."""
    if pack:
        con.execute(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)",
            (f"pack:{domain}", json.dumps(dict(pack), ensure_ascii=False, sort_keys=True)),
        )


def _record_gone(inp: SyncInput, row: Mapping[str, Any], units: set[str], seen_as_of: str) -> bool:
    """Whether the run covers the scope of ``row``, a problem whose anchor the batch lacks: the unit is in
    the batch and the batch is of the same period (incremental) or not older (stock)."""
    if row["unit_code"] not in units:
        return False
    if inp.mode == STOCK:
        return row["seen_as_of"] is not None and row["seen_as_of"] <= seen_as_of
    return inp.period is not None and row["period"] == inp.period


def apply_sync(
    ledger_path: str | Path,
    inp: SyncInput,
    *,
    as_of: dt.datetime | dt.date | str | None = None,
    actor: str = "dq check",
    calendar: WorkdayCalendar | None = None,
    config: LedgerConfig | None = None,
) -> SyncReport:
    """Apply a :class:`SyncInput` to the ledger (see :func:`sync_check`)."""
    if not actor or not str(actor).strip():
        raise LedgerError("必须写明操作人。", "an actor is required.")
    cfg = config or load_config(inp.domain_path)
    started = _now()
    at = _ts(as_of if as_of is not None else inp.data_as_of)
    seen_as_of = _ts(inp.data_as_of) if inp.data_as_of else at
    found_day = dt.date.fromisoformat(at[:10])
    deadlines: dict[str | None, str] = {}

    def deadline(severity: str | None) -> str:
        if severity not in deadlines:
            deadlines[severity] = deadline_for(found_day, cfg.workdays_for(severity), calendar).isoformat()
        return deadlines[severity]

    found = _dedupe(inp.problems)
    evaluated = set(inp.rules_evaluated)
    anchors = {t: set(v) for t, v in inp.anchors.items()}
    units = {u for v in inp.units.values() for u in v}
    run_id = _new_run_id()
    report = SyncReport(run_id=run_id, at=at, listed=len(found))
    ids: dict[str, list[int]] = {"opened": [], "reopened": [], "returned": [], "closed": [], "deleted": []}
    with _open(ledger_path, create=True) as con, _write(con):
        if _staff_masking(con, cfg.mask_staff_names):
            actor = mask_staff_name(actor)
        _store_pack(con, inp.domain, inp.pack)
        w = _Writer(con, run_id, at, actor, AUTO)
        existing: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        rules = sorted(evaluated | {k[0] for k in found})
        if rules:
            marks = ",".join("?" for _ in rules)
            for r in con.execute(
                f"SELECT * FROM problems WHERE domain = ? AND rule_id IN ({marks})", (inp.domain, *rules)
            ):
                existing[(r["rule_id"], r["tbl"], r["record_key"], r["field"])] = dict(r)
        half = len(found) // 2
        for i, (key, p) in enumerate(found.items()):
            if i == half:
                _test_pause()
            row = existing.get(key)
            if row is None:
                dl = deadline(p["severity"])
                who = cfg.roster.get(p["unit_code"])
                pid = _insert(
                    con,
                    "problems",
                    {
                        "domain": inp.domain,
                        **{c: p.get(k) for c, k in _PROBLEM_FIELDS.items()},
                        "fields": _fields_json(p),
                        "period": inp.period,
                        "seen_as_of": seen_as_of,
                        "state": "",
                        "cycle": 1,
                        "repeats": 0,
                        "first_found": at,
                        "found_at": at,
                        "deadline": dl,
                        "last_seen": at,
                        "last_run": run_id,
                        "updated_at": at,
                        "responsible": who.name if who else None,
                        "responsible_unit": who.unit if who else None,
                        "phone_masked": who.phone_masked if who else None,
                        "last_seq": 0,
                    },
                )
                prob = {"problem_id": pid, "state": None, "last_seq": 0, "cycle": 1}
                w.new_cycle(prob, dl)
                w.event(prob, FOUND, _FOUND_NOTE.get(inp.mode, f"{inp.mode} check"), p["value_masked"])
                report.opened += 1
                ids["opened"].append(prob["problem_id"])
                continue
            con.execute(
                "UPDATE problems SET last_seen = ?, last_run = ?, value_masked = ?, file = ?, row = ?,"
                " unit_name = coalesce(?, unit_name), fields = coalesce(?, fields), period = ?,"
                " seen_as_of = ? WHERE problem_id = ?",
                (
                    at,
                    run_id,
                    p["value_masked"],
                    p["file"],
                    p["row"],
                    p.get("unit_name"),
                    _fields_json(p),
                    inp.period,
                    seen_as_of,
                    row["problem_id"],
                ),
            )
            if row["state"] == CLOSED:
                dl = deadline(row["severity"])
                row["cycle"] += 1
                con.execute(
                    "UPDATE problems SET cycle = ?, repeats = repeats + 1, found_at = ?, deadline = ?,"
                    " closed_at = NULL WHERE problem_id = ?",
                    (row["cycle"], at, dl, row["problem_id"]),
                )
                w.new_cycle(row, dl)
                w.event(
                    row,
                    FOUND,
                    f"销号后再次发现，第 {row['cycle'] - 1} 次复发 / found again after closing (repeat {row['cycle'] - 1})",
                    p["value_masked"],
                )
                report.reopened += 1
                ids["reopened"].append(row["problem_id"])
            elif row["state"] == RECHECK:
                w.event(row, RETURNED, "复核仍发现该问题 / the re-check still finds it", p["value_masked"])
                report.returned += 1
                ids["returned"].append(row["problem_id"])
            else:
                report.still_open += 1
        for key, row in existing.items():
            if key in found or row["state"] == CLOSED or row["rule_id"] not in evaluated:
                continue
            tbl = row["tbl"]
            if tbl in anchors and row["anchor"] in anchors[tbl]:
                notes = _FIXED_NOTES
            elif tbl in anchors and _record_gone(inp, row, units, seen_as_of):
                notes = _DELETED_NOTES["hash" if row["key_kind"] == "hash" else "key"]
                report.deleted += 1
                ids["deleted"].append(row["problem_id"])
            else:
                report.out_of_scope_open += 1
                continue
            if row["state"] != RECHECK:
                w.event(row, RECHECK, notes[0])
            w.event(row, CLOSED, notes[1])
            report.closed += 1
            ids["closed"].append(row["problem_id"])
        report.events = w.events
        report.problem_ids = ids
        scope = {
            "tables": inp.tables,
            "rules_evaluated": len(evaluated),
            "units": inp.units,
            "period": inp.period,
            "deleted": report.deleted,
        }
        _insert(
            con,
            "runs",
            {
                "run_id": run_id,
                "kind": "check",
                "domain": inp.domain,
                "mode": inp.mode,
                "input": inp.input,
                "data_as_of": inp.data_as_of,
                "at": at,
                "started": started,
                "finished": _now(),
                "actor": actor,
                "rows": inp.rows,
                "rules_evaluated": len(evaluated),
                "problems_listed": len(found),
                "opened": report.opened,
                "reopened": report.reopened,
                "returned": report.returned,
                "closed": report.closed,
                "events": w.events,
                "scope": json.dumps(scope, ensure_ascii=False),
            },
        )
    return report


# --------------------------------------------------------------------------- manual updates
def update(
    ledger_path: str | Path,
    problem_ids: int | Sequence[int],
    to_state: str,
    *,
    actor: str,
    note: str | None = None,
    at: dt.datetime | dt.date | str | None = None,
    expect: str | None = None,
    expect_seq: int | None = None,
) -> str:
    """Move one or more problems to ``to_state`` (one transaction: all of them or none). Returns the
    run id. Refuses transitions the table does not allow to a person (:class:`TransitionError`).

    ``expect``: the state the caller last saw. If another person or a re-check changed a problem in
    the meantime, the update is refused (:class:`StateConflictError`) instead of acting on a state the
    caller never saw. ``expect_seq``: the same for the number of events the caller saw (``last_seq``),
    which also catches a problem that left the state and came back to it."""
    if not actor or not str(actor).strip():
        raise LedgerError(
            "必须写明操作人（--actor）。", "an actor is required (--actor).", fix_zh="例如 --actor 张三"
        )
    target = normalise_state(to_state)
    expected = normalise_state(expect) if expect is not None else None
    pids = [problem_ids] if isinstance(problem_ids, int) else list(problem_ids)
    if not pids:
        raise LedgerError("未指定问题编号。", "no problem id given.")
    when = _ts(at)
    started = _now()
    run_id = _new_run_id()
    with _open(ledger_path) as con, _write(con):
        who = str(actor).strip()
        w = _Writer(con, run_id, when, mask_staff_name(who) if _staff_masking(con) else who, MANUAL)
        for pid in pids:
            r = con.execute("SELECT * FROM problems WHERE problem_id = ?", (int(pid),)).fetchone()
            if r is None:
                raise ProblemNotFoundError(
                    f"台账中没有编号为 {pid} 的问题。",
                    f"there is no problem {pid} in the ledger.",
                    path=ledger_path,
                    fix_zh="用 dq ledger list 查看问题编号。",
                    fix_en="see the ids with dq ledger list.",
                )
            if (expected is not None and r["state"] != expected) or (
                expect_seq is not None and r["last_seq"] != expect_seq
            ):
                raise StateConflictError(
                    f"问题 {pid} 已被他人更改（现为“{r['state']}”，第 {r['last_seq']} 次流转）。",
                    f"problem {pid} was changed meanwhile (now '{STATE_EN[r['state']]}', event {r['last_seq']}).",
                    fix_zh="请用 dq ledger show 查看最新状态后再操作。",
                    fix_en="look at its current state with dq ledger show and try again.",
                )
            w.event(dict(r), target, note)
        _insert(
            con,
            "runs",
            {
                "run_id": run_id,
                "kind": "update",
                "input": "problems " + ",".join(str(p) for p in pids),
                "at": when,
                "started": started,
                "finished": _now(),
                "actor": str(actor).strip(),
                "updated": len(pids),
                "events": w.events,
                "scope": json.dumps({"to_state": target}, ensure_ascii=False),
            },
        )
    return run_id


# --------------------------------------------------------------------------- reading
#: Columns of :func:`problems_frame`; the pack's problem fields (e.g. the main record's number) follow
#: ``record_key``.
PROBLEM_COLUMNS = [
    "problem_id",
    "state",
    "unit_code",
    "unit_name",
    "rule_id",
    "table",
    "record_key",
    "field",
    "value_masked",
    "severity",
    "message_zh",
    "fix_zh",
    "found_at",
    "deadline",
    "responsible",
    "responsible_unit",
    "phone_masked",
    "repeats",
    "cycle",
    "closed_at",
    "first_found",
    "last_seen",
    "period",
    "file",
    "row",
    "key_kind",
    "domain",
    "overdue",
    "overdue_workdays",
]

#: Chinese column labels for tables and exports (the unit's and the problem fields' labels come from the
#: pack: :func:`labels_zh`).
LABELS_ZH = {
    "problem_id": "问题编号",
    "state": "状态",
    "unit_code": "单位代码",
    "unit_name": "单位",
    "rule_id": "规则编号",
    "table": "数据表",
    "record_key": "记录键",
    "field": "字段",
    "value_masked": "问题值（已脱敏）",
    "severity": "严重程度",
    "message_zh": "问题说明",
    "fix_zh": "整改建议",
    "found_at": "本轮发现时间",
    "deadline": "整改期限",
    "responsible": "责任人",
    "responsible_unit": "责任单位",
    "phone_masked": "联系电话（已脱敏）",
    "repeats": "复发次数",
    "cycle": "轮次",
    "closed_at": "销号时间",
    "first_found": "首次发现时间",
    "last_seen": "最近发现时间",
    "period": "批次周期",
    "file": "文件",
    "row": "行号",
    "key_kind": "记录键类型",
    "domain": "领域",
    "overdue": "是否逾期",
    "overdue_workdays": "逾期工作日",
    "event_id": "事件序号",
    "seq": "流转序号",
    "at": "时间",
    "recorded": "记录时间",
    "actor": "操作人",
    "from_state": "原状态",
    "to_state": "新状态",
    "note": "说明",
    "run_id": "运行编号",
    "problems_due": "到期问题",
    "closed_after_recheck": "复核销号",
    "fixed_before_deadline": "按期整改",
    "reconcile_rate": "销账率",
    "fix_on_time": "整改及时率",
    "period_start": "周期开始",
    "period_end": "周期结束",
}


def _packs(con: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    out = {}
    for key, value in con.execute("SELECT key, value FROM meta WHERE key LIKE 'pack:%' ORDER BY key"):
        with contextlib.suppress(ValueError, TypeError):
            out[key[5:]] = dict(json.loads(value))
    return out


def ledger_info(ledger_path: str | Path) -> dict[str, Any]:
    """The labels of the pack(s) whose problems the ledger holds (stored by each sync): ``unit_label_zh``,
    ``unit_label_en``, ``legacy_columns``, ``problem_fields`` (field → Chinese label), ``domains``. With
    several packs of different units the unit is labelled generically (单位 / unit)."""
    with _open(ledger_path) as con:
        packs = _packs(con)
    return _merge_packs(packs)


def _merge_packs(packs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    info: dict[str, Any] = {
        "domains": sorted(packs),
        "unit_label_zh": "单位",
        "unit_label_en": "unit",
        "legacy_columns": {},
        "problem_fields": {},
    }
    units = {(p.get("unit_label_zh"), p.get("unit_label_en")) for p in packs.values()}
    if len(units) == 1:
        info["unit_label_zh"], info["unit_label_en"] = next(iter(units))
        info["unit_label_zh"] = info["unit_label_zh"] or "单位"
        info["unit_label_en"] = info["unit_label_en"] or "unit"
    legacy = [dict(p.get("legacy_columns") or {}) for p in packs.values()]
    if legacy and all(x == legacy[0] for x in legacy):
        info["legacy_columns"] = legacy[0]
    for p in packs.values():
        for f, label in (p.get("problem_fields") or {}).items():
            info["problem_fields"].setdefault(str(f), str(label))
    return info


def labels_zh(info: Mapping[str, Any] | None = None) -> dict[str, str]:
    """:data:`LABELS_ZH` with the unit's label (e.g. ``unit_code`` → 区县代码, ``unit_name`` → 区县) and the
    problem fields' labels of ``info`` (:func:`ledger_info`)."""
    labels = dict(LABELS_ZH)
    if info:
        unit = str(info.get("unit_label_zh") or "单位")
        labels["unit_code"], labels["unit_name"] = f"{unit}代码", unit
        labels.update({str(k): str(v) for k, v in (info.get("problem_fields") or {}).items()})
    return labels


def with_legacy(frame: pd.DataFrame, info: Mapping[str, Any]) -> pd.DataFrame:
    """``frame`` plus the pack's legacy columns (as :meth:`toolkit.domain.Domain.with_legacy`, from the
    labels stored in the ledger)."""
    out = frame.copy()
    for std, old in (info.get("legacy_columns") or {}).items():
        if std in out.columns and old not in out.columns:
            out.insert(list(out.columns).index(std) + 1, old, out[std])
    return out


def unit_names(ledger_path: str | Path) -> dict[str, str]:
    """Unit code → the unit's name as the last runs listed it (codes without a known name are left out)."""
    with _open(ledger_path) as con:
        rows = con.execute(
            "SELECT unit_code, max(unit_name) FROM problems WHERE coalesce(unit_name, '') != ''"
            " GROUP BY unit_code"
        ).fetchall()
    return {str(code): str(name) for code, name in rows}


def _as_of_day(as_of: dt.datetime | dt.date | str | None) -> dt.date:
    return dt.date.fromisoformat(_ts(as_of)[:10])


def problems_frame(
    ledger_path: str | Path,
    *,
    states: Iterable[str] | None = None,
    units: Iterable[str] | None = None,
    overdue: bool = False,
    as_of: dt.datetime | dt.date | str | None = None,
    domain: str | None = None,
    calendar: WorkdayCalendar | None = None,
) -> pd.DataFrame:
    """The ledger's problems (current state), optionally filtered by state, unit code and domain.
    ``overdue``: open problems whose deadline day is before ``as_of`` (default today);
    ``overdue_workdays`` counts the working days past the deadline. Columns: :data:`PROBLEM_COLUMNS`,
    with the problem fields of the ledger's packs after ``record_key``."""
    sql = "SELECT * FROM problems WHERE 1 = 1"
    args: list[Any] = []
    if states:
        st = [normalise_state(s) for s in states]
        sql += f" AND state IN ({','.join('?' for _ in st)})"
        args += st
    if units:
        us = [str(u) for u in units]
        sql += f" AND unit_code IN ({','.join('?' for _ in us)})"
        args += us
    if domain:
        sql += " AND domain = ?"
        args.append(domain)
    sql += " ORDER BY problem_id"
    with _open(ledger_path) as con:
        frame = pd.DataFrame([dict(r) for r in con.execute(sql, args)])
        packs = _packs(con)
    order = list(_merge_packs(packs)["problem_fields"])
    if frame.empty:
        return pd.DataFrame(columns=_with_fields(PROBLEM_COLUMNS, order))
    frame = frame.rename(columns={"tbl": "table"})
    fields = [json.loads(f) if isinstance(f, str) and f else {} for f in frame.pop("fields")]
    names = list(dict.fromkeys([*order, *sorted({k for f in fields for k in f})]))
    for n in names:
        frame[n] = [f.get(n) for f in fields]
    day = _as_of_day(as_of)
    cal = _calendar(calendar)
    late = [
        s != CLOSED and dt.date.fromisoformat(d) < day
        for s, d in zip(frame["state"], frame["deadline"], strict=True)
    ]
    frame["overdue"] = late
    frame["overdue_workdays"] = [
        cal.workdays_elapsed(dt.date.fromisoformat(d), day) if lt else 0
        for d, lt in zip(frame["deadline"], late, strict=True)
    ]
    if overdue:
        frame = frame[frame["overdue"]]
    return frame[_with_fields(PROBLEM_COLUMNS, names)].reset_index(drop=True)


def _with_fields(columns: Sequence[str], fields: Sequence[str]) -> list[str]:
    at = list(columns).index("record_key") + 1
    extra = [f for f in fields if f not in columns]
    return [*columns[:at], *extra, *columns[at:]]


def events_frame(ledger_path: str | Path, problem_id: int | None = None) -> pd.DataFrame:
    """The events (流转记录), oldest first; one problem's if ``problem_id`` is given."""
    sql = "SELECT * FROM events"
    args: tuple[Any, ...] = ()
    if problem_id is not None:
        sql += " WHERE problem_id = ?"
        args = (int(problem_id),)
    with _open(ledger_path) as con:
        rows = [dict(r) for r in con.execute(sql + " ORDER BY event_id", args)]
    cols = [
        "event_id",
        "problem_id",
        "seq",
        "cycle",
        "at",
        "recorded",
        "actor",
        "from_state",
        "to_state",
        "note",
        "value_masked",
        "run_id",
    ]
    return pd.DataFrame(rows, columns=cols)


def runs_frame(ledger_path: str | Path) -> pd.DataFrame:
    with _open(ledger_path) as con:
        rows = [dict(r) for r in con.execute("SELECT * FROM runs ORDER BY started, run_id")]
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- figures for scoring
def period_of(day: dt.date, by: str) -> tuple[str, dt.date, dt.date]:
    """(label, first day, last day) of the period holding ``day``: day ``2024-03-05``, week ISO
    ``2024-W10`` (Monday to Sunday), month ``2024-03``, quarter ``2024-Q1``, year ``2024`` — the labels
    of :func:`toolkit.scoring.period_label`."""
    if by == "day":
        return day.isoformat(), day, day
    if by == "week":
        iso = day.isocalendar()
        start = day - dt.timedelta(days=day.weekday())
        return f"{iso.year}-W{iso.week:02d}", start, start + dt.timedelta(days=6)
    if by == "month":
        start = day.replace(day=1)
        nxt = (start + dt.timedelta(days=32)).replace(day=1)
        return f"{day.year}-{day.month:02d}", start, nxt - dt.timedelta(days=1)
    if by == "quarter":
        q = (day.month - 1) // 3
        start = dt.date(day.year, 3 * q + 1, 1)
        nxt = dt.date(day.year + (q == 3), (3 * q + 3) % 12 + 1, 1)
        return f"{day.year}-Q{q + 1}", start, nxt - dt.timedelta(days=1)
    if by == "year":
        return str(day.year), dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)
    raise LedgerError(
        f"未知的统计周期 {by!r}。",
        f"unknown period {by!r}.",
        fix_zh="可选 day、week、month、quarter、year",
        fix_en="use day, week, month, quarter or year",
    )


FIGURE_COLUMNS = [
    "unit_code",
    "period",
    "period_start",
    "period_end",
    "problems_due",
    "closed_after_recheck",
    "fixed_before_deadline",
    "reconcile_rate",
    "fix_on_time",
]


def ledger_figures(
    ledger_path: str | Path,
    by_period: str = "day",
    *,
    as_of: dt.datetime | dt.date | str | None = None,
    domain: str | None = None,
) -> pd.DataFrame:
    """Closed-loop figures per unit (``unit_code``) and period of the deadline.

    * ``problems_due``: problem cycles whose deadline lies in the period and on or before ``as_of``
      (default: now) — a repeat is a new cycle with its own deadline;
    * ``closed_after_recheck``: of those, the ones closed (已销号, always after a re-check) by ``as_of``;
    * ``fixed_before_deadline``: of those, the ones whose accepted fix (the entry into 待复核 that the
      closure confirmed) is on or before the deadline day;
    * ``reconcile_rate`` = closed_after_recheck / problems_due (销账率), ``fix_on_time`` =
      fixed_before_deadline / problems_due (整改及时率). Only periods with something due are listed,
      so neither rate has a zero denominator.
    """
    period_of(dt.date.today(), by_period)  # an unknown period raises the bilingual error here
    limit = _ts(as_of)
    limit_day = limit[:10]
    sql = (
        "SELECT p.unit_code, c.deadline, c.fixed_at, c.closed_at FROM cycles c"
        " JOIN problems p ON p.problem_id = c.problem_id WHERE c.deadline <= ?"
    )
    args: list[Any] = [limit_day]
    if domain:
        sql += " AND p.domain = ?"
        args.append(domain)
    with _open(ledger_path) as con:
        rows = con.execute(sql, args).fetchall()
    acc: dict[tuple[str, str], list[Any]] = {}
    for unit_code, deadline, fixed_at, closed_at in rows:
        label, start, end = period_of(dt.date.fromisoformat(deadline), by_period)
        slot = acc.setdefault((unit_code, label), [start, end, 0, 0, 0])
        slot[2] += 1
        if closed_at is not None and closed_at <= limit:
            slot[3] += 1
            if fixed_at is not None and fixed_at[:10] <= deadline:
                slot[4] += 1
    records = [
        {
            "unit_code": q,
            "period": label,
            "period_start": v[0].isoformat(),
            "period_end": v[1].isoformat(),
            "problems_due": v[2],
            "closed_after_recheck": v[3],
            "fixed_before_deadline": v[4],
            "reconcile_rate": v[3] / v[2],
            "fix_on_time": v[4] / v[2],
        }
        for (q, label), v in sorted(acc.items(), key=lambda kv: (kv[1][0], kv[0][0]))
    ]
    return pd.DataFrame.from_records(records, columns=FIGURE_COLUMNS)


# --------------------------------------------------------------------------- export and verification
def _labelled(frame: pd.DataFrame, info: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """``frame`` with Chinese headers (:func:`labels_zh`) and 是/否 for ``overdue``."""
    out = frame.copy()
    if "overdue" in out.columns:
        out["overdue"] = out["overdue"].map({True: "是", False: "否"})
    return out.rename(columns=labels_zh(info))


def export_ledger(
    ledger_path: str | Path,
    out: str | Path,
    *,
    as_of: dt.datetime | dt.date | str | None = None,
    events: bool = True,
) -> Path:
    """Write the ledger for offices: ``.csv`` (UTF-8 with BOM; problems only) or ``.xlsx`` (sheet 问题台账,
    and 流转记录 with every event). Column headers are Chinese (the unit labelled as the pack labels it,
    e.g. 区县代码 / 区县); values are masked as stored. Written by :mod:`toolkit.sheets`: no value from the
    data becomes a formula."""
    from toolkit.sheets import frames_to_xlsx, write_csv

    out = Path(out)
    info = ledger_info(ledger_path)
    problems = _labelled(problems_frame(ledger_path, as_of=as_of), info)
    suffix = out.suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        write_csv(problems, out)
    elif suffix == ".xlsx":
        sheets = {"问题台账": problems}
        if events:
            sheets["流转记录"] = _labelled(events_frame(ledger_path), info)
        frames_to_xlsx(sheets, out)
    else:
        raise LedgerError(
            f"不支持的导出格式 {out.suffix or '（无扩展名）'}。",
            f"unsupported export format {out.suffix or '(no extension)'}.",
            path=out,
            fix_zh="文件名以 .csv 或 .xlsx 结尾。",
            fix_en="end the file name with .csv or .xlsx.",
        )
    return out


def verify_ledger(ledger_path: str | Path) -> list[str]:
    """Check the ledger's invariants; returns the problems found (empty list: consistent).

    Per problem: events numbered 1…n without gaps, each starting where the previous ended, each an
    allowed transition, the last one equal to the current state, one cycle per entry into 发现. Per
    run: its ``events`` count equals the events that carry its id.
    """
    issues: list[str] = []
    with _open(ledger_path) as con:
        if con.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            issues.append("SQLite integrity_check failed")
        probs = {r["problem_id"]: dict(r) for r in con.execute("SELECT * FROM problems")}
        evs: dict[int, list[sqlite3.Row]] = {}
        for e in con.execute("SELECT * FROM events ORDER BY problem_id, seq"):
            evs.setdefault(e["problem_id"], []).append(e)
        cycles: dict[int, int] = dict(
            con.execute("SELECT problem_id, count(*) FROM cycles GROUP BY problem_id").fetchall()
        )
        for run_id, expected, actual in con.execute(
            "SELECT r.run_id, r.events, (SELECT count(*) FROM events e WHERE e.run_id = r.run_id) FROM runs r"
        ):
            if expected != actual:
                issues.append(f"run {run_id}: {actual} events stored, {expected} recorded")
        orphans = con.execute(
            "SELECT count(*) FROM events e LEFT JOIN runs r ON r.run_id = e.run_id WHERE r.run_id IS NULL"
        ).fetchone()[0]
        if orphans:
            issues.append(f"{orphans} events without their run")
    for pid, p in probs.items():
        es = evs.get(pid, [])
        if [e["seq"] for e in es] != list(range(1, len(es) + 1)):
            issues.append(f"problem {pid}: event numbers not contiguous")
        prev: str | None = None
        entries = 0
        for e in es:
            if e["from_state"] != prev:
                issues.append(
                    f"problem {pid} event {e['seq']}: starts at {e['from_state']}, previous ended at {prev}"
                )
            if (e["from_state"], e["to_state"]) not in _BY_PAIR:
                issues.append(
                    f"problem {pid} event {e['seq']}: {e['from_state']} → {e['to_state']} not allowed"
                )
            entries += e["to_state"] == FOUND
            prev = e["to_state"]
        if prev != p["state"] or p["last_seq"] != len(es):
            issues.append(
                f"problem {pid}: state {p['state']} / last_seq {p['last_seq']} disagree with its events"
            )
        if entries != p["cycle"] or cycles.get(pid, 0) != p["cycle"] or p["repeats"] != p["cycle"] - 1:
            issues.append(
                f"problem {pid}: cycle {p['cycle']} / repeats {p['repeats']} disagree with its events"
            )
    return issues
