"""A string that never shows itself."""

from __future__ import annotations

import hmac
from typing import Final

__all__ = ["MASK", "Secret"]

#: What every secret looks like in logs, reports, reprs and curl lines.
MASK: Final = "***"


class Secret:
    """A credential (API key, client secret, token). ``str()`` and ``repr()`` give ``***``;
    :meth:`reveal` gives the value, for the one place that sends it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def matches(self, candidate: str | bytes | None) -> bool:
        """Constant-time comparison on bytes (``hmac.compare_digest`` raises on non-ASCII
        ``str``); any candidate that is not this secret, None included, is False."""
        if candidate is None:
            return False
        given = (
            candidate.encode("utf-8", "surrogateescape")
            if isinstance(candidate, str)
            else candidate
        )
        return hmac.compare_digest(given, self._value.encode("utf-8", "surrogateescape"))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and self.matches(other._value)

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK
