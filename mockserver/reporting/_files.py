"""Reports written to files: the JSON report (SPEC 2.2), JUnit XML, and a Markdown or HTML
certificate. Everything here reads findings whose secrets are already masked."""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from mockserver.errors import PostbackKitError
from mockserver.models import RunReport

__all__ = ["render_html", "render_markdown", "write_document", "write_json", "write_junit"]


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise PostbackKitError(f"{path}: cannot write the report: {exc.strerror}") from None


def write_json(report: RunReport, path: Path) -> None:
    _write(path, json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n")


def write_junit(report: RunReport, path: Path) -> None:
    """One testcase per check; a failed check carries each finding with its reproduction."""
    by_check: dict[str, list[Any]] = {}
    for finding in report.findings:
        by_check.setdefault(finding.check, []).append(finding)
    suite = ET.Element(
        "testsuite",
        name=f"postback-kit {report.mode}",
        tests=str(len(report.checks)),
        failures=str(sum(1 for c in report.checks if c.status == "failed")),
        skipped=str(sum(1 for c in report.checks if c.status == "skipped")),
        time=f"{report.duration_s:.3f}",
    )
    ET.SubElement(
        ET.SubElement(suite, "properties"), "property", name="seed", value=str(report.seed)
    )
    for check in report.checks:
        case = ET.SubElement(
            suite, "testcase", classname=f"{report.mode}.{report.target}", name=check.name
        )
        findings = by_check.get(check.name, [])
        errors = [f for f in findings if f.severity == "error"]
        if check.status == "skipped":
            ET.SubElement(case, "skipped", message="does not apply or nothing was run")
        elif errors:
            failure = ET.SubElement(case, "failure", message=errors[0].message, type=check.name)
            failure.text = "\n\n".join(f"{f.message}\n{f.reproduce or ''}".strip() for f in errors)
        warnings = [f for f in findings if f.severity == "warning"]
        if warnings:
            ET.SubElement(case, "system-out").text = "\n".join(
                f"warning: {f.message}" for f in warnings
            )
    ET.indent(suite)
    _write(path, ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n")


def _latency(report: RunReport) -> str:
    figures = report.summary.get("latency") or {}
    if not figures:
        return ""
    return "p50 {p50_ms} ms, p95 {p95_ms} ms, max {max_ms} ms".format(**figures)


def _how(report: RunReport) -> str:
    return f"{report.summary.get('method', '?')}, {report.summary.get('auth', '?')}"


def _shapes(report: RunReport) -> str:
    shapes = report.summary.get("shapes") or {}
    return ", ".join(f"`{name}` ({count})" for name, count in shapes.items()) or "none seen"


def render_markdown(report: RunReport) -> str:
    verdict = "PASSED" if report.passed else "FAILED"
    title = "certificate" if report.mode == "certify" else "client verification"
    lines = [
        f"# postback-kit {title}: {verdict}",
        "",
        f"- Target: `{report.target}`",
        f"- Method and auth: {_how(report)}",
    ]
    if report.mode == "certify":
        lines.append(f"- Key variant(s) the partner uses: {_shapes(report)}")
        if _latency(report):
            lines.append(f"- Latency: {_latency(report)}")
    lines += [
        f"- Examples: {report.examples}, seed {report.seed}, {report.duration_s:.1f} s",
        f"- postback-kit {report.version}",
        "",
        "| check | status | runs |",
        "|---|---|---|",
        *(f"| {c.name} | {c.status} | {c.runs} |" for c in report.checks),
        "",
    ]
    if report.findings:
        lines += ["## Findings", ""]
        for number, finding in enumerate(report.findings, 1):
            lines += [
                f"### {number}. `{finding.check}` ({finding.severity})",
                "",
                finding.message,
                "",
            ]
            if finding.profile is not None:
                lines += ["Input: `" + json.dumps(finding.profile, ensure_ascii=False) + "`", ""]
            for name, value in finding.details.items():
                lines += [f"- {name}: `{json.dumps(value, ensure_ascii=False)}`"]
            if finding.details:
                lines.append("")
            if finding.reproduce:
                lines += ["```sh", finding.reproduce, "```", ""]
    else:
        lines += ["No findings.", ""]
    return "\n".join(lines)


def render_html(report: RunReport) -> str:
    verdict = "PASSED" if report.passed else "FAILED"
    colour = "#1a7f37" if report.passed else "#cf222e"
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(c.name)}</td><td class='{e(c.status)}'>{e(c.status)}</td>"
        f"<td>{c.runs}</td></tr>"
        for c in report.checks
    )
    findings = (
        "".join(
            f"<section><h3>{n}. <code>{e(f.check)}</code> ({e(f.severity)})</h3>"
            f"<p>{e(f.message)}</p>"
            + (
                f"<p>Input: <code>{e(json.dumps(f.profile, ensure_ascii=False))}</code></p>"
                if f.profile
                else ""
            )
            + (f"<pre>{e(f.reproduce)}</pre>" if f.reproduce else "")
            + "</section>"
            for n, f in enumerate(report.findings, 1)
        )
        or "<p>No findings.</p>"
    )
    latency_line = f"<li>Latency: {e(_latency(report))}</li>" if _latency(report) else ""
    style = (
        "body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
        f"h1 span{{color:{colour}}} table{{border-collapse:collapse}}"
        "td,th{border:1px solid #ccc;padding:.3em .8em}"
        ".failed{color:#cf222e} .passed{color:#1a7f37} .warning{color:#9a6700} .skipped{color:#666}"
        "pre{background:#f6f8fa;padding:.8em;overflow-x:auto;white-space:pre-wrap}"
    )
    run = f"{report.examples}, seed {report.seed}, {report.duration_s:.1f} s"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>postback-kit {e(report.mode)}: {verdict}</title>
<style>{style}</style></head>
<body><h1>postback-kit {e(report.mode)}: <span>{verdict}</span></h1>
<ul><li>Target: <code>{e(report.target)}</code></li>
<li>Method and auth: {e(_how(report))}</li>
<li>Key variant(s): {e(_shapes(report).replace("`", ""))}</li>{latency_line}
<li>Examples: {run}; postback-kit {e(report.version)}</li></ul>
<table><tr><th>check</th><th>status</th><th>runs</th></tr>{rows}</table>
<h2>Findings</h2>{findings}</body></html>
"""


def write_document(report: RunReport, path: Path) -> None:
    """A Markdown (``.md``) or HTML (``.html``/``.htm``) certificate."""
    suffix = path.suffix.lower()
    if suffix in {".html", ".htm"}:
        _write(path, render_html(report))
    elif suffix in {".md", ".markdown"}:
        _write(path, render_markdown(report))
    else:
        raise PostbackKitError(f"{path}: --report takes a .md or .html file name")
