"""How deliveries reach a receiver: aiohttp in the server (httpx's pool is ~20× slower at this fan-out, see
context/perf-baseline.md §6), a recording fake in tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import aiohttp


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: str


class WebhookTransport(Protocol):
    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Answer: ...

    async def get(self, url: str, params: Mapping[str, str], timeout: float) -> Answer: ...

    async def close(self) -> None: ...


class AiohttpTransport:
    """One pooled session for every tenant; connections are kept alive per receiver."""

    def __init__(self, concurrency: int = 64) -> None:
        self._concurrency = concurrency
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._concurrency, limit_per_host=self._concurrency, ttl_dns_cache=300
            )
            self._session = aiohttp.ClientSession(connector=connector, auto_decompress=False)
        return self._session

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Answer:
        async with self._client().post(
            url, data=body, headers=dict(headers), timeout=aiohttp.ClientTimeout(total=timeout), allow_redirects=False
        ) as response:
            text = (await response.content.read(2048)).decode(errors="replace")
            return Answer(response.status, text)

    async def get(self, url: str, params: Mapping[str, str], timeout: float) -> Answer:
        async with self._client().get(
            url, params=dict(params), timeout=aiohttp.ClientTimeout(total=timeout), allow_redirects=False
        ) as response:
            text = (await response.content.read(4096)).decode(errors="replace")
            return Answer(response.status, text)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
