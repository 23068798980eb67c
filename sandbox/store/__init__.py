"""Where a tenant's world lives. Only the in-memory store exists today; the domain never sees which one."""

from sandbox.store.memory import Journal, Table, TenantStore

__all__ = ["Journal", "Table", "TenantStore"]
