"""The reference client and certify against a hostile partner (tests/hostile.py): every case
ends in a clean result with a failure, in bounded time and memory, never a crash or a hang."""

from __future__ import annotations

import json
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from mockserver.cli import run
from mockserver.client import PostbackClient
from mockserver.client._decode import BodyTooLarge, CappedDecoder, UnsupportedEncoding
from mockserver.contract import NormalizedResult
from mockserver.models import Connection, Scenario
from mockserver.server import ServerThread, create_app
from tests.conftest import SCENARIOS
from tests.hostile import OK_BODY, HostilePartner, gzip_bomb

PROFILE = {"phone": "0359677657", "email": "dee@bytetech.io"}
OK = NormalizedResult(success=True, error_code=0, message="ok", data={"code": "E094"})
KEY = {"type": "api_key", "header": "token-key", "value": "hostile-canary-key"}


class Hostile:
    def __init__(self, partner: HostilePartner, server: ServerThread) -> None:
        self.partner = partner
        self.url = server.url


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    partner = HostilePartner()
    with ServerThread(partner) as server:
        yield Hostile(partner, server)


@pytest.fixture
def elsewhere() -> Iterator[Hostile]:
    """Another origin (another port) that records whatever reaches it."""
    partner = HostilePartner()
    with ServerThread(partner) as server:
        yield Hostile(partner, server)


def connection(url: str, **fields: Any) -> Connection:
    data: dict[str, Any] = {"endpoint": url, "timeout_s": 5, "auth": KEY, **fields}
    return Connection.from_dict(data, source="<hostile>", environ={})


def call(conn: Connection, times: int = 1) -> list[NormalizedResult]:
    with PostbackClient(conn) as client:
        return [client.call(PROFILE) for _ in range(times)]


# -- redirects ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [302, 307])
def test_a_cross_origin_redirect_carries_no_credential_anywhere(
    hostile: Hostile, elsewhere: Hostile, status: int
) -> None:
    target = f"{elsewhere.url}/data"
    conn = connection(
        f"{hostile.url}/redirect/{status}?to={target}",
        headers={"X-Tenant-Secret": "tenant-canary"},
    )
    [result] = call(conn)
    assert result.failure == "http_status"
    assert result.detail == (
        f"HTTP {status} redirect to {target} not followed "
        "(another origin: credentials are never sent there)"
    )
    assert elsewhere.partner.requests == [], "nothing at all reached the other origin"
    oauth = connection(
        f"{hostile.url}/redirect/{status}?to={target}",
        auth={
            "type": "oauth2",
            "token_url": f"{hostile.url}/oauth/token/string",
            "client_id": "cdp",
            "client_secret": "oauth-canary",
        },
    )
    assert call(oauth)[0].failure == "http_status"
    assert elsewhere.partner.requests == []


# -- size: a body too big, endless, or a bomb ----------------------------------------------


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("big", "the response declares 52428800 bytes, over the 1048576-byte limit"),
        ("big-chunked", "the response is over the 1048576-byte limit (decoded)"),
        ("endless", "the response is over the 1048576-byte limit (decoded)"),
        ("gzip-bomb", "the response is over the 1048576-byte limit (decoded)"),
    ],
)
def test_an_oversized_answer_is_cut_at_the_cap_in_bounded_memory(
    hostile: Hostile, path: str, detail: str
) -> None:
    conn = connection(f"{hostile.url}/{path}")
    if path == "gzip-bomb":
        gzip_bomb()  # built before measuring: the partner's memory is not the client's
    tracemalloc.start()
    try:
        started = time.monotonic()
        [result] = call(conn)
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (result.failure, result.detail) == ("invalid_body", detail)
    assert elapsed < 5
    # The cap is 1 MiB; a decoder without a bound holds ~64 MB for one 64 KB read of the bomb.
    assert peak < 12 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_a_dribbling_partner_is_cut_off_by_the_overall_deadline(hostile: Hostile) -> None:
    # One byte every 0.5 s: httpx's read timeout (per chunk) would wait forever.
    conn = connection(f"{hostile.url}/dribble", timeout_s=1.2)
    started = time.monotonic()
    [result] = call(conn)
    assert (result.failure, result.detail) == ("transport", "no complete answer within 1.2s")
    assert time.monotonic() - started < 3


