"""The hub on a real Redis: a dropped connection is not an outage; a Redis that lost its data is.

Both kill the hub's Redis connections (CLIENT KILL, on a database of this test's own); only the second
also empties that database, as a restart without persistence does.
"""

from __future__ import annotations

import asyncio
import os

import pytest
import redis.asyncio

from knewit.config import channel_layers_from_url
from sessions_app.live import hub, loops
from sessions_app.live.fanout import frame, group_send
from sessions_app.tests.test_hub import FakeSocket, until

pytestmark = pytest.mark.services
GROUP = "session.654321.players"


@pytest.fixture
def redis_url(settings, monkeypatch):
    url = os.environ["REDIS_URL"].split("?")[0].rsplit("/", 1)[0] + "/9"
    settings.CHANNEL_LAYERS = channel_layers_from_url(url)
    settings.REDIS_URL = url
    monkeypatch.setattr(hub, "RETRY_S", 0.05)
    return url


async def drop_connections(url: str, *, flush: bool) -> None:
    """Kill every client of this test's database (the hub's), emptying it first if asked."""
    admin = redis.asyncio.from_url(url)
    try:
        if flush:
            await admin.flushdb()
        me = await admin.client_id()
        for client in await admin.client_list():
            if client["db"] == url.rsplit("/", 1)[1] and int(client["id"]) != me:
                await admin.client_kill_filter(_id=client["id"])
    finally:
        await admin.aclose()


async def test_a_dropped_connection_makes_nobody_catch_up(redis_url):
    worker = hub.get()
    socket = FakeSocket()
    try:
        await worker.join(GROUP, socket)
        await asyncio.sleep(0.3)  # the listener is waiting on Redis
        await drop_connections(redis_url, flush=False)
        await asyncio.sleep(1.0)
        await group_send(GROUP, frame(GROUP, "still here"))  # retries a killed pooled connection
        await until(lambda: socket.pushed == ["still here"], timeout=5)
        assert not socket.caught_up
    finally:
        await loops.shutdown()
        await worker.layer.flush()


async def test_a_redis_that_lost_its_data_gets_our_groups_back_and_sockets_catch_up(redis_url):
    worker = hub.get()
    before, after = FakeSocket(), FakeSocket()
    try:
        await worker.join(GROUP, before)
        await asyncio.sleep(0.3)
        await drop_connections(redis_url, flush=True)
        await until(lambda: before.caught_up, timeout=5)
        await worker.join(GROUP, after)
        await group_send(GROUP, frame(GROUP, "q3"))
        await until(lambda: after.pushed == ["q3"], timeout=5)
        assert not after.caught_up
    finally:
        await loops.shutdown()
        await worker.layer.flush()
