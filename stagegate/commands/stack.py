"""``stagegate stack up|down|status``: the embedded reference stack from the command line.

``up`` starts it and returns (the services keep running), ``down`` stops exactly what ``up``
started, ``status`` shows each process and its health. State lives in ``--state-dir``
(default ``$STAGEGATE_STATE_DIR`` or ``.stagegate/stack``): ``stack.json``, ``secrets.env``, logs.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from reference_stack import (
    CONTRACTS,
    DEFAULT_CONTRACT,
    DEFAULT_GATEWAY_PORT,
    DEFAULT_PORTS,
    SWITCHES,
    StackError,
    StackNotRunning,
    StackOptions,
    default_state_dir,
    parse_catalogue,
    parse_fault_args,
    process_user,
    stack_status,
    start_stack,
    stop_stack,
)
from stagegate import _state_lock
from stagegate._argtypes import MAX_PORT, directory_path, number_in, port
from stagegate_core.errors import EXIT_USAGE
from stagegate_core.models import MAX_DURATION_S

FAULTS_ENV = "STAGEGATE_FAULTS"
FAULT_HELP = (
    "a fault switch as SERVICE.SWITCH=VALUE (repeatable; also $STAGEGATE_FAULTS, space-separated). "
    f"Switches: {', '.join(SWITCHES)}. Latency: fixed:MS, uniform:LOW-HIGH or lognormal:MEDIAN[:SIGMA], "
    "optionally @/route/{id}, then optionally %%SHARE (fixed:800@/productos%%0.1: every 10th request). "
    "error_mode=unhandled: a 500 closes the keep-alive connection, as uvicorn does after an unhandled "
    "exception. login_fail_for_s=S (agents; login_fail_status=503|500): /auth/login fails for S seconds "
    "after start. slow_start_s=S: every route, /health included, answers 503 for S seconds after start"
)


def _ports(text: str) -> dict[str, int]:
    if text == "auto":
        return {name: 0 for name in DEFAULT_PORTS}
    ports: dict[str, int] = {}
    for item in filter(None, text.split(",")):
        name, sep, value = item.partition("=")
        if not sep or name not in DEFAULT_PORTS or not value.isdigit() or not 0 <= int(value) <= MAX_PORT:
            raise argparse.ArgumentTypeError(
                f"expected SERVICE=PORT[,...] with services {', '.join(DEFAULT_PORTS)}, or 'auto' (got {item!r})"
            )
        ports[name] = int(value)
    return {**DEFAULT_PORTS, **ports}


def _catalogue(text: str) -> str:
    try:
        return parse_catalogue(text)
    except StackError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("catalogue: ")) from None


def _env_pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE (got {text!r})")
    return name, value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("stack", help="start, stop or inspect the reference stack",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(handler=lambda args: _no_action(parser))
    actions = parser.add_subparsers(title="actions", metavar="ACTION")

    up = actions.add_parser("up", help="start the stack and wait until every health check answers",
                            description="Start deposito, negocio, ml and dashboard (and nginx when installed), "
                                        "wait for their health checks, write stack.json, print the URLs.")
    _state_dir_option(up)
    up.add_argument("--contract", choices=sorted(CONTRACTS), default=DEFAULT_CONTRACT,
                    help="contract the services implement (default: %(default)s)")
    up.add_argument("--ports", type=_ports, default=dict(DEFAULT_PORTS), metavar="SERVICE=PORT,...|auto",
                    help="service ports (default: the contract's 8001, 8002, 8003, 8080; 'auto': free ports)")
    up.add_argument("--gateway-port", type=port, default=DEFAULT_GATEWAY_PORT,
                    help="nginx gateway port (default: %(default)s; 0: a free port)")
    up.add_argument("--no-gateway", action="store_true", help="do not start nginx even when it is installed")
    up.add_argument("--run-as", default="auto", metavar="USER",
                    help="when started by root, the user the services run as (default 'auto': nobody when it "
                         "can reach the state directory, else root; 'root' keeps root)")
    up.add_argument("--ocr-timeout", type=number_in(0, MAX_DURATION_S, low_inclusive=False), default=30.0, metavar="SECONDS",
                    help="OCR_TIMEOUT_SECONDS of negocio (default: %(default)s)")
    up.add_argument("--inflation-rate", metavar="RATE", help="INFLATION_RATE_MONTHLY of ml and negocio (default 0.045)")
    up.add_argument("--fault", action="append", default=[], metavar="SERVICE.SWITCH=VALUE", help=FAULT_HELP)
    up.add_argument("--catalogue", type=_catalogue, default="fixture", metavar="fixture|empty|variant:SEED[:COUNT]",
                    help="the products every service holds (default: %(default)s, ids 1..40): 'empty' holds none; "
                         "'variant:SEED' plays another deployment, with other ids, codes, count and stock levels "
                         "drawn from SEED (COUNT products when given)")
    up.add_argument("--env", action="append", default=[], type=_env_pair, metavar="NAME=VALUE",
                    help="extra environment for the services (e.g. DASHBOARD_RATELIMIT_MAX=120)")
    up.add_argument("--docker", action="store_true",
                    help="run the services as containers (agente_deposito, agente_negocio, ml_service, "
                         "retail_dashboard, retail_nginx) built locally without a registry")
    up.set_defaults(handler=_up)

    down = actions.add_parser("down", help="stop every process the stack started",
                              description="Stop exactly the processes stack.json names (process groups).")
    _state_dir_option(down)
    down.set_defaults(handler=_down)

    status = actions.add_parser("status", help="show each process and its health check",
                                description="Show each process of the stack; exit 1 when one is down or unhealthy.")
    _state_dir_option(status)
    status.add_argument("--json", action="store_true", help="print stack.json plus each process's state as JSON")
    status.set_defaults(handler=_status)


def _state_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state-dir", type=directory_path, default=None,
                        help="state directory (default: $STAGEGATE_STATE_DIR or .stagegate/stack)")


def _no_action(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return EXIT_USAGE


def _state_dir(args: argparse.Namespace) -> Path:
    return (args.state_dir or default_state_dir()).absolute()


def _up(args: argparse.Namespace) -> int:
    fault_items = [*os.environ.get(FAULTS_ENV, "").split(), *args.fault]
    env = dict(args.env)
    if args.inflation_rate is not None:
        env["INFLATION_RATE_MONTHLY"] = args.inflation_rate
    options = StackOptions(
        contract=args.contract, ports=args.ports, gateway=not args.no_gateway, gateway_port=args.gateway_port,
        ocr_timeout_s=args.ocr_timeout, faults=parse_fault_args(fault_items), env=env, run_as=args.run_as,
        catalogue=args.catalogue,
    )
    state_dir = _state_dir(args)
    _state_lock.refuse_while_a_run_holds(state_dir, "stack up")
    if args.docker:
        return _up_docker(state_dir, options)
    info, _ = start_stack(state_dir, options)
    print(f"stack up: contract {info.contract}, catalogue {info.catalogue}, state in {state_dir}")
    for name, url in info.services.items():
        print(f"  {name:<10} {url}")
    if "gateway" not in info.services:
        print(f"  {'gateway':<10} not started ({'--no-gateway' if args.no_gateway else 'nginx is not installed'})")
    for service, faults in options.faults.items():
        print(f"  fault      {service}: {faults.model_dump_json(exclude_defaults=True)}")
    users = sorted({process_user(p.pid) or "?" for name, p in info.processes.items() if name != "gateway"})
    print(f"services run as: {', '.join(users)}")
    print(f"secrets: {info.env_file} (mode 0600)")
    print(f"logs:    {info.log_dir}")
    return 0


def _up_docker(state_dir: Path, options: StackOptions) -> int:
    from reference_stack.docker import start_docker_stack

    ports = {**options.ports, "gateway": options.gateway_port}
    env = {"OCR_TIMEOUT_SECONDS": f"{options.ocr_timeout_s:g}", **options.env}
    stack = start_docker_stack(state_dir, contract=options.contract, ports=ports, gateway=options.gateway,
                               env=env, faults=options.faults, catalogue=options.catalogue, log=print)
    print(f"stack up (docker): contract {options.contract}, catalogue {options.catalogue}, state in {state_dir}")
    for name, url in stack.services.items():
        print(f"  {name:<10} {url}  container {stack.containers.get(name, '-')}")
    print(f"secrets: {stack.env_file} (mode 0600)")
    return 0


def _is_docker_stack(state_dir: Path) -> bool:
    try:
        return bool(json.loads((state_dir / "stack.json").read_text(encoding="utf-8")).get("runtime") == "docker")
    except (OSError, ValueError):
        return False


def _down(args: argparse.Namespace) -> int:
    state_dir = _state_dir(args)
    _state_lock.refuse_while_a_run_holds(state_dir, "stack down")
    if _is_docker_stack(state_dir):
        from reference_stack.docker import stop_docker_stack

        print(f"stack down: removed {', '.join(stop_docker_stack(state_dir)) or 'nothing'}")
        return 0
    try:
        stopped = stop_stack(state_dir)
    except StackNotRunning:
        print(f"stack down: no stack running in {state_dir}")
        return 0
    print(f"stack down: stopped {', '.join(stopped) if stopped else 'nothing (no process was left)'}")
    return 0


def _status(args: argparse.Namespace) -> int:
    info, processes = stack_status(_state_dir(args))
    healthy = all(p.running and p.health == "200" for p in processes)
    if args.json:
        print(json.dumps({**info.to_json(), "status": [vars(p) for p in processes], "healthy": healthy}, indent=2))
    else:
        print(f"stack ({info.contract}) in {_state_dir(args)}")
        for p in processes:
            state = "running" if p.running else "stopped"
            print(f"  {p.name:<10} pid {p.pid:<8} {state:<8} health {p.health:<12} {p.url}")
    return 0 if healthy else 1
