"""Writing a verdict out: one module per format, each with ``write(verdict, path)``.

``write_reports`` writes ``verdict.json``, ``junit.xml`` and ``summary.md``, then ``report.html``
through ``analysis/_reports/html.py`` (``write(verdict, run_data, path)``) when that module is present.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

from analysis._errors import AnalysisError
from analysis._load import RunData, load_results
from analysis._reports import json as json_report
from analysis._reports import junit, markdown
from analysis._verdict import Verdict
from stagegate_core.errors import WRITE_ERRNOS, WriteFailed

HTML_MODULE = "analysis._reports.html"


def write_reports(verdict: Verdict, out_dir: Path, run_data: RunData | None = None) -> list[Path]:
    """Write every report of ``verdict`` into ``out_dir``; returns the paths written.

    ``run_data`` feeds the HTML report's charts; when omitted it is loaded from the verdict's
    results directory.
    """
    out_dir = Path(out_dir)
    written = []
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, writer in (("verdict.json", json_report), ("junit.xml", junit), ("summary.md", markdown)):
            writer.write(verdict, out_dir / name)
            written.append(out_dir / name)
    except OSError as exc:
        raise _write_error(f"{out_dir}: cannot write the reports", exc) from None
    if importlib.util.find_spec(HTML_MODULE) is not None:
        data = run_data if run_data is not None else load_results(Path(verdict.run.results_dir))
        try:
            importlib.import_module(HTML_MODULE).write(verdict, data, out_dir / "report.html")
        except OSError as exc:
            raise _write_error(f"{out_dir / 'report.html'}: cannot write", exc) from None
        written.append(out_dir / "report.html")
    return written


def _write_error(what: str, exc: OSError) -> Exception:
    """The host failing to store (disk full, I/O error: exit 4), or a path the user got wrong (exit 2)."""
    message = f"{what} ({exc.strerror or exc})"
    return WriteFailed(message) if exc.errno in WRITE_ERRNOS else AnalysisError(message)
