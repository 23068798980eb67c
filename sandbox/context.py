"""The composition root: a `Sandbox` holds tenants, and each `Tenant` its own world, clock, generators and policy."""

from __future__ import annotations

import asyncio
import hmac
import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sandbox.clock import TenantClock
from sandbox.domain.events import Event
from sandbox.domain.fault import FaultBook
from sandbox.domain.limits import RateLimits
from sandbox.domain.onboarding import NumberRegistry
from sandbox.domain.partner_app import PartnerApp
from sandbox.domain.policy import Policy
from sandbox.fakedata import FakeData
from sandbox.ids import IdFactory, process_salt, token_key
from sandbox.settings import Settings
from sandbox.store import Journal, TenantStore
from sandbox.store.snapshots import MemorySnapshots, Snapshots
from sandbox.store.sqlite import DataDir
from sandbox.webhooks import dispatch
from sandbox.webhooks.outbox import Outbox

if TYPE_CHECKING:
    from sandbox.console import Console

log = logging.getLogger("sandbox.context")


@dataclass(slots=True)
class WebhookSettings:
    """The app dashboard's callback URL and verify token."""

    url: str | None = None
    verify_token: str = ""

    def snapshot(self) -> dict[str, Any]:
        return {"url": self.url, "verify_token": self.verify_token}


@dataclass(slots=True)
class Credentials:
    access_token: str
    app_id: str
    app_secret: str
    verify_token: str


@dataclass(slots=True)
class Tenant:
    """One developer app and its Meta-side world. Nothing here is shared with another tenant."""

    id: str
    name: str
    profile: str
    seed: int
    graph_version: str
    clock: TenantClock
    policy: Policy
    store: TenantStore
    credentials: Credentials
    ids: IdFactory
    behaviour: random.Random
    fake: FakeData
    outbox: Outbox
    webhook: WebhookSettings = field(default_factory=WebhookSettings)
    extra_tokens: dict[str, datetime | None] = field(default_factory=dict)
    business_id: str = ""
    waba_id: str = ""
    app_id: str = ""
    faults: FaultBook = field(default_factory=FaultBook)
    limits: RateLimits = field(default_factory=RateLimits)
    # Server-wide, shared by every tenant of the sandbox (numbers on the WhatsApp apps, numbers on a WABA).
    numbers: NumberRegistry = field(default_factory=NumberRegistry)
    # Partner apps beside the tenant's own (the default partner), by app id (sandbox/domain/partner_app.py).
    partners: dict[str, PartnerApp] = field(default_factory=dict)
    # Where further access tokens come from: seeded (with the tenant's salt) or `secrets`, as its first token did.
    credential_ids: IdFactory | None = None
    # Built from an explicitly given seed: its ids repeat exactly when it is built again (docs/fidelity-choices.md).
    replay: bool = False

    def __post_init__(self) -> None:
        watch_clock(self)

    def incident(self, kind: str, error: Exception, **facts: Any) -> None:
        """Record what went wrong in this tenant's own work (journal `incidents`, in its state): the server goes on."""
        record_incident(self.store.incidents, self.clock.now(), kind, error, **facts)

    def partner_of(self, waba_id: str) -> PartnerApp | None:
        """The partner app granted `waba_id`; None: the tenant's own app holds it."""
        for app in self.partners.values():
            if app.granted(waba_id):
                return app
        return None

    def can_see(self, app: PartnerApp | None, waba_id: str | None) -> bool:
        """Whether the app (None: the tenant's own) was granted the WABA `waba_id` (None: no WABA, e.g. a
        business: visible)."""
        if waba_id is None or (app is None and not self.partners):
            return True
        return self.partner_of(waba_id) is app

    def endpoint(self, app_id: str) -> tuple[str | None, str] | None:
        """(callback URL, app secret) of the tenant's app `app_id`; None for an app the tenant does not have."""
        if app_id == self.credentials.app_id:
            return self.webhook.url, self.credentials.app_secret
        app = self.partners.get(app_id)
        return (app.webhook_url, app.secret) if app is not None else None

    def publish(self, events: list[Event]) -> None:
        """Render each event into Meta's payload, route it, sign it, and hand it to the outbox."""
        dispatch.publish(self, events)

    def document(self) -> dict[str, Any]:
        first_phone = next(iter(self.store.phone_numbers), None)
        doc: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "profile": self.profile,
            "seed": self.seed,
            "access_token": self.credentials.access_token,
            "app_id": self.credentials.app_id,
            "app_secret": self.credentials.app_secret,
            "verify_token": self.credentials.verify_token,
            "business_id": self.business_id,
            "waba_id": self.waba_id,
            "graph_version": self.graph_version,
            "webhook": self.webhook.snapshot(),
            "clock": self.clock.snapshot(),
        }
        if first_phone is not None:
            doc["phone_number_id"] = first_phone.id
            doc["display_phone_number"] = first_phone.display_phone_number
        return doc


def record_incident(incidents: Journal, at: datetime, kind: str, error: Exception, **facts: Any) -> None:
    incidents.append({"at": at, "kind": kind, "error": f"{type(error).__name__}: {error}", **facts})


