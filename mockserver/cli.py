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
_REPORT_SUFFIXES = frozenset({".md", ".markdown", ".html", ".htm"})


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
    commands = parser.add_subparsers(dest="subcommand", metavar="COMMAND", parser_class=_Parser)
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
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument(
        "--server",
        choices=("uvicorn", "granian"),
        default="uvicorn",
        help="ASGI server (default uvicorn; granian is faster, needs postback-kit[granian], and "
        "turns the wire faults into dropped connections)",
    )
    serve.add_argument("--access-log", action="store_true", help="log every request (slower)")
    serve.add_argument(
        "--limit-concurrency",
        type=int,
        default=None,
        metavar="N",
        help="answer 503 (contract-shaped, Retry-After: 1) beyond N requests at once per worker",
    )
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

    certify = commands.add_parser(
        "certify",
        help="certify a partner endpoint against the postback contract",
        description="Send Hypothesis-generated profiles, missing and wrong credentials and "
        "token calls to the partner of CONNECTION and judge every answer (exit 0 pass, "
        "1 findings, 2 usage error).",
    )
    certify.add_argument("connection", metavar="CONNECTION")
    certify.add_argument(
        "--examples", type=int, default=100, help="generated profiles (default 100)"
    )
    certify.add_argument(
        "--seed", type=int, default=None, help="repeat a run exactly (default: random, printed)"
    )
    certify.add_argument(
        "--max-rps",
        type=float,
        default=10.0,
        help="requests per second at most (default 10; 0 = no limit)",
    )
    certify.add_argument(
        "--concurrency", type=int, default=2, help="probes in flight at once (default 2)"
    )
    certify.add_argument(
        "--time-budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop generating after this long",
    )
    certify.add_argument(
        "--latency-budget-ms",
        type=float,
        default=2000.0,
        help="warn when p95 latency is above (default 2000)",
    )
    certify.add_argument(
        "--dry-run", action="store_true", help="print the requests it would send; send nothing"
    )
    certify.add_argument(
        "--show-secrets",
        action="store_true",
        help="print reproductions with real credentials (terminal only; reports stay masked)",
    )
    certify.add_argument(
        "--no-example-db",
        action="store_true",
        help="do not use .postback-kit/hypothesis (failures found before are not replayed first)",
    )
    _report_options(certify)

    verify = commands.add_parser(
        "verify-client",
        help="verify a CDP client against every partner behaviour",
        description="Serve generated partner answers and faults from the mock, send jobs to "
        "the client under test, and judge both its answers and its requests (exit 0 pass, "
        "1 findings, 2 usage error).",
    )
    adapter = verify.add_mutually_exclusive_group(required=True)
    adapter.add_argument(
        "--python", metavar="MODULE:FUNCTION", help="func(job) -> dict, sync or async"
    )
    adapter.add_argument(
        "--command", metavar="CMD", help="a process speaking JSON Lines (SPEC 2.1)"
    )
    verify.add_argument("--examples", type=int, default=200, help="jobs (default 200)")
    verify.add_argument("--seed", type=int, default=None, help="repeat a run exactly")
    verify.add_argument(
        "--job-timeout", type=float, default=10.0, help="seconds per job (default 10)"
    )
    verify.add_argument(
        "--no-example-db", action="store_true", help="do not replay earlier failures first"
    )
    _report_options(verify)

    check = commands.add_parser(
        "check-response",
        help="validate one response body",
        description="Validate one response body (a file, or - for standard input): print its "
        "normalized result, or each violation by role.",
    )
    check.add_argument("file", metavar="FILE", nargs="?", default="-")
    return parser


def _report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", type=Path, default=None, metavar="FILE", help="write the JSON report"
    )
    parser.add_argument(
        "--junit-xml", type=Path, default=None, metavar="FILE", help="write JUnit XML"
    )
    parser.add_argument(
        "--report", type=Path, default=None, metavar="FILE", help="write a .md or .html report"
    )
    parser.add_argument(
        "--redact-pii",
        action="store_true",
        help="mask the profiles' phone numbers and emails (***) in the output and the reports",
    )


