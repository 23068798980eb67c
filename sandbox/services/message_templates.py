"""Message templates of a WABA (`/{waba-id}/message_templates`, `/{template-id}`) and what sending one requires."""

from __future__ import annotations

from typing import Any

from sandbox.context import Tenant
from sandbox.domain.phone_number import PhoneNumber
from sandbox.domain.template import MessageTemplate, TemplateStatus
from sandbox.errors import GraphError, GraphErrorCode

# A paused or disabled template is found, then refused with its own code; any other status reads as absent.
_SENDABLE = frozenset({TemplateStatus.APPROVED, TemplateStatus.PAUSED, TemplateStatus.DISABLED})
TEMPLATE_FILTERS = ("name", "status", "category", "language")


def find_template(tenant: Tenant, waba_id: str, name: str, language: str) -> MessageTemplate | None:
    for template in tenant.store.templates:
        if template.waba_id == waba_id and template.name == name and template.language == language:
            return template
    return None


def list_templates(tenant: Tenant, waba_id: str, filters: dict[str, str]) -> list[MessageTemplate]:
    """The WABA's templates, filtered case-insensitively by `name`, `status`, `category` and `language`."""
    templates = [t for t in tenant.store.templates if t.waba_id == waba_id]
    for name in TEMPLATE_FILTERS:
        if name in filters:
            templates = [t for t in templates if str(getattr(t, name)).lower() == filters[name].lower()]
    return templates


def sendable_template(tenant: Tenant, phone: PhoneNumber, content: dict[str, Any]) -> MessageTemplate:
    """The template a `template` message names, by name and language on the number's WABA; Meta's 132001 when it
    does not exist or is not approved, 132015/132016 when paused or disabled, 132000 when the parameters do not fit."""
    name = str(content.get("name", ""))
    language = content.get("language") or {}
    code = str(language.get("code", "")) if isinstance(language, dict) else ""
    found = find_template(tenant, phone.waba_id, name, code)
    if found is None or found.status not in _SENDABLE:
        raise GraphError(GraphErrorCode.TEMPLATE_DOES_NOT_EXIST, f"template name ({name}) does not exist in {code}")
    if found.status == TemplateStatus.PAUSED:
        raise GraphError(GraphErrorCode.TEMPLATE_PAUSED, f"Template {name} ({code}) is paused due to low quality.")
    if found.status == TemplateStatus.DISABLED:
        raise GraphError(GraphErrorCode.TEMPLATE_DISABLED, f"Template {name} ({code}) is disabled.")
    given = {str(c.get("type", "")).lower(): c for c in content.get("components") or [] if isinstance(c, dict)}
    for component in ("header", "body"):
        if component == "header" and not _header_is_text(found):
            continue
        expected = len(found.placeholders(component))
        supplied = len(given.get(component, {}).get("parameters") or [])
        if supplied != expected:
            raise GraphError(
                GraphErrorCode.TEMPLATE_PARAM_COUNT_MISMATCH,
                f"{component}: number of localizable_params ({supplied}) does not match the expected number of "
                f"params ({expected})",
            )
    return found


def _header_is_text(template: MessageTemplate) -> bool:
    for component in template.components:
        if str(component.get("type", "")).upper() == "HEADER":
            return str(component.get("format", "TEXT")).upper() == "TEXT"
    return True
