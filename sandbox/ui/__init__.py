"""The web dashboard under `/_sandbox/ui/` (docs/dashboard.md): server-rendered pages over the control plane."""

from sandbox.ui.pages import ui_routes

__all__ = ["ui_routes"]
