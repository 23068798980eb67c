"""Deleting, archiving and migrating message templates (meta-lifecycle.md §4.4, §4.5, §4.10; SEED-TEMPLATE-7).

`DELETE /{waba-id}/message_templates` takes `name` (every language), `hsm_id` with `name` (one template) or
`hsm_ids` (up to 100, not with the others; one bad id refuses them all). A deleted template is PENDING_DELETION,
then DELETED after policy `templates.deletion_seconds` of tenant time; its name and language stay blocked for
`templates.name_blocked_days` from the call (`check_unique`). A deletion refused or failed by a fault changed nothing
and can be retried.

Archiving (`POST /{waba-id}/message_templates/archive`, `.../unarchive`, `hsm_ids` as a comma list) answers each
template on its own: archived, or failed with a reason. Migration recreates the source WABA's approved templates of
quality GREEN or UNKNOWN on another WABA of the same business, with new ids.
"""

from __future__ import annotations

from typing import Any

from sandbox import json_bodies
from sandbox.context import Tenant
from sandbox.domain.template import (
    DELETABLE,
    TEMPLATE_LIFECYCLE,
    MessageTemplate,
    QualityScore,
    TemplateStatus,
)
from sandbox.errors import GraphError, GraphErrorCode
from sandbox.services import decisions, message_template_review
from sandbox.services.message_templates import find_template, templates_of

BULK_MAX = 100
MIGRATE_MAX = 500
PAGE_MAX = 1_000
MIGRATABLE_QUALITY = frozenset({QualityScore.GREEN, QualityScore.UNKNOWN})


def _invalid(details: str) -> GraphError:
    return GraphError(GraphErrorCode.INVALID_PARAMETER, details)


def _ids(value: Any, name: str, limit: int) -> list[str]:
    """`[1, 2]`, `["1","2"]` or `1,2`: the ids, at most `limit`."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json_bodies.loads(text)
            except ValueError:
                raise _invalid(f"Param {name} must be an array of template ids.") from None
        else:
            value = [part for part in text.split(",") if part.strip()]
    if not isinstance(value, list) or not value or len(value) > limit:
        raise _invalid(f"Param {name} must be an array of 1 to {limit} template ids.")
    ids = [str(item).strip() for item in value]
    if not all(item.isdigit() for item in ids):
        raise _invalid(f"Param {name} must contain only template ids.")
    return list(dict.fromkeys(ids))


def _live(tenant: Tenant, waba_id: str, template_id: str) -> MessageTemplate | None:
    template = tenant.store.templates.get(template_id)
    if template is None or template.waba_id != waba_id or template.status == TemplateStatus.DELETED:
        return None
    return template


def deletion_targets(tenant: Tenant, waba_id: str, query: dict[str, Any]) -> list[MessageTemplate]:
    """The templates a DELETE names, or Meta's refusal."""
    name, hsm_id, hsm_ids = query.get("name"), query.get("hsm_id"), query.get("hsm_ids")
    if hsm_ids is not None:
        if name is not None or hsm_id is not None:
            raise _invalid("Param hsm_ids can't be combined with name or hsm_id.")
        targets = []
        for template_id in _ids(hsm_ids, "hsm_ids", BULK_MAX):
            template = _live(tenant, waba_id, template_id)
            if template is None:
                raise _invalid(f"Message template {template_id} does not exist on this WhatsApp Business Account.")
            targets.append(template)
        return targets
    if not isinstance(name, str) or not name:
        raise _invalid("Param name is required (or hsm_ids).")
    if hsm_id is not None:
        template = _live(tenant, waba_id, str(hsm_id))
        if template is None or template.name != name:
            raise _invalid(f"Message template {hsm_id} with name {name} does not exist.")
        return [template]
    targets = [t for t in templates_of(tenant, waba_id) if t.name == name and t.status != TemplateStatus.DELETED]
    if not targets:
        raise _invalid(f"Message template {name} does not exist.")
    return targets


def delete_templates(tenant: Tenant, waba_id: str, query: dict[str, Any]) -> list[MessageTemplate]:
    """All or nothing: a DISABLED template among them refuses the whole call (§4.4)."""
    targets = deletion_targets(tenant, waba_id, query)
    for template in targets:
        if template.status not in DELETABLE:
            raise _invalid(f"Message template {template.name} ({template.language}) is disabled and can't be deleted.")
    seconds = tenant.policy.templates.deletion_seconds
    for template in targets:
        if template.status == TemplateStatus.PENDING_DELETION:
            continue
        message_template_review.cancel(tenant, template)
        if seconds <= 0:
            decisions.step(tenant, TEMPLATE_LIFECYCLE, template, "delete")
            continue
        decisions.step(tenant, TEMPLATE_LIFECYCLE, template, "schedule_deletion")
        decisions.after(tenant, seconds, TEMPLATE_LIFECYCLE, template, "finish_deletion")
    return targets


