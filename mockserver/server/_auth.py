"""What the mock partner demands of a client: the data endpoint's credential check for each
auth type, and the token endpoints of the token API and of OAuth 2.0 client credentials
(RFC 6749 sections 2.3.1, 4.4, 5.1, 5.2; RFC 6750 section 3)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import unquote_plus

from starlette.types import Receive, Scope, Send

from mockserver.contract import InvalidJSON, loads_strict
from mockserver.models import (
    ServerApiKey,
    ServerAuth,
    ServerOAuth2,
    ServerTokenApi,
)
from mockserver.server._http import (
    Answer,
    Refusal,
    dumps,
    is_json_media_type,
    parse_query,
    read_body,
    response_headers,
)
from mockserver.server._journal import BODY_LIMIT, Entry, Journal
from mockserver.server._tokens import TokenSigner

__all__ = ["AuthServer"]

#: Token endpoints read at most this much of a request body.
TOKEN_BODY_LIMIT: Final = 64 * 1024

_REALM: Final = 'realm="postback-kit"'
_NO_STORE: Final = (("cache-control", "no-store"), ("pragma", "no-cache"))


def _set_path(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        child = target.get(part)
        if not isinstance(child, dict):
            child = target[part] = {}
        target = child
    target[last] = value


def _deep_copy_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy_json(v) for v in value]
    return value


class AuthServer:
    """The credential side of one scenario. ``check`` guards the data endpoint;
    ``token_endpoint`` is the ASGI app of the token path (token API or OAuth 2.0)."""

    def __init__(self, auth: ServerAuth, signer: TokenSigner, journal: Journal) -> None:
        self.auth = auth
        self.signer = signer
        self.journal = journal
        self._header = ""
        self._prefix = ""
        if isinstance(auth, ServerApiKey | ServerTokenApi):
            self._header = auth.header.lower()
        if isinstance(auth, ServerTokenApi):
            self._prefix = auth.prefix
        if isinstance(auth, ServerOAuth2):
            self._header = "authorization"
            self._prefix = "Bearer"
        self._bearer = self._header == "authorization" and self._prefix.lower() == "bearer"

    # -- the data endpoint -------------------------------------------------------------

    def check(self, headers: Mapping[str, str]) -> Refusal | None:
        auth = self.auth
        if isinstance(auth, ServerApiKey):
            given = headers.get(self._header)
            if given is None:
                return Refusal(401, "Unauthorized", f"missing API key header '{self._header}'")
            if not auth.value.matches(given):
                return Refusal(401, "Unauthorized", "invalid API key")
            return None
        if isinstance(auth, ServerTokenApi | ServerOAuth2):
            return self._check_token(headers)
        return None

    def _token_refusal(self, code: str, message: str, *, presented: bool) -> Refusal:
        if not self._bearer:
            return Refusal(401, code, message)
        if not presented:
            challenge = f"Bearer {_REALM}"
        else:
            description = message.replace('"', "'")
            challenge = f'Bearer {_REALM}, error="invalid_token", error_description="{description}"'
        return Refusal(401, code, message, (("www-authenticate", challenge),))

    def _check_token(self, headers: Mapping[str, str]) -> Refusal | None:
        given = headers.get(self._header)
        if given is None or not given.strip():
            return self._token_refusal(
                "Unauthorized", f"missing token in header '{self._header}'", presented=False
            )
        token = given.strip()
        if self._prefix:
            scheme, _, rest = token.partition(" ")
            if scheme.lower() != self._prefix.lower() or not rest.strip():
                return self._token_refusal(
                    "Unauthorized",
                    f"header '{self._header}' must be '{self._prefix} <token>'",
                    presented=True,
                )
            token = rest.strip()
        single_use = isinstance(self.auth, ServerTokenApi) and self.auth.single_use
        verdict = self.signer.verify(token, self.auth.type, single_use=single_use)
        if verdict.status == "ok":
            return None
        if verdict.status == "expired":
            return self._token_refusal("TokenExpired", "the token has expired", presented=True)
        if verdict.status == "used":
            return self._token_refusal(
                "Unauthorized", "the token was already used (single use)", presented=True
            )
        return self._token_refusal("Unauthorized", "invalid token", presented=True)

    # -- the token endpoints -----------------------------------------------------------

    async def token_endpoint(self, scope: Scope, receive: Receive, send: Send) -> None:
        entry = Entry.from_scope(scope)
        entry.case = "token"
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in entry.headers}
        if isinstance(self.auth, ServerOAuth2):
            answer = await self._oauth_token(self.auth, entry, headers, receive)
        else:
            assert isinstance(self.auth, ServerTokenApi)
            answer = await self._api_token(self.auth, entry, headers, receive)
        entry.status = answer.status
        self.journal.record(entry)
        await answer.send(send)

    # token API (a CDP-style token endpoint answering in the contract's style)

    def _token_api_refusal(self, entry: Entry, refusal: Refusal) -> Answer:
        entry.refusal = refusal.to_dict()
        body = dumps(
            {
                "success": False,
                "statusCode": refusal.status,
                "errorCode": refusal.code,
                "message": refusal.message,
                "data": None,
            }
        )
        return Answer(refusal.status, body, response_headers(body, refusal.headers))

    async def _api_token(
        self, auth: ServerTokenApi, entry: Entry, headers: Mapping[str, str], receive: Receive
    ) -> Answer:
        if entry.method != auth.token_method:
            refusal = Refusal(
                405,
                "METHOD_NOT_ALLOWED",
                f"use {auth.token_method} on this path",
                (("allow", auth.token_method),),
            )
            return self._token_api_refusal(entry, refusal)
        payload: dict[str, Any] = {}
        if auth.body:
            raw, fits = await read_body(receive, headers, TOKEN_BODY_LIMIT)
            entry.body = raw[:BODY_LIMIT]
            if not fits:
                refusal = Refusal(413, "PAYLOAD_TOO_LARGE", f"body over {TOKEN_BODY_LIMIT} bytes")
                return self._token_api_refusal(entry, refusal)
            if not is_json_media_type(headers.get("content-type", "")):
                refusal = Refusal(
                    415, "UNSUPPORTED_MEDIA_TYPE", "the token request must be application/json"
                )
                return self._token_api_refusal(entry, refusal)
            try:
                parsed = loads_strict(raw)
            except InvalidJSON as exc:
                refusal = Refusal(400, "INVALID_BODY", f"the JSON body is invalid: {exc.reason}")
                return self._token_api_refusal(entry, refusal)
            if not isinstance(parsed, dict):
                refusal = Refusal(400, "INVALID_BODY", "the JSON body must be an object")
                return self._token_api_refusal(entry, refusal)
            payload = parsed
        params = dict(entry.query)
        for where, given, wanted in (
            ("body field", payload, auth.body),
            ("query parameter", params, auth.params),
            ("header", headers, auth.headers),
        ):
            for name, secret in wanted.items():
                value = given.get(name)
                if value is None:
                    refusal = Refusal(401, "Unauthorized", f"missing credential {where} '{name}'")
                    return self._token_api_refusal(entry, refusal)
                if not isinstance(value, str) or not secret.matches(value):
                    refusal = Refusal(401, "Unauthorized", f"wrong credential {where} '{name}'")
                    return self._token_api_refusal(entry, refusal)
        token = self.signer.issue("token_api", auth.lifetime_s)
        body: dict[str, Any] = _deep_copy_json(dict(auth.response))
        _set_path(body, auth.token_field, token)
        if auth.expires_field:
            lifetime = auth.lifetime_s
            _set_path(
                body, auth.expires_field, int(lifetime) if lifetime.is_integer() else lifetime
            )
        raw_body = dumps(body)
        return Answer(200, raw_body, response_headers(raw_body, _NO_STORE))

    # OAuth 2.0 client credentials

    def _oauth_error(
        self, entry: Entry, status: int, error: str, description: str, *, basic: bool = False
    ) -> Answer:
        entry.refusal = {"status": status, "code": error, "message": description}
        body = dumps({"error": error, "error_description": description})
        extra = list(_NO_STORE)
        if basic:
            extra.append(("www-authenticate", f"Basic {_REALM}"))
        return Answer(status, body, response_headers(body, extra))

    def _basic_credentials(self, header: str) -> tuple[str, str] | None:
        scheme, _, encoded = header.strip().partition(" ")
        if scheme.lower() != "basic" or not encoded.strip():
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, colon, secret = decoded.partition(":")
        if not colon:
            return None
        # RFC 6749 2.3.1: id and secret are form-encoded before Base64.
        return unquote_plus(client_id), unquote_plus(secret)

    async def _oauth_token(
        self, auth: ServerOAuth2, entry: Entry, headers: Mapping[str, str], receive: Receive
    ) -> Answer:
        if entry.method != "POST":
            return self._oauth_error(entry, 405, "invalid_request", "the token endpoint takes POST")
        raw, fits = await read_body(receive, headers, TOKEN_BODY_LIMIT)
        entry.body = raw[:BODY_LIMIT]
        if not fits:
            return self._oauth_error(
                entry, 400, "invalid_request", f"the request body is over {TOKEN_BODY_LIMIT} bytes"
            )
        media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media != "application/x-www-form-urlencoded":
            return self._oauth_error(
                entry,
                400,
                "invalid_request",
                "the token request must be application/x-www-form-urlencoded",
            )
        form = parse_query(raw)
        names = [name for name, _ in form]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            return self._oauth_error(
                entry, 400, "invalid_request", f"parameter included more than once: {repeated[0]}"
            )
        fields = dict(form)
        if any(name == "client_secret" for name, _ in entry.query):
            return self._oauth_error(
                entry, 400, "invalid_request", "client credentials must not be sent in the URL"
            )
        grant_type = fields.get("grant_type")
        if not grant_type:
            return self._oauth_error(entry, 400, "invalid_request", "missing grant_type")
        if grant_type != "client_credentials":
            return self._oauth_error(
                entry, 400, "unsupported_grant_type", f"grant_type {grant_type!r} is not supported"
            )
        allows_basic = "basic" in auth.client_auth
        authorization = headers.get("authorization")
        in_body = "client_id" in fields or "client_secret" in fields
        if authorization is not None and in_body:
            return self._oauth_error(
                entry, 400, "invalid_request", "use one client authentication method, not two"
            )
        if authorization is not None:
            credentials = self._basic_credentials(authorization)
            if credentials is None:
                return self._oauth_error(
                    entry, 401, "invalid_client", "malformed Basic authorization", basic=True
                )
            if not allows_basic:
                return self._oauth_error(
                    entry,
                    401,
                    "invalid_client",
                    "HTTP Basic client authentication is not allowed",
                    basic=True,
                )
            used_basic = True
        elif in_body:
            if "body" not in auth.client_auth:
                return self._oauth_error(
                    entry, 401, "invalid_client", "client credentials in the body are not allowed"
                )
            credentials = (fields.get("client_id", ""), fields.get("client_secret", ""))
            used_basic = False
        else:
            return self._oauth_error(
                entry,
                401,
                "invalid_client",
                "client authentication is required",
                basic=allows_basic,
            )
        client_id, client_secret = credentials
        if client_id != auth.client_id or not auth.client_secret.matches(client_secret):
            return self._oauth_error(
                entry, 401, "invalid_client", "unknown client or wrong secret", basic=used_basic
            )
        scope = fields.get("scope")
        granted: str | None = None
        if scope is not None:
            requested = scope.split()
            if auth.scopes is not None:
                unknown = [s for s in requested if s not in auth.scopes]
                if unknown or not requested:
                    shown = unknown[0] if unknown else "(empty)"
                    return self._oauth_error(
                        entry, 400, "invalid_scope", f"scope {shown} is not allowed"
                    )
            granted = " ".join(requested)
        lifetime = auth.lifetime_s
        token = self.signer.issue("oauth2", lifetime, client_id)
        answer: dict[str, Any] = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(lifetime) if lifetime.is_integer() else lifetime,
        }
        if granted is not None:
            answer["scope"] = granted
        body = dumps(answer)
        return Answer(200, body, response_headers(body, _NO_STORE))
