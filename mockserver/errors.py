"""The exceptions postback-kit raises for problems a user can fix.

The tree::

    PostbackKitError                  anything the kit reports to a user (exit 2 on the CLI)
    ├── ConfigError                   a connection or scenario file is unreadable or invalid
    │                                 (fields: file, pointer, problem)
    ├── InvalidResponseError          normalize() was given a body that breaks the contract
    │                                 (field: violations)
    └── ServerStartError              the mock partner could not listen (port in use, ...)

Each ``__str__`` is one line that says where the problem is and what is wrong, so the CLI can
print it as it is. Bugs in the kit itself are not wrapped: they surface as what they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["ConfigError", "InvalidResponseError", "PostbackKitError", "ServerStartError"]


class PostbackKitError(Exception):
    """Base class: a problem with the user's input, reported as one line."""


class ConfigError(PostbackKitError):
    """A file the user gave us cannot be used.

    ``file`` is the path as the user wrote it, ``pointer`` a JSON pointer (RFC 6901) into the
    document ("" for the whole document, or ``line:col`` for a syntax error), ``problem`` what
    is wrong and, where we can tell, how to fix it.
    """

    def __init__(self, file: str, pointer: str, problem: str) -> None:
        self.file = file
        self.pointer = pointer
        self.problem = problem
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}: {self.pointer}" if self.pointer else self.file
        return f"{where}: {self.problem}"


class InvalidResponseError(PostbackKitError):
    """A response body breaks the postback contract (SPEC 1.2)."""

    def __init__(self, violations: Sequence[Any]) -> None:
        #: The :class:`~mockserver.contract.Violation` values, in role order.
        self.violations = tuple(violations)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "; ".join(str(v) for v in self.violations) or "invalid response body"


class ServerStartError(PostbackKitError):
    """The mock partner could not start listening; the message says why."""
