"""wa-sandbox: a local, stateful, high-fidelity stand-in for Meta's WhatsApp Business Platform.

The names below load on first use, so `import sandbox.domain.policy` (or any domain module) needs nothing but the
standard library and `transitions`, not the web stack the app brings in.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sandbox.version import __version__

if TYPE_CHECKING:
    from sandbox.app import create_app
    from sandbox.context import Sandbox, Tenant
    from sandbox.errors import GraphError, GraphErrorCode, SandboxError
    from sandbox.settings import Settings

_EXPORTS = {
    "GraphError": "sandbox.errors",
    "GraphErrorCode": "sandbox.errors",
    "SandboxError": "sandbox.errors",
    "Sandbox": "sandbox.context",
    "Tenant": "sandbox.context",
    "Settings": "sandbox.settings",
    "create_app": "sandbox.app",
}

__all__ = ["GraphError", "GraphErrorCode", "Sandbox", "SandboxError", "Settings", "Tenant", "__version__", "create_app"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sandbox' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