# -- JSON a lenient parser accepts --------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("nan", "NaN"),
        ("dup", "duplicate key 'success'"),
        ("digits", "a number has more than 4300 digits"),
        ("deep", "nested deeper than 64"),
    ],
)
def test_json_the_contract_forbids_is_invalid_body(
    hostile: Hostile, kind: str, reason: str
) -> None:
    [result] = call(connection(f"{hostile.url}/json/{kind}"))
    assert result.failure == "invalid_body"
    assert reason in (result.detail or ""), result.detail


# -- Retry-After ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "least", "most"),
    [
        ("seconds", 0.9, 3.0),  # "1": waited as told
        ("date", 0.5, 3.5),  # an HTTP date ~2 s ahead (whole seconds)
        ("garbage", 0.0, 1.0),  # unreadable: jittered backoff of ~0.05 s instead
        ("86400", 0.3, 1.5),  # a day: capped at max_wait_s
    ],
)
def test_retry_after_is_read_capped_or_replaced_by_backoff(
    hostile: Hostile, kind: str, least: float, most: float
) -> None:
    retry = {"attempts": 2, "backoff_s": 0.05, "max_wait_s": 0.3 if kind == "86400" else 5}
    conn = connection(f"{hostile.url}/429/{kind}", retry=retry)
    started = time.monotonic()
    [result] = call(conn)
    elapsed = time.monotonic() - started
    assert result == OK
    assert least <= elapsed < most, elapsed
    assert len(hostile.partner.calls("/429")) == 2


def test_endless_429s_end_in_a_clean_give_up(hostile: Hostile) -> None:
    retry = {"attempts": 3, "backoff_s": 0.01, "max_wait_s": 0.05}
    [result] = call(connection(f"{hostile.url}/429/86400/always", retry=retry))
    assert result.failure == "http_status"
    assert (result.detail or "").startswith("HTTP 429")
    assert len(hostile.partner.calls("/429")) == 3


# -- token endpoints --------------------------------------------------------------------------


def oauth(hostile: Hostile, variant: str, data: str = "data") -> Connection:
    return connection(
        f"{hostile.url}/{data}",
        auth={
            "type": "oauth2",
            "token_url": f"{hostile.url}/oauth/token/{variant}",
            "client_id": "cdp",
            "client_secret": "oauth-canary",
        },
    )


@pytest.mark.parametrize(
    ("variant", "token_calls"),
    [
        ("missing", 3),  # no expires_in: never cached (SPEC 1.4.4), one token per call
        ("zero", 3),
        ("negative", 3),
        ("string", 1),  # "3600" is read as 3600 s
        ("lowercase", 1),  # token_type "bearer" is Bearer
    ],
)
def test_token_lifetimes_the_endpoint_garbles_get_sane_defaults(
    hostile: Hostile, variant: str, token_calls: int
) -> None:
    results = call(oauth(hostile, variant), times=3)
    assert results == [OK, OK, OK]
    assert len(hostile.partner.calls("/oauth")) == token_calls, "no refresh storm"
    assert len(hostile.partner.calls("/data")) == 3


def test_401_twice_refreshes_once_then_fails_cleanly(hostile: Hostile) -> None:
    [result] = call(oauth(hostile, "string", data="always-401"))
    # SPEC 1.3: a data call's non-2xx without a contract body is http_status (auth is for
    # the token call itself failing).
    assert result.failure == "http_status"
    assert (result.detail or "").startswith("HTTP 401")
    assert [r["path"].split("/")[1] for r in hostile.partner.requests] == [
        "oauth",
        "always-401",
        "oauth",
        "always-401",
    ]


