"""The reference client as a verify-client adapter:
``--python mockserver.verify.reference:handle``."""

from __future__ import annotations

from typing import Any

from mockserver.client import AsyncPostbackClient
from mockserver.models import Connection

__all__ = ["handle", "main"]


async def handle(job: dict[str, Any]) -> dict[str, Any]:
    """One job of SPEC 2.1 through :class:`~mockserver.client.AsyncPostbackClient`."""
    connection = Connection.from_dict(job["connection"], source=f"job {job['id']}", environ={})
    async with AsyncPostbackClient(connection) as client:
        result = await client.call(job["profile"])
    return {"id": job["id"], **result.to_dict()}


def main() -> None:
    """The reference client as a JSON Lines process:
    ``--command "python -m mockserver.verify.reference"``."""
    import asyncio
    import json
    import sys

    async def serve() -> None:
        for line in sys.stdin:
            if line.strip():
                print(json.dumps(await handle(json.loads(line)), ensure_ascii=False), flush=True)

    asyncio.run(serve())


if __name__ == "__main__":
    main()
