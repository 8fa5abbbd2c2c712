"""The normalized result and the HTTP oracle (SPEC 1.2 and 1.3).

:func:`interpret_response` is the one function that decides what a partner's answer means;
the reference client, certify and verify-client all call it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from mockserver.contract._json import InvalidJSON, loads_strict
from mockserver.contract._shapes import KEY_ROLE, Shape
from mockserver.contract._validate import validate
from mockserver.errors import InvalidResponseError

__all__ = [
    "FAILURES",
    "Failure",
    "NormalizedResult",
    "failure_result",
    "interpret_response",
    "normalize",
    "shape_of",
]

Failure = Literal["http_status", "invalid_body", "contract", "transport", "auth"]

#: The failure categories of SPEC 1.3, in the table's order.
FAILURES: Final[tuple[Failure, ...]] = (
    "http_status",
    "invalid_body",
    "contract",
    "transport",
    "auth",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class NormalizedResult:
    """What a response means, whatever keys the partner used (SPEC 1.2).

    A result with a ``failure`` always has ``success`` false and ``data`` None; ``detail`` is a
    human explanation and never part of the comparison between two results.
    """

    success: bool
    error_code: str | int | None = None
    message: str | None = None
    data: dict[str, Any] | None = None
    failure: Failure | None = None
    detail: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.failure is not None and (self.success or self.data is not None):
            raise ValueError("a failure result has success false and data None")

    def to_dict(self) -> dict[str, Any]:
        """The SPEC's JSON form: ``success``, ``errorCode``, ``message``, ``data``, ``failure``
        (null when none) and ``detail`` when there is one."""
        out: dict[str, Any] = {
            "success": self.success,
            "errorCode": self.error_code,
            "message": self.message,
            "data": self.data,
            "failure": self.failure,
        }
        if self.detail is not None:
            out["detail"] = self.detail
        return out


def failure_result(failure: Failure, detail: str | None = None) -> NormalizedResult:
    """A result for a call that produced no usable answer."""
    return NormalizedResult(success=False, failure=failure, detail=detail)


def _error_code(value: Any) -> str | int | None:
    # JSON Schema counts 1.0 as an integer; normalize it to one.
    if isinstance(value, float):
        return int(value)
    return value  # type: ignore[no-any-return]


def normalize(body: Any) -> NormalizedResult:
    """The normalized result of a valid body; raises
    :class:`~mockserver.errors.InvalidResponseError` (with the violations) otherwise."""
    violations = validate(body)
    if violations:
        raise InvalidResponseError(violations)
    return _normalize_valid(body)


def _normalize_valid(body: Mapping[str, Any]) -> NormalizedResult:
    roles: dict[str, Any] = {}
    for key, value in body.items():
        role = KEY_ROLE.get(key)
        if role is not None:
            roles[role] = value
    return NormalizedResult(
        success=roles["success"],
        error_code=_error_code(roles.get("error_code")),
        message=roles.get("message"),
        data=roles["data"],
    )


def shape_of(body: Mapping[str, Any]) -> Shape | None:
    """The key shape a valid body uses, or None when the body is not valid."""
    if validate(body):
        return None
    return Shape.parse(",".join(k for k in body if k in KEY_ROLE))


def _is_2xx(status: int) -> bool:
    return 200 <= status < 300


def interpret_response(
    status: int, headers: Mapping[str, str] | None, raw: bytes
) -> NormalizedResult:
    """What a partner's HTTP answer means for the CDP (SPEC 1.3).

    The body decides, not the Content-Type (SPEC 1.4 decision 6); ``headers`` only add to the
    ``detail`` of a failure. Transport and auth failures happen before there is an answer, so
    the client reports those itself with :func:`failure_result`.
    """
    content_type = (headers or {}).get("content-type", "")
    try:
        body = loads_strict(raw)
    except InvalidJSON as exc:
        if not _is_2xx(status):
            return failure_result("http_status", f"HTTP {status}, invalid JSON body: {exc.reason}")
        hint = f" (Content-Type {content_type})" if content_type else ""
        return failure_result(
            "invalid_body", f"HTTP {status}: invalid JSON body{hint}: {exc.reason}"
        )
    violations = validate(body)
    if _is_2xx(status):
        if not isinstance(body, dict):
            return failure_result("invalid_body", f"HTTP {status}: {violations[0].message}")
        if violations:
            return failure_result(
                "contract", f"HTTP {status}: " + "; ".join(str(v) for v in violations)
            )
        return _normalize_valid(body)
    if violations:
        return failure_result(
            "http_status",
            f"HTTP {status} with a body that breaks the contract: "
            + "; ".join(str(v) for v in violations),
        )
    result = _normalize_valid(body)
    if result.success:
        return failure_result("http_status", f"HTTP {status} with a body that says success")
    return result
