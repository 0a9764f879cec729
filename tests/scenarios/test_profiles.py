"""Target profiles: both shipped profiles load, and a bad profile file is one line naming file and key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scenarios.scenario_errors import ProfileInvalid
from scenarios.target.profiles import PROFILE_DIR, available_profiles, load_profile

INTENDED = PROFILE_DIR / "checklist-v0.10.0.toml"


def with_typo(tmp_path: Path, old: str, new: str) -> Path:
    """The intended profile with one line changed: the kind of mistake a user makes by hand."""
    text = INTENDED.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "staging.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["checklist-v0.10.0", "as-built"])
def test_shipped_profiles_load(name: str) -> None:
    profile = load_profile(name)
    assert profile.name == name and profile.source == f"{name}.toml"
    assert set(profile.services) >= {"deposito", "negocio", "ml", "dashboard"}


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("token_ttl_s = 28800", "token_tll_s = 28800",
         "staging.toml: auth.token_tll_s: Extra inputs are not permitted (got 28800)"),
        ('url = "http://127.0.0.1:8001"', 'url = "127.0.0.1:8001"',
         "staging.toml: services.deposito.url: Value error, must start with http:// or https:// (got '127.0.0.1:8001')"),
        ('mode = "login"', 'mode = "logon"',
         "staging.toml: auth.mode: Input should be 'login' or 'mint' (got 'logon')"),
        ("timeout_s = 30", "timeout_s = -30",
         "staging.toml: ocr.timeout_s: Input should be greater than 0 (got -30)"),
        ("[services.ml]", "[services.ml\n", None),
    ],
)
def test_a_typo_is_one_line_naming_file_and_key(tmp_path: Path, old: str, new: str, message: str | None) -> None:
    with pytest.raises(ProfileInvalid) as error:
        load_profile(with_typo(tmp_path, old, new))
    text = str(error.value)
    assert "\n" not in text
    if message is None:
        assert text.startswith("staging.toml: not valid TOML (")
    else:
        assert text == message


def test_unknown_profile_name_lists_the_known_ones() -> None:
    with pytest.raises(ProfileInvalid) as error:
        load_profile("checklist-v9")
    assert str(error.value) == f"unknown profile 'checklist-v9' (known: {', '.join(available_profiles())})"


def test_cli_turns_a_bad_profile_into_one_line_and_exit_2(tmp_path: Path) -> None:
    path = with_typo(tmp_path, "token_ttl_s = 28800", "token_tll_s = 28800")
    result = subprocess.run([sys.executable, "-m", "stagegate", "smoke", "--profile", str(path), "--target", "local"],
                            check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "stagegate: error: staging.toml: auth.token_tll_s: Extra inputs are not permitted (got 28800)"
    ]
