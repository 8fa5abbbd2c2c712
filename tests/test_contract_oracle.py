"""Strict JSON (SPEC 1.4 decision 7) and the HTTP oracle's table (SPEC 1.3)."""

from __future__ import annotations

import json

import pytest

from mockserver.contract import (
    MAX_DEPTH,
    InvalidJSON,
    NormalizedResult,
    failure_result,
    interpret_response,
    loads_strict,
    normalize,
)
from mockserver.errors import InvalidResponseError

SEED = (
    b'{"success": true, "message": "Your request has done", "errorCode": 0, '
    b'"data": {"code": "E094", "expired": false, "value": 10000}}'
)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"success": true, "success": false, "data": {}}', "duplicate key 'success'"),
        (b'{"success": true, "data": {"a": 1, "a": 2}}', "duplicate key 'a'"),
        (b'{"success": true, "data": {"v": NaN}}', "NaN is not a JSON value"),
        (b'{"success": true, "data": {"v": -Infinity}}', "-Infinity is not a JSON value"),
        (b"[" * 100_000 + b"]" * 100_000, f"nested deeper than {MAX_DEPTH} levels"),
        (b'{"a": ' * 65 + b"1" + b"}" * 65, f"nested deeper than {MAX_DEPTH} levels"),
        (b'{"n": ' + b"9" * 5000 + b"}", "digits"),
        (b"", "empty body"),
        (b"   ", "empty body"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"<html>Bad Gateway</html>", "not JSON"),
        (b'{"success": true', "not JSON"),
    ],
)
def test_strict_json_rejects_what_json_loads_lets_through(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidJSON, match=reason):
        loads_strict(raw)


def test_nesting_of_exactly_64_levels_is_accepted() -> None:
    raw = '{"a": ' * 63 + "[1]" + "}" * 63
    assert loads_strict(raw) is not None


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = json.dumps({"success": True, "data": {"s": "[{" * 500 + '"\\"[['}})
    assert loads_strict(text)["success"] is True


def test_an_integral_float_error_code_is_an_integer() -> None:
    result = normalize({"success": False, "errorCode": 1.0, "data": None})
    assert result.error_code == 1
    assert isinstance(result.error_code, int)


def test_normalize_raises_with_the_violations_for_an_invalid_body() -> None:
    with pytest.raises(InvalidResponseError, match="success: ambiguous") as info:
        normalize({"success": True, "isSuccess": True, "data": {}})
    assert [v.role for v in info.value.violations] == ["success"]


OK = NormalizedResult(
    success=True,
    error_code=0,
    message="Your request has done",
    data={"code": "E094", "expired": False, "value": 10000},
)
UNAUTHORIZED = (
    b'{"success": false, "errorCode": "Unauthorized", "message": "bad key", "data": null}'
)


@pytest.mark.parametrize(
    ("status", "raw", "expected"),
    [
        (200, SEED, OK),
        (201, SEED, OK),
        (
            401,
            UNAUTHORIZED,
            NormalizedResult(success=False, error_code="Unauthorized", message="bad key"),
        ),
        (
            404,
            b'{"isSuccess": false, "responseCode": "-102", "body": null}',
            NormalizedResult(success=False, error_code="-102"),
        ),
        (500, SEED, failure_result("http_status")),
        (503, b"Service Unavailable", failure_result("http_status")),
        (502, b"", failure_result("http_status")),
        (401, b'{"success": false}', failure_result("http_status")),
        (302, b"", failure_result("http_status")),
        (200, b"<html>oops</html>", failure_result("invalid_body")),
        (200, b"", failure_result("invalid_body")),
        (200, b"[1, 2]", failure_result("invalid_body")),
        (200, b'"success"', failure_result("invalid_body")),
        (200, b'{"success": true, "success": true, "data": {}}', failure_result("invalid_body")),
        (200, b'{"success": true, "data": {"v": NaN}}', failure_result("invalid_body")),
        (200, b'{"success": "true", "data": {}}', failure_result("contract")),
        (200, b'{"success": true, "data": null}', failure_result("contract")),
        (200, b'{"success": true, "isSuccess": true, "data": {}}', failure_result("contract")),
        (200, b'{"success": true}', failure_result("contract")),
    ],
)
def test_the_http_oracle_follows_the_spec_table(
    status: int, raw: bytes, expected: NormalizedResult
) -> None:
    result = interpret_response(status, {"content-type": "application/json"}, raw)
    assert result == expected
    if result.failure:
        assert result.detail, "a failure explains itself"
        assert result.to_dict()["data"] is None
        assert result.to_dict()["success"] is False


def test_the_body_decides_not_the_content_type() -> None:
    assert interpret_response(200, {"content-type": "text/plain"}, SEED) == OK


def test_failure_detail_names_the_content_type_of_a_non_json_answer() -> None:
    result = interpret_response(200, {"content-type": "text/html"}, b"<html></html>")
    assert result.detail is not None
    assert "text/html" in result.detail


def test_a_failure_result_cannot_claim_success() -> None:
    with pytest.raises(ValueError, match="failure"):
        NormalizedResult(success=True, data={}, failure="contract")


def test_to_dict_is_the_spec_json() -> None:
    assert failure_result("transport", "connection refused").to_dict() == {
        "success": False,
        "errorCode": None,
        "message": None,
        "data": None,
        "failure": "transport",
        "detail": "connection refused",
    }
