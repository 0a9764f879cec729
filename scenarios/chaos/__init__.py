"""Chaos: faults on real containers and processes while traffic runs, always reverted.

Plans are TOML data (``plans/*.toml``, see ``_plan.py`` for the format), checked in full before
anything acts. Each fault is journaled before it acts and reverted however the run ends;
``recover`` reverts what a killed run left. Every step's life goes into the results stream as
``chaos`` records (start, end, recovered / not_recovered, error).

Usage::

    plan = load_plan("pause-negocio-5s")
    for line in describe_plan(plan, profile):            # a dry run
        print(line)
    run = build_run(plan, profile, allow_chaos=True, emit=writer.write, state_dir=stack_dir)
    run.recover_leftovers()
    run.run(started_at=time.time(), stop=threading.Event())

Inside Locust, ``install(environment)`` does the same on the master when the test starts.
"""

from __future__ import annotations

from scenarios.chaos.backends.app import AppBackend
from scenarios.chaos.backends.base import ChaosActionFailed, ChaosBackend, Fault
from scenarios.chaos.backends.docker import DockerBackend
from scenarios.chaos.backends.process import ProcessBackend
from scenarios.chaos.journal import Journal, OpenFault, default_journal_path
from scenarios.chaos.locust_seam import install
from scenarios.chaos.plan import ACTIONS, ChaosPlan, ChaosStep, SteadyState, available_plans, load_plan
from scenarios.chaos.recover import RecoveryNote, recover
from scenarios.chaos.runner import ChaosRun, injected
from scenarios.chaos.safety import check_allowed, check_plan, check_targets, require_allow_chaos
from scenarios.chaos.setup import BACKEND_CHOICES, build_run, describe_plan, select_backend

__all__ = [
    "ACTIONS",
    "BACKEND_CHOICES",
    "AppBackend",
    "ChaosActionFailed",
    "ChaosBackend",
    "ChaosPlan",
    "ChaosRun",
    "ChaosStep",
    "DockerBackend",
    "Fault",
    "Journal",
    "OpenFault",
    "ProcessBackend",
    "RecoveryNote",
    "SteadyState",
    "available_plans",
    "build_run",
    "check_allowed",
    "check_plan",
    "check_targets",
    "default_journal_path",
    "describe_plan",
    "injected",
    "install",
    "load_plan",
    "recover",
    "require_allow_chaos",
    "select_backend",
]
