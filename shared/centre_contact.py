"""Who a person writes to or calls about a mail: the centre, or the site of their bilan.

Mails leave from a no-reply address (`mail_from`); each one ends with this contact and carries
the centre's address as `Reply-To`, so that nobody is left with a bare no-reply. The values
come from the settings (`MailSettings.centre_*`), the site's name and address, where the
sending service knows them (scheduling), from the site's data. Nothing here is personal data.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from email.headerregistry import Address
from email.message import EmailMessage

from shared.settings import MailSettings


@dataclass(frozen=True, slots=True)
class CentreContact:
    """The centre's (or a site's) contact, as a mail gives it."""

    name: str
    address: str | None = None
    phone: str | None = None
    email: str | None = None

    def at_site(self, site_name: str | None, site_address: str | None) -> CentreContact:
        """The same contact, named and placed at a site of the centre (when known)."""
        name = f"{self.name} — {site_name}" if site_name else self.name
        return replace(self, name=name, address=site_address or self.address)

    def footer(self) -> str:
        """The closing lines of every mail, in French."""
        lines = ["--", self.name]
        if self.address:
            lines.append(self.address)
        if self.phone:
            lines.append(f"Téléphone : {self.phone}")
        if self.email:
            lines.append(f"E-mail : {self.email}")
        if self.email or self.phone:
            how = " ou ".join(
                part
                for part in (
                    f"écrivez à {self.email}" if self.email else "",
                    f"appelez le {self.phone}" if self.phone else "",
                )
                if part
            )
            lines.append(
                f"Une question ? {how[0].upper()}{how[1:]} : l'adresse d'envoi de ce message "
                "ne lit pas les réponses."
            )
        return "\n".join(lines)

    def sign(self, message: EmailMessage) -> EmailMessage:
        """Give the message its Reply-To (the centre's address), when there is one."""
        if self.email and "Reply-To" not in message:
            # An Address, not a formatted string: a name with a comma stays one name.
            message["Reply-To"] = Address(display_name=self.name, addr_spec=self.email)
        return message


def centre_contact(settings: MailSettings) -> CentreContact:
    """The centre's contact from the settings."""
    return CentreContact(
        name=settings.centre_name,
        address=settings.centre_address,
        phone=settings.centre_phone,
        email=settings.centre_email,
    )


def console_link(settings: MailSettings, path: str) -> str:
    """An absolute link to a page of the console (`path` starts with a slash)."""
    return settings.console_url.rstrip("/") + path


def beneficiary_page(dossier_id: str, page: str = "") -> str:
    """The path of a beneficiary's console page of a dossier (`/mon-bilan/{id}/...`)."""
    return f"/mon-bilan/{dossier_id}" + (f"/{page}" if page else "")


def staff_dossier_page(dossier_id: str) -> str:
    """The path of a dossier's page in the staff console."""
    return f"/equipe/dossiers/{dossier_id}"
