"""Seeded fake people and businesses (one `Faker` per tenant, never the class-level global seed)."""

from __future__ import annotations

import random

from faker import Faker


class FakeData:
    def __init__(self, seed: int) -> None:
        self._faker = Faker("en_US")
        self._faker.seed_instance(seed)
        self._rng = random.Random(seed)

    def company(self) -> str:
        return str(self._faker.company())

    def person_name(self) -> str:
        return str(self._faker.name())

    def us_test_number(self) -> str:
        """A US number in the fictional 555 exchange (`1` + area code + `555` + 4 digits), as digits."""
        area = self._rng.choice(["201", "212", "305", "415", "503", "617", "650", "702", "720", "919"])
        return f"1{area}555{self._rng.randint(1000, 9999)}"
