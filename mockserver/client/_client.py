"""The reference CDP client: one data call for one profile, judged by the contract's oracle.

Everything a partner can do wrong ends in a :class:`~mockserver.contract.NormalizedResult`
with a ``failure`` and a ``detail``, never an exception. Each HTTP exchange has an overall
deadline of the connection's ``timeout_s`` (a partner dribbling one byte at a time cannot
defeat it), reads at most ``max_response_bytes`` of decoded body, follows redirects only
within the endpoint's origin, and never lets a credential reach another origin.
"""

from __future__ import annotations

import asyncio
import functools
import random
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, TypeVar
from urllib.parse import urljoin, urlsplit

import httpx

from mockserver.client._auth import AuthFailure, Credentials, RawResponse, credentials_for
from mockserver.client._decode import BodyTooLarge, CappedDecoder, UnsupportedEncoding
from mockserver.client._pool import ShardedPool
from mockserver.client._request import PreparedRequest, build_request
from mockserver.client._retry import backoff_s, should_retry
from mockserver.contract import Failure, NormalizedResult, failure_result, interpret_response
from mockserver.models import Connection, Redactor

__all__ = ["AsyncPostbackClient", "CallRecord", "Exchange", "PostbackClient"]

MAX_REDIRECTS: Final = 5
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})

T = TypeVar("T")


