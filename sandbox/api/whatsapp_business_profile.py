"""`GET|POST /{phone-number-id}/whatsapp_business_profile`: the business profile, validated as Meta validates it.

Every check runs before anything is stored, so a refused update leaves the profile as it was. Wording: a value of
the wrong JSON type or outside the `vertical` enum is Graph's `(#100) Param …`; a value over Meta's documented
limits is `(#100) Invalid parameter` with the limit in `error_data.details`.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from sandbox.api.fields import requested_fields
from sandbox.api.graph import GraphRequest, GraphRoute
from sandbox.api.message_bodies import MESSAGING_PRODUCT_REQUIRED
from sandbox.api.parsing import as_list, as_str, graph_param_error, one_of, param_name
from sandbox.domain.business_profile import (
    ABOUT_MAX,
    ADDRESS_MAX,
    DESCRIPTION_MAX,
    EMAIL,
    EMAIL_MAX,
    HANDLE_MAX,
    PICTURE_HANDLE,
    PROFILE_FIELDS,
    WEBSITE,
    WEBSITE_MAX,
    WEBSITES_MAX,
    UpdateBusinessProfile,
    Vertical,
)
from sandbox.errors import GraphError, GraphErrorCode, invalid_parameter
from sandbox.services import business_profiles

NODE_TYPE = "WhatsAppBusinessProfile"
_VERTICALS = tuple(member.value.lower() for member in Vertical)


def _text(body: dict[str, Any], name: str, limit: int) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    text = as_str(value, (name,))
    if len(text) > limit:
        raise invalid_parameter(f"Param {name} must be at most {limit} characters long.")
    return text


def _websites(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if value == "":
        return ()
    sites = as_list(value, ("websites",))
    if len(sites) > WEBSITES_MAX:
        raise invalid_parameter(f"Param websites can have at most {WEBSITES_MAX} websites.")
    for index, site in enumerate(sites):
        path = ("websites", index)
        as_str(site, path)
        if len(site) > WEBSITE_MAX:
            raise invalid_parameter(f"Param {param_name(path)} must be at most {WEBSITE_MAX} characters long.")
        if not WEBSITE.fullmatch(site):
            raise invalid_parameter(f"Param {param_name(path)} must be a URL that starts with http:// or https://.")
    return tuple(sites)


def parse_update(body: object) -> UpdateBusinessProfile:
    """The body of `POST .../whatsapp_business_profile` as a command, or Graph's error for the first bad field.

    `null` leaves a field as it is and `""` clears it (pywa sends `""` for a field given as `None`), except
    `about`, which Meta does not allow to be empty, and `vertical`, which cannot go back to unset.
    """
    request: dict[str, Any] = body if isinstance(body, dict) else {}
    if request.get("messaging_product") is None:
        raise GraphError(GraphErrorCode.INVALID_PARAMETER, None, message=MESSAGING_PRODUCT_REQUIRED)
    one_of(request["messaging_product"], ("whatsapp",), ("messaging_product",))
    about = _text(request, "about", ABOUT_MAX)
    if about == "":
        raise invalid_parameter(f"Param about must be between 1 and {ABOUT_MAX} characters long.")
    email = _text(request, "email", EMAIL_MAX)
    if email and not EMAIL.fullmatch(email):
        raise invalid_parameter("Param email must be a valid email address.")
    vertical = request.get("vertical")
    if vertical is not None:
        if vertical == "":
            raise invalid_parameter("Param vertical cannot be set back to an empty value.")
        vertical = one_of(vertical, _VERTICALS, ("vertical",)).upper()
    handle = request.get("profile_picture_handle")
    if handle is not None:
        handle = as_str(handle, ("profile_picture_handle",))
        if handle and (len(handle) > HANDLE_MAX or not PICTURE_HANDLE.fullmatch(handle)):
            raise invalid_parameter("The profile picture handle is invalid or expired.")
    return UpdateBusinessProfile(
        about=about,
        address=_text(request, "address", ADDRESS_MAX),
        description=_text(request, "description", DESCRIPTION_MAX),
        email=email,
        websites=_websites(request.get("websites")),
        vertical=vertical,
        profile_picture_handle=handle,
    )


def _projection(document: dict[str, Any], fields: str | None) -> dict[str, Any]:
    names = set(requested_fields(fields, PROFILE_FIELDS))
    unknown = sorted(names - set(document))
    if unknown:
        raise graph_param_error(f"Tried accessing nonexisting field ({unknown[0]}) on node type ({NODE_TYPE})")
    # Meta answers in its own order, with `messaging_product` whatever `fields=` asks for (its example asks
    # without it and gets it between `email` and `profile_picture_url`).
    names.add("messaging_product")
    return {name: value for name, value in document.items() if name in names and value is not None}


async def get_business_profile(graph: GraphRequest) -> Response:
    profile = business_profiles.business_profile(graph.tenant, graph.node)
    return graph.respond({"data": [_projection(profile.graph_fields(), graph.query.get("fields"))]})


async def update_business_profile(graph: GraphRequest) -> Response:
    command = parse_update(await graph.body())
    business_profiles.update_business_profile(graph.tenant, graph.node, command)
    return graph.respond({"success": True})


routes = [
    GraphRoute("phone_number", "whatsapp_business_profile", "GET", get_business_profile),
    GraphRoute("phone_number", "whatsapp_business_profile", "POST", update_business_profile),
]
