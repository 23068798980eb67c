"""A number's settings (`GET|POST /{phone-number-id}/settings`): calling, payload encryption, storage, identity."""

from __future__ import annotations

from sandbox.context import Tenant
from sandbox.domain.phone_number import PhoneNumber
from sandbox.domain.phone_number_settings import PhoneNumberSettings, UpdatePhoneNumberSettings


def phone_number_settings(tenant: Tenant, phone: PhoneNumber) -> PhoneNumberSettings:
    """The number's settings, created with Meta's defaults on first use."""
    found = tenant.store.phone_number_settings.get(phone.id)
    if found is None:
        found = tenant.store.phone_number_settings[phone.id] = PhoneNumberSettings()
    return found


def update_phone_number_settings(tenant: Tenant, phone: PhoneNumber, command: UpdatePhoneNumberSettings) -> None:
    phone_number_settings(tenant, phone).apply(command)
