"""A worker's counters, and their Prometheus text exposition (format 0.0.4)."""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field

# Seconds; the send latency histogram's upper bounds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass
class WorkerMetrics:
    sent: int = 0  # items of never-repeat steps (sends) that succeeded
    failed: Counter[str] = field(default_factory=Counter)  # failed items by error code
    rejected_429: int = 0  # 429 answers (each one also paused or retried)
    chunks: int = 0
    latency_counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    latency_sum: float = 0.0

    def observe_latency(self, seconds: float) -> None:
        self.latency_counts[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.latency_sum += seconds

    def render(self, *, queue_depth: int, oldest_wait: float | None) -> str:
        lines = [
            "# HELP plivo_node_sent_total Sends that succeeded.",
            "# TYPE plivo_node_sent_total counter",
            f"plivo_node_sent_total {self.sent}",
            "# HELP plivo_node_failed_total Items that failed, by error code.",
            "# TYPE plivo_node_failed_total counter",
        ]
        lines += [
            f'plivo_node_failed_total{{code="{code}"}} {count}'
            for code, count in sorted(self.failed.items())
        ]
        lines += [
            "# HELP plivo_node_rate_limited_total 429 answers received.",
            "# TYPE plivo_node_rate_limited_total counter",
            f"plivo_node_rate_limited_total {self.rejected_429}",
            "# HELP plivo_node_chunks_total Chunks this worker finished.",
            "# TYPE plivo_node_chunks_total counter",
            f"plivo_node_chunks_total {self.chunks}",
            "# HELP plivo_node_queue_depth Chunk jobs waiting in the queue.",
            "# TYPE plivo_node_queue_depth gauge",
            f"plivo_node_queue_depth {queue_depth}",
            "# HELP plivo_node_oldest_job_wait_seconds How long the oldest waiting job waited.",
            "# TYPE plivo_node_oldest_job_wait_seconds gauge",
            f"plivo_node_oldest_job_wait_seconds {oldest_wait or 0.0:.3f}",
            "# HELP plivo_node_send_seconds Time of a send request, limiter waits included.",
            "# TYPE plivo_node_send_seconds histogram",
        ]
        cumulative = 0
        for bound, count in zip((*LATENCY_BUCKETS, float("inf")), self.latency_counts, strict=True):
            cumulative += count
            le = "+Inf" if bound == float("inf") else repr(bound)
            lines.append(f'plivo_node_send_seconds_bucket{{le="{le}"}} {cumulative}')
        lines += [
            f"plivo_node_send_seconds_sum {self.latency_sum:.6f}",
            f"plivo_node_send_seconds_count {cumulative}",
        ]
        return "\n".join(lines) + "\n"
