"""What verify-client throws at a client: a generated job (connection, profile, and what the
mock partner answers), the scenario that makes the mock answer so, and every outcome the
SPEC allows for it."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from hypothesis import strategies as st

from mockserver.contract import ALL_SHAPES, NormalizedResult, failure_result, interpret_response
from mockserver.models import BREACHES
from mockserver.server import breach_body, oversized_padding
from mockserver.strategies import emails, error_codes, faults, json_values, messages, phones

__all__ = [
    "DEMO",
    "EXPIRE_WAIT_S",
    "JobSpec",
    "allowed_outcomes",
    "connection_for",
    "explicit_jobs",
    "jobs",
    "scenario_for",
]

#: Credentials of the mock partner during verification (not secret: a local mock).
DEMO: Final = {
    "api_key": "verify-key-3c1d",
    "username": "cdp",
    "password": "verify-pass-7e2a",
    "client_id": "verify-client",
    "client_secret": "verify-secret-5b9f",
}

#: The client's timeout during verification; a hang outlasts it.
TIMEOUT_S: Final = 0.5
#: A hang job's timeout: every outcome is allowed after it (a retry answers or it fails as a
#: transport error), so it only has to be short, and the client's wait is a hang job's cost.
HANG_TIMEOUT_S: Final = 0.05

AnswerKind = Literal["body", "breach", "fault", "revoke", "expire"]

#: An "expire" job: the token lives this long, and the second call comes this much later.
SHORT_LIFETIME_S: Final = 1.0
EXPIRE_WAIT_S: Final = 1.25


@dataclass(frozen=True, kw_only=True)
class JobSpec:
    """One generated job, before it is turned into a scenario and a connection."""

    auth: Literal["none", "api_key", "token_api", "oauth2"]
    method: Literal["GET", "POST"]
    key_header: str = "token-key"
    token_header: str = "Authorization"
    token_prefix: str = "Bearer"
    token_field: str = "data.accessToken"
    expires: bool = True
    client_auth: Literal["basic", "body"] = "basic"
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    profile: dict[str, str] = field(default_factory=dict)
    kind: AnswerKind = "body"
    status: int = 200
    body: Any = None
    breach: str = ""
    fault: dict[str, Any] = field(default_factory=dict)


_NAMES = st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
_HEADER_NAMES = st.sampled_from(["header-01", "x-campaign", "x-tenant"])
_KEY_HEADERS = st.sampled_from(["token-key", "X-Partner-Sig", "x-api-key", "Api-Key"])
_FIXED = st.text("abcdefghijklmnopqrstuvwxyz0123456789 -_", min_size=0, max_size=12).map(str.strip)
_FIXED_HEADERS = st.dictionaries(_HEADER_NAMES, _FIXED, max_size=2)
_CUSTOM_PARAMS = st.dictionaries(_NAMES.map(lambda n: f"p{n}"), _FIXED, max_size=2)

#: Faults a client must survive; each hits the job's first data request only, so a client
#: that retries may still get the answer.
_FAULTS: Final = (
    {"type": "reset"},
    {"type": "empty_reply"},
    {"type": "truncate", "mode": "content_length"},
    {"type": "truncate", "mode": "chunked"},
    {"type": "malformed_json"},
    {"type": "content_type", "content_type": "text/plain"},
    {"type": "html_error", "status": 502},
    {"type": "status", "status": 500},
    {"type": "status", "status": 503},
    {"type": "status", "status": 504},
    {"type": "rate_limit", "retry_after": 0},
    {"type": "oversized", "bytes": 1_200_000},
    {"type": "redirect", "status": 302, "to": "same_origin"},
    {"type": "redirect", "status": 307, "to": "same_origin"},
    {"type": "redirect", "status": 302, "to": "cross_origin"},
    {"type": "delay", "seconds": 0.01},
    {"type": "hang", "seconds": 1.5},
)


_SUCCESS_DATA: Final = st.dictionaries(st.text(max_size=8), json_values(max_leaves=5), max_size=4)
_REFUSAL_DATA: Final = st.none() | st.dictionaries(
    st.text(max_size=8), json_values(max_leaves=3), max_size=2
)
_EXTRA: Final = st.dictionaries(
    st.sampled_from(["statusCode", "traceId", "meta"]), json_values(max_leaves=2), max_size=2
)


@st.composite
def _answers(draw: st.DrawFn) -> tuple[AnswerKind, int, Any, str, dict[str, Any]]:
    kind = draw(st.sampled_from(["body", "body", "body", "refusal", "breach", "fault"]))
    if kind in {"body", "refusal"}:
        shape = draw(st.sampled_from(ALL_SHAPES))
        success = kind == "body" and draw(st.booleans())
        body = shape.render(
            success=success,
            error_code=draw(error_codes()),
            message=draw(messages()),
            data=draw(_SUCCESS_DATA if success else _REFUSAL_DATA),
            extra=draw(_EXTRA),
        )
        status = 200 if kind == "body" else draw(st.sampled_from([400, 401, 404, 414, 422]))
        return "body", status, body, "", {}
    if kind == "breach":
        return "breach", 200, None, draw(st.sampled_from(BREACHES)), {}
    return "fault", 200, None, "", dict(draw(faults()))


@st.composite
def jobs(draw: st.DrawFn) -> JobSpec:
    """A whole verification job: the connection (auth type, method, fixed headers, custom
    params, header name, token prefix and field), the profile, and the answer."""
    auth: Any = draw(st.sampled_from(["none", "api_key", "token_api", "oauth2"]))
    method: Any = draw(st.sampled_from(["GET", "POST"]))
    kind, status, body, breach, fault = draw(_answers())
    if auth in {"token_api", "oauth2"} and draw(st.integers(0, 5)) == 0:
        kind, status, body = "revoke", 200, None
    if (
        method == "POST"
        and fault.get("type") == "redirect"
        and fault.get("status") in {301, 302, 303}
    ):
        # A 301-303 turns a POST into a GET (RFC 9110 15.4); only 307/308 keep the call.
        fault = {**fault, "status": 307}
    return JobSpec(
        auth=auth,
        method=method,
        key_header=draw(_KEY_HEADERS),
        token_header=draw(st.sampled_from(["Authorization", "X-Access-Token"])),
        token_prefix=draw(st.sampled_from(["Bearer", "Token", ""])),
        token_field=draw(st.sampled_from(["data.accessToken", "token", "result.auth.token"])),
        expires=draw(st.booleans()),
        client_auth=draw(st.sampled_from(["basic", "body"])),
        headers=draw(_FIXED_HEADERS),
        params=draw(_CUSTOM_PARAMS),
        profile={"phone": draw(phones()), "email": draw(emails())},
        kind=kind,
        status=status,
        body=body,
        breach=breach,
        fault=fault,
    )


_OK_BODY: Final = {"success": True, "errorCode": 0, "message": "ok", "data": {"code": "E094"}}


def _answer_case(spec: JobSpec) -> dict[str, Any]:
    case: dict[str, Any] = {"name": "answer"}
    if spec.kind == "body":
        case.update(status=spec.status, body=spec.body)
    elif spec.kind == "breach":
        case.update(
            body=_OK_BODY, sequence=[{"fault": {"type": "contract", "breach": spec.breach}}, {}]
        )
    elif spec.kind == "fault":
        case.update(body=_OK_BODY, sequence=[{"fault": spec.fault}, {}])
    elif spec.kind == "expire":
        case.update(body=_OK_BODY)
    else:  # revoke: the first data call is refused as if the token had expired
        refused = {
            "success": False,
            "error_code": "TokenExpired",
            "message": "the token has expired",
            "data": None,
        }
        case.update(body=_OK_BODY, sequence=[{"status": 401, "response": refused}, {}])
    return case


def _who(spec: JobSpec, name: str) -> str:
    """A credential of the job: an "expire" job has its own user and client, so no token a
    client cached in an earlier job can stand in for the short-lived one."""
    return f"{DEMO[name]}-expire" if spec.kind == "expire" else DEMO[name]


def scenario_for(spec: JobSpec) -> dict[str, Any]:
    """The mock partner's scenario for a job."""
    auth: dict[str, Any] = {"type": "none"}
    if spec.auth == "api_key":
        auth = {"type": "api_key", "header": spec.key_header, "value": DEMO["api_key"]}
    elif spec.auth == "token_api":
        auth = {
            "type": "token_api",
            "token_path": "/auth/token",
            "credentials": {
                "body": {"username": _who(spec, "username"), "password": DEMO["password"]}
            },
            "token_field": spec.token_field,
            "expires_field": "data.expiredAfter" if spec.expires else None,
            "response": {"success": True, "statusCode": 200},
            "lifetime_s": SHORT_LIFETIME_S if spec.kind == "expire" else 60,
            "header": spec.token_header,
            "prefix": spec.token_prefix,
        }
    elif spec.auth == "oauth2":
        auth = {
            "type": "oauth2",
            "token_path": "/oauth/token",
            "client_id": _who(spec, "client_id"),
            "client_secret": DEMO["client_secret"],
            "client_auth": [spec.client_auth],
            "lifetime_s": SHORT_LIFETIME_S if spec.kind == "expire" else 60,
        }
    return {
        "name": "verify",
        "path": "/voucher",
        "methods": [spec.method],
        "auth": auth,
        "shape": "success,errorCode,message,data",
        "cases": [_answer_case(spec)],
    }


