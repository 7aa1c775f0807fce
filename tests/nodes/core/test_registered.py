"""The core nodes as registered node types, each through a real pipeline run (``plivo-node run``).

They are found through the entry-point group like any third-party node; the runtime resolves
their parameters against their YAML descriptions, runs their handlers and routes the items.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from plivo_node.cli import EXIT_OK, EXIT_USAGE, main
from plivo_node.run.registry import NodeRegistry

CORE = {
    "manualTrigger": (("main",), True),
    "set": (("main",), False),
    "if": (("true", "false"), False),
    "filter": (("kept",), False),
    "splitOut": (("main",), False),
    "noOp": (("main",), False),
    "scheduleTrigger": (("main",), True),
}


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN", "PLIVO_API_URL"):
        monkeypatch.delenv(name, raising=False)


def run(
    tmp_path: Path, steps: str, items: list[dict[str, Any]] | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """Run a pipeline of ``steps`` (YAML list entries) over ``items`` (n8n items, as a JSON
    array file); the exit code and the output records."""
    pipeline = tmp_path / "pipeline.yaml"
    header = "version: 1\n"
    if items is not None:
        (tmp_path / "items.json").write_text(json.dumps(items))
        header += "input: items.json\n"
    pipeline.write_text(header + "steps:\n" + steps)
    out = tmp_path / "out.jsonl"
    code = main(["run", str(pipeline), "--output", str(out), "--no-journal", "--sandbox"])
    records = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    return code, records


def test_every_core_node_is_registered_with_its_n8n_type_outputs_and_trigger_flag() -> None:
    registry = NodeRegistry()
    for name, (outputs, trigger) in CORE.items():
        node = registry.get(name)
        assert node.type.n8n_type == f"n8n-nodes-base.{name}"
        assert node.type.outputs == outputs
        assert node.type.trigger is trigger
        assert node.type.client is None
        assert node.description.name == name
    assert registry.get("plivo").type.n8n_type == "n8n-nodes-base.plivo"


def test_manual_trigger_emits_one_empty_item_without_input(tmp_path: Path) -> None:
    code, records = run(tmp_path, "  - {name: Start, node: manualTrigger}\n")
    assert code == EXIT_OK
    assert records == [{"json": {}, "pairedItem": {"item": 0}}]


def test_manual_trigger_emits_the_runs_input_items(tmp_path: Path) -> None:
    items = [{"json": {"n": 1}}, {"json": {"n": 2}}]
    code, records = run(tmp_path, "  - {name: Start, node: manualTrigger}\n", items)
    assert code == EXIT_OK
    assert records == [
        {"json": {"n": 1}, "pairedItem": {"item": 0}},
        {"json": {"n": 2}, "pairedItem": {"item": 1}},
    ]


def test_manual_trigger_after_another_step_is_refused(tmp_path: Path) -> None:
    code, _ = run(tmp_path, "  - {name: A, node: noOp}\n  - {name: Start, node: manualTrigger}\n")
    assert code == EXIT_USAGE


EDIT = """\
  - name: Edit
    node: set
    typeVersion: 3.4
    parameters:
      assignments:
        assignments:
          - {name: greeting, type: string, value: '=Hi {{ $json.name }} (#{{ $itemIndex }})'}
          - {name: tags, type: array, value: '["a", "b"]'}
      includeOtherFields: true
"""


def test_edit_fields_and_split_out_make_new_items_paired_with_their_input(
    tmp_path: Path,
) -> None:
    steps = EDIT + "  - {name: Split, node: splitOut, parameters: {fieldToSplitOut: tags}}\n"
    code, records = run(tmp_path, steps, [{"json": {"name": "Ada"}}, {"json": {"name": "Ben"}}])
    assert code == EXIT_OK
    assert records == [
        {"json": {"tags": "a"}, "pairedItem": {"item": 0}},
        {"json": {"tags": "b"}, "pairedItem": {"item": 0}},
        {"json": {"tags": "a"}, "pairedItem": {"item": 1}},
        {"json": {"tags": "b"}, "pairedItem": {"item": 1}},
    ]


def test_edit_fields_reads_the_item_and_its_index(tmp_path: Path) -> None:
    code, records = run(tmp_path, EDIT, [{"json": {"name": "Ada"}}, {"json": {"name": "Ben"}}])
    assert code == EXIT_OK
    assert [r["json"] for r in records] == [
        {"name": "Ada", "greeting": "Hi Ada (#0)", "tags": ["a", "b"]},
        {"name": "Ben", "greeting": "Hi Ben (#1)", "tags": ["a", "b"]},
    ]


IF = """\
  - name: Adult?
    node: if
    typeVersion: 2.2
    parameters:
      conditions:
        options: {caseSensitive: true, leftValue: '', typeValidation: strict, version: 2}
        conditions:
          - leftValue: '={{ $json.age }}'
            rightValue: 18
            operator: {type: number, operation: gte}
        combinator: and
