"""Agent JWT secrets, read from the environment or an env file by the checklist's variable names.

The values never leave this module in readable form: ``AgentSecrets`` prints as
``AgentSecrets(deposito=<redacted>, ...)`` and every error names the variable, never its value.

Usage::

    secrets = load_agent_secrets({"deposito": "JWT_SECRET_DEPOSITO", ...}, env_file="secrets.env")
    secrets["deposito"]
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from dotenv import dotenv_values

from generators._errors import EnvFileUnreadable, SecretMissing

AGENT_SECRET_ENVS = {
    "deposito": "JWT_SECRET_DEPOSITO",
    "negocio": "JWT_SECRET_NEGOCIO",
    "ml": "JWT_SECRET_ML",
    "dashboard": "JWT_SECRET_DASHBOARD",
}
"""The checklist's variable per agent (the checklist's §1, docs/contract.md §1.1)."""
SHARED_SECRET_ENV = "JWT_SECRET_KEY"
"""As-built fallback: each container's secret defaults to this one (docs/as-built.md §3.2)."""


class RedactedSecrets(Mapping[str, str]):
    """Name -> secret value; a mapping whose repr and str never show a value."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(" + ", ".join(f"{name}=<redacted>" for name in self._values) + ")"

    __str__ = __repr__


class AgentSecrets(RedactedSecrets):
    """Agent name -> JWT secret."""


def read_env(env_file: str | Path | None = None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment (or ``environ``) overlaid with ``env_file``: an explicit file wins."""
    values = dict(os.environ if environ is None else environ)
    if env_file is not None:
        path = Path(env_file)
        try:
            text = path.read_bytes().decode("utf-8")
        except OSError as exc:
            raise EnvFileUnreadable(f"{path}: cannot read ({exc.strerror or exc})") from None
        except UnicodeDecodeError:
            raise EnvFileUnreadable(f"{path}: not a text file (not UTF-8)") from None
        values.update({key: value for key, value in dotenv_values(stream=io.StringIO(text)).items()
                       if value is not None})
    return values


def load_agent_secrets(
    secret_envs: Mapping[str, str],
    *,
    fallback_env: str | None = None,
    env_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> AgentSecrets:
    """Each agent's secret from its variable, else from ``fallback_env``; an empty value counts as unset.

    Raises ``SecretMissing`` naming the first variable that is unset (and its fallback, if any).
    """
    env = read_env(env_file, environ)
    where = f"the environment or {env_file}" if env_file is not None else "the environment"
    found: dict[str, str] = {}
    for agent, variable in secret_envs.items():
        value = env.get(variable) or (env.get(fallback_env) if fallback_env else None)
        if not value:
            also = f" nor its fallback {fallback_env}" if fallback_env else ""
            raise SecretMissing(f"{variable} is not set{also} (looked in {where}); it is {agent}'s JWT secret")
        found[agent] = value
    return AgentSecrets(found)
