"""How verify-client talks to the client under test (SPEC 2.1): a Python callable, or a
process speaking JSON Lines on stdin/stdout. Whatever the client does wrong (crash, garbage,
wrong id, silence) becomes an :class:`AdapterError`; the run goes on, restarting the process
where needed."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import importlib
import inspect
import json
import os
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Final, Protocol

from mockserver.errors import PostbackKitError

__all__ = ["Adapter", "AdapterError", "CommandAdapter", "PythonAdapter", "load_callable"]

#: Lines of a command's stderr kept to show when it misbehaves.
_STDERR_LINES: Final = 20


class AdapterError(Exception):
    """The client did not answer a job properly; ``kind`` is a stable cause for dedupe."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


class Adapter(Protocol):
    def handle(self, job: dict[str, Any], timeout: float) -> dict[str, Any]: ...

    def close(self) -> None: ...


def load_callable(spec: str) -> Callable[..., Any]:
    """``pkg.mod:func``, imported with the current directory on ``sys.path``."""
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise PostbackKitError(f"--python takes MODULE:FUNCTION, got {spec!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise PostbackKitError(f"--python {spec}: cannot import {module_name!r}: {exc}") from None
    target = getattr(module, attribute, None)
    if not callable(target):
        raise PostbackKitError(f"--python {spec}: {module_name} has no callable {attribute!r}")
    return target  # type: ignore[no-any-return]


class PythonAdapter:
    """A sync or async ``func(job) -> dict``, run on an event loop of the adapter's own."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, daemon=True, name="verify-python"
        )
        self._thread.start()

    async def _call(self, job: dict[str, Any]) -> Any:
        if inspect.iscoroutinefunction(self.func):
            return await self.func(job)
        result = await asyncio.to_thread(self.func, job)
        if inspect.isawaitable(result):
            return await result
        return result

    def handle(self, job: dict[str, Any], timeout: float) -> dict[str, Any]:
        future = asyncio.run_coroutine_threadsafe(
            asyncio.wait_for(self._call(job), timeout), self._loop
        )
        try:
            result = future.result(timeout + 1)
        except TimeoutError:
            raise AdapterError(
                "timeout", f"the client did not answer within {timeout:g}s"
            ) from None
        except Exception as exc:
            raise AdapterError("crash", f"the client raised {type(exc).__name__}: {exc}") from None
        if not isinstance(result, dict):
            raise AdapterError(
                "not_a_dict", f"the client returned {type(result).__name__}, not a dict"
            )
        return result

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()


class CommandAdapter:
    """A process started once (and again after it dies or hangs): one JSON job per line on
    its stdin, one JSON result per line on its stdout."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.argv = shlex.split(command)
        if not self.argv:
            raise PostbackKitError("--command is empty")
        self._process: subprocess.Popen[str] | None = None
        self._lines: collections.deque[str] = collections.deque()
        self._ready = threading.Condition()
        self._stderr: collections.deque[str] = collections.deque(maxlen=_STDERR_LINES)

    def _start(self) -> subprocess.Popen[str]:
        try:
            process = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
            )
        except OSError as exc:
            raise PostbackKitError(
                f"--command {self.command!r}: cannot start: {exc.strerror}"
            ) from None
        self._lines.clear()
        threading.Thread(target=self._read_stdout, args=(process,), daemon=True).start()
        threading.Thread(target=self._read_stderr, args=(process,), daemon=True).start()
        self._process = process
        return process

    def _read_stdout(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with self._ready:
                if process is self._process:
                    self._lines.append(line)
                    self._ready.notify_all()
        with self._ready:
            self._ready.notify_all()

    def _read_stderr(self, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            self._stderr.append(line.rstrip("\n"))

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        process.kill()
        process.wait(5)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()

    def _stderr_tail(self) -> str:
        return f" (stderr: {self._stderr[-1]})" if self._stderr else ""

    def handle(self, job: dict[str, Any], timeout: float) -> dict[str, Any]:
        process = self._process
        if process is None or process.poll() is not None:
            process = self._start()
        assert process.stdin is not None
        try:
            process.stdin.write(json.dumps(job, ensure_ascii=False) + "\n")
            process.stdin.flush()
        except OSError:
            self._stop()
            raise AdapterError("crash", f"the client process exited{self._stderr_tail()}") from None
        deadline = time.monotonic() + timeout
        problems: list[str] = []
        while True:
            with self._ready:
                while not self._lines:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        self._stop()
                        raise AdapterError(
                            "timeout",
                            f"no result line within {timeout:g}s; the process was restarted",
                        )
                    if process.poll() is not None and not self._lines:
                        self._stop()
                        raise AdapterError(
                            "crash",
                            f"the client process exited with {process.returncode}"
                            + self._stderr_tail(),
                        )
                    self._ready.wait(min(left, 0.05))
                line = self._lines.popleft()
            try:
                result = json.loads(line)
            except ValueError:
                problems.append(f"not JSON on stdout: {line.strip()[:80]!r}")
                continue
            if not isinstance(result, dict) or "id" not in result:
                problems.append(f"a line without an id: {line.strip()[:80]!r}")
                continue
            if result["id"] != job["id"]:
                problems.append(
                    f"a result for job {result['id']!r} while waiting for {job['id']!r}"
                )
                continue
            if problems:
                raise AdapterError("protocol", "; ".join(problems))
            return result

    def close(self) -> None:
        self._stop()
