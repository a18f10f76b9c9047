"""Reads the event tables of the integration contract, `../shared/events.md`, for tests.

The contract lives beside the repository (`<repo root>/../shared/events.md`), in CI as on a
workstation. The parser knows just enough Markdown for the contract's three tables:

    ## bilan.<service>.events (producer: <service> service)
    | Event | Key | Data fields |        (the dossier table has no Key column)
    | Name  | key (subject: x) | a, b (`v1`, `v2`), c (null or …), d — comment |

and the sentence after the dossier table that gives its key rule. If the contract's layout
changes, parsing fails loudly rather than checking less.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
EVENTS_MD = REPO_ROOT.parent / "shared" / "events.md"

_SECTION = re.compile(r"^## (bilan\.(\w+)\.events) \(producer: (\w+) service\)\s*$")
_FIELD = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)\s*(?:\((?P<note>.*)\))?$")
_KEY = re.compile(r"^`?(?P<key>[a-z_]+)`?(?:\s*\(subject: `?(?P<subject>[a-z_]+)`?\))?$")
_KEY_RULE = re.compile(
    r"Key and subject: `(?P<default>[a-z_]+)`,\s+except\s+(?:the\s+)?(?P<exceptions>.+?),"
    r"\s+which\s+are\s+keyed\s+by\s+`(?P<other>[a-z_]+)`",
    re.DOTALL,
)


@dataclass(frozen=True)
class FieldSpec:
    """One data field of a table row."""

    name: str
    note: str
    """The parenthesised remark after the name, or ''."""
    values: frozenset[str] | None
    """The closed list, given in the row or earlier in the same table for the same name."""
    is_list: bool
    nullable: bool


@dataclass(frozen=True)
class EventSpec:
    """One row of a table: an event type as the contract states it."""

    topic: str
    service: str
    name: str
    key: str
    subject: str
    fields: tuple[FieldSpec, ...]

    @property
    def ce_type(self) -> str:
        return f"bilan.{self.service}.{self.name}.v1"

    def field(self, name: str) -> FieldSpec:
        return next(spec for spec in self.fields if spec.name == name)


def read_contract() -> list[EventSpec]:
    """The event types of `../shared/events.md`, in the order of its tables."""
    if not EVENTS_MD.is_file():
        raise FileNotFoundError(
            f"the integration contract is expected at {EVENTS_MD} (beside the repository)"
        )
    return parse_contract(EVENTS_MD.read_text(encoding="utf-8"))


def parse_contract(text: str) -> list[EventSpec]:
    rows: list[tuple[str, str, str, list[str]]] = []  # topic, service, name, cells
    topic = service = ""
    for line in text.splitlines():
        section = _SECTION.match(line)
        if section:
            topic, service, producer = section.groups()
            if producer != service:
                raise ValueError(f"{topic} is produced by {producer}, not {service}")
            continue
        if line.startswith("## "):
            topic = service = ""
            continue
        if not topic or not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] == "Event" or set(cells[0]) <= {"-", ":"}:
            continue
        rows.append((topic, service, cells[0], cells[1:]))
    if not rows:
        raise ValueError("no event table found in the contract")

    default_key, exceptions, other_key = _dossier_key_rule(text)
    events: list[EventSpec] = []
    known_values: dict[tuple[str, str], tuple[frozenset[str], bool]] = {}
    for topic, service, name, cells in rows:
        if len(cells) == 2:
            key_match = _KEY.match(cells[0])
            if key_match is None:
                raise ValueError(f"cannot read the key of {name}: {cells[0]!r}")
            key = key_match["key"]
            subject = key_match["subject"] or key
            data = cells[1]
        elif len(cells) == 1:  # the dossier table: the key rule is in the text
            key = other_key if any(fnmatch.fnmatch(name, p) for p in exceptions) else default_key
            subject = key
            data = cells[0]
        else:
            raise ValueError(f"unexpected columns in the row of {name}: {cells!r}")
        fields = tuple(_parse_field(topic, item, known_values) for item in _split_fields(data))
        events.append(EventSpec(topic, service, name, key, subject, fields))
    return events


def _dossier_key_rule(text: str) -> tuple[str, list[str], str]:
    rule = _KEY_RULE.search(text)
    if rule is None:
        raise ValueError("the dossier key rule ('Key and subject: …') is not in the contract")
    exceptions = [
        part.strip().removesuffix(" events")
        for part in re.split(r",|\band\b", re.sub(r"\s+", " ", rule["exceptions"]))
        if part.strip()
    ]
    return rule["default"], exceptions, rule["other"]


def _split_fields(data: str) -> list[str]:
    data = data.split(" — ", 1)[0]  # an em dash starts a comment on the whole event
    items: list[str] = []
    depth = 0
    current: list[str] = []
    for char in data:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    items.append("".join(current).strip())
    return [item for item in items if item]


def _parse_field(
    topic: str, item: str, known: dict[tuple[str, str], tuple[frozenset[str], bool]]
) -> FieldSpec:
    match = _FIELD.match(item)
    if match is None:
        raise ValueError(f"cannot read the field {item!r} in {topic}")
    name, note = match["name"], match["note"] or ""
    nullable = bool(re.search(r"\bnull(able)?\b", note))
    values: frozenset[str] | None = None
    is_list = note.startswith("list of")
    listed = re.findall(r"`([^`]+)`", note)
    if listed and "e.g." not in note:
        values = frozenset(listed)
        known[(topic, name)] = (values, is_list)
    elif not note and (topic, name) in known:
        values, is_list = known[(topic, name)]
    else:
        # "null or a phase": the values of another field of the same table.
        other = re.fullmatch(r"null or an? ([a-z_]+)", note)
        if other and (topic, other[1]) in known:
            values = known[(topic, other[1])][0]
    return FieldSpec(name, note, values, is_list, nullable)
