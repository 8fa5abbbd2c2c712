"""``serve --workers N``: the admin API reaches every worker, and the journal is merged on read."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.models import load_scenario
from mockserver.server._partner import MockPartner
from mockserver.server._peers import Peers
from tests.conftest import SCENARIOS, serve_workers

QUERY = {"campaignId": "Birthday2023", "phone": "0359677657", "email": "dee@bytetech.io"}
KEY = {"token-key": "demo-key"}


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_workers("voucher-get", 2, tmp_path_factory.mktemp("workers")) as url:
        yield url


def spread(url: str, count: int, **params: str) -> list[int]:
    """``count`` partner calls on fresh connections from 8 threads, so the kernel hands them
    to both workers; their statuses."""
    with httpx.Client(base_url=url, headers={**KEY, "Connection": "close"}) as http:

        def call(_: int) -> int:
            return http.get("/voucher", params={**QUERY, **params}).status_code

        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(call, range(count)))


def journal(url: str) -> dict[str, Any]:
    data: dict[str, Any] = httpx.get(f"{url}/__admin/requests").json()
    return data


def test_the_journal_merges_every_workers_requests_in_arrival_order(workers: str) -> None:
    httpx.post(f"{workers}/__admin/reset").raise_for_status()
    assert spread(workers, 200) == [200] * 200
    merged = journal(workers)
    assert merged["workers"] == 2
    assert (merged["total"], merged["kept"], merged["size"]) == (200, 200, 20_000)
    assert len({entry["worker"] for entry in merged["requests"]}) == 2, "both workers served"
    times = [entry["at"] for entry in merged["requests"]]
    assert times == sorted(times)
    assert {dict(entry["headers"])["token-key"] for entry in merged["requests"]} == {"***"}


def test_clearing_the_journal_clears_it_on_every_worker(workers: str) -> None:
    spread(workers, 50)
    assert httpx.delete(f"{workers}/__admin/requests").status_code == 204
    # Asked many times: whichever worker answers, no worker still holds entries.
    for _ in range(10):
        assert journal(workers)["kept"] == 0


def test_a_case_override_applies_on_every_worker_and_reset_restores(workers: str) -> None:
    answer = httpx.put(f"{workers}/__admin/scenario", json={"case": "not-found"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["case"] == "not-found"
    httpx.delete(f"{workers}/__admin/requests")
    assert set(spread(workers, 60)) == {404}
    assert len({entry["worker"] for entry in journal(workers)["requests"]}) == 2
    httpx.post(f"{workers}/__admin/reset").raise_for_status()
    assert set(spread(workers, 60)) == {200}


def test_an_armed_fault_is_armed_on_each_worker(workers: str) -> None:
    httpx.post(f"{workers}/__admin/reset").raise_for_status()
    armed = httpx.post(
        f"{workers}/__admin/faults", json={"fault": {"type": "status", "status": 503}, "count": 1}
    )
    assert armed.status_code == 200, armed.text
    spread(workers, 60)
    served = journal(workers)["requests"]
    by_worker: dict[int, list[int]] = {}
    for entry in served:
        by_worker.setdefault(entry["worker"], []).append(entry["status"])
    # The count is per worker: each worker's first request after arming got the fault.
    assert len(by_worker) == 2
    for statuses in by_worker.values():
        assert statuses[0] == 503
        assert set(statuses[1:]) == {200}


def test_a_bad_admin_call_is_refused_once_and_applied_nowhere(workers: str) -> None:
    httpx.post(f"{workers}/__admin/reset").raise_for_status()
    answer = httpx.put(f"{workers}/__admin/scenario", json={"case": "no-such-case"})
    assert answer.status_code == 400
    assert "no case 'no-such-case'" in answer.json()["error"]
    assert set(spread(workers, 30)) == {200}


def test_a_worker_that_died_is_skipped_and_its_socket_removed(tmp_path: Path) -> None:
    partner = MockPartner(load_scenario(SCENARIOS / "voucher-get.yaml"))
    stale = tmp_path / "999999.sock"
    stale.write_bytes(b"")  # a file nothing listens on, as a killed worker leaves

    async def main() -> list[tuple[int, Any]]:
        peers = Peers(tmp_path, partner)
        async with peers.listening():
            assert peers.path.exists()
            return await peers.everywhere({"op": "reset"})

    answers = asyncio.run(main())
    assert [pid for pid, _ in answers] == [os.getpid()]
    assert not stale.exists()
    assert list(tmp_path.iterdir()) == [], "the worker removed its own socket on the way out"
