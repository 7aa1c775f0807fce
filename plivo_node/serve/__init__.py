"""``plivo-node serve``: webhook triggers, a durable event queue, and the runs they start.

:mod:`.queue` commits each accepted request before it is acknowledged; :mod:`.dispatch` runs
queued events concurrently, in order per order key; :mod:`.pipelines` runs one event through
its pipeline with the batch runner; :mod:`.app` is the HTTP side; :mod:`.schedule` turns a
schedule trigger's ticks into queued events.
"""
