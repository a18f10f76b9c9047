"""`bilan demo`: a realistic organisation on a running system, through its public HTTP APIs.

Three sites with confidential rooms, their team (managers, consultants, psychologists, a
quality lead and a disability referent, with qualifications, training and evaluations), and
dossiers opened month after month over a year, each taken to a stage of its own: enquiry,
convention out for signature, signed, in one of the three phases, completed (sessions held and
signed, tests, field inquiries, synthesis, surveys answered through the links in the mail
sink, a follow-up at six months) or abandoned; complaints and improvement actions.

Time: people's commands carry the business time of the fact (a session held last Tuesday);
what the system does later (reminders, convention deadlines, document destruction, six-month
surveys) happens because the demo moves the services' development clocks forward, month by
month. At the end the system's clock stands a year after where it started, and everything the
demo did lies in the past year of that clock.

Each run adds a new batch (new sites, staff and dossiers); nothing is ever overwritten.
"""

from __future__ import annotations

import base64
import json
import random
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

import click

from deploy.client import (
    BilanClient,
    Headers,
    Mailbox,
    bearer,
    survey_token,
    wait_until,
)
from deploy.local.paths import DATA_DIR
from deploy.processes import CONSOLE_URL

MONTH: Final = timedelta(days=30)
SCANNED_SIGNATURE: Final = {
    "media_type": "application/pdf",
    "content_base64": base64.b64encode(b"%PDF-1.4\n% a signed convention page\n").decode(),
}
"""What staff attach to a party's handwritten signature (the demo's stand-in for a scan)."""
MONTHS: Final = 12
SLOT_HOURS: Final = (8, 10, 13, 15)  # UTC: 9:00, 11:00, 14:00, 16:00 in Paris in winter
STAGES: Final = (
    "enquiry",
    "convention_sent",
    "signed",
    "preliminary",
    "investigation",
    "conclusion",
    "completed",
)
OLD_COHORT_PATTERN: Final = (
    "completed",
    "abandoned",
    "completed",
    "convention_sent",
    "completed",
    "completed",
    "abandoned",
    "completed",
    "completed",
    "completed",
)
"""Targets of dossiers opened more than two months before the end: mostly finished."""
RECENT_PATTERN: Final = (
    "enquiry",
    "signed",
    "preliminary",
    "investigation",
    "conclusion",
    "completed",
    "abandoned",
    "convention_sent",
)
ROUTES: Final = (
    ("cpf", "cpf"),
    ("employer_plan", "tripartite"),
    ("opco", "tripartite"),
    ("france_travail", "tripartite"),
    ("self_funded", "individual_contract"),
    ("conge_reclassement", "tripartite"),
    ("public_employer", "public_model"),
)
SITES: Final = (
    (
        "Lyon Part-Dieu",
        "auvergne_rhone_alpes",
        "20 rue de la Villette, 69003 Lyon",
        ("Salle Bellecour", "Salle Fourvière"),
    ),
    (
        "Nantes Île de Nantes",
        "pays_de_la_loire",
        "8 quai François Mitterrand, 44200 Nantes",
        ("Salle Erdre", "Salle Loire"),
    ),
    (
        "Lille Euralille",
        "hauts_de_france",
        "3 avenue Le Corbusier, 59000 Lille",
        ("Salle Vauban", "Salle Wazemmes"),
    ),
)
FIRST_NAMES: Final = (
    "Camille", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Julie", "Emma", "Louise", "Clara",
    "Lucas", "Hugo", "Thomas", "Nathan", "Julien", "Mehdi", "Antoine", "Karim", "Maxime", "Paul",
)  # fmt: skip
LAST_NAMES: Final = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "Andre", "Mercier", "Blanc", "Guerin", "Boyer",
)  # fmt: skip
PROJECTS: Final = (
    "professeur des écoles",
    "boulanger",
    "conseiller en insertion",
    "développeur web",
    "infirmier",
    "créateur d'entreprise de paysagisme",
    "responsable qualité",
    "éducateur spécialisé",
)
MENTIONS: Final = {
    "title": "Bilan de compétences",
    "objective": "Analyser ses compétences et construire un projet professionnel",
    "content": "Phase préliminaire, phase d'investigation, phase de conclusion (R6313-4)",
    "means": "Entretiens individuels, tests, enquêtes métier, documentation",
    "period": "Trois mois environ",
    "running_terms": "Entretiens de deux heures, en présentiel ou à distance",
    "follow_up_terms": "Entretien de suivi six mois après la fin",
    "handover_terms": "Résultats détaillés et synthèse remis au seul bénéficiaire",
    "payment_terms": "Selon le financeur",
}
# Another service's facts (staff, conventions, referents) reach a service over Kafka: a
# command depending on them is refused with one of these until they have arrived.
NOT_YET: Final = (
    "referent_not_eligible",
    "habilitation_required",
    "convention_not_signed",
    "no_referent",
    "consultant_unknown",
    "not_the_referent",
    "not_qualified",
    "habilitation_missing",
)


