"""Driving one running mock through a story over the admin API, without restarting it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mockserver.contract import ALL_SHAPES, shape_of
from tests.conftest import ServeFn

KEY = {"token-key": "demo-key"}
QUERY = {"campaignId": "B", "phone": "0359677657", "email": "dee@bytetech.io"}


def test_switching_the_active_case_and_back(serve: ServeFn) -> None:
    mock = serve("voucher-get")
    state = mock.http.put("/__admin/scenario", json={"case": "expired-voucher"}).json()
    assert state["case"] == "expired-voucher"
    assert (
        mock.http.get("/voucher", params=QUERY, headers=KEY).json()["errorCode"]
        == "VOUCHER_EXPIRED"
    )
    mock.http.put("/__admin/scenario", json={"case": None})
    assert mock.http.get("/voucher", params=QUERY, headers=KEY).json()["errorCode"] == 0


def test_an_unknown_case_is_a_clear_400(serve: ServeFn) -> None:
    mock = serve("voucher-get")
    response = mock.http.put("/__admin/scenario", json={"case": "not-fund"})
    assert response.status_code == 400
    assert response.json() == {"error": "no case 'not-fund'; did you mean 'not-found'?"}


@pytest.mark.parametrize("body", [{"shape": "success,isSuccess,data"}, {"bogus": 1}, [1]])
def test_bad_scenario_changes_are_400(serve: ServeFn, body: Any) -> None:
    mock = serve("voucher-get")
    assert mock.http.put("/__admin/scenario", json=body).status_code == 400


def test_switching_the_shape_at_runtime(serve: ServeFn) -> None:
    mock = serve("voucher-get")
    mock.http.put("/__admin/scenario", json={"shape": "isSuccess,responseCode,msg,result"})
    body = mock.http.get("/voucher", params=QUERY, headers=KEY).json()
    assert shape_of(body) == ALL_SHAPES[0].parse("isSuccess,responseCode,msg,result")
    mock.http.put("/__admin/scenario", json={"shape": "rotate"})
    shapes = [
        shape_of(mock.http.get("/voucher", params=QUERY, headers=KEY).json()) for _ in range(3)
    ]
    assert shapes == list(ALL_SHAPES[:3])


def test_an_armed_fault_hits_the_next_n_requests_only(serve: ServeFn) -> None:
    mock = serve("voucher-get")
    armed = mock.http.post(
        "/__admin/faults", json={"fault": {"type": "status", "status": 503}, "count": 2}
    )
    assert armed.json() == {"armed": [{"fault": "status 503", "remaining": 2}]}
    statuses = [mock.http.get("/voucher", params=QUERY, headers=KEY).status_code for _ in range(4)]
    assert statuses == [503, 503, 200, 200]
    assert mock.http.get("/__admin/faults").json() == {"armed": []}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"fault": {"type": "status"}}, "'status' is a required property"),
        ({"fault": {"type": "explode"}}, "fault/type: 'explode' is not one of"),
        ({"fault": {"type": "status", "status": 503}, "count": 0}, "count must be a whole number"),
        ({}, "missing 'fault'"),
    ],
)
def test_bad_faults_are_400_with_the_reason(
    serve: ServeFn, body: dict[str, Any], message: str
) -> None:
    mock = serve("voucher-get")
    response = mock.http.post("/__admin/faults", json=body)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_a_sequence_first_503_then_success(serve: ServeFn) -> None:
    mock = serve(
        {
            "name": "flaky",
            "path": "/voucher",
            "cases": [
                {
                    "name": "default",
                    "sequence": [
                        {"fault": {"type": "status", "status": 503}},
                        {"status": 202},
                        {},
                    ],
                    "response": {"success": True, "data": {"n": 1}},
                }
            ],
        }
    )
    statuses = [mock.http.get("/voucher").status_code for _ in range(5)]
    assert statuses == [503, 202, 200, 200, 200]
    assert mock.http.get("/__admin/scenario").json()["sequences"] == {"default": 5}
    mock.http.post("/__admin/reset")
    assert mock.http.get("/voucher").status_code == 503


def test_a_looping_sequence_starts_over(serve: ServeFn) -> None:
    mock = serve(
        {
            "name": "loop",
            "path": "/v",
            "cases": [
                {
                    "name": "default",
                    "then": "loop",
                    "sequence": [
                        {"response": {"success": False, "error_code": "BUSY", "data": None}},
                        {},
                    ],
                    "response": {"success": True, "data": {}},
                }
            ],
        }
    )
    codes = [mock.http.get("/v").json()["success"] for _ in range(4)]
    assert codes == [False, True, False, True]


def test_reset_restores_the_scenario_as_written(serve: ServeFn) -> None:
    mock = serve("voucher-get")
    mock.http.put("/__admin/scenario", json={"case": "not-found", "shape": "rotate"})
    mock.http.post("/__admin/faults", json={"fault": {"type": "reset"}, "count": 5})
    with pytest.raises(httpx.ReadError):
        mock.http.get("/voucher", params=QUERY, headers=KEY)
    assert mock.http.post("/__admin/reset").status_code == 204
    state = mock.http.get("/__admin/scenario").json()
    assert (state["case"], state["shape"], state["armed"]) == (None, None, [])
    assert mock.journal() == []
    assert mock.http.get("/voucher", params=QUERY, headers=KEY).status_code == 200


def test_the_admin_api_can_be_protected_by_its_own_token(serve: ServeFn) -> None:
    mock = serve(
        {
            "name": "guarded",
            "path": "/v",
            "admin": {"token": "adm-secret"},
            "cases": [{"name": "d", "response": {"success": True, "data": {}}}],
        }
    )
    assert mock.http.get("/__admin/health").status_code == 200
    for method, path in [
        ("GET", "/__admin/requests"),
        ("POST", "/__admin/reset"),
        ("PUT", "/__admin/scenario"),
        ("POST", "/__admin/faults"),
    ]:
        refused = mock.http.request(method, path, json={})
        assert refused.status_code == 401, path
        wrong = mock.http.request(method, path, json={}, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401, path
    ok = mock.http.get("/__admin/requests", headers={"Authorization": "Bearer adm-secret"})
    assert ok.status_code == 200
    assert "adm-secret" not in ok.text


def test_the_admin_namespace_is_not_the_partners(serve: ServeFn) -> None:
    mock = serve("voucher-get")
    response = mock.http.get("/__admin/unknown")
    assert response.status_code == 404
    assert response.json()["errorCode"] == "UNKNOWN_PATH"
