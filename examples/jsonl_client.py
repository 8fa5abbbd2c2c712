#!/usr/bin/env python3
"""A minimal postback client speaking verify-client's JSON Lines protocol (SPEC 2.1).

Standard library only, to show the protocol to partners and CDP teams in any language:
read one job per line on stdin, make the real call, write one result per line on stdout.

    postback-kit verify-client --command "python3 examples/jsonl_client.py"
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import sys
import time
from typing import Any
from urllib.parse import quote, quote_plus, urljoin, urlsplit

ROLES = {
    "success": ("success", "isSuccess"),
    "errorCode": ("errorCode", "responseCode"),
    "message": ("errorMsg", "msg", "message"),
    "data": ("data", "result", "response", "body"),
}
CAP = 1024 * 1024
TOKENS: dict[str, tuple[str, float]] = {}  # cache key -> (header value, expires at)


class Failure(Exception):
    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


def render(template: str, profile: dict[str, Any]) -> str:
    return re.sub(
        r"\{\{\s*([^{}\s]+)\s*\}\}", lambda m: str(profile.get(m.group(1)) or ""), template
    )


def render_json(value: Any, profile: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return render(value, profile)
    if isinstance(value, dict):
        return {k: render_json(v, profile) for k, v in value.items()}
    return value


def query(params: dict[str, Any], profile: dict[str, Any]) -> str:
    return "&".join(
        f"{quote(k, safe='')}={quote(render(str(v), profile), safe='')}" for k, v in params.items()
    )


def strict_json(raw: bytes) -> Any:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if len({k for k, _ in pairs}) != len(pairs):
            raise ValueError("duplicate key")
        return dict(pairs)

    def no_constant(name: str) -> Any:
        raise ValueError(name)

    text = raw.decode("utf-8")
    depth = deepest = 0
    for char in re.sub(r'"(?:[^"\\]|\\.)*"', "", text):
        depth += char in "[{"
        depth -= char in "]}"
        deepest = max(deepest, depth)
    if deepest > 64:
        raise ValueError("too deep")
    return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constant)


def normalize(body: Any) -> dict[str, Any] | None:
    """The normalized result of a contract body, or None when it breaks the contract."""
    if not isinstance(body, dict):
        return None
    found: dict[str, Any] = {}
    for role, keys in ROLES.items():
        present = [k for k in keys if k in body]
        if len(present) > 1 or (not present and role in {"success", "data"}):
            return None
        if present:
            found[role] = body[present[0]]
    code, message, data = found.get("errorCode"), found.get("message"), found["data"]
    if not isinstance(found["success"], bool):
        return None
    if isinstance(code, float) and code.is_integer():
        code = int(code)
    if not (
        code is None
        or isinstance(code, str)
        or (isinstance(code, int) and not isinstance(code, bool))
    ):
        return None
    if not (message is None or isinstance(message, str)):
        return None
    if not (isinstance(data, dict) or (data is None and found["success"] is False)):
        return None
    return {
        "success": found["success"],
        "errorCode": code,
        "message": message,
        "data": data,
        "failure": None,
    }


def failed(kind: str) -> dict[str, Any]:
    return {"success": False, "errorCode": None, "message": None, "data": None, "failure": kind}


def interpret(status: int, raw: bytes) -> dict[str, Any]:
    try:
        body = strict_json(raw)
    except ValueError:
        return failed("invalid_body" if 200 <= status < 300 else "http_status")
    result = normalize(body)
    if 200 <= status < 300:
        if not isinstance(body, dict):
            return failed("invalid_body")
        return result or failed("contract")
    if result is None or result["success"]:
        return failed("http_status")
    return result


def exchange(
    method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP exchange, following redirects within the origin only."""
    origin = urlsplit(url)[:2]
    for _ in range(5):
        parts = urlsplit(url)
        kind = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        connection = kind(parts.netloc, timeout=timeout)
        try:
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            answer = {k.lower(): v for k, v in response.getheaders()}
            raw = response.read(CAP + 1)
            if len(raw) > CAP:
                raise Failure("invalid_body", "the response is over 1 MiB")
            declared = answer.get("content-length", "")
            if declared.isdigit() and len(raw) < int(declared):  # read(n) returns short reads
                raise Failure("transport", f"body cut short: {len(raw)} of {declared} bytes")
        except (OSError, http.client.HTTPException) as exc:
            raise Failure("transport", f"{type(exc).__name__}: {exc}") from None
        finally:
            connection.close()
        location = answer.get("location")
        if response.status not in (301, 302, 303, 307, 308) or not location:
            return response.status, answer, raw
        target = urljoin(url, location)
        if urlsplit(target)[:2] != origin:
            return response.status, answer, raw  # never carry credentials to another origin
        if response.status in (301, 302, 303):
            method, body = "GET", None
        url = target
    return response.status, answer, raw


