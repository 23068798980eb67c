"""Blocking users (`POST|DELETE|GET /{phone-number-id}/block_users`) and what a block changes.

A block is checked where the business sends (130403, synchronously: Meta's page says attempts "return an error")
and where the customer writes (their message never reaches the business). Per-user failures are Meta's 139100
with the reason in `error_data.details` (docs/fidelity-choices.md: Meta does not publish its per-user texts).
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.context import Tenant
from sandbox.domain.block_users import BLOCKLIST_MAX, Blocklist, BlockUser
from sandbox.domain.phone_number import PhoneNumber
from sandbox.errors import GraphError, GraphErrorCode
from sandbox.services.customers import known_user
from sandbox.services.messaging import recipient_wa_id


@dataclass(slots=True, frozen=True)
class UserResult:
    input: str
    wa_id: str | None = None
    user_id: str | None = None
    failure: str | None = None  # why this user was not blocked or unblocked (139100's details)


def listed(tenant: Tenant, phone: PhoneNumber) -> Blocklist:
    return tenant.store.blocklists.get(phone.id) or Blocklist()


def blocklist(tenant: Tenant, phone: PhoneNumber) -> Blocklist:
    # Kept once made, even empty: its version must only move forward, or an old page cursor could match again.
    found = tenant.store.blocklists.get(phone.id)
    if found is None:
        found = tenant.store.blocklists[phone.id] = Blocklist()
    return found


def _resolve(tenant: Tenant, phone: PhoneNumber, user: BlockUser) -> UserResult:
    if user.by_user_id:
        customer = known_user(tenant, user.input)
        if customer is None:
            return UserResult(user.input, failure=f"No WhatsApp user with the business-scoped user ID {user.input}.")
        return UserResult(user.input, customer.wa_id, customer.user_id)
    try:
        return UserResult(user.input, recipient_wa_id(user.input, phone))
    except GraphError as error:
        return UserResult(user.input, failure=error.details or error.message)


def _businesses(tenant: Tenant) -> set[str]:
    return {number.display_phone_number for number in tenant.store.phone_numbers}


def block_users(tenant: Tenant, phone: PhoneNumber, users: list[BlockUser]) -> list[UserResult]:
    """Block every user who may be blocked; all or nothing only when the list would pass Meta's 64,000 (139101)."""
    now = tenant.clock.now()
    businesses = _businesses(tenant)
    results = []
    for user in users:
        result = _resolve(tenant, phone, user)
        if result.failure is None and result.wa_id in businesses:
            result = UserResult(user.input, failure="A WhatsApp Business Account cannot be blocked.")
        elif result.failure is None and not tenant.store.windows.is_open(phone.id, result.wa_id or "", now):
            result = UserResult(
                user.input, failure="Only users who messaged this business in the last 24 hours can be blocked."
            )
        results.append(result)
    found = blocklist(tenant, phone)
    adding = [result.wa_id for result in results if result.wa_id is not None and result.failure is None]
    if not found.room_for(adding):
        raise GraphError(
            GraphErrorCode.BLOCKLIST_LIMIT_REACHED,
            f"The blocklist of this number has {len(found)} users; it can hold at most {BLOCKLIST_MAX}.",
        )
    for result in results:
        if result.failure is None and result.wa_id is not None:
            found.block(result.wa_id, result.user_id, now)
    return results


def unblock_users(tenant: Tenant, phone: PhoneNumber, users: list[BlockUser]) -> list[UserResult]:
    """Unblock each user; one who was not blocked is reported removed too (the list no longer holds them)."""
    results = [_resolve(tenant, phone, user) for user in users]
    found = blocklist(tenant, phone)
    for result in results:
        if result.failure is None and result.wa_id is not None:
            found.unblock(result.wa_id)
    return results
