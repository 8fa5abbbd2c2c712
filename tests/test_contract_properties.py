"""Property tests: the validator and normalizer agree with the role table (SPEC 1.2).

Valid bodies are built from the role table; each single mutation (a wrong type, a second key
of one role, a missing required role) must be rejected with exactly that role named.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, note
from hypothesis import strategies as st

from mockserver.contract import (
    KEY_ROLE,
    ROLE_KEYS,
    NormalizedResult,
    interpret_response,
    loads_strict,
    normalize,
    validate,
)
from mockserver.strategies import json_values, response_bodies


def _roles(body: dict[str, Any]) -> dict[str, str]:
    return {KEY_ROLE[k]: k for k in body if k in KEY_ROLE}


@given(response_bodies())
def test_any_body_built_from_the_role_table_is_accepted(body: dict[str, Any]) -> None:
    note(repr(body))
    assert validate(body) == []
    keys = _roles(body)
    assert normalize(body) == NormalizedResult(
        success=body[keys["success"]],
        error_code=body.get(keys.get("error_code", "")),
        message=body.get(keys.get("message", "")),
        data=body[keys["data"]],
    )


@given(response_bodies())
def test_normalizing_is_idempotent_through_the_seed_shape(body: dict[str, Any]) -> None:
    once = normalize(body)
    again = normalize(
        {
            "success": once.success,
            "errorCode": once.error_code,
            "message": once.message,
            "data": once.data,
        }
    )
    assert again == once


@given(response_bodies(), st.sampled_from([200, 201, 204, 299]))
def test_a_2xx_answer_means_its_body(body: dict[str, Any], status: int) -> None:
    raw = json.dumps(body).encode()
    assert interpret_response(status, {}, raw) == normalize(loads_strict(raw))


@given(response_bodies(success=False), st.sampled_from([400, 401, 404, 414, 422, 500, 503]))
def test_a_refusal_with_a_valid_failure_body_keeps_its_body(
    body: dict[str, Any], status: int
) -> None:
    result = interpret_response(status, {}, json.dumps(body).encode())
    assert result.failure is None
    assert result == normalize(body)


@given(response_bodies(success=True), st.sampled_from([301, 400, 401, 404, 500, 503]))
def test_a_non_2xx_answer_saying_success_is_an_http_status_failure(
    body: dict[str, Any], status: int
) -> None:
    result = interpret_response(status, {}, json.dumps(body).encode())
    assert (result.success, result.data, result.failure) == (False, None, "http_status")


_WRONG_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "success": st.one_of(
        st.integers(),
        st.sampled_from(["true", "false", "1", ""]),
        st.none(),
        st.lists(st.booleans(), max_size=2),
    ),
    "error_code": st.one_of(
        st.booleans(),
        st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    ),
    "message": st.one_of(st.booleans(), st.integers(), st.lists(st.text(max_size=3), max_size=2)),
    "data": st.one_of(
        st.text(max_size=5), st.integers(), st.booleans(), st.lists(st.integers(), max_size=2)
    ),
}


@st.composite
def mutated(draw: st.DrawFn) -> tuple[dict[str, Any], str, str]:
    """A valid body with one mutation; returns (body, role, offending key)."""
    body = dict(draw(response_bodies()))
    keys = _roles(body)
    kind = draw(st.sampled_from(["wrong_type", "duplicate", "missing", "null_data"]))
    if kind == "null_data":
        success_key = keys["success"]
        body[success_key] = True
        body[keys["data"]] = None
        return body, "data", keys["data"]
    if kind == "missing":
        role = draw(st.sampled_from(["success", "data"]))
        del body[keys[role]]
        return body, role, ""
    if kind == "duplicate":
        role = draw(st.sampled_from(sorted(ROLE_KEYS)))
        if role not in keys:
            body[ROLE_KEYS[role][0]] = None
            keys[role] = ROLE_KEYS[role][0]
        other = draw(st.sampled_from([k for k in ROLE_KEYS[role] if k != keys[role]]))
        body[other] = body[keys[role]]
        return body, role, other
    role = draw(st.sampled_from(sorted(keys)))
    body[keys[role]] = draw(_WRONG_VALUES[role])
    return body, role, keys[role]


@given(mutated())
def test_any_single_mutation_is_rejected_naming_its_role(
    case: tuple[dict[str, Any], str, str],
) -> None:
    body, role, key = case
    violations = validate(body)
    note(f"body={body!r} violations={[str(v) for v in violations]}")
    assert {v.role for v in violations} == {role}
    if key:
        assert any(key in v.keys for v in violations)
        assert any(f"'{key}'" in v.message for v in violations)
    assert interpret_response(200, {}, json.dumps(body).encode()).failure == "contract"


@given(json_values().filter(lambda v: not isinstance(v, dict)))
def test_a_body_that_is_not_an_object_is_invalid_body(value: Any) -> None:
    [violation] = validate(value)
    assert violation.role == "body"
    assert interpret_response(200, {}, json.dumps(value).encode()).failure == "invalid_body"
