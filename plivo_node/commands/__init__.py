"""Commands of ``plivo-node`` that live in their own module: each has ``register(subparsers)``
and ``run(args) -> int``, and is imported only when it runs."""
