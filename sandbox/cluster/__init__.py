"""Several sandbox processes behind one address (docs/deployment.md).

Each shard is an ordinary `wa-sandbox serve` owning whole tenants; HAProxy, configured and started here, sends each
Graph call to its tenant's shard by access token, and `/_sandbox/` to the coordinator, which forwards a tenant's
control routes to its shard and fans the server-wide ones out.
"""
