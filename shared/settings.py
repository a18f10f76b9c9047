"""Settings of the platform's processes; each subclasses with its own prefix and defaults.

The settings come in parts, so that a process carries only what it uses: `PlatformSettings`
(every process: name, environment, database, HTTP, logging), `ApiSettings` (an API verifying
access tokens, its request limits, the development clock), `KafkaSettings`, `MailSettings`
(SMTP) and `BlindIndexSettings`. `ServiceSettings` is a command service's (dossier,
scheduling, survey): every part, plus what its `ServiceRuntime` runs (master key, outbox relay,
consumer retries, timers, calls to other services). Reporting and the console compose only
the parts they use. Environment variables are `<PREFIX><FIELD>` in upper case, whichever
part declares the field.

Nothing else in the code base reads `os.environ`. Outside development a process refuses to
start with a placeholder secret or with the controllable development clock.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEV_KEYS_DIR = REPO_ROOT / ".data" / "keys"
DEV_JWT_PUBLIC_KEY_FILE = DEV_KEYS_DIR / "dev-jwt-public.pem"
DEV_JWT_PRIVATE_KEY_FILE = DEV_KEYS_DIR / "dev-jwt-private.pem"
DEV_BLIND_INDEX_KEY = base64.b64encode(b"bilan-dev-blind-index-NOT-SECRET").decode()
"""The placeholder key of e-mail blind indexes (sign-in look-ups): refused in production."""
DEV_MASTER_KEY = base64.b64encode(b"bilan-dev-master-key-NOT-SECRET!").decode()
"""The placeholder key-encryption key: fine on a laptop, refused in production."""

Environment = Literal["development", "staging", "production"]


class PlatformSettings(BaseSettings):
    """What every process has: its name, environment, own database, HTTP port and logs."""

    model_config = SettingsConfigDict(env_prefix="BILAN_", extra="ignore", frozen=True)

    service_name: str = Field("service", description="Name used in logs, ce_source and groups.")
    environment: Environment = Field(
        "development", description="`production` forbids placeholder secrets and the dev clock."
    )
    database_url: str = Field(
        "postgresql://bilan:bilan@127.0.0.1:5432/bilan",
        description="asyncpg DSN of the service's own database.",
    )
    database_pool_min: int = Field(2, ge=1, description="Connections kept open.")
    database_pool_max: int = Field(20, ge=1, description="Connections at most.")
    http_host: str = Field("127.0.0.1", description="Interface the HTTP API listens on.")
    http_port: int = Field(8000, ge=1, le=65535, description="Port of the HTTP API.")
    trusted_proxies: str = Field(
        "127.0.0.1",
        description="Addresses (comma-separated, or *) whose X-Forwarded-For is believed: the "
        "console and the ingress in front of the service. The per-client rate limits key on "
        "the client address this gives.",
    )
    log_level: str = Field("INFO", description="Minimum level of the JSON log lines.")

    @model_validator(mode="after")
    def _no_placeholders_outside_development(self) -> Self:
        # One validator gathers every part's problems (`_placeholders`), so that a refusal
        # names all of them at once.
        if self.environment == "development":
            return self
        problems = self._placeholders()
        if problems:
            raise ValueError(f"refusing to start in {self.environment}: " + "; ".join(problems))
        return self

    def _placeholders(self) -> list[str]:
        """What is a development placeholder; each part adds its own, before its bases'."""
        if "bilan:bilan@" in self.database_url:
            return ["database_url uses the development password"]
        return []


class ApiSettings(PlatformSettings):
    """An API of the services: the access tokens it verifies, its request limits, and the
    development clock that the demo moves."""

    jwt_public_key_file: Path = Field(
        DEV_JWT_PUBLIC_KEY_FILE, description="PEM public key that verifies access tokens."
    )
    jwt_issuer: str = Field("bilan-dev", description="Expected `iss` of access tokens.")
    jwt_audience: str = Field("bilan", description="Expected `aud` of access tokens.")
    jwt_max_lifetime_s: int = Field(
        24 * 3600, ge=60, description="Tokens living longer than this (`exp` - `iat`) are refused."
    )
    max_request_body_bytes: int = Field(
        1_048_576, ge=1024, description="Larger request bodies are refused with 413."
    )
    jwt_jwks_source: str | None = Field(
        None,
        description="URL or file of the console's JWKS: tokens naming one of its keys (`kid`) "
        "are verified with it and must come from `jwt_jwks_issuer`.",
    )
    jwt_jwks_issuer: str = Field("bilan-console", description="`iss` of the console's tokens.")
    dev_clock_enabled: bool = Field(
        False, description="Development only: a clock that the demo can move forward."
    )

    def _placeholders(self) -> list[str]:
        problems = []
        if self.jwt_public_key_file.resolve() == DEV_JWT_PUBLIC_KEY_FILE.resolve():
            problems.append("jwt_public_key_file is the development key")
        if self.dev_clock_enabled:
            problems.append("dev_clock_enabled is for development only")
        return [*problems, *super()._placeholders()]


