"""Where a state directory's serve runs its events (in the process, or on a queue's workers),
remembered so that events left queued by one are never run by the other as well."""

from __future__ import annotations

from pathlib import Path

from plivo_node.core.errors import ConfigurationError

FORWARDING_FILE = "forwarding-to"


LOCAL = "this process"


def check_queue_choice(state: Path, queue: str | None, waiting: int) -> None:
    """Refuse to switch where events run while some are still queued locally (exit 2): a
    killed ``serve --queue`` leaves events that its queue's workers run or ran, and a
    killed ``serve`` leaves events whose sends in flight only its own journal knows; run by
    the other as well, they could be sent twice. Then remember the choice.

    ``queue`` is the queue's address as shown (``QueueAddress.shown``: no password), or
    None for events run in this process; ``waiting`` the local events not yet done.
    """
    path = state / FORWARDING_FILE
    chosen = queue if queue is not None else LOCAL
    try:
        before: str | None = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        before = None
    if waiting and before is not None and before != chosen:
        where = "in this process" if before == LOCAL else f"on the queue at {before}"
        again = "--queue" if queue is not None else "no --queue"
        flag = "without --queue" if before == LOCAL else f"with --queue {before}"
        raise ConfigurationError(
            f"{waiting} events in {state} were accepted by a serve that ran them {where}; "
            f"a serve with {again} there could send them twice",
            hint=f"start serve {flag} until they are done, then switch",
        )
    if chosen != before:
        path.write_text(chosen + "\n", encoding="utf-8")
