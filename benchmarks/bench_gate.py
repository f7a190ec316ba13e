"""Benchmark the QA gate (``dq check``) on the count engine against its own count-only time, DuckDB's plain
read of the same files (the read floor) and ``dq check --engine gx``.

Usage::

    python benchmarks/bench_gate.py [--work DIR] [--sizes 1,10] [--gx-size 1] [--pg-size 1] [--spark-size 1]
                                    [--memory-limit 1.5GB]

``--sizes``: bdc stock sizes in millions of registrations (QLT_FW_FDCQ_YZ rows, plus ~1.39 holders and
0.25 mortgages each; the 1 M stock is generated once and larger ones replicated from it, as in
``bench_engine.py``, whose data folder is the default ``--work``). A size below 1 (``0.1``) is generated
directly with that many registrations. ``--gx-size``: the size at which ``--engine gx`` is measured too
(``0`` = not at all; Great Expectations needs ~6 GiB and minutes per million). ``--pg-size`` / ``--spark-size``:
the size at which the gate reads PostgreSQL and the count runs on local Spark (``0`` = not at all).

Each measurement runs in its own process (wall time, CPU time and peak RSS from ``os.wait4``); with
``--repeat N`` floor, count and gate run N times, interleaved (floor, count, gate, floor, gate, count, …: every
other round runs the gate first), and the table
shows each one's median wall and CPU time and its highest peak — one machine's disk cache and neighbours
move a single 10 M run by ±10 %:

* ``floor``: DuckDB reads every column of every table file (all text, the whitespace-only = empty rule,
  blank rows skipped) and counts the rows — the least any engine has to do;
* ``count``: ``dq count --mode stock`` — every stock rule counted per unit (``dq score``'s work), no
  problem list;
* ``gate``: ``dq check --mode stock`` (default engine): counts, the gate, ``problems.csv`` streamed,
  ``summary.json``, ``report.html`` and Data Docs — the command a QA person runs;
* ``gx``: ``dq check --mode stock --engine gx``;
* ``pg``: the gate reading the same tables from PostgreSQL (``dq check --source postgresql://…``; a private
  server started from Debian's binaries as in ``tests/test_postgres.py``, the files copied in first —
  loading time printed, not measured);
* ``spark``: ``dq count --engine spark --master local[2]``.

Checks printed: gate's ``counts.csv`` identical to gx's and to pg's, the problem keys (rule, unit, record
key, and for gx the row; a database table's rows are numbered in the server's order) identical, spark's
``counts.csv`` identical to count's; ratios count / floor (target ≤ 5 at 1 M), gx / gate (target ≥ 15 at
1 M), gate / count (target ≤ 1.3 at 10 M; with ``--repeat``, also of each round's pair) and the gate's
peak (target ≤ 2.5 GiB at 10 M). Not a test.
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


def dq(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("dq")), *args]


def dq_check(source: str, out: Path, engine: str, a: argparse.Namespace) -> list[str]:
    flag = "--source" if source.startswith("postgresql://") else "--input"
    return dq(
        "check", "--domain", "bdc", "--mode", "stock", flag, source, "--out", str(out),
        "--engine", engine, "--memory-limit", a.memory_limit,
    )  # fmt: skip


def dq_count(batch: Path, out: Path, engine: str, a: argparse.Namespace) -> list[str]:
    extra = ["--master", "local[2]"] if engine == "spark" else ["--memory-limit", a.memory_limit]
    return dq("count", "--domain", "bdc", "--mode", "stock", "--input", str(batch), "--out", str(out),
              "--engine", engine, *extra)  # fmt: skip


def load_postgres(batch: Path) -> tuple[object, str]:
    """A private PostgreSQL server holding the batch's tables (all text, COPY from the CSV files)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from test_postgres import PgServer

    t0 = time.perf_counter()
    server = PgServer()
    with server.connect() as conn:
        conn.execute("CREATE SCHEMA bench")
        for t in TABLES:
            path = batch / f"{t}.csv"
            with path.open(encoding="utf-8-sig", newline="") as fh:
                header = next(csv.reader(fh))
            cols = ", ".join('"' + c.lower().replace('"', '""') + '" text' for c in header)
            conn.execute(f'CREATE TABLE bench."{t.lower()}" ({cols})')
            with (
                conn.cursor() as cur,
                cur.copy(f'COPY bench."{t.lower()}" FROM STDIN WITH (FORMAT csv, HEADER true)') as cp,
            ):
                with path.open("rb") as fh:
                    while chunk := fh.read(1 << 20):
                        cp.write(chunk)
    print(f"    PostgreSQL loaded in {time.perf_counter() - t0:.0f} s", flush=True)
    return server, server.url(schema="bench", batch=batch.name)


