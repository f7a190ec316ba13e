"""Benchmark ``dq check``: wall time, rows/s and peak memory (RSS) on sample batches.

Usage: python benchmarks/bench_check.py [--stock-rows 20000] [--days 5] [--work DIR]
Each check runs in its own process so that peak memory is that run's alone. Prints a table; not a test.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(cmd: list[str]) -> tuple[float, float, int]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return wall, peak_mib, proc.returncode


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--stock-rows", type=int, default=20000)
    p.add_argument("--days", type=int, default=5)
    p.add_argument("--work", type=Path, default=None)
    a = p.parse_args()
    work = a.work or Path(tempfile.mkdtemp(prefix="dq-bench-"))
    dq = str(Path(sys.executable).with_name("dq"))
    wall, _, _ = run(
        [dq, "sample", "--out", str(work / "s"), "--stock-rows", str(a.stock_rows), "--days", str(a.days)]
    )
    print(f"sample: {wall:.1f} s")
    day = sorted((work / "s" / "incremental").iterdir())[-1]
    print(f"{'batch':<28}{'rows':>10}{'wall s':>10}{'rows/s':>10}{'peak MiB':>10}{'exit':>6}")
    for mode, batch in (("stock", work / "s" / "stock"), ("incremental", day)):
        out = work / f"out_{mode}"
        # peak RSS of children is a running maximum: measure each in a fresh interpreter
        code = (
            "import resource,subprocess,sys,json;"
            "r=subprocess.run(sys.argv[1:]).returncode;"
            "print(json.dumps([r, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024]))"
        )
        t0 = time.perf_counter()
        res = subprocess.run(
            [
                sys.executable,
                "-c",
                code,
                dq,
                "check",
                "--mode",
                mode,
                "--input",
                str(batch),
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - t0
        rc, peak = json.loads(res.stdout.strip().splitlines()[-1])
        rows = json.loads((out / "summary.json").read_text(encoding="utf-8"))["rows_read"]
        print(
            f"{mode + ' ' + batch.name:<28}{rows:>10,}{wall:>10.1f}{rows / wall:>10,.0f}{peak:>10.0f}{rc:>6}"
        )


if __name__ == "__main__":
    main()
