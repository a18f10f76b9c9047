"""`python -m shared.contracts [--check]`: write (or check) the generated contract documents.

The models are the source of truth; `contract/asyncapi.json` and `contract/events.md` are
generated from them and committed, so that anyone reading the repository, or holding a copy
of the topics, has the contract without running anything. `--check` exits 1 when a committed
document differs from what the models give (CI runs the same comparison as a test).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from shared.contracts.asyncapi import asyncapi_document
from shared.contracts.page import contract_page

CONTRACT_DIR = Path(__file__).resolve().parents[2] / "contract"
ASYNCAPI_FILE = CONTRACT_DIR / "asyncapi.json"
PAGE_FILE = CONTRACT_DIR / "events.md"


def render_asyncapi(document: dict[str, Any]) -> str:
    """The committed form: indented JSON, non-ASCII kept, a final newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def generated() -> dict[Path, str]:
    """Each generated file and its text."""
    document = asyncapi_document()
    return {ASYNCAPI_FILE: render_asyncapi(document), PAGE_FILE: contract_page(document)}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for path, text in generated().items():
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        if check:
            stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            sys.stdout.write(f"wrote {path.relative_to(CONTRACT_DIR.parent)}\n")
    for path in stale:
        sys.stderr.write(f"{path.relative_to(CONTRACT_DIR.parent)} is not what the models give\n")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
