"""Indicators of indicators.md and the per-dossier checklist, computed from the facts."""

from .checklist import CHECKS, checklist
from .compute import INDICATOR_NAMES, compute
from .index import QueryEngine

__all__ = ["CHECKS", "INDICATOR_NAMES", "QueryEngine", "checklist", "compute"]
