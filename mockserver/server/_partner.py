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

from starlette.requests import Request
from starlette.responses import Response

from mockserver.contract import ALL_SHAPES, SEED_SHAPE, InvalidJSON, Shape, loads_strict
from mockserver.models import Case, Scenario, ServerApiKey
from mockserver.models.scenario import ROTATE, as_text
from mockserver.server._journal import BODY_LIMIT, Journal, Masker

__all__ = ["ERROR_CODES", "MockPartner", "Refusal"]

log = logging.getLogger("postback_kit.server")

JSON: Final = "application/json"

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


def _is_json_media_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == JSON or (media.startswith("application/") and media.endswith("+json"))


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
    """The state of one mock partner: its scenario, journal, rotation and rendered bodies."""

    def __init__(self, scenario: Scenario, *, journal_size: int | None = None) -> None:
        self.scenario = scenario
        self.journal = Journal(scenario.journal_size if journal_size is None else journal_size)
        self.masker = Masker(scenario.secret_headers(), (s.reveal() for s in scenario.secrets()))
        self._rotation = itertools.count()
        self._rendered: dict[tuple[int, Shape | None], bytes] = {}
        self._methods = frozenset(scenario.methods)
        self._allow = ", ".join(scenario.methods)
        self._error_shape = scenario.shape if isinstance(scenario.shape, Shape) else SEED_SHAPE
        auth = scenario.auth
        self._key_header = auth.header.lower() if isinstance(auth, ServerApiKey) else None
        self._key = auth.value if isinstance(auth, ServerApiKey) else None

    # -- answering ---------------------------------------------------------------------

    def _shape_for(self, case: Case) -> Shape:
        choice = case.shape or self.scenario.shape
        if choice == ROTATE:
            return ALL_SHAPES[next(self._rotation) % len(ALL_SHAPES)]
        assert isinstance(choice, Shape)
        return choice

    def _render(self, index: int, case: Case) -> tuple[bytes, Shape | None]:
        response = case.response
        if response is None:
            key = (index, None)
            body = self._rendered.get(key)
            if body is None:
                body = self._rendered[key] = dumps(case.body)
            return body, None
        shape = self._shape_for(case)
        body = self._rendered.get((index, shape))
        if body is None:
            body = self._rendered[(index, shape)] = dumps(
                shape.render(
                    success=response.success,
                    error_code=response.error_code,
                    message=response.message,
                    data=response.data,
                    extra=response.extra,
                )
            )
        return body, shape

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

    def refuse(self, entry: dict[str, Any], refusal: Refusal) -> Response:
        entry["status"] = refusal.status
        entry["refusal"] = refusal.to_dict()
        headers = {"allow": self._allow} if refusal.status == 405 else None
        self.journal.record(entry)
        return Response(self.error_body(refusal), refusal.status, headers, JSON)

    # -- checking ----------------------------------------------------------------------

    def _check_auth(self, headers: Mapping[str, str]) -> Refusal | None:
        if self._key is None:
            return None
        given = headers.get(self._key_header)  # type: ignore[arg-type]
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

    async def _read_payload(
        self, request: Request, entry: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, Refusal | None]:
        limit = self.scenario.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return None, Refusal(413, "PAYLOAD_TOO_LARGE", f"body over {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return None, Refusal(413, "PAYLOAD_TOO_LARGE", f"body over {limit} bytes")
            chunks.append(chunk)
        raw = b"".join(chunks)
        entry["body"] = self.masker.text(raw[:BODY_LIMIT].decode("utf-8", "replace"))
        content_type = request.headers.get("content-type", "")
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

    def new_entry(self, request: Request) -> dict[str, Any]:
        query = request.scope["query_string"].decode("latin-1")
        return {
            "method": request.method,
            "path": request.url.path,
            "query_string": self.masker.text(query),
            "query": [[k, self.masker.text(v)] for k, v in request.query_params.multi_items()],
            "headers": self.masker.headers(request.headers.raw),
            "body": None,
            "case": None,
            "shape": None,
            "status": None,
            "refusal": None,
        }

    async def handle(self, request: Request) -> Response:
        entry = self.new_entry(request)
        try:
            return await self._handle(request, entry)
        except Exception:
            log.exception(
                "postback-kit: the mock partner failed on %s %s", request.method, request.url.path
            )
            entry["error"] = "internal error (see the server log)"
            return self.refuse(
                entry, Refusal(500, "INTERNAL_ERROR", "the mock partner failed; see its log")
            )

    async def _handle(self, request: Request, entry: dict[str, Any]) -> Response:
        if request.method not in self._methods:
            return self.refuse(
                entry, Refusal(405, "METHOD_NOT_ALLOWED", f"use {self._allow} on this path")
            )
        headers = request.headers
        params = request.query_params
        refusal = (
            self._check_auth(headers) or self._check_headers(headers) or self._check_params(params)
        )
        if refusal is not None:
            return self.refuse(entry, refusal)
        payload = None
        if request.method == "POST":
            payload, refusal = await self._read_payload(request, entry)
            if refusal is not None:
                return self.refuse(entry, refusal)
        view = _RequestView(params, headers, payload)
        for index, case in enumerate(self.scenario.cases):
            if all(c.test(view.value(c.source, c.field)) for c in case.when):
                body, shape = self._render(index, case)
                entry["case"] = case.name
                entry["shape"] = shape.name if shape else None
                entry["status"] = case.status
                self.journal.record(entry)
                return Response(body, case.status, case.headers or None, JSON)
        return self.refuse(
            entry, Refusal(404, "NO_MATCHING_CASE", "no case of the scenario matches")
        )

    async def unknown_path(self, request: Request) -> Response:
        entry = self.new_entry(request)
        return self.refuse(
            entry, Refusal(404, "UNKNOWN_PATH", f"this partner serves {self.scenario.path} only")
        )