class KafkaSettings(PlatformSettings):
    """A process reading the topics (or writing them, through the outbox relay)."""

    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", description="Kafka brokers.")
    consumer_group: str | None = Field(
        None, description="Kafka consumer group; `bilan-<service_name>` by default."
    )


class MailSettings(PlatformSettings):
    """A process sending e-mails (`shared.mail.SmtpTransport`)."""

    smtp_host: str = Field("127.0.0.1", description="SMTP server for e-mails to beneficiaries.")
    smtp_port: int = Field(8025, ge=1, le=65535, description="SMTP port.")
    smtp_username: str | None = Field(None, description="SMTP login, if the server wants one.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_local_hostname: str | None = Field(
        None,
        description="Name this service gives in EHLO (relays may check it); default: the "
        "host's fully qualified name, looked up once per process.",
    )
    mail_from: str = Field(
        "Bilan <no-reply@bilan.localhost>", description="From: of e-mails to beneficiaries."
    )
    # Who to answer: every mail ends with the centre's contact and carries it as Reply-To, so
    # that a person never meets a bare no-reply (`shared.centre_contact`).
    centre_name: str = Field(
        "Centre de bilans de compétences",
        min_length=1,
        max_length=200,
        description="The centre's name, as mails sign it.",
    )
    centre_address: str | None = Field(
        None, max_length=300, description="The centre's postal address (when no site gives one)."
    )
    centre_phone: str | None = Field(
        "01 23 45 67 89", max_length=40, description="The phone number mails give to call."
    )
    centre_email: str | None = Field(
        "contact@bilan.localhost",
        max_length=254,
        description="The address mails give to write to, and their Reply-To.",
    )
    console_url: str = Field(
        "http://127.0.0.1:8000",
        description="The console's public address: the links in mails start with it.",
    )


def _is_base64_of_32_bytes(value: SecretStr | None) -> SecretStr | None:
    if value is None:
        return value
    try:
        raw = base64.b64decode(value.get_secret_value(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the key must be base64") from None
    if len(raw) != 32:
        raise ValueError("the key must decode to 32 bytes")
    return value


class BlindIndexSettings(PlatformSettings):
    """A process looking people up by e-mail address (the console and the dossier service)."""

    blind_index_key: SecretStr | None = Field(
        None,
        description="Base64 of 32 bytes: the HMAC key of e-mail blind indexes (sign-in "
        "look-ups); the same in the console and the dossier service, which alone need it "
        "(a development placeholder stands in when absent in development).",
    )

    @field_validator("blind_index_key")
    @classmethod
    def _blind_index_key_is_32_bytes(cls, value: SecretStr | None) -> SecretStr | None:
        return _is_base64_of_32_bytes(value)

    def _placeholders(self) -> list[str]:
        problems = []
        if (
            self.blind_index_key is not None
            and self.blind_index_key.get_secret_value() == DEV_BLIND_INDEX_KEY
        ):
            problems.append("blind_index_key is the development placeholder")
        return [*problems, *super()._placeholders()]

    def blind_index_key_bytes(self) -> bytes:
        """The blind-index key; only the placeholder in development, an error elsewhere."""
        if self.blind_index_key is not None:
            return base64.b64decode(self.blind_index_key.get_secret_value())
        if self.environment != "development":
            raise ValueError(f"blind_index_key is required in {self.environment}")
        return base64.b64decode(DEV_BLIND_INDEX_KEY)


class ServiceSettings(BlindIndexSettings, ApiSettings, KafkaSettings, MailSettings):
    """A command service's settings: every part, plus what its `ServiceRuntime` runs."""

    master_key: SecretStr = Field(
        SecretStr(DEV_MASTER_KEY),
        description="Base64 of 32 bytes: the key-encryption key wrapping every data key.",
    )
    master_key_id: str = Field("dev", description="Names the master key, for rotation.")
    relay_batch_size: int = Field(500, ge=1, le=10_000, description="Outbox rows per batch.")
    relay_poll_interval_s: float = Field(
        1.0, gt=0, description="Relay polling fallback when no NOTIFY arrives."
    )
    consumer_max_retries: int = Field(
        5, ge=0, description="Handler retries before a message goes to the DLQ."
    )
    timer_poll_interval_s: float = Field(1.0, gt=0, description="Timer loop polling interval.")
    internal_token: SecretStr | None = Field(
        None,
        description="Bearer token (role `service`) for calls to other services; in development "
        "one is minted from the development key when absent.",
    )

    @field_validator("master_key")
    @classmethod
    def _master_key_is_32_bytes(cls, value: SecretStr) -> SecretStr:
        _is_base64_of_32_bytes(value)
        return value

    def _placeholders(self) -> list[str]:
        problems = []
        if self.master_key.get_secret_value() == DEV_MASTER_KEY:
            problems.append("master_key is the development placeholder")
        return [*problems, *super()._placeholders()]

    def master_key_bytes(self) -> bytes:
        return base64.b64decode(self.master_key.get_secret_value())
