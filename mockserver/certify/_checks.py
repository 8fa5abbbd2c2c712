"""What certify checks in each answer of a partner (SPEC 2.2 check names)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from mockserver.client import CallRecord, to_curl
from mockserver.contract import InvalidJSON, loads_strict, validate
from mockserver.models import Finding, Redactor, Severity

__all__ = [
    "CHECKS",
    "ROLE_CHECKS",
    "Problem",
    "as_finding",
    "judge",
    "parse_body",
    "request_dict",
    "response_dict",
]

#: certify's checks, in report order (stable API: users filter on these names).
CHECKS: Final = (
    "transport",
    "status_code",
    "content_type",
    "json_body",
    "success_key",
    "error_code_key",
    "message_key",
    "data_key",
    "auth_required",
    "token_api",
    "robustness",
    "latency",
)

#: The check of each role of SPEC 1.2 (``body``: not an object, a JSON problem).
ROLE_CHECKS: Final = {
    "body": "json_body",
    "success": "success_key",
    "error_code": "error_code_key",
    "message": "message_key",
    "data": "data_key",
}

#: The checks every answer to a generated profile is judged by.
PER_ANSWER: Final = CHECKS[: CHECKS.index("data_key") + 1]

_BODY_SHOWN: Final = 2000


@dataclass(frozen=True, slots=True)
class Problem:
    check: str
    message: str
    #: What went wrong, independent of the input (so it survives shrinking).
    cause: str
    severity: Severity = "error"

    @property
    def key(self) -> str:
        return f"{self.check}:{self.cause}"


def _media_type(headers: dict[str, str] | Any) -> str:
    return str(headers.get("content-type", "")).split(";", 1)[0].strip().lower()


def _is_json_media(media: str) -> bool:
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _refusal_ok(body: Any) -> bool:
    """A valid contract body saying success false: a legitimate refusal (SPEC 1.4 decision 8)."""
    return (
        isinstance(body, dict)
        and not validate(body)
        and body.get(next((k for k in ("success", "isSuccess") if k in body), ""), True) is False
    )


def parse_body(record: CallRecord) -> Any:
    """The answer's body parsed strictly, the :class:`InvalidJSON` it raised, or None when
    there was no answer."""
    if record.response is None:
        return None
    try:
        return loads_strict(record.response.body)
    except InvalidJSON as exc:
        return exc


def judge(record: CallRecord, body: Any, *, unusual: bool) -> list[Problem]:
    """The problems of one answer to a generated profile (``body`` from :func:`parse_body`);
    empty when it honours the contract."""
    result, response = record.result, record.response
    if response is None:
        if result.failure == "auth":
            return [
                Problem("token_api", f"the token call failed: {result.detail}", "token call failed")
            ]
        if result.failure == "invalid_body":
            return [
                Problem("json_body", result.detail or "unusable body", "body over the size cap")
            ]
        return [
            Problem("transport", result.detail or "no answer", (result.detail or "").split(":")[0])
        ]
    status = response.status
    server_error = "robustness" if unusual else "status_code"
    if status >= 500:
        kind = "unusual" if unusual else "ordinary"
        return [Problem(server_error, f"HTTP {status} for {kind} input", f"HTTP {status}")]
    problems: list[Problem] = []
    media = _media_type(response.headers)
    if not _is_json_media(media):
        shown = media or "no Content-Type"
        problems.append(
            Problem("content_type", f"Content-Type is {shown}, not application/json", shown)
        )
    if not 200 <= status < 300:
        if isinstance(body, InvalidJSON) or not _refusal_ok(body):
            why = (
                f"a body that is not JSON ({body.reason})"
                if isinstance(body, InvalidJSON)
                else "a body that is not a contract refusal (success false)"
            )
            problems.append(
                Problem(server_error, f"HTTP {status} with {why}", f"HTTP {status} non-refusal")
            )
        return problems
    if isinstance(body, InvalidJSON):
        problems.append(
            Problem(
                "json_body", f"the body is not valid JSON: {body.reason}", body.reason.split(":")[0]
            )
        )
        return problems
    for violation in validate(body):
        check = ROLE_CHECKS[violation.role]
        cause = f"{violation.role}:{','.join(violation.keys)}:{violation.message.split(':')[0]}"
        problems.append(Problem(check, violation.message, cause))
    return problems


def request_dict(record: CallRecord, redactor: Redactor) -> dict[str, Any]:
    request = record.request
    headers = list(request.headers)
    if record.header is not None:
        headers.append(record.header)
    return {
        "method": request.method,
        "url": redactor.text(request.url),
        "headers": {k: redactor.header(k, v) for k, v in headers},
        "body": None
        if request.content is None
        else redactor.text(request.content.decode("utf-8", "replace")),
    }


def response_dict(record: CallRecord, redactor: Redactor) -> dict[str, Any] | None:
    response = record.response
    if response is None:
        return {"error": record.result.detail}
    body = redactor.text(response.body.decode("utf-8", "replace"))
    if len(body) > _BODY_SHOWN:
        body = body[:_BODY_SHOWN] + f"... ({len(response.body)} bytes in all)"
    return {
        "status": response.status,
        "headers": {k: redactor.header(k, v) for k, v in response.headers.items()},
        "body": body,
        "elapsed_ms": round(record.elapsed_s * 1000, 1),
    }


def as_finding(
    problem: Problem,
    record: CallRecord,
    profile: dict[str, Any] | None,
    redactor: Redactor,
    *,
    show_secrets: bool = False,
    inconclusive: bool = False,
) -> Finding:
    return Finding(
        check=problem.check,
        severity=problem.severity,
        message=problem.message,
        key=problem.key,
        profile=profile,
        request=request_dict(record, redactor),
        response=response_dict(record, redactor),
        reproduce=to_curl(record.request, record.header, redactor, show_secrets=show_secrets),
        inconclusive=inconclusive,
    )
