"""The ``stagegate`` command: the only place that parses argv, prints errors and exits.

Each sub-command lives in its own module under ``stagegate/commands/`` and exposes
``register(subparsers)``, which adds its parser and sets ``handler`` to a function taking the
parsed namespace and returning the exit code. Modules are found by name, so adding a command is
adding a file.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from stagegate import __version__, commands
from stagegate_core.errors import (
    EXIT_HARNESS_FAILURE,
    EXIT_USAGE,
    VERDICT_EXIT_CODES,
    WRITE_ERRNOS,
    StagegateError,
    WriteFailed,
)


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad usage already; this keeps its message to one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="stagegate",
        description="Chaos-and-load validation gate: PROMOTE, HOLD or ROLLBACK a staging deployment.",
        epilog=f"exit codes:\n  {VERDICT_EXIT_CODES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"stagegate {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    for module in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if not module.name.startswith("_"):
            importlib.import_module(f"{commands.__name__}.{module.name}").register(sub)
    return parser


def _log_traceback() -> Path:
    log_dir = Path(tempfile.gettempdir()) / "stagegate-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / f"crash-{time.strftime('%Y%m%d-%H%M%S')}.log"
    path.write_text(traceback.format_exc(), encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(handler(args))
    except StagegateError as exc:
        print(f"stagegate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except WriteFailed as exc:
        print(f"stagegate: error: {exc}", file=sys.stderr)
        return EXIT_HARNESS_FAILURE
    except OSError as exc:
        if exc.errno in WRITE_ERRNOS:  # the host cannot store what we write: no traceback log (it would fail too)
            where = f"{exc.filename}: " if exc.filename else ""
            print(f"stagegate: error: {where}cannot write ({exc.strerror or exc})", file=sys.stderr)
            return EXIT_HARNESS_FAILURE
        return _harness_failure(exc)
    except KeyboardInterrupt:
        print("stagegate: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001  (a bug or a host failure: the traceback goes to a log file)
        return _harness_failure(exc)


def _harness_failure(exc: Exception) -> int:
    log = _log_traceback()
    print(f"stagegate: harness failure ({type(exc).__name__}); traceback in {log}", file=sys.stderr)
    return EXIT_HARNESS_FAILURE


if __name__ == "__main__":
    sys.exit(main())
