"""The tools a user would otherwise pick (WireMock, Prism, Mountebank), installed from the npm
registry into ``bench/.anchors`` and configured with the same stub as the mock's seed answer:
GET /voucher with the API key in ``token-key``, 200 JSON ``{success, message, errorCode, data}``.

An anchor that cannot be installed (no npm, no Java, no registry) is reported as skipped with
the reason, never faked.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.bare_app import SEED_BODY

ANCHORS_DIR = Path(__file__).resolve().parent / ".anchors"
PACKAGES = {
    "wiremock": "wiremock@3.13",
    "prism": "@stoplight/prism-cli@5",
    "mountebank": "mountebank@2.9",
}
#: Each anchor's row label; ``{v}`` is the installed version.
LABELS = {
    "wiremock": "WireMock {v}, journal on",
    "wiremock-nj": "WireMock {v}, --no-request-journal",
    "prism": "Prism {v}, quiet",
    "mountebank": "Mountebank {v}",
}


def _label(name: str, version: str = "") -> str:
    return " ".join(LABELS[name].format(v=version).split()).replace(" ,", ",")


@dataclass
class Anchor:
    """A ready-to-run anchor: its command and any files it needs, or why it is skipped."""

    name: str
    label: str
    command: list[str]
    version: str = ""
    #: Seconds of load before measuring (WireMock's JIT needs 30).
    warmup_s: float | None = None
    skipped: str = ""


def _npm_install(where: Path) -> str:
    """Install the anchors' npm packages once; an error message, or "" when installed."""
    if all(
        (where / "node_modules" / _package_dir(spec) / "package.json").exists()
        for spec in PACKAGES.values()
    ):
        return ""
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not installed"
    where.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(where), *PACKAGES.values()],
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except subprocess.TimeoutExpired:
        return "npm install took over 300 s"
    except subprocess.CalledProcessError as exc:
        last = (exc.stderr or exc.stdout or "").strip().splitlines()
        return f"npm install failed: {last[-1] if last else exc.returncode}"
    return ""


def _package_dir(spec: str) -> str:
    """``@stoplight/prism-cli@5`` -> ``@stoplight/prism-cli``."""
    return spec[0] + spec[1:].split("@")[0]


def _version(where: Path, spec: str) -> str:
    data = json.loads((where / "node_modules" / _package_dir(spec) / "package.json").read_text())
    return str(data.get("version", ""))


def _wiremock(where: Path, workdir: Path, port: int, journal: bool) -> Anchor:
    name = "wiremock" if journal else "wiremock-nj"
    java = shutil.which("java")
    jars = sorted((where / "node_modules" / "wiremock" / "build").glob("*.jar"))
    if java is None or not jars:
        why = "no java" if java is None else "no WireMock jar"
        return Anchor(name, _label(name), [], skipped=why)
    root = workdir / name
    (root / "mappings").mkdir(parents=True, exist_ok=True)
    stub = {
        "request": {
            "method": "GET",
            "urlPath": "/voucher",
            "headers": {"token-key": {"equalTo": "demo-key"}},
            "queryParameters": {k: {"matches": ".*"} for k in ("phone", "email", "campaignId")},
        },
        "response": {
            "status": 200,
            "headers": {"Content-Type": "application/json"},
            "jsonBody": SEED_BODY,
        },
    }
    (root / "mappings" / "voucher.json").write_text(json.dumps(stub))
    command = [java, "-jar", str(jars[-1]), "--port", str(port), "--bind-address", "127.0.0.1"]
    command += ["--root-dir", str(root), "--disable-banner"]
    if not journal:
        command.append("--no-request-journal")
    version = _version(where, PACKAGES["wiremock"])
    return Anchor(name, _label(name, version), command, version, warmup_s=30.0)


def _prism(where: Path, workdir: Path, port: int) -> Anchor:
    document = workdir / "prism.json"
    document.write_text(
        json.dumps(
            {
                "openapi": "3.1.0",
                "info": {"title": "stub", "version": "1"},
                "components": {
                    "securitySchemes": {
                        "key": {"type": "apiKey", "in": "header", "name": "token-key"}
                    }
                },
                "security": [{"key": []}],
                "paths": {
                    "/voucher": {
                        "get": {
                            "parameters": [
                                {
                                    "name": n,
                                    "in": "query",
                                    "required": True,
                                    "schema": {"type": "string"},
                                }
                                for n in ("phone", "email", "campaignId")
                            ],
                            "responses": {
                                "200": {
                                    "description": "ok",
                                    "content": {"application/json": {"example": SEED_BODY}},
                                }
                            },
                        }
                    }
                },
            }
        )
    )
    binary = where / "node_modules" / ".bin" / "prism"
    command = [str(binary), "mock", str(document), "-h", "127.0.0.1", "-p", str(port)]
    command += ["--verboseLevel", "silent"]
    version = _version(where, PACKAGES["prism"])
    return Anchor("prism", _label("prism", version), command, version)


def _mountebank(where: Path, workdir: Path, port: int, admin_port: int) -> Anchor:
    config = workdir / "imposters.json"
    config.write_text(
        json.dumps(
            {
                "imposters": [
                    {
                        "protocol": "http",
                        "port": port,
                        "host": "127.0.0.1",
                        "stubs": [
                            {
                                "predicates": [
                                    {
                                        "equals": {
                                            "method": "GET",
                                            "path": "/voucher",
                                            "headers": {"token-key": "demo-key"},
                                        }
                                    }
                                ],
                                "responses": [
                                    {
                                        "is": {
                                            "statusCode": 200,
                                            "headers": {"Content-Type": "application/json"},
                                            "body": SEED_BODY,
                                        }
                                    }
                                ],
                            }
                        ],
                    }
                ]
            }
        )
    )
    binary = where / "node_modules" / ".bin" / "mb"
    command = [str(binary), "start", "--port", str(admin_port), "--localOnly"]
    command += ["--configfile", str(config), "--noParse", "--nologfile", "--loglevel", "warn"]
    command += ["--pidfile", str(workdir / "mb.pid")]
    version = _version(where, PACKAGES["mountebank"])
    return Anchor("mountebank", _label("mountebank", version), command, version)


def anchors(workdir: Path, ports: dict[str, int], admin_port: int) -> list[Anchor]:
    """Every anchor, installed if need be; ``ports`` maps anchor name to its port."""
    error = _npm_install(ANCHORS_DIR)
    if error:
        return [Anchor(name, _label(name), [], skipped=error) for name in LABELS]
    return [
        _wiremock(ANCHORS_DIR, workdir, ports["wiremock"], journal=True),
        _wiremock(ANCHORS_DIR, workdir, ports["wiremock-nj"], journal=False),
        _prism(ANCHORS_DIR, workdir, ports["prism"]),
        _mountebank(ANCHORS_DIR, workdir, ports["mountebank"], admin_port),
    ]
