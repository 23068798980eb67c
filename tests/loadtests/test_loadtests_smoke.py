"""Smoke tests of the load-test kit. Locust (gevent) never enters this process: users.py is import-checked in a
subprocess; the sink runs in-process on a loopback port; the plan and report are plain Python."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from loadtests.plan import DEFAULT_MIX, LoadPlan, NumberPlan, message_body, recipient, recipients_for, user_slice
from loadtests.report import Call, RunData, markdown, summarize
from loadtests.sink import SinkState, start_sink
from sandbox.api.message_bodies import parse_messages_request
from sandbox.domain.commands import SendMessage

ROOT = Path(__file__).resolve().parents[2]
SECRET = "0123456789abcdef0123456789abcdef"


def _status_payload(wamid: str, status: str, sent_at: float) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "statuses": [
            {
                "id": wamid,
                "status": status,
                "timestamp": "1",
                "recipient_id": "16500000001",
                "biz_opaque_callback_data": f"lt:{sent_at:.6f}",
            }
        ],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"value": value, "field": "messages"}]}],
    }
    return orjson.dumps(payload)


async def _exchange(port: int, raw: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(
        next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")).split(b":")[1]
    )
    body = await reader.readexactly(length)
    writer.close()
    return head.split(b"\r\n")[0] + b"\n" + body


def _post(path: str, body: bytes, signature: str | None) -> bytes:
    headers = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    if signature:
        headers += f"X-Hub-Signature-256: {signature}\r\n"
    return headers.encode() + b"\r\n" + body


def test_sink_verifies_signatures_and_records_each_status_once() -> None:
    async def scenario() -> tuple[SinkState, bytes, bytes, bytes]:
        server, state = await start_sink("127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            await _exchange(port, _post("/_sink/secrets", orjson.dumps({"t1": SECRET}), None))
            challenge = await _exchange(
                port,
                b"GET /webhook/t1?hub.mode=subscribe&hub.challenge=42&hub.verify_token=v HTTP/1.1\r\nHost: x\r\n\r\n",
            )
            for status in ("sent", "delivered", "read", "read"):
                body = _status_payload("wamid.A", status, 1000.0)
                signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                await _exchange(port, _post("/webhook/t1", body, signature))
            await _exchange(port, _post("/webhook/t1", _status_payload("wamid.B", "sent", 1000.0), "sha256=00"))
            stats = await _exchange(port, b"GET /_sink/stats HTTP/1.1\r\nHost: x\r\n\r\n")
            records = await _exchange(port, b"GET /_sink/records HTTP/1.1\r\nHost: x\r\n\r\n")
        finally:
            server.close()
            await server.wait_closed()
        return state, challenge, stats, records

    state, challenge, stats, records = asyncio.run(scenario())
    assert challenge.endswith(b"\n42")
    assert state.counts["bad_signature"] == 1
    assert state.counts["read"] == 2
    assert dict(state.duplicates) == {"read": 1}
    assert set(state.records) == {"wamid.A", "wamid.B"}
    assert state.records["wamid.A"][0] == 1000.0
    assert b'"messages":2' in stats
    assert records.splitlines()[1] == b"wamid,t_send,t_sent,t_delivered,t_read,t_failed"


def test_sink_refuses_a_non_loopback_address() -> None:
    with pytest.raises(ValueError, match="loopback"):
        asyncio.run(start_sink("0.0.0.0", 0))


@pytest.mark.parametrize("kind", sorted(DEFAULT_MIX))
def test_every_message_kind_of_the_mix_is_a_valid_send(kind: str) -> None:
    command = parse_messages_request("106540352242922", message_body(kind, recipient(7), 1.5))
    assert isinstance(command, SendMessage)
    assert command.type == kind
    assert command.biz_opaque_callback_data == "lt:1.500000"


def test_users_of_one_number_walk_disjoint_recipients_slower_than_the_pair_rate() -> None:
    pool = recipients_for(1000)
    slices = [set(user_slice(rank, 50, pool)) for rank in range(50)]
    assert sum(len(s) for s in slices) == pool
    assert len(set().union(*slices)) == pool
    # each user sends 20/s, so one recipient comes round every len(slice)/20 seconds
    assert min(len(s) for s in slices) / 20 >= 6


def test_plan_round_trips_through_json(tmp_path: Path) -> None:
    plan = LoadPlan(numbers=[NumberPlan("load-1", "EAAtoken", "106540352242922", SECRET)], rate_per_number=1000)
    plan.dump(tmp_path / "plan.json")
    assert LoadPlan.load(tmp_path / "plan.json") == plan


def test_report_counts_lost_webhooks_and_errors_by_code() -> None:
    calls = [Call(100.0 + i / 10, 2.0 + i, 200, "", "text", "load-1", f"wamid.{i}") for i in range(10)] + [
        Call(100.5, 1.0, 400, "130429", "text", "load-1", "")
    ]
    webhooks = {
        f"wamid.{i}": [100.0 + i / 10, 100.1 + i / 10, 100.3 + i / 10, float("nan"), float("nan")] for i in range(9)
    }
    data = RunData(calls, webhooks, {"counts": {"posts": 18}}, [], {"profile": "steady", "rate": 10, "numbers": 1})
    summary = summarize(data)
    assert summary["accepted"] == 10
    assert summary["errors"] == {"130429 (HTTP 400)": 1}
    assert summary["webhooks_missing"] == {"sent": 1, "delivered": 1, "read": 10}
    assert summary["webhook_lag_ms"]["sent"]["p50"] == pytest.approx(100.0)
    assert "130429 (HTTP 400)" in markdown(summary, None)


def test_locust_users_import_in_their_own_process() -> None:
    """users.py imports locust, which monkey-patches with gevent; that must never happen inside pytest."""
    code = (
        "import loadtests.locustfile as f; "
        "assert {c.__name__ for c in (f.BusinessUser, f.CustomerUser, f.RateLimitUser)} == "
        "{'BusinessUser', 'CustomerUser', 'RateLimitUser'}; print('ok')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=20, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")
    assert "gevent" not in sys.modules
