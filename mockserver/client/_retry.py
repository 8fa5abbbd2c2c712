"""When to retry a data call, and how long to wait (bounded, jittered, honouring
``Retry-After``)."""

from __future__ import annotations

import random
import time
from email.utils import parsedate_to_datetime

from mockserver.models import RetryPolicy

__all__ = ["backoff_s", "retry_after_s", "should_retry"]


def should_retry(status: int | None, *, method: str, policy: RetryPolicy) -> bool:
    """A transport failure (``status`` None), a 5xx or a 429 may be retried; a POST only
    when the connection says so."""
    if method == "POST" and not policy.retry_post:
        return False
    return status is None or status == 429 or status >= 500


def retry_after_s(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), or None
    when it is absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_s(
    attempt: int, policy: RetryPolicy, retry_after: str | None, rng: random.Random
) -> float:
    """The wait before attempt ``attempt + 1``: ``Retry-After`` when readable, else
    exponential backoff with jitter; never more than ``max_wait_s``."""
    told = retry_after_s(retry_after)
    if told is None:
        told = policy.backoff_s * (2 ** (attempt - 1)) * rng.uniform(0.5, 1.5)
    return min(told, policy.max_wait_s)
