"""Where plivo-node keeps state that outlives one command: webhook queues, delivery reports,
the suppression list.

``$PLIVO_NODE_STATE_DIR``, else ``$XDG_STATE_HOME/plivo-node``, else
``~/.local/state/plivo-node`` (the XDG base directory spec's place for state that should
persist between restarts but is not worth backing up like data). ``run`` and ``serve`` share
it, so a status callback that ``serve`` receives can be matched to the run that sent the
message, and a STOP received by ``serve`` suppresses the sender in the next ``run``.

Unlike the description cache, state is not optional: a command that needs it and cannot create
the directory fails with a configuration error naming the directory and the variable to set.
"""

from __future__ import annotations

import os
from pathlib import Path

from plivo_node.core.errors import ConfigurationError

STATE_DIR_VARIABLE = "PLIVO_NODE_STATE_DIR"


def state_dir_path() -> Path:
    """The state directory's path, whether or not it exists yet."""
    explicit = os.environ.get(STATE_DIR_VARIABLE)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_STATE_HOME")
    if xdg and Path(xdg).is_absolute():  # the XDG spec: a relative value is ignored
        return Path(xdg) / "plivo-node"
    try:
        return Path.home() / ".local" / "state" / "plivo-node"
    except RuntimeError as error:  # no HOME and no passwd entry
        raise ConfigurationError(
            "there is no home directory to keep plivo-node's state in",
            hint=f"set {STATE_DIR_VARIABLE} to a directory plivo-node may write",
        ) from error


def ensure_state_dir() -> Path:
    """The state directory, created (owner-only, as it holds phone numbers) if missing."""
    path = state_dir_path()
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise ConfigurationError(
            f"cannot create the state directory {path}: {error.strerror or error}",
            hint=f"set {STATE_DIR_VARIABLE} to a directory plivo-node may write",
        ) from error
    return path
