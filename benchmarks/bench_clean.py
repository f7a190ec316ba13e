"""Benchmark ``dq clean`` (toolkit.clean): plan, apply and undo on a large bdc stock batch.

Usage::

    python benchmarks/bench_clean.py [--work DIR] [--rows 1000000] [--seed-rows 50000] [--error-scale 1]

The batch: a bdc stock sample of ``--seed-rows`` registrations (``dq sample``, with its format errors at
``--error-scale``) replicated with DuckDB until the three tables (registrations, ~1.39 holders and ~0.25
mortgages per registration) hold about ``--rows`` rows in all; each copy's YWH gets the copy number
appended, so links between the tables stay within a copy and every copy has the same errors. The batch
is made once in ``--work`` and reused.

Each phase runs in its own process; wall time, CPU time and peak RSS are that process's (``os.wait4``):

* ``plan``: :func:`toolkit.clean.make_plan` + :func:`toolkit.clean.write_plan` (CSV and XLSX plan files);
* ``apply``: :func:`toolkit.clean.apply_plan` into a new folder — it checks the batch's SHA-256, plans
  again to compare with the reviewed plan, backs up the changed files, writes and re-reads them, logs;
* ``undo``: :func:`toolkit.clean.undo_run` — restores the originals and checks their hashes; the script
  then checks the batch is byte-identical to the original.

Not a test; prints a table (rows/s over the rows read) and the changes per fixer.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

TABLES = ("QLT_FW_FDCQ_YZ", "ZTT_GY_QLR", "QLF_QL_DYAQ")


def _rows(path: Path) -> int:
    with path.open("rb") as fh:
        return max(sum(1 for _ in fh) - 1, 0)


def make_batch(work: Path, rows: int, seed_rows: int, error_scale: float) -> Path:
    """The replicated stock batch (see the module docstring), made once."""
    seed = work / f"seed-{seed_rows}-{error_scale:g}"
    if not (seed / "stock" / f"{TABLES[0]}.csv").exists():
        from toolkit.samples import generate_sample

        t0 = time.perf_counter()
        print(f"generating a {seed_rows:,}-registration stock sample …", flush=True)
        generate_sample("bdc", seed, stock_rows=seed_rows, incremental=False, error_scale=error_scale)
        print(f"  {time.perf_counter() - t0:.0f} s", flush=True)
    src = seed / "stock"
    per_copy = sum(_rows(src / f"{t}.csv") for t in TABLES if (src / f"{t}.csv").exists())
    k = max(1, round(rows / per_copy))
    dst = work / f"batch-{rows}-{seed_rows}-{error_scale:g}"
    if all((dst / f"{t}.csv").exists() for t in TABLES if (src / f"{t}.csv").exists()):
        return dst
    import duckdb

    dst.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    print(f"replicating it {k}× with DuckDB ({k * per_copy:,} rows) …", flush=True)
    con = duckdb.connect(config={"memory_limit": "2GB", "preserve_insertion_order": True})
    con.execute("SET enable_progress_bar = false")
    for t in TABLES:
        if not (src / f"{t}.csv").exists():
            continue
        with (src / f"{t}.csv").open(encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh))
        spec = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in header) + "}"
        tmp = dst / f"{t}.csv.part"
        con.execute(
            f"COPY (SELECT c.* REPLACE (CASE WHEN YWH IS NULL THEN NULL ELSE YWH || CAST(r.k AS VARCHAR) END "
            f"AS YWH) FROM read_csv('{src / (t + '.csv')}', columns = {spec}, header = true, "
            f"auto_detect = false, delim = ',', quote = '\"', escape = '\"', all_varchar = true) c, "
            f"range({k}) r(k) ORDER BY r.k) TO '{tmp}' (FORMAT csv, HEADER true, DELIMITER ',')"
        )
        tmp.rename(dst / f"{t}.csv")
    con.close()
    print(f"  {time.perf_counter() - t0:.0f} s", flush=True)
    return dst


def _digest(folder: Path) -> dict[str, str]:
    out = {}
    for p in sorted(folder.iterdir()):
        if p.is_file():
            h = hashlib.sha256()
            with p.open("rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
            out[p.name] = h.hexdigest()
    return out


# ------------------------------------------------------------------------------------------------ phases


def phase(name: str, batch: Path, work: Path) -> dict:
    from toolkit import clean

    plan_dir, log = work / "plan", work / "log.sqlite"
    if name == "plan":
        plan = clean.make_plan(batch, domain="bdc", progress=True)
        clean.write_plan(plan, plan_dir)
        per_fixer: dict[str, int] = {}
        for c in plan.changes:
            for f in c.fixers:
                per_fixer[f] = per_fixer.get(f, 0) + 1
        return {
            "rows": plan.rows_read,
            "changes": len(plan.changes),
            "needs_person": len(plan.needs_person),
            "files": len(plan.changed_files),
            "per_fixer": per_fixer,
        }
    if name == "apply":
        res = clean.apply_plan(plan_dir, approved_by="bench", log=log, out=work / "cleaned", progress=True)
        (work / "run_id").write_text(res.run_id, encoding="utf-8")
        return {"changes": res.changes, "files": len(res.files)}
    if name == "undo":
        run_id = (work / "run_id").read_text(encoding="utf-8")
        res = clean.undo_run(run_id, log=log, by="bench")
        return {"restored": len(res.restored)}
    raise SystemExit(f"unknown phase {name}")


def run_phase(name: str, batch: Path, work: Path) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--phase", name, "--batch", str(batch), "--work", str(work)],
        stdout=subprocess.PIPE,
        text=True,
    )
    stdout = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"phase {name} failed (status {status})")
    info = json.loads(stdout.strip().splitlines()[-1])
    return {
        "phase": name,
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_mib": usage.ru_maxrss / 1024,
        **info,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path("bench_out/clean"))
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed-rows", type=int, default=50_000)
    ap.add_argument("--error-scale", type=float, default=1.0)
    ap.add_argument("--phase", help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.batch, args.work), ensure_ascii=False))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    source = make_batch(args.work, args.rows, args.seed_rows, args.error_scale)
    run = args.work / "run"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir()
    batch = run / "batch"
    shutil.copytree(source, batch)
    original = _digest(batch)
    results = [run_phase(name, batch, run) for name in ("plan", "apply", "undo")]
    rows = results[0]["rows"]
    restored = _digest(run / "cleaned") == original
    print(f"\nbatch: {rows:,} rows in {len(original)} files ({source})")
    print(f"{'phase':<6} {'wall s':>8} {'cpu s':>8} {'rows/s':>10} {'peak MiB':>9}")
    for r in results:
        print(
            f"{r['phase']:<6} {r['wall']:>8.1f} {r['cpu']:>8.1f} {rows / r['wall']:>10,.0f} {r['peak_mib']:>9.0f}"
        )
    plan = results[0]
    print(
        f"changes {plan['changes']:,} in {plan['files']} files, needs a person {plan['needs_person']:,}; "
        f"per fixer: {json.dumps(plan['per_fixer'], ensure_ascii=False)}"
    )
    print(f"undo restored the originals byte for byte: {restored}")
    if not restored:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
