"""The spread of the template review: 200 varied submissions (faker, seeded) through `template_review.decide`.

    .venv/bin/python scripts/template_review_spread.py [--seed N] [--count N]

Prints counts by status, reason, deciding rule and re-categorisation, and latency percentiles. Its output for the
default seed is in docs/fidelity-choices.md ("Template review").
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

from faker import Faker

from sandbox.domain.policy import TemplateReview
from sandbox.domain.template_review import Submission, Verdict, decide

Build = Callable[[Faker], tuple[str, str, list[dict[str, Any]]]]


def _body(text: str, *examples: str) -> dict[str, Any]:
    return {"type": "BODY", "text": text, "example": {"body_text": [list(examples)]}}


def _buttons(*buttons: dict[str, Any]) -> dict[str, Any]:
    return {"type": "BUTTONS", "buttons": list(buttons)}


def utility(fake: Faker) -> tuple[str, str, list[dict[str, Any]]]:
    text = fake.random_element(
        [
            "Hi {{1}}, your order {{2}} has shipped and should arrive by {{3}}.",
            "Hello {{1}}, this is a reminder of your appointment with {{2}} on {{3}}.",
            "We received your payment of {{1}} for invoice {{2}}. Thank you, {{3}}.",
            "Your booking {{1}} is confirmed for {{2}}. Reply to this message to change it.",
            "Hi {{1}}, your delivery is delayed. The new estimated date is {{2}}.",
            "Your support ticket {{1}} was updated by our team. Open the app to read the answer.",
        ]
    )
    samples = [fake.first_name(), fake.bothify("#####"), fake.date()][: text.count("{{")]
    components = [{"type": "HEADER", "format": "TEXT", "text": fake.company()[:60]}, _body(text, *samples)]
    if fake.boolean():
        components.append({"type": "FOOTER", "text": fake.company()[:60]})
    return "UTILITY", "en_US", components


def marketing(fake: Faker) -> tuple[str, str, list[dict[str, Any]]]:
    text = fake.random_element(
        [
            "Hi {{1}}, our summer sale is on! Use code {{2}} for 20% off everything in store.",
            "New arrivals are here, {{1}}. Shop now and enjoy free shipping on orders over {{2}}.",
            "Hey {{1}}, don't miss our Black Friday deals, up to 50% off until {{2}}!",
            "Hello {{1}}, as a valued customer you get an exclusive voucher worth {{2}} this week 🎉",
        ]
    )
    url = {"type": "URL", "text": "Shop", "url": f"https://{fake.domain_name()}/shop"}
    return "MARKETING", fake.random_element(["en_US", "en", "en_GB"]), [_body(text, "Ann", "X1"), _buttons(url)]


def authentication(fake: Faker) -> tuple[str, str, list[dict[str, Any]]]:
    body: dict[str, Any] = {"type": "BODY", "add_security_recommendation": fake.boolean()}
    if fake.boolean():
        body["text"] = "{{1}} is your verification code."
    otp: dict[str, Any] = {"type": "OTP", "otp_type": fake.random_element(["COPY_CODE", "ONE_TAP", "ZERO_TAP"])}
    if otp["otp_type"] != "COPY_CODE":
        otp["supported_apps"] = [{"package_name": "com.example.app", "signature_hash": fake.lexify("?" * 11)}]
    components = [body, {"type": "FOOTER", "code_expiration_minutes": fake.random_int(1, 90)}, _buttons(otp)]
    if fake.random_int(1, 10) == 1:  # a stray link: not allowed in AUTHENTICATION
        components[2]["buttons"].append({"type": "URL", "text": "Help", "url": f"https://{fake.domain_name()}"})
    return "AUTHENTICATION", "en_US", components


def promotional_utility(fake: Faker) -> tuple[str, str, list[dict[str, Any]]]:
    text = fake.random_element(
        [
            "Hi {{1}}, your order {{2}} has shipped. Buy now and get 10% off your next purchase!",
            "Thanks for your payment, {{1}}. Here is a coupon {{2}} for your next visit.",
            "Your subscription {{1}} renews on {{2}}. Upgrade now for a special offer on premium.",
            "Hello {{1}}, your cart is waiting. Limited time: free shipping until {{2}}.",
        ]
    )
    return "UTILITY", "en_US", [_body(text, "Ann", "X1")]


def scam_ish(fake: Faker) -> tuple[str, str, list[dict[str, Any]]]:
    text = fake.random_element(
        [
            "Congratulations {{1}}, you have won a prize! Claim your prize by sending {{2}} in gift cards.",
            "Invest {{1}} today for guaranteed returns of 40% a month. Reply to start, {{2}}.",
            "Dear {{1}}, please confirm the CVV of your card ending {{2}} to keep your account.",
            "{{1}}, pay the balance of {{2}} by tomorrow or else we know where you live.",
            "Urgent {{1}}: complete the wire transfer of {{2}} to release your inheritance.",
        ]
    )
    return fake.random_element(["UTILITY", "MARKETING"]), "en_US", [_body(text, "Ann", "100")]


def malformed(fake: Faker) -> tuple[str, str, list[dict[str, Any]]]:
    case = fake.random_int(0, 3)
    if case == 0:
        return "UTILITY", "en_US", [_body("Order update: {{1}} {{2}} for you.", "a", "b")]
    if case == 1:
        header = {"type": "HEADER", "format": "TEXT", "text": "{{1}}", "example": {"header_text": ["Hi"]}}
        return "MARKETING", "en_US", [header, _body("Hello, your points balance is {{1}} today.", "10")]
    if case == 2:
        return "UTILITY", "en_US", [_body("Track {{1}} at https://bit.ly/track{{2}} now.", "a", "b")]
    return "MARKETING", "en", [_body("Hi {{1}}, {{2}}\n{{3}}\nThanks.", "a", "b", "c")]


def otp_in_utility(fake: Faker) -> tuple[str, str, list[dict[str, Any]]]:
    return "UTILITY", "en_US", [_body("Your verification code is {{1}}. It expires in 10 minutes.", "123456")]


def wrong_language(fake: Faker) -> tuple[str, str, list[dict[str, Any]]]:
    text = fake.random_element(
        [
            "Hola {{1}}, tu pedido {{2}} está en camino. Gracias por tu compra, llegará pronto.",
            "Olá {{1}}, o seu pedido {{2}} foi enviado. Obrigado, você receberá em breve.",
        ]
    )
    return "UTILITY", "en_US", [_body(text, "Ana", "X1")]


MIX: tuple[tuple[Build, int], ...] = (
    (utility, 64),
    (marketing, 40),
    (authentication, 30),
    (promotional_utility, 24),
    (scam_ish, 14),
    (malformed, 16),
    (otp_in_utility, 6),
    (wrong_language, 6),
)


def submissions(seed: int = 7, count: int = 200) -> list[Submission]:
    """`count` submissions in the proportions of MIX (200 in all by default), shuffled, from a seeded faker."""
    fake = Faker()
    fake.seed_instance(seed)
    total = sum(weight for _, weight in MIX)
    kinds = [build for build, weight in MIX for _ in range(round(weight * count / total))][:count]
    random.Random(seed).shuffle(kinds)
    made = []
    for number, build in enumerate(kinds):
        category, language, components = build(fake)
        name = f"{build.__name__}_{number}"
        allow = fake.boolean(chance_of_getting_true=70)
        made.append(Submission(name, language, category, allow, "POSITIONAL", tuple(components)))
    return made


def verdicts(seed: int = 7, count: int = 200, knobs: TemplateReview | None = None) -> list[Verdict]:
    rng = random.Random(seed)
    return [decide(submission, rng, knobs or TemplateReview()) for submission in submissions(seed, count)]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def report(seed: int = 7, count: int = 200) -> str:
    subs = submissions(seed, count)
    results = verdicts(seed, count)
    pairs = list(zip(subs, results, strict=True))
    rejected = [v for v in results if v.status == "REJECTED"]
    lines = [f"{len(results)} submissions, seed {seed}"]
    counts = {
        "status": Counter(v.status for v in results),
        "reason (rejected)": Counter(v.reason for v in rejected),
        "rule": Counter(v.rule for v in results),
        "re-categorised": Counter(f"{s.category} → {v.category}" for s, v in pairs if s.category != v.category),
    }
    for title, counter in counts.items():
        lines.append(f"{title}: " + ", ".join(f"{key} {n}" for key, n in counter.most_common()))
    groups = {
        "latency, all": results,
        "latency, approved as submitted": [v for s, v in pairs if v.status == "APPROVED" and v.category == s.category],
        "latency, approved as MARKETING": [v for s, v in pairs if v.category == "MARKETING" and v.status == "APPROVED"],
        "latency, rejected": rejected,
    }
    for title, chosen in groups.items():
        seconds = [v.latency_seconds for v in chosen]
        if seconds:
            lines.append(
                f"{title}: p50 {_duration(_percentile(seconds, 0.5))}, p90 {_duration(_percentile(seconds, 0.9))}, "
                f"p99 {_duration(_percentile(seconds, 0.99))}, max {_duration(max(seconds))}"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--count", type=int, default=200)
    arguments = parser.parse_args()
    sys.stdout.write(report(arguments.seed, arguments.count) + "\n")


if __name__ == "__main__":
    main()
