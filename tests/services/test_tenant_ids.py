"""Ids are unique per server, even for tenants given one seed, and `--seed N` replays the same creations exactly."""

from __future__ import annotations

from typing import Any

from sandbox.context import Sandbox
from sandbox.domain.commands import CreateTenant
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings

IDS = ("app_id", "app_secret", "access_token", "verify_token", "business_id", "waba_id", "phone_number_id")


def _creations(settings: Settings) -> list[dict[str, Any]]:
    sandbox = Sandbox(settings)
    tenants = [
        create_tenant(sandbox, CreateTenant(name="default")),
        create_tenant(sandbox, CreateTenant(seed=9)),
        create_tenant(sandbox, CreateTenant(seed=9)),
        create_tenant(sandbox, CreateTenant(name="qa", seed=9)),
    ]
    documents = []
    for tenant in tenants:
        wamid = tenant.ids.wamid("16505551234")
        documents.append({key: tenant.document()[key] for key in IDS} | {"wamid": wamid})
    return documents


def test_no_two_tenants_of_a_server_share_an_id() -> None:
    documents = _creations(Settings(seed=5))
    for key in (*IDS, "wamid"):
        values = [document[key] for document in documents]
        assert len(set(values)) == len(values), key


def test_the_same_sequence_of_creations_replays_the_same_ids() -> None:
    assert _creations(Settings(seed=5)) == _creations(Settings(seed=5))


def test_an_unseeded_server_repeats_only_the_tenants_given_a_seed() -> None:
    first, second = _creations(Settings()), _creations(Settings())
    assert first[0]["wamid"] != second[0]["wamid"] and first[0]["access_token"] != second[0]["access_token"]
    assert first[1:] == second[1:]
