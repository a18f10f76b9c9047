"""Settings of the dossier service (environment prefix `BILAN_DOSSIER_`)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

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
