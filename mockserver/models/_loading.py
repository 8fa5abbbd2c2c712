"""Reading connection and scenario files: YAML or JSON, ``${ENV}`` secrets, JSON Schema.

Every problem becomes one :class:`~mockserver.errors.ConfigError` line naming the file, the
JSON pointer and what is wrong. Error messages never show a value that came from the
environment: they show the ``${VAR}`` the user wrote instead.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from mockserver._resources import load_schema
from mockserver._suggest import did_you_mean
from mockserver.errors import ConfigError

__all__ = ["Document", "load_document", "pointer", "read_structured"]

_ENV_REF: Final = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def pointer(path: Any) -> str:
    """A JSON pointer (RFC 6901) for a sequence of keys and indexes."""
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in path]
    return "/" + "/".join(parts) if parts else ""


class Document:
    """A validated, environment-resolved document and where it came from."""

    def __init__(self, source: str, data: dict[str, Any], raw: dict[str, Any]) -> None:
        self.source = source
        self.data = data
        self.raw = raw

    def error(self, path: Any, problem: str) -> ConfigError:
        """A ConfigError at ``path`` inside this document."""
        return ConfigError(self.source, pointer(path), problem)


def read_structured(path: Path, *, label: str | None = None) -> Any:
    """Parse a file: ``.yaml``/``.yml`` as YAML, ``.json`` as JSON, anything else JSON first
    and then YAML (SPEC 1.4 decision 2)."""
    source = label or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(source, "", "no such file") from None
    except IsADirectoryError:
        raise ConfigError(source, "", "is a directory, not a file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(source, "", f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(source, "", f"cannot read: {exc.strerror}") from None
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _parse_json(text, source)
    if suffix in {".yaml", ".yml"}:
        return _parse_yaml(text, source)
    try:
        return json.loads(text)
    except ValueError:
        return _parse_yaml(text, source)


def _parse_json(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(source, f"line {exc.lineno} column {exc.colno}", exc.msg) from None


def _parse_yaml(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise ConfigError(source, where, f"not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(source, "", f"not valid YAML: {exc}") from None


def _resolve_env(value: Any, path: tuple[Any, ...], env: Mapping[str, str], source: str) -> Any:
    if isinstance(value, str):
        if "${" not in value:
            return value

        def substitute(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            found = env.get(name)
            if found is None or (found == "" and default is not None):
                if default is not None:
                    return default
                raise ConfigError(
                    source,
                    pointer(path),
                    f"environment variable {name} is not set "
                    f"(set it, or write ${{{name}:-default}})",
                )
            return found

        return _ENV_REF.sub(substitute, value)
    if isinstance(value, dict):
        return {k: _resolve_env(v, (*path, k), env, source) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_env(v, (*path, i), env, source) for i, v in enumerate(value)]
    return value


@functools.cache
def _validator(schema_name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(schema_name))


def _get(data: Any, path: Any) -> Any:
    for part in path:
        data = data[part]
    return data


def _describe(error: ValidationError, raw: Any) -> tuple[list[Any], str]:
    """Where an error is and what to say, with a suggestion where one fits."""
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        allowed = sorted(schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        if extra:
            key = extra[0]
            suggestion = did_you_mean(key, allowed) or f"; allowed: {allowed}"
            return [*path, key], f"unknown key {key!r}{suggestion}"
    if error.validator == "enum":
        # jsonschema types validator_value as "Any | Unset"; for "enum" it is the list.
        options: list[Any] = list(error.validator_value)  # type: ignore[arg-type]
        suggestion = did_you_mean(error.instance, options)
        shown = _shown_value(raw, path, error.instance)
        return path, f"{shown!r} is not one of {options}{suggestion}"
    message = error.message
    shown = _shown_value(raw, path, error.instance)
    if shown is not error.instance:
        message = message.replace(repr(error.instance), repr(shown))
    return path, message


def _shown_value(raw: Any, path: list[Any], resolved: Any) -> Any:
    """The value as the user wrote it (``${VAR}`` unresolved), so no secret is echoed."""
    try:
        return _get(raw, path)
    except (KeyError, IndexError, TypeError):
        return resolved


def load_document(
    path: str | Path,
    schema_name: str,
    *,
    environ: Mapping[str, str] | None = None,
    check: Callable[[Document], None] | None = None,
) -> Document:
    """Read, resolve ``${ENV}`` in every string value, and validate against a bundled schema.

    ``check`` runs after schema validation for rules a schema cannot say; it raises
    ConfigError through :meth:`Document.error`.
    """
    source = str(path)
    raw = read_structured(Path(path), label=source)
    return document_from_data(raw, schema_name, source=source, environ=environ, check=check)


def document_from_data(
    raw: Any,
    schema_name: str,
    *,
    source: str,
    environ: Mapping[str, str] | None = None,
    check: Callable[[Document], None] | None = None,
    validate: bool = True,
) -> Document:
    """Like :func:`load_document` for data already parsed (a dict given in code).
    ``validate=False`` skips the schema, for documents the kit builds itself."""
    if not isinstance(raw, dict):
        kind = "empty" if raw is None else type(raw).__name__
        raise ConfigError(source, "", f"the document must be a mapping (object), got {kind}")
    env = os.environ if environ is None else environ
    data = _resolve_env(raw, (), env, source)
    error = best_match(_validator(schema_name).iter_errors(data)) if validate else None
    if error is not None:
        where, message = _describe(error, raw)
        raise ConfigError(source, pointer(where), message)
    document = Document(source, data, raw)
    if check is not None:
        check(document)
    return document