def same_csv(a: Path, b: Path) -> bool:
    return a.read_bytes() == b.read_bytes()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "dq-bench-engine")
    p.add_argument("--sizes", default="1,10", help="stock sizes in millions of registrations")
    p.add_argument("--gx-size", type=float, default=1.0, help="size measured with --engine gx (0: none)")
    p.add_argument("--pg-size", type=float, default=1.0, help="size read from PostgreSQL (0: none)")
    p.add_argument("--spark-size", type=float, default=1.0, help="size counted on local Spark (0: none)")
    p.add_argument("--memory-limit", default="1.5GB")
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs of floor, count and gate, interleaved (median wall reported)",
    )
    p.add_argument("--worker", choices=["floor"], help=argparse.SUPPRESS)
    p.add_argument("--batch", type=Path, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        print(json.dumps(worker_floor(a.batch, a.memory_limit)))
        return

    import pandas as pd

    from toolkit.sheets import read_csv

    a.work.mkdir(parents=True, exist_ok=True)
    sizes = sorted(
        {float(s) for s in a.sizes.split(",")} | {x for x in (a.gx_size, a.pg_size, a.spark_size) if x}
    )
    rows: list[dict] = []
    for size in sizes:
        batch = batch_for(size, a.work)
        label = f"{size:g} M"
        # rounds alternate count-gate and gate-count, so that a machine speeding up or slowing down during
        # the runs favours neither
        rounds = [
            ["floor", "count", "gate"] if i % 2 == 0 else ["floor", "gate", "count"]
            for i in range(max(a.repeat, 1))
        ]
        kinds = [k for r in rounds for k in r] + [
            k for k, x in (("gx", a.gx_size), ("pg", a.pg_size), ("spark", a.spark_size)) if x == size
        ]
        outs = {}
        for kind in kinds:
            print(f"[{label}] {kind} …", flush=True)
            out = a.work / f"gate_{kind}_{size:g}m"
            shutil.rmtree(out, ignore_errors=True)
            server = None
            if kind == "floor":
                r = measure(worker_cmd(kind, batch, a))
                if r["exit"] != 0:
                    raise SystemExit(f"{kind} failed: {r['stderr'][-2000:]}")
                r.update(json.loads(r["stdout"].strip().splitlines()[-1]))
            elif kind in ("count", "spark"):
                r = measure(dq_count(batch, out, "spark" if kind == "spark" else "duckdb", a))
                if r["exit"] != 0:
                    raise SystemExit(f"dq count ({kind}) failed: {r['stderr'][-2000:]}")
                r["rows"] = next(x["rows"] for x in rows if x["kind"] == "floor" and x["size"] == label)
            else:
                source = str(batch)
                if kind == "pg":
                    server, source = load_postgres(batch)
                try:
                    r = measure(dq_check(source, out, "gx" if kind == "gx" else "duckdb", a))
                finally:
                    if server is not None:
                        server.stop()
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
        for other in ("gx", "pg"):
            if other not in outs:
                continue
            # a database table has no row order of its own: pg's rows are the server's order (README)
            keys = ["rule_id", "unit_code", "record_key"] + (["row"] if other == "gx" else [])
            pe = read_csv(outs["gate"] / "problems.csv", usecols=keys, keep_default_na=False)
            po = read_csv(outs[other] / "problems.csv", usecols=keys, keep_default_na=False)
            same_keys = (
                pe.sort_values(keys)
                .reset_index(drop=True)
                .equals(po.sort_values(keys).reset_index(drop=True))
            )
            print(
                f"    [{label}] gate vs {other}: counts.csv identical: "
                f"{same_csv(outs['gate'] / 'counts.csv', outs[other] / 'counts.csv')}; "
                f"problems.csv keys ({', '.join(keys)}) identical: {same_keys}"
            )
        if "spark" in outs:
            cols = ["batch", "unit_code", "rule_id", "element_count", "unexpected_count", "evaluated"]
            cd, cs = (
                read_csv(outs[k] / "counts.csv", usecols=cols, keep_default_na=False)
                for k in ("count", "spark")
            )
            print(f"    [{label}] spark vs count: counts identical: {cd.equals(cs)}")
    print()
    runs = pd.DataFrame(rows)
    # per size and kind: the median wall and CPU time of its runs, the highest peak (one run: that run)
    table = (
        runs.groupby(["size", "kind"], sort=False)
        .agg(wall=("wall", "median"), cpu=("cpu", "median"), peak_mib=("peak_mib", "max"), rows=("rows", "first"),
             runs=("wall", "size"), walls=("wall", lambda w: " ".join(f"{x:.1f}" for x in w)))
        .reset_index()
    )  # fmt: skip
    rows = table.to_dict("records")
    print(
        f"{'size':>6} {'what':<6} {'rows read':>12} {'wall s':>8} {'CPU s':>8} {'rows/s':>11} {'peak MiB':>9}"
        + ("  runs (wall s)" if a.repeat > 1 else "")
    )
    for r in rows:
        print(
            f"{r['size']:>6} {r['kind']:<6} {r['rows']:>12,} {r['wall']:>8.1f} {r['cpu']:>8.1f} "
            f"{r['rows'] / r['wall']:>11,.0f} {r['peak_mib']:>9.0f}"
            + (f"  {r['walls']}" if r["runs"] > 1 else "")
        )
    print()
    by = {(r["kind"], r["size"]): r for r in rows}
    for size in table["size"].unique():
        f, c, g = by.get(("floor", size)), by.get(("count", size)), by.get(("gate", size))
        # the targets: count / floor and gx / gate at 1 M, gate / count and the gate's peak at 10 M
        t1, t10 = size == "1 M", size == "10 M"
        if c and f:
            print(
                f"{size}: count / read floor wall = {c['wall'] / f['wall']:.2f}{' (target ≤ 5)' if t1 else ''}"
            )
        if g and c:
            print(
                f"{size}: gate / count wall = {g['wall'] / c['wall']:.2f}{' (target ≤ 1.3)' if t10 else ''}; "
                f"gate peak {g['peak_mib'] / 1024:.2f} GiB{' (target ≤ 2.5)' if t10 else ''}"
            )
            pairs = runs[runs["size"] == size]
            gw, cw = (pairs.loc[pairs["kind"] == k, "wall"].tolist() for k in ("gate", "count"))
            if len(gw) > 1 and len(gw) == len(cw):  # each round's gate run against its count run
                each = ", ".join(f"{x / y:.2f}" for x, y in zip(gw, cw, strict=True))
                print(f"{size}: gate / count of each round: {each}")
        for kind, what in (
            ("gx", f"gx / gate{' (target ≥ 15)' if t1 else ''}"),
            ("pg", "pg / gate"),
            ("spark", "spark / count"),
        ):
            x = by.get((kind, size))
            base = g if kind != "spark" else c
            if x and base:
                print(f"{size}: {what} wall = {x['wall'] / base['wall']:.2f}")


if __name__ == "__main__":
    main()
