""" "Did you mean ...?" for misspelt names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["did_you_mean"]


def did_you_mean(value: object, options: Iterable[object]) -> str:
    """``"; did you mean 'api_key'?"`` for the closest option (case-insensitive), or ""."""
    choices = [str(o) for o in options]
    text = str(value)
    for choice in choices:
        if choice.lower() == text.lower():
            return f"; did you mean {choice!r}?"
    by_lower = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(text.lower(), list(by_lower), n=1)
    return f"; did you mean {by_lower[close[0]]!r}?" if close else ""
