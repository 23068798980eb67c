"""Tenants and the worlds their profiles start from (control-plane contract: `live`, `trial`, `blank`)."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.clock import LATEST, ClockMode, TenantClock, to_rfc3339
from sandbox.context import Credentials, Sandbox, Tenant, WebhookSettings
from sandbox.domain.business import Business, BusinessVerificationStatus
from sandbox.domain.commands import AdvanceClock, ConfigureClock, CreateTenant, IssueToken
from sandbox.domain.errors import Conflict, Invalid
from sandbox.domain.messaging_limit import MessagingLimitTier
from sandbox.domain.phone_number import PhoneNumber, certificate_for
from sandbox.domain.policy import Policy
from sandbox.domain.template import hello_world
from sandbox.domain.waba import AccountMode, AccountReviewStatus, SubscribedApp, WhatsAppBusinessAccount
from sandbox.errors import GraphError, GraphErrorCode
from sandbox.fakedata import FakeData
from sandbox.ids import IdFactory, salted, secret_credentials, shard_tag
from sandbox.services import trial
from sandbox.services.business_profiles import seed_business_profile
from sandbox.services.phone_numbers import international
from sandbox.services.webhook_settings import verify_callback
from sandbox.settings import Settings
from sandbox.store import TenantStore
from sandbox.webhooks.transport import WebhookTransport

# The portfolio's messaging limit each profile starts at (docs/messaging-limits.md): `live` is a verified business
# past automatic scaling, so the load suite's templates to thousands of distinct users are never over its limit;
# `trial` and `blank` are new portfolios.
PROFILE_TIERS = {"live": MessagingLimitTier.TIER_UNLIMITED, "trial": MessagingLimitTier.TIER_250}

# The farthest one clock move may go (`seconds` is bounded the same where it is parsed).
MAX_ADVANCE = timedelta(days=10 * 365)


def _seed_for(sandbox: Sandbox, name: str, seed: int | None) -> int:
    if seed is not None:
        return seed
    if name == "default":
        return sandbox.settings.world_seed
    return random.Random(f"{sandbox.settings.world_seed}:{name}").randrange(2**31)


def default_tenant(settings: Settings, seed: int | None = None) -> CreateTenant:
    """The `default` tenant as the server was started: its profile, callback URL and verify token."""
    webhook_url = settings.webhook_url or None
    return CreateTenant(
        name="default",
        profile=settings.profile,
        seed=seed,
        webhook_url=webhook_url,
        verify_token=settings.verify_token if webhook_url else None,
    )


def create_tenant(sandbox: Sandbox, command: CreateTenant | None = None, *, start: datetime | None = None) -> Tenant:
    """A new tenant whose world is built from its profile under its seed; the same seed gives the same world.

    `start` (Python callers only) is the clock's first instant unless the command's clock gives `now`; raises
    `Conflict` when the name is taken. The callback URL is saved unverified (see `create_verified_tenant`).
    """
    return _add(sandbox, _prepare(sandbox, command or CreateTenant(), start))


async def create_verified_tenant(sandbox: Sandbox, command: CreateTenant, transport: WebhookTransport) -> Tenant:
    """`create_tenant`, with Meta's handshake to the callback URL first when `command.verify_webhook`: a receiver
    that does not echo the challenge leaves no tenant behind."""
    tenant = _prepare(sandbox, command, None)
    if command.verify_webhook and tenant.webhook.url is not None:
        await verify_callback(tenant, transport, tenant.webhook.url, tenant.webhook.verify_token)
    return _add(sandbox, tenant)


def _add(sandbox: Sandbox, tenant: Tenant) -> Tenant:
    # Checked again: another creation may have taken the name while this one waited on its handshake.
    if tenant.id in sandbox.tenants:
        raise Conflict(f"tenant {tenant.id!r} already exists")
    return sandbox.add(tenant)


def _prepare(sandbox: Sandbox, command: CreateTenant, start: datetime | None) -> Tenant:
    name = command.name
    if name is None:
        sandbox.tenant_counter += 1
        name = f"tenant-{sandbox.tenant_counter}"
        while name in sandbox.tenants:
            sandbox.tenant_counter += 1
            name = f"tenant-{sandbox.tenant_counter}"
    if name in sandbox.tenants:
        raise Conflict(f"tenant {name!r} already exists")
    clock = command.clock
    mode = clock.mode if clock is not None and clock.mode is not None else "realtime"
    if clock is not None and clock.now is not None:
        # A new world has no past to protect: `now` at creation is where its clock starts, earlier or later.
        start, clock = clock.now, ConfigureClock(mode=clock.mode, rate=clock.rate)
    profile = command.profile or sandbox.settings.profile
    replay = sandbox.settings.replays or command.seed is not None
    tenant = _build(sandbox, name, profile, _seed_for(sandbox, name, command.seed), start, mode, replay=replay)
    if clock is not None:
        configure_clock(tenant, clock)
    if command.webhook_url is not None or command.verify_token is not None:
        tenant.webhook = WebhookSettings(
            url=command.webhook_url, verify_token=command.verify_token or tenant.credentials.verify_token
        )
    return tenant


def _credentials(
    sandbox: Sandbox, ids: IdFactory, name: str, seed: int, salt: str | None
) -> tuple[Credentials, IdFactory]:
    """The app's credentials and the generator of its further tokens.

    Drawn from `ids` in this order whatever happens to them, so that the world's node ids after them stay seeded.
    """
    drawn = Credentials(
        access_token=ids.access_token(), app_id=ids.node_id(), app_secret=ids.app_secret(), verify_token=ids.token(16)
    )
    tag = shard_tag(sandbox.settings.shard_index, sandbox.settings.shard_count)
    if sandbox.settings.secret_credentials:
        source = secret_credentials(tag)
    else:
        # Tenants built from one seed share their world but never a token, so the token also depends on the name.
        source = IdFactory(salted(seed, name, "token", salt=salt), tag)
    token = source.access_token()
    if sandbox.settings.secret_credentials or salt is not None:
        drawn.app_secret, drawn.verify_token = source.app_secret(), source.token(16)
    drawn.access_token = token
    return drawn, source


def _id_parts(seed: int, name: str) -> tuple[object, ...]:
    """What a tenant's ids are drawn from: its seed and its name, unique on a server, so that two tenants given
    one seed share their world's company, number and behaviours but never an id. `default` keeps the bare seed,
    so `--seed N` hands out the ids it always did; other names replay as long as they are created again."""
    return (seed,) if name == "default" else (seed, name)


def _build(
    sandbox: Sandbox,
    name: str,
    profile: str,
    seed: int,
    start: datetime | None,
    mode: ClockMode = "realtime",
    *,
    replay: bool,
    keep: Credentials | None = None,
) -> Tenant:
    """The world of `profile` under `seed`; `keep` carries a reset tenant's credentials over."""
    salt = None if replay else sandbox.next_salt()
    ids = IdFactory(random.Random(":".join(map(str, (*_id_parts(seed, name), "world")))))
    fake = FakeData(seed)
    credentials, credential_ids = _credentials(sandbox, ids, name, seed, salt)
    if keep is not None:
        credentials = Credentials(keep.access_token, credentials.app_id, keep.app_secret, keep.verify_token)
    policy = Policy()
    if profile == "trial":
        # The source documents' era (SEED-MSG-3): conversation-based pricing with the 2022 categories.
        policy.pricing.model = "conversation"
    tenant = Tenant(
        id=name,
        name=name,
        profile=profile,
        seed=seed,
        graph_version=sandbox.settings.graph_version,
        # Built in its final mode: a clock frozen later would have run for a few microseconds.
        clock=TenantClock(start, mode=mode),
        policy=policy,
        store=TenantStore(
            messages=policy.journal.messages, requests=policy.journal.requests, ledger=policy.pricing.ledger_entries
        ),
        credentials=credentials,
        ids=IdFactory(salted(*_id_parts(seed, name), "ids", salt=salt)),
        behaviour=random.Random(f"{seed}:behaviour"),
        fake=fake,
        outbox=sandbox.outbox,
        numbers=sandbox.numbers,
        webhook=WebhookSettings(verify_token=credentials.verify_token),
        app_id=credentials.app_id,
        credential_ids=credential_ids,
        replay=replay,
    )
    company = fake.company()
    verified = profile != "trial"
    business = Business(
        ids.node_id(),
        company,
        (BusinessVerificationStatus.VERIFIED if verified else BusinessVerificationStatus.NOT_VERIFIED).value,
        messaging_limit_tier=PROFILE_TIERS.get(profile, MessagingLimitTier.TIER_250).value,
    )
    waba = WhatsAppBusinessAccount(
        ids.node_id(),
        f"{company} WhatsApp",
        business.id,
        message_template_namespace=ids.token(8).lower() + "_" + ids.token(8).lower(),
        account_review_status=(AccountReviewStatus.APPROVED if verified else AccountReviewStatus.PENDING).value,
        account_mode=(AccountMode.LIVE if verified else AccountMode.SANDBOX).value,
    )
    if profile in ("live", "trial"):
        # Ready-to-message worlds have the tenant's app subscribed to their WABA, as after embedded sign-up.
        waba.subscribed_apps.append(SubscribedApp(credentials.app_id))
    tenant.business_id, tenant.waba_id = business.id, waba.id
    tenant.store.businesses.add(business.id, business)
    tenant.store.wabas.add(waba.id, waba)
    if profile in ("live", "trial"):
        phone = PhoneNumber(
            id=ids.node_id(),
            waba_id=waba.id,
            display_phone_number=fake.us_test_number(),
            verified_name=company,
            country_calling_code="1",
            account_mode=waba.account_mode,
            last_onboarded_time=tenant.clock.now(),
        )
        phone.formatted = international(phone.display_phone_number)
        phone.certificate = certificate_for(phone.id, phone.verified_name)
        tenant.store.phone_numbers.add(phone.id, phone)
        seed_business_profile(tenant, phone, company)
        template = hello_world(ids.node_id(), waba.id)
        template.quality_score_date = int(tenant.clock.now().timestamp())
        tenant.store.templates.add(template.id, template)
        if profile == "trial":
            trial.start(tenant, phone, tenant.clock.now())
    return tenant


