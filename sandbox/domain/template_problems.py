"""How a template submission is refused: the problem Meta reports (the service maps it to code and subcode) and the
checks every component rule shares."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from sandbox.domain.errors import Invalid

PLACEHOLDER = re.compile(r"\{\{([^{}]*)\}\}")


class TemplateProblem(StrEnum):
    """The kinds of refusal Meta distinguishes by subcode (§4.11); INVALID is plain code 100."""

    INVALID = "INVALID"
    DUPLICATE = "DUPLICATE"
    LANGUAGE_BEING_DELETED = "LANGUAGE_BEING_DELETED"
    EXAMPLES_REQUIRED = "EXAMPLES_REQUIRED"
    CHARACTER_LIMIT = "CHARACTER_LIMIT"
    HEADER_FORMAT = "HEADER_FORMAT"
    BODY_FORMAT = "BODY_FORMAT"
    FOOTER_FORMAT = "FOOTER_FORMAT"
    LEADING_TRAILING_PARAMETER = "LEADING_TRAILING_PARAMETER"
    TEMPLATE_LIMIT = "TEMPLATE_LIMIT"
    CREATION_RATE = "CREATION_RATE"


class TemplateRefused(Invalid):
    def __init__(self, problem: TemplateProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message


def refuse(problem: TemplateProblem, message: str) -> TemplateRefused:
    return TemplateRefused(problem, message)


def invalid(message: str) -> TemplateRefused:
    return TemplateRefused(TemplateProblem.INVALID, message)


def check_flag(value: Any, name: str) -> bool:
    # Form bodies send booleans as text.
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid(f"Param {name} must be a boolean.")


def check_text(value: Any, where: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"Param {where} is required and must be a non-empty string.")
    if len(value) > limit:
        raise refuse(TemplateProblem.CHARACTER_LIMIT, f"Param {where} must be at most {limit} characters.")
    return value
