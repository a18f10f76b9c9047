"""One beneficiary's bilan through the running system's public APIs, step by step, with the
people who act in it. Used by the end-to-end test; each step waits on what it needs from the
other services (their facts travel over Kafka) with bounded polls."""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from deploy.client import BilanClient, Headers, Mailbox, bearer, survey_token, wait_until

PSYCHOMETRIC_INSTRUMENT = "6f1c2a9e-0a51-4c1e-9a43-1d2f3e4a5b03"
MENTIONS = {
    "title": "Bilan de compétences",
    "objective": "Construire un projet professionnel",
    "content": "Trois phases selon R6313-4",
    "means": "Entretiens, tests, enquêtes métier",
    "period": "Sur trois mois",
    "running_terms": "Huit séances",
    "follow_up_terms": "Entretien de suivi à six mois",
    "handover_terms": "Résultats et synthèse remis au seul bénéficiaire",
    "payment_terms": "Employeur à la fin du bilan",
}
# Staff facts, dossier facts and sessions reach the other services over Kafka: a command
# that depends on them is refused with one of these until they have arrived.
SITE_ADDRESS = "12 rue Saint-Julien, 76100 Rouen"
NOT_YET = (
    "referent_not_eligible",
    "habilitation_required",
    "convention_not_signed",
    "no_referent",
    "consultant_unknown",
    "dossier_unknown",
    "not_the_referent",
    "not_qualified",
    "habilitation_missing",
    "staff_unknown",
)


@dataclass(frozen=True)
class Secrets:
    """Recognisable personal data and content, unique to one run, that must never leak."""

    tag: str = field(default_factory=lambda: secrets.token_hex(6))

    @property
    def name(self) -> str:
        return f"Zoé Quillebeuf-{self.tag}"

    @property
    def email(self) -> str:
        return f"zoe.quillebeuf.{self.tag}@e2e.example"

    @property
    def consultant_name(self) -> str:
        """The referent's name: the beneficiary reads it, the platform never publishes it."""
        return f"Hélène Vasseur-{self.tag}"

    @property
    def phone(self) -> str:
        digits = str(int(self.tag, 16) % 10**8).zfill(8)
        return f"+33 6 {digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}"

    @property
    def needs(self) -> str:
        return f"Épuisement en comptabilité, veut enseigner {self.tag}"

    @property
    def result(self) -> str:
        return f"Profil dominant S-A {self.tag}"

    @property
    def field_notes(self) -> str:
        return f"Rencontre avec une formatrice du GRETA {self.tag}"

    @property
    def synthesis(self) -> str:
        return f"Synthèse : projet de professeure des écoles {self.tag}"

    @property
    def end_comment(self) -> str:
        return f"Merci pour l'écoute, reconversion lancée {self.tag}"

    @property
    def six_month_comment(self) -> str:
        return f"Concours de professeure préparé à Rouen {self.tag}"

    def all(self) -> list[str]:
        """Every string to look for, the phone also without its spaces."""
        return [
            self.name,
            self.email,
            self.consultant_name,
            self.phone,
            self.phone.replace(" ", ""),
            self.needs,
            self.result,
            self.field_notes,
            self.synthesis,
            self.end_comment,
            self.six_month_comment,
        ]


