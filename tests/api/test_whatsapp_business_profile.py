"""`GET|POST /{phone-number-id}/whatsapp_business_profile`: Meta's answer shape, `fields=`, every documented limit
refused with Meta's code and envelope, nothing half-applied, and a fuzzed property over arbitrary bodies."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.domain.business_profile import PROFILE_FIELDS, BusinessProfile, Vertical
from sandbox.domain.phone_number import PhoneNumber
from sandbox.testing import check_graph_error

HANDLE = "4:VGVzdC5wbmc=:aW1hZ2UvanBlZw==:ARat4Mt-L09JON3f30SmDkdy:e:1659995302:2022308451254161:636685196:ARZf1ft"


def path(phone_number_id: str) -> str:
    return f"/v23.0/{phone_number_id}/whatsapp_business_profile"


def read(client: TestClient, auth: dict[str, str], phone_number_id: str, fields: str | None = None) -> dict[str, Any]:
    params = {"fields": fields} if fields is not None else {}
    response = client.get(path(phone_number_id), headers=auth, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"data"} and len(body["data"]) == 1
    profile: dict[str, Any] = body["data"][0]
    return profile


def update(client: TestClient, auth: dict[str, str], phone_number_id: str, body: Any) -> Any:
    return client.post(path(phone_number_id), headers=auth, json=body)


def test_a_live_world_number_has_a_seeded_profile(client: TestClient, auth: dict[str, str], phone_number_id: str):
    profile = read(client, auth, phone_number_id)
    # Meta's order; no picture uploaded yet.
    assert list(profile) == [name for name in PROFILE_FIELDS if name != "profile_picture_url"]
    assert profile["messaging_product"] == "whatsapp"
    assert profile["vertical"] in Vertical.__members__
    assert "@" in profile["email"] and profile["websites"][0].startswith("https://")
    assert BusinessProfile(**{k: v for k, v in profile.items() if k != "messaging_product"} | {
        "websites": tuple(profile["websites"])}).within_bounds()  # fmt: skip


def test_the_seeded_profile_is_the_same_under_the_same_seed(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str
) -> None:
    first = read(client, auth, phone_number_id)
    reset = client.post(f"/_sandbox/tenants/{tenant.id}/reset")
    assert reset.status_code == 200, reset.text
    assert read(client, auth, phone_number_id) == first


def test_a_number_nobody_described_has_an_empty_profile(client: TestClient, tenant: Tenant, auth: dict[str, str]):
    phone = PhoneNumber("100000000000009", tenant.waba_id, "15550009999", "Branch", "1")
    tenant.store.phone_numbers.add(phone.id, phone)
    assert read(client, auth, phone.id) == {"messaging_product": "whatsapp", "vertical": "UNDEFINED"}


def test_update_then_read_back(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    body = {
        "messaging_product": "whatsapp",
        "about": "Open 9–5 🦋",
        "address": "101 Butterfly Ln., Butterfly, Ohio",
        "description": "We sell butterflies." * 25,
        "email": "butterflies@butterflies.com",
        "websites": ["https://www.butterflies.com/", "http://butterflies.example/amea/"],
        "vertical": "retail",
        "profile_picture_handle": HANDLE,
    }
    response = update(client, auth, phone_number_id, body)
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}
    profile = read(client, auth, phone_number_id)
    assert profile["about"] == "Open 9–5 🦋" and profile["vertical"] == "RETAIL"
    assert profile["description"] == body["description"]
    assert profile["websites"] == body["websites"]
    assert profile["profile_picture_url"].startswith("https://pps.whatsapp.net/")


def test_an_update_changes_only_the_fields_it_names(client: TestClient, auth: dict[str, str], phone_number_id: str):
    before = read(client, auth, phone_number_id)
    assert update(client, auth, phone_number_id, {"messaging_product": "whatsapp", "about": "New"}).status_code == 200
    assert read(client, auth, phone_number_id) == before | {"about": "New"}


def test_empty_strings_clear_fields(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    body = {"messaging_product": "whatsapp", "address": "", "email": "", "websites": "", "profile_picture_handle": ""}
    assert update(client, auth, phone_number_id, body).status_code == 200
    profile = read(client, auth, phone_number_id)
    assert not {"address", "email", "websites", "profile_picture_url"} & set(profile)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ("about", ["about", "messaging_product"]),
        ("vertical,email", ["email", "messaging_product", "vertical"]),
        ("messaging_product", ["messaging_product"]),
        ("about,address,description,email,profile_picture_url,websites,vertical",
         ["about", "address", "description", "email", "messaging_product", "websites", "vertical"]),
    ],
)  # fmt: skip
def test_fields_projection(
    client: TestClient, auth: dict[str, str], phone_number_id: str, fields: str, expected: list[str]
) -> None:
    assert list(read(client, auth, phone_number_id, fields)) == expected


def test_an_unknown_field_is_refused(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    response = client.get(path(phone_number_id), headers=auth, params={"fields": "about,colour"})
    error = check_graph_error(response, 100, 400)
    node = "WhatsAppBusinessProfile"
    assert error["message"] == f"(#100) Tried accessing nonexisting field (colour) on node type ({node})"


TOO_MANY = ["https://a.example", "https://b.example", "https://c.example"]


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({"about": "x" * 140}, "Param about must be at most 139 characters long."),
        ({"about": ""}, "Param about must be between 1 and 139 characters long."),
        ({"address": "x" * 257}, "Param address must be at most 256 characters long."),
        ({"description": "x" * 513}, "Param description must be at most 512 characters long."),
        ({"email": "a" * 120 + "@example.com"}, "Param email must be at most 128 characters long."),
        ({"email": "not an email"}, "Param email must be a valid email address."),
        ({"email": "x@localhost"}, "Param email must be a valid email address."),
        ({"websites": TOO_MANY}, "Param websites can have at most 2 websites."),
        ({"websites": ["www.example.com"]}, "Param websites[0] must be a URL that starts with http:// or https://."),
        ({"websites": ["ftp://example.com"]}, "Param websites[0] must be a URL that starts with http:// or https://."),
        ({"websites": ["https://e.com/" + "x" * 250]}, "Param websites[0] must be at most 256 characters long."),
        ({"vertical": ""}, "Param vertical cannot be set back to an empty value."),
        ({"profile_picture_handle": "not-a-handle"}, "The profile picture handle is invalid or expired."),
    ],
)
def test_limits_are_refused_with_100_and_nothing_changes(
    client: TestClient, auth: dict[str, str], phone_number_id: str, body: dict[str, Any], details: str
) -> None:
    before = read(client, auth, phone_number_id)
    # A valid field next to the bad one is not applied either.
    response = update(client, auth, phone_number_id, {"messaging_product": "whatsapp", "address": "Kept out", **body})
    error = check_graph_error(response, 100, 400)
    assert error["message"] == "(#100) Invalid parameter"
    assert error["error_data"]["details"] == details
    assert read(client, auth, phone_number_id) == before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "(#100) The parameter messaging_product is required."),
        ({"messaging_product": "sms"}, '(#100) Param messaging_product must be one of {WHATSAPP} - got "sms".'),
        ({"messaging_product": "whatsapp", "about": 5}, "(#100) Param about must be a string."),
        ({"messaging_product": "whatsapp", "websites": "https://a.example"}, "(#100) Param websites must be an array."),
        ({"messaging_product": "whatsapp", "websites": [1]}, "(#100) Param websites[0] must be a string."),
        ({"messaging_product": "whatsapp", "vertical": "SPACESHIPS"}, None),
    ],
)
def test_graph_parameter_checks(
    client: TestClient, auth: dict[str, str], phone_number_id: str, body: dict[str, Any], message: str | None
) -> None:
    error = check_graph_error(update(client, auth, phone_number_id, body), 100, 400)
    assert "error_data" not in error
    if message is not None:
        assert error["message"] == message
    else:
        assert error["message"].startswith("(#100) Param vertical must be one of {OTHER, AUTO,")


def test_a_body_that_is_not_an_object_needs_messaging_product(
    client: TestClient, auth: dict[str, str], phone_number_id: str
) -> None:
    error = check_graph_error(update(client, auth, phone_number_id, ["about"]), 100, 400)
    assert error["message"] == "(#100) The parameter messaging_product is required."


def test_the_profile_of_an_unknown_number_is_graphs_unknown_object(client: TestClient, auth: dict[str, str]):
    check_graph_error(client.get(path("999999999999999"), headers=auth), 100, 400, subcode=33)


def test_a_form_encoded_update_is_read_like_json(client: TestClient, auth: dict[str, str], phone_number_id: str):
    form = {"messaging_product": "whatsapp", "about": "From a form", "websites": '["https://form.example"]'}
    assert client.post(path(phone_number_id), headers=auth, data=form).status_code == 200
    profile = read(client, auth, phone_number_id)
    assert profile["about"] == "From a form" and profile["websites"] == ["https://form.example"]


_text = st.one_of(st.none(), st.text(max_size=600), st.integers(), st.booleans())
_sites = st.sampled_from(["https://a.example", "http://b.example/x"])
_bodies = st.fixed_dictionaries(
    {},
    optional={
        "messaging_product": st.sampled_from(["whatsapp", "WhatsApp", "sms", None, 3]),
        "about": _text,
        "address": _text,
        "description": _text,
        "email": st.one_of(_text, st.emails().map(str)),
        "websites": st.one_of(_text, st.lists(st.one_of(st.text(max_size=300), _sites), max_size=4)),
        "vertical": st.one_of(_text, st.sampled_from([v.value for v in Vertical] + ["UNDEFINED", "retail"])),
        "profile_picture_handle": st.one_of(_text, st.just(HANDLE)),
    },
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(body=st.one_of(_bodies, st.lists(st.integers(), max_size=2), st.text(max_size=5)))
def test_fuzzed_bodies_never_break_the_bounds(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str, body: Any
) -> None:
    before = tenant.store.business_profiles.get(phone_number_id)
    response = update(client, auth, phone_number_id, body)
    assert response.status_code in (200, 400), response.text
    after = tenant.store.business_profiles.get(phone_number_id)
    if response.status_code == 200:
        assert response.json() == {"success": True}
    else:
        check_graph_error(response, 100, 400)
        assert after == before
    assert after is None or after.within_bounds()
    read(client, auth, phone_number_id)
