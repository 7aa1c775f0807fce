"""The Redis keys of queue mode, in one place (arq's own keys are arq's)."""

from __future__ import annotations

PREFIX = "plivo-node"
QUEUE_NAME = f"{PREFIX}:queue"  # arq's queue of chunk jobs
RUNS = f"{PREFIX}:runs"  # set of run ids still collecting results
SWEEPER = f"{PREFIX}:sweeper"  # the worker sweeping in this interval (expires)


def account(account_id: str, what: str) -> str:
    """A limit shared by every worker sending for one account (its auth id)."""
    return f"{PREFIX}:account:{account_id}:{what}"


def run(run_id: str, what: str) -> str:
    return f"{PREFIX}:run:{run_id}:{what}"


def chunk_journal(run_id: str, chunk: int) -> str:
    return run(run_id, f"journal:{chunk}")


def worker_alive(worker_id: str) -> str:
    """Refreshed by a worker's consume loop; gone a few seconds after the worker is."""
    return f"{PREFIX}:worker:{worker_id}"


WORKERS = f"{PREFIX}:workers"  # hash worker id -> started at


def job_id(run_id: str, chunk: int, attempt: int) -> str:
    return f"{PREFIX}:{run_id}:{chunk}:{attempt}"
