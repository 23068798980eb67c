"""`wa-sandbox` (and `python -m sandbox`): serve the sandbox, and the tools built on it."""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import socket
import sys
from collections.abc import Callable, Sequence
from dataclasses import fields, replace
from typing import Any

from sandbox.context import Sandbox, Tenant
from sandbox.domain.commands import CreateTenant
from sandbox.domain.errors import Invalid
from sandbox.services.tenants import create_verified_tenant, default_tenant
from sandbox.settings import CATCH_UP, CHECKPOINT_MODES, ENV_PREFIX, PROFILES, Settings, is_loopback
from sandbox.ui.views import curl_lines
from sandbox.version import __version__
from sandbox.webhooks.transport import HttpTransport, WebhookTransport


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8000)")
    parser.add_argument(
        "--seed", type=int, help="replay this seed's world exactly, ids included (default: seed 0's, fresh ids)"
    )
    parser.add_argument("--profile", choices=PROFILES, help="profile of the default tenant (default live)")
    parser.add_argument("--webhook-url", help="callback URL of the default tenant (as set in the app dashboard)")
    parser.add_argument("--verify-token", help="verify token of the default tenant's callback")
    parser.add_argument(
        "--no-verify-webhook",
        dest="verify_webhook",
        action="store_false",
        default=None,
        help="save --webhook-url without Meta's handshake (for a receiver started after the sandbox)",
    )
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
    parser.add_argument("--max-body-bytes", type=int, help="largest request body; larger ones get 413 (128 MiB)")
    parser.add_argument(
        "--quiet", action="store_true", default=None, help="no console line per Graph call and webhook delivery"
    )
    parser.add_argument("--data-dir", help="keep the world in this directory across restarts (default none: memory)")
    parser.add_argument("--checkpoint-interval", type=float, help="seconds between writes to the data dir (1)")
    parser.add_argument("--catch-up", choices=CATCH_UP, help="on restart, fire what fell due (fire) or skip the gap")
    parser.add_argument("--checkpoint-mode", choices=CHECKPOINT_MODES, help="serialise in a fork (default) or inline")
    parser.add_argument("--workers", type=int, help="processes behind one HAProxy address (default 1; 1..64)")
    parser.add_argument("--shard-index", type=int, help="serve as shard I of a front's shards (docs/deployment.md)")
    parser.add_argument("--shard-count", type=int, help="how many shards that front has (default 1: no front)")
    # A listening socket inherited from `--workers`' parent (sandbox/cluster/workers.py), never typed by hand.
    parser.add_argument("--listen-fd", type=int, help=argparse.SUPPRESS)
    _name_variables(parser)


def _name_variables(parser: argparse.ArgumentParser) -> None:
    """Each flag that has a `WA_SANDBOX_*` twin says so in its help."""
    settable = {f.name for f in fields(Settings)}
    for action in parser._actions:
        if action.dest in settable and action.help:
            action.help += f" [env {ENV_PREFIX}{action.dest.upper()}]"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wa-sandbox",
        usage="wa-sandbox [serve flags] | wa-sandbox COMMAND [flags]",
        description="A local stand-in for the WhatsApp Cloud API. Without a command, it runs `serve`.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"wa-sandbox {__version__}")
    commands = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND", prog="wa-sandbox")
    serve = commands.add_parser(
        "serve", help="run the sandbox server with its default tenant (the default command)", description=SERVE_TEXT
    )
    _serve_arguments(serve)
    for register in _plugins():
        register(commands)
    parser.epilog = _serve_flags_epilog(serve)
    return parser


SERVE_TEXT = "Run the sandbox server with its default tenant. Flags override `WA_SANDBOX_*` variables."


def _serve_flags_epilog(serve: argparse.ArgumentParser) -> str:
    """`wa-sandbox --help` also lists serve's flags, since they work without the word `serve`."""
    options = serve.format_help().split("options:", 1)[-1]
    options = "\n".join(line for line in options.splitlines() if "show this help message" not in line)
    return (
        "serve flags (wa-sandbox serve --help; each command has its own --help):" + options.rstrip() + "\n\n"
        "Quick start: wa-sandbox serve --seed 1, then the printed curl."
    )


