"""The tenant state's derived views."""

from __future__ import annotations

from sandbox.context import Sandbox
from sandbox.domain.commands import CreateTenant
from sandbox.services.tenants import create_tenant
from sandbox.services.world import provider_view, snapshot


def test_the_provider_status_is_read_off_the_machines_each_time(sandbox: Sandbox) -> None:
    """SEED-VERIFY-4: derived, never stored; a change of the business shows at the next read."""
    trial = create_tenant(sandbox, CreateTenant(name="trial", profile="trial"))
    live = create_tenant(sandbox, CreateTenant(name="live", profile="live"))
    assert snapshot(trial)["provider"]["connection_status"] == "unverified_trial"
    assert provider_view(live) == {"connection_status": "connected", "label": "Connected successfully"}
    business = trial.store.businesses.get(trial.business_id)
    assert business is not None
    business.verification_status = "rejected"
    assert provider_view(trial)["connection_status"] == "waba_rejected"
