"""Credentials for the data call: a fixed API key, or a token from the partner's token API or
OAuth 2.0 token endpoint, cached while it is valid and fetched at most once per needed
refresh, however many calls wait for it."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote_plus

from mockserver.client._request import encode_query
from mockserver.contract import InvalidJSON, loads_strict
from mockserver.models import (
    ApiKeyAuth,
    Connection,
    OAuth2Auth,
    Redactor,
    TokenApiAuth,
)

__all__ = [
    "AuthFailure",
    "Credentials",
    "Fetch",
    "RawResponse",
    "TokenCredentials",
    "credentials_for",
]

#: Refresh a cached token this long before it expires (at most; 10% of short lifetimes).
MARGIN_S: Final = 30.0


class AuthFailure(Exception):
    """The token call failed or gave no usable token (SPEC 1.3: ``failure: "auth"``)."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


@dataclass(frozen=True, slots=True)
class RawResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes


#: Sends one HTTP exchange (method, url, headers, body) and returns the answer; raises the
#: client's transport failure when there is none.
Fetch = Callable[[str, str, list[tuple[str, str]], bytes | None], Awaitable[RawResponse]]


def _lifetime(value: Any) -> float | None:
    """A token lifetime in seconds from a number or a numeric string; None when unusable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return seconds if seconds > 0 and seconds == seconds else None


def _dig(document: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(document, dict) or part not in document:
            return None
        document = document[part]
    return document


class Credentials:
    """No credential (auth ``none``); the base of the others."""

    #: Whether a 401 may be answered by fetching a new credential.
    refreshable = False

    async def header(self, *, stale: str | None = None) -> tuple[str, str] | None:
        """The credential header for the next data call. ``stale`` is a header value that
        just got a 401: a different, newer one is returned (fetched if need be)."""
        return None


class _ApiKey(Credentials):
    def __init__(self, auth: ApiKeyAuth) -> None:
        self._header = (auth.header, auth.value.reveal())

    async def header(self, *, stale: str | None = None) -> tuple[str, str] | None:
        return self._header


class TokenCredentials(Credentials):
    """A fetched token, cached until its lifetime (minus a margin) runs out; without a
    lifetime every call gets a fresh one."""

    refreshable = True

    def __init__(self, fetch: Fetch, redactor: Redactor, header: str, prefix: str) -> None:
        self._fetch = fetch
        self._redactor = redactor
        self._header = header
        self._prefix = prefix
        self._lock = asyncio.Lock()
        self._cached: str | None = None
        self._expires_at = 0.0

    def _value(self, token: str) -> str:
        return f"{self._prefix} {token}" if self._prefix else token

    def header_for(self, token: str) -> tuple[str, str]:
        """The data call's credential header carrying ``token`` (configured name and prefix)."""
        return self._header, self._value(token)

    async def _new_token(self) -> tuple[str, float | None]:
        raise NotImplementedError

    async def fetch_token(self) -> tuple[str, float | None]:
        """A new token from the endpoint, bypassing the cache: ``(token, lifetime_s)``; raises
        :class:`AuthFailure`. (certify calls it to exercise the token endpoint.)"""
        return await self._fetch_token()

    async def _fetch_token(self) -> tuple[str, float | None]:
        token, lifetime = await self._new_token()
        self._redactor.add(token)
        return token, lifetime

    #: False when tokens come without a lifetime by configuration: each call fetches its own
    #: and no call waits for another's.
    caches = True

    async def header(self, *, stale: str | None = None) -> tuple[str, str] | None:
        if not self.caches:
            token, _ = await self._fetch_token()
            return self.header_for(token)
        async with self._lock:
            cached = self._cached
            fresh = cached is not None and time.monotonic() < self._expires_at
            if fresh and cached is not None and self._value(cached) != stale:
                # Valid, and not the one that just got a 401 (another call refreshed it).
                return self.header_for(cached)
            token, lifetime = await self._fetch_token()
            self._cached = None
            if lifetime is not None:
                keep = lifetime - min(MARGIN_S, lifetime * 0.1)
                if keep > 0:
                    self._cached = token
                    self._expires_at = time.monotonic() + keep
            return self.header_for(token)


