"""The node's description: ``node_manifest.yaml`` and credential types as typed, frozen models.

Loading validates in two passes (JSON Schema, then cross-references) and reports every
problem with its location in one :class:`plivo_node.core.errors.DescriptionError`.
"""

from plivo_node.description.loader import load_credential_type, load_node_description
from plivo_node.description.models import (
    CredentialType,
    DisplayOptions,
    FixedCollectionGroup,
    NodeDescription,
    OptionValue,
    Property,
)
from plivo_node.description.schema import load_schema, validate_against_schema, validate_once

__all__ = [
    "CredentialType",
    "DisplayOptions",
    "FixedCollectionGroup",
    "NodeDescription",
    "OptionValue",
    "Property",
    "load_credential_type",
    "load_node_description",
    "load_schema",
    "validate_against_schema",
    "validate_once",
]
