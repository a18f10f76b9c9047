"""The delivered synthesis as a PDF, made for the beneficiary from the text they may read."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import getSampleStyleSheet  # type: ignore[import-untyped]
from reportlab.lib.units import cm  # type: ignore[import-untyped]
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer  # type: ignore[import-untyped]

from services.console.i18n import _, day


def synthesis_pdf(content: str, version: int, delivered_at: str | None) -> bytes:
    styles = getSampleStyleSheet()
    story = [
        Paragraph(escape(_("Synthesis of your bilan de compétences")), styles["Title"]),
        Paragraph(
            escape(_("Version {n}").format(n=version))
            + (" · " + escape(day(delivered_at)) if delivered_at else ""),
            styles["Normal"],
        ),
        Spacer(1, 0.6 * cm),
    ]
    for paragraph in content.split("\n\n"):
        story.append(Paragraph(escape(paragraph).replace("\n", "<br/>"), styles["BodyText"]))
        story.append(Spacer(1, 0.3 * cm))
    story.append(Spacer(1, 0.6 * cm))
    story.append(
        Paragraph(
            escape(
                _(
                    "This document is yours alone: it is given to anyone else only with your "
                    "agreement (Code du travail L6313-4)."
                )
            ),
            styles["Italic"],
        )
    )
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=_("Synthesis of your bilan de compétences"),
        leftMargin=2 * cm,
        rightMargin=2 * cm,
    )
    document.build(story)
    return out.getvalue()
