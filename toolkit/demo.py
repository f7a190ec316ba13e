"""``make demo``: the main job on the embedded sample data.

1. write the sample province (stock + one batch per working day over three years);
2. check the stock batch and the latest day (the QA gate, Data Docs);
3. score the whole daily history (DuckDB engine) and print the provincial trend and the current
   top and bottom districts;
4. write the latest monthly bulletin and the common-problems list.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd
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
        "单位 / units",
        "行数 / rows",
        "未通过规则 / failed rules",
        "严重 / critical",
        "问题 / problems",
        "耗时 / s",
        "输出 / outputs",
    ):
        table.add_column(col)
    for mode, batch, out in runs:
        result = run_check(
            batch, domain="bdc", mode=mode, docs_dir=out / "data_docs", progress=show_progress()
        )
        write_outputs(result, out)
        failed = sum(1 for r in result.results.values() if not r.success)
        table.add_row(
            f"{mode} {batch.name}",
            str(result.counts["unit_code"].nunique()),
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
    _scores_and_bulletin(console, data, args.out)
    return 0


def _scores_and_bulletin(console: Console, data: Path, out: Path) -> None:
    from toolkit.history import score_history
    from toolkit.report import run_report

    t0 = time.perf_counter()
    run = score_history(
        data / "incremental", out / "scores", domain="bdc", by="month", progress=show_progress()
    )
    u = run.update
    console.print(
        f"评分历史 / score history: {u.batches} 个批次，计数 {u.counted} 个，读取 {u.rows_read:,} 行，"
        f"用时 {time.perf_counter() - t0:.1f} s → {out / 'scores' / 'scores.csv'}"
    )
    trend = run.trend.assign(year=run.trend["period"].str[:4])
    daily = run.daily.scores.assign(year=run.daily.scores["period"].astype(str).str[:4])
    yearly = daily.groupby("year")["score"].mean()
    first, last = yearly.index.min(), yearly.index.max()
    console.print(
        f"全省增量数据质量平均分 / provincial incremental average: {first} 年 {yearly[first]:.2f} → "
        f"{last} 年 {yearly[last]:.2f}（月度 / monthly {trend['average'].iloc[0]:.2f} → "
        f"{trend['average'].iloc[-1]:.2f}）"
    )
    unit = run.domain.unit
    current = run.table[run.table["period"] == run.table["period"].max()].sort_values("rank")
    t = Table(
        title=f"{current['period'].iloc[0]} {unit.label_zh}排名 / {unit.label_en} ranking "
        "(前三与后三 / top and bottom 3)"
    )
    for col in ("名次 / rank", f"{unit.label_zh} / {unit.label_en}", "得分 / score", "等级 / grade"):
        t.add_column(col)
    shown = current if len(current) <= 6 else pd.concat([current.head(3), current.tail(3)])
    for _, r in shown.iterrows():
        t.add_row(str(r["rank"]), f"{r['unit_code']} {r['unit_name']}", f"{r['score']:.1f}", str(r["grade"]))
    console.print(t)

    t0 = time.perf_counter()
    counts = run.frames["counts"].copy()
    counts["period"] = counts["period"].str[:7]  # the month of each day
    paths = run_report(
        period="month",
        out_dir=out / "report",
        domain=run.domain,
        scored={"scores": run.table, "trace": run.period.indicators, "counts": counts},
    )
    console.print(
        f"月度通报与常见问题清单 / monthly bulletin and common problems ({time.perf_counter() - t0:.1f} s):"
    )
    for p in paths.values():
        console.print(f"  {p}")


if __name__ == "__main__":
    sys.exit(main())
