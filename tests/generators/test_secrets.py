from __future__ import annotations

import pytest

from generators import AGENT_SECRET_ENVS, EnvFileUnreadable, SecretMissing, load_agent_secrets

AGENTS = {name: AGENT_SECRET_ENVS[name] for name in ("deposito", "negocio", "ml")}


def test_env_file_wins_over_environment(tmp_path) -> None:
    env_file = tmp_path / "secrets.env"
    env_file.write_text("JWT_SECRET_DEPOSITO=from-file-dep\nJWT_SECRET_NEGOCIO='from-file-neg'\n")
    environ = {"JWT_SECRET_DEPOSITO": "from-env-dep", "JWT_SECRET_ML": "from-env-ml"}
    secrets = load_agent_secrets(AGENTS, env_file=env_file, environ=environ)
    assert dict(secrets) == {"deposito": "from-file-dep", "negocio": "from-file-neg", "ml": "from-env-ml"}


def test_fallback_and_empty_counts_as_unset() -> None:
    environ = {"JWT_SECRET_DEPOSITO": "", "JWT_SECRET_KEY": "shared-value", "JWT_SECRET_ML": "own-ml"}
    secrets = load_agent_secrets(AGENTS, fallback_env="JWT_SECRET_KEY", environ=environ)
    assert dict(secrets) == {"deposito": "shared-value", "negocio": "shared-value", "ml": "own-ml"}


def test_missing_names_the_variable_never_a_value(tmp_path) -> None:
    environ = {"JWT_SECRET_DEPOSITO": "value-that-must-not-leak"}
    with pytest.raises(SecretMissing) as caught:
        load_agent_secrets(AGENTS, environ=environ)
    assert str(caught.value) == (
        "JWT_SECRET_NEGOCIO is not set (looked in the environment); it is negocio's JWT secret"
    )
    with pytest.raises(SecretMissing) as caught:
        load_agent_secrets(AGENTS, fallback_env="JWT_SECRET_KEY", env_file=_empty(tmp_path), environ=environ)
    assert str(caught.value) == (
        f"JWT_SECRET_NEGOCIO is not set nor its fallback JWT_SECRET_KEY (looked in the environment or "
        f"{tmp_path / 'empty.env'}); it is negocio's JWT secret"
    )


def _empty(tmp_path):
    path = tmp_path / "empty.env"
    path.write_text("")
    return path


def test_repr_redacts_and_unreadable_env_file(tmp_path) -> None:
    secrets = load_agent_secrets(AGENTS, environ={v: "hidden-value" for v in AGENTS.values()})
    assert "hidden-value" not in repr(secrets) and "hidden-value" not in str(secrets)
    assert repr(secrets) == "AgentSecrets(deposito=<redacted>, negocio=<redacted>, ml=<redacted>)"
    with pytest.raises(EnvFileUnreadable) as caught:
        load_agent_secrets(AGENTS, env_file=tmp_path / "nope.env", environ={})
    assert str(caught.value) == f"{tmp_path / 'nope.env'}: cannot read (No such file or directory)"
