"""The template review's decision: each rule fires on its content and not on honest content; seeded, bounded."""

from __future__ import annotations

import importlib.util
import random
from dataclasses import replace
from pathlib import Path
from typing import Any, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.domain.policy import TemplateReview
from sandbox.domain.template_review import RejectionReason, Submission, Verdict, decide

KNOBS = TemplateReview(chance_rejection_probability=0.0)
OTP = {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]}
HONEST = "Hi {{1}}, your order {{2}} has shipped and should arrive by {{3}}."


def _submission(
    body: str | None = HONEST, category: str = "UTILITY", language: str = "en_US", *extra: dict[str, Any]
) -> Submission:
    components = ({"type": "BODY", "text": body},) if body is not None else ({"type": "BODY"},)
    return Submission("t", language, category, True, "POSITIONAL", components + extra)


def _verdict(submission: Submission, knobs: TemplateReview = KNOBS) -> Verdict:
    return decide(submission, random.Random(1), knobs)


def test_honest_utility_is_approved_as_submitted() -> None:
    verdict = _verdict(_submission())
    assert (verdict.status, verdict.reason, verdict.category, verdict.rule) == (
        "APPROVED",
        "NONE",
        "UTILITY",
        "approved",
    )


@pytest.mark.parametrize(
    ("submission", "rule", "reason"),
    [
        (
            _submission(HONEST, "MARKETING", "en_US", {"type": "HEADER", "format": "TEXT", "text": "{{1}}!"}),
            "format.variable_only_header",
            "INVALID_FORMAT",
        ),
        (_submission("Your order {{1}} {{2}} is ready for pickup."), "format.floating_variable", "INVALID_FORMAT"),
        (_submission("Hello, your items:\n{{1}}\nThanks for shopping."), "format.floating_variable", "INVALID_FORMAT"),
        (_submission("Hi {{1}}, {{2}}, {{3}}."), "format.too_little_text", "INVALID_FORMAT"),
        (_submission("Track order {{1}} at https://bit.ly/x1 today."), "format.url_shortener", "INVALID_FORMAT"),
        (_submission("Get guaranteed returns on {{1}} invested today, {{2}}."), "policy.scam", "SCAM"),
        (_submission("Pay with gift cards for order {{1}} now please."), "policy.scam", "SCAM"),
        (_submission("Pay invoice {{1}} by Friday or else you will regret it."), "policy.abusive", "ABUSIVE_CONTENT"),
        (
            _submission("{{1}} is your verification code. Shop now for 20% off!", "AUTHENTICATION", "en_US", OTP),
            "authentication.promotional",
            "INCORRECT_CATEGORY",
        ),
        (
            _submission("{{1}} is your code, welcome to our shop.", "AUTHENTICATION", "en_US", OTP),
            "authentication.fixed_text",
            "INVALID_FORMAT",
        ),
        (
            _submission("{{1}} is your verification code.", "AUTHENTICATION"),
            "authentication.fixed_text",
            "INVALID_FORMAT",
        ),
        (
            _submission("Your verification code is {{1}}. Do not share it with anyone."),
            "category.otp_outside_authentication",
            "INCORRECT_CATEGORY",
        ),
        (
            _submission("Hola {{1}}, tu pedido {{2}} está en camino. Gracias por tu compra, llegará pronto."),
            "language.tag_content_mismatch",
            "TAG_CONTENT_MISMATCH",
        ),
        (_submission(HONEST, "UTILITY", "ja"), "language.tag_content_mismatch", "TAG_CONTENT_MISMATCH"),
    ],
)
def test_each_rule_rejects_with_metas_reason(submission: Submission, rule: str, reason: str) -> None:
    verdict = _verdict(submission)
    assert (verdict.status, verdict.reason, verdict.rule) == ("REJECTED", reason, rule)
    assert verdict.category == submission.category


@pytest.mark.parametrize(
    "submission",
    [
        _submission("Your order {{1}}, {{2}} is ready for pickup at the front desk."),
        _submission("Track order {{1}} at https://shop.example.com/track today."),
        _submission("{{1}} is your verification code.", "AUTHENTICATION", "en_US", OTP),
        _submission(None, "AUTHENTICATION", "pt_BR", {"type": "FOOTER", "code_expiration_minutes": 10}, OTP),
        _submission("ご注文 {{1}} を発送しました。到着まで今しばらくお待ちください。", "UTILITY", "ja"),
        _submission(
            "Hola {{1}}, tu pedido {{2}} está en camino. Gracias por tu compra, llegará pronto.", "UTILITY", "es"
        ),
        _submission("Your skill level is a killer feature of {{1}}, thanks for your order {{2}} today."),
    ],
)
def test_honest_content_passes_every_rule(submission: Submission) -> None:
    assert _verdict(submission).rule == "approved"


def test_promotional_utility_is_approved_as_marketing_whatever_allow_category_change_says() -> None:
    for allow in (True, False):
        submission = replace(
            _submission("Thanks {{1}}! Use coupon {{2}} for 10% off your next order."), allow_category_change=allow
        )
        verdict = _verdict(submission)
        assert (verdict.status, verdict.category, verdict.rule) == (
            "APPROVED",
            "MARKETING",
            "category.promotional_utility",
        )


