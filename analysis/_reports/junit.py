"""``junit.xml``: one testcase per rule, so a CI system lists each rule with its status.

Mapping: PASS and WARN pass (a WARN is noted in ``system-out``); FAIL is a ``failure``; NO_DATA is
an ``error`` for rollback and completion rules (they block promotion, so CI must not show them as
green or hidden) and ``skipped`` for alert rules (they never change the verdict).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from analysis._verdict import RuleResult, Verdict
from stagegate_core.atomicfile import write_text_atomic


def _testcase(rule: RuleResult) -> ET.Element:
    case = ET.Element("testcase", classname=f"stagegate.{rule.role}", name=rule.id)
    detail = json.dumps(rule.evidence.model_dump(mode="json"), indent=2, ensure_ascii=False)
    message = f"{rule.title}: {rule.summary}"
    if rule.status == "FAIL":
        ET.SubElement(case, "failure", message=message, type=rule.kind).text = detail
    elif rule.status == "NO_DATA" and rule.role == "alert":
        ET.SubElement(case, "skipped", message=f"no data: {rule.summary}")
    elif rule.status == "NO_DATA":
        ET.SubElement(case, "error", message=f"no data: {message}", type="NO_DATA").text = detail
    ET.SubElement(case, "system-out").text = f"{rule.status} [{rule.section}] {message}"
    return case


def write(verdict: Verdict, path: Path) -> None:
    cases = [_testcase(rule) for rule in verdict.rules]
    count = {tag: sum(1 for c in cases if c.find(tag) is not None) for tag in ("failure", "error", "skipped")}
    started = verdict.run.started_at
    suite = ET.Element(
        "testsuite", name=f"stagegate {verdict.run.profile or ''}".strip(), tests=str(len(cases)),
        failures=str(count["failure"]), errors=str(count["error"]), skipped=str(count["skipped"]),
        time=f"{verdict.run.duration_s or 0:.3f}",
        timestamp=datetime.fromtimestamp(started, UTC).strftime("%Y-%m-%dT%H:%M:%S") if started else "",
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (("verdict", verdict.verdict), ("exit_code", str(verdict.exit_code)),
                        ("run_id", verdict.run.run_id or ""), ("scenario", verdict.run.scenario or "")):
        ET.SubElement(props, "property", name=name, value=value)
    suite.extend(cases)
    root = ET.Element("testsuites", name="stagegate")
    root.append(suite)
    ET.indent(root)
    text = ET.tostring(root, encoding="unicode", xml_declaration=False)
    write_text_atomic(path, "<?xml version='1.0' encoding='utf-8'?>\n" + text + "\n")
