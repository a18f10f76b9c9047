"""The processes `bilan up` runs besides Kafka and PostgreSQL, in one place: the supervisor
starts them natively, `bilan containers test` runs those of the Bilan image in containers."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from deploy.local.paths import DATA_DIR

RUN_DIR: Final = DATA_DIR / "run"
LOG_DIR: Final = DATA_DIR / "logs"
MAIL_DIR: Final = DATA_DIR / "mail"
SMTP_PORT: Final = 8025


@dataclass(frozen=True)
class ProcessSpec:
    """One supervised process: how to start it and how to tell it is ready."""

    name: str
    module: str
    args: tuple[str, ...] = ()
    url: str | None = None
    """Base URL of its HTTP API, if it has one (`/readyz` tells readiness, `/docs` the API)."""
    port: int | None = None
    """A port it listens on without HTTP: ready once it accepts connections."""
    env: dict[str, str] = field(default_factory=dict)
    in_image: bool = False
    """Whether it is a process of the Bilan image: `bilan containers test` runs each of these in
    a container (the others, such as the mail sink, stay native test fixtures)."""

    def argv(self) -> list[str]:
        return [sys.executable, "-m", self.module, *self.args]

    def available(self) -> bool:
        """Whether the code for it exists in this checkout (services land one by one)."""
        try:
            return importlib.util.find_spec(f"{self.module}.__main__") is not None
        except ModuleNotFoundError:
            return False

    @property
    def log_file(self) -> Path:
        return LOG_DIR / f"{self.name}.log"


def prepare_folders() -> None:
    """The run, log and mail folders (the mail sink wants a Maildir: tmp, new, cur)."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    for sub in ("tmp", "new", "cur"):
        (MAIL_DIR / sub).mkdir(parents=True, exist_ok=True)


CONSOLE_URL: Final = "http://127.0.0.1:8000"


def _service(name: str, port: int, *, sends_mail: bool = True, **extra: str) -> ProcessSpec:
    prefix = f"BILAN_{name.upper()}_"
    # Only settings the process has: reporting sends no mail and has no SMTP settings.
    mail = {f"{prefix}SMTP_PORT": str(SMTP_PORT)} if sends_mail else {}
    env = {
        f"{prefix}HTTP_PORT": str(port),
        **mail,
        # People's tokens come from the console: its keys, read from its JWKS.
        f"{prefix}JWT_JWKS_SOURCE": f"{CONSOLE_URL}/.well-known/jwks.json",
        # The demo moves time forward (reminders, deadlines, six-month surveys); settings
        # refuse this outside development.
        f"{prefix}DEV_CLOCK_ENABLED": "true",
        **{f"{prefix}{key}": value for key, value in extra.items()},
    }
    return ProcessSpec(
        name, f"services.{name}", url=f"http://127.0.0.1:{port}", env=env, in_image=True
    )


PROCESSES: Final[tuple[ProcessSpec, ...]] = (
    # A local mail sink standing in for the centre's SMTP server: messages land in
    # .data/mail (a Maildir) where a developer can read them.
    ProcessSpec(
        "mail-sink",
        "aiosmtpd",
        # SMTPUTF8: addresses such as élodie@exemple.fr are valid and must reach the sink.
        (
            *("-n", "-u", "-l", f"127.0.0.1:{SMTP_PORT}"),
            "-c",
            "aiosmtpd.handlers.Mailbox",
            str(MAIL_DIR),
        ),
        port=SMTP_PORT,
    ),
    # The web console comes first: `bilan up` prints its URL at the top.
    ProcessSpec(
        "console",
        "services.console",
        url=CONSOLE_URL,
        env={
            "BILAN_CONSOLE_HTTP_PORT": "8000",
            "BILAN_CONSOLE_SMTP_PORT": str(SMTP_PORT),
            # Development: a page lists the demo's people for sign-in without e-mail.
            "BILAN_CONSOLE_DEV_SIGN_IN_ENABLED": "true",
        },
        in_image=True,
    ),
    _service("dossier", 8001),
    _service("scheduling", 8002),
    # The survey link in e-mails opens the console's HTML questionnaire.
    _service("survey", 8003, PUBLIC_ANSWER_URL=f"{CONSOLE_URL}/public/surveys/{{token}}"),
    _service("reporting", 8004, sends_mail=False),
)
