"""§14 logs: what the deployment logged during this run, and whether a container was OOM-killed.

The window is this smoke run (logs are marked when it starts), so earlier runs and earlier tests
do not count. Some lines are provoked on purpose and are expected: the JWT rejections the forged
tokens cause (R2) and the heavy invoice's OCR timeout (R3). A 5xx line, an OOM kill, a restart,
an OCR timeout beyond the heavy invoice's, or more JWT errors than tokens refused is a problem.
"""

from __future__ import annotations

import re
from typing import Any

from scenarios.smoke.context import SmokeContext
from scenarios.smoke.outcome import CheckOutcome, FindingDraft
from scenarios.smoke.r1_non_root import process_uid
from scenarios.smoke.registry import smoke_check

CHECK = "logs"
SECTION = "§14 Logs"
FIVE_XX = re.compile(
    r'(?:->|status[=:]|"status":|HTTP/\d(?:\.\d)?"|\b(?:GET|POST|PUT|PATCH|DELETE|HEAD) /\S*)\s*5\d\d\b',
    re.IGNORECASE)
"""An access-log line of a 5xx answer, in the formats of uvicorn, the dashboard's JSON log and the
reference stack (``POST /procesar_factura_completa 504 2003.1ms``)."""
JWT_ERROR_NAMES = r"InvalidTokenError|InvalidSignatureError|DecodeError|ExpiredSignatureError|JWTError"
QUOTED_LINES = 3
LINE_CHARS = 160


def _jwt_pattern(context: SmokeContext) -> re.Pattern[str]:
    phrases = [re.escape(p) for p in (context.profile.logs.issuer_mismatch, context.profile.logs.invalid_token) if p]
    return re.compile("|".join([*phrases, JWT_ERROR_NAMES]), re.IGNORECASE)


def classify(lines: list[str], context: SmokeContext) -> dict[str, list[str]]:
    """Lines of this run by kind: ``5xx``, ``jwt_errors``, ``ocr_timeouts``."""
    jwt_errors = _jwt_pattern(context)
    ocr = context.profile.logs.ocr_timeout
    found: dict[str, list[str]] = {"5xx": [], "jwt_errors": [], "ocr_timeouts": []}
    for line in lines:
        if FIVE_XX.search(line):
            found["5xx"].append(line)
        if jwt_errors.search(line):
            found["jwt_errors"].append(line)
        if ocr and ocr.lower() in line.lower():
            found["ocr_timeouts"].append(line)
    return found


def _is_provoked_timeout(line: str, context: SmokeContext) -> bool:
    """The access line of the heavy invoice's 504, which R3 provoked on purpose."""
    ocr = context.profile.ocr
    return ocr.path in line and str(ocr.timeout_status) in line


def _container_state(context: SmokeContext, evidence: list[dict[str, Any]], problems: list[str]) -> bool:
    """OOM kills and restarts of the profile's containers; False when none is reachable."""
    from docker.errors import DockerException  # type: ignore[import-untyped]

    seen = False
    for service in context.profile.services:
        container = context.container(service)
        if container is None:
            continue
        seen = True
        try:
            container.reload()
        except DockerException as exc:
            problems.append(f"{service}: cannot inspect {container.name} ({type(exc).__name__})")
            continue
        state = container.attrs.get("State", {})
        oom, restarts = bool(state.get("OOMKilled")), int(container.attrs.get("RestartCount", 0) or 0)
        evidence.append({"request": f"docker inspect {container.name}", "oom_killed": oom, "restart_count": restarts,
                         "status": state.get("Status")})
        if oom:
            problems.append(f"{service}: {container.name} was OOM-killed")
        if restarts:
            problems.append(f"{service}: {container.name} restarted {restarts} times")
    return seen


def _processes_alive(context: SmokeContext, evidence: list[dict[str, Any]], problems: list[str]) -> None:
    for service, info in context.stack_processes().items():
        pid = info.get("pid") if isinstance(info, dict) else None
        if isinstance(pid, int) and process_uid(pid) is None:
            problems.append(f"{service}: process {pid} has exited")
            evidence.append({"request": f"/proc/{pid}", "error": "process gone"})


@smoke_check(CHECK, SECTION, order=14, label="logs", when="last")
def check_logs(context: SmokeContext) -> CheckOutcome:
    evidence: list[dict[str, Any]] = []
    problems: list[str] = []
    warnings: list[str] = []
    containers = _container_state(context, evidence, problems)
    if not containers:
        _processes_alive(context, evidence, problems)
    if not context.logs and not containers:
        return CheckOutcome(CHECK, SECTION, "SKIP", "no logs reachable: no containers of the profile's names and "
                            "no local reference stack log_dir (use --target local)", evidence)
    totals = {"5xx": 0, "jwt_errors": 0, "ocr_timeouts": 0}
    expected_5xx = context.provoked.get("5xx", 0)
    for service, source in context.logs.items():
        lines = source.since_mark()
        found = classify(lines, context)
        provoked = [line for line in found["5xx"] if _is_provoked_timeout(line, context)][:expected_5xx]
        expected_5xx -= len(provoked)
        found["5xx"] = [line for line in found["5xx"] if line not in provoked]
        evidence.append({"request": f"read {source.where} since the run started", "lines": len(lines),
                         **{kind: len(hits) for kind, hits in found.items()},
                         "examples": [context.redact(line)[:LINE_CHARS] for kind in found
                                      for line in found[kind][:QUOTED_LINES]]})
        for kind, hits in found.items():
            totals[kind] += len(hits)
        if found["5xx"]:
            problems.append(f"{service}: {len(found['5xx'])} 5xx lines "
                            f"(first: {context.redact(found['5xx'][0])[:LINE_CHARS]})")
    ocr_expected = context.provoked.get("ocr_timeouts", 0)
    if totals["ocr_timeouts"] > ocr_expected:
        problems.append(f"{totals['ocr_timeouts']} OCR timeout lines, {ocr_expected} expected (the heavy invoice)")
    jwt_expected = context.provoked.get("jwt_rejections", 0)
    if totals["jwt_errors"] > jwt_expected:
        warnings.append(f"{totals['jwt_errors']} JWT error lines for {jwt_expected} tokens smoke had refused")
    findings = [FindingDraft("log_5xx_lines", SECTION, "major", "logs: 5xx answers logged during the smoke run",
                             "; ".join(p for p in problems if "5xx" in p), "checklist §14")] \
        if totals["5xx"] else []
    where = ", ".join(sorted(context.logs)) or "containers"
    return CheckOutcome.from_problems(CHECK, SECTION, problems=problems, warnings=warnings, evidence=evidence,
                              findings=findings,
                              ok_summary=f"no 5xx, OOM kill or unexpected OCR timeout in the logs of {where} "
                                         f"({totals['jwt_errors']} JWT rejections, all provoked)")
