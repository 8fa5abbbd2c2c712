"""Calls/s of the async reference client against plain httpx doing the same GET, in one run.

    python bench/bench_client.py [--calls 5000] [--concurrency 50] [--rounds 3]

The mock partner (voucher-get) runs in its own process on 127.0.0.1. In this process, in
alternating rounds: ``AsyncPostbackClient.call`` (request building, API key, deadline,
size cap, the contract oracle) and a plain ``httpx.AsyncClient`` GET of the same URL with
the same header plus ``response.json()``, each with ``--concurrency`` calls in flight. The
median round of each and the client's ratio to plain httpx are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

import httpx

from bench._servers import HEADERS, QUERY, free_port, mock_command, start
from mockserver.client import AsyncPostbackClient
from mockserver.models import Connection

PROFILE = {"phone": "0359677657", "email": "dee@bytetech.io"}


async def _drive(call: Callable[[], Awaitable[bool]], calls: int, concurrency: int) -> float:
    remaining = calls
    failures = 0

    async def worker() -> None:
        nonlocal remaining, failures
        while remaining > 0:
            remaining -= 1
            if not await call():
                failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{failures} calls failed")
    return calls / elapsed


async def _round_client(url: str, calls: int, concurrency: int) -> float:
    connection = Connection.from_dict(
        {
            "endpoint": f"{url}/voucher",
            "auth": {"type": "api_key", "header": "token-key", "value": "demo-key"},
            "params": {"campaignId": "Birthday2023", "phone": "{{phone}}", "email": "{{email}}"},
        }
    )
    async with AsyncPostbackClient(connection) as client:

        async def call() -> bool:
            return (await client.call(PROFILE)).success

        return await _drive(call, calls, concurrency)


async def _round_httpx(url: str, calls: int, concurrency: int) -> float:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:

        async def call() -> bool:
            response = await client.get(url + QUERY, headers=HEADERS)
            return bool(response.json()["success"])

        return await _drive(call, calls, concurrency)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    port = free_port()
    rates: dict[str, list[float]] = {"client": [], "httpx": []}
    with start("mock", mock_command(port), port) as mock:
        asyncio.run(_round_httpx(mock.url, 500, args.concurrency))  # warm-up
        asyncio.run(_round_client(mock.url, 500, args.concurrency))
        for i in range(args.rounds):
            order = ["httpx", "client"] if i % 2 == 0 else ["client", "httpx"]
            for name in order:
                runner = _round_client if name == "client" else _round_httpx
                rates[name].append(asyncio.run(runner(mock.url, args.calls, args.concurrency)))
    client, plain = statistics.median(rates["client"]), statistics.median(rates["httpx"])
    print(
        f"{args.calls} calls x {args.rounds} alternating rounds, {args.concurrency} in flight, "
        "against the mock (voucher-get); median round"
    )
    print(f"{'plain httpx.AsyncClient GET + json()':<40} {plain:>8.0f} calls/s")
    print(f"{'AsyncPostbackClient.call':<40} {client:>8.0f} calls/s")
    print(f"client / plain httpx: {client / plain:.0%} (target >= 80%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
