"""Each chaos action is declared once (``scenarios/chaos/actions.py``); the rest derives from it."""

from __future__ import annotations

from scenarios.chaos import actions as _actions
from scenarios.chaos import plan as _plan
from scenarios.chaos.backends import docker, process
from scenarios.chaos.backends.app import AppBackend
from scenarios.chaos.backends.docker import DockerBackend
from scenarios.chaos.backends.process import ProcessBackend


def test_every_backend_implements_exactly_the_actions_declared_for_it() -> None:
    assert set(docker._DOCKER) == DockerBackend.actions == _actions.actions_of("docker")
    assert set(process._PROCESS) == ProcessBackend.actions == _actions.actions_of("process")
    assert AppBackend.actions == _actions.actions_of("app") == {"app_fault"}


def test_every_declared_action_has_a_backend_and_known_backends_only() -> None:
    for action in _actions.ACTIONS.values():
        assert action.backends, action.id
        assert set(action.backends) <= {"docker", "process", "app"}, action.id


def test_plan_validation_derives_from_the_declarations() -> None:
    assert list(_plan.ACTIONS) == list(_actions.ACTIONS)
    assert _plan.PARAMETERS == {"cpu_fraction": "cpu", "memory_mb": "memory", "rate_kbit": "bandwidth",
                                "faults": "app_fault"}
    for parameter in _plan.PARAMETERS:
        assert parameter in _plan.ChaosStep.model_fields, parameter
    assert [a.id for a in _actions.ACTIONS.values() if not a.holds] == ["restart"]