@dataclass
class Site:
    site_id: str
    name: str
    rooms: list[str]
    manager: str
    consultants: list[str]
    psychologist: str


@dataclass
class Dossier:
    """One beneficiary's bilan in the demo and where it is meant to end."""

    index: int
    month: int
    target: str
    site: Site
    consultant: str
    funding_route: str
    kind: str
    name: str
    email: str
    dossier_id: str = ""
    beneficiary_id: str = ""
    sessions: list[tuple[str, str, str]] = field(default_factory=list)
    """(phase, session id, leader) in the order held."""
    reached: str = "enquiry"
    completed_at: datetime | None = None
    six_month_answered: bool = False
    follow_up: str | None = None


@dataclass
class DemoResult:
    """What the demo made, by id (no personal data), as written to `.data/demo/`."""

    site_ids: list[str] = field(default_factory=list)
    staff: dict[str, list[str]] = field(default_factory=dict)
    dossiers: dict[str, str] = field(default_factory=dict)
    """dossier id → stage reached."""
    beneficiaries: dict[str, str] = field(default_factory=dict)
    """dossier id → beneficiary id (the console's development sign-in links)."""
    surveys_answered: int = 0
    follow_ups_held: int = 0
    reminded_dossier: str = ""
    """The dossier whose follow-up reminder the demo ends on."""
    complaints: list[str] = field(default_factory=list)
    improvement_actions: list[str] = field(default_factory=list)
    clock_started_at: str = ""
    clock_ended_at: str = ""


