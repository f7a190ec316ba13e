"""Timeliness across batches: a record is judged on its first *accepted* upload.

A pack may declare, in ``domain.yaml``::

    timeliness:
      working_days: 7                     # the disclosure limit, in working days after the decision date
      tables:
        <TABLE>: {key: <record key>, decided: <decision date>, uploaded: <upload time>, view: <its view>}

Then every upload (a row of such a table in an incremental batch) is **accepted** when no rule of severity
``critical`` fails on it — the rules of the table and of the view that prepares it, exactly as ``dq check``
gates a batch — and a **record** (its key within its unit of assessment, e.g. a decision number within its
department) is followed across the batches of a history:

* its *first accepted upload* decides: the record is **timely** when at most ``working_days`` working days
  lie after its decision date up to that upload's date (public holidays and make-up working days count,
  :mod:`toolkit.workdays`); a record rejected and corrected within the limit is therefore still timely;
* a record not (yet) accepted becomes **due** once its limit has passed — it is late then, whatever comes
  later; a record whose limit has not passed and that is not accepted is *pending* and not counted.

:func:`upload_outcomes` finds each upload's outcome with the count engine (:func:`toolkit.engine.count_batches`
over the critical rules, grouped by the unit, the record key, the decision date and the upload time, so
acceptance is the engine's — and so Great Expectations' — verdict); :class:`toolkit.history.History` keeps
it per batch (table ``uploads``). :func:`record_figures` turns the uploads into figures per unit and period
for the scoring model's indicators of kind ``records`` (``scoring.yaml``):

``uploads`` / ``accepted_uploads``
    rows uploaded in the period / of which accepted (合格率);
``due_records`` / ``timely_records``
    records judged in the period — accepted within the limit (on the day of that upload) or late (on the
    first working day after the limit, or on the record's first upload if that came later) — / of which
    timely (及时率);
``accepted_records`` / ``late_records``
    records first accepted in the period / of which after the limit (迟报率).

A record is judged once; a record's decision date is the one its first accepted upload carries (else the
last readable one of its uploads). An upload without a record key counts as an upload, never as a record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit import workdays
from toolkit.checks.template_date import parse_template_datetime
from toolkit.checks.working_days_after import working_days_between
from toolkit.domain import Domain, copy_domain, load_domain
from toolkit.errors import ConfigError
from toolkit.scoring import RECORD_COLUMNS, UNIT, period_label

__all__ = [
    "UPLOAD_COLUMNS",
    "TableSpec",
    "TimelinessSpec",
    "deadline",
    "figures_by_unit",
    "judge_records",
    "record_figures",
    "timeliness_spec",
    "upload_outcomes",
]

#: Columns of :func:`upload_outcomes` (and of the history's ``uploads`` table).
UPLOAD_COLUMNS = ["batch", UNIT, "table", "record_key", "decided", "uploaded", "rows", "accepted"]


@dataclass(frozen=True)
class TableSpec:
    """A table whose records are judged for timeliness: its record key, decision date and upload time
    columns, and the prepared view whose rules belong to its rows (or ``""``)."""

    table: str
    key: str
    decided: str
    uploaded: str
    view: str = ""


@dataclass(frozen=True)
class TimelinessSpec:
    working_days: int
    tables: tuple[TableSpec, ...]

    @property
    def names(self) -> list[str]:
        return [t.table for t in self.tables]

    @property
    def key_columns(self) -> tuple[str, ...]:
        """The engine's grouping columns besides the unit: every key, decision and upload column."""
        cols = [c for t in self.tables for c in (t.key, t.decided, t.uploaded)]
        return tuple(dict.fromkeys(cols))


def _bad(dom: Domain, zh: str, en: str) -> ConfigError:
    return ConfigError(
        f"domain.yaml 的 timeliness 写法有误：{zh}",
        f"bad timeliness in domain.yaml: {en}",
        path=Path(dom.path) / "domain.yaml",
        fix_zh="写成 timeliness: {working_days: 7, tables: {表: {key: 文书号, decided: 决定日期, "
        "uploaded: 上报时间, view: 视图}}}",
        fix_en="timeliness: {working_days: 7, tables: {TABLE: {key: K, decided: D, uploaded: U, view: V}}}",
    )


