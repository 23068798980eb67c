"""Meta's review of a message template (meta-lifecycle.md §4.5, §4.7; SEED-TEMPLATE-1, -2, -6): scheduled at
submission on the tenant clock, applied when it falls due or when `POST /_sandbox/tenants/{tenant}/reviews`
(`kind: template`) forces it.

`sandbox.domain.template_review.decide` says what the review ends with and after how long, drawing from a generator
seeded by the tenant's seed and the template's id (the same seed gives the same spread, whatever else the tenant
does). This module turns the verdict into a pending decision and carries it out: the status move, `rejected_reason`,
a re-categorisation (`previous_category`) or a refused category (`correct_category`), and their webhooks.

A pending decision says `APPROVED` (its `reason` the category approved in, when the review changed it) or
`REJECTED` (its `reason` Meta's rejection reason; a category as reason means INCORRECT_CATEGORY, that category
being the correct one).
"""

from __future__ import annotations

import json
import random

from sandbox.context import Tenant
from sandbox.domain import template_review
from sandbox.domain.decision import PendingDecision, ReviewKind
from sandbox.domain.template import (
    TEMPLATE_LIFECYCLE,
    MessageTemplate,
    RejectionReason,
    TemplateCategory,
    TemplateStatus,
)
from sandbox.services import decisions

KIND = ReviewKind.TEMPLATE.value
CATEGORIES = frozenset(TemplateCategory)
_REASONS = frozenset(RejectionReason)
REJECTION_REASONS = _REASONS - {RejectionReason.NONE}
_UNDER_REVIEW = (TemplateStatus.PENDING, TemplateStatus.IN_APPEAL)


def submission(template: MessageTemplate) -> template_review.Submission:
    return template_review.Submission(
        name=template.name,
        language=template.language,
        category=template.category,
        allow_category_change=template.allow_category_change,
        parameter_format=template.parameter_format,
        components=tuple(template.components),
    )


def review_rng(tenant: Tenant, template: MessageTemplate) -> random.Random:
    # Seeded by what is reviewed, never by the clock (a tenant's clock starts at the wall time it was created): the
    # same seed and the same submissions replay the same spread; an edit (new content) draws anew.
    content = json.dumps([template.category, template.components], sort_keys=True, default=str)
    return random.Random(f"{tenant.seed}:template-review:{template.id}:{content}")


def submit(tenant: Tenant, template: MessageTemplate) -> PendingDecision:
    """Ask the review rules for a verdict and schedule it; a verdict due at once is applied before this returns."""
    verdict = template_review.decide(submission(template), review_rng(tenant, template), tenant.policy.template_review)
    template.review_rule = verdict.rule
    decision, reason = outcome(template, verdict)
    pending = decisions.schedule(tenant, KIND, template.id, max(verdict.latency_seconds, 0.0), decision, reason)
    if verdict.latency_seconds <= 0:
        tenant.clock.run_due()
    return pending


def outcome(template: MessageTemplate, verdict: template_review.Verdict) -> tuple[str, str | None]:
    """The pending decision a verdict stands for: a category as the reason means approved in it (re-categorised) or,
    for a rejection, INCORRECT_CATEGORY with it as `correct_category`. The review rules decide; nothing is re-judged."""
    changed = verdict.category if verdict.category in CATEGORIES and verdict.category != template.category else None
    if verdict.status != TemplateStatus.APPROVED:
        if verdict.reason == RejectionReason.INCORRECT_CATEGORY and changed:
            return TemplateStatus.REJECTED.value, changed
        return TemplateStatus.REJECTED.value, verdict.reason if verdict.reason in _REASONS else None
    return TemplateStatus.APPROVED.value, changed


def cancel(tenant: Tenant, template: MessageTemplate) -> None:
    decisions.cancel(tenant, KIND, template.id)


def _apply(tenant: Tenant, pending: PendingDecision) -> None:
    template = tenant.store.templates.get(pending.target)
    if template is None or template.status not in _UNDER_REVIEW:
        return
    reason = pending.reason
    if pending.decision == TemplateStatus.APPROVED:
        if reason in CATEGORIES and reason != template.category:
            template.recategorise(tenant.clock.now(), reason)
        decisions.step(tenant, TEMPLATE_LIFECYCLE, template, "approve", RejectionReason.NONE.value)
        return
    if reason in CATEGORIES:
        template.correct_category = reason
        reason = RejectionReason.INCORRECT_CATEGORY.value
    decisions.step(tenant, TEMPLATE_LIFECYCLE, template, "reject", reason or RejectionReason.INVALID_FORMAT.value)


REVIEWER = decisions.reviewer(
    decisions.Reviewer(
        KIND,
        frozenset({TemplateStatus.APPROVED.value, TemplateStatus.REJECTED.value}),
        frozenset(_REASONS | CATEGORIES),
        _apply,
    )
)
