"""What the load command and the benchmarks share to start the sandbox in its own process."""

from __future__ import annotations

import sys

from sandbox.testing import free_port

HOST = "127.0.0.1"

__all__ = ["HOST", "free_port", "sandbox_argv"]


def sandbox_argv(port: int, host: str = HOST) -> list[str]:
    """`python -m sandbox serve` on a loopback port, quiet (no uvicorn log, no console lines): the process a load run
    or a benchmark measures."""
    return [
        *(sys.executable, "-m", "sandbox", "serve", "--host", host, "--port", str(port)),
        *("--log-level", "warning", "--quiet"),
    ]
