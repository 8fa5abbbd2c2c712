"""``postback-kit verify-client``: prove a CDP client handles every partner (SPEC 2.1, 2.2)."""

from mockserver.verify._adapters import (
    Adapter,
    AdapterError,
    CommandAdapter,
    PythonAdapter,
    load_callable,
)
from mockserver.verify._engine import CHECKS, VerifyOptions, verify

__all__ = [
    "CHECKS",
    "Adapter",
    "AdapterError",
    "CommandAdapter",
    "PythonAdapter",
    "VerifyOptions",
    "load_callable",
    "verify",
]
