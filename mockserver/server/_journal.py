"""The request journal: a bounded ring buffer of what the mock partner received."""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Iterable
from typing import Any, Final

from mockserver.models import MASK

__all__ = ["BODY_LIMIT", "DEFAULT_JOURNAL_SIZE", "Journal", "Masker"]

#: Entries kept by default; the oldest are dropped first.
DEFAULT_JOURNAL_SIZE: Final = 10_000

#: Characters of a request body kept in an entry.
BODY_LIMIT: Final = 64 * 1024


class Masker:
    """Hides credentials in what the journal keeps: the values of credential headers (by the
    scenario's configured names) and any secret value wherever it appears."""

    def __init__(self, header_names: Iterable[str], secrets: Iterable[str]) -> None:
        self.header_names = frozenset(h.lower() for h in header_names)
        self.secrets = tuple(s for s in secrets if s)

    def text(self, value: str) -> str:
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value

    def headers(self, raw: Iterable[tuple[bytes, bytes]]) -> list[list[str]]:
        out = []
        for name_b, value_b in raw:
            name = name_b.decode("latin-1").lower()
            value = MASK if name in self.header_names else self.text(value_b.decode("latin-1"))
            out.append([name, value])
        return out


class Journal:
    """The last ``size`` entries (size 0 keeps none), plus a count of all recorded."""

    def __init__(self, size: int = DEFAULT_JOURNAL_SIZE) -> None:
        self.size = size
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._ids = itertools.count(1)
        self.total = 0

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        entry["id"] = next(self._ids)
        entry["at"] = time.time()
        self.total += 1
        if self.size:
            self._entries.append(entry)
        return entry

    def entries(self) -> list[dict[str, Any]]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()

    def snapshot(self) -> dict[str, Any]:
        """The admin API's view: entries oldest first, with counts."""
        entries = self.entries()
        return {
            "requests": entries,
            "total": self.total,
            "kept": len(entries),
            "size": self.size,
        }
