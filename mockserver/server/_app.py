"""The Starlette application: the partner endpoint plus the admin API under ``/__admin``."""

from __future__ import annotations

import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver._version import __version__
from mockserver.models import Scenario
from mockserver.server._partner import MockPartner

__all__ = ["ADMIN_PREFIX", "create_app"]

ADMIN_PREFIX = "/__admin"


class _Asgi:
    """Marks a callable as a raw ASGI app for Starlette's router (which would otherwise wrap a
    bound method as a request/response endpoint)."""

    __slots__ = ("app",)

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def create_app(scenario: Scenario, *, journal_size: int | None = None) -> Starlette:
    """A Starlette app serving ``scenario``. The :class:`MockPartner` behind it is
    ``app.state.partner`` (its journal, for in-process use)."""
    partner = MockPartner(scenario, journal_size=journal_size)
    started = time.time()

    async def health(request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "version": __version__,
                "scenario": scenario.name,
                "path": scenario.path,
                "methods": list(scenario.methods),
                "uptime_s": round(time.time() - started, 3),
                "requests": partner.journal.total,
            }
        )

    async def requests(request: Request) -> Response:
        if request.method == "DELETE":
            partner.journal.clear()
            return Response(status_code=204)
        return JSONResponse(partner.journal.snapshot(partner.masker))

    async def reset(request: Request) -> Response:
        partner.reset()
        return Response(status_code=204)

    app = Starlette(
        routes=[
            # The partner's path first: it is the one under load.
            Route(scenario.path, _Asgi(partner)),
            Route(f"{ADMIN_PREFIX}/health", health, methods=["GET"]),
            Route(f"{ADMIN_PREFIX}/requests", requests, methods=["GET", "DELETE"]),
            Route(f"{ADMIN_PREFIX}/reset", reset, methods=["POST"]),
            Route("/{path:path}", _Asgi(partner.unknown_path)),
        ]
    )
    app.state.partner = partner
    return app