def connection_for(spec: JobSpec, base_url: str) -> dict[str, Any]:
    """The connection (SPEC 1.1) a job hands the client, pointing at the mock."""
    auth: dict[str, Any] = {"type": "none"}
    if spec.auth == "api_key":
        auth = {"type": "api_key", "header": spec.key_header, "value": DEMO["api_key"]}
    elif spec.auth == "token_api":
        auth = {
            "type": "token_api",
            "url": f"{base_url}/auth/token",
            "method": "POST",
            "body": {"username": _who(spec, "username"), "password": DEMO["password"]},
            "token_field": spec.token_field,
            "token_prefix": spec.token_prefix,
            "header": spec.token_header,
        }
        if spec.expires:
            auth["expires_field"] = "data.expiredAfter"
    elif spec.auth == "oauth2":
        auth = {
            "type": "oauth2",
            "token_url": f"{base_url}/oauth/token",
            "client_id": _who(spec, "client_id"),
            "client_secret": DEMO["client_secret"],
            "client_auth": spec.client_auth,
        }
    connection: dict[str, Any] = {
        "endpoint": f"{base_url}/voucher",
        "method": spec.method,
        "timeout_s": HANG_TIMEOUT_S if spec.fault.get("type") == "hang" else TIMEOUT_S,
        "auth": auth,
        "headers": dict(spec.headers),
        "params": {"phone": "{{phone}}", "email": "{{email}}", **spec.params},
    }
    if spec.method == "POST":
        connection["payload"] = {"phone": "{{phone}}", "email": "{{email}}", "param01": "00000001"}
    return connection


