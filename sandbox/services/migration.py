"""Migrating a number to another WABA of the same business (BSP migration, meta-lifecycle.md §5.1-§5.2,
SEED-MIGRATE-1..5, docs/migration.md).

`POST /{destination-waba-id}/phone_numbers` with `migrate_phone_number=true` adds a new phone-number id on the
destination (NOT_VERIFIED, PENDING) once every precondition holds; `request_code` / `verify_code` verify it;
`register` with a new PIN moves the number: the source id becomes `MIGRATED` (detached), the destination id serves
it with the display name, quality rating, throughput and the portfolio's messaging limit carried over; approved
GREEN/UNKNOWN templates reach the destination `migration_template_copy_seconds` later on the tenant clock.
"""

from __future__ import annotations

from functools import partial

from sandbox.context import Tenant
from sandbox.domain.commands import RegisterPhoneNumber
from sandbox.domain.migration import MIGRATION_LIFECYCLE, Migration, MigrationStatus, refusal
from sandbox.domain.phone_number import (
    STATUS_LIFECYCLE,
    CodeVerificationStatus,
    PhoneNumber,
    PhoneNumberStatus,
)
from sandbox.domain.template import MessageTemplate
from sandbox.domain.waba import WhatsAppBusinessAccount
from sandbox.errors import GraphError, GraphErrorCode
from sandbox.services import decisions, phone_numbers, registration, template_deletion
from sandbox.services.message_templates import templates_of

CODES = {
    "2388001": GraphErrorCode.MIGRATION_TWO_STEP_ENABLED,
    "2388012": GraphErrorCode.MIGRATION_ALREADY_LISTED,
    "2388103": GraphErrorCode.MIGRATION_REFUSED,
}
# Template quality scores Meta carries over (§5.2: only high-quality templates are duplicated).


def _refused(code: GraphErrorCode, message: str) -> GraphError:
    return GraphError(code, message, user_title="Cannot Migrate Phone Number", user_msg=message, is_transient=False)


def _verification(tenant: Tenant, waba: WhatsAppBusinessAccount | None) -> str | None:
    business = tenant.store.businesses.get(waba.business_id) if waba is not None else None
    return business.verification_status if business is not None else None


def start(tenant: Tenant, destination: WhatsAppBusinessAccount, cc: str, phone_number: str) -> PhoneNumber:
    """The new phone-number id on `destination`, or Meta's refusal (nothing changed) for the first unmet
    precondition (domain/migration.py `refusal`)."""
    digits = phone_numbers.business_number(cc, phone_number)
    same = [phone for phone in tenant.store.phone_numbers if phone.display_phone_number == digits]
    listed = any(phone.waba_id == destination.id and phone.status != PhoneNumberStatus.MIGRATED for phone in same)
    source = next((phone for phone in same if phone.waba_id != destination.id and phone.registered), None)
    source_waba = tenant.store.wabas.get(source.waba_id) if source is not None else None
    refused = refusal(
        source,
        source_waba,
        _verification(tenant, source_waba),
        destination,
        _verification(tenant, destination),
        listed,
    )
    if refused is not None:
        raise _refused(CODES[refused[0]], refused[1])
    assert source is not None and source_waba is not None
    phone = PhoneNumber(
        id=tenant.ids.node_id(),
        waba_id=destination.id,
        display_phone_number=digits,
        verified_name=source.verified_name,
        country_calling_code=source.country_calling_code,
        status=PhoneNumberStatus.PENDING.value,
        code_verification_status=CodeVerificationStatus.NOT_VERIFIED.value,
        name_status=source.name_status,
        quality_rating=source.quality_rating,
        platform_type="NOT_APPLICABLE",
        account_mode=destination.account_mode,
        is_official_business_account=source.is_official_business_account,
        is_pin_enabled=False,
        formatted=source.formatted,
        certificate=source.certificate,
    )
    tenant.store.phone_numbers.add(phone.id, phone)
    tenant.store.migrations[phone.id] = Migration(
        phone.id, source.id, source_waba.id, destination.id, tenant.clock.now()
    )
    return phone


