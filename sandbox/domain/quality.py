"""A number's quality rating (meta-lifecycle.md §3.8): customers' reactions, the negative-feedback rate over a
moving window of the number's business-initiated messages, and the rating it gives.

Meta does not publish its formula ("recent user feedback (blocks, reports, read rates) over ~7 days"); the
sandbox's is in docs/fidelity-choices.md: blocks and reports over business-initiated messages, in day buckets.
Since 2025-10-07 a RED number is no longer FLAGGED and no tier is lowered (`legacy` tells the eras apart).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sandbox.domain.lifecycle import declare
from sandbox.domain.messaging_limit import DAY, MovingUniqueUsers
from sandbox.domain.phone_number import QualityRating

QualityRule = Literal["auto", "legacy", "current"]
ReactionKind = Literal["block", "report", "read"]
NEGATIVE = frozenset({"block", "report"})
# The day Meta dropped FLAGGED and quality downgrades (§3.6, §3.8).
CURRENT_RULE_START = datetime(2025, 10, 7, tzinfo=UTC)
BUCKET = DAY

R = QualityRating
QUALITY_LIFECYCLE = declare(
    "phone_number.quality_rating",
    "quality_rating",
    QualityRating,
    [
        {"trigger": f"rate_{state.lower()}", "source": [other for other in R if other is not state], "dest": state}
        for state in R
    ],
    "The number's quality rating from customers' blocks and reports (or forced); any rating may follow any other.",
)


def legacy(rule: str, at: datetime) -> bool:
    """Whether `at` falls under the rules before 2025-10-07 (FLAGGED, DOWNGRADE): forced by the knob, or by date."""
    if rule == "auto":
        return at < CURRENT_RULE_START
    return rule == "legacy"


def trigger_for(rating: str) -> str:
    return f"rate_{rating.lower()}"


def rating_for(negative: int, sent: int, *, yellow: float, red: float, min_sample: int, current: str) -> str:
    """The rating a window of `sent` business-initiated messages with `negative` blocks and reports gives; below
    `min_sample` messages a window with feedback is too small to judge (the rating stays), one without is GREEN."""
    if negative == 0:
        return R.GREEN.value
    if sent < min_sample:
        return current
    rate = negative / sent
    if rate >= red:
        return R.RED.value
    if rate >= yellow:
        return R.YELLOW.value
    return R.GREEN.value


@dataclass(frozen=True, slots=True)
class Reaction:
    """One customer's reaction to the business on one number; `template` is (name, language, id) when the
    message reacted to was a template message (what a template's own quality would read)."""

    kind: str
    wa_id: str
    at: datetime
    message_id: str | None = None
    template: tuple[str, str, str] | None = None

    def document(self) -> dict[str, Any]:
        template = None
        if self.template is not None:
            name, language, template_id = self.template
            template = {"name": name, "language": language, "id": template_id}
        return {
            "kind": self.kind,
            "wa_id": self.wa_id,
            "at": self.at,
            "message_id": self.message_id,
            "template": template,
        }


@dataclass(slots=True, eq=False)
class NumberQuality:
    """Per number: business-initiated messages and negative reactions per day bucket (oldest first, running
    totals kept), the newest reactions, the legacy flag's deadline, and what the throughput upgrade reads."""

    reactions: deque[Reaction]
    buckets: deque[list[int]] = field(default_factory=deque)
    sent: int = 0
    negative: int = 0
    flagged_until: datetime | None = None
    handle: Any = None
    recheck_handle: Any = None
    unique_users: MovingUniqueUsers = field(default_factory=lambda: MovingUniqueUsers(DAY))
    upgrade_handle: Any = None

    def _bucket(self, now: datetime) -> list[int]:
        day = int(now.timestamp() // BUCKET.total_seconds())
        buckets = self.buckets
        if buckets and buckets[-1][0] == day:
            return buckets[-1]
        bucket = [day, 0, 0]
        buckets.append(bucket)
        return bucket

    def count_sent(self, now: datetime) -> None:
        self._bucket(now)[1] += 1
        self.sent += 1

    def react(self, reaction: Reaction) -> None:
        self.reactions.append(reaction)
        if reaction.kind in NEGATIVE:
            self._bucket(reaction.at)[2] += 1
            self.negative += 1

    def expire(self, now: datetime, window_days: int) -> None:
        first = int(now.timestamp() // BUCKET.total_seconds()) - window_days + 1
        buckets = self.buckets
        while buckets and buckets[0][0] < first:
            _, sent, negative = buckets.popleft()
            self.sent -= sent
            self.negative -= negative

    def next_expiry(self, window_days: int) -> datetime | None:
        """When the oldest bucket with negative feedback leaves the window (the rating may recover then)."""
        for day, _, negative in self.buckets:
            if negative:
                return datetime.fromtimestamp((day + window_days) * BUCKET.total_seconds(), UTC)
        return None

    def document(self, now: datetime) -> dict[str, Any]:
        return {
            "business_initiated": self.sent,
            "negative": self.negative,
            "rate": round(self.negative / self.sent, 6) if self.sent else None,
            "flagged_until": self.flagged_until,
            "unique_users_24h": self.unique_users.count(now),
            "reactions": [reaction.document() for reaction in reversed(self.reactions)],
        }
