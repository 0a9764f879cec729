"""Errors the user can fix, and the one kind they cannot.

The tree, kept here as httpx keeps its own at the top of ``_exceptions.py``::

    StagegateError      the user can fix it -> one line on stderr, exit 2
    +-- GeneratorError  generators/_errors.py       e.g. InvoiceSpecInvalid, SecretMissing
    +-- ScenarioError   scenarios/scenario_errors.py        e.g. ProfileInvalid, PlanInvalid, TargetNotAllowed
    +-- AnalysisError   analysis/_errors.py         e.g. RulesInvalid, ResultsLineInvalid
    +-- StackError      reference_stack/_errors.py  e.g. PortBusy
    HarnessFailure      (not a StagegateError) we or the host failed -> exit 4

A message is one line naming the file, the key or line, and the problem, and never a secret.
Library code raises these; only the CLI (``stagegate/``) prints them and exits.
"""

from __future__ import annotations

import errno

EXIT_PROMOTE = 0
EXIT_ROLLBACK = 1
EXIT_USAGE = 2
EXIT_HOLD = 3
EXIT_HARNESS_FAILURE = 4

VERDICT_EXIT_CODES = (f"{EXIT_PROMOTE} PROMOTE, {EXIT_ROLLBACK} ROLLBACK, {EXIT_USAGE} usage or input error, "
                      f"{EXIT_HOLD} HOLD, {EXIT_HARNESS_FAILURE} harness failure")
"""The exit codes of every command that ends with a verdict, as its ``--help`` states them."""
VERDICT_EPILOG = f"exit codes: {VERDICT_EXIT_CODES}"
TOOL_EPILOG = f"exit codes: {EXIT_PROMOTE} done, {EXIT_USAGE} usage or input error, {EXIT_HARNESS_FAILURE} harness failure"
"""The exit codes of a command that makes something (``generate``) rather than judging."""


class StagegateError(Exception):
    """Something the user can fix: bad input, missing secret, unreachable target. Exit code 2."""


class WriteFailed(Exception):
    """A file could not be written (disk full, read-only, I/O error). Exit code 4, one line, no traceback."""


WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EFBIG})
"""An ``OSError`` with one of these is the host failing to store something: exit 4 in one line."""


class HarnessFailure(Exception):
    """We or the host failed (a bug, a dead daemon). Exit code 4, traceback to the run log."""
