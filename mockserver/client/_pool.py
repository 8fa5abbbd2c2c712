"""Connection pooling that stays fast under concurrency.

One ``httpx.AsyncClient`` pool slows down sharply as the number of requests in flight grows
(its bookkeeping is per request x per connection; on this machine 50 in flight on one pool
gave ~340 calls/s, the same 50 spread over pools of two ~1,950). So the client keeps several
small pools ("shards") sharing one TLS context, and sends each exchange through the least
busy one, opening a new shard only when every shard is full.
"""

from __future__ import annotations

import functools
import ssl
from typing import Final

import httpx

from mockserver.client._decode import ACCEPT_ENCODING

__all__ = ["ShardedPool"]

#: Connections per shard.
PER_SHARD: Final = 2


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """httpx's default TLS context (certifi's roots), built once per process: loading the
    roots costs milliseconds, which a client made per call would pay every time."""
    return httpx.create_ssl_context()


class _Shard:
    __slots__ = ("client", "in_flight")

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.in_flight = 0


class ShardedPool:
    """Up to ``max_connections`` pooled connections in shards of :data:`PER_SHARD`."""

    def __init__(self, *, timeout: float, max_connections: int = 200) -> None:
        self._timeout = httpx.Timeout(timeout)
        self._max_shards = max(1, max_connections // PER_SHARD)
        self._ssl: ssl.SSLContext | None = None
        self._shards: list[_Shard] = []

    def _new_shard(self) -> _Shard:
        if self._ssl is None:
            self._ssl = _default_ssl_context()
        limits = httpx.Limits(max_connections=PER_SHARD, max_keepalive_connections=PER_SHARD)
        http = httpx.AsyncClient(
            timeout=self._timeout,
            limits=limits,
            verify=self._ssl,
            # Only what the client's own capped decoder reads (httpx would offer br and zstd
            # when their packages happen to be installed).
            headers={"accept-encoding": ACCEPT_ENCODING},
        )
        shard = _Shard(http)
        self._shards.append(shard)
        return shard

    def acquire(self) -> _Shard:
        best = min(self._shards, key=lambda s: s.in_flight, default=None)
        if best is None or (best.in_flight >= PER_SHARD and len(self._shards) < self._max_shards):
            best = self._new_shard()
        best.in_flight += 1
        return best

    @staticmethod
    def release(shard: _Shard) -> None:
        shard.in_flight -= 1

    async def aclose(self) -> None:
        shards, self._shards = self._shards, []
        for shard in shards:
            await shard.client.aclose()