class _Failed(Exception):
    """An exchange produced no usable answer."""

    def __init__(self, failure: Failure, detail: str) -> None:
        self.failure = failure
        self.detail = detail
        super().__init__(detail)


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One data call in full, for tools that judge more than the result (certify): the request
    without its credential, the credential header sent (None: none), the raw answer (None:
    there was none), the result and the time it took."""

    request: PreparedRequest
    header: tuple[str, str] | None
    response: RawResponse | None
    result: NormalizedResult
    elapsed_s: float


@dataclass(frozen=True, slots=True)
class Exchange:
    """One HTTP exchange as the client saw it, credentials already masked (for ``--verbose``
    and logs). ``status`` is None when no answer came."""

    method: str
    url: str
    request_headers: tuple[tuple[str, str], ...]
    request_body: bytes | None
    status: int | None
    response_headers: tuple[tuple[str, str], ...]
    response_body: bytes
    error: str | None = None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def _describe(exc: httpx.HTTPError) -> tuple[Failure, str]:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return "transport", f"timed out ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        return "transport", f"cannot connect: {text}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "transport", f"the partner broke the exchange: {text}"
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return "transport", f"the connection failed: {text}"
    if isinstance(exc, httpx.DecodingError):
        return "invalid_body", f"the body could not be decoded: {text}"
    return "transport", text


class AsyncPostbackClient:
    """The CDP side of the postback, async. Use one per connection, as a context manager or
    with :meth:`aclose`; calls may run concurrently and share the pooled connections and the
    cached token.

    ``trace`` receives every HTTP exchange (masked); ``http`` lets a caller supply its own
    ``httpx.AsyncClient`` (its redirect and timeout settings are not used)."""

    def __init__(
        self,
        connection: Connection,
        *,
        http: httpx.AsyncClient | None = None,
        trace: Callable[[Exchange], None] | None = None,
        rng: random.Random | None = None,
        throttle: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.connection = connection
        self._http = http
        self._pool = ShardedPool(timeout=connection.timeout_s) if http is None else None
        self._trace = trace
        self._throttle = throttle
        self._rng = rng or random.Random()
        self.redactor = Redactor(
            connection.secret_headers(), (s.reveal() for s in connection.secrets())
        )
        # Token exchanges are traced after the token is learnt, so the trace can mask it.
        self._deferred: list[Callable[[], None]] = []
        self.credentials: Credentials = credentials_for(
            connection, self._fetch_token, self.redactor
        )

    def __repr__(self) -> str:
        return (
            f"AsyncPostbackClient({self.connection.endpoint!r}, auth={self.connection.auth.type})"
        )

    async def __aenter__(self) -> AsyncPostbackClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()

    # -- one exchange ------------------------------------------------------------------

    def _emit(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        content: bytes | None,
        response: RawResponse | None,
        error: str | None,
    ) -> None:
        if self._trace is None:
            return
        mask = self.redactor
        self._trace(
            Exchange(
                method=method,
                url=mask.text(url),
                request_headers=tuple((k, mask.header(k, v)) for k, v in headers),
                request_body=None
                if content is None
                else mask.text(content.decode("utf-8", "replace")).encode(),
                status=None if response is None else response.status,
                response_headers=()
                if response is None
                else tuple((k, mask.header(k, v)) for k, v in response.headers.items()),
                response_body=b""
                if response is None
                else mask.text(response.body.decode("utf-8", "replace")).encode(),
                error=error,
            )
        )

    async def _read(
        self, method: str, url: str, headers: list[tuple[str, str]], content: bytes | None
    ) -> RawResponse:
        if self._http is not None:
            return await self._read_with(self._http, method, url, headers, content)
        assert self._pool is not None
        shard = self._pool.acquire()
        try:
            return await self._read_with(shard.client, method, url, headers, content)
        finally:
            self._pool.release(shard)

    async def _read_with(
        self,
        http: httpx.AsyncClient,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        content: bytes | None,
    ) -> RawResponse:
        cap = self.connection.max_response_bytes
        request = http.build_request(method, url, headers=headers, content=content)
        response = await http.send(request, stream=True, follow_redirects=False)
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > cap:
                raise _Failed(
                    "invalid_body",
                    f"the response declares {declared} bytes, over the {cap}-byte limit",
                )
            try:
                decoder = CappedDecoder(response.headers.get("content-encoding"), cap)
                async for chunk in response.aiter_raw():
                    decoder.feed(chunk)
                body = decoder.finish()
            except BodyTooLarge:
                raise _Failed(
                    "invalid_body", f"the response is over the {cap}-byte limit (decoded)"
                ) from None
            except (UnsupportedEncoding, ValueError) as exc:
                raise _Failed("invalid_body", f"the body could not be decoded: {exc}") from None
        finally:
            await response.aclose()
        return RawResponse(response.status_code, dict(response.headers), body)

    async def _fetch_token(
        self, method: str, url: str, headers: list[tuple[str, str]], content: bytes | None
    ) -> RawResponse:
        return await self._fetch(method, url, headers, content, defer_trace=True)

    def _flush_traces(self) -> None:
        pending, self._deferred = self._deferred, []
        for emit in pending:
            emit()

    async def _fetch(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        content: bytes | None,
        *,
        defer_trace: bool = False,
    ) -> RawResponse:
        """One exchange under the overall deadline; raises :class:`_Failed`."""
        if self._throttle is not None:
            await self._throttle()
        timeout = self.connection.timeout_s
        error: str | None = None
        response: RawResponse | None = None
        try:
            async with asyncio.timeout(timeout):
                response = await self._read(method, url, headers, content)
            return response
        except TimeoutError:
            error = f"no complete answer within {timeout:g}s"
            raise _Failed("transport", error) from None
        except httpx.HTTPError as exc:
            failure, error = _describe(exc)
            raise _Failed(failure, self.redactor.text(error)) from None
        except _Failed as exc:
            error = exc.detail
            raise
        finally:
            if self._trace is not None:
                emit = functools.partial(self._emit, method, url, headers, content, response, error)
                if defer_trace:
                    self._deferred.append(emit)
                else:
                    emit()

    async def _send(self, request: PreparedRequest, header: tuple[str, str] | None) -> RawResponse:
        """The data call, following redirects within the endpoint's origin only."""
        method, url, content = request.method, request.url, request.content
        headers = list(request.headers)
        if header is not None:
            headers.append(header)
        origin = _origin(url)
        for _ in range(MAX_REDIRECTS + 1):
            response = await self._fetch(method, url, headers, content)
            location = response.headers.get("location")
            if response.status not in _REDIRECTS or not location:
                return response
            target = urljoin(url, location)
            if _origin(target) != origin:
                return response  # never followed: the credential must not travel there
            if response.status in {301, 302, 303} and method != "GET":
                method, content = "GET", None
                headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
            url = target
        return response

    # -- one call ----------------------------------------------------------------------

    def _judge(self, request: PreparedRequest, response: RawResponse) -> NormalizedResult:
        result = interpret_response(response.status, response.headers, response.body)
        if response.status in _REDIRECTS and result.failure is not None:
            target = response.headers.get("location", "")
            detail = f"HTTP {response.status} redirect to {self.redactor.text(target)} not followed"
            if _origin(urljoin(request.url, target)) != _origin(request.url):
                detail += " (another origin: credentials are never sent there)"
            result = failure_result(result.failure, detail)
        return result

    async def _attempt(self, request: PreparedRequest) -> CallRecord:
        started = time.perf_counter()
        credentials = self.credentials
        header: tuple[str, str] | None = None
        try:
            try:
                header = await credentials.header()
            finally:
                self._flush_traces()
            response = await self._send(request, header)
            if response.status == 401 and credentials.refreshable and header is not None:
                try:
                    header = await credentials.header(stale=header[1])
                finally:
                    self._flush_traces()
                response = await self._send(request, header)
        except AuthFailure as exc:
            failed = failure_result("auth", self.redactor.text(exc.detail))
            return CallRecord(request, header, None, failed, time.perf_counter() - started)
        except _Failed as exc:
            failed = failure_result(exc.failure, exc.detail)
            return CallRecord(request, header, None, failed, time.perf_counter() - started)
        result = self._judge(request, response)
        return CallRecord(request, header, response, result, time.perf_counter() - started)

    async def probe(self, profile: Mapping[str, Any], header: tuple[str, str] | None) -> CallRecord:
        """One data call with ``header`` as the credential instead of the configured one
        (None: no credential); no retry, no refresh. certify's ``auth_required`` uses it."""
        request = build_request(self.connection, profile)
        started = time.perf_counter()
        try:
            response = await self._send(request, header)
        except _Failed as exc:
            failed = failure_result(exc.failure, exc.detail)
            return CallRecord(request, header, None, failed, time.perf_counter() - started)
        result = self._judge(request, response)
        return CallRecord(request, header, response, result, time.perf_counter() - started)

    async def call(self, profile: Mapping[str, Any]) -> NormalizedResult:
        """Fetch ``profile``'s data from the partner; never raises for what the partner does."""
        return (await self.call_record(profile)).result

    async def call_record(self, profile: Mapping[str, Any]) -> CallRecord:
        """Like :meth:`call`, with the request and the raw answer of the last attempt."""
        request = build_request(self.connection, profile)
        policy = self.connection.retry
        attempt = 1
        while True:
            record = await self._attempt(request)
            result, response = record.result, record.response
            if attempt >= policy.attempts or result.failure == "auth":
                return record
            if response is None:
                retry = result.failure == "transport" and should_retry(
                    None, method=request.method, policy=policy
                )
            else:
                retry = should_retry(response.status, method=request.method, policy=policy)
            if not retry:
                return record
            retry_after = None if response is None else response.headers.get("retry-after")
            await asyncio.sleep(backoff_s(attempt, policy, retry_after, self._rng))
            attempt += 1


