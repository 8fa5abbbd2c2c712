"""The mock partner under hostile clients, over a raw socket (exact bytes on the wire): every
request gets a contract-shaped 4xx or the normal answer, never a 500, and the server keeps
serving; the journal's memory stays bounded."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from mockserver.contract import loads_strict, validate
from mockserver.models import load_scenario
from mockserver.server import ServerThread, create_app
from mockserver.server._journal import Entry, Journal

QUERY = b"/voucher?campaignId=Birthday2023&phone=0359677657&email=dee%40bytetech.io"
GOOD_BODY = json.dumps({"phone": "0359677657", "email": "a@b.c", "param01": "1", "param02": "2"})


@pytest.fixture(scope="module")
def post_port() -> Iterator[int]:
    with ServerThread(create_app(load_scenario("voucher-post"))) as server:
        yield server.port


def exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read the whole answer (the request asks to close)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body


def post(
    port: int,
    body: bytes = GOOD_BODY.encode(),
    *,
    key: bytes = b"demo-key",
    extra: bytes = b"",
    content_type: bytes | None = b"application/json",
    target: bytes = QUERY,
) -> tuple[int, dict[str, str], bytes]:
    head = b"POST " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    if key:
        head += b"token-key: " + key + b"\r\n"
    if content_type is not None:
        head += b"Content-Type: " + content_type + b"\r\n"
    head += extra + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    return exchange(port, head + body)


def refused(answer: tuple[int, dict[str, str], bytes], status: int, code: str) -> None:
    got, _, body = answer
    document = loads_strict(body)
    assert validate(document) == []
    assert (got, document["isSuccess"], document["errorCode"]) == (status, False, code)


def still_serving(port: int) -> None:
    status, _, body = post(port)
    assert status == 200, body
    assert loads_strict(body)["isSuccess"] is True


@pytest.mark.parametrize(
    ("name", "body", "content_type", "status", "code"),
    [
        ("malformed JSON", b'{"phone": ', b"application/json", 400, "INVALID_BODY"),
        ("empty body", b"", b"application/json", 400, "INVALID_BODY"),
        ("NaN", b'{"phone": NaN}', b"application/json", 400, "INVALID_BODY"),
        ("not UTF-8", b"\xff\xfe{}", b"application/json", 400, "INVALID_BODY"),
        ("100,000 deep", b"[" * 100_000 + b"]" * 100_000, b"application/json", 400, "INVALID_BODY"),
        ("text/plain", GOOD_BODY.encode(), b"text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
        ("no content type", GOOD_BODY.encode(), None, 415, "UNSUPPORTED_MEDIA_TYPE"),
        (
            "a form",
            b"phone=1&email=2",
            b"application/x-www-form-urlencoded",
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            "10 MB",
            b"{" + b" " * (10 * 1024 * 1024) + b"}",
            b"application/json",
            413,
            "PAYLOAD_TOO_LARGE",
        ),
    ],
)
def test_a_bad_body_is_refused_in_the_contract_and_the_server_keeps_serving(
    post_port: int, name: str, body: bytes, content_type: bytes | None, status: int, code: str
) -> None:
    refused(post(post_port, body, content_type=content_type), status, code)
    still_serving(post_port)


@pytest.mark.parametrize(
    ("name", "key", "extra", "target", "status", "code"),
    [
        ("no key", b"", b"", QUERY, 401, "Unauthorized"),
        ("a non-ASCII key (latin-1)", b"d\xe8mo-k\xe9y", b"", QUERY, 401, "Unauthorized"),
        ("a non-ASCII key (UTF-8)", "dèmo-kéy".encode(), b"", QUERY, 401, "Unauthorized"),
        (
            "the key in the query string",
            b"",
            b"",
            QUERY + b"&token-key=demo-key",
            401,
            "Unauthorized",
        ),
        ("the key's value differently cased", b"DEMO-KEY", b"", QUERY, 401, "Unauthorized"),
        ("spaces inside the key", b"demo - key", b"", QUERY, 401, "Unauthorized"),
        (
            "100 KB of headers",
            b"demo-key",
            b"X-Big: " + b"a" * 100_000 + b"\r\n",
            QUERY,
            431,
            "HEADERS_TOO_LARGE",
        ),
        (
            "1,000 headers",
            b"demo-key",
            b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 40) for i in range(1000)),
            QUERY,
            431,
            "HEADERS_TOO_LARGE",
        ),
        (
            "a 55 KB query string",
            b"demo-key",
            b"",
            QUERY + b"&pad=" + b"x" * 55_000,
            414,
            "URI_TOO_LONG",
        ),
    ],
)
def test_a_bad_credential_or_oversized_request_is_refused_and_the_server_keeps_serving(
    post_port: int, name: str, key: bytes, extra: bytes, target: bytes, status: int, code: str
) -> None:
    refused(post(post_port, key=key, extra=extra, target=target), status, code)
    still_serving(post_port)


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("a differently cased header name", b"TOKEN-KEY: demo-key\r\n"),
        ("spaces around the value (not part of it, RFC 9110 5.5)", b"token-key:   demo-key   \r\n"),
    ],
)
def test_what_http_says_is_the_same_key_is_accepted(
    post_port: int, name: str, extra: bytes
) -> None:
    status, _, body = post(post_port, key=b"", extra=extra)
    assert status == 200, body


def test_a_hostile_request_is_journaled_without_its_oversized_parts(post_port: int) -> None:
    big = b"X-Big: " + b"a" * 100_000 + b"\r\n"
    post(post_port, extra=big)
    get = b"GET /__admin/requests HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    _, _, body = exchange(post_port, get)
    last = json.loads(body)["requests"][-1]
    assert last["status"] == 431
    [[name, note]] = last["headers"]
    size = int(note.split()[0])
    assert (name, note) == ("x-postback-kit-note", f"{size} bytes of headers not kept")
    assert size > 100_000


def test_the_journal_holds_a_bounded_number_of_bytes() -> None:
    journal = Journal(size=10_000, byte_budget=1_000_000)
    for _ in range(5_000):
        entry = Entry("POST", "/voucher", "", [], [(b"token-key", b"k")])
        entry.body = b"x" * 60_000
        journal.record(entry)
    kept = journal.entries()
    assert journal.total == 5_000
    assert 10 <= len(kept) <= 17  # 1,000,000 bytes / ~60,500 per entry
    assert kept[-1].id == 5_000, "the newest is kept, the oldest dropped"


def test_the_admin_api_refuses_a_huge_body_without_reading_it_all(post_port: int) -> None:
    body = b'{"fault": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    head = b"POST /__admin/faults HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    head += b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    status, _, answer = exchange(post_port, head + body)
    assert (status, json.loads(answer)) == (413, {"error": "body over 1 MiB"})
    still_serving(post_port)
