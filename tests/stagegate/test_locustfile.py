"""The gate's locustfile ships in the package, and a missing or broken one is a harness failure (exit 4)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

import scenarios
from reference_stack import running_stack
from stagegate import _locust_process, gate
from tests.conftest import REPO

TRIVY_CLEAN = REPO / "examples" / "trivy-no-findings.json"


def options(tmp_path: Path) -> gate.GateOptions:
    return gate.GateOptions(
        profile="checklist-v0.10.0", target="local", env_file=None, scenario="steady", duration_s=5, users=None,
        processes=None, expect_workers=None, chaos=None, allow_chaos=False, rules=None,
        trivy_report=TRIVY_CLEAN, abort_on_rollback=False, smoke=False, out=tmp_path / "out",
        reports_dir=tmp_path,
    )


def test_the_locustfile_is_a_module_of_the_locust_side_not_a_file_of_the_checkout() -> None:
    package = Path(scenarios.__file__).resolve().parent
    assert _locust_process.LOCUSTFILE == package / "load" / "locustfile.py"
    assert _locust_process.LOCUSTFILE.is_file()
    run = _locust_process.LocustRun(results_dir=Path("out"), profile="reference", target=None, scenario="steady",
                                    duration_s=5)
    argv = run.argv()
    assert argv[argv.index("-f") + 1] == str(_locust_process.LOCUSTFILE)


def test_the_checkout_entry_only_imports_the_packaged_locustfile() -> None:
    entry = (REPO / "locustfiles" / "staging.py").read_text(encoding="utf-8")
    assert "from scenarios.load.locustfile import *" in entry  # the package's __all__: its users and shape
    assert not any(word in entry for word in ("add_listener", "class ", "def "))  # nothing of its own


def test_a_missing_locustfile_is_exit_4_in_one_line_naming_it_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "site-packages" / "scenarios" / "load" / "locustfile.py"
    monkeypatch.setattr(_locust_process, "LOCUSTFILE", missing)
    monkeypatch.setenv("STAGEGATE_STATE_DIR", str(tmp_path / "no-stack"))
    assert gate.run_gate(options(tmp_path)) == 4
    stderr = capsys.readouterr().err
    assert stderr.count("\n") == 1, stderr
    assert f"harness failure: stagegate's locustfile {missing} is missing" in stderr
    assert not (tmp_path / "no-stack").exists()  # no reference stack was started for nothing


@pytest.mark.e2e
def test_a_locustfile_that_fails_to_import_is_exit_4_with_its_error_line_never_a_quiet_hold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "locustfile.py"
    broken.write_text('raise RuntimeError("the locustfile is broken on purpose")\n', encoding="utf-8")
    monkeypatch.setattr(_locust_process, "LOCUSTFILE", broken)
    with tempfile.TemporaryDirectory(prefix="stagegate-locustfile-") as directory:
        os.chmod(directory, 0o755)
        with running_stack(Path(directory), run_as="auto") as stack:
            monkeypatch.setenv("STAGEGATE_STATE_DIR", str(stack.state_dir))
            code = gate.run_gate(options(tmp_path))
    stderr = capsys.readouterr().err
    assert code == 4, stderr[-3000:]
    assert "Locust failed before any traffic (exit 1): RuntimeError: the locustfile is broken on purpose" in stderr
    assert "nothing recorded to judge in" in stderr and "stagegate: error" not in stderr