def dig(document: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        document = document.get(part) if isinstance(document, dict) else None
    return document


def token_header(auth: dict[str, Any], timeout: float, fresh: bool) -> tuple[str, str]:
    key = json.dumps(auth, sort_keys=True)
    cached = TOKENS.get(key)
    if cached and not fresh and cached[1] > time.monotonic():
        return header_name(auth), cached[0]
    if auth["type"] == "token_api":
        url = auth["url"] + (
            "?" + query(auth.get("params") or {}, {}) if auth.get("params") else ""
        )
        status, _, raw = exchange(
            auth.get("method", "POST"),
            url,
            {"content-type": "application/json", **(auth.get("headers") or {})},
            json.dumps(auth.get("body") or {}).encode(),
            timeout,
        )
        document = json.loads(raw) if 200 <= status < 300 else None
        token, lifetime = (
            dig(document, auth["token_field"]),
            dig(document, auth.get("expires_field") or "-"),
        )
        prefix = auth.get("token_prefix", "Bearer")
    else:
        form = {
            "grant_type": "client_credentials",
            **({"scope": auth["scope"]} if auth.get("scope") else {}),
        }
        headers = {"content-type": "application/x-www-form-urlencoded"}
        if auth.get("client_auth", "basic") == "basic":
            pair = f"{quote_plus(auth['client_id'])}:{quote_plus(auth['client_secret'])}".encode()
            headers["authorization"] = "Basic " + base64.b64encode(pair).decode()
        else:
            form.update(client_id=auth["client_id"], client_secret=auth["client_secret"])
        status, _, raw = exchange(
            "POST",
            auth["token_url"],
            headers,
            "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in form.items()).encode(),
            timeout,
        )
        document = json.loads(raw) if 200 <= status < 300 else None
        token, lifetime, prefix = (
            dig(document, "access_token"),
            dig(document, "expires_in"),
            "Bearer",
        )
    if not isinstance(token, str) or not token:
        raise Failure("auth", f"no token (HTTP {status})")
    value = f"{prefix} {token}" if prefix else token
    if isinstance(lifetime, int | float) and not isinstance(lifetime, bool) and lifetime > 0:
        TOKENS[key] = (value, time.monotonic() + lifetime * 0.9)
    return header_name(auth), value


def header_name(auth: dict[str, Any]) -> str:
    return auth.get("header", "Authorization") if auth["type"] == "token_api" else "Authorization"


def handle(job: dict[str, Any]) -> dict[str, Any]:
    connection, profile = job["connection"], job["profile"]
    auth = connection.get("auth") or {"type": "none"}
    timeout = float(connection.get("timeout_s", 10))
    url = connection["endpoint"]
    if connection.get("params"):
        url += ("&" if "?" in url else "?") + query(connection["params"], profile)
    headers = dict(connection.get("headers") or {})
    method = connection.get("method", "GET")
    body = None
    if method == "POST":
        body = json.dumps(render_json(connection.get("payload") or {}, profile)).encode()
        headers["content-type"] = "application/json"
    try:
        tokens = auth["type"] in ("token_api", "oauth2")
        for attempt in range(2 if tokens else 1):
            if auth["type"] == "api_key":
                headers[auth["header"]] = auth["value"]
            elif tokens:
                name, value = token_header(auth, timeout, fresh=attempt > 0)
                headers[name] = value
            status, _, raw = exchange(method, url, headers, body, timeout)
            if status != 401:
                break
        return interpret(status, raw)
    except Failure as exc:
        return failed(exc.kind)


def main() -> None:
    for line in sys.stdin:
        if line.strip():
            job = json.loads(line)
            print(json.dumps({"id": job["id"], **handle(job)}), flush=True)


if __name__ == "__main__":
    main()
