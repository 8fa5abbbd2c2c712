"""The public strategies draw what they promise (checked against the contract's own tools)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis.errors import InvalidArgument

from mockserver.contract import validate
from mockserver.models import Connection, Scenario
from mockserver.strategies import (
    connections,
    faults,
    invalid_response_bodies,
    is_unusual,
    profiles,
    response_bodies,
)


@given(invalid_response_bodies())
def test_invalid_response_bodies_are_rejected(body: Any) -> None:
    assert validate(body) != []


@given(response_bodies())
def test_response_bodies_are_accepted(body: dict[str, Any]) -> None:
    assert validate(body) == []


@settings(max_examples=50)
@given(connections())
def test_connections_validate_against_the_connection_schema(connection: dict[str, Any]) -> None:
    loaded = Connection.from_dict(connection, environ={})
    assert loaded.template_fields()[:2] == ("phone", "email")


@pytest.mark.parametrize("auth", ["none", "api_key", "token_api", "oauth2"])
def test_connections_of_one_auth_type(auth: str) -> None:
    @settings(max_examples=10)
    @given(connections(auth=auth))
    def check(connection: dict[str, Any]) -> None:
        assert Connection.from_dict(connection, environ={}).auth.type == auth

    check()


def test_a_bad_argument_is_an_invalid_argument() -> None:
    with pytest.raises(InvalidArgument, match="auth must be one of"):
        connections(auth="apikey")
    with pytest.raises(InvalidArgument, match="attributes must be a sequence"):
        profiles(attributes="batch")


@settings(max_examples=50)
@given(faults())
def test_faults_are_valid_scenario_faults(fault: dict[str, Any]) -> None:
    Scenario.from_dict(
        {
            "path": "/v",
            "cases": [{"name": "d", "fault": fault, "response": {"success": True, "data": {}}}],
        },
        environ={},
    )


@given(profiles(attributes=["batch"], unusual=False))
def test_ordinary_profiles_are_not_unusual(profile: dict[str, str]) -> None:
    assert set(profile) == {"phone", "email", "batch"}
    assert not is_unusual(profile)
