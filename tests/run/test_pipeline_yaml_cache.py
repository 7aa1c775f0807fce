"""Parsed pipeline YAML in the cache: a hit equals a parse; a pipeline that may hold a secret,
or data JSON cannot give back exactly, is never kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from plivo_node.description import cache, yaml_source
from plivo_node.run.pipeline import parse_pipeline

STEP = """
steps:
  - name: Send
    node: plivo
    parameters:
      resource: sms
      operation: send
      from: "+14155550100"
      to: "={{ $json.phone }}"
      message: "=Hi {{ $json.name }}"
"""
TOKEN = "Zm9vYmFyYmF6cXV4c2VjcmV0dG9rZW4xMjM0NTY3"


@pytest.fixture
def parses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A private cache, and every text really parsed."""
    monkeypatch.setenv(cache.CACHE_DIR_VARIABLE, str(tmp_path / "cache"))
    calls: list[str] = []
    real = yaml_source.read_yaml_text

    def counting(text: str) -> tuple[object, list[str]]:
        if text.startswith("version"):  # a pipeline (the node's description is YAML too)
            calls.append(text)
        return real(text)

    monkeypatch.setattr(yaml_source, "read_yaml_text", counting)
    return calls


def _parse_twice(text: str) -> None:
    first = parse_pipeline(text, source="p.yaml", base_dir=Path())
    second = parse_pipeline(text, source="p.yaml", base_dir=Path())
    assert second == first


def _cache_text(tmp_path: Path) -> str:
    return "".join(path.read_text() for path in (tmp_path / "cache").rglob("*") if path.is_file())


def test_a_pipeline_read_again_is_not_parsed_again(parses: list[str]) -> None:
    text = f"version: 1\nname: n\nsettings: {{timeoutSeconds: 2.5}}\n{STEP}"
    _parse_twice(text)
    assert parses == [text]
    changed = text.replace("2.5", "3")
    spec = parse_pipeline(changed, source="p.yaml", base_dir=Path())
    assert parses == [text, changed]
    assert spec.settings.timeout_seconds == 3


def test_credentials_given_as_environment_references_are_kept(parses: list[str]) -> None:
    block = "credentials:\n  plivoApi: {authId: '${PLIVO_AUTH_ID}', authToken: '${TOKEN_VAR}'}\n"
    text = f"version: 1\n{block}{STEP}"
    _parse_twice(text)
    assert parses == [text]


@pytest.mark.parametrize(
    "secret_part",
    [
        f"credentials:\n  plivoApi: {{authId: MAXXXXXXXXXXXXXXXXX1, authToken: {TOKEN}}}\n",
        # A reference with text around it is not a reference alone: kept out too.
        (
            "credentials:\n  plivoApi: {authId: '${PLIVO_AUTH_ID}', "
            f"authToken: 'x${{T}}{TOKEN}'}}\n"
        ),
    ],
)
def test_a_pipeline_holding_a_secret_is_never_written_to_the_cache(
    parses: list[str], secret_part: str, tmp_path: Path
) -> None:
    text = f"version: 1\n{secret_part}{STEP}"
    _parse_twice(text)
    assert parses == [text, text]
    assert TOKEN not in _cache_text(tmp_path)


def test_a_password_parameter_is_never_written_to_the_cache(
    parses: list[str], tmp_path: Path
) -> None:
    text = f"""version: 1
steps:
  - name: Create endpoint
    node: plivo
    parameters:
      resource: endpoint
      operation: create
      username: alice
      password: "{TOKEN}"
      alias: Alice
"""
    _parse_twice(text)
    assert parses == [text, text]
    assert TOKEN not in _cache_text(tmp_path)


def test_data_json_cannot_give_back_exactly_is_parsed_every_time(parses: list[str]) -> None:
    # YAML 1.1 reads the key `on` as true: JSON would give it back as the text "true".
    text = f"version: 1\nname: n\n{STEP}      additionalFields: {{on: 1}}\n"
    _parse_twice(text)  # its parameters are the steps' check, not the parser's
    assert parses == [text, text]


def test_problems_are_found_by_parsing_every_time(parses: list[str]) -> None:
    text = "version: 1\nversion: 2\n"
    for _ in range(2):
        with pytest.raises(Exception, match="duplicate key 'version'"):
            parse_pipeline(text, source="p.yaml", base_dir=Path())
    assert parses == [text, text]
