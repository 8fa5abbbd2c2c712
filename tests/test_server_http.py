"""The mock partner over real HTTP: uvicorn on a free port, httpx as the client."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.contract import ALL_SHAPES, loads_strict, normalize, shape_of, validate
from mockserver.models import Scenario, load_scenario
from mockserver.server import ServerThread, create_app
from tests.conftest import Running, ServeFn

KEY = {"token-key": "demo-key"}
SEED_QUERY = {"campaignId": "Birthday2023", "phone": "0359677657", "email": "dee@bytetech.io"}
SEED_BODY = {
    "success": True,
    "message": "Your request has done",
    "errorCode": 0,
    "data": {"code": "E094", "expired": False, "value": 10000},
}
PAYLOAD = {
    "phone": "0359677657",
    "email": "dee@bytetech.io",
    "param01": "00000001",
    "param02": "ANY-VALUE",
}


def _refusal(response: Any, status: int, code: str) -> dict[str, Any]:
    """Assert a contract-shaped refusal and return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert validate(body) == []
    result = normalize(body)
    assert (result.success, result.error_code, result.data) == (False, code, None)
    return body


@pytest.fixture
def voucher_get(serve: ServeFn) -> Running:
    return serve("voucher-get")


@pytest.fixture
def voucher_post(serve: ServeFn) -> Running:
    return serve("voucher-post")


class TestVoucherGet:
    def test_the_seed_request_gets_the_seed_body(self, voucher_get: Running) -> None:
        response = voucher_get.http.get("/voucher", params=SEED_QUERY, headers=KEY)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json() == SEED_BODY
        assert list(response.json()) == list(SEED_BODY)

    def test_an_empty_phone_and_email_are_legal(self, voucher_get: Running) -> None:
        response = voucher_get.http.get("/voucher?phone=&email=&campaignId=x", headers=KEY)
        assert response.json() == SEED_BODY

    @pytest.mark.parametrize(
        ("query", "status", "case", "code"),
        [
            ({"phone": "0000000000"}, 404, "not-found", "NOT_FOUND"),
            ({"phone": "0999999999"}, 200, "expired-voucher", "VOUCHER_EXPIRED"),
            ({"email": "dee+birthday@bytetech.io"}, 200, "plus-email", 0),
        ],
    )
    def test_cases_answer_the_requests_they_match(
        self, voucher_get: Running, query: dict[str, str], status: int, case: str, code: Any
    ) -> None:
        response = voucher_get.http.get("/voucher", params={**SEED_QUERY, **query}, headers=KEY)
        assert response.status_code == status
        assert normalize(response.json()).error_code == code
        assert voucher_get.journal()[-1]["case"] == case

    def test_no_api_key_is_unauthorized(self, voucher_get: Running) -> None:
        body = _refusal(voucher_get.http.get("/voucher", params=SEED_QUERY), 401, "Unauthorized")
        assert "token-key" in body["message"]

    @pytest.mark.parametrize("key", ["wrong", "demo-key x", "DEMO-KEY", "", "dèmo-kéy"])
    def test_a_wrong_api_key_is_unauthorized(self, voucher_get: Running, key: str) -> None:
        response = voucher_get.http.get(
            "/voucher",
            params=SEED_QUERY,
            headers=[(b"token-key", key.encode("utf-8"))],
        )
        _refusal(response, 401, "Unauthorized")

    def test_the_key_header_name_is_case_insensitive(self, voucher_get: Running) -> None:
        response = voucher_get.http.get(
            "/voucher", params=SEED_QUERY, headers={"Token-Key": "demo-key"}
        )
        assert response.status_code == 200

    @pytest.mark.parametrize("missing", ["phone", "email", "campaignId"])
    def test_a_missing_param_is_missing_value(self, voucher_get: Running, missing: str) -> None:
        query = {k: v for k, v in SEED_QUERY.items() if k != missing}
        body = _refusal(
            voucher_get.http.get("/voucher", params=query, headers=KEY), 400, "MISSING_VALUE"
        )
        assert missing in body["message"]

    def test_a_post_to_a_get_endpoint_is_method_not_allowed(self, voucher_get: Running) -> None:
        response = voucher_get.http.post("/voucher", params=SEED_QUERY, headers=KEY, json={})
        _refusal(response, 405, "METHOD_NOT_ALLOWED")
        assert response.headers["allow"] == "GET"

    def test_an_unknown_path_is_a_contract_shaped_404(self, voucher_get: Running) -> None:
        _refusal(voucher_get.http.get("/vouchers", headers=KEY), 404, "UNKNOWN_PATH")

    def test_the_journal_records_every_request_with_the_key_masked(
        self, voucher_get: Running
    ) -> None:
        voucher_get.http.get("/voucher", params=SEED_QUERY, headers=KEY)
        voucher_get.http.get("/voucher", params={"phone": "1"}, headers={"token-key": "nope"})
        first, second = voucher_get.journal()
        assert first["method"] == "GET"
        assert first["path"] == "/voucher"
        assert first["query"] == [[k, v] for k, v in SEED_QUERY.items()]
        assert ["token-key", "***"] in first["headers"]
        assert (first["case"], first["status"], first["shape"]) == (
            "default",
            200,
            "success,errorCode,message,data",
        )
        assert second["refusal"] == {
            "status": 401,
            "code": "Unauthorized",
            "message": "invalid API key",
        }
        assert second["case"] is None
        assert "demo-key" not in json.dumps(voucher_get.journal())

    def test_the_journal_is_cleared_by_delete(self, voucher_get: Running) -> None:
        voucher_get.http.get("/voucher", params=SEED_QUERY, headers=KEY)
        assert voucher_get.http.delete("/__admin/requests").status_code == 204
        assert voucher_get.journal() == []

    def test_health_reports_the_scenario(self, voucher_get: Running) -> None:
        health = voucher_get.http.get("/__admin/health").json()
        assert (health["status"], health["scenario"], health["path"]) == (
            "ok",
            "voucher-get",
            "/voucher",
        )


