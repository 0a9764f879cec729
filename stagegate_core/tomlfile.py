"""Loading a TOML file into a pydantic model, with one-line errors naming file, key and problem.

Profiles, chaos plans, scenario files and rules files all go through ``load_toml_model`` so that every
malformed file reads the same way: ``as-built.toml: services.ml.url: Field required``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from stagegate_core.errors import StagegateError

M = TypeVar("M", bound=BaseModel)


def describe_validation_error(source: str, exc: ValidationError) -> str:
    """The first problem of a pydantic error as ``source: dotted.key: message (got value)``."""
    first = exc.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    message = first["msg"]
    got = first.get("input")
    shown = "" if isinstance(got, dict) or got is None else f" (got {got!r})"
    more = len(exc.errors()) - 1
    tail = f"; and {more} more problem{'s' if more > 1 else ''}" if more else ""
    return f"{source}: {key}: {message}{shown}{tail}"


def load_toml_model(path: Path, model: type[M], error: type[StagegateError]) -> M:
    """Parse ``path`` as TOML and validate it as ``model``; raise ``error`` with one line if not."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{path.name}: not valid TOML ({exc})") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(describe_validation_error(path.name, exc)) from None


def shipped_names(directory: Path) -> list[str]:
    """Names of the TOML files shipped in ``directory`` (profiles, chaos plans)."""
    return sorted(path.stem for path in directory.glob("*.toml"))


def find_named_file(name_or_path: str | Path, directory: Path, what: str, error: type[StagegateError]) -> Path:
    """A file the user names by path, or one shipped in ``directory`` by its name without ``.toml``."""
    text = str(name_or_path)
    path = Path(text)
    if text.endswith(".toml") or path.exists():
        return path
    path = directory / f"{text}.toml"
    if not path.exists():
        raise error(f"unknown {what} {text!r} (known: {', '.join(shipped_names(directory))})")
    return path
