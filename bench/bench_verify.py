"""Jobs/s of ``postback-kit verify-client`` with the reference client, through each adapter.

    python bench/bench_verify.py [--examples 200] [--rounds 3]

Each round runs the whole command (process start included) with ``--python
mockserver.verify.reference:handle`` and with ``--command "python -m
mockserver.verify.reference"``, alternating; the median round of each is shown. The target
is the default run (200 examples) through ``--command`` in under 60 s.
"""

from __future__ import annotations

import argparse
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
    print(
        f"verify-client, reference client, {args.examples} examples, {args.rounds} rounds, median"
    )
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<10} {median:6.1f} s for the run  {args.examples / median:6.1f} jobs/s")
    slowest = statistics.median(times["--command"])
    print(f"target: the default run through --command under 60 s ({slowest:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
