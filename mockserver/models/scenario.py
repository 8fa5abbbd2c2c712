"""A scenario: what the mock partner serves (SPEC 3)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from mockserver._resources import bundled_scenario, bundled_scenarios
from mockserver._suggest import did_you_mean
from mockserver.contract import SEED_SHAPE, Shape
from mockserver.errors import ConfigError
from mockserver.models._loading import Document, document_from_data, load_document
from mockserver.models._secret import Secret

__all__ = [
    "Case",
    "Condition",
    "RoleResponse",
    "Scenario",
    "ServerApiKey",
    "ServerAuth",
    "ServerNoAuth",
    "ShapeChoice",
    "load_scenario",
    "resolve_scenario_path",
]

SCHEMA: Final = "scenario.schema.json"

ROTATE: Final = "rotate"

ShapeChoice = Shape | Literal["rotate"]

Source = Literal["profile", "param", "header", "payload"]
Operator = Literal["equals", "contains", "regex", "in", "empty", "missing", "present"]


def as_text(value: Any) -> str:
    """A query or payload value as the text a condition compares (JSON spelling for
    booleans and null)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


@dataclass(frozen=True, kw_only=True)
class Condition:
    """One test on one request value; ``value`` None means the value is absent."""

    source: Source
    field: str
    op: Operator
    operand: Any = None

    def test(self, value: str | None) -> bool:
        op = self.op
        if op == "missing":
            return value is None
        if value is None:
            return False
        if op == "equals":
            return bool(value == self.operand)
        if op == "contains":
            return self.operand in value
        if op == "regex":
            return self.operand.search(value) is not None
        if op == "in":
            return value in self.operand
        if op == "empty":
            return value == ""
        return True  # present

    def describe(self) -> str:
        where = self.field if self.source == "profile" else f"{self.source}.{self.field}"
        if self.op in {"empty", "missing", "present"}:
            return f"{where} {self.op}"
        shown = self.operand.pattern if self.op == "regex" else self.operand
        return f"{where} {self.op} {shown!r}"


@dataclass(frozen=True, kw_only=True)
class RoleResponse:
    """An answer given by role; the server renders it in a key shape."""

    success: bool
    error_code: str | int | None = None
    message: str | None = None
    data: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Case:
    name: str
    when: tuple[Condition, ...] = ()
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    shape: ShapeChoice | None = None
    response: RoleResponse | None = None
    #: A literal body, sent as it is (``response`` is None then).
    body: Any = None


@dataclass(frozen=True, kw_only=True)
class ServerNoAuth:
    type: Literal["none"] = "none"


@dataclass(frozen=True, kw_only=True)
class ServerApiKey:
    header: str
    value: Secret
    type: Literal["api_key"] = "api_key"


ServerAuth = ServerNoAuth | ServerApiKey


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """A validated scenario. Build it with :func:`load_scenario` or
    :meth:`Scenario.from_dict`."""

    path: str
    cases: tuple[Case, ...]
    name: str = "scenario"
    description: str = ""
    methods: tuple[Literal["GET", "POST"], ...] = ("GET",)
    auth: ServerAuth = field(default_factory=ServerNoAuth)
    required_headers: Mapping[str, str | None] = field(default_factory=dict)
    required_params: tuple[str, ...] = ()
    required_payload: tuple[str, ...] = ()
    shape: ShapeChoice = SEED_SHAPE
    max_body_bytes: int = 1024 * 1024
    journal_size: int = 10_000
    source: str = "<scenario>"

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        source: str = "<scenario>",
        environ: Mapping[str, str] | None = None,
    ) -> Scenario:
        document = document_from_data(dict(data), SCHEMA, source=source, environ=environ)
        return _from_document(document)

    def secrets(self) -> tuple[Secret, ...]:
        return (self.auth.value,) if isinstance(self.auth, ServerApiKey) else ()

    def secret_headers(self) -> frozenset[str]:
        """Lower-cased names of request headers that carry a credential."""
        names = {"authorization", "proxy-authorization", "cookie"}
        if isinstance(self.auth, ServerApiKey):
            names.add(self.auth.header.lower())
        return frozenset(names)


def _shape(document: Document, path: list[Any], value: str) -> ShapeChoice:
    if value.strip() == ROTATE:
        return ROTATE
    try:
        return Shape.parse(value)
    except ValueError as exc:
        raise document.error(path, str(exc)) from None


_OPERATORS: Final = ("equals", "contains", "regex", "in", "empty", "missing", "present")


