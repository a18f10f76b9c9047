"""The images: a Debian bookworm root made by debootstrap once (its tarball cached under
.data/containers), imported as a base; a Python 3.11 base built on it; the project's image
built from the repository's Dockerfile with that base as its `PYTHON_BASE` build argument.

Every build runs with `--network host`: the engine has no bridge to give a build step.
"""

from __future__ import annotations

import os
import shutil
import ssl
import time
from pathlib import Path
from typing import Final

from deploy.containers.engine import CONTAINERS_DIR, Docker, say, which
from deploy.local import procs
from deploy.local.paths import REPO_ROOT

HERE: Final = Path(__file__).resolve().parent
SUITE: Final = "bookworm"
MIRROR: Final = "http://deb.debian.org/debian"
ROOTFS_TAR: Final = CONTAINERS_DIR / f"debian-{SUITE}-minbase.tar"
DEBIAN_IMAGE: Final = f"bilan-debian:{SUITE}"
PYTHON_IMAGE: Final = f"bilan-python:3.11-{SUITE}"
BILAN_IMAGE: Final = "bilan:containers-test"


def debian_rootfs() -> Path:
    """The tarball of a minimal Debian root, made by debootstrap unless already cached."""
    if ROOTFS_TAR.is_file():
        say(f"Debian {SUITE} root cached in {ROOTFS_TAR}")
        return ROOTFS_TAR
    debootstrap = which("debootstrap")
    if debootstrap is None:
        raise procs.StackError("containers: debootstrap is not installed")
    root = CONTAINERS_DIR / f"debian-{SUITE}.rootfs"
    shutil.rmtree(root, ignore_errors=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    say(f"debootstrap {SUITE} (minbase) from {MIRROR}...")
    started = time.monotonic()
    procs.run([debootstrap, "--variant=minbase", SUITE, root, MIRROR], "debootstrap", timeout=1800)
    # What only served the installation: no image needs the downloaded packages or lists.
    for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for path in (root / leftover).glob("*"):
            if path.is_file():
                path.unlink()
    partial = ROOTFS_TAR.with_suffix(".tar.partial")
    procs.run(
        ["tar", "--numeric-owner", "--xattrs", "-C", root, "-cf", partial, "."],
        "tar of the Debian root",
        timeout=600,
    )
    partial.replace(ROOTFS_TAR)  # only a complete tarball counts as cached
    shutil.rmtree(root)
    say(f"Debian root made in {time.monotonic() - started:.0f}s")
    return ROOTFS_TAR


def debian_image(docker: Docker) -> str:
    """The Debian base image, imported from the cached root if the engine lacks it."""
    if not docker.ok("image", "inspect", DEBIAN_IMAGE):
        tarball = debian_rootfs()
        docker.run("import", tarball, DEBIAN_IMAGE, what="docker import")
        say(f"imported {DEBIAN_IMAGE}")
    return DEBIAN_IMAGE


def python_image(docker: Docker) -> str:
    """The Python 3.11 base (the engine's layer cache makes a rebuild nearly free)."""
    base = debian_image(docker)
    context = CONTAINERS_DIR / "python-base"
    context.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HERE / "python-base.Dockerfile", context / "Dockerfile")
    shutil.copyfile(host_ca_bundle(), context / "host-ca-certificates.crt")
    _build(docker, PYTHON_IMAGE, context / "Dockerfile", context, {"DEBIAN_BASE": base})
    return PYTHON_IMAGE


def host_ca_bundle() -> Path:
    """The certificates this machine trusts, as one PEM bundle: a build step's downloads
    (PyPI, through an HTTPS proxy where there is one) must trust what the host trusts."""
    for candidate in (os.environ.get("SSL_CERT_FILE"), ssl.get_default_verify_paths().cafile):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    fallback = Path("/etc/ssl/certs/ca-certificates.crt")
    if not fallback.is_file():
        raise procs.StackError("containers: no CA bundle found on this machine")
    return fallback


def bilan_image(docker: Docker) -> str:
    """The project's image, from its own Dockerfile, on the local Python base."""
    base = python_image(docker)
    _build(docker, BILAN_IMAGE, REPO_ROOT / "Dockerfile", REPO_ROOT, {"PYTHON_BASE": base})
    if docker.host is not None:
        # Each change to the code leaves the previous image's layers untagged; on this
        # checkout's own engine (never on someone else's) they would only fill .data.
        docker.run("image", "prune", "--force", what="docker image prune")
    return BILAN_IMAGE


def _build(
    docker: Docker, tag: str, dockerfile: Path, context: Path, build_args: dict[str, str]
) -> None:
    say(f"building {tag}...")
    started = time.monotonic()
    arguments = [
        part for key, value in build_args.items() for part in ("--build-arg", f"{key}={value}")
    ]
    docker.run(
        "build",
        "--network",
        "host",
        "--tag",
        tag,
        "--file",
        dockerfile,
        *arguments,
        context,
        what=f"docker build of {tag}",
        timeout=1800,
        quiet=False,
    )
    say(f"{tag} built in {time.monotonic() - started:.0f}s")
