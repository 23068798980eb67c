"""Meta's limits through the services, on a frozen tenant clock (meta-messaging.md §5, SEED-MSG-2)."""

from __future__ import annotations

import json

import pytest

from sandbox.context import Tenant
from sandbox.control.limits import parse_set_throughput
from sandbox.control.parse import Fields
from sandbox.domain.commands import ReceiveMessage, SendMessage, SetThroughput
from sandbox.domain.errors import Invalid, NotFound
from sandbox.domain.phone_number import PhoneNumber
from sandbox.errors import GraphError, GraphErrorCode
from sandbox.services import limits
from sandbox.services.messaging import receive_message, send_message


def phone_of(tenant: Tenant) -> PhoneNumber:
    return next(iter(tenant.store.phone_numbers))


def text(tenant: Tenant, to: str) -> SendMessage:
    return SendMessage(phone_of(tenant).id, to, "text", {"body": "hi"})


def recipient(i: int) -> str:
    return f"+1650{i:07d}"


def try_send(tenant: Tenant, to: str) -> GraphErrorCode | None:
    try:
        send_message(tenant, text(tenant, to))
    except GraphError as error:
        return error.code
    return None


def raised(tenant: Tenant, to: str) -> GraphError:
    with pytest.raises(GraphError) as caught:
        send_message(tenant, text(tenant, to))
    return caught.value


def test_the_81st_message_in_one_second_gets_130429_as_meta_answers_it(tenant: Tenant) -> None:
    for i in range(80):
        send_message(tenant, text(tenant, recipient(i)))
    error = raised(tenant, recipient(80))
    assert error.code == GraphErrorCode.RATE_LIMIT_HIT
    assert error.http_status == 400
    assert error.envelope("Atrace")["error"] == {
        "message": "(#130429) Rate limit hit",
        "type": "OAuthException",
        "code": 130429,
        "error_data": {"messaging_product": "whatsapp", "details": "Cloud API message throughput has been reached."},
        "error_subcode": 2494055,
        "fbtrace_id": "Atrace",
    }


def test_steady_100_requests_per_second_for_10_seconds_on_80_mps_accepts_800(tenant: Tenant) -> None:
    accepted = 0
    for i in range(1000):
        accepted += try_send(tenant, recipient(i)) is None
        tenant.clock.advance(0.01)
    assert 792 <= accepted <= 808
    assert accepted == 800


@pytest.mark.parametrize(
    ("change", "mps"),
    [({"level": "HIGH"}, 1000), ({"level": "COEXISTENCE"}, 20), ({"is_on_biz_app": True}, 20), ({}, 80)],
)
def test_throughput_level_sets_messages_per_second(tenant: Tenant, change: dict[str, object], mps: int) -> None:
    document = limits.set_throughput(tenant, parse_set_throughput(phone_of(tenant).id, Fields(change)))
    assert document["messages_per_second"] == mps
    results = [try_send(tenant, recipient(i)) for i in range(mps + 1)]
    assert results[:mps] == [None] * mps
    assert results[mps] == GraphErrorCode.RATE_LIMIT_HIT


def test_policy_throughput_knob_overrides_a_level(tenant: Tenant) -> None:
    tenant.policy.patch({"throughput_mps": {"STANDARD": 3}})
    assert tenant.policy.limits.throughput_mps == {"STANDARD": 3, "HIGH": 1000, "COEXISTENCE": 20}
    assert [try_send(tenant, recipient(i)) for i in range(4)] == [None, None, None, GraphErrorCode.RATE_LIMIT_HIT]


@pytest.mark.parametrize("bad", [{"FAST": 5}, {"STANDARD": 0}, {"STANDARD": True}, [80]])
def test_policy_throughput_knob_rejects_bad_values(tenant: Tenant, bad: object) -> None:
    with pytest.raises(Invalid, match="throughput_mps"):
        tenant.policy.patch({"throughput_mps": bad})


