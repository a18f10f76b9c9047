"""The versioned deontology notice given to every beneficiary before the bilan (L6313-4)."""

from __future__ import annotations

NOTICES: dict[int, str] = {
    1: (
        "Your bilan de compétences needs your consent; refusing one is neither misconduct nor a "
        "ground for dismissal. What you tell us is covered by professional secrecy: the detailed "
        "results and the synthesis are yours alone and are given to anyone else only with your "
        "agreement. Your consultant stays neutral and asks only what has a direct and necessary "
        "link with the bilan. The documents drawn up for the bilan are destroyed when it ends, "
        "unless you agree in writing to keep some for the follow-up, for one year at most."
    ),
}
CURRENT_VERSION = max(NOTICES)
