"""The README's examples are executed, so they cannot rot."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
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


def _yaml_block(marker: str) -> str:
    return next(b for b in _blocks("yaml") if marker in b)


def test_the_yaml_examples_load() -> None:
    scenario = Scenario.from_dict(yaml.safe_load(_yaml_block("name: loyalty")), environ={})
    assert [c.name for c in scenario.cases] == ["vip", "no-email", "default"]
    connection = Connection.from_dict(
        yaml.safe_load(_yaml_block("endpoint:")), environ={"PARTNER_API_KEY": "k"}
    )
    assert connection.template_fields() == ("phone", "email")


def test_the_readme_scenario_answers_as_described(serve: ServeFn) -> None:
    mock = serve(yaml.safe_load(_yaml_block("name: loyalty")))
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


def test_the_readme_sequence_answers_503_then_the_case(serve: ServeFn) -> None:
    cases = yaml.safe_load(_yaml_block("flaky-then-ok"))["cases"]
    mock = serve({"name": "readme", "path": "/voucher", "cases": cases})
    assert [mock.http.get("/voucher").status_code for _ in range(3)] == [503, 200, 200]


def _sessions() -> list[tuple[str, str]]:
    """(bundled scenario, shell commands) for every sh block that talks to a served mock."""
    found = []
    for block in _blocks("sh"):
        if "127.0.0.1:8080" not in block:
            continue
        first, _, rest = block.partition("\n")
        if first.startswith("postback-kit serve "):
            found.append((first.split()[2], rest))
        else:
            found.append(("voucher-get", block))
    return found


def _commands(script: str) -> list[tuple[str, list[str]]]:
    """Each command of a session with the ``# output`` lines that follow it."""
    commands: list[tuple[str, list[str]]] = []
    current: list[str] = []
    for line in script.splitlines():
        if line.startswith("# "):
            if current:
                commands.append((" ".join(current), []))
                current = []
            commands[-1][1].append(line[2:])
        elif line.strip():
            current.append(line.rstrip("\\").strip())
            if not line.endswith("\\"):
                commands.append((" ".join(current), []))
                current = []
    return commands


@pytest.mark.parametrize(("scenario", "script"), _sessions(), ids=[s for s, _ in _sessions()])
def test_the_readme_sessions_run_as_shown(serve: ServeFn, scenario: str, script: str) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed on this machine")
    mock = serve(scenario)
    commands = _commands(script)
    marker = "@@postback-kit-readme@@"
    shell = "set -e\n" + "".join(f"{cmd}\necho; echo {marker}\n" for cmd, _ in commands)
    shell = shell.replace("http://127.0.0.1:8080", mock.url)
    done = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    outputs = [o.strip() for o in done.stdout.split(marker)[: len(commands)]]
    for (command, expected), output in zip(commands, outputs, strict=True):
        if expected:
            assert output.splitlines() == expected, command
        elif command.startswith("curl -sf -H"):
            assert '"success":true' in output, command


def test_the_check_response_example_prints_what_the_readme_says() -> None:
    block = next(b for b in _blocks("sh") if "check-response" in b)
    body = re.search(r"echo '(.*?)'", block)
    assert body is not None
    out = io.StringIO()
    code = run(["check-response"], stdout=out, stdin=io.BytesIO(body.group(1).encode()))
    assert code == 1
    assert out.getvalue().splitlines() == re.findall(r"^# (invalid: .*)$", block, re.M)


def test_the_python_client_example_runs(serve: ServeFn, tmp_path: Path) -> None:
    mock = serve("voucher-get")
    connection = tmp_path / "voucher.yaml"
    connection.write_text(
        f"endpoint: {mock.url}/voucher\n"
        "auth: {type: api_key, header: token-key, value: demo-key}\n"
        "params: {phone: '{{phone}}', email: '{{email}}', campaignId: B}\n"
    )
    code = next(b for b in _blocks("python") if "load_connection" in b)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code.replace('"voucher.yaml"', repr(str(connection))), {})
    assert out.getvalue() == "True {'code': 'E094', 'expired': False, 'value': 10000} None\n"


def test_the_pytest_recipe_runs_as_a_suite(pytester: pytest.Pytester) -> None:
    recipe = next(b for b in _blocks("python") if "mock_partner" in b)
    pytester.makepyfile(test_recipe=recipe)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_the_strategies_recipe_runs(pytester: pytest.Pytester) -> None:
    recipe = next(b for b in _blocks("python") if "invalid_response_bodies" in b)
    parser = (
        "from mockserver.contract import validate\n"
        "class _R:\n"
        "    def __init__(self, ok): self.ok = ok\n"
        "def my_parser(body): return _R(not validate(body))\n"
    )
    pytester.makepyfile(test_recipe=parser + recipe)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_the_certify_recipe_runs(
    serve: ServeFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shlex

    from mockserver.cli import run

    block = next(b for b in _blocks("sh") if b.startswith("postback-kit certify"))
    mock = serve("voucher-get")
    (tmp_path / "voucher.yaml").write_text(
        f"endpoint: {mock.url}/voucher\n"
        "auth: {type: api_key, header: token-key, value: demo-key}\n"
        "params: {phone: '{{phone}}', email: '{{email}}', campaignId: Birthday2023}\n"
    )
    monkeypatch.chdir(tmp_path)
    argv = [
        *shlex.split(block.strip())[1:],
        "--max-rps",
        "0",
        "--examples",
        "20",
        "--no-example-db",
    ]
    assert run(argv, stdout=io.StringIO(), stderr=io.StringIO()) == 0
    for name in ("report.json", "junit.xml", "certificate.html"):
        assert (tmp_path / name).stat().st_size > 0