def test_pair_rate_allows_a_burst_of_45_then_one_message_every_6_seconds(tenant: Tenant) -> None:
    same = "+16505550123"
    assert [try_send(tenant, same) for _ in range(45)] == [None] * 45
    error = raised(tenant, same)
    assert error.code == GraphErrorCode.PAIR_RATE_LIMIT_HIT
    message = error.envelope("A")["error"]["message"]
    assert message == "(#131056) (Business Account, Consumer Account) pair rate limit hit"
    assert error.http_status == 400
    assert try_send(tenant, recipient(7)) is None  # another user is not affected
    tenant.clock.advance(5.9)
    assert try_send(tenant, same) == GraphErrorCode.PAIR_RATE_LIMIT_HIT
    tenant.clock.advance(0.1)
    assert try_send(tenant, same) is None
    assert try_send(tenant, same) == GraphErrorCode.PAIR_RATE_LIMIT_HIT


def test_pair_rate_knobs(tenant: Tenant) -> None:
    tenant.policy.patch({"pair_rate_burst": 2, "pair_rate_refill_seconds": 60})
    same = "+16505550123"
    assert [try_send(tenant, same) for _ in range(3)] == [None, None, GraphErrorCode.PAIR_RATE_LIMIT_HIT]
    tenant.clock.advance(59)
    assert try_send(tenant, same) == GraphErrorCode.PAIR_RATE_LIMIT_HIT
    tenant.clock.advance(1)
    assert try_send(tenant, same) is None


def test_a_message_refused_for_throughput_uses_no_pair_token(tenant: Tenant) -> None:
    tenant.policy.patch({"throughput_mps": {"STANDARD": 1}, "pair_rate_burst": 1})
    same = "+16505550123"
    assert try_send(tenant, same) is None
    assert try_send(tenant, recipient(1)) == GraphErrorCode.RATE_LIMIT_HIT
    tenant.clock.advance(1)
    assert try_send(tenant, recipient(1)) is None


def test_messages_refused_by_validation_use_no_capacity(tenant: Tenant) -> None:
    tenant.policy.patch({"throughput_mps": {"STANDARD": 1}})
    own = phone_of(tenant).display_phone_number
    assert try_send(tenant, "+" + own) == GraphErrorCode.RECIPIENT_CANNOT_BE_SENDER
    assert try_send(tenant, recipient(1)) is None


def test_inbound_messages_use_throughput_capacity(tenant: Tenant) -> None:
    tenant.policy.patch({"throughput_mps": {"STANDARD": 2}})
    for i in range(2):
        receive_message(tenant, ReceiveMessage(wa_id=f"1650555{i:04d}", type="text", content={"body": "hello"}))
    assert try_send(tenant, recipient(1)) == GraphErrorCode.RATE_LIMIT_HIT
    tenant.policy.patch({"throughput_counts_inbound": False})
    tenant.clock.advance(1)
    receive_message(tenant, ReceiveMessage(wa_id="16505550009", type="text", content={"body": "hello"}))
    assert try_send(tenant, recipient(1)) is None


def test_a_throughput_upgrade_answers_131057_meanwhile_then_sends_the_webhook(tenant: Tenant) -> None:
    phone = phone_of(tenant)
    document = limits.set_throughput(tenant, SetThroughput(phone.id, level="HIGH", maintenance_seconds=60))
    assert document["throughput"] == {"level": "STANDARD"}
    assert document["maintenance_until"] is not None
    error = raised(tenant, recipient(1))
    assert error.code == GraphErrorCode.ACCOUNT_IN_MAINTENANCE
    assert error.http_status == 500
    queued = len(tenant.outbox.log(tenant.id))
    tenant.clock.advance(60)
    assert phone.throughput_level == "HIGH"
    assert try_send(tenant, recipient(1)) is None
    upgrades = [d for d in tenant.outbox.log(tenant.id)[queued:] if d.field == "phone_number_quality_update"]
    assert len(upgrades) == 1
    value = json.loads(upgrades[0].body)["entry"][0]["changes"][0]["value"]
    assert value["event"] == "THROUGHPUT_UPGRADE"
    assert value["display_phone_number"] == phone.display_phone_number


@pytest.mark.parametrize(
    "body",
    [{"level": "TURBO"}, {"is_on_biz_app": "yes"}, {"maintenance_seconds": -1}, {"speed": 1}],
)
def test_set_throughput_rejects_bad_bodies(tenant: Tenant, body: dict[str, object]) -> None:
    with pytest.raises(Invalid):
        parse_set_throughput(phone_of(tenant).id, Fields(body))


