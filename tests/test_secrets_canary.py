"""Canary secrets: unique values configured as an API key under a custom header name, a token
API password and an OAuth client secret go through serve (with its access log), call
--verbose, certify against a failing partner (so reproductions are printed) with every report
format, and verify-client with a buggy client; every output, log, journal, report and curl
line is searched for them, in the forms they travel in (as is, percent-encoded, Base64 inside
HTTP Basic): zero hits. Phone numbers and emails are then masked with --redact-pii."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
import yaml

from mockserver.cli import run
from mockserver.verify._jobs import DEMO
from tests.conftest import ROOT, SCENARIOS, serve_workers, wait_until_answers

API_KEY = "cnry-apikey-4b1f9e0c"
TOKEN_PASSWORD = "cnry-tokenpw-55c1d7a2"
CLIENT_ID = "cnry-client"
CLIENT_SECRET = "cnry-clientsecret-91b2f3"
CANARIES = (API_KEY, TOKEN_PASSWORD, CLIENT_SECRET)
PROFILE = {"phone": "0359677657", "email": "dee+canary@bytetech.io"}


def forms(secret: str) -> set[str]:
    """A secret as it may travel: as is, percent-encoded, and Base64 inside Basic auth."""
    found = {secret, quote(secret, safe=""), quote_plus(secret)}
    for user in (CLIENT_ID, quote_plus(CLIENT_ID)):
        for value in (secret, quote_plus(secret)):
            found.add(base64.b64encode(f"{user}:{value}".encode()).decode())
    return found


def leaks(text: str, secrets: tuple[str, ...] = CANARIES) -> list[str]:
    return sorted({form for secret in secrets for form in forms(secret) if form in text})


def scenario(name: str, tmp: Path, **auth: Any) -> Path:
    data: dict[str, Any] = yaml.safe_load((SCENARIOS / f"{name}.yaml").read_text())
    data["auth"] = {**data["auth"], **auth}
    # A failing partner: certify finds 500s and prints their reproductions.
    data["faults"] = {"seed": 1, "mix": [{"type": "status", "status": 500, "probability": 0.3}]}
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def partners(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[str, Path]]]:
    """Three mock partners, each on its own ``serve --access-log`` process, and the
    connection file for each."""
    tmp = tmp_path_factory.mktemp("canary")
    files = {
        "api_key": scenario("voucher-get", tmp, header="X-Partner-Sig", value=API_KEY),
        "token_api": scenario(
            "voucher-token-api",
            tmp,
            credentials={"body": {"username": "cdp", "password": TOKEN_PASSWORD}},
        ),
        "oauth2": scenario("voucher-oauth2", tmp, client_id=CLIENT_ID, client_secret=CLIENT_SECRET),
    }
    with (
        serve_workers(str(files["api_key"]), 1, tmp, "--access-log") as key_url,
        serve_workers(str(files["token_api"]), 1, tmp, "--access-log") as token_url,
        serve_workers(str(files["oauth2"]), 1, tmp, "--access-log") as oauth_url,
    ):
        auths = {
            "api_key": {"type": "api_key", "header": "X-Partner-Sig", "value": API_KEY},
            "token_api": {
                "type": "token_api",
                "url": f"{token_url}/auth/token",
                "method": "POST",
                "body": {"username": "cdp", "password": TOKEN_PASSWORD},
                "token_field": "data.accessToken",
                "expires_field": "data.expiredAfter",
            },
            "oauth2": {
                "type": "oauth2",
                "token_url": f"{oauth_url}/oauth/token",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "client_auth": "basic",
            },
        }
        urls = {"api_key": key_url, "token_api": token_url, "oauth2": oauth_url}
        found = {}
        for kind, url in urls.items():
            connection = tmp / f"{kind}.connection.yaml"
            connection.write_text(
                yaml.safe_dump(
                    {
                        "endpoint": f"{url}/voucher",
                        "timeout_s": 5,
                        "auth": auths[kind],
                        "headers": {"X-Trace": "canary-run"},
                        "params": {"phone": "{{phone}}", "email": "{{email}}", "campaignId": "C"},
                    }
                )
            )
            found[kind] = (url, connection)
        yield found


def cli(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), stdout=out, stderr=err)
    return code, out.getvalue() + err.getvalue()


@pytest.mark.parametrize("kind", ["api_key", "token_api", "oauth2"])
def test_no_output_log_journal_report_or_curl_line_holds_a_secret(
    partners: dict[str, tuple[str, Path]], kind: str, tmp_path: Path
) -> None:
    url, connection = partners[kind]
    texts: dict[str, str] = {}
    code, texts["call --verbose"] = cli(
        "call",
        str(connection),
        "--phone",
        PROFILE["phone"],
        "--email",
        PROFILE["email"],
        "--verbose",
    )
    assert code in (0, 1)
    reports = {
        "json": tmp_path / "r.json",
        "junit": tmp_path / "r.xml",
        "md": tmp_path / "r.md",
        "html": tmp_path / "r.html",
    }
    code, texts["certify"] = cli(
        "certify",
        str(connection),
        "--examples",
        "15",
        "--max-rps",
        "0",
        "--seed",
        "2",
        "--no-example-db",
        "--json",
        str(reports["json"]),
        "--junit-xml",
        str(reports["junit"]),
        "--report",
        str(reports["md"]),
    )
    assert code == 1, texts["certify"]
    assert "curl " in texts["certify"], "the failing partner's reproductions are printed"
    cli(
        "certify", str(connection), "--examples", "5", "--max-rps", "0", "--seed", "2",
        "--no-example-db", "--report", str(reports["html"]),
    )  # fmt: skip
    for name, path in reports.items():
        texts[f"report {name}"] = path.read_text()
    texts["journal"] = httpx.get(f"{url}/__admin/requests").text
    assert '"***"' in texts["journal"]
    found = {name: leaks(text) for name, text in texts.items() if leaks(text)}
    assert found == {}


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_the_servers_own_logs_hold_no_secret(tmp_path: Path, server: str) -> None:
    """serve with --access-log, its whole stderr and stdout once it has stopped."""
    path = scenario("voucher-get", tmp_path, header="X-Partner-Sig", value=API_KEY)
    command = [sys.executable, "-m", "mockserver", "serve", str(path), "--port", "0"]
    process = subprocess.Popen(
        [*command, "--access-log", "--server", server],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    banner = process.stderr.readline()
    url = "/".join(banner.split(" on ")[1].split()[0].split("/")[:3])
    try:
        wait_until_answers(f"{url}/__admin/health", process, within=20, what=f"serve ({server})")
        for key in (API_KEY, "wrong"):
            for _ in range(5):
                httpx.get(
                    f"{url}/voucher",
                    params={"phone": "1", "email": "a@b.c", "campaignId": "x", "k": API_KEY},
                    headers={"X-Partner-Sig": key, "Authorization": f"Bearer {API_KEY}"},
                )
    finally:
        process.terminate()
        out, err = process.communicate(timeout=20)
    assert "GET /voucher" in out + err, "the access log is on"
    assert leaks(banner + out + err) == []


def test_verify_client_reports_hold_none_of_its_credentials(tmp_path: Path) -> None:
    """verify-client's own demo credentials, with a buggy client whose findings show jobs."""
    report = tmp_path / "v.json"
    code, text = cli(
        "verify-client",
        "--command",
        f"{sys.executable} {ROOT / 'tests' / 'clients' / 'buggy.py'} never_refresh",
        "--examples",
        "48",
        "--seed",
        "1",
        "--no-example-db",
        "--json",
        str(report),
        "--report",
        str(tmp_path / "v.md"),
    )
    assert code == 1
    demo = (DEMO["api_key"], DEMO["password"], DEMO["client_secret"])
    everything = text + report.read_text() + (tmp_path / "v.md").read_text()
    assert leaks(everything, demo) == []
    assert json.loads(report.read_text())["findings"]


def test_redact_pii_masks_phones_and_emails_everywhere(
    partners: dict[str, tuple[str, Path]], tmp_path: Path
) -> None:
    _, connection = partners["api_key"]
    common = ["certify", str(connection), "--examples", "15", "--max-rps", "0", "--seed", "2"]
    plain = tmp_path / "plain.json"
    code, _ = cli(*common, "--no-example-db", "--json", str(plain))
    assert code == 1
    findings = json.loads(plain.read_text())["findings"]
    values = {f["profile"][k] for f in findings if f.get("profile") for k in ("phone", "email")}
    values = {v for v in values if len(v) >= 4}
    assert values, "the findings carry profiles to mask"
    redacted = tmp_path / "redacted.json"
    md = tmp_path / "redacted.md"
    code, text = cli(
        *common, "--no-example-db", "--redact-pii", "--json", str(redacted), "--report", str(md)
    )
    assert code == 1
    everything = text + redacted.read_text() + md.read_text()
    shown = sorted(
        form
        for value in values
        for form in {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
        if form in everything
    )
    assert shown == []
    assert '"phone": "***"' in redacted.read_text()
