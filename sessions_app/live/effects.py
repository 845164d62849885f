"""What the engine's events do: pushes go out now, refreshes to the coalescer, deadlines to the timers.

Every caller of the engine (sockets, page views, timers, the sweeper) hands its Outcome's events here.
"""

from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from sessions_app import engine, selectors
from sessions_app.engine.events import PLAYER, Push, Refresh, Wake
from sessions_app.live import coalescer, fanout, timers
from sessions_app.web import render

log = logging.getLogger(__name__)
FANOUT_BATCH = 200  # personal frames sent concurrently at a reveal


async def dispatch(events: list) -> None:
    """Send pushes now; hand refreshes to the coalescer and deadlines to the timers.

    Frames for the host, the players or all go to both kinds of socket at once. Frames for one player
    (a reveal's 2,000 verdicts) go to protocol sockets one by one, and to the players' pages together.
    """
    pushes = [e for e in events if isinstance(e, Push)]
    personal = [p for p in pushes if p.audience == PLAYER]
    for push in pushes:
        if push.audience != PLAYER:
            await _logged(push, fanout.publish(push.code, push.audience, push.payload, push.close_code))
    for start in range(0, len(personal), FANOUT_BATCH):
        await asyncio.gather(
            *(
                _logged(p, fanout.send_json(p.code, PLAYER, p.payload, p.player_id, p.close_code))
                for p in personal[start : start + FANOUT_BATCH]
            )
        )
    await _to_personal_pages(pushes)
    for event in events:
        if isinstance(event, Refresh):
            coalescer.mark_dirty(event)
        elif isinstance(event, Wake):
            timers.call_at(event.at, run_wake, event)


async def _to_personal_pages(pushes: list[Push]) -> None:
    """Each player's own stage on their page: their verdict, their kick, their final rank."""
    frames = [p for p in pushes if p.audience == PLAYER or p.payload["type"] == "quiz.finished"]
    if not frames:
        return
    code, close_code = frames[0].code, frames[0].close_code if frames[0].audience == PLAYER else None
    items = await database_sync_to_async(render.personal_pages)(
        code, [(p.player_id, p.payload) for p in frames]
    )
    await _logged(frames[0], fanout.send_personal_html(code, items, close_code))


async def _logged(push: Push, send) -> None:
    """One failed send must not stop the rest of an event's pushes, refreshes and timers."""
    try:
        await send
    except Exception:
        log.exception("push of %s to %s failed", push.payload.get("type"), push.audience)


async def run_wake(wake: Wake) -> None:
    """Act on a deadline; never raises, so neither a timer nor the sweeper can die of it."""
    try:
        outcome = await database_sync_to_async(engine.wake)(wake, now=timezone.now())
        await dispatch(outcome.events)
    except Exception:
        log.exception("wake %s failed", wake)


async def sweep() -> None:
    """Close overdue questions and move on after results pauses, whoever scheduled them (a worker that
    died included), and show the host the players whose heartbeat has just lapsed."""
    now = timezone.now()
    for wake in await database_sync_to_async(engine.due_wakes)(now=now):
        await run_wake(wake)
    window_s = settings.KNEWIT["SWEEP_INTERVAL_S"] + 0.5
    lapsed = await database_sync_to_async(selectors.sessions_with_lapsed_presence)(now=now, window_s=window_s)
    for session_pk, code in lapsed:
        coalescer.mark_dirty(Refresh(session_pk, code, "host_lobby"))
