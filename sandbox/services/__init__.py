"""Use cases named after Graph and control-plane operations; each takes a tenant (or the sandbox) and a command."""
