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
from mockserver.models.faults import Fault, FaultMix

__all__ = [
    "Case",
    "Condition",
    "RoleResponse",
    "Scenario",
    "ServerApiKey",
    "ServerAuth",
    "ServerNoAuth",
    "ServerOAuth2",
    "ServerTokenApi",
    "ShapeChoice",
    "Step",
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
class Step:
    """One answer of a case's sequence: a fault, or other status/response/body; an empty step
    is the case's own answer."""

    fault: Fault | None = None
    status: int | None = None
    response: RoleResponse | None = None
    body: Any = None
    has_body: bool = False


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
    #: Applied to every request this case answers (or to a share of them, by probability).
    fault: Fault | None = None
    #: Stateful answers: request n of this case gets step n.
    sequence: tuple[Step, ...] = ()
    then: Literal["repeat_last", "loop"] = "repeat_last"


@dataclass(frozen=True, kw_only=True)
class ServerNoAuth:
    type: Literal["none"] = "none"


@dataclass(frozen=True, kw_only=True)
class ServerApiKey:
    header: str
    value: Secret
    type: Literal["api_key"] = "api_key"


@dataclass(frozen=True, kw_only=True)
class ServerTokenApi:
    """A token endpoint that hands out a fresh signed token on every call, and a data
    endpoint that demands it in ``header`` as ``"<prefix> <token>"``."""

    token_path: str
    token_method: Literal["GET", "POST"] = "POST"
    body: Mapping[str, Secret] = field(default_factory=dict)
    params: Mapping[str, Secret] = field(default_factory=dict)
    headers: Mapping[str, Secret] = field(default_factory=dict)
    token_field: str = "data.accessToken"
    expires_field: str | None = "data.expiredAfter"
    response: Mapping[str, Any] = field(
        default_factory=lambda: {"success": True, "statusCode": 200}
    )
    lifetime_s: float = 1800.0
    single_use: bool = False
    header: str = "Authorization"
    prefix: str = "Bearer"
    type: Literal["token_api"] = "token_api"


@dataclass(frozen=True, kw_only=True)
class ServerOAuth2:
    """An OAuth 2.0 client-credentials token endpoint (RFC 6749 section 4.4) and a data
    endpoint that demands ``Authorization: Bearer <token>`` (RFC 6750)."""

    token_path: str
    client_id: str
    client_secret: Secret
    client_auth: frozenset[Literal["basic", "body"]] = frozenset({"basic", "body"})
    scopes: frozenset[str] | None = None
    lifetime_s: float = 3600.0
    type: Literal["oauth2"] = "oauth2"


ServerAuth = ServerNoAuth | ServerApiKey | ServerTokenApi | ServerOAuth2


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
    faults: FaultMix | None = None
    admin_token: Secret | None = None
    token_secret: Secret | None = None
    source: str = "<scenario>"

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        source: str = "<scenario>",
        environ: Mapping[str, str] | None = None,
        validate: bool = True,
    ) -> Scenario:
        """A scenario from a dict in the scenario file's format. ``validate=False`` skips the
        JSON Schema (about 1 ms) for dicts the kit generates itself and tests against it."""
        document = document_from_data(
            dict(data), SCHEMA, source=source, environ=environ, validate=validate
        )
        return _from_document(document)

    def secrets(self) -> tuple[Secret, ...]:
        """Every credential the scenario holds, for masking."""
        auth = self.auth
        found: list[Secret] = []
        if isinstance(auth, ServerApiKey):
            found.append(auth.value)
        elif isinstance(auth, ServerTokenApi):
            for part in (auth.body, auth.params, auth.headers):
                found.extend(part.values())
        elif isinstance(auth, ServerOAuth2):
            found.append(auth.client_secret)
        if self.admin_token is not None:
            found.append(self.admin_token)
        return tuple(found)

    def secret_headers(self) -> frozenset[str]:
        """Lower-cased names of request headers that carry a credential."""
        names = {"authorization", "proxy-authorization", "cookie"}
        auth = self.auth
        if isinstance(auth, ServerApiKey | ServerTokenApi):
            names.add(auth.header.lower())
        if isinstance(auth, ServerTokenApi):
            names.update(h.lower() for h in auth.headers)
        return frozenset(names)

    def token_path(self) -> str | None:
        auth = self.auth
        return auth.token_path if isinstance(auth, ServerTokenApi | ServerOAuth2) else None


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
    response = (
        _role_response(document, [*path, "response"], data["response"])
        if "response" in data
        else None
    )
    return Case(
        name=data["name"],
        when=when,
        status=data.get("status", 200),
        headers=dict(data.get("headers") or {}),
        shape=shape,
        response=response,
        body=data.get("body"),
        fault=Fault.from_dict(data["fault"]) if "fault" in data else None,
        sequence=tuple(
            _step(document, [*path, "sequence", i], s)
            for i, s in enumerate(data.get("sequence") or ())
        ),
        then=data.get("then", "repeat_last"),
    )


