"""The README's examples are executed, so they cannot rot."""

from __future__ import annotations

import io
import re
import shlex

import yaml

from mockserver.cli import run
from mockserver.models import Connection, Scenario
from tests.conftest import ROOT, ServeFn

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


def test_the_first_screen_has_the_two_setup_commands() -> None:
    first_screen = "\n".join(README.splitlines()[:25])
    assert "pip install -e . && .venv/bin/postback-kit serve voucher-get" in first_screen
    assert "pip install -e '.[test]' && .venv/bin/python -m pytest" in first_screen
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 -m venv .venv && .venv/bin/pip install -e '.[test]'" in ci
    assert ".venv/bin/python -m pytest" in ci


def test_the_yaml_examples_load() -> None:
    scenario_text, connection_text = _blocks("yaml")
    scenario = Scenario.from_dict(yaml.safe_load(scenario_text), environ={})
    assert [c.name for c in scenario.cases] == ["vip", "no-email", "default"]
    connection = Connection.from_dict(
        yaml.safe_load(connection_text), environ={"PARTNER_API_KEY": "k"}
    )
    assert connection.template_fields() == ("phone", "email")


def test_the_readme_scenario_answers_as_described(serve: ServeFn) -> None:
    mock = serve(yaml.safe_load(_blocks("yaml")[0]))
    headers = {"X-Partner-Key": "dev-key", "header-01": "Value 01", "x-request-id": "r1"}
    vip = mock.http.get("/points?phone=0912&email=a", headers={**headers, "x-tier": "gold"})
    assert vip.json() == {
        "isSuccess": True,
        "responseCode": 0,
        "msg": None,
        "result": {"points": 9000},
    }
    empty = mock.http.get("/points?phone=1&email=", headers=headers)
    assert empty.status_code == 422
    assert empty.json()["errorCode"] == "MISSING_VALUE"


def test_the_curl_examples_match_the_bundled_scenarios(serve: ServeFn) -> None:
    checked = 0
    for block in _blocks("sh"):
        for command in re.findall(r"^curl .*?(?=^#|\Z)", block, re.S | re.M):
            words = shlex.split(command.replace("\\\n", " "))
            url = next(w for w in words if w.startswith("http://"))
            expected = re.search(r"^# (\{.*\})$", block[block.index(command) :], re.M)
            assert expected is not None
            name = "voucher-post" if "-X" in words else "voucher-get"
            mock = serve(name)
            headers = dict(
                w.split(": ", 1) for i, w in enumerate(words) if i and words[i - 1] == "-H"
            )
            data = words[words.index("-d") + 1].encode() if "-d" in words else None
            path = url.removeprefix("http://127.0.0.1:8080")
            response = mock.http.request(
                "POST" if data else "GET", path, headers=headers, content=data
            )
            assert response.text == expected.group(1)
            checked += 1
    assert checked == 2


def test_the_check_response_example_prints_what_the_readme_says() -> None:
    block = next(b for b in _blocks("sh") if "check-response" in b)
    body = re.search(r"echo '(.*?)'", block)
    assert body is not None
    out = io.StringIO()
    code = run(["check-response"], stdout=out, stdin=io.BytesIO(body.group(1).encode()))
    assert code == 1
    assert out.getvalue().splitlines() == re.findall(r"^# (invalid: .*)$", block, re.M)
