"""The worker's clock: coalesced lobby/histogram pushes, answers recorded in batches, question
deadlines, the sweeper, pings.

Nothing here is a fact of the game. Deadlines live in the database; the timer of the worker that
opened a question is only the fast path, and every worker's sweeper closes what is overdue, so a
dead worker's question still closes. All of it is per event loop, started by the first socket.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import logging
import time
import weakref
from dataclasses import dataclass, field

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from sessions_app import broadcast, engine, hub, protocol, selectors
from sessions_app.engine import HOST, PLAYERS, Refresh, Wake
from sessions_app.models import GameSession

log = logging.getLogger(__name__)
HEARTBEAT_WRITE_INTERVAL_S = 2.0
PLAYERS_QUIET_SHARE = 0.3  # of the players' interval: the pause in joins their count waits for
TOLD_TTL_S = 6 * 3600  # the players' last count, kept in Redis for about a session's life
ANSWER_BATCH_MAX = 200  # answers in one transaction (and one INSERT)
TOLD_KEPT = 1000  # sessions whose players' last count one worker remembers without Redis


@dataclass
class LoopState:
    pending: set = field(default_factory=set)  # (session, what) changed since its last read
    flushing: set = field(default_factory=set)  # (session, what) with a flush task running
    last_flush: dict = field(default_factory=dict)
    changed_at: dict = field(default_factory=dict)  # (session, what) -> when last marked
    heartbeats: dict = field(default_factory=dict)  # player pk -> (when, latency ms), written in bulk
    players_told: dict = field(default_factory=dict)  # without Redis: session pk -> "count:locked" last sent
    answers: list = field(default_factory=list)  # (AnswerAttempt, future) waiting for the database thread
    recording: bool = False  # a task is recording answers
    tasks: set = field(default_factory=set)
    sockets: weakref.WeakSet = field(default_factory=weakref.WeakSet)
    registered: int = 0
    started: bool = False


_states: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _state() -> LoopState:
    loop = asyncio.get_running_loop()
    if loop not in _states:
        _states[loop] = LoopState()
    return _states[loop]


def _spawn(coro) -> asyncio.Task:
    state = _state()
    # A fresh context: a task spawned from a sync view's async_to_sync call must not inherit that
    # call's (soon finished) thread executor, or its database calls would fail.
    task = asyncio.get_running_loop().create_task(coro, context=contextvars.Context())
    state.tasks.add(task)
    task.add_done_callback(state.tasks.discard)
    return task


def register_socket(consumer) -> None:
    """Track a live socket for pings, and start this worker's background loops once."""
    state = _state()
    state.registered += 1
    consumer.ping_slice = state.registered % PING_SLICES
    # The first ping comes 0.5-1.5 intervals after connecting, whichever slice the socket is in.
    consumer.first_ping_at = time.monotonic() + settings.KNEWIT["PING_INTERVAL_S"] / 2
    state.sockets.add(consumer)
    if not state.started:
        state.started = True
        _spawn(_sweep_forever())
        _spawn(_ping_forever())
        _spawn(_write_heartbeats_forever())


async def shutdown() -> None:
    """Cancel this loop's background work (tests call it between tests)."""
    state = _state()
    for task in list(state.tasks):
        task.cancel()
    await asyncio.gather(*state.tasks, return_exceptions=True)
    _states.pop(asyncio.get_running_loop(), None)
    await hub.shutdown()


# --- coalesced pushes -----------------------------------------------------------------------


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
        _spawn(_flush(refresh))


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
                await _until_quiet(state, key, quiet=interval * PLAYERS_QUIET_SHARE, longest=interval)
            if settings.REDIS_URL and not await _claim_interval(refresh, interval):
                state.pending.discard(key)  # the claimer reads after our change was committed
                return
            # Clear before reading, so a change committed after our read marks it dirty again.
            state.pending.discard(key)
            try:
                frames = await database_sync_to_async(_refresh_frames)(refresh)
                if refresh.what == "players_lobby":
                    frames = await _news_for_players(state, refresh.session_pk, frames)
                for audience, payload in frames:
                    await broadcast.send_to_audience(refresh.code, audience, payload)
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
    _, payload = frames[0]
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


def _refresh_frames(refresh: Refresh) -> list[tuple[str, dict]]:
    session = (
        GameSession.objects.select_related("current_question__quiz").filter(pk=refresh.session_pk).first()
    )
    if session is None:
        return []
    if refresh.what == "host_lobby":
        return [(HOST, selectors.host_lobby_payload(session, timezone.now()))]
    if refresh.what == "players_lobby":
        if session.state in (GameSession.State.QUESTION, GameSession.State.FINISHED):
            return []
        count = selectors.player_count(session)
        return [(PLAYERS, protocol.lobby_update(state=session.state, locked=session.locked, count=count))]
    payload = selectors.histogram_payload(session)
    if payload is None:
        return []
    audiences = [HOST, PLAYERS] if selectors.shows_live_results(session) else [HOST]
    return [(audience, payload) for audience in audiences]


