"""The mock partner: a Starlette app serving a scenario, and ways to run it on uvicorn."""

from mockserver.server._app import ADMIN_PREFIX, create_app
from mockserver.server._faults import breach_body, oversized_padding
from mockserver.server._http import Refusal
from mockserver.server._journal import DEFAULT_JOURNAL_SIZE, Journal
from mockserver.server._partner import ERROR_CODES, MockPartner
from mockserver.server._serve import ServerThread, serve
from mockserver.server._tokens import TokenSigner

__all__ = [
    "ADMIN_PREFIX",
    "DEFAULT_JOURNAL_SIZE",
    "ERROR_CODES",
    "Journal",
    "MockPartner",
    "Refusal",
    "ServerThread",
    "TokenSigner",
    "breach_body",
    "create_app",
    "oversized_padding",
    "serve",
]
