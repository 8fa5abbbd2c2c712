"""Carrying out a fault on a request the mock would otherwise answer with ``answer``."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Final

from starlette.types import Receive, Scope, Send

from mockserver.contract import KEY_ROLE, ROLE_KEYS, SEED_SHAPE
from mockserver.models import WIRE_FAULTS, Fault
from mockserver.server._http import Answer, dumps, response_headers, wait_for_disconnect
from mockserver.server._wire import (
    InjectedFault,
    abort_with_reset,
    transport_for,
    wire_faults_approximated,
)

__all__ = ["REDIRECTED_PARAM", "breach_body", "fault_status", "oversized_padding", "run_fault"]

#: A same-origin redirect adds this query parameter; requests carrying it get no fault.
REDIRECTED_PARAM: Final = "redirected"

#: How long a wire fault waits for the client to notice the closed connection.
_DISCONNECT_WAIT_S: Final = 5.0

_CHUNK: Final = 64 * 1024

_HTML: Final = (
    "<!DOCTYPE html>\n<html><head><title>{status} {reason}</title></head>\n"
    "<body><center><h1>{status} {reason}</h1></center><hr><center>nginx</center></body></html>\n"
)

_SEED_BODY: Final[Mapping[str, Any]] = {
    "success": True,
    "message": "Your request has done",
    "errorCode": 0,
    "data": {"code": "E094", "expired": False, "value": 10000},
}


def _other(role: str, key: str) -> str:
    return next(k for k in ROLE_KEYS[role] if k != key)


def breach_body(breach: str, body: Any) -> bytes:
    """``body`` (a valid contract body, or anything else: the seed's sample is used then)
    broken in one way of SPEC 1.2."""
    valid = isinstance(body, dict) and any(KEY_ROLE.get(k) == "success" for k in body)
    broken: dict[str, Any] = dict(body) if valid else dict(_SEED_BODY)
    keys = {KEY_ROLE[k]: k for k in broken if k in KEY_ROLE}
    success, data = keys["success"], keys["data"]
    error_code = keys.get("error_code", SEED_SHAPE.error_code or "errorCode")
    message = keys.get("message", SEED_SHAPE.message or "message")
    if breach == "success_string":
        broken[success] = json.dumps(broken[success])
    elif breach == "success_number":
        broken[success] = int(bool(broken[success]))
    elif breach == "success_missing":
        del broken[success]
    elif breach == "success_ambiguous":
        broken[_other("success", success)] = broken[success]
    elif breach == "data_missing":
        del broken[data]
    elif breach == "data_ambiguous":
        broken[_other("data", data)] = broken[data]
    elif breach == "data_null_on_success":
        broken[success] = True
        broken[data] = None
    elif breach == "data_not_object":
        broken[data] = "E094"
    elif breach == "error_code_wrong_type":
        broken[error_code] = 1.5
    elif breach == "error_code_ambiguous":
        broken[error_code] = broken.get(error_code, 0)
        broken[_other("error_code", error_code)] = broken[error_code]
    elif breach == "message_wrong_type":
        broken[message] = 42
    elif breach == "message_ambiguous":
        broken[message] = broken.get(message, "ok")
        broken[_other("message", message)] = broken[message]
    elif breach == "top_level_array":
        return dumps([broken])
    elif breach == "duplicate_keys":
        rest = dumps(broken)[1:]
        return dumps({success: not broken[success]})[:-1] + b"," + rest
    elif breach == "nan":
        broken[success] = True
        broken[data] = {"value": float("nan")}
        return json.dumps(broken, separators=(",", ":")).encode()
    return dumps(broken)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _text(
    status: int,
    text: str,
    content_type: str = "text/plain; charset=utf-8",
    extra: list[tuple[str, str]] | None = None,
) -> Answer:
    body = text.encode("utf-8")
    return Answer(status, body, response_headers(body, extra, content_type=content_type))


def _location(scope: Scope, fault: Fault) -> str:
    if fault.location:
        return fault.location
    headers = dict(scope["headers"])
    host = headers.get(b"host", b"127.0.0.1").decode("latin-1")
    name, colon, port = host.rpartition(":") if ":" in host else (host, "", "")
    if fault.to == "cross_origin":
        name = "localhost" if name != "localhost" else "127.0.0.1"
    query = scope.get("query_string", b"").decode("latin-1")
    query = f"{query}&{REDIRECTED_PARAM}=1" if query else f"{REDIRECTED_PARAM}=1"
    scheme = scope.get("scheme", "http")
    return f"{scheme}://{name}{colon}{port}{scope['path']}?{query}"


_OVERSIZED_HEAD: Final = b'{"success":true,"errorCode":0,"message":"oversized","data":{"padding":"'
_OVERSIZED_TAIL: Final = b'"}}'


def oversized_padding(size: int) -> str:
    """The ``data.padding`` of the valid body an ``oversized`` fault of ``size`` bytes sends."""
    return "x" * max(0, size - len(_OVERSIZED_HEAD) - len(_OVERSIZED_TAIL))


async def _oversized(send: Send, fault: Fault) -> None:
    head, tail = _OVERSIZED_HEAD, _OVERSIZED_TAIL
    size = max(fault.bytes, len(head) + len(tail))
    headers = response_headers(b"", None)
    headers[1] = (b"content-length", str(size).encode())
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": head, "more_body": True})
    remaining = size - len(head) - len(tail)
    block = b"x" * _CHUNK
    while remaining > 0:
        piece = block if remaining >= _CHUNK else block[:remaining]
        remaining -= len(piece)
        await send({"type": "http.response.body", "body": piece, "more_body": True})
    await send({"type": "http.response.body", "body": tail})


async def _wire(scope: Scope, receive: Receive, send: Send, fault: Fault, answer: Answer) -> None:
    transport = transport_for(scope)
    if transport is None:
        if not wire_faults_approximated():
            raise InjectedFault(f"{fault.describe()} (the mock is served in-process: no wire)")
        # No transport to close (granian): end the handler with the body short of its
        # content-length (or its chunked terminator), and the server drops the connection.
        # A reset or an empty reply becomes the status line and headers with no body.
        keep = fault.type == "truncate" and fault.mode == "content_length"
        headers = [h for h in answer.headers if keep or h[0] != b"content-length"]
        if fault.type != "truncate":
            headers.append((b"content-length", str(len(answer.body)).encode()))
        half = answer.body[: max(1, len(answer.body) // 2)] if fault.type == "truncate" else b""
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        # Granian answers 500 when a handler ends before its first body message.
        await send({"type": "http.response.body", "body": half, "more_body": True})
        return
    if fault.type == "truncate":
        half = answer.body[: max(1, len(answer.body) // 2)]
        if fault.mode == "content_length":
            headers = answer.headers
        else:
            headers = [h for h in answer.headers if h[0] != b"content-length"]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": half, "more_body": True})
        await asyncio.sleep(0)  # let the partial body reach the socket before closing it
        transport.close()
    elif fault.type == "reset":
        abort_with_reset(transport)
    else:  # empty_reply
        transport.close()
    await wait_for_disconnect(receive, _DISCONNECT_WAIT_S)


def fault_status(fault: Fault, status: int) -> int | None:
    """The status a client sees under ``fault`` (None: the connection ends without one)."""
    kind = fault.type
    if kind in {"reset", "empty_reply"}:
        return None
    if kind in {"status", "html_error", "redirect"}:
        return fault.status
    if kind == "rate_limit":
        return 429
    if kind == "oversized":
        return 200
    return status


async def run_fault(
    fault: Fault,
    scope: Scope,
    receive: Receive,
    send: Send,
    answer: Answer,
    rng: random.Random,
) -> bool:
    """Carry out ``fault``; True when it answered the request (or dropped it), False when the
    normal answer should follow (a delay, or a hang the client outlived)."""
    kind = fault.type
    if kind == "delay":
        seconds = fault.seconds
        if seconds is None:
            seconds = rng.uniform(fault.min_s or 0.0, fault.max_s or 0.0)
        await asyncio.sleep(seconds)
        return False
    if kind == "hang":
        return await wait_for_disconnect(receive, fault.seconds or 60.0)
    if kind in WIRE_FAULTS:
        await _wire(scope, receive, send, fault, answer)
        return True
    if kind == "malformed_json":
        cut = answer.body[: max(1, len(answer.body) - 3)] + b",}"
        await Answer(answer.status, cut).send(send)
    elif kind == "content_type":
        body_bytes = answer.body
        await Answer(
            answer.status,
            body_bytes,
            response_headers(body_bytes, None, content_type=fault.content_type),
        ).send(send)
    elif kind == "html_error":
        status = fault.status or 502
        html = _HTML.format(status=status, reason=_reason(status))
        await _text(status, html, "text/html; charset=utf-8").send(send)
    elif kind == "status":
        status = fault.status or 500
        await _text(status, fault.body if fault.body is not None else _reason(status)).send(send)
    elif kind == "rate_limit":
        extra = [("retry-after", str(fault.retry_after))]
        await _text(429, "Too Many Requests", extra=extra).send(send)
    elif kind == "oversized":
        await _oversized(send, fault)
    elif kind == "redirect":
        extra = [("location", _location(scope, fault))]
        await _text(fault.status or 302, "", extra=extra).send(send)
    elif kind == "contract":
        try:
            body: Any = json.loads(answer.body)
        except ValueError:
            body = None
        broken = breach_body(fault.breach or "success_string", body)
        await Answer(answer.status, broken).send(send)
    return True
