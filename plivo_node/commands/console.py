"""What the commands print on stderr: errors, warnings, and a run's summary.

Every line goes through redaction: a secret that reached a message is masked here.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from plivo_node.core.redaction import redact
from plivo_node.core.words import counted

if TYPE_CHECKING:
    from plivo_node.run.pipeline import PipelineSpec
    from plivo_node.run.registry import NodeRegistry
    from plivo_node.run.runner import RunSummary


def err(message: str) -> None:
    print(redact(message), file=sys.stderr)


def warn(warnings: list[str]) -> None:
    for warning in warnings:
        err(f"plivo-node: warning: {warning}")


def load_pipeline(path: Path, registry: NodeRegistry) -> PipelineSpec:
    """A pipeline file, or an n8n workflow file converted to one (its notices as warnings)."""
    # Imported here: it brings the n8n workflow reader, which --help does not need.
    from plivo_node.n8n.load import load_spec  # noqa: PLC0415

    loaded = load_spec(path, registry)
    warn(list(loaded.notices))
    return loaded.spec


def print_summary(
    summary: RunSummary,
    output_path: Path,
    *,
    dry_run: bool,
    sandboxes: list[str],
    scope_lines: list[str],
) -> None:
    label = "dry run" if dry_run else "run"
    label += " stopped" if summary.interrupted else " finished"
    headline = (
        f"plivo-node: {label} in {summary.elapsed:.1f}s: {counted(summary.items, 'item')}, "
        f"{summary.succeeded} succeeded, {summary.failed} failed"
    )
    lines = [headline]
    if summary.outputs != summary.succeeded + summary.terminal_failed:
        lines.append(f"  output items: {summary.outputs}")
    if len(summary.steps) > 1:
        lines.extend(
            f"  step '{s.name}': {counted(s.items, 'item')}, "
            f"{s.succeeded} succeeded, {s.failed} failed"
            for s in summary.steps
        )
    if summary.by_code:
        codes = ", ".join(f"{code}: {n}" for code, n in summary.by_code.most_common())
        lines.append(f"  failures by code: {codes}")
    if summary.resumed_results:
        resumed = (
            f"  resumed: {counted(summary.resumed, 'item')} taken from the journal, not re-sent"
        )
        if summary.resumed_results != summary.resumed:
            resumed += f" ({counted(summary.resumed_results, 'step result')} in all)"
        lines.append(resumed)
    for tally in summary.tallies.values():
        lines.extend(f"  {line}" for line in tally.lines())
    lines.extend(f"  {line}" for line in scope_lines)
    if str(output_path) != "-":
        lines.append(f"  output: {output_path}")
    lines.extend(f"  sandbox: nothing was sent to {service}" for service in sandboxes)
    for line in lines:
        err(line)
