"""certify against the mock partner: correct partners pass, single bugs fail the right check."""

from __future__ import annotations

import io
import json
import shlex
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from mockserver.certify import CHECKS, CertifyOptions, certify
from mockserver.cli import run
from mockserver.models import Connection, RunReport
from tests.conftest import SCENARIOS, Running, ServeFn
from tests.conftest import voucher_connection as _connection

FAST = CertifyOptions(examples=40, seed=7, max_rps=0, database=None)


def _certify(conn: Connection, options: CertifyOptions = FAST) -> RunReport:
    report, _ = certify(conn, options)
    return report


def _errors(report: RunReport) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for finding in report.findings:
        if finding.severity == "error":
            found.setdefault(finding.check, []).append(finding)
    return found


def _token(mock: Running) -> dict[str, Any]:
    return {
        "type": "token_api",
        "url": f"{mock.url}/auth/token",
        "body": {"username": "cdp", "apiKey": "demo-key"},
        "token_field": "data.accessToken",
        "expires_field": "data.expiredAfter",
    }


def _oauth(mock: Running) -> dict[str, Any]:
    return {
        "type": "oauth2",
        "token_url": f"{mock.url}/oauth/token",
        "client_id": "demo-client",
        "client_secret": "demo-secret",
    }


class TestCorrectPartnersPass:
    def test_api_key_get_with_the_default_100_examples(self, serve: ServeFn) -> None:
        mock = serve("voucher-get")
        report = _certify(_connection(mock), CertifyOptions(seed=1, max_rps=0, database=None))
        assert report.findings == []
        assert report.passed
        assert report.examples >= 100
        statuses = {c.name: c.status for c in report.checks}
        assert statuses == {**dict.fromkeys(CHECKS, "passed"), "token_api": "skipped"}
        assert report.summary["shapes"] == {"success,errorCode,message,data": report.examples}

    def test_api_key_post(self, serve: ServeFn) -> None:
        mock = serve("voucher-post")
        payload = {
            "phone": "{{phone}}",
            "email": "{{email}}",
            "param01": "00000001",
            "param02": "X",
        }
        assert _certify(_connection(mock, method="POST", payload=payload)).findings == []

    def test_token_api(self, serve: ServeFn) -> None:
        mock = serve("voucher-token-api")
        report = _certify(_connection(mock, auth=_token(mock)))
        assert report.findings == []
        statuses = {c.name: c.status for c in report.checks}
        assert (statuses["token_api"], statuses["auth_required"]) == ("passed", "passed")

    def test_oauth2(self, serve: ServeFn) -> None:
        mock = serve("voucher-oauth2")
        report = _certify(_connection(mock, auth=_oauth(mock)))
        assert report.findings == []
        assert {c.name: c.runs for c in report.checks}["auth_required"] == 3

    def test_every_key_shape_is_accepted(self, serve: ServeFn) -> None:
        mock = serve({**_bug_free(), "shape": "rotate"})
        report = _certify(_connection(mock, auth={"type": "none"}))
        assert report.findings == []
        assert len(report.summary["shapes"]) > 30


def _bug_free() -> dict[str, Any]:
    return {
        "name": "partner",
        "path": "/voucher",
        "cases": [
            {
                "name": "default",
                "response": {
                    "success": True,
                    "error_code": 0,
                    "message": "ok",
                    "data": {"code": "E094"},
                },
            }
        ],
    }


def _with_bug(
    fault: dict[str, Any], when: dict[str, Any] | None = None, **scenario: Any
) -> dict[str, Any]:
    data = _bug_free()
    bug: dict[str, Any] = {
        "name": "bug",
        "fault": fault,
        "response": {"success": True, "data": {"code": "E094"}},
    }
    if when:
        bug["when"] = when
    data["cases"] = [bug, *data["cases"]] if when else [{**data["cases"][0], "fault": fault}]
    data.update(scenario)
    return data


@pytest.mark.parametrize(
    ("fault", "check"),
    [
        ({"type": "contract", "breach": "success_string"}, "success_key"),
        ({"type": "contract", "breach": "success_ambiguous"}, "success_key"),
        ({"type": "contract", "breach": "data_missing"}, "data_key"),
        ({"type": "contract", "breach": "data_null_on_success"}, "data_key"),
        ({"type": "contract", "breach": "error_code_wrong_type"}, "error_code_key"),
        ({"type": "contract", "breach": "message_ambiguous"}, "message_key"),
        ({"type": "contract", "breach": "nan"}, "json_body"),
        ({"type": "contract", "breach": "duplicate_keys"}, "json_body"),
        ({"type": "malformed_json"}, "json_body"),
        ({"type": "content_type", "content_type": "text/plain"}, "content_type"),
        ({"type": "reset"}, "transport"),
    ],
)
def test_a_single_bug_fails_exactly_its_check(
    serve: ServeFn, fault: dict[str, Any], check: str
) -> None:
    mock = serve(_with_bug(fault))
    report = _certify(_connection(mock, auth={"type": "none"}))
    assert set(_errors(report)) == {check}
    assert not report.passed


