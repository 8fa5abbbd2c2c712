"""Validate a parsed body against contracts/response.schema.json, by role.

The schema is the single truth of what is valid; this module only turns jsonschema's errors
into :class:`Violation` values that name the role and the offending key(s), using the
``x-role`` / ``x-rule`` annotations the schema carries.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from mockserver._resources import load_schema
from mockserver.contract._shapes import KEY_ROLE, ROLE_KEYS, ROLES

__all__ = ["Violation", "response_validator", "validate"]

RESPONSE_SCHEMA: Final = "response.schema.json"

_ORDER: Final = {role: i for i, role in enumerate(("body", *ROLES))}

_EXPECTED: Final[Mapping[str, str]] = {
    "success": "a boolean",
    "error_code": "a string, an integer or null",
    "message": "a string or null",
    "data": "an object (or null when success is false)",
}


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a body breaks the contract.

    ``role`` is ``body`` (not an object) or one of the four roles; ``keys`` are the offending
    keys, in the body's order; ``message`` says what is wrong in words.
    """

    role: str
    keys: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        return f"{self.role}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "keys": list(self.keys), "message": self.message}


@functools.cache
def response_validator() -> Draft202012Validator:
    """The compiled response-schema validator (built once per process)."""
    schema = load_schema(RESPONSE_SCHEMA)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _show(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _quote(keys: tuple[str, ...]) -> str:
    quoted = [f"'{k}'" for k in keys]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _rule_violation(body: Mapping[str, Any], role: str, rule: str) -> Violation:
    present = tuple(k for k in body if KEY_ROLE.get(k) == role)
    allowed = ROLE_KEYS[role]
    if not present:
        return Violation(
            role=role,
            keys=(),
            message=f"missing: the body needs one of {_quote(allowed)}".replace(" and ", " or "),
        )
    how_many = "exactly one" if rule == "exactly-one" else "at most one"
    return Violation(
        role=role,
        keys=present,
        message=f"ambiguous: {_quote(present)} are {'both' if len(present) == 2 else 'all'} "
        f"present; send {how_many} of them",
    )


def _to_violation(body: Any, schema: Mapping[str, Any], error: ValidationError) -> Violation:
    if not isinstance(body, dict):
        return Violation(
            role="body",
            keys=(),
            message=f"the body must be a JSON object, got {_json_type(body)}",
        )
    if error.absolute_path:
        key = str(error.absolute_path[0])
        role = KEY_ROLE[key]
        value = body[key]
        if value is None and "then" in error.absolute_schema_path:
            return Violation(
                role=role,
                keys=(key,),
                message=f"'{key}' is null but success is true; data may be null only when "
                "success is false",
            )
        return Violation(
            role=role,
            keys=(key,),
            message=f"'{key}' must be {_EXPECTED[role]}, got {_show(value)} ({_json_type(value)})",
        )
    rule_schema = schema["allOf"][error.absolute_schema_path[1]]
    return _rule_violation(body, rule_schema["x-role"], rule_schema["x-rule"])


def validate(body: Any) -> list[Violation]:
    """Every way ``body`` (parsed JSON) breaks the contract of SPEC 1.2; empty when valid."""
    validator = response_validator()
    errors = list(validator.iter_errors(body))
    if not errors:
        return []
    schema = load_schema(RESPONSE_SCHEMA)
    found = {_to_violation(body, schema, e) for e in errors}
    return sorted(found, key=lambda v: (_ORDER[v.role], v.keys, v.message))
