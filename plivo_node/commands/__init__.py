"""Commands of ``plivo-node`` that live in modules of their own: each has
``register(subparsers)`` and ``run(args) -> int``, and imports what it needs only in ``run``
(``plivo-node --help`` stays instant)."""
