"""A ``curl`` command line that reproduces a data call."""

from __future__ import annotations

import shlex

from mockserver.client._request import PreparedRequest
from mockserver.models import Redactor

__all__ = ["to_curl"]


def to_curl(
    request: PreparedRequest,
    header: tuple[str, str] | None,
    redactor: Redactor,
    *,
    show_secrets: bool = False,
) -> str:
    """The call as one shell line. Credentials are ``***`` unless ``show_secrets`` (for the
    partner's own terminal, never for a report)."""

    def hide(name: str, value: str) -> str:
        return value if show_secrets else redactor.header(name, value)

    def text(value: str) -> str:
        return value if show_secrets else redactor.text(value)

    parts = ["curl", "-sS"]
    if request.method != "GET":
        parts += ["-X", request.method]
    parts.append(shlex.quote(text(request.url)))
    headers = [h for h in request.headers if h[0] not in {"user-agent", "accept"}]
    if header is not None:
        headers.append(header)
    for name, value in headers:
        parts += ["-H", shlex.quote(f"{name}: {hide(name, value)}")]
    if request.content is not None:
        parts += ["--data-raw", shlex.quote(text(request.content.decode("utf-8", "replace")))]
    return " ".join(parts)
