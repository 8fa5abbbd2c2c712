"""Strict JSON for this contract (SPEC 1.4 decision 7).

``json.loads`` silently accepts ``NaN``/``Infinity`` and duplicate keys (the last one wins),
and raises ``RecursionError`` on very deep nesting. Here all of those are plain
:class:`InvalidJSON` errors with a reason, checked before the parser could recurse.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any, Final, NoReturn

__all__ = ["MAX_DEPTH", "InvalidJSON", "loads_strict"]

#: Deepest nesting of arrays and objects a body may have (``{}`` is depth 1).
MAX_DEPTH: Final = 64

_STRING: Final = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET: Final = re.compile(r"[\[\]{}]")


class InvalidJSON(ValueError):
    """The bytes are not JSON this contract accepts; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _reject_constant(name: str) -> NoReturn:
    raise InvalidJSON(f"{name} is not a JSON value")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InvalidJSON(f"duplicate key {key!r} in one object")
            seen.add(key)
    return obj


def _check_depth(text: str) -> None:
    # Cheap exit: a document with few brackets cannot be deep.
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise InvalidJSON(f"nested deeper than {MAX_DEPTH} levels")
        else:
            depth -= 1


_DECODER: Final = json.JSONDecoder(
    object_pairs_hook=_no_duplicates, parse_constant=_reject_constant
)


def loads_strict(raw: bytes | str) -> Any:
    """Parse one JSON document strictly, or raise :class:`InvalidJSON`."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidJSON(f"not UTF-8 (byte {exc.start})") from None
    else:
        text = raw
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise InvalidJSON("empty body")
    _check_depth(text)
    try:
        return _DECODER.decode(text)
    except InvalidJSON:
        raise
    except json.JSONDecodeError as exc:
        raise InvalidJSON(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except ValueError:
        # The only other ValueError: an integer longer than Python converts.
        limit = sys.get_int_max_str_digits()
        raise InvalidJSON(f"a number has more than {limit} digits") from None
