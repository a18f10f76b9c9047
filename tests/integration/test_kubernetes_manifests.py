"""deploy/k8s built with kustomize, every overlay, and each resource validated offline against
the Kubernetes API's schemas (kubernetes-validate, strict: an unknown field is an error).

Strimzi's and CloudNativePG's resources are custom resources whose CRD schemas no package
reachable here ships: Strimzi's are checked against its Java API model instead
(deploy/strimzi_check.py), CloudNativePG's `Cluster` is not checked (deploy/README.md).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml  # type: ignore[import-untyped]  # no stubs among the dependencies
from kubernetes_validate.utils import SchemaNotFoundError

from deploy import kustomize, strimzi_check

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.33"
"""The API version validated against (kubernetes-validate takes its newest schemas not
newer than this one)."""
CUSTOM_GROUPS = {"kafka.strimzi.io", "postgresql.cnpg.io"}
KUSTOMIZATIONS = sorted(path.parent for path in K8S.rglob("kustomization.yaml"))


def _built(directory: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(kustomize.build(directory)) if doc]


def _is_custom(resource: dict[str, Any]) -> bool:
    return str(resource["apiVersion"]).split("/")[0] in CUSTOM_GROUPS


def _problems(resource: dict[str, Any]) -> list[str]:
    try:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{'/'.join(map(str, error.path))}: {error.message}"]
    except SchemaNotFoundError as error:
        return [error.message]
    return []


def test_every_kustomization_was_found() -> None:
    assert K8S / "base" in KUSTOMIZATIONS
    assert K8S / "overlays" / "production" in KUSTOMIZATIONS


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda p: str(p.relative_to(K8S)))
def test_every_resource_is_valid_for_the_kubernetes_api(directory: Path) -> None:
    resources = _built(directory)
    kinds = {resource["kind"] for resource in resources}
    assert {"Deployment", "Service", "Job", "ConfigMap", "PodDisruptionBudget"} <= kinds
    problems = {
        f"{resource['kind']}/{resource['metadata']['name']}": found
        for resource in resources
        if not _is_custom(resource) and (found := _problems(resource))
    }
    assert problems == {}


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda p: str(p.relative_to(K8S)))
def test_the_custom_resources_are_strimzis_and_cloudnative_pgs(directory: Path) -> None:
    custom = sorted(
        (resource["apiVersion"], resource["kind"])
        for resource in _built(directory)
        if _is_custom(resource)
    )
    assert set(custom) == {
        ("kafka.strimzi.io/v1beta2", "Kafka"),
        ("kafka.strimzi.io/v1beta2", "KafkaNodePool"),
        ("kafka.strimzi.io/v1beta2", "KafkaTopic"),
        ("postgresql.cnpg.io/v1", "Cluster"),
    }


def test_the_production_overlay_changes_what_it_says() -> None:
    production = {
        (r["kind"], r["metadata"]["name"]): r for r in _built(K8S / "overlays" / "production")
    }
    assert production[("Deployment", "dossier")]["spec"]["replicas"] == 3
    resources = production[("Deployment", "survey")]["spec"]["template"]["spec"]["containers"][0]
    assert resources["resources"]["limits"]["memory"] == "1Gi"


@pytest.mark.parametrize(
    "breakage",
    ["misspelt field", "wrong type", "missing required field"],
)
def test_the_validator_rejects_a_broken_deployment(breakage: str) -> None:
    """The validation above can fail: a broken copy of a real Deployment does."""
    (deployment,) = [
        r
        for r in _built(K8S / "base")
        if r["kind"] == "Deployment" and r["metadata"]["name"] == "dossier"
    ]
    assert _problems(deployment) == []
    broken = copy.deepcopy(deployment)
    container = broken["spec"]["template"]["spec"]["containers"][0]
    if breakage == "misspelt field":
        container["readinesProbe"] = container.pop("readinessProbe")
    elif breakage == "wrong type":
        broken["spec"]["replicas"] = "three"
    else:
        del container["name"]
    assert _problems(broken) != []


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda p: str(p.relative_to(K8S)))
def test_the_strimzi_resources_bind_to_strimzis_api_model(directory: Path) -> None:
    strimzi = [r for r in _built(directory) if r["apiVersion"].startswith("kafka.strimzi.io/")]
    outcome = strimzi_check.check(strimzi)
    assert outcome.passed, outcome.report
    assert outcome.report.endswith(f"{len(strimzi)} checked, 0 problems")


def _strimzi(kind: str) -> dict[str, Any]:
    return next(r for r in _built(K8S / "base") if r["kind"] == kind)


@pytest.mark.parametrize(
    ("kind", "breakage", "reported"),
    [
        ("KafkaTopic", "misspelt field", "unknown field(s) [partition]"),
        ("KafkaTopic", "wrong type", "Cannot deserialize"),
        ("Kafka", "misspelt nested field", "listeners[0]: unknown field(s) [tpye]"),
    ],
)
def test_the_strimzi_check_rejects_a_broken_resource(
    kind: str, breakage: str, reported: str
) -> None:
    broken = copy.deepcopy(_strimzi(kind))
    if breakage == "misspelt field":
        broken["spec"]["partition"] = broken["spec"].pop("partitions")
    elif breakage == "wrong type":
        broken["spec"]["replicas"] = "three"
    else:
        listener = broken["spec"]["kafka"]["listeners"][0]
        listener["tpye"] = listener.pop("type")
    outcome = strimzi_check.check([broken])
    assert not outcome.passed
    assert reported in outcome.report
