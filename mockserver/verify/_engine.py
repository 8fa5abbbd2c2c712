"""The verify-client run: Hypothesis generates jobs, the mock partner (on a free port) is set
up to answer each, the client under test makes the real calls, and both its answer and what
it sent are judged. Failures are shrunk per cause with the search certify uses."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver._hunt import failure, search
from mockserver._version import __version__
from mockserver.client import render
from mockserver.contract import NormalizedResult
from mockserver.models import CheckStat, Finding, Redactor, RunReport, Scenario
from mockserver.server import ServerThread, TokenSigner, create_app
from mockserver.verify._adapters import Adapter, AdapterError
from mockserver.verify._jobs import (
    DEMO,
    EXPIRE_WAIT_S,
    JobSpec,
    allowed_outcomes,
    connection_for,
    explicit_jobs,
    jobs,
    scenario_for,
)

__all__ = ["CHECKS", "VerifyOptions", "verify"]

#: verify-client's checks, in report order (stable API).
CHECKS: Final = (
    "normalization",
    "invalid_response",
    "fault_handling",
    "request_contract",
    "auth_flow",
    "adapter",
)

_FIELDS: Final = ("success", "errorCode", "message", "data", "failure")


@dataclass(frozen=True, kw_only=True)
class VerifyOptions:
    examples: int = 200
    seed: int = 0
    job_timeout_s: float = 10.0
    database: Path | None = Path(".postback-kit") / "hypothesis-verify"


class _Switch:
    """The ASGI app the mock serves: it forwards to the partner of the current job."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.app is None:
            return
        await self.app(scope, receive, send)


@dataclass
class _Problem:
    check: str
    message: str
    cause: str

    @property
    def key(self) -> str:
        return f"{self.check}:{self.cause}"


@dataclass
class _Outcome:
    spec: JobSpec
    job: dict[str, Any]
    answer: dict[str, Any] | None
    expected: list[NormalizedResult]
    journal: list[dict[str, Any]]
    problems: list[_Problem] = field(default_factory=list)


def _as_result(answer: dict[str, Any]) -> dict[str, Any]:
    return {name: answer.get(name) for name in _FIELDS}


def _matches(answer: dict[str, Any], expected: NormalizedResult) -> bool:
    want = expected.to_dict()
    got = _as_result(answer)
    if want["failure"] is not None:  # for a failure only the category matters
        return bool(
            got["failure"] == want["failure"] and got["success"] is False and got["data"] is None
        )
    if got["failure"] is not None:
        return False
    return all(
        got[k] == want[k] and type(got[k]) is type(want[k])
        for k in ("success", "errorCode", "message", "data")
    )


def _answer_problems(outcome: _Outcome) -> list[_Problem]:
    answer, spec = outcome.answer, outcome.spec
    assert answer is not None
    if not isinstance(answer.get("success"), bool) or answer.get("failure") not in {
        None,
        "http_status",
        "invalid_body",
        "contract",
        "transport",
        "auth",
    }:
        return [
            _Problem(
                "adapter",
                f"the result is not a normalized result: {json.dumps(answer)[:200]}",
                "malformed result",
            )
        ]
    if any(_matches(answer, e) for e in outcome.expected):
        return []
    if spec.kind in {"revoke", "expire"}:
        check, cause = "auth_flow", f"no answer after a {spec.kind}d token"
    elif spec.kind == "fault":
        check, cause = (
            "fault_handling",
            str(spec.fault["type"])
            + (":" + str(spec.fault.get("to")) if spec.fault["type"] == "redirect" else ""),
        )
    elif spec.kind == "breach" or (outcome.expected[0].failure is not None):
        check, cause = "invalid_response", spec.breach or (outcome.expected[0].failure or "")
    else:
        check, cause = "normalization", _normalization_cause(answer, outcome.expected[0])
    want = [e.to_dict() for e in outcome.expected]
    got = json.dumps(_as_result(answer), ensure_ascii=False)[:300]
    message = f"the client answered {got}; allowed: {json.dumps(want, ensure_ascii=False)[:300]}"
    return [_Problem(check, message, cause)]


