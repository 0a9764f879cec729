"""Which deployment a run talks to, and the secrets it needs to talk to it.

``--target`` takes one of:

- ``local``: the reference stack started by ``stagegate stack up`` (its ``stack.json`` gives the
  URLs, its ``secrets.env`` the secrets);
- ``deposito=http://10.0.0.5:8001,negocio=...``: explicit base URLs, the others from the profile;
- nothing: the URLs written in the profile.

Secrets come from the environment, then from ``--env-file`` (an explicit file wins over the
ambient environment), then, for ``local``, from the stack's own ``secrets.env``. They are kept in a
``Secrets`` mapping whose ``repr`` never shows a value.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from dotenv import dotenv_values

from generators import SecretMissing
from generators.secrets import RedactedSecrets
from scenarios.scenario_errors import ProfileInvalid, ScenarioError, TargetUnreachable
from scenarios.target.profiles import Profile, load_profile

DEFAULT_STATE_DIR = Path(".stagegate/stack")


class Secrets(RedactedSecrets):
    """Secret values by variable name (``JWT_SECRET_NEGOCIO``...)."""

    def __init__(self, values: Mapping[str, str]) -> None:
        super().__init__({name: value for name, value in values.items() if value})

    def require(self, name: str, purpose: str) -> str:
        """The value of ``name``, or a one-line error naming the variable (never a value)."""
        try:
            return self[name]
        except KeyError:
            raise SecretMissing(f"secret {name} is not set (needed for {purpose}); "
                                "export it or pass --env-file") from None


@dataclass(frozen=True)
class Resolved:
    """A profile pointed at its deployment, with the secrets to use and the local stack state."""

    profile: Profile
    secrets: Secrets
    stack_state: dict[str, Any] | None
    """``stack.json`` of the local reference stack, when ``--target local``."""
    replaced_secrets: tuple[str, ...] = ()
    """Secrets given in the environment or ``--env-file`` that the local stack's own replaced (names only:
    with ``--target local`` the stack's ``secrets.env`` wins, since its services were started with it)."""


def state_dir() -> Path:
    """Where the local reference stack keeps its state (``STAGEGATE_STATE_DIR`` or ``.stagegate/stack``);
    ``ScenarioError`` in one line when that names something other than a directory."""
    directory = Path(os.environ.get("STAGEGATE_STATE_DIR") or DEFAULT_STATE_DIR)
    if directory.exists() and not directory.is_dir():
        raise ScenarioError(f"STAGEGATE_STATE_DIR: {directory} exists and is not a directory")
    return directory


