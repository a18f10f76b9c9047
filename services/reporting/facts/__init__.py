"""Facts projected from the three topics, folded order- and duplicate-independently."""

from .state import FactStore
from .store import apply, apply_event, handles

__all__ = ["FactStore", "apply", "apply_event", "handles"]
