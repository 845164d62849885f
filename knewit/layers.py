"""The single-process channel layer used when REDIS_URL is unset."""

from __future__ import annotations

import time

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer

HOUSEKEEPING_INTERVAL_S = 1.0


class LocalChannelLayer(InMemoryChannelLayer):
    """Channels' InMemoryChannelLayer without its quadratic cost at classroom scale.

    The stock layer sweeps every channel and group membership on each receive and group_send, so
    one broadcast to 2,000 sockets costs 2,000 full sweeps; here the sweep runs at most once a
    second. group_send puts the message on each queue directly instead of a task per member.
    """

    def __init__(self, *args, capacity: int = 20_000, **kwargs):
        # One channel per worker carries every socket's messages (sessions_app/live/hub.py): the stock
        # 100 would drop most of a reveal's personal results.
        super().__init__(*args, capacity=capacity, **kwargs)
        self._last_housekeeping = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._last_housekeeping >= HOUSEKEEPING_INTERVAL_S:
            self._last_housekeeping = now
            super()._clean_expired()

    async def group_send(self, group: str, message: dict) -> None:
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        for channel in list(self.groups.get(group, {})):
            try:
                await self.send(channel, message)
            except ChannelFull:
                pass  # like the stock layer: a full socket queue drops this message
