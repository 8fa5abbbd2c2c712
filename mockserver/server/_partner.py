"""The partner endpoint: checks a request against the scenario's contract, picks a case and
answers in a key shape, or with a fault. Everything that can be computed once per scenario is
computed in ``__init__`` or cached on first use; the per-request path does no schema work, no
YAML and no deep copies.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import random
from collections.abc import Mapping
from typing import Any, Final

from starlette.types import Receive, Scope, Send

from mockserver.contract import ALL_SHAPES, SEED_SHAPE, InvalidJSON, Shape, loads_strict
from mockserver.models import Case, Fault, Redactor, RoleResponse, Scenario, ShapeChoice, Step
from mockserver.models.scenario import ROTATE, as_text
from mockserver.server._auth import AuthServer
from mockserver.server._faults import REDIRECTED_PARAM, fault_status, run_fault
from mockserver.server._http import (
    Answer,
    Refusal,
    dumps,
    is_json_media_type,
    read_body,
    response_headers,
)
from mockserver.server._journal import BODY_LIMIT, Entry, Journal
from mockserver.server._tokens import TokenSigner

__all__ = ["ERROR_CODES", "MAX_HEADER_BYTES", "MAX_TARGET_BYTES", "MockPartner"]

#: Request headers larger than this in all get 431 (nginx's default limit is 32 KiB too);
#: httptools itself accepts any size.
MAX_HEADER_BYTES: Final = 32 * 1024
#: A query string longer than this gets 414 (past ~64 KiB, httptools itself answers a plain 400).
MAX_TARGET_BYTES: Final = 48 * 1024

log = logging.getLogger("postback_kit.server")

#: The stable error codes the mock answers contract breaches with.
ERROR_CODES: Final = (
    "Unauthorized",
    "TokenExpired",
    "MISSING_HEADER",
    "INVALID_HEADER",
    "MISSING_VALUE",
    "INVALID_BODY",
    "UNSUPPORTED_MEDIA_TYPE",
    "PAYLOAD_TOO_LARGE",
    "HEADERS_TOO_LARGE",
    "URI_TOO_LONG",
    "OVERLOADED",
    "METHOD_NOT_ALLOWED",
    "UNKNOWN_PATH",
    "NO_MATCHING_CASE",
    "INTERNAL_ERROR",
)


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


class _Armed:
    """A fault armed over the admin API for the next ``remaining`` partner requests."""

    __slots__ = ("fault", "remaining")

    def __init__(self, fault: Fault, remaining: int) -> None:
        self.fault = fault
        self.remaining = remaining


class MockPartner:
    """One mock partner: its scenario, journal, auth, rotation, faults and runtime overrides.
    It is the ASGI app of the partner's path; the per-request path works on the raw scope."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        journal_size: int | None = None,
        signer: TokenSigner | None = None,
        limit_concurrency: int | None = None,
    ) -> None:
        self.scenario = scenario
        #: Requests answered at once beyond which a request gets 503 (None: no limit).
        self.limit_concurrency = limit_concurrency
        self._in_flight = 0
        self._overloaded = Refusal(
            503,
            "OVERLOADED",
            f"more than {limit_concurrency} requests at once; retry after 1 s",
            (("retry-after", "1"),),
        )
        self.journal = Journal(scenario.journal_size if journal_size is None else journal_size)
        self.masker = Redactor(scenario.secret_headers(), (s.reveal() for s in scenario.secrets()))
        secret = scenario.token_secret.reveal() if scenario.token_secret else None
        self.signer = signer if signer is not None else TokenSigner(secret)
        self.auth = AuthServer(scenario.auth, self.signer, self.journal)
        self._rendered: dict[tuple[int, int | None, Shape | None], Answer] = {}
        self._methods = frozenset(scenario.methods)
        self._allow = ", ".join(scenario.methods)
        # Refusals use the scenario's shape; one without an error-code key still carries the
        # code, as errorCode.
        shape = scenario.shape if isinstance(scenario.shape, Shape) else SEED_SHAPE
        if shape.error_code is None:
            shape = dataclasses.replace(shape, error_code="errorCode")
        self._error_shape = shape
        self._case_headers = [
            dict(case.headers) if case.headers else None for case in scenario.cases
        ]
        self._names = {case.name: i for i, case in enumerate(scenario.cases)}
        self._has_faults = scenario.faults is not None or any(
            c.fault or c.sequence for c in scenario.cases
        )
        self.reset()

    def reset(self) -> None:
        """Back to the scenario as written: journal, rotation, sequences, random faults,
        overrides, armed faults and single-use tokens all start again."""
        self.journal.clear()
        self._rotation = itertools.count()
        self._sequence_position = [0] * len(self.scenario.cases)
        self._rng = random.Random(self.scenario.faults.seed if self.scenario.faults else 0)
        self.override_case: int | None = None
        self.override_shape: ShapeChoice | None = None
        self.armed: list[_Armed] = []
        self.signer.forget_used()

    # -- runtime control (the admin API) -----------------------------------------------

    def case_index(self, name: str) -> int | None:
        return self._names.get(name)

    def arm(self, fault: Fault, count: int) -> None:
        self.armed.append(_Armed(fault, count))

    def state(self) -> dict[str, Any]:
        override = self.override_shape
        return {
            "scenario": self.scenario.name,
            "case": None
            if self.override_case is None
            else self.scenario.cases[self.override_case].name,
            "shape": override if override is None or override == ROTATE else str(override),
            "armed": [{"fault": a.fault.describe(), "remaining": a.remaining} for a in self.armed],
            "sequences": {
                case.name: self._sequence_position[i]
                for i, case in enumerate(self.scenario.cases)
                if case.sequence
            },
        }

    # -- answering ---------------------------------------------------------------------

    def _shape_for(self, case: Case) -> Shape:
        choice = self.override_shape or case.shape or self.scenario.shape
        if choice == ROTATE:
            return ALL_SHAPES[next(self._rotation) % len(ALL_SHAPES)]
        assert isinstance(choice, Shape)
        return choice

    def _answer(self, index: int, case: Case, step_index: int | None, step: Step | None) -> Answer:
        response: RoleResponse | None = case.response
        body: Any = case.body
        status = case.status
        if step is not None:
            status = step.status if step.status is not None else status
            if step.response is not None:
                response, body = step.response, None
            elif step.has_body:
                response, body = None, step.body
        shape = None if response is None else self._shape_for(case)
        key = (index, step_index, shape)
        answer = self._rendered.get(key)
        if answer is None:
            if response is None or shape is None:
                raw = dumps(body)
            else:
                raw = dumps(
                    shape.render(
                        success=response.success,
                        error_code=response.error_code,
                        message=response.message,
                        data=response.data,
                        extra=response.extra,
                    )
                )
            headers = response_headers(raw, self._case_headers[index])
            answer = Answer(status, raw, headers, shape.name if shape else None)
            self._rendered[key] = answer
        return answer

    def error_body(self, refusal: Refusal) -> bytes:
        """A contract-shaped refusal: success false, a stable error code, data null."""
        return dumps(
            self._error_shape.render(
                success=False, error_code=refusal.code, message=refusal.message, data=None
            )
        )

    async def refuse(self, send: Send, entry: Entry, refusal: Refusal) -> None:
        entry.status = refusal.status
        entry.refusal = refusal.to_dict()
        self.journal.record(entry)
        body = self.error_body(refusal)
        await Answer(refusal.status, body, response_headers(body, refusal.headers)).send(send)

    # -- checking ----------------------------------------------------------------------

    @staticmethod
    def _oversized(entry: Entry) -> Refusal | None:
        """Headers or a query string too large to be a real client's: refused, and the
        journal keeps a note instead of them (its memory stays bounded)."""
        if len(entry.query_string) > MAX_TARGET_BYTES:
            size = len(entry.query_string)
            entry.drop_query(f"query string of {size} bytes not kept")
            return Refusal(414, "URI_TOO_LONG", f"query string over {MAX_TARGET_BYTES} bytes")
        size = entry.header_bytes()
        if size > MAX_HEADER_BYTES:
            entry.drop_headers(f"{size} bytes of headers not kept")
            return Refusal(
                431, "HEADERS_TOO_LARGE", f"request headers over {MAX_HEADER_BYTES} bytes"
            )
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

    def _check_payload(
        self, raw: bytes, headers: Mapping[str, str]
    ) -> tuple[dict[str, Any] | None, Refusal | None]:
        content_type = headers.get("content-type", "")
        if not is_json_media_type(content_type):
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

    # -- choosing ----------------------------------------------------------------------

    def _match(self, view: _RequestView) -> int | None:
        if self.override_case is not None:
            return self.override_case
        for index, case in enumerate(self.scenario.cases):
            for condition in case.when:
                if not condition.test(view.value(condition.source, condition.field)):
                    break
            else:
                return index
        return None

    def _step(self, index: int, case: Case) -> tuple[int | None, Step | None]:
        if not case.sequence:
            return None, None
        position = self._sequence_position[index]
        self._sequence_position[index] = position + 1
        count = len(case.sequence)
        step_index = position % count if case.then == "loop" else min(position, count - 1)
        return step_index, case.sequence[step_index]

    def _fault(self, case: Case, step: Step | None, params: Mapping[str, str]) -> Fault | None:
        """Which fault this request gets: an armed one, then the sequence step's, then the
        case's, then one drawn from the scenario's mix."""
        if params.get(REDIRECTED_PARAM) == "1":
            return None
        if self.armed:
            armed = self.armed[0]
            armed.remaining -= 1
            if armed.remaining <= 0:
                self.armed.pop(0)
            return armed.fault
        if step is not None and step.fault is not None:
            return step.fault
        fault = case.fault
        if fault is not None and (
            fault.probability is None or self._rng.random() < fault.probability
        ):
            return fault
        mix = self.scenario.faults
        if mix is not None:
            draw = self._rng.random()
            for candidate in mix.mix:
                draw -= candidate.probability or 0.0
                if draw < 0:
                    return candidate
        return None

    # -- the endpoint ------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        entry = Entry.from_scope(scope)
        limit = self.limit_concurrency
        if limit is not None and self._in_flight >= limit:
            return await self.refuse(send, entry, self._overloaded)
        self._in_flight += 1
        try:
            await self._handle(entry, scope, receive, send)
        except Exception:
            log.exception(
                "postback-kit: the mock partner failed on %s %s", entry.method, entry.path
            )
            entry.error = "internal error (see the server log)"
            refusal = Refusal(500, "INTERNAL_ERROR", "the mock partner failed; see its log")
            await self.refuse(send, entry, refusal)
        finally:
            self._in_flight -= 1

    async def _handle(self, entry: Entry, scope: Scope, receive: Receive, send: Send) -> None:
        oversized = self._oversized(entry)
        if oversized is not None:
            return await self.refuse(send, entry, oversized)
        if entry.method not in self._methods:
            wrong_method = Refusal(
                405,
                "METHOD_NOT_ALLOWED",
                f"use {self._allow} on this path",
                (("allow", self._allow),),
            )
            return await self.refuse(send, entry, wrong_method)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in entry.headers}
        params = dict(entry.query)
        refusal = (
            self.auth.check(headers) or self._check_headers(headers) or self._check_params(params)
        )
        if refusal is not None:
            return await self.refuse(send, entry, refusal)
        payload = None
        if entry.method == "POST":
            limit = self.scenario.max_body_bytes
            raw, fits = await read_body(receive, headers, limit)
            entry.body = raw[:BODY_LIMIT]
            if not fits:
                refusal = Refusal(413, "PAYLOAD_TOO_LARGE", f"body over {limit} bytes")
            else:
                payload, refusal = self._check_payload(raw, headers)
            if refusal is not None:
                return await self.refuse(send, entry, refusal)
        index = self._match(_RequestView(params, headers, payload))
        if index is None:
            no_case = Refusal(404, "NO_MATCHING_CASE", "no case of the scenario matches")
            return await self.refuse(send, entry, no_case)
        case = self.scenario.cases[index]
        step_index, step = self._step(index, case)
        answer = self._answer(index, case, step_index, step)
        entry.case = case.name
        entry.shape = answer.shape
        entry.status = answer.status
        fault = self._fault(case, step, params) if self._has_faults or self.armed else None
        if fault is None:
            self.journal.record(entry)
            return await answer.send(send)
        entry.fault = fault.describe()
        entry.status = fault_status(fault, answer.status)
        self.journal.record(entry)
        if not await run_fault(fault, scope, receive, send, answer, self._rng):
            await answer.send(send)
        return None

    async def unknown_path(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = Refusal(404, "UNKNOWN_PATH", f"this partner serves {self.scenario.path} only")
        await self.refuse(send, Entry.from_scope(scope), refusal)
