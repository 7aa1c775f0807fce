"""The description cache: a hit equals a full load; any doubt is a miss, never a failure."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from plivo_node.core.errors import DescriptionError
from plivo_node.description import NodeDescription, loader, schema
from plivo_node.description import cache as description_cache
from plivo_node.nodes.plivo.description import credential_path, manifest_path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "manifests"


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    directory = tmp_path / "cache"
    monkeypatch.setenv(description_cache.CACHE_DIR_VARIABLE, str(directory))
    # The loader also keeps each file once per process: each load here must reach the cache.
    loader._cached_node_description.cache_clear()
    loader._cached_credential_type.cache_clear()
    yield directory
    loader._cached_node_description.cache_clear()
    loader._cached_credential_type.cache_clear()


@pytest.fixture
def full_loads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Records every load that parses and checks a file (a cache miss)."""
    calls: list[Path] = []
    real = loader._load_and_check

    def counting(path: Path, *args: object, **kwargs: object) -> object:
        calls.append(path)
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(loader, "_load_and_check", counting)
    return calls


def _load(path: Path) -> NodeDescription:
    loader._cached_node_description.cache_clear()
    return loader.load_node_description(path)


def _manifest_copy(tmp_path: Path) -> Path:
    path = tmp_path / "node.yaml"
    shutil.copyfile(FIXTURES / "good.yaml", path)
    return path


def _entries(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / "descriptions").iterdir())


def test_second_load_is_a_hit_equal_to_the_full_load(
    tmp_path: Path, cache_dir: Path, full_loads: list[Path]
) -> None:
    path = _manifest_copy(tmp_path)
    first = _load(path)
    second = _load(path)
    assert full_loads == [path.resolve()]
    assert second == first
    assert second.to_n8n_json() == first.to_n8n_json()
    assert len(_entries(cache_dir)) == 1


def test_the_bundled_node_and_credential_type_round_trip(cache_dir: Path) -> None:
    loaded = loader.load_node_description(manifest_path())
    credential = loader.load_credential_type(credential_path())
    loader._cached_node_description.cache_clear()
    loader._cached_credential_type.cache_clear()
    assert loader.load_node_description(manifest_path()) == loaded
    assert loader.load_credential_type(credential_path()) == credential
    assert len(_entries(cache_dir)) == 2


def test_a_changed_file_is_loaded_and_checked_again(
    tmp_path: Path, cache_dir: Path, full_loads: list[Path]
) -> None:
    path = _manifest_copy(tmp_path)
    first = _load(path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(first.displayName, "Renamed Node", 1), encoding="utf-8")
    assert _load(path).displayName == "Renamed Node"
    assert len(full_loads) == 2
    assert len(_entries(cache_dir)) == 1  # the entry is replaced, not added to


def test_a_file_made_invalid_is_reported_not_taken_from_the_cache(
    tmp_path: Path, cache_dir: Path
) -> None:
    path = _manifest_copy(tmp_path)
    _load(path)
    path.write_text(path.read_text(encoding="utf-8") + "\nunknownKey: 1\n", encoding="utf-8")
    with pytest.raises(DescriptionError, match="unknownKey"):
        _load(path)


def test_a_changed_schema_or_version_is_a_miss(
    tmp_path: Path, cache_dir: Path, full_loads: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _manifest_copy(tmp_path)
    _load(path)
    monkeypatch.setattr(description_cache, "__version__", "999.0")
    _load(path)
    assert len(full_loads) == 2
    key = description_cache.content_key("manifest", [path])
    other = description_cache.content_key("credential", [path])
    assert key is not None
    assert other is not None
    assert key != other


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"not a key\n{}",
        b"\xff\xfe garbage",
        b'KEY\n{"name": ',
        b'KEY\n{"name": "x"}',  # the right key, but not a valid model
        b"KEY\n" + b"[" * 100_000,
    ],
)
def test_a_corrupt_entry_is_a_miss_and_is_rewritten(
    tmp_path: Path, cache_dir: Path, full_loads: list[Path], damage: bytes
) -> None:
    path = _manifest_copy(tmp_path)
    first = _load(path)
    [entry] = _entries(cache_dir)
    key = entry.read_text(encoding="utf-8").partition("\n")[0]
    entry.write_bytes(damage.replace(b"KEY", key.encode()))
    assert _load(path) == first
    assert len(full_loads) == 2
    assert _load(path) == first  # rewritten: a hit again
    assert len(full_loads) == 2


def test_an_unwritable_cache_is_no_cache_and_no_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, full_loads: list[Path]
) -> None:
    # A cache "directory" under a regular file cannot be created, even by root.
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv(description_cache.CACHE_DIR_VARIABLE, str(blocker / "cache"))
    path = _manifest_copy(tmp_path)
    first = _load(path)
    assert _load(path) == first
    assert len(full_loads) == 2


