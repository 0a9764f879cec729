"""``stagegate stack up|down|status`` as a user runs it: real processes, files, ports and signals."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reference_stack import (
    CONTRACTS,
    StackError,
    StackOptions,
    process_user,
    read_secrets,
    running_stack,
    start_stack,
)
from stagegate.cli import main
from tests.conftest import free_port
from tests.reference_stack.intended_client import bearer, own_token

SECRET_NAMES = {"JWT_SECRET_DEPOSITO", "JWT_SECRET_NEGOCIO", "JWT_SECRET_ML", "JWT_SECRET_DASHBOARD",
                "JWT_SECRET_KEY", "DASHBOARD_API_KEY", "STAGEGATE_ADMIN_TOKEN"}


def stagegate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "stagegate", *args], check=False, capture_output=True, text=True,
                          timeout=90)


def processes_of(state_dir: Path) -> list[int]:
    """Every live, non-zombie process whose command line names ``state_dir``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if str(state_dir) in cmdline and state != "Z" and entry.name.isdigit():
            found.append(int(entry.name))
    return found


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "stack"
    yield directory
    if (directory / "stack.json").exists():
        stagegate("stack", "down", "--state-dir", str(directory))


def up(state_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return stagegate("stack", "up", "--state-dir", str(state_dir), "--ports", "auto", "--gateway-port", "0", *extra)


def in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``stagegate ARGS`` in this process (no interpreter start-up): exit code, stdout, stderr."""
    try:
        code = main(list(args))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_up_status_down_leaves_no_process_behind(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    started = up(state_dir)
    assert started.returncode == 0, started.stderr
    info = json.loads((state_dir / "stack.json").read_text())
    assert set(info) == {"contract", "catalogue", "services", "processes", "env_file", "log_dir", "started_at"}
    assert (info["contract"], info["catalogue"]) == ("intended", "fixture")
    assert {"deposito", "negocio", "ml", "dashboard"} <= set(info["services"]) == set(info["processes"])
    for name, url in info["services"].items():
        assert url == f"http://127.0.0.1:{info['processes'][name]['port']}" and url in started.stdout
        assert httpx.get(url + "/health").status_code == 200
        assert (state_dir / "pids" / f"{name}.pid").read_text().strip() == str(info["processes"][name]["pid"])
    secrets_file = Path(info["env_file"])
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    secrets = read_secrets(secrets_file)
    assert set(secrets) == SECRET_NAMES and all(len(v) >= 32 for v in secrets.values())
    assert not any(value in started.stdout + started.stderr for value in secrets.values())
    assert Path(info["log_dir"]) == state_dir / "logs"

    code, out, _ = in_process(capsys, "stack", "status", "--state-dir", str(state_dir))
    assert code == 0 and out.count("running  health 200") == len(info["processes"])
    assert processes_of(state_dir)
    code, _, err = in_process(capsys, "stack", "up", "--state-dir", str(state_dir), "--ports", "auto")
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith(f"stagegate: error: a stack is already running from {state_dir}: deposito (pid ")

    down = stagegate("stack", "down", "--state-dir", str(state_dir))
    assert down.returncode == 0 and down.stdout.startswith("stack down: stopped ")
    assert processes_of(state_dir) == []
    assert not (state_dir / "stack.json").exists()
    code, out, _ = in_process(capsys, "stack", "down", "--state-dir", str(state_dir))
    assert (code, out.strip()) == (0, f"stack down: no stack running in {state_dir}")


def test_busy_port_is_named_in_one_line_and_nothing_starts(state_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        ports = f"deposito={port},negocio={free_port()},ml={free_port()},dashboard={free_port()}"
        result = stagegate("stack", "up", "--state-dir", str(state_dir), "--ports", ports, "--no-gateway")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"stagegate: error: port {port} for deposito is busy on 127.0.0.1; choose another with --ports/--gateway-port"
    ]
    assert not (state_dir / "stack.json").exists() and processes_of(state_dir) == []


def test_status_shows_a_dead_service_and_up_cleans_a_killed_run(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert up(state_dir, "--no-gateway").returncode == 0
    stale = json.loads((state_dir / "stack.json").read_text())["processes"]
    os.killpg(stale["ml"]["pid"], signal.SIGKILL)  # a process group this test started
    code, out, _ = in_process(capsys, "stack", "status", "--state-dir", str(state_dir), "--json")
    assert code == 1
    states = {p["name"]: p for p in json.loads(out)["status"]}
    assert states["ml"]["running"] is False and states["ml"]["health"] == "not running"
    assert states["deposito"]["health"] == "200"

    for entry in stale.values():
        if entry["pid"] != stale["ml"]["pid"]:
            os.killpg(entry["pid"], signal.SIGKILL)  # the whole run is now killed, stack.json left behind
    fresh = up(state_dir, "--no-gateway")
    assert fresh.returncode == 0, fresh.stderr
    pids = {e["pid"] for e in json.loads((state_dir / "stack.json").read_text())["processes"].values()}
    assert not pids & {e["pid"] for e in stale.values()}
    assert in_process(capsys, "stack", "down", "--state-dir", str(state_dir))[0] == 0
    assert processes_of(state_dir) == []


def test_status_without_a_stack_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = in_process(capsys, "stack", "status", "--state-dir", str(tmp_path))
    assert code == 2
    assert err == f"stagegate: error: no stack in {tmp_path} (stack.json not found; start one with `stagegate stack up`)\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--contract", "bogus"], ("stagegate stack up: error: argument --contract: invalid choice: 'bogus' "
                                   f"(choose from {', '.join(repr(c) for c in sorted(CONTRACTS))})")),
        (["--ports", "deposito=x"], ("stagegate stack up: error: argument --ports: expected SERVICE=PORT[,...] "
                                     "with services deposito, negocio, ml, dashboard, or 'auto' (got 'deposito=x')")),
        (["--catalogue", "variant:x"], ("stagegate stack up: error: argument --catalogue: expected fixture, empty, "
                                        "variant:SEED or variant:SEED:COUNT (COUNT 1..1000), got 'variant:x'")),
        (["--fault", "ml.error_mode=crash"], "stagegate: error: fault: error_mode: expected handled or unhandled (got 'crash')"),
        (["--fault", "ml.ledger_corruption=lose"],
         "stagegate: error: fault: ledger_corruption does not apply to ml (applies to: deposito)"),
        (["--contract", "as-built", "--env", "STAGEGATE_AS_BUILT_NOT_STARTED=negocio,foo", "--ports", "auto",
          "--no-gateway"],  # checked once by the launcher, not once per service process that reads it
         "stagegate: error: STAGEGATE_AS_BUILT_NOT_STARTED: Input should be 'deposito', 'negocio' or 'ml' (got 'foo')"),
    ],
)
def test_bad_up_options_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = in_process(capsys, "stack", "up", "--state-dir", str(tmp_path), *args)
    assert (code, err.splitlines()) == (2, [message])
    assert not (tmp_path / "stack.json").exists()


@pytest.mark.parametrize("action", ["up", "down", "status"])
def test_stack_commands_have_help(capsys: pytest.CaptureFixture[str], action: str) -> None:
    code, out, _ = in_process(capsys, "stack", action, "--help")
    assert code == 0 and "--state-dir" in out
    if action == "up":
        flat = " ".join(out.split())
        for shown in ("--catalogue", "variant:SEED", "error_mode", "login_fail_for_s", "login_fail_status",
                      "slow_start_s", "%SHARE"):
            assert shown in flat, shown


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A state directory every user can reach (pytest's own tmp dirs are 0700 under root)."""
    directory = Path(tempfile.mkdtemp(prefix="stagegate-runas-"))
    directory.chmod(0o755)
    yield directory / "stack"
    shutil.rmtree(directory, ignore_errors=True)


def test_services_started_by_root_run_as_an_unprivileged_user(open_dir: Path, invoices: dict[str, Path]) -> None:
    if os.geteuid() != 0:
        pytest.skip("only a stack started by root drops privileges; as any other user it is unprivileged already")
    with running_stack(open_dir, services=("deposito", "negocio"), run_as="auto") as stack:
        assert {process_user(p.pid) for n, p in stack.info.processes.items() if n != "gateway"} == {"nobody"}
        deposito = httpx.Client(base_url=stack.services["deposito"], headers=bearer(own_token(stack, "deposito")))
        moved = deposito.post("/stock/update", json={"producto_id": 1, "tipo_movimiento": "entrada", "cantidad": 1})
        assert moved.status_code == 200  # the database is writable by the service's user
        files = {"file": ("n.pdf", invoices["normal"].read_bytes(), "application/pdf")}
        ocr = httpx.post(stack.services["negocio"] + "/procesar_factura_completa", files=files,
                         headers=bearer(own_token(stack, "negocio")), timeout=30)
        assert ocr.status_code == 200
        if "gateway" in stack.services:
            assert httpx.get(stack.services["gateway"] + "/api/deposito/health").status_code == 200


def test_run_as_a_user_who_cannot_reach_the_state_dir(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("--run-as matters only to a stack started by root")
    blocked = next(p for p in [*reversed(tmp_path.parents), tmp_path] if not p.stat().st_mode & 0o001)
    with pytest.raises(StackError) as error:
        start_stack(tmp_path / "stack", StackOptions(services=("ml",), ports={"ml": 0}, gateway=False, run_as="nobody"))
    assert str(error.value) == (f"--run-as nobody: nobody cannot enter {blocked} on the way to the state directory; "
                                "choose another --state-dir")
    with running_stack(tmp_path / "auto", services=("ml",), gateway=False, run_as="auto") as stack:
        assert process_user(stack.info.processes["ml"].pid) == "root"  # auto: stays root rather than fail


def test_faults_are_read_from_the_environment_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGEGATE_FAULTS", "deposito.error_rate=0.5 ml.ledger_corruption=double")
    code, _, err = in_process(capsys, "stack", "up", "--state-dir", str(tmp_path))
    assert (code, err) == (2, "stagegate: error: fault: ledger_corruption does not apply to ml (applies to: deposito)\n")