def _normalization_cause(answer: dict[str, Any], expected: NormalizedResult) -> str:
    want = expected.to_dict()
    got = _as_result(answer)
    differing = [
        k
        for k in ("success", "errorCode", "message", "data", "failure")
        if got[k] != want[k] or type(got[k]) is not type(want[k])
    ]
    return ",".join(differing) or "result"


def _request_problems(outcome: _Outcome, base_host: str) -> list[_Problem]:
    spec, job = outcome.spec, outcome.job
    connection = job["connection"]
    profile = job["profile"]
    problems: list[_Problem] = []
    data_calls = [e for e in outcome.journal if e["path"] == "/voucher"]
    foreign = [
        e for e in data_calls if dict(e["headers"]).get("host", "").split(":")[0] != base_host
    ]
    for entry in foreign:
        headers = dict(entry["headers"])
        sent = [
            h
            for h in ("authorization", spec.key_header.lower(), spec.token_header.lower())
            if h in headers
        ]
        if sent and spec.auth != "none":
            problems.append(
                _Problem(
                    "request_contract",
                    f"a credential ({sent[0]}) was sent to another origin after a redirect",
                    "credential to another origin",
                )
            )
    own = [e for e in data_calls if e not in foreign]
    if not own:
        if outcome.answer is not None and outcome.answer.get("failure") != "auth":
            problems.append(
                _Problem("request_contract", "the client made no data call", "no data call")
            )
        return problems
    first = own[0]
    if first["method"] != spec.method:
        problems.append(
            _Problem("request_contract", f"method {first['method']}, not {spec.method}", "method")
        )
    query: dict[str, str] = {}
    for name, value in first["query"]:
        query.setdefault(name, value)
    for name, template in connection["params"].items():
        want = render(str(template), profile)
        if query.get(name) != want:
            problems.append(
                _Problem(
                    "request_contract",
                    f"query parameter {name!r} arrived as {query.get(name)!r}, not {want!r}",
                    f"param {name if name in {'phone', 'email'} else 'custom'}",
                )
            )
            break
    headers = dict(first["headers"])
    for name, value in connection["headers"].items():
        if headers.get(name.lower()) != value:
            problems.append(
                _Problem(
                    "request_contract",
                    f"fixed header {name!r} arrived as {headers.get(name.lower())!r}, "
                    f"not {value!r}",
                    "fixed header",
                )
            )
            break
    refusal = first.get("refusal")
    if refusal is not None and refusal["status"] == 401 and refusal["code"] != "TokenExpired":
        problems.append(
            _Problem(
                "request_contract",
                f"the credential was not sent as configured: {refusal['message']}",
                "credential",
            )
        )
    if spec.method == "POST":
        if not str(headers.get("content-type", "")).startswith("application/json"):
            problems.append(
                _Problem(
                    "request_contract",
                    f"POST with Content-Type {headers.get('content-type')!r}",
                    "content type",
                )
            )
        else:
            want_payload = {k: render(v, profile) for k, v in connection["payload"].items()}
            try:
                got_payload = json.loads(first["body"] or "")
            except ValueError:
                got_payload = None
            if got_payload != want_payload:
                problems.append(
                    _Problem(
                        "request_contract",
                        f"the JSON payload was {str(first['body'])[:200]!r}, not "
                        f"{json.dumps(want_payload, ensure_ascii=False)[:200]}",
                        "payload",
                    )
                )
    return problems


