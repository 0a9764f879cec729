"""``manifest.json``: what each generated invoice file is and what a correct service answers.

Scenarios load it to pick files by kind and to judge each upload; it is the one thing they need
besides the files themselves. Written beside the files by ``generate_invoices``::

    manifest = load_manifest("invoices/")
    for item in manifest.of_kind("heavy"):
        path = manifest.path_of(item)        # invoices/heavy-001.pdf
        item.expected.statuses               # [504]
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from generators._errors import ManifestInvalid
from generators._jsonfile import load_json_model
from stagegate_core.models import FrozenModel

MANIFEST_NAME = "manifest.json"
Kind = Literal["normal", "heavy", "hostile"]
Format = Literal["pdf", "image"]
HostileVariant = Literal["bomb", "nested_flate", "oversize", "not_document"]
Outcome = Literal["processed", "timeout", "rejected", "body_limit"]


class Expected(FrozenModel):
    """What a service following the intended contract answers to this file."""

    outcome: Outcome
    statuses: list[int]
    """Statuses that count as correct when the file is posted straight to the OCR service."""
    via_gateway: list[int]
    """The same through a gateway with ``gateway_limit_bytes`` (413 there is a gateway finding)."""
    note: str


class InvoiceFile(FrozenModel):
    """One generated file."""

    name: str
    kind: Kind
    variant: HostileVariant | None = None
    """Which hostile input this is; None for normal and heavy invoices."""
    format: Format
    media_type: str
    """Content type to upload it with (``application/pdf``, ``image/png``, ``image/jpeg``)."""
    bytes: int = Field(ge=0)
    pages: int = Field(ge=0)
    dpi: int | None = None
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    invoice_number: str | None = None
    invoice_letter: Literal["A", "B", "C"] | None = None
    emitter_cuit: str | None = None
    """The supplier's CUIT, for the ``proveedor_cuit`` form field."""
    receiver_cuit: str | None = None
    total: str | None = None
    """Invoice total in pesos as a decimal string (``"3850282.55"``)."""
    expected: Expected


class Manifest(FrozenModel):
    """All files of one ``stagegate generate invoices`` run."""

    version: Literal[1] = 1
    seed: int
    min_size_bytes: int
    app_limit_bytes: int
    gateway_limit_bytes: int
    files: list[InvoiceFile]
    directory: str = Field(default="", exclude=True)
    """Where the manifest was loaded from (set by ``load_manifest``, not stored)."""

    def of_kind(self, kind: Kind) -> list[InvoiceFile]:
        return [item for item in self.files if item.kind == kind]

    def path_of(self, item: InvoiceFile) -> Path:
        return Path(self.directory) / item.name


def write_manifest(out_dir: Path, manifest: Manifest) -> Path:
    path = out_dir / MANIFEST_NAME
    path.write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return path


def load_manifest(directory: str | Path) -> Manifest:
    """The manifest in ``directory`` (or at a ``manifest.json`` path); ``ManifestInvalid`` if unusable."""
    path = Path(directory)
    if path.is_dir() or path.name != MANIFEST_NAME:
        path = path / MANIFEST_NAME
    manifest = load_json_model(path, Manifest, ManifestInvalid)
    return manifest.model_copy(update={"directory": str(path.parent)})
