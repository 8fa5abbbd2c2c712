"""Memory of the mock partner under a million requests: RSS after 10,000 against RSS after
1,000,000 (the journal is a ring buffer, so the difference should stay small).

    python bench/bench_memory.py [--requests 1000000] [--server uvicorn|granian]

The mock (voucher-get, one worker, journal on with its default ring of 10,000) runs in its own
process on 127.0.0.1; ``wrk -t1 -c50`` sends the seed's GET in 5 s bursts until the mock has
counted the requests. RSS is summed over the server's processes. Target: within 20 MB.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time

import httpx

from bench._servers import free_port, mock_command, start
from bench.bench_server import wrk


def served(url: str) -> int:
    count: int = httpx.get(url + "/__admin/health").json()["requests"]
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=10_000)
    parser.add_argument("--server", choices=("uvicorn", "granian"), default="uvicorn")
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("bench_memory: wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    port = free_port()
    started = time.perf_counter()
    with start("mock", mock_command(port, server=args.server), port) as mock:
        at_start = mock.rss_mb()
        marks: list[tuple[int, float]] = []
        goals = [args.baseline, args.requests]
        while goals:
            count = served(mock.url)
            if count >= goals[0]:
                marks.append((count, mock.rss_mb()))
                goals.pop(0)
                continue
            if len(goals) == 2:  # one connection at a time, to stop near the baseline
                wrk(mock.url, seconds=1, connections=1)
            else:
                seconds = 1 if goals[0] - count < 30_000 else 5
                wrk(mock.url, seconds=seconds, connections=args.connections)
        peak = mock.peak_rss_mb()
        journal = httpx.get(mock.url + "/__admin/requests").json()
    (base_count, base_rss), (end_count, end_rss) = marks
    print(
        f"mock voucher-get ({args.server}, 1 worker), wrk -t1 -c{args.connections}, "
        f"{time.perf_counter() - started:.0f} s in all"
    )
    print(f"RSS at start:                  {at_start:7.1f} MB")
    print(f"RSS after {base_count:>9,} requests: {base_rss:7.1f} MB")
    print(f"RSS after {end_count:>9,} requests: {end_rss:7.1f} MB  (peak {peak:.1f} MB)")
    print(
        f"growth: {end_rss - base_rss:+.1f} MB (target within 20 MB); journal kept "
        f"{journal['kept']:,} of {journal['total']:,} (ring of {journal['size']:,})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
