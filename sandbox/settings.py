"""Server settings: command-line flags over `WA_SANDBOX_*` environment variables over these defaults."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Literal, get_args

Profile = Literal["live", "trial", "blank"]
PROFILES: tuple[Profile, ...] = get_args(Profile)
ENV_PREFIX = "WA_SANDBOX_"
# The world of an unseeded server is seed 0's; an admin token shorter than this is a password, not a secret.
DEFAULT_SEED = 0
MIN_ADMIN_TOKEN = 16
SEED_RANGE = (-(2**63), 2**63 - 1)
# The versions the Graph routes answer (sandbox/api/graph.py): v23.0, never a bare 23.
GRAPH_VERSION = re.compile(r"^v\d{1,2}\.\d{1,2}$")
_BOOLEANS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}
SERVER_BOUNDS: tuple[tuple[str, float, float], ...] = (
    ("port", 0, 65535),
    ("timeout_keep_alive", 1, 3600),
    ("limit_concurrency", 1, 100_000),
    ("read_timeout", 0.1, 3600),
    ("max_body_bytes", 65_536, 2**31),
    ("checkpoint_interval", 0.01, 3600),
    ("workers", 1, 64),
    ("shard_index", 0, 63),
    ("shard_count", 1, 64),
)
CATCH_UP = ("fire", "skip")
CHECKPOINT_MODES = ("fork", "inline")


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    # Given, the seed replays one world exactly, ids and (on loopback) credentials included; absent, the world is
    # seed 0's but ids and credentials are fresh on every start (docs/fidelity-choices.md, "Ids and credentials").
    seed: int | None = None
    profile: Profile = "live"
    webhook_url: str | None = None
    verify_token: str | None = None
    # Meta's handshake to `webhook_url` before the server starts; off for a receiver started after the sandbox.
    verify_webhook: bool = True
    graph_version: str = "v23.0"
    admin_token: str | None = None
    delivery_concurrency: int = 64
    log_level: str = "warning"
    # Credentials from `secrets` even on loopback (they always are off loopback).
    secure_credentials: bool = False
    # Seconds an idle keep-alive connection stays open; connections served at once (more are answered 503); seconds
    # a request's headers, and then its body, may take to arrive (sandbox/server.py).
    timeout_keep_alive: int = 5
    limit_concurrency: int = 1000
    read_timeout: float = 30.0
    # The largest request body, however fast it comes (413 past it): a 100 MB document upload and its multipart
    # framing fit (sandbox/domain/media.py; the Graph router answers uploads up to 110 MiB itself).
    max_body_bytes: int = 128 * 1024 * 1024
    # No console line per Graph call and webhook delivery (sandbox/console.py) from `wa-sandbox serve`.
    quiet: bool = False
    # Where the world is kept across restarts (`none`: memory only); seconds between checkpoints; what a realtime
    # clock does with the time the server was down; where checkpoints are serialised (docs/persistence.md).
    data_dir: str | None = None
    checkpoint_interval: float = 1.0
    catch_up: str = "fire"
    checkpoint_mode: str = "fork"
    # Processes behind one HAProxy address (`serve --workers N`); this process's place among a front's shards
    # (`serve --shard-index I --shard-count N`, docs/deployment.md).
    workers: int = 1
    shard_index: int = 0
    shard_count: int = 1

    def __repr__(self) -> str:
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        if shown["admin_token"]:
            shown["admin_token"] = "********"
        return "Settings(" + ", ".join(f"{key}={value!r}" for key, value in shown.items()) + ")"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        values: dict[str, Any] = {}
        for f in fields(cls):
            variable = ENV_PREFIX + f.name.upper()
            if variable in environ:
                try:
                    values[f.name] = _converted(f.name, str(f.type), environ[variable])
                except ValueError as error:
                    raise ValueError(f"{variable}={environ[variable]!r}: {error}") from None
        return cls().merged(values)

    def merged(self, overrides: Mapping[str, Any]) -> Settings:
        """These settings with `overrides` (strings from the environment are converted); `None` values are skipped."""
        changes: dict[str, Any] = {}
        for f in fields(self):
            value = overrides.get(f.name)
            if value is None:
                continue
            changes[f.name] = _converted(f.name, str(f.type), value) if isinstance(value, str) else value
        merged = replace(self, **changes)
        merged.check()
        return merged

    @property
    def data_path(self) -> str | None:
        return None if self.data_dir is None or self.data_dir.strip().lower() in ("", "none") else self.data_dir

    @property
    def world_seed(self) -> int:
        return DEFAULT_SEED if self.seed is None else self.seed

    @property
    def replays(self) -> bool:
        """Ids (and seeded credentials) repeat exactly across starts only when the user gave the seed."""
        return self.seed is not None

    @property
    def secret_credentials(self) -> bool:
        """Tokens and app secrets anyone could compute from the seed must not be handed out off loopback."""
        return self.secure_credentials or not is_loopback(self.host)

    def check(self) -> None:
        for name, low, high in SERVER_BOUNDS:
            value = getattr(self, name)
            if not low <= value <= high:
                raise ValueError(f"{name} must be from {low:g} to {high:g} ({ENV_PREFIX}{name.upper()})")
        if self.shard_index >= self.shard_count:
            raise ValueError(f"shard_index must be below shard_count ({self.shard_count})")
        if self.workers > 1 and self.shard_count > 1:
            raise ValueError("a shard runs one process: --workers with --shard-count is not supported")
        if self.catch_up not in CATCH_UP:
            raise ValueError(f"catch_up must be one of {', '.join(CATCH_UP)}")
        if self.checkpoint_mode not in CHECKPOINT_MODES:
            raise ValueError(f"checkpoint_mode must be one of {', '.join(CHECKPOINT_MODES)}")
        if self.profile not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}")
        if not GRAPH_VERSION.match(self.graph_version):
            raise ValueError(
                f"graph version {self.graph_version!r} must look like v23.0 "
                f"(--graph-version, {ENV_PREFIX}GRAPH_VERSION)"
            )
        if self.seed is not None and not SEED_RANGE[0] <= self.seed <= SEED_RANGE[1]:
            raise ValueError("seed must be a 64-bit integer")
        if self.admin_token and len(self.admin_token) < MIN_ADMIN_TOKEN:
            raise ValueError(
                f"the admin token must be at least {MIN_ADMIN_TOKEN} characters to be a secret "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(24))')"
            )
        if not self.admin_token and not is_loopback(self.host):
            raise ValueError(
                f"refusing to listen on {self.host} without an admin token: the control plane would be open "
                "(pass --admin-token or WA_SANDBOX_ADMIN_TOKEN)"
            )


def _converted(name: str, kind: str, value: str) -> Any:
    """A setting given as text (an environment variable) as its field's type."""
    if kind in ("int", "int | None", "float"):
        try:
            return float(value) if kind == "float" else int(value)
        except ValueError:
            raise ValueError(f"{name} must be a{' number' if kind == 'float' else 'n integer'}") from None
    if kind == "bool":
        if value.strip().lower() not in _BOOLEANS:
            raise ValueError(f"{name} must be one of {', '.join(_BOOLEANS)}")
        return _BOOLEANS[value.strip().lower()]
    return value


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
