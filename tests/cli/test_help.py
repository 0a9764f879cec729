"""Every command answers --help, and bad usage is one line with exit 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from stagegate.cli import build_parser


def _command_names() -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return sorted(sub.choices)  # type: ignore[attr-defined]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "stagegate", *args], capture_output=True, text=True, timeout=60, check=False)


def test_top_level_help_lists_exit_codes() -> None:
    result = _run("--help")
    assert result.returncode == 0
    assert "0 PROMOTE, 1 ROLLBACK, 2 usage or input error, 3 HOLD, 4 harness failure" in result.stdout


@pytest.mark.parametrize("name", _command_names())
def test_each_command_has_help(name: str) -> None:
    result = _run(name, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: stagegate " + name)


def test_unknown_command_is_one_line_and_exit_2() -> None:
    result = _run("frobnicate")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "invalid choice: 'frobnicate'" in result.stderr
