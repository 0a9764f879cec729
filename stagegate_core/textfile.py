"""The last line worth showing of a log file (a child process's output, a Locust log)."""

from __future__ import annotations

import re
from pathlib import Path


def last_line(path: Path, matching: re.Pattern[str] | None = None) -> str | None:
    """The last non-blank line of ``path`` (stripped) that ``matching`` finds something in, else its last
    non-blank line; None when the file is empty or cannot be read."""
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
                 if line.strip()]
    except OSError:
        return None
    if matching is not None:
        found = next((line for line in reversed(lines) if matching.search(line)), None)
        if found is not None:
            return found
    return lines[-1] if lines else None
