"""``dq ledger …``: the problem ledger (问题台账) on the command line (see :mod:`toolkit.ledger`).

The ledger file is given with ``--ledger FILE`` or the environment variable ``DQ_LEDGER``. Commands that
only read never create a ledger (they upgrade an old one in place). Errors print in Chinese and English
and exit with code 2.

Output formats of the reading commands (``list``, ``overdue``, ``show``, ``runs``, ``figures``):
``--format table`` (default) is for a person: a table that fits the terminal — 80 columns or a pipe
included — with few columns, the unit and the problem's message wrapped inside their cells;
``--format csv`` (written through :mod:`toolkit.sheets`, no formula from the data survives; UTF-8 without
BOM, for pipes — ``dq ledger export`` writes the file for Excel) and ``--format json`` (a list of records,
``ensure_ascii=False``) carry every column, with the pack's legacy columns (e.g. the old unit code
column) beside ``unit_code`` / ``unit_name``. Labels — the unit (区县, 机构 …) and the problem fields —
come from the pack, as stored in the ledger by the last sync.
"""

from __future__ import annotations

import datetime as dt
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

from toolkit.console import fail, safe_message
from toolkit.errors import DQError

__all__ = ["OutputFormat", "ledger_app", "print_sync_report"]

ledger_app = typer.Typer(
    no_args_is_help=True,
    help="问题台账 / problem ledger: list, update, overdue, recheck, export, figures",
)


class OutputFormat(StrEnum):
    """``--format`` of the reading commands."""

    table = "table"
    csv = "csv"
    json = "json"


LedgerOpt = Annotated[
    Path, typer.Option("--ledger", envvar="DQ_LEDGER", help="台账文件 / ledger file (SQLite)")
]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="统计日期 / as-of date (default: today)")]
FormatOpt = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        help="输出格式：table 表格（默认）、csv 或 json（供管道和程序使用）/ output format: table, csv, json",
    ),
]
UnitOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--unit",
        "--district",
        help="考核对象代码（如区县代码、机构代码），可多次 / unit code (repeatable)",
    ),
]
DEFAULT_LEDGER = Path("ledger.sqlite")

_STATE_STYLE = {
    "发现": "yellow",
    "已下发": "cyan",
    "整改中": "blue",
    "待复核": "magenta",
    "退回": "red",
    "已销号": "green",
}


def _console() -> Console:
    """A console for this command: its width is read now (``COLUMNS``, the terminal, else 80)."""
    return Console()


def _fail(exc: DQError) -> None:
    fail(exc)


def _cell(v: object) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    return safe_message(v)


def print_sync_report(report) -> None:
    """One line after ``dq check --ledger`` / ``dq ledger recheck``."""
    _console().print(escape(report.line()), soft_wrap=True)  # one line, also in a pipe


