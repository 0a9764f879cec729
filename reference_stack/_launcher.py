"""Bring the stack up and down: ports, secrets, database, processes, readiness, ``stack.json``.

``start_stack`` leaves the processes running (the CLI's ``stack up`` exits after it), moving a
process whose auto-chosen port was taken meanwhile to another free port;
``stop_stack`` stops exactly the processes ``stack.json`` names; ``running_stack`` wraps both
for tests and benchmarks.
"""

from __future__ import annotations

import errno
import functools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from reference_stack import _gateway, _privileges, _processes, _state
from reference_stack._catalogue import CATALOGUE_ENV, FIXTURE, catalogue_products
from reference_stack._config import DEFAULT_OCR_TIMEOUT_S, database_path, log_dir
from reference_stack._contracts import DEFAULT_CONTRACT, load_contract
from reference_stack._errors import PortBusy, StackAlreadyRunning, StackError, StackStartFailed
from reference_stack._faults import FaultSet, fault_args
from reference_stack._ledger import create_database
from reference_stack._ocr import DEFAULT_SECONDS_PER_MB
from stagegate_core.textfile import last_line

DEFAULT_PORTS = {"deposito": 8001, "negocio": 8002, "ml": 8003, "dashboard": 8080}
DEFAULT_GATEWAY_PORT = 80
HOST = "127.0.0.1"
READY_TIMEOUT_S = 30.0
PORT_TRIES = 3
"""Ports the launcher tries for a process whose auto-chosen port another process took first."""
GATEWAY = "gateway"
PACKAGE_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class StackOptions:
    """How to start the stack. A port of 0 means "any free port"."""

    contract: str = DEFAULT_CONTRACT
    services: tuple[str, ...] | None = None
    """Subset of services to run (None: all of the contract's)."""
    ports: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    gateway: bool = True
    """Run nginx in front when it is installed (silently left out when it is not)."""
    gateway_port: int = DEFAULT_GATEWAY_PORT
    ocr_timeout_s: float = DEFAULT_OCR_TIMEOUT_S
    ocr_seconds_per_mb: float = DEFAULT_SECONDS_PER_MB
    faults: Mapping[str, FaultSet] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    """Extra environment for the services (``INFLATION_RATE_MONTHLY``, ``DASHBOARD_RATELIMIT_MAX``...)."""
    ready_timeout_s: float = READY_TIMEOUT_S
    catalogue: str = FIXTURE
    """The products every service holds: ``fixture``, ``empty``, ``variant:SEED[:COUNT]`` (``_catalogue``)."""
    owned: bool = False
    """Tie the stack to the process starting it (``stagegate run``): ``stack.json`` names it as the
    owner (a later start reclaims the stack once it is gone) and every process gets a parent-death
    signal (SIGKILL for the services, SIGTERM for nginx, which stops its workers)."""
    run_as: str | None = None
    """Under root, the user the services (and nginx workers) run as once started; ``"auto"``: nobody,
    when it can reach the state directory. None: the current user."""


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now (the container stack uses it too)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _check_port(name: str, port: int) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            why = "busy" if exc.errno == errno.EADDRINUSE else f"unusable ({exc.strerror})"
            raise PortBusy(f"port {port} for {name} is {why} on {HOST}; choose another with --ports/--gateway-port") from None


def _assign_ports(names: tuple[str, ...], options: StackOptions, with_gateway: bool) -> tuple[dict[str, int], set[str]]:
    """Each process's port, and the names whose port was chosen here (asked for as 0)."""
    wanted = {name: int(options.ports.get(name, DEFAULT_PORTS.get(name, 0))) for name in names}
    if with_gateway:
        wanted[GATEWAY] = options.gateway_port
    fixed = [port for port in wanted.values() if port]
    if len(fixed) != len(set(fixed)):
        raise StackError(f"ports: two services share a port ({', '.join(f'{n}={p}' for n, p in wanted.items())})")
    for name, port in wanted.items():
        if port:
            _check_port(name, port)
    return {name: port or free_port() for name, port in wanted.items()}, {n for n, p in wanted.items() if not p}


