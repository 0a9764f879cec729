"""A real short gate run against the reference stack writes a report with every rule and chart."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO

LIVE_CHARTS = ("chart-rps", "chart-error-rate", "chart-p95", "chart-health", "chart-jwt")


@pytest.mark.e2e
def test_a_real_short_run_writes_a_report_with_every_rule_and_chart(tmp_path):
    out, reports = tmp_path / "reports" / "run1", tmp_path / "reports"
    env = {**os.environ, "STAGEGATE_STATE_DIR": str(tmp_path / "state")}
    proc = subprocess.run(
        [sys.executable, "-m", "stagegate", "run", "--duration", "5s", "--no-smoke", "--out", str(out),
         "--reports-dir", str(reports)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert proc.returncode in (0, 1, 3), proc.stderr[-2000:]
    verdict = json.loads((out / "verdict.json").read_text(encoding="utf-8"))
    page = (out / "report.html").read_text(encoding="utf-8")
    assert f'<header class="banner {verdict["verdict"]}"' in page
    for rule in verdict["rules"]:
        assert f'id="rule-{rule["id"]}"' in page
    for chart in LIVE_CHARTS:
        assert f'data-chart="{chart}"' in page, chart
    assert '<a href="locust.html">locust.html</a>' in page
    for forbidden in ('src="http', 'href="http', "url(http", "@import", "<script"):
        assert forbidden not in page
    targets = tuple(verdict["run"]["targets"].values())
    assert all(url.startswith(targets) for url in re.findall(r"https?://[^\s<\"']+", page))
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert '<a href="run1/report.html">run1</a>' in index
