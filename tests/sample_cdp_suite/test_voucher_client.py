"""A CDP team's suite as it would be written: the installed plugin's fixtures and the public
client, no imports of postback-kit internals."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mockserver.client import AsyncPostbackClient, PostbackClient
from mockserver.models import Connection

PROFILE = {"phone": "0359677657", "email": "dee@bytetech.io", "campaignId": "Birthday2023"}


def test_the_voucher_arrives(mock_partner: Any) -> None:
    with PostbackClient(Connection.from_dict(mock_partner.connection())) as client:
        result = client.call(PROFILE)
    assert result.success
    assert result.data == {"code": "E094", "expired": False, "value": 10000}
    assert dict(mock_partner.journal()[0]["query"])["campaignId"] == "Birthday2023"


def test_an_unknown_customer_is_a_refusal_not_a_failure(mock_partner: Any) -> None:
    mock_partner.set_case("not-found")
    with PostbackClient(Connection.from_dict(mock_partner.connection())) as client:
        result = client.call(PROFILE)
    assert (result.success, result.error_code, result.failure) == (False, "NOT_FOUND", None)


def test_a_partner_outage_is_retried(mock_partner: Any) -> None:
    mock_partner.arm_fault({"type": "status", "status": 503}, count=1)
    connection = Connection.from_dict(
        mock_partner.connection(retry={"attempts": 2, "backoff_s": 0})
    )
    with PostbackClient(connection) as client:
        assert client.call(PROFILE).success


@pytest.mark.postback_scenario("voucher-oauth2")
def test_oauth_partners_work_too(mock_partner: Any) -> None:
    with PostbackClient(Connection.from_dict(mock_partner.connection())) as client:
        assert client.call(PROFILE).success
    assert [e["path"] for e in mock_partner.journal()] == ["/oauth/token", "/voucher"]


@pytest.mark.postback_scenario("all-variants")
def test_every_key_shape_normalizes(mock_partner: Any) -> None:
    with PostbackClient(Connection.from_dict(mock_partner.connection())) as client:
        results = [client.call(PROFILE) for _ in range(96)]
    assert all(
        r.success and r.data == {"code": "E094", "expired": False, "value": 10000} for r in results
    )


def test_in_process_without_a_socket(mock_partner_asgi: Any) -> None:
    async def scenario() -> bool:
        connection = Connection.from_dict(mock_partner_asgi.connection())
        async with mock_partner_asgi.async_client() as http:
            client = AsyncPostbackClient(connection, http=http)
            return (await client.call(PROFILE)).success

    assert asyncio.run(scenario())