def _auth_problems(outcome: _Outcome) -> list[_Problem]:
    spec = outcome.spec
    if spec.auth not in {"token_api", "oauth2"}:
        return []
    problems: list[_Problem] = []
    token_calls = [e for e in outcome.journal if e["case"] == "token"]
    data_calls = [e for e in outcome.journal if e["path"] == "/voucher"]
    # A token from an earlier job may still be valid (SPEC 1.4 decision 3): a data call
    # without a token call in this job is fine; a missing or bad token shows as a refusal.
    for entry in token_calls:
        if (
            DEMO["client_secret"] in entry["query_string"]
            or DEMO["password"] in entry["query_string"]
        ):
            problems.append(
                _Problem(
                    "auth_flow",
                    "a credential travelled in the token call's query string",
                    "secret in query",
                )
            )
        if entry.get("refusal"):
            problems.append(
                _Problem(
                    "auth_flow",
                    f"the token call was refused: {entry['refusal']['message']}",
                    f"token refused {entry['refusal']['code']}",
                )
            )
    expired = [e for e in data_calls if (e.get("refusal") or {}).get("code") == "TokenExpired"]
    if spec.kind == "expire" and expired:
        message = "the client sent a token past the lifetime the token endpoint gave it"
        problems.append(_Problem("auth_flow", message, "expired token sent"))
    refused = [e for e in data_calls if e["status"] == 401]
    refreshed = refused and any(t["id"] > refused[0]["id"] for t in token_calls)
    if spec.kind == "revoke" and len(refused) == 1 and not refreshed:
        message = "after a 401 the client did not fetch a new token"
        problems.append(_Problem("auth_flow", message, "no refresh after a 401"))
    return problems


