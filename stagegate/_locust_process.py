"""Running stagegate's locustfile (``scenarios/load/locustfile.py``) headless as a child process, and watching it.

``stagegate run`` and ``stagegate capacity`` do not import Locust (it monkey-patches gevent); they
start it as ``python -m locust`` with its own flags, and follow the results stream it writes to
show progress. The child is in its own process group, so Ctrl-C and SIGTERM reach it once, through
us, and it gets the time to revert chaos and flush its stream.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from stagegate_core.errors import StagegateError
from stagegate_core.procstat import die_with, prctl_function


def _packaged_locustfile() -> Path:
    """``scenarios/load/locustfile.py`` where ``scenarios`` is installed (a wheel or a checkout alike),
    found without importing it: ``scenarios.load`` imports Locust."""
    spec = importlib.util.find_spec("scenarios")
    package = Path(spec.origin).parent if spec is not None and spec.origin else Path(__file__).parent.parent / "scenarios"
    return package.resolve() / "load" / "locustfile.py"


LOCUSTFILE = _packaged_locustfile()
STOP_GRACE_S = 30.0
"""How long Locust gets after a stop signal to revert chaos and flush before it is killed."""

_DURATION = re.compile(r"^(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s?)?$")


def parse_duration(text: str, option: str = "--duration") -> int:
    """``90``, ``90s``, ``10m``, ``1h30m`` as whole seconds; a one-line error otherwise."""
    match = _DURATION.match(text.strip())
    if not text.strip() or match is None or not any(match.groupdict().values()):
        raise StagegateError(f"{option}: {text!r} is not a duration (examples: 90s, 10m, 1h30m)")
    seconds = int(match["h"] or 0) * 3600 + int(match["m"] or 0) * 60 + int(match["s"] or 0)
    if seconds <= 0:
        raise StagegateError(f"{option}: {text!r} must be longer than 0 s")
    return seconds


@dataclass
class LocustRun:
    """What to pass to Locust; everything else comes from ``locust.conf`` if the user has one."""

    results_dir: Path
    profile: str
    target: str | None
    scenario: str
    duration_s: int
    users: int | None = None
    spawn_rate: float | None = None
    processes: int | None = None
    expect_workers: int | None = None
    chaos_plan: str | None = None
    allow_chaos: bool = False
    abort_on_rollback: bool = False
    rules: Path | None = None
    """The rules file the verdict uses: the live abort (``--abort-on-rollback``) judges with the same."""
    stage_duration_s: int | None = None
    secrets_env: dict[str, str] = field(default_factory=dict)
    """Secrets handed to Locust through its environment, never through argv (``ps`` shows argv)."""
    invoices: Path | None = None
    tokens: Path | None = None
    extra: list[str] = field(default_factory=list)

    def argv(self) -> list[str]:
        out = self.results_dir
        args = [
            sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
            "--run-time", f"{self.duration_s}s", "--stop-timeout", "10",
            "--csv", str(out / "locust"), "--html", str(out / "locust.html"),
            "--profile", self.profile, "--scenario", self.scenario, "--results-dir", str(out),
        ]
        optional: list[tuple[str, object]] = [
            ("--target", self.target), ("--users", self.users), ("--spawn-rate", self.spawn_rate),
            ("--processes", self.processes), ("--invoices", self.invoices), ("--tokens", self.tokens),
            ("--chaos-plan", self.chaos_plan), ("--stage-duration", self.stage_duration_s),
            ("--rules", self.rules.resolve() if self.rules else None),
        ]
        for flag, value in optional:
            if value is not None:
                args += [flag, str(value)]
        if self.expect_workers:
            args += ["--master", "--expect-workers", str(self.expect_workers)]
        if self.allow_chaos:
            args.append("--allow-chaos")
        if self.abort_on_rollback:
            args.append("--abort-on-rollback")
        return args + self.extra


def start(run: LocustRun) -> subprocess.Popen[bytes]:
    """Start Locust in its own process group, its output going to ``locust.log`` in the results."""
    run.results_dir.mkdir(parents=True, exist_ok=True)
    log = (run.results_dir / "locust.log").open("ab")
    env = {**os.environ, **run.secrets_env, "PYTHONUNBUFFERED": "1"}
    # SIGTERM when the gate dies, even by SIGKILL: Locust then reverts chaos and flushes as on Ctrl-C
    preexec = functools.partial(die_with, os.getpid(), signal.SIGTERM, prctl_function())
    return subprocess.Popen(run.argv(), stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                            preexec_fn=preexec)  # noqa: PLW1509 (one foreign call, looked up before the fork)


def stop(process: subprocess.Popen[bytes]) -> int:
    """Ask Locust to stop as Ctrl-C would, wait for it to revert and flush, then make sure it is gone."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            return process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    return process.wait()
