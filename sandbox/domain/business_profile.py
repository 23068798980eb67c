"""A number's business profile (`/{phone-number-id}/whatsapp_business_profile`): what WhatsApp users see when they
tap the business's name, with Meta's bounds on every field (business-profiles reference; meta-openapi
`WhatsAppBusinessProfile`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any


class Vertical(StrEnum):
    """The industry (`vertical`) a profile can be set to: the reference's enum, plus `NOT_A_BIZ` of the older
    edition that clients still send (pywa's `Industry.NOT_A_BIZ`)."""

    OTHER = "OTHER"
    AUTO = "AUTO"
    BEAUTY = "BEAUTY"
    APPAREL = "APPAREL"
    EDU = "EDU"
    ENTERTAIN = "ENTERTAIN"
    EVENT_PLAN = "EVENT_PLAN"
    FINANCE = "FINANCE"
    GROCERY = "GROCERY"
    GOVT = "GOVT"
    HOTEL = "HOTEL"
    HEALTH = "HEALTH"
    NONPROFIT = "NONPROFIT"
    PROF_SERVICES = "PROF_SERVICES"
    RETAIL = "RETAIL"
    TRAVEL = "TRAVEL"
    RESTAURANT = "RESTAURANT"
    ALCOHOL = "ALCOHOL"
    ONLINE_GAMBLING = "ONLINE_GAMBLING"
    PHYSICAL_GAMBLING = "PHYSICAL_GAMBLING"
    OTC_DRUGS = "OTC_DRUGS"
    NOT_A_BIZ = "NOT_A_BIZ"


# What a profile whose vertical was never set answers; it cannot be set back to it ("The business vertical cannot
# be set back to an empty value after it is created").
UNDEFINED_VERTICAL = "UNDEFINED"

ABOUT_MAX = 139
ADDRESS_MAX = 256
DESCRIPTION_MAX = 512
EMAIL_MAX = 128
WEBSITES_MAX = 2
WEBSITE_MAX = 256
# A resumable-upload handle is far shorter in practice; the bound keeps a stored handle small.
HANDLE_MAX = 1024

# Meta checks "a valid email address" without saying how; this is the shape of one: local@domain.tld, no spaces.
EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
WEBSITE = re.compile(r"https?://[^\s/?#]+[^\s]*", re.IGNORECASE)
# `4:<base64 file name>:<base64 MIME type>:<token>...`, the handle the Resumable Upload API answers.
PICTURE_HANDLE = re.compile(r"[0-9]+:[A-Za-z0-9+/=_-]+:[A-Za-z0-9+/=_-]+:[A-Za-z0-9+/=_:.-]+")

# `GET .../whatsapp_business_profile` without `fields=` (meta-openapi: "default fields will be returned").
PROFILE_FIELDS = (
    "about",
    "address",
    "description",
    "email",
    "messaging_product",
    "profile_picture_url",
    "websites",
    "vertical",
)


@dataclass(frozen=True, slots=True)
class UpdateBusinessProfile:
    """`POST /{phone-number-id}/whatsapp_business_profile`, validated: each field is its new value, `""`/`()` to
    clear it, or `None` to leave it as it is."""

    about: str | None = None
    address: str | None = None
    description: str | None = None
    email: str | None = None
    websites: tuple[str, ...] | None = None
    vertical: str | None = None
    profile_picture_handle: str | None = None


@dataclass(frozen=True, slots=True)
class BusinessProfile:
    """One number's profile; empty strings are fields never set (Graph leaves them out of the answer)."""

    about: str = ""
    address: str = ""
    description: str = ""
    email: str = ""
    websites: tuple[str, ...] = ()
    vertical: str = UNDEFINED_VERTICAL
    profile_picture_url: str = ""

    def updated(self, command: UpdateBusinessProfile, picture_url: str | None = None) -> BusinessProfile:
        """The profile after `command`; `picture_url` is where the uploaded picture of its handle is served."""
        changes = {
            name: value
            for name in ("about", "address", "description", "email", "websites", "vertical")
            if (value := getattr(command, name)) is not None
        }
        if picture_url is not None:
            changes["profile_picture_url"] = picture_url
        return replace(self, **changes)

    def within_bounds(self) -> bool:
        """Every field inside Meta's documented limits (what any accepted POST leaves behind)."""
        return (
            len(self.about) <= ABOUT_MAX
            and len(self.address) <= ADDRESS_MAX
            and len(self.description) <= DESCRIPTION_MAX
            and (not self.email or (len(self.email) <= EMAIL_MAX and EMAIL.fullmatch(self.email) is not None))
            and len(self.websites) <= WEBSITES_MAX
            and all(len(site) <= WEBSITE_MAX and WEBSITE.fullmatch(site) for site in self.websites)
            and (self.vertical == UNDEFINED_VERTICAL or self.vertical in Vertical.__members__)
        )

    def graph_fields(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "about": self.about or None,
            "address": self.address or None,
            "description": self.description or None,
            "email": self.email or None,
            "messaging_product": "whatsapp",
            "profile_picture_url": self.profile_picture_url or None,
            "websites": list(self.websites) or None,
            "vertical": self.vertical,
        }
        return document
