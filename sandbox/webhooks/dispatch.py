"""From a tenant's events to queued deliveries: render, route as Meta routes, apply the tenant's chaos, sign.

Routing (meta-lifecycle.md §1.4–§1.5): a change goes to every app of the tenant subscribed to the WABA that owns
it at that instant (the tenant's own app and its partner apps), signed with that app's secret; nothing goes to a
WABA no app is subscribed to; `messages` webhooks go to the phone number's override, else the WABA's
`override_callback_uri`, else the app's callback; every other field goes to the app's callback.

Chaos (policy knobs, all off by default, every draw from `tenant.behaviour` so a seed replays the same run):
duplicates, reordered statuses, several changes batched in one POST, delayed delivery, a wrong signature.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from sandbox.clock import TenantClock
from sandbox.domain.events import Event, MessageReceived, MessageStatusChanged, SilentEvent
from sandbox.domain.phone_number import PhoneNumber
from sandbox.domain.policy import Policy
from sandbox.store import TenantStore
from sandbox.webhooks.outbox import Delivery, DeliveryState, Outbox
from sandbox.webhooks.payloads import (
    Rendered,
    customer_facts,
    payload,
    render_account,
    render_inbound,
    render_status,
    render_status_facts,
)
from sandbox.webhooks.signing import meta_json, signed_headers

log = logging.getLogger("sandbox.webhooks")
# Where a change goes: (callback URL or None, the delivery's state, the secret that signs it).
Route = tuple[str | None, DeliveryState, str]


class _Credentials(Protocol):
    app_id: str
    app_secret: str


class _Callback(Protocol):
    url: str | None


class Publisher(Protocol):
    """What dispatch needs from a tenant (sandbox.context.Tenant)."""

    id: str
    clock: TenantClock
    policy: Policy
    store: TenantStore
    credentials: _Credentials
    webhook: _Callback
    partners: dict[str, Any]
    behaviour: random.Random
    graph_version: str
    waba_id: str
    outbox: Outbox

    def incident(self, kind: str, error: Exception, **facts: Any) -> None: ...

    def endpoint(self, app_id: str) -> tuple[str | None, str] | None: ...


def render(tenant: Publisher, event: Event) -> Rendered | None:
    if isinstance(event, MessageStatusChanged | MessageReceived):
        phone = tenant.store.phone_numbers.get(event.message.phone_number_id)
        if phone is None:
            return None
        customer = tenant.store.customers.get(event.message.wa_id)
        if isinstance(event, MessageStatusChanged):
            return render_status(event, phone, customer, tenant.graph_version)
        return render_inbound(event, phone, customer)
    if isinstance(event, SilentEvent):
        return None
    return render_account(event)


def route(tenant: Publisher, field: str, waba_id: str, phone: PhoneNumber | None) -> tuple[str | None, DeliveryState]:
    """The callback URL a change goes to (the first subscribed app's), or None and why (`unsubscribed`,
    `no_callback`)."""
    url, state, _ = routes(tenant, field, waba_id, phone)[0]
    return url, state


def routes(tenant: Publisher, field: str, waba_id: str, phone: PhoneNumber | None) -> list[Route]:
    """(URL or None, state, signing secret) for each app of the tenant subscribed to `waba_id`; one unrouted entry
    when none is."""
    waba = tenant.store.wabas.get(waba_id)
    found: list[Route] = []
    for subscription in waba.subscribed_apps if waba is not None else ():
        endpoint = tenant.endpoint(subscription.app_id)
        if endpoint is None:
            continue
        url, secret = endpoint
        if field == "messages":
            if phone is not None and phone.webhook_override:
                url = phone.webhook_override
            elif subscription.override_callback_uri:
                url = subscription.override_callback_uri
        found.append((url, "pending" if url else "no_callback", secret))
    return found or [(None, "unsubscribed", tenant.credentials.app_secret)]


def publish(tenant: Publisher, events: list[Event]) -> None:
    """Render each event into Meta's payload, route it, and hand it to the outbox (through the chaos knobs)."""
    for event in events:
        found = None
        if type(event) is MessageStatusChanged:
            found = _status_routes(tenant, event)
            if found is None:
                continue
        try:
            rendered = render(tenant, event)
        except Exception as error:
            # A renderer bug: logged and kept as the tenant's incident, so a test or a user sees the lost webhook.
            log.exception("a %s webhook could not be rendered", type(event).__name__)
            tenant.incident("webhook_render_failed", error, event=type(event).__name__)
            continue
        if rendered is None:
            continue
        if found is None:
            phone = tenant.store.phone_numbers.get(rendered.phone_number_id) if rendered.phone_number_id else None
            found = routes(tenant, rendered.field, rendered.waba_id, phone)
        for url, unrouted, secret in found:
            if url is not None and tenant.policy.webhooks.batch_max > 1:
                _batch(tenant, url, rendered, secret)
                continue
            _send(tenant, url, unrouted, [rendered], rendered.ordering_key, secret)


