"""Faults below HTTP: a connection reset, a close without an answer, a body cut short.

ASGI gives an app no handle on its connection, so the mock serves through uvicorn's own HTTP
protocol class extended by the one asyncio hook every protocol has (``connection_made`` /
``connection_lost``): each open connection's transport is registered under the client's
address, which is exactly the ``client`` of the request's ASGI scope. Only the public asyncio
transport API is used on it. In-process (no socket), :func:`transport_for` is None and the
fault is raised as :class:`InjectedFault` instead. Under a server without that hook (granian),
:func:`approximate_wire_faults` makes them broken answers built from ASGI messages alone.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any, Final

from starlette.types import Scope

__all__ = [
    "HTTP_PROTOCOL",
    "FaultableHttpProtocol",
    "InjectedFault",
    "abort_with_reset",
    "approximate_wire_faults",
    "transport_for",
    "wire_faults_approximated",
]

_TRANSPORTS: Final[dict[tuple[str, int], asyncio.Transport]] = {}
_approximated = [False]


def approximate_wire_faults() -> None:
    """Called in a worker of a server with no uvicorn protocol (granian): from now on a wire
    fault is an answer cut short with ASGI messages, not an :class:`InjectedFault`."""
    _approximated[0] = True


def wire_faults_approximated() -> bool:
    return _approximated[0]


class InjectedFault(ConnectionError):
    """A wire fault the mock could not put on a wire (served in-process)."""


def _key(address: Any) -> tuple[str, int] | None:
    if isinstance(address, tuple | list) and len(address) >= 2:
        return (str(address[0]), int(address[1]))
    return None


def transport_for(scope: Scope) -> asyncio.Transport | None:
    key = _key(scope.get("client"))
    return _TRANSPORTS.get(key) if key is not None else None


def abort_with_reset(transport: asyncio.Transport) -> None:
    """Close the connection with a TCP RST (SO_LINGER 0), not a FIN."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _base_protocol() -> Any:
    try:
        import httptools  # noqa: F401  (only to see whether it is installed)
    except ImportError:
        from uvicorn.protocols.http.h11_impl import H11Protocol

        return H11Protocol
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    return HttpToolsProtocol


class FaultableHttpProtocol(_base_protocol()):  # type: ignore[misc]
    """uvicorn's HTTP protocol (httptools when installed, else h11) that registers each
    connection's transport for the wire faults."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        key = _key(transport.get_extra_info("peername"))
        self._postback_key = key
        if key is not None:
            _TRANSPORTS[key] = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        key = getattr(self, "_postback_key", None)
        if key is not None:
            _TRANSPORTS.pop(key, None)
        super().connection_lost(exc)


#: What ``uvicorn.Config(http=...)`` takes: an import string, so worker processes (which are
#: spawned, not forked) can load the class by name.
HTTP_PROTOCOL: Final = f"{__name__}:FaultableHttpProtocol"
