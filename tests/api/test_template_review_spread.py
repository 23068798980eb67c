"""Issue 13's done-means over HTTP: 200 varied templates created on a tenant with the default policy end with a
believable spread of approvals, rejections with reasons, re-categorisations and latencies, seen in the webhooks, and
the same seed gives the same spread."""

from __future__ import annotations

import importlib.util
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.context import Sandbox
from sandbox.settings import Settings
from sandbox.testing import RecordingTransport

ROOT = Path(__file__).resolve().parents[2]


def _spread_script() -> Any:
    spec = importlib.util.spec_from_file_location(
        "template_review_spread", ROOT / "scripts" / "template_review_spread.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _world(seed: int) -> tuple[Counter[str], Counter[str], list[tuple[str, str, str]], list[float]]:
    """Create the script's 200 submissions over HTTP (100 per hour: Meta's creation rate), let a day and more pass,
    and read the outcome from the webhooks."""
    transport = RecordingTransport()
    with TestClient(create_app(Sandbox(Settings(seed=1)), transport=transport)) as client:
        created = client.post(
            "/_sandbox/tenants",
            json={
                "name": "spread",
                "seed": seed,
                "clock": {"mode": "frozen"},
                "webhook": {"url": "http://receiver.test/hook"},
            },
        )
        assert created.status_code == 201, created.text
        tenant = created.json()
        auth = {"Authorization": f"Bearer {tenant['access_token']}"}
        clock = f"/_sandbox/tenants/{tenant['id']}/clock/advance"
        start = datetime.fromisoformat(client.get(f"/_sandbox/tenants/{tenant['id']}/clock").json()["now"]).timestamp()
        created_at: dict[str, float] = {}
        refused: Counter[str] = Counter()
        for index, submission in enumerate(_spread_script().submissions()):
            if index == 100:
                assert client.post(clock, json={"seconds": 3601}).status_code == 200
            body = {
                "name": submission.name,
                "language": submission.language,
                "category": submission.category,
                "allow_category_change": submission.allow_category_change,
                "components": list(submission.components),
            }
            answer = client.post(f"/v23.0/{tenant['waba_id']}/message_templates", json=body, headers=auth)
            assert answer.status_code in (200, 400), answer.text
            if answer.status_code == 400:
                refused[str(answer.json()["error"].get("error_subcode", answer.json()["error"]["code"]))] += 1
                continue
            created_at[answer.json()["id"]] = start + (3601 if index >= 100 else 0)
        assert client.post(clock, json={"seconds": 26 * 3600}).status_code == 200
        state = client.get(f"/_sandbox/tenants/{tenant['id']}/state").json()
    decided: Counter[str] = Counter()
    outcomes = []
    latencies = []
    for payload in transport.payloads():
        for entry in payload["entry"]:
            for change in entry["changes"]:
                value = change["value"]
                if change["field"] == "message_template_status_update":
                    decided[f"{value['event']} {value['reason']}"] += 1
                    outcomes.append((value["message_template_name"], value["event"], value["reason"]))
                    latencies.append(entry["time"] - created_at[str(value["message_template_id"])])
                elif change["field"] == "template_category_update":
                    decided[f"{value['previous_category']}→{value['new_category']}"] += 1
    assert {t["status"] for t in state["templates"] if t["name"] != "hello_world"} <= {"APPROVED", "REJECTED"}
    return decided, refused, sorted(outcomes), latencies


def test_200_templates_give_a_believable_spread_and_the_seed_replays_it() -> None:
    decided, refused, outcomes, latencies = _world(seed=11)
    approved = sum(count for key, count in decided.items() if key.startswith("APPROVED"))
    rejected = {key: count for key, count in decided.items() if key.startswith("REJECTED")}
    recategorised = sum(count for key, count in decided.items() if "→" in key)
    assert len(outcomes) + sum(refused.values()) == 200
    # Mostly approved, every kind of rejection a reader would expect, and re-categorisations to MARKETING.
    assert 0.6 * len(outcomes) <= approved <= 0.9 * len(outcomes), decided
    assert {"REJECTED INVALID_FORMAT", "REJECTED SCAM", "REJECTED INCORRECT_CATEGORY"} <= set(rejected), decided
    assert recategorised >= 10 and decided["UTILITY→MARKETING"] == recategorised, decided
    # Most within minutes, a tail of hours, nothing beyond 24 h (SEED-TEMPLATE-2).
    ordered = sorted(latencies)
    assert ordered[len(ordered) // 2] < 15 * 60
    assert ordered[-1] > 3600
    assert max(latencies) <= 24 * 3600 and min(latencies) > 0
    assert _world(seed=11)[2] == outcomes
    assert _world(seed=12)[2] != outcomes
