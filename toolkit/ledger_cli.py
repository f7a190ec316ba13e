"""``dq ledger …``: the problem ledger (问题台账) on the command line (see :mod:`toolkit.ledger`).

The ledger file is given with ``--ledger FILE`` or the environment variable ``DQ_LEDGER``. Commands that
only read never create a ledger. Errors print in Chinese and English and exit with code 2.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from toolkit.console import fail, safe_message
from toolkit.errors import DQError

ledger_app = typer.Typer(
    no_args_is_help=True,
    help="问题台账 / problem ledger: list, update, overdue, recheck, export, figures",
)
_out = Console()
_err = Console(stderr=True)

LedgerOpt = Annotated[
    Path, typer.Option("--ledger", envvar="DQ_LEDGER", help="台账文件 / ledger file (SQLite)")
]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="统计日期 / as-of date (default: today)")]
DEFAULT_LEDGER = Path("ledger.sqlite")

_STATE_STYLE = {
    "发现": "yellow",
    "已下发": "cyan",
    "整改中": "blue",
    "待复核": "magenta",
    "退回": "red",
    "已销号": "green",
}


def _fail(exc: DQError) -> None:
    fail(exc)


def _cell(v: object) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    return safe_message(v)


def print_sync_report(report) -> None:
    """One line after ``dq check --ledger`` / ``dq ledger recheck``."""
    _out.print(escape(report.line()))


def _problem_table(frame, title: str, limit: int) -> Table:
    from toolkit.ledger import LABELS_ZH

    cols = [
        "problem_id",
        "state",
        "QXDM",
        "rule_id",
        "record_key",
        "field",
        "value_masked",
        "message_zh",
        "deadline",
        "responsible",
        "phone_masked",
        "repeats",
        "overdue_workdays",
    ]
    t = Table(title=title, show_lines=False)
    for c in cols:
        t.add_column(LABELS_ZH.get(c, c), overflow="fold")
    for rec in frame.head(limit).to_dict("records"):
        cells = [_cell(rec[c]) for c in cols]
        style = _STATE_STYLE.get(rec["state"], "")
        cells[1] = f"[{style}]{cells[1]}[/]" if style else cells[1]
        if rec["overdue"]:
            cells[8] = f"[bold red]{cells[8]}[/]"
        cells[9] = cells[9] or "（未指定）"
        t.add_row(*cells)
    return t


@ledger_app.command("list")
def list_problems(
    ledger: LedgerOpt = DEFAULT_LEDGER,
    state: Annotated[
        list[str] | None,
        typer.Option("--state", help="状态，可多次 / state (repeatable), e.g. 发现 or found"),
    ] = None,
    district: Annotated[
        list[str] | None, typer.Option("--district", help="区县代码，可多次 / QXDM (repeatable)")
    ] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="只看逾期 / overdue only")] = False,
    as_of: AsOfOpt = None,
    limit: Annotated[int, typer.Option(help="最多显示行数 / rows shown")] = 50,
) -> None:
    """列出台账问题 / list the ledger's problems."""
    from toolkit.ledger import problems_frame

    try:
        frame = problems_frame(ledger, states=state, districts=district, overdue=overdue, as_of=as_of)
    except DQError as exc:
        _fail(exc)
    shown = min(limit, len(frame))
    _out.print(_problem_table(frame, f"问题台账 / problem ledger — {len(frame)} 条（显示 {shown}）", limit))
    if len(frame) > shown:
        _out.print(escape(f"另有 {len(frame) - shown} 条未显示，可用 --limit 或 dq ledger export。"))


@ledger_app.command()
def update(
    problem_ids: Annotated[list[int], typer.Argument(help="问题编号 / problem id(s)")],
    to: Annotated[str, typer.Option("--to", help="新状态 / new state, e.g. 已下发 or issued")],
    actor: Annotated[str, typer.Option("--actor", help="操作人 / who makes the change")],
    ledger: LedgerOpt = DEFAULT_LEDGER,
    note: Annotated[str | None, typer.Option("--note", help="说明 / note")] = None,
    at: Annotated[str | None, typer.Option("--at", help="时间 / time (default: now)")] = None,
    expect: Annotated[
        str | None, typer.Option("--from", help="预期的当前状态 / refuse if the state is no longer this")
    ] = None,
) -> None:
    """变更问题状态 / move problems to another state (all or none)."""
    from toolkit.ledger import normalise_state
    from toolkit.ledger import update as do_update

    try:
        run_id = do_update(ledger, problem_ids, to, actor=actor, note=note, at=at, expect=expect)
        target = normalise_state(to)
    except DQError as exc:
        _fail(exc)
    ids = ", ".join(str(i) for i in problem_ids)
    _out.print(escape(f"已更新 / updated: 问题 {ids} → {target}（操作人 {actor}，运行 {run_id}）"))


