"""What an auditor sees of the journey in the reporting API: the dossier's checklist and the
indicators of its site, which follow the topics asynchronously (hence the bounded waits)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from deploy.client import ApiError, BilanClient, Headers, bearer, wait_until


@dataclass
class Auditor:
    api: BilanClient
    site: str
    dossier: str
    since: date

    @property
    def token(self) -> Headers:
        return bearer(["auditor"], [self.site])

    def checklist(self) -> dict[str, Any]:
        """The checks of the dossier (an empty dict while reporting has not seen it)."""
        try:
            body = self.api.get("reporting", f"/v1/dossiers/{self.dossier}/checklist", self.token)
        except ApiError as error:
            if error.status == 404:
                return {}
            raise
        checks: dict[str, Any] = body["checks"]
        return checks

    def wait_checks(self, *names: str) -> dict[str, Any]:
        """Waits until every named check holds; returns the whole checklist."""

        def hold() -> dict[str, Any] | None:
            checks = self.checklist()
            return checks if checks and all(checks[n]["holds"] for n in names) else None

        found: dict[str, Any] = wait_until(hold, f"the checklist to show {', '.join(names)}")
        return found

    def indicators(self, until: date) -> dict[str, Any]:
        """The site's indicators from the journey's first day to `until` (exclusive)."""
        body = self.api.get(
            "reporting",
            "/v1/indicators",
            self.token,
            params={
                "from": self.since.isoformat(),
                "to": until.isoformat(),
                "site": self.site,
            },
        )
        values: dict[str, Any] = body["indicators"]
        return values

    def wait_indicator(self, until: date, name: str, expected: Any) -> dict[str, Any]:
        """Waits until `name`'s value is `expected`; returns every indicator then."""

        def shown() -> dict[str, Any] | None:
            values = self.indicators(until)
            return values if values[name]["value"] == expected else None

        found: dict[str, Any] = wait_until(shown, f"indicator {name} = {expected!r}")
        return found


def day_after(moment_iso: str) -> date:
    return date.fromisoformat(moment_iso[:10]) + timedelta(days=1)
