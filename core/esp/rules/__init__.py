"""Finding rules: small registered units (see :mod:`core.esp.rules.registry`)."""

from core.esp.rules.base import Context, Found, PhaseState, StepState
from core.esp.rules.registry import RULES, SUMMARY_RULES, run_rules

__all__ = [
    "RULES",
    "SUMMARY_RULES",
    "Context",
    "Found",
    "PhaseState",
    "StepState",
    "run_rules",
]
