"""A template's quality score and pauses (§4.8, §4.9): customers' reactions to its messages recompute the score
(`template_reaction`, wired from the control plane's customer reactions), QA forces it (`force_quality`), and a RED
score on an APPROVED template pauses it on the tenant clock (FIRST_PAUSE 3 h, SECOND_PAUSE 6 h, then DISABLED).
`POST /{template-id}/unpause` ends a pause early (`unpause`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sandbox.context import Tenant
from sandbox.domain.errors import Invalid, NotFound
from sandbox.domain.events import TemplateQualityChanged
from sandbox.domain.template import TEMPLATE_LIFECYCLE, MessageTemplate, QualityScore, TemplateStatus
from sandbox.domain.template_quality import (
    QUALITY_SCORE_LIFECYCLE,
    REACTIONS,
    UNPAUSE_INFO,
    TemplateHealth,
    pause_hours,
    pause_info,
    score_trigger,
)
from sandbox.services import decisions

RED = QualityScore.RED.value
NONE = "NONE"


def health_of(tenant: Tenant, template_id: str) -> TemplateHealth:
    found = tenant.store.template_health.get(template_id)
    if found is None:
        found = tenant.store.template_health[template_id] = TemplateHealth()
    return found


def template_of(tenant: Tenant, template_id: str) -> MessageTemplate:
    template = tenant.store.templates.get(template_id)
    if template is None or template.status == TemplateStatus.DELETED:
        raise NotFound(f"no message template {template_id!r} in this tenant")
    return template


def template_reaction(tenant: Tenant, template_id: str, kind: str, at: datetime) -> str:
    """A customer blocked or reported the business, or read a message, sent with this template: the score the
    window now gives (published as `message_template_quality_update` when it changes); RED pauses an APPROVED
    template. Answers the template's score."""
    if kind not in REACTIONS:
        raise Invalid(f"a template reaction is one of {', '.join(REACTIONS)}, not {kind!r}")
    template = template_of(tenant, template_id)
    score = health_of(tenant, template_id).react(kind, at, tenant.policy.template_quality)
    if score is not None and template.status == TemplateStatus.APPROVED:
        rate(tenant, template, score)
    return template.quality_score


def force_quality(tenant: Tenant, template_id: str, score: str) -> MessageTemplate:
    """`PUT /_sandbox/tenants/{tenant}/templates/{id}/quality`: the score now, as if customers had made it; RED on
    an APPROVED template pauses it (each time: forcing RED three times disables it)."""
    template = template_of(tenant, template_id)
    rate(tenant, template, score)
    tenant.clock.run_due()
    return template


def rate(tenant: Tenant, template: MessageTemplate, score: str) -> None:
    now = tenant.clock.now()
    previous = template.quality_score
    template.quality_score_date = int(now.timestamp())
    if previous != score:
        QUALITY_SCORE_LIFECYCLE.fire(template, score_trigger(score), now)
        tenant.publish([TemplateQualityChanged(now, template=template, previous=previous, new=score)])
    if score == RED and template.status == TemplateStatus.APPROVED:
        _pause(tenant, template, now)


def _pause(tenant: Tenant, template: MessageTemplate, now: datetime) -> None:
    health = health_of(tenant, template.id)
    health.forget()
    hours = pause_hours(health.pauses, tenant.policy.template_quality)
    if hours is None:
        _cancel_resume(health)
        disable_info = {"disable_date": int(now.timestamp())}
        decisions.step(tenant, TEMPLATE_LIFECYCLE, template, "disable", NONE, None, disable_info)
        return
    info = pause_info(health.pauses, hours, now + timedelta(hours=hours))
    health.pauses += 1
    if decisions.step(tenant, TEMPLATE_LIFECYCLE, template, "pause", NONE, info):
        _cancel_resume(health)
        health.resume = tenant.clock.call_later(hours * 3600, partial(_resume, tenant, template))


def _resume(tenant: Tenant, template: MessageTemplate) -> bool:
    health = health_of(tenant, template.id)
    health.resume = None
    health.forget()
    return decisions.step(tenant, TEMPLATE_LIFECYCLE, template, "unpause", NONE, dict(UNPAUSE_INFO))


def _cancel_resume(health: TemplateHealth) -> None:
    if health.resume is not None:
        health.resume.cancel()
        health.resume = None


def unpause(tenant: Tenant, template: MessageTemplate) -> dict[str, Any]:
    """`POST /{template-id}/unpause`: a PAUSED template is APPROVED again now (`UNPAUSE`); any other answers
    `success: false` with the reason, as Meta does."""
    if template.status != TemplateStatus.PAUSED:
        return {
            "success": False,
            "reason": f"The template is {template.status}, not PAUSED: there is nothing to unpause.",
        }
    _cancel_resume(health_of(tenant, template.id))
    _resume(tenant, template)
    tenant.clock.run_due()
    return {"success": True}


def quality_document(tenant: Tenant, template: MessageTemplate) -> dict[str, Any]:
    """The template's score with what drives it: the reactions in the window, the pauses, when the pause ends."""
    health = health_of(tenant, template.id)
    resume_at = health.resume.when if health.resume is not None else None
    return {
        "id": template.id,
        "status": template.status,
        "quality_score": {"score": template.quality_score, "date": template.quality_score_date},
        "reactions": len(health.reactions),
        "pauses": health.pauses,
        "unpause_at": resume_at,
    }
