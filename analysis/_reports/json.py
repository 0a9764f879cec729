"""``verdict.json``: the verdict model as JSON, schema 1 (documented in docs/results-and-analysis.md, "verdict.json, junit.xml, summary.md")."""

from __future__ import annotations

import json
from pathlib import Path

from analysis._verdict import Verdict
from stagegate_core.atomicfile import write_text_atomic


def write(verdict: Verdict, path: Path) -> None:
    write_text_atomic(path, json.dumps(verdict.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n")
