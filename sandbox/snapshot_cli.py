"""`wa-sandbox snapshot save|list|restore|delete|export|import`: named snapshots of a running server's world."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:8000"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("snapshot", help="save, list, restore, delete, export or import snapshots")
    parser.add_argument("--url", default=None, help=f"the running sandbox (default $WA_SANDBOX_URL or {DEFAULT_URL})")
    parser.add_argument("--admin-token", default=None, help="the server's admin token ($WA_SANDBOX_ADMIN_TOKEN)")
    commands = parser.add_subparsers(dest="snapshot_command", required=True)
    save = commands.add_parser("save", help="save the whole server's world (or one tenant's) under a name")
    save.add_argument("name")
    save.add_argument("--tenant", help="only this tenant's world")
    commands.add_parser("list", help="list the server's snapshots")
    for verb in ("restore", "delete"):
        commands.add_parser(verb, help=f"{verb} a snapshot").add_argument("name")
    export = commands.add_parser("export", help="write a snapshot to one file (to import on another machine)")
    export.add_argument("name")
    export.add_argument("file", nargs="?", help="default NAME.wa-snapshot")
    imported = commands.add_parser("import", help="import a snapshot file (under the name it was saved with)")
    imported.add_argument("file")
    parser.set_defaults(handler=run)


def run(arguments: argparse.Namespace) -> int:
    url = (arguments.url or os.environ.get("WA_SANDBOX_URL") or DEFAULT_URL).rstrip("/")
    token = arguments.admin_token or os.environ.get("WA_SANDBOX_ADMIN_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
            return _command(client, arguments)
    except httpx.HTTPError as error:
        sys.stderr.write(f"wa-sandbox snapshot: cannot reach {url}: {error}\n")
        return 2
    except OSError as error:
        sys.stderr.write(f"wa-sandbox snapshot: {error}\n")
        return 2


def _command(client: httpx.Client, arguments: argparse.Namespace) -> int:
    verb = arguments.snapshot_command
    if verb == "save":
        body = {"name": arguments.name, **({"tenant": arguments.tenant} if arguments.tenant else {})}
        answer = client.post("/_sandbox/snapshots", json=body)
    elif verb == "list":
        answer = client.get("/_sandbox/snapshots")
        if answer.is_success:
            for row in answer.json()["data"]:
                tenant = row["tenant"] or "(whole server)"
                sys.stdout.write(f"{row['name']}\t{tenant}\t{row['created_at']}\t{row['size']} bytes\n")
            return 0
    elif verb == "restore":
        answer = client.post(f"/_sandbox/snapshots/{arguments.name}/restore")
    elif verb == "delete":
        answer = client.delete(f"/_sandbox/snapshots/{arguments.name}")
    elif verb == "export":
        answer = client.get(f"/_sandbox/snapshots/{arguments.name}/export")
        if answer.is_success:
            target = Path(arguments.file or f"{arguments.name}.wa-snapshot")
            target.write_bytes(answer.content)
            sys.stdout.write(f"{target}\t{len(answer.content)} bytes\n")
            return 0
    else:
        answer = client.post("/_sandbox/snapshots/import", content=Path(arguments.file).read_bytes())
    if not answer.is_success:
        try:
            message = answer.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = f"HTTP {answer.status_code} {answer.text[:200]}"
        sys.stderr.write(f"wa-sandbox snapshot {verb}: {message}\n")
        return 1
    sys.stdout.write(answer.text + "\n")
    return 0
