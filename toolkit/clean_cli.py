"""``dq clean …``: batch format clean-up with a reviewed plan, backups and a change log (:mod:`toolkit.clean`).

::

    dq clean plan  --domain D --input BATCH --out PLAN             # the plan: nothing in the batch changes
    dq clean apply --plan PLAN --approved-by NAME [--out NEW | --in-place] [--log FILE]
    dq clean undo  RUN [--log FILE]                                # originals back, byte for byte
    dq clean log   [--run RUN] [--log FILE] [--format table|csv|json]

The change log is ``--log FILE`` or the environment variable ``DQ_CLEAN_LOG`` (default
``dq-clean.sqlite`` in the current folder); the originals are kept in ``<log name>-backup/<run>/`` beside
it (``--backup`` to choose another folder) — that folder holds personal data in clear and is readable by
its owner only. Errors print in Chinese and English and exit with code 2 (a plan that no longer fits its
batch is refused the same way, nothing written).
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from toolkit.console import fail, safe_message, show_progress
from toolkit.errors import DQError

__all__ = ["clean_app"]

clean_app = typer.Typer(
    no_args_is_help=True,
    help="批量格式整理 / batch format clean-up: plan → (review, approve) → apply → undo, with a change log",
)

DEFAULT_LOG = Path("dq-clean.sqlite")
LogOpt = Annotated[
    Path, typer.Option("--log", envvar="DQ_CLEAN_LOG", help="整理记录文件 / change log (SQLite)")
]


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _console() -> Console:
    return Console()


def _emit(frame: pd.DataFrame, fmt: OutputFormat) -> None:
    if fmt is OutputFormat.csv:  # through toolkit.sheets (no formula survives), UTF-8 without BOM for pipes
        from toolkit.sheets import write_csv
        from toolkit.tempdirs import private_tempdir

        with private_tempdir("clean-csv") as tmp:
            path = write_csv(frame, tmp / "out.csv", encoding="utf-8")
            typer.echo(path.read_text(encoding="utf-8"), nl=False)
    else:
        records: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", force_ascii=False))
        typer.echo(json.dumps(records, ensure_ascii=False, indent=1))


def _cell(v: object) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    return safe_message(v)


@clean_app.command("plan")
def plan_cmd(
    input_dir: Annotated[Path, typer.Option("--input", help="批次目录 / batch folder")],
    out_dir: Annotated[Path, typer.Option("--out", help="计划文件夹 / plan folder")],
    domain: Annotated[str, typer.Option(help="领域包（名称或目录）/ domain pack (name or folder)")] = "bdc",
) -> None:
    """生成整理计划（不改动批次）/ plan the clean-up: every proposed change, masked, for review."""
    from toolkit.clean import make_plan, write_plan

    try:
        plan = make_plan(input_dir, domain=domain, progress=show_progress())
        paths = write_plan(plan, out_dir)
    except DQError as exc:
        fail(exc)
    out = _console()
    summary = plan.summary()
    t = Table(
        title=escape(f"整理计划 / clean-up plan {plan.plan_id}"), box=box.SIMPLE_HEAD, title_justify="left"
    )
    for col in ("整理器 / fixer", "改动 / changes", "需人工 / needs a person"):
        t.add_column(col, justify="right" if col != "整理器 / fixer" else "left")
    if not summary.empty:
        by_fixer = summary.groupby("fixer", sort=False)[["changes", "needs_person"]].sum()
        for fixer, row in by_fixer.iterrows():
            t.add_row(escape(str(fixer)), f"{int(row['changes']):,}", f"{int(row['needs_person']):,}")
    t.add_row("合计 / total", f"{len(plan.changes):,}", f"{len(plan.needs_person):,}")
    out.print(t)
    for name, why in plan.skipped.items():
        out.print(safe_message(f"未整理 / skipped {name}: {why}"))
    out.print(
        safe_message(
            f"读取 {plan.rows_read:,} 行，用时 {plan.seconds:.1f} 秒；批次未改动。/ {plan.rows_read:,} rows read in "
            f"{plan.seconds:.1f} s; the batch is unchanged.\n已写入 / written: {paths['plan.xlsx']}\n"
            f"审核批准后执行 / after review: dq clean apply --plan {out_dir} --approved-by <批准人>"
        )
    )


@clean_app.command("apply")
def apply_cmd(
    plan: Annotated[Path, typer.Option("--plan", help="计划文件夹 / plan folder (dq clean plan --out)")],
    approved_by: Annotated[str, typer.Option("--approved-by", help="批准人 / who approved the plan")],
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", help="整理后批次的新文件夹 / folder for the cleaned batch (default PLAN/cleaned/<batch>)"
        ),
    ] = None,
    in_place: Annotated[
        bool,
        typer.Option("--in-place", help="直接改原批次（先备份）/ replace the batch's files (after a backup)"),
    ] = False,
    log: LogOpt = DEFAULT_LOG,
    backup: Annotated[
        Path | None,
        typer.Option("--backup", help="备份文件夹（敏感）/ backup folder (sensitive), default <log>-backup"),
    ] = None,
) -> None:
    """执行已批准的计划 / apply a reviewed plan: backup, write, log (refused if the batch changed)."""
    from toolkit.clean import apply_plan

    try:
        result = apply_plan(
            plan,
            approved_by=approved_by,
            log=log,
            out=out_dir,
            in_place=in_place,
            backup_root=backup,
            progress=show_progress(),
        )
    except DQError as exc:
        fail(exc)
    _console().print(
        safe_message(
            f"已整理 / applied: 运行 run {result.run_id}，{result.changes:,} 处改动 / changes，"
            f"{len(result.files)} 个文件 / files（{result.seconds:.1f} s）\n"
            f"{'原批次已更新 / batch updated in place' if result.in_place else '整理后的批次 / cleaned batch'}: "
            f"{result.target}\n备份（含个人信息，注意保管）/ backup (holds personal data): {result.backup}\n"
            f"记录 / log: {result.log}    撤销 / undo: dq clean undo {result.run_id} --log {result.log}"
        )
    )


@clean_app.command("undo")
def undo_cmd(
    run: Annotated[str, typer.Argument(help="运行编号（或其唯一前缀）/ run id (or a unique prefix)")],
    log: LogOpt = DEFAULT_LOG,
    by: Annotated[str, typer.Option("--by", help="操作人 / who undoes it")] = "dq clean undo",
) -> None:
    """撤销一次整理：逐字节恢复原文件（核对哈希）/ undo a run: originals back, byte for byte, hash-checked."""
    from toolkit.clean import undo_run

    try:
        result = undo_run(run, log=log, by=by)
    except DQError as exc:
        fail(exc)
    _console().print(
        safe_message(
            f"已撤销 / undone: {result.undone}（撤销记录 / undo run {result.run_id}），恢复 / restored "
            f"{len(result.restored)} 个文件 / files in {result.target}"
        )
    )


@clean_app.command("log")
def log_cmd(
    log: LogOpt = DEFAULT_LOG,
    run: Annotated[
        str | None, typer.Option("--run", help="只看一次运行的改动 / the changes of one run")
    ] = None,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="table（默认）| csv | json")
    ] = OutputFormat.table,
    limit: Annotated[int, typer.Option(help="表格最多显示行数 / rows shown in the table")] = 50,
) -> None:
    """列出整理运行和改动 / list runs, or the changes of one run (values masked)."""
    from toolkit.clean import log_changes, log_runs

    try:
        frame = log_changes(log, run) if run else log_runs(log)
    except DQError as exc:
        fail(exc)
    if fmt is not OutputFormat.table:
        _emit(frame, fmt)
        return
    out = _console()
    if run:
        t = Table(title=escape(f"运行 / run {run} — {len(frame)} 处改动 / changes"), box=box.SIMPLE_HEAD)
        for col in ("#", "文件·行", "字段", "整理器", "原值 → 新值（已脱敏）"):
            t.add_column(col, overflow="fold")
        for r in frame.head(limit).to_dict("records"):
            t.add_row(
                _cell(r["seq"]),
                f"{_cell(r['file'])}:{_cell(r['row'])}",
                _cell(r["field"]),
                _cell(r["fixers"]),
                f"{_cell(r['old_masked'])} → {_cell(r['new_masked'])}",
            )
    else:
        t = Table(title=escape(f"整理记录 / clean-up log — {len(frame)} 次运行 / runs"), box=box.SIMPLE_HEAD)
        for col in ("运行 / run", "时间", "类型", "批准人/操作人", "改动", "状态", "目标 / target"):
            t.add_column(col, overflow="fold")
        for r in frame.tail(limit).to_dict("records"):
            kind = "整理 apply" if r["kind"] == "apply" else f"撤销 undo {_cell(r['undoes'])}"
            t.add_row(
                _cell(r["run_id"]),
                _cell(str(r["at"])[:19].replace("T", " ")),
                kind,
                _cell(r["actor"]),
                _cell(r["changes"]),
                _cell(r["status"]),
                _cell(r["target"]),
            )
    out.print(t)
    if len(frame) > limit:
        out.print(escape(f"另有 {len(frame) - limit} 行未显示，可用 --limit 或 --format csv。"))
