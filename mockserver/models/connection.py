"""A connection: what a CDP admin configures per partner (SPEC 1.1)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from mockserver.models._loading import Document, document_from_data, load_document
from mockserver.models._secret import Secret

__all__ = [
    "ApiKeyAuth",
    "Auth",
    "Connection",
    "NoAuth",
    "OAuth2Auth",
    "RetryPolicy",
    "TokenApiAuth",
    "load_connection",
]

SCHEMA: Final = "connection.schema.json"

_TEMPLATE: Final = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")
_SECRET_NAME: Final = re.compile(r"(?i)key|secret|pass|token|sig|auth|credential")


@dataclass(frozen=True, kw_only=True)
class NoAuth:
    type: Literal["none"] = "none"


@dataclass(frozen=True, kw_only=True)
class ApiKeyAuth:
    header: str
    value: Secret
    type: Literal["api_key"] = "api_key"


@dataclass(frozen=True, kw_only=True)
class TokenApiAuth:
    url: str
    token_field: str
    method: Literal["GET", "POST"] = "POST"
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    body: Mapping[str, Any] = field(default_factory=dict)
    token_prefix: str = "Bearer"
    header: str = "Authorization"
    expires_field: str | None = None
    #: Values inside headers/params/body that are credentials (from ``${ENV}`` or under a
    #: key that names one: key, secret, password, token...).
    secret_values: tuple[Secret, ...] = ()
    type: Literal["token_api"] = "token_api"

    def __repr__(self) -> str:
        return (
            f"TokenApiAuth(url={self.url!r}, token_field={self.token_field!r}, "
            f"header={self.header!r}, credentials=***)"
        )


@dataclass(frozen=True, kw_only=True)
class OAuth2Auth:
    token_url: str
    client_id: str
    client_secret: Secret
    scope: str | None = None
    client_auth: Literal["basic", "body"] = "basic"
    type: Literal["oauth2"] = "oauth2"


Auth = NoAuth | ApiKeyAuth | TokenApiAuth | OAuth2Auth


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    attempts: int = 1
    backoff_s: float = 0.5
    max_wait_s: float = 30.0
    retry_post: bool = False


@dataclass(frozen=True, kw_only=True)
class Connection:
    """A validated connection. Build it with :func:`load_connection` or
    :meth:`Connection.from_dict`; values hold ``{{field}}`` templates unrendered."""

    endpoint: str
    method: Literal["GET", "POST"] = "GET"
    timeout_s: float = 10.0
    auth: Auth = field(default_factory=NoAuth)
    headers: Mapping[str, str] = field(default_factory=dict)
    params: tuple[tuple[str, str], ...] = ()
    payload: Mapping[str, Any] | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_response_bytes: int = 1024 * 1024
    name: str | None = None
    source: str = "<connection>"

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        source: str = "<connection>",
        environ: Mapping[str, str] | None = None,
    ) -> Connection:
        """Validate a connection given as data (``${ENV}`` resolved, like a file)."""
        document = document_from_data(
            dict(data), SCHEMA, source=source, environ=environ, check=_check
        )
        return _from_document(document)

    def secrets(self) -> tuple[Secret, ...]:
        """Every credential this connection carries, for masking."""
        auth = self.auth
        if isinstance(auth, ApiKeyAuth):
            return (auth.value,)
        if isinstance(auth, OAuth2Auth):
            return (auth.client_secret,)
        if isinstance(auth, TokenApiAuth):
            return auth.secret_values
        return ()

    def secret_headers(self) -> frozenset[str]:
        """Lower-cased names of headers that carry a credential on the data call."""
        auth = self.auth
        if isinstance(auth, ApiKeyAuth | TokenApiAuth):
            return frozenset({auth.header.lower(), "authorization"})
        return frozenset({"authorization"})

    def template_fields(self) -> tuple[str, ...]:
        """The profile fields the params and payload reference as ``{{field}}``, in order."""
        found: list[str] = []
        values: list[Any] = [v for _, v in self.params]
        if self.payload is not None:
            values.append(self.payload)
        while values:
            value = values.pop(0)
            if isinstance(value, str):
                found.extend(m.group(1) for m in _TEMPLATE.finditer(value))
            elif isinstance(value, Mapping):
                values[:0] = list(value.values())
            elif isinstance(value, list):
                values[:0] = value
        return tuple(dict.fromkeys(found))


def _check(document: Document) -> None:
    data = document.data
    if "payload" in data and data.get("method", "GET") != "POST":
        raise document.error(
            ["payload"], "payload is sent only with method POST; remove it or set method: POST"
        )


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _secret_values(raw: Mapping[str, Any], resolved: Mapping[str, Any]) -> list[Secret]:
    found: list[Secret] = []
    for key, value in resolved.items():
        original = raw.get(key)
        if isinstance(value, Mapping) and isinstance(original, Mapping):
            found.extend(_secret_values(original, value))
        elif (
            isinstance(value, str)
            and value
            and ((isinstance(original, str) and "${" in original) or _SECRET_NAME.search(key))
        ):
            found.append(Secret(value))
    return found


def _auth(data: Mapping[str, Any] | None, raw: Mapping[str, Any] | None) -> Auth:
    if data is None or data["type"] == "none":
        return NoAuth()
    raw = raw or {}
    kind = data["type"]
    if kind == "api_key":
        return ApiKeyAuth(header=data["header"], value=Secret(data["value"]))
    if kind == "token_api":
        secrets: list[Secret] = []
        for part in ("headers", "params", "body"):
            secrets.extend(_secret_values(raw.get(part) or {}, data.get(part) or {}))
        return TokenApiAuth(
            url=data["url"],
            token_field=data["token_field"],
            method=data.get("method", "POST"),
            headers=dict(data.get("headers") or {}),
            params={k: _scalar(v) for k, v in (data.get("params") or {}).items()},
            body=dict(data.get("body") or {}),
            token_prefix=data.get("token_prefix", "Bearer"),
            header=data.get("header", "Authorization"),
            expires_field=data.get("expires_field"),
            secret_values=tuple(secrets),
        )
    return OAuth2Auth(
        token_url=data["token_url"],
        client_id=data["client_id"],
        client_secret=Secret(data["client_secret"]),
        scope=data.get("scope"),
        client_auth=data.get("client_auth", "basic"),
    )


def _from_document(document: Document) -> Connection:
    data = document.data
    retry = data.get("retry") or {}
    return Connection(
        endpoint=data["endpoint"],
        method=data.get("method", "GET"),
        timeout_s=float(data.get("timeout_s", 10)),
        auth=_auth(data.get("auth"), document.raw.get("auth")),
        headers=dict(data.get("headers") or {}),
        params=tuple((k, _scalar(v)) for k, v in (data.get("params") or {}).items()),
        payload=data.get("payload", {} if data.get("method") == "POST" else None),
        retry=RetryPolicy(**retry),
        max_response_bytes=data.get("max_response_bytes", 1024 * 1024),
        name=data.get("name"),
        source=document.source,
    )


def load_connection(path: str | Path, *, environ: Mapping[str, str] | None = None) -> Connection:
    """Read and validate a connection file (YAML or JSON); raises
    :class:`~mockserver.errors.ConfigError` with file and JSON pointer on bad input."""
    return _from_document(load_document(path, SCHEMA, environ=environ, check=_check))
