"""Score history (``dq score --history DIR``): every daily incremental batch, counted once, kept on disk.

A history is a single DuckDB file (default ``OUT_DIR/history.duckdb``) with the rule counts of every
batch folder under ``DIR`` (``DIR/2024-03-05/…``: one folder per day, named by its date). A batch is
counted again only when it changed: its *fingerprint* is the SHA-256 of its files' names, sizes and
modification times together with the *standard* it was counted against (the domain's suites, views and
overlay). Changing a suite therefore recounts everything; adding a day counts only that day.
Counting runs on the DuckDB engine (:mod:`toolkit.engine`), many batches per pass. Each batch's counts
replace its old ones in one transaction, so a run that is killed leaves every batch either wholly old
or wholly new.

Tables of the history file::

    batches(batch, day, fingerprint, standard, mode, rows_read, counted_at)
    counts(batch, QXDM, rule_id, "table", field, dimension, severity,
           element_count, unexpected_count, evaluated, engine)
    rows(batch, QXDM, "table", rows, failing_<dimension>…)
    files(batch, "table", file, rows_read)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from toolkit.domain import Domain, load_domain
from toolkit.errors import BatchNotFoundError, ConfigError, InputError

__all__ = ["History", "batch_folders", "fingerprint", "standard_fingerprint"]

DISTRICT = "QXDM"


def batch_folders(root: str | Path) -> list[tuple[str, dt.date, Path]]:
    """The daily batch folders under ``root``, oldest first: ``(name, day, path)``.

    Folders whose name is not a date (``YYYY-MM-DD``) are refused with a clear error rather than
    skipped, so that no day's data is silently left out of the scores."""
    root = Path(root)
    if not root.is_dir():
        raise BatchNotFoundError(
            "历史数据文件夹不存在。",
            "the history folder does not exist.",
            path=root,
            fix_zh="--history 应指向按日期分文件夹的增量数据目录（如 sample/incremental）。",
            fix_en="--history must point at the folder of daily batches (e.g. sample/incremental).",
        )
    out = []
    for p in sorted(root.iterdir()):
        if not p.is_dir() or p.name.startswith("."):
            continue
        try:
            day = dt.date.fromisoformat(p.name)
        except ValueError:
            raise InputError(
                f"文件夹 {p.name} 不是按日期（YYYY-MM-DD）命名的批次。",
                f"folder {p.name} is not a daily batch named by its date (YYYY-MM-DD).",
                path=p,
                fix_zh="把每天的增量数据放在以日期命名的文件夹里，其他文件夹移出该目录。",
                fix_en="keep one folder per day named by its date; move other folders elsewhere.",
            ) from None
        out.append((p.name, day, p))
    if not out:
        raise InputError(
            "历史数据文件夹中没有按日期命名的批次。",
            "the history folder holds no daily batch folders.",
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
    """What the counts depend on besides the data: the suites (after any overlay), the views, the mode."""
    payload = {
        "mode": mode,
        "suites": domain.suites,
        "views": getattr(domain, "views_sql", {}),
        "overlay": (domain.overlay or {}).get("sha256") if isinstance(domain.overlay, dict) else None,
    }
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
    """The persistent counts of a folder of daily batches."""

    def __init__(
        self,
        path: str | Path,
        *,
        domain: str | Domain = "bdc",
        mode: str = "incremental",
        overlay: str | Path | None = None,
    ) -> None:
        self.path = Path(path)
        self.domain = domain if isinstance(domain, Domain) else load_domain(domain, overlay=overlay)
        self.mode = mode
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

    def known(self) -> dict[str, str]:
        """batch → fingerprint of what the history holds."""
        if not self.path.exists():
            return {}
        con = self._connect(read_only=True)
        try:
            if not self._has(con, "batches"):
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
        folders = batch_folders(root)
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
            self._store(part, prints, res)
        if gone:
            self._remove(gone)
        return UpdateReport(len(folders), len(todo), len(gone), rows_read, time.perf_counter() - t0)

    def _store(self, part: Sequence[tuple[str, dt.date, Path]], prints: dict[str, str], res) -> None:
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
        frames = {"batches": batches, "counts": res.counts, "rows": res.rows, "files": res.files}
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
        have = {r[0] for r in con.execute(f'DESCRIBE "{table}"').fetchall()}
        for col in frame.columns:
            if col not in have:
                con.execute(f'ALTER TABLE "{table}" ADD COLUMN "{col}" BIGINT DEFAULT 0')

    def _remove(self, names: Iterable[str]) -> None:
        names = list(names)
        con = self._connect()
        try:
            con.execute("BEGIN TRANSACTION")
            for table in ("batches", "counts", "rows", "files"):
                if self._has(con, table):
                    con.execute(f'DELETE FROM "{table}" WHERE batch IN (SELECT unnest(?))', [names])
            con.execute("COMMIT")
        finally:
            con.close()

    # ------------------------------------------------------------------------------------------ read

    def frames(self, *, start: dt.date | None = None, end: dt.date | None = None) -> dict[str, pd.DataFrame]:
        """``counts`` and ``rows`` with a ``period`` column (the batch's day, ``YYYY-MM-DD``)."""
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
            for table in ("counts", "rows", "files"):
                sql = (
                    f"SELECT strftime(b.day, '%Y-%m-%d') AS period, t.* FROM \"{table}\" t "
                    f"JOIN batches b USING (batch) {where} ORDER BY b.day"
                )
                out[table] = con.execute(sql, args).df()
            out["batches"] = con.execute(f"SELECT * FROM batches b {where} ORDER BY day", args).df()
            return out
        finally:
            con.close()


# ================================================================================================ scoring


@dataclass
class ScoreRun:
    """What ``dq score`` computed: daily scores, the period scores asked for, and how they came about."""

    by: str
    daily: object  # toolkit.scoring.ScoreResult, one group per day
    period: object  # toolkit.scoring.ScoreResult for ``by`` (the daily result itself when by == "day")
    table: pd.DataFrame  # scores.csv
    trend: pd.DataFrame  # provincial figures per period
    update: UpdateReport | None = None
    frames: dict[str, pd.DataFrame] | None = None


def provincial_trend(table: pd.DataFrame, config=None) -> pd.DataFrame:
    """Per period: the provincial average of district scores (the headline 平均分), its grade, the
    spread and how many districts meet the standard (A4 or better)."""
    from toolkit import scoring

    cfg = config or scoring.load_scoring("bdc")
    scored = table[table["score"].notna()]
    g = scored.groupby("period", sort=True)["score"]
    out = pd.DataFrame(
        {
            "districts": g.size(),
            "average": g.mean().map(lambda v: scoring.round_half_up(v, 2)),
            "min": g.min(),
            "max": g.max(),
            "meeting_standard": scored.assign(ok=scored["grade"].isin(["A1", "A2", "A3", "A4"]))
            .groupby("period")["ok"]
            .sum(),
        }
    ).reset_index()
    out["grade"] = out["average"].map(lambda v: scoring.grade(v, cfg))
    return out


def score_frames(
    counts: pd.DataFrame,
    rows: pd.DataFrame,
    *,
    by: str = "day",
    domain: str | Domain = "bdc",
    ledger: str | Path | None = None,
) -> ScoreRun:
    """Score daily counts (``period`` = the day) and, for week/month, aggregate them (scoring.md)."""
    from toolkit import scoring

    cfg = scoring.load_scoring(domain)
    ledger_daily = None
    if ledger is not None:
        from toolkit.ledger import ledger_figures

        ledger_daily = ledger_figures(ledger, "day")
    daily = scoring.score(counts, rows, ledger_daily, by=("period",), config=cfg)
    if by == "day":
        result = daily
    else:
        from toolkit.ledger import ledger_figures

        ledger_period = ledger_figures(ledger, by) if ledger is not None else None
        result = scoring.period_scores(daily, by=by, ledger=ledger_period)
    table = scoring.scores_table(result)
    return ScoreRun(by=by, daily=daily, period=result, table=table, trend=provincial_trend(table, cfg))


def score_history(
    root: str | Path,
    out_dir: str | Path,
    *,
    by: str = "day",
    domain: str | Domain = "bdc",
    overlay: str | Path | None = None,
    store: str | Path | None = None,
    ledger: str | Path | None = None,
    calendar=None,
    progress: bool = False,
) -> ScoreRun:
    """``dq score --history DIR``: bring the history up to date, score it, write the outputs."""
    out_dir = Path(out_dir)
    hist = History(store or out_dir / "history.duckdb", domain=domain, overlay=overlay)
    report = hist.update(root, progress=progress, calendar=calendar)
    frames = hist.frames()
    run = score_frames(frames["counts"], frames["rows"], by=by, domain=hist.domain, ledger=ledger)
    run.update, run.frames = report, frames
    write_scores(run, out_dir)
    return run


def write_scores(run: ScoreRun, out_dir: str | Path) -> dict[str, Path]:
    """``scores.csv`` (contract), ``trend.csv``, ``daily_scores.csv`` and ``trace.csv`` (UTF-8 with BOM)."""
    from toolkit.outputs import write_csv

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "scores": out_dir / "scores.csv",
        "trend": out_dir / "trend.csv",
        "trace": out_dir / "trace.csv",
        "indicators": out_dir / "indicators.csv",
    }
    write_csv(run.table, paths["scores"])
    write_csv(run.trend, paths["trend"])
    write_csv(run.period.trace, paths["trace"])
    write_csv(run.period.indicators, paths["indicators"])
    if run.by != "day":
        paths["daily"] = out_dir / "daily_scores.csv"
        write_csv(scoring_table_daily(run), paths["daily"])
    return paths


def scoring_table_daily(run: ScoreRun) -> pd.DataFrame:
    from toolkit import scoring

    return scoring.scores_table(run.daily)


def score_batches(
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    *,
    mode: str = "incremental",
    domain: str | Domain = "bdc",
    overlay: str | Path | None = None,
    ledger: str | Path | None = None,
    calendar=None,
    progress: bool = False,
) -> ScoreRun:
    """``dq score --input BATCH_DIR…``: score the given batches, one period per batch (its folder name;
    the stock batch gets the stock grade). Nothing is kept in a history."""
    from toolkit.engine import count_batches

    dom = domain if isinstance(domain, Domain) else load_domain(domain, overlay=overlay)
    res = count_batches(
        [Path(p) for p in inputs], domain=dom, mode=mode, calendar=calendar, progress=progress
    )
    counts = res.counts.assign(period=res.counts["batch"])
    rows = res.rows.assign(period=res.rows["batch"])
    run = score_frames(counts, rows, by="day", domain=dom, ledger=ledger)
    run.frames = {"counts": counts, "rows": rows, "files": res.files}
    write_scores(run, out_dir)
    return run
