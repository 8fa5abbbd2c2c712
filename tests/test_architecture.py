"""The package's public surface and layering (ARCHITECTURE.md) do not drift."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from tests.conftest import ROOT

#: Layer of each top-level part of the package; a module imports only from lower layers
#: (or from inside its own part).
LAYERS = {
    "errors": 0,
    "_resources": 0,
    "_version": 0,
    "_suggest": 0,
    "_hunt": 3,
    "contract": 1,
    "models": 2,
    "server": 3,
    "client": 3,
    "strategies": 3,
    "certify": 4,
    "verify": 4,
    "reporting": 5,
    "cli": 6,
    "pytest_plugin": 6,
    "__main__": 7,
}

PACKAGE = ROOT / "mockserver"


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(ROOT).with_suffix("")
        name = ".".join(relative.parts).removesuffix(".__init__")
        found.append((name, path))
    return found


@pytest.mark.parametrize(("module", "path"), _modules(), ids=[m for m, _ in _modules()])
def test_modules_import_only_from_lower_layers(module: str, path: Path) -> None:
    part = _part(module)
    if part == "__init__":
        return
    assert part in LAYERS, f"{module}: add its part to LAYERS and ARCHITECTURE.md"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("mockserver.")
        ):
            target = _part(node.module)
            if target != part:
                assert LAYERS[target] < LAYERS[part], (
                    f"{module} (layer {LAYERS[part]}) imports {node.module} "
                    f"(layer {LAYERS[target]})"
                )


PUBLIC = [
    "mockserver.contract",
    "mockserver.models",
    "mockserver.server",
    "mockserver.strategies",
    "mockserver.errors",
    "mockserver.cli",
]


def _defined_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if not n.startswith("_")}


@pytest.mark.parametrize("name", PUBLIC)
def test_all_is_sorted_and_names_exactly_the_public_members(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=lambda n: (not n.isupper(), n)) or exported == sorted(
        exported
    )
    for member in exported:
        assert hasattr(module, member), f"{name}.__all__ names missing {member!r}"
    path = Path(module.__file__ or "")
    if path.name != "__init__.py":
        assert _defined_names(path) == set(exported)


def test_importing_the_package_does_no_work() -> None:
    # No schema is read and no heavy dependency is pulled in by a bare import.
    import subprocess
    import sys

    heavy = ("hypothesis", "uvicorn", "starlette", "jsonschema")
    code = f"import sys, mockserver.cli; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