def _plugins() -> list[Callable[[Any], None]]:
    """Subcommands that live with their features (scenarios, webhook grader, load runs)."""
    found: list[Callable[[Any], None]] = []
    for module_name in (
        "scenarios.cli",
        "sandbox.grader",
        "loadtests.cli",
        "sandbox.snapshot_cli",
        "sandbox.cluster.front",
    ):
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
            "verify_webhook": arguments.verify_webhook,
            "graph_version": arguments.graph_version,
            "admin_token": arguments.admin_token,
            "log_level": arguments.log_level,
            "secure_credentials": arguments.secure_credentials,
            "timeout_keep_alive": arguments.timeout_keep_alive,
            "limit_concurrency": arguments.limit_concurrency,
            "read_timeout": arguments.read_timeout,
            "max_body_bytes": arguments.max_body_bytes,
            "quiet": arguments.quiet,
            "data_dir": arguments.data_dir,
            "checkpoint_interval": arguments.checkpoint_interval,
            "catch_up": arguments.catch_up,
            "checkpoint_mode": arguments.checkpoint_mode,
            "workers": getattr(arguments, "workers", None),
            "shard_index": getattr(arguments, "shard_index", None),
            "shard_count": getattr(arguments, "shard_count", None),
        }
    )


def build_sandbox(settings: Settings, transport: WebhookTransport | None = None) -> tuple[Sandbox, Tenant]:
    """The server's sandbox and `default` tenant; raises `Invalid` when its callback URL fails Meta's handshake.

    With a data directory, the world stored there (its `default` tenant keeps its stored callback); raises
    DataDirError or FormatError (one line each) for a directory this release cannot read.
    """
    sandbox = Sandbox(settings)
    if settings.data_path is not None:
        from sandbox.services.persistence import open_data_dir

        open_data_dir(sandbox, settings.data_path, catch_up=settings.catch_up)
        if "default" in sandbox.tenants:
            return sandbox, sandbox.tenants["default"]
    command = replace(default_tenant(settings), verify_webhook=settings.verify_webhook)
    return sandbox, asyncio.run(_create_default(sandbox, command, transport))


async def _create_default(sandbox: Sandbox, command: CreateTenant, transport: WebhookTransport | None) -> Tenant:
    handshake = transport or HttpTransport(1)
    try:
        return await create_verified_tenant(sandbox, command, handshake)
    finally:
        if transport is None:
            await handshake.close()


def _dashboard_token(settings: Settings) -> str:
    # A browser cannot send the bearer header: the link carries the token once, the dashboard keeps it in a cookie.
    return f"?token={settings.admin_token}" if settings.admin_token else ""


def banner(settings: Settings, tenant: Tenant) -> str:
    base = f"http://{settings.host}:{settings.port}"
    doc = tenant.document()
    lines = [
        f"wa-sandbox listening on {base}  (Graph {settings.graph_version}; control plane {base}/_sandbox/)",
        f"  dashboard         {base}/_sandbox/ui/{_dashboard_token(settings)}",
        "",
        f"  tenant            {doc['id']} (profile {doc['profile']}, seed {doc['seed']})",
        f"  access token      {doc['access_token']}",
        f"  phone number id   {doc.get('phone_number_id', '-')}  (+{doc.get('display_phone_number', '-')})",
        f"  WABA id           {doc['waba_id']}",
        f"  app id            {doc['app_id']}",
        f"  app secret        {doc['app_secret']}",
        f"  verify token      {tenant.webhook.verify_token}",
        f"  credentials       {_credentials_origin(settings)}",
        f"  webhook URL       {_callback(settings, tenant)}",
    ]
    if "phone_number_id" in doc:
        lines += ["", "Send a message:", *(f"  {line}" for line in curl_lines(base, doc))]
    return "\n".join(lines)


def _callback(settings: Settings, tenant: Tenant) -> str:
    if tenant.webhook.url is None:
        return "(none: PUT /_sandbox/tenants/default/webhook)"
    verified = "verified" if settings.verify_webhook else "not verified: --no-verify-webhook"
    return f"{tenant.webhook.url}  ({verified})"


