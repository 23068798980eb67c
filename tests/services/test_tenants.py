"""Ids and credentials of tenants: replayed exactly only when a seed is given, never computable off loopback."""

from __future__ import annotations

import re

import pytest

from sandbox.context import Sandbox, Tenant
from sandbox.domain.commands import CreateTenant, IssueToken
from sandbox.ids import token_key
from sandbox.services.tenants import create_tenant, issue_token, reset_sandbox, reset_tenant
from sandbox.settings import Settings

ADMIN = "an-admin-token-long-enough"
CUSTOMER = "16505551234"


def _start(settings: Settings, name: str = "default", seed: int | None = None) -> tuple[Sandbox, Tenant]:
    """A server start: a new process would build a new `Sandbox` from the same settings."""
    sandbox = Sandbox(settings)
    return sandbox, create_tenant(sandbox, CreateTenant(name=name, seed=seed))


def _wamids(tenant: Tenant, count: int = 5) -> list[str]:
    return [tenant.ids.wamid(CUSTOMER) for _ in range(count)]


def _world(tenant: Tenant) -> tuple[str, ...]:
    return (tenant.business_id, tenant.waba_id, tenant.app_id, *(phone.id for phone in tenant.store.phone_numbers))


def _secrets(tenant: Tenant) -> tuple[str, str, str]:
    credentials = tenant.credentials
    return credentials.access_token, credentials.app_secret, credentials.verify_token


def test_an_unseeded_server_never_repeats_ids_or_tokens_across_restarts() -> None:
    (_, first), (_, second) = _start(Settings()), _start(Settings())
    assert set(_wamids(first)).isdisjoint(_wamids(second))
    assert first.ids.media_id() != second.ids.media_id()
    assert all(a != b for a, b in zip(_secrets(first), _secrets(second), strict=True))
    # The world is still seed 0's: the same business, WABA, app and number.
    assert _world(first) == _world(second)


@pytest.mark.parametrize("seed", [0, 4])
def test_a_given_seed_replays_the_world_ids_and_tokens_exactly(seed: int) -> None:
    (_, first), (_, second) = _start(Settings(seed=seed)), _start(Settings(seed=seed))
    assert _wamids(first) == _wamids(second)
    assert _secrets(first) == _secrets(second)
    assert _world(first) == _world(second)


def test_the_replayed_default_world_is_the_unseeded_servers_world() -> None:
    assert _world(_start(Settings())[1]) == _world(_start(Settings(seed=0))[1])


def test_a_recreated_tenant_gets_new_tokens_and_ids_and_the_old_token_is_dead() -> None:
    sandbox, old = _start(Settings(), name="ci")
    old_wamids = _wamids(old)
    sandbox.remove(old.id)
    new = create_tenant(sandbox, CreateTenant(name="ci"))
    assert sandbox.tenant_for_token(old.credentials.access_token) is None
    assert sandbox.tenant_for_token(new.credentials.access_token) is new
    assert all(a != b for a, b in zip(_secrets(old), _secrets(new), strict=True))
    assert set(old_wamids).isdisjoint(_wamids(new))


def test_a_tenant_recreated_with_its_seed_replays() -> None:
    sandbox, old = _start(Settings(), name="ci", seed=9)
    old_wamids = _wamids(old)
    sandbox.remove(old.id)
    new = create_tenant(sandbox, CreateTenant(name="ci", seed=9))
    assert _secrets(old) == _secrets(new)
    assert old_wamids == _wamids(new)


def test_a_reset_keeps_the_credentials_but_not_the_ids() -> None:
    sandbox, tenant = _start(Settings())
    before = _wamids(tenant)
    fresh = reset_tenant(sandbox, tenant)
    assert _secrets(fresh) == _secrets(tenant)
    assert sandbox.tenant_for_token(tenant.credentials.access_token) is fresh
    assert set(before).isdisjoint(_wamids(fresh))


def test_a_reset_with_a_seed_replays_that_seeds_ids() -> None:
    sandbox, tenant = _start(Settings())
    replayed = _start(Settings(seed=tenant.seed))[1]
    assert _wamids(reset_tenant(sandbox, tenant, seed=tenant.seed)) == _wamids(replayed)


def test_resetting_an_unseeded_server_gives_the_default_tenant_new_tokens() -> None:
    sandbox, tenant = _start(Settings())
    fresh = reset_sandbox(sandbox)
    assert fresh.credentials.access_token != tenant.credentials.access_token
    assert sandbox.tenant_for_token(tenant.credentials.access_token) is None


@pytest.mark.parametrize(
    "settings", [Settings(seed=3, secure_credentials=True), Settings(seed=3, host="0.0.0.0", admin_token=ADMIN)]
)
def test_secure_credentials_come_from_secrets_while_the_world_replays(settings: Settings) -> None:
    (_, first), (_, second) = _start(settings), _start(settings)
    assert all(a != b for a, b in zip(_secrets(first), _secrets(second), strict=True))
    seeded = _start(Settings(seed=3))[1]
    assert all(a != b for a, b in zip(_secrets(first), _secrets(seeded), strict=True))
    assert _world(first) == _world(second) == _world(seeded)
    assert _wamids(first) == _wamids(second) == _wamids(seeded)
    token, app_secret, verify_token = _secrets(first)
    assert re.fullmatch(r"EAA[A-Za-z0-9]{180}", token)
    assert re.fullmatch(r"[0-9a-f]{32}", app_secret)
    assert re.fullmatch(r"[A-Za-z0-9]{16}", verify_token)


def test_issued_tokens_are_secret_where_the_credentials_are() -> None:
    settings = Settings(seed=3, secure_credentials=True)
    (first_sandbox, first), (second_sandbox, second) = _start(settings), _start(settings)
    issued = issue_token(first, first_sandbox, IssueToken())["access_token"]
    assert issued != issue_token(second, second_sandbox, IssueToken())["access_token"]
    assert first_sandbox.tenant_for_token(issued) is first


def test_issued_tokens_of_a_seeded_server_replay() -> None:
    (first_sandbox, first), (second_sandbox, second) = _start(Settings(seed=3)), _start(Settings(seed=3))
    assert (
        issue_token(first, first_sandbox, IssueToken())["access_token"]
        == issue_token(second, second_sandbox, IssueToken())["access_token"]
    )


def test_the_token_index_holds_hashes_not_tokens() -> None:
    sandbox, tenant = _start(Settings())
    token = tenant.credentials.access_token
    assert token not in sandbox.tokens
    assert sandbox.tokens[token_key(token)] == tenant.id
    assert sandbox.tenant_for_token(token + "x") is None
    assert sandbox.tenant_for_token("\udcff") is None
