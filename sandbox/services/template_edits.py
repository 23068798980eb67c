"""Editing a message template, `POST /{template-id}` (meta-lifecycle.md §4.3; SEED-TEMPLATE-3, -4, -5).

Only APPROVED, REJECTED and PAUSED templates can be edited; an APPROVED one at most once per 24 hours and ten times
per 30 days, and not its category. The edited template is checked as creation checks it, goes back to PENDING and is
reviewed again by the review creation schedules (`message_template_review.submit`), with a
`message_template_status_update` (PENDING) and a `message_template_components_update`. A refused edit changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sandbox.context import Tenant
from sandbox.domain import template_components as rules
from sandbox.domain.events import TemplateComponentsChanged
from sandbox.domain.template import TEMPLATE_LIFECYCLE, MessageTemplate, TemplateStatus
from sandbox.domain.template_problems import TemplateRefused
from sandbox.errors import GraphError, GraphErrorCode
from sandbox.services import decisions, message_template_review
from sandbox.services.message_templates import graph_error

EDITABLE = frozenset({TemplateStatus.APPROVED, TemplateStatus.REJECTED, TemplateStatus.PAUSED})
FIELDS = frozenset({"components", "category", "parameter_format", "message_send_ttl_seconds"})
TTL_MAX = 30 * 86_400
DAY = timedelta(days=1)
MONTH = timedelta(days=30)


def edit_template(tenant: Tenant, template: MessageTemplate, body: Any) -> MessageTemplate:
    """The template edited and under review again, or Meta's refusal with nothing changed."""
    if not isinstance(body, dict):
        raise GraphError(GraphErrorCode.INVALID_PARAMETER, "The request body must be a JSON object.")
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise GraphError(
            GraphErrorCode.INVALID_PARAMETER,
            f"Param {unknown[0]} can't be edited: only category, components and message_send_ttl_seconds can.",
        )
    if not body:
        raise GraphError(GraphErrorCode.INVALID_PARAMETER, "Nothing to edit: give components or category.")
    now = tenant.clock.now()
    _check_status(template)
    category = str(body.get("category", template.category)).upper()
    if template.status == TemplateStatus.APPROVED and category != template.category:
        raise GraphError(GraphErrorCode.INVALID_PARAMETER, "The category of an approved template can't be edited.")
    _check_rate(tenant, template, now)
    ttl = _ttl(body.get("message_send_ttl_seconds"))
    submission = {
        "name": template.name,
        "language": template.language,
        "category": category,
        "allow_category_change": template.allow_category_change,
        "parameter_format": body.get("parameter_format", template.parameter_format),
        "components": body.get("components", template.components),
    }
    try:
        draft = rules.draft(submission, tenant.policy.templates)
    except TemplateRefused as refused:
        raise graph_error(refused) from refused
    if template.status == TemplateStatus.APPROVED:
        template.approved_edits = [at for at in template.approved_edits if now - at < MONTH] + [now]
    template.submitted_at = now
    template.category, template.parameter_format = draft.category, draft.parameter_format
    template.components = list(draft.components)
    template.previous_category = template.correct_category = None
    if ttl is not None:
        template.extra["message_send_ttl_seconds"] = ttl
    message_template_review.cancel(tenant, template)
    decisions.step(tenant, TEMPLATE_LIFECYCLE, template, "edit")
    tenant.publish([TemplateComponentsChanged(now, template=template)])
    message_template_review.submit(tenant, template)
    return template


def _check_status(template: MessageTemplate) -> None:
    if template.status in EDITABLE:
        return
    if template.status in (TemplateStatus.PENDING, TemplateStatus.IN_APPEAL):
        raise GraphError(
            GraphErrorCode.INVALID_PARAMETER,
            f"Message template {template.name} is in review ({template.status}) and can't be edited until the "
            "review is over.",
        )
    raise GraphError(
        GraphErrorCode.INVALID_PARAMETER, f"A message template in status {template.status} can't be edited."
    )


def _check_rate(tenant: Tenant, template: MessageTemplate, now: datetime) -> None:
    limits = tenant.policy.templates
    last = template.submitted_at or template.created_at
    if limits.one_submission_per_day and last is not None and now - last < DAY:
        raise _too_many(template, "submitted for review once per day", last + DAY)
    if template.status != TemplateStatus.APPROVED:
        return
    today = sorted(at for at in template.approved_edits if now - at < DAY)
    if len(today) >= limits.approved_edits_per_day:
        raise _too_many(template, f"edited {limits.approved_edits_per_day} time(s) in 24 hours", _free(today, DAY))
    month = sorted(at for at in template.approved_edits if now - at < MONTH)
    if len(month) >= limits.approved_edits_per_month:
        raise _too_many(template, f"edited {limits.approved_edits_per_month} times in 30 days", _free(month, MONTH))


def _free(times: list[datetime], window: timedelta) -> datetime | None:
    return times[0] + window if times else None


def _too_many(template: MessageTemplate, what: str, free_at: datetime | None) -> GraphError:
    after = f" Try again after {free_at:%Y-%m-%d %H:%M} UTC." if free_at is not None else ""
    return GraphError(
        GraphErrorCode.TEMPLATE_RATE_LIMIT, f"Message template {template.name} can only be {what}.{after}"
    )


def _ttl(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not -1 <= value <= TTL_MAX:
        raise GraphError(
            GraphErrorCode.INVALID_PARAMETER,
            f"Param message_send_ttl_seconds must be an integer from -1 to {TTL_MAX}.",
        )
    return value
