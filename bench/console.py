"""Benchmark of the web console's pages (issue 14). A script, not a test: prints figures.

    .venv/bin/python -m bench.console [--requests 100] [--organisation 20000]

On the running system (`bilan up`, after `bilan demo`): with `--organisation N`, first grows
the organisation to N dossiers (`bench/organisation.py`); then signs in (the development
sign-in page) as a demo beneficiary whose bilan is completed and as one whose bilan is under
way, then requests each of their pages `--requests` times in a row and prints, per page, the
server's time (its `Server-Timing` header: from the request reaching the console to the first
byte, the calls to the other services included) at p50 and p95, the client's round trip at p95,
and the bytes transferred for the page with its assets (CSS and htmx, gzip as a browser asks
for it). Goal: p95 <= 150 ms, no page over 200 KB. Reading the export or the synthesis is
logged in the beneficiary's access log, as it should be.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import time

import httpx

from bench.organisation import dossier_count, grow
from deploy.local.paths import DATA_DIR
from deploy.tokens import dev_token

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CHANGE = re.compile(r'href="(/mon-bilan/[^"]+/seances/[^"/]+)/changer"')
ASSETS = re.compile(r'(?:href|src)="(/static/[^"]+)"')
TIMING = re.compile(r"dur=([0-9.]+)")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _pick_beneficiary() -> tuple[str, str]:
    admin = {"Authorization": f"Bearer {dev_token(['admin'])}"}
    rows = httpx.get(
        "http://127.0.0.1:8001/dossiers?status=completed&limit=50", headers=admin, timeout=10
    ).json()
    for row in rows:
        dossier = httpx.get(
            f"http://127.0.0.1:8001/dossiers/{row['dossier_id']}", headers=admin, timeout=10
        ).json()
        person = httpx.get(
            f"http://127.0.0.1:8001/beneficiaries/{row['beneficiary_id']}",
            headers=admin,
            timeout=10,
        ).json()
        # The end-to-end journey erases its beneficiary: such a person cannot sign in.
        if dossier.get("synthesis_delivered") and person.get("erased_at") is None:
            return str(row["beneficiary_id"]), str(row["dossier_id"])
    raise SystemExit("no completed dossier with a delivered synthesis: run `bilan demo` first")


def _under_way() -> list[str]:
    """The demo's beneficiaries whose bilan is in one of its phases (some have a session to
    come)."""
    last = DATA_DIR / "demo" / "last.json"
    if not last.exists():
        return []
    result = json.loads(last.read_text())
    phases = ("preliminary", "investigation", "conclusion")
    dossiers = [d for d, stage in result["dossiers"].items() if stage in phases]
    return [str(result["beneficiaries"][d]) for d in dossiers]


def _sign_in(client: httpx.Client, beneficiary: str) -> None:
    page = client.get(f"/connexion/developpement?personne=beneficiary:{beneficiary}")
    found = CSRF.search(page.text)
    if page.status_code != 200 or found is None:
        raise SystemExit("the development sign-in page is not available (bilan up enables it)")
    signed = client.post(
        "/connexion/developpement",
        data={"csrf_token": found.group(1), "kind": "beneficiary", "subject": beneficiary},
    )
    if signed.status_code != 303:
        raise SystemExit(f"sign-in refused: {signed.status_code}")


def _as_people(n: int) -> dict[str, str]:
    """Request n as if from its own browser (an address of the benchmarking range 198.18/15):
    the console passes it on, and the survey service limits failed link attempts per client."""
    return {"X-Forwarded-For": f"198.18.{n // 250}.{n % 250 + 1}"}


def _measure(
    client: httpx.Client, path: str, requests: int, *, many_people: bool = False
) -> dict[str, float]:
    def sent(n: int) -> dict[str, str] | None:
        return _as_people(n) if many_people else None

    for n in range(3):
        client.get(path, headers=sent(n))  # warm-up: connections, caches, first-use imports
    server: list[float] = []
    round_trip: list[float] = []
    for n in range(3, requests + 3):
        began = time.perf_counter()
        response = client.get(path, headers=sent(n))
        round_trip.append((time.perf_counter() - began) * 1000)
        if response.status_code >= 500:
            raise SystemExit(f"{path}: {response.status_code}")
        timing = TIMING.search(response.headers.get("server-timing", ""))
        server.append(float(timing.group(1)) if timing else float("nan"))
    page = client.get(path)
    weight = page.num_bytes_downloaded
    for asset in sorted(set(ASSETS.findall(page.text))):
        weight += client.get(asset).num_bytes_downloaded
    return {
        "status": page.status_code,
        "p50": statistics.median(server),
        "p95": _percentile(server, 0.95),
        "rtt95": _percentile(round_trip, 0.95),
        "kb": weight / 1024,
    }


def _beneficiary_pages(
    url: str, headers: dict[str, str], beneficiary: str, dossier: str, requests: int
) -> dict[str, dict[str, float]]:
    pages: dict[str, dict[str, float]] = {}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
        _sign_in(client, beneficiary)
        if not dossier:
            dossier = str(client.get("/mon-bilan").headers["location"]).rsplit("/", 1)[1]
        for name, path in (
            ("my bilan", f"/mon-bilan/{dossier}"),
            ("deontology notice", f"/mon-bilan/{dossier}/deontologie"),
            ("convention", f"/mon-bilan/{dossier}/convention"),
            ("synthesis", f"/mon-bilan/{dossier}/synthese"),
            ("complaints", f"/mon-bilan/{dossier}/reclamations"),
            ("my data", "/mes-donnees"),
            ("my data, export page", "/mes-donnees/export"),
        ):
            pages[name] = _measure(client, path, requests)
    return pages


def _under_way_pages(
    url: str, headers: dict[str, str], beneficiaries: list[str], requests: int
) -> tuple[str, dict[str, dict[str, float]]]:
    """The pages of the first of `beneficiaries` who has a session to come."""
    for beneficiary in beneficiaries:
        with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
            _sign_in(client, beneficiary)
            home = str(client.get("/mon-bilan").headers["location"])
            found = CHANGE.search(client.get(home).text)
            if found is None:
                continue
            return beneficiary, {
                "my bilan, under way": _measure(client, home, requests),
                "move a session": _measure(client, f"{found.group(1)}/changer", requests),
            }
    raise SystemExit("no demo beneficiary has a session to come: run `bilan demo` again")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--beneficiary", help="a beneficiary id (default: a completed one)")
    parser.add_argument(
        "--organisation", type=int, default=0, help="first grow the organisation to N dossiers"
    )
    args = parser.parse_args()
    if args.organisation:
        opened = asyncio.run(grow(args.organisation, concurrency=16))
        print(f"opened {opened} dossiers to reach {args.organisation}", flush=True)
    if args.beneficiary:
        beneficiary, dossier = args.beneficiary, ""
    else:
        beneficiary, dossier = _pick_beneficiary()
    headers = {"Accept-Encoding": "gzip", "Accept": "text/html"}
    with httpx.Client(base_url=args.url, headers=headers, timeout=10) as anonymous:
        pages = {"sign-in (anonymous)": _measure(anonymous, "/connexion", args.requests)}
        pages["survey, unknown link"] = _measure(
            anonymous, "/public/surveys/no-such-link", args.requests, many_people=True
        )
    pages |= _beneficiary_pages(args.url, headers, beneficiary, dossier, args.requests)
    under_way, more = _under_way_pages(args.url, headers, _under_way(), args.requests)
    pages |= more
    total = asyncio.run(dossier_count())
    print(
        f"{args.requests} requests per page, one at a time; {total} dossiers in the"
        f" organisation; beneficiaries {beneficiary[:8]} (completed) and {under_way[:8]}"
        " (under way)"
    )
    print(f"{'page':<24} {'status':>6} {'p50 ms':>8} {'p95 ms':>8} {'rtt p95':>8} {'KB':>7}")
    for name, figures in pages.items():
        print(
            f"{name:<24} {figures['status']:>6.0f} {figures['p50']:>8.1f} {figures['p95']:>8.1f}"
            f" {figures['rtt95']:>8.1f} {figures['kb']:>7.1f}"
        )


if __name__ == "__main__":
    main()
