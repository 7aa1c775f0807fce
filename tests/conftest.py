"""Shared test setup: every test starts with no registered secrets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from plivo_node.redaction import forget_secrets


@pytest.fixture(autouse=True)
def _no_secrets_between_tests() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()
