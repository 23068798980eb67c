"""A `wa-sandbox serve` that is one shard of a front (`--shard-index I --shard-count N`)."""

from __future__ import annotations

from dataclasses import replace

from sandbox.context import Sandbox
from sandbox.ids import shard_for, shard_tag
from sandbox.settings import Settings

DEFAULT_TENANT = "default"


def owns_default(settings: Settings) -> bool:
    """Only one shard keeps the `default` tenant: the one its name places it on, as for any tenant."""
    return shard_for(DEFAULT_TENANT, settings.shard_count) == settings.shard_index


def shard_settings(settings: Settings) -> Settings:
    """A shard that will not keep `default` has no callback to shake hands with for it."""
    return settings if owns_default(settings) else replace(settings, webhook_url=None, verify_token=None)


def drop_foreign_default(sandbox: Sandbox, settings: Settings) -> None:
    if not owns_default(settings):
        sandbox.remove(DEFAULT_TENANT)


def shard_banner(sandbox: Sandbox, settings: Settings) -> str:
    base = f"http://{settings.host}:{settings.port}"
    tag = shard_tag(settings.shard_index, settings.shard_count)
    return "\n".join(
        [
            f"wa-sandbox shard {settings.shard_index} of {settings.shard_count} listening on {base}",
            f"  tenants here      {', '.join(sandbox.tenants) or '(none)'}",
            f"  tokens minted     EAA{tag}…  (the front routes them here)",
            "  clients use the front's address: wa-sandbox front --shard URL ... (docs/deployment.md)",
        ]
    )
