"""Schemathesis (a tool nobody here wrote) runs against the mock partner with
contracts/openapi.yaml, positive and negative data, all its default checks: no server error,
no schema mismatch. The mock honours its own published contract."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mockserver.models import load_scenario
from mockserver.server import ServerThread, create_app
from tests.conftest import ROOT


def _schemathesis() -> str:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or shutil.which(
        "schemathesis"
    )
    assert found, "schemathesis is a test dependency: pip install -e '.[test]'"
    return found


@pytest.mark.parametrize("mode", ["all", "negative"])
def test_schemathesis_finds_no_server_error_and_no_schema_mismatch(mode: str) -> None:
    """``negative``: only requests that break the schema (wrong types, missing parameters,
    bodies that are not the payload), a fuzz pass of what hostile clients send."""
    with ServerThread(create_app(load_scenario("voucher", environ={}))) as server:
        done = subprocess.run(
            [
                _schemathesis(),
                "run",
                str(ROOT / "contracts" / "openapi.yaml"),
                "--url",
                server.url,
                "--max-examples",
                "60",
                "--seed",
                "7",
                "-w",
                "1",
                "-H",
                "token-key: demo-key",
                "--no-color",
                "--mode",
                mode,
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "No issues found" in done.stdout
    assert "Tested: 2" in done.stdout
