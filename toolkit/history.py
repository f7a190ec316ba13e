"""Score history (``dq score --history DIR``): every incremental batch, counted once, kept on disk.

A history is a single DuckDB file (default ``OUT_DIR/history.duckdb``) with the rule counts of every
batch folder under ``DIR``. The pack's ``period`` (:attr:`toolkit.domain.Domain.period`) says what a batch
folder is: ``day`` — one folder per day, named by its date (``DIR/2024-03-05/…``); ``month`` — one folder
per month (``DIR/2024-03/…``). A batch is counted again only when it changed: its *fingerprint* is the
SHA-256 of its files' names, sizes and modification times together with the *standard* it was counted
against (the pack's suites, views and overlay, and the layout of this file). Changing a suite therefore
recounts everything; adding a day counts only that day. Counting runs on the DuckDB engine
(:mod:`toolkit.engine`), many batches per pass. Each batch's counts replace its old ones in one
transaction, so a run that is killed leaves every batch either wholly old or wholly new. A history file
of an earlier layout (a unit column other than ``unit_code``) is emptied and recounted.

Tables of the history file (the unit of assessment is ``unit_code``, whatever the pack's column)::

    batches(batch, day, fingerprint, standard, mode, rows_read, counted_at)   day: the batch's first day
    counts(batch, unit_code, rule_id, "table", field, dimension, severity,
           element_count, unexpected_count, evaluated, engine)
    rows(batch, unit_code, "table", rows, failing_<dimension>…)
    units(batch, unit_code, unit_name)            names seen in the data (packs with names: column:F)
    files(batch, "table", file, rows_read)
    uploads(batch, unit_code, "table", record_key, decided, uploaded, rows, accepted)
                                                  packs with timeliness: (toolkit/timeliness.py): each
                                                  upload's outcome, for records judged across batches

Scoring (:func:`score_frames`, :func:`score_history`, :func:`score_batches`) takes the pack (``domain``,
required) and writes ``scores.csv``, ``indicators.csv``, ``trace.csv``, ``trend.csv`` (and
``daily_scores.csv`` for weeks and months) with ``unit_code, unit_name`` plus the pack's legacy columns
(:meth:`toolkit.domain.Domain.with_legacy`, the columns ``legacy_columns`` of ``domain.yaml``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from toolkit.domain import Domain, load_domain
from toolkit.errors import BatchNotFoundError, ConfigError, InputError

__all__ = [
    "History",
    "ScoreRun",
    "UpdateReport",
    "batch_folders",
    "fingerprint",
    "provincial_trend",
    "score_batches",
    "score_frames",
    "score_history",
    "standard_fingerprint",
    "unit_names_from",
    "write_scores",
]

UNIT = "unit_code"
#: Bumped when the tables of the history file change; part of the standard, so a change recounts.
LAYOUT = 2
TABLES = ("batches", "counts", "rows", "units", "files", "uploads")
#: Period grains of batch folders and their folder names.
_GRAINS = {
    "day": (re.compile(r"\d{4}-\d{2}-\d{2}"), "YYYY-MM-DD", "2024-03-05"),
    "month": (re.compile(r"\d{4}-\d{2}"), "YYYY-MM", "2024-03"),
}


def _grain(period: str) -> tuple[re.Pattern[str], str, str]:
    if period not in _GRAINS:
        raise ConfigError(
            f"领域包的 period 只能是 day 或 month，实际为 {period!r}。",
            f"a pack's period is day or month, not {period!r}.",
            fix_zh="在 domain.yaml 中写 period: day（每天一个批次）或 period: month（每月一个批次）。",
            fix_en="write period: day (a batch per day) or period: month (a batch per month) in domain.yaml.",
        )
    return _GRAINS[period]


def batch_day(name: str, period: str = "day") -> dt.date | None:
    """The first day of the batch folder ``name`` of grain ``period``, ``None`` if it is not one."""
    pattern, _, _ = _grain(period)
    if not pattern.fullmatch(name):
        return None
    try:
        return dt.date.fromisoformat(name if period == "day" else f"{name}-01")
    except ValueError:
        return None


def batch_folders(root: str | Path, period: str = "day") -> list[tuple[str, dt.date, Path]]:
    """The batch folders under ``root``, oldest first: ``(name, first day, path)``; ``period`` is the
    pack's grain (``day``: folders ``YYYY-MM-DD``, ``month``: folders ``YYYY-MM``).

    Folders whose name is not a period of that grain are refused with a clear error rather than
    skipped, so that no batch is silently left out of the scores."""
    _, shape, example = _grain(period)
    what_zh = "每天" if period == "day" else "每月"
    root = Path(root)
    if not root.is_dir():
        raise BatchNotFoundError(
            "历史数据文件夹不存在。",
            "the history folder does not exist.",
            path=root,
            fix_zh=f"--history 应指向按{shape}分文件夹的增量数据目录（如 sample/incremental）。",
            fix_en=f"--history must point at the folder of batches named {shape} (e.g. sample/incremental).",
        )
    out = []
    for p in sorted(root.iterdir()):
        if not p.is_dir() or p.name.startswith("."):
            continue
        day = batch_day(p.name, period)
        if day is None:
            raise InputError(
                f"文件夹 {p.name} 不是按{shape}命名的批次（如 {example}）。",
                f"folder {p.name} is not a batch named by its period ({shape}, e.g. {example}).",
                path=p,
                fix_zh=f"把{what_zh}的增量数据放在以{shape}命名的文件夹里，其他文件夹移出该目录。",
                fix_en=f"keep one folder per {period} named {shape}; move other folders elsewhere.",
            )
        out.append((p.name, day, p))
    if not out:
        raise InputError(
            f"历史数据文件夹中没有按{shape}命名的批次。",
            f"the history folder holds no batch folders named {shape}.",
            path=root,
            fix_zh="确认路径，例如 sample/incremental。",
            fix_en="check the path, e.g. sample/incremental.",
        )
    return out


def fingerprint(folder: Path, standard: str) -> str:
    """SHA-256 over the folder's files (name, size, mtime) and the standard they are counted against."""
    h = hashlib.sha256(standard.encode())
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            st = p.stat()
            h.update(f"{p.relative_to(folder).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def standard_fingerprint(domain: Domain, mode: str) -> str:
    """What the counts depend on besides the data: the suites (after any overlay), the views, the mode,
    the pack's unit column(s) and the layout of the history file."""
    unit = domain.unit
    payload = {
        "layout": LAYOUT,
        "mode": mode,
        "unit": {"column": unit.column, "columns": unit.columns, "names": unit.names},
        "suites": domain.suites,
        "views": getattr(domain, "views_sql", {}),
        "overlay": (domain.overlay or {}).get("sha256") if isinstance(domain.overlay, dict) else None,
    }
    if domain.config.get("timeliness") is not None:  # the uploads table depends on it (no change for others)
        payload["timeliness"] = domain.config["timeliness"]
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


@dataclass
class UpdateReport:
    batches: int  # batch folders found
    counted: int  # counted (new or changed) in this run
    removed: int  # batches in the history whose folder is gone
    rows_read: int  # rows read in this run
    seconds: float


class History:
    """The persistent counts of a folder of batches of one pack (``domain``: a shipped pack's name, a
    pack folder or a loaded :class:`~toolkit.domain.Domain`; required)."""

    def __init__(
        self,
        path: str | Path,
        *,
        domain: str | Path | Domain,
        mode: str = "incremental",
        overlay: str | Path | None = None,
    ) -> None:
        self.path = Path(path)
        self.domain = domain if isinstance(domain, Domain) else load_domain(domain, overlay=overlay)
        self.mode = mode
        self.period = self.domain.period
        _grain(self.period)
        self.standard = standard_fingerprint(self.domain, mode)

    # ----------------------------------------------------------------------------------------- store

    def _connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        if read_only and not self.path.exists():
            raise ConfigError(
                "评分历史文件不存在。",
                "the score history file does not exist.",
                path=self.path,
                fix_zh="先运行 dq score --history 数据目录 --out 输出目录。",
                fix_en="run dq score --history DIR --out OUT_DIR first.",
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(self.path), read_only=read_only)
        # in Jupyter without ipywidgets DuckDB refuses to change this setting at all (it is off there anyway)
        with contextlib.suppress(duckdb.Error):
            con.execute("SET enable_progress_bar = false")
        return con

    def _has(self, con: duckdb.DuckDBPyConnection, table: str) -> bool:
        q = "SELECT count(*) FROM information_schema.tables WHERE table_name = ?"
        return bool(con.execute(q, [table]).fetchone()[0])

    def _columns(self, con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
        return {r[0] for r in con.execute(f'DESCRIBE "{table}"').fetchall()}

    def _current_layout(self, con: duckdb.DuckDBPyConnection) -> bool:
        """Whether the file's tables have this module's layout (an empty file has)."""
        for table in ("counts", "rows"):
            if self._has(con, table) and UNIT not in self._columns(con, table):
                return False
        return True

    def known(self) -> dict[str, str]:
        """batch → fingerprint of what the history holds (nothing for a file of an earlier layout)."""
        if not self.path.exists():
            return {}
        con = self._connect(read_only=True)
        try:
            if not self._has(con, "batches") or not self._current_layout(con):
                return {}
            return dict(con.execute("SELECT batch, fingerprint FROM batches").fetchall())
        finally:
            con.close()

    # ---------------------------------------------------------------------------------------- update

    def update(
        self, root: str | Path, *, chunk: int = 250, progress: bool = False, calendar=None
    ) -> UpdateReport:
        """Count every new or changed batch under ``root`` (``chunk`` batches per engine pass)."""
        import time

        t0 = time.perf_counter()
        folders = batch_folders(root, self.period)
        self._upgrade()
        known = self.known()
        prints = {name: fingerprint(path, self.standard) for name, _, path in folders}
        todo = [(n, d, p) for n, d, p in folders if known.get(n) != prints[n]]
        gone = sorted(set(known) - set(prints))
        rows_read = 0
        if todo:  # the engine imports Great Expectations (slow): only when there is something to count
            from toolkit.engine import count_batches
        for i in range(0, len(todo), chunk):
            part = todo[i : i + chunk]
            res = count_batches(
                [p for _, _, p in part],
                domain=self.domain,
                mode=self.mode,
                calendar=calendar,
                progress=progress,
            )
            rows_read += int(res.files["rows_read"].sum()) if len(res.files) else 0
            uploads = None
            if self.mode == "incremental" and self.domain.config.get("timeliness") is not None:
                from toolkit.timeliness import upload_outcomes

                uploads = upload_outcomes(
                    [p for _, _, p in part],
                    domain=self.domain,
                    mode=self.mode,
                    calendar=calendar,
                    progress=progress,
                )
            self._store(part, prints, res, uploads)
        if gone:
            self._remove(gone)
        return UpdateReport(len(folders), len(todo), len(gone), rows_read, time.perf_counter() - t0)

    def _upgrade(self) -> None:
        """Empty a history file of an earlier layout (its batches are then counted again)."""
        if not self.path.exists():
            return
        con = self._connect()
        try:
            if self._current_layout(con):
                return
            con.execute("BEGIN TRANSACTION")
            for table in TABLES:
                con.execute(f'DROP TABLE IF EXISTS "{table}"')
            con.execute("COMMIT")
        finally:
            con.close()

    def _store(
        self, part: Sequence[tuple[str, dt.date, Path]], prints: dict[str, str], res, uploads=None
    ) -> None:
        names = [n for n, _, _ in part]
        now = dt.datetime.now().replace(microsecond=0)
        files = res.files
        rows_by_batch = files.groupby("batch")["rows_read"].sum() if len(files) else pd.Series(dtype=int)
        batches = pd.DataFrame(
            {
                "batch": names,
                "day": [d for _, d, _ in part],
                "fingerprint": [prints[n] for n in names],
                "standard": self.standard,
                "mode": self.mode,
                "rows_read": [int(rows_by_batch.get(n, 0)) for n in names],
                "counted_at": now,
            }
        )
        frames = {
            "batches": batches,
            "counts": res.counts,
            "rows": res.rows,
            "units": _units_frame(res.counts, getattr(res, "unit_names", {}) or {}),
            "files": res.files,
        }
        if uploads is not None:
            frames["uploads"] = uploads
        con = self._connect()
        try:
            con.execute("BEGIN TRANSACTION")
            for table, frame in frames.items():
                con.register("_new", frame)
                if not self._has(con, table):
                    con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM _new LIMIT 0')
                else:
                    self._add_missing_columns(con, table, frame)
                con.execute(f'DELETE FROM "{table}" WHERE batch IN (SELECT unnest(?))', [names])
                con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM _new')
                con.unregister("_new")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    def _add_missing_columns(self, con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
        have = self._columns(con, table)
        for col in frame.columns:
            if col not in have:
                con.execute(f'ALTER TABLE "{table}" ADD COLUMN "{col}" BIGINT DEFAULT 0')

    def _remove(self, names: Iterable[str]) -> None:
        names = list(names)
        con = self._connect()
        try:
            con.execute("BEGIN TRANSACTION")
            for table in TABLES:
                if self._has(con, table):
                    con.execute(f'DELETE FROM "{table}" WHERE batch IN (SELECT unnest(?))', [names])
            con.execute("COMMIT")
        finally:
            con.close()

    # ------------------------------------------------------------------------------------------ read

    def frames(self, *, start: dt.date | None = None, end: dt.date | None = None) -> dict[str, pd.DataFrame]:
        """``counts``, ``rows``, ``units`` and ``files`` with a ``period`` column (the batch's period:
        ``YYYY-MM-DD`` for daily batches, ``YYYY-MM`` for monthly ones) and ``batches``."""
        fmt = "%Y-%m-%d" if self.period == "day" else "%Y-%m"
        con = self._connect(read_only=True)
        try:
            where, args = "WHERE true", []
            if start:
                where += " AND b.day >= ?"
                args.append(start)
            if end:
                where += " AND b.day <= ?"
                args.append(end)
            out = {}
            for table in ("counts", "rows", "units", "files", "uploads"):
                if not self._has(con, table):
                    out[table] = pd.DataFrame(columns=["period", "batch", UNIT])
                    continue
                sql = (
                    f"SELECT strftime(b.day, '{fmt}') AS period, t.* FROM \"{table}\" t "
                    f"JOIN batches b USING (batch) {where} ORDER BY b.day"
                )
                out[table] = con.execute(sql, args).df()
            out["batches"] = con.execute(f"SELECT * FROM batches b {where} ORDER BY day", args).df()
            return out
        finally:
            con.close()

    def unit_names(self) -> dict[str, str]:
        """Unit code → the latest name seen in the data (packs whose names are in the data)."""
        frame = self.frames()["units"]
        if frame.empty or "unit_name" not in frame.columns:
            return {}
        return unit_names_from(frame)


def _units_frame(counts: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """``batch, unit_code, unit_name`` of the units of each batch whose name was seen in the data."""
    cols = ["batch", UNIT, "unit_name"]
    if counts.empty or not names:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in cols})
    pairs = counts[["batch", UNIT]].drop_duplicates()
    pairs = pairs.assign(unit_name=pairs[UNIT].map(dict(names)))
    return pairs.dropna(subset=["unit_name"]).reset_index(drop=True)[cols]


def unit_names_from(units: pd.DataFrame | None) -> dict[str, str]:
    """Unit code → name from a ``units`` frame (the latest batch's name wins)."""
    if units is None or units.empty or "unit_name" not in units.columns:
        return {}
    frame = units.dropna(subset=["unit_name"])
    if "period" in frame.columns:
        frame = frame.sort_values("period", kind="stable")
    return {str(c): str(n) for c, n in zip(frame[UNIT], frame["unit_name"], strict=True) if n}


# ================================================================================================ scoring


@dataclass
class ScoreRun:
    """What ``dq score`` computed: daily scores, the period scores asked for, and how they came about.

    ``table`` is ``scores.csv`` as written (``unit_code, unit_name`` and the pack's legacy columns);
    ``trend`` is ``trend.csv``."""

    by: str
    daily: object  # toolkit.scoring.ScoreResult, one group per batch (day, or month for monthly packs)
    period: object  # toolkit.scoring.ScoreResult for ``by`` (the daily result itself when by is the grain)
    table: pd.DataFrame  # scores.csv
    trend: pd.DataFrame  # figures of all units per period
    domain: Domain | None = None
    update: UpdateReport | None = None
    frames: dict[str, pd.DataFrame] | None = None
    unit_names: dict[str, str] = field(default_factory=dict)


def provincial_trend(table: pd.DataFrame, config) -> pd.DataFrame:
    """Per period: the average of the units' scores (the headline 平均分, e.g. the province's), its grade,
    the spread and how many units meet the standard (``pass_grade`` of the scoring model or better).
    Columns: ``period, units, average, min, max, meeting_standard, grade``."""
    from toolkit import scoring

    cfg = config
    if not isinstance(cfg, scoring.ScoringConfig):
        raise TypeError("config must be the pack's ScoringConfig (toolkit.scoring.load_scoring(domain))")
    scored = table[table["score"].notna()]
    g = scored.groupby("period", sort=True)["score"]
    out = pd.DataFrame(
        {
            "units": g.size(),
            "average": g.mean().map(lambda v: scoring.round_half_up(v, 2)),
            "min": g.min(),
            "max": g.max(),
            "meeting_standard": scored.assign(ok=scored["grade"].map(cfg.meets).astype(bool))
            .groupby("period")["ok"]
            .sum(),
        }
    ).reset_index()
    out["grade"] = out["average"].map(lambda v: scoring.grade(v, cfg))
    return out


def _load(domain: str | Path | Domain, overlay: str | Path | None = None) -> Domain:
    return domain if isinstance(domain, Domain) else load_domain(domain, overlay=overlay)


def _standard_units(frame: pd.DataFrame | None, dom: Domain) -> pd.DataFrame | None:
    """``frame`` with ``unit_code`` (and ``unit_name``): a frame that only has the pack's legacy columns
    (an older ``counts.csv``, a ledger's figures by the old unit column) gets them from those."""
    if frame is None:
        return None
    out = frame
    for std, old in dom.legacy_columns.items():
        if std not in out.columns and old in out.columns:
            out = out.rename(columns={old: std})
    return out


def _grain_of(by: str, dom: Domain) -> None:
    """A monthly pack cannot be scored by day or week."""
    if dom.period == "month" and by in ("day", "week"):
        raise InputError(
            f"领域包 {dom.name} 按月报送数据，不能按{'日' if by == 'day' else '周'}评分。",
            f"pack {dom.name} has monthly batches: it cannot be scored by {by}.",
            fix_zh="使用 --by month（或 --period month）。",
            fix_en="use --by month (or --period month).",
        )


def score_frames(
    counts: pd.DataFrame,
    rows: pd.DataFrame,
    *,
    domain: str | Path | Domain,
    by: str = "day",
    ledger: str | Path | None = None,
    unit_names: Mapping[str, str] | None = None,
    uploads: pd.DataFrame | None = None,
    calendar=None,
) -> ScoreRun:
    """Score the counts of each batch (``period`` = the batch's day, or month for monthly packs) and, for a
    longer ``by``, aggregate them (scoring.md). ``unit_names``: names seen in the data. ``uploads``: the
    history's upload outcomes of a pack with ``timeliness:`` (:func:`toolkit.timeliness.upload_outcomes`),
    from which the records judged across batches are counted per period (``calendar``: the working-day
    calendar, default the built-in one)."""
    from toolkit import scoring

    dom = _load(domain)
    _grain_of(by, dom)
    cfg = scoring.load_scoring(dom)
    counts, rows = _standard_units(counts, dom), _standard_units(rows, dom)
    grain = dom.period
    ledger_daily = None
    if ledger is not None:
        from toolkit.ledger import ledger_figures

        ledger_daily = _standard_units(ledger_figures(ledger, grain), dom)

    def records(period: str) -> pd.DataFrame | None:
        spec = dom.config.get("timeliness")
        if uploads is None or spec is None or dom.period != "day":
            return None
        from toolkit.timeliness import record_figures, timeliness_spec

        wd = timeliness_spec(dom).working_days  # type: ignore[union-attr]
        return record_figures(uploads, by=period, working_days=wd, calendar=calendar)

    daily = scoring.score(
        counts, rows, ledger_daily, by=("period",), config=cfg, unit_names=unit_names, records=records(grain)
    )
    if by == grain:
        result = daily
    else:
        ledger_period = None
        if ledger is not None:
            from toolkit.ledger import ledger_figures

            ledger_period = _standard_units(ledger_figures(ledger, by), dom)
        result = scoring.period_scores(daily, by=by, ledger=ledger_period, records=records(by))
    table = scoring.scores_table(result)
    return ScoreRun(
        by=by,
        daily=daily,
        period=result,
        table=dom.with_legacy(table),
        trend=provincial_trend(table, cfg),
        domain=dom,
        unit_names=dict(daily.unit_names),
    )


def score_history(
    root: str | Path,
    out_dir: str | Path,
    *,
    domain: str | Path | Domain,
    by: str = "day",
    overlay: str | Path | None = None,
    store: str | Path | None = None,
    ledger: str | Path | None = None,
    calendar=None,
    progress: bool = False,
) -> ScoreRun:
    """``dq score --history DIR``: bring the history up to date, score it, write the outputs."""
    out_dir = Path(out_dir)
    dom = _load(domain, overlay)
    _grain_of(by, dom)
    hist = History(store or out_dir / "history.duckdb", domain=dom)
    report = hist.update(root, progress=progress, calendar=calendar)
    frames = hist.frames()
    run = score_frames(
        frames["counts"],
        frames["rows"],
        by=by,
        domain=hist.domain,
        ledger=ledger,
        unit_names=unit_names_from(frames["units"]),
        uploads=frames.get("uploads"),
        calendar=calendar,
    )
    run.update, run.frames = report, frames
    write_scores(run, out_dir)
    return run


def write_scores(run: ScoreRun, out_dir: str | Path, domain: Domain | None = None) -> dict[str, Path]:
    """``scores.csv`` (contract), ``trend.csv``, ``trace.csv``, ``indicators.csv`` and, for weeks and
    months, ``daily_scores.csv`` (UTF-8 with BOM), each with ``unit_code, unit_name`` and the pack's
    legacy columns."""
    from toolkit import scoring
    from toolkit.outputs import write_csv

    dom = domain or run.domain
    if dom is None:
        raise TypeError("write_scores needs the pack (domain=…)")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "scores": out_dir / "scores.csv",
        "trend": out_dir / "trend.csv",
        "trace": out_dir / "trace.csv",
        "indicators": out_dir / "indicators.csv",
    }
    write_csv(dom.with_legacy(run.table), paths["scores"])
    write_csv(run.trend, paths["trend"])
    write_csv(dom.with_legacy(run.period.trace), paths["trace"])
    write_csv(dom.with_legacy(run.period.indicators), paths["indicators"])
    if run.period is not run.daily:
        paths["daily"] = out_dir / "daily_scores.csv"
        write_csv(dom.with_legacy(scoring.scores_table(run.daily)), paths["daily"])
    return paths


def score_batches(
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    *,
    domain: str | Path | Domain,
    mode: str = "incremental",
    overlay: str | Path | None = None,
    ledger: str | Path | None = None,
    calendar=None,
    progress: bool = False,
) -> ScoreRun:
    """``dq score --input BATCH_DIR…``: score the given batches, one period per batch (its folder name;
    the stock batch gets the stock grade). Nothing is kept in a history."""
    from toolkit import scoring
    from toolkit.engine import count_batches

    dom = _load(domain, overlay)
    res = count_batches(
        [Path(p) for p in inputs], domain=dom, mode=mode, calendar=calendar, progress=progress
    )
    counts = res.counts.assign(period=res.counts["batch"])
    rows = res.rows.assign(period=res.rows["batch"])
    names = dict(getattr(res, "unit_names", {}) or {})
    cfg = scoring.load_scoring(dom)
    ledger_frame = None
    if ledger is not None:
        from toolkit.ledger import ledger_figures

        ledger_frame = _standard_units(ledger_figures(ledger, dom.period), dom)
    records = None
    if mode == "incremental" and dom.period == "day" and dom.config.get("timeliness") is not None:
        from toolkit.timeliness import record_figures, timeliness_spec, upload_outcomes

        uploads = upload_outcomes([Path(p) for p in inputs], domain=dom, mode=mode, calendar=calendar)
        records = record_figures(
            uploads, by="day", working_days=timeliness_spec(dom).working_days, calendar=calendar
        )
    result = scoring.score(
        counts, rows, ledger_frame, by=("period",), config=cfg, unit_names=names, records=records
    )
    table = scoring.scores_table(result)
    run = ScoreRun(
        by=dom.period,
        daily=result,
        period=result,
        table=dom.with_legacy(table),
        trend=provincial_trend(table, cfg),
        domain=dom,
        unit_names=dict(result.unit_names),
    )
    run.frames = {"counts": counts, "rows": rows, "files": res.files}
    write_scores(run, out_dir)
    return run
