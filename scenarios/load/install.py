"""``install(environment)``: turn a Locust environment into a stagegate run.

Called from the locustfile's ``init`` listener in every process. It registers the recorder first
(so in Locust's reversed ``quitting`` it flushes last), then the ledger tracker, chaos and the live
abort when those packages are present; it configures the user classes (task weights, fixed
counts) and the shape from the scenario file. The standalone or master process resolves the target
and refuses to start, with one ``StagegateError`` line, when nothing answers or the deployment
refuses the configured password. It logs in and discovers what the deployment holds, retrying a
broken deployment for ``auth.login_retry_s`` and then starting anyway with a finding. Workers take
the master's options (its discovery and OCR timeout among them), so they build their part when
the master starts the test.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import platform
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import locust
from locust.env import Environment
from locust.runners import WorkerRunner

from scenarios.load.health_watcher import HealthWatcher
from scenarios.load.heavy_invoice import HeavyInvoiceUser
from scenarios.load.inputs import default_invoices, load_invoices, load_token_cases
from scenarios.load.ledger_tracker import LedgerTracker
from scenarios.load.pacing import ArrivalSchedule
from scenarios.load.recorder import STREAM_FILE, Recorder
from scenarios.load.run_context import RunContext, attach, has_context
from scenarios.load.service_users import SERVICE_USERS
from scenarios.load.shapes import StagesShape, effective_stages
from scenarios.load.token_forger import TokenForgerUser
from scenarios.scenario_errors import ScenarioError
from scenarios.scenario_file import ScenarioFile, load_scenario_file
from scenarios.target.credentials import Credentials
from scenarios.target.deployment_facts import configured_ocr_timeout, token_catalogue
from scenarios.target.discovery import Discovered, discover
from scenarios.target.profiles import Profile, load_profile
from scenarios.target.resolve import Resolved, Secrets, ensure_reachable, resolve_profile
from stagegate_core import __version__
from stagegate_core.stream import RunHeader, new_run_id, run_header_record

log = logging.getLogger(__name__)
logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per setup request drowns Locust's own output


def install(environment: Environment) -> Recorder:
    """Make ``environment`` a stagegate run; raises ``StagegateError`` (one line) on bad input."""
    options = environment.parsed_options
    if options is None:
        raise ScenarioError("scenarios.install needs Locust's parsed options (run it from a locustfile)")
    worker = isinstance(environment.runner, WorkerRunner)
    scenario = load_scenario_file(Path(options.scenario_file) if options.scenario_file else None)
    configure_classes(environment, scenario, load_profile(options.profile), options)
    if worker:
        recorder = Recorder(environment, results_dir=None, header=None)
        recorder.install()

        def build_on_start(**_: Any) -> None:
            if not has_context(environment):
                _build_context(environment, recorder, scenario, _resolve(environment.parsed_options))

        worker_events: Any = environment.events  # Locust's hooks are untyped
        worker_events.test_start.add_listener(build_on_start)
        _install_optional(environment, "scenarios.load.abort", when=True)  # ships windows as the master's abort needs
        return recorder
    resolved = _resolve(options)
    ensure_reachable(resolved.profile, hint="; start the reference stack with: stagegate stack up"
                     if options.target == "local" else "")
    results_dir = _results_dir(options.results_dir)
    options.results_dir = str(results_dir)  # handed to the workers with the other options
    recorder = Recorder(environment, results_dir=results_dir, header=run_header(options, resolved.profile))
    recorder.install()
    end_interrupted_on_sigint(recorder)
    events: Any = environment.events  # Locust's hooks are untyped
    events.test_start.add_listener(lambda **_: recorder.start_segment(run_header(options, resolved.profile)))
    context = _build_context(environment, recorder, scenario, resolved)
    LedgerTracker(recorder, context.profile, context.credentials, context.tracked_products()).install(environment)
    _install_optional(environment, "scenarios.chaos", when=bool(options.chaos_plan))
    _install_optional(environment, "scenarios.load.abort", when=bool(options.abort_on_rollback))
    return recorder


def configure_classes(environment: Environment, scenario: ScenarioFile, profile: Profile, options: Any) -> None:
    """Task weights, class weights and fixed counts from the scenario file; the chosen shape.

    Tasks whose route the profile marks missing (a gap the smoke checks report) are left out.
    """
    for service, user_class in SERVICE_USERS.items():
        weights = {name: w for name, w in scenario.tasks.get(service, {}).items() if w > 0 and served(profile, name)}
        user_class.tasks = [getattr(user_class, name) for name, weight in weights.items() for _ in range(weight)]
        user_class.weight = scenario.users.get(service, 0) if user_class.tasks else 0
    actors = scenario.actors
    for actor, count in ((HealthWatcher, actors.health_watcher), (TokenForgerUser, actors.token_forger),
                         (HeavyInvoiceUser, 0 if profile.ocr.missing else actors.heavy_invoice)):
        actor.weight, actor.fixed_count = 0, count
    stages = scenario.shapes[options.scenario].stages
    if options.stage_duration > 0:
        stages = [stage.model_copy(update={"duration_s": options.stage_duration}) for stage in stages]
    StagesShape.stages = list(stages)
    StagesShape.headless_options = {
        "peak_users": options.num_users, "spawn_rate": options.spawn_rate, "run_time_s": options.run_time,
    }
    if environment.user_classes:
        environment.user_classes[:] = [cls for cls in environment.user_classes if cls.weight or cls.fixed_count]


def served(profile: Profile, task: str) -> bool:
    """Whether the deployment serves the route behind ``task`` (per the profile's ``missing`` marks)."""
    if task == "ocr_normal":
        return not profile.ocr.missing
    if task == "predict":
        return not profile.predict.missing
    call = profile.calls.get(task)
    return call is None or not call.missing


def _build_context(environment: Environment, recorder: Recorder, scenario: ScenarioFile, resolved: Resolved
                   ) -> RunContext:
    options: Any = environment.parsed_options
    profile = resolved.profile
    invoices = load_invoices(Path(options.invoices)) if options.invoices else default_invoices(profile)
    timeout_s = options.ocr_timeout or logged_ocr_timeout(resolved.stack_state, profile) or profile.ocr.timeout_s
    options.ocr_timeout = timeout_s  # the master hands its options to the workers: they judge with the same
    grace_s = options.ocr_grace if options.ocr_grace >= 0 else profile.ocr.grace_s
    catalogue = token_catalogue(profile, resolved.secrets)
    credentials = Credentials(profile, resolved.secrets, catalogue)
    if options.worker:
        discovered = Discovered.from_json(options.discovered)
    else:
        discovered = _log_in_and_discover(profile, credentials, recorder)
        options.discovered = discovered.to_json()  # handed to the workers with the other options
    schedule = None
    if options.open_model_rps > 0:
        processes = max(1, int(getattr(options, "expect_workers", 1) or 1)) if options.worker else 1
        schedule = ArrivalSchedule(options.open_model_rps / processes)
    context = RunContext(
        profile=profile, credentials=credentials, scenario=scenario, recorder=recorder,
        ocr_timeout_s=timeout_s, ocr_grace_s=grace_s,
        invoices=invoices, token_cases=load_token_cases(options.tokens, catalogue),
        schedule=schedule, discovered=discovered,
    )
    attach(environment, context)
    return context


def _log_in_and_discover(profile: Profile, credentials: Credentials, recorder: Recorder) -> Discovered:
    """Logins, then discovery, within one ``auth.login_retry_s`` deadline; what failed becomes a finding.

    A refused password still stops the run (``LoginRefused``, exit 2): that is the user's to fix.
    """
    deadline = time.monotonic() + profile.auth.login_retry_s
    findings = credentials.log_in_at_start()
    discovered, more = discover(profile, credentials.headers, deadline=deadline)
    for finding in [*findings, *more]:
        log.warning("stagegate: %s (%s)", finding.title, finding.evidence)
        recorder.emit(finding.to_record())
    return discovered


def _resolve(options: Any) -> Resolved:
    target = None if options.target in ("", "profile") else options.target
    resolved = resolve_profile(options.profile, target, env_file=Path(options.env_file) if options.env_file else None)
    if options.login_password:
        secrets = Secrets({**resolved.secrets, resolved.profile.auth.password_env: options.login_password})
        resolved = Resolved(profile=resolved.profile, secrets=secrets, stack_state=resolved.stack_state)
    return resolved


def logged_ocr_timeout(stack_state: dict[str, Any] | None, profile: Profile) -> float | None:
    """The local stack's OCR timeout, from the OCR service's start-up log line (as smoke reads it)."""
    log_dir = (stack_state or {}).get("log_dir")
    path = Path(log_dir) / f"{profile.ocr.service}.log" if log_dir else None
    if path is None or not path.is_file():
        return None
    return configured_ocr_timeout(path.read_text(encoding="utf-8", errors="replace").splitlines())


def end_interrupted_on_sigint(recorder: Recorder) -> None:
    """Ctrl-C (SIGINT) still stops Locust as before, and the stream ends ``interrupted``, not ``completed``."""
    previous = signal.getsignal(signal.SIGINT)

    def on_sigint(signum: int, frame: Any) -> None:
        recorder.end_reason, recorder.end_detail = "interrupted", "stopped by SIGINT (Ctrl-C)"
        if callable(previous):
            previous(signum, frame)
        else:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_sigint)