def _interpret(status: int, raw: bytes) -> NormalizedResult:
    return interpret_response(status, {"content-type": "application/json"}, raw)


def allowed_outcomes(spec: JobSpec) -> list[NormalizedResult]:
    """Every normalized result the SPEC allows a correct client (failure detail aside)."""
    ok = _interpret(200, json.dumps(_OK_BODY).encode())
    if spec.kind == "body":
        return [_interpret(spec.status, json.dumps(spec.body, ensure_ascii=False).encode())]
    if spec.kind == "breach":
        return [_interpret(200, breach_body(spec.breach, _OK_BODY))]
    if spec.kind in {"revoke", "expire"}:
        return [ok]
    fault = spec.fault
    kind = fault["type"]
    if kind in {"reset", "empty_reply", "truncate", "hang"}:
        return [failure_result("transport"), ok]  # a retry may reach the answer
    if kind == "malformed_json":
        return [failure_result("invalid_body")]
    if kind in {"content_type", "delay"}:
        return [ok]
    if kind == "html_error" and 200 <= fault.get("status", 502) < 300:
        return [failure_result("invalid_body")]
    if kind in {"html_error", "status", "rate_limit"}:
        return [failure_result("http_status"), ok]
    if kind == "oversized":  # a client with a larger size cap reads the whole body
        padded = {"padding": oversized_padding(int(fault.get("bytes", 2 * 1024 * 1024)))}
        whole = NormalizedResult(success=True, error_code=0, message="oversized", data=padded)
        return [failure_result("invalid_body"), whole]
    if kind == "redirect" and fault.get("to") == "cross_origin":
        return [failure_result("http_status")]
    return [ok, failure_result("http_status")]  # a same-origin redirect, followed or not


_SEED_PROFILE: Final = {"phone": "0359677657", "email": "dee+vip@bytetech.io"}


def explicit_jobs() -> list[JobSpec]:
    """Jobs every run sends first, so each auth type, method, key shape family, contract
    breach and fault is tried at least once whatever the budget."""
    base = JobSpec(
        auth="api_key", method="GET", profile=dict(_SEED_PROFILE), key_header="X-Partner-Sig"
    )
    ok = {"success": True, "errorCode": 0, "message": "ok", "data": {"code": "E094"}}
    found: list[JobSpec] = []
    auths: tuple[Any, ...] = ("none", "api_key", "token_api", "oauth2")
    for auth in auths:
        for method in ("GET", "POST"):
            found.append(dataclasses.replace(base, auth=auth, method=method, kind="body", body=ok))
    for shape in (ALL_SHAPES[0], ALL_SHAPES[-1], ALL_SHAPES[len(ALL_SHAPES) // 2]):
        body = shape.render(success=True, error_code=0, message="ok", data={"code": "E094"})
        found.append(dataclasses.replace(base, kind="body", body=body))
    refusal = {"isSuccess": False, "responseCode": "-102", "msg": "Missing value", "body": None}
    found.append(dataclasses.replace(base, kind="body", status=422, body=refusal))
    found += [dataclasses.replace(base, kind="breach", breach=b) for b in BREACHES]
    found += [dataclasses.replace(base, kind="fault", fault=dict(f)) for f in _FAULTS]
    for auth in auths[2:]:
        found.append(dataclasses.replace(base, auth=auth, expires=True, kind="revoke"))
        found.append(dataclasses.replace(base, auth=auth, expires=True, kind="expire"))
    return found