# --- answers --------------------------------------------------------------------------------


async def submit_answer(attempt: engine.AnswerAttempt) -> engine.Outcome:
    """Record an answer together with the others waiting for the database thread (engine.answers_submit).

    Nothing waits to fill a batch: the first answer goes at once, and those that arrive while it is
    being written go together next. Raises the EngineError that refused it.
    """
    state = _state()
    future = asyncio.get_running_loop().create_future()
    state.answers.append((attempt, future))
    if not state.recording:
        state.recording = True
        _spawn(_record_answers(state))
    return await future


async def _record_answers(state: LoopState) -> None:
    try:
        while state.answers:
            batch, state.answers = state.answers[:ANSWER_BATCH_MAX], state.answers[ANSWER_BATCH_MAX:]
            try:
                results = await database_sync_to_async(engine.answers_submit)([a for a, _ in batch])
            except asyncio.CancelledError:  # the worker is stopping: leave no socket waiting for ever
                for _, future in batch:
                    future.cancel()
                raise
            except Exception:
                # One log for the batch; each sender is told it may retry (nothing was recorded).
                log.exception("recording a batch of %d answers failed", len(batch))
                results = [engine.EngineError("internal", protocol.INTERNAL_MESSAGE)] * len(batch)
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():  # the socket went away; its answer counts all the same
                    continue
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)
    finally:
        state.recording = False


# --- deadlines ------------------------------------------------------------------------------


def schedule(wake: Wake) -> None:
    """This worker's fast path for a deadline it set; the sweeper covers it if we die."""
    _spawn(_wake_at(wake))


async def _wake_at(wake: Wake) -> None:
    delay = (wake.at - timezone.now()).total_seconds()
    await asyncio.sleep(max(0.0, delay))
    await run_wake(wake)


async def run_wake(wake: Wake) -> None:
    """Act on a deadline; never raises, so neither a timer nor the sweeper can die of it."""
    try:
        outcome = await database_sync_to_async(engine.wake)(wake, now=timezone.now())
        await broadcast.dispatch(outcome.events)
    except Exception:
        log.exception("wake %s failed", wake)


async def _sweep_forever() -> None:
    """Close overdue questions, move on after results pauses, and show lapsed heartbeats."""
    interval = settings.KNEWIT["SWEEP_INTERVAL_S"]
    while True:
        await asyncio.sleep(interval)
        try:
            now = timezone.now()
            wakes = await database_sync_to_async(engine.due_wakes)(now=now)
            for wake in wakes:
                await run_wake(wake)
            lapsed = await database_sync_to_async(selectors.sessions_with_lapsed_presence)(
                now=now, window_s=interval + 0.5
            )
            for session_pk, code in lapsed:
                mark_dirty(Refresh(session_pk, code, "host_lobby"))
        except Exception:
            log.exception("sweep failed")


# --- heartbeats -----------------------------------------------------------------------------


def record_heartbeat(player_pk: int, latency_ms: int | None) -> None:
    """A pong: kept here and written with the others every couple of seconds, not one row per pong."""
    _state().heartbeats[player_pk] = (timezone.now(), latency_ms)


async def _write_heartbeats_forever() -> None:
    state = _state()
    while True:
        await asyncio.sleep(HEARTBEAT_WRITE_INTERVAL_S)
        if not state.heartbeats:
            continue
        batch, state.heartbeats = state.heartbeats, {}
        try:
            back = await database_sync_to_async(engine.players_seen)(batch, now=timezone.now())
        except Exception:
            log.exception("writing %d heartbeats failed", len(batch))
            continue
        for refresh in back:
            mark_dirty(refresh)


PING_SLICES = 20


async def _ping_forever() -> None:
    """Ping each socket once per interval, a twentieth of them at a time.

    Spread out, 2,000 sockets cost 100 pings a tick instead of a burst of 2,000 that a question's
    broadcast would queue behind.
    """
    tick = settings.KNEWIT["PING_INTERVAL_S"] / PING_SLICES
    for slice_no in itertools.cycle(range(PING_SLICES)):
        await asyncio.sleep(tick)
        text = protocol.dumps(protocol.ping(ts=round(time.time() * 1000)))
        now = time.monotonic()
        for consumer in list(_state().sockets):
            if consumer.ping_slice == slice_no and consumer.first_ping_at <= now:
                await consumer.send_text(text)
