"""How deliveries reach a receiver. The server uses `HttpTransport`: the lean keep-alive client (webhooks/http1.py)
for http:// receivers, aiohttp for https:// and for the verification GETs (httpx's pool is ~20× slower at this
fan-out on this project's 2-core box; docs/webhooks.md has the figures). Tests use a recording fake
(sandbox.testing.RecordingTransport)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import aiohttp

from sandbox.webhooks.http1 import Answer, LeanHttpTransport

__all__ = ["AiohttpTransport", "Answer", "HttpTransport", "LeanHttpTransport", "WebhookTransport"]


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


class HttpTransport:
    """The server's transport: POSTs to plain-http receivers over the lean client, everything else over aiohttp."""

    def __init__(self, concurrency: int = 64) -> None:
        self.lean = LeanHttpTransport(concurrency)
        self.fallback = AiohttpTransport(concurrency)

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Answer:
        if self.lean.target(url) is not None:
            return await self.lean.post(url, body, headers, timeout)
        return await self.fallback.post(url, body, headers, timeout)

    async def get(self, url: str, params: Mapping[str, str], timeout: float) -> Answer:
        # The verification handshake is rare; aiohttp's URL and query handling is worth its cost there.
        return await self.fallback.get(url, params, timeout)

    async def close(self) -> None:
        await self.lean.close()
        await self.fallback.close()
