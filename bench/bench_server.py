"""Throughput, latency and memory of the mock partner side by side with a bare Starlette app and
the tools users would otherwise pick, in one run.

    python bench/bench_server.py              # everything that can be installed (~6 min)
    python bench/bench_server.py --quick      # mock and bare app only, a few seconds (CI)

Every server runs as its own process on 127.0.0.1 with the same stub: the seed's GET with the
API key in ``token-key`` answered by the seed's 200 JSON body. ``wrk -t1 -cN`` drives them in
alternating rounds after a warm-up (WireMock: 30 s, for its JIT); the table gives each one's
median round, its peak RSS summed over its processes, and ratios to the bare app on the same
ASGI server and to WireMock. WireMock, Prism and Mountebank come from the npm registry into
``bench/.anchors``; one that cannot be installed is reported as skipped. Needs ``wrk``
(Debian: ``apt-get install wrk``). Loopback only; every round is bounded in time.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench._anchors import anchors
from bench._servers import HEADERS, QUERY, Server, free_port, mock_command, start


@dataclass
class Round:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


@dataclass
class Target:
    name: str
    label: str
    command: list[str]
    port: int
    #: The bare app on the same ASGI server, for the ratio (mock targets only).
    baseline: str = ""
    warmup_s: float | None = None
    skipped: str = ""
    rounds: list[Round] = field(default_factory=list)
    server: Server | None = None
    cold_start_s: float = 0.0
    warm_rss: float = 0.0
    end_rss: float = 0.0
    peak_rss: float = 0.0

    def median(self) -> Round:
        rounds = sorted(self.rounds, key=lambda r: r.rps)
        return rounds[len(rounds) // 2]


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
        f"token-key: {HEADERS['token-key']}",
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


def _uvicorn_bare(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.bare_app:app",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        "--lifespan",
        "off",
        "--no-server-header",
    ]


def _granian_bare(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "bench.bare_app:app",
    ]


def targets(args: argparse.Namespace, workdir: Path) -> list[Target]:
    """What this run measures, in table order."""
    port = free_port
    found: list[Target] = [
        Target("bare", "bare Starlette (uvicorn, 1 worker)", _uvicorn_bare(p := port()), p),
        Target("mock", "mock (uvicorn, 1 worker)", mock_command(p := port()), p, "bare"),
    ]
    if args.workers > 1:
        command = mock_command(p := port(), workers=args.workers)
        found.append(
            Target("mock-n", f"mock (uvicorn, {args.workers} workers)", command, p, "bare")
        )
    if not args.quick:
        granian = importlib.util.find_spec("granian") is not None
        why = "" if granian else "granian is not installed (pip install 'postback-kit[granian]')"
        found.append(
            Target("bare-g", "bare Starlette (granian, 1 worker)", _granian_bare(p := port()), p)
        )
        found.append(
            Target(
                "mock-g",
                "mock (granian, 1 worker)",
                mock_command(p := port(), server="granian"),
                p,
                "bare-g",
            )
        )
        if args.workers > 1:
            command = mock_command(p := port(), workers=args.workers, server="granian")
            found.append(
                Target("mock-gn", f"mock (granian, {args.workers} workers)", command, p, "bare-g")
            )
        for target in found:
            if "granian" in target.label and not granian:
                target.skipped = why
    if not args.quick and args.anchors:
        ports = {name: port() for name in ("wiremock", "wiremock-nj", "prism", "mountebank")}
        for anchor in anchors(workdir, ports, admin_port=port()):
            found.append(
                Target(
                    anchor.name,
                    anchor.label,
                    anchor.command,
                    ports[anchor.name],
                    warmup_s=anchor.warmup_s,
                    skipped=anchor.skipped,
                )
            )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load before rounds")
    parser.add_argument(
        "--quick", action="store_true", help="mock and bare app, one 1 s round (CI)"
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="also measure the mock with this many workers"
    )
    parser.add_argument(
        "--no-anchors",
        dest="anchors",
        action="store_false",
        help="skip WireMock, Prism, Mountebank",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.seconds, args.warmup, args.workers = 1, 1.0, 1.0, 1
    if shutil.which("wrk") is None:
        print("bench_server: wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="bench-") as tmp, contextlib.ExitStack() as stack:
        planned = targets(args, Path(tmp))
        running = [t for t in planned if not t.skipped]
        for target in running:
            print(f"starting {target.label} ...", file=sys.stderr, flush=True)
            try:
                target.server = stack.enter_context(start(target.name, target.command, target.port))
            except RuntimeError as exc:
                target.skipped = f"did not start: {exc}"
                continue
            warm = target.warmup_s if target.warmup_s is not None else args.warmup
            wrk(target.server.url, seconds=warm, connections=args.connections)
            target.cold_start_s = target.server.cold_start_s
            target.warm_rss = target.server.rss_mb()
        running = [t for t in running if t.server is not None]
        for i in range(args.rounds):
            print(f"round {i + 1} of {args.rounds} ...", file=sys.stderr, flush=True)
            for target in running if i % 2 == 0 else list(reversed(running)):
                assert target.server is not None
                target.rounds.append(
                    wrk(target.server.url, seconds=args.seconds, connections=args.connections)
                )
        for target in running:
            assert target.server is not None
            target.peak_rss, target.end_rss = target.server.peak_rss_mb(), target.server.rss_mb()
        mock_url = next(t.server.url for t in running if t.name == "mock" and t.server)
        journal = httpx.get(mock_url + "/__admin/requests").json()
        merged_read_s = None
        multi = next((t for t in running if t.name == "mock-n" and t.server), None)
        if multi is not None and multi.server is not None:
            started = time.perf_counter()
            merged = httpx.get(multi.server.url + "/__admin/requests", timeout=60).json()
            merged_read_s = time.perf_counter() - started
            single_started = time.perf_counter()
            httpx.get(mock_url + "/__admin/requests", timeout=60)
            single_read_s = time.perf_counter() - single_started
    report(args, planned, journal)
    if merged_read_s is not None:
        print(
            f"journal read: 1 worker, {journal['kept']:,} entries: {single_read_s * 1000:.0f} ms; "
            f"{args.workers} workers merged, {merged['kept']:,} entries: "
            f"{merged_read_s * 1000:.0f} ms"
        )
    return 0


def report(args: argparse.Namespace, planned: list[Target], journal: dict[str, object]) -> None:
    by_name = {t.name: t for t in planned}
    measured = [t for t in planned if t.rounds]
    wiremock = by_name.get("wiremock")
    wm_rps = wiremock.median().rps if wiremock is not None and wiremock.rounds else None
    print(
        f"\nwrk -t1 -c{args.connections}, {args.rounds} alternating rounds of {args.seconds:g} s "
        f"(median round) after {args.warmup:g} s warm-up (WireMock 30 s); "
        f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}"
    )
    header = (
        f"{'server':<42} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'peak RSS':>9}"
    )
    header += f" {'vs bare':>8} {'vs WireMock':>11}"
    print(header)
    for target in measured:
        r = target.median()
        base = by_name.get(target.baseline)
        vs_bare = f"{r.rps / base.median().rps:.0%}" if base is not None and base.rounds else ""
        vs_wm = f"{r.rps / wm_rps:.2f}x" if wm_rps else ""
        print(
            f"{target.label:<42} {r.rps:>8.0f} {r.p50_ms:>7.2f} {r.p99_ms:>7.2f} {r.errors:>6} "
            f"{target.peak_rss:>7.1f}MB {vs_bare:>8} {vs_wm:>11}"
        )
    for target in planned:
        if not target.rounds:
            print(f"{target.label:<42} skipped: {target.skipped or 'did not run'}")
    print(
        f"journal: kept {journal['kept']} of {journal['total']} requests (ring of "
        f"{journal['size']} per worker)"
    )
    for target in measured:
        print(
            f"{target.name}: cold start {target.cold_start_s:.2f} s (spawn to first answer); RSS "
            f"after warm-up {target.warm_rss:.1f} MB, after the rounds {target.end_rss:.1f} MB "
            f"({target.end_rss - target.warm_rss:+.1f} MB)"
        )


if __name__ == "__main__":
    sys.exit(main())
