"""``stagegate generate invoices|tokens``: the R3 invoice files and the R2 forged-token catalogue.

The profile (``--profile``) supplies what differs between contracts: the upload format and body
limits for invoices, the agents' issuers, roles, secret variables and claim style for tokens.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from generators import (
    DEFAULT_GATEWAY_LIMIT_BYTES,
    DEFAULT_MIN_SIZE_BYTES,
    KINDS,
    AgentIdentity,
    build_catalogue,
    generate_invoices,
    load_agent_secrets,
    write_catalogue,
)
from scenarios.target.profiles import AGENTS, DEFAULT_PROFILE, Profile, load_profile
from stagegate._argtypes import directory_path, epoch_seconds, file_path, text_file
from stagegate_core.errors import TOOL_EPILOG

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
MAX_SIZE_BYTES = 64 * 1024**3


def parse_size(text: str) -> int:
    """``"12MB"``, ``"12M"``, ``"12MiB"`` -> 12582912; units are binary, as nginx reads ``10M``."""
    match = _SIZE.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 12MB, 500K, 12582912)")
    size = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    if not 1 <= size <= MAX_SIZE_BYTES:
        raise argparse.ArgumentTypeError(f"must be between 1 byte and 64GB (got {text!r})")
    return size


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="make inputs: invoice files (R3) and the forged-token catalogue (R2)",
        description="Make the inputs the R2 and R3 checks need, reproducibly (--seed).",
        epilog=TOOL_EPILOG,
    )
    kinds = parser.add_subparsers(title="what to generate", metavar="WHAT", parser_class=type(parser))
    _register_invoices(kinds)
    _register_tokens(kinds)
    parser.set_defaults(handler=lambda _args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_usage(sys.stderr)
    parser.exit(2, f"{parser.prog}: error: say what to generate: invoices or tokens\n")
    return 2


def _register_invoices(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "invoices",
        help="Argentine invoices: normal, heavy (>= --min-size) and hostile, with manifest.json",
        description=(
            "Write scanned-looking Argentine invoices (Factura A/B/C, valid CUITs, IVA 21%% and 10.5%%) "
            "and manifest.json beside them. normal: one small page; heavy: at least --min-size bytes, "
            "guaranteed by construction; hostile: decompression bomb, nested Flate streams, upload over "
            "--app-limit, non-document. Same --seed, same bytes."
        ),
        epilog=TOOL_EPILOG,
    )
    parser.add_argument("--out", type=directory_path, default=Path("invoices"), metavar="DIR",
                        help="directory for the files and manifest.json (default: ./invoices)")
    parser.add_argument("--kind", action="append", metavar="KIND",
                        help=f"one of {', '.join(KINDS)}; repeat or comma-separate (default: all)")
    parser.add_argument("--count", type=int, default=1, metavar="N",
                        help="files per kind (per hostile variant for hostile); default 1")
    parser.add_argument("--min-size", type=parse_size, default=DEFAULT_MIN_SIZE_BYTES, metavar="SIZE",
                        help="smallest heavy invoice, binary units (default: 12MB = 12582912 bytes)")
    parser.add_argument("--format", choices=("pdf", "image"), default=None, dest="fmt",
                        help="pdf, or image (PNG heavy, JPEG normal) for the as-built route; "
                             "default: the profile's upload format")
    parser.add_argument("--app-limit", type=parse_size, default=None, metavar="SIZE",
                        help="the OCR service's upload limit, exceeded by the oversize file "
                             "(default: the profile's, 50MB in both shipped ones)")
    parser.add_argument("--gateway-limit", type=parse_size, default=None, metavar="SIZE",
                        help="the gateway's body limit, for expected statuses through it "
                             "(default: the profile's, else 10MB)")
    parser.add_argument("--profile", default=DEFAULT_PROFILE, metavar="NAME_OR_FILE",
                        help=f"target profile for the three defaults above (default: {DEFAULT_PROFILE})")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.set_defaults(handler=_invoices)


def _register_tokens(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "tokens",
        help="forged and control JWTs for every agent pair, as a JSON catalogue",
        description=(
            "Sign the forged-token catalogue with the agents' secrets, read by the profile's variable "
            "names (JWT_SECRET_DEPOSITO, ...) from the environment or --env-file, and write it as JSON. "
            "Secrets are never written or printed; the tokens are, and expire after the profile's TTL."
        ),
        epilog=TOOL_EPILOG,
    )
    parser.add_argument("--profile", default=DEFAULT_PROFILE, metavar="NAME_OR_FILE",
                        help=f"target profile: claim style, issuers, roles, secret names (default: {DEFAULT_PROFILE})")
    parser.add_argument("--env-file", type=text_file, default=None, metavar="FILE",
                        help="dotenv file with the secrets; its values win over the environment")
    parser.add_argument("--out", type=file_path, default=Path("tokens.json"), metavar="FILE",
                        help="catalogue file to write (default: ./tokens.json)")
    parser.add_argument("--now", type=epoch_seconds, default=None, metavar="EPOCH_S",
                        help="clock for iat/exp, epoch seconds from 0 to the year 9999 (default: now)")
    parser.add_argument("--seed", type=int, default=0, help="random seed for the oversized token's padding")
    parser.set_defaults(handler=_tokens)


@contextmanager
def _progress_bar(label: str) -> Iterator[Callable[[str, int, int], None]]:
    """A rich bar on stderr, advanced by the generator's ``progress(name, done, total)`` calls.

    It starts on the first call, so a request refused before any work leaves stderr to the one
    error line.
    """
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True), transient=True,
    )
    task = progress.add_task(label, total=None)

    def advance(name: str, done: int, total: int) -> None:
        if not progress.live.is_started:
            progress.start()
        progress.update(task, description=f"{label} {name}", completed=done, total=total)

    try:
        yield advance
    finally:
        if progress.live.is_started:
            progress.stop()


def _invoices(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    kinds = [kind.strip() for value in (args.kind or [",".join(KINDS)]) for kind in value.split(",")]
    fmt = args.fmt or profile.ocr.upload_format
    app_limit = args.app_limit or profile.ocr.app_body_limit_bytes
    gateway_limit = args.gateway_limit or (
        profile.gateway.body_limit_bytes if profile.gateway else DEFAULT_GATEWAY_LIMIT_BYTES
    )
    with _progress_bar("invoices") as progress:
        manifest = generate_invoices(
            args.out, kinds=kinds, count=args.count, min_size_bytes=args.min_size, seed=args.seed,
            fmt=fmt, app_limit_bytes=app_limit, gateway_limit_bytes=gateway_limit, progress=progress,
        )
    for item in manifest.files:
        statuses = ",".join(map(str, item.expected.statuses))
        print(f"{item.name:32} {item.kind:8} {item.bytes:>11} bytes {item.pages:>3} pages  expect {statuses}")
    print(f"wrote {len(manifest.files)} files and {args.out / 'manifest.json'}")
    return 0


def _agents(profile: Profile) -> list[AgentIdentity]:
    agents = []
    for name in AGENTS:
        spec = profile.services[name]
        agents.append(AgentIdentity(
            name=name,
            issuer=spec.issuer or name,
            role=spec.role or name,
            secret_env=spec.secret_env or f"JWT_SECRET_{name.upper()}",
        ))
    return agents


def _tokens(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    agents = _agents(profile)
    secrets = load_agent_secrets(
        {agent.name: agent.secret_env for agent in agents},
        fallback_env=profile.auth.shared_secret_env,
        env_file=args.env_file,
    )
    catalogue = build_catalogue(
        agents, secrets,
        claim_style=profile.auth.claims,
        rejected_statuses=profile.auth.rejected_statuses,
        ttl_s=profile.auth.token_ttl_s,
        now=args.now,
        seed=args.seed,
        profile=profile.name,
    )
    write_catalogue(catalogue, args.out)
    controls = sum(1 for case in catalogue.cases if case.expect == "accept")
    expires = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(catalogue.expires_at))
    print(f"wrote {len(catalogue.cases)} token cases ({controls} controls) for profile {profile.name} "
          f"to {args.out}; they expire at {expires}")
    return 0
