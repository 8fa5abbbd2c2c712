"""``serve --server granian``: the same mock on a faster ASGI server."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mockserver.cli import run
from mockserver.client import PostbackClient
from mockserver.models import load_connection
from tests.conftest import serve_workers

QUERY = {"campaignId": "Birthday2023", "phone": "0359677657", "email": "dee@bytetech.io"}
KEY = {"token-key": "demo-key"}
SEED_BODY = {
    "success": True,
    "message": "Your request has done",
    "errorCode": 0,
    "data": {"code": "E094", "expired": False, "value": 10000},
}


@pytest.fixture(scope="module")
def granian(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_workers(
        "voucher-get", 2, tmp_path_factory.mktemp("granian"), "--server", "granian"
    ) as url:
        yield url


def test_granian_serves_the_scenario_and_the_merged_journal(granian: str) -> None:
    httpx.post(f"{granian}/__admin/reset").raise_for_status()
    answer = httpx.get(f"{granian}/voucher", params=QUERY, headers=KEY)
    assert (answer.status_code, answer.json()) == (200, SEED_BODY)
    refused = httpx.get(f"{granian}/voucher", params=QUERY, headers={"token-key": "wrong"})
    assert refused.status_code == 401
    journal = httpx.get(f"{granian}/__admin/requests").json()
    assert journal["workers"] == 2
    assert [e["status"] for e in journal["requests"]] == [200, 401]


@pytest.mark.parametrize(
    "fault", [{"type": "reset"}, {"type": "empty_reply"}, {"type": "truncate"}], ids=str
)
def test_wire_faults_become_broken_answers_not_errors(
    granian: str, fault: dict[str, str], tmp_path: Path
) -> None:
    httpx.post(f"{granian}/__admin/reset").raise_for_status()
    armed = httpx.post(f"{granian}/__admin/faults", json={"fault": fault, "count": 1})
    assert armed.status_code == 200, armed.text
    connection = tmp_path / "c.yaml"
    connection.write_text(
        f"endpoint: {granian}/voucher\nmethod: GET\nretry: {{attempts: 1}}\n"
        "auth: {type: api_key, header: token-key, value: demo-key}\n"
        "params: {phone: '{{phone}}', email: '{{email}}', campaignId: Birthday2023}\n"
    )
    with PostbackClient(load_connection(connection)) as client:
        result = client.call({"phone": "0359677657", "email": "dee@bytetech.io"})
    # Each worker faults its next request once; this one connection reached one of them.
    assert result.failure == "transport", result
    assert "500" not in (result.detail or "")


def test_without_granian_the_flag_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "granian", None)
    code = run(["serve", "voucher-get", "--port", "0", "--server", "granian"])
    err = capsys.readouterr().err
    assert code != 0
    assert err.strip().splitlines()[-1] == (
        "postback-kit: --server granian needs granian: pip install 'postback-kit[granian]'"
    )


def test_the_banner_appears_only_once_granian_listens(tmp_path: Path) -> None:
    """Scripts wait for the banner and then call: the port must already accept."""
    command = [sys.executable, "-m", "mockserver", "serve", "voucher-get", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--server", "granian"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()
        url = httpx.URL(banner.split(" on ")[1].split()[0])
        assert url.port is not None
        # At once, and on a bare socket (an httpx client takes long enough to hide the race).
        socket.create_connection((url.host, url.port), timeout=1).close()
        assert httpx.get(url, params=QUERY, headers=KEY).status_code == 200
    finally:
        process.terminate()
        process.wait(20)
        if process.stderr is not None:
            process.stderr.close()
