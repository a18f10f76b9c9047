"""Kustomize, built once from its Go module (the machine's Go, the Go module proxy) into
.tools/bin: no Debian or PyPI package ships the real one. Used by the manifests' tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Final

from deploy.local.paths import REPO_ROOT

VERSION: Final = "v5.8.1"
MODULE: Final = "sigs.k8s.io/kustomize/kustomize/v5"
TOOLS_BIN: Final = REPO_ROOT / ".tools" / "bin"
BINARY: Final = TOOLS_BIN / f"kustomize-{VERSION}"


class KustomizeUnavailable(RuntimeError):
    """Kustomize is not built and cannot be: no Go toolchain."""


def kustomize() -> Path:
    """The kustomize binary of VERSION, built if missing."""
    if BINARY.is_file():
        return BINARY
    go = shutil.which("go") or next(
        (str(p) for p in (Path("/usr/local/go/bin/go"), Path("/usr/lib/go/bin/go")) if p.is_file()),
        None,
    )
    if go is None:
        raise KustomizeUnavailable(
            f"kustomize {VERSION} is built from its Go module: install Go (apt-get install golang)"
        )
    build_dir = TOOLS_BIN / f".kustomize-{VERSION}.build"
    build_dir.mkdir(parents=True, exist_ok=True)
    # `go install` names the binary `kustomize`; a versioned name lets another pinned
    # version sit beside it.
    subprocess.run(  # noqa: S603 (fixed argv)
        [go, "install", f"{MODULE}@{VERSION}"],
        env={**os.environ, "GOBIN": str(build_dir), "GOFLAGS": "-buildvcs=false"},
        check=True,
        timeout=1200,
    )
    (build_dir / "kustomize").replace(BINARY)
    shutil.rmtree(build_dir)
    return BINARY


def build(directory: Path) -> str:
    """`kustomize build DIRECTORY`: the manifests as one YAML stream."""
    completed = subprocess.run(  # noqa: S603 (fixed argv)
        [str(kustomize()), "build", str(directory)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"kustomize build {directory} failed:\n{completed.stderr}")
    return completed.stdout
