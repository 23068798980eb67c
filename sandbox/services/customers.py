"""Simulated WhatsApp users: created on first contact from the tenant's fake data, shaped by magic numbers."""

from __future__ import annotations

from typing import Any

from sandbox.context import Tenant
from sandbox.domain.customer import Customer, magic_behaviour
from sandbox.errors import GraphErrorCode

BEHAVIOUR_FIELDS = {
    "on_whatsapp": bool,
    "delivery": ("normal", "slow", "never"),
    "reads": ("always", "never", "instant"),
    "blocked_business": bool,
    "profile_name": str,
    "fail_code": int,
}


def customer_for(tenant: Tenant, wa_id: str) -> Customer:
    customer = tenant.store.customers.get(wa_id)
    if customer is None:
        country = "US" if wa_id.startswith("1") else "ZZ"
        customer = Customer(wa_id=wa_id, profile_name=tenant.fake.person_name(), user_id=tenant.ids.user_id(country))
        for name, value in magic_behaviour(wa_id).items():
            setattr(customer, name, value)
        tenant.store.customers.add(wa_id, customer)
    return customer


def update_customer(tenant: Tenant, wa_id: str, changes: dict[str, Any]) -> Customer:
    """Set a customer's behaviour; raises `ValueError` for an unknown field or value, changing nothing."""
    checked: dict[str, Any] = {}
    for name, value in changes.items():
        kind = BEHAVIOUR_FIELDS.get(name)
        if kind is None:
            raise ValueError(f"unknown customer field {name!r}; known: {', '.join(BEHAVIOUR_FIELDS)}")
        if isinstance(kind, tuple):
            if value not in kind:
                raise ValueError(f"{name} must be one of {', '.join(kind)}")
        elif name == "fail_code":
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value not in GraphErrorCode._value2member_map_
            ):
                raise ValueError("fail_code must be a Graph error code the sandbox knows, or null")
        elif not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ValueError(f"{name} must be a {kind.__name__}")
        checked[name] = value
    customer = customer_for(tenant, wa_id)
    for name, value in checked.items():
        setattr(customer, name, value)
    return customer
