"""Start-up: a command imports only what it needs (each probe is a fresh interpreter)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "send_sms.yaml"

# Runs plivo-node's main() with the given arguments, then prints which of the heavy packages
# the process imported (sys.modules), as JSON on the last line of stdout.
PROBE = """
import json, sys
from plivo_node.cli import main
try:
    code = main(sys.argv[2:])
except SystemExit as exit:
    code = exit.code
heavy = json.loads(sys.argv[1])
print(json.dumps({"code": code, "imported": sorted(m for m in heavy if m in sys.modules)}))
"""

HEAVY = [
    "aiohttp",
    "cronsim",  # the Schedule Trigger's cron library: only when a schedule is built or checked
    "jinja2",
    "jsonschema",
    "phonenumbers",
    "plivo_sandbox",
    "pydantic",
    "yaml",
    "asyncio",
    "plivo_node.run.engine",
    "plivo_node.nodes.plivo.client",
]


def _imported(*arguments: str) -> tuple[int, list[str]]:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(HEAVY), *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    result = json.loads(completed.stdout.splitlines()[-1])
    return result["code"], result["imported"]


@pytest.mark.parametrize("arguments", [["--help"], ["--version"], ["run", "--help"]])
def test_help_and_version_import_none_of_the_heavy_packages(arguments: list[str]) -> None:
    code, imported = _imported(*arguments)
    assert code == 0
    assert imported == []


def test_validate_on_a_cache_hit_imports_only_what_it_reads() -> None:
    _imported("validate", str(EXAMPLE))  # the first run may fill the description cache
    code, imported = _imported("validate", str(EXAMPLE))
    assert code == 0
    # The description, the pipeline's parsed YAML and its constant numbers passed before: no
    # YAML parser, no schema check, no phone number parsing; the models are dataclasses; the
    # example's templates only read fields (no Jinja); nothing runs (no asyncio, engine, HTTP
    # client or sandbox).
    assert imported == []


# The run's probe also reports whether aiohttp's default TLS contexts loaded the CA bundle
# (aiohttp.connector builds them at import; see plivo_node/http/aiohttp_import.py).
RUN_PROBE = PROBE.replace(
    "print(json.dumps(",
    "connector = sys.modules.get('aiohttp.connector')\n"
    "loaded = [getattr(connector, name).cert_store_stats()['x509_ca'] > 0"
    " for name in ('_SSL_CONTEXT_VERIFIED', '_SSL_CONTEXT_UNVERIFIED')]"
    " if connector else None\n"
    "print(json.dumps({'ca_bundle': loaded, **",
).replace("in sys.modules)}))", "in sys.modules)}}))")


def test_a_sandbox_run_imports_what_it_runs_and_skips_the_tls_defaults(tmp_path: Path) -> None:
    arguments = ["run", str(EXAMPLE), "--sandbox", "--no-journal"]
    arguments += ["--output", str(tmp_path / "out.jsonl")]
    for _ in range(2):  # the first run may fill the cache
        completed = subprocess.run(
            [sys.executable, "-c", RUN_PROBE, json.dumps(HEAVY), *arguments],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    result = json.loads(completed.stdout.splitlines()[-1])
    assert result["code"] == 0
    # No YAML parser, schema check, Jinja or pydantic: what it runs, and nothing else.
    assert result["imported"] == sorted(
        [
            "aiohttp",
            "asyncio",
            "phonenumbers",
            "plivo_sandbox",
            "plivo_node.run.engine",
            "plivo_node.nodes.plivo.client",
        ]
    )
    # Neither of aiohttp's default contexts parsed the CA bundle file: nothing here uses TLS.
    # (Where the system has a CA directory, they still look certificates up in it.)
    assert result["ca_bundle"] == [False, False]


def test_a_cached_description_is_loaded_without_yaml_or_jsonschema(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from plivo_node.description import load_node_description\n"
        "from plivo_node.nodes.plivo.description import manifest_path\n"
        "load_node_description(manifest_path())\n"
        "print(sorted(m for m in ('yaml', 'jsonschema') if m in sys.modules))\n"
    )

    env = {**os.environ, "PLIVO_NODE_CACHE_DIR": str(tmp_path / "cache")}

    def run() -> str:
        completed = subprocess.run(
            [sys.executable, "-c", probe],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return completed.stdout.strip()

    assert run() == "['jsonschema', 'yaml']"  # a miss: the file is read and checked
    assert run() == "[]"  # a hit


def test_jinja_is_imported_only_when_a_template_needs_the_full_evaluation() -> None:
    probe = (
        "import sys\n"
        "from plivo_node.expressions import ExpressionContext, compile_expression\n"
        "hi = compile_expression('=Hi {{ $json.name }}', parameter='p')\n"
        "print(hi.evaluate(ExpressionContext(json={'name': 'Ada'}, item_index=0)))\n"
        "print('jinja2' in sys.modules)\n"
        "value = {'a': [1]}\n"  # not a plain value: the full evaluator, compiled now
        "print(hi.evaluate(ExpressionContext(json={'name': value}, item_index=0)))\n"
        "print('jinja2' in sys.modules)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert completed.stdout.splitlines() == ["Hi Ada", "False", 'Hi {"a":[1]}', "True"]
