"""What queue workers cannot run, refused before anything is queued (exit 2)."""

from __future__ import annotations

from plivo_node.core.errors import ConfigurationError
from plivo_node.run.pipeline import PipelineSpec


def refuse_several_inputs(spec: PipelineSpec, *, where: str, instead: str) -> None:
    """Workers run pipelines whose steps each read one input: a chunk's items are renumbered
    into the whole run's by step, which a step merging several inputs would not keep."""
    if len(spec.graph.lanes) != len(spec.graph.steps):
        raise ConfigurationError(
            f"{where}queue mode runs pipelines whose steps each read one input; a step of this "
            "pipeline reads several",
            hint=instead,
        )