class TestVoucherPost:
    def test_the_seed_post_gets_a_voucher(self, voucher_post: Running) -> None:
        response = voucher_post.http.post("/voucher", params=SEED_QUERY, headers=KEY, json=PAYLOAD)
        assert response.status_code == 200
        assert response.json() == {
            "isSuccess": True,
            "message": "Your request has done",
            "errorCode": 0,
            "body": {"code": "E094", "expired": False, "value": 10000},
        }
        entry = voucher_post.journal()[-1]
        assert json.loads(entry["body"]) == PAYLOAD

    def test_the_profile_is_matched_from_the_payload(self, voucher_post: Running) -> None:
        payload = {**PAYLOAD, "phone": "0000000000"}
        response = voucher_post.http.post("/voucher", params=SEED_QUERY, headers=KEY, json=payload)
        _refusal(response, 404, "NOT_FOUND")

    def test_an_empty_payload_field_matches_its_case(self, voucher_post: Running) -> None:
        payload = {**PAYLOAD, "param01": ""}
        response = voucher_post.http.post("/voucher", params=SEED_QUERY, headers=KEY, json=payload)
        _refusal(response, 422, "MISSING_VALUE")
        assert voucher_post.journal()[-1]["case"] == "missing-value"

    @pytest.mark.parametrize("missing", ["phone", "email", "param01", "param02"])
    def test_a_missing_payload_field_is_missing_value(
        self, voucher_post: Running, missing: str
    ) -> None:
        payload = {k: v for k, v in PAYLOAD.items() if k != missing}
        response = voucher_post.http.post("/voucher", params=SEED_QUERY, headers=KEY, json=payload)
        assert missing in _refusal(response, 400, "MISSING_VALUE")["message"]

    @pytest.mark.parametrize(
        "content",
        [b"", b"{", b"not json", b'{"phone": NaN}', b'{"a": 1, "a": 2}', b"[1]", b"\xff"],
    )
    def test_a_malformed_body_is_invalid_body(self, voucher_post: Running, content: bytes) -> None:
        response = voucher_post.http.post(
            "/voucher",
            params=SEED_QUERY,
            content=content,
            headers={**KEY, "content-type": "application/json"},
        )
        _refusal(response, 400, "INVALID_BODY")

    @pytest.mark.parametrize(
        "content_type", [None, "text/plain", "application/x-www-form-urlencoded"]
    )
    def test_a_wrong_content_type_is_unsupported(
        self, voucher_post: Running, content_type: str | None
    ) -> None:
        headers = dict(KEY)
        if content_type:
            headers["content-type"] = content_type
        response = voucher_post.http.post(
            "/voucher", params=SEED_QUERY, content=json.dumps(PAYLOAD).encode(), headers=headers
        )
        _refusal(response, 415, "UNSUPPORTED_MEDIA_TYPE")

    def test_json_with_a_charset_is_accepted(self, voucher_post: Running) -> None:
        response = voucher_post.http.post(
            "/voucher",
            params=SEED_QUERY,
            content=json.dumps(PAYLOAD).encode(),
            headers={**KEY, "content-type": "application/json; charset=utf-8"},
        )
        assert response.status_code == 200

    def test_a_body_over_the_limit_is_refused_and_the_server_keeps_serving(
        self, voucher_post: Running
    ) -> None:
        big = {**PAYLOAD, "pad": "x" * (2 * 1024 * 1024)}
        response = voucher_post.http.post("/voucher", params=SEED_QUERY, headers=KEY, json=big)
        _refusal(response, 413, "PAYLOAD_TOO_LARGE")
        ok = voucher_post.http.post("/voucher", params=SEED_QUERY, headers=KEY, json=PAYLOAD)
        assert ok.status_code == 200

    def test_a_get_to_a_post_endpoint_is_method_not_allowed(self, voucher_post: Running) -> None:
        _refusal(
            voucher_post.http.get("/voucher", params=SEED_QUERY, headers=KEY),
            405,
            "METHOD_NOT_ALLOWED",
        )


