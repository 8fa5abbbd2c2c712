"""A string that never shows itself."""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import quote, quote_plus

__all__ = ["MASK", "Redactor", "Secret"]

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


class Redactor:
    """Hides credentials in text meant for people: the values of credential headers (by the
    configured header names, not only well-known ones) and every secret value wherever it
    appears. Secrets learnt later (tokens) are added with :meth:`add`."""

    def __init__(self, header_names: Iterable[str] = (), secrets: Iterable[str] = ()) -> None:
        self.header_names = frozenset(h.lower() for h in header_names)
        self.secrets: tuple[str, ...] = ()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Mask ``secret`` from now on, also percent-encoded (as it appears in a URL)."""
        if not secret:
            return
        forms = {secret, quote(secret, safe=""), quote_plus(secret)} - set(self.secrets)
        if forms:
            # Longest first, so a secret containing another is masked whole.
            self.secrets = tuple(sorted((*self.secrets, *forms), key=len, reverse=True))

    def text(self, value: str) -> str:
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value

    def deep(self, value: Any) -> Any:
        """``value`` with :meth:`text` applied to every string in it, keys included, however
        deep in dicts and lists (a job, a report's request)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.deep(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.deep(v) for v in value]
        return value

    def header(self, name: str, value: str) -> str:
        return MASK if name.lower() in self.header_names else self.text(value)

    def headers(self, raw: Iterable[tuple[bytes, bytes]]) -> list[list[str]]:
        out = []
        for name_b, value_b in raw:
            name = name_b.decode("latin-1").lower()
            out.append([name, self.header(name, value_b.decode("latin-1"))])
        return out
