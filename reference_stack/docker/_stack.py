"""The reference stack as containers (``stagegate stack up --docker``), mirroring ``compose.yml``.

Same container names, users, ports, network aliases and environment as the compose file, started
through the Docker SDK (no compose binary needed); the gateway is nginx from the local base image
with compose's ``nginx.conf``. The stack's state directory is bind-mounted at
``/state`` in every container, so logs land in ``<state>/logs`` as with the process stack, and
``stack.json`` is written in the same shape with ``"runtime": "docker"`` and ``"containers"``
(service -> container name) added and ``"processes"`` empty. Ports are published on 127.0.0.1 only.

Usage::

    with running_docker_stack(tmp_path / "stack", ports={"negocio": 0}, suffix="-t1") as stack:
        stack.services["negocio"], stack.containers["negocio"]     # URL, container name

``suffix`` lets tests run next to a real deployment: container ``agente_negocio-t1``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from reference_stack import _state
from reference_stack._catalogue import CATALOGUE_ENV, FIXTURE, parse_catalogue
from reference_stack._contracts import DEFAULT_CONTRACT, load_contract
from reference_stack._errors import StackAlreadyRunning, StackError, StackStartFailed
from reference_stack._faults import FaultSet, fault_args
from reference_stack._launcher import free_port
from reference_stack.docker._base import Log
from reference_stack.docker._images import (
    BY_SERVICE,
    DOCKER_DIR,
    GATEWAY,
    SERVICE_IMAGES,
    ServiceImage,
    build_images,
)
from reference_stack.docker.entrypoint import FAULTS_ENV

HOST = "127.0.0.1"
SHARED_GID = 2000
"""The ``retail`` group every service user belongs to (see the Dockerfile)."""
LABEL = "org.stagegate.state-dir"
READY_TIMEOUT_S = 60.0
NGINX_CONF = "/etc/stagegate/nginx.conf"
SERVICE_ENV = {
    "AGENTE_DEPOSITO_URL": "http://agente-deposito:8001",
    "INFLATION_RATE_MONTHLY": "0.045",
    "OCR_TIMEOUT_SECONDS": "30",
    "LOG_LEVEL": "INFO",
}
"""Environment of every service, as compose.yml sets it (secrets are added per stack)."""


@dataclass(frozen=True)
class DockerStack:
    """A running container stack: where it answers and what its containers are called."""

    state_dir: Path
    services: dict[str, str]
    containers: dict[str, str]
    network: str
    env_file: Path

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def secrets(self) -> dict[str, str]:
        return _state.read_secrets(self.env_file)


def _docker() -> Any:
    """The Docker SDK, imported late: the containers import this package and do not carry it."""
    import docker  # type: ignore[import-untyped]

    return docker


def _client() -> Any:
    docker = _docker()
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        raise StackError(f"--docker: the Docker daemon does not answer ({type(exc).__name__})") from None
    return client


def _shared_dir(path: Path) -> None:
    """A directory every service user may write (group ``retail``, setgid so new files stay in it)."""
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, -1, SHARED_GID)
    path.chmod(0o2775)


def _clear_leftovers(client: Any, names: list[str], state_dir: Path) -> None:
    """Remove containers a killed earlier run of this state dir left; refuse to touch anyone else's."""
    for name in names:
        try:
            container = client.containers.get(name)
        except _docker().errors.NotFound:
            continue
        if container.labels.get(LABEL) != str(state_dir):
            raise StackAlreadyRunning(f"--docker: a container named {name} already exists and is not ours; "
                                      "remove it or use another suffix")
        container.remove(force=True)