def archive_templates(tenant: Tenant, waba_id: str, body: Any, unarchive: bool = False) -> dict[str, Any]:
    """`{"archived_templates": [...], "failed_templates": {id: reason}}` (`unarchived_templates` to unarchive)."""
    if not isinstance(body, dict):
        raise _invalid("The request body must be a JSON object.")
    trigger, wanted = ("unarchive", TemplateStatus.ARCHIVED) if unarchive else ("archive", TemplateStatus.APPROVED)
    done: list[str] = []
    failed: dict[str, str] = {}
    for template_id in _ids(body.get("hsm_ids"), "hsm_ids", BULK_MAX):
        template = _live(tenant, waba_id, template_id)
        if template is None:
            failed[template_id] = "Template not found"
        elif template.status != wanted:
            failed[template_id] = f"Template status is {template.status}; only {wanted} templates can be {trigger}d"
        else:
            decisions.step(tenant, TEMPLATE_LIFECYCLE, template, trigger)
            done.append(template_id)
    return {f"{trigger}d_templates": done, "failed_templates": failed}


def migrate_templates(tenant: Tenant, waba_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """`POST /{waba-id}/migrate_message_templates`: the source WABA's templates, `count` per page (500 at most),
    recreated here APPROVED with new ids; the others answered in `failed_templates` with a reason."""
    source_id = str(params.get("source_waba_id") or "")
    source = tenant.store.wabas.get(source_id)
    destination = tenant.store.wabas.get(waba_id)
    if source is None or destination is None:
        raise _invalid("Param source_waba_id must be a WhatsApp Business Account id.")
    if source_id == waba_id or source.business_id != destination.business_id:
        raise _invalid("Templates can only be migrated between WhatsApp Business Accounts of the same business.")
    page, count = _bounded(params.get("page_number", 0), "page_number", 0, PAGE_MAX), MIGRATE_MAX
    if params.get("count") is not None:
        count = _bounded(params["count"], "count", 1, MIGRATE_MAX)
    candidates = [t for t in templates_of(tenant, source_id) if t.status != TemplateStatus.DELETED]
    if params.get("template_ids") is not None:
        wanted = set(_ids(params["template_ids"], "template_ids", MIGRATE_MAX))
        candidates = [t for t in candidates if t.id in wanted]
    migrated: list[str] = []
    failed: dict[str, str] = {}
    for template in candidates[page * count : (page + 1) * count]:
        reason = unmigratable(tenant, waba_id, template)
        if reason is not None:
            failed[template.id] = reason
            continue
        migrated.append(copy_template(tenant, waba_id, template).id)
    return {"migrated_templates": migrated, "failed_templates": failed}


def unmigratable(tenant: Tenant, waba_id: str, template: MessageTemplate) -> str | None:
    """Why `template` cannot be recreated in `waba_id` (§4.10, and a number's migration §5.1), or None."""
    if template.status != TemplateStatus.APPROVED:
        return f"Template status is {template.status}; only approved templates are migrated"
    if template.quality_score not in MIGRATABLE_QUALITY:
        return f"Template quality is {template.quality_score}; only GREEN or UNKNOWN templates are migrated"
    if find_template(tenant, waba_id, template.name, template.language) is not None:
        return "A template with this name and language already exists in the destination"
    return None


def copy_template(tenant: Tenant, waba_id: str, template: MessageTemplate) -> MessageTemplate:
    now = tenant.clock.now()
    copy = MessageTemplate(
        id=tenant.ids.node_id(),
        waba_id=waba_id,
        name=template.name,
        language=template.language,
        category=template.category,
        components=[dict(component) for component in template.components],
        status=TemplateStatus.APPROVED.value,
        parameter_format=template.parameter_format,
        quality_score=QualityScore.UNKNOWN.value,
        quality_score_date=tenant.clock.timestamp(),
        sub_category=template.sub_category,
        allow_category_change=template.allow_category_change,
        created_at=now,
        submitted_at=now,
    )
    tenant.store.templates.add(copy.id, copy)
    return copy


def _bounded(value: Any, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _invalid(f"Param {name} must be an integer from {low} to {high}.") from None
    if isinstance(value, bool) or not low <= number <= high:
        raise _invalid(f"Param {name} must be an integer from {low} to {high}.")
    return number
