"""Jobs/s of ``postback-kit verify-client`` with the reference client, through each adapter.

    python bench/bench_verify.py [--examples 200] [--rounds 3]

Each round runs the whole command with ``--python mockserver.verify.reference:handle`` and
with ``--command "python -m mockserver.verify.reference"``, alternating; the median round of
each is shown, both as wall-clock time of the command (process start and imports included)
and as the run's own duration that verify-client reports. Targets: the default run (200
examples) through ``--command`` in under 60 s; >= 100 jobs/s through ``--python``.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time

from bench._servers import ROOT

ADAPTERS = {
    "--python": ["--python", "mockserver.verify.reference:handle"],
    "--command": ["--command", f"{sys.executable} -m mockserver.verify.reference"],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    times: dict[str, list[float]] = {name: [] for name in ADAPTERS}
    runs: dict[str, list[float]] = {name: [] for name in ADAPTERS}
    for i in range(args.rounds):
        for name in ADAPTERS if i % 2 == 0 else list(reversed(ADAPTERS)):
            command = [
                sys.executable,
                "-m",
                "mockserver",
                "verify-client",
                *ADAPTERS[name],
                "--examples",
                str(args.examples),
                "--seed",
                str(i),
                "--no-example-db",
            ]
            started = time.perf_counter()
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
            elapsed = time.perf_counter() - started
            if done.returncode != 0:
                print(
                    f"{name} run failed ({done.returncode}):\n{done.stdout[-2000:]}",
                    file=sys.stderr,
                )
                return 1
            times[name].append(elapsed)
            reported = re.search(r", ([\d.]+) s\s*$", done.stdout.strip())
            runs[name].append(float(reported.group(1)) if reported else elapsed)
    print(
        f"verify-client, reference client, {args.examples} examples, {args.rounds} rounds, median"
    )
    for name, values in times.items():
        wall, run = statistics.median(values), statistics.median(runs[name])
        print(
            f"{name:<10} {wall:5.1f} s wall ({args.examples / wall:5.1f} jobs/s), the run itself "
            f"{run:4.1f} s ({args.examples / run:5.1f} jobs/s)"
        )
    slowest = statistics.median(times["--command"])
    print(f"target: the default run through --command under 60 s ({slowest:.1f} s)")
    rate = args.examples / statistics.median(runs["--python"])
    print(f"target: >= 100 jobs/s through --python, the run itself ({rate:.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
