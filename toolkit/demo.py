"""``make demo``: write the sample data, check the stock batch and the latest day, print where things are."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from toolkit.check import run_check
from toolkit.cli import show_progress
from toolkit.outputs import write_outputs
from toolkit.samples import generate_sample


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="dq demo on the embedded sample data")
    p.add_argument("--out", type=Path, default=Path("demo_out"))
    p.add_argument("--days", type=int, default=None, help="incremental working days (default: 3 years)")
    p.add_argument("--stock-rows", type=int, default=20000)
    args = p.parse_args(argv)
    console = Console()
    data = args.out / "sample"
    t0 = time.perf_counter()
    generate_sample("bdc", data, days=args.days, stock_rows=args.stock_rows, progress=show_progress())
    console.print(f"示例数据 / sample data: {data}  ({time.perf_counter() - t0:.1f} s)")
    days = sorted(p for p in (data / "incremental").iterdir() if p.is_dir())
    runs = [
        ("stock", data / "stock", args.out / "check_stock"),
        ("incremental", days[-1], args.out / f"check_{days[-1].name}"),
    ]
    table = Table(title="演示检查 / demo checks")
    for col in (
        "批次 / batch",
        "区县 / districts",
        "行数 / rows",
        "未通过规则 / failed rules",
        "严重 / critical",
        "问题 / problems",
        "耗时 / s",
        "输出 / outputs",
    ):
        table.add_column(col)
    for mode, batch, out in runs:
        result = run_check(batch, mode=mode, docs_dir=out / "data_docs", progress=show_progress())
        write_outputs(result, out)
        failed = sum(1 for r in result.results.values() if not r.success)
        table.add_row(
            f"{mode} {batch.name}",
            str(result.counts["QXDM"].nunique()),
            f"{result.batch.rows_read:,}",
            str(failed),
            str(len(result.critical_failures)),
            f"{len(result.problems):,}",
            f"{result.seconds:.1f}",
            str(out),
        )
    console.print(table)
    console.print(
        "打开 Data Docs / open Data Docs: " + ", ".join(str(o / "data_docs" / "index.html") for *_, o in runs)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