# ------------------------------------------------------------------------------------- csv and json
def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as JSON-ready records (missing values → null, numpy scalars → Python)."""
    return json.loads(frame.to_json(orient="records", force_ascii=False, date_format="iso"))


def _emit(frame: pd.DataFrame, fmt: OutputFormat) -> None:
    """Write ``frame`` to standard output as CSV (through :mod:`toolkit.sheets`) or JSON."""
    if fmt is OutputFormat.csv:  # toolkit.sheets writes it (no BOM on a pipe), from a private folder
        from toolkit.sheets import write_csv
        from toolkit.tempdirs import private_tempdir

        with private_tempdir("ledger-csv") as tmp:
            path = write_csv(frame, tmp / "out.csv", encoding="utf-8")
            typer.echo(path.read_text(encoding="utf-8"), nl=False)
    else:
        typer.echo(json.dumps(_records(frame), ensure_ascii=False, indent=1))


def _info(ledger: Path) -> dict[str, Any]:
    from toolkit.ledger import ledger_info

    return ledger_info(ledger)


# ------------------------------------------------------------------------------------- tables
def _name_line(code: str, name: str) -> str:
    return f"{code}\n{name}" if name and name != code else code


def _problem_table(frame: pd.DataFrame, title: str, limit: int, info: dict[str, Any]) -> Table:
    """Five columns that fit 80 characters: 编号 | 状态·期限 | unit (code, name) | 责任人 (name, phone) |
    问题 (rule, record, message — wrapped)."""
    t = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    t.add_column("编号", no_wrap=True, justify="right")
    t.add_column("状态·期限", no_wrap=True)
    t.add_column(
        escape(str(info.get("unit_label_zh") or "单位")), no_wrap=True, max_width=12, overflow="ellipsis"
    )
    t.add_column("责任人", no_wrap=True, max_width=12, overflow="ellipsis")
    t.add_column("问题 / problem", overflow="fold", min_width=24, ratio=1)
    fields = list((info.get("problem_fields") or {}).items())
    for rec in frame.head(limit).to_dict("records"):
        state = _cell(rec["state"])
        style = _STATE_STYLE.get(rec["state"], "")
        state = f"[{style}]{state}[/]" if style else state
        if rec.get("repeats"):
            state += f" 复发{int(rec['repeats'])}"
        deadline = _cell(rec["deadline"])
        if rec["overdue"]:
            deadline = f"[bold red]{deadline}\n逾期 {int(rec['overdue_workdays'])} 工作日[/]"
        who = _cell(rec.get("responsible")) or "未指定"
        if _cell(rec.get("phone_masked")):
            who += "\n" + _cell(rec["phone_masked"])
        record = _cell(rec["record_key"])
        extra = [  # the problem fields that say more than the record key (e.g. the main record's number)
            f"{escape(label)} {_cell(rec.get(f))}"
            for f, label in fields
            if _cell(rec.get(f)) and _cell(rec.get(f)) not in record
        ]
        if extra:
            record += "\n" + "，".join(extra)
        message = _cell(rec.get("message_zh"))
        value = _cell(rec.get("value_masked"))
        if value:
            message += f"（{_cell(rec.get('field'))}：{value}）"
        t.add_row(
            _cell(rec["problem_id"]),
            f"{state}\n{deadline}",
            _name_line(_cell(rec["unit_code"]) or "（空）", _cell(rec.get("unit_name"))),
            who,
            f"{_cell(rec['rule_id'])}\n{record}\n{message}",
        )
    return t


def _problems_out(
    frame: pd.DataFrame, fmt: OutputFormat, title: str, limit: int, info: dict[str, Any]
) -> None:
    from toolkit.ledger import with_legacy

    if fmt is not OutputFormat.table:
        _emit(with_legacy(frame, info), fmt)
        return
    out = _console()
    shown = min(limit, len(frame))
    out.print(_problem_table(frame, f"{title} — {len(frame)} 条（显示 {shown}）", limit, info))
    if len(frame) > shown:
        out.print(
            escape(f"另有 {len(frame) - shown} 条未显示，可用 --limit、--format csv 或 dq ledger export。")
        )


@ledger_app.command("list")
def list_problems(
    ledger: LedgerOpt = DEFAULT_LEDGER,
    state: Annotated[
        list[str] | None,
        typer.Option("--state", help="状态，可多次 / state (repeatable), e.g. 发现 or found"),
    ] = None,
    unit: UnitOpt = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="只看逾期 / overdue only")] = False,
    as_of: AsOfOpt = None,
    limit: Annotated[int, typer.Option(help="表格最多显示行数 / rows shown in the table")] = 50,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """列出台账问题 / list the ledger's problems."""
    from toolkit.ledger import problems_frame

    try:
        frame = problems_frame(ledger, states=state, units=unit, overdue=overdue, as_of=as_of)
        info = _info(ledger)
    except DQError as exc:
        _fail(exc)
    _problems_out(frame, fmt, "问题台账 / problem ledger", limit, info)


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
    _console().print(
        escape(f"已更新 / updated: 问题 {ids} → {target}（操作人 {actor}，运行 {run_id}）"), soft_wrap=True
    )