class UnroutedStatus(tuple):  # type: ignore[type-arg]
    """A status change nobody receives (no callback URL, no subscribed app), as the delivery log keeps it: the facts
    its delivery shows, captured when it happened; the delivery is rendered and signed only when the log is read.

    (tenant, delivery number, state, message, status, at, phone, customer known, profile name, BSUID, Graph
    version, secret.) A tuple: made once per status of every send, and read, if ever, by a person."""

    __slots__ = ()

    def delivery(self) -> Delivery:
        tenant, number, state, message, status, at, phone, known, name, user_id, version, secret = self
        rendered = render_status_facts(message, status, at, phone, known, name, user_id, version)
        return Delivery(
            f"whd_{number}",
            tenant,
            None,
            "messages",
            rendered.summary,
            partial(_signed_payload, [rendered], secret),
            rendered.ordering_key,
            at,
            state,
            [],
            None,
            None,
            rendered.waba_id,
            rendered.phone_number_id,
            rendered.wamids,
            rendered.recipients,
        )


def _status_routes(tenant: Publisher, event: MessageStatusChanged) -> list[Route] | None:
    """Where a status change goes, for the full path; None when it goes nowhere: a change no app would receive
    is logged as facts here, and one of a number that is gone is dropped (as `render` drops it)."""
    message = event.message
    phone = tenant.store.phone_numbers.get(message.phone_number_id)
    if phone is None:
        return None
    found = routes(tenant, "messages", phone.waba_id, phone)
    if len(found) != 1 or found[0][0] is not None:
        return found
    _, state, secret = found[0]
    customer = tenant.store.customers.get(message.wa_id)
    number = tenant.outbox.number()
    facts = (tenant, number, state, message, event.status, event.at, phone, *customer_facts(customer))
    tenant.outbox.log_unrouted(
        tenant, number, UnroutedStatus((*facts, tenant.graph_version, secret or tenant.credentials.app_secret))
    )
    return None


def _batch(tenant: Publisher, url: str, rendered: Rendered, secret: str) -> None:
    """Chaos batching: changes to one URL wait up to `webhook_batch_window_seconds` to share one POST."""
    queue = tenant.outbox.tenant(tenant.id)
    waiting = queue.batches.setdefault(url, [])
    waiting.append(rendered)
    if len(waiting) >= tenant.policy.webhooks.batch_max:
        _flush(tenant, url, secret)
    elif len(waiting) == 1:
        tenant.clock.call_later(tenant.policy.webhooks.batch_window_seconds, partial(_flush, tenant, url, secret))


def _flush(tenant: Publisher, url: str, secret: str | None = None) -> None:
    waiting = tenant.outbox.tenant(tenant.id).batches.pop(url, [])
    if waiting:
        # One lane per URL keeps batches in the order their changes happened.
        _send(tenant, url, "pending", waiting, f"batch:{url}", secret, batched=len(waiting) > 1)


