"""`GET|POST /{phone-number-id}/settings`: Meta's defaults, each feature set and read back, one feature per request,
every refusal with Meta's code and envelope and no change, and a fuzzed property over arbitrary bodies."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.testing import check_graph_error

KEY = base64.b64encode(b"-----BEGIN PUBLIC KEY-----\nMIIBIjAN\n-----END PUBLIC KEY-----").decode()
CALL_HOURS = {
    "status": "ENABLED",
    "timezone_id": "America/Los_Angeles",
    "weekly_operating_hours": [
        {"day_of_week": "MONDAY", "open_time": "0900", "close_time": "1200"},
        {"day_of_week": "MONDAY", "open_time": "1300", "close_time": "1700"},
        {"day_of_week": "FRIDAY", "open_time": "0900", "close_time": "1700"},
    ],
    "holiday_schedule": [{"date": "2026-12-25", "start_time": "0000", "end_time": "2359"}],
}


def path(phone_number_id: str) -> str:
    return f"/v23.0/{phone_number_id}/settings"


def read(client: TestClient, auth: dict[str, str], phone_number_id: str, **params: str) -> dict[str, Any]:
    response = client.get(path(phone_number_id), headers=auth, params=params)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def refused(response: Any) -> dict[str, Any]:
    """Meta's envelope: 131008 for a required parameter left out, 100 for any other bad value."""
    code = response.json().get("error", {}).get("code")
    assert code in (100, 131008), response.text
    return check_graph_error(response, code, 400)


def update(client: TestClient, auth: dict[str, str], phone_number_id: str, body: Any) -> Any:
    return client.post(path(phone_number_id), headers=auth, json=body)


