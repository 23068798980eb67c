"""Simulated WhatsApp users: created on first contact from the tenant's fake data, shaped by magic numbers."""

from __future__ import annotations

from sandbox.context import Tenant
from sandbox.domain.commands import UNCHANGED, UpdateCustomer
from sandbox.domain.customer import Customer, magic_behaviour
from sandbox.errors import GraphError, GraphErrorCode
from sandbox.store import TenantStore


def customer_for(tenant: Tenant, wa_id: str) -> Customer:
    """The customer behind `wa_id`, just used; forgetting idle ones beyond the policy's count (O(1) amortised)."""
    store = tenant.store
    customer = store.customers.get(wa_id)
    if customer is not None:
        store.customers.touch(wa_id)
    else:
        country = "US" if wa_id.startswith("1") else "ZZ"
        customer = Customer(wa_id=wa_id, profile_name=tenant.fake.person_name(), user_id=tenant.ids.user_id(country))
        for name, value in magic_behaviour(wa_id).items():
            setattr(customer, name, value)
        store.customers.add(wa_id, customer)
        store.forget_idle(tenant.clock.now(), tenant.policy.journal.customers)
        _index_user_id(store, customer)
    return customer


def known_user(tenant: Tenant, user_id: str) -> Customer | None:
    """The customer whose BSUID is `user_id`, if this tenant knows them (has not forgotten them)."""
    store = tenant.store
    wa_id = store.customer_user_ids.get(user_id)
    customer = None if wa_id is None else store.customers.get(wa_id)
    return customer if customer is not None and customer.user_id == user_id else None


def customer_with_user_id(tenant: Tenant, user_id: str) -> Customer:
    """`known_user`, or Meta's 131009 for a BSUID this tenant does not know (docs/fidelity-choices.md)."""
    customer = known_user(tenant, user_id)
    if customer is None:
        raise GraphError(
            GraphErrorCode.PARAMETER_VALUE_INVALID,
            f"Invalid recipient: no WhatsApp user with the business-scoped user ID {user_id} is known to this "
            "business.",
        )
    return customer


def _index_user_id(store: TenantStore, customer: Customer) -> None:
    # Forgetting a customer leaves their BSUID behind; rebuilding once stale ids match the live ones keeps the
    # index bounded at O(1) amortised per new customer.
    index = store.customer_user_ids
    index[customer.user_id] = customer.wa_id
    if len(index) > 2 * len(store.customers) + 64:
        store.customer_user_ids = {known.user_id: known.wa_id for known in store.customers}


def update_customer(tenant: Tenant, command: UpdateCustomer) -> Customer:
    """Set the behaviours the command gives; the customer is created on first contact if need be."""
    customer = customer_for(tenant, command.wa_id)
    for name in ("on_whatsapp", "delivery", "reads", "blocked_business", "profile_name"):
        value = getattr(command, name)
        if value is not None:
            setattr(customer, name, value)
    if command.fail_code is not UNCHANGED:
        customer.fail_code = None if command.fail_code is None else int(command.fail_code)
    return customer
