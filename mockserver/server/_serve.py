"""Running the mock partner on uvicorn: in the foreground (``postback-kit serve``) or in a
background thread on a free port (tests, the pytest plugin)."""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal

import uvicorn
from starlette.types import ASGIApp

from mockserver.errors import ServerStartError
from mockserver.models import Redactor, Scenario, Secret, load_scenario
from mockserver.server._app import create_app
from mockserver.server._peers import ENV_RUN_DIR
from mockserver.server._tokens import ENV_TOKEN_SECRET, new_secret
from mockserver.server._wire import HTTP_PROTOCOL, approximate_wire_faults

__all__ = ["ServerThread", "app_from_env", "bind", "serve"]

#: Environment variables through which ``serve --workers N`` hands the scenario to workers.
ENV_SCENARIO: Final = "POSTBACK_KIT_SCENARIO"
ENV_JOURNAL_SIZE: Final = "POSTBACK_KIT_JOURNAL_SIZE"
ENV_LIMIT_CONCURRENCY: Final = "POSTBACK_KIT_LIMIT_CONCURRENCY"
#: The admin API's token; also what ``serve --admin-token`` defaults to.
ENV_ADMIN_TOKEN: Final = "POSTBACK_KIT_ADMIN_TOKEN"
#: Set to ``granian`` for workers of ``serve --server granian``.
ENV_SERVER: Final = "POSTBACK_KIT_SERVER"


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket, or ServerStartError saying why not (port in use, ...)."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        raise ServerStartError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def _config(
    app: ASGIApp | str,
    *,
    access_log: bool,
    lifespan: Literal["on", "off"] = "off",
    **kwargs: Any,
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        http=HTTP_PROTOCOL,
        access_log=access_log,
        log_level="info" if access_log else "warning",
        lifespan=lifespan,
        server_header=False,
        # A hanging fault must not keep a stopping server alive.
        timeout_graceful_shutdown=2,
        **kwargs,
    )


#: The loggers a served mock writes through (the access log among them).
_LOGGERS: Final = ("uvicorn.access", "uvicorn.error", "granian.access", "postback_kit.server")


class _MaskSecrets(logging.Filter):
    """Masks the scenario's secrets in every record of the server's loggers: the access log
    prints the full request target, and a client may put its key in the query string."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        text = self.redactor.text
        if isinstance(record.msg, str):
            record.msg = text(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(text(a) if isinstance(a, str) else a for a in record.args)
        return True


def mask_secrets_in_logs(scenario: Scenario) -> None:
    """Install the secret-masking filter on the server's loggers (once per process)."""
    redactor = Redactor(scenario.secret_headers(), (s.reveal() for s in scenario.secrets()))
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        for old in [f for f in logger.filters if isinstance(f, _MaskSecrets)]:
            logger.removeFilter(old)
        logger.addFilter(_MaskSecrets(redactor))


class ServerThread:
    """The mock partner on uvicorn in a daemon thread, on 127.0.0.1 and a free port.

    ``with ServerThread(app) as server: httpx.get(server.url + "/voucher")``. :meth:`start`
    waits until the socket accepts (up to ``timeout`` seconds) and raises if the server died.
    """

    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self._sock = bind(host, port)
        self.port: int = self._sock.getsockname()[1]
        self._server = uvicorn.Server(_config(app, access_log=False))
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._sock]},
            daemon=True,
            name=f"postback-kit-mock:{self.port}",
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise ServerStartError(f"the mock partner on {self.url} stopped while starting")
            if time.monotonic() > deadline:
                self.stop()
                raise ServerStartError(
                    f"the mock partner on {self.url} did not start in {timeout}s"
                )
            time.sleep(0.005)
        return self

    def signal_stop(self) -> None:
        """Ask the server to stop without waiting (uvicorn notices within 0.1 s); stopping
        several at once, signal each, then :meth:`stop` each."""
        self._server.should_exit = True

    def stop(self, timeout: float = 10.0) -> None:
        self.signal_stop()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def app_from_env() -> ASGIApp:
    """The app factory each ``--workers`` process calls (scenario from the environment)."""
    if os.environ.get(ENV_SERVER) == "granian":
        approximate_wire_faults()
    scenario = load_scenario(os.environ[ENV_SCENARIO])
    token = os.environ.get(ENV_ADMIN_TOKEN)
    if token:
        scenario = dataclasses.replace(scenario, admin_token=Secret(token))
    mask_secrets_in_logs(scenario)
    size = os.environ.get(ENV_JOURNAL_SIZE)
    run_dir = os.environ.get(ENV_RUN_DIR)
    limit = os.environ.get(ENV_LIMIT_CONCURRENCY)
    return create_app(
        scenario,
        journal_size=int(size) if size else None,
        run_dir=Path(run_dir) if run_dir else None,
        limit_concurrency=int(limit) if limit else None,
    )