"""
PEOPLE = [{"json": {"age": 30}}, {"json": {"age": 12}}, {"json": {"age": 18}}]


def test_if_sends_true_items_on_and_drops_an_unconnected_false_branch(tmp_path: Path) -> None:
    code, records = run(tmp_path, IF + "  - {name: Pass, node: noOp}\n", PEOPLE)
    assert code == EXIT_OK
    # The false branch feeds no step: its items are dropped, as in n8n. Each item is paired
    # with its place in the input of the step that made it: age 18 is Pass's second item.
    assert sorted(records, key=lambda r: r["json"]["age"]) == [
        {"json": {"age": 18}, "pairedItem": {"item": 1}},
        {"json": {"age": 30}, "pairedItem": {"item": 0}},
    ]


FILTER = """\
  - name: Adults
    node: filter
    typeVersion: 2.2
    parameters:
      conditions:
        options: {caseSensitive: true, leftValue: '', typeValidation: strict, version: 2}
        conditions:
          - leftValue: '={{ $json.age }}'
            rightValue: 18
            operator: {type: number, operation: gte}
        combinator: and
"""


def test_filter_drops_the_items_that_fail(tmp_path: Path) -> None:
    code, records = run(tmp_path, FILTER, PEOPLE)
    assert code == EXIT_OK
    assert records == [
        {"json": {"age": 30}, "pairedItem": {"item": 0}},
        {"json": {"age": 18}, "pairedItem": {"item": 2}},
    ]


def test_filter_sends_discarded_items_to_its_error_output_with_continue_error_output(
    tmp_path: Path,
) -> None:
    steps = (
        FILTER
        + "    onError: continueErrorOutput\n"
        + "  - {name: Pass, node: noOp}\n"
        + "  - {name: Discarded, node: noOp, input: {step: Adults, output: 1}}\n"
    )
    code, records = run(tmp_path, steps, PEOPLE)
    assert code == EXIT_OK
    # Two steps end the graph, so every line names its step. Each item is paired with its
    # place in the input of the step that made it: the age 18 item is Pass's second item.
    assert sorted(records, key=lambda r: r["json"]["age"]) == [
        {"json": {"age": 12}, "pairedItem": {"item": 0}, "step": "Discarded"},
        {"json": {"age": 18}, "pairedItem": {"item": 1}, "step": "Pass"},
        {"json": {"age": 30}, "pairedItem": {"item": 0}, "step": "Pass"},
    ]


def test_no_operation_passes_every_item_on(tmp_path: Path) -> None:
    code, records = run(tmp_path, "  - {name: Pass, node: noOp}\n", PEOPLE)
    assert code == EXIT_OK
    assert [r["json"] for r in records] == [p["json"] for p in PEOPLE]


BINARY = {"file": {"data": "aGk=", "mimeType": "image/png", "fileName": "a.png"}}
READ_BINARY = """\
  - name: Read
    node: set
    parameters:
      assignments:
        assignments:
          - name: mime
            type: string
            value: '={{ $binary.file ? $binary.file.mimeType : "none" }}'
"""


@pytest.mark.parametrize(
    ("before", "mime"),
    [
        ("  - {name: Pass, node: noOp}\n", "image/png"),
        (IF.replace("Adult?", "Check"), "image/png"),
        (FILTER, "image/png"),
        ("  - {name: Start, node: manualTrigger}\n", "image/png"),
        (EDIT, "none"),
        ("  - {name: Split, node: splitOut, parameters: {fieldToSplitOut: tags}}\n", "none"),
    ],
)
def test_pass_through_nodes_keep_the_items_binary_and_new_items_have_none(
    tmp_path: Path, before: str, mime: str
) -> None:
    items = [{"json": {"age": 40, "name": "Ada", "tags": ["x"]}, "binary": BINARY}]
    code, records = run(tmp_path, before + READ_BINARY, items)
    assert code == EXIT_OK
    assert [r["json"] for r in records] == [{"mime": mime}]


def test_a_type_version_the_node_does_not_have_is_exit_2_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, records = run(tmp_path, EDIT.replace("3.4", "3.2") + IF.replace("2.2", "1"))
    assert code == EXIT_USAGE
    assert records == []
    err = capsys.readouterr().err
    assert "step 'Edit': typeVersion 3.2 is not a version of node 'set' (it has 3.3, 3.4)" in err
    assert (
        "step 'Adult?': typeVersion 1 is not a version of node 'if' (it has 2, 2.1, 2.2, 2.3)"
        in err
    )
