"""Faults: what a real partner does to a client (SPEC 3), as scenario data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

__all__ = ["BREACHES", "FAULT_TYPES", "WIRE_FAULTS", "Fault", "FaultMix", "FaultType"]

FaultType = Literal[
    "delay",
    "hang",
    "reset",
    "empty_reply",
    "malformed_json",
    "truncate",
    "content_type",
    "html_error",
    "status",
    "rate_limit",
    "oversized",
    "redirect",
    "contract",
]

FAULT_TYPES: Final[tuple[FaultType, ...]] = get_args(FaultType)

#: Faults that happen on the TCP connection itself, below HTTP.
WIRE_FAULTS: Final = frozenset({"reset", "empty_reply", "truncate"})

#: Every way a body can break SPEC 1.2, one contract fault each.
BREACHES: Final = (
    "success_string",
    "success_number",
    "success_missing",
    "success_ambiguous",
    "data_missing",
    "data_ambiguous",
    "data_null_on_success",
    "data_not_object",
    "error_code_wrong_type",
    "error_code_ambiguous",
    "message_wrong_type",
    "message_ambiguous",
    "top_level_array",
    "duplicate_keys",
    "nan",
)


@dataclass(frozen=True, kw_only=True)
class Fault:
    """One fault. Only the fields of its ``type`` matter; the rest keep their defaults."""

    type: FaultType
    probability: float | None = None
    seconds: float | None = None
    min_s: float | None = None
    max_s: float | None = None
    mode: Literal["content_length", "chunked"] = "content_length"
    content_type: str = "text/plain"
    status: int | None = None
    body: str | None = None
    retry_after: str | int = 1
    bytes: int = 2 * 1024 * 1024
    to: Literal["same_origin", "cross_origin"] = "same_origin"
    location: str | None = None
    breach: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Fault:
        """A fault from data already validated against the scenario schema's ``fault``."""
        fields = dict(data)
        defaults = {
            "hang": ("seconds", 60.0),
            "html_error": ("status", 502),
            "redirect": ("status", 302),
        }
        if fields["type"] in defaults:
            name, value = defaults[fields["type"]]
            fields.setdefault(name, value)
        return cls(**fields)

    def describe(self) -> str:
        """A short human name: ``status 503``, ``delay 0.2s``, ``contract nan``..."""
        kind = self.type
        if kind == "delay":
            if self.seconds is not None:
                return f"delay {self.seconds:g}s"
            return f"delay {self.min_s:g}-{self.max_s:g}s"
        if kind == "hang":
            return f"hang {self.seconds:g}s"
        if kind in {"status", "html_error"}:
            return f"{kind} {self.status or 502}"
        if kind == "truncate":
            return f"truncate ({self.mode})"
        if kind == "rate_limit":
            return f"rate_limit (Retry-After: {self.retry_after})"
        if kind == "oversized":
            return f"oversized {self.bytes} bytes"
        if kind == "redirect":
            return f"redirect {self.status or 302} {self.location or self.to}"
        if kind == "contract":
            return f"contract {self.breach}"
        if kind == "content_type":
            return f"content_type {self.content_type}"
        return kind


@dataclass(frozen=True, kw_only=True)
class FaultMix:
    """Faults drawn at random over all partner requests, replayable by ``seed``."""

    mix: tuple[Fault, ...]
    seed: int = 0
