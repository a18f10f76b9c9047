"""Where the native local stack keeps its files.

Everything it writes lives under the repository's git-ignored ``.data/`` folder, so
``bilan stack down && rm -rf .data`` resets it completely.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

LOCAL_DIR: Final = Path(__file__).resolve().parent
REPO_ROOT: Final = LOCAL_DIR.parents[1]
DATA_DIR: Final = REPO_ROOT / ".data"


def relative(path: Path) -> str:
    """Show ``path`` relative to the repository when it lives inside it."""
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
