"""The Hypothesis search certify and verify-client share: run a test over generated inputs,
keep and shrink each cause of failure on its own, and search on for new causes.

A test raises :func:`failure` for a problem. Each dedupe key gets an exception class of its
own, so Hypothesis treats every cause as a separate bug and shrinks each. Hypothesis stops
generating once it has something to shrink, so the search runs in rounds: each round is told
the causes already shrunk (the test ignores those) and spends what is left of the budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, TypeVar

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.errors import Flaky

__all__ = ["Failed", "failure", "search"]

T = TypeVar("T")

#: Rounds at most: one per cause a run can plausibly report.
MAX_ROUNDS: Final = 24


class Failed(Exception):
    """A problem found by a test, with whatever the caller needs to report it."""

    key: str
    payload: Any


_KINDS: dict[str, type[Failed]] = {}


def failure(key: str, message: str, payload: Any) -> Failed:
    """The exception to raise for a problem with dedupe ``key``."""
    kind = _KINDS.get(key)
    if kind is None:
        kind = _KINDS[key] = type(f"Failed[{key}]", (Failed,), {})
    error = kind(message)
    error.key, error.payload = key, payload
    return error


def _kept(error: BaseException, *, inconclusive: bool = False) -> list[tuple[Failed, bool]]:
    """The failures inside what Hypothesis raised, each marked inconclusive when it came
    through a :class:`~hypothesis.errors.Flaky` (it did not repeat on replay)."""
    if isinstance(error, Failed):
        return [(error, inconclusive)]
    if isinstance(error, Flaky):
        inconclusive = True
    if isinstance(error, BaseExceptionGroup):
        return [
            kept for inner in error.exceptions for kept in _kept(inner, inconclusive=inconclusive)
        ]
    if inconclusive and error.__cause__ is not None:
        return _kept(error.__cause__, inconclusive=True)
    return []


def _bind(test: Callable[[T, frozenset[str]], None], known: frozenset[str]) -> Callable[[T], None]:
    def run(value: T) -> None:
        test(value, known)

    return run


def search(
    strategy: st.SearchStrategy[T],
    test: Callable[[T, frozenset[str]], None],
    *,
    budget_left: Callable[[], int],
    seed_value: int,
    database: Path | None,
    deadline: float | None = None,
) -> list[tuple[Failed, bool]]:
    """Run ``test(value, shrunk_keys)`` over generated values until the budget is spent or a
    round finds nothing new; returns the shrunk failures (and whether each is inconclusive)."""
    shrunk: set[str] = set()
    found: list[tuple[Failed, bool]] = []
    store = DirectoryBasedExampleDatabase(str(database)) if database is not None else None
    for round_number in range(MAX_ROUNDS):
        remaining = budget_left()
        if remaining <= 0 or (deadline is not None and time.monotonic() > deadline):
            break
        wrapped: Callable[..., None] = given(strategy)(_bind(test, frozenset(shrunk)))
        wrapped = seed(seed_value + round_number)(wrapped)
        wrapped = settings(
            max_examples=remaining,
            deadline=None,
            database=store,
            derandomize=False,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
            report_multiple_bugs=True,
            print_blob=False,
        )(wrapped)
        try:
            wrapped()
        except Exception as error:
            kept = _kept(error)
            if not kept:
                raise
            for failed, inconclusive in kept:
                shrunk.add(failed.key)
                found.append((failed, inconclusive))
        else:
            break
    return found
