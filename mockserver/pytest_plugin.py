"""The pytest plugin (registered through the ``pytest11`` entry point): a mock partner for a
CDP team's test suite, with nothing to import.

Fixtures:

- ``mock_partner``: the mock partner on 127.0.0.1 and a free port, for one test. The scenario
  comes from ``@pytest.mark.postback_scenario(...)`` (a bundled name, a path, or a dict), else
  the bundled ``voucher-get``. Unmarked tests share one server, reset before each test.
- ``mock_partner_module`` / ``mock_partner_session``: one server for a module / the session
  (bundled ``voucher-get`` unless ``postback_scenario`` is given to ``mock_partner_factory``).
- ``mock_partner_factory``: ``start(scenario)`` for several at once; all stopped after the test.
- ``mock_partner_asgi``: the same object served in-process, without a socket:
  ``async with mock.async_client() as http`` (httpx over ``ASGITransport``).

Heavy imports happen when a fixture is used, not when pytest loads the plugin.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import httpx

    from mockserver.models import Scenario
    from mockserver.server import ServerThread

__all__ = [
    "MockPartnerHandle",
    "mock_partner",
    "mock_partner_asgi",
    "mock_partner_factory",
    "mock_partner_module",
    "mock_partner_session",
    "pytest_addoption",
    "pytest_configure",
]

_DEFAULT = "voucher-get"
_MARKER = "postback_scenario"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("postback-kit")
    group.addoption(
        "--postback-scenarios-dir",
        default=None,
        help="folder where postback_scenario names are looked up before the bundled ones",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(scenario): serve this scenario (bundled name, path, or dict) from the "
        "mock_partner fixture",
    )


class MockPartnerHandle:
    """A running mock partner, as tests see it."""

    def __init__(self, scenario: Scenario, app: Any, server: ServerThread | None) -> None:
        self.scenario = scenario
        self.app = app
        self._server = server
        self.url = server.url if server is not None else "http://mock-partner"

    @property
    def _partner(self) -> Any:
        return self.app.state.partner

    def connection(self, **overrides: Any) -> dict[str, Any]:
        """A connection (SPEC 1.1) that calls this mock correctly, credentials filled in; every
        key can be overridden (``method="POST"``, ``auth={...}``)."""
        from mockserver.models import ServerApiKey, ServerOAuth2, ServerTokenApi

        scenario = self.scenario
        params = {
            name: "{{" + name + "}}" for name in (*scenario.required_params, "phone", "email")
        }
        auth: dict[str, Any] = {"type": "none"}
        server_auth = scenario.auth
        if isinstance(server_auth, ServerApiKey):
            auth = {
                "type": "api_key",
                "header": server_auth.header,
                "value": server_auth.value.reveal(),
            }
        elif isinstance(server_auth, ServerTokenApi):
            auth = {
                "type": "token_api",
                "url": f"{self.url}{server_auth.token_path}",
                "method": server_auth.token_method,
                "body": {k: v.reveal() for k, v in server_auth.body.items()},
                "params": {k: v.reveal() for k, v in server_auth.params.items()},
                "headers": {k: v.reveal() for k, v in server_auth.headers.items()},
                "token_field": server_auth.token_field,
                "token_prefix": server_auth.prefix,
                "header": server_auth.header,
            }
            if server_auth.expires_field:
                auth["expires_field"] = server_auth.expires_field
        elif isinstance(server_auth, ServerOAuth2):
            auth = {
                "type": "oauth2",
                "token_url": f"{self.url}{server_auth.token_path}",
                "client_id": server_auth.client_id,
                "client_secret": server_auth.client_secret.reveal(),
                "client_auth": "basic" if "basic" in server_auth.client_auth else "body",
            }
        method = scenario.methods[0]
        connection: dict[str, Any] = {
            "endpoint": f"{self.url}{scenario.path}",
            "method": method,
            "auth": auth,
            "headers": {k: v or "x" for k, v in scenario.required_headers.items()},
            "params": params,
        }
        if method == "POST":
            connection["payload"] = {
                name: "{{" + name + "}}" for name in (*scenario.required_payload, "phone", "email")
            }
        connection.update(overrides)
        return connection

    def journal(self) -> list[dict[str, Any]]:
        """The requests the mock received, oldest first, credentials masked."""
        snapshot: list[dict[str, Any]] = self._partner.journal.snapshot(self._partner.masker)[
            "requests"
        ]
        return snapshot

    def reset(self) -> None:
        self._partner.reset()

    def set_case(self, name: str | None) -> None:
        """Answer every request with case ``name`` (None: match cases again)."""
        if name is None:
            self._partner.override_case = None
            return
        index = self._partner.case_index(name)
        if index is None:
            names = [c.name for c in self.scenario.cases]
            raise ValueError(f"no case {name!r} in scenario {self.scenario.name!r}; cases: {names}")
        self._partner.override_case = index

    def set_shape(self, shape: str | None) -> None:
        """Answer in this key shape (``"isSuccess,body"``, ``"rotate"``; None: the scenario's)."""
        from mockserver.contract import Shape

        self._partner.override_shape = (
            shape if shape in (None, "rotate") else Shape.parse(str(shape))
        )

    def arm_fault(self, fault: Mapping[str, Any], count: int = 1) -> None:
        """The next ``count`` partner requests get ``fault`` (``{"type": "status",
        "status": 503}``; the scenario format's fault)."""
        from mockserver.models import Fault

        self._partner.arm(Fault.from_dict(fault), count)

    def async_client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An httpx client bound to this mock (in-process for ``mock_partner_asgi``)."""
        import httpx

        if self._server is None:
            return httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self.app), base_url=self.url, **kwargs
            )
        return httpx.AsyncClient(base_url=self.url, **kwargs)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    def __repr__(self) -> str:
        return f"<mock partner {self.scenario.name!r} at {self.url}>"


def _load(scenario: str | Path | Mapping[str, Any], config: pytest.Config) -> Scenario:
    from mockserver.errors import PostbackKitError
    from mockserver.models import Scenario, load_scenario

    try:
        if isinstance(scenario, Mapping):
            return Scenario.from_dict(scenario, source="<postback_scenario>")
        folder = config.getoption("--postback-scenarios-dir")
        if folder and not Path(scenario).is_absolute():
            for suffix in ("", ".yaml", ".yml", ".json"):
                candidate = Path(folder) / f"{scenario}{suffix}"
                if candidate.is_file():
                    return load_scenario(candidate)
        return load_scenario(scenario)
    except PostbackKitError as exc:
        pytest.fail(f"postback-kit: the mock partner cannot start: {exc}", pytrace=False)


def _start(scenario: Scenario, *, socket: bool = True) -> MockPartnerHandle:
    from mockserver.errors import PostbackKitError
    from mockserver.server import ServerThread, create_app

    app = create_app(scenario)
    if not socket:
        return MockPartnerHandle(scenario, app, None)
    try:
        server = ServerThread(app).start()
    except PostbackKitError as exc:
        pytest.fail(f"postback-kit: the mock partner cannot start: {exc}", pytrace=False)
    return MockPartnerHandle(scenario, app, server)


def _marked(request: pytest.FixtureRequest) -> Any:
    marker = request.node.get_closest_marker(_MARKER)
    if marker is None:
        return None
    if len(marker.args) != 1:
        pytest.fail(
            f"@pytest.mark.{_MARKER} takes one scenario (name, path or dict)", pytrace=False
        )
    return marker.args[0]


@pytest.fixture(scope="session")
def _postback_shared(pytestconfig: pytest.Config) -> Iterator[MockPartnerHandle]:
    handle = _start(_load(_DEFAULT, pytestconfig))
    yield handle
    handle.stop()


@pytest.fixture
def mock_partner(request: pytest.FixtureRequest) -> Iterator[MockPartnerHandle]:
    """The mock partner for one test (see the module docstring)."""
    scenario = _marked(request)
    if scenario is None:
        shared: MockPartnerHandle = request.getfixturevalue("_postback_shared")
        shared.reset()
        yield shared
        return
    handle = _start(_load(scenario, request.config))
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def mock_partner_module(pytestconfig: pytest.Config) -> Iterator[MockPartnerHandle]:
    handle = _start(_load(_DEFAULT, pytestconfig))
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def mock_partner_session(
    _postback_shared: MockPartnerHandle,
) -> MockPartnerHandle:
    return _postback_shared


@pytest.fixture
def mock_partner_factory(request: pytest.FixtureRequest) -> Iterator[Any]:
    """``start(scenario)`` -> a running mock partner; all are stopped after the test."""
    started: list[MockPartnerHandle] = []

    def start(scenario: str | Path | Mapping[str, Any] = _DEFAULT) -> MockPartnerHandle:
        handle = _start(_load(scenario, request.config))
        started.append(handle)
        return handle

    yield start
    for handle in started:
        handle.stop()


@pytest.fixture
def mock_partner_asgi(request: pytest.FixtureRequest) -> MockPartnerHandle:
    """The mock partner in-process (no socket): use ``async_client()`` to talk to it."""
    scenario = _marked(request) or _DEFAULT
    return _start(_load(scenario, request.config), socket=False)
