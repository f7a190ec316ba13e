"""The ``dq`` command line (see shared/spec/cli-and-outputs.md).

Exit codes (every command; see :mod:`toolkit.console`): 0 done / passed the gate, 1 the data failed the
gate (a critical rule failed beyond its tolerance), 2 the input or configuration could not be used — then
nothing is written that could pass for a result —, 3 an internal error.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from toolkit.clean_cli import clean_app
from toolkit.console import (
    GuardedGroup,
    err,
    fail,
    out,
    print_warnings,
    run_app,
    safe_message,
    show_progress,
)
from toolkit.errors import DQError
from toolkit.ledger_cli import ledger_app, print_sync_report

app = typer.Typer(
    cls=GuardedGroup,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="政务登记数据质量工具包 / data-quality toolkit for registration data",
)
app.add_typer(ledger_app, name="ledger")
app.add_typer(clean_app, name="clean")
__all__ = ["app", "err", "main", "out", "show_progress"]


def _fail(exc: DQError, code: int = 2) -> None:
    fail(exc, code)


@app.command()
def sample(
    domain: Annotated[str, typer.Option(help="领域 / domain pack")] = "bdc",
    out_dir: Annotated[Path, typer.Option("--out", help="输出目录 / output folder")] = Path("sample"),
    seed: Annotated[int, typer.Option(help="随机种子 / random seed")] = 42,
    districts: Annotated[
        int | None,
        typer.Option(
            help="考核单位数（区县/中心/部门），默认按领域包 / number of units (default: the pack's)"
        ),
    ] = None,
    days: Annotated[int | None, typer.Option(help="增量天数（工作日）/ incremental working days")] = None,
    stock_rows: Annotated[
        int | None, typer.Option(help="存量记录数 / stock records (default: the pack's)")
    ] = None,
    end: Annotated[str, typer.Option(help="最后一天 / last day (YYYY-MM-DD)")] = "2024-12-31",
) -> None:
    """生成内置示例数据 / write the embedded sample data (stock + daily incremental batches + truth.csv)."""
    from toolkit.samples import generate_sample

    try:
        given = {"districts": districts, "days": days, "stock_rows": stock_rows}
        info = generate_sample(
            domain,
            out_dir,
            seed=seed,
            end=dt.date.fromisoformat(end),
            progress=show_progress(),
            **{k: v for k, v in given.items() if v is not None},  # the pack's generator has the defaults
        )
    except DQError as exc:
        _fail(exc)
    out.print(safe_message(f"示例数据已写入 / sample written: {out_dir}  ({info.get('summary', '')})"))


def _print_check(result, paths) -> None:
    from toolkit.outputs import summary

    s = summary(result)
    t = Table(
        title=f"检查结果 / check result — {result.domain.label if hasattr(result.domain, 'label') else result.domain.name} {result.mode}"
    )
    t.add_column("项目 / item")
    t.add_column("值 / value")
    t.add_row("读取行数 / rows read", f"{s['rows_read']:,}")
    unit = result.domain.unit
    t.add_row(f"{unit.label_zh}数 / {unit.label_en}s", str(len(s["units"])))
    t.add_row("规则 / rules (evaluated / not)", f"{s['rules']['evaluated']} / {s['rules']['not_evaluated']}")
    t.add_row("未通过规则 / failed rules", str(s["rules"]["failed"]))
    t.add_row("严重规则未通过 / critical failed", str(s["rules"]["critical_failed"]))
    t.add_row("问题条数 / problems", f"{s['problems']:,}")
    t.add_row("截止时间 / as-of", str(s["as_of"]))
    verdict = {
        0: "[green]通过 / PASS[/]",
        1: "[red]未通过 / FAIL (critical)[/]",
        2: "[red]无法完成 / COULD NOT RUN[/]",
    }[result.exit_code]
    t.add_row("结论 / gate", verdict)
    t.add_row("输出 / outputs", safe_message(str(paths["summary"].parent)))
    if "report" in paths:
        t.add_row("先看 / open first", safe_message(str(paths["report"])))
    out.print(t)


@app.command()
def check(
    out_dir: Annotated[Path, typer.Option("--out", help="输出目录 / output folder")],
    input_dir: Annotated[Path | None, typer.Option("--input", help="批次目录 / batch folder")] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="数据库 / postgresql://… (instead of --input)")
    ] = None,
    domain: Annotated[str, typer.Option(help="领域 / domain pack")] = "bdc",
    mode: Annotated[str, typer.Option(help="stock（存量）| incremental（增量）")] = "incremental",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="截止时间 / as-of 'YYYY-MM-DD HH:MM:SS'")
    ] = None,
    overlay: Annotated[Path | None, typer.Option(help="地方规则文件 / locality overlay (YAML)")] = None,
    holidays: Annotated[Path | None, typer.Option(help="节假日文件 / holiday file (date,type)")] = None,
    data_docs: Annotated[bool, typer.Option(help="生成 Data Docs / build Data Docs")] = True,
    ledger: Annotated[
        Path | None, typer.Option("--ledger", help="问题台账文件 / problem ledger (SQLite) to update")
    ] = None,
    engine: Annotated[
        str, typer.Option(help="duckdb（计数引擎，默认）| gx（Great Expectations，参照）/ engine")
    ] = "duckdb",
    memory_limit: Annotated[
        str, typer.Option("--memory-limit", help="DuckDB 内存上限 / DuckDB memory limit (engine)")
    ] = "1.5GB",
) -> None:
    """质检关口：检查一个批次 / the QA gate: check a batch and write counts, problems, summary, Data Docs."""
    from toolkit import validators, workdays
    from toolkit.check import run_check
    from toolkit.outputs import discard_outputs, prepare_out_dir, write_outputs

    ts = None
    if as_of:
        ts = validators.parse_datetime(as_of)
        lo, hi = validators.plausible_years()
        if ts is None or not lo <= ts.year <= hi:
            raise DQError(
                f"--as-of 的值 {as_of!r} 不是有效时间（年份应在 {lo}–{hi} 之间）。",
                f"--as-of {as_of!r} is not a datetime with a year in {lo}–{hi}.",
                fix_zh="写成 2024-03-05 18:00:00",
                fix_en="use e.g. 2024-03-05 18:00:00",
            )
    from toolkit.sources import input_or_source, open_batches, relabel

    batch_in = input_or_source(input_dir, source)
    # never leave an earlier run's files behind that could pass for this run's result
    prepare_out_dir(out_dir, docs=data_docs)
    try:
        calendar = workdays.from_holiday_file(holidays) if holidays else None
        with open_batches([batch_in], domain=domain, mode=mode, overlay=overlay) as opened:
            result = run_check(
                opened[0],
                domain=domain,
                mode=mode,
                as_of=ts,
                overlay=overlay,
                docs_dir=(out_dir / "data_docs") if data_docs else None,
                calendar=calendar,
                progress=show_progress(),
                engine=engine,
                # the engine streams the problem list straight to problems.csv
                problems_path=(out_dir / "problems.csv") if engine != "gx" else None,
                memory_limit=memory_limit,
            )
            if opened.sources:
                relabel(result, opened.sources[opened[0]])
        ledger_report = None
        if ledger is not None:  # before the outputs: a ledger that cannot be updated fails the run (exit 2)
            from toolkit.ledger import sync_check

            ledger_report = sync_check(ledger, result, actor="dq check", calendar=calendar)
        paths = write_outputs(result, out_dir)
    except BaseException:
        discard_outputs(out_dir)  # a failed run leaves nothing that could pass for a result
        raise
    _print_check(result, paths)
    print_warnings(result.warnings)
    if ledger_report is not None:
        print_sync_report(ledger_report)
    raise typer.Exit(result.exit_code)


@app.command()
def count(
    out_dir: Annotated[Path, typer.Option("--out", help="输出目录 / output folder")],
    input_dirs: Annotated[
        list[Path] | None, typer.Option("--input", help="批次目录，可重复 / batch folder (repeatable)")
    ] = None,
    sources: Annotated[
        list[str] | None,
        typer.Option("--source", help="数据库，可重复 / postgresql://…?batch=NAME (repeatable)"),
    ] = None,
    domain: Annotated[str, typer.Option(help="领域 / domain pack")] = "bdc",
    mode: Annotated[str, typer.Option(help="stock（存量）| incremental（增量）")] = "stock",
    overlay: Annotated[Path | None, typer.Option(help="地方规则文件 / locality overlay (YAML)")] = None,
    engine: Annotated[
        str, typer.Option(help="duckdb（单机，默认）| spark（Spark SQL，local[2] 或集群）/ engine")
    ] = "duckdb",
    master: Annotated[
        str, typer.Option(help="Spark master（--engine spark）：local[2]、yarn、spark://… / Spark master")
    ] = "local[2]",
    memory_limit: Annotated[
        str, typer.Option("--memory-limit", help="DuckDB 内存上限 / DuckDB memory limit")
    ] = "1.5GB",
) -> None:
    """规则计数：每个批次 × 考核对象 × 规则的行数和不符合数（counts.csv），不出问题清单 / rule counts only.

    ``--engine spark`` runs the same compiled rules as Spark SQL (see README: Spark). A rule Spark cannot
    run is listed in not_evaluated.csv and never counted as passing (exit 2 when there is any)."""
    from toolkit.sheets import write_csv
    from toolkit.sources import open_batches

    if engine not in ("duckdb", "spark"):
        _fail(
            DQError(
                f"未知的计数引擎 {engine!r}。",
                f"unknown counting engine {engine!r}.",
                fix_zh="用 --engine duckdb 或 --engine spark。",
                fix_en="use --engine duckdb or --engine spark.",
            )
        )
    batches = [*(input_dirs or []), *(sources or [])]
    if not batches:
        _fail(DQError("请给出 --input 或 --source。", "give --input BATCH_DIR or --source postgresql://…."))
    try:
        with open_batches(batches, domain=domain, mode=mode, overlay=overlay) as opened:
            if engine == "spark":
                from toolkit.spark import count_spark, spark_session

                res = count_spark(
                    list(opened), domain=domain, mode=mode, overlay=overlay, spark=spark_session(master)
                )
                on_spark = res.not_on_spark
            else:
                from toolkit.engine import count_batches

                res = count_batches(
                    list(opened),
                    domain=domain,
                    mode=mode,
                    overlay=overlay,
                    progress=show_progress(),
                    memory_limit=memory_limit,
                )
                on_spark = {}
        out_dir.mkdir(parents=True, exist_ok=True)
        write_csv(res.counts, out_dir / "counts.csv")
        write_csv(res.not_evaluated, out_dir / "not_evaluated.csv")
    except DQError as exc:
        _fail(exc)
    counted = res.counts[res.counts["evaluated"]]
    out.print(
        safe_message(
            f"计数 / counted: {counted['rule_id'].nunique()} 条规则 / rules, "
            f"{int(counted['unexpected_count'].sum()):,} 处不符合 / failing, 引擎 / engine {engine}, "
            f"{res.seconds:.1f} s → {out_dir / 'counts.csv'}"
        )
    )
    if on_spark:
        print_warnings(
            [
                f"{rid}：Spark 无法执行，未计数 / not evaluated on Spark: {why}"
                for rid, why in on_spark.items()
            ]
        )
        raise typer.Exit(2)


@app.command()
def score(
    out_dir: Annotated[Path, typer.Option("--out", help="输出目录 / output folder")],
    history: Annotated[
        Path | None, typer.Option(help="按批次（日或月）分文件夹的增量数据目录 / folder of batches")
    ] = None,
    input_dirs: Annotated[
        list[Path] | None, typer.Option("--input", help="批次目录，可重复 / batch folder (repeatable)")
    ] = None,
    sources: Annotated[
        list[str] | None,
        typer.Option("--source", help="数据库，可重复 / postgresql://…?batch=NAME (repeatable)"),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(
            help="day（日）| week（周）| month（月）；默认按领域包的批次周期 / default: the pack's period"
        ),
    ] = None,
    domain: Annotated[str, typer.Option(help="领域 / domain pack")] = "bdc",
    mode: Annotated[str, typer.Option(help="--input 的模式 / mode of --input: stock | incremental")] = (
        "incremental"
    ),
    overlay: Annotated[Path | None, typer.Option(help="地方规则文件 / locality overlay (YAML)")] = None,
    store: Annotated[
        Path | None, typer.Option(help="评分历史文件 / history file (default OUT/history.duckdb)")
    ] = None,
    ledger: Annotated[Path | None, typer.Option(help="问题台账 / problem ledger (SQLite)")] = None,
) -> None:
    """评分：考核对象 × 周期的指标、得分、等级、排名 / scores, grades and ranks per unit (scores.csv)."""
    from toolkit.history import score_batches, score_history

    try:
        input_dirs = [*(input_dirs or []), *(sources or [])]  # type: ignore[list-item]
        if (history is None) == (not input_dirs):
            raise DQError(
                "请给出 --history 或 --input 之一。",
                "give either --history DIR or --input BATCH_DIR (repeatable).",
            )
        if by is None:
            from toolkit.domain import load_domain

            by = load_domain(domain, overlay=overlay).period  # a daily pack by day, a monthly one by month
        if by not in ("day", "week", "month"):
            raise DQError(
                "--by 只能是 day、week 或 month。",
                "--by must be day, week or month.",
                fix_zh="例如 --by month",
                fix_en="e.g. --by month",
            )
        if history is not None:
            run = score_history(
                history,
                out_dir,
                by=by,
                domain=domain,
                overlay=overlay,
                store=store,
                ledger=ledger,
                progress=show_progress(),
            )
        else:
            from toolkit.sources import open_batches

            with open_batches(input_dirs, domain=domain, mode=mode, overlay=overlay) as opened:
                run = score_batches(
                    opened,
                    out_dir,
                    mode=mode,
                    domain=domain,
                    overlay=overlay,
                    ledger=ledger,
                    progress=show_progress(),
                )
    except DQError as exc:
        _fail(exc)
    _print_scores(run, out_dir)


def _print_scores(run, out_dir: Path) -> None:
    from pandas import isna

    table = run.table
    if table.empty:
        out.print(
            safe_message(
                f"没有可评分的考核对象 / no unit to score — 已写入 / written: {out_dir / 'scores.csv'}"
            )
        )
        return
    unit = run.domain.unit
    last = table["period"].max()
    t = Table(title=escape(f"评分 / scores — {last}"))
    for col in ("名次 / rank", f"{unit.label_zh} / {unit.label_en}", "得分 / score", "等级 / grade"):
        t.add_column(col)
    for _, r in table[table["period"] == last].sort_values("rank").iterrows():
        score = "—" if isna(r["score"]) else f"{r['score']:.1f}"
        rank = "—" if isna(r["rank"]) else str(r["rank"])
        t.add_row(
            rank, escape(safe_message(f"{r['unit_code']} {r['unit_name']}")), score, escape(str(r["grade"]))
        )
    out.print(t)
    if run.update is not None:
        u = run.update
        out.print(
            f"批次 / batches: {u.batches}，本次计数 / counted now: {u.counted}，"
            f"读取行数 / rows read: {u.rows_read:,}，用时 / seconds: {u.seconds:.1f}"
        )
    out.print(safe_message(f"已写入 / written: {out_dir / 'scores.csv'}"))


@app.command()
def report(
    period: Annotated[str, typer.Option(help="day（日报）| week（周报）| month（月报）")] = "week",
    history: Annotated[
        Path | None, typer.Option(help="按批次（日或月）分文件夹的增量数据目录 / folder of batches")
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="输出目录 / output folder")] = Path("report"),
    domain: Annotated[str, typer.Option(help="领域 / domain pack")] = "bdc",
    scores: Annotated[Path | None, typer.Option(help="已算好的 scores.csv / precomputed scores")] = None,
    trace: Annotated[Path | None, typer.Option(help="指标明细 / indicator trace CSV")] = None,
    problems: Annotated[Path | None, typer.Option(help="本期问题清单 problems.csv")] = None,
    counts: Annotated[Path | None, typer.Option(help="本期规则计数 counts.csv")] = None,
    current: Annotated[str | None, typer.Option(help="通报的周期，默认最新 / period label")] = None,
    bottom: Annotated[int, typer.Option(help="给出整改建议的末位考核对象数 / bottom units advised")] = 3,
    store: Annotated[Path | None, typer.Option(help="评分历史文件 / history file (DuckDB)")] = None,
    notify: Annotated[
        str | None, typer.Option(help="工作群机器人 Webhook：发送通报摘要 / group-robot webhook URL")
    ] = None,
    selfcheck: Annotated[
        Path | None,
        typer.Option(
            help="dq reconcile-calls 写出的 selfcheck_rates.csv：排名中显示自检率 / self-check rates"
        ),
    ] = None,
) -> None:
    """数据质量通报 / bulletin: ranking, indicators, warnings (map for places), trend, advice (HTML + XLSX)."""
    from toolkit.report import PERIOD_KINDS, run_report

    if period not in PERIOD_KINDS:
        _fail(
            DQError(
                f"--period 只能是 {'、'.join(PERIOD_KINDS)}。",
                f"--period must be one of {', '.join(PERIOD_KINDS)}.",
                fix_zh="例如 --period month",
                fix_en="e.g. --period month",
            )
        )
    try:
        paths = run_report(
            period=period,
            out_dir=out_dir,
            history=history,
            scores=scores,
            trace=trace,
            problems=problems,
            counts=counts,
            domain=domain,
            current=current,
            bottom=bottom,
            store=store,
            selfcheck=selfcheck,
        )
    except DQError as exc:
        _fail(exc)
    for p in paths.values():
        out.print(safe_message(f"已写入 / written: {p}"))
    if notify:
        from toolkit.notify import notify_report

        try:
            sent = notify_report(
                notify,
                period=period,
                domain=domain,
                out_dir=out_dir,
                history=history,
                scores=scores,
                trace=trace,
                problems=problems,
                counts=counts,
                current=current,
                bottom=bottom,
                store=store,
            )
        except DQError as exc:
            _fail(exc)
        out.print(safe_message(f"通报摘要已发送到工作群 / summary sent ({sent.style}, {sent.attempts} 次)"))


@app.command("common-problems")
def common_problems(
    problems: Annotated[Path, typer.Option(help="问题清单 problems.csv（dq check 输出）")],
    out_dir: Annotated[Path, typer.Option("--out", help="输出目录 / output folder")] = Path("report"),
    domain: Annotated[str, typer.Option(help="领域 / domain pack")] = "bdc",
    title: Annotated[
        str | None, typer.Option(help="标题，默认取领域包的 / title (default: the pack's)")
    ] = None,
) -> None:
    """常见问题清单 / common-problems list (HTML + XLSX) from a problems.csv."""

    from toolkit.common_problems import build_common_problems, write_common_problems
    from toolkit.sheets import read_csv

    try:
        if not problems.is_file():
            raise DQError(
                "问题清单文件不存在。",
                "problems file not found.",
                path=problems,
                fix_zh="--problems 应指向 dq check 写出的 problems.csv。",
                fix_en="--problems must name a problems.csv written by dq check.",
            )
        frame = read_csv(problems, dtype=str)
        cp = build_common_problems(frame, domain=domain)
        paths = write_common_problems(cp, out_dir, title=title)
    except DQError as exc:
        _fail(exc)
    for p in paths.values():
        out.print(safe_message(f"已写入 / written: {p}"))


@app.command()
def audit(
    input_dir: Annotated[Path, typer.Option("--input", help="批次目录 / batch folder")],
    out_dir: Annotated[Path, typer.Option("--out", help="输出目录 / output folder")] = Path("audit"),
    domain: Annotated[str, typer.Option(help="领域包（名称或目录）/ domain pack (name or folder)")] = "bdc",
    size: Annotated[
        int | None,
        typer.Option(
            help="每个考核对象（区县、机构…）抽取件数 / registrations per unit (default: audit.yaml)"
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="随机种子 / random seed")] = 42,
) -> None:
    """随机抽查 / reproducible random sample per unit (stratified as audit.yaml says) as an XLSX checklist."""
    from toolkit.audit import run_audit, write_checklist

    try:
        result = run_audit(input_dir, domain=domain, size=size, seed=seed)
        path = write_checklist(result, out_dir)
    except DQError as exc:
        _fail(exc)
    out.print(
        safe_message(
            f"抽查清单已写入 / checklist written: {path}（{len(result.sample)} 件，种子 / seed {seed}）"
        )
    )


@app.command()
def serve(
    domain: Annotated[str, typer.Option(help="领域包（名称或目录）/ domain pack (name or folder)")] = "bdc",
    host: Annotated[
        str, typer.Option(help="监听地址，默认只在本机 / address to bind (default: loopback only)")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口 / port")] = 8080,
    tokens: Annotated[
        Path, typer.Option(envvar="DQ_SERVE_TOKENS", help="令牌文件（chmod 600）/ tokens file")
    ] = Path("selfcheck-tokens.txt"),
    log_dir: Annotated[Path, typer.Option("--log", help="调用日志目录 / call-log folder")] = Path(
        "selfcheck-log"
    ),
    overlay: Annotated[Path | None, typer.Option(help="地方规则 YAML / local overlay")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="检查线程数，默认 CPU 核数 − 1（至少 1）/ verdict threads (default: cores − 1, at least 1)"
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(help="每次检查的时限（秒）/ seconds per check")] = 10.0,
    max_body: Annotated[int, typer.Option(help="请求体上限（字节）/ body limit (bytes)")] = 2 * 1024 * 1024,
    max_items: Annotated[int, typer.Option(help="批量检查的件数上限 / businesses per batch call")] = 100,
    concurrency: Annotated[int, typer.Option(help="同时处理的连接上限 / concurrent connections")] = 256,
) -> None:
    """数据自检服务 / the self-check service for registration systems (HTTP + JSON, see README)."""
    from toolkit.serve.app import ServeSettings
    from toolkit.serve.payload import Limits
    from toolkit.serve.server import build_app, is_loopback, uvicorn_config

    settings = ServeSettings(
        limits=Limits(max_body=max_body, max_items=max_items), timeout=timeout, workers=workers
    )
    try:
        asgi, standards = build_app(
            domain, tokens=tokens, log_dir=log_dir, overlay=overlay, settings=settings
        )
    except DQError as exc:
        _fail(exc)
    if not is_loopback(host):
        print_warnings(
            [
                f"服务监听在 {host}，本机以外也能访问；请用防火墙只放行各区县登记系统的地址，并在前面配置 HTTPS。"
                f" / listening on {host}: reachable from other machines; allow only the registration systems in "
                "the firewall and put HTTPS in front."
            ]
        )
    import uvicorn

    out.print(
        safe_message(
            f"自检服务 / self-check service: http://{host}:{port}/v1/{standards.domain.name}/check"
            f"（规则 {len(standards.rules)} 条，版本 {standards.version}；调用日志 / call log: {log_dir}）"
        )
    )
    uvicorn.Server(uvicorn_config(asgi, host, port, concurrency=concurrency)).run()


@app.command("serve-token")
def serve_token(
    unit: Annotated[str, typer.Option(help="单位代码（* 表示可检查全部单位）/ unit code, * for every unit")],
    tokens: Annotated[Path, typer.Option(envvar="DQ_SERVE_TOKENS", help="令牌文件 / tokens file")] = Path(
        "selfcheck-tokens.txt"
    ),
    note: Annotated[str, typer.Option(help="备注 / note")] = "",
) -> None:
    """生成一个令牌（文件中只存摘要，令牌只显示这一次）/ add a token for a unit; printed once."""
    from toolkit.serve.auth import add_token

    try:
        token = add_token(tokens, unit, note)
    except DQError as exc:
        _fail(exc)
    err.print(
        safe_message(
            f"已为单位 {unit} 添加令牌（文件 {tokens} 只保存摘要），请妥善交给该单位 / token added for {unit}:"
        )
    )
    print(token)


@app.command("reconcile-calls")
def reconcile_calls(
    input_dir: Annotated[Path, typer.Option("--input", help="当天的批次目录 / the day's batch folder")],
    log_dir: Annotated[Path, typer.Option("--log", help="调用日志目录 / call-log folder")] = Path(
        "selfcheck-log"
    ),
    domain: Annotated[str, typer.Option(help="领域包（名称或目录）/ domain pack (name or folder)")] = "bdc",
    out_dir: Annotated[Path, typer.Option("--out", help="输出目录 / output folder")] = Path("reconcile"),
    day: Annotated[
        str | None, typer.Option(help="批次日期，默认取目录名 / the batch's day (default: folder name)")
    ] = None,
    window: Annotated[int, typer.Option(help="向前查看多少天的调用 / days of calls before the day")] = 30,
    also: Annotated[
        list[Path] | None, typer.Option(help="之后的批次（其中的业务算已汇交）/ later batches, repeatable")
    ] = None,
) -> None:
    """防止瞒报漏报 / registrations never self-checked, checked with failing verdicts only, or checked but
    not submitted, per unit (exit 1 when there is any)."""
    from toolkit.domain import load_domain
    from toolkit.serve.reconcile import GAPS, reconcile, write_reconciliation

    try:
        dom = load_domain(domain)
        rec = reconcile(dom, input_dir, log_dir, day=day, window=window, also=also)
        paths = write_reconciliation(rec, out_dir)
    except DQError as exc:
        _fail(exc)
    t = Table(title=f"自检情况 / self-check by {escape(dom.unit.label_en)}（{rec.day or ''}）")
    for col in [dom.unit.label_zh, "登记", "已自检", "自检率", *[g.split(" / ")[0] for g in GAPS.values()]]:
        t.add_column(escape(col), justify="left" if col == dom.unit.label_zh else "right")
    for r in rec.rates.itertuples():
        rate = (
            "—"
            if r.selfcheck_rate is None or r.selfcheck_rate != r.selfcheck_rate
            else f"{100 * r.selfcheck_rate:.1f}%"
        )
        t.add_row(
            escape(f"{r.unit_code} {r.unit_name}".strip() or "（空）"),
            str(r.registrations),
            str(r.checked),
            rate,
            *[str(getattr(r, g)) for g in GAPS],
        )
    out.print(t)
    out.print(
        safe_message(
            f"登记 {rec.registrations} 件，读取调用 {rec.calls_read} 次，发现 {rec.gap_count} 件未按要求自检"
            f" / {rec.registrations} registrations, {rec.calls_read} calls, {rec.gap_count} gaps"
        )
    )
    for p in paths.values():
        out.print(safe_message(f"已写入 / written: {p}"))
    if rec.gap_count:
        raise typer.Exit(1)


@app.command()
def reconcile(
    out_dir: Annotated[Path, typer.Option("--out", help="输出目录 / output folder")],
    input_dirs: Annotated[
        list[Path] | None, typer.Option("--input", help="月度批次目录，可重复 / monthly batch (repeatable)")
    ] = None,
    history: Annotated[
        Path | None, typer.Option(help="按月分文件夹的批次目录 / folder of monthly batches (YYYY-MM)")
    ] = None,
    domain: Annotated[str, typer.Option(help="领域 / domain pack")] = "gjj",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="截止时间 / as-of 'YYYY-MM-DD' (one batch)")
    ] = None,
    overlay: Annotated[Path | None, typer.Option(help="地方规则文件 / locality overlay (YAML)")] = None,
) -> None:
    """报表核对：报送的统计报表与业务数据 / reconcile the filed report with the business data."""
    from toolkit import validators
    from toolkit.reconcile import DIFFERS, OK, UNCHECKED, write_reconcile
    from toolkit.reconcile import reconcile as run_reconcile

    try:
        if (history is None) == (not input_dirs):
            raise DQError(
                "请给出 --history 或 --input 之一。",
                "give either --history or --input.",
                fix_zh="--input 一个或多个月度批次目录，或 --history 包含 YYYY-MM 子目录的目录。",
                fix_en="--input one or more monthly batch folders, or --history a folder of YYYY-MM folders.",
            )
        if history is not None:
            if not history.is_dir():
                raise DQError(
                    f"目录不存在：{history}",
                    f"no such folder: {history}",
                    fix_zh="检查 --history 的路径。",
                    fix_en="check the --history path.",
                )
            batches = sorted(p for p in history.iterdir() if p.is_dir() and not p.name.startswith("."))
        else:
            batches = list(input_dirs or [])
        ts = validators.parse_datetime(as_of) if as_of else None
        if as_of and ts is None:
            raise DQError(
                f"--as-of 的值 {as_of!r} 不是有效日期。",
                f"--as-of {as_of!r} is not a date.",
                fix_zh="写成 2024-03-31",
                fix_en="use e.g. 2024-03-31",
            )
        result = run_reconcile(batches, domain=domain, as_of=ts, overlay=overlay)
        paths = write_reconcile(result, out_dir)
    except DQError as exc:
        _fail(exc)
    rows = result.rows
    t = Table(title=f"报表核对 / reconciliation — {escape(result.domain.label)}")
    for col in (
        "月份 / month",
        "核对项 / checks",
        f"{OK} / agree",
        f"{DIFFERS} / differ",
        f"{UNCHECKED} / n.a.",
    ):
        t.add_column(col, justify="left" if col.startswith("月") else "right")
    for month, g in rows.groupby("month", sort=True):
        t.add_row(
            escape(str(month)),
            str(len(g)),
            str(int((g.status == OK).sum())),
            str(int((g.status == DIFFERS).sum())),
            str(int((g.status == UNCHECKED).sum())),
        )
    out.print(t)
    for r in result.differences.head(20).itertuples():
        out.print(
            safe_message(
                f"{r.month} {r.unit_code} {r.unit_name} 第 {r.line} 行（{r.check}）：报送 {r.filed}，"
                f"应为 {r.expected}，差 {r.difference} {r.line_unit}"
            )
        )
    for p in paths.values():
        out.print(safe_message(f"已写入 / written: {p}"))
    raise typer.Exit(result.exit_code)


def main() -> None:
    """Console entry point (``dq``)."""
    run_app(app)


if __name__ == "__main__":
    main()
