"""The certify run: Hypothesis drives generated profiles through the reference client against
the partner, every answer is judged, failures are shrunk and deduplicated; then fixed probes
for credentials, the token endpoint and latency."""

from __future__ import annotations

import asyncio
import dataclasses
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from hypothesis import HealthCheck, Phase, given, seed, settings

from mockserver._hunt import failure, search
from mockserver._version import __version__
from mockserver.certify._checks import (
    CHECKS,
    PER_ANSWER,
    Problem,
    as_finding,
    judge,
    parse_body,
)
from mockserver.client import (
    AsyncPostbackClient,
    AuthFailure,
    CallRecord,
    PostbackClient,
    TokenCredentials,
    to_curl,
)
from mockserver.contract import shape_of
from mockserver.models import (
    ApiKeyAuth,
    CheckStat,
    Connection,
    Finding,
    OAuth2Auth,
    Redactor,
    RunReport,
    Secret,
    TokenApiAuth,
)
from mockserver.strategies import MAX_VALUE_LENGTH, is_unusual, profiles

__all__ = ["CertifyOptions", "Progress", "certify", "plan"]

#: Profiles every run tries first: the seed's own, then the unusual-but-legal inputs.
EXPLICIT: Final = (
    {"phone": "0359677657", "email": "dee@bytetech.io"},
    {"phone": "", "email": ""},
    {"phone": "0359677657", "email": "dee+birthday@bytetech.io"},
    {"phone": "+84359677657", "email": "nguyễn@ví-dụ.vn"},
    {"phone": "9" * MAX_VALUE_LENGTH, "email": "a" * (MAX_VALUE_LENGTH - 12) + "@example.com"},
    {"phone": "0359 677 657", "email": "a&b=c%d@example.com"},
)

DEFAULT_DB: Final = Path(".postback-kit") / "hypothesis"


@dataclass(frozen=True, kw_only=True)
class CertifyOptions:
    examples: int = 100
    seed: int = 0
    max_rps: float = 10.0
    concurrency: int = 2
    time_budget_s: float | None = None
    latency_budget_ms: float = 2000.0
    database: Path | None = DEFAULT_DB
    show_secrets: bool = False


#: Called after every judged answer: (check names that failed, examples done, examples planned).
Progress = Callable[[list[Problem], int, int], None]


