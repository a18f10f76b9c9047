"""Finding an event model from its CloudEvents type."""

from __future__ import annotations

import importlib.util
import warnings
from types import ModuleType

import pytest

import shared.contracts
from shared.contracts import (
    EVENT_TYPES,
    PUBLISHED_TYPES,
    ConventionSigned,
    ImprovementActionOpened,
    IntegrationEvent,
    SixMonthSituationReported,
    SixMonthSituationReportedV1,
    UnknownEventType,
    dossier,
    event_type,
    scheduling,
    survey,
)
from tests.unit.contracts.examples import example


@pytest.mark.parametrize("ce_type", list(EVENT_TYPES))
def test_event_type_finds_each_type(ce_type: str) -> None:
    cls = event_type(ce_type)
    assert cls.ce_type() == ce_type
    assert issubclass(cls, IntegrationEvent)


def test_the_documented_example() -> None:
    assert event_type("bilan.dossier.ConventionSigned.v1") is ConventionSigned


def test_registry_is_the_three_modules_in_contract_order() -> None:
    assert list(EVENT_TYPES.values()) == [*dossier.EVENTS, *scheduling.EVENTS, *survey.EVENTS]
    assert (len(dossier.EVENTS), len(scheduling.EVENTS), len(survey.EVENTS)) == (28, 14, 13)


def test_producers_publish_every_type_but_the_superseded_six_month_v1() -> None:
    assert set(EVENT_TYPES) - set(PUBLISHED_TYPES) == {"bilan.survey.SixMonthSituationReported.v1"}
    assert event_type("bilan.survey.SixMonthSituationReported.v2") is SixMonthSituationReported
    assert event_type("bilan.survey.SixMonthSituationReported.v1") is SixMonthSituationReportedV1


def test_the_v1_six_month_situation_upcasts_to_v2_with_the_same_fact() -> None:
    old = example(SixMonthSituationReportedV1)
    new = old.upcast()
    assert type(new) is SixMonthSituationReported
    assert new.to_json_dict() == old.to_json_dict()
    assert (old.partition_key(), new.partition_key()) == (str(old.dossier_id), str(old.survey_id))
    assert new.upcast() is new


@pytest.mark.parametrize(
    "ce_type",
    [
        "bilan.dossier.ConventionSigned.v2",
        "bilan.survey.ConventionSigned.v1",
        "bilan.dossier.conventionsigned.v1",
        "ConventionSigned",
        "",
        "bilan.dossier.NoSuchEvent.v1",
    ],
)
def test_unknown_type(ce_type: str) -> None:
    with pytest.raises(UnknownEventType) as caught:
        event_type(ce_type)
    assert isinstance(caught.value, LookupError)
    assert caught.value.ce_type == ce_type
    assert repr(ce_type) in str(caught.value)


def test_unknown_version_names_the_known_one() -> None:
    with pytest.raises(UnknownEventType, match=r"bilan\.dossier\.ConventionSigned\.v1"):
        event_type("bilan.dossier.ConventionSigned.v2")


def test_public_names() -> None:
    for name in shared.contracts.__all__:
        assert hasattr(shared.contracts, name), name
    for module in (dossier, scheduling, survey):
        for name in module.__all__:
            assert name == "EVENTS" or name in shared.contracts.__all__, name


@pytest.mark.parametrize("module", [dossier, scheduling, survey], ids=lambda m: m.__name__)
def test_defining_the_models_warns_nothing(module: ModuleType) -> None:
    # Run the module's code again under another name, leaving the registered classes alone.
    assert module.__spec__ is not None
    assert module.__spec__.origin is not None
    spec = importlib.util.spec_from_file_location(
        f"_fresh_{module.__name__}", module.__spec__.origin
    )
    assert spec is not None
    assert spec.loader is not None
    fresh = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spec.loader.exec_module(fresh)
    assert len(fresh.EVENTS) == len(module.EVENTS)


def test_source_field_does_not_hide_the_ce_source() -> None:
    # ImprovementActionOpened has a contract field named `source`; ce_source is another name.
    event = example(ImprovementActionOpened)
    assert event.source == "complaint"
    assert event.ce_source() == "/bilan/survey"
    assert ImprovementActionOpened.model_fields["source"].is_required()
