"""The credentials a webhook trigger checks signatures with, found as ``run`` finds them."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from plivo_node.core.errors import ConfigurationError
from plivo_node.core.node import WebhookTrigger
from plivo_node.run.credentials import resolve_fields
from plivo_node.run.pipeline import PipelineSpec
from plivo_node.run.registry import LoadedNode

if TYPE_CHECKING:
    from plivo_node.commands.run_setup import ApiTarget


def trigger_fields(
    spec: PipelineSpec,
    node: LoadedNode,
    trigger: WebhookTrigger,
    targets: Sequence[ApiTarget],
) -> Mapping[str, str]:
    """A step of the pipeline that uses the same credential type shares its fields (the
    embedded sandbox's, when it runs on one); otherwise the pipeline's credentials block or
    the environment, as for ``run``."""
    for target in targets:
        if target.factory.credential_type == trigger.credential_type:
            return target.fields
    credential = node.credential_type(trigger.credential_type)
    fields = resolve_fields(
        credential, spec.credentials, os.environ, service=f"the {node.name} webhook"
    )
    if fields is None:
        wanted = credential.required_variables()
        raise ConfigurationError(
            f"no credentials to check the signatures of '{node.name}' requests with",
            hint=f"set {wanted + ', or ' if wanted else ''}a credentials block "
            f"({credential.name}) in the pipeline",
        )
    return fields
