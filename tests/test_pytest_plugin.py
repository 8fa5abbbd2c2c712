"""The pytest plugin, run as a user's suite would run it (pytester, a separate process)."""

from __future__ import annotations

import pytest

SUITE = """
import threading

import httpx
import pytest

from mockserver.client import PostbackClient
from mockserver.models import Connection

PROFILE = {"phone": "0359677657", "email": "dee@bytetech.io", "campaignId": "B"}


def test_default_scenario_is_voucher_get(mock_partner):
    assert mock_partner.scenario.name == "voucher-get"
    key = {"token-key": "demo-key"}
    response = httpx.get(mock_partner.url + "/voucher", params=PROFILE, headers=key)
    assert response.json()["data"]["code"] == "E094"
    assert len(mock_partner.journal()) == 1


def test_each_test_starts_with_an_empty_journal(mock_partner):
    assert mock_partner.journal() == []


INLINE = {"name": "inline", "path": "/points",
          "cases": [{"name": "d", "response": {"success": True, "data": {"p": 1}}}]}


@pytest.mark.postback_scenario(INLINE)
def test_a_dict_scenario(mock_partner):
    with PostbackClient(Connection.from_dict(mock_partner.connection())) as client:
        assert client.call(PROFILE).data == {"p": 1}


@pytest.mark.postback_scenario("mine")
def test_the_scenarios_dir_option(mock_partner):
    assert mock_partner.scenario.name == "mine"


def test_several_at_once(mock_partner_factory):
    first, second = mock_partner_factory("voucher-get"), mock_partner_factory("voucher-post")
    assert first.url != second.url
    assert second.scenario.methods == ("POST",)


def test_module_scope(mock_partner_module):
    assert mock_partner_module.url.startswith("http://127.0.0.1:")


def test_session_scope(mock_partner_session):
    assert mock_partner_session.scenario.name == "voucher-get"


def test_unknown_case(mock_partner):
    with pytest.raises(ValueError, match="no case 'nope'"):
        mock_partner.set_case("nope")
"""

CONFTEST = """
import threading


def pytest_unconfigure(config):
    left = [t.name for t in threading.enumerate() if t.name.startswith("postback-kit-mock")]
    with open("threads-left.txt", "w") as fh:
        fh.write(repr(left))
"""

MINE = """
name: mine
path: /mine
cases:
  - name: d
    response: {success: true, data: {}}
"""


def test_the_plugin_fixtures_work_and_leave_no_server_behind(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    pytester.makeconftest(CONFTEST)
    (pytester.path / "scenarios-here").mkdir()
    (pytester.path / "scenarios-here" / "mine.yaml").write_text(MINE)
    result = pytester.runpytest_subprocess(
        "--postback-scenarios-dir", "scenarios-here", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=8)
    assert (pytester.path / "threads-left.txt").read_text() == "[]"


def test_the_marker_is_documented(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--markers")
    result.stdout.fnmatch_lines(["*postback_scenario(scenario)*"])


def test_a_bad_scenario_fails_the_test_with_the_reason(pytester: pytest.Pytester) -> None:
    (pytester.path / "bad.yaml").write_text(
        "path: /v\nauth: {type: apikey}\ncases: [{name: d, response: {success: true, data: {}}}]\n"
    )
    pytester.makepyfile(
        test_bad="""
import pytest

@pytest.mark.postback_scenario("bad.yaml")
def test_it(mock_partner):
    pass
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*the mock partner cannot start: bad.yaml: /auth/type: 'apikey' is not one of*"]
    )
