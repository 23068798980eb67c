"""Seeded fake people and businesses (one `Faker` per tenant, never the class-level global seed)."""

from __future__ import annotations

import random
from typing import Any

from faker import Faker

# Verticals a fake business is drawn from (sandbox/domain/business_profile.py `Vertical` has them all).
VERTICALS = ("RETAIL", "RESTAURANT", "PROF_SERVICES", "TRAVEL", "HEALTH", "EDU", "FINANCE", "GROCERY", "OTHER")


class FakeData:
    def __init__(self, seed: int) -> None:
        self._faker = Faker("en_US")
        self._faker.seed_instance(seed)
        self._rng = random.Random(seed)
        self._seed = seed
        self._profiles: Faker | None = None

    def __getstate__(self) -> dict[str, Any]:
        # A Faker pickles to ~28 KB of providers; its seed and the state of its generator rebuild it exactly.
        return {"seed": self._seed, "faker": self._faker.random.getstate(), "rng": self._rng.getstate()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["seed"])  # type: ignore[misc]
        self._faker.random.setstate(state["faker"])
        self._rng.setstate(state["rng"])

    def company(self) -> str:
        return str(self._faker.company())

    def person_name(self) -> str:
        return str(self._faker.name())

    def business_profile(self, company: str, key: str) -> dict[str, Any]:
        """A plausible business profile for `company`, drawn from its own stream (`key`, e.g. the number's id), so
        drawing one leaves every other fake value of the world as it was."""
        faker = self._profiles
        if faker is None:
            faker = self._profiles = Faker("en_US")
        faker.seed_instance(f"{self._seed}:profile:{key}")
        domain = "".join(char for char in company.lower() if char.isascii() and char.isalnum())[:40] or "business"
        return {
            "about": str(faker.catch_phrase())[:139],
            "address": str(faker.address()).replace("\n", ", ")[:256],
            "description": str(faker.paragraph(nb_sentences=3))[:512],
            "email": f"contact@{domain}.example.com",
            "websites": (f"https://www.{domain}.example.com/",),
            "vertical": faker.random_element(VERTICALS),
        }

    def us_test_number(self) -> str:
        """A US number in the fictional 555 exchange (`1` + area code + `555` + 4 digits), as digits."""
        area = self._rng.choice(["201", "212", "305", "415", "503", "617", "650", "702", "720", "919"])
        return f"1{area}555{self._rng.randint(1000, 9999)}"
