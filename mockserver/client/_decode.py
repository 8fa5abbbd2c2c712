"""Reading a response body with a cap on its decoded size.

httpx decodes ``Content-Encoding`` chunk by chunk with no bound on what one chunk may expand
to: one 64 KB read of a gzip bomb becomes ~64 MB in memory before any size check can see it.
The client therefore reads raw bytes and decompresses them with :mod:`zlib`'s ``max_length``,
so no more than the cap (plus one byte, to tell "over") is ever held decoded.
"""

from __future__ import annotations

import zlib
from typing import Final

__all__ = ["ACCEPT_ENCODING", "BodyTooLarge", "CappedDecoder", "UnsupportedEncoding"]

#: What the client tells partners it can decode (and all it decodes).
ACCEPT_ENCODING: Final = "gzip, deflate"


class BodyTooLarge(Exception):
    """The decoded body went over the cap."""


class UnsupportedEncoding(Exception):
    """A ``Content-Encoding`` the client did not offer."""


class CappedDecoder:
    """Feed raw chunks, get the decoded body; raises :class:`BodyTooLarge` as soon as the
    decoded size passes ``cap``, holding at most ``cap + 1`` decoded bytes."""

    def __init__(self, content_encoding: str | None, cap: int) -> None:
        self.cap = cap
        self.size = 0
        self._parts: list[bytes] = []
        codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if len(codings) > 1:
            raise UnsupportedEncoding(f"stacked content-encodings {content_encoding!r}")
        self._coding = codings[0] if codings else None
        self._zlib: zlib._Decompress | None = None
        if self._coding in {"gzip", "x-gzip"}:
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self._coding == "deflate":
            # RFC 9110's deflate is zlib-wrapped; some servers send raw deflate: decided on
            # the first bytes, as httpx does.
            self._zlib = None
        elif self._coding is not None:
            raise UnsupportedEncoding(
                f"content-encoding {content_encoding!r} (the client offers {ACCEPT_ENCODING})"
            )

    def _keep(self, piece: bytes) -> None:
        self.size += len(piece)
        if self.size > self.cap:
            raise BodyTooLarge(self.size)
        if piece:
            self._parts.append(piece)

    def feed(self, raw: bytes) -> None:
        if self._coding is None:
            self._keep(raw)
            return
        if self._zlib is None:  # deflate, first bytes
            zlib_wrapped = len(raw) >= 2 and (raw[0] * 256 + raw[1]) % 31 == 0
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS)
        data = raw
        while data:
            try:
                piece = self._zlib.decompress(data, self.cap - self.size + 1)
            except zlib.error as exc:
                raise ValueError(f"the {self._coding} body is corrupt: {exc}") from None
            self._keep(piece)
            data = self._zlib.unconsumed_tail
            if not piece and data:  # no progress (cannot happen with room left); be safe
                break

    def finish(self) -> bytes:
        if self._zlib is not None:
            self._keep(self._zlib.flush(self.cap - self.size + 1))
        return b"".join(self._parts)
