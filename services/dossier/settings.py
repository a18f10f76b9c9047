"""Settings of the dossier service (environment prefix `BILAN_DOSSIER_`)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from services.dossier.adapters.convention_pdf import DEVELOPMENT_PROVIDER, Provider
from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    """The platform settings plus the legal delays, which are configuration, not code."""

    model_config = SettingsConfigDict(env_prefix="BILAN_DOSSIER_", extra="ignore", frozen=True)

    service_name: str = Field("dossier", description="Name used in logs, ce_source and groups.")
    http_port: int = Field(8001, ge=1, le=65535, description="Port of the HTTP API.")
    database_url: str = Field(
        "postgresql://bilan:bilan@127.0.0.1:5432/bilan_dossier",
        description="asyncpg DSN of the dossier database.",
    )
    acceptance_days: dict[str, int] = Field(
        default_factory=lambda: {
            "tripartite": 10,
            "individual_contract": 10,
            "cpf": 4,
            "public_model": 10,
        },
        description="Days a convention kind leaves the parties to sign before silence is refusal "
        "(R6313-8: 10 days for the tripartite convention).",
    )
    withdrawal_days: dict[str, int] = Field(
        default_factory=lambda: {"self_funded": 10, "cpf": 14},
        description="Withdrawal period after signature per funding route, in calendar days "
        "(L6353-5: 10 days; CPF terms: 14 working days, configure to the current terms). A "
        "route absent here has no withdrawal right after signature.",
    )
    destruction_grace_days: int = Field(
        30,
        ge=0,
        le=365,
        description="Days after the end of a bilan before its documents are destroyed (R6313-7).",
    )

    mail_poll_interval_s: float = Field(1.0, gt=0, description="How often due mails are sought.")
    display_timezone: str = Field(
        "Europe/Paris", description="Time zone of the times written in e-mails."
    )

    # Who the provider is, as every convention must say it (R6313-8; the NDA, L6351-1).
    provider_legal_name: str | None = Field(
        None, min_length=1, max_length=200, description="The organisation's legal name."
    )
    provider_address: str | None = Field(
        None, min_length=1, max_length=300, description="Its registered address."
    )
    provider_siret: str | None = Field(
        None, pattern=r"^\d{14}$", description="Its SIRET number (14 digits)."
    )
    provider_nda: str | None = Field(
        None,
        pattern=r"^\d{11}$",
        description="Its declaration of activity number (NDA, 11 digits), from the prefect.",
    )

    @model_validator(mode="after")
    def _provider_named_outside_development(self) -> Settings:
        fields = ("provider_legal_name", "provider_address", "provider_siret", "provider_nda")
        missing = [name for name in fields if getattr(self, name) is None]
        if missing and (self.environment != "development" or len(missing) < len(fields)):
            raise ValueError(
                f"conventions must name the provider (R6313-8): set {', '.join(missing)}"
                + ("" if self.environment == "development" else f" in {self.environment}")
            )
        # The manifests' example numbers are all zeros: a real convention cannot carry them.
        if self.environment != "development" and (
            set(self.provider_siret or "0") == {"0"} or set(self.provider_nda or "0") == {"0"}
        ):
            raise ValueError(
                f"refusing to start in {self.environment}: provider_siret and provider_nda "
                "must be the organisation's own, not the example zeros"
            )
        return self

    def provider(self) -> Provider:
        """The provider's identity for its documents; a placeholder only in development."""
        name, address = self.provider_legal_name, self.provider_address
        siret, nda = self.provider_siret, self.provider_nda
        if name is None or address is None or siret is None or nda is None:
            return DEVELOPMENT_PROVIDER  # development only: the validator says so
        return Provider(name, address, siret, nda)

    def acceptance_period(self, kind: str) -> timedelta:
        """How long the parties of this kind of convention have to sign."""
        return timedelta(days=self.acceptance_days.get(kind, 10))

    def withdrawal_period(self, funding_route: str) -> timedelta | None:
        """The withdrawal period of a funding route, None when there is none."""
        days = self.withdrawal_days.get(funding_route)
        return None if days is None else timedelta(days=days)

    @property
    def destruction_grace(self) -> timedelta:
        return timedelta(days=self.destruction_grace_days)
