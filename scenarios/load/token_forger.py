"""``TokenForgerUser``: presents every forged token of the catalogue to every agent (R2).

A forged or cross-agent token must be refused with 401/403 (``rejected``, an ``expected``
outcome); a 2xx is a ``breach``; a 5xx is a ``wrong_rejection``. Control cases (valid tokens) must
be accepted. Each case and agent gives one ``TokenOutcome``.
"""

from __future__ import annotations

import time
from itertools import cycle, zip_longest

from locust import task
from locust.contrib.fasthttp import ResponseContextManager

from scenarios.load.base_user import StagegateUser, settle
from scenarios.load.run_context import TokenCase
from scenarios.target.classify import classify_token
from scenarios.target.profiles import AGENTS
from stagegate_core.stream import token_record

PROBE_CALLS = {"deposito": ("product_list",), "negocio": ("negocio_products", "price_lookup")}
"""The protected business call each agent is probed on (the first one the profile serves)."""
PACE_S = 0.25
"""Pause between cases: refusals are cheap, and the whole catalogue should pass in a short run."""


class TokenForgerUser(StagegateUser):
    """Cycles the token catalogue, one case against its agents per task."""

    service = "deposito"
    fixed_count = 1

    def wait_time(self) -> float:
        return PACE_S

    def on_start(self) -> None:
        probed = {agent for agent in AGENTS if self._probe_call(agent) or not self.run_context.profile.predict.missing}
        self.cases = cycle(interleaved([case for case in self.run_context.token_cases if set(case.targets) <= probed]))

    @task
    def present_next_case(self) -> None:
        case = next(self.cases, None)
        if case is None:
            return
        for agent in case.targets:
            self.present(case, agent)

    def present(self, case: TokenCase, agent: str) -> None:
        started = time.time()
        call = self._probe_call(agent)
        with self._probe(agent, call, {"Authorization": f"Bearer {case.token}"}) as response:
            status = response.status_code or None
            accepted = self.run_context.profile.calls[call].ok_statuses if call else ()
            answer = classify_token(status, rejected_statuses=case.expected_statuses, control=case.control,
                                     accepted_statuses=accepted, exception=getattr(response, "error", None))
            settle(response, answer, "token")
        self.emit(token_record(
            started, case_id=case.case_id, target=agent, status=status, result=answer.result,
            severity=case.severity, detail=answer.detail,
        ))

    def _probe_call(self, agent: str) -> str | None:
        """The profile call ``agent`` is probed on (None for ml: its prediction route, unless the profile
        marks it missing, and then ml is not probed at all). A call that needs a discovered product is
        skipped when there is none (a price lookup of no product would say nothing about the token)."""
        run = self.run_context
        calls = run.profile.calls

        def usable(name: str) -> bool:
            call = calls.get(name)
            return call is not None and not call.missing and run.discovered.values_for(run.profile, call, run.rng) is not None

        return next((name for name in PROBE_CALLS.get(agent, ()) if usable(name)), None)

    def _probe(self, agent: str, call: str | None, headers: dict[str, str]) -> ResponseContextManager:
        traffic = "forged_token"
        if call is None:
            return self.prediction(traffic=traffic, headers=headers, auth="none")[0]
        return self.call(call, traffic=traffic, auth="none", headers=headers)


def interleaved(cases: list[TokenCase]) -> list[TokenCase]:
    """The cases taking the agents in turn, so that a short run reaches every agent early."""
    by_target: dict[tuple[str, ...], list[TokenCase]] = {}
    for case in cases:
        by_target.setdefault(case.targets, []).append(case)
    return [case for group in zip_longest(*by_target.values()) for case in group if case is not None]
