"""`bilan containers test` runs its containers with the Compose file's hardening, and its check
of a running container's `docker inspect` finds each way one can fall short of it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # no stubs among the dependencies

from deploy.containers.journey import HARDENING, hardening_problems

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"

# The parts of a `docker inspect` the check reads, as Docker 20.10 reports a container run
# with HARDENING and the image's `USER bilan`.
HARDENED: dict[str, Any] = {
    "HostConfig": {
        "ReadonlyRootfs": True,
        "Tmpfs": {"/tmp": ""},
        "CapDrop": ["ALL"],
        "CapAdd": None,
        "SecurityOpt": ["no-new-privileges:true"],
        "Privileged": False,
        "NetworkMode": "host",
    },
    "Config": {"User": "bilan"},
}


def test_the_run_flags_are_the_compose_files_hardening() -> None:
    hardened = yaml.safe_load(COMPOSE.read_text())["x-hardened"]
    flags = list(HARDENING)
    assert hardened["read_only"] is True
    assert "--read-only" in flags
    for tmpfs in hardened["tmpfs"]:
        assert flags[flags.index("--tmpfs") + 1] == tmpfs
    assert flags[flags.index("--cap-drop") + 1] == ",".join(hardened["cap_drop"])
    assert flags[flags.index("--security-opt") + 1] == ",".join(hardened["security_opt"])
    assert flags[flags.index("--network") + 1] == "host"


def test_a_hardened_container_passes() -> None:
    assert hardening_problems(HARDENED) == []


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("HostConfig", "ReadonlyRootfs", False),
        ("HostConfig", "Tmpfs", None),
        ("HostConfig", "CapDrop", None),
        ("HostConfig", "CapAdd", ["NET_ADMIN"]),
        ("HostConfig", "SecurityOpt", None),
        ("HostConfig", "Privileged", True),
        ("HostConfig", "NetworkMode", "bridge"),
        ("Config", "User", ""),
        ("Config", "User", "0"),
    ],
)
def test_each_shortfall_is_found(section: str, key: str, value: object) -> None:
    weakened = copy.deepcopy(HARDENED)
    weakened[section][key] = value
    assert len(hardening_problems(weakened)) == 1
