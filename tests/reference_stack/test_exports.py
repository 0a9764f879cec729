"""The public face of ``reference_stack`` is its ``__all__``; this pins it."""

from __future__ import annotations

import reference_stack


def test_public_names() -> None:
    assert sorted(reference_stack.__all__) == sorted(
        ["APPLIES_TO", "CONTRACTS", "DEFAULT_CONTRACT", "DEFAULT_GATEWAY_PORT", "DEFAULT_PORTS", "SWITCHES",
         "ConfigInvalid", "ContractUnknown", "FaultInvalid", "FaultSet", "LatencyRule", "PortBusy", "ProcessStatus",
         "StackAlreadyRunning", "StackError", "StackHandle", "StackInfo", "StackNotRunning", "StackOptions",
         "StackStartFailed", "catalogue_products", "default_state_dir", "fault_set", "issue_token", "parse_catalogue", "parse_fault_args", "process_user", "read_info",
         "read_secrets", "running_stack", "stack_status", "start_stack", "stop_stack"]
    )
    assert all(hasattr(reference_stack, name) for name in reference_stack.__all__)


def test_errors_are_stagegate_errors() -> None:
    from stagegate_core.errors import StagegateError

    for name in ("StackError", "PortBusy", "FaultInvalid", "ContractUnknown", "StackNotRunning",
                 "StackAlreadyRunning", "StackStartFailed", "ConfigInvalid"):
        assert issubclass(getattr(reference_stack, name), StagegateError)
