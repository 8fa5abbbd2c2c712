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

__all__ = ["BODY_LIMIT", "BYTE_BUDGET", "DEFAULT_JOURNAL_SIZE", "Entry", "Journal"]

#: Entries kept by default; the oldest are dropped first.
DEFAULT_JOURNAL_SIZE: Final = 10_000

#: The most request bytes (query, headers, body) the journal holds, whatever the entry count:
#: 10,000 hostile requests with 64 KB bodies would otherwise hold 640 MB.
BYTE_BUDGET: Final = 64 * 1024 * 1024

#: What an entry costs beyond its request bytes (the object, the parsed query), roughly.
_ENTRY_OVERHEAD: Final = 512

#: Bytes of a request body kept in an entry.
BODY_LIMIT: Final = 64 * 1024


class Entry:
    """One recorded request and how the mock answered it."""

    __slots__ = (
        "_header_bytes",
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
        "weight",
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
        self.weight = 0
        self._header_bytes = -1

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

    def header_bytes(self) -> int:
        """The request headers' size (computed once: the partner checks it, the journal
        weighs it)."""
        if self._header_bytes < 0:
            self._header_bytes = sum(len(name) + len(value) for name, value in self.headers)
        return self._header_bytes

    def drop_headers(self, note: str) -> None:
        self.headers = [(b"x-postback-kit-note", note.encode())]
        self._header_bytes = -1

    def drop_query(self, note: str) -> None:
        self.query_string = f"({note})"
        self.query = ()

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

    def __init__(self, size: int = DEFAULT_JOURNAL_SIZE, byte_budget: int = BYTE_BUDGET) -> None:
        self.size = size
        self.byte_budget = byte_budget
        self._entries: deque[Entry] = deque()
        self._bytes = 0
        self._ids = itertools.count(1)
        self.total = 0

    def record(self, entry: Entry) -> None:
        entry.id = next(self._ids)
        entry.at = time.time()
        self.total += 1
        if not self.size:
            return
        entry.weight = (
            _ENTRY_OVERHEAD
            + len(entry.query_string)
            + entry.header_bytes()
            + (len(entry.body) if entry.body else 0)
        )
        entries = self._entries
        if len(entries) >= self.size:
            self._bytes -= entries.popleft().weight
        entries.append(entry)
        self._bytes += entry.weight
        while self._bytes > self.byte_budget and len(entries) > 1:
            self._bytes -= entries.popleft().weight

    def entries(self) -> list[Entry]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0

    def snapshot(self, masker: Redactor) -> dict[str, Any]:
        """The admin API's view: entries oldest first, masked, with counts."""
        entries = [e.to_dict(masker) for e in self.entries()]
        return {"requests": entries, "total": self.total, "kept": len(entries), "size": self.size}
