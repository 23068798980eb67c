"""The sandbox's own regexes on what a caller sends run in linear time (issue 15, item 2): the two that
backtracked quadratically (`to` and an http(s) link: 2.4 s at 20,000 characters, hours at the 4 MB a body may
hold) now have forms that cannot, and accept exactly what the old forms accepted."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from sandbox.api.message_bodies import _PHONE_NUMBER
from sandbox.api.parsing import _URL
from tests.control.test_faults import CUSTOMER, graph_error

# The earlier forms, safe as references on short strings only.
OLD_PHONE_NUMBER = re.compile(r"\+?[0-9()\- ]*[0-9][0-9()\- ]*")
OLD_URL = re.compile(r"https?://[^\s/?#]+[^\s]*", re.IGNORECASE)
LONG = 1_000_000


@given(st.text(st.sampled_from(list("+0123()- x")), max_size=12))
def test_the_phone_number_form_accepts_what_it_accepted(text: str) -> None:
    assert bool(_PHONE_NUMBER.fullmatch(text)) == bool(OLD_PHONE_NUMBER.fullmatch(text))


@given(st.text(st.sampled_from(list("hHtTpPsS:/?#a. \t")), max_size=14))
def test_the_url_form_accepts_what_it_accepted(text: str) -> None:
    for candidate in (text, "http://" + text, "HTTPS://" + text):
        assert bool(_URL.fullmatch(candidate)) == bool(OLD_URL.fullmatch(candidate))


def send(client: TestClient, phone: str, auth: dict[str, str], body: dict[str, Any]) -> Any:
    return client.post(f"/v23.0/{phone}/messages", json={"messaging_product": "whatsapp", **body}, headers=auth)


def test_a_megabyte_to_is_refused_without_backtracking(
    client: TestClient, auth: dict[str, str], phone_number_id: str
) -> None:
    body = {"to": "1" * LONG + "x", "type": "text", "text": {"body": "hi"}}
    graph_error(send(client, phone_number_id, auth, body), 100, 400)


def test_a_megabyte_link_is_refused_without_backtracking(
    client: TestClient, auth: dict[str, str], phone_number_id: str
) -> None:
    body = {"to": CUSTOMER, "type": "image", "image": {"link": "https://" + "a" * LONG + " "}}
    graph_error(send(client, phone_number_id, auth, body), 131009, 400)
