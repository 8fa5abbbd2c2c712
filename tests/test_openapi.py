"""contracts/openapi.yaml is a valid OpenAPI 3.1 document whose responses are the response
schema, so Schemathesis, Prism or a code generator read the same contract."""

from __future__ import annotations

from typing import Any

import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from tests.conftest import ROOT

OPENAPI = ROOT / "contracts" / "openapi.yaml"


def test_openapi_passes_the_spec_validator() -> None:
    spec, base_uri = read_from_filename(str(OPENAPI))
    validate(spec, base_uri=base_uri)


def test_every_response_is_the_response_schema() -> None:
    spec: dict[str, Any] = yaml.safe_load(OPENAPI.read_text())
    assert spec["openapi"].startswith("3.1")
    assert spec["components"]["schemas"]["Response"] == {"$ref": "./response.schema.json"}
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