def test_recategorisation_knob_brings_back_the_older_behaviours() -> None:
    body = "Your order {{1}} shipped. Buy now and get free shipping on {{2}}."
    allowed, refused = (
        replace(_submission(body), allow_category_change=True),
        replace(_submission(body), allow_category_change=False),
    )
    when_allowed = replace(KNOBS, recategorisation="when_allowed")
    assert _verdict(allowed, when_allowed).category == "MARKETING"
    assert (_verdict(refused, when_allowed).status, _verdict(refused, when_allowed).reason) == (
        "REJECTED",
        "INCORRECT_CATEGORY",
    )
    assert _verdict(allowed, replace(KNOBS, recategorisation="never")).reason == "INCORRECT_CATEGORY"


def test_emoji_heavy_utility_counts_as_promotional() -> None:
    assert _verdict(_submission("Your order {{1}} has shipped 🎉🎉🎉🎉 see you soon.")).category == "MARKETING"
    assert _verdict(_submission("Your order {{1}} has shipped 🎉 see you soon.")).category == "UTILITY"


def test_chance_rejection_uses_the_knobs_reason() -> None:
    knobs = replace(KNOBS, chance_rejection_probability=1.0, chance_rejection_reason="PROMOTIONAL")
    verdict = _verdict(_submission(), knobs)
    assert (verdict.status, verdict.reason, verdict.rule) == ("REJECTED", "PROMOTIONAL", "chance.policy")


def test_every_decision_draws_exactly_two_numbers() -> None:
    for submission in (_submission(), _submission("Get guaranteed returns on {{1}} now, {{2}}."), _submission("{{1}}")):
        rng, twin = random.Random(5), random.Random(5)
        decide(submission, rng, KNOBS)
        twin.random(), twin.random()
        assert rng.random() == twin.random()


def _spread_module() -> Any:
    path = Path(__file__).resolve().parents[2] / "scripts" / "template_review_spread.py"
    spec = importlib.util.spec_from_file_location("template_review_spread", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_200_set_is_the_same_under_the_same_seed_and_looks_real() -> None:
    spread = _spread_module()
    first, second = spread.verdicts(7), spread.verdicts(7)
    assert first == second and len(first) == 200
    assert spread.verdicts(8) != first
    approved = sum(v.status == "APPROVED" for v in first)
    assert 120 <= approved <= 180
    assert {v.reason for v in first if v.status == "REJECTED"} >= {"INVALID_FORMAT", "SCAM", "INCORRECT_CATEGORY"}
    assert any(v.category == "MARKETING" and v.rule == "category.promotional_utility" for v in first)


def test_latency_is_clipped_to_the_bounds() -> None:
    knobs = replace(KNOBS, latency_bounds=[60.0, 600.0], latency_sigma=5.0)
    rng = random.Random(3)
    seconds = [decide(_submission(), rng, knobs).latency_seconds for _ in range(500)]
    assert min(seconds) == 60.0 and max(seconds) == 600.0
    median = sorted(decide(_submission(), random.Random(n), TemplateReview()).latency_seconds for n in range(401))[200]
    assert 60 <= median <= 240


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
COMPONENT = st.fixed_dictionaries(
    {"type": st.sampled_from(["HEADER", "BODY", "FOOTER", "BUTTONS", "body", "x"])},
    optional={
        "text": st.text(alphabet=st.characters(), max_size=200)
        | st.sampled_from(["{{1}}", "{{1}}{{2}}", "{{", "}}{{"]),
        "format": st.sampled_from(["TEXT", "IMAGE", "VIDEO"]) | JSON,
        "buttons": st.lists(st.dictionaries(st.sampled_from(["type", "text", "url", "otp_type"]), JSON), max_size=4)
        | JSON,
        "code_expiration_minutes": JSON,
    },
)


@settings(max_examples=300, deadline=None)
@given(
    components=st.lists(COMPONENT | st.dictionaries(st.text(max_size=6), JSON, max_size=3), max_size=6),
    category=st.sampled_from(["UTILITY", "MARKETING", "AUTHENTICATION", "utility", ""]),
    language=st.sampled_from(["en_US", "es", "ja", "pt_BR", "zz", ""]),
    seed=st.integers(0, 2**32),
)
def test_any_components_give_a_verdict_with_a_meta_reason(
    components: list[dict[str, Any]], category: str, language: str, seed: int
) -> None:
    knobs = TemplateReview()
    verdict = decide(
        Submission("t", language, category, False, "POSITIONAL", tuple(components)), random.Random(seed), knobs
    )
    assert verdict.status in {"APPROVED", "REJECTED"}
    assert verdict.reason in get_args(RejectionReason)
    assert (verdict.reason == "NONE") or verdict.status == "REJECTED"
    assert knobs.latency_bounds[0] <= verdict.latency_seconds <= knobs.latency_bounds[1]
