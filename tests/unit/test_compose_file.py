"""docker-compose.yml against the Compose Specification's JSON schema (as vendored by the
check-jsonschema package from the compose-spec project), its images pinned by tag, and the
Kafka, PostgreSQL and Mailpit images configured the way their documentation says."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import check_jsonschema
import jsonschema
import pytest
import yaml  # type: ignore[import-untyped]  # no stubs among the dependencies

from deploy.local import kafka_broker

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SCHEMA = Path(check_jsonschema.__file__).parent / "builtin_schemas/vendor/compose-spec.json"


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def _schema_errors(document: dict[str, Any]) -> list[str]:
    schema = json.loads(SCHEMA.read_text())
    # The schema names draft-07 by an https address jsonschema does not map: say it here.
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def _environment(service: str) -> dict[str, str]:
    environment = _compose()["services"][service].get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {key: str(value) for key, value in environment.items()}


def test_the_compose_file_is_valid_against_the_compose_specification() -> None:
    assert SCHEMA.is_file(), f"check-jsonschema no longer ships {SCHEMA.name}"
    assert _schema_errors(_compose()) == []


@pytest.mark.parametrize(
    ("where", "key", "value"),
    [
        ("kafka", "restrat", "always"),  # a misspelt key
        ("postgres", "healthcheck", "pg_isready"),  # a string where a mapping goes
        ("dossier", "depends_on", {"init": {"condition": "service_finished"}}),  # no such value
    ],
)
def test_the_schema_rejects_a_broken_file(where: str, key: str, value: object) -> None:
    broken = copy.deepcopy(_compose())
    broken["services"][where][key] = value
    assert _schema_errors(broken) != []


def test_every_image_is_pinned_by_a_version_tag() -> None:
    for name, service in _compose()["services"].items():
        image = service.get("image")
        assert image, f"{name}: no image"
        if "build" in service:
            continue  # built here from the Dockerfile, tagged by the file itself
        repository, _, tag = image.rpartition(":")
        assert repository, f"{name}: {image} has no tag"
        assert "/" not in tag, f"{name}: {image} has no tag"
        assert re.fullmatch(r"v?\d+(\.\d+)*", tag), f"{name}: {image} is not a version tag"


def _kafka_properties() -> dict[str, str]:
    """The broker properties the apache/kafka image derives from KAFKA_* variables: `_` is
    `.`, `__` is `_`, `___` is `-` (the image's usage guide)."""
    properties = {}
    for variable, value in _environment("kafka").items():
        if not variable.startswith("KAFKA_"):
            continue
        name = variable.removeprefix("KAFKA_").lower()
        name = name.replace("___", "\0dash\0").replace("__", "\0us\0").replace("_", ".")
        properties[name.replace("\0dash\0", "-").replace("\0us\0", "_")] = value
    return properties


def test_kafka_is_configured_as_the_native_broker_is() -> None:
    """Configured by environment alone, the image uses none of Kafka's sample settings: what
    the native broker needs (deploy/local/kafka_broker.py) must be given here, with the
    same values except where the broker is and how its quorum is found."""
    native = dict(
        line.split("=", 1)
        for line in kafka_broker.server_properties().splitlines()
        if line and not line.startswith("#")
    )
    placed = {
        "listeners",
        "advertised.listeners",
        "log.dirs",
        "controller.quorum.bootstrap.servers",
    }
    compose = _kafka_properties()
    assert {key: compose.get(key) for key in native if key not in placed} == {
        key: value for key, value in native.items() if key not in placed
    }
    assert compose["controller.quorum.voters"] == f"{compose['node.id']}@kafka:9093"
    assert compose["advertised.listeners"] == "PLAINTEXT://kafka:9092"


def test_kafka_keeps_its_log_on_the_volume() -> None:
    service = _compose()["services"]["kafka"]
    mounts = {volume.split(":")[1] for volume in service["volumes"]}
    assert _kafka_properties()["log.dirs"] in mounts


def test_postgres_is_configured_as_the_image_documents() -> None:
    service = _compose()["services"]["postgres"]
    environment = _environment("postgres")
    assert environment["POSTGRES_PASSWORD"], "the image refuses to start without it"
    mounts = dict(volume.split(":")[:2][::-1] for volume in service["volumes"])
    assert "/var/lib/postgresql/data" in mounts, "PGDATA of the 15 image is not on the volume"
    init = [path for path in mounts if path.startswith("/docker-entrypoint-initdb.d/")]
    assert init, "no init script"
    assert all(path.endswith((".sql", ".sh")) for path in init)
    # The init script creates every database a container is pointed at.
    script = (ROOT / mounts[init[0]].removeprefix("./")).read_text()
    created = set(re.findall(r"CREATE DATABASE (\w+)", script))
    wanted = {
        value.rsplit("/", 1)[1]
        for name in _compose()["services"]
        for key, value in _environment(name).items()
        if key.endswith("DATABASE_URL")
    }
    assert wanted
    assert wanted <= created
    # pg_isready over TCP: the image's temporary init-time server listens on no TCP port.
    test = " ".join(service["healthcheck"]["test"])
    assert "pg_isready" in test
    assert "-h 127.0.0.1" in test


def test_mail_is_caught_on_mailpits_smtp_port() -> None:
    service = _compose()["services"]["mail"]
    assert service["healthcheck"]["test"] == ["CMD", "/mailpit", "readyz"]
    environments = {name: _environment(name) for name in _compose()["services"]}
    senders = {
        name: environment
        for name, environment in environments.items()
        if any(key.endswith("SMTP_HOST") for key in environment)
    }
    assert senders, "no service sends mail"
    for name, environment in senders.items():
        prefix = f"BILAN_{name.upper()}_"
        assert environment[f"{prefix}SMTP_HOST"] == "mail", name
        assert environment[f"{prefix}SMTP_PORT"] == "1025", f"{name}: Mailpit's SMTP port"