# -- certify against the same partner --------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["redirect/307?to=http://localhost:9/data", "gzip-bomb", "endless", "json/deep", "dribble"],
)
def test_certify_reports_a_hostile_partner_as_findings(
    hostile: Hostile, tmp_path: Path, path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    conn = tmp_path / "hostile.yaml"
    timeout = 0.3 if path == "dribble" else 5
    conn.write_text(
        yaml.safe_dump(
            {
                "endpoint": f"{hostile.url}/{path}",
                "timeout_s": timeout,
                "auth": KEY,
                "params": {"phone": "{{phone}}", "email": "{{email}}"},
            }
        )
    )
    report = tmp_path / "report.json"
    started = time.monotonic()
    code = run(
        [
            "certify",
            str(conn),
            "--examples",
            "3",
            "--max-rps",
            "0",
            "--concurrency",
            "8",
            "--seed",
            "1",
            "--no-example-db",
            "--json",
            str(report),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert "Traceback" not in out + err
    assert time.monotonic() - started < 60
    findings = json.loads(report.read_text())["findings"]
    assert findings, "the partner's misbehaviour is reported"
    assert "hostile-canary-key" not in out + err + report.read_text()


# -- content-encoding, decoded under the cap ----------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "pack"),
    [
        ("gzip", lambda b: zlib.compress(b, wbits=16 + zlib.MAX_WBITS)),
        ("deflate", zlib.compress),  # zlib-wrapped, as RFC 9110 says
        ("deflate", lambda b: zlib.compress(b, wbits=-zlib.MAX_WBITS)),  # raw, as some send
        ("identity", lambda b: b),
        (None, lambda b: b),
    ],
)
def test_the_capped_decoder_reads_what_the_client_offers(
    encoding: str | None, pack: Callable[[bytes], bytes]
) -> None:
    body = OK_BODY * 100
    packed = pack(body)
    decoder = CappedDecoder(encoding, cap=len(body))
    for i in range(0, len(packed), 7):  # in small pieces, as a socket delivers them
        decoder.feed(packed[i : i + 7])
    assert decoder.finish() == body
    over = CappedDecoder(encoding, cap=len(body) - 1)

    def read_all() -> bytes:
        over.feed(packed)
        return over.finish()

    with pytest.raises(BodyTooLarge):
        read_all()


@pytest.mark.parametrize(
    ("encoding", "raw", "message"),
    [
        ("br", b"", "content-encoding 'br' (the client offers gzip, deflate)"),
        ("gzip, gzip", b"", "stacked content-encodings 'gzip, gzip'"),
        ("gzip", b"not gzip at all", "the gzip body is corrupt"),
    ],
)
def test_an_encoding_it_cannot_read_is_a_one_line_error(
    encoding: str, raw: bytes, message: str
) -> None:
    def read() -> None:
        CappedDecoder(encoding, cap=1000).feed(raw)

    with pytest.raises((UnsupportedEncoding, ValueError)) as info:
        read()
    assert str(info.value).startswith(message)


# -- shrinking under faults -------------------------------------------------------------------


@pytest.mark.parametrize("fault", [{"type": "reset"}, {"type": "status", "status": 500}])
def test_a_failure_that_does_not_repeat_while_shrinking_is_inconclusive_not_a_crash(
    tmp_path: Path, fault: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """The partner fails a third of its answers at random: Hypothesis sees a failure, replays
    it to shrink, the partner answers, and Hypothesis would raise Flaky. certify reports such
    a failure as inconclusive instead, and finishes."""
    scenario = yaml.safe_load((SCENARIOS / "voucher-get.yaml").read_text())
    scenario["faults"] = {"seed": 3, "mix": [{**fault, "probability": 0.34}]}
    with ServerThread(create_app(Scenario.from_dict(scenario, environ={}))) as server:
        conn = tmp_path / "c.yaml"
        conn.write_text(
            yaml.safe_dump(
                {
                    "endpoint": f"{server.url}/voucher",
                    "timeout_s": 5,
                    "auth": {"type": "api_key", "header": "token-key", "value": "demo-key"},
                    "params": {"phone": "{{phone}}", "email": "{{email}}", "campaignId": "B"},
                }
            )
        )
        report = tmp_path / "r.json"
        argv = ["certify", str(conn), "--examples", "30", "--max-rps", "0", "--seed", "5"]
        code = run([*argv, "--no-example-db", "--json", str(report)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "Flaky" not in out + err
    findings = json.loads(report.read_text())["findings"]
    inconclusive = [f for f in findings if f.get("inconclusive")]
    assert inconclusive, findings
    assert all(
        f["message"].endswith("(did not repeat on replay: inconclusive)") for f in inconclusive
    )
    assert code == 1
