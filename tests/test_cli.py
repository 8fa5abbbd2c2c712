"""The command line, in-process through ``run()`` and as the installed ``postback-kit``."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.cli import run
from mockserver.contract import validate


def _run(*argv: str, stdin: bytes = b"") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), stdout=out, stderr=err, stdin=io.BytesIO(stdin))
    return code, out.getvalue(), err.getvalue()


class TestCheckResponse:
    def test_a_valid_body_prints_its_normalized_result(self, tmp_path: Path) -> None:
        path = tmp_path / "body.json"
        path.write_text(
            '{"isSuccess": true, "responseCode": "-102", "msg": null, "result": {"a": 1}}'
        )
        code, out, err = _run("check-response", str(path))
        assert (code, err) == (0, "")
        assert json.loads(out) == {
            "success": True,
            "errorCode": "-102",
            "message": None,
            "data": {"a": 1},
            "failure": None,
            "shape": "isSuccess,responseCode,msg,result",
        }

    def test_standard_input_is_read_with_a_dash_or_no_file(self) -> None:
        body = b'{"success": false, "data": null}'
        assert _run("check-response", "-", stdin=body)[0] == 0
        assert _run("check-response", stdin=body)[0] == 0

    def test_an_invalid_body_prints_each_violation_by_role(self) -> None:
        code, out, _ = _run(
            "check-response",
            stdin=b'{"success": "yes", "errorCode": 1, "responseCode": 2, "data": {}}',
        )
        assert code == 1
        assert out.splitlines() == [
            "invalid: success: 'success' must be a boolean, got \"yes\" (string)",
            "invalid: error_code: ambiguous: 'errorCode' and 'responseCode' are both present; "
            "send at most one of them",
        ]

    @pytest.mark.parametrize(
        ("raw", "reason"),
        [
            (b'{"success": true, "success": true, "data": {}}', "duplicate key 'success'"),
            (b"NaN", "NaN is not a JSON value"),
            (b"<html>", "not JSON"),
        ],
    )
    def test_json_this_contract_rejects_is_invalid(self, raw: bytes, reason: str) -> None:
        code, out, _ = _run("check-response", stdin=raw)
        assert code == 1
        assert reason in out

    def test_an_unreadable_file_is_a_usage_error(self, tmp_path: Path) -> None:
        code, out, err = _run("check-response", str(tmp_path / "missing.json"))
        assert (code, out) == (2, "")
        assert err == f"postback-kit: {tmp_path / 'missing.json'}: no such file\n"


class TestUsageErrors:
    def test_a_bad_scenario_exits_2_with_one_line(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.yaml"
        path.write_text(
            "path: /v\nauth: {type: apikey}\n"
            "cases: [{name: d, response: {success: true, data: {}}}]\n"
        )
        code, _, err = _run("serve", str(path))
        assert code == 2
        assert err == (
            f"postback-kit: {path}: /auth/type: 'apikey' is not one of "
            "['none', 'api_key', 'token_api', 'oauth2']; "
            "did you mean 'api_key'?\n"
        )

    def test_an_unknown_command_exits_2(self) -> None:
        code, _, err = _run("serv", "x")
        assert code == 2
        assert err.count("\n") == 1
        assert "invalid choice: 'serv'" in err

    def test_a_port_in_use_exits_2_naming_it(self) -> None:
        import socket

        with socket.create_server(("127.0.0.1", 0)) as taken:
            port = taken.getsockname()[1]
            code, _, err = _run("serve", "voucher-get", "--port", str(port))
        assert code == 2
        assert f"cannot listen on 127.0.0.1:{port}" in err

    def test_version(self) -> None:
        code, out, _ = _run("--version")
        assert code == 0
        assert out.startswith("postback-kit ")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """``postback-kit serve voucher-get --port 0 --admin-token adm`` as a real process, run
    from a folder without the scenarios; yields its base URL read from the banner."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockserver",
            "serve",
            "scenarios/voucher-get.yaml",
            "--port",
            "0",
            "--admin-token",
            "adm",
        ],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PARTNER_API_KEY": ""},
    )
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()
        assert " on http://127.0.0.1:" in banner, banner
        yield banner.split(" on ")[1].split()[0].removesuffix("/voucher")
    finally:
        process.terminate()
        process.wait(10)
        if process.stderr is not None:
            process.stderr.close()