def _check_report_name(args: argparse.Namespace, command: str) -> None:
    if args.report is not None and args.report.suffix.lower() not in _REPORT_SUFFIXES:
        raise _UsageError(
            f"{_PROG} {command}: --report takes a .md or .html file, got {str(args.report)!r}"
        )


def _write_reports(args: argparse.Namespace, report: Any) -> None:
    from mockserver.reporting import write_document, write_json, write_junit

    if args.json is not None:
        write_json(report, args.json)
    if args.junit_xml is not None:
        write_junit(report, args.junit_xml)
    if args.report is not None:
        write_document(report, args.report)


def _certify(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    import random

    from mockserver.certify import CertifyOptions, certify, plan
    from mockserver.models import load_connection
    from mockserver.reporting import LiveProgress, print_summary

    for flag, value, low in (
        ("--examples", args.examples, 1),
        ("--concurrency", args.concurrency, 1),
    ):
        if value < low:
            raise _UsageError(f"{_PROG} certify: {flag} must be at least {low}, got {value}")
    if args.max_rps < 0:
        raise _UsageError(
            f"{_PROG} certify: --max-rps must be 0 (no limit) or more, got {args.max_rps}"
        )
    _check_report_name(args, "certify")
    connection = load_connection(args.connection)
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    options = CertifyOptions(
        examples=args.examples,
        seed=seed,
        max_rps=args.max_rps,
        concurrency=args.concurrency,
        time_budget_s=args.time_budget,
        latency_budget_ms=args.latency_budget_ms,
        database=None if args.no_example_db else CertifyOptions().database,
        show_secrets=args.show_secrets,
    )
    if args.dry_run:
        for line in plan(connection, options):
            print(line, file=stdout)
        print(
            f"(dry run, seed {seed}: nothing was sent; certify also probes missing and wrong "
            "credentials and the token endpoint)",
            file=stderr,
        )
        return 0
    print(f"certify {connection.endpoint} with seed {seed}", file=stderr, flush=True)
    with LiveProgress(stderr, "certify") as live:
        report, local_curls = certify(
            connection,
            options,
            progress=lambda problems, done, total: live.update(
                [p.check for p in problems], done, total
            ),
        )
    if args.redact_pii:
        report, mask = report.redact_pii()
        local_curls = {key: mask(line) for key, line in local_curls.items()}
    print_summary(report, stdout, local_curls=local_curls)
    _write_reports(args, report)
    return 0 if report.passed else 1


def _verify_client(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    import random

    from mockserver.reporting import LiveProgress, print_summary
    from mockserver.verify import (
        CommandAdapter,
        PythonAdapter,
        VerifyOptions,
        load_callable,
        verify,
    )

    if args.examples < 1:
        raise _UsageError(
            f"{_PROG} verify-client: --examples must be at least 1, got {args.examples}"
        )
    _check_report_name(args, "verify-client")
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    adapter: Any = (
        PythonAdapter(load_callable(args.python)) if args.python else CommandAdapter(args.command)
    )
    target = f"python {args.python}" if args.python else f"command {args.command}"
    options = VerifyOptions(
        examples=args.examples,
        seed=seed,
        job_timeout_s=args.job_timeout,
        database=None if args.no_example_db else VerifyOptions().database,
    )
    print(f"verify-client {target} with seed {seed}", file=stderr, flush=True)
    try:
        with LiveProgress(stderr, "verify-client") as live:
            report = verify(adapter, options, target=target, progress=live.update)
    finally:
        adapter.close()
    if args.redact_pii:
        report, _ = report.redact_pii()
    print_summary(report, stdout)
    _write_reports(args, report)
    return 0 if report.passed else 1


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
    if args.limit_concurrency is not None and args.limit_concurrency < 1:
        raise _UsageError(
            f"{_PROG} serve: --limit-concurrency must be at least 1, got {args.limit_concurrency}"
        )
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
            f"workers: {args.workers} ({args.server})   (Ctrl+C stops)",
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
        server=args.server,
        limit_concurrency=args.limit_concurrency,
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
        if args.subcommand == "serve":
            return _serve(args, err)
        if args.subcommand == "call":
            return _call(args, out, err)
        if args.subcommand == "certify":
            return _certify(args, out, err)
        if args.subcommand == "verify-client":
            return _verify_client(args, out, err)
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