def test_defaults(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    assert read(client, auth, phone_number_id) == {
        "calling": {
            "status": "DISABLED",
            "call_icon_visibility": "DEFAULT",
            "callback_permission_status": "DISABLED",
            "srtp_key_exchange_protocol": "DTLS",
            "video": {"status": "DISABLED"},
            "sip": {"status": "DISABLED", "servers": []},
        },
        "payload_encryption": {"status": "DISABLED"},
        "storage_configuration": {"status": "DEFAULT"},
        "user_identity_change": {"enable_identity_key_check": False},
    }


def test_fields_projection(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    fields = "calling,storage_configuration,user_identity_change"  # what pywa asks for
    assert list(read(client, auth, phone_number_id, fields=fields)) == fields.split(",")
    response = client.get(path(phone_number_id), headers=auth, params={"fields": "calling,volume"})
    check_graph_error(response, 100, 400)


def test_calling_is_merged_into_what_is_set(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    icons = {"restrict_to_user_countries": ["US", "BR"]}
    body = {"calling": {"status": "enabled", "call_icon_visibility": "visible", "video": {"status": "ENABLED"},
                        "call_hours": CALL_HOURS, "call_icons": icons}}  # fmt: skip
    response = update(client, auth, phone_number_id, body)
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}
    update(client, auth, phone_number_id, {"calling": {"callback_permission_status": "ENABLED"}})
    calling = read(client, auth, phone_number_id)["calling"]
    assert calling["status"] == "ENABLED" and calling["call_icon_visibility"] == "DEFAULT"
    assert calling["callback_permission_status"] == "ENABLED" and calling["video"] == {"status": "ENABLED"}
    assert calling["call_hours"] == CALL_HOURS
    assert calling["call_icons"] == {"restrict_to_user_countries": ["US", "BR"]}


def test_sip_servers(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    sip = {"status": "ENABLED", "servers": [{"hostname": "sip.example.com", "port": 5061,
                                             "request_uri_user_params": {"tgrp": "wacall"}}]}  # fmt: skip
    body = {"calling": {"status": "ENABLED", "sip": sip, "srtp_key_exchange_protocol": "SDES-SRTP"}}
    assert update(client, auth, phone_number_id, body).status_code == 200
    calling = read(client, auth, phone_number_id)["calling"]
    assert calling["sip"] == sip and calling["srtp_key_exchange_protocol"] == "SDES"


def test_payload_encryption(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    body = {"payload_encryption": {"status": "enabled", "client_encryption_key": KEY}}
    assert update(client, auth, phone_number_id, body).status_code == 200
    encryption = read(client, auth, phone_number_id)["payload_encryption"]
    assert encryption["status"] == "ENABLED"
    assert encryption["client_encryption_key_fingerprint"].startswith("SHA256:")
    assert KEY not in str(encryption)
    assert update(client, auth, phone_number_id, {"payload_encryption": {"status": "DISABLED"}}).status_code == 200
    assert read(client, auth, phone_number_id)["payload_encryption"] == {"status": "DISABLED"}


@pytest.mark.parametrize(
    ("storage", "expected"),
    [
        ({"status": "IN_COUNTRY_STORAGE_ENABLED", "data_localization_region": "in"},
         {"status": "IN_COUNTRY_STORAGE_ENABLED", "data_localization_region": "IN"}),
        ({"enabled": True, "region": "DE"}, {"status": "IN_COUNTRY_STORAGE_ENABLED", "data_localization_region": "DE"}),
        ({"enabled": False}, {"status": "DEFAULT"}),
        ({"status": "NO_STORAGE_ENABLED", "retention_minutes": 60}, {"status": "NO_STORAGE_ENABLED",
                                                                     "retention_minutes": 60}),
        ({"status": "default"}, {"status": "DEFAULT"}),
    ],
)  # fmt: skip
def test_storage_configuration(
    client: TestClient, auth: dict[str, str], phone_number_id: str, storage: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert update(client, auth, phone_number_id, {"storage_configuration": storage}).status_code == 200
    assert read(client, auth, phone_number_id)["storage_configuration"] == expected


@pytest.mark.parametrize("key", ["enable_identity_key_check", "enabled"])
def test_user_identity_change(client: TestClient, auth: dict[str, str], phone_number_id: str, key: str) -> None:
    assert update(client, auth, phone_number_id, {"user_identity_change": {key: True}}).status_code == 200
    assert read(client, auth, phone_number_id)["user_identity_change"] == {"enable_identity_key_check": True}


def _hours(*entries: tuple[str, str, str]) -> dict[str, Any]:
    return {"status": "ENABLED", "timezone_id": "UTC", "weekly_operating_hours": [
        {"day_of_week": day, "open_time": opens, "close_time": closes} for day, opens, closes in entries]}  # fmt: skip


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"calling": None},
        {"calling": {"status": "ENABLED"}, "user_identity_change": {"enabled": True}},
        {"calling": {}},
        {"calling": "on"},
        {"calling": {"status": "MAYBE"}},
        {"calling": {"call_icon_visibility": "SOMETIMES"}},
        {"calling": {"video": {}}},
        {"calling": {"sip": {"status": "ENABLED", "servers": [{"hostname": "a", "port": 0}]}}},
        {"calling": {"sip": {"status": "ENABLED", "servers": [{"hostname": "a", "port": 5060}] * 4}}},
        {"calling": {"sip": {"status": "ENABLED", "servers": [{"hostname": "", "port": 5060}]}}},
        {"calling": {"call_icons": {"restrict_to_user_countries": ["usa"]}}},
        {"calling": {"call_hours": {"status": "ENABLED"}}},
        {"calling": {"call_hours": _hours(("MONDAY", "1700", "0900"))}},
        {"calling": {"call_hours": _hours(("MONDAY", "0900", "1200"), ("MONDAY", "1100", "1300"))}},
        {"calling": {"call_hours": _hours(*[("MONDAY", f"0{h}00", f"0{h}30") for h in range(3)])}},
        {"calling": {"call_hours": _hours(("FUNDAY", "0900", "1000"))}},
        {"calling": {"call_hours": _hours(("MONDAY", "2400", "2500"))}},
        {"calling": {"call_hours": _hours(("MONDAY", "0900", "1000")) | {"holiday_schedule": [{"date": "25/12"}]}}},
        {"payload_encryption": {"status": "ENABLED"}},
        {"payload_encryption": {"status": "ENABLED", "client_encryption_key": "not base64!"}},
        {"storage_configuration": {"status": "IN_COUNTRY_STORAGE_ENABLED"}},
        {"storage_configuration": {"status": "IN_COUNTRY_STORAGE_ENABLED", "data_localization_region": "MARS"}},
        {"storage_configuration": {"status": "NO_STORAGE_ENABLED", "retention_minutes": 5}},
        {"storage_configuration": {"enabled": "yes"}},
        {"user_identity_change": {}},
        {"user_identity_change": {"enabled": "true"}},
    ],
)
def test_refusals_are_graph_errors_and_change_nothing(
    client: TestClient, auth: dict[str, str], phone_number_id: str, body: dict[str, Any]
) -> None:
    before = read(client, auth, phone_number_id)
    refused(update(client, auth, phone_number_id, body))
    assert read(client, auth, phone_number_id) == before


def test_one_feature_per_request(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    body = {"calling": {"status": "ENABLED"}, "storage_configuration": {"status": "DEFAULT"}}
    error = check_graph_error(update(client, auth, phone_number_id, body), 100, 400)
    assert error["error_data"]["details"] == "Only one feature setting can be specified per request."


_WORDS = ["ENABLED", "disabled", "DEFAULT", "DTLS", "MONDAY", "0900", "1700", "IN", "US"]
_KEYS = ["status", "enabled", "video", "sip", "servers", "hostname", "port", "call_hours", "timezone_id", "region",
         "weekly_operating_hours", "day_of_week", "open_time", "close_time", "data_localization_region",
         "client_encryption_key", "enable_identity_key_check"]  # fmt: skip
_leaf = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.text(max_size=12), st.sampled_from(_WORDS))
_json = st.recursive(
    _leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(_KEYS), inner, max_size=5)),
    max_leaves=20,
)
_bodies = st.dictionaries(
    st.sampled_from(["calling", "payload_encryption", "storage_configuration", "user_identity_change", "other"]),
    _json,
    max_size=2,
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(body=st.one_of(_bodies, _json))
def test_fuzzed_bodies_are_a_success_or_a_graph_error(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str, body: Any
) -> None:
    before = read(client, auth, phone_number_id)
    response = update(client, auth, phone_number_id, body)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        refused(response)
        assert read(client, auth, phone_number_id) == before
    else:
        after = read(client, auth, phone_number_id)
        assert len(after["calling"].get("sip", {}).get("servers", [])) <= 3