def test_serve_answers_the_seed_curl_from_any_folder(served: str) -> None:
    response = httpx.get(
        f"{served}/voucher?campaignId=Birthday2023&phone=0359677657&email=dee%40bytetech.io",
        headers={"token-key": "demo-key"},
    )
    assert response.status_code == 200
    assert validate(response.json()) == []
    assert response.json()["data"] == {"code": "E094", "expired": False, "value": 10000}


def test_serve_protects_the_admin_api_with_its_admin_token(served: str) -> None:
    assert httpx.get(f"{served}/__admin/requests").status_code == 401
    ok = httpx.get(f"{served}/__admin/requests", headers={"Authorization": "Bearer adm"})
    assert ok.status_code == 200
    assert httpx.get(f"{served}/__admin/health").json()["status"] == "ok"


class TestCall:
    def _connection(self, tmp_path: Path, url: str, **extra: str) -> Path:
        path = tmp_path / "voucher.yaml"
        lines = [
            f"endpoint: {url}/voucher",
            "auth: {type: api_key, header: token-key, value: '${CANARY_KEY:-demo-key}'}",
            "params: {phone: '{{phone}}', email: '{{email}}', campaignId: '{{campaign}}'}",
            *(f"{k}: {v}" for k, v in extra.items()),
        ]
        path.write_text("\n".join(lines) + "\n")
        return path

    def test_a_successful_call_prints_the_result_and_exits_0(
        self, tmp_path: Path, serve: Any
    ) -> None:
        mock = serve("voucher-get")
        path = self._connection(tmp_path, mock.url)
        code, out, err = _run(
            "call",
            str(path),
            "--phone",
            "0359677657",
            "--email",
            "dee+vip@bytetech.io",
            "--attr",
            "campaign=Birthday2023",
        )
        assert (code, err) == (0, "")
        assert json.loads(out) == {
            "success": True,
            "errorCode": 0,
            "message": "Your request has done",
            "data": {"code": "E095", "expired": False, "value": 5000},
            "failure": None,
        }
        assert mock.journal()[-1]["query"] == [
            ["phone", "0359677657"],
            ["email", "dee+vip@bytetech.io"],
            ["campaignId", "Birthday2023"],
        ]

    def test_a_refusal_exits_1(self, tmp_path: Path, serve: Any) -> None:
        mock = serve("voucher-get")
        code, out, _ = _run(
            "call", str(self._connection(tmp_path, mock.url)), "--phone", "0000000000"
        )
        assert code == 1
        assert json.loads(out)["errorCode"] == "NOT_FOUND"

    def test_a_failure_exits_1_with_its_category(self, tmp_path: Path) -> None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        path = self._connection(tmp_path, f"http://127.0.0.1:{port}", timeout_s="2")
        code, out, _ = _run("call", str(path))
        assert code == 1
        assert json.loads(out)["failure"] == "transport"

    def test_verbose_shows_the_exchange_with_the_key_masked(
        self, tmp_path: Path, serve: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("PARTNER_API_KEY", "canary-3f9a1c")
        monkeypatch.setenv("CANARY_KEY", "canary-3f9a1c")
        mock = serve("voucher-get")
        code, out, err = _run("call", str(self._connection(tmp_path, mock.url)), "--verbose")
        assert code == 0
        assert "> GET " in err
        assert "> token-key: ***" in err
        assert "< HTTP 200" in err
        assert "canary-3f9a1c" not in out + err

    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            (["--attr", "novalue"], "--attr takes NAME=VALUE"),
        ],
    )
    def test_usage_errors_exit_2(self, tmp_path: Path, argv: list[str], message: str) -> None:
        path = self._connection(tmp_path, "http://127.0.0.1:9")
        code, _, err = _run("call", str(path), *argv)
        assert code == 2
        assert message in err

    def test_a_bad_connection_exits_2_with_file_and_pointer(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.yaml"
        path.write_text("endpoint: ftp://x/y\n")
        code, _, err = _run("call", str(path))
        assert code == 2
        assert err.startswith(f"postback-kit: {path}: /endpoint: 'ftp://x/y' does not match")
