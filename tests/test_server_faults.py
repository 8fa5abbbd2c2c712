"""Each fault of the mock, seen by httpx over real TCP as a client in production sees it."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import httpx
import pytest

from mockserver.contract import interpret_response, loads_strict, validate
from mockserver.models import BREACHES
from tests.conftest import Running, ServeFn

QUERY = {"phone": "0359677657", "email": "dee@bytetech.io"}
BODY = {"success": True, "error_code": 0, "message": "ok", "data": {"code": "E094"}}


def _with_fault(serve: ServeFn, fault: dict[str, Any], **case: Any) -> Running:
    return serve(
        {
            "name": "faulty",
            "path": "/voucher",
            "cases": [
                {
                    "name": "faulty",
                    "when": {"phone": "0359677657"},
                    "fault": fault,
                    "response": BODY,
                    **case,
                },
                {"name": "fine", "response": BODY},
            ],
        }
    )


def _still_serving(mock: Running) -> None:
    response = mock.http.get("/voucher", params={"phone": "1"})
    assert response.status_code == 200
    assert response.json()["data"] == {"code": "E094"}


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"type": "reset"}, (httpx.ReadError, httpx.RemoteProtocolError)),
        ({"type": "empty_reply"}, httpx.RemoteProtocolError),
        ({"type": "truncate", "mode": "content_length"}, httpx.RemoteProtocolError),
        ({"type": "truncate", "mode": "chunked"}, httpx.RemoteProtocolError),
    ],
    ids=["reset", "empty_reply", "truncate-content-length", "truncate-chunked"],
)
def test_wire_faults_happen_on_the_wire(
    serve: ServeFn, fault: dict[str, Any], error: type[Exception] | tuple[type[Exception], ...]
) -> None:
    mock = _with_fault(serve, fault)
    with httpx.Client(base_url=mock.url) as client, pytest.raises(error) as info:
        client.get("/voucher", params=QUERY)
    if fault["type"] == "reset":
        assert isinstance(info.value.__context__ or info.value.__cause__, ConnectionResetError) or (
            "reset" in str(info.value).lower()
        )
    if fault["type"] == "empty_reply":
        assert "without sending a response" in str(info.value)
    if fault["type"] == "truncate":
        assert "incomplete" in str(info.value) or "complete message body" in str(info.value)
    _still_serving(mock)
    [entry] = [e for e in mock.journal() if e["case"] == "faulty"]
    assert entry["fault"].startswith(fault["type"])


def test_a_truncated_body_declares_more_than_it_sends(serve: ServeFn) -> None:
    import socket

    mock = _with_fault(serve, {"type": "truncate"})
    host, port = mock.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET /voucher?phone=0359677657 HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    declared = int(
        next(
            line.split(b":")[1]
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
    )
    assert 0 < len(body) < declared


def test_a_hang_outlasts_the_client_timeout_and_the_server_keeps_serving(serve: ServeFn) -> None:
    mock = _with_fault(serve, {"type": "hang", "seconds": 30})
    with httpx.Client(base_url=mock.url, timeout=0.3) as client, pytest.raises(httpx.ReadTimeout):
        client.get("/voucher", params=QUERY)
    _still_serving(mock)


def test_a_delay_answers_late_but_correctly(serve: ServeFn) -> None:
    mock = _with_fault(serve, {"type": "delay", "seconds": 0.3})
    started = time.monotonic()
    response = mock.http.get("/voucher", params=QUERY)
    assert time.monotonic() - started >= 0.3
    assert response.json()["data"] == {"code": "E094"}


def test_a_random_delay_stays_within_its_bounds(serve: ServeFn) -> None:
    mock = _with_fault(serve, {"type": "delay", "min_s": 0.05, "max_s": 0.1})
    started = time.monotonic()
    assert mock.http.get("/voucher", params=QUERY).status_code == 200
    assert time.monotonic() - started >= 0.05


@pytest.mark.parametrize(
    ("fault", "status", "content_type", "failure"),
    [
        ({"type": "malformed_json"}, 200, "application/json", "invalid_body"),
        ({"type": "content_type", "content_type": "text/plain"}, 200, "text/plain", None),
        ({"type": "html_error"}, 502, "text/html; charset=utf-8", "http_status"),
        ({"type": "html_error", "status": 200}, 200, "text/html; charset=utf-8", "invalid_body"),
        ({"type": "status", "status": 500}, 500, "text/plain; charset=utf-8", "http_status"),
        ({"type": "status", "status": 502}, 502, "text/plain; charset=utf-8", "http_status"),
        ({"type": "status", "status": 503}, 503, "text/plain; charset=utf-8", "http_status"),
        (
            {"type": "status", "status": 504, "body": "upstream timed out"},
            504,
            "text/plain; charset=utf-8",
            "http_status",
        ),
        ({"type": "rate_limit", "retry_after": 7}, 429, "text/plain; charset=utf-8", "http_status"),
    ],
)
def test_http_level_faults(
    serve: ServeFn, fault: dict[str, Any], status: int, content_type: str, failure: str | None
) -> None:
    mock = _with_fault(serve, fault)
    response = mock.http.get("/voucher", params=QUERY)
    assert response.status_code == status
    assert response.headers["content-type"] == content_type
    result = interpret_response(response.status_code, dict(response.headers), response.content)
    assert result.failure == failure
    if fault["type"] == "rate_limit":
        assert response.headers["retry-after"] == "7"
    if fault.get("body"):
        assert response.text == fault["body"]
    [entry] = [e for e in mock.journal() if e["case"] == "faulty"]
    assert entry["status"] == status


def test_an_oversized_body_is_valid_json_of_the_declared_size(serve: ServeFn) -> None:
    mock = _with_fault(serve, {"type": "oversized", "bytes": 3 * 1024 * 1024})
    response = mock.http.get("/voucher", params=QUERY)
    assert len(response.content) == int(response.headers["content-length"]) == 3 * 1024 * 1024
    assert validate(loads_strict(response.content)) == []


def test_a_same_origin_redirect_leads_to_the_answer(serve: ServeFn) -> None:
    mock = _with_fault(serve, {"type": "redirect", "status": 307})
    first = mock.http.get("/voucher", params=QUERY)
    assert first.status_code == 307
    location = httpx.URL(first.headers["location"])
    assert (location.host, location.port, location.path) == (
        "127.0.0.1",
        mock.server.port,
        "/voucher",
    )
    assert location.params["redirected"] == "1"
    assert location.params["phone"] == "0359677657"
    followed = mock.http.get("/voucher", params=QUERY, follow_redirects=True)
    assert followed.json()["data"] == {"code": "E094"}


def test_a_cross_origin_redirect_points_at_the_other_loopback_name(serve: ServeFn) -> None:
    mock = _with_fault(serve, {"type": "redirect", "to": "cross_origin"})
    location = httpx.URL(mock.http.get("/voucher", params=QUERY).headers["location"])
    assert (location.host, location.port) == ("localhost", mock.server.port)
    explicit = _with_fault(serve, {"type": "redirect", "location": "http://127.0.0.1:9/elsewhere"})
    assert (
        explicit.http.get("/voucher", params=QUERY).headers["location"]
        == "http://127.0.0.1:9/elsewhere"
    )


EXPECTED_ROLE = {
    "success_string": "success",
    "success_number": "success",
    "success_missing": "success",
    "success_ambiguous": "success",
    "data_missing": "data",
    "data_ambiguous": "data",
    "data_null_on_success": "data",
    "data_not_object": "data",
    "error_code_wrong_type": "error_code",
    "error_code_ambiguous": "error_code",
    "message_wrong_type": "message",
    "message_ambiguous": "message",
    "top_level_array": "body",
}


@pytest.mark.parametrize("breach", BREACHES)
def test_each_contract_breach_breaks_exactly_its_rule(serve: ServeFn, breach: str) -> None:
    mock = _with_fault(serve, {"type": "contract", "breach": breach})
    response = mock.http.get("/voucher", params=QUERY)
    assert response.status_code == 200
    result = interpret_response(200, dict(response.headers), response.content)
    if breach in {"duplicate_keys", "nan"}:
        assert result.failure == "invalid_body"
        return
    body = response.json()
    assert {v.role for v in validate(body)} == {EXPECTED_ROLE[breach]}
    assert result.failure == ("invalid_body" if breach == "top_level_array" else "contract")


def test_a_case_fault_with_a_probability_hits_a_share_of_requests(serve: ServeFn) -> None:
    mock = _with_fault(serve, {"type": "status", "status": 503, "probability": 0.5})
    statuses = [mock.http.get("/voucher", params=QUERY).status_code for _ in range(60)]
    assert 10 < statuses.count(503) < 50
    assert set(statuses) == {200, 503}


def _chaos_run(serve: ServeFn, requests: int) -> list[str | None]:
    mock = serve("chaos")
    for _ in range(requests):
        with contextlib.suppress(httpx.HTTPError):
            mock.http.get("/voucher", params=QUERY, headers={"token-key": "demo-key"}, timeout=0.5)
    return [e["fault"] for e in mock.journal()]


def test_the_chaos_mix_is_replayed_exactly_by_its_seed(serve: ServeFn) -> None:
    first, second = _chaos_run(serve, 60), _chaos_run(serve, 60)
    assert first == second
    faults = [f for f in first if f]
    assert 5 <= len(faults) <= 30
    assert len(set(faults)) >= 4