class PostbackClient:
    """The synchronous client: an :class:`AsyncPostbackClient` on an event loop of its own,
    in a daemon thread started on first use. Same arguments; use as a context manager or
    :meth:`close` it."""

    def __init__(self, connection: Connection, **kwargs: Any) -> None:
        self.connection = connection
        self._kwargs = kwargs
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: AsyncPostbackClient | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PostbackClient({self.connection.endpoint!r}, auth={self.connection.auth.type})"

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="postback-client", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    @property
    def async_client(self) -> AsyncPostbackClient:
        if self._client is None:
            self._client = AsyncPostbackClient(self.connection, **self._kwargs)
        return self._client

    @property
    def redactor(self) -> Redactor:
        return self.async_client.redactor

    def call(self, profile: Mapping[str, Any]) -> NormalizedResult:
        return self._run(self.async_client.call(profile))

    def call_record(self, profile: Mapping[str, Any]) -> CallRecord:
        return self._run(self.async_client.call_record(profile))

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine of :attr:`async_client` on this client's loop."""
        return self._run(coroutine)

    def close(self) -> None:
        if self._loop is None:
            return
        if self._client is not None:
            self._run(self._client.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        self._loop.close()
        self._loop = self._thread = self._client = None

    def __enter__(self) -> PostbackClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
