"""A third-party node, built and installed with pip into a fresh venv, runs through the CLI.

The package lives in a temporary directory: a pyproject with an entry point in
``plivo_node.nodes``, a description YAML and one handler (``upper`` upper-cases a field). It
is installed with ``pip install --no-deps --no-build-isolation`` into a venv that sees this
project and its dependencies (a ``.pth`` file), and a pipeline that uses it runs through
``python -m plivo_node.cli`` of that venv. Nothing of the runtime changes for it: this is the
proof that the node contract has no Plivo-only parts.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "upper-node"
version = "1.0.0"

[project.entry-points."plivo_node.nodes"]
upper = "upper_node:NODE"

[tool.hatch.build.targets.wheel]
packages = ["upper_node"]
"""

MODULE = '''\
"""A node that upper-cases one field of every item."""

from pathlib import Path

from plivo_node.core.node import SINGLE_OPERATION, NodeType, OperationContext, Routed


async def upper(ctx: OperationContext) -> list:
    field = ctx.params["field"]
    value = ctx.item.json.get(field)
    if value is None:
        return [Routed(1, dict(ctx.item.json))]  # nothing to shout: the second output
    return [{**ctx.item.json, field: str(value).upper()}]


NODE = NodeType(
    name="upper",
    description_file=Path(__file__).with_name("upper.yaml"),
    handlers={SINGLE_OPERATION: upper},
    outputs=("shouted", "skipped"),
    n8n_type="acme-nodes.upper",  # n8n workflow files may use it under this type
)
'''

DESCRIPTION = """\
displayName: Upper
name: upper
group: [transform]
version: 1
description: Upper-cases one field of every item
defaults: {name: Upper}
inputs: [main]
outputs: [main, main]
properties:
  - {displayName: Field, name: field, type: string, default: name, required: true}
"""

PIPELINE = """\
version: 1
input: people.jsonl
steps:
  - name: Shout
    node: upper
    parameters: {field: greeting}
  - name: Echo
    node: upper
    parameters: {field: name}
  - name: Skipped
    node: upper
    input: {step: Shout, output: 1}
    parameters: {field: name}
"""


def _make_package(root: Path) -> Path:
    package = root / "upper-node"
    (package / "upper_node").mkdir(parents=True)
    (package / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (package / "upper_node" / "__init__.py").write_text(MODULE, encoding="utf-8")
    (package / "upper_node" / "upper.yaml").write_text(DESCRIPTION, encoding="utf-8")
    return package


def _make_venv(root: Path) -> Path:
    """A venv whose Python sees this project and the test venv's packages (pip, hatchling)."""
    home = root / "venv"
    venv.EnvBuilder(with_pip=False).create(home)
    python = home / "bin" / "python"
    target = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # A .pth file's lines are added to sys.path: the project itself, then the test venv's
    # site-packages (the project's dependencies and its entry points' metadata).
    seen = [str(REPO), *site.getsitepackages()]
    (Path(target) / "outer.pth").write_text("\n".join(seen) + "\n", encoding="utf-8")
    return python


@pytest.mark.slow
def test_a_node_installed_with_pip_runs_in_a_pipeline(tmp_path: Path) -> None:
    package = _make_package(tmp_path)
    python = _make_venv(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLIVO_", "PYTHON"))}
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", str(package)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr

    work = tmp_path / "work"
    work.mkdir()
    (work / "pipeline.yaml").write_text(PIPELINE, encoding="utf-8")
    people = [{"name": "ada", "greeting": "hello"}, {"name": "alan"}]
    (work / "people.jsonl").write_text("\n".join(map(json.dumps, people)) + "\n", "utf-8")

    def cli(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(python), "-m", "plivo_node.cli", *arguments],
            capture_output=True, text=True, cwd=work, env=env, timeout=120, check=False,
        )  # fmt: skip

    listed = cli("describe", "--list")
    assert listed.returncode == 0, listed.stderr
    bundled = ["filter", "if", "manualTrigger", "noOp", "plivo", "plivoTrigger", "scheduleTrigger",
               "set", "splitOut"]  # fmt: skip
    assert listed.stdout.split() == sorted([*bundled, "upper"])
    described = cli("describe", "--node", "upper")
    assert json.loads(described.stdout)["displayName"] == "Upper"

    validated = cli("validate", "pipeline.yaml")
    assert validated.returncode == 0, validated.stderr
    assert "valid (3 steps: Shout (upper), Echo (upper), Skipped (upper))" in validated.stdout

    run = cli("run", "pipeline.yaml", "--output", "out.jsonl", "--no-progress")
    assert run.returncode == 0, run.stderr
    assert "sandbox" not in run.stderr  # a node without an API client needs no target
    lines = (work / "out.jsonl").read_text().splitlines()
    # Two steps end the graph: every line names its step. Alan has no greeting: the first
    # step's second output, which the third step reads (its first item).
    expected = [
        {"json": {"name": "ADA", "greeting": "HELLO"}, "pairedItem": {"item": 0}, "step": "Echo"},
        {"json": {"name": "ALAN"}, "pairedItem": {"item": 0}, "step": "Skipped"},
    ]
    assert sorted(lines) == sorted(json.dumps(e, separators=(",", ":")) for e in expected)

    # An n8n workflow file that uses it by its n8n type runs too, the input file's items
    # coming out of the Manual Trigger.
    trigger = {"name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
               "parameters": {}, "position": [0, 0]}  # fmt: skip
    shout = {"name": "Shout", "type": "acme-nodes.upper", "typeVersion": 1,
             "parameters": {"field": "greeting"}, "position": [200, 0]}  # fmt: skip
    workflow = {
        "name": "Shout",
        "nodes": [trigger, shout],
        "connections": {"Start": {"main": [[{"node": "Shout", "type": "main", "index": 0}]]}},
    }
    (work / "workflow.json").write_text(json.dumps(workflow), encoding="utf-8")
    args = ("--input", "people.jsonl", "--output", "wf.jsonl", "--no-progress")
    run = cli("run", "workflow.json", *args)
    assert run.returncode == 0, run.stderr
    records = [json.loads(line) for line in (work / "wf.jsonl").read_text().splitlines()]
    # (Whether the last step's lines name it is the output file's business, not the node's.)
    by_item = sorted(records, key=lambda r: r["pairedItem"]["item"])
    assert [r["json"] for r in by_item] == [{"name": "ada", "greeting": "HELLO"}, {"name": "alan"}]
