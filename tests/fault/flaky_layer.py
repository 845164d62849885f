"""An in-memory channel layer that fails on command, like channels-redis while Redis is away."""

from __future__ import annotations

from channels.layers import InMemoryChannelLayer


class LayerDown(ConnectionError):
    """What the layer raises while it is 'down' (channels-redis raises redis.exceptions.ConnectionError)."""


class FlakyLayer(InMemoryChannelLayer):
    """`FlakyLayer.failures[method] = n` makes the next n calls of that method raise LayerDown."""

    failures: dict[str, int] = {}

    def _maybe_fail(self, method: str) -> None:
        if FlakyLayer.failures.get(method, 0) > 0:
            FlakyLayer.failures[method] -= 1
            raise LayerDown(f"channel layer down ({method})")

    async def group_add(self, group, channel):
        self._maybe_fail("group_add")
        return await super().group_add(group, channel)

    async def group_send(self, group, message):
        self._maybe_fail("group_send")
        return await super().group_send(group, message)

    async def receive(self, channel):
        self._maybe_fail("receive")
        return await super().receive(channel)