@ledger_app.command()
def overdue(
    ledger: LedgerOpt = DEFAULT_LEDGER,
    district: Annotated[list[str] | None, typer.Option("--district", help="区县代码 / QXDM")] = None,
    as_of: AsOfOpt = None,
    limit: Annotated[int, typer.Option(help="最多显示行数 / rows shown")] = 50,
) -> None:
    """逾期督办清单 / overdue problems by district and responsible person."""
    from toolkit.ledger import problems_frame
    from toolkit.regions import county_name

    try:
        frame = problems_frame(ledger, districts=district, overdue=True, as_of=as_of)
    except DQError as exc:
        _fail(exc)
    t = Table(title=f"逾期问题汇总 / overdue by district — {len(frame)} 条")
    for c in ("区县代码", "区县", "责任人", "责任单位", "联系电话（已脱敏）", "逾期条数", "最长逾期工作日"):
        t.add_column(c)
    if len(frame):
        grouped = frame.fillna({"responsible": "", "unit": "", "phone_masked": ""}).groupby(
            ["QXDM", "responsible", "unit", "phone_masked"], dropna=False
        )
        for (q, who, unit, phone), g in grouped:
            t.add_row(
                _cell(q),
                _cell(county_name(str(q)) or ""),
                _cell(who) or "（未指定）",
                _cell(unit),
                _cell(phone),
                str(len(g)),
                str(int(g["overdue_workdays"].max())),
            )
    _out.print(t)
    if len(frame):
        _out.print(_problem_table(frame, "逾期问题 / overdue problems", limit))


@ledger_app.command()
def show(
    problem_id: Annotated[int, typer.Argument(help="问题编号 / problem id")],
    ledger: LedgerOpt = DEFAULT_LEDGER,
    as_of: AsOfOpt = None,
) -> None:
    """一个问题及其流转记录 / one problem and its history."""
    from toolkit.ledger import LABELS_ZH, ProblemNotFoundError, events_frame, problems_frame

    try:
        frame = problems_frame(ledger, as_of=as_of)
        frame = frame[frame["problem_id"] == problem_id]
        if frame.empty:
            raise ProblemNotFoundError(
                f"台账中没有编号为 {problem_id} 的问题。", f"there is no problem {problem_id} in the ledger."
            )
        events = events_frame(ledger, problem_id)
    except DQError as exc:
        _fail(exc)
    t = Table(title=f"问题 / problem {problem_id}")
    t.add_column("项目 / item")
    t.add_column("值 / value", overflow="fold")
    for k, v in frame.iloc[0].to_dict().items():
        t.add_row(
            LABELS_ZH.get(k, k), {True: "是", False: "否"}.get(v, _cell(v)) if k == "overdue" else _cell(v)
        )
    _out.print(t)
    h = Table(title="流转记录 / history")
    cols = ["seq", "at", "actor", "from_state", "to_state", "note", "run_id"]
    for c in cols:
        h.add_column(LABELS_ZH.get(c, c), overflow="fold")
    for rec in events.to_dict("records"):
        h.add_row(*[_cell(rec[c]) for c in cols])
    _out.print(h)


@ledger_app.command()
def recheck(
    input_dir: Annotated[Path, typer.Option("--input", help="批次目录 / batch folder")],
    ledger: LedgerOpt = DEFAULT_LEDGER,
    domain: Annotated[str, typer.Option(help="领域 / domain pack")] = "bdc",
    mode: Annotated[str, typer.Option(help="stock（存量）| incremental（增量）")] = "incremental",
    as_of: Annotated[str | None, typer.Option("--as-of", help="截止时间 / as-of of the batch")] = None,
    overlay: Annotated[Path | None, typer.Option(help="地方规则文件 / locality overlay")] = None,
    holidays: Annotated[Path | None, typer.Option(help="节假日文件 / holiday file (date,type)")] = None,
    actor: Annotated[str, typer.Option("--actor", help="复核人 / who re-checks")] = "dq ledger recheck",
) -> None:
    """复核（回头看）：检查一个批次并更新台账，不写检查输出 / re-check a batch against the ledger."""
    from toolkit import validators, workdays
    from toolkit.check import run_check
    from toolkit.ledger import LedgerError, sync_check

    try:
        ts = None
        if as_of:
            ts = validators.parse_datetime(as_of)
            if ts is None:
                raise LedgerError(
                    f"--as-of 的值 {as_of!r} 不是有效时间。", f"--as-of {as_of!r} is not a datetime."
                )
        calendar = workdays.from_holiday_file(holidays) if holidays else None
        result = run_check(input_dir, domain=domain, mode=mode, as_of=ts, overlay=overlay, calendar=calendar)
        report = sync_check(ledger, result, actor=actor, calendar=calendar)
    except DQError as exc:
        _fail(exc)
    print_sync_report(report)


