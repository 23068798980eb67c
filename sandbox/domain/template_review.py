"""Meta's review of a submitted message template: what it decides, why, and after how long.

# placeholder: replaced by the review rules
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import random


@dataclass(frozen=True, slots=True)
class Submission:
    """What the review sees: the template as accepted (validated)."""

    name: str
    language: str
    category: str
    allow_category_change: bool
    parameter_format: str
    components: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Verdict:
    status: str  # "APPROVED" | "REJECTED"
    reason: str  # Meta's rejected_reason; "NONE" when approved
    category: str  # the category after review (== submission.category unless re-categorised)
    latency_seconds: float
    rule: str  # id of the rule that decided (shown in the tenant journal)


def decide(submission: Submission, rng: random.Random, knobs: object) -> Verdict:
    # placeholder: replaced by the review rules
    return Verdict("APPROVED", "NONE", submission.category, 60.0, "placeholder")
