"""Running the mock partner: in the foreground on uvicorn or granian, one process or several
(``postback-kit serve``), or on uvicorn in a background thread on a free port (tests, the
pytest plugin)."""

from __future__ import annotations

import dataclasses
import json
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
from mockserver.server._tokens import ENV_TOKEN_SECRET, new_secret
from mockserver.server._wire import HTTP_PROTOCOL, approximate_wire_faults

__all__ = ["ServerThread", "app_from_env", "bind", "serve"]

#: How ``serve`` hands its settings to worker processes (JSON: scenario file, journal size,
#: concurrency limit, the peers' run directory, the server).
ENV_WORKER: Final = "POSTBACK_KIT_WORKER"
#: The admin API's token; also what ``serve --admin-token`` defaults to.
ENV_ADMIN_TOKEN: Final = "POSTBACK_KIT_ADMIN_TOKEN"


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


def mask_secrets_in_logs(masker: Redactor) -> None:
    """Mask in the server's loggers what the served partner masks (``partner.masker``: its
    scenario's secrets); once per process, after the server configured its logging."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        for old in [f for f in logger.filters if isinstance(f, _MaskSecrets)]:
            logger.removeFilter(old)
        logger.addFilter(_MaskSecrets(masker))


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
    """The app factory each worker process calls (settings from the environment)."""
    settings = json.loads(os.environ[ENV_WORKER])
    if settings["server"] == "granian":
        approximate_wire_faults()
    scenario = load_scenario(settings["scenario"])
    token = os.environ.get(ENV_ADMIN_TOKEN)
    if token:
        scenario = dataclasses.replace(scenario, admin_token=Secret(token))
    run_dir = settings["run_dir"]
    app = create_app(
        scenario,
        journal_size=settings["journal_size"],
        run_dir=Path(run_dir) if run_dir else None,
        limit_concurrency=settings["limit_concurrency"],
    )
    mask_secrets_in_logs(app.state.partner.masker)
    return app


#: The ASGI servers ``serve --server`` can run the mock on; uvicorn is the default.
SERVERS: Final = ("uvicorn", "granian")


def _when_listening(host: str, port: int, then: Any, timeout: float = 30.0) -> None:
    """Call ``then()`` once ``host:port`` accepts connections (granian binds in its own time,
    and the banner must not announce a port that refuses)."""
    target = "127.0.0.1" if host in {"0.0.0.0", ""} else "::1" if host == "::" else host
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((target, port), timeout=1).close()
        except OSError:
            time.sleep(0.01)
            continue
        then()
        return


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
        app = create_app(scenario, journal_size=journal_size, limit_concurrency=limit_concurrency)
        config = _config(app, access_log=access_log)
        mask_secrets_in_logs(app.state.partner.masker)  # after uvicorn configured logging
        uvicorn_server = uvicorn.Server(config)
        if on_ready is not None:
            on_ready(url)
        uvicorn_server.run(sockets=[sock])
        return
    # Each worker of several listens in run_dir for the admin calls the others pass on.
    run_dir = tempfile.mkdtemp(prefix="postback-kit-") if workers > 1 else None
    os.environ[ENV_WORKER] = json.dumps(
        {
            "scenario": os.path.abspath(scenario.source),
            "journal_size": journal_size,
            "limit_concurrency": limit_concurrency,
            "run_dir": run_dir,
            "server": server,
        }
    )
    # One signing key for all workers, so each accepts the tokens the others issue.
    os.environ.setdefault(ENV_TOKEN_SECRET, new_secret())
    if admin_token:
        os.environ[ENV_ADMIN_TOKEN] = admin_token
    try:
        if server == "granian":
            # Granian binds for itself: free the port we checked (and picked, for port 0).
            bound_port = sock.getsockname()[1]
            sock.close()
            if on_ready is not None:
                threading.Thread(
                    target=_when_listening,
                    args=(host, bound_port, lambda: on_ready(url)),
                    daemon=True,
                ).start()
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
