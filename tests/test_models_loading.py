"""Connection and scenario files: YAML or JSON, ${ENV} secrets, one-line errors with a pointer."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.errors import ConfigError
from mockserver.models import (
    ApiKeyAuth,
    Connection,
    OAuth2Auth,
    ServerApiKey,
    TokenApiAuth,
    load_connection,
    load_scenario,
)
from tests.conftest import SCENARIOS

CONNECTION = """\
endpoint: https://partner.example/voucher
method: GET
timeout_s: 10
auth:
  type: api_key
  header: token-key
  value: ${PARTNER_API_KEY}
headers:
  header-01: Value 01
params:
  phone: "{{phone}}"
  email: "{{email}}"
  campaignId: Birthday2023
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_spec_connection_loads_with_its_secret_from_the_environment(tmp_path: Path) -> None:
    path = _write(tmp_path, "voucher.yaml", CONNECTION)
    connection = load_connection(path, environ={"PARTNER_API_KEY": "s3cr3t-value"})
    assert connection.endpoint == "https://partner.example/voucher"
    assert connection.params == (
        ("phone", "{{phone}}"),
        ("email", "{{email}}"),
        ("campaignId", "Birthday2023"),
    )
    assert connection.headers == {"header-01": "Value 01"}
    assert isinstance(connection.auth, ApiKeyAuth)
    assert connection.auth.value.reveal() == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(connection)
    assert "s3cr3t-value" not in str(connection.auth.value)
    assert connection.template_fields() == ("phone", "email")


