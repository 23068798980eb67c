"""wa-sandbox: a local, stateful, high-fidelity stand-in for Meta's WhatsApp Business Platform."""

from sandbox.app import create_app
from sandbox.context import Sandbox, Tenant
from sandbox.errors import GraphError, GraphErrorCode, SandboxError
from sandbox.settings import Settings
from sandbox.version import __version__

__all__ = ["GraphError", "GraphErrorCode", "Sandbox", "SandboxError", "Settings", "Tenant", "__version__", "create_app"]
