"""Reading ``--queue redis://HOST:PORT/DB`` and checking the server is fit to hold sends.

A queue whose Redis may drop keys would lose claims (a sent item sent again) or jobs: the
server must persist every write (``appendonly yes``) and refuse writes when full rather than
evict (``maxmemory-policy noeviction``). Both are checked when a worker, a run or a status
query connects, and a server that fails either is refused with the setting to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from plivo_node.core.errors import ConfigurationError

# A Redis command that gets no answer in this time fails: a half-open connection (a peer gone
# without a FIN) must end a worker's wait instead of leaving it blocked while it looks alive.
SOCKET_TIMEOUT = 10.0


@dataclass(frozen=True)
class QueueAddress:
    host: str
    port: int
    database: int
    password: str | None = None

    @property
    def shown(self) -> str:
        """The address as messages show it (never the password)."""
        return f"redis://{self.host}:{self.port}/{self.database}"


def parse_queue_url(url: str) -> QueueAddress:
    """``redis://HOST[:PORT][/DB]`` (a password as ``redis://:PASSWORD@HOST``)."""
    parts = urlsplit(url)
    fix = "give the queue as redis://HOST:PORT/DB, e.g. redis://127.0.0.1:6379/0"
    if parts.scheme != "redis" or not parts.hostname:
        raise ConfigurationError(f"--queue {url!r} is not a redis:// URL", hint=fix)
    try:
        port = parts.port or 6379
    except ValueError:
        raise ConfigurationError(f"--queue {url!r} has an invalid port", hint=fix) from None
    path = parts.path.strip("/") or "0"
    if not path.isdigit():
        raise ConfigurationError(
            f"--queue {url!r}: the database {path!r} is not a number", hint=fix
        )
    return QueueAddress(parts.hostname, port, int(path), parts.password or None)


def connect(address: QueueAddress) -> aioredis.Redis:
    return aioredis.Redis(
        host=address.host,
        port=address.port,
        db=address.database,
        password=address.password,
        socket_timeout=SOCKET_TIMEOUT,
        socket_connect_timeout=SOCKET_TIMEOUT,
        socket_keepalive=True,
        health_check_interval=5,
        retry_on_timeout=False,
    )


async def check_server(redis: aioredis.Redis, address: QueueAddress) -> None:
    """Refuse a server that is unreachable, or that could lose or evict what it holds."""
    try:
        config = await redis.config_get("appendonly")
        config.update(await redis.config_get("maxmemory-policy"))
    except RedisError as exc:
        raise ConfigurationError(
            f"cannot use the queue at {address.shown}: {exc}",
            hint="start redis-server there (with --appendonly yes --maxmemory-policy "
            "noeviction), or pass the right --queue",
        ) from None
    problems = []
    if config.get("appendonly") != "yes":
        problems.append("appendonly is not yes (a restart would lose claims and jobs)")
    if config.get("maxmemory-policy") != "noeviction":
        policy = config.get("maxmemory-policy")
        problems.append(f"maxmemory-policy is {policy} (it may evict claims and jobs)")
    if problems:
        raise ConfigurationError(
            f"the Redis at {address.shown} cannot hold a send queue: " + "; ".join(problems),
            hint="configure it with appendonly yes and maxmemory-policy noeviction "
            "(redis-server --appendonly yes --maxmemory-policy noeviction, or CONFIG SET)",
        )
