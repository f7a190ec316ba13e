"""The ``dq`` command line (see shared/spec/cli-and-outputs.md).

Exit codes of ``dq check``: 0 passed the gate, 1 a critical rule failed beyond its tolerance, 2 the input
(or configuration) could not be used — then nothing is written that could pass for a result.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from toolkit.errors import DQError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="政务登记数据质量工具包 / data-quality toolkit for registration data",
)
err = Console(stderr=True)
out = Console()


def show_progress() -> bool:
    """Progress bars only for a person at a terminal; quiet in CI and in pipes."""
    return sys.stderr.isatty() and not os.environ.get("CI")


def _fail(exc: DQError, code: int = 2) -> None:
    err.print(f"[bold red]错误 / error[/]\n{escape(exc.message)}")
    raise typer.Exit(code)


@app.command()
def sample(
    domain: Annotated[str, typer.Option(help="领域 / domain pack")] = "bdc",
    out_dir: Annotated[Path, typer.Option("--out", help="输出目录 / output folder")] = Path("sample"),
    seed: Annotated[int, typer.Option(help="随机种子 / random seed")] = 42,
    districts: Annotated[int, typer.Option(help="区县数 / number of districts")] = 12,
    days: Annotated[int | None, typer.Option(help="增量天数（工作日）/ incremental working days")] = None,
    stock_rows: Annotated[int, typer.Option(help="存量登记条数 / stock registrations")] = 20000,
    end: Annotated[str, typer.Option(help="最后一天 / last day (YYYY-MM-DD)")] = "2024-12-31",
) -> None:
    """生成内置示例数据 / write the embedded sample data (stock + daily incremental batches + truth.csv)."""
    from toolkit.samples import generate_sample

    try:
        info = generate_sample(
            domain,
            out_dir,
            seed=seed,
            districts=districts,
            days=days,
            stock_rows=stock_rows,
            end=dt.date.fromisoformat(end),
            progress=show_progress(),
        )
    except DQError as exc:
        _fail(exc)
    out.print(escape(f"示例数据已写入 / sample written: {out_dir}  ({info.get('summary', '')})"))


def _print_check(result, paths) -> None:
    from toolkit.outputs import summary

    s = summary(result)
    t = Table(
        title=f"检查结果 / check result — {result.domain.label if hasattr(result.domain, 'label') else result.domain.name} {result.mode}"
    )
    t.add_column("项目 / item")
    t.add_column("值 / value")
    t.add_row("读取行数 / rows read", f"{s['rows_read']:,}")
    t.add_row("区县数 / districts", str(len(s["districts"])))
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
    t.add_row("输出 / outputs", escape(str(paths["summary"].parent)))
    out.print(t)


@app.command()
def check(
    input_dir: Annotated[Path, typer.Option("--input", help="批次目录 / batch folder")],
    out_dir: Annotated[Path, typer.Option("--out", help="输出目录 / output folder")],
    domain: Annotated[str, typer.Option(help="领域 / domain pack")] = "bdc",
    mode: Annotated[str, typer.Option(help="stock（存量）| incremental（增量）")] = "incremental",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="截止时间 / as-of 'YYYY-MM-DD HH:MM:SS'")
    ] = None,
    overlay: Annotated[Path | None, typer.Option(help="地方规则文件 / locality overlay (YAML)")] = None,
    holidays: Annotated[Path | None, typer.Option(help="节假日文件 / holiday file (date,type)")] = None,
    data_docs: Annotated[bool, typer.Option(help="生成 Data Docs / build Data Docs")] = True,
) -> None:
    """质检关口：检查一个批次 / the QA gate: check a batch and write counts, problems, summary, Data Docs."""
    from toolkit import validators, workdays
    from toolkit.check import run_check
    from toolkit.outputs import write_outputs

    # never leave an earlier run's files behind that could pass for this run's result
    for stale in ("counts.csv", "problems.csv", "summary.json"):
        (out_dir / stale).unlink(missing_ok=True)
    if (out_dir / "data_docs").exists():
        shutil.rmtree(out_dir / "data_docs")
    try:
        ts = None
        if as_of:
            ts = validators.parse_datetime(as_of)
            if ts is None:
                raise DQError(
                    f"--as-of 的值 {as_of!r} 不是有效时间。",
                    f"--as-of {as_of!r} is not a datetime.",
                    fix_zh="写成 2024-03-05 18:00:00",
                    fix_en="use e.g. 2024-03-05 18:00:00",
                )
        calendar = workdays.from_holiday_file(holidays) if holidays else None
        result = run_check(
            input_dir,
            domain=domain,
            mode=mode,
            as_of=ts,
            overlay=overlay,
            docs_dir=(out_dir / "data_docs") if data_docs else None,
            calendar=calendar,
            progress=show_progress(),
        )
    except DQError as exc:
        _fail(exc)
    paths = write_outputs(result, out_dir)
    _print_check(result, paths)
    raise typer.Exit(result.exit_code)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
