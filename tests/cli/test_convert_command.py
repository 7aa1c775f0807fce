"""plivo-node convert: an n8n workflow file in, the pipeline YAML out, exit 2 with every problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plivo_node.cli import EXIT_OK, EXIT_USAGE, main
from plivo_node.description.yaml_source import read_yaml_text

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "n8n_opt_in_sms.json"


def test_convert_prints_the_pipeline(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", str(EXAMPLE)]) == EXIT_OK
    captured = capsys.readouterr()
    assert captured.err == ""
    data, problems = read_yaml_text(captured.out)
    assert problems == []
    assert [(s["name"], s["node"]) for s in data["steps"]][-2:] == [
        ("Send SMS", "plivo"),
        ("No Operation, do nothing", "noOp"),
    ]


def test_convert_writes_the_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "opt_in.yaml"
    assert main(["convert", str(EXAMPLE), "--output", str(out)]) == EXIT_OK
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"wrote {out}" in captured.err
    assert out.read_text(encoding="utf-8").startswith("# Converted from the n8n workflow")
    copy = tmp_path / "wf.json"
    copy.write_bytes(EXAMPLE.read_bytes())
    assert main(["convert", str(copy), "--output", str(copy)]) == EXIT_USAGE
    assert "is the workflow file itself" in capsys.readouterr().err
    assert copy.read_bytes() == EXAMPLE.read_bytes()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("not json", "line 1, column 1: the file is not JSON"),
        ("[]", "the file holds an array, not an n8n workflow"),
        ('{"nodes": []}', "connections is missing"),
        ('{"nodes": [{"name": "A"}, {"name": "A"}], "connections": {}}', "repeated: 'A'"),
        ('{"nodes": [], "connections": {"X": {"main": []}}}', "there is no node named 'X'"),
    ],
)
def test_a_malformed_workflow_exits_2_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, problem: str
) -> None:
    path = tmp_path / "wf.json"
    path.write_text(content, encoding="utf-8")
    assert main(["convert", str(path)]) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert problem in captured.err
    assert "Traceback" not in captured.err


def test_an_unsupported_workflow_exits_2_listing_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workflow = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    workflow["nodes"][1]["type"] = "n8n-nodes-base.code"
    workflow["nodes"][2]["type"] = "n8n-nodes-base.httpRequest"
    workflow["nodes"][4]["retryOnFail"] = True
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(workflow), encoding="utf-8")
    assert main(["convert", str(path)]) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{path}: 2 problems:" in captured.err
    assert (
        "2 nodes have types this runtime does not have: 'Edit Fields' (n8n-nodes-base.code), "
        "'Split Out' (n8n-nodes-base.httpRequest)"
    ) in captured.err
    assert "node 'Send SMS': Retry On Fail (retryOnFail) is not supported" in captured.err


def test_notices_go_to_stderr_and_the_yaml_to_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workflow = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    workflow["nodes"][4]["disabled"] = True
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(workflow), encoding="utf-8")
    assert main(["convert", str(path)]) == EXIT_OK
    captured = capsys.readouterr()
    assert captured.err == (
        "plivo-node: warning: node 'Send SMS' is disabled: as in n8n, it passes its input items "
        "through unchanged (a noOp step)\n"
    )
    data, _ = read_yaml_text(captured.out)
    assert "credentials" not in data