def reset_tenant(
    sandbox: Sandbox, tenant: Tenant, seed: int | None = None, clock: ConfigureClock | None = None
) -> Tenant:
    """Rebuild `tenant` from its profile (same name; same credentials when the seed is the same).

    Its ids do not repeat the old world's unless it replays (its seed, or the server's, was given). The new world
    keeps the tenant's time, clock mode and rate unless `clock` says otherwise; its `now` may be earlier, since
    the new world has no past.
    """
    clock = clock or ConfigureClock()
    webhook = tenant.webhook
    sandbox.remove(tenant.id)
    # What the old world had scheduled is dropped.
    new_seed = tenant.seed if seed is None else seed
    fresh = _build(
        sandbox,
        tenant.name,
        tenant.profile,
        new_seed,
        clock.now or tenant.clock.now(),
        clock.mode or tenant.clock.mode,
        replay=tenant.replay or seed is not None,
        keep=tenant.credentials if new_seed == tenant.seed else None,
    )
    fresh.clock.rate = tenant.clock.rate if clock.rate is None else clock.rate
    fresh.webhook = webhook
    return sandbox.add(fresh)


def reset_sandbox(sandbox: Sandbox, seed: int | None = None) -> Tenant:
    """Remove every tenant and rebuild `default` as the server was started (profile, callback, verify token)."""
    for tenant_id in list(sandbox.tenants):
        sandbox.remove(tenant_id)
    sandbox.tenant_counter = 0
    return create_tenant(sandbox, default_tenant(sandbox.settings, seed))


