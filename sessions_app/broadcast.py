"""Engine events to the channel layer: each frame is serialised once and sent to a group."""

from __future__ import annotations

import asyncio

from channels.layers import get_channel_layer

from sessions_app import protocol
from sessions_app.engine import ALL, HOST, PLAYER, PLAYERS, Push, Refresh, Wake

FANOUT_BATCH = 200  # personal frames sent concurrently at a reveal


def group_name(code: str, audience: str, player_id: str | None = None) -> str:
    """Channel-layer groups: session.<code>.host, session.<code>.players, session.<code>.player.<id>."""
    if audience == PLAYER:
        return f"session.{code}.player.{player_id}"
    return f"session.{code}.{audience}"


def audience_groups(push: Push) -> list[str]:
    if push.audience == ALL:
        return [group_name(push.code, HOST), group_name(push.code, PLAYERS)]
    return [group_name(push.code, push.audience, push.player_id)]


def frame(payload: dict, close_code: int | None = None) -> dict:
    """The channel-layer message every consumer forwards as is: finished text, maybe a close."""
    message = {"type": "session.push", "text": protocol.dumps(payload)}
    if close_code is not None:
        message["close"] = close_code
    return message


async def send_push(push: Push) -> None:
    layer = get_channel_layer()
    message = frame(push.payload, push.close_code)
    for group in audience_groups(push):
        await layer.group_send(group, message)


async def dispatch(events: list) -> None:
    """Send pushes now; hand refreshes to the coalescer and wakes to the timers."""
    from sessions_app import scheduler  # the scheduler sends through this module

    personal = [e for e in events if isinstance(e, Push) and e.audience == PLAYER]
    for event in events:
        if isinstance(event, Push) and event.audience != PLAYER:
            await send_push(event)
    for start in range(0, len(personal), FANOUT_BATCH):
        await asyncio.gather(*(send_push(p) for p in personal[start : start + FANOUT_BATCH]))
    for event in events:
        if isinstance(event, Refresh):
            scheduler.mark_dirty(event)
        elif isinstance(event, Wake):
            scheduler.schedule(event)
