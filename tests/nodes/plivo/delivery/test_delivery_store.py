"""The delivery store: idempotent, forward-only, in the state directory, owner-only."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from plivo_node.core.errors import ConfigurationError
from plivo_node.nodes.plivo.delivery import DeliveryStore, record_status
from plivo_node.nodes.plivo.delivery.store import STORE_FILE

UUID = "5b40a428-bfc7-4daf-9d06-726c558bf3b8"


def callback(status: str, sequence: int, **extra: str) -> dict[str, str]:
    return {
        "MessageUUID": UUID,
        "Status": status,
        "Sequence": str(sequence),
        "To": "14155550101",
        "From": "14155550100",
        "Units": "1",
        "TotalRate": "0.00250",
        "TotalAmount": "0.00250",
        **extra,
    }


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PLIVO_NODE_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def known(state_dir: Path) -> dict[str, tuple[str, str | None]]:
    with DeliveryStore(state_dir / STORE_FILE) as store:
        return {uuid: (s.status, s.error_code) for uuid, s in store.lookup([UUID]).items()}


def test_record_status_keeps_the_latest_state_in_the_state_dir(state_dir: Path) -> None:
    record_status(callback("queued", 1))
    assert known(state_dir) == {UUID: ("queued", None)}
    record_status(callback("sent", 2))
    record_status(callback("delivered", 3, ErrorCode="000"))
    assert known(state_dir) == {UUID: ("delivered", "000")}
    mode = stat.S_IMODE((state_dir / STORE_FILE).stat().st_mode)
    assert mode == 0o600


def test_a_late_sent_never_regresses_a_final_state(state_dir: Path) -> None:
    record_status(callback("undelivered", 3, ErrorCode="30"))
    record_status(callback("queued", 1))
    record_status(callback("sent", 2))
    assert known(state_dir) == {UUID: ("undelivered", "30")}


def test_a_repeated_callback_changes_nothing(state_dir: Path) -> None:
    record_status(callback("failed", 2, ErrorCode="200"))
    with DeliveryStore(state_dir / STORE_FILE) as store:
        before = store.lookup([UUID])[UUID]
    record_status(callback("failed", 2, ErrorCode="200"))
    with DeliveryStore(state_dir / STORE_FILE) as store:
        after = store.lookup([UUID])[UUID]
    assert after == before
    assert after.final
    assert after.source == "callback"


def test_api_records_and_callbacks_share_one_row(state_dir: Path) -> None:
    with DeliveryStore(state_dir / STORE_FILE) as store:
        store.record_api({"message_uuid": UUID, "message_state": "sent", "error_code": None})
        store.record_api({"api_id": "not a message record"})
    record_status(callback("delivered", 3, ErrorCode="0"))
    with DeliveryStore(state_dir / STORE_FILE) as store:
        [status] = store.lookup([UUID, "unknown"]).values()
    assert (status.status, status.error_code, status.to_number) == (
        "delivered",
        "000",
        "14155550101",
    )


@pytest.mark.parametrize("missing", ["MessageUUID", "Status"])
def test_a_callback_without_its_keys_is_refused(state_dir: Path, missing: str) -> None:
    params = callback("sent", 2)
    del params[missing]
    with pytest.raises(ValueError, match=missing):
        record_status(params)


def test_a_file_that_is_not_a_store_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / STORE_FILE
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(ConfigurationError, match="not a plivo-node delivery store"):
        DeliveryStore(path)


def test_record_status_is_safe_from_several_threads(state_dir: Path) -> None:
    import threading  # noqa: PLC0415

    uuids = [f"{n:08d}-0000-4000-8000-000000000000" for n in range(40)]

    def record(statuses: tuple[str, ...]) -> None:
        for uuid in uuids:
            for sequence, status in enumerate(statuses, start=1):
                record_status({"MessageUUID": uuid, "Status": status, "Sequence": str(sequence)})

    threads = [
        threading.Thread(target=record, args=(("queued", "sent", "delivered"),)),
        threading.Thread(target=record, args=(("queued",),)),
        threading.Thread(target=record, args=(("sent",),)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with DeliveryStore(state_dir / STORE_FILE) as store:
        found = store.lookup(uuids)
    assert {status.status for status in found.values()} == {"delivered"}
    assert len(found) == len(uuids)
