"""The synthesis and who may receive it (L6313-4): the beneficiary first, anyone else only
under a consent they may revoke at any time."""

from __future__ import annotations

from services.dossier.domain.dossier.commands import (
    DiscloseSynthesis,
    GiveDisclosureConsent,
    RevokeDisclosureConsent,
)
from services.dossier.domain.dossier.events import (
    SynthesisDisclosed,
    ThirdPartyDisclosureConsentGiven,
    ThirdPartyDisclosureConsentRevoked,
)
from services.dossier.domain.dossier.state import Dossier
from services.dossier.domain.errors import FORBIDDEN, INVALID, refuse
from services.dossier.domain.events import DomainEvent


def consent(
    state: Dossier, command: GiveDisclosureConsent | RevokeDisclosureConsent | DiscloseSynthesis
) -> list[DomainEvent]:
    if "synthesis" in state.destroyed:
        raise refuse("documents_destroyed", "there is nothing left to disclose")
    if isinstance(command, DiscloseSynthesis):
        # L6313-4: results and synthesis go to anyone but the beneficiary only with their
        # agreement, which they may withdraw at any time.
        if command.recipient not in state.consents:
            raise refuse(
                "no_disclosure_consent",
                "the beneficiary has not agreed to disclosure to this recipient",
                kind=FORBIDDEN,
            )
        if state.synthesis_delivered is None:
            raise refuse("no_synthesis_delivered", "the beneficiary receives the synthesis first")
        return [
            SynthesisDisclosed(
                command.recipient,
                state.synthesis_delivered.synthesis_version,
                command.disclosed_at,
            )
        ]
    if isinstance(command, GiveDisclosureConsent):
        if command.recipient in state.consents:
            raise refuse("consent_already_given", "consent for this recipient is in force")
        if command.method == "handwritten" and command.document_id is None:
            raise refuse(
                "written_consent_required", "a written consent needs its scan", kind=INVALID
            )
        return [
            ThirdPartyDisclosureConsentGiven(
                command.recipient, command.given_at, command.method, command.document_id
            )
        ]
    if command.recipient not in state.consents:
        raise refuse("no_consent", "there is no consent in force for this recipient")
    return [ThirdPartyDisclosureConsentRevoked(command.recipient, command.revoked_at)]
