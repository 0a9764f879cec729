"""The recorder: every request and check result of a Locust run, as the results stream.

It is a set of Locust listeners, as Locust's own stats are (``locust/stats.py``):

- ``request``: each request lands in the one-second window of its name (``WindowBook``), with its
  outcome class: ``transport`` when it never got an answer (``scenarios.target.classify.is_transport``),
  else ``ok``, ``error`` or ``expected`` (read from the request context the users set);
- ``start_segment`` (at every ``test_start``): a new ``RunHeader`` with ``settings["segment"]`` 1, 2,
  ... (a web UI stop and start is a new segment); records emitted before the first one (start-up
  findings) are held and written right after it;
- standalone or master: a greenlet writes the closed windows every second to
  ``<results-dir>/locust.jsonl`` (``StreamWriter`` flushes each line);
- worker: ``report_to_master`` ships its windows and its other records (health, token, OCR,
  ledger) under the ``stagegate`` key, and writes nothing;
- master: ``worker_report`` merges the windows of all workers (sketch merge) before writing, so
  that one process and many give the same totals;
- ``quitting``: the rest is written, then ``RunEnd``. Installed first, it runs last in Locust's
  reversed ``quitting``.

Request context keys the recorder reads: ``service``, ``traffic`` (default ``normal``),
``expected`` (True when the harness provoked this failure on purpose and it came out as it
should) and ``due`` (open model: the epoch time the request was due; latency is counted from it).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, cast

import gevent  # type: ignore[import-untyped]
from locust.env import Environment
from locust.runners import WORKER_REPORT_INTERVAL, MasterRunner, WorkerRunner

from scenarios.load.windows import WINDOW_S, Outcome, SeriesWindow, WindowBook
from scenarios.target.classify import error_class, is_transport
from stagegate_core.errors import EXIT_HARNESS_FAILURE
from stagegate_core.stream import EndReason, Record, RunHeader, StreamWriter, Traffic, run_end_record

STREAM_FILE = "locust.jsonl"
REPORT_KEY = "stagegate"
"""Key of the recorder's part in a worker report (Locust uses ``stats`` and ``errors``)."""
MASTER_LAG_S = WORKER_REPORT_INTERVAL + 2.0
"""How long the master keeps a closed window open for late worker reports before writing it."""

log = logging.getLogger(__name__)

Role = Literal["local", "master", "worker"]


def role_of(environment: Environment) -> Role:
    """What this process does in the run: writes the stream (``local``, ``master``) or ships (``worker``)."""
    runner = environment.runner
    return "worker" if isinstance(runner, WorkerRunner) else "master" if isinstance(runner, MasterRunner) else "local"


