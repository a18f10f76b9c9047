"""The readable export lists every kind of working document (a training need has no result,
a test result no description) without failing."""

from __future__ import annotations

from services.console.pages import environment

EXPORT = {
    "exported_at": "2026-12-02T15:00:00Z",
    "identity": {"name": "Camille Martin", "email": "camille@example.org", "phone": None},
    "dossiers": [
        {
            "opened_at": "2026-09-28T09:00:00Z",
            "status": "open",
            "content": {
                "needs_analysis": "Souhaite se reconvertir",
                "field_inquiry_notes": ["Rencontre avec une formatrice"],
                "training_needs": [
                    {"kind": "training", "certification_code": None, "description": "CAP"}
                ],
                "assessments": [{"assessment_id": "a1", "result": "Profil S-A"}],
            },
            "synthesis": [],
            "history": [{"recorded_at": "2026-09-28T09:00:00Z", "type": "DossierOpened"}],
        }
    ],
}


def test_every_kind_of_working_document_is_listed() -> None:
    html = (
        environment()
        .get_template("export.html")
        .render(
            request_path="/mes-donnees/export",
            session=None,
            csrf_token="x" * 32,
            development=False,
            export=EXPORT,
            names={},
        )
    )
    for shown in ("Souhaite se reconvertir", "Rencontre avec une formatrice", "CAP", "Profil S-A"):
        assert shown in html, shown
    assert "Dossier ouvert" in html, "the history in words"
