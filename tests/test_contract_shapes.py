"""The 96 key shapes of SPEC 1.2: each one validates and normalizes to the same result."""

from __future__ import annotations

import pytest

from mockserver.contract import (
    ALL_SHAPES,
    ROLE_KEYS,
    SEED_SHAPE,
    NormalizedResult,
    Shape,
    normalize,
    shape_of,
    validate,
)

DATA = {"code": "E094", "expired": False, "value": 10000}


def test_there_are_exactly_96_distinct_shapes() -> None:
    assert len(ALL_SHAPES) == 2 * 3 * 4 * 4 == 96
    assert len({s.name for s in ALL_SHAPES}) == 96


@pytest.mark.parametrize("shape", ALL_SHAPES, ids=str)
def test_every_shape_validates_and_normalizes_to_the_same_result(shape: Shape) -> None:
    body = shape.render(success=True, error_code=0, message="Your request has done", data=DATA)
    assert validate(body) == []
    assert normalize(body) == NormalizedResult(
        success=True,
        error_code=0 if shape.error_code else None,
        message="Your request has done" if shape.message else None,
        data=DATA,
    )
    assert shape_of(body) == shape


@pytest.mark.parametrize("shape", ALL_SHAPES, ids=str)
def test_every_shape_carries_a_business_error_with_null_data(shape: Shape) -> None:
    body = shape.render(success=False, error_code="-102", message="Missing value", data=None)
    result = normalize(body)
    assert result.success is False
    assert result.data is None
    assert result.failure is None


@pytest.mark.parametrize("shape", ALL_SHAPES, ids=str)
def test_shape_names_round_trip(shape: Shape) -> None:
    assert Shape.parse(shape.name) == shape


def test_the_seed_samples_are_valid() -> None:
    samples = [
        {"success": True, "message": "Your request has done", "errorCode": 0, "data": DATA},
        {"isSuccess": True, "message": "Your request has done", "errorCode": 0, "body": DATA},
        {"success": True, "message": "Your request has done", "errorCode": 0, "result": DATA},
    ]
    for body in samples:
        assert validate(body) == []
        assert normalize(body).to_dict() == {
            "success": True,
            "errorCode": 0,
            "message": "Your request has done",
            "data": DATA,
            "failure": None,
        }
    assert shape_of(samples[0]) == SEED_SHAPE


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("success,isSuccess,data", "both fill role 'success'"),
        ("success,message", "has no data key"),
        ("errorCode,data", "has no success key"),
        ("success,Data", "'Data' is not a response key"),
    ],
)
def test_bad_shape_names_say_what_is_wrong(name: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Shape.parse(name)


def test_render_leaves_out_the_roles_a_shape_does_not_have() -> None:
    shape = Shape(success="isSuccess", error_code=None, message=None, data="body")
    assert shape.render(success=True, error_code=7, message="x", data={}) == {
        "isSuccess": True,
        "body": {},
    }


def test_extra_keys_do_not_override_roles() -> None:
    body = SEED_SHAPE.render(success=True, data={}, extra={"traceId": "t", "success": False})
    assert body["success"] is True
    assert body["traceId"] == "t"


def test_role_table_matches_the_spec() -> None:
    assert dict(ROLE_KEYS) == {
        "success": ("success", "isSuccess"),
        "error_code": ("errorCode", "responseCode"),
        "message": ("errorMsg", "msg", "message"),
        "data": ("data", "result", "response", "body"),
    }
