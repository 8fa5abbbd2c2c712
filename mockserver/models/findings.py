"""Findings as values (STYLE: failures are values): what certify and verify-client report,
with a stable check name, a severity, a dedupe key that survives shrinking, and a
reproduction with every secret already masked."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from mockserver.models._secret import Redactor

__all__ = ["CheckStat", "Finding", "RunReport", "Severity", "pii_redactor"]

#: The profile fields ``--redact-pii`` masks.
PII_FIELDS: Final = ("phone", "email")


def pii_redactor(findings: Iterable[Finding]) -> Redactor:
    """A redactor for the phone numbers and emails of ``findings``' profiles: as written,
    percent-encoded and JSON-escaped, as they appear in URLs, curl lines and bodies. Values
    under 4 characters are left alone (masking "1" everywhere would garble the report, and
    reveals nothing)."""
    redactor = Redactor()
    for finding in findings:
        for name in PII_FIELDS:
            value = (finding.profile or {}).get(name)
            if isinstance(value, str) and len(value) >= 4:
                redactor.add(value)
                redactor.add(json.dumps(value)[1:-1])
                redactor.add(json.dumps(value, ensure_ascii=False)[1:-1])
    return redactor


Severity = Literal["error", "warning"]


@dataclass(frozen=True, kw_only=True)
class Finding:
    check: str
    severity: Severity
    message: str
    #: Stays the same for one cause while Hypothesis shrinks the input.
    key: str
    profile: Mapping[str, Any] | None = None
    request: Mapping[str, Any] | None = None
    response: Mapping[str, Any] | None = None
    reproduce: str | None = None
    #: Extra, mode-specific: the client's answer and the oracle's (verify-client), ...
    details: Mapping[str, Any] = field(default_factory=dict)
    #: The failure did not repeat on replay (flaky partner, transport noise).
    inconclusive: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "check": self.check,
            "severity": self.severity,
            "message": self.message,
            "request": self.request,
            "response": self.response,
            "reproduce": self.reproduce,
        }
        if self.profile is not None:
            out["profile"] = dict(self.profile)
        if self.details:
            out["details"] = dict(self.details)
        if self.inconclusive:
            out["inconclusive"] = True
        return out


@dataclass(kw_only=True)
class CheckStat:
    name: str
    runs: int = 0
    errors: int = 0
    warnings: int = 0
    applies: bool = True

    @property
    def status(self) -> str:
        if not self.applies or self.runs == 0:
            return "skipped"
        if self.errors:
            return "failed"
        if self.warnings:
            return "warning"
        return "passed"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "runs": self.runs}


@dataclass(kw_only=True)
class RunReport:
    """A whole run; :meth:`to_dict` is the JSON report of SPEC 2.2."""

    tool: str
    version: str
    mode: Literal["certify", "verify-client"]
    target: str
    seed: int
    examples: int
    checks: list[CheckStat]
    findings: list[Finding]
    duration_s: float = 0.0
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def redact_pii(self) -> tuple[RunReport, Callable[[str], str]]:
        """This report with every finding's phone numbers and emails masked (``--redact-pii``),
        and the masking function, for other text shown with it (curl lines)."""
        redactor = pii_redactor(self.findings)
        findings = [
            dataclasses.replace(
                f,
                message=redactor.text(f.message),
                profile=redactor.deep(f.profile),
                request=redactor.deep(f.request),
                response=redactor.deep(f.response),
                reproduce=redactor.deep(f.reproduce),
                details=redactor.deep(f.details),
            )
            for f in self.findings
        ]
        return dataclasses.replace(self, findings=findings), redactor.text

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "version": self.version,
            "mode": self.mode,
            "target": self.target,
            "seed": self.seed,
            "examples": self.examples,
            "passed": self.passed,
            "duration_s": round(self.duration_s, 3),
            "summary": self.summary,
            "checks": [c.to_dict() for c in self.checks],
            "findings": [f.to_dict() for f in self.findings],
        }
