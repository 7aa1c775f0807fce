"""Where the Plivo node's description and credential type live, loaded as typed models.

Both sit at the repository root (``node_manifest.yaml``, ``credentials/plivoApi.yaml``: the
design card's layout) and ship in the wheel under ``plivo_node/_data``.
"""

from __future__ import annotations

from pathlib import Path

from plivo_node.core.paths import data_path
from plivo_node.description import (
    CredentialType,
    NodeDescription,
    load_credential_type,
    load_node_description,
)

NODE_NAME = "plivo"
CREDENTIAL_TYPE = "plivoApi"


def manifest_path() -> Path:
    return data_path("node_manifest.yaml")


def credential_path() -> Path:
    return data_path(f"credentials/{CREDENTIAL_TYPE}.yaml")


def plivo_description() -> NodeDescription:
    """The Plivo node's description (loaded once)."""
    return load_node_description(manifest_path())


def plivo_credential_type() -> CredentialType:
    """The ``plivoApi`` credential type (loaded once)."""
    return load_credential_type(credential_path())
