"""Settings of the web console (environment prefix `BILAN_CONSOLE_`)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import DEV_KEYS_DIR, BlindIndexSettings, MailSettings

DEV_CONSOLE_SIGNING_KEY_FILE = DEV_KEYS_DIR / "console-signing.pem"


class ConsoleSettings(BlindIndexSettings, MailSettings):
    """Everything the console reads from its environment.

    Only the parts it uses: mail (sign-in links) and the blind index (sign-in look-ups), but
    no Kafka, outbox relay, master key or token verification: it issues people's tokens and
    verifies none."""

    model_config = SettingsConfigDict(env_prefix="BILAN_CONSOLE_", extra="ignore", frozen=True)

    service_name: str = Field("console", description="Name used in logs and metrics.")
    http_port: int = Field(8000, ge=1, le=65535, description="Port of the web console.")
    database_url: str = Field(
        "postgresql://bilan:bilan@127.0.0.1:5432/bilan_console",
        description="asyncpg DSN of the console's database (sessions, sign-in links).",
    )
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description="Where people reach the console: the base of the links in sign-in mails.",
    )
    dossier_url: str = Field("http://127.0.0.1:8001", description="The dossier service.")
    scheduling_url: str = Field("http://127.0.0.1:8002", description="The scheduling service.")
    survey_url: str = Field("http://127.0.0.1:8003", description="The survey service.")
    reporting_url: str = Field(
        "http://127.0.0.1:8004", description="The reporting service (the audit figures)."
    )
    signing_key_file: Path = Field(
        DEV_CONSOLE_SIGNING_KEY_FILE,
        description="PEM Ed25519 private key signing the access tokens the console issues "
        "(made once in development; its public half is served as the JWKS).",
    )
    jwt_audience: str = Field(
        "bilan", description="`aud` of the tokens the console issues (the services' audience)."
    )
    token_issuer: str = Field(
        "bilan-console", description="`iss` of the console's tokens (the services' JWKS issuer)."
    )
    access_token_minutes: float = Field(
        5, gt=0, le=15, description="Lifetime of an access token the console issues."
    )
    session_idle_minutes: float = Field(30, gt=0, description="A session unused this long ends.")
    session_absolute_hours: float = Field(12, gt=0, description="A session ends this long after.")
    sign_in_link_minutes: float = Field(15, gt=0, description="A sign-in link works this long.")
    sign_in_per_address: int = Field(
        5, ge=1, description="Sign-in links an address may ask for per rate window."
    )
    sign_in_per_client: int = Field(
        20, ge=1, description="Sign-in requests a client (IP address) may make per window."
    )
    sign_in_window_minutes: float = Field(15, gt=0, description="The rate-limit window.")
    dev_sign_in_enabled: bool = Field(
        False, description="Development only: a page listing the demo's people for sign-in."
    )
    mail_poll_interval_s: float = Field(1.0, gt=0, description="Mail sender polling interval.")
    oidc_issuer: str | None = Field(
        None,
        description="The organisation's OpenID Connect provider (its issuer URL): staff may "
        "then sign in with it instead of an e-mailed link. Off when absent.",
    )
    oidc_client_id: str | None = Field(None, description="The console's client id there.")
    oidc_client_secret: SecretStr | None = Field(
        None, description="The console's client secret there (confidential client)."
    )
    oidc_provider_name: str = Field(
        "votre compte professionnel",
        max_length=60,
        description='Shown on the sign-in page: "Se connecter avec <name>".',
    )

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    @model_validator(mode="after")
    def _development_only(self) -> ConsoleSettings:
        if self.environment == "development":
            return self
        problems = []
        if self.dev_sign_in_enabled:
            problems.append("dev_sign_in_enabled is for development only")
        if self.signing_key_file.resolve() == DEV_CONSOLE_SIGNING_KEY_FILE.resolve():
            problems.append("signing_key_file is the development key")
        if self.oidc_issuer and not self.oidc_issuer.startswith("https://"):
            problems.append("oidc_issuer must be https")
        if not self.public_url.startswith("https://"):
            problems.append("public_url must be https (the session cookie is Secure)")
        if problems:
            raise ValueError(f"refusing to start in {self.environment}: " + "; ".join(problems))
        return self

    @property
    def secure_cookies(self) -> bool:
        return self.environment != "development"

    def access_token_lifetime(self) -> timedelta:
        return timedelta(minutes=self.access_token_minutes)

    def session_idle(self) -> timedelta:
        return timedelta(minutes=self.session_idle_minutes)

    def session_absolute(self) -> timedelta:
        return timedelta(hours=self.session_absolute_hours)

    def sign_in_link_lifetime(self) -> timedelta:
        return timedelta(minutes=self.sign_in_link_minutes)

    def sign_in_window(self) -> timedelta:
        return timedelta(minutes=self.sign_in_window_minutes)
