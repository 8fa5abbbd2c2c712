"""Where the bundled contracts/ and scenarios/ folders are.

In a wheel they are inside the package (``mockserver/_bundled/``); in a source checkout
(editable install, running the tests) they are the repository's top-level folders. Nothing is
read at import time.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

__all__ = ["bundled_scenario", "bundled_scenarios", "contract_path", "contracts_dir", "load_schema"]

_PACKAGE = Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    inside = _PACKAGE / "_bundled" / name
    if inside.is_dir():
        return inside
    checkout = _PACKAGE.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"postback-kit's bundled {name}/ folder is missing (looked in {inside} and {checkout}); "
        "reinstall the package"
    )


def contracts_dir() -> Path:
    return _bundled("contracts")


def contract_path(name: str) -> Path:
    """The path of a bundled contract file, e.g. ``response.schema.json``."""
    return contracts_dir() / name


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """A bundled JSON Schema, parsed once per process."""
    with contract_path(name).open(encoding="utf-8") as fh:
        schema: dict[str, Any] = json.load(fh)
    return schema


def bundled_scenarios() -> dict[str, Path]:
    """Bundled scenario files by name (file stem), sorted."""
    folder = _bundled("scenarios")
    files = sorted(p for p in folder.iterdir() if p.suffix in {".yaml", ".yml", ".json"})
    return {p.stem: p for p in files}


def bundled_scenario(name: str) -> Path | None:
    """A bundled scenario by name: ``voucher-get``, ``voucher-get.yaml`` or
    ``scenarios/voucher-get.yaml`` all name the same file."""
    stem = Path(name).name
    for suffix in (".yaml", ".yml", ".json"):
        stem = stem.removesuffix(suffix)
    return bundled_scenarios().get(stem)
