"""Lobby and histogram pushes, coalesced: at most one read and one push per interval, session and audience.

An engine event marks what changed (a Refresh); the push reads the database once, after the change
committed, so it carries everyone's changes in the interval. With several workers, the one that
claims the interval in Redis pushes for all of them, so the host gets the same rate however many.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from sessions_app import protocol, selectors
from sessions_app.engine.events import HOST, PLAYERS, Refresh
from sessions_app.live import fanout, hub, loops
from sessions_app.models import GameSession
from sessions_app.web import render

log = logging.getLogger(__name__)
PLAYERS_QUIET_SHARE = 0.3  # of the players' interval: the pause in joins their count waits for
# ...but no longer than this many intervals: while 2,000 phones join in a burst, each count pushed to
# every phone already in costs as many frames, and the joins wait behind them on the event loop.
PLAYERS_LONGEST_WAIT = 5
TOLD_TTL_S = 6 * 3600  # the players' last count, kept in Redis for about a session's life
TOLD_KEPT = 1000  # sessions whose players' last count one worker remembers without Redis


@dataclass
class LoopState:
    pending: set = field(default_factory=set)  # (session, what) changed since its last read
    flushing: set = field(default_factory=set)  # (session, what) with a flush task running
    last_flush: dict = field(default_factory=dict)
    changed_at: dict = field(default_factory=dict)  # (session, what) -> when last marked
    players_told: dict = field(default_factory=dict)  # without Redis: session pk -> "count:locked" last sent


_state = loops.per_loop(LoopState)


def mark_dirty(refresh: Refresh) -> None:
    """Push the lobby or histogram soon, at most once per interval per session and audience.

    A lobby change reaches the host within PUSH_INTERVAL_S and players (who only see the count)
    within PLAYERS_LOBBY_INTERVAL_S, so 2,000 joins do not cost 2,000 x 2,000 frames. Players are
    told only of a new count or lock, and not while a question is open: the question closing tells
    them, so the tail of a join burst does not cost every phone a frame in the first question.
    """
    if refresh.what == "lobby":
        _mark(Refresh(refresh.session_pk, refresh.code, "host_lobby"))
        _mark(Refresh(refresh.session_pk, refresh.code, "players_lobby"))
    else:
        _mark(refresh)


def _mark(refresh: Refresh) -> None:
    state = _state()
    key = (refresh.session_pk, refresh.what)
    state.pending.add(key)
    state.changed_at[key] = time.monotonic()
    if key not in state.flushing:  # a running flush picks the change up when it loops
        state.flushing.add(key)
        loops.spawn(_flush(refresh))


def _interval(refresh: Refresh) -> float:
    return settings.KNEWIT[
        "PLAYERS_LOBBY_INTERVAL_S" if refresh.what == "players_lobby" else "PUSH_INTERVAL_S"
    ]


async def _flush(refresh: Refresh) -> None:
    """Push while there are unread changes, one read at a time, at most once per interval.

    One worker: at once if quiet. Several workers (Redis): the first to claim an interval pushes at
    its end, for everyone's changes in it, so the host gets the same rate however many workers.
    """
    state = _state()
    key = (refresh.session_pk, refresh.what)
    interval = _interval(refresh)
    try:
        while key in state.pending:
            await asyncio.sleep(max(0.0, state.last_flush.get(key, 0.0) + interval - time.monotonic()))
            if refresh.what == "players_lobby":
                await _until_quiet(
                    state, key, quiet=interval * PLAYERS_QUIET_SHARE, longest=interval * PLAYERS_LONGEST_WAIT
                )
            if settings.REDIS_URL and not await _claim_interval(refresh, interval):
                state.pending.discard(key)  # the claimer reads after our change was committed
                return
            # Clear before reading, so a change committed after our read marks it dirty again.
            state.pending.discard(key)
            try:
                frames = await database_sync_to_async(_refresh_frames)(refresh)
                if refresh.what == "players_lobby":
                    frames = await _news_for_players(state, refresh.session_pk, frames)
                for audience, payload, html in frames:
                    await fanout.publish(refresh.code, audience, payload, html=html)
            except Exception:
                log.exception("refresh of %s failed", refresh)
            state.last_flush[key] = time.monotonic()
    finally:
        state.flushing.discard(key)


async def _until_quiet(state: LoopState, key: tuple, quiet: float, longest: float) -> None:
    """Wait for a pause of `quiet` s in the changes, but no more than `longest` s.

    The players' count then follows a join burst by a moment. Read at once, it would wait behind
    the burst's joins in the database thread, and land on every phone just as the quiz starts.
    """
    give_up = time.monotonic() + longest
    while True:
        wait = min(state.changed_at.get(key, 0.0) + quiet, give_up) - time.monotonic()
        if wait <= 0:
            return
        await asyncio.sleep(wait)  # a change meanwhile moves changed_at on


async def _news_for_players(state: LoopState, session_pk: int, frames: list) -> list:
    """The players' count only if it or the lock changed since they were last told, by any worker."""
    if not frames:
        return []
    payload = frames[0][1]
    told = f"{payload['count']}:{payload['locked']}"
    if settings.REDIS_URL:
        # Shared, so a worker that has not pushed this session's count yet does not push it again.
        try:
            key = f"knewit:told:{session_pk}"
            before = await hub.get().redis_client().set(key, told, get=True, ex=TOLD_TTL_S)
        except Exception:
            log.warning("redis unavailable for the players' last count; pushing it", exc_info=True)
            return frames
        before = before.decode() if before is not None else None
    else:
        before = state.players_told.pop(session_pk, None)
        state.players_told[session_pk] = told
        if len(state.players_told) > TOLD_KEPT:  # forgetting costs one repeated push, nothing more
            del state.players_told[next(iter(state.players_told))]
    return [] if before == told else frames


async def _claim_interval(refresh: Refresh, interval: float) -> bool:
    """Claim the next interval for this session's push across workers; wait it out if ours."""
    claim, redis = f"knewit:push:{refresh.session_pk}:{refresh.what}", hub.get().redis_client()
    try:
        # The claim outlives the interval a little, so a worker that dies holding it frees it.
        if not await redis.set(claim, 1, nx=True, px=int(interval * 2000)):
            return False
        await asyncio.sleep(interval)
        await redis.delete(claim)  # before reading: a later change claims anew
    except Exception:
        log.warning("redis unavailable for coalescing; pushing from this worker", exc_info=True)
    return True


def _refresh_frames(refresh: Refresh) -> list[tuple[str, dict, list]]:
    """(audience, payload, page html) to push, from one read of the session; runs in the database thread."""
    return [
        (audience, payload, render.push_html(refresh.code, audience, payload, session))
        for audience, payload, session in _refresh_payloads(refresh)
    ]


def _refresh_payloads(refresh: Refresh) -> list[tuple[str, dict, GameSession]]:
    session = (
        GameSession.objects.select_related("current_question__quiz").filter(pk=refresh.session_pk).first()
    )
    if session is None:
        return []
    if refresh.what == "host_lobby":
        return [(HOST, selectors.host_lobby_payload(session, timezone.now()), session)]
    if refresh.what == "players_lobby":
        if session.state in (GameSession.State.QUESTION, GameSession.State.FINISHED):
            return []
        count = selectors.player_count(session)
        return [
            (PLAYERS, protocol.lobby_update(state=session.state, locked=session.locked, count=count), session)
        ]
    payload = selectors.histogram_payload(session)
    if payload is None:
        return []
    frames = [(HOST, payload, session)]
    if selectors.shows_live_results(session):
        frames.append((PLAYERS, protocol.players_histogram(payload), session))
    return frames
