"""Benchmark the QA gate (``dq check``) on the count engine against its own count-only time, DuckDB's plain
read of the same files (the read floor) and ``dq check --engine gx``.

Usage::

    python benchmarks/bench_gate.py [--work DIR] [--sizes 1,10] [--gx-size 1] [--memory-limit 1.5GB]

``--sizes``: bdc stock sizes in millions of registrations (QLT_FW_FDCQ_YZ rows, plus ~1.39 holders and
0.25 mortgages each; the 1 M stock is generated once and larger ones replicated from it, as in
``bench_engine.py``, whose data folder is the default ``--work``). A size below 1 (``0.1``) is generated
directly with that many registrations. ``--gx-size``: the size at which ``--engine gx`` is measured too
(``0`` = not at all; Great Expectations needs ~6 GiB and minutes per million).

Each measurement runs in its own process (wall time, CPU time and peak RSS from ``os.wait4``):

* ``floor``: DuckDB reads every column of every table file (all text, the whitespace-only = empty rule,
  blank rows skipped) and counts the rows — the least any engine has to do;
* ``count``: :func:`toolkit.engine.count_batches` — every stock rule counted per unit (``dq score``'s work);
* ``gate``: ``dq check --mode stock`` (default engine): counts, the gate, ``problems.csv`` streamed,
  ``summary.json``, ``report.html`` and Data Docs — the command a QA person runs;
* ``gx``: ``dq check --mode stock --engine gx``.

Checks printed: gate's ``counts.csv`` identical to gx's and the problem keys (rule, unit, record key,
row) identical; ratios gate / count (target ≤ 1.3), count / floor (target ≤ 5), gx / gate (target ≥ 15),
gate peak (target ≤ 2.5 GiB). Not a test.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import TABLES, ensure_sample, replicate


def batch_for(size: float, work: Path) -> Path:
    if size >= 1:
        return replicate(ensure_sample(work), int(size), work)
    rows = int(size * 1_000_000)
    base = work / f"s{rows}"
    if not (base / "stock" / "QLT_FW_FDCQ_YZ.csv").exists():
        from toolkit.samples import generate_sample

        print(f"generating a stock sample of {rows:,} registrations …", flush=True)
        generate_sample("bdc", base, stock_rows=rows, incremental=False)
    return base / "stock"


# ------------------------------------------------------------------------------------------------ workers


def worker_floor(batch: Path, memory_limit: str) -> dict:
    import tempfile

    import duckdb

    from toolkit.sqlcompile import ident, literal
    from toolkit.staging import normalise_sql

    rows = 0
    with tempfile.TemporaryDirectory(prefix="dq-floor-") as tmp:
        con = duckdb.connect(
            config={"memory_limit": memory_limit, "temp_directory": tmp, "preserve_insertion_order": False}
        )
        con.execute("SET enable_progress_bar = false")
        for t in TABLES:
            path = batch / f"{t}.csv"
            with path.open(encoding="utf-8-sig", newline="") as fh:
                header = next(csv.reader(fh))
            spec = "{" + ", ".join(f"{literal(c)}: 'VARCHAR'" for c in header) + "}"
            cols = ", ".join(f"{normalise_sql(f'r.{ident(c)}')} AS c{i}" for i, c in enumerate(header))
            every = ", ".join(f"c{i}" for i in range(len(header)))
            n = con.execute(
                f"SELECT count(*) FROM (SELECT {cols} FROM read_csv({literal(str(path))}, columns = {spec}, "
                "header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
                f"strict_mode = true) r) WHERE coalesce({every}) IS NOT NULL"
            ).fetchone()[0]
            rows += int(n)
        con.close()
    return {"rows": rows}


def worker_count(batch: Path, memory_limit: str) -> dict:
    from toolkit.engine import count_batches

    res = count_batches(batch, domain="bdc", mode="stock", memory_limit=memory_limit)
    return {"rows": int(res.files.rows_read.sum())}


# ------------------------------------------------------------------------------------------------ driver


def measure(cmd: list[str]) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_mib": usage.ru_maxrss / 1024,
        "exit": code,
        "stdout": out,
        "stderr": err,
    }


def worker_cmd(kind: str, batch: Path, a: argparse.Namespace) -> list[str]:
    return [
        sys.executable,
        __file__,
        "--worker",
        kind,
        "--batch",
        str(batch),
        "--memory-limit",
        a.memory_limit,
    ]


def dq_check(batch: Path, out: Path, engine: str, a: argparse.Namespace) -> list[str]:
    dq = str(Path(sys.executable).with_name("dq"))
    return [
        dq,
        "check",
        "--domain",
        "bdc",
        "--mode",
        "stock",
        "--input",
        str(batch),
        "--out",
        str(out),
        "--engine",
        engine,
        "--memory-limit",
        a.memory_limit,
    ]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "dq-bench-engine")
    p.add_argument("--sizes", default="1,10", help="stock sizes in millions of registrations")
    p.add_argument("--gx-size", type=float, default=1.0, help="size measured with --engine gx (0: none)")
    p.add_argument("--memory-limit", default="1.5GB")
    p.add_argument("--worker", choices=["floor", "count"], help=argparse.SUPPRESS)
    p.add_argument("--batch", type=Path, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        fn = worker_floor if a.worker == "floor" else worker_count
        print(json.dumps(fn(a.batch, a.memory_limit)))
        return

    import pandas as pd

    from toolkit.sheets import read_csv

    a.work.mkdir(parents=True, exist_ok=True)
    sizes = [float(s) for s in a.sizes.split(",")]
    if a.gx_size and a.gx_size not in sizes:
        sizes.append(a.gx_size)
    rows: list[dict] = []
    for size in sorted(sizes):
        batch = batch_for(size, a.work)
        label = f"{size:g} M"
        kinds = ["floor", "count", "gate"] + (["gx"] if a.gx_size == size else [])
        outs = {}
        for kind in kinds:
            print(f"[{label}] {kind} …", flush=True)
            if kind in ("floor", "count"):
                r = measure(worker_cmd(kind, batch, a))
                if r["exit"] != 0:
                    raise SystemExit(f"{kind} failed: {r['stderr'][-2000:]}")
                r.update(json.loads(r["stdout"].strip().splitlines()[-1]))
            else:
                out = a.work / f"gate_{kind}_{size:g}m"
                shutil.rmtree(out, ignore_errors=True)
                r = measure(dq_check(batch, out, "gx" if kind == "gx" else "duckdb", a))
                if r["exit"] not in (0, 1):
                    raise SystemExit(f"dq check ({kind}) failed: {r['stderr'][-2000:]}")
                summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
                r["rows"] = summary["rows_read"]
                r["problems"] = summary["problems"]
                outs[kind] = out
            r.update(kind=kind, size=label)
            rows.append(r)
            print(
                f"    {r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU, peak {r['peak_mib']:.0f} MiB", flush=True
            )
        if "gx" in outs:
            same_counts = (outs["gate"] / "counts.csv").read_bytes() == (
                outs["gx"] / "counts.csv"
            ).read_bytes()
            keys = ["rule_id", "unit_code", "record_key", "row"]
            pe = read_csv(outs["gate"] / "problems.csv", usecols=keys, keep_default_na=False)
            pg = read_csv(outs["gx"] / "problems.csv", usecols=keys, keep_default_na=False)
            same_keys = (
                pe.sort_values(keys)
                .reset_index(drop=True)
                .equals(pg.sort_values(keys).reset_index(drop=True))
            )
            print(
                f"    [{label}] counts.csv identical: {same_counts}; problems.csv keys identical: {same_keys}"
            )
    print()
    table = pd.DataFrame(rows)
    print(
        f"{'size':>6} {'what':<6} {'rows read':>12} {'wall s':>8} {'CPU s':>8} {'rows/s':>11} {'peak MiB':>9}"
    )
    for r in rows:
        print(
            f"{r['size']:>6} {r['kind']:<6} {r['rows']:>12,} {r['wall']:>8.1f} {r['cpu']:>8.1f} "
            f"{r['rows'] / r['wall']:>11,.0f} {r['peak_mib']:>9.0f}"
        )
    print()
    by = {(r["kind"], r["size"]): r for r in rows}
    for size in table["size"].unique():
        f, c, g = by.get(("floor", size)), by.get(("count", size)), by.get(("gate", size))
        x = by.get(("gx", size))
        if c and f:
            print(f"{size}: count / read floor wall = {c['wall'] / f['wall']:.2f} (target ≤ 5)")
        if g and c:
            print(
                f"{size}: gate / count wall = {g['wall'] / c['wall']:.2f} (target ≤ 1.3); "
                f"gate peak {g['peak_mib'] / 1024:.2f} GiB (target ≤ 2.5)"
            )
        if x and g:
            print(f"{size}: gx / gate wall = {x['wall'] / g['wall']:.1f} (target ≥ 15)")


if __name__ == "__main__":
    main()
