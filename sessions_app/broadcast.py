"""Engine events to the channel layer: each frame serialised (JSON) and rendered (HTML) once, sent to a group.

Protocol sockets are in the groups session.<code>.host, session.<code>.players and
session.<code>.player.<id>; browser pages are in the same groups with an `.html` suffix. The layer
carries each message once per worker, to that worker's hub (sessions_app/hub.py).
"""

from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from redis.exceptions import RedisError

from sessions_app import protocol, render
from sessions_app.engine import ALL, HOST, PLAYER, PLAYERS, Push, Refresh, Wake

log = logging.getLogger(__name__)
FANOUT_BATCH = 200  # personal frames sent concurrently at a reveal
HTML = "html"


def group_name(code: str, audience: str, player_id: str | None = None, fmt: str = "json") -> str:
    name = f"session.{code}.player.{player_id}" if audience == PLAYER else f"session.{code}.{audience}"
    return f"{name}.html" if fmt == HTML else name


def frame(group: str, text: str, close_code: int | None = None) -> dict:
    """The channel-layer message for a group's sockets to forward as is: finished text, maybe a close."""
    message = {"type": "session.push", "group": group, "text": text}
    if close_code is not None:
        message["close"] = close_code
    return message


def _audiences(push: Push) -> list[str]:
    return [HOST, PLAYERS] if push.audience == ALL else [push.audience]


async def group_send(group: str, message: dict) -> None:
    """group_send, tried twice: after a Redis restart a pooled connection fails once, then reconnects."""
    layer = get_channel_layer()
    try:
        await layer.group_send(group, message)
    except (ConnectionError, OSError, RedisError):
        log.warning("group_send to %s failed; retrying once", group, exc_info=True)
        await layer.group_send(group, message)


async def send_push(push: Push) -> None:
    """One event to its audience: JSON once for protocol sockets, HTML once per audience for pages."""
    if push.json:
        text = protocol.dumps(push.payload)
        for audience in _audiences(push):
            group = group_name(push.code, audience, push.player_id)
            await group_send(group, frame(group, text, push.close_code))
    if not push.html:
        return
    if push.audience == PLAYER:
        html = render.personal_html(push.payload)
        pairs = [(PLAYER, html)] if html else []
    else:
        pairs = await database_sync_to_async(render.push_html)(push)
    for audience, html in pairs:
        group = group_name(push.code, audience, push.player_id, fmt=HTML)
        await group_send(group, frame(group, html, push.close_code))


async def _send_logged(push: Push) -> None:
    """One failed send must not stop the rest of an event's pushes, refreshes and timers."""
    try:
        await send_push(push)
    except Exception:
        log.exception("push of %s to %s failed", push.payload.get("type"), push.audience)


async def send_to_audience(code: str, audience: str, payload: dict) -> None:
    """A coalesced lobby or histogram push for one audience of a session."""
    await send_push(Push(code, audience, payload))


async def dispatch(events: list) -> None:
    """Send pushes now; hand refreshes to the coalescer and wakes to the timers."""
    from sessions_app import scheduler  # the scheduler sends through this module

    personal = [e for e in events if isinstance(e, Push) and e.audience == PLAYER]
    for event in events:
        if isinstance(event, Push) and event.audience != PLAYER:
            await _send_logged(event)
    for start in range(0, len(personal), FANOUT_BATCH):
        await asyncio.gather(*(_send_logged(p) for p in personal[start : start + FANOUT_BATCH]))
    for event in events:
        if isinstance(event, Refresh):
            scheduler.mark_dirty(event)
        elif isinstance(event, Wake):
            scheduler.schedule(event)