def _results_dir(option: str) -> Path:
    directory = Path(option) if option else Path("results") / time.strftime("%Y%m%d-%H%M%S")
    stream = directory / STREAM_FILE
    if stream.exists() and stream.stat().st_size > 0:
        raise ScenarioError(f"--results-dir: {stream} already holds a run; choose another directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScenarioError(f"--results-dir: cannot create {directory} ({exc.strerror or exc})") from None
    return directory


def run_header(options: Any, profile: Any) -> RunHeader:
    """The stream's first record: enough to judge the results directory again later."""
    settings = {
        "target": options.target, "scenario_file": options.scenario_file or "shop_day.toml",
        "invoices": options.invoices or None, "tokens": options.tokens or None,
        "ocr_timeout_s": options.ocr_timeout or profile.ocr.timeout_s,
        "ocr_grace_s": options.ocr_grace if options.ocr_grace >= 0 else profile.ocr.grace_s,
        "open_model_rps": options.open_model_rps or None, "users": options.num_users,
        "spawn_rate": options.spawn_rate, "run_time_s": options.run_time,
        "processes": getattr(options, "processes", None), "abort_on_rollback": options.abort_on_rollback,
        "chaos_plan": options.chaos_plan or None,
        "stages": [stage.model_dump() for stage in effective_stages(StagesShape.stages, **StagesShape.given(options))],
    }
    return run_header_record(
        time.time(), run_id=_run_id(options), producer="locust", profile=profile.name,
        scenario=options.scenario, targets=profile.targets(), settings=settings, versions=_versions(),
    )


def _run_id(options: Any) -> str:
    return Path(options.results_dir).name if options.results_dir else new_run_id("locust")


def _versions() -> dict[str, str]:
    versions = {"stagegate": __version__, "locust": locust.__version__, "python": platform.python_version()}
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5, check=False,
                                cwd=Path(__file__).parent)
        if commit.returncode == 0:
            versions["git"] = commit.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return versions


def _install_optional(environment: Environment, module_name: str, *, when: bool) -> None:
    """Install a listener package that other engineers own, when it exists and is asked for."""
    if not when:
        return
    if importlib.util.find_spec(module_name) is None:
        raise ScenarioError(f"{module_name} is not available in this installation")
    module = importlib.import_module(module_name)
    module.install(environment)