def _credentials_origin(settings: Settings) -> str:
    if settings.data_path is not None:
        return f"kept in the data directory {settings.data_path} across restarts (--data-dir none: memory only)"
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
    from sandbox.console import Console
    from sandbox.server import uvicorn_config

    try:
        settings = settings_from(arguments)
    except ValueError as error:
        sys.stderr.write(f"wa-sandbox: {error}\n")
        return 2
    for warning in startup_warnings(settings):
        sys.stderr.write(f"wa-sandbox: warning: {warning}\n")
    if settings.workers > 1:
        from sandbox.cluster.workers import serve_workers

        return serve_workers(settings)
    try:
        listener = bind_listener(settings.host, settings.port, getattr(arguments, "listen_fd", None))
    except OSError as error:
        sys.stderr.write(f"wa-sandbox: {bind_failure(settings.host, settings.port, error)}\n")
        return 1
    with listener:
        # --port 0 asks for a free port: the banner and the tenant show the one bound.
        settings = replace(settings, port=listener.getsockname()[1])
        if settings.shard_count > 1:
            from sandbox.cluster import shard

            settings = shard.shard_settings(settings)
        try:
            sandbox, tenant = build_sandbox(settings)
        except Invalid as error:
            sys.stderr.write(
                f"wa-sandbox: --webhook-url {settings.webhook_url}: {error}; start the receiver first, "
                "or pass --no-verify-webhook (WA_SANDBOX_VERIFY_WEBHOOK=false) to save it unverified\n"
            )
            return 2
        except (RuntimeError, ValueError) as error:  # DataDirError, FormatError: one line says why
            sys.stderr.write(f"wa-sandbox: {error}\n")
            return 2
        if settings.shard_count > 1:
            shard.drop_foreign_default(sandbox, settings)
            sys.stdout.write(shard.shard_banner(sandbox, settings) + "\n\n")
        else:
            sys.stdout.write(banner(settings, tenant) + "\n\n")
        sys.stdout.flush()
        console = None if settings.quiet else Console(sys.stdout).attach(sandbox)
        uvicorn.Server(uvicorn_config(create_app(sandbox), settings)).run(sockets=[listener])
        if console is not None:
            console.flush()
    return 0


def bind_listener(host: str, port: int, fd: int | None = None) -> socket.socket:
    """The server's listening socket, bound before the banner says `listening` (uvicorn serves it as given), or
    the one inherited as `fd`."""
    if fd is not None:
        return socket.socket(fileno=fd)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(2048)
    except OSError:
        listener.close()
        raise
    listener.set_inheritable(True)
    return listener


def bind_failure(host: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return f"port {port} is in use: pick another with --port"
    if error.errno in (errno.EACCES, errno.EPERM):
        return f"not allowed to listen on port {port}: pick one above 1023 with --port"
    return f"cannot listen on {host}:{port}: {error.strerror or error} (check --host)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    arguments_list = list(argv) if argv is not None else sys.argv[1:]
    # `python -m sandbox --port 8001` means `serve`: only a known subcommand (or help) picks another one.
    commands = _subcommands(parser)
    if not arguments_list or (arguments_list[0] not in commands and arguments_list[0] not in _TOP_LEVEL_FLAGS):
        arguments_list = ["serve", *arguments_list]
    incomplete = _without_its_command(commands, arguments_list)
    if incomplete is not None:
        incomplete.print_help()
        return 2
    arguments = parser.parse_args(arguments_list)
    if arguments.command == "serve":
        return serve(arguments)
    handler = getattr(arguments, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    return int(handler(arguments))


_TOP_LEVEL_FLAGS = ("-h", "--help", "--version")


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    found = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(found[0].choices) if found else {}


def _without_its_command(
    commands: dict[str, argparse.ArgumentParser], arguments_list: list[str]
) -> argparse.ArgumentParser | None:
    """`wa-sandbox scenario` alone: the parser of a command that needs a command of its own and got none."""
    command = commands.get(arguments_list[0])
    nested = _subcommands(command) if command is not None else {}
    rest = arguments_list[1:]
    if not nested or any(word in nested or word in ("-h", "--help") for word in rest):
        return None
    return command
