"""plivo-node: an n8n-style node runtime with a Plivo node and an embedded Plivo sandbox."""

__version__ = "0.1.0"
