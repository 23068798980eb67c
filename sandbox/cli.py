"""`wa-sandbox` (and `python -m sandbox`): serve the sandbox, and the tools built on it."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from typing import Any

from sandbox.context import Sandbox, Tenant
from sandbox.domain.commands import CreateTenant
from sandbox.services.tenants import create_tenant
from sandbox.settings import CATCH_UP, CHECKPOINT_MODES, PROFILES, Settings, is_loopback


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8000)")
    parser.add_argument(
        "--seed", type=int, help="replay this seed's world exactly, ids included (default: seed 0's, fresh ids)"
    )
    parser.add_argument("--profile", choices=PROFILES, help="profile of the default tenant (default live)")
    parser.add_argument("--webhook-url", help="callback URL of the default tenant (as set in the app dashboard)")
    parser.add_argument("--verify-token", help="verify token of the default tenant's callback")
    parser.add_argument("--graph-version", help="Graph version for unversioned paths and webhooks (default v23.0)")
    parser.add_argument("--admin-token", help="require this bearer token on /_sandbox/ (needed off loopback)")
    parser.add_argument("--log-level", help="uvicorn log level (default warning)")
    parser.add_argument(
        "--secure-credentials",
        action="store_true",
        default=None,
        help="draw tokens and app secrets from `secrets`, never from the seed (always so off loopback)",
    )
    parser.add_argument("--timeout-keep-alive", type=int, help="seconds an idle connection stays open (default 5)")
    parser.add_argument("--limit-concurrency", type=int, help="connections served at once; more get 503 (1000)")
    parser.add_argument("--read-timeout", type=float, help="seconds for a request's headers, then body (30)")
    parser.add_argument("--data-dir", help="keep the world in this directory across restarts (default none: memory)")
    parser.add_argument("--checkpoint-interval", type=float, help="seconds between writes to the data dir (1)")
    parser.add_argument("--catch-up", choices=CATCH_UP, help="on restart, fire what fell due (fire) or skip the gap")
    parser.add_argument("--checkpoint-mode", choices=CHECKPOINT_MODES, help="serialise in a fork (default) or inline")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wa-sandbox", description="A local stand-in for the WhatsApp Cloud API.")
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="run the sandbox server with its default tenant")
    _serve_arguments(serve)
    for register in _plugins():
        register(commands)
    return parser


def _plugins() -> list[Callable[[Any], None]]:
    """Subcommands that live with their features (scenarios, webhook grader, load runs)."""
    found: list[Callable[[Any], None]] = []
    for module_name in ("scenarios.cli", "sandbox.grader", "loadtests.cli", "sandbox.snapshot_cli"):
        try:
            module = __import__(module_name, fromlist=["register"])
        except ImportError:
            continue
        register = getattr(module, "register", None)
        if register is not None:
            found.append(register)
    return found


def settings_from(arguments: argparse.Namespace) -> Settings:
    return Settings.from_env(os.environ).merged(
        {
            "host": arguments.host,
            "port": arguments.port,
            "seed": arguments.seed,
            "profile": arguments.profile,
            "webhook_url": arguments.webhook_url,
            "verify_token": arguments.verify_token,
            "graph_version": arguments.graph_version,
            "admin_token": arguments.admin_token,
            "log_level": arguments.log_level,
            "secure_credentials": arguments.secure_credentials,
            "timeout_keep_alive": arguments.timeout_keep_alive,
            "limit_concurrency": arguments.limit_concurrency,
            "read_timeout": arguments.read_timeout,
            "data_dir": arguments.data_dir,
            "checkpoint_interval": arguments.checkpoint_interval,
            "catch_up": arguments.catch_up,
            "checkpoint_mode": arguments.checkpoint_mode,
        }
    )


def build_sandbox(settings: Settings) -> tuple[Sandbox, Tenant]:
    """The server's sandbox: the world of its data directory when it has one there, with a `default` tenant."""
    sandbox = Sandbox(settings)
    if settings.data_path is not None:
        from sandbox.services.persistence import open_data_dir

        open_data_dir(sandbox, settings.data_path, catch_up=settings.catch_up)
        if "default" in sandbox.tenants:
            found = sandbox.tenants["default"]
            # A callback given on this start wins over the stored one, as it would on a fresh world.
            if settings.webhook_url:
                found.webhook.url = settings.webhook_url
                found.webhook.verify_token = settings.verify_token or found.webhook.verify_token
                sandbox.dirty.add(found.id)
            return sandbox, found
    webhook_url = settings.webhook_url or None
    command = CreateTenant(
        name="default",
        profile=settings.profile,
        webhook_url=webhook_url,
        verify_token=settings.verify_token if webhook_url else None,
    )
    tenant = create_tenant(sandbox, command)
    return sandbox, tenant


