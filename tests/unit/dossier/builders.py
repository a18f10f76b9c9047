"""A dossier walked through its journey, one pure step at a time, for the domain tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.dossier.domain import dossier as d
from services.dossier.domain.catalogue import CATALOGUE
from services.dossier.domain.events import DomainEvent
from services.dossier.domain.staff import StaffFacts

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SITE = "site-1"
DOSSIER = "dossier-1"
CONSULTANT = StaffFacts("c-1", frozenset({"consultant"}), frozenset({SITE}), True)
PSYCHOLOGIST = StaffFacts(
    "p-1", frozenset({"psychologist"}), frozenset({SITE}), True, frozenset({"psychometric_tests"})
)
MENTIONS = {m: f"{m} text" for m in d.MANDATORY_MENTIONS}
PSYCHOMETRIC = next(i for i in CATALOGUE.values() if i.required_habilitation)
INTERESTS = next(i for i in CATALOGUE.values() if i.required_habilitation is None)


class Journey:
    """Applies commands like the application does: decide, then evolve with what came out."""

    def __init__(self) -> None:
        self.state: d.Dossier | None = None
        self.now = T0
        self.history: list[DomainEvent] = []

    def run(
        self, command: d.Command, *, after: timedelta = timedelta(hours=1)
    ) -> list[DomainEvent]:
        self.now += after
        events = d.decide(self.state, command, self.now)
        for event in events:
            self.state = d.evolve(self.state, event)
        self.history.extend(events)
        return events

    @property
    def s(self) -> d.Dossier:
        assert self.state is not None
        return self.state

    def opened(self, kind: str = "tripartite") -> Journey:
        self.run(d.OpenDossier(DOSSIER, "ben-1", SITE, "employer_plan", T0))
        self.run(d.AcknowledgeDeontology(1, frozenset({1}), self.now))
        self.run(d.RecordNeedsAnalysis("enc:v1:x", True, self.now))
        self.run(d.AgreeProgramme(1200, "mixed", self.now))
        self.run(d.DraftConvention("conv-1", kind, MENTIONS, 1200, 180000, self.now))
        return self

    def sent(self, kind: str = "tripartite") -> Journey:
        self.opened(kind)
        self.run(d.SendConvention("conv-1", timedelta(days=10), self.now))
        return self

    def signed(self) -> Journey:
        self.sent()
        for party in ("beneficiary", "employer", "provider"):
            self.run(d.SignConvention("conv-1", party, self.now))
        return self

    def referent(self) -> Journey:
        self.signed()
        self.run(d.AssignReferent(CONSULTANT, "initial", self.now))
        return self

    def investigating(self) -> Journey:
        self.referent()
        self.run(d.StartPhase("preliminary", self.now))
        self.run(d.CompletePhase("preliminary", self.now))
        self.run(d.StartPhase("investigation", self.now))
        return self

    def concluding(self) -> Journey:
        self.investigating()
        self.run(d.CompletePhase("investigation", self.now))
        self.run(d.StartPhase("conclusion", self.now))
        return self

    def completed(self) -> Journey:
        self.concluding()
        self.run(d.HandOverDetailedResults(self.now))
        self.run(d.DraftSynthesis("c-1", "enc:v1:s", self.now))
        self.run(d.DeliverSynthesis("secure_download", self.now))
        self.run(d.CompletePhase("conclusion", self.now))
        self.run(d.CompleteDossier(0, self.now))
        return self
