"""The run side of queue mode: split the batch into chunks, queue them, collect the results
and hand them on in input order.

The run's id is a digest of the run key (pipeline text and input) and the output path, so the
same command finds its run again: ``--resume`` collects a run whose collector was stopped
(workers go on with the chunks already started), and a new run over one that is unfinished,
or finished and not forgotten, is refused unless ``--restart`` (it would send again).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError

from plivo_node.core.errors import ConfigurationError
from plivo_node.core.items import BinaryData, Item
from plivo_node.queue import keys
from plivo_node.queue.chunks import ChunkResult, RunState
from plivo_node.queue.engine import ChunkQueue
from plivo_node.run.item_io import encode_line

DEFAULT_CHUNK_SIZE = 100
# Binary data (base64, as stored) a queued run carries through Redis: per item, enough for an
# MMS's media at the size providers accept (a few MB); per run, a bound on what all of its
# chunks hold in Redis's memory at once.
MAX_ITEM_BINARY = 16 * 1024 * 1024
MAX_RUN_BINARY = 256 * 1024 * 1024
SWEEP_SECONDS = 2.0
# After a chunk could not run: how long to wait for the chunks being run to end.
SETTLE_SECONDS = 60.0
REDIS_WAIT_SECONDS = 300.0


def run_id_for(run_key: str, output: Path) -> str:
    digest = hashlib.sha256(run_key.encode() + b"\0" + str(output.resolve()).encode())
    return digest.hexdigest()[:20]


def _megabytes(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size:,} bytes"
    return f"{size / (1024 * 1024):.1f} MB"


def chunk_texts(items: Iterator[Item], size: int) -> Iterator[str]:
    """The input as chunks of ``size`` items, each JSON lines of n8n items (``json``, and
    ``binary`` when the item has some: :func:`chunk_items` reads them back).

    Binary data travels in the chunks, so in Redis's memory until the run is collected: an
    item over :data:`MAX_ITEM_BINARY` or a run over :data:`MAX_RUN_BINARY` (base64, as
    stored) is refused before anything is queued.
    """
    lines: list[str] = []
    carried = 0
    for position, item in enumerate(items):
        record: dict[str, Any] = {"json": item.json}
        if item.binary:
            record["binary"] = {name: entry.to_json() for name, entry in item.binary.items()}
            weight = sum(len(entry.data) for entry in item.binary.values())
            carried += weight
            _check_binary(position, weight, carried)
        lines.append(encode_line(record))
        if len(lines) == size:
            yield "\n".join(lines)
            lines = []
    if lines:
        yield "\n".join(lines)


def _check_binary(position: int, weight: int, carried: int) -> None:
    fix = (
        "reference the media by URL instead of carrying the files, split the input into "
        "smaller runs, or drop --queue to run it in this process"
    )
    if weight > MAX_ITEM_BINARY:
        raise ConfigurationError(
            f"input item {position} carries {_megabytes(weight)} of binary data; a queued run "
            f"carries at most {_megabytes(MAX_ITEM_BINARY)} per item through Redis",
            hint=fix,
        )
    if carried > MAX_RUN_BINARY:
        raise ConfigurationError(
            f"the input's binary data passes {_megabytes(MAX_RUN_BINARY)} at item {position}; "
            "a queued run holds all of its chunks in Redis's memory until it is collected",
            hint=fix,
        )


def chunk_items(text: str) -> list[Item]:
    """A chunk's items, as :func:`chunk_texts` wrote them."""
    items = []
    for line in text.splitlines():
        record = json.loads(line)
        binary = {
            name: BinaryData.from_json(entry) for name, entry in record.get("binary", {}).items()
        }
        items.append(Item(json=record["json"], binary=binary))
    return items


@dataclass
class Collected:
    """What the collected chunks add up to, in the shape of a run summary's counts."""

    steps: dict[str, list[int]] = field(default_factory=dict)  # name -> [items, ok, failed]
    by_code: dict[str, int] = field(default_factory=dict)
    outputs: int = 0
    chunks: int = 0
    claimed: int = 0
    stopped: str | None = None
    error: str | None = None  # a chunk could not run
    claims_unknown: bool = False  # a chunk failed part-way: it may have sent
    # Each node type's tally counts, one entry per chunk written (merged into the summary's).
    tallies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


class Ordered:
    """Writes chunk results in chunk order, item positions renumbered to the whole run's."""

    def __init__(self, write_line: Callable[[str], None], terminal: tuple[str, ...]) -> None:
        self._write = write_line
        self._single = terminal[0] if len(terminal) == 1 else None
        self._waiting: dict[int, ChunkResult] = {}
        self._next = 0
        self._offsets: dict[str, int] = {}
        self.collected = Collected()

    @property
    def next_chunk(self) -> int:
        return self._next

    def add(self, result: ChunkResult) -> list[ChunkResult]:
        """Take a result; returns the ones written (in order) as a result of it."""
        collected = self.collected
        if result.kind == "error":
            collected.error = collected.error or str(result.payload.get("message"))
            if "claimed" not in result.payload:
                collected.claims_unknown = True
        self._waiting.setdefault(result.chunk, result)
        written = []
        while self._next in self._waiting and collected.stopped is None:
            ready = self._waiting.pop(self._next)
            if ready.kind != "result":
                break
            self._write_chunk(ready.payload)
            written.append(ready)
            self._next += 1
        return written

    def _write_chunk(self, payload: dict[str, Any]) -> None:
        collected = self.collected
        for line in payload["lines"]:
            record = json.loads(line)
            step = record.get("step", self._single)
            paired = record.get("pairedItem")
            if isinstance(paired, dict) and step is not None:
                paired["item"] = int(paired["item"]) + self._offsets.get(step, 0)
            self._write(encode_line(record))
        for name, items, succeeded, failed in payload["steps"]:
            counts = collected.steps.setdefault(name, [0, 0, 0])
            counts[0] += items
            counts[1] += succeeded
            counts[2] += failed
            self._offsets[name] = self._offsets.get(name, 0) + items
        for code, count in payload["by_code"].items():
            collected.by_code[code] = collected.by_code.get(code, 0) + count
        collected.outputs += payload["outputs"]
        for node, counts in payload.get("tallies", {}).items():
            collected.tallies.setdefault(node, []).append(counts)
        collected.claimed += payload.get("claimed", 0)
        collected.chunks += 1
        collected.stopped = payload.get("stopped")


