"""The harness's options, added to Locust's own through its ``init_command_line_parser`` hook.

They are ordinary Locust options: on the command line, in ``locust.conf`` / ``[tool.locust]``,
as environment variables (``STAGEGATE_*``), in the web UI, and handed by the master to its
workers. Code reads them from ``environment.parsed_options``.

``--profile`` is Locust's own option (a label grouping test runs, shown in its reports); the
harness adopts it as the target profile's name, so the label and the profile are the same thing.
"""

from __future__ import annotations

import argparse
from typing import Any

from scenarios.chaos import BACKEND_CHOICES as CHAOS_BACKENDS
from scenarios.scenario_file import DEFAULT_SHAPE, SHAPES
from scenarios.target.profiles import DEFAULT_PROFILE


def add_arguments(parser: Any) -> None:
    """Register the options on Locust's parser (a ``LocustArgumentParser``)."""
    adopt_profile_option(parser)
    parser.add_argument("--target", default="local", env_var="STAGEGATE_TARGET",
                        help="'local' (the reference stack of 'stagegate stack up'), SERVICE=URL,... or "
                             "'profile' (the profile's own URLs) (default: local)")
    parser.add_argument("--env-file", default="", env_var="STAGEGATE_ENV_FILE",
                        help="file with the secrets (JWT_SECRET_*, DASHBOARD_API_KEY); the environment is read too")
    parser.add_argument("--scenario", default=DEFAULT_SHAPE, choices=SHAPES, env_var="STAGEGATE_SCENARIO",
                        help=f"load shape from the scenario file (default: {DEFAULT_SHAPE})")
    parser.add_argument("--stage-duration", type=float, default=0.0, env_var="STAGEGATE_STAGE_DURATION",
                        help="seconds every stage of the shape lasts, instead of the table's (capacity steps)")
    parser.add_argument("--scenario-file", default="", env_var="STAGEGATE_SCENARIO_FILE",
                        help="scenario file with task weights and shapes (default: the shipped shop_day.toml)")
    parser.add_argument("--results-dir", default="", env_var="STAGEGATE_RESULTS_DIR",
                        help="where locust.jsonl is written (default: results/<run id>)")
    parser.add_argument("--invoices", default="", env_var="STAGEGATE_INVOICES",
                        help="directory of invoices with manifest.json ('stagegate generate invoices'); default: "
                             "one normal and one heavy invoice, generated once into the temp directory")
    parser.add_argument("--tokens", default="", env_var="STAGEGATE_TOKENS",
                        help="forged-token catalogue ('stagegate generate tokens'); default: built from the secrets")
    parser.add_argument("--ocr-timeout", type=float, default=0.0, env_var="STAGEGATE_OCR_TIMEOUT",
                        help="OCR timeout the deployment is configured with, seconds (default: the profile's)")
    parser.add_argument("--ocr-grace", type=float, default=-1.0, env_var="STAGEGATE_OCR_GRACE",
                        help="how late after the OCR timeout a 504 may still arrive, seconds (default: the profile's)")
    parser.add_argument("--open-model-rps", type=float, default=0.0, env_var="STAGEGATE_OPEN_MODEL_RPS",
                        help="open model: total requests per second of the weighted users, latency measured "
                             "from when each was due (default: 0, closed model with think times)")
    parser.add_argument("--abort-on-rollback", action="store_true", default=False, env_var="STAGEGATE_ABORT_ON_ROLLBACK",
                        help="stop the load when a rollback trigger fires (needs the analysis package)")
    parser.add_argument("--rules", default="", env_var="STAGEGATE_RULES",
                        help="rules file for --abort-on-rollback (default: the checklist's thresholds)")
    parser.add_argument("--chaos-plan", default="", env_var="STAGEGATE_CHAOS_PLAN",
                        help="chaos plan (shipped name or TOML file) run during the load")
    parser.add_argument("--allow-chaos", action="store_true", default=False, env_var="STAGEGATE_ALLOW_CHAOS",
                        help="allow the chaos plan to act (required with --chaos-plan)")
    parser.add_argument("--chaos-backend", default="auto", choices=CHAOS_BACKENDS, env_var="STAGEGATE_CHAOS_BACKEND",
                        help="how chaos acts on the target (default: auto, from the target)")
    parser.add_argument("--chaos-journal", default="", env_var="STAGEGATE_CHAOS_JOURNAL",
                        help="journal of chaos steps, so a crashed run's steps are reverted later")
    parser.add_argument("--discovered", default="", include_in_web_ui=False, help=argparse.SUPPRESS)
    # ^ what the master discovered on the deployment (JSON), handed to its workers with the options
    parser.add_argument("--login-password", default="", env_var="STAGEGATE_LOGIN_PASSWORD", is_secret=True,
                        help="password of the staging test account, when the profile logs in")


def adopt_profile_option(parser: Any) -> None:
    """Give Locust's ``--profile`` the target profile's meaning, default and help."""
    action = parser._option_string_actions.get("--profile")
    if action is None:  # a Locust without it
        action = parser.add_argument("--profile")
    action.default = DEFAULT_PROFILE
    action.help = (f"target profile: a shipped name (checklist-v0.10.0, as-built) or a TOML file "
                   f"(default: {DEFAULT_PROFILE}); also Locust's run label")
