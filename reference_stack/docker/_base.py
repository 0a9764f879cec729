"""A Python 3.11 base image made on this machine, for hosts that cannot reach an image registry.

The registry path (``compose.yml``) starts ``FROM python:3.11-slim`` and pip-installs
``requirements.txt``. Without a registry, ``base_image()`` makes the equivalent locally:

1. ``debootstrap --variant=minbase bookworm`` from the Debian mirror apt already uses, with
   ``python3`` (3.11), ``curl``, ``procps`` and ``nginx-light`` (the gateway);
2. the distributions the reference stack imports, copied from this project's own venv (same
   CPython ABI, cp311) into ``/usr/local/lib/python3.11/dist-packages``;
3. ``docker import`` of that tree as ``stagegate/pybase:<hash>``.

The tag is a hash of the recipe (suite, packages, distribution names and versions), so the image
is built once and reused until one of those changes; downloaded .debs are cached under
``~/.cache/stagegate/debootstrap``. A lock file keeps parallel test processes from building twice.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from reference_stack._errors import StackError

BASE_REPOSITORY = "stagegate/pybase"
DEBIAN_SUITE = "bookworm"
DEBIAN_PACKAGES = ("python3", "curl", "procps", "nginx-light")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
MIRROR_ENV = "STAGEGATE_DEBIAN_MIRROR"
RECIPE_VERSION = 1
"""Bump when the build steps below change in a way the hash cannot see."""
SITE_PACKAGES = "usr/local/lib/python3.11/dist-packages"
ROOT_DISTRIBUTIONS = (
    "fastapi", "uvicorn", "pydantic", "httpx", "PyJWT", "python-multipart", "jinja2", "pillow", "reportlab",
    "prometheus_client", "rich", "python-dotenv", "numpy", "brotli",
)
"""What the reference stack imports (found by importing all its modules); their requirements follow."""
IMAGE_CHANGES = [
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    "ENV PYTHONDONTWRITEBYTECODE=1",
    'CMD ["python3"]',
]

KEEP_RECENT_S = 3600.0
"""Older builds are dropped only when they are at least this old."""

Log = Callable[[str], None]


class ImageBuildFailed(StackError):
    """The local base image or a service image could not be built (one line says which step)."""


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "stagegate"


_REQUIREMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def distributions() -> list[metadata.Distribution]:
    """The root distributions and everything installed that they require (extras left out)."""
    found: dict[str, metadata.Distribution] = {}
    pending = list(ROOT_DISTRIBUTIONS)
    while pending:
        name = pending.pop()
        key = name.lower().replace("_", "-")
        if key in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            if name in ROOT_DISTRIBUTIONS:
                raise ImageBuildFailed(f"base image: {name} is not installed in {sys.prefix}") from None
            continue  # a requirement whose marker does not hold here (another Python or platform)
        found[key] = dist
        for text in dist.requires or []:
            matched = _REQUIREMENT_NAME.match(text)
            if matched and "extra ==" not in text:
                pending.append(matched.group())
    return sorted(found.values(), key=lambda d: d.metadata["Name"].lower())


def recipe_hash(dists: list[metadata.Distribution]) -> str:
    recipe = {
        "v": RECIPE_VERSION, "suite": DEBIAN_SUITE, "packages": DEBIAN_PACKAGES,
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "dists": [f"{d.metadata['Name']}=={d.version}" for d in dists],
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def base_image(client: object, *, log: Log = lambda line: None) -> str:
    """The tag of the local base image, building it first when this recipe was never built."""
    from docker.errors import ImageNotFound  # type: ignore[import-untyped]

    dists = distributions()
    tag = f"{BASE_REPOSITORY}:{recipe_hash(dists)}"
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / "pybase.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            client.images.get(tag)  # type: ignore[attr-defined]
            return tag
        except ImageNotFound:
            pass
        log(f"building {tag} (debootstrap {DEBIAN_SUITE} + {len(dists)} Python distributions; once per recipe)")
        with tempfile.TemporaryDirectory(prefix="stagegate-pybase-", dir="/var/tmp") as work:
            root = Path(work) / "root"
            _debootstrap(root, cache / "debootstrap")
            _copy_distributions(dists, root / SITE_PACKAGES)
            (root / "usr/local/bin/python").symlink_to("/usr/bin/python3")
            _import(root, Path(work) / "root.tar", tag, client)
        forget_older(client, tag)
    log(f"built {tag}")
    return tag


def forget_older(client: object, tag: str) -> None:
    """Drop earlier builds of this tag's repository (ours), so a changing tree does not fill the disk."""
    from docker.errors import APIError

    repository = tag.partition(":")[0]
    for image in client.images.list(name=repository):  # type: ignore[attr-defined]
        created = datetime.fromisoformat(image.attrs["Created"][:19]).replace(tzinfo=UTC).timestamp()
        if time.time() - created < KEEP_RECENT_S:
            continue  # another session on this machine may be about to start containers from it
        for name in image.tags:
            if name != tag:
                try:
                    client.images.remove(name)  # type: ignore[attr-defined]
                except APIError:
                    pass  # an image still in use (another session's stack) goes next time


def _debootstrap(root: Path, debs: Path) -> None:
    if shutil.which("debootstrap") is None and not Path("/usr/sbin/debootstrap").exists():
        raise ImageBuildFailed("base image: debootstrap is not installed (apt-get install debootstrap)")
    debs.mkdir(parents=True, exist_ok=True)
    command = ["debootstrap", "--variant=minbase", f"--include={','.join(DEBIAN_PACKAGES)}",
               f"--cache-dir={debs}", DEBIAN_SUITE, str(root), os.environ.get(MIRROR_ENV, DEFAULT_MIRROR)]
    done = subprocess.run(command, capture_output=True, text=True, check=False,
                          env={**os.environ, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ImageBuildFailed(f"base image: debootstrap failed ({tail[0]})")
    shutil.rmtree(root / "var/cache/apt/archives", ignore_errors=True)
    shutil.rmtree(root / "var/lib/apt/lists", ignore_errors=True)


def _copy_distributions(dists: list[metadata.Distribution], target: Path) -> None:
    for dist in dists:
        for file in dist.files or []:
            source = Path(str(dist.locate_file(file)))
            if ".." in file.parts or "__pycache__" in file.parts or not source.is_file():
                continue  # console scripts outside site-packages, and bytecode the image does not need
            destination = target / file
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)


def _import(root: Path, tarball: Path, tag: str, client: object) -> None:
    subprocess.run(["tar", "-C", str(root), "--numeric-owner", "-cf", str(tarball), "."], check=True)
    repository, _, version = tag.partition(":")
    client.api.import_image_from_file(  # type: ignore[attr-defined]
        str(tarball), repository=repository, tag=version, changes=IMAGE_CHANGES
    )
