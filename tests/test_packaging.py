"""The built wheel carries contracts/ and scenarios/, and an installed kit finds them from any
folder (no source checkout on the path)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    [built] = out.glob("postback_kit-*.whl")
    return built


def test_the_wheel_ships_the_contracts_and_scenarios(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in sorted((ROOT / "contracts").iterdir()) + sorted((ROOT / "scenarios").iterdir()):
        assert f"mockserver/_bundled/{path.parent.name}/{path.name}" in names
    assert "mockserver/py.typed" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert (
        "postback-kit = mockserver.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    )


def test_an_installed_wheel_serves_a_bundled_scenario_from_another_folder(
    wheel: Path, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target), "PARTNER_API_KEY": "wheel-key"}
    where = subprocess.run(
        [sys.executable, "-c", "import mockserver._resources as r; print(r.contracts_dir())"],
        cwd=elsewhere,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert where == str(target / "mockserver" / "_bundled" / "contracts")
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "scenarios/voucher-get.yaml", "--port", "0"],
        cwd=elsewhere,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()
        url = banner.split(" on ")[1].split()[0]
        response = httpx.get(
            url,
            params={"phone": "0359677657", "email": "dee@bytetech.io", "campaignId": "B"},
            headers={"token-key": "wheel-key"},
        )
    finally:
        process.terminate()
        process.wait(10)
        if process.stderr is not None:
            process.stderr.close()
    assert response.status_code == 200
    assert response.json()["data"]["code"] == "E094"