def test_ignoring_the_api_key_fails_auth_required(serve: ServeFn) -> None:
    mock = serve(_bug_free())  # serves everyone, key or not
    report = _certify(_connection(mock))
    assert set(_errors(report)) == {"auth_required"}
    assert {f.key for f in report.findings} == {
        "auth_required:no API key",
        "auth_required:a wrong API key",
    }


def test_a_500_only_for_a_plus_in_the_email_is_shrunk_and_reproducible(serve: ServeFn) -> None:
    mock = serve(_with_bug({"type": "status", "status": 500}, when={"email": {"contains": "+"}}))
    report = _certify(_connection(mock, auth={"type": "none"}))
    [finding] = report.findings
    assert (finding.check, finding.message) == ("robustness", "HTTP 500 for unusual input")
    assert finding.profile is not None
    assert finding.profile["email"] == "0+0@0.com"
    assert finding.reproduce is not None
    out = subprocess.run(
        [*shlex.split(finding.reproduce), "-o", "/dev/null", "-w", "%{http_code}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.stdout == "500"


def test_a_500_for_ordinary_input_is_status_code(serve: ServeFn) -> None:
    mock = serve(_with_bug({"type": "status", "status": 503}))
    assert set(_errors(_certify(_connection(mock, auth={"type": "none"})))) == {
        "status_code",
        "robustness",
    }


def test_a_refusal_without_a_contract_body_is_status_code(serve: ServeFn) -> None:
    data = _bug_free()
    ordinary = {"phone": {"regex": "^0[0-9]{9}$"}, "email": {"regex": "^[a-z0-9.]+@[a-z0-9.]+$"}}
    data["cases"].insert(
        0, {"name": "bug", "when": ordinary, "status": 404, "body": {"error": "nope"}}
    )
    mock = serve(data)
    errors = _errors(_certify(_connection(mock, auth={"type": "none"})))
    assert set(errors) == {"status_code"}
    assert errors["status_code"][0].message == (
        "HTTP 404 with a body that is not a contract refusal (success false)"
    )


def test_a_token_endpoint_answering_elsewhere_fails_token_api(serve: ServeFn) -> None:
    data = yaml.safe_load((SCENARIOS / "voucher-token-api.yaml").read_text())
    data["auth"]["token_field"] = "data.token"
    mock = serve(data)
    report = _certify(_connection(mock, auth=_token(mock)))
    assert "token_api" in _errors(report)


def test_a_token_endpoint_that_ignores_the_credentials_fails_token_api(
    serve: ServeFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKEN_KEY", "demo-key")
    mock = serve("voucher-token-api")
    strict = {**_token(mock), "body": {"username": "cdp", "apiKey": "${TOKEN_KEY}"}}
    assert _certify(_connection(mock, auth=strict)).findings == []
    # A token endpoint that checks only the tenant hands tokens to a wrong key too.
    data = yaml.safe_load((SCENARIOS / "voucher-token-api.yaml").read_text())
    data["auth"]["credentials"] = {"params": {"tenant": "cdp"}}
    lax = serve(data)
    conn = _connection(
        lax, auth={**_token(lax), "params": {"tenant": "cdp"}, "body": {"apiKey": "${TOKEN_KEY}"}}
    )
    errors = _errors(_certify(conn))
    assert [f.key for f in errors["token_api"]] == ["token_api:wrong credentials accepted"]


def test_a_slow_partner_gets_a_latency_warning_and_still_passes(serve: ServeFn) -> None:
    mock = serve(_with_bug({"type": "delay", "seconds": 0.05}))
    options = CertifyOptions(examples=5, seed=1, max_rps=0, database=None, latency_budget_ms=10)
    report = _certify(_connection(mock, auth={"type": "none"}), options)
    assert report.passed
    [finding] = report.findings
    assert (finding.check, finding.severity) == ("latency", "warning")


def test_the_same_seed_repeats_a_run_exactly(serve: ServeFn) -> None:
    mock = serve(_with_bug({"type": "status", "status": 500}, when={"email": {"contains": "+"}}))
    first, second = (_certify(_connection(mock, auth={"type": "none"})) for _ in range(2))
    assert first.examples == second.examples
    assert [(f.key, f.profile) for f in first.findings] == [
        (f.key, f.profile) for f in second.findings
    ]


def _write_connection(tmp_path: Path, mock: Running, **overrides: Any) -> Path:
    path = tmp_path / "partner.yaml"
    data: dict[str, Any] = {
        "endpoint": f"{mock.url}/voucher",
        "auth": {"type": "api_key", "header": "X-Partner-Sig", "value": "${CANARY_SIG}"},
        "params": {"phone": "{{phone}}", "email": "{{email}}"},
        **overrides,
    }
    path.write_text(yaml.safe_dump(data))
    return path


class TestCommandLine:
    def test_reports_and_exit_code_for_a_failing_partner(
        self, serve: ServeFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("CANARY_SIG", "canary-sig-9d2f7")
        mock = serve(
            _with_bug(
                {"type": "status", "status": 500},
                when={"email": {"contains": "+"}},
                auth={"type": "api_key", "header": "X-Partner-Sig", "value": "canary-sig-9d2f7"},
            )
        )
        path = _write_connection(tmp_path, mock)
        out, err = io.StringIO(), io.StringIO()
        code = run(
            [
                "certify",
                str(path),
                "--examples",
                "20",
                "--seed",
                "3",
                "--max-rps",
                "0",
                "--no-example-db",
                "--json",
                str(tmp_path / "r.json"),
                "--junit-xml",
                str(tmp_path / "r.xml"),
                "--report",
                str(tmp_path / "r.md"),
            ],
            stdout=out,
            stderr=err,
        )
        assert code == 1
        report = json.loads((tmp_path / "r.json").read_text())
        assert set(report) >= {
            "tool",
            "version",
            "mode",
            "target",
            "seed",
            "examples",
            "passed",
            "checks",
            "findings",
        }
        assert (report["tool"], report["mode"], report["seed"], report["passed"]) == (
            "postback-kit",
            "certify",
            3,
            False,
        )
        assert [c["name"] for c in report["checks"]] == list(CHECKS)
        [finding] = report["findings"]
        assert finding["check"] == "robustness"
        assert finding["request"]["headers"]["X-Partner-Sig"] == "***"
        assert finding["reproduce"].endswith("-H 'X-Partner-Sig: ***'")
        suite = ET.parse(tmp_path / "r.xml").getroot()
        cases = {c.get("name"): c for c in suite.iter("testcase")}
        assert list(cases) == list(CHECKS)
        failure = cases["robustness"].find("failure")
        assert failure is not None
        assert "curl" in (failure.text or "")
        assert cases["token_api"].find("skipped") is not None
        markdown = (tmp_path / "r.md").read_text()
        assert markdown.startswith("# postback-kit certificate: FAILED")
        assert "| robustness | failed |" in markdown
        everything = (
            out.getvalue()
            + err.getvalue()
            + markdown
            + (tmp_path / "r.xml").read_text()
            + json.dumps(report)
        )
        assert "canary-sig-9d2f7" not in everything
        assert "seed 3" in err.getvalue() + out.getvalue()

    def test_show_secrets_prints_real_credentials_on_the_terminal_only(
        self, serve: ServeFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("CANARY_SIG", "canary-sig-9d2f7")
        mock = serve(_with_bug({"type": "content_type", "content_type": "text/plain"}))
        path = _write_connection(tmp_path, mock)
        out = io.StringIO()
        code = run(
            [
                "certify",
                str(path),
                "--examples",
                "5",
                "--max-rps",
                "0",
                "--no-example-db",
                "--show-secrets",
                "--report",
                str(tmp_path / "r.html"),
            ],
            stdout=out,
            stderr=io.StringIO(),
        )
        assert code == 1
        assert "X-Partner-Sig: canary-sig-9d2f7" in out.getvalue()
        html = (tmp_path / "r.html").read_text()
        assert "FAILED" in html
        assert "canary-sig-9d2f7" not in html

    def test_a_passing_partner_exits_0(self, serve: ServeFn, tmp_path: Path) -> None:
        mock = serve("voucher-get")
        path = _write_connection(
            tmp_path, mock, auth={"type": "api_key", "header": "token-key", "value": "demo-key"}
        )
        out = io.StringIO()
        assert (
            run(
                ["certify", str(path), "--examples", "10", "--max-rps", "0", "--no-example-db"],
                stdout=out,
                stderr=io.StringIO(),
            )
            == 0
        )
        assert "PASSED" in out.getvalue()

    def test_dry_run_sends_nothing(self, serve: ServeFn, tmp_path: Path) -> None:
        mock = serve("voucher-get")
        path = _write_connection(
            tmp_path, mock, auth={"type": "api_key", "header": "token-key", "value": "demo-key"}
        )
        out = io.StringIO()
        assert (
            run(
                ["certify", str(path), "--examples", "5", "--seed", "1", "--dry-run"],
                stdout=out,
                stderr=io.StringIO(),
            )
            == 0
        )
        lines = out.getvalue().splitlines()
        assert len(lines) == 6 + 5
        assert all(line.startswith("curl -sS ") and "token-key: ***" in line for line in lines)
        assert mock.journal() == []

    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            (["--examples", "0"], "--examples must be at least 1"),
            (["--max-rps", "-1"], "--max-rps"),
            (["--report", "r.txt"], "--report takes a .md or .html file"),
        ],
    )
    def test_usage_errors_exit_2(self, tmp_path: Path, argv: list[str], message: str) -> None:
        path = tmp_path / "c.yaml"
        path.write_text("endpoint: http://127.0.0.1:9/v\n")
        err = io.StringIO()
        assert run(["certify", str(path), *argv], stdout=io.StringIO(), stderr=err) == 2
        assert message in err.getvalue()
