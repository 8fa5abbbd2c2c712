"""Throughput and latency of the mock partner against a bare Starlette app, in one run.

    python bench/bench_server.py [--rounds 3] [--seconds 5] [--connections 50]

Both servers run as separate processes on 127.0.0.1 (uvicorn, one worker, access log off,
the same event loop and HTTP parser). ``wrk`` drives them in alternating rounds with the
seed's GET request (API key header included); the table gives the median round of each and
the mock's ratio to the bare app. Needs ``wrk`` (Debian: ``apt-get install wrk``).
Loopback only; every round is bounded in time.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass

import httpx

from bench._servers import QUERY, free_port, mock_command, start


@dataclass
class Round:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def _ms(value: str, unit: str) -> float:
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return float(value) * scale


def wrk(url: str, *, seconds: float, connections: int) -> Round:
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "-H",
        "token-key: demo-key",
        url + QUERY,
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 30)
    text = out.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    lat = {p: _ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)$", text, re.M)}
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    count = int(bad.group(1)) if bad else 0
    if errors:
        count += sum(int(g) for g in errors.groups())
    return Round(rps=rps, p50_ms=lat["50"], p99_ms=lat["99"], errors=count)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument(
        "--quick", action="store_true", help="one short round (proves the harness works; CI)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="also measure the mock with this many workers"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.seconds, args.warmup = 1, 1.0, 1.0
    if shutil.which("wrk") is None:
        print("bench_server: wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2

    mock_port, bare_port = free_port(), free_port()
    mock_cmd = mock_command(mock_port)
    bare_cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.bare_app:app",
        "--port",
        str(bare_port),
        "--no-access-log",
        "--log-level",
        "warning",
        "--lifespan",
        "off",
        "--no-server-header",
    ]
    results: dict[str, list[Round]] = {"mock": [], "bare": [], "mock-n": []}
    with contextlib.ExitStack() as stack:
        mock = stack.enter_context(start("mock", mock_cmd, mock_port))
        bare = stack.enter_context(start("bare", bare_cmd, bare_port))
        servers = [bare, mock]
        if args.workers > 1:
            port = free_port()
            command = mock_command(port, workers=args.workers)
            servers.append(stack.enter_context(start("mock-n", command, port)))
        for server in servers:
            wrk(server.url, seconds=args.warmup, connections=args.connections)
        warm_rss = {s.name: s.rss_mb() for s in servers}
        for i in range(args.rounds):
            for server in servers if i % 2 == 0 else reversed(servers):
                results[server.name].append(
                    wrk(server.url, seconds=args.seconds, connections=args.connections)
                )
        rss = {s.name: s.peak_rss_mb() for s in servers}
        end_rss = {s.name: s.rss_mb() for s in servers}
        cold = {s.name: s.cold_start_s for s in servers}
        journal = httpx.get(mock.url + "/__admin/requests").json()

    def median(name: str) -> Round:
        rounds = sorted(results[name], key=lambda r: r.rps)
        return rounds[len(rounds) // 2]

    print(
        f"wrk -t1 -c{args.connections}, {args.rounds} alternating rounds of {args.seconds:g}s "
        f"(median round), {os.cpu_count()} cores"
    )
    print(f"{'server':<34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'peak RSS':>9}")
    labels = {
        "bare": "bare Starlette (uvicorn, 1 worker)",
        "mock": "mock voucher-get (uvicorn, 1 wkr)",
        "mock-n": f"mock voucher-get ({args.workers} workers)",
    }
    shown = [name for name in ("bare", "mock", "mock-n") if results[name]]
    for name in shown:
        r = median(name)
        print(
            f"{labels[name]:<34} {r.rps:>9.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} "
            f"{r.errors:>7} {rss[name]:>7.1f}MB"
        )
    ratio = median("mock").rps / median("bare").rps
    print(
        f"mock / bare throughput: {ratio:.0%} (target >= 70%); journal kept "
        f"{journal['kept']} of {journal['total']} requests (ring of {journal['size']})"
    )
    for name in shown:
        print(
            f"{name}: cold start {cold[name]:.2f} s (spawn to first answer); RSS after warm-up "
            f"{warm_rss[name]:.1f} MB, after the rounds {end_rss[name]:.1f} MB "
            f"({end_rss[name] - warm_rss[name]:+.1f} MB)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