def _condition(document: Document, path: list[Any], key: str, spec: Any) -> Condition:
    source: Source = "profile"
    name = key
    prefix, dot, rest = key.partition(".")
    if dot and prefix in {"param", "header", "payload"} and rest:
        source = prefix  # type: ignore[assignment]
        name = rest.lower() if prefix == "header" else rest
    if not isinstance(spec, dict):
        return Condition(source=source, field=name, op="equals", operand=as_text(spec))
    ((op, operand),) = spec.items()
    if op == "regex":
        try:
            operand = re.compile(operand)
        except re.error as exc:
            raise document.error([*path, "regex"], f"bad regular expression: {exc}") from None
    elif op == "in":
        operand = frozenset(as_text(v) for v in operand)
    elif op == "equals":
        operand = as_text(operand)
    return Condition(source=source, field=name, op=op, operand=operand)


def _case(document: Document, index: int, data: Mapping[str, Any]) -> Case:
    path: list[Any] = ["cases", index]
    when = tuple(
        _condition(document, [*path, "when", key], key, spec)
        for key, spec in (data.get("when") or {}).items()
    )
    shape = _shape(document, [*path, "shape"], data["shape"]) if "shape" in data else None
    response = None
    if "response" in data:
        r = data["response"]
        response = RoleResponse(
            success=r["success"],
            error_code=r.get("error_code"),
            message=r.get("message"),
            data=r.get("data"),
            extra=r.get("extra") or {},
        )
        if response.success and response.data is None:
            raise document.error(
                [*path, "response", "data"],
                "a success response needs a data object (data may be null only when "
                "success is false)",
            )
    return Case(
        name=data["name"],
        when=when,
        status=data.get("status", 200),
        headers=dict(data.get("headers") or {}),
        shape=shape,
        response=response,
        body=data.get("body"),
    )


def _from_document(document: Document) -> Scenario:
    data = document.data
    cases = tuple(_case(document, i, c) for i, c in enumerate(data["cases"]))
    names: dict[str, int] = {}
    for i, case in enumerate(cases):
        if case.name in names:
            raise document.error(
                ["cases", i, "name"],
                f"case name {case.name!r} is already used by /cases/{names[case.name]}",
            )
        names[case.name] = i
    for i, case in enumerate(cases[:-1]):
        if not case.when:
            raise document.error(
                ["cases", i + 1],
                f"case {cases[i + 1].name!r} can never match: case {case.name!r} before it has "
                "no 'when' and answers every request; put the default case last",
            )
    auth_data = data.get("auth") or {"type": "none"}
    auth: ServerAuth = (
        ServerApiKey(header=auth_data["header"], value=Secret(auth_data["value"]))
        if auth_data["type"] == "api_key"
        else ServerNoAuth()
    )
    require = data.get("require") or {}
    path = str(data["path"])
    return Scenario(
        name=data.get("name") or Path(document.source).stem,
        description=data.get("description", ""),
        path=path,
        methods=tuple(data.get("methods", ["GET"])),
        auth=auth,
        required_headers={k.lower(): v for k, v in (require.get("headers") or {}).items()},
        required_params=tuple(require.get("params") or ()),
        required_payload=tuple(require.get("payload") or ()),
        shape=_shape(document, ["shape"], data["shape"]) if "shape" in data else SEED_SHAPE,
        max_body_bytes=data.get("max_body_bytes", 1024 * 1024),
        journal_size=data.get("journal_size", 10_000),
        cases=cases,
        source=document.source,
    )


def resolve_scenario_path(name: str | Path) -> Path:
    """A scenario file by path, or else a bundled scenario by name (``voucher-get``,
    ``scenarios/voucher-get.yaml``), so the kit works from any folder."""
    path = Path(name)
    if path.exists():
        return path
    bundled = bundled_scenario(str(name))
    if bundled is not None:
        return bundled
    known = list(bundled_scenarios())
    suggestion = did_you_mean(path.stem, known) or f"; bundled scenarios: {known}"
    raise ConfigError(
        str(name), "", f"no such file, and no bundled scenario of that name{suggestion}"
    )


def load_scenario(name: str | Path, *, environ: Mapping[str, str] | None = None) -> Scenario:
    """Read and validate a scenario file, or a bundled scenario by name; raises
    :class:`~mockserver.errors.ConfigError` with file and JSON pointer on bad input."""
    path = resolve_scenario_path(name)
    document = load_document(path, SCHEMA, environ=environ)
    return _from_document(document)
