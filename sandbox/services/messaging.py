"""Sending, reading and receiving messages (`POST /{phone-number-id}/messages`, control-plane `inbound`)."""

from __future__ import annotations

import re

from sandbox.context import Tenant
from sandbox.domain.commands import MarkMessageRead, ReceiveMedia, ReceiveMessage, SendMessage
from sandbox.domain.customer import undownloadable_media
from sandbox.domain.errors import Conflict, NotFound
from sandbox.domain.events import MessageReceived
from sandbox.domain.message import TEMPLATE_TYPE, Message, MessageStatus, advance, received
from sandbox.domain.phone_number import PhoneNumber
from sandbox.domain.template import TemplateCategory
from sandbox.errors import GraphError, GraphErrorCode, invalid_parameter
from sandbox.services import (
    faults,
    limits,
    messaging_limits,
    migration,
    pricing,
    progression,
    quality,
    template_sending,
    trial,
    waba_review,
)
from sandbox.services.customers import customer_for, customer_with_user_id
from sandbox.services.media import inbound_media, keep_customer_file

_NOT_DIGITS = re.compile(r"[^0-9]")
ACCEPTED = MessageStatus.ACCEPTED.value


def recipient_wa_id(to: str, phone: PhoneNumber) -> str:
    """The `wa_id` Meta derives from `to`: digits only; a national number without `+` gets the business's
    country calling code (META-SEND `to`)."""
    digits = _NOT_DIGITS.sub("", to)
    if not to.strip().startswith("+") and len(digits) <= 10 and not digits.startswith(phone.country_calling_code):
        digits = phone.country_calling_code + digits
    if not 7 <= len(digits) <= 15:
        raise GraphError(
            GraphErrorCode.PARAMETER_VALUE_INVALID,
            f"Invalid phone number: the recipient {to!r} is not a valid WhatsApp phone number.",
        )
    return digits


def registered_phone(tenant: Tenant, phone_number_id: str) -> PhoneNumber:
    phone = tenant.store.phone_numbers.get(phone_number_id)
    if phone is None:
        raise invalid_parameter(f"Unknown phone number id {phone_number_id}")
    if not phone.registered:
        raise GraphError(GraphErrorCode.PHONE_NUMBER_NOT_REGISTERED)
    return phone


def send_message(tenant: Tenant, command: SendMessage) -> Message:
    """Accept a message for delivery, as Meta does: the answer says accepted, the outcome comes by webhook.

    Fidelity: a free-form message outside the customer-service window and a message to a customer who is not
    on WhatsApp are accepted and then fail asynchronously (131047, 131026), as Meta reports them.
    """
    # One reading of the clock for the whole send (limits, windows, pricing, the scheduled moves all ask it).
    held = tenant.clock.hold()
    try:
        return _send(tenant, command)
    finally:
        if held:
            tenant.clock.release()


def _send(tenant: Tenant, command: SendMessage) -> Message:
    phone = registered_phone(tenant, command.phone_number_id)
    if command.user_id is None:
        wa_id = recipient_wa_id(command.to, phone)
    else:
        wa_id = customer_with_user_id(tenant, command.user_id).wa_id
    if wa_id == phone.display_phone_number:
        raise GraphError(GraphErrorCode.RECIPIENT_CANNOT_BE_SENDER)
    blocks = tenant.store.blocklists.get(phone.id)
    if blocks is not None and wa_id in blocks:
        raise GraphError(GraphErrorCode.BUSINESS_BLOCKED_USER)
    template = (
        template_sending.sendable_template(tenant, phone, command.content) if command.type == TEMPLATE_TYPE else None
    )
    if command.user_id is not None and template is not None and template.category == TemplateCategory.AUTHENTICATION:
        # One-tap, zero-tap and copy-code authentication templates, i.e. all of them, need a phone number.
        raise GraphError(GraphErrorCode.BSUID_RECIPIENT_NOT_SUPPORTED)
    now = tenant.clock.now()
    window_open = tenant.store.windows.is_open(phone.id, wa_id, now)
    waba_review.check_send(tenant, phone)
    quality.check_send(phone, window_open)
    counted = trial.check(tenant, phone, wa_id, True if template is not None else (False if window_open else None))
    limits.check_send(tenant, phone, wa_id)
    if counted is not None:
        counted()
    customer = customer_for(tenant, wa_id)
    message = Message(  # positional: a keyword call of 11 fields costs more than it reads better
        tenant.ids.wamid(wa_id),
        "outbound",
        phone.id,
        wa_id,
        command.type,
        command.content,
        now,
        ACCEPTED,
        command.to,
        command.user_id,
        command.context_message_id,
        command.biz_opaque_callback_data,
        None,
        None,
        [(ACCEPTED, now)],
    )
    injected = None
    if tenant.faults.faults:  # the facts a fault matches on cost ~3 µs; without faults, nothing can match them
        to = command.to if command.user_id is None else wa_id  # a BSUID's digits are no phone number
        call = faults.send_call(phone, to, wa_id, command.type, template.name if template else None)
        injected = faults.accepted_failure(tenant, call)
    failure: tuple[GraphErrorCode, str] | None = None
    code = customer.failure()
    if injected is not None:
        failure = (injected.code, injected.details)
    elif code is not None:
        failure = (code, code.description)
    elif template is None and not window_open:
        failure = (GraphErrorCode.RE_ENGAGEMENT_MESSAGE, GraphErrorCode.RE_ENGAGEMENT_MESSAGE.description)
    elif template is not None:
        failure = template_sending.webhook_failure(template, wa_id, now) or undownloadable_media(command.content)
    else:
        failure = undownloadable_media(command.content)
    if failure is None and template is not None and not window_open:
        failure = messaging_limits.admit(tenant, phone, wa_id)
        if failure is None:
            quality.business_initiated(tenant, phone, wa_id, now)
    if failure is None:
        message.pricing = pricing.price_send(
            tenant, phone, wa_id, command.type, template.category if template else None, window_open, now
        )
    tenant.store.messages.add(message.wamid, message)
    tenant.store.conversation(phone.id, wa_id).last_outbound = message.wamid
    progression.start(tenant, message, customer, failure, injected.delay if injected else 0.0)
    tenant.clock.run_due()  # a move due at once (immediate progression) runs before the answer
    return message


