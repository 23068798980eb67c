"""What `POST /{waba-id}/message_templates` accepts (meta-lifecycle.md §4.1): one function per rule of Meta's,
each raising `TemplateRefused` with the problem Meta reports (the service maps it to code and subcode).

`draft` checks a whole submission and answers it normalised (upper-case types, formats and categories);
`check_unique`, `check_count` and `check_rate` are the rules that need the WABA's other templates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sandbox.domain.errors import is_integer
from sandbox.domain.template import MessageTemplate, ParameterFormat, TemplateCategory, TemplateStatus
from sandbox.domain.template_buttons import check_authentication, check_buttons
from sandbox.domain.template_languages import LANGUAGES
from sandbox.domain.template_problems import (
    PLACEHOLDER,
    TemplateProblem,
    check_flag,
    check_text,
    invalid,
    refuse,
)
from sandbox.domain.template_review import Submission

if TYPE_CHECKING:
    from sandbox.domain.policy import Templates


NAME = re.compile(r"^[a-z0-9_]+$")
NAMED_PARAMETER = re.compile(r"^[a-z_][a-z0-9_]*$")
HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "GIF", "DOCUMENT", "LOCATION", "PRODUCT")
MEDIA_FORMATS = ("IMAGE", "VIDEO", "GIF", "DOCUMENT")
COMPONENT_TYPES = ("HEADER", "BODY", "FOOTER", "BUTTONS", "CAROUSEL", "LIMITED_TIME_OFFER")
OFFER_TEXT_MAX = 16
CODE_EXPIRATION_MINUTES = (1, 90)
STRING_MAX = 4096
LIST_MAX = 100
DEPTH_MAX = 8


# A submission as accepted is exactly what the review sees: one type for both.
Draft = Submission


def draft(body: dict[str, Any], limits: Templates) -> Draft:
    """The whole submission checked, in the order Meta reports problems: top-level parameters, then components."""
    name = check_name(body.get("name"), limits)
    language = check_language(body.get("language"))
    category = check_category(body.get("category"))
    allow = check_flag(body.get("allow_category_change", False), "allow_category_change")
    parameter_format = check_parameter_format(body.get("parameter_format"))
    components = check_components(body.get("components"), category, parameter_format, limits)
    return Draft(name, language, category, allow, parameter_format, components)


# -- top-level parameters ----------------------------------------------------------------------------------------


def check_name(value: Any, limits: Templates) -> str:
    if not isinstance(value, str) or not value:
        raise invalid("Param name is required and must be a string.")
    if len(value) > limits.name_max:
        raise refuse(TemplateProblem.CHARACTER_LIMIT, f"Param name must be at most {limits.name_max} characters.")
    if not NAME.match(value):
        raise invalid("Param name must contain only lowercase letters, numbers and underscores.")
    return value


def check_language(value: Any) -> str:
    if not isinstance(value, str) or value not in LANGUAGES:
        raise invalid(f"Param language must be one of Meta's template languages (en_US, pt_BR, ...); got {value!r}.")
    return value


def check_category(value: Any) -> str:
    text = value.upper() if isinstance(value, str) else None
    if text not in tuple(TemplateCategory):
        raise invalid("Param category must be one of {MARKETING, UTILITY, AUTHENTICATION}.")
    return str(text)


def check_parameter_format(value: Any) -> str:
    if value is None:
        return ParameterFormat.POSITIONAL.value
    text = value.upper() if isinstance(value, str) else None
    if text not in tuple(ParameterFormat):
        raise invalid("Param parameter_format must be one of {POSITIONAL, NAMED}.")
    return str(text)


# -- components -------------------------------------------------------------------------------------------------


def check_components(value: Any, category: str, parameter_format: str, limits: Templates) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list) or not value:
        raise invalid("Param components is required and must be a non-empty array.")
    check_bounded(value, "components", 0)
    seen: set[str] = set()
    accepted = []
    for index, item in enumerate(value):
        where = f"components[{index}]"
        if not isinstance(item, dict):
            raise invalid(f"Param {where} must be an object.")
        kind = item.get("type").upper() if isinstance(item.get("type"), str) else None
        if kind not in COMPONENT_TYPES:
            raise invalid(f"Param {where}['type'] must be one of {{{', '.join(COMPONENT_TYPES)}}}.")
        if kind in seen:
            raise invalid(f"A template has at most one {kind} component.")
        seen.add(kind)
        accepted.append(_COMPONENT_CHECKS[kind]({**item, "type": kind}, where, category, parameter_format, limits))
    if "BODY" not in seen:
        raise invalid("A template needs a BODY component.")
    if category == TemplateCategory.AUTHENTICATION:
        check_authentication(accepted)
    if "LIMITED_TIME_OFFER" in seen and category != TemplateCategory.MARKETING:
        raise invalid("A LIMITED_TIME_OFFER component is only allowed in MARKETING templates.")
    return tuple(accepted)


def check_header(
    component: dict[str, Any], where: str, category: str, parameter_format: str, limits: Templates
) -> dict[str, Any]:
    fmt = component.get("format").upper() if isinstance(component.get("format"), str) else None
    if fmt not in HEADER_FORMATS:
        raise refuse(
            TemplateProblem.HEADER_FORMAT, f"Param {where}['format'] must be one of {{{', '.join(HEADER_FORMATS)}}}."
        )
    if category == TemplateCategory.AUTHENTICATION:
        raise refuse(TemplateProblem.HEADER_FORMAT, "Authentication templates cannot have a HEADER.")
    component = {**component, "format": fmt}
    example = component.get("example")
    if fmt == "TEXT":
        text = check_text(component.get("text"), f"{where}['text']", limits.header_text_max)
        names = check_placeholders(text, parameter_format, TemplateProblem.HEADER_FORMAT, where)
        if len(names) > 1:
            raise refuse(TemplateProblem.HEADER_FORMAT, "A TEXT HEADER can have at most one variable.")
        check_examples(names, example, parameter_format, "header_text", where)
    else:
        if "text" in component:
            raise refuse(TemplateProblem.HEADER_FORMAT, f"A {fmt} HEADER has no text.")
        if fmt in MEDIA_FORMATS:
            handles = example.get("header_handle") if isinstance(example, dict) else None
            if not isinstance(handles, list) or not handles or not all(isinstance(h, str) and h for h in handles):
                raise refuse(
                    TemplateProblem.EXAMPLES_REQUIRED,
                    f"A {fmt} HEADER needs example.header_handle: the handle of a sample uploaded with the "
                    "Resumable Upload API.",
                )
    return component


def check_body(
    component: dict[str, Any], where: str, category: str, parameter_format: str, limits: Templates
) -> dict[str, Any]:
    if category == TemplateCategory.AUTHENTICATION:
        # Meta writes the text of an authentication template itself; only the security note is chosen.
        if "add_security_recommendation" in component:
            check_flag(component["add_security_recommendation"], f"{where}['add_security_recommendation']")
        return component
    text = check_text(component.get("text"), f"{where}['text']", limits.body_max)
    names = check_placeholders(text, parameter_format, TemplateProblem.BODY_FORMAT, where)
    check_edges(text)
    check_examples(names, component.get("example"), parameter_format, "body_text", where)
    return component


def check_footer(
    component: dict[str, Any], where: str, category: str, parameter_format: str, limits: Templates
) -> dict[str, Any]:
    if category == TemplateCategory.AUTHENTICATION and "code_expiration_minutes" in component:
        minutes = component["code_expiration_minutes"]
        low, high = CODE_EXPIRATION_MINUTES
        if not is_integer(minutes) or not low <= minutes <= high:
            raise invalid(f"Param {where}['code_expiration_minutes'] must be an integer from {low} to {high}.")
        return component
    text = check_text(component.get("text"), f"{where}['text']", limits.footer_max)
    if PLACEHOLDER.search(text) or "{{" in text or "}}" in text:
        raise refuse(TemplateProblem.FOOTER_FORMAT, "A FOOTER cannot have variables.")
    return component


def check_carousel(
    component: dict[str, Any], where: str, category: str, parameter_format: str, limits: Templates
) -> dict[str, Any]:
    cards = component.get("cards")
    if not isinstance(cards, list) or not 2 <= len(cards) <= limits.cards_max:
        raise invalid(f"Param {where}['cards'] must hold 2 to {limits.cards_max} cards.")
    accepted = []
    for index, card in enumerate(cards):
        card_where = f"{where}['cards'][{index}]"
        parts = card.get("components") if isinstance(card, dict) else None
        if not isinstance(parts, list) or not parts:
            raise invalid(f"Param {card_where}['components'] must be a non-empty array.")
        checked = []
        for part_index, part in enumerate(parts):
            part_where = f"{card_where}['components'][{part_index}]"
            kind = part.get("type").upper() if isinstance(part, dict) and isinstance(part.get("type"), str) else None
            if kind not in ("HEADER", "BODY", "BUTTONS"):
                raise invalid(f"Param {part_where}['type'] must be one of {{HEADER, BODY, BUTTONS}}.")
            checked.append(
                _COMPONENT_CHECKS[kind]({**part, "type": kind}, part_where, category, parameter_format, limits)
            )
        header = next((part for part in checked if part["type"] == "HEADER"), None)
        if header is None or header["format"] not in ("IMAGE", "VIDEO"):
            raise refuse(TemplateProblem.HEADER_FORMAT, f"Each card ({card_where}) needs an IMAGE or VIDEO HEADER.")
        accepted.append({**card, "components": checked})
    return {**component, "cards": accepted}


def check_limited_time_offer(
    component: dict[str, Any], where: str, category: str, parameter_format: str, limits: Templates
) -> dict[str, Any]:
    offer = component.get("limited_time_offer")
    if not isinstance(offer, dict):
        raise invalid(f"Param {where}['limited_time_offer'] must be an object.")
    check_text(offer.get("text"), f"{where}['limited_time_offer']['text']", OFFER_TEXT_MAX)
    if "has_expiration" in offer:
        check_flag(offer["has_expiration"], f"{where}['limited_time_offer']['has_expiration']")
    return component


_COMPONENT_CHECKS = {
    "HEADER": check_header,
    "BODY": check_body,
    "FOOTER": check_footer,
    "BUTTONS": check_buttons,
    "CAROUSEL": check_carousel,
    "LIMITED_TIME_OFFER": check_limited_time_offer,
}


# -- text and variables -----------------------------------------------------------------------------------------


def check_placeholders(text: str, parameter_format: str, problem: TemplateProblem, where: str) -> list[str]:
    """The variables of `text` in order; malformed braces, the wrong format or a broken sequence are refused."""
    stripped = PLACEHOLDER.sub("", text)
    if "{{" in stripped or "}}" in stripped:
        raise refuse(problem, f"{where} has mismatched variable braces.")
    names = [name.strip() for name in PLACEHOLDER.findall(text)]
    if parameter_format == ParameterFormat.POSITIONAL:
        if not all(name.isascii() and name.isdigit() for name in names):
            raise refuse(problem, f"{where}: POSITIONAL variables are numbers, {{{{1}}}}, {{{{2}}}}, ...")
        distinct = list(dict.fromkeys(int(name) for name in names))
        if distinct != list(range(1, len(distinct) + 1)):
            raise refuse(problem, f"{where}: variables must be numbered in sequence from {{{{1}}}}.")
        return [str(number) for number in distinct]
    if not all(NAMED_PARAMETER.match(name) for name in names):
        raise refuse(problem, f"{where}: NAMED variables are lowercase letters, digits and underscores.")
    return list(dict.fromkeys(names))


def check_edges(text: str) -> None:
    stripped = text.strip()
    if stripped.startswith("{{") or stripped.endswith("}}"):
        raise refuse(
            TemplateProblem.LEADING_TRAILING_PARAMETER, "Variables can't be at the start or end of the template."
        )


def check_examples(names: list[str], example: Any, parameter_format: str, key: str, where: str) -> None:
    """Samples for every variable: `{key}` (positional; `body_text` is an array of arrays) or
    `{key}_named_params` (`[{"param_name", "example"}]`), counting exactly."""
    if not names:
        return
    missing = refuse(
        TemplateProblem.EXAMPLES_REQUIRED,
        f"{where} has {len(names)} variable{'s' if len(names) != 1 else ''}: example.{key}"
        f"{'_named_params' if parameter_format == ParameterFormat.NAMED else ''} must give a sample for each.",
    )
    if not isinstance(example, dict):
        raise missing
    if parameter_format == ParameterFormat.NAMED:
        params = example.get(f"{key}_named_params")
        if not isinstance(params, list) or not all(isinstance(p, dict) for p in params):
            raise missing
        given = {p.get("param_name"): p.get("example") for p in params}
        if set(given) != set(names) or len(params) != len(names):
            raise missing
        if not all(isinstance(value, str) and value for value in given.values()):
            raise missing
        return
    samples = example.get(key)
    if key == "body_text":
        samples = samples[0] if isinstance(samples, list) and len(samples) == 1 else None
    if not isinstance(samples, list) or len(samples) != len(names):
        raise missing
    if not all(isinstance(sample, str) and sample for sample in samples):
        raise missing


def check_bounded(value: Any, where: str, depth: int) -> None:
    if depth > DEPTH_MAX:
        raise invalid(f"Param {where} is nested too deeply.")
    if isinstance(value, str) and len(value) > STRING_MAX:
        raise refuse(TemplateProblem.CHARACTER_LIMIT, f"Param {where} must be at most {STRING_MAX} characters.")
    if isinstance(value, list):
        if len(value) > LIST_MAX:
            raise invalid(f"Param {where} must have at most {LIST_MAX} items.")
        for index, item in enumerate(value):
            check_bounded(item, f"{where}[{index}]", depth + 1)
    elif isinstance(value, dict):
        if len(value) > LIST_MAX:
            raise invalid(f"Param {where} must have at most {LIST_MAX} keys.")
        for key, item in value.items():
            check_bounded(item, f"{where}['{key}']", depth + 1)


# -- rules that see the WABA's other templates ------------------------------------------------------------------


def check_unique(
    templates: Iterable[MessageTemplate], name: str, language: str, now: datetime, blocked_days: int
) -> None:
    """A (name, language) exists once per WABA; a deleted one stays blocked for `blocked_days` (2388023)."""
    for template in templates:
        if template.name != name or template.language != language:
            continue
        deleting = template.status in (TemplateStatus.PENDING_DELETION, TemplateStatus.DELETED)
        if not deleting:
            raise refuse(
                TemplateProblem.DUPLICATE,
                f"There is already {language} content for this template. You can create a new template and try again.",
            )
        deleted_at = template.deleted_at or now
        free_at = deleted_at + timedelta(days=blocked_days)
        if template.status == TemplateStatus.PENDING_DELETION or now < free_at:
            raise refuse(
                TemplateProblem.LANGUAGE_BEING_DELETED,
                f"New {language} content can't be added while the existing {language} content is being deleted. "
                f"Try again after {free_at:%Y-%m-%d %H:%M} UTC, or create a new message template.",
            )


def check_count(count: int, cap: int) -> None:
    if count >= cap:
        raise refuse(
            TemplateProblem.TEMPLATE_LIMIT,
            f"This WhatsApp Business Account has reached its limit of {cap} message templates.",
        )


def check_rate(created: Iterable[datetime], now: datetime, per_hour: int) -> None:
    hour_ago = now - timedelta(hours=1)
    if sum(1 for at in created if at > hour_ago) >= per_hour:
        raise refuse(
            TemplateProblem.CREATION_RATE,
            f"This WhatsApp Business Account created {per_hour} message templates in the past hour; try again later.",
        )
