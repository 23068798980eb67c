"""Server settings: command-line flags over `WA_SANDBOX_*` environment variables over these defaults."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Literal, get_args

Profile = Literal["live", "trial", "blank"]
PROFILES: tuple[Profile, ...] = get_args(Profile)
ENV_PREFIX = "WA_SANDBOX_"


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
            if f.type == "int" and isinstance(value, str):
                value = int(value)
            changes[f.name] = value
        merged = replace(self, **changes)
        merged.check()
        return merged

    def check(self) -> None:
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
