"""The node types bundled with the runtime, each registered like any third-party node.

Their entry points are in pyproject.toml (group ``plivo_node.nodes``). The two choices below
are the bundle's, not the runtime's: which node the commands show when none is named, and
which module the ``sandbox`` command runs.
"""

# `describe` and `credentials test` without --node show this node (as before nodes were
# plugins, when it was the only one).
DEFAULT_NODE = "plivo"

# `plivo-node sandbox ARGS` is `python -m <this module> ARGS`: the Plivo node's sandbox, a
# package of its own that nothing else imports.
SANDBOX_MODULE = "plivo_sandbox.__main__"
SANDBOX_HELP = "run the Plivo-compatible sandbox server"
