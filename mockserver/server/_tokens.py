"""Stateless signed tokens: HMAC-SHA256 over kind, expiry and a nonce.

Any process holding the same key accepts the tokens of any other, so ``serve --workers N``
shares one key (handed to the workers through the environment) and needs no shared store.
Single-use tracking is the one piece of state, and it is per process.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["ENV_TOKEN_SECRET", "TokenCheck", "TokenSigner", "new_secret"]

#: The environment variable through which ``serve`` hands its key to its workers.
ENV_TOKEN_SECRET: Final = "POSTBACK_KIT_TOKEN_SECRET"

_USED_LIMIT: Final = 100_000


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class TokenCheck:
    """The verdict on a presented token: ``ok``, ``expired``, ``invalid`` (tampered, unknown,
    of another kind, garbage) or ``used`` (single-use and already presented)."""

    status: Literal["ok", "expired", "invalid", "used"]
    subject: str = ""


class TokenSigner:
    """Issues and verifies tokens of one key. ``kind`` keeps a token API token from being
    accepted as an OAuth token and the other way round."""

    def __init__(self, key: str | bytes | None = None) -> None:
        if key is None:
            key = os.environ.get(ENV_TOKEN_SECRET) or new_secret()
        self._key = key.encode("utf-8") if isinstance(key, str) else key
        self._used: OrderedDict[str, float] = OrderedDict()

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest())

    def issue(self, kind: str, lifetime_s: float, subject: str = "") -> str:
        expires = time.time() + lifetime_s
        raw = f"{kind}|{expires:.3f}|{secrets.token_hex(8)}|{subject}".encode()
        payload = _b64(raw)
        return f"{payload}.{self._sign(payload)}"

    def verify(self, token: str, kind: str, *, single_use: bool = False) -> TokenCheck:
        payload, dot, signature = token.partition(".")
        if not dot or not payload.isascii() or not signature.isascii():
            return TokenCheck("invalid")
        expected = self._sign(payload)
        if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii")):
            return TokenCheck("invalid")
        try:
            token_kind, expires, nonce, subject = _unb64(payload).decode("utf-8").split("|", 3)
            expiry = float(expires)
        except ValueError:
            return TokenCheck("invalid")
        if token_kind != kind:
            return TokenCheck("invalid")
        now = time.time()
        if expiry <= now:
            return TokenCheck("expired", subject)
        if single_use:
            if nonce in self._used:
                return TokenCheck("used", subject)
            self._remember(nonce, expiry, now)
        return TokenCheck("ok", subject)

    def _remember(self, nonce: str, expiry: float, now: float) -> None:
        used = self._used
        used[nonce] = expiry
        if len(used) > _USED_LIMIT:
            for old in [n for n, exp in used.items() if exp <= now]:
                del used[old]
            while len(used) > _USED_LIMIT:
                used.popitem(last=False)

    def forget_used(self) -> None:
        self._used.clear()
