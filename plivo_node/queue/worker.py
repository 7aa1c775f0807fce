"""``plivo-node worker``: runs the chunks of queued runs.

A worker is an arq worker (:mod:`plivo_node.queue.engine`) whose one job is
:meth:`QueueWorker.run_chunk`: take the chunk, run the pipeline's steps over its items with
the engine every run uses (:func:`plivo_node.run.runner.execute`), its journal the chunk's
shared journal (:class:`plivo_node.queue.journal.ChunkJournal`) and its clients' limits the
account's shared ones (:class:`plivo_node.queue.limits.AccountLimits`), then publish the
chunk's output lines and counts for the run to write.

Beside the consume loop, a worker keeps its liveness key fresh (a worker whose key expired is
given up for dead by the sweep, which it also runs), and optionally serves ``/healthz`` and
``/metrics``. SIGTERM or SIGINT drains: no new chunk is taken, the running ones stop at the
next item (requests being written finish and are recorded), and each gives its chunk back for
another worker to finish; a second signal stops at once (the sweep turns what was in flight
into unknown outcomes).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import os
import signal
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from plivo_node.core.api import ApiClient
from plivo_node.core.errors import PlivoNodeError
from plivo_node.core.node import RunTally
from plivo_node.queue import keys
from plivo_node.queue.chunks import RunState
from plivo_node.queue.clients import open_shared_clients
from plivo_node.queue.engine import ChunkQueue, ConsumingWorker, chunk_worker
from plivo_node.queue.journal import ChunkJournal
from plivo_node.queue.limits import AccountLimits
from plivo_node.queue.metered import MeteredClient
from plivo_node.queue.metrics import WorkerMetrics
from plivo_node.queue.redis_url import QueueAddress, check_server, connect
from plivo_node.queue.submit import chunk_items
from plivo_node.run.engine import ItemResult, RunStop, Step
from plivo_node.run.graph import Graph

ALIVE_SECONDS = 6.0  # a worker whose liveness key is this old is given up for dead
REFRESH_SECONDS = 1.0
SWEEP_SECONDS = 2.0
# How long the health endpoint accepts without a turn of the consume loop or an item finished.
STALL_SECONDS = 15.0
# How long a worker waits for Redis to come back before giving up a chunk's hand-over.
REDIS_WAIT_SECONDS = 300.0
REDIS_RETRY_SECONDS = 1.0

T = TypeVar("T")


@dataclass
class LoadedRun:
    """What a worker keeps of a run between its chunks: steps, graph and open clients."""

    steps: list[Step]
    graph: Graph
    clients: dict[str, ApiClient]
    never_repeat_lanes: frozenset[int]
    stack: contextlib.AsyncExitStack
    limits: list[AccountLimits] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)  # the account keys it sends for
    # Each node type's tally maker: a chunk's counts go back to the run, which merges them.
    tallies: dict[str, Callable[[], RunTally]] = field(default_factory=dict)
    # Each node type's run scope (the suppression list), opened around every chunk: a scope
    # lives in one task's context, and chunks run in tasks of their own.
    scopes: list[Callable[[], contextlib.AbstractContextManager[object]]] = field(
        default_factory=list
    )


class QueueWorker:
    def __init__(
        self,
        address: QueueAddress,
        *,
        concurrency: int | None,
        chunks_at_once: int = 2,
        mode: str = "auto",
    ) -> None:
        self.address = address
        self.concurrency = concurrency
        self.chunks_at_once = chunks_at_once
        self.mode = mode
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.metrics = WorkerMetrics()
        self._runs: dict[str, LoadedRun] = {}
        self._loading: dict[str, asyncio.Lock] = {}
        self._running: dict[tuple[str, int], RunStop] = {}
        self._redis: aioredis.Redis | None = None
        self._queue: ChunkQueue | None = None
        self._arq: ConsumingWorker | None = None
        self._draining = False
        self.last_alive = 0.0  # when the liveness key was last written (Redis answered)
        self.last_progress = 0.0  # when a chunk's item last finished

    # --- the job ------------------------------------------------------------------------

    async def run_chunk(self, ctx: dict[Any, Any], run_id: str, chunk: int, attempt: int) -> str:
        del ctx  # arq's context: everything this job needs is on self
        redis, queue = self._redis, self._queue
        assert redis is not None
        assert queue is not None
        state = RunState(redis, run_id)
        if self._draining:
            return "draining"
        # The holder of this attempt: the fencing token every claim, outcome and result is
        # checked against. Per attempt, not per worker: should the sweep give this worker up
        # (a stall longer than its liveness) and the chunk come back to it, what its first
        # attempt still tries to claim is refused.
        holder = f"{self.worker_id}#{attempt}"
        # Every step of the chunk's protocol below waits for Redis to answer (a restart)
        # rather than failing the job: a take or a finish that raised would leave the chunk
        # owned by a worker that lives on and runs it no more, which no sweep hands on (its
        # owner is alive), and arq keeps the failed job's in-progress mark for JOB_TIMEOUT,
        # so the run would wait for ever. Each step is safe to repeat.
        patient = self._patiently
        taken = await patient(lambda: state.take(chunk, attempt, holder))
        if taken != "taken":
            return taken

        def finish(kind: str, payload: Mapping[str, Any]) -> Awaitable[bool]:
            return patient(lambda: state.finish(chunk, holder, attempt, kind, payload))

        def give_back() -> Awaitable[None]:
            return patient(lambda: state.release(chunk, holder, queue.enqueue))

        if self._draining:  # the drain began while the chunk was being taken: give it back
            await give_back()
            return "released"
        stop = RunStop()
        self._running[(run_id, chunk)] = stop
        try:
            try:
                run = await self._load(state)
            except PlivoNodeError as exc:  # before any item of the chunk: nothing was claimed
                await finish("error", {"message": str(exc), "claimed": 0})
                return "error"
            payload = await self._execute(state, run, chunk, holder, stop)
        except PlivoNodeError as exc:
            await finish("error", {"message": str(exc)})
            return "error"
        except RedisError:
            # Redis went away mid-chunk (a restart): what was claimed stays claimed; once
            # Redis is back the chunk goes to its next attempt, which sends the rest.
            await give_back()
            return "released"
        except Exception as exc:  # a bug: reported to the run, which stops  # noqa: BLE001
            message = f"worker {self.worker_id} failed on this chunk: {type(exc).__name__}: {exc}"
            await finish("error", {"message": message})
            return "error"
        finally:
            del self._running[(run_id, chunk)]
        if payload is None:  # drained part-way: another worker finishes it from the journal
            await give_back()
            return "released"
        # Repeated after a lost answer, a finish that was done finds the chunk no longer
        # owned and returns False: its result is published all the same.
        if await finish("result", payload):
            self.metrics.chunks += 1
            return "finished"
        return "lost"  # the sweep gave this worker up: its result is another's to publish

    async def _patiently(self, call: Callable[[], Awaitable[T]]) -> T:
        """``call()``, again every second while Redis does not answer, for at most
        REDIS_WAIT_SECONDS."""
        deadline = time.monotonic() + REDIS_WAIT_SECONDS
        while True:
            try:
                return await call()
            except RedisError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(REDIS_RETRY_SECONDS)

    async def _consume(self) -> None:
        """arq's consume loop, started again when Redis drops (a restart, a failover)."""
        assert self._arq is not None
        while True:
            try:
                await self._arq.main()
            except RedisError as exc:
                print(
                    f"plivo-node: worker {self.worker_id}: Redis unavailable ({exc}); retrying",
                    file=sys.stderr,
                    flush=True,
                )
                await asyncio.sleep(1.0)
            else:
                return

    async def _execute(
        self, state: RunState, run: LoadedRun, chunk: int, holder: str, stop: RunStop
    ) -> dict[str, Any] | None:
        from plivo_node.run.runner import execute  # noqa: PLC0415

        text = await state.redis.get(state.input_key(chunk))
        items = chunk_items((text or b"").decode())
        journal = await ChunkJournal.load(state.redis, state.run_id, chunk, holder)
        lines: list[str] = []
        metrics = self.metrics

        def on_result(lane: int, result: ItemResult) -> None:
            self.last_progress = time.monotonic()
            if result.error is not None:
                metrics.failed[result.error.code] += 1
            elif lane in run.never_repeat_lanes:
                metrics.sent += 1

        tallies = {name: make() for name, make in run.tallies.items()}
        try:
            with contextlib.ExitStack() as scopes:
                for open_scope in run.scopes:
                    scopes.enter_context(open_scope())
                summary = await execute(
                    run.steps,
                    items,
                    run.clients,
                    lines.append,
                    graph=run.graph,
                    journal=journal,
                    tallies=tallies,
                    on_result=on_result,
                    stop=stop,
                )
        finally:
            await journal.flush()
            metrics.rejected_429 = sum(
                limiter.rejections for limits in run.limits for limiter in limits.limiters
            )
        if summary.interrupted:
            return None
        return {
            "lines": lines,
            "steps": [[s.name, s.items, s.succeeded, s.failed] for s in summary.steps],
            "by_code": dict(summary.by_code),
            "outputs": summary.outputs,
            "claimed": journal.claimed,
            "tallies": {name: tally.counts() for name, tally in tallies.items()},
            "stopped": str(summary.stopped) if summary.stopped is not None else None,
        }

    async def _load(self, state: RunState) -> LoadedRun:
        """The run's pipeline, opened once per pipeline (its text, file name and mode), not
        once per run: serve --queue queues a run per event, and each would otherwise open
        its clients and check its credentials again."""
        meta: dict[bytes, bytes] = await state.redis.hgetall(state.meta)  # type: ignore[misc]
        if b"pipeline" not in meta:
            raise PlivoNodeError(f"the queued run {state.run_id} is gone from the queue")
        digest = hashlib.sha256()
        for name in (b"file", b"pipeline", b"mode"):
            digest.update(meta.get(name, b"") + b"\0")
        key = digest.hexdigest()
        async with self._loading.setdefault(key, asyncio.Lock()):
            if key not in self._runs:
                self._runs[key] = await self._open_run(meta)
        run = self._runs[key]
        # Which accounts the run sends for (digests, never credentials): queue status groups by it.
        await state.redis.hset(state.meta, "accounts", ",".join(run.accounts))  # type: ignore[misc]
        return run

    async def _open_run(self, meta: Mapping[bytes, bytes]) -> LoadedRun:
        from plivo_node.commands.console import load_pipeline  # noqa: PLC0415
        from plivo_node.commands.run_setup import run_scopes  # noqa: PLC0415
        from plivo_node.core.node import RunSettings  # noqa: PLC0415
        from plivo_node.run.pipeline import build_steps  # noqa: PLC0415
        from plivo_node.run.registry import NodeRegistry  # noqa: PLC0415

        registry = NodeRegistry()
        with tempfile.TemporaryDirectory(prefix="plivo-node-run-") as folder:
            path = Path(folder) / meta[b"file"].decode()
            path.write_bytes(meta[b"pipeline"])
            spec = load_pipeline(path, registry)
        if self.concurrency is not None:
            settings = dataclasses.replace(spec.settings, concurrency=self.concurrency)
            spec = dataclasses.replace(spec, settings=settings)
        steps = build_steps(spec, registry)
        if self.concurrency is not None:
            steps = [dataclasses.replace(step, concurrency=self.concurrency) for step in steps]
        nodes = [registry.get(name) for name in dict.fromkeys(step.node for step in steps)]
        nodes = [node for node in nodes if node.type.client is not None]
        stack = contextlib.AsyncExitStack()
        await stack.__aenter__()
        run = LoadedRun(
            steps=steps,
            graph=spec.graph,
            clients={},
            never_repeat_lanes=frozenset(
                lane.number
                for lane in spec.graph.lanes
                if next(s for s in steps if s.name == lane.step).never_repeat
            ),
            stack=stack,
        )
        try:
            assert self._redis is not None
            opened = await open_shared_clients(
                stack,
                self._redis,
                spec,
                steps,
                nodes,
                mode=meta.get(b"mode", b"auto").decode(),
                owner=self.worker_id,
            )
            for shared in opened:
                target = shared.target
                if not target.embedded_sandbox:
                    await target.factory.check(shared.client, target.fields)
                run.clients[target.node.name] = MeteredClient(shared.client, self.metrics)
                run.accounts.append(shared.account)
                run.limits.append(shared.limits)
            run.tallies = {
                name: node.type.tally
                for name in dict.fromkeys(step.node for step in steps)
                if (node := registry.get(name)).type.tally is not None
            }
            # Every chunk's sends are screened against the suppression list, as in one process.
            run_settings = RunSettings(spec.settings.suppression, timezone=spec.settings.timezone)
            run.scopes = list(run_scopes(registry, steps, run_settings))
        except BaseException:
            await stack.aclose()
            raise
        return run

    # --- the process --------------------------------------------------------------------

    async def serve(self, *, health_port: int | None = None) -> int:
        redis = connect(self.address)
        self._redis = redis
        await check_server(redis, self.address)
        self._queue = await ChunkQueue.open(self.address)
        self._arq = chunk_worker(self.address, self.run_chunk, max_jobs=self.chunks_at_once)
        await self._refresh_alive()
        await redis.hset(keys.WORKERS, self.worker_id, str(time.time()))  # type: ignore[misc]
        loop = asyncio.get_running_loop()
        signals: list[int] = []
        drained = asyncio.Event()

        def on_signal(signum: int) -> None:
            signals.append(signum)
            if len(signals) == 1:
                self._drain()
                drained.set()
            else:
                for stop in self._running.values():
                    stop.force()

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, on_signal, signum)
        consume = asyncio.ensure_future(self._consume())
        background = [
            asyncio.ensure_future(self._keep_alive()),
            asyncio.ensure_future(self._keep_sweeping()),
        ]
        async with self._health_server(health_port):
            print(
                f"plivo-node: worker {self.worker_id} consuming {self.address.shown}",
                file=sys.stderr,
                flush=True,
            )
            waiter = asyncio.ensure_future(drained.wait())
            await asyncio.wait([consume, waiter], return_when=asyncio.FIRST_COMPLETED)
            if consume.done():
                consume.result()  # the consume loop failed: raise why
            # Drain: no new chunk is picked; running ones stop at their next item.
            await asyncio.gather(*self._arq.tasks.values(), return_exceptions=True)
            consume.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await consume
        for task in background:
            task.cancel()
        await self._close()
        print(f"plivo-node: worker {self.worker_id} drained and stopped", file=sys.stderr)
        return 128 + signals[0] if signals else 0

    def _drain(self) -> None:
        self._draining = True
        if self._arq is not None:
            self._arq.allow_pick_jobs = False
        for stop in self._running.values():
            stop.request()

    async def _close(self) -> None:
        for run in self._runs.values():
            await run.stack.aclose()
        if self._arq is not None:
            await self._arq.close()
        if self._queue is not None:
            await self._queue.close()
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.delete(keys.worker_alive(self.worker_id))
                await self._redis.hdel(keys.WORKERS, self.worker_id)  # type: ignore[misc]
            await self._redis.aclose()

    async def _refresh_alive(self) -> None:
        assert self._redis is not None
        await self._redis.set(
            keys.worker_alive(self.worker_id), "1", px=round(ALIVE_SECONDS * 1000)
        )
        self.last_alive = time.monotonic()

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            with contextlib.suppress(Exception):  # Redis away: /healthz turns red
                await self._refresh_alive()

    async def _keep_sweeping(self) -> None:
        assert self._redis is not None
        assert self._queue is not None
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            with contextlib.suppress(Exception):  # Redis away: the next sweep tries again
                # One worker sweeps per interval, whichever asks first: a sweep costs a few
                # commands per queued run (serve --queue queues a run per event), which every
                # worker repeating would multiply by the number of workers.
                turn = await self._redis.set(
                    keys.SWEEPER, self.worker_id, nx=True, px=round(SWEEP_SECONDS * 900)
                )
                if not turn:
                    continue
                for raw in await self._redis.smembers(keys.RUNS):  # type: ignore[misc]
                    await RunState(self._redis, raw.decode()).sweep(self._queue.enqueue)

    # --- health and metrics -------------------------------------------------------------

    def health(self) -> tuple[bool, str]:
        """Healthy while Redis answers and the consume loop turns (or chunks progress)."""
        now = time.monotonic()
        poll = self._arq.last_poll if self._arq is not None else 0.0
        if now - self.last_alive > ALIVE_SECONDS:
            return False, f"no answer from Redis for {now - self.last_alive:.0f} s"
        if now - max(poll, self.last_progress) > STALL_SECONDS:
            return False, f"the consume loop has not turned for {now - poll:.0f} s"
        if self._draining:
            return False, "draining"
        return True, "consuming"

    async def metrics_text(self) -> str:
        assert self._queue is not None
        return self.metrics.render(
            queue_depth=await self._queue.depth(), oldest_wait=await self._queue.oldest_wait()
        )

    @contextlib.asynccontextmanager
    async def _health_server(self, port: int | None) -> AsyncIterator[None]:
        if port is None:
            yield
            return
        from aiohttp import web  # noqa: PLC0415

        async def healthz(_request: web.Request) -> web.Response:
            ok, why = self.health()
            body = json.dumps({"ok": ok, "worker": self.worker_id, "status": why})
            return web.Response(
                status=200 if ok else 503, text=body, content_type="application/json"
            )

        async def metrics(_request: web.Request) -> web.Response:
            return web.Response(text=await self.metrics_text(), content_type="text/plain")

        app = web.Application()
        app.router.add_get("/healthz", healthz)
        app.router.add_get("/metrics", metrics)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        try:
            yield
        finally:
            await runner.cleanup()
