"""The baseline: a bare Starlette app answering the seed's sample body on GET /voucher, with
no checks and no journal. Served by uvicorn exactly like the mock."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SEED_BODY = {
    "success": True,
    "message": "Your request has done",
    "errorCode": 0,
    "data": {"code": "E094", "expired": False, "value": 10000},
}


async def voucher(request: Request) -> JSONResponse:
    return JSONResponse(SEED_BODY)


app = Starlette(routes=[Route("/voucher", voucher)])
