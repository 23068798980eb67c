"""Where tenants and tokens go on a sharded server: the placement by name, the shard tag in minted tokens, and the
settings that name a shard."""

from __future__ import annotations

import pickle

import pytest

from sandbox.cluster.haproxy import Address, config
from sandbox.context import Sandbox
from sandbox.domain.commands import CreateTenant
from sandbox.ids import IdFactory, salted, shard_for, shard_tag
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings


def test_shard_for_is_the_name_alone() -> None:
    assert shard_for("default", 2) == shard_for("default", 2) == 1
    assert {shard_for(f"t{n}", 4) for n in range(100)} == {0, 1, 2, 3}


def test_one_process_mints_the_tokens_it_always_did() -> None:
    assert shard_tag(0, 1) == ""
    plain = IdFactory(salted(1, "x", salt=None)).access_token()
    assert plain == IdFactory(salted(1, "x", salt=None), shard_tag(0, 1)).access_token()
    assert len(plain) == 183


def test_a_shard_mints_tokens_that_carry_it() -> None:
    sandbox = Sandbox(Settings(seed=1, shard_index=3, shard_count=4))
    tenant = create_tenant(sandbox, CreateTenant(name="a"))
    assert tenant.credentials.access_token.startswith("EAA03") and len(tenant.credentials.access_token) == 183
    # A snapshot keeps the tag: the restored world's further tokens reach the same shard.
    assert pickle.loads(pickle.dumps(tenant.credential_ids)).access_token().startswith("EAA03")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"shard_index": 2, "shard_count": 2}, "shard_index must be below shard_count"),
        ({"workers": 65}, "workers must be from 1 to 64"),
        ({"workers": 2, "shard_count": 2}, "--workers with --shard-count"),
    ],
)
def test_shard_settings_are_bounded(changes: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings().merged(changes)


def test_the_front_configuration_routes_by_map_then_tag(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = config(
        tmp_path,
        7,
        Address("127.0.0.1", 9000),
        [Address("127.0.0.1", 9001), Address("10.0.0.2", 9002)],
        read_timeout=30,
        keep_alive=5,
        max_connections=1000,
    )
    assert "bind fd@7" in text
    assert text.index("sha2(256),hex,map(") < text.index("bytes(3,2),map(")
    assert (tmp_path / "tags.map").read_text() == "00 shard00\n01 shard01\n"
    assert "server shard01 10.0.0.2:9002" in text
    assert '"code":2' in (tmp_path / "shard-down.http").read_text()


def test_the_token_map_waits_for_an_admin_socket_haproxy_has_not_bound_yet(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """On a busy machine the coordinator's first sync can come before HAProxy binds its socket."""
    import asyncio

    from sandbox.cluster.haproxy import TokenMap

    heard: list[bytes] = []

    async def scenario() -> None:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            heard.append(await reader.readline())
            writer.close()

        async def late_haproxy() -> asyncio.AbstractServer:
            await asyncio.sleep(0.3)
            return await asyncio.start_unix_server(answer, path=str(tmp_path / "admin.sock"))

        server = asyncio.create_task(late_haproxy())
        await TokenMap(tmp_path).replace_shard(0, ["ABC"])
        (await server).close()

    asyncio.run(scenario())
    assert heard and b"add map" in heard[0] and b"ABC" in heard[0]