def test_an_entry_that_cannot_be_read_is_a_miss(
    tmp_path: Path, cache_dir: Path, full_loads: list[Path]
) -> None:
    path = _manifest_copy(tmp_path)
    first = _load(path)
    [entry] = _entries(cache_dir)
    entry.unlink()
    entry.mkdir()  # reading a directory fails, whoever runs the test
    assert _load(path) == first
    assert len(full_loads) == 2


def test_the_cache_directory_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(description_cache.CACHE_DIR_VARIABLE, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert description_cache.cache_dir() == tmp_path / "home" / ".cache" / "plivo-node"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert description_cache.cache_dir() == tmp_path / "home" / ".cache" / "plivo-node"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert description_cache.cache_dir() == tmp_path / "xdg" / "plivo-node"
    monkeypatch.setenv(description_cache.CACHE_DIR_VARIABLE, str(tmp_path / "own"))
    assert description_cache.cache_dir() == tmp_path / "own"


def test_concurrent_writers_in_threads_leave_one_whole_entry(
    tmp_path: Path, cache_dir: Path
) -> None:
    path = _manifest_copy(tmp_path)
    loaded = _load(path)
    key = description_cache.content_key("manifest", [path])
    assert key is not None
    shutil.rmtree(cache_dir)
    start = threading.Barrier(8)

    def write() -> None:
        start.wait()
        for _ in range(20):
            description_cache.write_entry(path.resolve(), key, loaded)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [entry.name.startswith(".") for entry in _entries(cache_dir)] == [False]
    assert description_cache.read_entry(NodeDescription, path.resolve(), key) == loaded


def test_concurrent_processes_all_load_and_leave_one_whole_entry(
    tmp_path: Path, cache_dir: Path
) -> None:
    path = _manifest_copy(tmp_path)
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from plivo_node.description import load_node_description\n"
        "print(load_node_description(Path(sys.argv[1])).displayName)\n"
    )
    env = {**os.environ, description_cache.CACHE_DIR_VARIABLE: str(cache_dir)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", probe, str(path)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(6)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0] * 6, outputs
    expected = _load(path).displayName
    assert {out.decode().strip() for out, _ in outputs} == {expected}
    [entry] = _entries(cache_dir)
    key = entry.read_text(encoding="utf-8").partition("\n")[0]
    assert description_cache.read_entry(NodeDescription, path.resolve(), key) == _load(path)


# --- documents that passed a schema (pipelines) ------------------------------------------


@pytest.fixture
def schema_checks(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Records every document really checked against a schema."""
    calls: list[object] = []
    real = schema.validate_against_schema

    def counting(data: object, schema_name: str, source: str) -> list[str]:
        calls.append(data)
        return real(data, schema_name, source)

    monkeypatch.setattr(schema, "validate_against_schema", counting)
    return calls


PIPELINE = {
    "version": 1,
    "steps": [{"name": "a", "node": "plivo", "parameters": {"resource": "sms"}}],
}


def test_a_document_that_passed_is_not_checked_again(
    cache_dir: Path, schema_checks: list[object]
) -> None:
    assert schema.validate_once(PIPELINE, "pipeline", "p.yaml") == []
    assert schema.validate_once(PIPELINE, "pipeline", "p.yaml") == []
    assert len(schema_checks) == 1
    changed = {**PIPELINE, "name": "changed"}
    assert schema.validate_once(changed, "pipeline", "p.yaml") == []
    assert len(schema_checks) == 2


def test_a_document_with_problems_is_checked_and_reported_every_time(
    cache_dir: Path, schema_checks: list[object]
) -> None:
    bad = {**PIPELINE, "version": 2}
    first = schema.validate_once(bad, "pipeline", "p.yaml")
    assert first
    assert schema.validate_once(bad, "pipeline", "p.yaml") == first
    assert len(schema_checks) == 2


@pytest.mark.parametrize("other", ["1", True, 1.0, [1]])
def test_a_value_of_another_type_is_another_document(
    cache_dir: Path, schema_checks: list[object], other: object
) -> None:
    # Equal to 1 for Python (1.0 == 1 == True), but not the same document: checked again.
    valid = {**PIPELINE, "version": 1}
    assert schema.validate_once(valid, "pipeline", "p.yaml") == []
    schema.validate_once({**PIPELINE, "version": other}, "pipeline", "p.yaml")
    assert len(schema_checks) == 2


def test_the_verdict_is_kept_only_in_a_writable_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, schema_checks: list[object]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv(description_cache.CACHE_DIR_VARIABLE, str(blocker / "cache"))
    assert schema.validate_once(PIPELINE, "pipeline", "p.yaml") == []
    assert schema.validate_once(PIPELINE, "pipeline", "p.yaml") == []
    assert len(schema_checks) == 2