def test_rotate_mode_emits_all_96_shapes_in_order(serve: ServeFn) -> None:
    mock = serve("all-variants")
    seen = []
    for _ in range(96):
        body = mock.http.get("/voucher", params={"phone": "1", "email": ""}).json()
        assert validate(body) == []
        assert normalize(body).data == {"code": "E094", "expired": False, "value": 10000}
        seen.append(shape_of(body).name)  # type: ignore[union-attr]
    assert seen == [s.name for s in ALL_SHAPES]
    assert [e["shape"] for e in mock.journal()] == seen
    again = mock.http.get("/voucher", params={"phone": "1"}).json()
    assert shape_of(again) == ALL_SHAPES[0]


def _scenario(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "t",
        "path": "/data",
        "methods": ["GET", "POST"],
        "cases": [{"name": "default", "response": {"success": True, "data": {"ok": 1}}}],
    }
    return {**base, **overrides}


@pytest.mark.parametrize("shape", [ALL_SHAPES[0], ALL_SHAPES[47], ALL_SHAPES[95]], ids=str)
def test_any_shape_is_selectable_per_scenario_and_per_case(serve: ServeFn, shape: Any) -> None:
    mock = serve(
        _scenario(
            shape=shape.name,
            cases=[
                {
                    "name": "seed",
                    "when": {"phone": "1"},
                    "shape": "success,errorCode,message,data",
                    "response": {"success": True, "error_code": 0, "data": {}},
                },
                {
                    "name": "default",
                    "response": {"success": True, "error_code": 0, "message": "m", "data": {}},
                },
            ],
        )
    )
    assert shape_of(mock.http.get("/data").json()) == shape
    assert list(mock.http.get("/data?phone=1").json()) == [
        "success",
        "message",
        "errorCode",
        "data",
    ]


def test_refusals_carry_an_error_code_even_in_a_shape_without_one(serve: ServeFn) -> None:
    mock = serve(
        _scenario(shape="isSuccess,body", auth={"type": "api_key", "header": "X-Key", "value": "k"})
    )
    body = mock.http.get("/data").json()
    assert body == {"isSuccess": False, "errorCode": "Unauthorized", "body": None}


def test_required_headers_are_checked(serve: ServeFn) -> None:
    mock = serve(_scenario(require={"headers": {"header-01": "Value 01", "header-02": None}}))
    both = {"header-01": "Value 01", "header-02": "anything"}
    assert mock.http.get("/data", headers=both).status_code == 200
    _refusal(mock.http.get("/data", headers={"header-02": "x"}), 400, "MISSING_HEADER")
    _refusal(
        mock.http.get("/data", headers={**both, "header-01": "Value 02"}), 400, "INVALID_HEADER"
    )


@pytest.mark.parametrize(
    ("when", "hit", "miss"),
    [
        ({"phone": {"regex": "^09"}}, "phone=0912", "phone=0812"),
        ({"phone": {"in": ["1", "2"]}}, "phone=2", "phone=3"),
        ({"email": {"empty": True}}, "email=", "email=a"),
        ({"email": {"missing": True}}, "phone=1", "email="),
        ({"email": {"present": True}}, "email=", "phone=1"),
        ({"email": {"contains": "+"}}, "email=a%2Bb%40x.io", "email=a+b%40x.io"),
        ({"param.batchId": "B1"}, "batchId=B1", "batchId=B2"),
        ({"header.X-Tier": "gold"}, "tier=gold", "tier=silver"),
        ({"phone": "1", "email": "e"}, "phone=1&email=e", "phone=1&email=f"),
    ],
)
def test_case_conditions(serve: ServeFn, when: dict[str, Any], hit: str, miss: str) -> None:
    mock = serve(
        _scenario(
            cases=[
                {"name": "hit", "when": when, "response": {"success": True, "data": {"hit": True}}},
                {"name": "default", "response": {"success": True, "data": {"hit": False}}},
            ]
        )
    )

    def ask(query: str) -> bool:
        headers = {"X-Tier": query.split("=")[1]} if query.startswith("tier=") else {}
        result: bool = mock.http.get(f"/data?{query}", headers=headers).json()["data"]["hit"]
        return result

    assert ask(hit) is True
    assert ask(miss) is False