@ledger_app.command()
def overdue(
    ledger: LedgerOpt = DEFAULT_LEDGER,
    unit: UnitOpt = None,
    as_of: AsOfOpt = None,
    limit: Annotated[int, typer.Option(help="表格最多显示行数 / rows shown in the table")] = 50,
    fmt: FormatOpt = OutputFormat.table,
    notify: Annotated[
        str | None, typer.Option(help="工作群机器人 Webhook：发送督办消息 / group-robot webhook URL")
    ] = None,
) -> None:
    """逾期督办清单 / overdue problems by unit and responsible person (csv/json: the overdue problems)."""
    from toolkit.ledger import problems_frame

    try:
        frame = problems_frame(ledger, units=unit, overdue=True, as_of=as_of)
        info = _info(ledger)
    except DQError as exc:
        _fail(exc)
    if notify:
        from toolkit.notify import overdue_text, post

        title, text = overdue_text(_records(frame), unit_label=str(info.get("unit_label_zh") or "单位"))
        try:
            post(notify, title, text)
        except DQError as exc:
            _fail(exc)
    if fmt is not OutputFormat.table:
        _problems_out(frame, fmt, "", limit, info)
        return
    label = escape(str(info.get("unit_label_zh") or "单位"))
    t = Table(
        title=f"逾期问题汇总 / overdue by {escape(str(info.get('unit_label_en') or 'unit'))} — {len(frame)} 条",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title_justify="left",
    )
    t.add_column(label, no_wrap=True, max_width=14, overflow="ellipsis")
    t.add_column("责任人", no_wrap=True, max_width=12, overflow="ellipsis")
    t.add_column("责任单位", overflow="fold", min_width=10, ratio=1)
    t.add_column("逾期条数", no_wrap=True, justify="right")
    t.add_column("最长逾期", no_wrap=True, justify="right")
    if len(frame):
        grouped = frame.fillna(
            {"unit_name": "", "responsible": "", "responsible_unit": "", "phone_masked": ""}
        ).groupby(["unit_code", "unit_name", "responsible", "responsible_unit", "phone_masked"], dropna=False)
        for (code, name, who, office, phone), g in grouped:
            person = _cell(who) or "未指定"
            if _cell(phone):
                person += "\n" + _cell(phone)
            t.add_row(
                _name_line(_cell(code) or "（空）", _cell(name)),
                person,
                _cell(office),
                str(len(g)),
                f"{int(g['overdue_workdays'].max())} 工作日",
            )
    out = _console()
    out.print(t)
    if len(frame):
        shown = min(limit, len(frame))
        out.print(_problem_table(frame, f"逾期问题 / overdue problems（显示 {shown}）", limit, info))


