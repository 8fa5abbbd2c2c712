"""Token API and OAuth 2.0 client credentials on the mock partner, over real HTTP."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import httpx
import pytest
import yaml

from mockserver.contract import normalize, validate
from tests.conftest import SCENARIOS, Running, ServeFn, serve_workers

QUERY = {"campaignId": "Birthday2023", "phone": "0359677657", "email": "dee@bytetech.io"}
CREDENTIALS = {"username": "cdp", "apiKey": "demo-key"}


def _scenario(name: str, **auth: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((SCENARIOS / f"{name}.yaml").read_text())
    data["auth"].update(auth)
    return data


def _refused(response: httpx.Response, code: str) -> None:
    assert response.status_code == 401, response.text
    assert validate(response.json()) == []
    result = normalize(response.json())
    assert (result.success, result.error_code, result.data) == (False, code, None)


class TestTokenApi:
    def _token(self, mock: Running) -> str:
        response = mock.http.post("/auth/token", json=CREDENTIALS)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"success", "statusCode", "data"}
        assert (body["success"], body["statusCode"]) == (True, 200)
        token: str = body["data"]["accessToken"]
        return token

    def test_a_token_opens_the_data_endpoint(self, serve: ServeFn) -> None:
        mock = serve("voucher-token-api")
        token = self._token(mock)
        response = mock.http.get(
            "/voucher", params=QUERY, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200
        assert response.json()["data"]["code"] == "E094"
        assert (
            mock.http.post("/auth/token", json=CREDENTIALS).json()["data"]["expiredAfter"] == 1800
        )

    def test_every_call_returns_a_fresh_token_and_old_ones_stay_valid(self, serve: ServeFn) -> None:
        mock = serve("voucher-token-api")
        tokens = [self._token(mock) for _ in range(5)]
        assert len(set(tokens)) == 5
        for token in tokens:
            ok = mock.http.get(
                "/voucher", params=QUERY, headers={"Authorization": f"Bearer {token}"}
            )
            assert ok.status_code == 200

    def test_the_full_flow_with_expiry(self, serve: ServeFn) -> None:
        mock = serve(_scenario("voucher-token-api", lifetime_s=0.5))
        token = self._token(mock)
        auth = {"Authorization": f"Bearer {token}"}
        assert mock.http.get("/voucher", params=QUERY, headers=auth).status_code == 200
        time.sleep(0.6)
        expired = mock.http.get("/voucher", params=QUERY, headers=auth)
        _refused(expired, "TokenExpired")
        assert 'error="invalid_token"' in expired.headers["www-authenticate"]
        fresh = {"Authorization": f"Bearer {self._token(mock)}"}
        assert mock.http.get("/voucher", params=QUERY, headers=fresh).status_code == 200
        token_calls = [e for e in mock.journal() if e["path"] == "/auth/token"]
        assert [e["status"] for e in token_calls] == [200, 200]

    @pytest.mark.parametrize(
        "header",
        [None, "", "Bearer", "Bearer\t-", "Basic abc", "Bearer garbage", "Bearer a.b", "token"],
    )
    def test_missing_or_garbage_tokens_are_unauthorized(
        self, serve: ServeFn, header: str | None
    ) -> None:
        mock = serve("voucher-token-api")
        headers = {} if header is None else {"Authorization": header}
        _refused(mock.http.get("/voucher", params=QUERY, headers=headers), "Unauthorized")

    def test_a_tampered_token_is_unauthorized(self, serve: ServeFn) -> None:
        mock = serve("voucher-token-api")
        payload, signature = self._token(mock).split(".")
        forged = (
            base64.urlsafe_b64encode(
                base64.urlsafe_b64decode(payload + "==").replace(b"token_api|", b"token_api|9")
            )
            .rstrip(b"=")
            .decode()
        )
        for bad in (
            f"{forged}.{signature}",
            f"{payload}.{signature[:-2]}AA",
            f"{payload}x.{signature}",
        ):
            _refused(
                mock.http.get("/voucher", params=QUERY, headers={"Authorization": f"Bearer {bad}"}),
                "Unauthorized",
            )

    def test_a_token_from_another_server_is_unauthorized(self, serve: ServeFn) -> None:
        first, second = serve("voucher-token-api"), serve("voucher-token-api")
        token = self._token(first)
        _refused(
            second.http.get("/voucher", params=QUERY, headers={"Authorization": f"Bearer {token}"}),
            "Unauthorized",
        )

    def test_single_use_tokens_work_once(self, serve: ServeFn) -> None:
        mock = serve(_scenario("voucher-token-api", single_use=True))
        auth = {"Authorization": f"Bearer {self._token(mock)}"}
        assert mock.http.get("/voucher", params=QUERY, headers=auth).status_code == 200
        _refused(mock.http.get("/voucher", params=QUERY, headers=auth), "Unauthorized")

    @pytest.mark.parametrize(
        ("body", "status", "code"),
        [
            ({"username": "cdp", "apiKey": "wrong"}, 401, "Unauthorized"),
            ({"username": "cdp"}, 401, "Unauthorized"),
            ({"username": "cdp", "apiKey": 7}, 401, "Unauthorized"),
            (b"{not json", 400, "INVALID_BODY"),
            (b"[]", 400, "INVALID_BODY"),
            (b"x" * (1024 * 1024), 413, "PAYLOAD_TOO_LARGE"),
        ],
    )
    def test_bad_token_requests_get_contract_shaped_refusals(
        self, serve: ServeFn, body: Any, status: int, code: str
    ) -> None:
        mock = serve("voucher-token-api")
        if isinstance(body, bytes):
            response = mock.http.post(
                "/auth/token", content=body, headers={"content-type": "application/json"}
            )
        else:
            response = mock.http.post("/auth/token", json=body)
        assert response.status_code == status
        assert response.json()["errorCode"] == code
        assert response.json()["success"] is False
        assert "demo-key" not in str(mock.journal())

    def test_the_token_request_must_be_json_and_post(self, serve: ServeFn) -> None:
        mock = serve("voucher-token-api")
        form = mock.http.post("/auth/token", data=CREDENTIALS)
        assert (form.status_code, form.json()["errorCode"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
        get = mock.http.get("/auth/token")
        assert (get.status_code, get.headers["allow"]) == (405, "POST")

    def test_credentials_come_from_the_environment(
        self, serve: ServeFn, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("PARTNER_API_KEY", "env-key")
        mock = serve("voucher-token-api")
        assert mock.http.post("/auth/token", json=CREDENTIALS).status_code == 401
        assert (
            mock.http.post("/auth/token", json={**CREDENTIALS, "apiKey": "env-key"}).status_code
            == 200
        )


def _basic(client_id: str, secret: str) -> str:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


FORM = {"content-type": "application/x-www-form-urlencoded"}


class TestOAuth2:
    def test_basic_and_body_client_auth_both_get_a_bearer_token(self, serve: ServeFn) -> None:
        mock = serve("voucher-oauth2")
        by_basic = mock.http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": _basic("demo-client", "demo-secret")},
        )
        by_body = mock.http.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "demo-client",
                "client_secret": "demo-secret",
                "scope": "vouchers",
            },
        )
        for response in (by_basic, by_body):
            assert response.status_code == 200, response.text
            assert response.headers["cache-control"] == "no-store"
            body = response.json()
            assert (body["token_type"], body["expires_in"]) == ("Bearer", 3600)
            data = mock.http.get(
                "/voucher",
                params=QUERY,
                headers={"Authorization": f"Bearer {body['access_token']}"},
            )
            assert data.status_code == 200
        assert by_body.json()["scope"] == "vouchers"
        assert "scope" not in by_basic.json()

    def test_the_bearer_scheme_is_case_insensitive(self, serve: ServeFn) -> None:
        mock = serve("voucher-oauth2")
        token = mock.http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": _basic("demo-client", "demo-secret")},
        ).json()["access_token"]
        assert (
            mock.http.get(
                "/voucher", params=QUERY, headers={"Authorization": f"bearer {token}"}
            ).status_code
            == 200
        )

    @pytest.mark.parametrize(
        ("data", "headers", "status", "error", "challenge"),
        [
            (
                {},
                {"Authorization": _basic("demo-client", "demo-secret")},
                400,
                "invalid_request",
                False,
            ),
            (
                {"grant_type": "password"},
                {"Authorization": _basic("demo-client", "demo-secret")},
                400,
                "unsupported_grant_type",
                False,
            ),
            (
                {"grant_type": "client_credentials"},
                {"Authorization": _basic("demo-client", "nope")},
                401,
                "invalid_client",
                True,
            ),
            (
                {"grant_type": "client_credentials"},
                {"Authorization": _basic("other", "demo-secret")},
                401,
                "invalid_client",
                True,
            ),
            (
                {"grant_type": "client_credentials"},
                {"Authorization": "Basic %%%garbage"},
                401,
                "invalid_client",
                True,
            ),
            (
                {"grant_type": "client_credentials"},
                {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
                401,
                "invalid_client",
                True,
            ),
            (
                {
                    "grant_type": "client_credentials",
                    "client_id": "demo-client",
                    "client_secret": "x",
                },
                {},
                401,
                "invalid_client",
                False,
            ),
            ({"grant_type": "client_credentials"}, {}, 401, "invalid_client", True),
            (
                {"grant_type": "client_credentials", "scope": "admin"},
                {"Authorization": _basic("demo-client", "demo-secret")},
                400,
                "invalid_scope",
                False,
            ),
            (
                {
                    "grant_type": "client_credentials",
                    "client_id": "demo-client",
                    "client_secret": "demo-secret",
                },
                {"Authorization": _basic("demo-client", "demo-secret")},
                400,
                "invalid_request",
                False,
            ),
        ],
    )
    def test_each_rfc_error_is_reachable(
        self,
        serve: ServeFn,
        data: dict[str, str],
        headers: dict[str, str],
        status: int,
        error: str,
        challenge: bool,
    ) -> None:
        mock = serve("voucher-oauth2")
        response = mock.http.post("/oauth/token", data=data, headers=headers)
        assert response.status_code == status, response.text
        assert response.json()["error"] == error
        assert response.json()["error_description"]
        assert response.headers["cache-control"] == "no-store"
        assert ("www-authenticate" in response.headers) is challenge
        if challenge:
            assert response.headers["www-authenticate"].startswith("Basic ")

    @pytest.mark.parametrize(
        ("content", "headers"),
        [
            (b'{"grant_type": "client_credentials"}', {"content-type": "application/json"}),
            (b"grant_type=client_credentials", {}),
            (b"grant_type=client_credentials&grant_type=client_credentials", FORM),
            (b"grant_type=client_credentials&" + b"x" * (1024 * 1024), FORM),
            (b"\xff\xfe=\x00", FORM),
        ],
    )
    def test_bad_token_requests_get_invalid_request_never_a_500(
        self, serve: ServeFn, content: bytes, headers: dict[str, str]
    ) -> None:
        mock = serve("voucher-oauth2")
        auth = {"Authorization": _basic("demo-client", "demo-secret")}
        response = mock.http.post("/oauth/token", content=content, headers={**headers, **auth})
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_request"

    def test_the_secret_in_the_query_string_is_refused(self, serve: ServeFn) -> None:
        mock = serve("voucher-oauth2")
        response = mock.http.post(
            "/oauth/token?client_secret=demo-secret",
            data={"grant_type": "client_credentials", "client_id": "demo-client"},
        )
        assert response.json()["error"] == "invalid_request"
        assert "demo-secret" not in str(mock.journal())

    def test_get_on_the_token_endpoint_is_refused(self, serve: ServeFn) -> None:
        mock = serve("voucher-oauth2")
        response = mock.http.get("/oauth/token")
        assert (response.status_code, response.json()["error"]) == (405, "invalid_request")

    def test_basic_credentials_are_form_decoded(self, serve: ServeFn) -> None:
        mock = serve(
            _scenario("voucher-oauth2", client_id="id with space", client_secret="s:e+c/r%t")
        )
        response = mock.http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": _basic("id with space", "s:e+c/r%t")},
        )
        assert response.status_code == 200, response.text

    def test_only_the_allowed_client_auth_methods_work(self, serve: ServeFn) -> None:
        mock = serve(_scenario("voucher-oauth2", client_auth=["basic"]))
        body = mock.http.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "demo-client",
                "client_secret": "demo-secret",
            },
        )
        assert (body.status_code, body.json()["error"]) == (401, "invalid_client")

    def test_the_data_endpoint_challenges_per_rfc_6750(self, serve: ServeFn) -> None:
        mock = serve(_scenario("voucher-oauth2", lifetime_s=0.3))
        missing = mock.http.get("/voucher", params=QUERY)
        _refused(missing, "Unauthorized")
        assert missing.headers["www-authenticate"] == 'Bearer realm="postback-kit"'
        garbage = mock.http.get("/voucher", params=QUERY, headers={"Authorization": "Bearer nope"})
        _refused(garbage, "Unauthorized")
        assert 'error="invalid_token"' in garbage.headers["www-authenticate"]
        token = mock.http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": _basic("demo-client", "demo-secret")},
        ).json()["access_token"]
        time.sleep(0.4)
        expired = mock.http.get(
            "/voucher", params=QUERY, headers={"Authorization": f"Bearer {token}"}
        )
        _refused(expired, "TokenExpired")
        assert 'error="invalid_token"' in expired.headers["www-authenticate"]
        journal = str(mock.journal())
        assert "demo-secret" not in journal
        assert token not in journal


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[str]:
    with serve_workers("voucher-token-api", 2, tmp_path) as url:
        yield url


def test_with_two_workers_a_token_is_accepted_whichever_worker_serves(two_workers: str) -> None:
    token = httpx.post(f"{two_workers}/auth/token", json=CREDENTIALS).json()["data"]["accessToken"]
    auth = {"Authorization": f"Bearer {token}"}
    # "Connection: close" makes every request a new connection, which the kernel hands to
    # whichever worker accepts first; concurrent calls keep both workers accepting.
    with httpx.Client(base_url=two_workers, headers={"Connection": "close"}) as http:

        def call(_: int) -> tuple[int, int]:
            data = http.get("/voucher", params=QUERY, headers=auth)
            pid: int = http.get("/__admin/health").json()["pid"]
            return data.status_code, pid

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(call, range(200)))
    assert {status for status, _ in results} == {200}
    assert len({pid for _, pid in results}) == 2, "both workers served requests"


def test_instances_sharing_a_token_secret_accept_each_others_tokens(tmp_path: Path) -> None:
    """What the README's load-balancer recipe relies on."""
    with (
        serve_workers("voucher-token-api", 1, tmp_path, token_secret="shared") as one,
        serve_workers("voucher-token-api", 1, tmp_path, token_secret="shared") as two,
        serve_workers("voucher-token-api", 1, tmp_path, token_secret="other") as three,
    ):
        token = httpx.post(f"{one}/auth/token", json=CREDENTIALS).json()["data"]["accessToken"]
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{two}/voucher", params=QUERY, headers=auth).status_code == 200
        assert httpx.get(f"{three}/voucher", params=QUERY, headers=auth).status_code == 401