@ledger_app.command()
def export(
    out_file: Annotated[Path, typer.Option("--out", help="导出文件 .csv 或 .xlsx / output file")],
    ledger: LedgerOpt = DEFAULT_LEDGER,
    as_of: AsOfOpt = None,
) -> None:
    """导出台账（CSV 带 BOM / XLSX 含流转记录）/ export the ledger for offices."""
    from toolkit.ledger import export_ledger

    try:
        path = export_ledger(ledger, out_file, as_of=as_of)
    except DQError as exc:
        _fail(exc)
    _out.print(escape(f"已导出 / exported: {path}"))


@ledger_app.command()
def figures(
    ledger: LedgerOpt = DEFAULT_LEDGER,
    by: Annotated[str, typer.Option("--by", help="day | week | month")] = "month",
    as_of: AsOfOpt = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="另存为 CSV / also write CSV")] = None,
) -> None:
    """闭环指标：到期、复核销号、按期整改 / closed-loop figures per district and period."""
    from toolkit.ledger import ledger_figures

    try:
        frame = ledger_figures(ledger, by, as_of=as_of)
    except DQError as exc:
        _fail(exc)
    t = Table(title=f"整改闭环 / closed loop by {by}")
    labels = ["区县代码", "周期", "到期问题", "复核销号", "按期整改", "销账率", "整改及时率"]
    for c in labels:
        t.add_column(c)
    for r in frame.to_dict("records"):
        t.add_row(
            _cell(r["QXDM"]),
            _cell(r["period"]),
            str(r["problems_due"]),
            str(r["closed_after_recheck"]),
            str(r["fixed_before_deadline"]),
            f"{r['reconcile_rate']:.1%}",
            f"{r['fix_on_time']:.1%}",
        )
    _out.print(t)
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        from toolkit.sheets import write_csv

        write_csv(frame, out_file)
        _out.print(escape(f"已写入 / written: {out_file}"))


@ledger_app.command()
def runs(ledger: LedgerOpt = DEFAULT_LEDGER, limit: Annotated[int, typer.Option()] = 20) -> None:
    """运行记录 / the runs that changed the ledger."""
    from toolkit.ledger import runs_frame

    try:
        frame = runs_frame(ledger)
    except DQError as exc:
        _fail(exc)
    t = Table(title="运行记录 / runs")
    cols = [
        ("run_id", "运行编号"),
        ("kind", "类型"),
        ("mode", "模式"),
        ("at", "业务时间"),
        ("actor", "操作人"),
        ("rows", "行数"),
        ("opened", "新增"),
        ("reopened", "复发"),
        ("returned", "退回"),
        ("closed", "销号"),
        ("updated", "人工变更"),
        ("events", "事件"),
    ]
    for _, label in cols:
        t.add_column(label)
    for r in frame.tail(limit).to_dict("records"):
        t.add_row(*[_cell(r.get(c)) for c, _ in cols])
    _out.print(t)


@ledger_app.command()
def verify(ledger: LedgerOpt = DEFAULT_LEDGER) -> None:
    """校验台账一致性 / check the ledger's invariants (exit 1 if broken)."""
    from toolkit.ledger import verify_ledger

    try:
        issues = verify_ledger(ledger)
    except DQError as exc:
        _fail(exc)
    if issues:
        for i in issues:
            _err.print(escape(i))
        _err.print(f"[red]台账不一致 / ledger inconsistent: {len(issues)}[/]")
        raise typer.Exit(1)
    _out.print(escape(f"台账一致 / ledger consistent ({dt.datetime.now():%Y-%m-%d %H:%M})"))
