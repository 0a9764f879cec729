"""``stagegate generate`` as a user runs it: a subprocess, one error line and exit 2 on bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from generators import load_catalogue, load_manifest
from tests.conftest import REPO


def run(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("JWT_SECRET")}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "stagegate", "generate", *args], check=False, cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        pytest.param(
            ["invoices", "--min-size", "2GB"],
            "stagegate: error: --min-size: 2147483648 bytes is more than a heavy PDF may be (1073741824 bytes)",
            id="impossible_size",
        ),
        pytest.param(["invoices", "--count", "0"], "stagegate: error: --count: must be at least 1 (got 0)",
                     id="zero_count"),
        pytest.param(["invoices", "--kind", "normal,bogus"],
                     "stagegate: error: --kind: unknown kind 'bogus' (known: normal, heavy, hostile)",
                     id="unknown_kind"),
        pytest.param(["tokens"], "stagegate: error: JWT_SECRET_DEPOSITO is not set (looked in the environment); "
                     "it is deposito's JWT secret", id="missing_secret"),
        pytest.param(["tokens", "--profile", "nope"],
                     "stagegate: error: unknown profile 'nope' (known: as-built, checklist-v0.10.0)",
                     id="unknown_profile"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], line: str) -> None:
    result = run(*args, "--out", str(tmp_path / "out"))
    assert (result.returncode, result.stderr) == (2, line + "\n")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_tokens_from_env_file_never_print_secrets(tmp_path: Path) -> None:
    env_file = tmp_path / "secrets.env"
    env_file.write_text("JWT_SECRET_KEY=cli-test-shared-secret-value-0123456789\n"
                        "JWT_SECRET_ML=cli-test-ml-secret-value-0123456789abc\n")
    out = tmp_path / "tokens.json"
    result = run("tokens", "--profile", "as-built", "--env-file", str(env_file), "--out", str(out), "--now", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote 99 token cases (3 controls) for profile as-built to {out}")
    catalogue = load_catalogue(out)
    assert catalogue.claim_style == "role" and catalogue.generated_at == 1
    assert {agent.role for agent in catalogue.agents} == {"deposito", "negocio", "ml_service"}
    for text in (result.stdout, result.stderr, out.read_text()):
        assert "cli-test-" not in text


def test_invoices_help_and_small_run(tmp_path: Path) -> None:
    help_text = run("invoices", "--help").stdout
    assert "--min-size SIZE" in help_text and "--seed SEED" in help_text and "--format {pdf,image}" in help_text
    result = run("invoices", "--kind", "normal", "--count", "2", "--profile", "as-built", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    manifest = load_manifest(tmp_path)
    assert [f.name for f in manifest.files] == ["normal-001.jpg", "normal-002.jpg"]  # as-built uploads images
    assert result.stdout.splitlines()[-1] == f"wrote 2 files and {tmp_path / 'manifest.json'}"
