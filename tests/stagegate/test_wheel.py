"""The wheel is the product: it holds everything a run needs, and an installed stagegate runs a gate
from an unrelated directory, without the source tree.

The wheel is built from a copy of the packages (never in the checkout, where setuptools' ``build/``
would keep stale files), installed into a fresh venv with ``--no-deps``; the venv sees the
dependencies of the interpreter running the tests through a ``.pth`` file, so the test stays offline
and fast while stagegate itself comes from the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from reference_stack import StackHandle, running_stack
from tests.conftest import REPO

PACKAGES = ("stagegate", "stagegate_core", "scenarios", "generators", "analysis", "reference_stack")
TRIVY_CLEAN = REPO / "examples" / "trivy-no-findings.json"


def _package_files() -> set[str]:
    return {
        path.relative_to(REPO).as_posix()
        for package in PACKAGES
        for path in (REPO / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in PACKAGES:
        shutil.copytree(REPO / package, source / package, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", str(source), "-w", str(out)],
        capture_output=True, text=True, timeout=240, check=False,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    (built,) = out.glob("stagegate-*.whl")
    return built


def test_the_wheel_holds_every_file_of_the_packages(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    missing = _package_files() - shipped
    assert not missing, sorted(missing)
    for needed in ("scenarios/load/locustfile.py", "reference_stack/docker/Dockerfile",
                   "reference_stack/docker/compose.yml", "reference_stack/docker/requirements.txt",
                   "reference_stack/docker/nginx.conf", "analysis/rules/default.toml",
                   "scenarios/target/profiles/checklist-v0.10.0.toml", "analysis/_reports/templates/report.html.j2"):
        assert needed in shipped, needed


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    python = root / "bin" / "python"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        capture_output=True, text=True, timeout=240, check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "stagegate-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return root


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without the checkout on PYTHONPATH: the venv must find stagegate in its wheel."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return {**env, **extra}


@pytest.fixture(scope="module")
def stack() -> Iterator[StackHandle]:
    # Outside pytest's 0700 tmp folder, so that under root the services can drop to nobody (R1).
    with tempfile.TemporaryDirectory(prefix="stagegate-wheel-") as directory:
        os.chmod(directory, 0o755)
        with running_stack(Path(directory), run_as="auto") as handle:
            yield handle


@pytest.mark.e2e
def test_an_installed_wheel_runs_a_gate_from_an_unrelated_directory(
    venv: Path, stack: StackHandle, tmp_path: Path
) -> None:
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import stagegate; from stagegate import _locust_process as p; print(stagegate.__file__, p.LOCUSTFILE)"],
        cwd=cwd, env=_clean_env(), capture_output=True, text=True, check=True,
    ).stdout.split()
    assert all(Path(path).is_relative_to(venv) for path in where), where  # the wheel's code, not the checkout's

    out = tmp_path / "out"
    trivy = cwd / "t.json"
    shutil.copy2(TRIVY_CLEAN, trivy)
    gate = subprocess.run(
        [str(venv / "bin" / "stagegate"), "run", "--target", "local", "--duration", "8s", "--no-smoke",
         "--trivy-report", "t.json", "--out", str(out)],
        cwd=cwd, env=_clean_env(STAGEGATE_STATE_DIR=str(stack.state_dir)),
        capture_output=True, text=True, timeout=240, check=False,
    )
    assert gate.returncode in (0, 3), gate.stderr[-3000:]  # 8 s is too little data for PROMOTE: HOLD is right
    verdict = json.loads((out / "verdict.json").read_text(encoding="utf-8"))
    assert verdict["verdict"] in ("PROMOTE", "HOLD")
    records = [json.loads(line) for line in (out / "locust.jsonl").read_text(encoding="utf-8").splitlines()]
    windows = [rec for rec in records if rec.get("kind") == "window"]
    assert windows, "no load traffic was recorded"
    assert any(window.get("traffic", "normal") == "normal" for window in windows)
