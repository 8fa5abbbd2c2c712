"""The request journal: a bounded ring buffer of what the mock partner received.

Recording is on the hot path, so an entry keeps what the request already holds (the raw
header list, the raw query string, the body bytes) and is turned into JSON, with every
credential masked, only when someone reads the journal.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Sequence
from typing import Any, Final

from starlette.types import Scope

from mockserver.models import Redactor
from mockserver.server._http import parse_query

__all__ = ["BODY_LIMIT", "DEFAULT_JOURNAL_SIZE", "Entry", "Journal"]

#: Entries kept by default; the oldest are dropped first.
DEFAULT_JOURNAL_SIZE: Final = 10_000

#: Bytes of a request body kept in an entry.
BODY_LIMIT: Final = 64 * 1024


class Entry:
    """One recorded request and how the mock answered it."""

    __slots__ = (
        "at",
        "body",
        "case",
        "error",
        "fault",
        "headers",
        "id",
        "method",
        "path",
        "query",
        "query_string",
        "refusal",
        "shape",
        "status",
    )

    def __init__(
        self,
        method: str,
        path: str,
        query_string: str,
        query: Sequence[tuple[str, str]],
        headers: Sequence[tuple[bytes, bytes]],
    ) -> None:
        self.id = 0
        self.at = 0.0
        self.method = method
        self.path = path
        self.query_string = query_string
        self.query = query
        self.headers = headers
        self.body: bytes | None = None
        self.case: str | None = None
        self.shape: str | None = None
        self.status: int | None = None
        self.refusal: dict[str, Any] | None = None
        self.error: str | None = None
        self.fault: str | None = None

    @classmethod
    def from_scope(cls, scope: Scope) -> Entry:
        raw_query: bytes = scope.get("query_string", b"")
        return cls(
            scope["method"],
            scope["path"],
            raw_query.decode("utf-8", "replace"),
            parse_query(raw_query),
            scope["headers"],
        )

    def to_dict(self, masker: Redactor) -> dict[str, Any]:
        text = masker.text
        return {
            "id": self.id,
            "at": self.at,
            "method": self.method,
            "path": self.path,
            "query_string": text(self.query_string),
            "query": [[k, text(v)] for k, v in self.query],
            "headers": masker.headers(self.headers),
            "body": None if self.body is None else text(self.body.decode("utf-8", "replace")),
            "case": self.case,
            "shape": self.shape,
            "status": self.status,
            "refusal": self.refusal,
            "fault": self.fault,
            "error": self.error,
        }


class Journal:
    """The last ``size`` entries (size 0 keeps none), plus a count of all recorded."""

    def __init__(self, size: int = DEFAULT_JOURNAL_SIZE) -> None:
        self.size = size
        self._entries: deque[Entry] = deque(maxlen=size)
        self._ids = itertools.count(1)
        self.total = 0

    def record(self, entry: Entry) -> None:
        entry.id = next(self._ids)
        entry.at = time.time()
        self.total += 1
        if self.size:
            self._entries.append(entry)

    def entries(self) -> list[Entry]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()

    def snapshot(self, masker: Redactor) -> dict[str, Any]:
        """The admin API's view: entries oldest first, masked, with counts."""
        entries = [e.to_dict(masker) for e in self.entries()]
        return {"requests": entries, "total": self.total, "kept": len(entries), "size": self.size}
