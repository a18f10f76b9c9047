"""What the beneficiary reads is in French: the deontology notice and the instruments' names."""

from __future__ import annotations

import re

from services.dossier.domain.catalogue import CATALOGUE
from services.dossier.domain.deontology import CURRENT_VERSION, NOTICES

ENGLISH = re.compile(r"\b(the|your|you|and|of|test|inventory|questionnaire of|values)\b")
FRENCH = re.compile(r"\b(le|la|les|de|des|du|votre|vous|et|d'|professionnel\w*)\b", re.I)


def test_the_current_deontology_notice_is_french_and_earlier_versions_stay() -> None:
    text = NOTICES[CURRENT_VERSION]
    assert CURRENT_VERSION == 2
    assert "secret professionnel" in text
    assert "consentement" in text
    assert ENGLISH.search(text) is None, ENGLISH.search(text)
    # Version 1 is what earlier beneficiaries acknowledged: it is kept as they read it.
    assert NOTICES[1].startswith("Your bilan de compétences")


def test_every_instrument_is_named_in_french() -> None:
    names = sorted(i.name for i in CATALOGUE.values())
    assert names == [
        "Inventaire d'intérêts professionnels (RIASEC)",
        "Inventaire de personnalité (psychométrique)",
        "Questionnaire de valeurs professionnelles",
        "Test d'aptitudes au raisonnement (psychométrique)",
    ]
    for name in names:
        assert FRENCH.search(name), name
