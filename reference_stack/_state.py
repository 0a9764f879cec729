"""The stack's files in its state directory, the contract other engineers read.

``stack.json``::

    {"contract": "intended", "catalogue": "fixture", "services": {"deposito": "http://127.0.0.1:8001", ..., "gateway": ...},
     "processes": {"deposito": {"pid": 123, "port": 8001}, ...}, "env_file": "<state>/secrets.env",
     "log_dir": "<state>/logs", "started_at": 1795820100.0, "owner": {"pid": 4242, "start": 98123}}

``owner`` is there only for a stack a run started for itself (``stagegate run --target local``): the
run's pid and start time (clock ticks since boot). Once that process is gone, the stack is orphaned
and the next start stops what is left of it before starting anew. ``stack up --docker`` writes
``"runtime": "docker"`` and ``"containers"`` with empty ``processes``.

``catalogue`` is the spec of the products the services hold (``fixture``, ``empty``,
``variant:SEED[:COUNT]``). ``gateway`` appears only when nginx runs. ``secrets.env`` (mode 0600) holds one ``NAME=value`` per
line: the four per-agent JWT secrets, ``JWT_SECRET_KEY``, ``DASHBOARD_API_KEY`` and
``STAGEGATE_ADMIN_TOKEN``. Pid files are ``pids/<name>.pid``.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from reference_stack._catalogue import FIXTURE
from reference_stack._errors import StackError, StackNotRunning
from stagegate_core.procstat import START_TIME, STATE, stat_fields

STATE_DIR_ENV = "STAGEGATE_STATE_DIR"
DEFAULT_STATE_DIR = ".stagegate/stack"
STACK_FILE = "stack.json"
SECRETS_FILE = "secrets.env"
SECRET_NAMES = (
    "JWT_SECRET_DEPOSITO", "JWT_SECRET_NEGOCIO", "JWT_SECRET_ML", "JWT_SECRET_DASHBOARD",
    "JWT_SECRET_KEY", "DASHBOARD_API_KEY", "STAGEGATE_ADMIN_TOKEN",
)


def default_state_dir() -> Path:
    return Path(os.environ.get(STATE_DIR_ENV) or DEFAULT_STATE_DIR).absolute()


@dataclass(frozen=True)
class ProcessEntry:
    pid: int
    port: int


@dataclass(frozen=True)
class StackInfo:
    """What ``stack.json`` says about a started stack."""

    contract: str
    services: dict[str, str]
    processes: dict[str, ProcessEntry]
    env_file: str
    log_dir: str
    started_at: float
    catalogue: str = FIXTURE
    """The catalogue spec the services were seeded with (a stack.json without one: the fixture)."""
    runtime: str = "process"
    """``process``, or ``docker`` for a stack ``stack up --docker`` started (its ``processes`` are empty)."""
    owner: dict[str, int] | None = None
    """For a stack a run started and stops (``stagegate run``): that run's ``{"pid", "start"}``; a
    later start finds the stack orphaned once the owner is gone, and reclaims it. None: ``stack up``."""

    def orphaned(self) -> bool:
        """Whether the run that owns this stack is gone (a stack without an owner is never orphaned)."""
        if self.owner is None:
            return False
        return process_start(self.owner["pid"]) != self.owner["start"]

    def to_json(self) -> dict[str, Any]:
        state = asdict(self)
        if self.runtime == "process":
            del state["runtime"]
        if self.owner is None:
            del state["owner"]
        return state


def process_start(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot (None when it is gone): a pid with its
    start time names one process, even once the pid is reused."""
    fields = stat_fields(pid)
    if fields is None or fields[STATE] in ("Z", "X"):
        return None
    return int(fields[START_TIME])


def new_secrets() -> dict[str, str]:
    """Fresh random values for every secret the stack needs (64 characters: long enough even for HS512)."""
    return {name: secrets.token_urlsafe(48) for name in SECRET_NAMES}


def write_secrets(path: Path, values: dict[str, str]) -> None:
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.writelines(f"{name}={value}\n" for name, value in values.items())


def read_secrets(path: Path) -> dict[str, str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise StackError(f"{path}: cannot read ({exc.strerror or exc})") from None
    pairs = (line.partition("=") for line in lines if "=" in line and not line.startswith("#"))
    return {name.strip(): value.strip() for name, _, value in pairs}


def write_info(state_dir: Path, info: StackInfo) -> None:
    tmp = state_dir / f".{STACK_FILE}.tmp"
    tmp.write_text(json.dumps(info.to_json(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(state_dir / STACK_FILE)


def read_info(state_dir: Path) -> StackInfo:
    path = state_dir / STACK_FILE
    if not path.exists():
        raise StackNotRunning(f"no stack in {state_dir} ({STACK_FILE} not found; start one with `stagegate stack up`)")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        processes = {name: ProcessEntry(int(p["pid"]), int(p["port"])) for name, p in raw["processes"].items()}
        return StackInfo(contract=raw["contract"], services=dict(raw["services"]), processes=processes,
                         env_file=raw["env_file"], log_dir=raw["log_dir"], started_at=float(raw["started_at"]),
                         catalogue=str(raw.get("catalogue", FIXTURE)), runtime=str(raw.get("runtime", "process")),
                         owner=({"pid": int(raw["owner"]["pid"]), "start": int(raw["owner"]["start"])}
                                if raw.get("owner") else None))
    except (ValueError, KeyError, TypeError) as exc:
        raise StackError(f"{path}: not a stack file ({type(exc).__name__}: {exc})") from None


def write_pid(state_dir: Path, name: str, pid: int) -> None:
    pids = state_dir / "pids"
    pids.mkdir(parents=True, exist_ok=True)
    (pids / f"{name}.pid").write_text(f"{pid}\n", encoding="utf-8")


def forget(state_dir: Path) -> None:
    """Remove ``stack.json`` and the pid files (logs and secrets stay for inspection)."""
    (state_dir / STACK_FILE).unlink(missing_ok=True)
    for pid_file in (state_dir / "pids").glob("*.pid"):
        pid_file.unlink(missing_ok=True)
