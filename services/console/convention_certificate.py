"""The "Certificat de signature électronique" appended to a convention signed online: the
evidence the console stored at signing (`convention_signatures`) on one last page — who
signed (by name, as signed in), when (Paris and UTC), the SHA-256 of the exact PDF they were
shown and signed, the session's reference hash, the method."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet  # type: ignore[import-untyped]
from reportlab.lib.units import cm  # type: ignore[import-untyped]
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer  # type: ignore[import-untyped]

from services.console.i18n import _, when


@dataclass(frozen=True, slots=True)
class SignatureEvidence:
    convention_id: str
    signer_name: str
    subject: str
    signed_at: datetime
    document_sha256: str
    session_ref: bytes


def certificate_page(evidence: SignatureEvidence) -> bytes:
    """The certificate alone, as a one-page PDF (the same evidence gives the same bytes)."""
    styles = getSampleStyleSheet()
    # Courier 8.5 pt keeps a 64-digit hash on one line, so that it reads and copies whole.
    digest = ParagraphStyle("digest", parent=styles["Code"], fontSize=8.5, leading=11)
    utc = evidence.signed_at.astimezone(UTC)

    def line(label: str, value: str) -> Paragraph:
        return Paragraph(f"<b>{escape(label)}</b> {escape(value)}", styles["Normal"])

    story = [
        Paragraph(escape(_("Electronic signature certificate")), styles["Title"]),
        Paragraph(
            escape(
                _(
                    "This page certifies the simple electronic signature of the convention "
                    "above, given online in the Bilan console. It was added after signing."
                )
            ),
            styles["Normal"],
        ),
        Spacer(1, 0.5 * cm),
        line(_("Document:"), _("Convention for a bilan de compétences")),
        line(_("Reference:"), evidence.convention_id),
        line(_("Signed by:"), _("{name}, the beneficiary").format(name=evidence.signer_name)),
        line(
            _("Identity:"),
            _("as signed in to the console (person {subject})").format(subject=evidence.subject),
        ),
        line(_("Signed on (Paris time):"), when(evidence.signed_at)),
        line(_("Signed on (UTC):"), utc.strftime("%Y-%m-%d %H:%M:%S UTC")),
        line(_("Method:"), _("électronique (simple electronic signature, online)")),
        Spacer(1, 0.3 * cm),
        line(_("SHA-256 of the PDF document signed:"), ""),
        Paragraph(escape(evidence.document_sha256), digest),
        line(_("Session reference (SHA-256):"), ""),
        Paragraph(escape(evidence.session_ref.hex()), digest),
        Spacer(1, 0.5 * cm),
        Paragraph(
            escape(
                _(
                    "The fingerprint is that of the document exactly as it was shown to the "
                    "signer and signed, before the signatures were written on it; the pages "
                    "above show the convention as it stands now."
                )
            ),
            styles["Italic"],
        ),
    ]
    out = io.BytesIO()
    SimpleDocTemplate(
        out,
        pagesize=A4,
        title=_("Electronic signature certificate"),
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        invariant=True,
    ).build(story)
    return out.getvalue()


def with_certificate(document: bytes, evidence: SignatureEvidence) -> bytes:
    """The convention's document with the certificate as its last page."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(document)))
    writer.append(PdfReader(io.BytesIO(certificate_page(evidence))))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
