"""The rules file: the shipped default encodes docs/contract.md §8; malformed files give one exact line."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis import DEFAULT_RULES, RulesInvalid, load_rules

GOOD = """
[rules.p95]
kind = "statistic"
role = "completion"
title = "p95"
stat = "p95_ms"
below = 500
"""


def test_default_rules_encode_the_checklist() -> None:
    rules = load_rules()
    by_role = {role: [i for i, r in rules.rules.items() if r.role == role] for role in ("rollback", "completion", "alert")}
    assert by_role["rollback"] == ["health_failing_long", "health_concurrent_failing", "error_rate_sustained",
                                   "jwt_forged_accepted", "jwt_wrong_rejection", "ledger_consistent",
                                   "chaos_recovered", "trivy_critical_high"]
    assert by_role["alert"] == ["error_rate_alert"]
    sustained = rules.rules["error_rate_sustained"]
    assert (sustained.above, sustained.for_s, sustained.min_count) == (0.10, 120, 200)  # type: ignore[union-attr]
    assert rules.rules["health_failing_long"].threshold() == {
        "checks": ["deposito", "negocio", "ml", "dashboard", "gateway"], "max_s": 180.0, "chaos": "include"}
    assert rules.capacity is not None and rules.compare is not None


def test_a_custom_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(GOOD)
    assert list(load_rules(path).rules) == ["p95"]


@pytest.mark.parametrize(("text", "message"), [
    (GOOD.replace("below = 500", "below = 500\nwindow_s = -5\n"),
     "bad.toml: rules.p95.statistic.window_s: Extra inputs are not permitted (got -5)"),
    (GOOD.replace('kind = "statistic"', 'kind = "nonsense"'),
     ("bad.toml: rules.p95: Input tag 'nonsense' found using 'kind' does not match any of the expected tags: "
      "'statistic', 'sustained', 'route_latency', 'health_streak', 'health_concurrent', 'health_ok', 'count', "
      "'share', 'smoke', 'trivy', 'ledger', 'chaos_recovery', 'metric', 'stream'")),
    (GOOD.replace('role = "completion"', 'role = "maybe"'),
     "bad.toml: rules.p95.statistic.role: Input should be 'rollback', 'completion' or 'alert' (got 'maybe')"),
    (GOOD.replace("below = 500", 'below = "fast"'),
     ("bad.toml: rules.p95.statistic.below: Input should be a valid number, unable to parse string as a number "
      "(got 'fast')")),
    ("[rules.error_rate]\nkind = 'sustained'\nrole = 'rollback'\ntitle = 't'\nabove = 0.1\nfor_s = 0\n",
     "bad.toml: rules.error_rate.sustained.for_s: Input should be greater than 0 (got 0)"),
    ("[rules.error_rate]\nkind = 'sustained'\nrole = 'rollback'\ntitle = 't'\nabove = 0.1\nwindow_s = 1\nfor_s = 60\n",
     ("bad.toml: rules.error_rate.sustained: Value error, window_s was replaced: the rate is taken over the trailing "
     "for_s seconds, judged when they hold min_count answered requests; remove window_s")),
    (GOOD.replace("[rules.p95]", "[rules.P95]"),
     "bad.toml: rules.P95.[key]: String should match pattern '^[a-z][a-z0-9_]*$' (got 'P95')"),
    ("rules = 3", "bad.toml: rules: Input should be a valid dictionary (got 3)"),
    ("[rules\n", "bad.toml: not valid TOML (Expected ']' at the end of a table declaration (at line 1, column 7))"),
])
def test_malformed_rules_give_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(RulesInvalid) as caught:
        load_rules(path)
    assert str(caught.value) == message


def test_missing_rules_file(tmp_path: Path) -> None:
    with pytest.raises(RulesInvalid) as caught:
        load_rules(tmp_path / "nope.toml")
    assert str(caught.value) == f"{tmp_path / 'nope.toml'}: cannot read (No such file or directory)"


def test_metric_rule_needs_one_bound(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[rules.m]\nkind = 'metric'\nrole = 'completion'\ntitle = 't'\nmetric = 'x'\naggregate = 'max'\n")
    with pytest.raises(RulesInvalid) as caught:
        load_rules(path)
    assert str(caught.value) == "bad.toml: rules.m.metric: Value error, give exactly one of below, at_most"


def test_default_path_is_shipped() -> None:
    assert DEFAULT_RULES.name == "default.toml" and DEFAULT_RULES.is_file()