def mark_message_read(tenant: Tenant, command: MarkMessageRead) -> None:
    """Mark an inbound message, and every earlier one from the same customer on this number, as read."""
    phone = registered_phone(tenant, command.phone_number_id)
    message = tenant.store.messages.get(command.message_id)
    if message is None or message.direction != "inbound" or message.phone_number_id != phone.id:
        raise GraphError(
            GraphErrorCode.PARAMETER_VALUE_INVALID,
            f"Message with id {command.message_id} does not exist or cannot be marked as read",
        )
    now = tenant.clock.now()
    # Arrival order, not timestamps: on a frozen clock several messages share one instant.
    for wamid in tenant.store.conversation(phone.id, message.wa_id).read_up_to(message.wamid):
        earlier = tenant.store.messages.get(wamid)
        if earlier is not None and earlier.status == MessageStatus.RECEIVED:
            advance(earlier, "read", now)


def receive_message(tenant: Tenant, command: ReceiveMessage) -> Message:
    """A customer writes to the business: the `messages` webhook goes out and the 24-hour window opens."""
    phone = _inbound_phone(tenant, command.phone_number_id)
    blocks = tenant.store.blocklists.get(phone.id)
    if blocks is not None and command.wa_id in blocks:
        # WhatsApp never delivers a blocked user's message: the business sees nothing, so nothing is recorded.
        raise Conflict(f"{command.wa_id} is blocked by phone number {phone.id}: their messages do not reach it")
    limits.record_inbound(tenant, phone)
    customer = customer_for(tenant, command.wa_id)
    if command.profile_name:
        customer.profile_name = command.profile_name
    now = tenant.clock.now()
    content = inbound_media(tenant, command.type, command.content, now)
    context_message_id = command.context_message_id or _tapped_message(tenant, phone, command)
    message = received(
        Message(
            wamid=tenant.ids.wamid(command.wa_id, outbound=False),
            direction="inbound",
            phone_number_id=phone.id,
            wa_id=command.wa_id,
            type=command.type,
            content=content,
            created_at=now,
            context_message_id=context_message_id,
        ),
        now,
    )
    tenant.store.messages.add(message.wamid, message)
    tenant.store.conversation(phone.id, command.wa_id).received(message.wamid)
    tenant.store.windows.customer_wrote(phone.id, command.wa_id, now)
    pricing.customer_wrote(tenant, phone.id, command.wa_id, command.content, now)
    tenant.publish([MessageReceived(message, customer.profile_name, customer.user_id, now)])
    tenant.clock.run_due()
    return message


def receive_media(tenant: Tenant, command: ReceiveMedia) -> Message:
    """A customer sends a file: its bytes become tenant media the business can `GET /{media-id}` and download,
    and it arrives as an image, video, audio, document or sticker message carrying that id. Refused, nothing is
    kept."""
    message_type, media = keep_customer_file(tenant, command.type, command.mime_type, command.data, command.filename)
    content: dict[str, str] = {"id": media.id}
    if command.caption is not None and message_type in ("image", "video", "document"):
        content["caption"] = command.caption
    if command.filename is not None and message_type == "document":
        content["filename"] = command.filename
    inbound = ReceiveMessage(
        wa_id=command.wa_id,
        type=message_type,
        content=content,
        phone_number_id=command.phone_number_id,
        context_message_id=command.context_message_id,
    )
    try:
        return receive_message(tenant, inbound)
    except Exception:
        tenant.store.media.remove(media.id)
        raise


# A button or interactive reply is a tap on a business message: Meta always sends its `context`.
_TAP_TYPES = frozenset({"button", "interactive"})


def _tapped_message(tenant: Tenant, phone: PhoneNumber, command: ReceiveMessage) -> str | None:
    """The business message a reply without an explicit `context` taps: the newest one sent to this customer."""
    if command.type not in _TAP_TYPES:
        return None
    tapped = tenant.store.conversation(phone.id, command.wa_id).last_outbound
    if tapped is None:
        raise Conflict(f"a {command.type} reply taps a business message: give context.message_id, or send one first")
    return tapped


def _inbound_phone(tenant: Tenant, phone_number_id: str | None) -> PhoneNumber:
    if phone_number_id is None:
        phone = next(iter(tenant.store.phone_numbers), None)
        if phone is None:
            raise Conflict("the tenant has no phone number to write to")
        return migration.current(tenant, phone)
    phone = tenant.store.phone_numbers.get(phone_number_id)
    if phone is None:
        raise NotFound(f"no phone number {phone_number_id} in this tenant")
    return migration.current(tenant, phone)


def find_message(tenant: Tenant, wamid: str) -> Message | None:
    return tenant.store.messages.get(wamid)
