"""Service logs smoke can read: a container's output or a reference-stack log file.

``mark()`` remembers where each log stood when smoke started, so the checks can look at what the
deployment logged because of (and during) this run: the ``issuer mismatch`` line after the forged
tokens, 5xx lines, OCR timeouts. ``everything()`` also reaches the start-up lines (R4).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Protocol

MAX_LOG_BYTES = 8 * 1024 * 1024
"""The most of one log smoke reads (the start and the tail); a staging log is far smaller."""


class LogSource(Protocol):
    where: str
    """Where the lines come from, for the evidence (``docker logs ml_service``, a file path)."""

    def mark(self) -> None: ...

    def since_mark(self) -> list[str]: ...

    def everything(self) -> list[str]: ...


class FileLog:
    """A log file the reference stack writes (``<log_dir>/<service>.log``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)
        self._offset = 0

    def mark(self) -> None:
        self._offset = self._size()

    def since_mark(self) -> list[str]:
        return self._read(self._offset)

    def everything(self) -> list[str]:
        return self._read(0)

    def _size(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    def _read(self, offset: int) -> list[str]:
        try:
            with self.path.open("rb") as handle:
                size = handle.seek(0, 2)
                start = max(offset, size - MAX_LOG_BYTES) if offset else 0
                handle.seek(start)
                data = handle.read(MAX_LOG_BYTES)
        except OSError:
            return []
        return data.decode("utf-8", errors="replace").splitlines()


class DockerLog:
    """The stdout and stderr of one container."""

    def __init__(self, container: Any) -> None:
        self.container = container
        self.where = f"docker logs {container.name}"
        self._since = 0.0

    def mark(self) -> None:
        self._since = time.time()

    def since_mark(self) -> list[str]:
        return self._logs(since=self._since)

    def everything(self) -> list[str]:
        return self._logs()

    def _logs(self, **kwargs: Any) -> list[str]:
        from docker.errors import DockerException  # type: ignore[import-untyped]

        try:
            data: bytes = self.container.logs(stdout=True, stderr=True, **kwargs)
        except DockerException:
            return []
        return data[-MAX_LOG_BYTES:].decode("utf-8", errors="replace").splitlines()
