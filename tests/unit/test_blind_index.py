"""The e-mail blind index: one value per address however typed, keyed, and not the address."""

from __future__ import annotations

from shared.blind_index import email_index, normalise_email

KEY = b"k" * 32


def test_spelling_variants_give_one_index() -> None:
    assert email_index(KEY, " Élodie.Martin@Exemple.FR ") == email_index(
        KEY, "élodie.martin@exemple.fr"
    )
    # The decomposed é (e + combining accent) is the same address once normalised.
    assert normalise_email("E\u0301lodie@x.fr") == "élodie@x.fr"


def test_the_index_depends_on_the_key_and_hides_the_address() -> None:
    index = email_index(KEY, "camille@example.org")
    assert len(index) == 64
    assert "camille" not in index
    assert index != email_index(b"x" * 32, "camille@example.org")
    assert index != email_index(KEY, "camille@example.com")
