"""``make demo``: the main job on the embedded sample data of every shipped domain pack.

For each pack under ``expectations/`` that ships a sample generator (in name order; ``--domain`` picks
some), as the pack's ``demo:`` settings in ``domain.yaml`` say (sample options, score grain):

1. write the sample (stock + incremental batches);
2. check the stock batch and the latest incremental batch (the QA gate, Data Docs);
3. score the whole history (DuckDB engine) and print the trend and the current top and bottom units;
4. write the latest monthly bulletin and the common-problems list.

Nothing here knows a domain: everything comes from the pack.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from toolkit.check import run_check
from toolkit.console import safe_message, show_progress
from toolkit.domain import EXPECTATIONS_DIR, Domain, load_domain
from toolkit.outputs import write_outputs
from toolkit.samples import generate_sample

__all__ = ["demo_packs", "main", "run_demo", "trend_line"]


def demo_packs() -> list[str]:
    """The shipped packs that have a sample generator, by name."""
    return sorted(
        p.name
        for p in EXPECTATIONS_DIR.iterdir()
        if (p / "domain.yaml").exists() and (p / "sample.py").exists()
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="dq demo on the embedded sample data of every domain")
    p.add_argument("--out", type=Path, default=Path("demo_out"))
    p.add_argument("--domain", action="append", help="only these packs (repeatable; default: all)")
    p.add_argument("--days", type=int, default=None, help="incremental batches (default: the pack's demo)")
    p.add_argument("--stock-rows", type=int, default=None, help="stock rows (default: the pack's demo)")
    args = p.parse_args(argv)
    console = Console()
    packs = args.domain or demo_packs()
    for name in packs:
        dom = load_domain(name)
        out = args.out if len(packs) == 1 and args.domain else args.out / dom.name
        options: dict[str, Any] = dict((dom.config.get("demo") or {}).get("sample") or {})
        if args.days is not None:
            options["days"] = args.days
        if args.stock_rows is not None:
            options["stock_rows"] = args.stock_rows
        console.rule(f"{dom.label} / {dom.config.get('label_en', dom.name)} ({dom.name})")
        run_demo(console, dom, out, options)
    return 0


def run_demo(console: Console, dom: Domain, out: Path, options: dict[str, Any]) -> None:
    """The demo of one pack into ``out`` (see the module docstring)."""
    data = out / "sample"
    t0 = time.perf_counter()
    generate_sample(dom.name, data, progress=show_progress(), **options)
    console.print(f"示例数据 / sample data: {data}  ({time.perf_counter() - t0:.1f} s)")
    batches = sorted(p for p in (data / "incremental").iterdir() if p.is_dir())
    runs = [
        ("stock", data / "stock", out / "check_stock"),
        ("incremental", batches[-1], out / f"check_{batches[-1].name}"),
    ]
    unit = dom.unit
    table = Table(title="演示检查 / demo checks")
    # Chinese headings only: a pipe is 80 columns wide (batch, units, rows read, failed rules, critical, problems)
    for col in ("批次", f"{unit.label_zh}数", "行数", "未通过规则", "严重", "问题", "耗时 s"):
        table.add_column(col, overflow="fold")
    written = []
    for mode, batch, check_out in runs:
        if not batch.is_dir():
            continue
        result = run_check(
            batch, domain=dom, mode=mode, docs_dir=check_out / "data_docs", progress=show_progress()
        )
        write_outputs(result, check_out)
        failed = sum(1 for r in result.results.values() if not r.success)
        mode_label = (dom.config.get("modes") or {}).get(mode, {}).get("label_zh", mode)
        table.add_row(
            mode if batch.name == mode else f"{mode} {batch.name}",
            str(result.counts["unit_code"].nunique()),
            f"{result.batch.rows_read:,}",
            str(failed),
            str(len(result.critical_failures)),
            f"{len(result.problems):,}",
            f"{result.seconds:.1f}",
        )
        written.append(f"  {mode_label}：{safe_message(check_out)}")
    console.print(table)
    console.print("检查结果 / check outputs (problems.csv, report.html, data_docs …):", *written, sep="\n")
    _scores_and_bulletin(console, dom, data, out)


def trend_line(trend: pd.DataFrame) -> str:
    """The demo's trend in one line: the units' average score of the first and of the last year (of the
    only year when there is one), then of the first and the last period, each with its period (the
    period alone when there is one).
    ``trend``: ``period``, ``average`` (:attr:`toolkit.history.ScoreRun.trend`, ``trend.csv``)."""
    t = trend.assign(period=trend["period"].astype(str)).sort_values("period", kind="stable")
    years = t.groupby(t["period"].str[:4])["average"].mean()
    shown = dict.fromkeys([years.index[0], years.index[-1]])
    by_year = " → ".join(f"{y} 年 {years[y]:.2f}" for y in shown)
    first, last = t.iloc[0], t.iloc[-1]
    if first["period"] == last["period"]:
        return f"平均分 / average score: {by_year}（{first['period']}）"
    return (
        f"平均分 / average score: {by_year}（{first['period']} {first['average']:.2f} → "
        f"{last['period']} {last['average']:.2f}）"
    )


def _scores_and_bulletin(console: Console, dom: Domain, data: Path, out: Path) -> None:
    from toolkit.history import score_history
    from toolkit.report import run_report

    demo = dom.config.get("demo") or {}
    t0 = time.perf_counter()
    run = score_history(
        data / "incremental", out / "scores", domain=dom, by="month", progress=show_progress()
    )
    u = run.update
    console.print(
        f"评分历史 / score history: {u.batches} 个批次，计数 {u.counted} 个，读取 {u.rows_read:,} 行，"
        f"用时 {time.perf_counter() - t0:.1f} s → {out / 'scores' / 'scores.csv'}"
    )
    console.print(trend_line(run.trend))
    indicator = demo.get("trend_indicator")
    if indicator and indicator in run.table.columns:
        from toolkit.scoring import load_scoring

        monthly = run.table.groupby("period")[indicator].mean()
        label = load_scoring(dom).indicator(indicator).label_zh
        by_month = monthly.groupby(monthly.index.astype(str).str[:7]).mean()  # a day-period pack: per month
        points = " · ".join(f"{m} {v:.2%}" for m, v in by_month.items())
        console.print(f"{label}（月均，各单位平均）/ {indicator} (monthly mean over units): {points}")
    unit = dom.unit
    current = run.table[run.table["period"] == run.table["period"].max()].sort_values("rank")
    t = Table(
        title=f"{current['period'].iloc[0]} {unit.label_zh}排名 / {unit.label_en} ranking (前三与后三 / top and bottom 3)"
    )
    for col in ("名次 / rank", f"{unit.label_zh} / {unit.label_en}", "得分 / score", "等级 / grade"):
        t.add_column(col)
    shown = current if len(current) <= 6 else pd.concat([current.head(3), current.tail(3)])
    for _, r in shown.iterrows():
        t.add_row(
            str(r["rank"]),
            safe_message(f"{r['unit_code']} {r['unit_name']}"),
            f"{r['score']:.1f}",
            str(r["grade"]),
        )
    console.print(t)

    t0 = time.perf_counter()
    counts = run.frames["counts"].copy()
    counts["period"] = counts["period"].str[:7]  # the month of each batch
    paths = run_report(
        period="month",
        out_dir=out / "report",
        domain=dom,
        scored={"scores": run.table, "trace": run.period.indicators, "counts": counts},
    )
    console.print(
        f"月度通报与常见问题清单 / monthly bulletin and common problems ({time.perf_counter() - t0:.1f} s):"
    )
    for p in paths.values():
        console.print(f"  {safe_message(p)}")


if __name__ == "__main__":
    sys.exit(main())
