"""The partner endpoint: checks a request against the scenario's contract, picks a case and
answers in a key shape. Everything that can be computed once per scenario is computed in
``__init__``; the per-request path does no schema work, no YAML and no deep copies.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote_plus

from starlette.types import Receive, Scope, Send

from mockserver.contract import ALL_SHAPES, SEED_SHAPE, InvalidJSON, Shape, loads_strict
from mockserver.models import Case, Scenario, ServerApiKey
from mockserver.models.scenario import ROTATE, as_text
from mockserver.server._journal import BODY_LIMIT, Entry, Journal, Masker

__all__ = ["ERROR_CODES", "MockPartner", "Refusal"]

log = logging.getLogger("postback_kit.server")

JSON: Final = "application/json"
JSON_BYTES: Final = JSON.encode()

#: The stable error codes the mock answers contract breaches with.
ERROR_CODES: Final = (
    "Unauthorized",
    "MISSING_HEADER",
    "INVALID_HEADER",
    "MISSING_VALUE",
    "INVALID_BODY",
    "UNSUPPORTED_MEDIA_TYPE",
    "PAYLOAD_TOO_LARGE",
    "METHOD_NOT_ALLOWED",
    "UNKNOWN_PATH",
    "NO_MATCHING_CASE",
    "INTERNAL_ERROR",
)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request breaks the scenario's contract, and how the mock answers it."""

    status: int
    code: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "code": self.code, "message": self.message}


