"""docs/clients.md's Node recipes, run as written by `node` against a real loopback sandbox.

Each recipe is written to a module beside a link to tests/clients/js/node_modules (the exact versions of
tests/clients/js/package-lock.json, installed by `npm ci --prefix tests/clients/js`, which .ci/run does). It prints
its send's answer, then listens on PORT as the tenant's webhook receiver: the sandbox's verification GET must pass,
and a customer's "ping" must come back as the handler's "You said: ping". Without node or the modules the tests
skip, saying which is missing; under CI (CI set) that is an error instead.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.testing import free_port

pytestmark = pytest.mark.server

JS = Path(__file__).resolve().parent / "js"
MODULES = ["whatsapp-api-js", "@kapso/whatsapp-cloud-api", "@great-detail/whatsapp"]
WAIT = 30.0


NODE_MAJOR = 20  # the oldest major these versions run on (kapso declares >=20.19; the others say 22 but run on 20)


def _missing() -> str | None:
    node = shutil.which("node")
    if node is None:
        return "node is not installed (apt-get install nodejs npm)"
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    if not version.startswith("v") or int(version[1:].split(".")[0]) < NODE_MAJOR:
        return f"node {version or '(unknown version)'} is older than the {NODE_MAJOR} these clients need"
    absent = [name for name in MODULES if not (JS / "node_modules" / name / "package.json").is_file()]
    if absent:
        return f"{', '.join(absent)} not installed: run `npm ci --prefix tests/clients/js`"
    return None


@pytest.fixture(scope="module")
def node() -> str:
    missing = _missing()
    if missing is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Node client recipes: {missing}")
        pytest.skip(missing)
    return str(shutil.which("node"))


class Recipe:
    """A recipe running under node: its stdout lines, and the port its receiver listens on."""

    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process, self.port = process, port
        self.lines: list[str] = []
        self.arrived = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self.arrived:
                self.lines.append(line)
                self.arrived.notify_all()
        with self.arrived:
            self.arrived.notify_all()

    def first_line(self) -> dict[str, Any]:
        with self.arrived:
            self.arrived.wait_for(lambda: self.lines or self.process.poll() is not None, timeout=WAIT)
        assert self.lines, f"the recipe printed nothing (exit {self.process.poll()}): {self.stderr()}"
        return dict(json.loads(self.lines[0]))

    def wait_listening(self) -> str:
        ready = threading.Event()
        for _ in range(int(WAIT / 0.05)):
            assert self.process.poll() is None, f"the recipe exited: {self.stderr()}"
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return f"http://127.0.0.1:{self.port}/"
            ready.wait(0.05)
        raise AssertionError(f"the recipe's receiver never listened on {self.port}")

    def stderr(self) -> str:
        if self.process.poll() is None:
            return "(still running)"
        assert self.process.stderr is not None
        return self.process.stderr.read()


@pytest.fixture
def run_recipe(node: str, recipes, recipe_tenant, tmp_path: Path) -> Iterator[Any]:
    started: list[subprocess.Popen[str]] = []

    def run(name: str, edit: tuple[str, str] | None = None) -> Recipe:
        language, code = recipes[name]
        assert language == "js"
        if edit is not None:
            assert edit[0] in code
            code = code.replace(*edit)
        (tmp_path / "node_modules").symlink_to(JS / "node_modules", target_is_directory=True)
        script = tmp_path / f"{name}.mjs"
        script.write_text(code, encoding="utf-8")
        port = free_port("127.0.0.1")
        env = {**os.environ, **recipe_tenant.env, "PORT": str(port)}
        process = subprocess.Popen(
            [node, str(script)], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        started.append(process)
        return Recipe(process, port)

    yield run
    for process in started:
        process.terminate()
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.parametrize("name", ["whatsapp-api-js", "kapso", "great-detail"])
def test_node_recipe_sends_and_answers_webhooks(name: str, run_recipe, recipe_tenant) -> None:
    recipe = run_recipe(name)
    answer = recipe.first_line()
    sent = recipe_tenant.outbound(answer["messages"][0]["id"])
    assert sent["text"]["body"].startswith("Hello from ")
    assert all(path.startswith("/v23.0/") for path in recipe_tenant.paths()), recipe_tenant.paths()

    receiver_url = recipe.wait_listening()
    recipe_tenant.point_webhook_at(receiver_url)
    recipe_tenant.customer_writes("ping")
    reply = recipe_tenant.wait_for_reply("You said: ping")
    assert reply["wa_id"] == "16505551234"
    assert recipe_tenant.forged_webhook_status(receiver_url) == 401


def test_great_detail_without_the_trailing_slash_sends_unversioned_paths(run_recipe, recipe_tenant) -> None:
    """What docs/clients.md says of @great-detail/whatsapp 9.x: `graphVersion: "v23.0"` loses the version."""
    recipe = run_recipe("great-detail", ('graphVersion: "v23.0/"', 'graphVersion: "v23.0"'))
    recipe_tenant.outbound(recipe.first_line()["messages"][0]["id"])
    assert recipe_tenant.paths() == [f"/{recipe_tenant.document['phone_number_id']}/messages"]


BLOCK_SCRIPT = """
import { WhatsAppAPI } from "whatsapp-api-js";
const SANDBOX = process.env.WA_SANDBOX_URL;
const api = new WhatsAppAPI({
  token: process.env.WA_ACCESS_TOKEN,
  appSecret: process.env.WA_APP_SECRET,
  v: "v23.0",
  ponyfill: { fetch: (url, init) => fetch(String(url).replace("https://graph.facebook.com", SANDBOX), init) },
});
const id = process.env.WA_PHONE_NUMBER_ID;
const blocked = await api.blockUser(id, "16505551234", "16505550000");
const unblocked = await api.unblockUser(id, "16505551234");
console.log(JSON.stringify({ blocked, unblocked }));
"""


def test_whatsapp_api_js_blocks_and_unblocks_users(node: str, recipe_tenant, tmp_path: Path) -> None:
    """whatsapp-api-js 6.3's blockUser / unblockUser (unversioned `/{id}/block_users`) read Meta's answers."""
    recipe_tenant.customer_writes("hello")
    (tmp_path / "node_modules").symlink_to(JS / "node_modules", target_is_directory=True)
    script = tmp_path / "block.mjs"
    script.write_text(BLOCK_SCRIPT, encoding="utf-8")
    done = subprocess.run(
        [node, str(script)], cwd=tmp_path, env={**os.environ, **recipe_tenant.env}, capture_output=True, text=True,
        timeout=WAIT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout.splitlines()[-1])
    assert answers["blocked"]["block_users"]["added_users"] == [{"input": "16505551234", "wa_id": "16505551234"}]
    assert [user["input"] for user in answers["blocked"]["block_users"]["failed_users"]] == ["16505550000"]
    assert answers["blocked"]["errors"]["code"] == 139100
    assert answers["unblocked"]["block_users"]["removed_users"] == [{"input": "16505551234", "wa_id": "16505551234"}]
    phone = recipe_tenant.document["phone_number_id"]
    assert f"/{phone}/block_users" in recipe_tenant.paths()
