"""Every chaos action, declared once: what it does, the step parameter it takes, whether it holds for
``duration_s``, and the backends that carry it.

Everything else derives from these declarations: plan validation (``_plan.py``: known actions, the
parameter each needs and refuses elsewhere, ``duration_s`` rules), each backend's ``actions`` and the
check that a plan's backend carries its steps (``_safety.py``), and the text of the dry run and
``stagegate chaos validate``. Adding an action: declare it here, implement it in the tables of the
backends it names (``_backends/docker.py`` ``_DOCKER``, ``_backends/process.py`` ``_PROCESS``), and,
when it takes a new parameter, add that field to ``ChaosStep``; ``tests/chaos/test_actions.py`` checks
that declarations and implementations agree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChaosAction:
    id: str
    does: str
    """What it does and how it is reverted (printed by the dry run and ``stagegate chaos validate``)."""
    backends: tuple[str, ...]
    """The backends that carry it (``docker``, ``process``, ``app``)."""
    parameter: str | None = None
    """The ``ChaosStep`` field only this action takes: required here, refused on any other action."""
    holds: bool = True
    """True: the fault holds for ``duration_s`` (> 0) before the revert; False: it acts at once and takes
    no ``duration_s``."""


ACTIONS: dict[str, ChaosAction] = {}
"""Every action by id, in declaration order."""


def declare(action: ChaosAction) -> ChaosAction:
    if action.id in ACTIONS:
        raise ValueError(f"chaos action {action.id!r} is declared twice")
    ACTIONS[action.id] = action
    return action


def actions_of(backend: str) -> frozenset[str]:
    """The actions ``backend`` carries, from the declarations."""
    return frozenset(action.id for action in ACTIONS.values() if backend in action.backends)


_CONTAINER_OR_PROCESS = ("docker", "process")

declare(ChaosAction("pause", "freeze every process of the target (docker pause / SIGSTOP); revert: unpause / SIGCONT",
                    _CONTAINER_OR_PROCESS))
declare(ChaosAction("kill", "SIGKILL the target; revert: start it again", _CONTAINER_OR_PROCESS))
declare(ChaosAction("stop", "stop the target gracefully (SIGTERM, then SIGKILL after stop_timeout_s); revert: start it",
                    _CONTAINER_OR_PROCESS))
declare(ChaosAction("restart", "stop and start the target at once (duration_s is 0); revert: make sure it runs",
                    _CONTAINER_OR_PROCESS, holds=False))
declare(ChaosAction("cpu", "cap the target's CPU to cpu_fraction of one core; revert: the original quota",
                    ("docker",), parameter="cpu_fraction"))
declare(ChaosAction("memory", "cap the target's memory to memory_mb (it is OOM-killed if it needs more); "
                              "revert: the original limit", ("docker",), parameter="memory_mb"))
declare(ChaosAction("blackhole", "drop every packet in and out of the target's network namespace; revert: remove the rules",
                    ("docker",)))
declare(ChaosAction("bandwidth", "limit the target's egress to rate_kbit (tc tbf); revert: remove the qdisc",
                    ("docker",), parameter="rate_kbit"))
declare(ChaosAction("app_fault", "set the reference stack's fault switches (faults table); revert: the switches as they were",
                    ("app",), parameter="faults"))
