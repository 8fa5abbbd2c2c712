"""Connections and scenarios: frozen dataclasses built from validated YAML/JSON."""

from mockserver.models._secret import MASK, Secret
from mockserver.models.connection import (
    ApiKeyAuth,
    Auth,
    Connection,
    NoAuth,
    OAuth2Auth,
    RetryPolicy,
    TokenApiAuth,
    load_connection,
)
from mockserver.models.scenario import (
    Case,
    Condition,
    RoleResponse,
    Scenario,
    ServerApiKey,
    ServerAuth,
    ServerNoAuth,
    ShapeChoice,
    load_scenario,
    resolve_scenario_path,
)

__all__ = [
    "MASK",
    "ApiKeyAuth",
    "Auth",
    "Case",
    "Condition",
    "Connection",
    "NoAuth",
    "OAuth2Auth",
    "RetryPolicy",
    "RoleResponse",
    "Scenario",
    "Secret",
    "ServerApiKey",
    "ServerAuth",
    "ServerNoAuth",
    "ShapeChoice",
    "TokenApiAuth",
    "load_connection",
    "load_scenario",
    "resolve_scenario_path",
]