def _send(
    tenant: Publisher,
    url: str | None,
    unrouted: DeliveryState,
    changes: list[Rendered],
    ordering_key: str,
    secret: str | None = None,
    *,
    batched: bool = False,
) -> None:
    policy, rng = tenant.policy, tenant.behaviour
    chaos: list[str] = ["batched"] if batched else []
    not_before: datetime | None = None
    if url is not None:
        low, high = policy.webhooks.delivery_delay
        if high > 0:
            not_before = tenant.clock.now() + timedelta(seconds=rng.uniform(low, high))
            chaos.append("delayed")
        if (
            not batched
            and changes[0].is_status
            and policy.webhooks.reorder_probability > 0
            and rng.random() < policy.webhooks.reorder_probability
        ):
            # Held back in a lane of its own, so the message's later statuses overtake it.
            ordering_key = f"reorder:{ordering_key}:{len(tenant.outbox.tenant(tenant.id).log)}"
            not_before = (not_before or tenant.clock.now()) + timedelta(seconds=policy.webhooks.reorder_hold_seconds)
            chaos.append("reordered")
    secret = secret or tenant.credentials.app_secret
    bad_signature = policy.webhooks.bad_signature_probability
    if url is not None and bad_signature > 0 and rng.random() < bad_signature:
        secret = "wrong-" + secret[::-1]
        chaos.append("bad_signature")
    duplicate = (
        url is not None
        and policy.webhooks.duplicate_probability > 0
        and (rng.random() < policy.webhooks.duplicate_probability)
    )
    _enqueue(tenant, url, unrouted, changes, ordering_key, secret, not_before, tuple(chaos))
    if duplicate:
        _enqueue(tenant, url, unrouted, changes, ordering_key, secret, not_before, (*chaos, "duplicate"))


def _enqueue(
    tenant: Publisher,
    url: str | None,
    unrouted: DeliveryState,
    changes: list[Rendered],
    ordering_key: str,
    secret: str,
    not_before: datetime | None,
    chaos: tuple[str, ...],
) -> Delivery:
    head = changes[0]
    if len(changes) == 1:
        field, summary, wamids, recipients = head.field, head.summary, head.wamids, head.recipients
    else:
        field = head.field if all(c.field == head.field for c in changes) else "batch"
        summary = f"{len(changes)} changes: " + ", ".join(c.summary for c in changes)
        wamids = tuple(wamid for c in changes for wamid in c.wamids)
        recipients = tuple(dict.fromkeys(r for c in changes for r in c.recipients))
    return tenant.outbox.enqueue(
        tenant,
        url,
        field,
        summary,
        # Nobody will receive an unrouted delivery: it is rendered and signed only if its log entry is read.
        _signed_payload(changes, secret) if url is not None else partial(_signed_payload, changes, secret),
        ordering_key,
        unrouted=unrouted,
        not_before=not_before,
        waba_id=head.waba_id,
        phone_number_id=head.phone_number_id,
        wamids=wamids,
        recipients=recipients,
        chaos=chaos,
    )


def _signed_payload(changes: list[Rendered], secret: str) -> tuple[bytes, dict[str, str]]:
    # Status values hold strings, ints and booleans only, so they can take meta_json's orjson path.
    floats = not all(change.is_status for change in changes)
    body = meta_json(payload(changes), floats=floats)
    return body, signed_headers(secret, body)


def redeliver(tenant: Publisher, delivery: Delivery) -> Delivery | None:
    """Send a logged delivery again to where its change would be routed now, correctly signed; None if nowhere."""
    phone = tenant.store.phone_numbers.get(delivery.phone_number_id) if delivery.phone_number_id else None
    waba_id = delivery.waba_id or tenant.waba_id
    url, _, secret = routes(tenant, delivery.field if delivery.field != "batch" else "messages", waba_id, phone)[0]
    if url is None:
        return None
    return tenant.outbox.redeliver(delivery, url, signed_headers(secret, delivery.body))
