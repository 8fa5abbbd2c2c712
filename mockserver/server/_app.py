"""The Starlette application: the partner endpoint, its token endpoint, and the admin API
under ``/__admin`` (off the partner's path namespace, optionally behind its own token)."""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver._resources import load_schema
from mockserver._suggest import did_you_mean
from mockserver._version import __version__
from mockserver.contract import Shape
from mockserver.models import Scenario
from mockserver.models.scenario import ROTATE
from mockserver.server._http import read_body
from mockserver.server._partner import MockPartner
from mockserver.server._peers import Peers, apply, merge_journals
from mockserver.server._tokens import TokenSigner

__all__ = ["ADMIN_PREFIX", "create_app"]

ADMIN_PREFIX: Final = "/__admin"

Endpoint = Callable[[Request], Awaitable[Response]]


class _Asgi:
    """Marks a callable as a raw ASGI app for Starlette's router (which would otherwise wrap a
    bound method as a request/response endpoint)."""

    __slots__ = ("app",)

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class _MockApp(Starlette):
    """Starlette for the admin API and the token endpoint; the partner's own path goes
    straight to the :class:`MockPartner` (it is the one under load, and it answers its own
    errors), skipping Starlette's middleware and router, about a tenth of a request's cost."""

    def __init__(self, partner: MockPartner, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._partner = partner
        self._path = partner.scenario.path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == self._path:
            await self._partner(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


class _AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message


@functools.cache
def _fault_validator() -> Draft202012Validator:
    schema = load_schema("scenario.schema.json")
    return Draft202012Validator({"$defs": schema["$defs"], "$ref": "#/$defs/fault"})


def _check_fault(data: Any, where: str) -> None:
    error = best_match(_fault_validator().iter_errors(data))
    if error is not None:
        pointer = "/".join(str(p) for p in error.absolute_path)
        raise _AdminError(400, f"{where}{'/' + pointer if pointer else ''}: {error.message}")


async def _json_body(request: Request) -> dict[str, Any]:
    raw, fits = await read_body(request.receive, request.headers, 1024 * 1024)
    if not fits:
        raise _AdminError(413, "body over 1 MiB")
    try:
        data = json.loads(raw or b"{}")
    except ValueError as exc:
        raise _AdminError(400, f"the body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise _AdminError(400, "the body must be a JSON object")
    return data


def create_app(
    scenario: Scenario,
    *,
    journal_size: int | None = None,
    signer: TokenSigner | None = None,
    run_dir: Path | None = None,
    limit_concurrency: int | None = None,
) -> Starlette:
    """A Starlette app serving ``scenario``. The :class:`MockPartner` behind it is
    ``app.state.partner`` (journal, runtime control, for in-process use). With ``run_dir``
    (one worker of ``serve --workers N``) admin calls reach every worker listening there.
    ``limit_concurrency`` answers 503 beyond that many partner requests at once."""
    partner = MockPartner(
        scenario, journal_size=journal_size, signer=signer, limit_concurrency=limit_concurrency
    )
    peers = Peers(run_dir, partner) if run_dir is not None else None
    started = time.time()
    admin_token = scenario.admin_token

    def admin(handler: Endpoint) -> Endpoint:
        async def guarded(request: Request) -> Response:
            if admin_token is not None:
                scheme, _, token = request.headers.get("authorization", "").partition(" ")
                if scheme.lower() != "bearer" or not admin_token.matches(token.strip()):
                    return JSONResponse(
                        {"error": "the admin API needs 'Authorization: Bearer <admin token>'"},
                        status_code=401,
                        headers={"www-authenticate": 'Bearer realm="postback-kit-admin"'},
                    )
            try:
                return await handler(request)
            except _AdminError as exc:
                return JSONResponse({"error": exc.message}, status_code=exc.status)

        return guarded

    async def control(op: dict[str, Any]) -> Any:
        """Apply an admin operation to this worker, or to all workers; this worker's result
        (a journal read merges all of them)."""
        if peers is None:
            return apply(partner, op)
        results = await peers.everywhere(op)
        return merge_journals(results) if op["op"] == "journal" else results[0][1]

    async def health(request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "version": __version__,
                "scenario": scenario.name,
                "path": scenario.path,
                "methods": list(scenario.methods),
                "token_path": scenario.token_path(),
                "uptime_s": round(time.time() - started, 3),
                "pid": os.getpid(),
                "requests": partner.journal.total,
            }
        )

    async def requests(request: Request) -> Response:
        if request.method == "DELETE":
            await control({"op": "clear"})
            return Response(status_code=204)
        return JSONResponse(await control({"op": "journal"}))

    async def reset(request: Request) -> Response:
        await control({"op": "reset"})
        return Response(status_code=204)

    async def scenario_state(request: Request) -> Response:
        if request.method != "PUT":
            return JSONResponse(await control({"op": "state"}))
        data = await _json_body(request)
        unknown = sorted(set(data) - {"case", "shape"})
        if unknown:
            raise _AdminError(400, f"unknown key {unknown[0]!r}; use 'case' and/or 'shape'")
        op: dict[str, Any] = {"op": "override"}
        if "case" in data:
            name = data["case"]
            if name is not None and partner.case_index(str(name)) is None:
                names = [c.name for c in scenario.cases]
                hint = did_you_mean(name, names) or f"; cases: {names}"
                raise _AdminError(400, f"no case {name!r}{hint}")
            op["case"] = None if name is None else str(name)
        if "shape" in data:
            shape = data["shape"]
            if shape is None or shape == ROTATE:
                op["shape"] = shape
            else:
                try:
                    op["shape"] = str(Shape.parse(str(shape)))
                except ValueError as exc:
                    raise _AdminError(400, f"shape: {exc}") from None
        return JSONResponse(await control(op))

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            state = await control({"op": "disarm"})
        elif request.method == "POST":
            data = await _json_body(request)
            count = data.get("count", 1)
            if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                raise _AdminError(400, f"count must be a whole number >= 1, got {count!r}")
            if "fault" not in data:
                raise _AdminError(400, 'missing \'fault\' (e.g. {"type": "status", "status": 503})')
            _check_fault(data["fault"], "fault")
            state = await control({"op": "arm", "fault": data["fault"], "count": count})
        else:
            state = await control({"op": "state"})
        return JSONResponse({"armed": state["armed"]})

    # The partner's own path never reaches these routes (see _MockApp).
    routes = [
        Route(f"{ADMIN_PREFIX}/health", health, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/requests", admin(requests), methods=["GET", "DELETE"]),
        Route(f"{ADMIN_PREFIX}/reset", admin(reset), methods=["POST"]),
        Route(f"{ADMIN_PREFIX}/scenario", admin(scenario_state), methods=["GET", "PUT"]),
        Route(f"{ADMIN_PREFIX}/faults", admin(faults), methods=["GET", "POST", "DELETE"]),
    ]
    token_path = scenario.token_path()
    if token_path is not None:
        routes.append(Route(token_path, _Asgi(partner.auth.token_endpoint)))
    routes.append(Route("/{path:path}", _Asgi(partner.unknown_path)))
    lifespan = None if peers is None else (lambda _: peers.listening())
    app = _MockApp(partner, routes=routes, lifespan=lifespan)
    app.state.partner = partner
    return app