def test_set_throughput_on_an_unknown_number_is_not_found(tenant: Tenant) -> None:
    with pytest.raises(NotFound):
        limits.set_throughput(tenant, SetThroughput("123", level="HIGH"))


def test_management_calls_count_per_app_then_answer_4(tenant: Tenant) -> None:
    tenant.policy.patch({"app_calls_per_hour": 2})
    phone = phone_of(tenant)
    first = limits.management_call(tenant, "phone_number", phone.id, None)
    assert json.loads(first["X-App-Usage"]) == {"call_count": 50, "total_cputime": 0, "total_time": 0}
    limits.management_call(tenant, "phone_number", phone.id, None)
    with pytest.raises(GraphError) as caught:
        limits.management_call(tenant, "phone_number", phone.id, None)
    error = caught.value
    assert error.code == GraphErrorCode.TOO_MANY_CALLS
    assert error.envelope("A")["error"] == {
        "message": "(#4) Application request limit reached",
        "type": "OAuthException",
        "code": 4,
        "is_transient": True,
        "fbtrace_id": "A",
    }
    assert json.loads(error.headers["X-App-Usage"])["call_count"] == 100
    tenant.clock.advance(3600)
    limits.management_call(tenant, "phone_number", phone.id, None)


def test_waba_calls_count_per_waba_then_answer_80007_with_business_use_case_usage(tenant: Tenant) -> None:
    waba_id = tenant.waba_id
    assert tenant.policy.limits.active_waba_calls_per_hour == 5000
    tenant.policy.patch({"active_waba_calls_per_hour": 4})
    for _ in range(4):
        headers = limits.management_call(tenant, "waba", waba_id, "message_templates")
    usage = json.loads(headers["X-Business-Use-Case-Usage"])
    assert usage == {
        waba_id: [
            {
                "type": "whatsapp_business_management",
                "call_count": 100,
                "total_cputime": 0,
                "total_time": 0,
                "estimated_time_to_regain_access": 60,
            }
        ]
    }
    tenant.clock.advance(30 * 60)
    with pytest.raises(GraphError) as caught:
        limits.management_call(tenant, "waba", waba_id, None)
    assert caught.value.code == GraphErrorCode.WABA_RATE_LIMIT
    assert caught.value.envelope("A")["error"]["message"] == "(#80007) Rate limit issues"
    regain = json.loads(caught.value.headers["X-Business-Use-Case-Usage"])[waba_id][0]
    assert regain["estimated_time_to_regain_access"] == 30
    limits.management_call(tenant, "phone_number", phone_of(tenant).id, None)  # not a WABA call: app limit only


def test_a_waba_without_a_registered_number_has_the_lower_limit(tenant: Tenant) -> None:
    phone_of(tenant).status = "PENDING"
    tenant.policy.patch({"waba_calls_per_hour": 1})
    limits.management_call(tenant, "waba", tenant.waba_id, None)
    with pytest.raises(GraphError) as caught:
        limits.management_call(tenant, "waba", tenant.waba_id, None)
    assert caught.value.code == GraphErrorCode.WABA_RATE_LIMIT


@pytest.mark.parametrize(
    ("kind", "edge", "management"),
    [
        ("phone_number", "messages", False),
        ("phone_number", "media", False),
        ("media", None, False),
        ("phone_number", None, True),
        ("waba", "message_templates", True),
        ("template", None, True),
    ],
)
def test_only_management_calls_count(kind: str, edge: str | None, management: bool) -> None:
    assert limits.is_management_call(kind, edge) == management


def test_snapshot_shows_every_counter(tenant: Tenant) -> None:
    for _ in range(3):
        send_message(tenant, text(tenant, "+16505550123"))
    limits.management_call(tenant, "waba", tenant.waba_id, None)
    snapshot = limits.snapshot(tenant)
    assert snapshot["phone_numbers"][0]["used_last_second"] == 3
    assert snapshot["phone_numbers"][0]["messages_per_second"] == 80
    assert snapshot["pairs"][0]["tokens"] == 42
    assert snapshot["app"]["calls_last_hour"] == 1
    assert snapshot["wabas"][0]["calls_last_hour"] == 1
