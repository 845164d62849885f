"""What the engine's events do: pushes go out now, refreshes to the coalescer, deadlines to the timers.

Every caller of the engine (sockets, page views, timers, the sweeper) hands its Outcome's events here.
"""

from __future__ import annotations

import logging

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from sessions_app import engine, selectors
from sessions_app.engine.events import PLAYER, Push, Refresh, Wake
from sessions_app.live import coalescer, fanout, timers
from sessions_app.web import render

log = logging.getLogger(__name__)


async def dispatch(events: list) -> None:
    """Send pushes now, in order; hand refreshes to the coalescer and deadlines to the timers.

    Frames for the host, the players or all go to both kinds of socket at once. Frames for one player
    (a reveal's 2,000 verdicts) go together: one message for the protocol sockets, one per language
    for the pages, which also carries what all players' pages show of the same event.
    """
    pushes = [e for e in events if isinstance(e, Push)]
    for shared, personal in _rounds(pushes):
        await _send_round(shared, personal)
    for event in events:
        if isinstance(event, Refresh):
            coalescer.mark_dirty(event)
        elif isinstance(event, Wake):
            timers.call_at(event.at, run_wake, event)


def _rounds(pushes: list[Push]) -> list[tuple[list[Push], list[Push]]]:
    """The pushes as (frames for all or several, the frames for one player each that follow them).

    Sent round by round, each socket gets its frames in the engine's order: a Next that closes the
    open question reveals it, and every verdict reaches its page before the next question does.
    """
    rounds: list[tuple[list[Push], list[Push]]] = []
    for push in pushes:
        if push.audience == PLAYER:
            if not rounds:
                rounds.append(([], []))
            rounds[-1][1].append(push)
        elif not rounds or rounds[-1][1]:
            rounds.append(([push], []))
        else:
            rounds[-1][0].append(push)
    return rounds


async def _send_round(shared: list[Push], personal: list[Push]) -> None:
    # A verdict, or a final rank, is its player's own region of the players' pages: what all of those
    # pages show of the same event is held back and sent with it, one frame for each page.
    own_pages = bool(personal) or any(p.payload["type"] == "quiz.finished" for p in shared)
    held: dict[str, str] = {}
    for push in shared:
        hold = held if own_pages and push.close_code is None else None
        publish = fanout.publish(push.code, push.audience, push.payload, push.close_code, held=hold)
        await _logged(push, publish)
    for code in dict.fromkeys(p.code for p in personal):
        frames = [(p.player_id, p.payload, p.close_code) for p in personal if p.code == code]
        await _logged(personal[0], fanout.send_personal_json(code, frames))
    if own_pages:
        await _to_personal_pages(shared + personal, held)


async def _to_personal_pages(pushes: list[Push], held: dict[str, str]) -> None:
    """Each player's own stage on their page: their verdict, their kick, their final rank; with the
    regions held back for all of them (sent alone if no page has a region of its own)."""
    frames = [p for p in pushes if p.audience == PLAYER or p.payload["type"] == "quiz.finished"]
    code, close_code = frames[0].code, frames[0].close_code if frames[0].audience == PLAYER else None
    try:
        items = await database_sync_to_async(render.personal_pages)(
            code, [(p.player_id, p.payload) for p in frames]
        )
    except Exception:  # the shared regions still go out, and the event's other pushes
        log.exception("rendering the players' own regions of %s failed", frames[0].payload.get("type"))
        items = {}
    await _logged(frames[0], fanout.send_personal_html(code, items, close_code, shared=held))


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
