"""The node types bundled with the runtime, each registered like any third-party node."""