def dumps(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def parse_query(raw: bytes) -> list[tuple[str, str]]:
    """Query parameters in order, form-decoded (``+`` is a space, ``%2B`` a plus); blank
    values kept. Pieces without an escape are not run through the decoder."""
    if not raw:
        return []
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
    return pairs


def _is_json_media_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == JSON or (media.startswith("application/") and media.endswith("+json"))


def _response_headers(
    body: bytes, extra: Mapping[str, str] | None = None
) -> list[tuple[bytes, bytes]]:
    headers = [(b"content-type", JSON_BYTES), (b"content-length", str(len(body)).encode())]
    if extra:
        headers.extend((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra.items())
    return headers


class _Answer:
    """A rendered response: status, headers and body bytes, ready to send."""

    __slots__ = ("body", "headers", "shape", "status")

    def __init__(
        self, status: int, body: bytes, headers: list[tuple[bytes, bytes]], shape: Shape | None
    ) -> None:
        self.status = status
        self.body = body
        self.headers = headers
        self.shape = shape.name if shape is not None else None

    async def send(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


class _RequestView:
    """The request values a case condition may look at."""

    __slots__ = ("headers", "params", "payload")

    def __init__(
        self,
        params: Mapping[str, str],
        headers: Mapping[str, str],
        payload: Mapping[str, Any] | None,
    ) -> None:
        self.params = params
        self.headers = headers
        self.payload = payload

    def value(self, source: str, field: str) -> str | None:
        if source == "param":
            return self.params.get(field)
        if source == "header":
            return self.headers.get(field)
        if source == "payload":
            if self.payload is None or field not in self.payload:
                return None
            return as_text(self.payload[field])
        # A profile field: the JSON payload's value when it has one, else the query's.
        if self.payload is not None and field in self.payload:
            return as_text(self.payload[field])
        return self.params.get(field)


class MockPartner:
    """One mock partner: its scenario, journal, rotation and rendered answers. It is the ASGI
    app of the partner's path; the per-request path works on the raw ASGI scope."""

    def __init__(self, scenario: Scenario, *, journal_size: int | None = None) -> None:
        self.scenario = scenario
        self.journal = Journal(scenario.journal_size if journal_size is None else journal_size)
        self.masker = Masker(scenario.secret_headers(), (s.reveal() for s in scenario.secrets()))
        self._rotation = itertools.count()
        self._rendered: dict[tuple[int, Shape | None], _Answer] = {}
        self._methods = frozenset(scenario.methods)
        self._allow = ", ".join(scenario.methods)
        self._error_shape = scenario.shape if isinstance(scenario.shape, Shape) else SEED_SHAPE
        self._case_headers = [
            dict(case.headers) if case.headers else None for case in scenario.cases
        ]
        auth = scenario.auth
        self._key_header = auth.header.lower() if isinstance(auth, ServerApiKey) else ""
        self._key = auth.value if isinstance(auth, ServerApiKey) else None

    def reset(self) -> None:
        """Forget the journal and start the shape rotation again."""
        self.journal.clear()
        self._rotation = itertools.count()

    # -- answering ---------------------------------------------------------------------

    def _shape_for(self, case: Case) -> Shape:
        choice = case.shape or self.scenario.shape
        if choice == ROTATE:
            return ALL_SHAPES[next(self._rotation) % len(ALL_SHAPES)]
        assert isinstance(choice, Shape)
        return choice

    def _answer(self, index: int, case: Case) -> _Answer:
        response = case.response
        shape = None if response is None else self._shape_for(case)
        answer = self._rendered.get((index, shape))
        if answer is None:
            if response is None or shape is None:
                body = dumps(case.body)
            else:
                body = dumps(
                    shape.render(
                        success=response.success,
                        error_code=response.error_code,
                        message=response.message,
                        data=response.data,
                        extra=response.extra,
                    )
                )
            headers = _response_headers(body, self._case_headers[index])
            answer = self._rendered[(index, shape)] = _Answer(case.status, body, headers, shape)
        return answer

    def error_body(self, refusal: Refusal) -> bytes:
        """A contract-shaped refusal: success false, a stable error code, data null. A shape
        without an error-code key still carries the code, as ``errorCode``."""
        shape = self._error_shape
        if shape.error_code is None:
            shape = Shape(
                success=shape.success,
                error_code="errorCode",
                message=shape.message,
                data=shape.data,
            )
        return dumps(
            shape.render(success=False, error_code=refusal.code, message=refusal.message, data=None)
        )

    async def refuse(self, send: Send, entry: Entry, refusal: Refusal) -> None:
        entry.status = refusal.status
        entry.refusal = refusal.to_dict()
        self.journal.record(entry)
        body = self.error_body(refusal)
        extra = {"allow": self._allow} if refusal.status == 405 else None
        await _Answer(refusal.status, body, _response_headers(body, extra), None).send(send)

    # -- checking ----------------------------------------------------------------------

    def _check_auth(self, headers: Mapping[str, str]) -> Refusal | None:
        if self._key is None:
            return None
        given = headers.get(self._key_header)
        if given is None:
            return Refusal(401, "Unauthorized", f"missing API key header '{self._key_header}'")
        if not self._key.matches(given):
            return Refusal(401, "Unauthorized", "invalid API key")
        return None

    def _check_headers(self, headers: Mapping[str, str]) -> Refusal | None:
        for name, expected in self.scenario.required_headers.items():
            given = headers.get(name)
            if given is None:
                return Refusal(400, "MISSING_HEADER", f"missing required header '{name}'")
            if expected is not None and given != expected:
                return Refusal(400, "INVALID_HEADER", f"header '{name}' has an unexpected value")
        return None

    def _check_params(self, params: Mapping[str, str]) -> Refusal | None:
        for name in self.scenario.required_params:
            if name not in params:
                return Refusal(400, "MISSING_VALUE", f"missing required query parameter '{name}'")
        return None

    async def _read_body(
        self, receive: Receive, headers: Mapping[str, str]
    ) -> tuple[bytes, Refusal | None]:
        limit = self.scenario.max_body_bytes
        too_large = Refusal(413, "PAYLOAD_TOO_LARGE", f"body over {limit} bytes")
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return b"", too_large
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return b"", too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks), None

    def _check_payload(
        self, raw: bytes, headers: Mapping[str, str]
    ) -> tuple[dict[str, Any] | None, Refusal | None]:
        content_type = headers.get("content-type", "")
        if not _is_json_media_type(content_type):
            shown = content_type or "none"
            return None, Refusal(
                415, "UNSUPPORTED_MEDIA_TYPE", f"Content-Type must be application/json, got {shown}"
            )
        try:
            payload = loads_strict(raw)
        except InvalidJSON as exc:
            return None, Refusal(400, "INVALID_BODY", f"the JSON body is invalid: {exc.reason}")
        if not isinstance(payload, dict):
            return None, Refusal(400, "INVALID_BODY", "the JSON body must be an object")
        for name in self.scenario.required_payload:
            if name not in payload:
                return None, Refusal(
                    400, "MISSING_VALUE", f"missing required payload field '{name}'"
                )
        return payload, None

    # -- the endpoint ------------------------------------------------------------------

    @staticmethod
    def new_entry(scope: Scope) -> Entry:
        raw_query: bytes = scope.get("query_string", b"")
        return Entry(
            scope["method"],
            scope["path"],
            raw_query.decode("utf-8", "replace"),
            parse_query(raw_query),
            scope["headers"],
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        entry = self.new_entry(scope)
        try:
            await self._handle(entry, receive, send)
        except Exception:
            log.exception(
                "postback-kit: the mock partner failed on %s %s", entry.method, entry.path
            )
            entry.error = "internal error (see the server log)"
            refusal = Refusal(500, "INTERNAL_ERROR", "the mock partner failed; see its log")
            await self.refuse(send, entry, refusal)

    async def _handle(self, entry: Entry, receive: Receive, send: Send) -> None:
        if entry.method not in self._methods:
            wrong_method = Refusal(405, "METHOD_NOT_ALLOWED", f"use {self._allow} on this path")
            return await self.refuse(send, entry, wrong_method)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in entry.headers}
        params = dict(entry.query)
        refusal = (
            self._check_auth(headers) or self._check_headers(headers) or self._check_params(params)
        )
        if refusal is not None:
            return await self.refuse(send, entry, refusal)
        payload = None
        if entry.method == "POST":
            raw, refusal = await self._read_body(receive, headers)
            entry.body = raw[:BODY_LIMIT]
            if refusal is None:
                payload, refusal = self._check_payload(raw, headers)
            if refusal is not None:
                return await self.refuse(send, entry, refusal)
        view = _RequestView(params, headers, payload)
        for index, case in enumerate(self.scenario.cases):
            for condition in case.when:
                if not condition.test(view.value(condition.source, condition.field)):
                    break
            else:
                answer = self._answer(index, case)
                entry.case = case.name
                entry.shape = answer.shape
                entry.status = answer.status
                self.journal.record(entry)
                return await answer.send(send)
        refusal = Refusal(404, "NO_MATCHING_CASE", "no case of the scenario matches")
        return await self.refuse(send, entry, refusal)

    async def unknown_path(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = Refusal(404, "UNKNOWN_PATH", f"this partner serves {self.scenario.path} only")
        await self.refuse(send, self.new_entry(scope), refusal)
