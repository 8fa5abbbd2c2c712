"""Load: many connections at once get answers, not errors; with ``--limit-concurrency`` the
excess gets a contract-shaped 503 and the reference client backs off and gets through.
(The 60 s, 200-connection run with memory figures is bench/bench_load.py.)"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from mockserver.client import PostbackClient
from mockserver.contract import loads_strict, validate
from mockserver.models import Connection, load_scenario
from mockserver.server import ServerThread, create_app
from tests.conftest import serve_workers

QUERY = {"campaignId": "Birthday2023", "phone": "0359677657", "email": "dee@bytetech.io"}
KEY = {"token-key": "demo-key"}


async def hammer(url: str, connections: int, seconds: float) -> Counter[int]:
    """``connections`` keep-alive connections sending the seed's GET back to back."""
    statuses: Counter[int] = Counter()
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=url, headers=KEY, limits=limits, timeout=30) as http:
        deadline = time.monotonic() + seconds

        async def one() -> None:
            while time.monotonic() < deadline:
                statuses[(await http.get("/voucher", params=QUERY)).status_code] += 1

        await asyncio.gather(*(one() for _ in range(connections)))
    return statuses


def test_200_connections_on_two_workers_get_only_answers(tmp_path: Path) -> None:
    with serve_workers("voucher-get", 2, tmp_path) as url:
        statuses = asyncio.run(hammer(url, 200, 3.0))
        journal = httpx.get(f"{url}/__admin/requests", timeout=30).json()
    assert set(statuses) == {200}
    assert journal["total"] == sum(statuses.values())
    assert journal["workers"] == 2


def test_beyond_the_limit_requests_get_a_contract_shaped_503(tmp_path: Path) -> None:
    with serve_workers("voucher-get", 1, tmp_path, "--limit-concurrency", "2") as url:
        slow = {"fault": {"type": "delay", "seconds": 1.0}, "count": 100}
        assert httpx.post(f"{url}/__admin/faults", json=slow).status_code == 200
        with ThreadPoolExecutor(10) as pool:
            answers = list(
                pool.map(
                    lambda _: httpx.get(f"{url}/voucher", params=QUERY, headers=KEY, timeout=10),
                    range(10),
                )
            )
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {200: 2, 503: 8}
    refusal = next(a for a in answers if a.status_code == 503)
    assert refusal.headers["retry-after"] == "1"
    body = loads_strict(refusal.content)
    assert validate(body) == []
    assert (body["success"], body["errorCode"], body["data"]) == (False, "OVERLOADED", None)


def test_the_reference_client_backs_off_and_gets_through() -> None:
    server = ServerThread(create_app(load_scenario("voucher-get"), limit_concurrency=1))
    with server:
        slow = {"fault": {"type": "delay", "seconds": 0.2}, "count": 1000}
        httpx.post(f"{server.url}/__admin/faults", json=slow).raise_for_status()
        connection = Connection.from_dict(
            {
                "endpoint": f"{server.url}/voucher",
                "timeout_s": 5,
                "auth": {"type": "api_key", "header": "token-key", "value": "demo-key"},
                "params": {"phone": "{{phone}}", "email": "{{email}}", "campaignId": "B"},
                "retry": {"attempts": 6, "backoff_s": 0.05, "max_wait_s": 2},
            },
            source="<load>",
            environ={},
        )
        started = time.monotonic()
        with PostbackClient(connection) as client, ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: client.call(QUERY), range(4)))
        elapsed = time.monotonic() - started
        journal = httpx.get(f"{server.url}/__admin/requests").json()["requests"]
    assert all(r.success for r in results), results
    statuses = Counter(e["status"] for e in journal)
    assert statuses[200] == 4
    assert statuses[503] >= 3, "three of the four met the limit at first"
    # Each 503 said Retry-After: 1, and the client waited that long before retrying.
    assert elapsed >= 1.0
