"""Building the data call from a connection and a profile (SPEC 1.1)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from mockserver._version import __version__
from mockserver.models import Connection

__all__ = ["USER_AGENT", "PreparedRequest", "build_request", "encode_query", "render"]

USER_AGENT: Final = f"postback-kit/{__version__}"

_TEMPLATE: Final = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")

Profile = Mapping[str, Any]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(template: str, profile: Profile) -> str:
    """``{{field}}`` replaced by the profile's value; an absent or null value is ""."""
    if "{{" not in template:
        return template
    return _TEMPLATE.sub(lambda m: _text(profile.get(m.group(1))), template)


def _render_json(value: Any, profile: Profile) -> Any:
    if isinstance(value, str):
        return render(value, profile)
    if isinstance(value, Mapping):
        return {k: _render_json(v, profile) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_json(v, profile) for v in value]
    return value


def encode_query(pairs: list[tuple[str, str]]) -> str:
    """Percent-encode every byte outside the unreserved set (RFC 3986): a space is ``%20``
    and a plus ``%2B``, so partners that form-decode and partners that percent-decode read
    the same value."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """The data call before credentials: method, full URL, headers and JSON body."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    content: bytes | None


def build_request(connection: Connection, profile: Profile) -> PreparedRequest:
    """The data call for ``profile``: params rendered in order, fixed headers as they are,
    the rendered JSON payload for POST."""
    params = [(name, render(value, profile)) for name, value in connection.params]
    url = connection.endpoint
    if params:
        url += ("&" if "?" in url else "?") + encode_query(params)
    headers: list[tuple[str, str]] = [("user-agent", USER_AGENT), ("accept", "application/json")]
    headers.extend(connection.headers.items())
    content = None
    if connection.method == "POST":
        payload = _render_json(connection.payload or {}, profile)
        content = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers.append(("content-type", "application/json"))
    return PreparedRequest(connection.method, url, tuple(headers), content)
