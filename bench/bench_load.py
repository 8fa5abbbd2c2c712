"""The mock partner holding 200 connections for 60 s with two workers: no error answers, and
memory that does not grow past the journal's bound.

    python bench/bench_load.py [--seconds 60] [--connections 200] [--workers 2]

The mock (voucher-get, journal on) in its own process on 127.0.0.1; ``wrk -t1 -c200`` sends
the seed's GET for the whole run after a 5 s warm-up. RSS is summed over the supervisor and
its workers, after the warm-up and at the end. Not in CI (it takes a minute).
"""

from __future__ import annotations

import argparse
import shutil
import sys

import httpx

from bench._servers import free_port, mock_command, start
from bench.bench_server import wrk


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--server", choices=("uvicorn", "granian"), default="uvicorn")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("bench_load: wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    port = free_port()
    command = mock_command(port, workers=args.workers, server=args.server)
    with start("mock", command, port) as mock:
        wrk(mock.url, seconds=5, connections=args.connections)
        warm = mock.rss_mb()
        result = wrk(mock.url, seconds=args.seconds, connections=args.connections)
        end, peak = mock.rss_mb(), mock.peak_rss_mb()
        journal = httpx.get(mock.url + "/__admin/requests", timeout=60).json()
    print(
        f"mock voucher-get ({args.server}, {args.workers} workers), wrk -t1 "
        f"-c{args.connections} for {args.seconds:g} s after a 5 s warm-up"
    )
    print(
        f"{result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms, "
        f"errors (non-2xx or socket) {result.errors}"
    )
    print(
        f"RSS after warm-up {warm:.1f} MB, at the end {end:.1f} MB ({end - warm:+.1f} MB), "
        f"peak {peak:.1f} MB; journal kept {journal['kept']:,} of {journal['total']:,} "
        f"(ring of {journal['size'] // max(1, journal.get('workers', 1)):,} per worker)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
