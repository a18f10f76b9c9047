"""Strimzi's custom resources checked against Strimzi's Java API model (io.strimzi:api from
Maven Central), since no package reachable here ships its CRDs' schemas: the jars are copied
once into .tools/strimzi-check/libs, then deploy/k8s/strimzi-check/StrimziCheck.java binds each
resource to its model class and reports values of the wrong type and fields it does not know.
It does not check enumerations, patterns or bounds, which only the CRDs carry."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from deploy.local.paths import REPO_ROOT

HERE: Final = REPO_ROOT / "deploy" / "k8s" / "strimzi-check"
POM: Final = HERE / "pom.xml"
SOURCE: Final = HERE / "StrimziCheck.java"
LIBS: Final = REPO_ROOT / ".tools" / "strimzi-check" / "libs"
STAMP: Final = LIBS / ".pom.sha256"


@dataclass(frozen=True)
class Outcome:
    passed: bool
    report: str


def ensure_libs() -> Path:
    """The model's classpath, fetched by Maven unless it matches the pom already."""
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()
    if STAMP.is_file() and STAMP.read_text().strip() == digest:
        return LIBS
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError("Maven is needed to fetch Strimzi's API model: apt-get install maven")
    staging = LIBS.with_name("libs.partial")
    shutil.rmtree(staging, ignore_errors=True)
    subprocess.run(  # noqa: S603 (fixed argv)
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}",
            "-DincludeScope=runtime",
        ],
        check=True,
        timeout=900,
    )
    # Stamped last and renamed into place: an interrupted fetch never passes for complete.
    (staging / STAMP.name).write_text(digest + "\n")
    shutil.rmtree(LIBS, ignore_errors=True)
    staging.rename(LIBS)
    return LIBS


def check(resources: list[dict[str, Any]]) -> Outcome:
    """Run the check on `resources` (each a kafka.strimzi.io/v1beta2 resource)."""
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("Java 17 is needed to check Strimzi's resources")
    completed = subprocess.run(  # noqa: S603 (fixed argv)
        [java, "-cp", f"{ensure_libs()}/*", str(SOURCE)],
        input=json.dumps(resources),
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )
    return Outcome(completed.returncode == 0, completed.stdout.strip())