def test_json_and_yaml_give_the_same_connection(tmp_path: Path) -> None:
    as_json = _write(
        tmp_path,
        "c.json",
        '{"endpoint": "http://x.test/v", "params": {"phone": "{{phone}}", "n": 3, "b": true}}',
    )
    as_other = _write(
        tmp_path,
        "c.conf",
        "endpoint: http://x.test/v\nparams: {phone: '{{phone}}', n: 3, b: true}\n",
    )
    assert (
        load_connection(as_json).params
        == load_connection(as_other).params
        == (
            ("phone", "{{phone}}"),
            ("n", "3"),
            ("b", "true"),
        )
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            CONNECTION.replace("type: api_key", "type: apikey"),
            "voucher.yaml: /auth/type: 'apikey' is not one of "
            "['none', 'api_key', 'token_api', 'oauth2']; did you mean 'api_key'?",
        ),
        (
            CONNECTION.replace("method: GET", "method: get"),
            "voucher.yaml: /method: 'get' is not one of ['GET', 'POST']; did you mean 'GET'?",
        ),
        (
            CONNECTION.replace("timeout_s: 10", "timeout: 10"),
            "voucher.yaml: /timeout: unknown key 'timeout'; did you mean 'timeout_s'?",
        ),
        (
            CONNECTION.replace("https://partner.example/voucher", "partner.example/voucher"),
            "voucher.yaml: /endpoint: 'partner.example/voucher' does not match",
        ),
        (
            CONNECTION.replace("  header: token-key\n", ""),
            "voucher.yaml: /auth: 'header' is a required property",
        ),
        (
            CONNECTION + "payload: {phone: '{{phone}}'}\n",
            "voucher.yaml: /payload: payload is sent only with method POST",
        ),
        ("endpoint: [", "voucher.yaml: line 1 column 12: not valid YAML"),
        ("", "voucher.yaml: the document must be a mapping (object), got empty"),
        ("- a\n- b\n", "voucher.yaml: the document must be a mapping (object), got list"),
    ],
)
def test_bad_connections_get_one_line_with_file_and_pointer(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = _write(tmp_path, "voucher.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_connection(path, environ={"PARTNER_API_KEY": "k"})
    message = str(info.value).replace(str(tmp_path) + "/", "")
    assert message.startswith(expected)
    assert "\n" not in message


def test_a_missing_environment_variable_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "voucher.yaml", CONNECTION)
    with pytest.raises(
        ConfigError, match=r"/auth/value: environment variable PARTNER_API_KEY is not set"
    ):
        load_connection(path, environ={})


def test_an_env_default_is_used_when_the_variable_is_unset(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "c.yaml", CONNECTION.replace("${PARTNER_API_KEY}", "${PARTNER_API_KEY:-demo-key}")
    )
    connection = load_connection(path, environ={})
    assert isinstance(connection.auth, ApiKeyAuth)
    assert connection.auth.value.reveal() == "demo-key"


def test_an_error_never_echoes_a_secret_from_the_environment(tmp_path: Path) -> None:
    text = CONNECTION.replace("header: token-key", "header: ${PARTNER_API_KEY}")
    path = _write(tmp_path, "c.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_connection(path, environ={"PARTNER_API_KEY": "bad header name!"})
    assert "bad header name!" not in str(info.value)
    assert "${PARTNER_API_KEY}" in str(info.value)


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: no such file$"):
        load_connection(tmp_path / "nope.yaml")


def test_token_api_and_oauth2_connections_keep_their_credentials_secret(tmp_path: Path) -> None:
    token = Connection.from_dict(
        {
            "endpoint": "https://p.example/v",
            "auth": {
                "type": "token_api",
                "url": "https://p.example/auth/token",
                "body": {"username": "cdp", "apiKey": "${KEY}"},
                "token_field": "data.accessToken",
                "expires_field": "data.expiredAfter",
            },
        },
        environ={"KEY": "tk-secret"},
    )
    assert isinstance(token.auth, TokenApiAuth)
    assert [s.reveal() for s in token.secrets()] == ["tk-secret"]
    assert "tk-secret" not in repr(token)
    oauth = Connection.from_dict(
        {
            "endpoint": "https://p.example/v",
            "auth": {
                "type": "oauth2",
                "token_url": "https://p.example/oauth/token",
                "client_id": "demo-client",
                "client_secret": "oauth-secret",
            },
        }
    )
    assert isinstance(oauth.auth, OAuth2Auth)
    assert oauth.auth.client_auth == "basic"
    assert "oauth-secret" not in repr(oauth)


def test_a_post_without_payload_sends_an_empty_object() -> None:
    connection = Connection.from_dict({"endpoint": "http://x.test/v", "method": "POST"})
    assert connection.payload == {}


@pytest.mark.parametrize("name", sorted(p.stem for p in SCENARIOS.glob("*.yaml")))
def test_every_bundled_scenario_loads(name: str) -> None:
    scenario = load_scenario(name)
    assert scenario.name == name
    assert scenario.cases


def test_a_scenario_is_found_by_path_or_bundled_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ["voucher-get", "voucher-get.yaml", "scenarios/voucher-get.yaml"]:
        assert load_scenario(name).name == "voucher-get"
    with pytest.raises(ConfigError, match="did you mean 'voucher-get'"):
        load_scenario("voucher-gett")


def test_the_bundled_demo_key_is_overridable() -> None:
    scenario = load_scenario("voucher-get", environ={"PARTNER_API_KEY": "mine"})
    assert isinstance(scenario.auth, ServerApiKey)
    assert scenario.auth.value.reveal() == "mine"
    assert load_scenario("voucher-get", environ={}).auth.value.reveal() == "demo-key"  # type: ignore[union-attr]


SCENARIO = """\
path: /voucher
cases:
  - name: default
    response: {success: true, data: {}}
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            SCENARIO.replace("name: default", "name: default\n    when: {phone: {regex: '('}}"),
            "s.yaml: /cases/0/when/phone/regex: bad regular expression",
        ),
        (
            SCENARIO + "shape: success,isSuccess,data\n",
            "s.yaml: /shape: 'success' and 'isSuccess' both fill role 'success'",
        ),
        (SCENARIO + "shape: success\n", "s.yaml: /shape: shape 'success' has no data key"),
        (
            SCENARIO.replace("{success: true, data: {}}", "{success: true, data: null}"),
            "s.yaml: /cases/0/response/data: a success response needs a data object",
        ),
        (
            SCENARIO + "  - name: later\n    response: {success: true, data: {}}\n",
            "s.yaml: /cases/1: case 'later' can never match",
        ),
        (
            SCENARIO.replace("path: /voucher", "path: /__admin/x"),
            "s.yaml: /path: '/__admin/x' does not match",
        ),
        (SCENARIO.replace("    response:", "    status: 200\n    respons:"), "s.yaml: /cases/0"),
        (
            SCENARIO + "methods: [GET, PUT]\n",
            "s.yaml: /methods/1: 'PUT' is not one of ['GET', 'POST']",
        ),
    ],
)
def test_bad_scenarios_get_one_line_with_file_and_pointer(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = _write(tmp_path, "s.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    message = str(info.value).replace(str(tmp_path) + "/", "")
    assert message.startswith(expected)
    assert "\n" not in message
