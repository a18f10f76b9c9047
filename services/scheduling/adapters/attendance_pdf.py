"""The attendance sheet (feuille d'émargement) of a dossier as a PDF: the evidence of
service funders ask for. It lists held sessions with both signatures, and names nobody."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import getSampleStyleSheet  # type: ignore[import-untyped]
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle  # type: ignore[import-untyped]

PHASES = {
    "information": "Information",
    "preliminary": "Préliminaire",
    "investigation": "Investigation",
    "conclusion": "Conclusions",
    "follow_up": "Suivi",
}
MODALITIES = {"in_person": "Présentiel", "remote": "À distance"}


def render_attendance_sheet(
    dossier_id: UUID, rows: Sequence[Any], *, timezone: str, generated_at: datetime
) -> bytes:
    """A PDF with one line per held session: date, time, duration, phase, both signatures."""
    zone = ZoneInfo(timezone)

    def local(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%d/%m/%Y %H:%M") if moment else "non signé"

    styles = getSampleStyleSheet()
    held = [r for r in rows if r["status"] == "held"]
    table_rows = [["Séance", "Début", "Durée", "Phase", "Modalité", "Bénéficiaire", "Consultant"]]
    total = 0
    for row in held:
        total += row["held_minutes"]
        table_rows.append(
            [
                str(row["session_id"])[:8],
                local(row["held_started_at"]),
                f"{row['held_minutes']} min",
                PHASES.get(row["phase"], row["phase"]),
                MODALITIES.get(row["modality"], row["modality"]),
                local(row["beneficiary_signed_at"]),
                local(row["consultant_signed_at"]),
            ]
        )
    table = Table(table_rows, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
            ]
        )
    )
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, title="Feuille d'émargement")
    document.build(
        [
            Paragraph("Feuille d'émargement", styles["Title"]),
            Paragraph(f"Dossier {dossier_id}", styles["Normal"]),
            Paragraph(
                f"Séances réalisées : {len(held)} — durée totale : {total} minutes",
                styles["Normal"],
            ),
            Paragraph(f"Édité le {local(generated_at)}", styles["Normal"]),
            Spacer(1, 12),
            table,
        ]
    )
    return buffer.getvalue()
