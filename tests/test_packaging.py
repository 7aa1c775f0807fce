"""The wheel carries the manifest, credential types and schemas, and finds them when installed."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from plivo_node.core import paths

REPO = Path(__file__).resolve().parents[1]


def test_wheel_ships_the_data_files(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("plivo_node-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {"plivo_node/_data/node_manifest.yaml", "plivo_node/_data/credentials/plivoApi.yaml"}
    expected |= {f"plivo_node/_data/schemas/{p.name}" for p in (REPO / "schemas").glob("*.json")}
    core = REPO / "plivo_node" / "nodes" / "core"
    expected |= {f"plivo_node/nodes/core/{p.name}" for p in core.glob("*.yaml")}
    assert len(list(core.glob("*.yaml"))) == 7  # the core nodes' descriptions
    # The Plivo Trigger's description ships beside its module.
    expected |= {"plivo_node/nodes/plivo/plivoTrigger.yaml"}
    # The editor's page: plain modules and CSS, no build step, all inside the wheel (no CDN).
    static = REPO / "plivo_node" / "editor" / "static"
    assert {"index.html", "app.js", "style.css"} <= {p.name for p in static.iterdir()}
    expected |= {f"plivo_node/editor/static/{p.name}" for p in static.iterdir()}
    # The sandbox is its own top-level package in the same distribution.
    expected |= {"plivo_sandbox/__init__.py", "plivo_sandbox/__main__.py"}
    assert expected <= names
    # The Plivo node and the core nodes register themselves like any third-party node.
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    section = text.split("[plivo_node.nodes]\n", 1)[1].split("\n\n", 1)[0]
    assert set(section.splitlines()) == {
        "plivo = plivo_node.nodes.plivo.node:NODE",
        "plivoTrigger = plivo_node.nodes.plivo.trigger:TRIGGER",
        "manualTrigger = plivo_node.nodes.core.node:MANUAL_TRIGGER",
        "set = plivo_node.nodes.core.node:EDIT_FIELDS",
        "if = plivo_node.nodes.core.node:IF",
        "filter = plivo_node.nodes.core.node:FILTER",
        "splitOut = plivo_node.nodes.core.node:SPLIT_OUT",
        "noOp = plivo_node.nodes.core.node:NO_OP",
        "scheduleTrigger = plivo_node.nodes.core.node:SCHEDULE_TRIGGER",
    }


def test_installed_data_is_preferred_over_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "plivo_node"
    (package / "_data" / "schemas").mkdir(parents=True)
    (package / "_data" / "schemas" / "pipeline.schema.json").write_text("{}")
    monkeypatch.setattr(paths, "_PACKAGE_DIR", package)
    assert paths.data_path("schemas/pipeline.schema.json") == (
        package / "_data" / "schemas" / "pipeline.schema.json"
    )
    with pytest.raises(FileNotFoundError, match="reinstall"):
        paths.data_path("schemas/missing.json")
