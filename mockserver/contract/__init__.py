"""The postback contract (SPEC 1.2-1.3): shapes, strict JSON, validation and the oracle.

Pure functions; the only I/O is reading the bundled schema once.
"""

from mockserver.contract._json import MAX_DEPTH, InvalidJSON, loads_strict
from mockserver.contract._oracle import (
    FAILURES,
    Failure,
    NormalizedResult,
    failure_result,
    interpret_response,
    normalize,
    shape_of,
)
from mockserver.contract._shapes import ALL_SHAPES, KEY_ROLE, ROLE_KEYS, ROLES, SEED_SHAPE, Shape
from mockserver.contract._validate import Violation, response_validator, validate

__all__ = [
    "ALL_SHAPES",
    "FAILURES",
    "KEY_ROLE",
    "MAX_DEPTH",
    "ROLES",
    "ROLE_KEYS",
    "SEED_SHAPE",
    "Failure",
    "InvalidJSON",
    "NormalizedResult",
    "Shape",
    "Violation",
    "failure_result",
    "interpret_response",
    "loads_strict",
    "normalize",
    "response_validator",
    "shape_of",
    "validate",
]