def timeliness_spec(domain: str | Path | Domain) -> TimelinessSpec | None:
    """The pack's ``timeliness:`` declaration, checked against its dictionary and views (``None`` when the
    pack declares none)."""
    dom = domain if isinstance(domain, Domain) else load_domain(domain)
    raw = dom.config.get("timeliness")
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - {"working_days", "tables"}:
        raise _bad(dom, "应为映射，键为 working_days 和 tables。", "a mapping with working_days and tables.")
    wd = raw.get("working_days")
    if isinstance(wd, bool) or not isinstance(wd, int) or not 0 <= wd <= 366:
        raise _bad(
            dom,
            f"working_days 应为 0–366 的整数，实际为 {wd!r}。",
            f"working_days must be 0-366, not {wd!r}.",
        )
    tables = raw.get("tables")
    if not isinstance(tables, dict) or not tables:
        raise _bad(dom, "tables 应列出至少一张表。", "tables must name at least one table.")
    specs = []
    for table, t in tables.items():
        fields = (dom.tables.get(table) or {}).get("fields")
        if fields is None:
            raise _bad(dom, f"表 {table} 不在数据字典中。", f"table {table} is not in the dictionary.")
        if not isinstance(t, dict) or set(t) - {"key", "decided", "uploaded", "view"}:
            raise _bad(
                dom,
                f"表 {table} 应写 key、decided、uploaded（和 view）。",
                f"{table}: key, decided, uploaded, view.",
            )
        for k in ("key", "decided", "uploaded"):
            if t.get(k) not in fields:
                raise _bad(
                    dom, f"表 {table} 的 {k} 不是该表的字段。", f"{table}.{k} is not a field of {table}."
                )
        view = t.get("view") or ""
        if view and view not in dom.views:
            raise _bad(dom, f"视图 {view} 不存在。", f"view {view} does not exist.")
        specs.append(TableSpec(str(table), t["key"], t["decided"], t["uploaded"], str(view)))
    return TimelinessSpec(working_days=wd, tables=tuple(specs))


# ------------------------------------------------------------------------------------------------ uploads


def _gate_domain(dom: Domain, spec: TimelinessSpec, mode: str) -> Domain:
    """The pack with only the critical rules of ``mode`` that judge the rows of the timeliness tables (their
    tables' and their views' rules), after any overlay."""
    tables = set(spec.names)
    targets = {t.table: {t.table, *([t.view] if t.view else [])} for t in spec.tables}
    suites: dict[str, dict[str, Any]] = {}
    for name, suite in dom.suites.items():
        target = suite.get("meta", {}).get("target")
        kept = []
        for exp in suite.get("expectations", []):
            meta = exp.get("meta", {})
            if meta.get("severity") != "critical" or mode not in meta.get("applies_to", []):
                continue
            if meta.get("table") not in tables:
                continue
            if target not in targets[meta["table"]]:
                raise _bad(
                    dom,
                    f"严重规则 {meta.get('rule_id')} 的对象 {target} 不是表 {meta['table']} 或其视图，无法按记录判定。",
                    f"critical rule {meta.get('rule_id')} runs on {target}, not on {meta['table']} or its view: "
                    "its failures cannot be tied to records.",
                )
            kept.append(exp)
        suites[name] = {**suite, "expectations": kept}
    return copy_domain(dom, suites, dom.overlay)


