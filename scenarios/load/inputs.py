"""The files a run uploads and presents: invoices (``--invoices DIR``) and tokens (``--tokens FILE``),
read through the generators' own loaders and reduced to what the users need."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from generators import TokenCatalogue
from scenarios.load.run_context import InvoiceFile, TokenCase
from scenarios.scenario_errors import ScenarioError
from scenarios.target.profiles import Profile

MANIFEST = "manifest.json"


class InputInvalid(ScenarioError):
    """An invoices directory or a token catalogue the run cannot use."""


def load_invoices(directory: Path) -> list[InvoiceFile]:
    """Every file of the invoices directory's ``manifest.json`` (written by ``stagegate generate invoices``)."""
    from generators import GeneratorError, load_manifest

    try:
        manifest = load_manifest(directory)
    except GeneratorError as exc:
        raise InputInvalid(f"--invoices: {exc}") from None
    found = []
    for item in manifest.files:
        path = manifest.path_of(item)
        if not path.is_file():
            raise InputInvalid(f"--invoices: {path} is listed in the manifest but missing")
        refusals = tuple(s for s in item.expected.statuses if 400 <= s < 500) if item.kind == "hostile" else ()
        found.append(InvoiceFile(path=path, kind=item.kind, content_type=item.media_type, size_bytes=item.bytes,
                                 refusals=refusals))
    return found


DEFAULT_INVOICE_SEED = 0


def default_invoices(profile: Profile) -> list[InvoiceFile]:
    """Without ``--invoices``: one normal and one heavy invoice in the profile's upload format,
    generated once per machine into the temp directory (same seed, same bytes on every machine, so
    remote workers make their own copy of what the master uploads)."""
    if profile.ocr.missing:
        return []
    from generators import generate_invoices

    fmt = profile.ocr.upload_format
    directory = Path(tempfile.gettempdir()) / "stagegate-invoices" / f"{fmt}-seed{DEFAULT_INVOICE_SEED}"
    if not (directory / MANIFEST).is_file():
        directory.parent.mkdir(parents=True, exist_ok=True)
        fresh = Path(tempfile.mkdtemp(prefix=f"{fmt}-", dir=directory.parent))
        generate_invoices(fresh, kinds=("normal", "heavy"), count=1, seed=DEFAULT_INVOICE_SEED, fmt=fmt)
        try:
            fresh.rename(directory)
        except OSError:  # another process made it first
            shutil.rmtree(fresh, ignore_errors=True)
    return load_invoices(directory)


def load_token_cases(tokens: str, catalogue: TokenCatalogue) -> list[TokenCase]:
    """The cases of ``--tokens FILE`` when given, else of ``catalogue`` (built from the run's secrets)."""
    if tokens:
        from generators import GeneratorError, load_catalogue

        try:
            catalogue = load_catalogue(tokens)
        except GeneratorError as exc:
            raise InputInvalid(f"--tokens: {exc}") from None
    return [
        TokenCase(case_id=case.id, token=case.token, severity=case.severity, targets=(case.target,),
                  expected_statuses=tuple(case.expected_statuses), control=case.expect == "accept")
        for case in catalogue.cases
    ]
