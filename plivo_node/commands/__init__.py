"""Commands beyond ``run``: each in its own module with ``register(subparsers)`` and
``run(args) -> int``, imported by the CLI only when used."""