Command = Callable[[int], list[str]]
"""A process's command line for the port it is to listen on."""


class _Starting:
    """The processes of a stack being started, so a failure stops every one of them.

    A port chosen by the launcher can be taken by another process before the service binds it;
    such a process exits saying so, and is started again on another free port, ``PORT_TRIES``
    times at most. A port the user chose is never changed.
    """

    def __init__(self, state_dir: Path, ports: dict[str, int], auto: set[str], on_respawn: Callable[[], object],
                 owned: bool = False) -> None:
        self.state_dir = state_dir
        self.owned = owned
        self.ports = ports
        """Each process's port, updated when a process is started again on another."""
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self._auto, self._on_respawn = auto, on_respawn
        self._launch: dict[str, tuple[Command, Mapping[str, str]]] = {}
        self._tries: dict[str, int] = {}
        self._output_mark: dict[str, int] = {}

    def _output(self, name: str) -> Path:
        return log_dir(self.state_dir) / f"{name}.out"

    def start(self, name: str, command: Command, env: Mapping[str, str]) -> None:
        self._launch[name], self._tries[name] = (command, env), 1
        self._spawn(name)

    def _spawn(self, name: str) -> None:
        command, env = self._launch[name]
        output = self._output(name)
        self._output_mark[name] = output.stat().st_size if output.exists() else 0
        death = (signal.SIGTERM if name == GATEWAY else signal.SIGKILL) if self.owned else None
        self.children[name] = _processes.spawn(command(self.ports[name]), env=env, output=output, cwd=self.state_dir,
                                               death_signal=death)
        _state.write_pid(self.state_dir, name, self.children[name].pid)

    def _port_taken(self, name: str) -> bool:
        """Did the process that just exited fail to bind its port (uvicorn's and nginx's own words)?"""
        with self._output(name).open("rb") as output:
            output.seek(self._output_mark[name])
            said = output.read().decode("utf-8", errors="replace")
        return os.strerror(errno.EADDRINUSE) in said

    def _restarted_on_a_new_port(self, name: str) -> bool:
        if name not in self._auto or self._tries[name] >= PORT_TRIES or not self._port_taken(name):
            return False
        self._tries[name] += 1
        self.ports[name] = free_port()
        self._spawn(name)
        self._on_respawn()
        return True

    def wait_ready(self, paths: Mapping[str, str], deadline: float, *, any_answer: frozenset[str] = frozenset()) -> None:
        """Wait until each process answers 200 on its path or exits; report every exit, in start order, at once.

        Waiting for all (rather than failing at the first exit) keeps the message the same whichever
        of two failing services the scheduler happens to end first. A process named in ``any_answer``
        (a slow start switched on) is up once it answers at all: its 503s are what the caller asked for.
        """
        pending, failed = dict(paths), {}
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while pending:
                for name, path in list(pending.items()):
                    child = self.children[name]
                    if child.poll() is not None:
                        if self._restarted_on_a_new_port(name):
                            continue
                        why = last_line(self._output(name)) or "no output"
                        failed[name] = f"{name} exited during start-up (code {child.returncode}): {why}"
                        del pending[name]
                        continue
                    try:
                        status = client.get(f"http://{HOST}:{self.ports[name]}{path}").status_code
                        if status == 200 or name in any_answer:
                            del pending[name]
                    except httpx.HTTPError:
                        pass
                if pending and time.monotonic() > deadline:
                    raise StackStartFailed(f"{', '.join(pending)} did not answer its health check in time "
                                           f"(see {log_dir(self.state_dir)})")
                if pending:
                    time.sleep(0.1)
        if failed:
            raise StackStartFailed("; ".join(failed[name] for name in paths if name in failed))

    def stop_all(self) -> None:
        for name in reversed(list(self.children)):
            _processes.stop_group(self.children[name].pid, child=self.children[name])


