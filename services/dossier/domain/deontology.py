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
    # The beneficiary reads French: version 2 says the same as version 1 (kept: it is what the
    # beneficiaries who acknowledged it read), in French.
    2: (
        "Votre bilan de compétences ne peut être réalisé qu'avec votre consentement ; le "
        "refuser ne constitue ni une faute ni un motif de licenciement. Ce que vous nous confiez "
        "est couvert par le secret professionnel : les résultats détaillés et la synthèse vous "
        "appartiennent et ne sont communiqués à quiconque qu'avec votre accord. Votre "
        "consultant reste neutre et ne vous demande que ce qui présente un lien direct et "
        "nécessaire avec le bilan. Les documents élaborés pour le bilan sont détruits à son "
        "terme, sauf si vous demandez par écrit d'en conserver certains pour le suivi, pendant "
        "un an au plus."
    ),
}
CURRENT_VERSION = max(NOTICES)