def test_payload_conditions_compare_json_values_as_text(serve: ServeFn) -> None:
    mock = serve(
        _scenario(
            cases=[
                {
                    "name": "vip",
                    "when": {"payload.tier": 3, "payload.active": True},
                    "response": {"success": True, "data": {"vip": True}},
                },
                {"name": "default", "response": {"success": True, "data": {"vip": False}}},
            ]
        )
    )
    assert mock.http.post("/data", json={"tier": 3, "active": True}).json()["data"] == {"vip": True}
    assert mock.http.post("/data", json={"tier": "3", "active": "true"}).json()["data"] == {
        "vip": True
    }
    assert mock.http.post("/data", json={"tier": 4, "active": True}).json()["data"] == {
        "vip": False
    }


def test_no_matching_case_is_a_contract_shaped_404(serve: ServeFn) -> None:
    mock = serve(
        _scenario(
            cases=[
                {"name": "only", "when": {"phone": "1"}, "response": {"success": True, "data": {}}},
            ]
        )
    )
    _refusal(mock.http.get("/data?phone=2"), 404, "NO_MATCHING_CASE")


def test_a_literal_body_is_sent_as_it_is(serve: ServeFn) -> None:
    mock = serve(
        _scenario(
            cases=[
                {
                    "name": "raw",
                    "status": 200,
                    "headers": {"x-trace": "t1"},
                    "body": {"success": True, "statusCode": 200, "result": {"points": 7}},
                },
            ]
        )
    )
    response = mock.http.get("/data")
    assert response.json() == {"success": True, "statusCode": 200, "result": {"points": 7}}
    assert response.headers["x-trace"] == "t1"


def test_the_journal_is_a_bounded_ring(serve: ServeFn) -> None:
    mock = serve(_scenario(journal_size=5))
    for i in range(12):
        mock.http.get(f"/data?i={i}")
    snapshot = mock.http.get("/__admin/requests").json()
    assert (snapshot["total"], snapshot["kept"], snapshot["size"]) == (12, 5, 5)
    assert [e["query"][0][1] for e in snapshot["requests"]] == ["7", "8", "9", "10", "11"]


def test_the_api_key_comes_from_the_environment() -> None:
    scenario = load_scenario("voucher-get", environ={"PARTNER_API_KEY": "from-env"})
    with ServerThread(create_app(scenario)) as server:
        import httpx

        ok = httpx.get(
            f"{server.url}/voucher", params=SEED_QUERY, headers={"token-key": "from-env"}
        )
        old = httpx.get(f"{server.url}/voucher", params=SEED_QUERY, headers=KEY)
    assert (ok.status_code, old.status_code) == (200, 401)


# h11 (the client side) refuses header values with surrounding whitespace.
_header_values = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30)


@settings(max_examples=60)
@given(
    query=st.lists(
        st.tuples(st.sampled_from(["phone", "email", "campaignId", "x"]), st.text(max_size=20)),
        max_size=5,
    ),
    key=st.none() | st.just("demo-key") | _header_values,
    content_type=st.sampled_from(
        [None, "application/json", "text/plain", "application/json; charset=utf-8"]
    ),
    body=st.binary(max_size=50)
    | st.builds(
        lambda d: json.dumps(d).encode(),
        st.dictionaries(
            st.sampled_from(["phone", "email", "param01", "param02"]), st.text(max_size=5)
        ),
    ),
)
def test_no_request_gets_a_500_or_a_body_outside_the_contract(
    post_server: Running,
    query: list[tuple[str, str | int | float | bool | None]],
    key: str | None,
    content_type: str | None,
    body: bytes,
) -> None:
    headers = {}
    if key is not None:
        headers["token-key"] = key
    if content_type is not None:
        headers["content-type"] = content_type
    response = post_server.http.post("/voucher", params=query, headers=headers, content=body)
    assert response.status_code < 500
    assert validate(loads_strict(response.content)) == []


@pytest.fixture(scope="module")
def post_server() -> Any:
    scenario: Scenario = load_scenario("voucher-post")
    server = ServerThread(create_app(scenario)).start()
    running = Running(server, scenario)
    yield running
    running.close()
