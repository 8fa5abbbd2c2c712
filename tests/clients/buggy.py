"""examples/jsonl_client.py with exactly one bug, chosen by name on the command line.

python tests/clients/buggy.py ignores_issuccess
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

spec = importlib.util.spec_from_file_location(
    "jsonl_client", Path(__file__).resolve().parents[2] / "examples" / "jsonl_client.py"
)
assert spec is not None
assert spec.loader is not None
client: Any = importlib.util.module_from_spec(spec)
spec.loader.exec_module(client)

BUG = sys.argv[1]
normalize, interpret, handle, token_header = (
    client.normalize,
    client.interpret,
    client.handle,
    client.token_header,
)

if BUG == "ignores_issuccess":
    client.ROLES["success"] = ("success",)
elif BUG == "ignores_body_key":
    client.ROLES["data"] = ("data", "result", "response")
elif BUG == "drops_errorcode_zero":

    def drop_zero(body: Any) -> Any:
        result = normalize(body)
        if result is not None and result["errorCode"] == 0:
            result["errorCode"] = None
        return result

    client.normalize = drop_zero
elif BUG == "accepts_true_string":

    def lenient(body: Any) -> Any:
        if isinstance(body, dict):
            body = {k: (True if v == "true" else v) for k, v in body.items()}
        return normalize(body)

    client.normalize = lenient
elif BUG == "success_on_500":
    client.interpret = lambda status, raw: interpret(200 if status >= 500 else status, raw)
elif BUG == "wrong_header":

    def wrong(job: dict[str, Any]) -> Any:
        auth = job["connection"].get("auth") or {}
        if auth.get("type") == "api_key":
            auth["header"] = "x-wrong-key"
        return handle(job)

    client.handle = wrong
elif BUG == "no_plus_encoding":
    client.query = lambda params, profile: "&".join(
        f"{k}={quote(client.render(str(v), profile), safe='+@')}" for k, v in params.items()
    )
elif BUG == "never_refresh":
    client.token_header = lambda auth, timeout, fresh: token_header(auth, timeout, False)
elif BUG == "ignores_expiry":

    def forever(auth: dict[str, Any], timeout: float, fresh: bool) -> Any:
        name, value = token_header(auth, timeout, fresh)
        key = json.dumps(auth, sort_keys=True)
        if key in client.TOKENS:
            client.TOKENS[key] = (value, float("inf"))
        return name, value

    client.token_header = forever
elif BUG == "crashes_on_post":

    def crash(job: dict[str, Any]) -> Any:
        if job["connection"].get("method") == "POST":
            sys.exit(3)
        return handle(job)

    client.handle = crash
elif BUG == "prints_garbage":
    original_print = print

    def chatty(job: dict[str, Any]) -> Any:
        original_print("processing job", job["id"], flush=True)
        return handle(job)

    client.handle = chatty
elif BUG == "hangs_once":

    def hang(job: dict[str, Any]) -> Any:
        if job["id"] == 5:
            time.sleep(3600)
        return handle(job)

    client.handle = hang
else:
    raise SystemExit(f"unknown bug {BUG!r}")


def main() -> None:
    for line in sys.stdin:
        if line.strip():
            job = json.loads(line)
            print(json.dumps({"id": job["id"], **client.handle(job)}), flush=True)


main()
