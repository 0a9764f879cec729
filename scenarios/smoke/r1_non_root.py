"""§7 R1: no service runs as root.

With Docker and containers of the profile's names, ``id`` runs inside each container (the
checklist's ``docker exec ... whoami``) and the user must be the one the profile expects. Without
them, the local reference stack's processes are looked up in ``/proc`` (their uid must not be 0;
the container user names do not apply to host processes). Otherwise the check is skipped.
"""

from __future__ import annotations

import pwd
from pathlib import Path
from typing import Any

from scenarios.smoke.context import SmokeContext
from scenarios.smoke.outcome import CheckOutcome
from scenarios.smoke.registry import smoke_check

CHECK = "r1_non_root"
SECTION = "§7 R1"


def _exec(container: Any, command: list[str]) -> tuple[int, str]:
    from docker.errors import DockerException  # type: ignore[import-untyped]

    try:
        result = container.exec_run(command, stdout=True, stderr=True)
    except DockerException as exc:
        return -1, f"{type(exc).__name__}: {exc}"
    return int(result.exit_code), result.output.decode("utf-8", errors="replace").strip()


def _in_containers(context: SmokeContext, found: dict[str, Any]) -> CheckOutcome:
    evidence: list[dict[str, Any]] = []
    problems: list[str] = []
    for service, spec in context.profile.services.items():
        name = context.container_name(service)
        if not name:
            continue
        container = found.get(service)
        if container is None:
            problems.append(f"{service}: container {name} not found")
            evidence.append({"request": f"docker exec {name} id", "error": "no such container"})
            continue
        code_uid, uid = _exec(container, ["id", "-u"])
        code_name, user = _exec(container, ["id", "-un"])
        item = {"request": f"docker exec {name} id -u / id -un", "uid": uid, "user": user,
                "expected_user": spec.user}
        evidence.append(item)
        if code_uid != 0:
            problems.append(f"{service}: cannot run id in {name} ({uid})")
        elif uid == "0":
            problems.append(f"{service}: {name} runs as root")
        elif spec.user and (code_name != 0 or user != spec.user):
            problems.append(f"{service}: {name} runs as {user or 'uid ' + uid}, expected {spec.user}")
    return CheckOutcome.from_problems(CHECK, SECTION, problems=problems, evidence=evidence,
                              ok_summary="every container runs as its expected non-root user")


def process_uid(pid: int) -> int | None:
    """Effective uid of a live process, from ``/proc/<pid>/status`` (None when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[2])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _in_processes(context: SmokeContext, processes: dict[str, dict[str, Any]]) -> CheckOutcome:
    evidence: list[dict[str, Any]] = []
    problems: list[str] = []
    for service in context.profile.services:
        pid = processes.get(service, {}).get("pid")
        if not isinstance(pid, int):
            problems.append(f"{service}: no process in the stack state")
            continue
        uid = process_uid(pid)
        evidence.append({"request": f"/proc/{pid}/status ({service})", "uid": uid,
                         "user": _user_name(uid) if uid is not None else None,
                         "note": "host process of the reference stack; container user names do not apply"})
        if uid is None:
            problems.append(f"{service}: process {pid} is not running")
        elif uid == 0:
            problems.append(f"{service}: process {pid} runs as root")
    return CheckOutcome.from_problems(CHECK, SECTION, problems=problems, evidence=evidence,
                              ok_summary="every reference-stack process runs as a non-root user")


@smoke_check(CHECK, SECTION, order=7, label="R1 non-root")
def check_non_root(context: SmokeContext) -> CheckOutcome:
    found = {service: container for service in context.profile.services
             if (container := context.container(service)) is not None}
    if found:
        return _in_containers(context, found)
    processes = context.stack_processes()
    if processes:
        return _in_processes(context, processes)
    names = ", ".join(name for service in context.profile.services if (name := context.container_name(service)))
    if not names:
        docker = "the profile names no containers"
    else:
        docker = f"Docker has no containers named {names}" if context.docker.available else context.docker.reason
    return CheckOutcome(CHECK, SECTION, "SKIP",
                        f"cannot look inside the deployment: {docker}, and no local reference stack "
                        "state (use --target local)", [])