@dataclass
class Journey:
    """The people and records of one bilan, and the steps that move it on."""

    api: BilanClient
    mail: Mailbox = field(default_factory=Mailbox)
    secret: Secrets = field(default_factory=Secrets)
    site: str = ""
    room: str = ""
    consultant: str = field(default_factory=lambda: str(uuid.uuid4()))
    psychologist: str = field(default_factory=lambda: str(uuid.uuid4()))
    manager: str = field(default_factory=lambda: str(uuid.uuid4()))
    dossier: str = ""
    beneficiary: str = ""
    sessions: dict[str, str] = field(default_factory=dict)

    # -- who acts -------------------------------------------------------------------------

    def as_consultant(self) -> Headers:
        return bearer(["consultant"], [self.site], self.consultant)

    def as_psychologist(self) -> Headers:
        return bearer(["psychologist"], [self.site], self.psychologist)

    def as_manager(self) -> Headers:
        return bearer(["site_manager"], [self.site], self.manager)

    def as_beneficiary(self) -> Headers:
        return bearer(["beneficiary"], [self.site], self.beneficiary)

    def as_quality_lead(self) -> Headers:
        return bearer(["quality_lead"], [self.site], str(uuid.uuid5(uuid.NAMESPACE_URL, "ql")))

    # -- the organisation -----------------------------------------------------------------

    @property
    def site_name(self) -> str:
        return f"Rouen Saint-Sever {self.secret.tag}"

    def open_site(self) -> None:
        """A site with a confidential room, a consultant and a qualified psychologist."""
        a = self.api
        site = a.call(
            "scheduling",
            "POST",
            "/sites",
            a.admin,
            {"name": self.site_name, "region": "normandie", "address": SITE_ADDRESS},
            expect=201,
        ).json()
        self.site = str(site["site_id"])
        room = a.call(
            "scheduling",
            "POST",
            f"/sites/{self.site}/rooms",
            self.as_manager(),
            {"name": "Salle Flaubert", "confidential": True},
            expect=201,
        ).json()
        self.room = str(room["room_id"])
        now = a.now()
        for staff_id, role, name in (
            (self.consultant, "consultant", {"name": self.secret.consultant_name}),
            (self.psychologist, "psychologist", {}),
        ):
            a.call(
                "scheduling",
                "POST",
                "/staff",
                a.admin,
                {
                    "staff_id": staff_id,
                    "roles": [role],
                    "site_ids": [self.site],
                    "contract": "employee",
                    **name,
                },
                expect=201,
            )
        a.call(
            "scheduling",
            "POST",
            f"/staff/{self.psychologist}/qualifications",
            a.admin,
            {
                "qualification": "master_psychologie",
                "habilitations": ["psychometric_tests"],
                "psychologist_registration": {"registry": "rpps", "number": "10001234567"},
                "recorded_at": _iso(now - timedelta(minutes=1)),
            },
            version=self._staff_version(self.psychologist),
        )

    def _staff_version(self, staff_id: str) -> int:
        response = self.api.call("scheduling", "GET", f"/staff/{staff_id}", self.api.admin)
        return int(response.headers["etag"].strip('"'))

    # -- the dossier up to the signed convention ------------------------------------------

    def open_dossier(self) -> None:
        a = self.api
        now = a.now()
        response = a.call(
            "dossier",
            "POST",
            "/dossiers",
            self.as_manager(),
            {
                "site_id": self.site,
                "funding_route": "employer_plan",
                "enquiry_received_at": _iso(now - timedelta(days=3)),
                "name": self.secret.name,
                "email": self.secret.email,
                "phone": self.secret.phone,
            },
            expect=201,
        )
        self.dossier = str(response.json()["id"])
        self.beneficiary = response.headers["x-beneficiary-id"]

    def acknowledge_notice(self) -> None:
        notice = self.api.get("dossier", "/deontology-notice", self.as_beneficiary())
        self.api.on_dossier(
            self.dossier,
            "/deontology-acknowledgements",
            self.as_beneficiary(),
            {"notice_version": notice["notice_version"]},
        )

    def needs_and_programme(self) -> None:
        a = self.api
        a.on_dossier(
            self.dossier,
            "/needs-analysis",
            self.as_consultant(),
            {"narrative": self.secret.needs, "disability_accommodation_requested": False},
            method="PUT",
        )
        a.on_dossier(
            self.dossier,
            "/programme",
            self.as_consultant(),
            {"planned_minutes": 1200, "modality": "mixed"},
            method="PUT",
        )

    def sign_convention(self) -> None:
        """Tripartite: drafted, sent, signed by the employer, the provider, the beneficiary."""
        a = self.api
        drafted = a.on_dossier(
            self.dossier,
            "/conventions",
            self.as_manager(),
            {"kind": "tripartite", **MENTIONS, "duration_minutes": 1200, "price_cents": 180000},
            expect=201,
        )
        convention = drafted.headers["location"].rsplit("/", 1)[1]
        a.on_dossier(self.dossier, f"/conventions/{convention}/sending", self.as_manager())
        for party, who in (
            ("employer", self.as_manager()),
            ("provider", self.as_manager()),
            ("beneficiary", self.as_beneficiary()),
        ):
            body: dict[str, Any] = {"party": party}
            if party == "employer":  # on paper: the manager records it with its scan
                body["paper_document"] = {
                    "media_type": "application/pdf",
                    "content_base64": base64.b64encode(b"%PDF-1.4\n% signed\n").decode(),
                }
            a.on_dossier(self.dossier, f"/conventions/{convention}/signatures", who, body)

    def assign_referent(self) -> None:
        """The consultant becomes referent once the dossier service knows them (Kafka)."""
        self.api.retry(
            lambda: self.api.on_dossier(
                self.dossier,
                "/referent",
                self.as_manager(),
                {"consultant_id": self.consultant, "reason": "initial"},
                method="PUT",
            ),
            "the dossier service to learn the consultant",
            NOT_YET,
        )

    # -- sessions ---------------------------------------------------------------------------

    def schedule(
        self,
        label: str,
        phase: str,
        starts_at: datetime,
        minutes: int,
        *,
        leader: str | None = None,
        remote: bool = False,
    ) -> str:
        """Books a session; retried until scheduling has learnt the signed convention and
        the referent from the dossier topic."""
        body: dict[str, Any] = {
            "phase": phase,
            "modality": "remote" if remote else "in_person",
            "consultant_id": leader or self.consultant,
            "starts_at": _iso(starts_at),
            "planned_minutes": minutes,
        }
        if not remote:
            body["room_id"] = self.room
        who = self.as_consultant()
        if leader == self.psychologist:
            body["assessment_reason"] = "habilitation_required"
            body["assessment_habilitation"] = "psychometric_tests"
            who = self.as_psychologist()
        response = self.api.retry(
            lambda: self.api.call(
                "scheduling", "POST", f"/dossiers/{self.dossier}/sessions", who, body, expect=201
            ),
            f"scheduling to accept the {label} session",
            NOT_YET,
        )
        self.sessions[label] = str(response.json()["session_id"])
        return self.sessions[label]

    def hold_and_sign(self, label: str, *, leader: str | None = None) -> None:
        """Recorded as held as planned, then signed by the beneficiary and the leader."""
        a = self.api
        session_id = self.sessions[label]
        session = a.get("scheduling", f"/sessions/{session_id}", self.as_manager())
        leader_headers = (
            self.as_psychologist() if leader == self.psychologist else self.as_consultant()
        )
        a.on_session(
            session_id,
            "/held",
            leader_headers,
            {"started_at": session["starts_at"], "duration_minutes": session["planned_minutes"]},
        )
        for who in (self.as_beneficiary(), leader_headers):
            a.on_session(session_id, "/signatures", who, {})

    def wait_held_minutes(self, minutes: int) -> None:
        wait_until(
            lambda: self.api.dossier(self.dossier)["held_minutes"] == minutes,
            f"the dossier to count {minutes} held minutes",
        )

    # -- phases and content -----------------------------------------------------------------

    def phase(self, phase: str, step: str) -> None:
        """`step` is `start` or `completion`."""
        self.api.on_dossier(self.dossier, f"/phases/{phase}/{step}", self.as_consultant())

    def assessment(self) -> str:
        """A psychometric test given by the psychologist (habilitation learnt over Kafka)."""
        response = self.api.retry(
            lambda: self.api.on_dossier(
                self.dossier,
                "/assessments",
                self.as_psychologist(),
                {"instrument_id": PSYCHOMETRIC_INSTRUMENT, "result": self.secret.result},
                expect=201,
            ),
            "the dossier service to learn the psychologist's habilitation",
            NOT_YET,
        )
        return str(response.headers["location"])

    def field_inquiry(self) -> None:
        self.api.on_dossier(
            self.dossier,
            "/field-inquiries",
            self.as_consultant(),
            {"contact_type": "professional_interview", "notes": self.secret.field_notes},
            expect=201,
        )

    def conclude(self) -> None:
        a = self.api
        a.on_dossier(self.dossier, "/detailed-results-handover", self.as_consultant())
        a.on_dossier(
            self.dossier,
            "/synthesis/drafts",
            self.as_consultant(),
            {"content": self.secret.synthesis},
            expect=201,
        )
        a.on_dossier(self.dossier, "/synthesis/delivery", self.as_consultant(), {"channel": "hand"})

    def complete(self) -> None:
        self.api.on_dossier(self.dossier, "/completion", self.as_consultant())

    # -- surveys ----------------------------------------------------------------------------

    def answer_survey(self, subject: str, answers: dict[str, Any]) -> None:
        """Find the invitation in the Maildir, follow its link, answer."""
        (invitation,) = self.mail.wait_for(self.secret.email, subject)[-1:]
        token = survey_token(invitation)
        questionnaire = self.api.open_survey(token)
        assert {q["code"] for q in questionnaire["questions"]} >= set(answers)
        self.api.call(
            "survey",
            "POST",
            f"/public/surveys/{token}/answers",
            {},
            {"answers": answers},
            expect=201,
        )

    def survey(self, campaign: str) -> dict[str, Any]:
        """The dossier's survey of that campaign, as a quality lead reads it."""
        surveys = self.api.get(
            "survey", "/surveys", self.as_quality_lead(), params={"campaign": campaign}
        )
        (mine,) = [s for s in surveys if s["dossier_id"] == self.dossier]
        found: dict[str, Any] = self.api.get(
            "survey", f"/surveys/{mine['survey_id']}", self.as_quality_lead()
        )
        return found

    # -- erasure ----------------------------------------------------------------------------

    def erase(self) -> None:
        """The beneficiary asks for erasure; the data protection officer fulfils it."""
        a = self.api
        response = a.beneficiary_request(
            self.beneficiary, "/data-requests", self.as_beneficiary(), {"kind": "erasure"}
        )
        request = response.headers["location"].rsplit("/", 1)[1]
        a.beneficiary_request(
            self.beneficiary,
            f"/data-requests/{request}/fulfilment",
            bearer(["admin"], subject="dpo"),
            {},
        )


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
