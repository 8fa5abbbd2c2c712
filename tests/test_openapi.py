"""contracts/openapi.yaml is a valid OpenAPI 3.1 document whose responses are the response
schema, so Schemathesis, Prism or a code generator read the same contract."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from mockserver.strategies import invalid_response_bodies, response_bodies
from tests.conftest import ROOT

OPENAPI = ROOT / "contracts" / "openapi.yaml"


def test_openapi_passes_the_spec_validator() -> None:
    spec, base_uri = read_from_filename(str(OPENAPI))
    validate(spec, base_uri=base_uri)


def test_every_response_is_the_response_schema() -> None:
    spec: dict[str, Any] = yaml.safe_load(OPENAPI.read_text())
    assert spec["openapi"].startswith("3.1")
    assert spec["components"]["schemas"]["Response"] == {"$ref": "./response.shapes.schema.json"}
    for path in spec["paths"].values():
        for operation in path.values():
            for response in operation["responses"].values():
                ref = response["$ref"].rsplit("/", 1)[1]
                content = spec["components"]["responses"][ref]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/Response"}


def test_the_documented_auth_schemes_are_the_three_of_the_seed() -> None:
    spec: dict[str, Any] = yaml.safe_load(OPENAPI.read_text())
    schemes = spec["components"]["securitySchemes"]
    assert schemes["apiKey"] == {
        **schemes["apiKey"],
        "type": "apiKey",
        "in": "header",
        "name": "token-key",
    }
    assert schemes["tokenApi"]["scheme"] == "bearer"
    assert "clientCredentials" in schemes["oauth2"]["flows"]


def test_the_documented_examples_are_valid_bodies() -> None:
    from mockserver.contract import validate

    spec: dict[str, Any] = yaml.safe_load(OPENAPI.read_text())
    for response in spec["components"]["responses"].values():
        assert validate(response["content"]["application/json"]["example"]) == []


def test_the_shapes_schema_is_generated_from_the_role_table() -> None:
    from tools.gen_shapes_schema import OUT, render

    assert OUT.read_text(encoding="utf-8") == render(), "run python tools/gen_shapes_schema.py"


def _shapes_validator() -> Any:
    import json

    from jsonschema import Draft202012Validator

    schema = json.loads((ROOT / "contracts" / "response.shapes.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@given(st.one_of(response_bodies(), invalid_response_bodies()))
def test_both_response_schemas_accept_exactly_the_same_bodies(body: Any) -> None:
    from mockserver.contract import validate

    assert _SHAPES.is_valid(body) == (validate(body) == [])


_SHAPES = _shapes_validator()