class _RateLimiter:
    """At most ``rate`` exchanges a second over the whole run (0: no limit)."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def __call__(self) -> None:
        if not self._interval:
            return
        async with self._lock:
            now = time.monotonic()
            wait = self._next - now
            self._next = max(now, self._next) + self._interval
        if wait > 0:
            await asyncio.sleep(wait)


@dataclass
class _Run:
    client: PostbackClient
    options: CertifyOptions
    stats: dict[str, CheckStat]
    findings: dict[str, Finding] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    shapes: dict[str, int] = field(default_factory=dict)
    local_curls: dict[str, str] = field(default_factory=dict)
    done: int = 0

    def record(
        self, finding: Finding, record: CallRecord | None = None, *, replace: bool = False
    ) -> None:
        """Keep ``finding`` unless its cause is known (``replace``: the shrunk example takes
        the place of the first one seen), and count it."""
        if replace or finding.key not in self.findings:
            self.findings[finding.key] = finding
            if record is not None and self.options.show_secrets:
                self.local_curls[finding.key] = to_curl(
                    record.request, record.header, self.client.redactor, show_secrets=True
                )
        stat = self.stats[finding.check]
        if finding.severity == "error":
            stat.errors += 1
        else:
            stat.warnings += 1


def _attributes(connection: Connection) -> list[str]:
    return [f for f in connection.template_fields() if f not in {"phone", "email"}]


def _full(attributes: list[str], profile: dict[str, Any]) -> dict[str, Any]:
    """A profile with a value for every other ``{{attr}}`` the connection references."""
    return {**dict.fromkeys(attributes, "x"), **profile}


def _generated(run: _Run, progress: Progress | None, deadline: float | None) -> None:
    connection = run.client.connection
    attributes = _attributes(connection)
    options = run.options
    redactor = run.client.redactor

    def observe(profile: dict[str, Any], shrunk: frozenset[str]) -> None:
        if deadline is not None and time.monotonic() > deadline:
            return
        full = _full(attributes, profile)
        problems, record = judged(full)
        new = [p for p in problems if p.key not in shrunk]
        for extra in (p for p in problems if p not in new[:1]):
            if extra.key not in run.findings:
                run.record(as_finding(extra, record, full, redactor), record)
        if new:
            raise failure(new[0].key, new[0].message, (new[0], record, full))

    def judged(full: dict[str, Any]) -> tuple[list[Problem], CallRecord]:
        record = run.client.call_record(full)
        body = parse_body(record)
        problems = judge(record, body, unusual=is_unusual(full))
        run.done += 1
        for check in PER_ANSWER:
            run.stats[check].runs += 1
        run.stats["robustness"].runs += is_unusual(full)
        if record.response is not None:
            run.latencies.append(record.elapsed_s * 1000)
            shape = shape_of(body) if isinstance(body, dict) else None
            if shape is not None:
                run.shapes[shape.name] = run.shapes.get(shape.name, 0) + 1
        if progress is not None:
            progress(problems, run.done, options.examples + len(EXPLICIT))
        return problems, record

    # The seed's profile and the unusual-but-legal ones first, judged as they are; then
    # Hypothesis generates, and shrinks what fails.
    for explicit in EXPLICIT:
        if deadline is not None and time.monotonic() > deadline:
            break
        full = _full(attributes, explicit)
        problems, record = judged(full)
        for problem in problems:
            run.record(as_finding(problem, record, full, redactor), record)
    found = search(
        profiles(attributes=attributes),
        observe,
        budget_left=lambda: options.examples - (run.done - len(EXPLICIT)),
        seed_value=options.seed,
        database=options.database,
        deadline=deadline,
    )
    for failed, inconclusive in found:
        problem, record, full = failed.payload
        finding = as_finding(problem, record, full, redactor, inconclusive=inconclusive)
        if inconclusive:
            note = " (did not repeat on replay: inconclusive)"
            finding = dataclasses.replace(finding, message=finding.message + note)
        run.record(finding, record, replace=True)


async def _probe_auth(run: _Run, client: AsyncPostbackClient) -> None:
    """Missing and wrong credentials must never get success with data."""
    connection = client.connection
    auth = connection.auth
    profile = _full(_attributes(connection), EXPLICIT[0])
    probes: list[tuple[str, tuple[str, str] | None]] = []
    if isinstance(auth, ApiKeyAuth):
        probes = [
            ("no API key", None),
            ("a wrong API key", (auth.header, "postback-kit-wrong-key")),
        ]
    elif isinstance(credentials := client.credentials, TokenCredentials):
        probes = [
            ("no token", None),
            ("a garbage token", credentials.header_for("postback-kit-garbage")),
        ]
        try:
            token, _ = await credentials.fetch_token()
        except AuthFailure:
            token = ""
        if token:
            middle = len(token) // 2
            flipped = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
            probes.append(("a tampered token", credentials.header_for(flipped)))
    if not probes:
        return
    semaphore = asyncio.Semaphore(max(1, run.options.concurrency))

    async def one(name: str, header: tuple[str, str] | None) -> None:
        async with semaphore:
            record = await client.probe(profile, header)
        run.stats["auth_required"].runs += 1
        result = record.result
        if result.success and result.data is not None:
            problem = Problem("auth_required", f"{name} got success with data", name)
            run.record(as_finding(problem, record, profile, client.redactor), record)

    await asyncio.gather(*(one(name, header) for name, header in probes))


def _wrong_credentials(auth: TokenApiAuth) -> TokenApiAuth | None:
    """The token API credentials with every secret value replaced (None: it has none)."""
    secrets = {s.reveal() for s in auth.secret_values}
    if not secrets:
        return None

    def swap(value: Any) -> Any:
        if isinstance(value, str) and value in secrets:
            return "postback-kit-wrong"
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        return value

    return dataclasses.replace(
        auth,
        body=swap(dict(auth.body)),
        params=swap(dict(auth.params)),
        headers=swap(dict(auth.headers)),
    )


def _token_finding(message: str, cause: str) -> Finding:
    return Finding(check="token_api", severity="error", message=message, key=f"token_api:{cause}")


async def _probe_token(run: _Run, client: AsyncPostbackClient) -> None:
    """The token endpoint works as configured: a token each call (a fresh one, for a token
    API), at the configured field; wrong credentials get none."""
    connection = client.connection
    auth = connection.auth
    if not isinstance(auth, TokenApiAuth | OAuth2Auth):
        return
    stat = run.stats["token_api"]
    credentials = client.credentials
    assert isinstance(credentials, TokenCredentials)
    tokens = []
    for _ in range(2):
        stat.runs += 1
        try:
            tokens.append((await credentials.fetch_token())[0])
        except AuthFailure as exc:
            run.record(
                _token_finding(f"the token endpoint failed: {exc.detail}", "token call failed")
            )
            return
    if isinstance(auth, TokenApiAuth) and tokens[0] == tokens[1]:
        message = "the token API returned the same token twice (it must refresh every call)"
        run.record(_token_finding(message, "same token"))
    wrong: TokenApiAuth | OAuth2Auth | None = (
        _wrong_credentials(auth)
        if isinstance(auth, TokenApiAuth)
        else dataclasses.replace(auth, client_secret=Secret("postback-kit-wrong-secret"))
    )
    if wrong is None:
        return
    stat.runs += 1
    async with AsyncPostbackClient(dataclasses.replace(connection, auth=wrong)) as wrong_client:
        wrong_credentials = wrong_client.credentials
        assert isinstance(wrong_credentials, TokenCredentials)
        try:
            await wrong_credentials.fetch_token()
        except AuthFailure:
            return
    run.record(
        _token_finding(
            "the token endpoint issued a token for wrong credentials", "wrong credentials accepted"
        )
    )


def _latency(run: _Run) -> dict[str, float]:
    if not run.latencies:
        return {}
    ordered = sorted(run.latencies)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    figures = {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(ordered[-1], 1),
    }
    stat = run.stats["latency"]
    stat.runs = len(ordered)
    budget = run.options.latency_budget_ms
    if p95 > budget:
        run.record(
            Finding(
                check="latency",
                severity="warning",
                message=f"p95 latency {p95:.0f} ms is over the {budget:.0f} ms budget "
                f"(p50 {figures['p50_ms']:.0f} ms, max {figures['max_ms']:.0f} ms)",
                key="latency:p95 over budget",
            )
        )
    return figures


def certify(
    connection: Connection,
    options: CertifyOptions | None = None,
    *,
    progress: Progress | None = None,
) -> tuple[RunReport, dict[str, str]]:
    """Certify the partner of ``connection``. Returns the report and, with
    ``options.show_secrets``, unmasked curl lines by finding key (for the terminal only)."""
    options = options or CertifyOptions()
    started = time.monotonic()
    deadline = started + options.time_budget_s if options.time_budget_s else None
    limiter = _RateLimiter(options.max_rps)
    stats = {name: CheckStat(name=name) for name in CHECKS}
    if not isinstance(connection.auth, TokenApiAuth | OAuth2Auth):
        stats["token_api"].applies = False
    with PostbackClient(connection, throttle=limiter) as client:
        run = _Run(client=client, options=options, stats=stats)
        _generated(run, progress, deadline)
        async_client = client.async_client
        client.run(_probe_auth(run, async_client))
        client.run(_probe_token(run, async_client))
    latency = _latency(run)
    findings = sorted(run.findings.values(), key=lambda f: (CHECKS.index(f.check), f.key))
    report = RunReport(
        tool="postback-kit",
        version=__version__,
        mode="certify",
        target=connection.endpoint,
        seed=options.seed,
        examples=run.done,
        checks=list(stats.values()),
        findings=findings,
        duration_s=time.monotonic() - started,
        summary={
            "method": connection.method,
            "auth": connection.auth.type,
            "shapes": dict(sorted(run.shapes.items(), key=lambda kv: -kv[1])),
            "latency": latency,
            "time_budget_reached": bool(deadline and time.monotonic() > deadline),
        },
    )
    return report, run.local_curls


def plan(connection: Connection, options: CertifyOptions | None = None) -> list[str]:
    """``--dry-run``: the data calls a run would start with (the explicit profiles, then the
    generated ones for ``options.seed``), as masked curl lines; nothing is sent."""
    from mockserver.client import build_request

    options = options or CertifyOptions()
    attributes = _attributes(connection)

    async def credential() -> tuple[tuple[str, str] | None, Redactor]:
        async with AsyncPostbackClient(connection) as client:  # builds nothing on the wire
            credentials = client.credentials
            if isinstance(credentials, TokenCredentials):
                return credentials.header_for("<token>"), client.redactor
            return await credentials.header(), client.redactor

    header, redactor = asyncio.run(credential())
    drawn = [_full(attributes, p) for p in EXPLICIT]

    def keep(profile: dict[str, Any]) -> None:
        drawn.append(_full(attributes, profile))

    test: Callable[..., None] = given(profiles(attributes=attributes))(keep)
    test = settings(
        max_examples=options.examples,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )(seed(options.seed)(test))
    test()
    return [to_curl(build_request(connection, p), header, redactor) for p in drawn]