def banner(settings: Settings, tenant: Tenant) -> str:
    base = f"http://{settings.host}:{settings.port}"
    doc = tenant.document()
    lines = [
        f"wa-sandbox listening on {base}  (Graph {settings.graph_version}; control plane {base}/_sandbox/)",
        "",
        f"  tenant            {doc['id']} (profile {doc['profile']}, seed {doc['seed']})",
        f"  access token      {doc['access_token']}",
        f"  phone number id   {doc.get('phone_number_id', '-')}  (+{doc.get('display_phone_number', '-')})",
        f"  WABA id           {doc['waba_id']}",
        f"  app id            {doc['app_id']}",
        f"  app secret        {doc['app_secret']}",
        f"  verify token      {tenant.webhook.verify_token}",
        f"  credentials       {_credentials_origin(settings)}",
        f"  webhook URL       {tenant.webhook.url or '(none: PUT /_sandbox/tenants/default/webhook)'}",
    ]
    if "phone_number_id" in doc:
        body = (
            '{"messaging_product":"whatsapp","to":"+16505551234","type":"template",'
            '"template":{"name":"hello_world","language":{"code":"en_US"}}}'
        )
        lines += [
            "",
            "Send a message:",
            f"  curl -s {base}/{settings.graph_version}/{doc['phone_number_id']}/messages \\",
            f"    -H 'Authorization: Bearer {doc['access_token']}' -H 'Content-Type: application/json' \\",
            f"    -d {shlex.quote(body)}",
        ]
    return "\n".join(lines)


def _credentials_origin(settings: Settings) -> str:
    if settings.secret_credentials:
        return "drawn from `secrets` (new on every start)"
    if settings.replays:
        return f"seeded (seed {settings.seed}): the same on every start"
    return "fresh on every start (pass --seed to keep them)"


def startup_warnings(settings: Settings) -> list[str]:
    """What an operator must know before a server off loopback takes traffic."""
    if is_loopback(settings.host):
        return []
    return [
        f"listening on {settings.host}, off loopback: anyone holding a tenant's access token can make this server "
        "send HTTP requests to URLs of their choosing (a tenant's webhook URL, and `override_callback_uri` of "
        "POST /{waba-id}/subscribed_apps), including hosts on its own network; expose it only to people you trust"
    ]


def serve(arguments: argparse.Namespace) -> int:
    import uvicorn

    from sandbox.app import create_app
    from sandbox.server import uvicorn_config

    try:
        settings = settings_from(arguments)
    except ValueError as error:
        sys.stderr.write(f"wa-sandbox: {error}\n")
        return 2
    for warning in startup_warnings(settings):
        sys.stderr.write(f"wa-sandbox: warning: {warning}\n")
    try:
        sandbox, tenant = build_sandbox(settings)
    except (RuntimeError, ValueError) as error:  # DataDirError, FormatError: one line says why
        sys.stderr.write(f"wa-sandbox: {error}\n")
        return 2
    sys.stdout.write(banner(settings, tenant) + "\n\n")
    sys.stdout.flush()
    uvicorn.Server(uvicorn_config(create_app(sandbox), settings)).run()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    arguments_list = list(argv) if argv is not None else sys.argv[1:]
    # `python -m sandbox --port 8001` means `serve`: only a known subcommand (or help) picks another one.
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    if not arguments_list or (arguments_list[0] not in commands and arguments_list[0] not in ("-h", "--help")):
        arguments_list = ["serve", *arguments_list]
    arguments = parser.parse_args(arguments_list)
    if arguments.command == "serve":
        return serve(arguments)
    handler = getattr(arguments, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    return int(handler(arguments))
