"""The ``postback-kit`` command line: parse, forward to the library, map errors to exit codes.

Exit codes: 0 success/valid, 1 a negative verdict (invalid body, failed call, findings),
2 a usage or configuration error, printed as one line without a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

from mockserver._version import __version__
from mockserver.errors import PostbackKitError

__all__ = ["main", "run"]

_PROG = "postback-kit"


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=_PROG,
        description="Mock partner server and contract-test kit for the Postback API.",
    )
    parser.add_argument("--version", action="version", version=f"{_PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    serve = commands.add_parser(
        "serve",
        help="run the mock partner",
        description="Run the mock partner for a scenario (a file, or a bundled scenario name "
        "such as voucher-get).",
    )
    serve.add_argument("scenario", metavar="SCENARIO")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 = any free)")
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    serve.add_argument("--access-log", action="store_true", help="log every request (slower)")
    serve.add_argument(
        "--journal-size", type=int, default=None, help="requests kept in the journal per worker"
    )
    serve.add_argument(
        "--admin-token",
        default=os.environ.get("POSTBACK_KIT_ADMIN_TOKEN") or None,
        help="protect the admin API with this bearer token (default: $POSTBACK_KIT_ADMIN_TOKEN)",
    )

    call = commands.add_parser(
        "call",
        help="make one real call with the reference client",
        description="Call the partner of CONNECTION for one profile with the reference client "
        "and print the normalized result as JSON (exit 0 when success is true, else 1).",
    )
    call.add_argument("connection", metavar="CONNECTION")
    call.add_argument("--phone", default="", help="the profile's phone (default empty)")
    call.add_argument("--email", default="", help="the profile's email (default empty)")
    call.add_argument(
        "--attr",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="another profile attribute, for {{NAME}} in params or payload (repeatable)",
    )
    call.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="show each request and raw response on stderr (credentials masked)",
    )

    check = commands.add_parser(
        "check-response",
        help="validate one response body",
        description="Validate one response body (a file, or - for standard input): print its "
        "normalized result, or each violation by role.",
    )
    check.add_argument("file", metavar="FILE", nargs="?", default="-")
    return parser


def _read_input(name: str, stdin: IO[bytes] | None) -> bytes:
    if name == "-":
        source = stdin if stdin is not None else sys.stdin.buffer
        return source.read()
    path = Path(name)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise PostbackKitError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise PostbackKitError(f"{name}: is a directory, not a file") from None
    except OSError as exc:
        raise PostbackKitError(f"{name}: cannot read: {exc.strerror}") from None


def _check_response(args: argparse.Namespace, stdout: IO[str], stdin: IO[bytes] | None) -> int:
    from mockserver.contract import InvalidJSON, loads_strict, normalize, shape_of, validate

    raw = _read_input(args.file, stdin)
    try:
        body = loads_strict(raw)
    except InvalidJSON as exc:
        print(f"invalid: body: not valid JSON for this contract: {exc.reason}", file=stdout)
        return 1
    violations = validate(body)
    if violations:
        for violation in violations:
            print(f"invalid: {violation}", file=stdout)
        return 1
    result = normalize(body)
    shape = shape_of(body)
    print(
        json.dumps(
            {**result.to_dict(), "shape": shape.name if shape else None},
            ensure_ascii=False,
            indent=2,
        ),
        file=stdout,
    )
    return 0


def _show_exchange(exchange: Any, stderr: IO[str], limit: int = 4000) -> None:
    lines = [f"> {exchange.method} {exchange.url}"]
    lines += [f"> {k}: {v}" for k, v in exchange.request_headers]
    if exchange.request_body:
        lines.append("> " + exchange.request_body.decode("utf-8", "replace")[:limit])
    if exchange.status is None:
        lines.append(f"< no answer: {exchange.error}")
    else:
        lines.append(f"< HTTP {exchange.status}")
        lines += [f"< {k}: {v}" for k, v in exchange.response_headers]
        body = exchange.response_body.decode("utf-8", "replace")
        more = f" ... ({len(body) - limit} more characters)" if len(body) > limit else ""
        lines.append("< " + body[:limit] + more)
        if exchange.error:
            lines.append(f"< {exchange.error}")
    print("\n".join(lines), file=stderr, flush=True)


def _call(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    import asyncio

    from mockserver.client import AsyncPostbackClient
    from mockserver.models import load_connection

    profile: dict[str, str] = {"phone": args.phone, "email": args.email}
    for item in args.attr:
        name, eq, value = item.partition("=")
        if not eq or not name:
            raise _UsageError(f"{_PROG} call: --attr takes NAME=VALUE, got {item!r}")
        profile[name] = value
    connection = load_connection(args.connection)

    async def call() -> Any:
        trace = (lambda exchange: _show_exchange(exchange, stderr)) if args.verbose else None
        async with AsyncPostbackClient(connection, trace=trace) as client:
            return await client.call(profile)

    result = asyncio.run(call())
    print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2), file=stdout)
    return 0 if result.success else 1


def _serve(args: argparse.Namespace, stderr: IO[str]) -> int:
    from mockserver.models import load_scenario
    from mockserver.server import serve

    if args.workers < 1:
        raise _UsageError(f"{_PROG} serve: --workers must be at least 1, got {args.workers}")
    if not 0 <= args.port <= 65535:
        raise _UsageError(f"{_PROG} serve: --port must be 0..65535, got {args.port}")
    scenario = load_scenario(args.scenario)

    def ready(url: str) -> None:
        auth = scenario.auth
        how = {
            "api_key": f"API key in header '{getattr(auth, 'header', '')}'",
            "token_api": f"token API at {scenario.token_path()}",
            "oauth2": f"OAuth 2.0 token endpoint {scenario.token_path()}",
        }.get(auth.type, "no auth")
        print(
            f"{_PROG} {__version__}: scenario '{scenario.name}' ({', '.join(scenario.methods)} "
            f"{scenario.path}, {how}) on {url}{scenario.path}\n"
            f"  journal: {url}/__admin/requests   health: {url}/__admin/health   "
            f"workers: {args.workers}   (Ctrl+C stops)",
            file=stderr,
            flush=True,
        )

    serve(
        scenario,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=args.access_log,
        journal_size=args.journal_size,
        admin_token=args.admin_token,
        on_ready=ready,
    )
    return 0


def run(
    argv: Sequence[str] | None = None,
    *,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    stdin: IO[bytes] | None = None,
) -> int:
    """Run one command; returns its exit code. Streams default to the process's."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    try:
        with contextlib.redirect_stdout(out):
            args = _parser().parse_args(argv)
        if args.command == "serve":
            return _serve(args, err)
        if args.command == "call":
            return _call(args, out, err)
        return _check_response(args, out, stdin)
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    except _UsageError as exc:
        print(exc, file=err)
        return 2
    except PostbackKitError as exc:
        print(f"{_PROG}: {exc}", file=err)
        return 2
    except KeyboardInterrupt:
        return 130


def main() -> NoReturn:
    sys.exit(run())
