"""Pipeline files: parsing, validation with located problems, and building runnable steps."""

from __future__ import annotations

from pathlib import Path

import pytest

from plivo_node.core.errors import ConfigurationError, PipelineError
from plivo_node.run.pipeline import build_steps, load_pipeline, parse_pipeline

BASE = Path("/pipelines")


def parse(text: str):
    return parse_pipeline(text, source="p.yaml", base_dir=BASE)


def parse_and_build(text: str) -> None:
    build_steps(parse(text))


def problems_of(text: str, *, build: bool = False) -> list[str]:
    with pytest.raises(PipelineError) as caught:
        (parse_and_build if build else parse)(text)
    assert "Traceback" not in str(caught.value)
    return caught.value.problems


SMS_STEP = "{resource: sms, operation: send, from: '+14155550100', to: '+14155550101', message: hi}"


def test_a_full_pipeline_becomes_a_spec() -> None:
    spec = parse(
        f"""
version: 1
input: {{path: data/contacts.json, format: json}}
output: ../out/result.jsonl
settings: {{concurrency: 10, rateLimit: {{requests: 10, perSeconds: 1}}, messagesPerSecond: 2}}
steps:
  - {{name: Send, node: plivo, bulk: true, onError: continueErrorOutput, parameters: {SMS_STEP}}}
"""
    )
    assert spec.input_path == BASE / "data/contacts.json"
    assert spec.input_format == "json"
    assert spec.output_path == Path("/out/result.jsonl")
    assert spec.settings.concurrency == 10
    assert spec.settings.rate_limit == (10, 1.0)
    assert spec.settings.messages_per_second == 2
    (step,) = build_steps(spec)
    assert step.bulk
    assert step.concurrency == 10
    assert step.on_error.value == "continueErrorOutput"


def test_defaults() -> None:
    spec = parse(f"version: 1\nsteps:\n  - {{name: S, node: plivo, parameters: {SMS_STEP}}}\n")
    assert spec.settings.rate_limit is None  # each node's service's documented rate
    assert spec.input_path is None
    assert spec.output_path is None
    assert (
        parse(
            f"version: 1\nsettings: {{rateLimit: false}}\nsteps:\n"
            f"  - {{name: S, node: plivo, parameters: {SMS_STEP}}}\n"
        ).settings.rate_limit
        is False
    )


def test_duplicate_yaml_keys_are_reported_with_their_line() -> None:
    problems = problems_of("version: 1\nversion: 1\nsteps: []\n")
    assert problems == [
        (
            "line 2, column 1: duplicate key 'version' (a YAML mapping keeps one value per key; "
            "remove or rename one)"
        )
    ]


def test_step_names_must_be_unique() -> None:
    step = f"  - {{name: Send, node: plivo, parameters: {SMS_STEP}}}\n"
    problems = problems_of("version: 1\nsteps:\n" + step + step)
    assert problems == ["steps: step names must be unique; repeated: Send"]


def test_every_step_problem_is_reported_with_its_step() -> None:
    problems = problems_of(
        """
version: 1
steps:
  - {name: First, node: plivo, parameters: {resource: sms, operation: shout}}
  - name: Second
    node: plivo
    bulk: true
    parameters: {resource: pricing, operation: get, country_iso: US}
""",
        build=True,
    )
    assert len(problems) == 2
    assert problems[0].startswith("step 'First': ")
    assert "shout" in problems[0]
    assert problems[1] == (
        "step 'Second': bulk: true is supported for sms.send only, not pricing.get; remove it"
    )


# --- paths and file encoding ---------------------------------------------------------------

ONE_STEP = f"steps: [{{name: s, node: plivo, parameters: {SMS_STEP}}}]\n"


@pytest.mark.parametrize("key", ["input", "output"])
def test_a_path_under_an_unknown_user_is_a_clear_error(key: str) -> None:
    text = f"version: 1\n{key}: ~no-such-user-x9/contacts.csv\n{ONE_STEP}"
    with pytest.raises(ConfigurationError, match="there is no user 'no-such-user-x9'"):
        parse(text)


def test_a_path_with_a_nul_character_is_a_clear_error() -> None:
    text = f'version: 1\ninput: "a\\0b.csv"\n{ONE_STEP}'
    with pytest.raises(ConfigurationError, match="contains a NUL character"):
        parse(text)


def test_a_pipeline_file_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes(b"version: 1\nname: Jos\xe9\nsteps: []\n")
    with pytest.raises(PipelineError) as caught:
        load_pipeline(path)
    assert caught.value.problems == [
        "line 2: the file is not UTF-8 text (invalid continuation byte); save it as UTF-8"
    ]


@pytest.mark.parametrize(
    ("text", "holds"),
    [("- a\n- b\n", "a list"), ("hello\n", "the single value 'hello'"), ("", "nothing")],
)
def test_a_file_that_is_not_a_mapping_says_what_it_holds(text: str, holds: str) -> None:
    assert problems_of(text) == [
        f"p.yaml: the file must be a YAML mapping (key: value lines), but it holds {holds}"
    ]
