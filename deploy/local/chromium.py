"""Debian's Chromium for the console's browser tests (Playwright drives /usr/bin/chromium,
so no browser is downloaded at test time), installed from apt when missing, as PostgreSQL is."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Final

import click

from deploy.local import procs
from deploy.local.procs import StackError

CHROMIUM: Final = Path("/usr/bin/chromium")
PACKAGES: Final = ("chromium", "chromium-driver")


def ensure_installed() -> Path:
    """The browser's path, after installing Debian's packages if it is missing."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise StackError(
            "chromium: not installed; run `apt-get install -y " + " ".join(PACKAGES) + "` as root"
        )
    apt = {"DEBIAN_FRONTEND": "noninteractive"}
    click.echo("chromium: installing Debian's chromium package (browser tests)...")
    procs.run(["apt-get", "update"], "apt-get update", env=apt, timeout=600)
    procs.run(["apt-get", "install", "-y", *PACKAGES], "apt-get install", env=apt, timeout=900)
    if not CHROMIUM.exists():
        raise StackError("chromium: apt-get finished but /usr/bin/chromium is missing")
    return CHROMIUM
