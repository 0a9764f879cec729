"""One reference stack for the smoke tests (faults flipped at run time), and a way to run smoke on it."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reference_stack._handle import StackHandle, running_stack
from reference_stack.docker import DockerStack
from scenarios.smoke import SmokeReport, run_smoke
from scenarios.target.resolve import resolve_profile
from stagegate.cli import main

OCR_TIMEOUT_S = 1.0
OCR_GRACE_S = 1.0
OCR_SECONDS_PER_MB = 0.5
"""A 0.5 MB normal invoice takes ~0.25 s; the ~13 MB heavy one ~7 s, cut at the 1 s timeout."""
DUMMY_SECRETS = {"JWT_SECRET_DEPOSITO": "d" * 32, "JWT_SECRET_NEGOCIO": "n" * 32, "JWT_SECRET_ML": "m" * 32,
                 "DASHBOARD_API_KEY": "k" * 24}
"""Secrets for targets that never answer (nothing verifies them)."""


@pytest.fixture(scope="session")
def stack() -> Iterator[StackHandle]:
    """The clean stack; under root its services drop to ``nobody``, as compose's non-root users do (R1)."""
    state_dir = Path(tempfile.mkdtemp(prefix="stagegate-smoke-stack-"))
    state_dir.chmod(0o755)  # nobody must reach it (pytest's own temp root is 0700)
    try:
        with running_stack(state_dir, ocr_timeout_s=OCR_TIMEOUT_S, ocr_seconds_per_mb=OCR_SECONDS_PER_MB,
                           run_as="auto") as handle:
            yield handle
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def clean_trivy_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("trivy") / "trivy.json"
    path.write_text(json.dumps({"SchemaVersion": 2, "Results": [
        {"Target": "requirements.txt", "Class": "lang-pkgs", "Type": "pip", "Vulnerabilities": []}]}))
    return path


def smoke_on(stack: StackHandle | DockerStack, results_dir: Path, profile: str = "checklist-v0.10.0", **options: Any) -> SmokeReport:
    """Run smoke against ``stack`` (``--target local``) with the test stack's short OCR timeout."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STAGEGATE_STATE_DIR", str(stack.state_dir))
        resolved = resolve_profile(profile, "local")
    options.setdefault("ocr_grace_s", OCR_GRACE_S)
    return run_smoke(resolved, results_dir=results_dir, **options)


def statuses(report: SmokeReport) -> dict[str, str]:
    return {outcome.check: outcome.status for outcome in report.outcomes}


def outcome(report: SmokeReport, check: str) -> Any:
    return next(o for o in report.outcomes if o.check == check)


def records(results_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (results_dir / "smoke.jsonl").read_text().splitlines()]


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Done]:
    """``stagegate smoke ARGS`` in this process (fast), in ``tmp_path``, with only ``env`` as secrets."""

    def run(*args: str, **env: str) -> Done:
        for name in [*DUMMY_SECRETS, "STAGEGATE_STATE_DIR"]:
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("COLUMNS", "200")
        monkeypatch.chdir(tmp_path)
        capsys.readouterr()
        code = main(["smoke", *args])
        out, err = capsys.readouterr()
        return Done(code, out, err)

    return run
