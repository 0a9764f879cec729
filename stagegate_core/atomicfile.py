"""Writing a file whole or not at all: a temporary file beside it, fsynced, then renamed over it.

A report, verdict or token catalogue cut short by a full disk or a kill is worse than none: a
reader cannot tell it is incomplete. ``os.replace`` is atomic on one filesystem, so a reader sees
the old file or the new one, never half of it. Secrets (token catalogues) are written with mode
0600 from the first byte, never widened afterwards.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_text_atomic(path: Path, text: str, *, mode: int = 0o644) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically with permission bits ``mode``; OSError on failure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(handle, mode)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
