"""The convention as a PDF document (reportlab), with the mentions R6313-8 requires."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from babel.numbers import format_currency
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
PARIS = ZoneInfo("Europe/Paris")
METHODS = {
    "electronic": "signature électronique simple, en ligne",
    "handwritten": "signature manuscrite, document signé numérisé",
    "platform": "acceptée sur la plateforme Mon Compte Formation",
}
PARTY_NAMES = {
    "beneficiary": "Le bénéficiaire",
    "provider": "Le prestataire",
    "employer": "L'employeur",
    "funder": "Le financeur",
}


@dataclass(frozen=True, slots=True)
class Provider:
    """The organisation that delivers the bilan, as a convention must name it (settings)."""

    legal_name: str
    address: str
    siret: str
    nda: str
    """Numéro de déclaration d'activité (L6351-1): 11 digits."""


DEVELOPMENT_PROVIDER = Provider(
    legal_name="Centre de bilans (développement : nom légal à configurer)",
    address="adresse à configurer",
    siret="00000000000000",
    nda="00000000000",
)


def euros(cents: int) -> str:
    """ "1 800,00 € TTC" as French writes it. The PDF's standard fonts have no narrow no-break
    space (U+202F), which Babel puts between thousands: a no-break space stands in for it."""
    text = format_currency(Decimal(cents) / 100, "EUR", locale="fr_FR")
    return text.replace("\u202f", "\u00a0") + "\u00a0TTC"


def paris_time(moment: datetime) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


def _siret(siret: str) -> str:
    return f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"


def signature_line(convention: Convention, party: str) -> str:
    """ "Le bénéficiaire : signé le 02/03/2026 à 10:15 (heure de Paris), signature électronique
    simple, en ligne" — who, when, and how, for each party the convention needs."""
    signed = convention.signatures.get(party)
    if signed is None:
        return f"{PARTY_NAMES[party]} : non signé"
    line = f"{PARTY_NAMES[party]} : signé le {paris_time(signed)} (heure de Paris)"
    method = convention.signature_methods.get(party)
    return f"{line}, {METHODS[method]}" if method in METHODS else line


def render(convention: Convention, beneficiary_name: str, provider: Provider) -> bytes:
    """The convention's document; the name is the only personal datum, read at render time."""
    styles = getSampleStyleSheet()
    story = [
        Paragraph("Convention de bilan de compétences", styles["Title"]),
        Paragraph("Entre le prestataire", styles["Heading3"]),
        Paragraph(f"<b>{escape(provider.legal_name)}</b>", styles["Normal"]),
        Paragraph(escape(provider.address), styles["Normal"]),
        Paragraph(f"SIRET {_siret(provider.siret)}", styles["Normal"]),
        Paragraph(
            f"Déclaration d'activité enregistrée sous le numéro {provider.nda} auprès du préfet "
            "de région. Cet enregistrement ne vaut pas agrément de l'État.",
            styles["Normal"],
        ),
        Paragraph("Et le bénéficiaire", styles["Heading3"]),
        Paragraph(escape(beneficiary_name), styles["Normal"]),
        Paragraph(f"Référence : {convention.convention_id}", styles["Normal"]),
        Spacer(1, 12),
    ]
    for mention, heading in HEADINGS.items():
        story.append(Paragraph(heading, styles["Heading3"]))
        story.append(Paragraph(escape(convention.mentions.get(mention, "")), styles["Normal"]))
    hours, minutes = divmod(convention.duration_minutes, 60)
    story += [
        Paragraph("Durée", styles["Heading3"]),
        Paragraph(f"{hours} h {minutes:02d} (au plus 24 heures, L6313-4)", styles["Normal"]),
        Paragraph("Prix", styles["Heading3"]),
        Paragraph(euros(convention.price_cents), styles["Normal"]),
        Paragraph("Signatures", styles["Heading3"]),
    ]
    for party in convention.required_parties:
        story.append(Paragraph(escape(signature_line(convention, party)), styles["Normal"]))
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