@ledger_app.command()
def show(
    problem_id: Annotated[int, typer.Argument(help="问题编号 / problem id")],
    ledger: LedgerOpt = DEFAULT_LEDGER,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """一个问题及其流转记录 / one problem and its history (csv: the history; json: both)."""
    from toolkit.ledger import ProblemNotFoundError, events_frame, labels_zh, problems_frame, with_legacy

    try:
        frame = problems_frame(ledger, as_of=as_of)
        frame = frame[frame["problem_id"] == problem_id]
        if frame.empty:
            raise ProblemNotFoundError(
                f"台账中没有编号为 {problem_id} 的问题。",
                f"there is no problem {problem_id} in the ledger.",
                path=ledger,
                fix_zh="用 dq ledger list 查看问题编号。",
                fix_en="see the ids with dq ledger list.",
            )
        events = events_frame(ledger, problem_id)
        info = _info(ledger)
    except DQError as exc:
        _fail(exc)
    if fmt is OutputFormat.csv:
        _emit(events, fmt)
        return
    if fmt is OutputFormat.json:
        doc = {"problem": _records(with_legacy(frame, info))[0], "events": _records(events)}
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=1))
        return
    labels = labels_zh(info)
    t = Table(title=f"问题 / problem {problem_id}", box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    t.add_column("项目 / item", no_wrap=True)
    t.add_column("值 / value", overflow="fold", ratio=1)
    for k, v in frame.iloc[0].to_dict().items():
        t.add_row(
            escape(labels.get(k, k)),
            {True: "是", False: "否"}.get(v, _cell(v)) if k == "overdue" else _cell(v),
        )
    out = _console()
    out.print(t)
    h = Table(title="流转记录 / history", box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    h.add_column(labels["seq"], no_wrap=True, justify="right")
    h.add_column(labels["at"], no_wrap=True)
    h.add_column(labels["actor"], no_wrap=True, max_width=14, overflow="ellipsis")
    h.add_column("原状态 → 新状态", no_wrap=True)
    h.add_column(labels["note"], overflow="fold", min_width=16, ratio=1)
    for rec in events.to_dict("records"):
        at = _cell(rec["at"])
        h.add_row(
            _cell(rec["seq"]),
            at.replace(" ", "\n", 1),
            _cell(rec["actor"]),
            f"{_cell(rec['from_state']) or '（新）'} → {_cell(rec['to_state'])}",
            _cell(rec["note"]),
        )
    out.print(h)


@ledger_app.command()
def recheck(
    input_dir: Annotated[Path, typer.Option("--input", help="批次目录 / batch folder")],
    ledger: LedgerOpt = DEFAULT_LEDGER,
    domain: Annotated[str, typer.Option(help="领域包（名称或目录）/ domain pack (name or folder)")] = "bdc",
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
                    f"--as-of 的值 {as_of!r} 不是有效时间。",
                    f"--as-of {as_of!r} is not a datetime.",
                    fix_zh="写成 2024-03-05 或 2024-03-05 18:00:00",
                    fix_en="use e.g. 2024-03-05 or 2024-03-05 18:00:00",
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
    _console().print(escape(f"已导出 / exported: {path}"), soft_wrap=True)


@ledger_app.command()
def figures(
    ledger: LedgerOpt = DEFAULT_LEDGER,
    by: Annotated[str, typer.Option("--by", help="day | week | month | quarter | year")] = "month",
    as_of: AsOfOpt = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="另存为 CSV / also write CSV")] = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """闭环指标：到期、复核销号、按期整改 / closed-loop figures per unit and period."""
    from toolkit.ledger import ledger_figures, unit_names, with_legacy

    try:
        frame = ledger_figures(ledger, by, as_of=as_of)
        names = unit_names(ledger)
        info = _info(ledger)
    except DQError as exc:
        _fail(exc)
    frame.insert(1, "unit_name", [names.get(str(c), "") for c in frame["unit_code"]])
    frame = with_legacy(frame, info)
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        from toolkit.sheets import write_csv

        write_csv(frame, out_file)
    if fmt is not OutputFormat.table:
        _emit(frame, fmt)
        return
    out = _console()
    t = Table(
        title=f"整改闭环 / closed loop by {escape(by)}",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title_justify="left",
    )
    t.add_column(
        escape(str(info.get("unit_label_zh") or "单位")), no_wrap=True, max_width=14, overflow="ellipsis"
    )
    for c in ("周期", "到期问题", "复核销号", "按期整改", "销账率", "整改及时率"):
        t.add_column(c, no_wrap=True, justify="left" if c == "周期" else "right")
    for r in frame.to_dict("records"):
        t.add_row(
            _name_line(_cell(r["unit_code"]) or "（空）", _cell(r["unit_name"])),
            _cell(r["period"]),
            str(r["problems_due"]),
            str(r["closed_after_recheck"]),
            str(r["fixed_before_deadline"]),
            f"{r['reconcile_rate']:.1%}",
            f"{r['fix_on_time']:.1%}",
        )
    out.print(t)
    if out_file is not None:
        out.print(escape(f"已写入 / written: {out_file}"), soft_wrap=True)


_KIND_ZH = {"check": "检查", "update": "人工变更"}
_MODE_ZH = {"stock": "存量", "incremental": "增量"}
_COUNTS_ZH = (
    ("opened", "新增"),
    ("reopened", "复发"),
    ("returned", "退回"),
    ("closed", "销号"),
    ("updated", "人工变更"),
)


@ledger_app.command()
def runs(
    ledger: LedgerOpt = DEFAULT_LEDGER,
    limit: Annotated[int, typer.Option(help="表格最多显示行数（最近的）/ latest runs shown")] = 20,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """运行记录 / the runs that changed the ledger."""
    from toolkit.ledger import runs_frame

    try:
        frame = runs_frame(ledger)
    except DQError as exc:
        _fail(exc)
    if fmt is not OutputFormat.table:
        _emit(frame, fmt)
        return
    t = Table(title="运行记录 / runs", box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    t.add_column("运行编号", no_wrap=True)
    t.add_column("类型", no_wrap=True)
    t.add_column("业务时间", no_wrap=True)
    t.add_column("操作人", no_wrap=True, max_width=12, overflow="ellipsis")
    t.add_column("变更 / changes", overflow="fold", min_width=10, ratio=1)
    for r in frame.tail(limit).to_dict("records"):
        kind = _KIND_ZH.get(r.get("kind"), _cell(r.get("kind")))
        mode = _MODE_ZH.get(r.get("mode"), _cell(r.get("mode")))
        changes = [f"{label}{int(r[c])}" for c, label in _COUNTS_ZH if r.get(c)]
        changes.append(f"事件{int(r.get('events') or 0)}")
        t.add_row(
            _cell(r.get("run_id")),
            f"{kind}\n{mode}" if mode else kind,
            _cell(r.get("at")).replace(" ", "\n", 1),
            _cell(r.get("actor")),
            " ".join(changes),
        )
    _console().print(t)


@ledger_app.command()
def verify(ledger: LedgerOpt = DEFAULT_LEDGER) -> None:
    """校验台账一致性 / check the ledger's invariants (exit 1 if broken)."""
    from toolkit.ledger import verify_ledger

    try:
        issues = verify_ledger(ledger)
    except DQError as exc:
        _fail(exc)
    if issues:
        err = Console(stderr=True)
        for i in issues:
            err.print(escape(i))
        err.print(f"[red]台账不一致 / ledger inconsistent: {len(issues)}[/]")
        raise typer.Exit(1)
    _console().print(escape(f"台账一致 / ledger consistent ({dt.datetime.now():%Y-%m-%d %H:%M})"))
