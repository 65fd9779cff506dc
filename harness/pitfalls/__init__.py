"""The pitfall lab: every connection failure from the seed articles, reproduced against a real Postgres, then fixed.

Each pitfall is one module (``p1_leaked_sessions`` ... ``p8_pool_options_null_pool``): its docstring explains the bug,
the bad code sits next to the fix, and ``PITFALL`` records the symptom, cause, fix and the two runs. ``runner`` runs
them, each against a fresh database (or a small server of its own); ``report`` renders the results; ``cli`` is
``harness pitfalls``.
"""

from __future__ import annotations

from harness.pitfalls.base import Lab, Outcome, Pitfall, exception_text
from harness.pitfalls.registry import PITFALLS, by_number

__all__ = ["PITFALLS", "Lab", "Outcome", "Pitfall", "by_number", "exception_text"]
