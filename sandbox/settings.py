"""Server settings: command-line flags over `WA_SANDBOX_*` environment variables over these defaults."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Literal, get_args

Profile = Literal["live", "trial", "blank"]
PROFILES: tuple[Profile, ...] = get_args(Profile)
ENV_PREFIX = "WA_SANDBOX_"
SERVER_BOUNDS: tuple[tuple[str, float, float], ...] = (
    ("timeout_keep_alive", 1, 3600),
    ("limit_concurrency", 1, 100_000),
    ("read_timeout", 0.1, 3600),
)


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    seed: int = 0
    profile: Profile = "live"
    webhook_url: str | None = None
    verify_token: str | None = None
    graph_version: str = "v23.0"
    admin_token: str | None = None
    delivery_concurrency: int = 64
    log_level: str = "warning"
    # Seconds an idle keep-alive connection stays open; connections served at once (more are answered 503); seconds
    # a request's headers, and then its body, may take to arrive (sandbox/server.py).
    timeout_keep_alive: int = 5
    limit_concurrency: int = 1000
    read_timeout: float = 30.0

    def __repr__(self) -> str:
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        if shown["admin_token"]:
            shown["admin_token"] = "********"
        return "Settings(" + ", ".join(f"{key}={value!r}" for key, value in shown.items()) + ")"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        return cls().merged(
            {
                f.name: environ[ENV_PREFIX + f.name.upper()]
                for f in fields(cls)
                if ENV_PREFIX + f.name.upper() in environ
            }
        )

    def merged(self, overrides: Mapping[str, Any]) -> Settings:
        """These settings with `overrides` (strings from the environment are converted); `None` values are skipped."""
        changes: dict[str, Any] = {}
        for f in fields(self):
            value = overrides.get(f.name)
            if value is None:
                continue
            if f.type in ("int", "float") and isinstance(value, str):
                try:
                    value = int(value) if f.type == "int" else float(value)
                except ValueError:
                    raise ValueError(f"{f.name} must be a{'n integer' if f.type == 'int' else ' number'}") from None
            changes[f.name] = value
        merged = replace(self, **changes)
        merged.check()
        return merged

    def check(self) -> None:
        for name, low, high in SERVER_BOUNDS:
            value = getattr(self, name)
            if not low <= value <= high:
                raise ValueError(f"{name} must be from {low:g} to {high:g} ({ENV_PREFIX}{name.upper()})")
        if self.profile not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}")
        if not self.admin_token and not is_loopback(self.host):
            raise ValueError(
                f"refusing to listen on {self.host} without an admin token: the control plane would be open "
                "(pass --admin-token or WA_SANDBOX_ADMIN_TOKEN)"
            )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
