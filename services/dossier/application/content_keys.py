"""Which key seals which content (crypto-shredding, domain.md §4).

- identity and contact: the beneficiary's key (subject = beneficiary id), shredded on erasure;
- working documents (needs analysis, results, notes): `<dossier id>:work`;
- the synthesis: `<dossier id>:synthesis`.

The synthesis has a key of its own because R6313-7 lets it outlive the working documents (a
retention agreement may cover it alone, e.g. when it went to a CEP operator): each document
class is destroyed by shredding its own key, without touching the other.
"""

from __future__ import annotations

from services.dossier.domain.dossier import DOCUMENT_CLASSES

WORKING_DOCUMENTS = "working_documents"
SYNTHESIS = "synthesis"


def class_key(dossier_id: str, document_class: str) -> str:
    """The key subject of one document class of a dossier."""
    assert document_class in DOCUMENT_CLASSES
    suffix = "work" if document_class == WORKING_DOCUMENTS else "synthesis"
    return f"{dossier_id}:{suffix}"


def work_key(dossier_id: str) -> str:
    return class_key(dossier_id, WORKING_DOCUMENTS)


def synthesis_key(dossier_id: str) -> str:
    return class_key(dossier_id, SYNTHESIS)
