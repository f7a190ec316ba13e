"""Benchmark of the self-check service (``dq serve``): throughput and latency under a bounded load.

Starts ``dq serve`` in its own process on a loopback port (the bdc pack, a tokens file and a call log in
a temporary folder), takes the businesses of a generated sample day, and sends ``POST /v1/bdc/check``
requests — one business each — at a fixed rate (open loop: a request is sent on schedule whether or not
earlier ones have been answered) with at most ``--concurrency`` in flight. Prints the throughput
achieved, latency percentiles (p50, p90, p99, max; from the moment a request was due, so queueing in the
client counts), the answers' status and verdict counts, and the CPU time per request of the service and
of the load generator (they share the machine's cores: at 200 requests/s the two together need most of 2). ``--rate 0`` runs closed loop instead
(``--concurrency`` clients back to back: the maximal throughput).

    python benchmarks/bench_serve.py                       # 200 requests/s for 10 s
    python benchmarks/bench_serve.py --rate 300 --duration 20 --concurrency 64
    python benchmarks/bench_serve.py --rate 0 --concurrency 8

Target (issue 13): p99 < 50 ms for one business at ≥ 200 requests/s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def _businesses(folder: Path, days: int, districts: int) -> list[dict]:
    from test_serve_verdicts import businesses

    from toolkit.domain import load_domain
    from toolkit.samples import generate_sample

    generate_sample("bdc", folder, seed=1, districts=districts, days=days, stock_rows=10)
    domain = load_domain("bdc")
    out = []
    for day in sorted((folder / "incremental").iterdir()):
        out += [{c: rows for c, (_, rows) in t.items()} for _, t in businesses(domain, day)]
    return out


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` so far (Linux ``/proc``; None elsewhere)."""
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return None
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


async def _drive(url: str, token: str, bodies: list[dict], rate: float, duration: float, concurrency: int):
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    latencies: list[float] = []
    statuses: Counter = Counter()
    verdicts: Counter = Counter()
    sem = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30, headers=headers) as client:

        async def one(i: int, due: float) -> None:
            async with sem:
                try:
                    r = await client.post("/v1/bdc/check", json=bodies[i % len(bodies)])
                    statuses[r.status_code] += 1
                    if r.status_code == 200:
                        verdicts[r.json()["verdict"]] += 1
                except httpx.HTTPError as exc:
                    statuses[type(exc).__name__] += 1
            latencies.append(time.perf_counter() - due)

        started = time.perf_counter()
        tasks = []
        if rate > 0:
            n = int(rate * duration)
            for i in range(n):
                due = started + i / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(i, due)))
            await asyncio.gather(*tasks)
        else:
            counter = iter(range(10**9))

            async def worker() -> None:
                while time.perf_counter() - started < duration:
                    await one(next(counter), time.perf_counter())

            await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, statuses, verdicts, elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=float, default=200.0, help="requests per second (0: closed loop)")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds of load")
    ap.add_argument("--concurrency", type=int, default=32, help="requests in flight at most")
    ap.add_argument("--warmup", type=int, default=200, help="requests sent before measuring")
    ap.add_argument("--workers", type=int, default=None, help="verdict threads (default: the service's)")
    ap.add_argument("--days", type=int, default=2, help="sample days whose businesses are sent")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        tmp = Path(tmp)
        print("示例数据 / sample …", flush=True)
        bodies = [{"stage": "dengbu", "tables": b} for b in _businesses(tmp / "sample", args.days, 4)]
        rows = statistics.mean(sum(len(r) for r in b["tables"].values()) for b in bodies)
        from toolkit.serve.auth import add_token

        token = add_token(tmp / "tokens", "*")
        port = _free_port()
        cmd = [sys.executable, "-m", "toolkit.cli", "serve", "--domain", "bdc", "--port", str(port)]
        cmd += ["--tokens", str(tmp / "tokens"), "--log", str(tmp / "log")]
        cmd += ["--workers", str(args.workers)] if args.workers else []
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        url = f"http://127.0.0.1:{port}"
        try:
            t0 = time.perf_counter()
            while True:
                try:
                    if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None:
                    raise SystemExit(f"dq serve did not start:\n{server.stderr.read().decode()[-2000:]}")
                time.sleep(0.1)
            print(f"服务启动（含规则编译）/ service up in {time.perf_counter() - t0:.1f} s", flush=True)
            asyncio.run(
                _drive(url, token, bodies, 0, 0, 4) if False else _warm(url, token, bodies, args.warmup)
            )
            server_cpu, client_cpu = _cpu_seconds(server.pid), time.process_time()
            lat, statuses, verdicts, elapsed = asyncio.run(
                _drive(url, token, bodies, args.rate, args.duration, args.concurrency)
            )
            client_cpu = time.process_time() - client_cpu
            end = _cpu_seconds(server.pid)
            server_cpu = None if server_cpu is None or end is None else end - server_cpu
        finally:
            server.terminate()
            server.wait(timeout=10)
    from toolkit.serve.app import default_workers

    ms = [x * 1000 for x in lat]
    mode = f"open loop {args.rate:g}/s" if args.rate > 0 else f"closed loop, {args.concurrency} clients"
    print(
        f"负载 / load: {mode}, {args.duration:g} s, ≤ {args.concurrency} in flight, {args.workers or default_workers()} verdict threads"
    )
    print(f"业务 / businesses: {len(bodies)} distinct, {rows:.1f} rows each on average")
    print(f"请求 / requests: {len(ms)}, throughput {len(ms) / elapsed:.1f} /s")
    print(
        f"时延 / latency ms: p50 {_pct(ms, 50):.1f}  p90 {_pct(ms, 90):.1f}  p99 {_pct(ms, 99):.1f}  max {max(ms):.1f}"
    )
    print(f"应答 / status: {dict(statuses)}  结论 / verdicts: {dict(verdicts)}")
    if ms:
        shown = "n/a" if server_cpu is None else f"{server_cpu / len(ms) * 1000:.2f}"
        print(
            f"CPU / request ms: service {shown}, load generator {client_cpu / len(ms) * 1000:.2f} "
            f"(both on this machine's {os.cpu_count()} cores)"
        )


async def _warm(url: str, token: str, bodies: list[dict], n: int) -> None:
    if n:
        await _drive(url, token, bodies, 0, max(1.0, n / 100), 4)


if __name__ == "__main__":
    main()