def _clean_stale(state_dir: Path) -> None:
    """Refuse to start over a live stack; clear what a killed run left behind.

    A stack whose owner (the run that started it) is gone is orphaned: what is left of it is stopped.
    """
    try:
        info = _state.read_info(state_dir)
    except StackError:
        _state.forget(state_dir)
        return
    if info.runtime == "docker":
        raise StackAlreadyRunning(f"a container stack is running from {state_dir} (stagegate stack up --docker); "
                                  "use it, or run `stagegate stack down` first")
    live = {name: p.pid for name, p in info.processes.items() if _processes.belongs_to(p.pid, str(state_dir))}
    if live and info.orphaned():
        for pid in live.values():
            _processes.stop_group(pid)
        live = {}
    if live:
        running = ", ".join(f"{name} (pid {pid})" for name, pid in live.items())
        raise StackAlreadyRunning(f"a stack is already running from {state_dir}: {running}; run `stagegate stack down`")
    _state.forget(state_dir)


def start_stack(state_dir: Path, options: StackOptions = StackOptions()) -> tuple[_state.StackInfo, dict[str, subprocess.Popen[bytes]]]:
    """Start every service (and nginx when wanted and installed), wait for health, write ``stack.json``."""
    state_dir = state_dir.absolute()
    contract = load_contract(options.contract)
    names = options.services or contract.SERVICES
    unknown = sorted(set(names) - set(contract.SERVICES))
    if unknown:
        raise StackError(f"services: unknown service {unknown[0]!r} (known: {', '.join(contract.SERVICES)})")
    off = switched_off(options)  # a bad start-up switch is one line here, not one per service that reads it
    products = catalogue_products(options.catalogue)
    state_dir.mkdir(parents=True, exist_ok=True)
    _clean_stale(state_dir)
    nginx = _gateway.nginx_binary() if options.gateway else None
    ports, auto = _assign_ports(names, options, nginx is not None)
    run_as = _service_user(options.run_as, state_dir)
    logs = log_dir(state_dir)
    logs.mkdir(parents=True, exist_ok=True)
    secrets = _state.new_secrets()
    env_file = state_dir / _state.SECRETS_FILE
    _state.write_secrets(env_file, secrets)
    create_database(database_path(state_dir), products)
    if run_as is not None:
        _privileges.hand_over([logs, database_path(state_dir).parent], run_as)
    env = {**_service_env(), **options.env, CATALOGUE_ENV: options.catalogue, **secrets}
    me = os.getpid()
    start = _state.process_start(me)
    owner = {"pid": me, "start": start} if options.owned and start is not None else None

    def record() -> _state.StackInfo:
        """``stack.json`` for the processes started so far (a process started again has a new pid and port)."""
        info = _state.StackInfo(
            contract=options.contract, catalogue=options.catalogue,
            services={n: f"http://{HOST}:{starting.ports[n]}" for n in starting.children},
            processes={n: _state.ProcessEntry(c.pid, starting.ports[n]) for n, c in starting.children.items()},
            env_file=str(env_file), log_dir=str(logs), started_at=time.time(), owner=owner,
        )
        _state.write_info(state_dir, info)
        return info

    def gateway_command(port: int) -> list[str]:
        assert nginx is not None
        prefix = state_dir / GATEWAY
        conf = _gateway.render(prefix, logs, port=port, upstreams={n: starting.ports[n] for n in names},
                               config=contract.gateway_config, worker_user=run_as)
        return _gateway.command(nginx, prefix, conf, logs)

    starting = _Starting(state_dir, ports, auto, on_respawn=record, owned=options.owned)
    try:
        for name in names:
            starting.start(name, functools.partial(_serve_command, name, state_dir=state_dir, options=options,
                                                   run_as=run_as), env)
        record()  # written early too, so that `stack down` can stop a start that was itself killed
        deadline = time.monotonic() + options.ready_timeout_s
        slow = frozenset(n for n, f in options.faults.items() if f.slow_start_s)
        starting.wait_ready({n: contract.ready_path(n) for n in names}, deadline, any_answer=slow)
        for name in off & set(names):  # a service that "does not start" answers readiness once, then exits
            try:
                starting.children[name].wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise StackStartFailed(f"{name} was switched off but is still running") from None
        if nginx is not None:
            starting.start(GATEWAY, gateway_command, env={"PATH": "/usr/sbin:/usr/bin:/bin"})
            record()
            starting.wait_ready({GATEWAY: "/health"}, deadline)
    except BaseException:
        starting.stop_all()
        _state.forget(state_dir)
        raise
    return record(), starting.children


