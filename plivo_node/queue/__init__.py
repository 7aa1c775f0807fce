"""Queue mode: a run's items executed by workers that share one Redis.

The engine is arq (jobs on Redis, asyncio workers), wrapped in :mod:`plivo_node.queue.engine`
so nothing else imports it. Everything that makes queue mode safe is ours and lives in Redis
beside arq's jobs, each piece another implementation of an interface the one-process run
already uses: the shared rate window, 429 pause and pacing (:mod:`plivo_node.queue.limits`,
behind :class:`plivo_node.http.limiter.SharedLimits`), the shared send journal with atomic
claims (:mod:`plivo_node.queue.journal`, a :class:`plivo_node.run.journal.ItemJournal`), and
the sweep that hands a vanished worker's chunk on (:mod:`plivo_node.queue.chunks`).
"""
