"""The single-process channel layer keeps the stock layer's behaviour at a linear cost."""

from __future__ import annotations

import asyncio

from knewit.layers import LocalChannelLayer


async def test_group_send_reaches_every_member_once():
    layer = LocalChannelLayer()
    channels = [await layer.new_channel() for _ in range(50)]
    for channel in channels:
        await layer.group_add("session.123456.players", channel)
    await layer.group_send("session.123456.players", {"type": "session.push", "text": "hi"})
    received = await asyncio.gather(*(layer.receive(c) for c in channels))
    assert received == [{"type": "session.push", "text": "hi"}] * 50
    await layer.group_discard("session.123456.players", channels[0])
    await layer.group_send("session.123456.players", {"type": "session.push", "text": "again"})
    assert layer.channels.get(channels[0]) is None


async def test_full_queues_drop_instead_of_failing_the_sender():
    layer = LocalChannelLayer(capacity=1)
    channel = await layer.new_channel()
    await layer.group_add("g", channel)
    await layer.group_send("g", {"type": "x", "n": 1})
    await layer.group_send("g", {"type": "x", "n": 2})
    assert (await layer.receive(channel))["n"] == 1


async def test_expired_messages_are_still_swept(monkeypatch):
    layer = LocalChannelLayer(expiry=0)
    channel = await layer.new_channel()
    await layer.group_add("g", channel)
    await layer.send(channel, {"type": "x"})
    layer._last_housekeeping = -10.0  # due now
    await asyncio.sleep(0.01)
    layer._clean_expired()
    assert channel not in layer.groups.get("g", {})
