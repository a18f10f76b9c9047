"""docker-compose.yml and deploy/k8s agree with the code: every command runs a module that
exists, and every `BILAN_*` variable names a field of the settings class that reads it (a
misspelt variable is silently ignored by pydantic-settings, and the service then runs on its
default: the wrong database, the wrong broker)."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # no stubs among the dependencies
from pydantic_settings import BaseSettings

from deploy.init import InitSettings
from shared.settings import PlatformSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
K8S = ROOT / "deploy" / "k8s"


@dataclass(frozen=True)
class Container:
    """Where it is declared, what it runs and the environment variables it is given."""

    where: str
    command: list[str]
    variables: list[str]
    values: dict[str, str]


def _compose_containers() -> Iterator[Container]:
    compose = yaml.safe_load(COMPOSE.read_text())
    for name, service in compose["services"].items():
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.split("=", 1) for item in environment)
        yield Container(
            f"docker-compose.yml: {name}",
            list(service.get("command") or []),
            list(environment),
            {k: str(v) for k, v in environment.items()},
        )


def _k8s_documents() -> list[tuple[Path, dict[str, Any]]]:
    documents = []
    for path in sorted(K8S.rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if isinstance(document, dict):
                documents.append((path, document))
    return documents


def _k8s_containers() -> Iterator[Container]:
    documents = _k8s_documents()
    config_maps = {
        doc["metadata"]["name"]: doc.get("data", {})
        for _, doc in documents
        if doc.get("kind") == "ConfigMap"
    }
    for path, doc in documents:
        if doc.get("kind") not in ("Deployment", "StatefulSet", "Job", "CronJob"):
            continue
        pod = doc["spec"]["template"]["spec"]
        for container in pod.get("containers", []) + pod.get("initContainers", []):
            variables: list[str] = []
            values: dict[str, str] = {}
            for entry in container.get("env", []):
                variables.append(entry["name"])
                if "value" in entry:
                    values[entry["name"]] = str(entry["value"])
            for source in container.get("envFrom", []):
                reference = source.get("configMapRef", {}).get("name")
                assert reference in config_maps, f"{path.name}: no ConfigMap {reference}"
                for key, value in config_maps[reference].items():
                    variables.append(source.get("prefix", "") + key)
                    values[source.get("prefix", "") + key] = str(value)
            yield Container(
                f"{path.relative_to(ROOT)}: {doc['metadata']['name']}/{container['name']}",
                list(container.get("command") or []) + list(container.get("args") or []),
                variables,
                values,
            )


CONTAINERS = [*_compose_containers(), *_k8s_containers()]
BILAN_CONTAINERS = [c for c in CONTAINERS if c.command[:2] == ["python", "-m"]]


def _settings_class(variable: str) -> type[BaseSettings]:
    """The settings class that reads `BILAN_<OWNER>_…`: deploy.init's or a service's."""
    owner = variable.split("_")[1].lower()
    if owner == "init":
        return InitSettings
    module = importlib.import_module(f"services.{owner}.settings")
    classes = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, PlatformSettings)
        and value.__module__ == module.__name__
    ]
    assert len(classes) == 1, f"services/{owner}/settings.py: one ServiceSettings subclass"
    return classes[0]


def test_the_files_were_found() -> None:
    assert len([c for c in CONTAINERS if c.where.startswith("docker-compose")]) >= 8
    assert len([c for c in CONTAINERS if c.where.startswith("deploy/k8s")]) >= 5
    assert all(c.command for c in BILAN_CONTAINERS)


@pytest.mark.parametrize("container", BILAN_CONTAINERS, ids=lambda c: c.where)
def test_every_command_runs_a_module_of_the_code(container: Container) -> None:
    module = container.command[2]
    spec = importlib.util.find_spec(module)
    assert spec is not None, f"{container.where}: no module {module}"
    if spec.submodule_search_locations is not None:  # a package runs its __main__
        assert importlib.util.find_spec(f"{module}.__main__") is not None, (
            f"{container.where}: `python -m {module}` needs {module}/__main__.py"
        )


@pytest.mark.parametrize("container", CONTAINERS, ids=lambda c: c.where)
def test_every_bilan_variable_is_a_setting(container: Container) -> None:
    bilan = [v for v in container.variables if v.startswith("BILAN_")]
    for variable in bilan:
        settings = _settings_class(variable)
        prefix = str(settings.model_config.get("env_prefix", ""))
        assert variable.startswith(prefix), f"{container.where}: {variable} outside {prefix}"
        field = variable[len(prefix) :].lower()
        assert field in settings.model_fields, (
            f"{container.where}: {variable} is not a setting of {settings.__name__} "
            f"(its fields: {', '.join(sorted(settings.model_fields))})"
        )


@pytest.mark.parametrize("container", BILAN_CONTAINERS, ids=lambda c: c.where)
def test_a_service_is_configured_only_with_its_own_prefix(container: Container) -> None:
    module = container.command[2]
    owner = "INIT" if module == "deploy.init" else module.rsplit(".", 1)[-1].upper()
    foreign = [
        v for v in container.variables if v.startswith("BILAN_") and v.split("_")[1] != owner
    ]
    assert foreign == [], f"{container.where} runs {module} but sets {foreign}"


@pytest.mark.parametrize(
    ("container", "expected"),
    [
        (c, "http://dossier:8001/" if c.where.startswith("docker") else "http://dossier/")
        for c in BILAN_CONTAINERS
        if c.command[2] in ("services.scheduling", "services.survey")
    ],
    ids=lambda value: value.where if isinstance(value, Container) else value,
)
def test_contacts_are_fetched_from_the_dossier_service_by_its_name(
    container: Container, expected: str
) -> None:
    owner = container.command[2].rsplit(".", 1)[-1].upper()
    url = container.values.get(f"BILAN_{owner}_DOSSIER_CONTACT_URL", "")
    assert url.startswith(expected), f"{container.where}: contact URL {url!r}"
    assert url.endswith("/internal/dossiers/{ref}/contact")


def _bilan_pods() -> list[tuple[str, dict[str, Any]]]:
    """(where, pod spec) of every Kubernetes workload that runs the Bilan image."""
    pods = []
    for path, doc in _k8s_documents():
        if doc.get("kind") not in ("Deployment", "StatefulSet", "Job", "CronJob"):
            continue
        pod = doc["spec"]["template"]["spec"]
        if any(c.get("image") == "bilan" for c in pod.get("containers", [])):
            pods.append((f"{path.relative_to(ROOT)}: {doc['metadata']['name']}", pod))
    return pods


def test_the_bilan_pods_were_found() -> None:
    assert len(_bilan_pods()) == 6  # the console, four services and the init job


@pytest.mark.parametrize(("where", "pod"), _bilan_pods(), ids=[where for where, _ in _bilan_pods()])
def test_bilan_pods_run_unprivileged_on_a_read_only_root_with_a_writable_tmp(
    where: str, pod: dict[str, Any]
) -> None:
    assert pod["securityContext"]["runAsNonRoot"] is True, where
    tmp_volumes = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True, where
        assert context["allowPrivilegeEscalation"] is False, where
        assert context["capabilities"]["drop"] == ["ALL"], where
        # The one place a process may write: Faust's data directory defaults there.
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        assert mounts.get("/tmp") in tmp_volumes, f"{where}: /tmp is not a writable emptyDir"


def test_bilan_compose_services_run_on_a_read_only_root_with_a_writable_tmp() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    ours = {name: s for name, s in services.items() if s.get("image") == "bilan:local"}
    assert set(ours) == {"init", "console", "dossier", "scheduling", "survey", "reporting"}
    for name, service in ours.items():
        assert service["read_only"] is True, name
        assert service["tmpfs"] == ["/tmp"], name
        assert service["cap_drop"] == ["ALL"], name
        assert service["security_opt"] == ["no-new-privileges:true"], name


def test_every_process_of_the_image_is_deployed_everywhere() -> None:
    """deploy/processes.py is the one list: a process of the Bilan image (`in_image`) runs in
    `bilan containers test` and must also have its Compose service and Kubernetes workload."""
    from deploy.processes import PROCESSES

    modules = {spec.module for spec in PROCESSES if spec.in_image and spec.available()}
    assert modules, "no process of the image in deploy/processes.py"
    for where in ("docker-compose.yml", "deploy/k8s"):
        deployed = {c.command[2] for c in BILAN_CONTAINERS if c.where.startswith(where)}
        assert modules <= deployed, f"{where} lacks {sorted(modules - deployed)}"
    # And the other way: nothing deployed that the containers' journey would not run.
    services = {c.command[2] for c in BILAN_CONTAINERS if c.command[2].startswith("services.")}
    assert services <= modules, f"not in deploy/processes.py: {sorted(services - modules)}"
