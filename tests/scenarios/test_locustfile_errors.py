"""Bad input to locustfiles/staging.py: one line on stderr and exit 2, before any traffic."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import free_port
from tests.scenarios.conftest import LocustRun, locust


def refused(tmp_path: Path, *args: str) -> str:
    run = locust(None, tmp_path / "results", *args, seconds=2, state_dir=tmp_path / "state")
    assert isinstance(run, LocustRun)
    assert run.returncode == 2, run.output[-2000:]
    assert "Traceback" not in run.output
    return run.output.strip().splitlines()[-1]


def test_unknown_profile(tmp_path: Path) -> None:
    assert refused(tmp_path, "--profile", "nope") == (
        "stagegate: error: unknown profile 'nope' (known: as-built, checklist-v0.10.0)")


def test_no_local_stack_says_how_to_start_one(tmp_path: Path) -> None:
    assert refused(tmp_path) == (
        f"stagegate: error: no local reference stack is running ({tmp_path / 'state' / 'stack.json'} not found); "
        "start one with: stagegate stack up")


def test_stack_state_but_nothing_answers(tmp_path: Path) -> None:
    urls = {name: f"http://127.0.0.1:{free_port()}" for name in ("deposito", "negocio", "ml", "dashboard")}
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "stack.json").write_text(json.dumps({"services": urls}), encoding="utf-8")
    line = refused(tmp_path)
    where = ", ".join(f"{name} {url}" for name, url in urls.items())
    assert line.startswith(f"stagegate: error: target unreachable: every service refused the connection for 5 s "
                           f"({where}): ")
    assert line.endswith("; start the reference stack with: stagegate stack up")


def test_explicit_target_unreachable(tmp_path: Path) -> None:
    urls = {name: f"http://127.0.0.1:{free_port()}" for name in ("deposito", "negocio", "ml", "dashboard")}
    line = refused(tmp_path, "--target", ",".join(f"{k}={v}" for k, v in urls.items()), "--profile", "as-built")
    assert line.startswith("stagegate: error: target unreachable: every service refused the connection for 5 s ")
    assert "stagegate stack up" not in line  # not local: no hint about the reference stack
