"""What the run drives depends on the profile: routes it marks missing are left out."""

from __future__ import annotations

from scenarios.load.install import served
from scenarios.scenario_file import TASKS
from scenarios.target.profiles import health_checks, load_profile

ALL_TASKS = [task for tasks in TASKS.values() for task in tasks]


def test_intended_profile_drives_every_task() -> None:
    profile = load_profile("checklist-v0.10.0")
    assert [task for task in ALL_TASKS if not served(profile, task)] == []


def test_as_built_profile_leaves_out_the_routes_it_marks_missing() -> None:
    profile = load_profile("as-built")
    assert [task for task in ALL_TASKS if not served(profile, task)] == ["negocio_products", "ocr_normal", "predict"]


def test_health_checks_follow_the_profile() -> None:
    intended = {c.check: (c.path, c.auth) for c in health_checks(load_profile("checklist-v0.10.0"))}
    assert intended == {"deposito": ("/health", "none"), "negocio": ("/health", "none"), "ml": ("/health", "none"),
                        "dashboard": ("/health", "none"), "gateway": ("/health", "none")}
    as_built = {c.check: c.auth for c in health_checks(load_profile("as-built"))}
    assert as_built == {"deposito": "jwt", "negocio": "jwt", "ml": "jwt", "dashboard": "none", "gateway": "none"}