class Recorder:
    """Windows and records of one Locust process, written (or shipped) as the results stream."""

    def __init__(self, environment: Environment, *, results_dir: Path | None, header: RunHeader | None,
                 role: Role | None = None) -> None:
        self.environment = environment
        self.role: Role = role or role_of(environment)
        self.book = WindowBook()
        self.end_reason: EndReason = "completed"
        self.end_detail = ""
        self._outbox: list[Record] = []
        self._readers: list[Callable[[Record], None]] = []
        self._header: RunHeader | None = header
        self._header_written = header is None
        self.segment = 0
        self._held: list[Record] = []
        self._written_before = 0.0
        self._lag_s = MASTER_LAG_S if self.role == "master" else 0.0
        self._writer: StreamWriter | None = None
        self.path: Path | None = None
        self._flusher: gevent.Greenlet | None = None
        if self.role != "worker":
            if results_dir is None:
                raise ValueError("the recorder of a master or standalone process needs a results directory")
            self._writer = StreamWriter(Path(results_dir) / STREAM_FILE)
            self.path = self._writer.path

    def install(self) -> None:
        """Register the listeners and, where the stream is written, start the per-second flush."""
        events: Any = self.environment.events  # Locust's hooks are untyped
        events.request.add_listener(self.on_request)
        events.quitting.add_listener(self.on_quitting)
        if self.role == "worker":
            events.report_to_master.add_listener(self.on_report_to_master)
        else:
            if self.role == "master":
                events.worker_report.add_listener(self.on_worker_report)
            self._flusher = gevent.spawn(self._flush_every_window)

    # -- producing ---------------------------------------------------------------------------

    def on_request(self, request_type: str, name: str, response_time: float, response_length: int,
                   exception: BaseException | None = None, context: dict[str, Any] | None = None,
                   response: Any = None, start_time: float | None = None, **_: Any) -> None:
        context = context or {}
        latency_ms = float(response_time or 0.0)
        due = context.get("due")
        if due is not None and start_time is not None and start_time > due:
            latency_ms += (start_time - due) * 1000.0
        outcome: Outcome
        problem = None
        if exception is not None and no_answer(response, exception):
            outcome = "transport"
        elif exception is not None:
            outcome = "error"
            problem = error_class(getattr(response, "status_code", None), exception)
        elif context.get("expected"):
            outcome = "expected"
        else:
            outcome = "ok"
        self.book.add(
            end_t=time.time(), name=name, service=context.get("service") or name.split(" ", 1)[0],
            traffic=cast(Traffic, context.get("traffic", "normal")), latency_ms=latency_ms, outcome=outcome,
            size_bytes=int(response_length or 0), error_class=problem,
        )

    def emit(self, rec: Record) -> None:
        """Put a non-window record (health, token, OCR, ledger, chaos, finding) into the stream; before
        the first segment's header it is held and written right after it."""
        if self._writer is None:
            self._outbox.append(rec)
        elif not self._header_written:
            self._held.append(rec)
        else:
            self._write(rec)

    def subscribe(self, reader: Callable[[Record], None]) -> None:
        """Call ``reader`` with every record this process writes, right after it is written (live judging)."""
        self._readers.append(reader)

    def start_segment(self, header: RunHeader) -> None:
        """Write ``header`` as the header of the next segment (``settings["segment"]`` 1, 2, ...).

        Called at every test start, so the header's ``t`` is when that load (and its stage table)
        begins; the records held since the process started follow the first one."""
        if self._writer is None:
            return
        self.segment += 1
        self._header_written = True
        self._write(cast(RunHeader, {**header, "settings": {**header["settings"], "segment": self.segment}}))
        held, self._held = self._held, []
        for rec in held:
            self._write(rec)

    def _write(self, rec: Record) -> None:
        if self._writer is None:  # the stream could not be written: the run is ending, records are dropped
            return
        if not self._header_written:  # a record before any test start (a run stopped before it began)
            self.start_segment(self._header)  # type: ignore[arg-type]
        try:
            self._writer.write(rec)
        except OSError as exc:
            self._cannot_write(exc)
            return
        for reader in self._readers:
            try:
                reader(rec)
            except Exception:  # a reader's bug must not stop the stream
                log.exception("stagegate recorder: a stream reader failed")

    # -- distributed ---------------------------------------------------------------------------

    def on_report_to_master(self, client_id: str, data: dict[str, Any], **_: Any) -> None:
        windows = [window.to_record() for window in self.book.take_all()]
        records, self._outbox = self._outbox, []
        data[REPORT_KEY] = {"windows": windows, "records": records}

    def on_worker_report(self, client_id: str, data: dict[str, Any], **_: Any) -> None:
        part = data.get(REPORT_KEY)
        if not part:
            return
        for rec in part.get("records", ()):
            self.emit(rec)
        for rec in part.get("windows", ()):
            window = SeriesWindow.from_record(rec)
            if window.t + WINDOW_S <= self._written_before:
                # later than the master's lag: written on its own, the analysis adds same-second records
                self._write_windows([window])
            else:
                self.book.merge(window)

    # -- writing -------------------------------------------------------------------------------

    def flush(self, *, everything: bool = False) -> None:
        """Write the closed windows (all of them with ``everything``)."""
        if self._writer is None:
            return
        if everything:
            self._written_before = float("inf")
            self._write_windows(self.book.take_all())
        else:
            self._written_before = time.time() - self._lag_s
            self._write_windows(self.book.take_closed(self._written_before))

    def _write_windows(self, windows: list[SeriesWindow]) -> None:
        for window in windows:
            self._write(window.to_record())

    def _cannot_write(self, exc: OSError) -> None:
        """The stream cannot be written (disk full, I/O error): a run without its record is worthless, so
        say it in one line and stop the run at once, exit 4; nothing more is written."""
        writer, self._writer = self._writer, None
        if writer is not None:
            with contextlib.suppress(OSError):
                writer.abandon()
        log.error("stagegate: error: %s: cannot write the results stream (%s); stopping the run",
                  self.path, exc.strerror or exc)
        self.end_reason, self.end_detail = "failed", f"cannot write {self.path}: {exc.strerror or exc}"
        self.environment.process_exit_code = EXIT_HARNESS_FAILURE
        if self.environment.runner is not None:
            gevent.spawn(self.environment.runner.quit)

    def _flush_every_window(self) -> None:
        while self._writer is not None:
            gevent.sleep(WINDOW_S - time.time() % WINDOW_S + 0.01)
            self.flush()

    def on_quitting(self, environment: Environment | None = None, **_: Any) -> None:
        """Write what is left and ``RunEnd``; a worker ships its last windows in its final report."""
        if self._flusher is not None:
            self._flusher.kill(block=False)
            self._flusher = None
        if self._writer is None:
            return
        self.flush(everything=True)
        if self._held and not self._header_written:  # never started: held records follow the construction-time header
            self.start_segment(self._header)  # type: ignore[arg-type]
        end = run_end_record(time.time(), reason=self.end_reason, detail=self.end_detail)
        self._write(end)
        writer, self._writer = self._writer, None
        if writer is not None:
            try:
                writer.close()
            except OSError as exc:
                self._writer = writer
                self._cannot_write(exc)


def no_answer(response: Any, exception: BaseException) -> bool:
    """Whether a failed request never got an answer: the client's own error (kept on Locust's
    ``ErrorResponse`` even when the user marked the failure with a message) is a transport one."""
    if getattr(response, "status_code", 0):
        return False
    error = getattr(response, "error", None)
    return is_transport(error if isinstance(error, BaseException) else exception)
