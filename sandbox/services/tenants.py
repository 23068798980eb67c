"""Tenants and the worlds their profiles start from (control-plane contract: `live`, `trial`, `blank`)."""

from __future__ import annotations

import random
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.clock import ClockMode, TenantClock, parse_rfc3339
from sandbox.context import Credentials, Sandbox, Tenant, WebhookSettings
from sandbox.domain.business import Business
from sandbox.domain.phone_number import PhoneNumber
from sandbox.domain.policy import Policy
from sandbox.domain.template import hello_world
from sandbox.domain.waba import SubscribedApp, WhatsAppBusinessAccount
from sandbox.errors import GraphError, GraphErrorCode, SandboxError
from sandbox.fakedata import FakeData
from sandbox.ids import IdFactory
from sandbox.settings import PROFILES
from sandbox.store import TenantStore

TENANT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
TRIAL_DAYS = 30


def _seed_for(sandbox: Sandbox, name: str, seed: int | None) -> int:
    if seed is not None:
        return seed
    if name == "default":
        return sandbox.settings.seed
    return random.Random(f"{sandbox.settings.seed}:{name}").randrange(2**31)


def create_tenant(
    sandbox: Sandbox,
    *,
    name: str | None = None,
    profile: str | None = None,
    seed: int | None = None,
    webhook: dict[str, Any] | None = None,
    clock: dict[str, Any] | None = None,
    start: datetime | None = None,
) -> Tenant:
    """A new tenant whose world is built from `profile` under `seed`; the same seed gives the same world."""
    profile = profile or sandbox.settings.profile
    if profile not in PROFILES:
        raise SandboxError(400, f"profile must be one of {', '.join(PROFILES)}")
    if name is None:
        sandbox.tenant_counter += 1
        name = f"tenant-{sandbox.tenant_counter}"
        while name in sandbox.tenants:
            sandbox.tenant_counter += 1
            name = f"tenant-{sandbox.tenant_counter}"
    if not isinstance(name, str) or not TENANT_NAME.match(name):
        raise SandboxError(400, "name must be 1–64 letters, digits, '.', '_' or '-'")
    if name in sandbox.tenants:
        raise SandboxError(409, f"tenant {name!r} already exists")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise SandboxError(400, "seed must be an integer")
    mode = clock.get("mode") if isinstance(clock, dict) and clock.get("mode") in ("realtime", "frozen") else "realtime"
    tenant = _build(sandbox, name, profile, _seed_for(sandbox, name, seed), start, mode)
    if clock:
        configure_clock(tenant, clock)
    if webhook:
        url = webhook.get("url")
        if url is not None and not isinstance(url, str):
            raise SandboxError(400, "webhook.url must be a string")
        tenant.webhook = WebhookSettings(
            url=url, verify_token=str(webhook.get("verify_token") or tenant.credentials.verify_token)
        )
    return sandbox.add(tenant)


def _build(
    sandbox: Sandbox, name: str, profile: str, seed: int, start: datetime | None, mode: ClockMode = "realtime"
) -> Tenant:
    world = random.Random(f"{seed}:world")
    ids = IdFactory(world)
    fake = FakeData(seed)
    credentials = Credentials(
        access_token=ids.access_token(),
        app_id=ids.node_id(),
        app_secret=ids.app_secret(),
        verify_token=ids.token(16),
    )
    # Tenants built from one seed share their world but never a token, so the token also depends on the name.
    credentials.access_token = IdFactory(random.Random(f"{seed}:{name}:token")).access_token()
    policy = Policy()
    tenant = Tenant(
        id=name,
        name=name,
        profile=profile,
        seed=seed,
        graph_version=sandbox.settings.graph_version,
        # Built in its final mode: a clock frozen later would have run for a few microseconds.
        clock=TenantClock(start, mode=mode),
        policy=policy,
        store=TenantStore(messages=policy.journal.messages, requests=policy.journal.requests),
        credentials=credentials,
        ids=IdFactory(random.Random(f"{seed}:ids")),
        behaviour=random.Random(f"{seed}:behaviour"),
        fake=fake,
        outbox=sandbox.outbox,
        webhook=WebhookSettings(verify_token=credentials.verify_token),
        app_id=credentials.app_id,
    )
    company = fake.company()
    verified = profile != "trial"
    business = Business(ids.node_id(), company, "verified" if verified else "not_verified")
    waba = WhatsAppBusinessAccount(
        ids.node_id(),
        f"{company} WhatsApp",
        business.id,
        message_template_namespace=ids.token(8).lower() + "_" + ids.token(8).lower(),
        account_review_status="APPROVED" if verified else "PENDING",
        business_verification_status=business.verification_status,
        account_mode="LIVE" if verified else "SANDBOX",
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
            messaging_limit="TIER_2K" if verified else "TIER_250",
        )
        tenant.store.phone_numbers.add(phone.id, phone)
        template = hello_world(ids.node_id(), waba.id)
        template.quality_score_date = int(tenant.clock.now().timestamp())
        tenant.store.templates.add(template.id, template)
        if profile == "trial":
            started = tenant.clock.now()
            tenant.store.trial = {
                "phone_number_id": phone.id,
                "started_at": started,
                "expires_at": started + timedelta(days=TRIAL_DAYS),
            }
    return tenant


