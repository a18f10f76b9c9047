"""The convention as a PDF document (reportlab), with the mentions R6313-8 requires."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import getSampleStyleSheet  # type: ignore[import-untyped]
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer  # type: ignore[import-untyped]

from services.dossier.domain.dossier import Convention

HEADINGS: dict[str, str] = {
    "title": "Intitulé",
    "objective": "Objectif",
    "content": "Contenu",
    "means": "Moyens prévus",
    "period": "Période de réalisation",
    "running_terms": "Modalités de déroulement",
    "follow_up_terms": "Modalités de suivi",
    "handover_terms": "Modalités de remise des résultats détaillés et du document de synthèse",
    "payment_terms": "Modalités de règlement",
}
PARTY_NAMES = {
    "beneficiary": "Le bénéficiaire",
    "provider": "Le prestataire",
    "employer": "L'employeur",
    "funder": "Le financeur",
}


def render(convention: Convention, beneficiary_name: str) -> bytes:
    """The convention's document; the name is the only personal datum, read at render time."""
    styles = getSampleStyleSheet()
    story = [
        Paragraph("Convention de bilan de compétences", styles["Title"]),
        Paragraph(f"Bénéficiaire : {escape(beneficiary_name)}", styles["Normal"]),
        Paragraph(f"Référence : {convention.convention_id}", styles["Normal"]),
        Spacer(1, 12),
    ]
    for mention, heading in HEADINGS.items():
        story.append(Paragraph(heading, styles["Heading3"]))
        story.append(Paragraph(escape(convention.mentions.get(mention, "")), styles["Normal"]))
    hours, minutes = divmod(convention.duration_minutes, 60)
    euros, cents = divmod(convention.price_cents, 100)
    story += [
        Paragraph("Durée", styles["Heading3"]),
        Paragraph(f"{hours} h {minutes:02d} (au plus 24 heures, L6313-4)", styles["Normal"]),
        Paragraph("Prix", styles["Heading3"]),
        Paragraph(f"{euros} € {cents:02d} TTC", styles["Normal"]),
        Paragraph("Signataires", styles["Heading3"]),
    ]
    for party in convention.required_parties:
        signed = convention.signatures.get(party)
        status = f"signé le {signed:%d/%m/%Y}" if signed else "non signé"
        story.append(Paragraph(f"{PARTY_NAMES[party]} : {status}", styles["Normal"]))
    if convention.acceptance_deadline is not None:
        story.append(
            Paragraph(
                f"À défaut de signature au {convention.acceptance_deadline:%d/%m/%Y}, la "
                "convention est réputée refusée (R6313-8).",
                styles["Normal"],
            )
        )
    buffer = io.BytesIO()
    # invariant: the same convention gives the same bytes (no creation date or random id), so
    # the SHA-256 of the PDF a beneficiary signs online identifies that document for good.
    SimpleDocTemplate(
        buffer, pagesize=A4, title="Convention de bilan de compétences", invariant=True
    ).build(story)
    return buffer.getvalue()
