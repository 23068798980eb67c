"""Message templates of a WABA (`/{waba-id}/message_templates`, `/{template-id}`): creating one (validated by
domain/template_components.py, refused with Meta's code and subcode), reading them, and what sending one requires.
"""

from __future__ import annotations

from typing import Any

from sandbox.context import Tenant
from sandbox.domain import template_components as rules
from sandbox.domain.business import BusinessVerificationStatus
from sandbox.domain.template import MessageTemplate, QualityScore, TemplateStatus
from sandbox.domain.template_components import Draft
from sandbox.domain.template_problems import TemplateProblem, TemplateRefused
from sandbox.errors import GraphError, GraphErrorCode, TemplateSubcode
from sandbox.services import message_template_review

TEMPLATE_FILTERS = ("name", "status", "category", "language", "quality_score")
FILTER_MAX = 512
_SUBCODES = {
    TemplateProblem.DUPLICATE: TemplateSubcode.DUPLICATE,
    TemplateProblem.LANGUAGE_BEING_DELETED: TemplateSubcode.LANGUAGE_BEING_DELETED,
    TemplateProblem.EXAMPLES_REQUIRED: TemplateSubcode.EXAMPLES_REQUIRED,
    TemplateProblem.CHARACTER_LIMIT: TemplateSubcode.CHARACTER_LIMIT,
    TemplateProblem.HEADER_FORMAT: TemplateSubcode.HEADER_FORMAT,
    TemplateProblem.BODY_FORMAT: TemplateSubcode.BODY_FORMAT,
    TemplateProblem.FOOTER_FORMAT: TemplateSubcode.FOOTER_FORMAT,
    TemplateProblem.LEADING_TRAILING_PARAMETER: TemplateSubcode.LEADING_TRAILING_PARAMETER,
    TemplateProblem.TEMPLATE_LIMIT: TemplateSubcode.TEMPLATE_LIMIT,
}


def graph_error(refused: TemplateRefused) -> GraphError:
    """Meta's answer to a refused template: code 100 with the problem's subcode and user title (§4.11); too many
    creations in an hour is the WABA's management rate limit, 80008."""
    if refused.problem == TemplateProblem.CREATION_RATE:
        return GraphError(GraphErrorCode.WABA_MANAGEMENT_RATE_LIMIT, refused.message)
    subcode = _SUBCODES.get(refused.problem)
    if subcode is None:
        return GraphError(GraphErrorCode.INVALID_PARAMETER, refused.message)
    return GraphError(
        GraphErrorCode.INVALID_PARAMETER,
        refused.message,
        message=GraphErrorCode.INVALID_PARAMETER.title,
        subcode=int(subcode),
        user_title=subcode.user_title,
        user_msg=refused.message,
        is_transient=False,
    )


def templates_of(tenant: Tenant, waba_id: str) -> list[MessageTemplate]:
    return [t for t in tenant.store.templates if t.waba_id == waba_id]


def template_limit(tenant: Tenant, waba_id: str) -> int:
    """250 templates for a WABA of an unverified business, 6,000 once it is verified (§4.1; policy `templates`)."""
    limits = tenant.policy.templates
    waba = tenant.store.wabas.get(waba_id)
    business = tenant.store.businesses.get(waba.business_id) if waba is not None else None
    verified = business is not None and business.verification_status == BusinessVerificationStatus.VERIFIED
    return limits.per_waba_verified if verified else limits.per_waba


def check_draft(tenant: Tenant, waba_id: str, body: Any, others: int = 0) -> Draft:
    """The submission as Meta would accept it, or Meta's refusal; changes nothing. `others`: templates the same
    call creates besides this one (they count toward the limits too)."""
    if not isinstance(body, dict):
        raise GraphError(GraphErrorCode.INVALID_PARAMETER, "The request body must be a JSON object.")
    limits = tenant.policy.templates
    now = tenant.clock.now()
    on_waba = templates_of(tenant, waba_id)
    try:
        draft = rules.draft(body, limits)
        created = [t.created_at for t in on_waba if t.created_at is not None] + [now] * others
        rules.check_rate(created, now, limits.creations_per_hour)
        rules.check_unique(on_waba, draft.name, draft.language, now, limits.name_blocked_days)
        rules.check_count(sum(t.counts_toward_limit for t in on_waba) + others, template_limit(tenant, waba_id))
    except TemplateRefused as refused:
        raise graph_error(refused) from refused
    return draft


