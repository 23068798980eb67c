"""What a `template` message must carry, checked against the template's own components (meta-messaging.md
132000-132016): `check_send` raises `SendRefused` with Meta's code for the first problem, in the order Meta reports
them (status, then header, body and buttons).

A variable used twice counts once; NAMED templates take `parameter_name` on each parameter, POSITIONAL ones none.
An AUTHENTICATION template, whose text Meta writes, takes the one-time code twice: as the body's parameter and as the
OTP button's (`sub_type: url`, index 0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sandbox.domain.errors import is_integer
from sandbox.domain.template import MessageTemplate, ParameterFormat, TemplateCategory, TemplateStatus

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
# Meta: "Param text cannot have new-line/tab characters or more than 4 consecutive spaces".
_POLICY = re.compile(r"[\n\t]| {5,}")
MEDIA_FORMATS = frozenset({"IMAGE", "VIDEO", "DOCUMENT", "GIF"})
BODY_TYPES = frozenset({"text", "currency", "date_time"})
BODY_MAX = 1024
HEADER_MAX = 60
# The `sub_type` a send names for each button type of the template; None: the button takes no parameter.
_SUB_TYPES: dict[str, str | None] = {
    "QUICK_REPLY": "quick_reply",
    "URL": "url",
    "OTP": "url",
    "COPY_CODE": "copy_code",
    "FLOW": "flow",
    "CATALOG": "catalog",
    "MPM": "mpm",
    "SPM": "spm",
    "PHONE_NUMBER": None,
    "VOICE_CALL": None,
}


class SendCode:
    """Meta's send-time template codes (sandbox/errors.py names them; the domain only carries the number)."""

    DOES_NOT_EXIST = 132001
    PAUSED = 132015
    DISABLED = 132016
    COUNT_MISMATCH = 132000
    TOO_LONG = 132005
    POLICY = 132007
    FORMAT_MISMATCH = 132012