#: The ASGI servers ``serve --server`` can run the mock on; uvicorn is the default.
SERVERS: Final = ("uvicorn", "granian")


def _hand_to_workers(
    scenario: Scenario,
    journal_size: int | None,
    admin_token: str | None,
    limit_concurrency: int | None,
) -> None:
    """Put what :func:`app_from_env` needs in the environment the worker processes inherit."""
    if limit_concurrency is not None:
        os.environ[ENV_LIMIT_CONCURRENCY] = str(limit_concurrency)
    os.environ[ENV_SCENARIO] = os.path.abspath(scenario.source)
    # One signing key for all workers, so each accepts the tokens the others issue.
    os.environ.setdefault(ENV_TOKEN_SECRET, new_secret())
    if journal_size is not None:
        os.environ[ENV_JOURNAL_SIZE] = str(journal_size)
    if admin_token:
        os.environ[ENV_ADMIN_TOKEN] = admin_token


def _run_granian(host: str, port: int, workers: int, access_log: bool) -> None:
    try:
        from granian import Granian
        from granian.constants import Interfaces
        from granian.log import LogLevels
    except ImportError:
        raise ServerStartError(
            "--server granian needs granian: pip install 'postback-kit[granian]'"
        ) from None
    Granian(
        "mockserver.server._serve:app_from_env",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        factory=True,
        log_level=LogLevels.info if access_log else LogLevels.warning,
        log_access=access_log,
        backlog=2048,
    ).serve()


def serve(
    scenario: Scenario,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    access_log: bool = False,
    journal_size: int | None = None,
    admin_token: str | None = None,
    on_ready: Any = None,
    server: str = "uvicorn",
    limit_concurrency: int | None = None,
) -> None:
    """Serve ``scenario`` in the foreground until interrupted. ``on_ready(url)`` is called
    once the socket listens. ``admin_token`` protects the admin API (it overrides the
    scenario's). ``limit_concurrency`` answers a contract-shaped 503 (``Retry-After: 1``)
    beyond that many partner requests at once per worker. ``server`` is ``uvicorn`` or
    ``granian`` (faster; the wire faults reset, empty reply and truncation need uvicorn's
    protocol hook, see the README)."""
    if server not in SERVERS:
        raise ServerStartError(f"unknown server {server!r}; choose one of {', '.join(SERVERS)}")
    if admin_token:
        scenario = dataclasses.replace(scenario, admin_token=Secret(admin_token))
    sock = bind(host, port)
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{sock.getsockname()[1]}"
    if server == "uvicorn" and workers <= 1:
        config = _config(
            create_app(scenario, journal_size=journal_size, limit_concurrency=limit_concurrency),
            access_log=access_log,
        )
        mask_secrets_in_logs(scenario)  # after uvicorn has configured its loggers
        uvicorn_server = uvicorn.Server(config)
        if on_ready is not None:
            on_ready(url)
        uvicorn_server.run(sockets=[sock])
        return
    _hand_to_workers(scenario, journal_size, admin_token, limit_concurrency)
    run_dir = None
    if workers > 1:
        # Each worker listens here for the admin calls the others pass on (journal merged on
        # read).
        run_dir = tempfile.mkdtemp(prefix="postback-kit-")
        os.environ[ENV_RUN_DIR] = run_dir
    try:
        if server == "granian":
            # Granian binds for itself: free the port we checked (and picked, for port 0).
            bound_port = sock.getsockname()[1]
            sock.close()
            os.environ[ENV_SERVER] = "granian"
            if on_ready is not None:
                on_ready(url)
            _run_granian(host, bound_port, workers, access_log)
            return
        from uvicorn.supervisors import Multiprocess

        config = _config(
            "mockserver.server._serve:app_from_env",
            access_log=access_log,
            lifespan="on",
            factory=True,
            workers=workers,
        )
        if on_ready is not None:
            on_ready(url)
        Multiprocess(config, sockets=[sock]).run()
    finally:
        if run_dir is not None:
            shutil.rmtree(run_dir, ignore_errors=True)