@dataclass(frozen=True)
class Existing:
    chunks: int
    done: int
    finished_at: float | None


async def existing_run(state: RunState) -> Existing | None:
    meta: dict[bytes, bytes] = await state.redis.hgetall(state.meta)  # type: ignore[misc]
    if not meta:
        return None
    finished = meta.get(b"finished_at")
    done = int(await state.redis.scard(state.done))  # type: ignore[misc]
    chunks = int(meta.get(b"chunks", b"0"))
    return Existing(chunks, chunks if finished else done, float(finished) if finished else None)


def refuse_existing(existing: Existing) -> ConfigurationError:
    if existing.finished_at is not None:
        when = time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(existing.finished_at))
        return ConfigurationError(
            f"the queue holds a finished run of this pipeline, input and output (finished "
            f"{when}); a new run would send its items again",
            hint="pass --restart to send every item again; a new campaign needs its own --output",
        )
    return ConfigurationError(
        f"the queue holds an unfinished run of this pipeline, input and output "
        f"({existing.done} of {existing.chunks} chunks done)",
        hint="pass --resume to collect it (nothing is sent twice), or --restart to discard it "
        "and send every item again",
    )


async def create_run(
    state: RunState,
    queue: ChunkQueue,
    *,
    pipeline_text: str,
    pipeline_file: str,
    mode: str,
    chunks: list[str],
) -> None:
    meta = {
        "pipeline": pipeline_text,
        "file": pipeline_file,
        "mode": mode,
        "created_at": str(time.time()),
    }
    await state.create(meta, chunks)
    for chunk in range(len(chunks)):
        await queue.enqueue(state.run_id, chunk, 0)


async def forget_inputs(state: RunState, chunks: int) -> None:
    """A finished run keeps only its meta (what refuses a second run over it)."""
    names = [state.owners, state.attempts, state.done, state.results]
    for chunk in range(chunks):
        names += [state.input_key(chunk), keys.chunk_journal(state.run_id, chunk)]
    async with state.redis.pipeline(transaction=True) as pipe:
        pipe.delete(*names)
        pipe.hdel(state.meta, "pipeline")
        pipe.hset(state.meta, "finished_at", str(time.time()))
        pipe.srem(keys.RUNS, state.run_id)
        await pipe.execute()


async def cancel(state: RunState) -> None:
    """No chunk starts any more (running ones finish); ``--resume`` lifts it."""
    await state.redis.hset(state.meta, "cancelled", "1")  # type: ignore[misc]


async def resume(state: RunState, queue: ChunkQueue) -> None:
    await state.redis.hdel(state.meta, "cancelled")  # type: ignore[misc]
    await state.redis.sadd(keys.RUNS, state.run_id)  # type: ignore[misc]
    await state.ensure_queued(queue.enqueue)


async def collect(
    state: RunState,
    queue: ChunkQueue,
    ordered: Ordered,
    total_chunks: int,
    *,
    on_written: Callable[[ChunkResult], None],
    stop: asyncio.Event,
    sweep: bool = True,
) -> None:
    """Read results until every chunk is written, a chunk fails, or ``stop`` is set; with
    ``sweep``, also sweep the run (as the workers do: a run of many chunks then moves on
    as soon as one of them notices a vanished worker)."""
    after = "0"
    last_sweep = 0.0
    redis_lost: float | None = None
    while ordered.next_chunk < total_chunks and not stop.is_set():
        try:
            after, results = await state.read_results(after, block_ms=500)
            if sweep and time.monotonic() - last_sweep > SWEEP_SECONDS:
                last_sweep = time.monotonic()
                await state.sweep(queue.enqueue)
        except RedisError:
            # A restart of Redis (its append-only file keeps the run): wait for it.
            redis_lost = redis_lost or time.monotonic()
            if time.monotonic() - redis_lost > REDIS_WAIT_SECONDS:
                raise
            await asyncio.sleep(0.5)
            continue
        redis_lost = None
        for result in results:
            for written in ordered.add(result):
                on_written(written)
        if ordered.collected.error is not None or ordered.collected.stopped is not None:
            return


async def settle(state: RunState, ordered: Ordered) -> None:
    """After a failure: let the chunks being run end, and count what they claimed."""
    deadline = time.monotonic() + SETTLE_SECONDS
    after = "0"
    seen: set[int] = set()
    while time.monotonic() < deadline:
        owners = await state.redis.hlen(state.owners)  # type: ignore[misc]
        after, results = await state.read_results(after, block_ms=200)
        for result in results:
            if result.chunk in seen:
                continue
            seen.add(result.chunk)
            if result.chunk >= ordered.next_chunk:
                ordered.collected.claimed += int(result.payload.get("claimed", 0))
                if result.kind == "error" and "claimed" not in result.payload:
                    ordered.collected.claims_unknown = True
        if not owners and not results:
            return
    ordered.collected.claims_unknown = True
