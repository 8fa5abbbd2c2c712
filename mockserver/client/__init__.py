"""The reference CDP client (SPEC 1.1, 1.3): build the call, authenticate, judge the answer.

from mockserver.client import PostbackClient
from mockserver.models import load_connection

with PostbackClient(load_connection("voucher.yaml")) as client:
    result = client.call({"phone": "0359677657", "email": "dee@bytetech.io"})
    print(result.to_dict())
"""

from mockserver.client._auth import AuthFailure, Credentials, RawResponse, TokenCredentials
from mockserver.client._client import AsyncPostbackClient, CallRecord, Exchange, PostbackClient
from mockserver.client._curl import to_curl
from mockserver.client._request import (
    USER_AGENT,
    PreparedRequest,
    build_request,
    encode_query,
    render,
)

__all__ = [
    "USER_AGENT",
    "AsyncPostbackClient",
    "AuthFailure",
    "CallRecord",
    "Credentials",
    "Exchange",
    "PostbackClient",
    "PreparedRequest",
    "RawResponse",
    "TokenCredentials",
    "build_request",
    "encode_query",
    "render",
    "to_curl",
]