class Demo:
    """Builds the organisation, then lives through twelve months of it."""

    def __init__(
        self, api: BilanClient, dossiers: int, seed: int, echo: Callable[[str], None]
    ) -> None:
        self.api = api
        self.count = dossiers
        self.rng = random.Random(seed)
        self.echo = echo
        self.mail = Mailbox()
        self.batch = uuid.uuid4().hex[:6]
        self.result = DemoResult()
        self.sites: list[Site] = []
        self.quality_lead = str(uuid.uuid4())
        self.disability_referent = str(uuid.uuid4())
        self.dossiers: list[Dossier] = []
        self._slot = 0
        self._slot_base = datetime.min
        self._held_follow_ups: set[str] = set()
        self._action_headers: dict[str, Headers] = {}

    # -- who acts ---------------------------------------------------------------------------

    def staff_token(self, role: str, site: Site, subject: str) -> Headers:
        return bearer([role], [site.site_id], subject)

    def manager(self, site: Site) -> Headers:
        return self.staff_token("site_manager", site, site.manager)

    def consultant(self, d: Dossier) -> Headers:
        return self.staff_token("consultant", d.site, d.consultant)

    def beneficiary(self, d: Dossier) -> Headers:
        return bearer(["beneficiary"], [d.site.site_id], d.beneficiary_id)

    def quality(self) -> Headers:
        return bearer(["quality_lead"], [s.site_id for s in self.sites], self.quality_lead)

    # -- the organisation -----------------------------------------------------------------

    def organisation(self) -> None:
        api = self.api
        now = api.now()
        existing = {s["name"] for s in api.get("scheduling", "/sites", api.admin)}
        for name, region, address, rooms in SITES:
            label = name if name not in existing else f"{name} ({self.batch})"
            site_id = str(
                api.call(
                    "scheduling",
                    "POST",
                    "/sites",
                    api.admin,
                    {"name": label, "region": region, "address": address},
                ).json()["site_id"]
            )
            room_ids = []
            for room, confidential in [(r, True) for r in rooms] + [("Salle d'attente", False)]:
                created = api.call(
                    "scheduling",
                    "POST",
                    f"/sites/{site_id}/rooms",
                    api.admin,
                    {"name": room, "confidential": confidential},
                ).json()
                if confidential:
                    room_ids.append(str(created["room_id"]))
            manager = self._onboard(["site_manager"], [site_id], "employee", now)
            consultants = [
                self._onboard(["consultant"], [site_id], contract, now)
                for contract in ("employee", "subcontractor")
            ]
            psychologist = self._onboard(["psychologist"], [site_id], "employee", now)
            self.sites.append(Site(site_id, label, room_ids, manager, consultants, psychologist))
            self.result.site_ids.append(site_id)
        all_sites = [s.site_id for s in self.sites]
        self.quality_lead = self._onboard(["quality_lead"], all_sites, "employee", now)
        self.disability_referent = self._onboard(
            ["consultant", "disability_referent"], all_sites, "employee", now
        )
        for site in self.sites:
            for consultant in site.consultants:
                self._record(consultant, "qualifications", {
                    "qualification": self.rng.choice(
                        ["master_psychologie_travail", "master_rh", "titre_conseiller_bilan"]
                    ),
                    "habilitations": [],
                    "recorded_at": _iso(now - timedelta(days=self.rng.randint(400, 4000))),
                })  # fmt: skip
            self._record(site.psychologist, "qualifications", {
                "qualification": "master_psychologie",
                "habilitations": ["psychometric_tests"],
                "psychologist_registration": {
                    "registry": "rpps", "number": f"1000{self.rng.randrange(10**7):07d}"
                },
                "recorded_at": _iso(now - timedelta(days=self.rng.randint(400, 4000))),
            })  # fmt: skip
        self._record(self.disability_referent, "qualifications", {
            "qualification": "referent_handicap",
            "habilitations": [],
            "recorded_at": _iso(now - timedelta(days=300)),
        })  # fmt: skip
        self.echo(
            f"organisation: {len(self.sites)} sites, "
            f"{sum(len(v) for v in self.result.staff.values())} staff"
        )

    def _onboard(self, roles: list[str], sites: list[str], contract: str, now: datetime) -> str:
        staff_id = str(uuid.uuid4())
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        # A work address (sign-in by e-mailed link, a beneficiary's requests): unique per
        # person, since one address signs in one person.
        email = _ascii(f"{first}.{last}.{staff_id[:6]}@centre.demo.example".lower())
        self.api.call(
            "scheduling",
            "POST",
            "/staff",
            self.api.admin,
            {
                "staff_id": staff_id,
                "name": f"{first} {last}",
                "email": email.replace(" ", "-"),
                "roles": roles,
                "site_ids": sites,
                "contract": contract,
            },
        )
        self.result.staff.setdefault(roles[-1], []).append(staff_id)
        return staff_id

    def _record(self, staff_id: str, what: str, body: dict[str, Any]) -> None:
        current = self.api.call("scheduling", "GET", f"/staff/{staff_id}", self.api.admin)
        self.api.call(
            "scheduling",
            "POST",
            f"/staff/{staff_id}/{what}",
            self.api.admin,
            body,
            version=int(current.headers["etag"].strip('"')),
        )

    def team_life(self, month: int) -> None:
        """Continuous training and yearly evaluations, spread over the months (ind. 21, 22)."""
        now = self.api.now()
        everyone = [sid for ids in self.result.staff.values() for sid in ids]
        for n, staff_id in enumerate(everyone):
            if n % 4 == month % 4:
                self._record(staff_id, "trainings", {
                    "title_code": self.rng.choice(
                        ["deontologie_bilan", "entretien_explicitation", "handicap_accueil",
                         "rgpd_sensibilisation", "outils_numeriques"]
                    ),
                    "hours": self.rng.choice([3.5, 7, 14]),
                    "completed_at": _iso(now - timedelta(days=self.rng.randint(1, 25))),
                })  # fmt: skip
            if n % 12 == month:
                self._record(staff_id, "evaluations", {
                    "outcome": self.rng.choice(["meets", "meets", "meets", "partially_meets"]),
                    "evaluated_at": _iso(now - timedelta(days=self.rng.randint(1, 25))),
                })  # fmt: skip

    # -- the dossiers -------------------------------------------------------------------------

    def plan(self) -> None:
        for i in range(self.count):
            month = i * MONTHS // self.count
            pattern = OLD_COHORT_PATTERN if month < MONTHS - 2 else RECENT_PATTERN
            site = self.sites[i % len(self.sites)]
            route, kind = ROUTES[i % len(ROUTES)]
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
            self.dossiers.append(
                Dossier(
                    index=i,
                    month=month,
                    target=pattern[i % len(pattern)],
                    site=site,
                    consultant=site.consultants[i % 2] if i % 9 else self.disability_referent,
                    funding_route=route,
                    kind=kind,
                    name=f"{first} {last}",
                    email=_ascii(f"{first}.{last}.{self.batch}{i}@demo.example".lower()),
                )
            )

    def open(self, d: Dossier) -> None:
        api = self.api
        now = api.now()
        response = api.call(
            "dossier",
            "POST",
            "/dossiers",
            self.manager(d.site),
            {
                "site_id": d.site.site_id,
                "funding_route": d.funding_route,
                "enquiry_received_at": _iso(now - timedelta(days=self.rng.randint(2, 12))),
                "name": d.name,
                "email": d.email,
                "phone": f"+33 6 {self.rng.randint(10, 99)} {self.rng.randint(10, 99)} "
                f"{self.rng.randint(10, 99)} {self.rng.randint(10, 99)}",
            },
        )
        d.dossier_id = str(response.json()["id"])
        d.beneficiary_id = response.headers["x-beneficiary-id"]
        self._reached(d, "enquiry")
        if d.target == "enquiry":
            return
        notice = api.get("dossier", "/deontology-notice", self.beneficiary(d))
        api.on_dossier(
            d.dossier_id,
            "/deontology-acknowledgements",
            self.beneficiary(d),
            {"notice_version": notice["notice_version"]},
        )
        api.on_dossier(
            d.dossier_id,
            "/needs-analysis",
            self.consultant(d),
            {
                "narrative": f"Souhaite se reconvertir vers le métier de "
                f"{self.rng.choice(PROJECTS)} ; fatigue dans le poste actuel.",
                "disability_accommodation_requested": d.index % 8 == 3,
            },
            method="PUT",
        )
        api.on_dossier(
            d.dossier_id,
            "/programme",
            self.consultant(d),
            {"planned_minutes": 1200, "modality": self.rng.choice(["in_person", "mixed"])},
            method="PUT",
        )
        drafted = api.on_dossier(
            d.dossier_id,
            "/conventions",
            self.manager(d.site),
            {"kind": d.kind, **MENTIONS, "duration_minutes": 1200, "price_cents": 180000},
        )
        convention = drafted.headers["location"].rsplit("/", 1)[1]
        api.on_dossier(d.dossier_id, f"/conventions/{convention}/sending", self.manager(d.site))
        self._reached(d, "convention_sent")
        if d.target == "convention_sent":
            return  # left unsigned: the deadline passes and it is deemed refused (R6313-8)
        parties = api.dossier(d.dossier_id)["convention"]["required_parties"]
        for party in parties:
            who = self.beneficiary(d) if party == "beneficiary" else self.manager(d.site)
            body: dict[str, Any] = {"party": party}
            if party not in ("beneficiary", "provider"):  # on paper, recorded with its scan
                body["paper_document"] = SCANNED_SIGNATURE
            api.on_dossier(d.dossier_id, f"/conventions/{convention}/signatures", who, body)
        api.retry(
            lambda: api.on_dossier(
                d.dossier_id,
                "/referent",
                self.manager(d.site),
                {"consultant_id": d.consultant, "reason": "initial"},
                method="PUT",
            ),
            "the dossier service to learn the consultants",
            NOT_YET,
        )
        self._reached(d, "signed")

    def _next_slot(self) -> datetime:
        """Distinct two-hour slots on working days: no consultant or room is double booked."""
        while True:
            day, hour = divmod(self._slot, len(SLOT_HOURS))
            self._slot += 1
            moment = (self._slot_base + timedelta(days=day + 1)).replace(
                hour=SLOT_HOURS[hour], minute=0, second=0, microsecond=0
            )
            if moment.weekday() < 5:
                return moment

    def schedule(
        self, d: Dossier, phase: str, *, psychologist: bool = False, at: datetime | None = None
    ) -> None:
        body: dict[str, Any] = {
            "phase": phase,
            "modality": "in_person",
            "room_id": self.rng.choice(d.site.rooms),
            "consultant_id": d.site.psychologist if psychologist else d.consultant,
            "starts_at": _iso(at or self._next_slot()),
            "planned_minutes": 90 if phase == "follow_up" else 120,
        }
        if psychologist:
            body |= {
                "assessment_reason": "habilitation_required",
                "assessment_habilitation": "psychometric_tests",
            }
        who = (
            self.staff_token("psychologist", d.site, d.site.psychologist)
            if psychologist
            else self.consultant(d)
        )
        if self.rng.random() < 0.3 and not psychologist:
            body |= {"modality": "remote"}
            body.pop("room_id")
        created = self.api.retry(
            lambda: self.api.call(
                "scheduling", "POST", f"/dossiers/{d.dossier_id}/sessions", who, body
            ),
            "scheduling to learn the signed convention and the referent",
            NOT_YET,
        )
        leader = str(body["consultant_id"])
        d.sessions.append((phase, str(created.json()["session_id"]), leader))

    def book_month(self, d: Dossier) -> None:
        """The sessions of the phases this dossier goes through this month."""
        goal = "preliminary" if d.target == "abandoned" else d.target
        if goal not in STAGES or STAGES.index(goal) < STAGES.index("preliminary"):
            return
        self.schedule(d, "preliminary")
        if STAGES.index(goal) >= STAGES.index("investigation"):
            self.schedule(d, "investigation")
            self.schedule(d, "investigation", psychologist=True)
            self.schedule(d, "investigation")
        if STAGES.index(goal) >= STAGES.index("conclusion"):
            self.schedule(d, "conclusion")

    def hold(self, d: Dossier, session_id: str, leader: str) -> tuple[datetime, datetime]:
        """Held roughly as planned and signed by both; returns its start and end."""
        api = self.api
        session = api.get("scheduling", f"/sessions/{session_id}", self.manager(d.site))
        late = self.rng.choice([0, 0, 5, 10])
        start = datetime.fromisoformat(session["starts_at"]) + timedelta(minutes=late)
        # Ends within its slot, so that the next phase can start at its own first session.
        minutes = int(session["planned_minutes"]) - late - self.rng.choice([0, 5])
        role = "psychologist" if leader == d.site.psychologist else "consultant"
        leader_token = self.staff_token(role, d.site, leader)
        api.on_session(
            session_id,
            "/held",
            leader_token,
            {"started_at": _iso(start), "duration_minutes": minutes},
        )
        end = start + timedelta(minutes=minutes)
        for who in (self.beneficiary(d), leader_token):
            api.on_session(session_id, "/signatures", who, {"signed_at": _iso(end)})
        return start, end

    def live_month(self, d: Dossier) -> None:
        """After the month's sessions took place: phases, evidence, ending, as it happened."""
        api = self.api
        by_phase: dict[str, list[tuple[str, str]]] = {}
        for phase, session_id, leader in d.sessions:
            if phase != "follow_up":
                by_phase.setdefault(phase, []).append((session_id, leader))
        held_total = 0
        for phase in ("preliminary", "investigation", "conclusion"):
            if phase not in by_phase:
                break
            times = []
            for session_id, leader in by_phase[phase]:
                times.append(self.hold(d, session_id, leader))
                held_total += int((times[-1][1] - times[-1][0]).total_seconds() // 60)
            first, last = times[0][0], times[-1][1]
            on = d.dossier_id
            api.on_dossier(on, f"/phases/{phase}/start", self.consultant(d), {"at": _iso(first)})
            self._reached(d, phase)
            if phase == "investigation":
                self._evidence(d, times)
            if phase == "conclusion":
                self._conclude(d, last)
            if d.target == "abandoned":
                api.on_dossier(
                    on,
                    "/abandonment",
                    self.manager(d.site),
                    {
                        "reason_category": self.rng.choice(
                            ["employment_found", "health", "personal", "funding"]
                        ),
                        "initiated_by": "beneficiary",
                        "abandoned_at": _iso(last + timedelta(days=2)),
                    },
                )
                self._reached(d, "abandoned")
                return
            if d.target == phase:
                return  # still under way when the demo ends
            api.on_dossier(
                on,
                f"/phases/{phase}/completion",
                self.consultant(d),
                {"at": _iso(last)},
            )
        if d.target == "completed":
            wait_until(
                lambda: api.dossier(d.dossier_id)["held_minutes"] == held_total,
                "the dossier service to count the sessions held",
            )
            # An hour ago, but never before the conclusion it follows (rule 5): with the clock
            # stopping at each due time, the last session may have ended within the hour.
            d.completed_at = max(api.now() - timedelta(hours=1), last)
            api.on_dossier(
                d.dossier_id,
                "/completion",
                self.consultant(d),
                {"completed_at": _iso(d.completed_at)},
            )
            self._reached(d, "completed")

    def _evidence(self, d: Dossier, times: list[tuple[datetime, datetime]]) -> None:
        api = self.api
        psychologist = self.staff_token("psychologist", d.site, d.site.psychologist)
        api.retry(
            lambda: api.on_dossier(
                d.dossier_id,
                "/assessments",
                psychologist,
                {
                    "instrument_id": "6f1c2a9e-0a51-4c1e-9a43-1d2f3e4a5b03",
                    "result": f"Profil dominant {self.rng.choice(['S-A', 'I-R', 'E-C', 'A-S'])}",
                    "administered_at": _iso(times[1][1] - timedelta(minutes=5)),
                },
            ),
            "the dossier service to learn the psychologist's habilitation",
            NOT_YET,
        )
        api.on_dossier(
            d.dossier_id,
            "/assessments",
            self.consultant(d),
            {
                "instrument_id": "6f1c2a9e-0a51-4c1e-9a43-1d2f3e4a5b01",
                "result": "Intérêts : social et artistique",
                "administered_at": _iso(times[0][1] - timedelta(minutes=5)),
            },
        )
        for _ in range(self.rng.randint(1, 3)):
            api.on_dossier(
                d.dossier_id,
                "/field-inquiries",
                self.consultant(d),
                {
                    "contact_type": self.rng.choice(
                        ["professional_interview", "company_visit", "job_immersion"]
                    ),
                    "notes": "Échange avec une professionnelle du métier visé",
                    "completed_at": _iso(times[0][1] + timedelta(minutes=10)),
                },
            )
        if d.index % 3 == 0:
            api.on_dossier(
                d.dossier_id,
                "/training-needs",
                self.consultant(d),
                {"kind": "training", "certification_code": "RNCP35185"},
            )

    def _conclude(self, d: Dossier, last: datetime) -> None:
        api = self.api
        on, who = d.dossier_id, self.consultant(d)
        api.on_dossier(on, "/detailed-results-handover", who, {"handed_over_at": _iso(last)})
        api.on_dossier(
            on,
            "/synthesis/drafts",
            who,
            {"content": f"Projet retenu : {self.rng.choice(PROJECTS)}. Étapes et formation."},
        )
        api.on_dossier(
            on,
            "/synthesis/delivery",
            who,
            {"channel": self.rng.choice(["hand", "secure_download"]), "delivered_at": _iso(last)},
        )

    # -- surveys and follow-ups ---------------------------------------------------------------

    def answer_end_survey(self, d: Dossier) -> None:
        (invitation,) = self.mail.wait_for(d.email, "Votre avis sur votre bilan")[-1:]
        if d.index % 5 == 4:
            return  # some never answer: reminders and expiry follow
        score = self.rng.choice([5, 5, 4, 4, 4, 3, 2]) if d.index % 7 else 2
        self._answer(invitation, {
            "overall_satisfaction": score,
            "objectives_met": min(10, score * 2),
            "consultant_listening": min(10, score * 2 + 1),
            "tools_relevance": self.rng.randint(5, 10),
            "project_clarity": self.rng.randint(5, 10),
            "would_recommend": min(10, score * 2),
            "comments": "Merci pour l'accompagnement" if score >= 4 else "Trop d'attente",
        })  # fmt: skip
        if score <= 2:
            self.complaint(d.site, d, "consultant")

    def six_months(self, d: Dossier) -> None:
        """Answers the six-month survey if it came, and books the follow-up interview."""
        if d.completed_at is None or d.six_month_answered:
            return
        if self.api.now() < d.completed_at + timedelta(days=183):
            return
        mails = self.mail.wait_for(d.email, "Six mois après", timeout_s=30)
        d.six_month_answered = True
        if d.index % 3 != 2:
            self._answer(mails[-1], {
                "overall_satisfaction": self.rng.choice([4, 5, 3]),
                "situation": self.rng.choice(
                    ["new_job", "in_training", "project_in_progress", "business_created"]
                ),
                "project_progress": self.rng.randint(4, 10),
                "comments": "Le projet avance",
            })  # fmt: skip
        self.schedule(d, "follow_up")
        d.follow_up = d.sessions[-1][1]

    def _answer(self, invitation: Any, answers: dict[str, Any]) -> None:
        token = survey_token(invitation)
        self.api.open_survey(token)
        self.api.call(
            "survey", "POST", f"/public/surveys/{token}/answers", {}, {"answers": answers}
        )
        self.result.surveys_answered += 1

    # -- complaints and improvement actions -----------------------------------------------

    def complaint(self, site: Site, d: Dossier | None, category: str) -> None:
        api = self.api
        now = api.now()
        received = now - timedelta(days=self.rng.randint(8, 20))
        created = api.call(
            "survey",
            "POST",
            "/complaints",
            self.manager(site),
            {
                "site_id": site.site_id,
                "dossier_id": d.dossier_id if d else None,
                "complainant_role": "beneficiary" if d else self.rng.choice(["funder", "employer"]),
                "category": category,
                "channel": self.rng.choice(["email", "phone", "letter", "web_form"]),
                "description": "Rendez-vous déplacé deux fois sans explication.",
                "received_at": _iso(received),
            },
        ).json()
        complaint_id = str(created["complaint_id"])
        self.result.complaints.append(complaint_id)
        path = f"/complaints/{complaint_id}"
        steps: list[tuple[str, dict[str, Any]]] = [
            ("acknowledgement", {"at": _iso(received + timedelta(days=1))}),
            ("answer", {"response": "Nous avons revu l'organisation des plannings.",
                        "at": _iso(received + timedelta(days=6))}),
            ("closure", {"resolution": self.rng.choice(["upheld", "partially_upheld", "rejected"]),
                         "at": _iso(received + timedelta(days=7))}),
        ]  # fmt: skip
        if len(self.result.complaints) % 4 == 0:
            steps = steps[:1]  # one still waits for its answer
        for step, body in steps:
            version = api.call("survey", "GET", path, self.quality()).headers["etag"]
            api.call(
                "survey",
                "POST",
                f"{path}/{step}",
                self.quality(),
                body,
                version=int(version.strip('"')),
            )
        self.action("complaint", complaint_id, site)

    def action(self, source: str, source_id: str | None, site: Site | None) -> None:
        api = self.api
        now = api.now()
        # An organisation-wide action is seen only by tokens covering every site.
        who = self.quality() if site else api.admin
        created = api.call(
            "survey",
            "POST",
            "/improvement-actions",
            who,
            {
                "source": source,
                "source_id": source_id,
                "site_id": site.site_id if site else None,
                "owner_id": site.manager if site else self.quality_lead,
                "description": self.rng.choice(
                    [
                        "Confirmer chaque rendez-vous 48 h avant",
                        "Revoir la présentation des tests psychométriques",
                        "Proposer un créneau en soirée chaque semaine",
                    ]
                ),
                "due_at": _iso(now + timedelta(days=self.rng.choice([20, 45, 60]))),
            },
        ).json()
        action_id = str(created["action_id"])
        self.result.improvement_actions.append(action_id)
        self._action_headers[action_id] = who

    def complete_old_actions(self) -> None:
        api = self.api
        for n, action_id in enumerate(self.result.improvement_actions):
            path = f"/improvement-actions/{action_id}"
            who = self._action_headers[action_id]
            current = api.call("survey", "GET", path, who)
            if current.json()["completed_at"] is None and n % 3 != 2:
                api.call(
                    "survey",
                    "POST",
                    f"{path}/completion",
                    who,
                    {},
                    version=int(current.headers["etag"].strip('"')),
                )

    # -- the year ---------------------------------------------------------------------------

    def run(self) -> DemoResult:
        self.result.clock_started_at = _iso(self.api.now())
        self.echo(f"demo batch {self.batch}: a new organisation, {self.count} dossiers")
        self.organisation()
        self.plan()
        for month in range(MONTHS):
            cohort = [d for d in self.dossiers if d.month == month]
            self._slot, self._slot_base = 0, self.api.now()
            for d in cohort:
                self.open(d)
            for d in self.dossiers:
                self.six_months(d)
            for d in cohort:
                self.book_month(d)
            self.api.advance(timedelta(days=14))  # the month's sessions take place
            for d in cohort:
                self.live_month(d)
            for d in self.dossiers:
                if d.follow_up is not None and d.follow_up not in self._held_follow_ups:
                    self.hold(d, d.follow_up, d.consultant)
                    self._held_follow_ups.add(d.follow_up)
                    self.result.follow_ups_held += 1
            for d in cohort:
                if d.reached == "completed":
                    self.answer_end_survey(d)
            if month % 2 == 0:
                site = self.sites[month // 2 % len(self.sites)]
                self.complaint(site, None, self.rng.choice(["organisation", "billing"]))
            if month in (3, 9):
                abandoned = [d for d in self.dossiers if d.reached == "abandoned"]
                self.action("abandonment", abandoned[0].dossier_id if abandoned else None, None)
            self.team_life(month)
            if month % 3 == 2:
                self.complete_old_actions()
            self.api.advance(MONTH - timedelta(days=14))
            self.echo(
                f"month {month + 1:>2}/{MONTHS}: {len(cohort)} dossiers opened, "
                f"{sum(d.reached == 'completed' for d in self.dossiers)} completed so far"
            )
        self.reminder_on_time()
        self.book_what_comes_next()
        self.result.dossiers = {d.dossier_id: d.reached for d in self.dossiers}
        self.result.beneficiaries = {d.dossier_id: d.beneficiary_id for d in self.dossiers}
        self.result.clock_ended_at = _iso(self.api.now())
        return self.result

    def book_what_comes_next(self) -> None:
        """The bilans under way have their next session booked, in the days after the demo's
        year: what their beneficiaries see first in the console, and can move."""
        self._slot, self._slot_base = 0, self.api.now() + timedelta(days=2)
        for d in self.dossiers:
            if d.reached in ("preliminary", "investigation", "conclusion"):
                self.schedule(d, d.reached)

    def reminder_on_time(self) -> None:
        """A follow-up interview booked for the next working day, and its reminder on the day.

        The months above jump two weeks at a time, past their sessions' reminders, which are
        never sent late (they expire): this one is lived through, so that the mailbox holds a
        session reminder as a beneficiary gets it.
        """
        d = next(
            (d for d in self.dossiers if d.completed_at is not None and d.follow_up is None), None
        )
        if d is None:
            return
        reminder = "Rappel : votre séance"
        earlier = sum(reminder in str(m["Subject"]) for m in self.mail.messages_to(d.email))
        self._slot, self._slot_base = 0, self.api.now()
        starts = self._next_slot()  # the next working day's first slot
        self.schedule(d, "follow_up", at=starts)
        d.follow_up = d.sessions[-1][1]
        self.api.advance(starts - timedelta(hours=2) + timedelta(minutes=10) - self.api.now())
        self.mail.wait_for(d.email, reminder, count=earlier + 1, timeout_s=30)
        self.result.reminded_dossier = d.dossier_id

    def _reached(self, d: Dossier, stage: str) -> None:
        d.reached = stage


def run(
    api: BilanClient,
    dossiers: int = 60,
    seed: int = 2026,
    echo: Callable[[str], None] = click.echo,
) -> DemoResult:
    """Fill the running system; returns (and writes under `.data/demo/`) what was made."""
    demo = Demo(api, dossiers, seed, echo)
    result = demo.run()
    folder = DATA_DIR / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"batch-{demo.batch}.json").write_text(json.dumps(asdict(result), indent=2))
    (folder / "last.json").write_text(json.dumps(asdict(result), indent=2))
    return result


def guide(result: DemoResult, echo: Callable[[str], None] = click.echo) -> None:
    """What to look at next, and how to get a token for each role."""
    site = result.site_ids[0]
    completed = [d for d, stage in result.dossiers.items() if stage == "completed"]
    staff = result.staff
    cli = ".venv/bin/bilan token --role"
    echo("")
    echo("The demo organisation is in place. A token per role (valid 12 hours):")
    for label, command in (
        ("admin", f"{cli} admin"),
        ("quality lead", f"{cli} quality_lead --sub {staff['quality_lead'][0]}"),
        ("site manager", f"{cli} site_manager --site {site} --sub {staff['site_manager'][0]}"),
        ("consultant", f"{cli} consultant --site {site} --sub {staff['consultant'][0]}"),
        ("psychologist", f"{cli} psychologist --site {site} --sub {staff['psychologist'][0]}"),
        ("auditor", f"{cli} auditor"),
        ("beneficiary", f"{cli} beneficiary --sub <beneficiary_id from GET /dossiers>"),
    ):
        echo(f"  {label:<13} {command}")
    echo("")
    echo("Where to look (in /docs, Authorize with the token):")
    echo("  dossiers     http://127.0.0.1:8001/docs  GET /dossiers?status=completed")
    echo(f"  team         http://127.0.0.1:8002/docs  GET /sites/{site}/staff")
    echo(
        "  quality      http://127.0.0.1:8003/docs  GET /surveys, /complaints, /improvement-actions"
    )
    until = datetime.fromisoformat(result.clock_ended_at) + timedelta(days=1)
    period = f"from={result.clock_started_at[:10]}&to={until.date().isoformat()}"
    echo(f"  indicators   http://127.0.0.1:8004/v1/indicators?{period}")
    if completed:
        echo(f"  a checklist  http://127.0.0.1:8004/v1/dossiers/{completed[0]}/checklist")
    echo(
        "  e-mails      .data/mail/new (survey invitations and reminders; the last one is a"
        " session reminder, sent two hours before a follow-up interview)"
    )
    echo(f"The development clocks now read {result.clock_ended_at}; the demo's year ends there.")
    sign_in_links(result, echo)


def sign_in_links(result: DemoResult, echo: Callable[[str], None] = click.echo) -> None:
    """One-click development sign-in to the web console, per role."""
    page = f"{CONSOLE_URL}/connexion/developpement?personne="
    completed = [d for d, stage in result.dossiers.items() if stage == "completed"]
    ended = ("completed", "abandoned", "enquiry", "convention_sent")
    under_way = [d for d, stage in result.dossiers.items() if stage not in ended]
    echo("")
    echo(f"The web console: {CONSOLE_URL} (development sign-in, no e-mail needed):")
    for label, dossiers in (("beneficiary", under_way), ("beneficiary", completed)):
        if dossiers and dossiers[0] in result.beneficiaries:
            state = result.dossiers[dossiers[0]].replace("_", " ")
            echo(f"  {label:<13} {page}beneficiary:{result.beneficiaries[dossiers[0]]}  ({state})")
    for label, role in (
        ("consultant", "consultant"),
        ("site manager", "site_manager"),
        ("quality lead", "quality_lead"),
    ):
        if result.staff.get(role):
            echo(f"  {label:<13} {page}staff:{result.staff[role][0]}")
    echo(f"  {'auditor':<13} {page}auditor")


def _ascii(text: str) -> str:
    """Addresses without accents: the local part of an e-mail address stays plain ASCII."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
