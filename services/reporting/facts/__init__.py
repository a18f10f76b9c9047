"""Facts projected from the three topics, folded order- and duplicate-independently."""

from .store import FactStore, apply, apply_event, handles

__all__ = ["FactStore", "apply", "apply_event", "handles"]
