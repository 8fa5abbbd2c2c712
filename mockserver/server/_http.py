"""Small HTTP helpers on raw ASGI: query parsing, bounded body reading, sending answers."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote_plus

from starlette.types import Receive, Send

__all__ = [
    "JSON",
    "Answer",
    "Refusal",
    "dumps",
    "is_json_media_type",
    "parse_query",
    "read_body",
    "response_headers",
    "wait_for_disconnect",
]

JSON: Final = "application/json"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request is refused, and how: status, a stable error code, a message, and any
    extra response headers (``WWW-Authenticate``, ``Allow``)."""

    status: int
    code: str
    message: str
    headers: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "code": self.code, "message": self.message}


def dumps(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


#: Query strings up to this long are parsed once and remembered (load tests repeat theirs).
_CACHED_QUERY_BYTES: Final = 2048


def parse_query(raw: bytes) -> tuple[tuple[str, str], ...]:
    """Query parameters in order, form-decoded (``+`` is a space, ``%2B`` a plus); blank
    values kept. Pieces without an escape are not run through the decoder."""
    if len(raw) <= _CACHED_QUERY_BYTES:
        return _parse_query_cached(raw)
    return _parse_query(raw)


@functools.lru_cache(maxsize=1024)
def _parse_query_cached(raw: bytes) -> tuple[tuple[str, str], ...]:
    return _parse_query(raw)


def _parse_query(raw: bytes) -> tuple[tuple[str, str], ...]:
    if not raw:
        return ()
    pairs = []
    for part in raw.decode("utf-8", "replace").split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "%" in name or "+" in name:
            name = unquote_plus(name, errors="replace")
        if "%" in value or "+" in value:
            value = unquote_plus(value, errors="replace")
        pairs.append((name, value))
    return tuple(pairs)


def is_json_media_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == JSON or (media.startswith("application/") and media.endswith("+json"))


def response_headers(
    body: bytes,
    extra: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
    *,
    content_type: str = JSON,
) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-type", content_type.encode("latin-1")),
        (b"content-length", str(len(body)).encode()),
    ]
    if extra:
        items = extra.items() if isinstance(extra, Mapping) else extra
        headers.extend((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in items)
    return headers


class Answer:
    """A rendered response, ready to send: status, headers and body bytes. ``shape`` is the
    key shape's name for the journal."""

    __slots__ = ("body", "headers", "shape", "status")

    def __init__(
        self,
        status: int,
        body: bytes,
        headers: list[tuple[bytes, bytes]] | None = None,
        shape: str | None = None,
    ) -> None:
        self.status = status
        self.body = body
        self.headers = response_headers(body) if headers is None else headers
        self.shape = shape

    async def send(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


#: An oversized body is read and thrown away up to this many bytes (for this long) before the
#: 413, so the client is still sending when it reads the answer rather than getting a reset;
#: beyond it the connection is simply closed.
DISCARD_LIMIT: Final = 64 * 1024 * 1024
DISCARD_SECONDS: Final = 5.0


async def _discard(receive: Receive, remaining: int) -> None:
    try:
        async with asyncio.timeout(DISCARD_SECONDS):
            while remaining > 0:
                message = await receive()
                if message["type"] != "http.request":
                    return
                remaining -= len(message.get("body", b""))
                if not message.get("more_body", False):
                    return
    except TimeoutError:
        pass


async def read_body(receive: Receive, headers: Mapping[str, str], limit: int) -> tuple[bytes, bool]:
    """The request body and whether it fit in ``limit`` bytes (nothing past the limit is
    kept; a too-large body is discarded, within bounds, so the refusal can be read)."""
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        await _discard(receive, min(int(declared), DISCARD_LIMIT))
        return b"", False
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            if message.get("more_body", False):
                await _discard(receive, DISCARD_LIMIT - size)
            return b"", False
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), True


async def wait_for_disconnect(receive: Receive, timeout: float) -> bool:
    """Wait until the client goes away (True) or ``timeout`` passes (False)."""

    async def drain() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(drain(), timeout)
    except TimeoutError:
        return False
    return True