def switched_off(options: StackOptions) -> frozenset[str]:
    """Services the contract's start-up switches keep from starting (as-built: ``NOT_STARTED``).

    The services read their switches from their environment (the launcher's plus ``options.env``);
    ``FaultInvalid`` names a bad one.
    """
    return load_contract(options.contract).switched_off({**os.environ, **options.env})


def _service_env() -> dict[str, str]:
    """The launcher's environment minus old secrets, with this checkout importable from any cwd."""
    env = {k: v for k, v in os.environ.items() if k not in _state.SECRET_NAMES}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(PACKAGE_ROOT), env.get("PYTHONPATH"))))
    return env


def _service_user(requested: str | None, state_dir: Path) -> str | None:
    """Who the services run as: None keeps the current user (always, when it is not root)."""
    if requested is None or os.geteuid() != 0:
        return None
    user = _privileges.AUTO_USER if requested == "auto" else requested
    blocked = _privileges.unreachable_ancestor(state_dir, user)
    if blocked is None:
        return None if user == "root" else user
    if requested == "auto":
        return None
    raise StackError(f"--run-as {user}: {user} cannot enter {blocked} on the way to the state directory; "
                     "choose another --state-dir")


def _serve_command(name: str, port: int, state_dir: Path, options: StackOptions, run_as: str | None) -> list[str]:
    command = [sys.executable, "-m", "reference_stack.serve", "--service", name, "--port", str(port),
               "--contract", options.contract, "--state-dir", str(state_dir),
               "--ocr-timeout", str(options.ocr_timeout_s), "--ocr-seconds-per-mb", str(options.ocr_seconds_per_mb)]
    if name in options.faults:
        command += ["--faults", fault_args(options.faults[name])]
    if run_as is not None:
        command += ["--run-as", run_as]
    return command


def stop_stack(state_dir: Path, children: Mapping[str, subprocess.Popen[bytes]] | None = None) -> list[str]:
    """Stop every process ``stack.json`` names (gateway first); return the names that were running."""
    state_dir = state_dir.absolute()
    info = _state.read_info(state_dir)
    stopped = []
    for name in sorted(info.processes, key=lambda n: n != GATEWAY):
        pid = info.processes[name].pid
        child = (children or {}).get(name)
        if _processes.belongs_to(pid, str(state_dir)):
            _processes.stop_group(pid, child=child)
            stopped.append(name)
        elif child is not None:
            child.poll()  # reap a child that already exited (a crash fault)
    _state.forget(state_dir)
    return stopped


@dataclass(frozen=True)
class ProcessStatus:
    name: str
    pid: int
    url: str
    running: bool
    health: str
    """``200`` or another status code, or why the health check got no answer."""


def stack_status(state_dir: Path) -> tuple[_state.StackInfo, list[ProcessStatus]]:
    """Each process of the stack in ``state_dir``: running or not, and what its readiness probe says.

    The probe is the contract's unauthenticated ``ready_path`` (the as-built agents' ``/health``
    wants a JWT), ``/health`` for the gateway.
    """
    state_dir = state_dir.absolute()
    info = _state.read_info(state_dir)
    contract = load_contract(info.contract)
    found = []
    with httpx.Client(timeout=3.0, trust_env=False) as client:
        for name, entry in info.processes.items():
            running = _processes.belongs_to(entry.pid, str(state_dir))
            url = info.services.get(name, f"http://{HOST}:{entry.port}")
            try:
                path = "/health" if name == GATEWAY else contract.ready_path(name)
                health = str(client.get(url + path).status_code) if running else "not running"
            except httpx.HTTPError as exc:
                health = f"no answer ({type(exc).__name__})"
            found.append(ProcessStatus(name, entry.pid, url, running, health))
    return info, found