def _migrated_from(tenant: Tenant, phone: PhoneNumber) -> bool:
    return any(
        m.source_phone_id == phone.id and m.status == MigrationStatus.MIGRATED for m in tenant.store.migrations.values()
    )


def check_code_call(tenant: Tenant, phone: PhoneNumber, *, verify: bool) -> None:
    """A number that moved away by migration is not being migrated: its old id gets 2388091 / 2388093."""
    if _migrated_from(tenant, phone):
        code = GraphErrorCode.MIGRATION_VERIFY_NOT_ELIGIBLE if verify else GraphErrorCode.MIGRATION_CODE_NOT_ELIGIBLE
        raise _refused(code, code.title)


def verified(tenant: Tenant, phone: PhoneNumber) -> None:
    migration = tenant.store.migrations.get(phone.id)
    if migration is not None and phone.code_verification_status == CodeVerificationStatus.VERIFIED:
        decisions.step(tenant, MIGRATION_LIFECYCLE, migration, "verify")


def register(tenant: Tenant, phone: PhoneNumber, command: RegisterPhoneNumber) -> None:
    """`register` on any number; on a verified migration's destination it also completes the move."""
    registration.register(tenant, phone, command)
    migration = tenant.store.migrations.get(phone.id)
    if migration is None or migration.status != MigrationStatus.VERIFIED:
        return
    source = tenant.store.phone_numbers.get(migration.source_phone_id)
    if source is not None:
        phone.quality_rating = source.quality_rating
        phone.throughput_level = source.throughput_level
        decisions.step(tenant, STATUS_LIFECYCLE, source, "migrate")
        source.is_pin_enabled = False
        tenant.numbers.claim(phone.display_phone_number, tenant.id, phone.id)
    decisions.step(tenant, MIGRATION_LIFECYCLE, migration, "complete")
    tenant.clock.call_later(
        tenant.policy.numbers.migration_template_copy_seconds, partial(copy_templates, tenant, migration)
    )


def copy_templates(tenant: Tenant, migration: Migration) -> list[MessageTemplate]:
    """Duplicate the source WABA's approved GREEN/UNKNOWN templates into the destination, APPROVED with quality
    UNKNOWN (§5.1), by the same rule as `migrate_message_templates` (§4.10): names the destination has are kept."""
    destination = migration.destination_waba_id
    copied = [
        template_deletion.copy_template(tenant, destination, template)
        for template in templates_of(tenant, migration.source_waba_id)
        if template_deletion.unmigratable(tenant, destination, template) is None
    ]
    migration.templates_copied_at = tenant.clock.now()
    return copied


def current(tenant: Tenant, phone: PhoneNumber) -> PhoneNumber:
    """The id that serves `phone`'s number now: a customer writes to the number, so after a migration its messages
    reach the destination's id (and its app), whichever id the caller named."""
    pending = tenant.store.migrations.get(phone.id)
    if pending is not None and pending.status != MigrationStatus.MIGRATED:
        # Not registered yet: the source still serves the number.
        source = tenant.store.phone_numbers.get(pending.source_phone_id)
        return source if source is not None else phone
    if phone.status != PhoneNumberStatus.MIGRATED:
        return phone
    for migration in tenant.store.migrations.values():
        if migration.source_phone_id == phone.id and migration.status == MigrationStatus.MIGRATED:
            found = tenant.store.phone_numbers.get(migration.destination_phone_id)
            if found is not None:
                return current(tenant, found)
    return phone


def document(migration: Migration) -> dict[str, object]:
    return {
        "phone_number_id": migration.destination_phone_id,
        "source_phone_number_id": migration.source_phone_id,
        "source_waba_id": migration.source_waba_id,
        "destination_waba_id": migration.destination_waba_id,
        "status": migration.status,
        "started_at": migration.started_at,
        "completed_at": migration.completed_at,
        "templates_copied_at": migration.templates_copied_at,
    }
