"""The reference stack's service images, built from ``Dockerfile`` on the local base image.

One image per service (its own non-root user, port and entry point), tagged
``stagegate/<container name>:<hash>`` where the hash covers the base image and every file the
image copies, so an unchanged tree is never rebuilt. The build context is a temporary directory
holding only those files (the repository has a venv and reports that docker must not upload).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from reference_stack.docker._base import ImageBuildFailed, Log, base_image, forget_older

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKER_DIR = Path(__file__).resolve().parent
COPIED_PACKAGES = ("stagegate_core", "generators", "reference_stack")
"""What the Dockerfile copies into /app: the stack, the errors it shares, the product catalogue."""


@dataclass(frozen=True)
class ServiceImage:
    """One service as docs/contract.md §2 deploys it."""

    service: str
    compose_service: str
    container: str
    user: str
    port: int


SERVICE_IMAGES = (
    ServiceImage("deposito", "agente-deposito", "agente_deposito", "agente", 8001),
    ServiceImage("negocio", "agente-negocio", "agente_negocio", "negocio", 8002),
    ServiceImage("ml", "ml-service", "ml_service", "mluser", 8003),
    ServiceImage("dashboard", "dashboard", "retail_dashboard", "dashboarduser", 8080),
)
BY_SERVICE = {image.service: image for image in SERVICE_IMAGES}
GATEWAY = ServiceImage("gateway", "nginx", "retail_nginx", "nobody", 80)
"""nginx runs from the base image itself (its workers as ``nobody``); it has no image of its own."""


def _sources() -> Iterator[Path]:
    for package in COPIED_PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                yield path


def source_hash(base: str) -> str:
    digest = hashlib.sha256(base.encode())
    for path in [DOCKER_DIR / "Dockerfile", *_sources()]:
        digest.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def _context(directory: Path) -> None:
    for path in _sources():
        target = directory / path.relative_to(REPO_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    shutil.copy2(DOCKER_DIR / "Dockerfile", directory / "Dockerfile")


def build_images(client: object, *, log: Log = lambda line: None) -> dict[str, str]:
    """Service name -> image tag (``gateway``: the base), building any image not built from this tree yet."""
    from docker.errors import ImageNotFound  # type: ignore[import-untyped]

    base = base_image(client, log=log)
    version = source_hash(base)
    tags = {image.service: f"stagegate/{image.container}:{version}" for image in SERVICE_IMAGES}
    missing = []
    for image in SERVICE_IMAGES:
        try:
            client.images.get(tags[image.service])  # type: ignore[attr-defined]
        except ImageNotFound:
            missing.append(image)
    if missing:
        _build(client, missing, tags, base, log)
    for tag in [*tags.values(), base]:  # the services first: an older base is the parent of their older builds
        forget_older(client, tag)
    return {**tags, GATEWAY.service: base}


def _build(client: object, missing: list[ServiceImage], tags: dict[str, str], base: str, log: Log) -> None:
    from docker.errors import BuildError

    with tempfile.TemporaryDirectory(prefix="stagegate-image-") as work:
        _context(Path(work))
        for image in missing:
            log(f"building {tags[image.service]}")
            try:
                client.images.build(  # type: ignore[attr-defined]
                    path=work, tag=tags[image.service], rm=True, pull=False,
                    buildargs={"BASE": base, "SERVICE": image.service, "APP_USER": image.user, "PORT": str(image.port)},
                )
            except BuildError as exc:
                raise ImageBuildFailed(f"image {tags[image.service]}: {exc.msg}") from None