def read_stack_state(directory: Path | None = None) -> dict[str, Any]:
    """The running local stack's ``stack.json``; ``TargetUnreachable`` in one line when there is none."""
    path = (directory or state_dir()) / "stack.json"
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TargetUnreachable(
            f"no local reference stack is running ({path} not found); start one with: stagegate stack up"
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise TargetUnreachable(f"{path}: unreadable stack state ({exc})") from None
    if not isinstance(state, dict) or not isinstance(state.get("services"), dict):
        raise TargetUnreachable(f"{path}: not a stack state file (no 'services')")
    return state


def parse_target_urls(spec: str) -> dict[str, str]:
    """``svc=url,svc=url`` as a mapping; a malformed item is a one-line error."""
    urls: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, sep, url = item.partition("=")
        if not sep or not name or not url.startswith(("http://", "https://")):
            raise ProfileInvalid(f"--target: {item!r} is not SERVICE=http(s)://HOST:PORT")
        urls[name.strip()] = url.strip()
    if not urls:
        raise ProfileInvalid("--target: empty (use 'local' or SERVICE=URL,...)")
    return urls


def _read_env_file(path: Path) -> dict[str, str]:
    """The variables of a dotenv file; one line (never a value) when it is no readable text file."""
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = "not a text file (not UTF-8)" if isinstance(exc, UnicodeDecodeError) else "not a readable file"
        raise ProfileInvalid(f"--env-file: {path} is {why}") from None
    return {name: value for name, value in dotenv_values(stream=io.StringIO(text)).items() if value is not None}


def replaced_secrets_note(resolved: Resolved) -> str | None:
    """The one line that says which given secrets ``--target local`` replaced (names, never values)."""
    if not resolved.replaced_secrets:
        return None
    return (f"note: --target local uses the local stack's own secrets; replaced "
            f"{', '.join(resolved.replaced_secrets)} given in the environment or --env-file")


def resolve_profile(
    profile: str | Path | Profile, target: str | None = None, *, env_file: Path | None = None
) -> Resolved:
    """Load the profile, point it at ``target`` and gather the secrets, or fail in one line."""
    loaded = profile if isinstance(profile, Profile) else load_profile(profile)
    values: dict[str, str] = dict(os.environ)
    if env_file is not None:
        values.update(_read_env_file(Path(env_file)))
    stack_state: dict[str, Any] | None = None
    overridden: set[str] = set()
    if target == "local":
        stack_state = read_stack_state()
        urls = {str(k): str(v) for k, v in stack_state["services"].items()}
        loaded = loaded.with_targets(urls)
        if "gateway" not in urls:
            loaded = loaded.without_gateway()
        stack_env = stack_state.get("env_file")
        if stack_env and Path(stack_env).is_file():
            stack_values = _read_env_file(Path(stack_env))
            overridden = {name for name, value in stack_values.items() if name in values and values[name] != value}
            values.update(stack_values)
    elif target:
        loaded = loaded.with_targets(parse_target_urls(target))
    wanted = _secret_names(loaded)
    kept = {name: value for name, value in values.items() if name in wanted or name.startswith(SECRET_PREFIXES)}
    replaced = tuple(sorted(name for name in overridden if name in kept))
    return Resolved(profile=loaded, secrets=Secrets(kept), stack_state=stack_state, replaced_secrets=replaced)


SECRET_PREFIXES = ("JWT_SECRET",)
"""Variables kept as secrets besides those the profile names; nothing else of the environment is kept
(a setting such as ``STAGEGATE_REQUIRE_SYSTEM=1`` taken for a secret would be scrubbed out of every
text it appears in)."""
ADMIN_TOKEN_ENV = "STAGEGATE_ADMIN_TOKEN"
"""The reference stack's fault-switch token (its ``secrets.env``)."""


def _secret_names(profile: Profile) -> set[str]:
    names = {spec.secret_env for spec in profile.services.values() if spec.secret_env}
    names |= {profile.auth.password_env, profile.dashboard.api_key_env, ADMIN_TOKEN_ENV}
    if profile.auth.shared_secret_env:
        names.add(profile.auth.shared_secret_env)
    return names


REACHABILITY_TIMEOUT_S = 3.0
REACHABILITY_RETRY_S = 5.0
"""How long a target whose every service refuses connections is retried before it is called unreachable."""
REACHABILITY_INTERVAL_S = 0.5


def ensure_reachable(profile: Profile, *, hint: str = "") -> None:
    """``TargetUnreachable`` (one line, exit 2) only when every service refuses connections for a while.

    The one reachability probe of the gate and of a plain Locust run. Each service's health route is
    asked as the load asks it (no proxy from the environment), for up to ``REACHABILITY_RETRY_S`` (a
    stack still starting gets that long). Any answer, a 5xx included, and a timeout mean something is
    there: that is a broken deployment, which the verdict judges, not a mistake in the command.
    """
    services = profile.services
    deadline = time.monotonic() + REACHABILITY_RETRY_S
    while True:
        causes: dict[str, None] = {}
        for spec in services.values():
            try:
                httpx.get(spec.url + spec.health_path, timeout=REACHABILITY_TIMEOUT_S, trust_env=False)
            except httpx.ConnectError as exc:  # refused, no route to the host, a name that does not resolve
                causes[str(exc)] = None
                continue
            except httpx.HTTPError:  # a timeout or a malformed answer: something listens
                return
            return
        if time.monotonic() >= deadline:
            break
        time.sleep(REACHABILITY_INTERVAL_S)
    where = ", ".join(f"{name} {spec.url}" for name, spec in services.items())
    raise TargetUnreachable(f"target unreachable: every service refused the connection for {REACHABILITY_RETRY_S:g} s "
                            f"({where}): {'; '.join(causes)}{hint}")
