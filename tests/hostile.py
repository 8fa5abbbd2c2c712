"""A hostile partner: one raw ASGI app whose path picks a way to misbehave, served on loopback by
the kit's own ServerThread. Every request is recorded (method, path, headers) so tests can see
what a client sent, and where.

    /redirect/<status>?to=<url>     a redirect to another origin
    /big                            50 MB with its content-length
    /big-chunked                    50 MB, chunked (no length)
    /endless                        chunked, forever
    /gzip-bomb                      ~100 KB of gzip that decodes to 100 MB
    /dribble                        one byte every 0.5 s
    /json/<nan|dup|digits|deep>     JSON a lenient parser accepts and the contract forbids
    /429/<seconds|date|garbage|86400>[/always]  429 with that Retry-After, then the answer
                                    (or never)
    /oauth/token/<expiry>           OAuth tokens with expires_in missing/zero/negative/string,
                                    or token_type "bearer" (lowercase)
    /data                           the answer, for a "Bearer <token this server issued>"
    /always-401                     401 invalid_token whatever the token
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import json
import secrets
import time
import zlib
from typing import Any, Final

from starlette.types import Receive, Scope, Send

OK_BODY: Final = json.dumps(
    {"success": True, "errorCode": 0, "message": "ok", "data": {"code": "E094"}}
).encode()
FIFTY_MB: Final = 50 * 1024 * 1024
_CHUNK: Final = b"x" * 65536


@functools.cache
def gzip_bomb(decoded: int = 100 * 1024 * 1024) -> bytes:
    """Gzip of ``decoded`` zero bytes, built a megabyte at a time (~100 KB for 100 MB)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1024 * 1024)
    parts = [packer.compress(zeros) for _ in range(decoded // len(zeros))]
    return b"".join(parts) + packer.flush()


def _json_body(kind: str) -> bytes:
    if kind == "nan":
        return b'{"success": true, "errorCode": NaN, "message": "ok", "data": {}}'
    if kind == "dup":
        return b'{"success": true, "success": false, "errorCode": 0, "message": "", "data": {}}'
    if kind == "digits":
        return b'{"success": true, "errorCode": ' + b"9" * 5000 + b', "message": "", "data": {}}'
    if kind == "deep":
        depth = 100_000
        return b'{"success": true, "message": "", "data": ' + b"[" * depth + b"]" * depth + b"}"
    raise ValueError(kind)


def _retry_after(kind: str) -> str:
    if kind == "seconds":
        return "1"
    if kind == "date":
        return email.utils.formatdate(time.time() + 2, usegmt=True)
    if kind == "garbage":
        return "soon, maybe"
    return kind  # "86400"


class HostilePartner:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.tokens: set[str] = set()
        self._attempts: dict[str, int] = {}

    def calls(self, prefix: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].startswith(prefix)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope.get("query_string", b"").decode()
        self.requests.append({"method": scope["method"], "path": path, "headers": headers})
        parts = path.strip("/").split("/")
        gone = asyncio.Event()

        async def watch() -> None:
            # uvicorn drops what is sent after the client left: the endless answers stop here.
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        watcher = asyncio.create_task(watch())
        try:
            await self._answer(parts, query, headers, send, gone)
        finally:
            watcher.cancel()

    async def _answer(
        self,
        parts: list[str],
        query: str,
        headers: dict[str, str],
        send: Send,
        gone: asyncio.Event,
    ) -> None:
        path = "/" + "/".join(parts)

        async def answer(
            status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
        ) -> None:
            head = [(b"content-type", b"application/json"), *(extra or [])]
            head.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": status, "headers": head})
            await send({"type": "http.response.body", "body": body})

        async def stream(total: int | None, length: bool) -> None:
            head = [(b"content-type", b"application/json")]
            if length and total is not None:
                head.append((b"content-length", str(total).encode()))
            await send({"type": "http.response.start", "status": 200, "headers": head})
            sent = 0
            while (total is None or sent < total) and not gone.is_set():
                await send({"type": "http.response.body", "body": _CHUNK, "more_body": True})
                sent += len(_CHUNK)
                await asyncio.sleep(0)  # a send after a disconnect returns at once: yield
            await send({"type": "http.response.body", "body": b""})

        kind = parts[0]
        if kind == "redirect":
            target = query.partition("to=")[2]
            await answer(int(parts[1]), b"", [(b"location", target.encode())])
        elif kind == "big":
            await stream(FIFTY_MB, length=True)
        elif kind == "big-chunked":
            await stream(FIFTY_MB, length=False)
        elif kind == "endless":
            await stream(None, length=False)
        elif kind == "gzip-bomb":
            await answer(200, gzip_bomb(), [(b"content-encoding", b"gzip")])
        elif kind == "dribble":
            head = [(b"content-type", b"application/json")]
            head.append((b"content-length", str(len(OK_BODY)).encode()))
            await send({"type": "http.response.start", "status": 200, "headers": head})
            for byte in OK_BODY:
                if gone.is_set():
                    return
                await send({"type": "http.response.body", "body": bytes([byte]), "more_body": True})
                await asyncio.sleep(0.5)
            await send({"type": "http.response.body", "body": b""})
        elif kind == "json":
            await answer(200, _json_body(parts[1]))
        elif kind == "429":
            seen = self._attempts.get(path, 0)
            self._attempts[path] = seen + 1
            if seen == 0 or parts[-1] == "always":
                await answer(429, b"{}", [(b"retry-after", _retry_after(parts[1]).encode())])
            else:
                await answer(200, OK_BODY)
        elif kind == "oauth":
            token = secrets.token_hex(8)
            self.tokens.add(token)
            document: dict[str, Any] = {"access_token": token, "token_type": "Bearer"}
            variant = parts[2]
            if variant == "zero":
                document["expires_in"] = 0
            elif variant == "negative":
                document["expires_in"] = -60
            elif variant == "string":
                document["expires_in"] = "3600"
            elif variant == "lowercase":
                document["expires_in"] = 3600
                document["token_type"] = "bearer"
            await answer(200, json.dumps(document).encode())
        elif kind == "data":
            scheme, _, token = headers.get("authorization", "").partition(" ")
            if scheme == "Bearer" and token in self.tokens:
                await answer(200, OK_BODY)
            else:
                await answer(401, b"{}", [(b"www-authenticate", b'Bearer error="invalid_token"')])
        elif kind == "always-401":
            await answer(401, b"{}", [(b"www-authenticate", b'Bearer error="invalid_token"')])
        else:
            await answer(404, b"{}")