class SendRefused(Exception):
    def __init__(self, code: int, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


@dataclass(frozen=True, slots=True)
class Given:
    """The `components` of a send, by kind: header and body parameters, buttons by index."""

    header: list[Any] | None
    body: list[Any] | None
    buttons: dict[int, dict[str, Any]]


def check_status(template: MessageTemplate | None, name: str, code: str) -> MessageTemplate:
    if template is None or template.status not in (S.APPROVED, S.PAUSED, S.DISABLED):
        raise SendRefused(SendCode.DOES_NOT_EXIST, f"template name ({name}) does not exist in {code}")
    if template.status == S.PAUSED:
        raise SendRefused(SendCode.PAUSED, f"Template {name} ({code}) is paused due to low quality.")
    if template.status == S.DISABLED:
        raise SendRefused(SendCode.DISABLED, f"Template {name} ({code}) is disabled.")
    return template


@dataclass(frozen=True, slots=True)
class Text:
    """A text with variables: their distinct names, and how the hydrated length follows from the values."""

    names: list[str]
    # The text's length without its placeholders, and how often each variable appears.
    bare_length: int
    uses: dict[str, int]

    @classmethod
    def of(cls, text: str) -> Text:
        found = list(_PLACEHOLDER.finditer(text))
        uses: dict[str, int] = {}
        for match in found:
            uses[match.group(1)] = uses.get(match.group(1), 0) + 1
        return cls(list(uses), len(text) - sum(len(match.group(0)) for match in found), uses)

    def hydrated_length(self, values: list[str]) -> int:
        return self.bare_length + sum(
            self.uses[name] * len(value) for name, value in zip(self.names, values, strict=True)
        )


# The one-time code is the only variable of Meta's authentication text.
_CODE = Text(["1"], 0, {"1": 1})


@dataclass(frozen=True, slots=True)
class Shape:
    """What a send of one template must carry, computed once per version of its components."""

    named: bool
    header_format: str | None
    header: Text
    body: Text
    buttons: tuple[tuple[str, int], ...]


_SHAPES: dict[str, tuple[Any, str, str, Shape]] = {}
SHAPES_KEPT = 100_000


def shape_of(template: MessageTemplate) -> Shape:
    """The template's `Shape`, cached until its components, parameter format or category change (an edit assigns
    new components; the cache holds the old list, so identity cannot be reused)."""
    cached = _SHAPES.get(template.id)
    if (
        cached is not None
        and cached[0] is template.components
        and cached[1] == template.parameter_format
        and cached[2] == template.category
    ):
        return cached[3]
    header = _component(template, "HEADER")
    body = _component(template, "BODY")
    buttons = template.buttons()
    kinds = tuple(str(button.get("type", "")).upper() for button in buttons)
    authentication = template.category == TemplateCategory.AUTHENTICATION and "OTP" in kinds
    shape = Shape(
        named=template.parameter_format == ParameterFormat.NAMED,
        header_format=str(header.get("format", "TEXT")).upper() if header is not None else None,
        header=Text.of(str(header.get("text", "")) if header is not None else ""),
        body=_CODE if authentication else Text.of(str(body.get("text", "")) if body is not None else ""),
        buttons=tuple((kind, _button_parameters(kind, button)) for kind, button in zip(kinds, buttons, strict=True)),
    )
    if len(_SHAPES) >= SHAPES_KEPT:
        _SHAPES.clear()
    _SHAPES[template.id] = (template.components, template.parameter_format, template.category, shape)
    return shape


def check_send(template: MessageTemplate, components: Any) -> None:
    """The send's `components` against the template's; nothing is returned, the first problem is raised."""
    given = parse(components)
    shape = shape_of(template)
    _check_header(shape, given.header)
    _check_body(shape, given.body)
    _check_buttons(shape, given.buttons)


S = TemplateStatus


def parse(components: Any) -> Given:
    if components is None:
        return Given(None, None, {})
    if not isinstance(components, list):
        raise SendRefused(SendCode.FORMAT_MISMATCH, "components must be a list of components")
    header = body = None
    buttons: dict[int, dict[str, Any]] = {}
    for position, component in enumerate(components):
        if not isinstance(component, dict):
            raise SendRefused(SendCode.FORMAT_MISMATCH, f"components[{position}] must be an object")
        kind = str(component.get("type", "")).lower()
        parameters = component.get("parameters", [])
        if not isinstance(parameters, list):
            raise SendRefused(SendCode.FORMAT_MISMATCH, f"components[{position}]['parameters'] must be a list")
        if kind == "header":
            header = parameters
        elif kind == "body":
            body = parameters
        elif kind == "button":
            index = _index(component.get("index"), position)
            if index in buttons:
                raise SendRefused(SendCode.FORMAT_MISMATCH, f"button index {index} is given twice")
            buttons[index] = component
        else:
            raise SendRefused(SendCode.FORMAT_MISMATCH, f"components[{position}]['type'] {kind!r} is not known")
    return Given(header, body, buttons)


def _index(value: Any, position: int) -> int:
    text = str(value) if is_integer(value) or isinstance(value, str) else ""
    if not text.isdigit() or len(text) > 2:
        raise SendRefused(SendCode.FORMAT_MISMATCH, f"components[{position}]['index'] must be a button index")
    return int(text)


def _component(template: MessageTemplate, kind: str) -> dict[str, Any] | None:
    for component in template.components:
        if str(component.get("type", "")).upper() == kind:
            return component
    return None


def variables(text: str) -> list[str]:
    """The distinct variables of a text, in order of first use: `{{1}} ... {{1}}` is one parameter."""
    return list(dict.fromkeys(_PLACEHOLDER.findall(text)))


def _mismatch(where: str, supplied: int, expected: int) -> SendRefused:
    return SendRefused(
        SendCode.COUNT_MISMATCH,
        f"{where}: number of localizable_params ({supplied}) does not match the expected number of params ({expected})",
    )


def _check_header(shape: Shape, given: list[Any] | None) -> None:
    fmt = shape.header_format
    if fmt in MEDIA_FORMATS or fmt == "LOCATION":
        wanted = str(fmt).lower()
        if not given:
            raise SendRefused(SendCode.FORMAT_MISMATCH, f"header: the {fmt} header needs a {wanted} parameter")
        if len(given) != 1:
            raise _mismatch("header", len(given), 1)
        _check_media(given[0], wanted)
        return
    if not shape.header.names and not given:
        return
    values = _texts("header", shape.header.names, given or [], shape.named)
    if shape.header.hydrated_length(values) > HEADER_MAX:
        raise SendRefused(SendCode.TOO_LONG, f"header: the hydrated text is longer than {HEADER_MAX} characters")


def _check_media(parameter: Any, wanted: str) -> None:
    kind = parameter.get("type") if isinstance(parameter, dict) else None
    if kind != wanted:
        raise SendRefused(SendCode.FORMAT_MISMATCH, f"header: expected a {wanted} parameter, got {kind!r}")
    value = parameter.get(wanted)
    if wanted == "location":
        ok = isinstance(value, dict) and "latitude" in value and "longitude" in value
    else:
        ok = isinstance(value, dict) and any(isinstance(value.get(key), str) and value[key] for key in ("id", "link"))
    if not ok:
        what = "latitude and longitude" if wanted == "location" else "an id or a link"
        raise SendRefused(SendCode.FORMAT_MISMATCH, f"header: the {wanted} parameter needs {what}")


def _check_body(shape: Shape, given: list[Any] | None) -> None:
    if not shape.body.names and not given:
        return
    values = _texts("body", shape.body.names, given or [], shape.named and shape.body is not _CODE)
    if shape.body.hydrated_length(values) > BODY_MAX:
        raise SendRefused(SendCode.TOO_LONG, f"body: the hydrated text is longer than {BODY_MAX} characters")


def _texts(where: str, names: list[str], given: list[Any], named: bool) -> list[str]:
    """Each variable's value, by position or by `parameter_name`; the count first, then each parameter's form."""
    if len(given) != len(names):
        raise _mismatch(where, len(given), len(names))
    values: dict[str, str] = {}
    for position, parameter in enumerate(given):
        if not isinstance(parameter, dict):
            raise SendRefused(SendCode.FORMAT_MISMATCH, f"{where}: parameter {position} must be an object")
        label = parameter.get("parameter_name")
        if named != (label is not None):
            form = "NAMED: each parameter needs parameter_name" if named else "POSITIONAL: parameter_name is not used"
            raise SendRefused(SendCode.FORMAT_MISMATCH, f"{where}: the template's parameters are {form}")
        key = str(label) if named else names[position]
        if key not in names or key in values:
            raise SendRefused(SendCode.FORMAT_MISMATCH, f"{where}: parameter_name {label!r} is not a variable")
        values[key] = _text(where, parameter, position)
    return [values[name] for name in names]


def _text(where: str, parameter: dict[str, Any], position: int) -> str:
    kind = parameter.get("type")
    if kind not in BODY_TYPES:
        raise SendRefused(SendCode.FORMAT_MISMATCH, f"{where}: parameter {position} of type {kind!r} is not text")
    if kind == "currency":
        value = parameter.get("currency")
        text = value.get("fallback_value") if isinstance(value, dict) else None
    elif kind == "date_time":
        value = parameter.get("date_time")
        text = value.get("fallback_value") if isinstance(value, dict) else None
    else:
        text = parameter.get("text")
    if not isinstance(text, str) or not text.strip():
        raise SendRefused(SendCode.FORMAT_MISMATCH, f"{where}: parameter {position} needs a non-empty {kind}")
    if _POLICY.search(text):
        raise SendRefused(
            SendCode.POLICY,
            f"{where}: Param text cannot have new-line/tab characters or more than 4 consecutive spaces",
        )
    return text


def _check_buttons(shape: Shape, given: dict[int, dict[str, Any]]) -> None:
    for index in given:
        if index >= len(shape.buttons):
            raise SendRefused(SendCode.FORMAT_MISMATCH, f"button at index {index}: the template has no such button")
    for index, (kind, wanted) in enumerate(shape.buttons):
        if wanted == 0 and index not in given:
            continue
        sub_type = _SUB_TYPES.get(kind)
        sent = given.get(index)
        if sent is not None and str(sent.get("sub_type", "")).lower() != sub_type:
            raise SendRefused(
                SendCode.FORMAT_MISMATCH, f"button at index {index}: sub_type must be {sub_type!r} for a {kind} button"
            )
        parameters = list(sent.get("parameters") or []) if sent is not None else []
        expected = wanted
        if kind in _OPTIONAL and len(parameters) <= 1:
            expected = len(parameters)
        if len(parameters) != expected:
            raise _mismatch(f"button at index {index}", len(parameters), expected)
        for parameter in parameters:
            _check_button_parameter(kind, parameter, index)


def _button_parameters(kind: str, button: dict[str, Any]) -> int:
    if kind == "URL":
        return len(variables(str(button.get("url", ""))))
    if kind in ("OTP", "COPY_CODE"):
        return 1
    return 0


# Buttons whose one parameter may be left out: a quick reply's payload, a flow's or a catalog's action.
_OPTIONAL = frozenset({"QUICK_REPLY", "FLOW", "CATALOG", "MPM", "SPM"})
_BUTTON_TYPES = {
    "QUICK_REPLY": "payload",
    "URL": "text",
    "OTP": "text",
    "COPY_CODE": "coupon_code",
    "FLOW": "action",
    "CATALOG": "action",
    "MPM": "action",
    "SPM": "action",
}


def _check_button_parameter(kind: str, parameter: Any, index: int) -> None:
    wanted = _BUTTON_TYPES.get(kind)
    given = parameter.get("type") if isinstance(parameter, dict) else None
    value = parameter.get(wanted) if isinstance(parameter, dict) and wanted is not None else None
    ok = isinstance(value, dict) if wanted == "action" else isinstance(value, str) and bool(value)
    if given != wanted or not ok:
        raise SendRefused(
            SendCode.FORMAT_MISMATCH, f"button at index {index}: a {kind} button takes a {wanted!r} parameter"
        )