def start_docker_stack(state_dir: Path, *, contract: str = DEFAULT_CONTRACT, ports: Mapping[str, int] | None = None,
                       gateway: bool = True, suffix: str = "", env: Mapping[str, str] | None = None,
                       faults: Mapping[str, FaultSet] | None = None, catalogue: str = FIXTURE,
                       ready_timeout_s: float = READY_TIMEOUT_S, log: Log = lambda line: None) -> DockerStack:
    """Build the images if needed, start the four services, wait for health, write ``stack.json``.

    ``ports``: service -> host port (0: any free port; missing: the contract's 8001/8002/8003/8080,
    and 80 for ``gateway``, nginx with compose's ``nginx.conf``, run from the base image).
    ``faults``: initial switches per service (set at start: the admin endpoint answers loopback
    clients only, and requests from the host reach a container from the bridge's address).
    ``catalogue``: the products the services hold (``reference_stack._catalogue``).
    """
    state_dir = state_dir.absolute()
    parse_catalogue(catalogue)
    client = _client()
    ready_paths = {name: load_contract(contract).ready_path(name) for name in BY_SERVICE}
    tags = build_images(client, log=log)
    specs = [*SERVICE_IMAGES, *([GATEWAY] if gateway else [])]
    containers = {spec.service: spec.container + suffix for spec in specs}
    _clear_leftovers(client, list(containers.values()), state_dir)
    for directory in (state_dir, state_dir / "logs", state_dir / "data"):
        _shared_dir(directory)
    env_file = state_dir / _state.SECRETS_FILE
    secrets = _state.new_secrets()
    _state.write_secrets(env_file, secrets)
    host_ports = {spec.service: (ports or {}).get(spec.service, spec.port) or free_port() for spec in specs}
    network = f"stagegate{suffix}"
    for stale in client.networks.list(names=[network]):
        stale.remove()
    client.networks.create(network, driver="bridge", labels={LABEL: str(state_dir)})
    stack = DockerStack(state_dir, {s: f"http://{HOST}:{p}" for s, p in host_ports.items()}, containers, network,
                        env_file)
    try:
        for image in SERVICE_IMAGES:  # deposito first: it creates the ledger the others read
            initial = {FAULTS_ENV: fault_args(faults[image.service])} if faults and image.service in faults else {}
            _run(client, image, tags[image.service], stack, host_ports[image.service],
                 {**SERVICE_ENV, "CONTRACT": contract, **(env or {}), CATALOGUE_ENV: catalogue, **initial, **secrets},
                 binds=[f"{stack.state_dir}:/state:rw"])
            _wait_ready(client, stack, image.service, ready_paths[image.service], ready_timeout_s)
        if gateway:
            _run(client, GATEWAY, tags[GATEWAY.service], stack, host_ports[GATEWAY.service], {},
                 binds=[f"{DOCKER_DIR / 'nginx.conf'}:{NGINX_CONF}:ro"],
                 command=["nginx", "-c", NGINX_CONF, "-g", "daemon off;"])
            _wait_ready(client, stack, GATEWAY.service, "/health", ready_timeout_s)
    except BaseException:
        _remove(client, stack)
        raise
    _write_state(stack, contract, catalogue)
    return stack


def _run(client: Any, spec: ServiceImage, tag: str, stack: DockerStack, host_port: int, env: dict[str, str], *,
         binds: list[str], command: list[str] | None = None) -> None:
    api = client.api
    host_config = api.create_host_config(port_bindings={spec.port: (HOST, host_port)}, binds=binds)
    networking = api.create_networking_config(
        {stack.network: api.create_endpoint_config(aliases=[spec.compose_service])}
    )
    created = api.create_container(
        tag, name=stack.containers[spec.service], environment=env, ports=[spec.port], host_config=host_config,
        networking_config=networking, labels={LABEL: str(stack.state_dir)}, detach=True, command=command,
    )
    api.start(created["Id"])


def _wait_ready(client: Any, stack: DockerStack, service: str, path: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    container = client.containers.get(stack.containers[service])
    with httpx.Client(timeout=2.0, trust_env=False) as http:
        while True:
            try:
                if http.get(stack.services[service] + path).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            container.reload()
            if container.status == "exited":
                last = container.logs(tail=1).decode(errors="replace").strip() or "no output"
                raise StackStartFailed(f"{stack.containers[service]} exited during start-up: {last}")
            if time.monotonic() > deadline:
                raise StackStartFailed(f"{stack.containers[service]} did not answer {path} in {timeout_s:g} s")
            time.sleep(0.2)


def _write_state(stack: DockerStack, contract: str, catalogue: str) -> None:
    state = {
        "contract": contract, "catalogue": catalogue, "runtime": "docker", "services": stack.services, "containers": stack.containers,
        "network": stack.network, "processes": {}, "env_file": str(stack.env_file), "log_dir": str(stack.log_dir),
        "started_at": time.time(),
    }
    temporary = stack.state_dir / ".stack.json.tmp"
    temporary.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    temporary.replace(stack.state_dir / "stack.json")


def _remove(client: Any, stack: DockerStack) -> list[str]:
    removed = []
    for name in reversed(list(stack.containers.values())):
        try:
            client.containers.get(name).remove(force=True)
            removed.append(name)
        except _docker().errors.NotFound:
            continue
    for network in client.networks.list(names=[stack.network]):
        network.remove()
    return removed


def stop_docker_stack(state_dir: Path) -> list[str]:
    """Remove the containers and network ``stack.json`` names; return the containers removed."""
    state_dir = state_dir.absolute()
    state = json.loads((state_dir / "stack.json").read_text(encoding="utf-8"))
    stack = DockerStack(state_dir, state["services"], state["containers"], state["network"], Path(state["env_file"]))
    removed = _remove(_client(), stack)
    _state.forget(state_dir)
    return removed


@contextmanager
def running_docker_stack(state_dir: Path, **options: Any) -> Iterator[DockerStack]:
    """``start_docker_stack`` then ``stop_docker_stack``, whatever happens in between."""
    stack = start_docker_stack(state_dir, **options)
    try:
        yield stack
    finally:
        stop_docker_stack(stack.state_dir)
