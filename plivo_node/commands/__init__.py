"""plivo-node's subcommands, one module each, imported only when their command runs."""
