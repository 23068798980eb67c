"""The sandbox's own surface under `/_sandbox/` (docs/reference/control-plane.md)."""

from starlette.routing import BaseRoute

from sandbox.control import (
    clock,
    customers,
    faults,
    index,
    journal,
    lifecycles,
    limits,
    phone_numbers,
    policy,
    pricing,
    quality,
    reviews,
    shard,
    snapshots,
    templates,
    tenants,
    verification,
    wabas,
    webhook,
)


def control_routes() -> list[BaseRoute]:
    return [
        *index.routes,
        *tenants.routes,
        *clock.routes,
        *customers.routes,
        *journal.routes,
        *webhook.routes,
        *policy.routes,
        *reviews.routes,
        *lifecycles.routes,
        *faults.routes,
        *limits.routes,
        *verification.routes,
        *pricing.routes,
        *wabas.routes,
        *phone_numbers.routes,
        *quality.routes,
        *templates.routes,
        *snapshots.routes,
        *shard.routes,
    ]
