"""The reference staging stack: the embedded default target, a faithful implementation of docs/contract.md.

deposito, negocio, ml and dashboard run as separate uvicorn processes, nginx in front when it is
installed. Every defect the harness must catch is a fault switch (``FaultSet``), off by default.

Usage::

    with running_stack(tmp_path / "stack", ocr_timeout_s=2) as stack:
        stack.services["deposito"], stack.secrets["JWT_SECRET_DEPOSITO"]
        stack.set_fault("negocio", jwt_accept_cross_agent=True)

    with running_stack(tmp_path / "other", catalogue="variant:7") as other:  # not the fixture's products
        other.catalogue[0].codigo

``stagegate stack up|down|status`` drives the same functions from the command line.
"""

from __future__ import annotations

from reference_stack._catalogue import catalogue_products, parse_catalogue
from reference_stack._contracts import CONTRACTS, DEFAULT_CONTRACT
from reference_stack._errors import (
    ConfigInvalid,
    ContractUnknown,
    FaultInvalid,
    PortBusy,
    StackAlreadyRunning,
    StackError,
    StackNotRunning,
    StackStartFailed,
)
from reference_stack._faults import APPLIES_TO, SWITCHES, FaultSet, LatencyRule, fault_set, parse_fault_args
from reference_stack._handle import StackHandle, running_stack
from reference_stack._launcher import (
    DEFAULT_GATEWAY_PORT,
    DEFAULT_PORTS,
    ProcessStatus,
    StackOptions,
    stack_status,
    start_stack,
    stop_stack,
)
from reference_stack._processes import process_user
from reference_stack._state import StackInfo, default_state_dir, read_info, read_secrets
from reference_stack._tokens import issue_token

__all__ = [
    "APPLIES_TO",
    "CONTRACTS",
    "DEFAULT_CONTRACT",
    "DEFAULT_GATEWAY_PORT",
    "DEFAULT_PORTS",
    "SWITCHES",
    "ConfigInvalid",
    "ContractUnknown",
    "FaultInvalid",
    "FaultSet",
    "LatencyRule",
    "PortBusy",
    "ProcessStatus",
    "StackAlreadyRunning",
    "StackError",
    "StackHandle",
    "StackInfo",
    "StackNotRunning",
    "StackOptions",
    "StackStartFailed",
    "catalogue_products",
    "default_state_dir",
    "fault_set",
    "issue_token",
    "parse_catalogue",
    "parse_fault_args",
    "process_user",
    "read_info",
    "read_secrets",
    "running_stack",
    "stack_status",
    "start_stack",
    "stop_stack",
]
