"""Request counts and latencies of the self-check service in Prometheus' text format (``GET /metrics``).

Counters per endpoint and status, verdicts per stage, and a latency histogram per endpoint. With several
worker processes every process counts its own calls (scrape each, or run one worker per port).
"""

from __future__ import annotations

import threading
from collections import defaultdict

__all__ = ["BUCKETS", "Metrics"]

#: Upper bounds (seconds) of the latency histogram.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.verdicts: dict[tuple[str, str], int] = defaultdict(int)
        self.buckets: dict[str, list[int]] = defaultdict(lambda: [0] * len(BUCKETS))
        self.sums: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

    def observe(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(endpoint, method, status)] += 1
            b = self.buckets[endpoint]
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    b[i] += 1
            self.sums[endpoint] += seconds
            self.counts[endpoint] += 1

    def verdict(self, stage: str, verdict: str) -> None:
        with self._lock:
            self.verdicts[(stage, verdict)] += 1

    def render(self) -> str:
        lines = [
            "# HELP dq_selfcheck_requests_total Requests answered, by endpoint, method and status.",
            "# TYPE dq_selfcheck_requests_total counter",
        ]
        with self._lock:
            for (ep, method, status), n in sorted(self.requests.items()):
                lines.append(
                    f'dq_selfcheck_requests_total{{endpoint="{_label(ep)}",method="{method}",status="{status}"}} {n}'
                )
            lines += [
                "# HELP dq_selfcheck_verdicts_total Businesses checked, by stage and verdict.",
                "# TYPE dq_selfcheck_verdicts_total counter",
            ]
            for (stage, verdict), n in sorted(self.verdicts.items()):
                lines.append(
                    f'dq_selfcheck_verdicts_total{{stage="{_label(stage)}",verdict="{verdict}"}} {n}'
                )
            lines += [
                "# HELP dq_selfcheck_request_seconds Time from the request's arrival to the answer.",
                "# TYPE dq_selfcheck_request_seconds histogram",
            ]
            for ep in sorted(self.counts):
                label = _label(ep)
                for bound, n in zip(BUCKETS, self.buckets[ep], strict=True):
                    lines.append(
                        f'dq_selfcheck_request_seconds_bucket{{endpoint="{label}",le="{bound}"}} {n}'
                    )
                lines.append(
                    f'dq_selfcheck_request_seconds_bucket{{endpoint="{label}",le="+Inf"}} {self.counts[ep]}'
                )
                lines.append(f'dq_selfcheck_request_seconds_sum{{endpoint="{label}"}} {self.sums[ep]:.6f}')
                lines.append(f'dq_selfcheck_request_seconds_count{{endpoint="{label}"}} {self.counts[ep]}')
        return "\n".join(lines) + "\n"
