"""The business profile of a number (`GET|POST /{phone-number-id}/whatsapp_business_profile`)."""

from __future__ import annotations

import hashlib

from sandbox.context import Tenant
from sandbox.domain.business_profile import BusinessProfile, UpdateBusinessProfile
from sandbox.domain.phone_number import PhoneNumber

# Where Meta serves profile pictures (`profile_picture_url` in its examples).
PICTURE_HOST = "https://pps.whatsapp.net/v/t61.24694-24"


def business_profile(tenant: Tenant, phone: PhoneNumber) -> BusinessProfile:
    """The number's profile; a number nobody has described yet has Meta's empty one."""
    return tenant.store.business_profiles.get(phone.id) or BusinessProfile()


def update_business_profile(tenant: Tenant, phone: PhoneNumber, command: UpdateBusinessProfile) -> BusinessProfile:
    """Apply a validated update all at once (the command carries no value outside Meta's bounds)."""
    picture_url = None if command.profile_picture_handle is None else ""
    if command.profile_picture_handle:
        digest = hashlib.sha256(f"{phone.id}:{command.profile_picture_handle}".encode()).hexdigest()
        picture_url = f"{PICTURE_HOST}/{digest[:24]}_n.jpg?ccb=11-4&oh={digest[24:56]}"
    profile = business_profile(tenant, phone).updated(command, picture_url)
    tenant.store.business_profiles[phone.id] = profile
    return profile


def seed_business_profile(tenant: Tenant, phone: PhoneNumber, company: str) -> BusinessProfile:
    """A fake but plausible profile for a number of a ready-made world (drawn from the tenant's seed)."""
    fields = tenant.fake.business_profile(company, phone.id)
    profile = BusinessProfile(**fields)
    tenant.store.business_profiles[phone.id] = profile
    return profile
