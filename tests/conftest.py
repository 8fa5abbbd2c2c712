"""Shared fixtures: Hypothesis profiles and a real mock partner on a free port."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings

from mockserver.models import Connection, Scenario, load_scenario
from mockserver.server import ServerThread, create_app

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    print_blob=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


class Running:
    """A mock partner served by uvicorn on 127.0.0.1, with an httpx client bound to it."""

    def __init__(self, server: ServerThread, scenario: Scenario) -> None:
        self.server = server
        self.scenario = scenario
        self.url = server.url
        self.http = httpx.Client(base_url=server.url, timeout=10)

    def journal(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.http.get("/__admin/requests").json()["requests"]
        return entries

    def close(self) -> None:
        self.http.close()
        self.server.stop()


ServeFn = Callable[..., Running]


def wait_until_answers(
    url: str, process: subprocess.Popen[Any], *, within: float, what: str
) -> None:
    """Poll ``url`` until it answers (any status); fail naming ``what`` if ``process`` exits
    or ``within`` seconds pass."""
    deadline = time.monotonic() + within
    while True:
        if process.poll() is not None:
            pytest.fail(f"{what} exited with {process.returncode} before answering", pytrace=False)
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                pytest.fail(f"{what} did not answer within {within:g} s", pytrace=False)
            time.sleep(0.05)


@contextlib.contextmanager
def serve_workers(
    scenario: str, workers: int, cwd: Path, *args: str, token_secret: str | None = None
) -> Iterator[str]:
    """``postback-kit serve SCENARIO --workers N --port 0`` as a real process (with its own
    token key unless ``token_secret`` is given); yields the base URL once every worker answers."""
    env = {k: v for k, v in os.environ.items() if k != "POSTBACK_KIT_TOKEN_SECRET"}
    if token_secret is not None:
        env["POSTBACK_KIT_TOKEN_SECRET"] = token_secret
    command = [sys.executable, "-m", "mockserver", "serve", scenario, "--port", "0"]
    process = subprocess.Popen(
        [*command, "--workers", str(workers), *args],
        cwd=cwd,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()
        # "... on http://127.0.0.1:PORT/voucher": keep scheme and host.
        url = "/".join(banner.split(" on ")[1].split()[0].split("/")[:3])
        wait_until_answers(f"{url}/__admin/health", process, within=20, what="the workers")
        yield url
    finally:
        process.terminate()
        process.wait(20)
        if process.stderr is not None:
            process.stderr.close()


def voucher_connection(mock: Running, **overrides: Any) -> Connection:
    """The seed's GET connection (API key demo-key in token-key) pointing at ``mock``; any
    key can be overridden."""
    data: dict[str, Any] = {
        "endpoint": f"{mock.url}/voucher",
        "timeout_s": 5,
        "auth": {"type": "api_key", "header": "token-key", "value": "demo-key"},
        "params": {"phone": "{{phone}}", "email": "{{email}}", "campaignId": "Birthday2023"},
    }
    data.update(overrides)
    return Connection.from_dict(data)


@pytest.fixture
def serve() -> Iterator[ServeFn]:
    """``serve("voucher-get")`` or ``serve({...scenario dict...})``: a running mock partner,
    stopped after the test."""
    running: list[Running] = []

    def start(scenario: str | Path | dict[str, Any], **kwargs: Any) -> Running:
        loaded = (
            Scenario.from_dict(scenario, source="<test>")
            if isinstance(scenario, dict)
            else load_scenario(scenario)
        )
        server = ServerThread(create_app(loaded, **kwargs)).start()
        running.append(Running(server, loaded))
        return running[-1]

    yield start
    for item in running:
        item.close()


def pytest_report_header(config: pytest.Config) -> str:
    """Which Hypothesis profile runs, and how to repeat what it drew."""
    current = settings()
    if current.derandomize:
        how = "derandomized: every run draws the same examples (seed fixed per test)"
    else:
        how = "random: a failure prints @reproduce_failure, or rerun with --hypothesis-seed"
    return (
        f"hypothesis profile {settings.get_current_profile_name()!r}: {how}; "
        f"max_examples={current.max_examples}, example database "
        f"{'off' if current.database is None else 'on'}"
    )
