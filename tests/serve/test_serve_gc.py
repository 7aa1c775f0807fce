"""serve settles the garbage collector before it listens: start-up's objects frozen, young
collections less frequent (bench/serve_bench.py measures the pauses this saves)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from plivo_node.commands import serve


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_gc")
def test_start_up_objects_are_frozen_and_young_collections_come_less_often() -> None:
    gc.unfreeze()
    kept = gc.get_threshold()
    serve._settle_garbage_collector()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (serve.GC_YOUNG_THRESHOLD, *kept[1:])
    assert kept[0] < serve.GC_YOUNG_THRESHOLD
