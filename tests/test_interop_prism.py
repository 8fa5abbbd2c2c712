"""Prism (Stoplight's mock server, from the npm registry) serves contracts/openapi.yaml with
dynamically generated responses, and certify finds every one of them valid: the published
schema means what the oracle means."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockserver.certify import CertifyOptions, certify
from mockserver.models import Connection
from tests.conftest import ROOT, wait_until_answers

PRISM = "@stoplight/prism-cli@5"
CONTRACT_CHECKS = {
    "json_body",
    "success_key",
    "error_code_key",
    "message_key",
    "data_key",
    "content_type",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def prism(tmp_path: Path) -> Iterator[str]:
    npx = shutil.which("npx")
    if npx is None:
        pytest.skip(
            "node/npx is not installed on this machine, so Prism (an npm package) cannot run"
        )
    port = _free_port()
    log = (tmp_path / "prism.log").open("w")
    process = subprocess.Popen(
        [
            npx,
            "--yes",
            PRISM,
            "mock",
            str(ROOT / "contracts" / "openapi.yaml"),
            "-d",
            "-p",
            str(port),
            "-h",
            "127.0.0.1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        # The first run downloads Prism from the npm registry.
        wait_until_answers(f"{url}/voucher", process, within=180, what="Prism (see prism.log)")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(20)
        log.close()


def test_certify_finds_prisms_dynamic_responses_valid(prism: str) -> None:
    connection = Connection.from_dict(
        {
            "endpoint": f"{prism}/voucher",
            "auth": {"type": "api_key", "header": "token-key", "value": "demo-key"},
            "params": {"phone": "{{phone}}", "email": "{{email}}", "campaignId": "Birthday2023"},
        }
    )
    report, _ = certify(connection, CertifyOptions(examples=40, seed=3, max_rps=0, database=None))
    contract_findings = [f for f in report.findings if f.check in CONTRACT_CHECKS]
    assert contract_findings == [], [f.message for f in contract_findings]
    shapes = report.summary["shapes"]
    assert sum(shapes.values()) >= 40
    assert len(shapes) >= 10, "Prism generated bodies in many key shapes"
