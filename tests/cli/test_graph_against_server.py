"""A pipeline graph run as a subprocess against the sandbox: both branches of a branching step
send SMS; SIGKILL part-way, ``--resume``, and every destination got exactly one message.

The branching step is a tiny node type registered for the test: a package on ``PYTHONPATH``
with its distribution metadata (``entry_points.txt`` in ``plivo_node.nodes``), found by the
registry like any installed node.
"""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Any

import pytest

from plivo_sandbox import Sandbox, SandboxConfig

AUTH_ID = "MATESTACCOUNT0000001"
AUTH_TOKEN = "test-token-never-printed"

MODULE = '''\
"""Routes an item to output 0 when its value is "yes", to output 1 otherwise."""

from pathlib import Path

from plivo_node.core.node import SINGLE_OPERATION, NodeType, OperationContext, Routed


async def choose(ctx: OperationContext) -> list:
    item = dict(ctx.item.json)
    return [item] if ctx.params["value"] == "yes" else [Routed(1, item)]


NODE = NodeType(
    name="choose",
    description_file=Path(__file__).with_name("choose.yaml"),
    handlers={SINGLE_OPERATION: choose},
    outputs=("true", "false"),
)
'''

DESCRIPTION = """\
displayName: Choose
name: choose
group: [transform]
version: 1
description: Routes items by a yes/no value
defaults: {name: Choose}
inputs: [main]
outputs: [main, main]
properties:
  - {displayName: Value, name: value, type: string, default: "", required: true}
"""

SEND = """\
    onError: continueRegularOutput
    parameters:
      resource: sms
      operation: send
      from: "+14155550100"
      to: "={{{{ $json.phone }}}}"
      message: "={message} {{{{ $('Opted in?').item.json.name }}}}"
"""

PIPELINE = f"""\
version: 1
input: contacts.csv
output: out.jsonl
settings: {{rateLimit: false, concurrency: 20, timeoutSeconds: 2}}
steps:
  - name: Opted in?
    node: choose
    parameters: {{value: "={{{{ $json.optin }}}}"}}
  - name: Welcome
    node: plivo
{SEND.format(message="Welcome")}
  - name: Invite
    node: plivo
    input: {{step: "Opted in?", output: 1}}
{SEND.format(message="Join us")}
"""


@pytest.fixture
def choose_node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    package = site / "choose_node"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(MODULE, encoding="utf-8")
    (package / "choose.yaml").write_text(DESCRIPTION, encoding="utf-8")
    metadata = site / "choose_node-1.0.dist-info"
    metadata.mkdir()
    (metadata / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: choose-node\nVersion: 1.0\n", encoding="utf-8"
    )
    (metadata / "entry_points.txt").write_text(
        "[plivo_node.nodes]\nchoose = choose_node:NODE\n", encoding="utf-8"
    )
    monkeypatch.setenv("PYTHONPATH", str(site))


def phones(count: int) -> list[str]:
    return [f"+1415555{n:04d}" for n in range(1000, 1000 + count)]


def write_contacts(tmp_path: Path, numbers: list[str]) -> None:
    rows = "".join(f"Contact {i},{p},{'yes' if i % 3 else 'no'}\n" for i, p in enumerate(numbers))
    (tmp_path / "contacts.csv").write_text("name,phone,optin\n" + rows, encoding="utf-8")


async def settled_count(sandbox: Sandbox) -> int:
    """The sandbox's message count once the requests the killed run had on the wire landed."""
    count = -1
    while count != len(sandbox.state.messages):
        count = len(sandbox.state.messages)
        await asyncio.sleep(0.3)
    return count


