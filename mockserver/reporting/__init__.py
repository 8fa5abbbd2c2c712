"""Reports of a certify or verify-client run: terminal, JSON, JUnit XML, Markdown/HTML."""

from mockserver.reporting._files import (
    render_html,
    render_markdown,
    write_document,
    write_json,
    write_junit,
)
from mockserver.reporting._terminal import LiveProgress, print_summary

__all__ = [
    "LiveProgress",
    "print_summary",
    "render_html",
    "render_markdown",
    "write_document",
    "write_json",
    "write_junit",
]
