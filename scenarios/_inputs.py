"""The files a run uploads and presents: invoices (``--invoices DIR``) and tokens (``--tokens FILE``),
read through the generators' own loaders and reduced to what the users need."""

from __future__ import annotations

from pathlib import Path

from generators import TokenCatalogue
from scenarios._context import InvoiceFile, TokenCase
from scenarios._errors import ScenarioError


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
