"""Starting a server process on a free loopback port for a benchmark, and stopping it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
QUERY = "/voucher?campaignId=Birthday2023&phone=0359677657&email=dee%40bytetech.io"
HEADERS = {"token-key": "demo-key"}


@dataclass
class Server:
    name: str
    process: subprocess.Popen[str]
    url: str
    #: Seconds from starting the process to its first answer.
    cold_start_s: float = 0.0

    def rss_mb(self) -> float:
        """Resident memory now, summed over the server's processes."""
        return self._memory("VmRSS")

    def _tree(self) -> list[int]:
        """The server's pid and its workers' (uvicorn --workers spawns children)."""
        pids, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                todo.extend(int(child) for child in task.read_text().split())
        return pids

    def _memory(self, field: str) -> float:
        total = 0
        for pid in self._tree():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(rf"{field}:\s+(\d+) kB", status)
            total += int(match.group(1)) if match else 0
        return total / 1024

    def peak_rss_mb(self) -> float:
        """Peak resident memory, summed over the server's processes."""
        return self._memory("VmHWM")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(url: str, process: subprocess.Popen[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            httpx.get(url + QUERY, headers=HEADERS, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.01)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


@contextmanager
def start(name: str, command: list[str], port: int) -> Iterator[Server]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True
    )
    server = Server(name, process, f"http://127.0.0.1:{port}")
    try:
        _wait_ready(server.url, process)
        server.cold_start_s = time.perf_counter() - started
        yield server
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def mock_command(
    port: int, scenario: str = "voucher-get", workers: int = 1, server: str = "uvicorn"
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "mockserver",
        "serve",
        scenario,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--server",
        server,
    ]
