"""Argument types shared by the commands: every option is checked by argparse, before anything starts.

A value out of range is one line (``stagegate stack up: error: argument --gateway-port: ...``) and
exit 2, never an exception later in a thread, a socket or a file write. ``gate.py`` may use them too
(it may not import a command module).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

MAX_PORT = 65_535
MAX_EPOCH_S = 253_402_300_799
"""9999-12-31T23:59:59Z: the last second ``time.gmtime`` and JWT libraries agree on."""


def number_in(low: float, high: float = math.inf, *, low_inclusive: bool = True) -> Callable[[str], float]:
    """A finite number in ``[low, high]`` (``(low, high]`` when not ``low_inclusive``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number (got {text})")
        if not (value >= low if low_inclusive else value > low):
            raise argparse.ArgumentTypeError(f"must be {'>=' if low_inclusive else '>'} {low:g} (got {text})")
        if value > high:
            raise argparse.ArgumentTypeError(f"must be <= {high:g} (got {text})")
        return value

    return parse


def integer_in(low: int, high: int) -> Callable[[str], int]:
    """A whole number in ``[low, high]``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text[:40]!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high} (got {text[:40]})")
        return value

    return parse


port = integer_in(0, MAX_PORT)
"""A TCP port, 0 (a free one) to 65535."""

epoch_seconds = integer_in(0, MAX_EPOCH_S)
"""A clock in Unix epoch seconds, from 1970 to the year 9999."""


def text_file(text: str) -> Path:
    """An existing, readable UTF-8 text file (an env file, a report): its problems are one line now."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a directory, not a file")
    try:
        path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise argparse.ArgumentTypeError(f"{path} does not exist") from None
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise argparse.ArgumentTypeError(f"{path}: not a text file (not UTF-8)") from None
    return path


def file_path(text: str) -> Path:
    """A file to read or write: anything but an existing directory."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a directory, not a file")
    return path


def directory_path(text: str) -> Path:
    """A directory to use or create: anything but an existing file."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} exists and is not a directory")
    return path