def upload_outcomes(
    batches: Path | str | Sequence[Path | str],
    *,
    domain: str | Path | Domain,
    mode: str = "incremental",
    calendar: workdays.WorkdayCalendar | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Every upload of the timeliness tables in ``batches`` (folders, as :func:`toolkit.engine.count_batches`
    takes them): one row per batch × unit × table × record key × decision date × upload time as written,
    with ``rows`` (rows uploaded; more than 1 for a duplicated key) and ``accepted`` (no critical rule
    fails on them). Columns :data:`UPLOAD_COLUMNS`; empty for a pack without ``timeliness:``."""
    from toolkit.engine import count_batches  # Great Expectations is imported with the engine

    dom = domain if isinstance(domain, Domain) else load_domain(domain)
    spec = timeliness_spec(dom)
    if spec is None:
        return pd.DataFrame(columns=UPLOAD_COLUMNS)
    gate = _gate_domain(dom, spec, mode)
    keys = (UNIT, *spec.key_columns)
    res = count_batches(batches, domain=gate, mode=mode, keys=keys, calendar=calendar, progress=progress)
    if res.gx_rules:
        raise ConfigError(
            f"及时性判定需要计数引擎能编译全部严重规则，以下规则不能：{', '.join(sorted(res.gx_rules))}",
            f"timeliness needs every critical rule compiled by the count engine; these are not: "
            f"{', '.join(sorted(res.gx_rules))}",
        )
    group = ["batch", *keys, "table"]
    failing = res.counts.loc[res.counts["unexpected_count"] > 0, group].drop_duplicates().assign(_bad=True)
    rows = res.rows.loc[res.rows["table"].isin(spec.names) & (res.rows["rows"] > 0), [*group, "rows"]]
    rows = rows.merge(failing, on=group, how="left")
    parts = []
    for t in spec.tables:
        sub = rows.loc[rows["table"] == t.table]
        parts.append(
            pd.DataFrame(
                {
                    "batch": sub["batch"].astype(str),
                    UNIT: sub[UNIT].astype(str),
                    "table": t.table,
                    "record_key": sub[t.key].astype(str),
                    "decided": sub[t.decided].astype(str),
                    "uploaded": sub[t.uploaded].astype(str),
                    "rows": sub["rows"].astype("int64"),
                    "accepted": sub["_bad"].isna().to_numpy(bool),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=UPLOAD_COLUMNS)
    return out.sort_values(["batch", UNIT, "table", "record_key"], kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------------------------------------ records


def _date(text: Any) -> dt.date | None:
    parsed = parse_template_datetime(text) if isinstance(text, str) else None
    return parsed.date() if parsed is not None else None


def deadline(decided: dt.date, working_days: int, calendar: workdays.WorkdayCalendar) -> dt.date:
    """The last day within the limit: the ``working_days``-th working day after ``decided`` (``decided``
    itself for 0)."""
    day, left = decided, int(working_days)
    while left > 0:
        day += dt.timedelta(days=1)
        if calendar.is_workday(day):
            left -= 1
    return day


def _next_workday(day: dt.date, calendar: workdays.WorkdayCalendar) -> dt.date:
    day += dt.timedelta(days=1)
    while not calendar.is_workday(day):
        day += dt.timedelta(days=1)
    return day


def judge_records(
    uploads: pd.DataFrame,
    *,
    working_days: int,
    calendar: workdays.WorkdayCalendar | None = None,
    as_of: dt.date | str | None = None,
) -> pd.DataFrame:
    """One row per record (unit, table, record key) of ``uploads``: ``decided`` (date), ``deadline``,
    ``first_upload`` and ``first_accepted`` (batch days), ``accepted_on`` (the date of the first accepted
    upload's upload time), ``status`` (``timely``, ``late``, ``pending``), ``judged`` (the day it was
    judged, or none for pending) and ``working_days`` used until acceptance. ``as_of``: the last day the
    history covers (default: its latest batch)."""
    cal = calendar or workdays.active_calendar()
    cols = [
        UNIT,
        "table",
        "record_key",
        "decided",
        "deadline",
        "first_upload",
        "first_accepted",
        "accepted_on",
        "working_days",
        "status",
        "judged",
    ]
    if uploads is None or uploads.empty:
        return pd.DataFrame(columns=cols)
    up = uploads.loc[uploads["record_key"].astype(str) != ""].copy()
    up["day"] = pd.to_datetime(up["batch"].astype(str), format="%Y-%m-%d", errors="coerce").dt.date
    up = up.loc[up["day"].notna()]
    if up.empty:
        return pd.DataFrame(columns=cols)
    last = (
        as_of
        if isinstance(as_of, dt.date)
        else dt.date.fromisoformat(as_of[:10])
        if isinstance(as_of, str)
        else max(up["day"])
    )
    up = up.sort_values(["day", "uploaded"], kind="stable")
    up["accepted"] = up["accepted"].astype(str).str.lower().isin(["true", "1"])
    deadlines: dict[dt.date, dt.date] = {}
    records = []
    for (unit, table, key), grp in up.groupby([UNIT, "table", "record_key"], sort=True):
        acc = grp.loc[grp["accepted"]]
        first_upload = grp["day"].iloc[0]
        if len(acc):
            first = acc.iloc[0]
            decided = _date(first["decided"])
            accepted_on = _date(first["uploaded"]) or first["day"]
            first_accepted = first["day"]
        else:
            readable = [d for d in map(_date, grp["decided"]) if d is not None]
            decided, accepted_on, first_accepted = (readable[-1] if readable else None), None, None
        limit = None
        if decided is not None:
            if decided not in deadlines:
                deadlines[decided] = deadline(decided, working_days, cal)
            limit = deadlines[decided]
        used = (
            working_days_between(decided, accepted_on, cal)
            if decided is not None and accepted_on is not None
            else None
        )
        if accepted_on is not None and (limit is None or accepted_on <= limit):
            status, judged = "timely", first_accepted
        elif limit is not None and (accepted_on is not None or _next_workday(limit, cal) <= last):
            status, judged = "late", max(_next_workday(limit, cal), first_upload)
            if accepted_on is not None:
                judged = min(judged, first_accepted)
        else:
            status, judged = "pending", None
        records.append(
            {
                UNIT: unit,
                "table": table,
                "record_key": key,
                "decided": decided,
                "deadline": limit,
                "first_upload": first_upload,
                "first_accepted": first_accepted,
                "accepted_on": accepted_on,
                "working_days": used,
                "status": status,
                "judged": judged,
            }
        )
    return pd.DataFrame.from_records(records, columns=cols)


def record_figures(
    uploads: pd.DataFrame,
    *,
    by: str = "day",
    working_days: int,
    calendar: workdays.WorkdayCalendar | None = None,
    as_of: dt.date | str | None = None,
    units: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Figures per period (``by``: day, week, month … — the labels of
    :func:`toolkit.scoring.period_label`) and unit: ``period, unit_code`` and :data:`RECORD_COLUMNS` (see
    the module docstring). ``units``: only these units."""
    cols = ["period", UNIT, *RECORD_COLUMNS]
    if uploads is None or uploads.empty:
        return pd.DataFrame(columns=cols)
    up = uploads.copy()
    up["accepted"] = up["accepted"].astype(str).str.lower().isin(["true", "1"])
    up["period"] = [period_label(b, by) for b in up["batch"].astype(str)]
    up["_ok"] = up["rows"].astype("int64").where(up["accepted"], 0)
    agg = up.groupby(["period", UNIT], sort=True).agg(
        uploads=("rows", "sum"), accepted_uploads=("_ok", "sum")
    )
    rec = judge_records(uploads, working_days=working_days, calendar=calendar, as_of=as_of)
    rec = rec.loc[rec["status"] != "pending"].copy()
    figures: dict[tuple[str, str], dict[str, int]] = {}

    def bump(period: str, unit: str, **inc: int) -> None:
        slot = figures.setdefault((period, unit), dict.fromkeys(RECORD_COLUMNS[2:], 0))
        for k, v in inc.items():
            slot[k] += v

    for r in rec.itertuples(index=False):
        unit = getattr(r, UNIT)
        timely = r.status == "timely"
        bump(period_label(r.judged, by), unit, due_records=1, timely_records=int(timely))
        if r.first_accepted is not None and not pd.isna(r.first_accepted):
            bump(period_label(r.first_accepted, by), unit, accepted_records=1, late_records=int(not timely))
    extra = pd.DataFrame(
        [{"period": p, UNIT: u, **v} for (p, u), v in figures.items()],
        columns=["period", UNIT, *RECORD_COLUMNS[2:]],
    ).set_index(["period", UNIT])
    out = agg.join(extra, how="outer").fillna(0).astype("int64").reset_index()
    if units is not None:
        out = out.loc[out[UNIT].isin(set(units))]
    return out[cols].sort_values(["period", UNIT], kind="stable").reset_index(drop=True)


def figures_by_unit(figures: pd.DataFrame) -> Mapping[str, dict[str, float]]:
    """Per unit over all periods of ``figures``: the summed columns and the rates 及时率 (timely / due),
    迟报率 (late / accepted) and 合格率 (accepted uploads / uploads)."""
    out: dict[str, dict[str, float]] = {}
    for unit, grp in figures.groupby(UNIT, sort=True):
        s = grp[list(RECORD_COLUMNS)].sum()
        out[str(unit)] = {
            **{k: int(v) for k, v in s.items()},
            "timely_rate": s["timely_records"] / s["due_records"] if s["due_records"] else float("nan"),
            "late_rate": s["late_records"] / s["accepted_records"] if s["accepted_records"] else float("nan"),
            "pass_rate": s["accepted_uploads"] / s["uploads"] if s["uploads"] else float("nan"),
        }
    return out