def read_output(tmp_path: Path) -> list[dict[str, Any]]:
    text = (tmp_path / "out.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.usefixtures("choose_node")
async def test_a_killed_graph_run_resumes_and_every_destination_gets_one_message(
    tmp_path: Path, plivo_node: Any
) -> None:
    numbers = phones(600)
    write_contacts(tmp_path, numbers)
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(PIPELINE, encoding="utf-8")
    config = SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN, latency_ms=5)
    async with Sandbox(config) as sandbox:
        code, err = await plivo_node(sandbox, "run", str(pipeline), kill_after_requests=150)
        assert code == -signal.SIGKILL, err
        assert len(sandbox.state.messages) < len(numbers)
        code, err = await plivo_node(sandbox, "run", str(pipeline), "--resume", "--no-progress")
        counts = {p: sandbox.state.count_for(p) for p in numbers}
        texts = {m["dst"]: m["text"] for m in sandbox.state.messages}
    assert max(counts.values()) == 1, "a destination was messaged twice"
    items = read_output(tmp_path)
    by_step = {name: [i for i in items if i["step"] == name] for name in ("Welcome", "Invite")}
    assert len(items) == len(numbers)  # every terminal item once, nothing else
    opted = [p for i, p in enumerate(numbers) if i % 3]
    declined = [p for i, p in enumerate(numbers) if not i % 3]
    # Each branch's items are numbered in its own lane, in input order.
    assert [i["pairedItem"]["item"] for i in by_step["Welcome"]] == list(range(len(opted)))
    assert [i["pairedItem"]["item"] for i in by_step["Invite"]] == list(range(len(declined)))
    unknown = [i for i in items if i.get("error", {}).get("code") == "unknown_outcome"]
    assert len(unknown) <= 40  # at most the requests in flight at the kill (20 per branch)
    for step, branch, message in (
        ("Welcome", opted, "Welcome"),
        ("Invite", declined, "Join us"),
    ):
        for phone, item in zip(branch, by_step[step], strict=True):
            if "error" not in item:
                assert counts[phone] == 1
                index = numbers.index(phone)
                assert texts[phone.lstrip("+")] == f"{message} Contact {index}"
    assert code == (1 if unknown else 0), err
    assert "resumed:" in err


@pytest.mark.usefixtures("choose_node")
async def test_resuming_a_graph_run_over_a_changed_input_is_refused(
    tmp_path: Path, plivo_node: Any
) -> None:
    numbers = phones(600)
    write_contacts(tmp_path, numbers)
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(PIPELINE, encoding="utf-8")
    config = SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN, latency_ms=5)
    async with Sandbox(config) as sandbox:
        code, err = await plivo_node(sandbox, "run", str(pipeline), kill_after_requests=100)
        assert code == -signal.SIGKILL, err
        sent = await settled_count(sandbox)
        numbers[1] = "+14155559999"  # a row the killed run had already sent
        write_contacts(tmp_path, numbers)
        code, err = await plivo_node(sandbox, "run", str(pipeline), "--resume", "--no-progress")
        assert len(sandbox.state.messages) == sent  # nothing more was sent
    assert code == 2, err
    assert "the input is not the one the interrupted run had" in err


@pytest.mark.usefixtures("choose_node")
async def test_a_dry_run_of_a_graph_sends_nothing_and_writes_every_branch(
    tmp_path: Path, plivo_node: Any
) -> None:
    numbers = phones(9)
    write_contacts(tmp_path, numbers)
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(PIPELINE, encoding="utf-8")
    async with Sandbox(SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN)) as sandbox:
        code, err = await plivo_node(sandbox, "run", str(pipeline), "--dry-run", "--no-progress")
        posts = [r for r in sandbox.state.request_log if r.method == "POST"]
    assert code == 0, err
    assert posts == []
    assert not (tmp_path / "out.jsonl").exists()
    text = (tmp_path / "out.dry-run.jsonl").read_text(encoding="utf-8")
    items = [json.loads(line) for line in text.splitlines()]
    assert sorted(i["step"] for i in items) == ["Invite"] * 3 + ["Welcome"] * 6
    assert "step 'Invite': 3 items, 3 succeeded, 0 failed" in err