def create_template(tenant: Tenant, waba_id: str, body: Any) -> MessageTemplate:
    """`POST /{waba-id}/message_templates`: a PENDING template under review, or Meta's refusal with nothing stored."""
    draft = check_draft(tenant, waba_id, body)
    template = MessageTemplate(
        id=tenant.ids.node_id(),
        waba_id=waba_id,
        name=draft.name,
        language=draft.language,
        category=draft.category,
        components=list(draft.components),
        status=TemplateStatus.PENDING.value,
        parameter_format=draft.parameter_format,
        quality_score=QualityScore.UNKNOWN.value,
        quality_score_date=tenant.clock.timestamp(),
        allow_category_change=draft.allow_category_change,
        created_at=tenant.clock.now(),
    )
    tenant.store.templates.add(template.id, template)
    message_template_review.submit(tenant, template)
    return template


def upsert_authentication_templates(tenant: Tenant, waba_id: str, body: Any) -> list[MessageTemplate]:
    """`POST /{waba-id}/upsert_message_templates`: one authentication template per language of `languages`; a
    language that already has the template answers it as it is. All languages are checked before any is created."""
    if not isinstance(body, dict):
        raise GraphError(GraphErrorCode.INVALID_PARAMETER, "The request body must be a JSON object.")
    languages = body.get("languages")
    if not isinstance(languages, list) or not languages or len(languages) > len(rules.LANGUAGES):
        raise GraphError(GraphErrorCode.INVALID_PARAMETER, "Param languages must be a non-empty array of languages.")
    if str(body.get("category", "AUTHENTICATION")).upper() != "AUTHENTICATION":
        raise GraphError(GraphErrorCode.INVALID_PARAMETER, "upsert_message_templates takes AUTHENTICATION templates.")
    rest = {key: value for key, value in body.items() if key != "languages"} | {"category": "AUTHENTICATION"}
    existing: dict[str, MessageTemplate] = {}
    for language in dict.fromkeys(languages):
        found = find_template(tenant, waba_id, str(body.get("name", "")), str(language))
        if found is not None and found.status != TemplateStatus.PENDING_DELETION:
            existing[str(language)] = found
    new = [language for language in dict.fromkeys(languages) if str(language) not in existing]
    for language in new:
        check_draft(tenant, waba_id, rest | {"language": language}, others=len(new) - 1)
    result = []
    for language in dict.fromkeys(languages):
        result.append(existing.get(str(language)) or create_template(tenant, waba_id, rest | {"language": language}))
    return result


def find_template(tenant: Tenant, waba_id: str, name: str, language: str) -> MessageTemplate | None:
    for template in tenant.store.templates:
        same = template.waba_id == waba_id and template.name == name and template.language == language
        if same and template.status != TemplateStatus.DELETED:
            return template
    return None


def list_templates(tenant: Tenant, waba_id: str, filters: dict[str, str]) -> list[MessageTemplate]:
    """The WABA's templates, deleted ones left out, filtered as Meta filters (§4.2): `name` by substring,
    `status`, `category`, `language` and `quality_score` by a comma list of values, all case-insensitively."""
    templates = [t for t in templates_of(tenant, waba_id) if t.status != TemplateStatus.DELETED]
    for name in TEMPLATE_FILTERS:
        if name not in filters:
            continue
        wanted = filters[name][:FILTER_MAX].lower()
        if name == "name":
            templates = [t for t in templates if wanted in t.name.lower()]
            continue
        values = {value.strip() for value in wanted.split(",") if value.strip()}
        templates = [t for t in templates if str(getattr(t, name)).lower() in values]
    return templates
