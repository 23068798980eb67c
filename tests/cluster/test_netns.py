"""Shards on two "hosts" (Linux network namespaces on a private subnet) behind the front on a third: a client in the
front's namespace reaches tenants on each shard through the one address, and everything is gone afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from loadtests import netns
from sandbox.ids import shard_for

pytestmark = pytest.mark.skipif(
    not any(os.access(p, os.X_OK) for p in ("/usr/sbin/haproxy", "/usr/bin/haproxy")),
    reason="needs HAProxy from Debian (apt-get install haproxy), as .ci/run installs it",
)

# Runs inside the front's namespace: creates one tenant per shard through the front, sends a template from each,
# and prints what it saw.
CLIENT = """
import json, sys, urllib.request
front, admin, names = sys.argv[1], sys.argv[2], sys.argv[3:]
def call(method, path, body=None, token=admin):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(front + path, data=data, method=method,
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
out = {"sent": {}}
for name in names:
    status, doc = call("POST", "/_sandbox/tenants", {"name": name, "profile": "live", "seed": 3})
    assert status == 201, (status, doc)
    body = {"messaging_product": "whatsapp", "to": "+16505550100", "type": "template",
            "template": {"name": "hello_world", "language": {"code": "en_US"}}}
    out["sent"][name] = call("POST", "/v23.0/%s/messages" % doc["phone_number_id"], body, doc["access_token"])
status, health = call("GET", "/_sandbox/health")
out["health"] = [status, [(s["index"], s["url"], s["status"], s["tenants"]) for s in health["shards"]]]
out["tenants"] = sorted(t["id"] for t in call("GET", "/_sandbox/tenants")[1]["data"])
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def net() -> Iterator[netns.Hosts]:
    try:
        netns.check_permitted()
    except netns.NotPermitted as error:
        if os.environ.get("CI") == "true":  # .ci/run's environment must rehearse this, not skip it
            pytest.fail(f"CI=true, but network namespaces cannot be made: {error}")
        pytest.skip(f"network namespaces cannot be made here: {error}")
    built = netns.Hosts(3).create()
    yield built
    built.destroy()
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert built.tag not in listed


@pytest.fixture(scope="module")
def front(net: netns.Hosts) -> str:
    env = {k: v for k, v in os.environ.items() if k != "WA_SANDBOX_WORKERS"}
    return netns.start_cluster(net, shard_hosts=[1, 2], front_host=0, env=env)


def test_a_front_reaches_tenants_on_shards_in_two_other_namespaces(net: netns.Hosts, front: str) -> None:
    names = [next(f"team-{n}" for n in range(100) if shard_for(f"team-{n}", 2) == shard) for shard in (0, 1)]
    seen = json.loads(net.output(0, [sys.executable, "-c", CLIENT, front, netns.ADMIN_TOKEN, *names]))
    for name in names:
        status, answer = seen["sent"][name]
        assert status == 200 and answer["messages"][0]["id"].startswith("wamid."), answer
    status, shards = seen["health"]
    assert status == 200
    assert [(index, url, state) for index, url, state, _ in shards] == [
        (0, f"http://{net.address(1)}:{netns.PORT}", "ok"),
        (1, f"http://{net.address(2)}:{netns.PORT}", "ok"),
    ]
    assert set(names) <= set(seen["tenants"]) and "default" in seen["tenants"]


def test_the_hosts_see_each_other_but_not_the_calling_namespace(net: netns.Hosts, front: str) -> None:
    ours = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True).stdout
    assert net.address(0) not in ours  # nothing was added here
    probe = "import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5).close()"
    net.output(0, [sys.executable, "-c", probe, net.address(1), str(netns.PORT)])