def reset_tenant(sandbox: Sandbox, tenant: Tenant, seed: int | None = None) -> Tenant:
    """Rebuild `tenant` from its profile (same name; same credentials when the seed is the same)."""
    webhook = tenant.webhook
    sandbox.remove(tenant.id)
    # The rebuilt world keeps the tenant's time and clock mode; what the old world had scheduled is dropped.
    new_seed = tenant.seed if seed is None else seed
    fresh = _build(sandbox, tenant.name, tenant.profile, new_seed, tenant.clock.now(), tenant.clock.mode)
    fresh.clock.rate = tenant.clock.rate
    fresh.webhook = webhook
    return sandbox.add(fresh)


def reset_sandbox(sandbox: Sandbox, seed: int | None = None) -> Tenant:
    """Remove every tenant and rebuild `default` from the server's profile."""
    for tenant_id in list(sandbox.tenants):
        sandbox.remove(tenant_id)
    sandbox.tenant_counter = 0
    return create_tenant(sandbox, name="default", seed=seed if seed is not None else sandbox.settings.seed)


def issue_token(tenant: Tenant, sandbox: Sandbox, expires_in: float | None) -> dict[str, Any]:
    """A further access token for the tenant; with `expires_in`, a temporary token that expires on the tenant clock."""
    token = tenant.ids.access_token()
    expires_at = tenant.clock.now() + timedelta(seconds=expires_in) if expires_in is not None else None
    tenant.extra_tokens[token] = expires_at
    sandbox.tokens[token] = tenant.id
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


def configure_clock(tenant: Tenant, body: dict[str, Any]) -> None:
    mode = body.get("mode")
    rate = body.get("rate")
    if mode is not None and mode not in ("realtime", "frozen"):
        raise SandboxError(400, "mode must be realtime or frozen")
    if rate is not None and (not isinstance(rate, int | float) or isinstance(rate, bool) or not 0 < rate <= 1_000_000):
        raise SandboxError(400, "rate must be a number greater than 0 (at most 1000000)")
    now = body.get("now")
    if now is not None:
        try:
            target = parse_rfc3339(str(now))
        except ValueError as error:
            raise SandboxError(400, "now must be an RFC 3339 time") from error
        advance_clock(tenant, to=target)
    tenant.clock.configure(mode=mode, rate=float(rate) if rate is not None else None)


def _advance_target(tenant: Tenant, seconds: float | None, to: datetime | None) -> datetime:
    if seconds is not None and (not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0):
        raise SandboxError(400, "seconds must be a non-negative number")
    if seconds is not None and seconds > 10 * 365 * 86400:
        raise SandboxError(400, "seconds must be at most ten years")
    now = tenant.clock.now()
    if to is not None and to < now:
        raise SandboxError(400, "the clock cannot go backwards")
    if seconds is None and to is None:
        raise SandboxError(400, "give seconds or to")
    return to if to is not None else now + timedelta(seconds=seconds or 0)


def advance_clock(tenant: Tenant, *, seconds: float | None = None, to: datetime | None = None) -> int:
    """Move the tenant clock forward, firing what falls due on the way in time order; returns how many fired."""
    return tenant.clock.advance(to=_advance_target(tenant, seconds, to))


async def advance_clock_settling(
    tenant: Tenant, settle: Callable[[], Awaitable[None]], *, seconds: float | None = None, to: datetime | None = None
) -> int:
    """`advance_clock`, letting webhook deliveries run at each instant where something fell due.

    A failed delivery schedules its retry only once its attempt has been answered, so a 7-day advance must let
    each attempt happen before moving on, or it would play out one retry instead of the whole schedule.
    """
    target = _advance_target(tenant, seconds, to)
    fired = 0
    while (due := tenant.clock.next_due()) is not None and due <= target:
        fired += tenant.clock.advance(to=max(due, tenant.clock.now()))
        await settle()
    return fired + tenant.clock.advance(to=target)
