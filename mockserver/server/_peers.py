"""The admin API across ``serve --workers N``: every worker process keeps its own journal and
runtime state (nothing shared on the request path), and also listens on a Unix socket in a run
directory the supervisor creates. An admin call that reaches one worker is applied to all of
them over those sockets, and a journal read merges every worker's entries on read.

The wire format between workers is one JSON object per line each way: an operation
(:func:`apply`) and its result. Only the admin API uses it, so the partner's path pays nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any, Final

from mockserver.contract import Shape
from mockserver.models import Fault
from mockserver.models.scenario import ROTATE
from mockserver.server._partner import MockPartner

__all__ = ["Peers", "apply", "merge_journals"]

log = logging.getLogger("postback_kit.server")

#: Seconds a worker waits for another to answer an admin operation.
PEER_TIMEOUT_S: Final = 5.0

#: A journal snapshot of 10,000 entries is a few MB of JSON; lines may be that long.
_LINE_LIMIT: Final = 256 * 1024 * 1024


def apply(partner: MockPartner, op: Mapping[str, Any]) -> Any:
    """Run one admin operation on this worker's partner. The admin API has validated ``op``
    before it is sent anywhere, so this only applies it."""
    kind = op["op"]
    if kind == "journal":
        return partner.journal.snapshot(partner.masker)
    if kind == "clear":
        partner.journal.clear()
    elif kind == "reset":
        partner.reset()
    elif kind == "override":
        if "case" in op:
            partner.override_case = None if op["case"] is None else partner.case_index(op["case"])
        if "shape" in op:
            shape = op["shape"]
            partner.override_shape = shape if shape in (None, ROTATE) else Shape.parse(shape)
    elif kind == "arm":
        partner.arm(Fault.from_dict(op["fault"]), op["count"])
    elif kind == "disarm":
        partner.armed.clear()
    elif kind != "state":
        raise ValueError(f"unknown admin operation {kind!r}")
    return partner.state()


def merge_journals(snapshots: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    """One journal from each worker's ``(pid, snapshot)``: entries in arrival order, each
    tagged with the worker that served it, counts summed."""
    entries = [
        {**entry, "worker": pid} for pid, snapshot in snapshots for entry in snapshot["requests"]
    ]
    entries.sort(key=lambda entry: entry["at"])
    return {
        "requests": entries,
        "total": sum(s["total"] for _, s in snapshots),
        "kept": len(entries),
        "size": sum(s["size"] for _, s in snapshots),
        "workers": len(snapshots),
    }


class Peers:
    """This worker's end of the run directory: serves operations to the other workers and
    sends operations to all of them."""

    def __init__(self, run_dir: Path, partner: MockPartner) -> None:
        self.run_dir = run_dir
        self.partner = partner
        self.path = run_dir / f"{os.getpid()}.sock"
        self._server: asyncio.AbstractServer | None = None

    @contextlib.asynccontextmanager
    async def listening(self) -> AsyncIterator[None]:
        """Listen for the other workers while the app runs (the app's lifespan)."""
        self._server = await asyncio.start_unix_server(
            self._serve_one, path=str(self.path), limit=_LINE_LIMIT
        )
        try:
            yield
        finally:
            self._server.close()
            with contextlib.suppress(OSError):
                self.path.unlink()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            try:
                result = {"ok": apply(self.partner, json.loads(line))}
            except (ValueError, KeyError, TypeError) as exc:
                result = {"error": f"{type(exc).__name__}: {exc}"}
            writer.write(json.dumps(result).encode() + b"\n")
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def others(self) -> list[Path]:
        return sorted(p for p in self.run_dir.glob("*.sock") if p != self.path)

    async def _ask(self, path: Path, op: Mapping[str, Any]) -> tuple[int, Any] | None:
        try:
            async with asyncio.timeout(PEER_TIMEOUT_S):
                reader, writer = await asyncio.open_unix_connection(str(path), limit=_LINE_LIMIT)
                try:
                    writer.write(json.dumps(op).encode() + b"\n")
                    await writer.drain()
                    answer = json.loads(await reader.readline())
                finally:
                    writer.close()
        except (ConnectionRefusedError, FileNotFoundError):
            # A worker that died without cleaning up (the supervisor starts a new one).
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        except (OSError, TimeoutError, ValueError) as exc:
            log.warning("worker %s did not answer an admin call: %s", path.stem, exc)
            return None
        if "error" in answer:
            log.warning("worker %s refused an admin call: %s", path.stem, answer["error"])
            return None
        return int(path.stem), answer["ok"]

    async def everywhere(self, op: Mapping[str, Any]) -> list[tuple[int, Any]]:
        """Apply ``op`` here and on every other worker; ``(pid, result)`` for each that
        answered, this worker's first."""
        mine = (os.getpid(), apply(self.partner, op))
        theirs = await asyncio.gather(*(self._ask(path, op) for path in self.others()))
        return [mine, *(answer for answer in theirs if answer is not None)]
