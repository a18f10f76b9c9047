"""Keyed blind indexes of e-mail addresses: find a person by address without storing it.

The console turns the address typed on its sign-in page into `email_index(key, address)` and
asks the owning service for the person holding that index; the owning service stored the same
HMAC when it learnt the address. Neither a plaintext search nor the address ever leaves the
service that holds it sealed, and without the key the index says nothing about the address.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata


def normalise_email(address: str) -> str:
    """One spelling per address: Unicode NFC, no surrounding spaces, lower case."""
    return unicodedata.normalize("NFC", address).strip().lower()


def email_index(key: bytes, address: str) -> str:
    """HMAC-SHA-256 of the normalised address, in hex (64 characters)."""
    return hmac.new(key, normalise_email(address).encode(), hashlib.sha256).hexdigest()
