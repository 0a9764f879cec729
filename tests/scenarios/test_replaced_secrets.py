"""``--target local`` uses the stack's own secrets: the ones given in the environment or ``--env-file``
that it replaces are named on stderr (names only, never values)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scenarios.target.resolve import replaced_secrets_note, resolve_profile
from tests.conftest import free_port

STACK_SECRET = "s" * 32
GIVEN_SECRET = "g" * 32


def fake_stack(state: Path) -> None:
    """A ``stack.json`` and ``secrets.env`` as ``stagegate stack up`` writes them; nothing listens."""
    state.mkdir(parents=True)
    (state / "secrets.env").write_text(f"JWT_SECRET_DEPOSITO={STACK_SECRET}\nJWT_SECRET_NEGOCIO={STACK_SECRET}\n")
    urls = {name: f"http://127.0.0.1:{free_port()}" for name in ("deposito", "negocio", "ml", "dashboard")}
    (state / "stack.json").write_text(json.dumps({"services": urls, "env_file": str(state / "secrets.env")}))


def test_resolve_names_the_given_secrets_the_stack_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_stack(tmp_path / "state")
    monkeypatch.setenv("STAGEGATE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("JWT_SECRET_DEPOSITO", GIVEN_SECRET)  # replaced
    monkeypatch.setenv("JWT_SECRET_NEGOCIO", STACK_SECRET)  # the same value: nothing replaced
    env_file = tmp_path / "given.env"
    env_file.write_text(f"JWT_SECRET_ML={GIVEN_SECRET}\n")  # the stack has none: kept

    resolved = resolve_profile("checklist-v0.10.0", "local", env_file=env_file)

    assert resolved.replaced_secrets == ("JWT_SECRET_DEPOSITO",)
    assert resolved.secrets["JWT_SECRET_DEPOSITO"] == STACK_SECRET
    assert resolved.secrets["JWT_SECRET_ML"] == GIVEN_SECRET
    note = replaced_secrets_note(resolved)
    assert note == ("note: --target local uses the local stack's own secrets; replaced JWT_SECRET_DEPOSITO "
                    "given in the environment or --env-file")
    assert replaced_secrets_note(resolve_profile("checklist-v0.10.0", f"deposito=http://127.0.0.1:{free_port()}")) is None


def test_smoke_says_which_secrets_it_replaced_never_their_values(tmp_path: Path) -> None:
    fake_stack(tmp_path / "state")
    (tmp_path / "given.env").write_text(f"JWT_SECRET_NEGOCIO={GIVEN_SECRET}\nDASHBOARD_API_KEY={'k' * 24}\n")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "COLUMNS": "200",
           "STAGEGATE_STATE_DIR": str(tmp_path / "state"), "JWT_SECRET_DEPOSITO": GIVEN_SECRET,
           "JWT_SECRET_ML": "m" * 32, **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {})}
    done = subprocess.run([sys.executable, "-m", "stagegate", "smoke", "--target", "local", "--env-file", "given.env",
                           "--results-dir", "out"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert ("note: --target local uses the local stack's own secrets; replaced JWT_SECRET_DEPOSITO, "
            "JWT_SECRET_NEGOCIO given in the environment or --env-file") in done.stderr.splitlines(), done.stderr
    assert GIVEN_SECRET not in done.stdout + done.stderr
    assert STACK_SECRET not in done.stdout + done.stderr
