"""The catalogue of assessment instruments and the habilitation each requires (rule 6).

Psychometric personality tests may only be administered and interpreted by qualified
psychologists (domain.md §1.9); interest inventories and values questionnaires need none.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Instrument:
    """A test or questionnaire; `required_habilitation` is a code of QualificationRecorded."""

    instrument_id: str
    name: str
    """In French: the beneficiary reads it."""
    required_habilitation: str | None


CATALOGUE: dict[str, Instrument] = {
    i.instrument_id: i
    for i in (
        Instrument(
            "6f1c2a9e-0a51-4c1e-9a43-1d2f3e4a5b01",
            "Inventaire d'intérêts professionnels (RIASEC)",
            None,
        ),
        Instrument(
            "6f1c2a9e-0a51-4c1e-9a43-1d2f3e4a5b02",
            "Questionnaire de valeurs professionnelles",
            None,
        ),
        Instrument(
            "6f1c2a9e-0a51-4c1e-9a43-1d2f3e4a5b03",
            "Inventaire de personnalité (psychométrique)",
            "psychometric_tests",
        ),
        Instrument(
            "6f1c2a9e-0a51-4c1e-9a43-1d2f3e4a5b04",
            "Test d'aptitudes au raisonnement (psychométrique)",
            "psychometric_tests",
        ),
    )
}
