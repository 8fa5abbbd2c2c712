"""verify-client: correct clients pass through both adapters, each broken client is caught
under the right check with a shrunk, readable finding."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from jsonschema import Draft202012Validator

from mockserver._resources import load_schema
from mockserver.cli import run
from mockserver.models import RunReport
from mockserver.verify import CHECKS, CommandAdapter, PythonAdapter, VerifyOptions, verify
from mockserver.verify._jobs import connection_for, explicit_jobs, jobs, scenario_for
from mockserver.verify.reference import handle
from tests.conftest import ROOT

BUGGY = f"{sys.executable} {ROOT / 'tests' / 'clients' / 'buggy.py'}"
OPTIONS = VerifyOptions(examples=200, seed=11, job_timeout_s=3, database=None)
# The broken clients get only the explicit jobs every run starts with (one per auth type x
# method, shape family, breach and fault): each bug is caught there, well within the
# default 200. Shrinking is exercised by the command-line test below.
BROKEN = VerifyOptions(examples=48, seed=11, job_timeout_s=1.5, database=None)


def _verify(adapter: PythonAdapter | CommandAdapter, options: VerifyOptions) -> RunReport:
    try:
        return verify(adapter, options)
    finally:
        adapter.close()


def test_the_reference_client_passes_through_the_python_adapter() -> None:
    report = _verify(PythonAdapter(handle), OPTIONS)
    assert report.findings == []
    assert report.examples >= 200
    assert [c.name for c in report.checks] == list(CHECKS)


@pytest.mark.parametrize(
    "command",
    [
        f"{sys.executable} -m mockserver.verify.reference",
        f"{sys.executable} {ROOT / 'examples' / 'jsonl_client.py'}",
    ],
    ids=["reference", "example"],
)
def test_correct_clients_pass_through_the_command_adapter(command: str) -> None:
    report = _verify(CommandAdapter(command), OPTIONS)
    assert report.findings == [], [f.message for f in report.findings]


@pytest.mark.parametrize(
    ("bug", "check"),
    [
        ("ignores_issuccess", "normalization"),
        ("ignores_body_key", "normalization"),
        ("drops_errorcode_zero", "normalization"),
        ("accepts_true_string", "invalid_response"),
        ("success_on_500", "fault_handling"),
        ("wrong_header", "request_contract"),
        ("no_plus_encoding", "request_contract"),
        ("never_refresh", "auth_flow"),
        ("ignores_expiry", "auth_flow"),
        ("crashes_on_post", "adapter"),
        ("prints_garbage", "adapter"),
        ("hangs_once", "adapter"),
    ],
)
def test_each_broken_client_is_caught_under_its_check(bug: str, check: str) -> None:
    report = _verify(CommandAdapter(f"{BUGGY} {bug}"), BROKEN)
    checks = {f.check for f in report.findings}
    assert check in checks, [f.message for f in report.findings]
    assert not report.passed
    finding = next(f for f in report.findings if f.check == check)
    assert finding.message
    assert finding.profile is not None
    if bug == "no_plus_encoding":
        assert "+" in finding.profile["email"] + finding.profile["phone"]
        assert "arrived as" in finding.message


def test_the_command_line_writes_the_shared_reports(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = run(
        [
            "verify-client",
            "--command",
            f"{BUGGY} drops_errorcode_zero",
            "--examples",
            "60",
            "--seed",
            "2",
            "--no-example-db",
            "--json",
            str(tmp_path / "r.json"),
            "--junit-xml",
            str(tmp_path / "r.xml"),
            "--report",
            str(tmp_path / "r.md"),
        ],
        stdout=out,
        stderr=err,
    )
    assert code == 1
    report = json.loads((tmp_path / "r.json").read_text())
    assert (report["mode"], report["passed"], report["seed"]) == ("verify-client", False, 2)
    [finding] = [f for f in report["findings"] if f["check"] == "normalization"]
    assert finding["details"]["client answered"]["errorCode"] is None
    assert any(a["errorCode"] == 0 for a in finding["details"]["oracle allows"])
    assert "<testcase" in (tmp_path / "r.xml").read_text()
    assert (tmp_path / "r.md").read_text().startswith("# postback-kit client verification: FAILED")
    assert "normalization" in out.getvalue()


def test_the_python_adapter_imports_from_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "my_client.py").write_text(
        "from mockserver.verify.reference import handle as reference\n"
        "def handle(job):\n"
        "    import asyncio\n"
        "    return asyncio.run(reference(job))\n"
    )
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    code = run(
        ["verify-client", "--python", "my_client:handle", "--examples", "20", "--no-example-db"],
        stdout=out,
        stderr=io.StringIO(),
    )
    assert code == 0, out.getvalue()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--python", "nope"], "--python takes MODULE:FUNCTION"),
        (["--python", "no_such_module:f"], "cannot import 'no_such_module'"),
        (["--command", "/no/such/binary"], "cannot start"),
    ],
)
def test_usage_errors_exit_2(argv: list[str], message: str) -> None:
    err = io.StringIO()
    assert (
        run(
            ["verify-client", *argv, "--examples", "1", "--no-example-db"],
            stdout=io.StringIO(),
            stderr=err,
        )
        == 2
    )
    assert message in err.getvalue()


async def _reads_big_bodies(job: dict[str, Any]) -> dict[str, Any]:
    """The reference client with a 4 MiB size cap: it reads an oversized body whole."""
    bigger = {**job["connection"], "max_response_bytes": 4 * 1024 * 1024}
    return await handle({**job, "connection": bigger})


def test_a_client_that_reads_an_oversized_body_whole_is_also_right() -> None:
    report = _verify(PythonAdapter(_reads_big_bodies), BROKEN)
    assert report.findings == [], [f.message for f in report.findings]


def _schema_errors(data: dict[str, Any], name: str) -> list[str]:
    validator = Draft202012Validator(load_schema(name))
    return [
        f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)
    ]


def test_every_explicit_job_builds_a_valid_scenario_and_connection() -> None:
    """The engine skips the schema for the scenarios it builds; this is where they are checked."""
    for spec in explicit_jobs():
        assert _schema_errors(scenario_for(spec), "scenario.schema.json") == [], spec
        connection = connection_for(spec, "http://127.0.0.1:1")
        assert _schema_errors(connection, "connection.schema.json") == [], spec


@settings(max_examples=300)
@given(spec=jobs())
def test_every_generated_job_builds_a_valid_scenario_and_connection(spec: Any) -> None:
    assert _schema_errors(scenario_for(spec), "scenario.schema.json") == []
    assert (
        _schema_errors(connection_for(spec, "http://127.0.0.1:1"), "connection.schema.json") == []
    )