def verify(
    adapter: Adapter,
    options: VerifyOptions | None = None,
    *,
    target: str = "client",
    progress: Callable[[list[str], int, int], None] | None = None,
) -> RunReport:
    """Verify the client behind ``adapter``; returns the report (SPEC 2.2)."""
    options = options or VerifyOptions()
    started = time.monotonic()
    stats = {name: CheckStat(name=name) for name in CHECKS}
    findings: dict[str, Finding] = {}
    switch = _Switch()
    signer = TokenSigner()
    counter = iter(range(1, 1 << 62))
    done = 0
    with ServerThread(switch) as server:
        base_url = server.url

        def new_app(spec: JobSpec) -> ASGIApp:
            # scenario_for's output is checked against the schema in the tests, not per job.
            scenario = Scenario.from_dict(
                scenario_for(spec), source="<verify>", environ={}, validate=False
            )
            return create_app(scenario, signer=signer, journal_size=100)

        def call(outcome: _Outcome) -> None:
            try:
                outcome.answer = adapter.handle(outcome.job, options.job_timeout_s)
            except AdapterError as exc:
                outcome.problems.append(_Problem("adapter", str(exc), exc.kind))

        def judge(outcome: _Outcome, app: Any) -> _Outcome:
            partner = app.state.partner
            outcome.journal = partner.journal.snapshot(partner.masker)["requests"]
            job = outcome.job
            if outcome.answer is not None:
                if outcome.answer.get("id") != job["id"]:
                    outcome.problems.append(
                        _Problem(
                            "adapter",
                            f"the result's id is {outcome.answer.get('id')!r}, not {job['id']!r}",
                            "wrong id",
                        )
                    )
                else:
                    outcome.problems += _answer_problems(outcome)
            outcome.problems += _request_problems(outcome, "127.0.0.1")
            outcome.problems += _auth_problems(outcome)
            return outcome

        def new_outcome(spec: JobSpec, url: str) -> _Outcome:
            job = {
                "id": next(counter),
                "connection": connection_for(spec, url),
                "profile": spec.profile,
            }
            return _Outcome(spec, job, None, allowed_outcomes(spec), [])

        def run_job(spec: JobSpec) -> _Outcome:
            app = new_app(spec)
            switch.app = app
            outcome = new_outcome(spec, base_url)
            call(outcome)
            return judge(outcome, app)

        # An "expire" job's second call must come after its token expired. Its partner gets a
        # server of its own, so other jobs run while the token ages instead of a sleep.
        expiring: list[tuple[_Outcome, Any, ServerThread, float | None]] = []

        def start_expire(spec: JobSpec) -> None:
            app = new_app(spec)
            own = ServerThread(app).start()
            outcome = new_outcome(spec, own.url)
            call(outcome)
            # No first answer (the client failed): judged as it is, no second call.
            expiring.append((outcome, app, own, None if outcome.problems else time.monotonic()))

        def finish_expire(outcome: _Outcome, app: Any, first: float | None) -> _Outcome:
            if first is not None:
                # The client learned the token lives 1 s; the next call comes after it expired,
                # with the same connection: it must fetch a new token first.
                time.sleep(max(0.0, first + EXPIRE_WAIT_S - time.monotonic()))
                outcome.job = {**outcome.job, "id": next(counter)}
                call(outcome)
            return judge(outcome, app)

        def to_finding(problem: _Problem, outcome: _Outcome, inconclusive: bool = False) -> Finding:
            return Finding(
                check=problem.check,
                severity="error",
                message=problem.message,
                key=problem.key,
                profile=outcome.spec.profile,
                request={
                    "job": _DEMO_SECRETS.deep(outcome.job),
                    "requests": [_short(e) for e in outcome.journal],
                },
                response=None,
                details={
                    "mock answered": _describe(outcome.spec),
                    "client answered": None
                    if outcome.answer is None
                    else _as_result(outcome.answer),
                    "oracle allows": [e.to_dict() for e in outcome.expected],
                },
                inconclusive=inconclusive,
            )

        def record(finding: Finding) -> None:
            if finding.key not in findings:
                findings[finding.key] = finding
            stats[finding.check].errors += 1

        def count(spec: JobSpec, outcome: _Outcome) -> _Outcome:
            nonlocal done
            done += 1
            for name in CHECKS:
                stats[name].runs += name != "auth_flow" or spec.auth in {"token_api", "oauth2"}
            if progress is not None:
                progress([p.check for p in outcome.problems], done, options.examples)
            return outcome

        def judged(spec: JobSpec) -> _Outcome:
            return count(spec, run_job(spec))

        def test(spec: JobSpec, shrunk: frozenset[str]) -> None:
            outcome = judged(spec)
            # A client that hangs is reported, not shrunk: every try would cost a timeout.
            new = [
                p for p in outcome.problems if p.key not in shrunk and p.key != "adapter:timeout"
            ]
            for extra in outcome.problems:
                if extra is not (new[0] if new else None) and extra.key not in findings:
                    record(to_finding(extra, outcome))
            if new:
                raise failure(new[0].key, new[0].message, (new[0], outcome))

        def record_all(outcome: _Outcome) -> None:
            for problem in outcome.problems:
                if problem.key not in findings:
                    record(to_finding(problem, outcome))

        for spec in explicit_jobs()[: options.examples]:
            if spec.kind == "expire":
                start_expire(spec)
            else:
                record_all(judged(spec))

        found = search(
            jobs(),
            test,
            budget_left=lambda: options.examples - done - len(expiring),
            seed_value=options.seed,
            database=options.database,
        )
        for outcome, app, own, first in expiring:
            record_all(count(outcome.spec, finish_expire(outcome, app, first)))
            own.signal_stop()
        for _, _, own, _ in expiring:
            own.stop()
        for failed, inconclusive in found:
            problem, outcome = failed.payload
            findings.pop(problem.key, None)
            finding = to_finding(problem, outcome, inconclusive)
            if inconclusive:
                finding = dataclasses.replace(
                    finding, message=finding.message + " (did not repeat on replay: inconclusive)"
                )
            record(finding)
    ordered = sorted(findings.values(), key=lambda f: (CHECKS.index(f.check), f.key))
    return RunReport(
        tool="postback-kit",
        version=__version__,
        mode="verify-client",
        target=target,
        seed=options.seed,
        examples=done,
        checks=list(stats.values()),
        findings=ordered,
        duration_s=time.monotonic() - started,
        summary={"method": "GET and POST", "auth": "none, api_key, token_api, oauth2"},
    )


#: verify-client's own credentials: reports show jobs, never these.
_DEMO_SECRETS: Final = Redactor(secrets=(DEMO["api_key"], DEMO["password"], DEMO["client_secret"]))


def _short(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        k: entry[k]
        for k in ("method", "path", "query", "headers", "body", "status", "refusal", "fault")
    }


def _describe(spec: JobSpec) -> Any:
    if spec.kind == "body":
        return {"status": spec.status, "body": spec.body}
    if spec.kind == "breach":
        return {"contract breach": spec.breach}
    if spec.kind == "revoke":
        return "401 TokenExpired on the first data call, then the answer"
    if spec.kind == "expire":
        return "tokens that live 1 s; a second call 1.25 s after the first"
    return {"fault (first data call)": spec.fault}
