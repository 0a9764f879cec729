"""Loading a JSON file the generators wrote into its pydantic model, with one-line errors.

The JSON twin of ``stagegate_core.tomlfile.load_toml_model``: the manifest and the token catalogue
both go through it, so a broken file reads the same way: ``tokens.json: cases.3.id: Field required``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from generators._errors import GeneratorError
from stagegate_core.tomlfile import describe_validation_error

M = TypeVar("M", bound=BaseModel)


def load_json_model(path: Path, model: type[M], error: type[GeneratorError]) -> M:
    """Parse ``path`` as JSON and validate it as ``model``; raise ``error`` with one line if not."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{path}: not valid JSON ({exc})") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(describe_validation_error(str(path), exc)) from None