@dataclass(frozen=True, slots=True)
class ClockFailures:
    """What a tenant's clock calls when scheduled work raises: an incident in the tenant's journal.

    It holds the journal, not the tenant (a bound method would): the clock does not point back at its tenant, so
    a replaced or removed world with no work pending on its clock has no reference cycle and is freed by reference
    counting at once, instead of waiting for the cyclic collector's next full pass (sandbox/store/worlds.py)."""

    incidents: Journal

    def __call__(self, error: Exception, at: datetime) -> None:
        record_incident(self.incidents, at, "scheduled_work_failed", error)


def watch_clock(tenant: Tenant) -> None:
    tenant.clock.on_error = ClockFailures(tenant.store.incidents)


class Sandbox:
    """Every tenant of one server, the token index that routes Graph calls to them, and the shared outbox."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.tenants: dict[str, Tenant] = {}
        # Keyed by `token_key(token)`: a dict lookup is O(1) but compares keys, so it must not compare the token.
        self.tokens: dict[bytes, str] = {}
        # A partner app's token (by `token_key`) → (tenant id, app id); the tenant's own tokens are in `tokens`.
        self.app_tokens: dict[bytes, tuple[str, str]] = {}
        # The last token looked up and its key: most calls repeat the previous call's token, and comparing it in
        # constant time costs a fifth of hashing it again.
        self._last_token: tuple[bytes, bytes] = (b"", token_key(""))
        self.outbox = Outbox()
        self.numbers = NumberRegistry()
        # None when the server replays its seed; else mixed, with a count of worlds built, into every id generator.
        self.salt: str | None = None if self.settings.replays else process_salt()
        self.builds = 0
        seed = self.settings.world_seed
        self.ids = IdFactory(random.Random(seed ^ 0x5EED if self.salt is None else f"{seed}:fbtrace:{self.salt}"))
        self.tenant_counter = 0
        # The shared machinery the server runs (`ticker`, `outbox`), set while it serves; health reports it.
        self.tasks: dict[str, asyncio.Task[None]] = {}
        # Where a served sandbox reports each Graph call (sandbox/console.py); None: nowhere, at no cost.
        self.console: Console | None = None
        # Tenants changed since the last checkpoint, and those removed (sandbox/services/persistence.py).
        self.dirty: set[str] = set()
        self.removed: set[str] = set()
        self.snapshots: Snapshots = MemorySnapshots()
        self.data_dir: DataDir | None = None

    def next_salt(self) -> str | None:
        """A salt no earlier world of this server had: a tenant built again never repeats its ids or tokens."""
        self.builds += 1
        return None if self.salt is None else f"{self.salt}:{self.builds}"

    def _token_key(self, token: str) -> bytes:
        raw = token.encode(errors="surrogatepass")
        last_raw, last_key = self._last_token
        if hmac.compare_digest(raw, last_raw):
            return last_key
        key = token_key(token)
        self._last_token = (raw, key)
        return key

    def tenant_for_token(self, token: str) -> Tenant | None:
        tenant_id = self.tokens.get(self._token_key(token))
        return self.tenants.get(tenant_id) if tenant_id else None

    def app_for_token(self, token: str) -> tuple[Tenant, PartnerApp | None] | None:
        """The tenant and the app a token authenticates (None: the tenant's own app)."""
        tenant = self.tenant_for_token(token)
        if tenant is not None:
            self.dirty.add(tenant.id)
            return tenant, None
        owner = self.app_tokens.get(self._token_key(token))
        if owner is None or (tenant := self.tenants.get(owner[0])) is None:
            return None
        app = tenant.partners.get(owner[1])
        if app is None:
            return None
        self.dirty.add(tenant.id)
        return tenant, app

    def grant(self, tenant_id: str, tokens: Iterable[str]) -> None:
        for token in tokens:
            self.tokens[token_key(token)] = tenant_id

    def grant_app(self, tenant_id: str, app: PartnerApp) -> None:
        self.app_tokens[token_key(app.access_token)] = (tenant_id, app.id)

    def add(self, tenant: Tenant) -> Tenant:
        self.tenants[tenant.id] = tenant
        self.dirty.add(tenant.id)
        self.removed.discard(tenant.id)
        self.grant(tenant.id, [tenant.credentials.access_token, *tenant.extra_tokens])
        for app in tenant.partners.values():
            self.grant_app(tenant.id, app)
        return tenant

    def remove(self, tenant_id: str) -> Tenant | None:
        tenant = self.tenants.pop(tenant_id, None)
        if tenant is not None:
            tenant.store.drop_unread()
            for token in [token for token, owner in self.tokens.items() if owner == tenant_id]:
                del self.tokens[token]
            for token in [token for token, (owner, _) in self.app_tokens.items() if owner == tenant_id]:
                del self.app_tokens[token]
            self.outbox.forget_tenant(tenant_id)
            self.numbers.forget_tenant(tenant_id)
            self.dirty.discard(tenant_id)
            if self.data_dir is not None:  # kept only for a checkpoint to delete: bounded by what one interval removes
                self.removed.add(tenant_id)
        return tenant

    def run_due(self) -> int:
        """Fire what is due on every tenant clock (the realtime ticker calls this); a tenant whose clock fails
        records an incident, and the others still progress."""
        fired = 0
        for tenant in list(self.tenants.values()):
            try:
                count = tenant.clock.run_due()
                if count:
                    fired += count
                    self.dirty.add(tenant.id)
            except Exception as error:
                log.exception("tenant %s: its clock failed while firing due work", tenant.id)
                tenant.incident("clock_failed", error)
        return fired
