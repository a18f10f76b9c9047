"""How a session's place reads in the beneficiary's space and in reminders."""

from __future__ import annotations

import pytest

from services.scheduling.adapters.read_models import place_label


@pytest.mark.parametrize(
    ("room", "address", "expected"),
    [
        ("B12", None, "Lyon Part-Dieu, salle B12"),
        ("Salle Bellecour", None, "Lyon Part-Dieu, Salle Bellecour"),
        ("salle 3", None, "Lyon Part-Dieu, salle 3"),
        ("Salon", None, "Lyon Part-Dieu, salle Salon"),
        (
            "B12",
            "20 rue de la Villette, 69003 Lyon",
            "Lyon Part-Dieu, salle B12 — 20 rue de la Villette, 69003 Lyon",
        ),
    ],
)
def test_a_place_names_the_site_the_room_once_and_the_address(
    room: str, address: str | None, expected: str
) -> None:
    assert place_label("Lyon Part-Dieu", room, address) == expected
