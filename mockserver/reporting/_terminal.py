"""Live progress and the summary on the terminal: a rich progress bar on a TTY, plain lines
otherwise (and with CI=true)."""

from __future__ import annotations

import os
from typing import IO, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mockserver.models import RunReport

__all__ = ["LiveProgress", "print_summary"]


class LiveProgress:
    """Counts examples and failed checks as they come; a context manager."""

    def __init__(self, stream: IO[str], label: str, *, plain: bool | None = None) -> None:
        self.console = Console(file=stream, highlight=False, soft_wrap=True)
        ci = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
        self.plain = plain if plain is not None else (ci or not self.console.is_terminal)
        self.label = label
        self.failed: dict[str, int] = {}
        self._bar: Progress | None = None
        self._task: Any = None
        self._last_shown = -1

    def __enter__(self) -> LiveProgress:
        if not self.plain:
            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=None, status="")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def _status(self) -> str:
        if not self.failed:
            return "no findings so far"
        return "failing: " + ", ".join(f"{k} ({v})" for k, v in sorted(self.failed.items()))

    def update(self, failed_checks: list[str], done: int, total: int) -> None:
        for check in failed_checks:
            self.failed[check] = self.failed.get(check, 0) + 1
        if self._bar is not None:
            self._bar.update(
                self._task, completed=done, total=max(total, done), status=self._status()
            )
            return
        step = max(1, total // 10)
        if (done == 1 or done % step == 0 or done == total) and done != self._last_shown:
            self._last_shown = done
            stage = f"{done}/{total} examples" if done <= total else f"{done} answers (shrinking)"
            self.console.print(f"{self.label}: {stage}; {self._status()}")


def print_summary(
    report: RunReport, stream: IO[str], *, local_curls: dict[str, str] | None = None
) -> None:
    console = Console(file=stream, highlight=False, soft_wrap=True)
    table = Table(title=f"postback-kit {report.mode}: {report.target}", title_justify="left")
    table.add_column("check")
    table.add_column("status")
    table.add_column("runs", justify="right")
    colours = {"passed": "green", "failed": "red", "warning": "yellow", "skipped": "dim"}
    for check in report.checks:
        table.add_row(check.name, f"[{colours[check.status]}]{check.status}[/]", str(check.runs))
    console.print(table)
    for number, finding in enumerate(report.findings, 1):
        colour = "red" if finding.severity == "error" else "yellow"
        console.print(
            f"\n[{colour}]{number}. {finding.check}[/] ({finding.severity}): {finding.message}"
        )
        if finding.profile is not None:
            console.print(f"   input: {finding.profile}")
        for name, value in finding.details.items():
            console.print(f"   {name}: {value}")
        reproduce = (local_curls or {}).get(finding.key) or finding.reproduce
        if reproduce:
            console.print(f"   reproduce: {reproduce}", markup=False)
    verdict = "[green]PASSED[/]" if report.passed else "[red]FAILED[/]"
    errors = sum(1 for f in report.findings if f.severity == "error")
    warnings = len(report.findings) - errors
    console.print(
        f"\n{verdict}: {report.examples} examples, {errors} error(s), {warnings} warning(s), "
        f"seed {report.seed} (rerun with --seed {report.seed}), {report.duration_s:.1f} s"
    )
