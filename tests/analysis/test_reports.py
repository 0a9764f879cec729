"""verdict.json, junit.xml and summary.md from one verdict."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from analysis import Verdict, evaluate, load_rules, write_reports
from analysis._reports import json as json_report
from analysis._reports import junit, markdown
from tests.analysis.conftest import clean_run


def held_verdict(results: Path) -> Verdict:
    run = clean_run(results)
    run.smoke(3, "logs", "FAIL")
    run.windows(70, 200, ok=9, error=1)  # 10 %: the 5 % alert warns
    run.snapshot(199, "end", {"1": 95, "2": 60})
    return evaluate(run.close(), load_rules().model_copy(update={"rules": {
        **load_rules().rules,
        "metrics_missing": load_rules().rules["dashboard_p95_gauge"].model_copy(update={"service": "nowhere"}),
        "alert_without_data": load_rules().rules["error_rate_alert"].model_copy(update={"names": ["nothing"]}),
    }}))


def test_verdict_json_is_the_model(results: Path, tmp_path: Path) -> None:
    verdict = held_verdict(results)
    json_report.write(verdict, tmp_path / "verdict.json")
    raw = json.loads((tmp_path / "verdict.json").read_text())
    assert raw == verdict.model_dump(mode="json")
    assert (raw["schema"], raw["verdict"], raw["exit_code"]) == (1, "HOLD", 3)
    assert set(raw) == {"schema", "verdict", "exit_code", "reasons", "run", "rules", "findings", "requests", "notes",
                        "capacity", "comparison"}
    assert Verdict.model_validate(raw) == verdict


def test_junit_has_one_testcase_per_rule(results: Path, tmp_path: Path) -> None:
    verdict = held_verdict(results)
    junit.write(verdict, tmp_path / "junit.xml")
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert list(cases) == [rule.id for rule in verdict.rules]
    assert cases["smoke_logs"].find("failure") is not None                # FAIL -> failure
    assert cases["metrics_missing"].find("error").get("type") == "NO_DATA"  # type: ignore[union-attr]
    assert cases["alert_without_data"].find("skipped") is not None         # alert NO_DATA -> skipped
    assert cases["error_rate_alert"].find("system-out").text.startswith("WARN")  # type: ignore[union-attr]
    assert [c.tag for c in cases["p95_normal"]] == ["system-out"]          # PASS
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        str(len(verdict.rules)), "1", "1", "1")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert (props["verdict"], props["exit_code"]) == ("HOLD", "3")


def test_summary_markdown(results: Path) -> None:
    text = markdown.render(held_verdict(results))
    lines = text.splitlines()
    assert lines[0] == "## stagegate: HOLD (exit 3)"
    assert "| status | rule | role | summary |" in lines
    assert "| ❌ FAIL | `smoke_logs` | completion | logs: FAIL (logs FAIL) |" in lines
    assert any(line.startswith("| ⚠️ WARN | `error_rate_alert` | alert |") for line in lines)


def test_write_reports_writes_every_file(results: Path, tmp_path: Path) -> None:
    verdict = evaluate(clean_run(results).close(), load_rules())
    written = write_reports(verdict, tmp_path / "out")
    assert [p.name for p in written][:3] == ["verdict.json", "junit.xml", "summary.md"]
    assert all(p.is_file() for p in written)
