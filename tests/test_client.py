"""The reference client against the real mock partner over HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.client import AsyncPostbackClient, Exchange, PostbackClient
from mockserver.contract import ALL_SHAPES, NormalizedResult
from mockserver.models import BREACHES, Connection
from tests.conftest import SCENARIOS, Running, ServeFn
from tests.conftest import voucher_connection as connection

PROFILE = {"phone": "0359677657", "email": "dee@bytetech.io"}
E094 = {"code": "E094", "expired": False, "value": 10000}
OK = NormalizedResult(success=True, error_code=0, message="Your request has done", data=E094)


def call(conn: Connection, profile: dict[str, Any] | None = None) -> NormalizedResult:
    with PostbackClient(conn) as client:
        return client.call(PROFILE if profile is None else profile)


def _scenario(name: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((SCENARIOS / f"{name}.yaml").read_text())
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data


class TestAuthTypes:
    def test_api_key_get(self, serve: ServeFn) -> None:
        mock = serve("voucher-get")
        assert call(connection(mock)) == OK
        [entry] = mock.journal()
        assert ["token-key", "***"] in entry["headers"]

    def test_api_key_post_with_a_json_payload(self, serve: ServeFn) -> None:
        mock = serve("voucher-post")
        payload = {
            "phone": "{{phone}}",
            "email": "{{email}}",
            "param01": "00000001",
            "param02": "ANY-VALUE",
        }
        result = call(connection(mock, method="POST", payload=payload))
        assert (result.success, result.data) == (True, E094)
        [entry] = mock.journal()
        assert ["content-type", "application/json"] in entry["headers"]
        import json

        assert json.loads(entry["body"]) == {
            **PROFILE,
            "param01": "00000001",
            "param02": "ANY-VALUE",
        }

    def test_a_wrong_key_is_the_partners_refusal_not_a_failure(self, serve: ServeFn) -> None:
        mock = serve("voucher-get")
        result = call(
            connection(mock, auth={"type": "api_key", "header": "token-key", "value": "nope"})
        )
        assert result == NormalizedResult(
            success=False, error_code="Unauthorized", message="invalid API key"
        )

    def test_no_auth(self, serve: ServeFn) -> None:
        mock = serve("all-variants")
        assert call(connection(mock, auth={"type": "none"})).success is True

    def test_token_api_caches_the_token_for_its_lifetime(self, serve: ServeFn) -> None:
        mock = serve("voucher-token-api")
        conn = connection(mock, auth=_token_auth(mock))
        with PostbackClient(conn) as client:
            assert [client.call(PROFILE).success for _ in range(3)] == [True] * 3
        assert _token_calls(mock) == 1

    def test_token_api_without_a_lifetime_fetches_a_token_per_call(self, serve: ServeFn) -> None:
        mock = serve("voucher-token-api")
        auth = {k: v for k, v in _token_auth(mock).items() if k != "expires_field"}
        with PostbackClient(connection(mock, auth=auth)) as client:
            assert [client.call(PROFILE).success for _ in range(3)] == [True] * 3
        assert _token_calls(mock) == 3

    def test_token_api_refreshes_after_expiry(self, serve: ServeFn) -> None:
        mock = serve(_scenario("voucher-token-api", auth={"lifetime_s": 1.0}))
        with PostbackClient(connection(mock, auth=_token_auth(mock))) as client:
            assert client.call(PROFILE).success
            assert client.call(PROFILE).success
            time.sleep(1.0)
            assert client.call(PROFILE).success
        assert _token_calls(mock) == 2
        assert [e["status"] for e in mock.journal() if e["path"] == "/voucher"] == [200, 200, 200]

    def test_token_api_refreshes_once_after_a_401(self, serve: ServeFn) -> None:
        # The partner says 3600 s but revokes after 0.3 s: the client must refresh on the 401.
        mock = serve(
            _scenario(
                "voucher-token-api",
                auth={
                    "lifetime_s": 0.3,
                    "expires_field": None,
                    "response": {
                        "success": True,
                        "statusCode": 200,
                        "data": {"expiredAfter": 3600},
                    },
                },
            )
        )
        with PostbackClient(connection(mock, auth=_token_auth(mock))) as client:
            assert client.call(PROFILE).success
            time.sleep(0.4)
            assert client.call(PROFILE).success
        assert _token_calls(mock) == 2
        assert [e["status"] for e in mock.journal() if e["path"] == "/voucher"] == [200, 401, 200]

    def test_two_401s_in_a_row_mean_one_refresh_then_the_refusal(self, serve: ServeFn) -> None:
        mock = serve("voucher-token-api")
        auth = {**_token_auth(mock), "header": "X-Token"}  # the partner never sees the token
        result = call(connection(mock, auth=auth))
        assert (result.success, result.error_code, result.failure) == (False, "Unauthorized", None)
        assert _token_calls(mock) == 2

    def test_concurrent_calls_share_one_token_fetch(self, serve: ServeFn) -> None:
        mock = serve("voucher-token-api")
        conn = connection(mock, auth=_token_auth(mock))

        async def many() -> list[NormalizedResult]:
            async with AsyncPostbackClient(conn) as client:
                return await asyncio.gather(*(client.call(PROFILE) for _ in range(20)))

        assert all(r.success for r in asyncio.run(many()))
        assert _token_calls(mock) == 1

    def test_token_api_wrong_credentials_is_an_auth_failure(self, serve: ServeFn) -> None:
        mock = serve("voucher-token-api")
        auth = {**_token_auth(mock), "body": {"username": "cdp", "apiKey": "wrong"}}
        result = call(connection(mock, auth=auth))
        assert result.failure == "auth"
        assert result.detail == "the token API answered HTTP 401"

    def test_token_api_with_no_token_at_the_field_is_an_auth_failure(self, serve: ServeFn) -> None:
        mock = serve("voucher-token-api")
        result = call(connection(mock, auth={**_token_auth(mock), "token_field": "data.token"}))
        assert result.failure == "auth"
        assert "data.token" in (result.detail or "")

    @pytest.mark.parametrize("client_auth", ["basic", "body"])
    def test_oauth2_client_credentials(self, serve: ServeFn, client_auth: str) -> None:
        mock = serve("voucher-oauth2")
        conn = connection(mock, auth=_oauth(mock, client_auth=client_auth, scope="vouchers"))
        with PostbackClient(conn) as client:
            assert client.call(PROFILE) == OK
            assert client.call(PROFILE) == OK
        token_calls = [e for e in mock.journal() if e["path"] == "/oauth/token"]
        assert len(token_calls) == 1
        assert "demo-secret" not in str(mock.journal())

    def test_oauth2_wrong_secret_is_an_auth_failure_naming_the_rfc_error(
        self, serve: ServeFn
    ) -> None:
        mock = serve("voucher-oauth2")
        result = call(connection(mock, auth=_oauth(mock, client_secret="wrong")))
        assert result.failure == "auth"
        assert result.detail == "the OAuth token endpoint answered HTTP 401 (invalid_client)"


def _token_auth(mock: Running) -> dict[str, Any]:
    return {
        "type": "token_api",
        "url": f"{mock.url}/auth/token",
        "body": {"username": "cdp", "apiKey": "demo-key"},
        "token_field": "data.accessToken",
        "expires_field": "data.expiredAfter",
    }


def _oauth(mock: Running, **changes: Any) -> dict[str, Any]:
    return {
        "type": "oauth2",
        "token_url": f"{mock.url}/oauth/token",
        "client_id": "demo-client",
        "client_secret": "demo-secret",
        **changes,
    }


def _token_calls(mock: Running) -> int:
    return sum(1 for e in mock.journal() if e["path"] in {"/auth/token", "/oauth/token"})


@pytest.fixture(scope="module")
def variants() -> Iterator[Running]:
    from mockserver.models import load_scenario
    from mockserver.server import ServerThread, create_app

    scenario = load_scenario("all-variants")
    running = Running(ServerThread(create_app(scenario)).start(), scenario)
    yield running
    running.close()


def test_every_one_of_the_96_shapes_normalizes_the_same(variants: Running) -> None:
    variants.http.post("/__admin/reset")
    conn = connection(variants, auth={"type": "none"})
    with PostbackClient(conn) as client:
        results = [client.call(PROFILE) for _ in ALL_SHAPES]
    for shape, result in zip(ALL_SHAPES, results, strict=True):
        assert result == NormalizedResult(
            success=True,
            error_code=0 if shape.error_code else None,
            message="Your request has done" if shape.message else None,
            data=E094,
        ), shape


def _faulty(serve: ServeFn, fault: dict[str, Any]) -> Running:
    return serve(
        {
            "name": "faulty",
            "path": "/voucher",
            "cases": [
                {
                    "name": "d",
                    "fault": fault,
                    "response": {
                        "success": True,
                        "error_code": 0,
                        "message": "ok",
                        "data": {"v": 1},
                    },
                }
            ],
        }
    )


@pytest.mark.parametrize(
    ("fault", "failure"),
    [
        ({"type": "reset"}, "transport"),
        ({"type": "empty_reply"}, "transport"),
        ({"type": "truncate", "mode": "content_length"}, "transport"),
        ({"type": "truncate", "mode": "chunked"}, "transport"),
        ({"type": "hang", "seconds": 30}, "transport"),
        ({"type": "delay", "seconds": 0.05}, None),
        ({"type": "malformed_json"}, "invalid_body"),
        ({"type": "content_type", "content_type": "text/plain"}, None),
        ({"type": "html_error"}, "http_status"),
        ({"type": "html_error", "status": 200}, "invalid_body"),
        ({"type": "status", "status": 500}, "http_status"),
        ({"type": "status", "status": 502}, "http_status"),
        ({"type": "status", "status": 503}, "http_status"),
        ({"type": "status", "status": 504}, "http_status"),
        ({"type": "rate_limit"}, "http_status"),
        ({"type": "oversized", "bytes": 2 * 1024 * 1024}, "invalid_body"),
        ({"type": "oversized", "bytes": 512 * 1024}, None),
        ({"type": "redirect", "status": 302}, None),
        ({"type": "redirect", "status": 307}, None),
        ({"type": "redirect", "to": "cross_origin"}, "http_status"),
        *[
            (
                {"type": "contract", "breach": b},
                "invalid_body" if b in {"top_level_array", "duplicate_keys", "nan"} else "contract",
            )
            for b in BREACHES
        ],
    ],
    ids=lambda v: v if isinstance(v, str) or v is None else "-".join(str(x) for x in v.values()),
)
def test_every_fault_ends_in_the_right_failure(
    serve: ServeFn, fault: dict[str, Any], failure: str | None
) -> None:
    mock = _faulty(serve, fault)
    result = call(connection(mock, auth={"type": "none"}, timeout_s=0.5))
    assert result.failure == failure, result.detail
    if failure is None:
        assert result.success is True
    else:
        assert (result.success, result.data) == (False, None)
        assert result.detail


def test_a_dribbling_partner_cannot_defeat_the_deadline(serve: ServeFn) -> None:
    # A hang answered late: the whole exchange is bounded by timeout_s, not per read.
    mock = _faulty(serve, {"type": "delay", "seconds": 2})
    started = time.monotonic()
    result = call(connection(mock, auth={"type": "none"}, timeout_s=0.3))
    assert result.failure == "transport"
    assert result.detail == "no complete answer within 0.3s"
    assert time.monotonic() - started < 1.5


def test_a_cross_origin_redirect_never_carries_the_key(serve: ServeFn) -> None:
    other = serve("voucher-get")
    mock = serve(
        {
            "name": "redirector",
            "path": "/voucher",
            "auth": {"type": "api_key", "header": "X-Partner-Sig", "value": "sig-secret"},
            "cases": [
                {
                    "name": "d",
                    "fault": {
                        "type": "redirect",
                        "status": 307,
                        "location": f"{other.url}/voucher",
                    },
                    "response": {"success": True, "data": {}},
                }
            ],
        }
    )
    conn = connection(
        mock, auth={"type": "api_key", "header": "X-Partner-Sig", "value": "sig-secret"}
    )
    result = call(conn)
    assert result.failure == "http_status"
    assert "another origin" in (result.detail or "")
    assert other.journal() == []
    localhost = serve(
        {
            "name": "to-localhost",
            "path": "/voucher",
            "cases": [
                {
                    "name": "d",
                    "fault": {"type": "redirect", "to": "cross_origin"},
                    "response": {"success": True, "data": {}},
                }
            ],
        }
    )
    call(connection(localhost))
    hosts = [dict(e["headers"])["host"] for e in localhost.journal()]
    assert hosts == [f"127.0.0.1:{localhost.server.port}"]


def test_retries_turn_a_transient_503_into_the_answer(serve: ServeFn) -> None:
    mock = serve("voucher-get")
    mock.http.post("/__admin/faults", json={"fault": {"type": "status", "status": 503}, "count": 2})
    conn = connection(mock, retry={"attempts": 3, "backoff_s": 0.01})
    assert call(conn) == OK
    assert [e["status"] for e in mock.journal()] == [503, 503, 200]


def test_a_post_is_not_retried_unless_the_connection_allows_it(serve: ServeFn) -> None:
    mock = serve("voucher-post")
    payload = {"phone": "{{phone}}", "email": "{{email}}", "param01": "1", "param02": "2"}
    mock.http.post("/__admin/faults", json={"fault": {"type": "status", "status": 503}, "count": 1})
    result = call(
        connection(mock, method="POST", payload=payload, retry={"attempts": 3, "backoff_s": 0.01})
    )
    assert result.failure == "http_status"
    mock.http.post("/__admin/faults", json={"fault": {"type": "status", "status": 503}, "count": 1})
    allowed = connection(
        mock,
        method="POST",
        payload=payload,
        retry={"attempts": 3, "backoff_s": 0.01, "retry_post": True},
    )
    assert call(allowed).success is True


def test_retry_after_is_honoured_up_to_the_cap(serve: ServeFn) -> None:
    mock = serve("voucher-get")
    mock.http.post(
        "/__admin/faults", json={"fault": {"type": "rate_limit", "retry_after": 86400}, "count": 1}
    )
    started = time.monotonic()
    result = call(connection(mock, retry={"attempts": 2, "backoff_s": 0.01, "max_wait_s": 0.2}))
    assert result == OK
    assert 0.2 <= time.monotonic() - started < 5


def test_a_connection_refused_is_a_transport_failure() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = call(
        Connection.from_dict({"endpoint": f"http://127.0.0.1:{port}/voucher", "timeout_s": 2})
    )
    assert result.failure == "transport"
    assert (result.detail or "").startswith("cannot connect")


def test_verbose_traces_mask_every_credential(serve: ServeFn) -> None:
    mock = serve("voucher-token-api")
    seen: list[Exchange] = []
    conn = connection(mock, auth=_token_auth(mock))
    with PostbackClient(conn, trace=seen.append) as client:
        assert client.call(PROFILE).success
        token = client.redactor.secrets
    text = repr(seen)
    assert [e.url.split("?")[0] for e in seen] == [f"{mock.url}/auth/token", f"{mock.url}/voucher"]
    assert "demo-key" not in text
    assert len(token) == 2  # the API key and the token learnt
    for secret in token:
        assert secret not in text
    assert "***" in text


_values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "a+b@x.io",
            "a b",
            "x&y=z",
            "100%",
            "0359677657",
            "+84 359 677 657",
            "dée@bücher.de",
            "ü" * 500,
        ]
    ),
    st.text(min_size=1000, max_size=1024, alphabet=st.characters(codec="utf-8")),
)


@settings(max_examples=40)
@given(phone=_values, email=_values, attr=_values)
def test_the_request_the_mock_records_decodes_to_the_profile(
    variants: Running, phone: str, email: str, attr: str
) -> None:
    profile = {"phone": phone, "email": email, "batch": attr}
    conn = connection(
        variants,
        auth={"type": "none"},
        params={
            "phone": "{{phone}}",
            "email": "{{email}}",
            "batchId": "{{batch}}",
            "campaignId": "B&2023",
        },
    )
    with PostbackClient(conn) as client:
        client.call(profile)
    last = variants.journal()[-1]
    assert last["query"] == [
        ["phone", phone],
        ["email", email],
        ["batchId", attr],
        ["campaignId", "B&2023"],
    ]


def test_the_pool_opens_a_shard_only_when_every_shard_is_full() -> None:
    from mockserver.client._pool import PER_SHARD, ShardedPool

    async def scenario() -> list[int]:
        pool = ShardedPool(timeout=1, max_connections=3 * PER_SHARD)
        held = [pool.acquire() for _ in range(PER_SHARD)]
        sizes = [len({id(s) for s in held})]
        held.append(pool.acquire())
        sizes.append(len({id(s) for s in held}))
        held += [pool.acquire() for _ in range(10)]
        sizes.append(len({id(s) for s in held}))
        for shard in held:
            pool.release(shard)
        sizes.append(max(s.in_flight for s in held))
        await pool.aclose()
        return sizes

    assert asyncio.run(scenario()) == [1, 2, 3, 0]
