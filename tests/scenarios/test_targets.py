"""Target resolution keeps the secrets the profile needs, and nothing else of the environment."""

from __future__ import annotations

import pytest

from scenarios.target.resolve import resolve_profile


def test_only_secret_variables_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET_NEGOCIO", "n" * 32)
    monkeypatch.setenv("DASHBOARD_API_KEY", "k" * 24)
    monkeypatch.setenv("STAGEGATE_REQUIRE_SYSTEM", "1")  # a setting: taken for a secret, "1" would be scrubbed everywhere
    monkeypatch.setenv("DASHBOARD_RATELIMIT_MAX", "120")
    secrets = resolve_profile("checklist-v0.10.0").secrets
    assert {"JWT_SECRET_NEGOCIO", "DASHBOARD_API_KEY"} <= set(secrets)
    assert "STAGEGATE_REQUIRE_SYSTEM" not in secrets and "DASHBOARD_RATELIMIT_MAX" not in secrets
    assert "n" * 32 not in repr(secrets)


def test_an_explicit_env_file_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("JWT_SECRET_ML", "from-environment-" + "x" * 16)
    env_file = tmp_path / "staging.env"
    env_file.write_text("JWT_SECRET_ML=from-file-" + "y" * 16 + "\n")
    assert resolve_profile("checklist-v0.10.0", env_file=env_file).secrets["JWT_SECRET_ML"] == "from-file-" + "y" * 16