def _role_response(document: Document, path: list[Any], r: Mapping[str, Any]) -> RoleResponse:
    response = RoleResponse(
        success=r["success"],
        error_code=r.get("error_code"),
        message=r.get("message"),
        data=r.get("data"),
        extra=r.get("extra") or {},
    )
    if response.success and response.data is None:
        raise document.error(
            [*path, "data"],
            "a success response needs a data object (data may be null only when success is false)",
        )
    return response


def _step(document: Document, path: list[Any], data: Mapping[str, Any]) -> Step:
    return Step(
        fault=Fault.from_dict(data["fault"]) if "fault" in data else None,
        status=data.get("status"),
        response=_role_response(document, [*path, "response"], data["response"])
        if "response" in data
        else None,
        body=data.get("body"),
        has_body="body" in data,
    )


def _server_auth(document: Document, data: Mapping[str, Any] | None) -> ServerAuth:
    if data is None or data["type"] == "none":
        return ServerNoAuth()
    kind = data["type"]
    if kind == "api_key":
        return ServerApiKey(header=data["header"], value=Secret(data["value"]))
    if kind == "token_api":
        credentials = data["credentials"]
        return ServerTokenApi(
            token_path=data["token_path"],
            token_method=data.get("token_method", "POST"),
            body={k: Secret(v) for k, v in (credentials.get("body") or {}).items()},
            params={k: Secret(v) for k, v in (credentials.get("params") or {}).items()},
            headers={k.lower(): Secret(v) for k, v in (credentials.get("headers") or {}).items()},
            token_field=data.get("token_field", "data.accessToken"),
            expires_field=data.get("expires_field", "data.expiredAfter"),
            response=data.get("response", {"success": True, "statusCode": 200}),
            lifetime_s=float(data.get("lifetime_s", 1800)),
            single_use=data.get("single_use", False),
            header=data.get("header", "Authorization"),
            prefix=data.get("prefix", "Bearer"),
        )
    return ServerOAuth2(
        token_path=data["token_path"],
        client_id=data["client_id"],
        client_secret=Secret(data["client_secret"]),
        client_auth=frozenset(data.get("client_auth", ["basic", "body"])),
        scopes=frozenset(data["scopes"]) if "scopes" in data else None,
        lifetime_s=float(data.get("lifetime_s", 3600)),
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
    auth = _server_auth(document, data.get("auth"))
    if isinstance(auth, ServerTokenApi | ServerOAuth2) and auth.token_path == data["path"]:
        raise document.error(
            ["auth", "token_path"], "the token endpoint needs a path of its own, not the data path"
        )
    faults = data.get("faults")
    if faults and sum(f["probability"] for f in faults["mix"]) > 1.0 + 1e-9:
        raise document.error(["faults", "mix"], "the probabilities add up to more than 1")
    admin = data.get("admin") or {}
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
        faults=FaultMix(
            mix=tuple(Fault.from_dict(f) for f in faults["mix"]), seed=faults.get("seed", 0)
        )
        if faults
        else None,
        admin_token=Secret(admin["token"]) if "token" in admin else None,
        token_secret=Secret(data["token_secret"]) if "token_secret" in data else None,
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
