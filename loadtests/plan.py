"""The load plan: what `run.py` prepared (tenants, numbers, recipients, rates) and the locust users read.

Plain Python on purpose: this module must stay importable without locust, so that the orchestrator and the tests
never pull gevent into their process. The plan travels as a JSON file named by `WA_LOAD_PLAN`.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

PLAN_ENV = "WA_LOAD_PLAN"
# Meta's pair rate limit allows about one message per 6 s to one recipient from one number (SEED-MSG-2); each
# user walks its own slice of the pool, so a recipient comes round every `pool / rate` seconds.
PAIR_GAP_SECONDS = 7.0
MIN_RECIPIENTS = 200
# What the business users send, by weight. Every type here gets sent → delivered → read.
DEFAULT_MIX: dict[str, int] = {"text": 50, "template": 25, "image": 10, "interactive": 10, "location": 5}


@dataclass(slots=True)
class NumberPlan:
    """One tenant and its business number (a `live` tenant has exactly one number)."""

    tenant: str
    access_token: str
    phone_number_id: str
    app_secret: str
    throughput_level: str = "STANDARD"


@dataclass(slots=True)
class LoadPlan:
    numbers: list[NumberPlan]
    graph_version: str = "v23.0"
    rate_per_number: float = 80.0
    users_per_number: int = 4
    recipients_per_number: int = MIN_RECIPIENTS
    inbound_rate_per_number: float = 0.0
    customer_users_per_number: int = 0
    processes: int = 1
    mix: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_MIX))
    run_dir: str = "."
    # locust workers on other hosts send their call rows to the master (loadtests/callship.py)
    ship_calls: bool = False

    @property
    def rate_per_user(self) -> float:
        return self.rate_per_number / self.users_per_number

    @property
    def inbound_rate_per_user(self) -> float:
        return self.inbound_rate_per_number / max(1, self.customer_users_per_number)

    def dump(self, path: Path) -> None:
        path.write_bytes(orjson.dumps(asdict(self), option=orjson.OPT_INDENT_2))

    @classmethod
    def load(cls, path: str | Path) -> LoadPlan:
        data: dict[str, Any] = orjson.loads(Path(path).read_bytes())
        data["numbers"] = [NumberPlan(**number) for number in data["numbers"]]
        return cls(**data)

    @classmethod
    def from_env(cls) -> LoadPlan:
        path = os.environ.get(PLAN_ENV)
        if not path:
            raise RuntimeError(
                f"{PLAN_ENV} is not set: start load runs with `wa-sandbox load` (it prepares tenants and writes the "
                "plan), or write a plan with loadtests.plan.LoadPlan and point the variable at it"
            )
        return cls.load(path)


def users_for(rate_per_number: float, per_user: float = 20.0) -> int:
    """Users per number so that each paces at most `per_user` requests/s (locust's pacing stays even there)."""
    return max(1, math.ceil(rate_per_number / per_user))


def recipients_for(rate_per_number: float) -> int:
    return max(MIN_RECIPIENTS, math.ceil(rate_per_number * PAIR_GAP_SECONDS))


def recipient(index: int) -> str:
    """The `index`-th simulated customer: +1 650 followed by seven digits (outside every magic number range)."""
    return f"1650{index:07d}"


def user_slice(rank: int, users_per_number: int, pool: int) -> range:
    """The recipients the `rank`-th user of a number cycles through: its own stride of the pool, disjoint from its
    siblings' (ranks beyond `users_per_number` share a stride, e.g. with more users than planned)."""
    stride = max(1, users_per_number)
    return range(rank % stride, pool, stride)


def message_body(kind: str, to: str, sent_at: float) -> dict[str, Any]:
    """A send of `kind` to `to`; `biz_opaque_callback_data` carries the send time to the webhook sink."""
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+" + to,
        "type": kind,
        "biz_opaque_callback_data": f"lt:{sent_at:.6f}",
    }
    if kind == "text":
        body["text"] = {"body": "Your order #4711 has shipped and arrives tomorrow.", "preview_url": False}
    elif kind == "template":
        body["template"] = {"name": "hello_world", "language": {"code": "en_US"}}
    elif kind == "image":
        body["image"] = {"link": "https://example.com/receipt.jpg", "caption": "Your receipt"}
    elif kind == "interactive":
        body["interactive"] = {
            "type": "button",
            "body": {"text": "Did your parcel arrive?"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                    {"type": "reply", "reply": {"id": "no", "title": "No"}},
                ]
            },
        }
    elif kind == "location":
        body["location"] = {"latitude": 52.52, "longitude": 13.405, "name": "Pick-up point", "address": "Berlin"}
    else:
        raise ValueError(f"unknown message kind {kind!r}")
    return body