class TokenCredentialsApi(TokenCredentials):
    def __init__(self, auth: TokenApiAuth, fetch: Fetch, redactor: Redactor) -> None:
        super().__init__(fetch, redactor, auth.header, auth.token_prefix)
        self._auth = auth
        self.caches = auth.expires_field is not None

    async def _new_token(self) -> tuple[str, float | None]:
        auth = self._auth
        url = auth.url
        if auth.params:
            url += ("&" if "?" in url else "?") + encode_query(list(auth.params.items()))
        headers = [("accept", "application/json"), *auth.headers.items()]
        content = None
        if auth.method == "POST" or auth.body:
            content = json.dumps(dict(auth.body), ensure_ascii=False).encode("utf-8")
            headers.append(("content-type", "application/json"))
        response = await self._fetch(auth.method, url, headers, content)
        if not 200 <= response.status < 300:
            raise AuthFailure(f"the token API answered HTTP {response.status}")
        try:
            document = loads_strict(response.body)
        except InvalidJSON as exc:
            raise AuthFailure(f"the token API's answer is not JSON: {exc.reason}") from None
        token = _dig(document, auth.token_field)
        if not isinstance(token, str) or not token:
            raise AuthFailure(f"the token API's answer has no token at '{auth.token_field}'")
        lifetime = _lifetime(_dig(document, auth.expires_field)) if auth.expires_field else None
        return token, lifetime


class _OAuth2(TokenCredentials):
    def __init__(self, auth: OAuth2Auth, fetch: Fetch, redactor: Redactor) -> None:
        super().__init__(fetch, redactor, "Authorization", "Bearer")
        self._auth = auth

    async def _new_token(self) -> tuple[str, float | None]:
        auth = self._auth
        form = [("grant_type", "client_credentials")]
        if auth.scope:
            form.append(("scope", auth.scope))
        headers = [
            ("accept", "application/json"),
            ("content-type", "application/x-www-form-urlencoded"),
        ]
        secret = auth.client_secret.reveal()
        if auth.client_auth == "basic":
            # RFC 6749 2.3.1: form-encode id and secret, then Base64 "id:secret".
            pair = f"{quote_plus(auth.client_id)}:{quote_plus(secret)}".encode()
            headers.append(("authorization", "Basic " + base64.b64encode(pair).decode("ascii")))
        else:
            form += [("client_id", auth.client_id), ("client_secret", secret)]
        body = "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in form).encode("ascii")
        response = await self._fetch("POST", auth.token_url, headers, body)
        try:
            document = loads_strict(response.body)
        except InvalidJSON:
            document = None
        if not 200 <= response.status < 300:
            error = document.get("error") if isinstance(document, dict) else None
            named = f" ({error})" if isinstance(error, str) else ""
            raise AuthFailure(f"the OAuth token endpoint answered HTTP {response.status}{named}")
        token = _dig(document, "access_token")
        if not isinstance(token, str) or not token:
            raise AuthFailure("the OAuth token endpoint's answer has no access_token")
        token_type = _dig(document, "token_type")
        if token_type is not None and str(token_type).lower() != "bearer":
            raise AuthFailure(f"unsupported OAuth token_type {token_type!r} (need Bearer)")
        return token, _lifetime(_dig(document, "expires_in"))


def credentials_for(connection: Connection, fetch: Fetch, redactor: Redactor) -> Credentials:
    auth = connection.auth
    if isinstance(auth, ApiKeyAuth):
        return _ApiKey(auth)
    if isinstance(auth, TokenApiAuth):
        return TokenCredentialsApi(auth, fetch, redactor)
    if isinstance(auth, OAuth2Auth):
        return _OAuth2(auth, fetch, redactor)
    return Credentials()