def issue_token(tenant: Tenant, sandbox: Sandbox, command: IssueToken) -> dict[str, Any]:
    """A further access token for the tenant; with `expires_in`, a temporary token that expires on the tenant clock."""
    token = (tenant.credential_ids or tenant.ids).access_token()
    expires_in = command.expires_in
    expires_at = tenant.clock.now() + timedelta(seconds=expires_in) if expires_in is not None else None
    tenant.extra_tokens[token] = expires_at
    sandbox.grant(tenant.id, [token])
    return {"access_token": token, "expires_at": expires_at}


def check_token(tenant: Tenant, token: str) -> None:
    """Raise Graph's 190/463 when `token` is a temporary token past its expiry on the tenant clock."""
    expires_at = tenant.extra_tokens.get(token)
    if expires_at is None:
        return
    now = tenant.clock.now()
    if now >= expires_at:
        raise GraphError(
            GraphErrorCode.ACCESS_TOKEN_INVALID,
            None,
            message=(
                f"Error validating access token: Session has expired on {_graph_date(expires_at)}. "
                f"The current time is {_graph_date(now)}."
            ),
            subcode=463,
        )


def _graph_date(moment: datetime) -> str:
    # Meta writes the Pacific time of the session; UTC is spelt out here to avoid a time-zone database.
    return moment.astimezone(UTC).strftime("%A, %d-%b-%y %H:%M:%S UTC")


def configure_clock(tenant: Tenant, command: ConfigureClock) -> None:
    """Jump to `now` first (firing what falls due on the way), then switch mode and rate."""
    if command.now is not None:
        advance_clock(tenant, AdvanceClock(to=command.now))
    tenant.clock.configure(mode=command.mode, rate=command.rate)


def _advance_target(tenant: Tenant, command: AdvanceClock) -> datetime:
    now = tenant.clock.now()
    target = now + timedelta(seconds=command.seconds or 0) if command.to is None else command.to
    if target < now:
        raise Invalid("the clock cannot go backwards")
    if target - now > MAX_ADVANCE:
        raise Invalid("the clock can move at most ten years at once")
    if target > LATEST:
        raise Invalid(f"a tenant clock runs up to {to_rfc3339(LATEST)}; {to_rfc3339(target)} is past it")
    return target


def advance_clock(tenant: Tenant, command: AdvanceClock) -> int:
    """Move the tenant clock forward, firing what falls due on the way in time order; returns how many fired."""
    return tenant.clock.advance(to=_advance_target(tenant, command))


async def advance_clock_settling(tenant: Tenant, command: AdvanceClock, settle: Callable[[], Awaitable[None]]) -> int:
    """`advance_clock`, letting webhook deliveries run at each instant where something fell due.

    A failed delivery schedules its retry only once its attempt has been answered, so a 7-day advance must let
    each attempt happen before moving on, or it would play out one retry instead of the whole schedule.
    """
    target = _advance_target(tenant, command)
    fired = 0
    while (due := tenant.clock.next_due()) is not None and due <= target:
        fired += tenant.clock.advance(to=max(due, tenant.clock.now()))
        await settle()
    return fired + tenant.clock.advance(to=target)
