"""Examples/s of ``postback-kit certify --max-rps 0`` against Schemathesis on the same endpoint.

    python bench/bench_certify.py [--examples 500] [--rounds 3]

The mock partner (voucher-get) runs in its own process. Each round runs, as separate
processes, ``postback-kit certify`` (no rate limit, no example database) and ``schemathesis
run contracts/openapi.yaml`` (GET /voucher, positive data, checks: not_a_server_error,
status_code_conformance, content_type_conformance, response_schema_conformance) with the
same number of examples, alternating which goes first. A tool's rate is the requests the
mock's journal counted during its run divided by the run's wall-clock time (process start
included). Schemathesis is reported as skipped when it is not installed
(``pip install schemathesis``).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench._servers import ROOT, free_port, mock_command, start


def _timed(command: list[str], mock_url: str) -> tuple[float, int, int]:
    before = httpx.get(f"{mock_url}/__admin/health").json()["requests"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    after = httpx.get(f"{mock_url}/__admin/health").json()["requests"]
    return elapsed, after - before, done.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    schemathesis = shutil.which("schemathesis") or shutil.which(
        "schemathesis", path=str(Path(sys.executable).parent)
    )
    port = free_port()
    rates: dict[str, list[float]] = {"certify": [], "schemathesis": []}
    requests: dict[str, list[int]] = {"certify": [], "schemathesis": []}
    with tempfile.TemporaryDirectory() as folder, start("mock", mock_command(port), port) as mock:
        connection = Path(folder) / "voucher.yaml"
        connection.write_text(
            f"endpoint: {mock.url}/voucher\n"
            "auth: {type: api_key, header: token-key, value: demo-key}\n"
            "params: {phone: '{{phone}}', email: '{{email}}', campaignId: Birthday2023}\n"
        )
        commands = {
            "certify": [
                sys.executable,
                "-m",
                "mockserver",
                "certify",
                str(connection),
                "--max-rps",
                "0",
                "--examples",
                str(args.examples),
                "--seed",
                "1",
                "--no-example-db",
            ],
            "schemathesis": [
                str(schemathesis),
                "run",
                "contracts/openapi.yaml",
                "--url",
                mock.url,
                "--max-examples",
                str(args.examples),
                "--phases",
                "fuzzing",
                "-w",
                "1",
                "-H",
                "token-key: demo-key",
                "--include-method",
                "GET",
                "--mode",
                "positive",
                "-c",
                "not_a_server_error,status_code_conformance,content_type_conformance,"
                "response_schema_conformance",
                "--seed",
                "1",
            ],
        }
        tools = ["certify", "schemathesis"] if schemathesis else ["certify"]
        for i in range(args.rounds):
            for tool in tools if i % 2 == 0 else list(reversed(tools)):
                elapsed, sent, code = _timed(commands[tool], mock.url)
                if code not in (0, 1):
                    print(f"{tool} exited with {code}", file=sys.stderr)
                    return 1
                rates[tool].append(sent / elapsed)
                requests[tool].append(sent)
    print(f"{args.examples} examples per run, {args.rounds} alternating rounds, median round")
    for tool in ("certify", "schemathesis"):
        if not rates[tool]:
            print(f"{tool:<14} skipped (pip install schemathesis)")
            continue
        rate = statistics.median(rates[tool])
        typical = statistics.median(requests[tool])
        print(f"{tool:<14} {rate:>8.0f} examples/s  ({typical:.0f} requests a run)")
    if rates["schemathesis"]:
        ratio = statistics.median(rates["certify"]) / statistics.median(rates["schemathesis"])
        print(f"certify / schemathesis: {ratio:.2f}x (target >= 1.0x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
