"""An API client that times each write (send latency) and counts 429 answers."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from plivo_node.core.api import ApiClient, ApiResponse, HttpMethod, UploadFile
from plivo_node.queue.metrics import WorkerMetrics


class MeteredClient:
    """Wraps a run's client; everything else passes through unchanged."""

    def __init__(self, client: ApiClient, metrics: WorkerMetrics) -> None:
        self._client = client
        self._metrics = metrics

    async def request(
        self,
        method: HttpMethod,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        files: Sequence[UploadFile] | None = None,
    ) -> ApiResponse:
        if method == "GET":
            return await self._client.request(method, path, query=query, body=body, files=files)
        started = time.monotonic()
        try:
            return await self._client.request(method, path, query=query, body=body, files=files)
        finally:
            self._metrics.observe_latency(time.monotonic() - started)
