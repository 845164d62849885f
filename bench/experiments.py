"""What-if runs: the app's ASGI application with bench-only patches, to measure a suggested change
before anyone makes it in the app. Not the app's code; results are labelled as experiments.

    python bench/run.py --students 2000 --experiment layer,dispatch

KNEWIT_BENCH_EXPERIMENTS (comma-separated) picks the patches:

- `layer`: channels' InMemoryChannelLayer runs `_clean_expired` (a walk over every channel queue
  and every group membership) on every `receive` and `group_send`, so delivering one broadcast
  to N sockets costs O(N^2). The patch runs that sweep at most once a second.
- `redis_timeout`: redis-py 8 defaults `socket_timeout` to 5 s, the same as channels-redis core's
  BZPOPMIN timeout, so an idle receive raises TimeoutError and the consumer dies with 1011
  (django/channels_redis#422). The patch passes `socket_timeout=None` with each Redis host.
- `redis_pool`: redis-py 8 also caps an asyncio ConnectionPool at 100 connections by default and
  raises MaxConnectionsError beyond that instead of waiting; a reveal's 200 concurrent personal
  group_sends exceed it. The patch passes `max_connections=2000` with each Redis host.
- `quiet_lobby`: the coalesced `lobby.update` goes to the host only, not to every player (players
  still learn the state from question.next / question.results / quiz.finished). Each flush to
  the players costs N frames, up to 5 a second while students join.
- `coalesce`: the coalescer clears its pending mark and then waits for the database thread; when
  that thread lags, a new flush is scheduled every interval and they all land together (15 host
  lobby.update frames in 65 ms at 2,000 students). The patch lets one flush per session and kind
  run at a time, with one follow-up if something changed meanwhile.
- `heartbeat`: every `pong` (each socket every 20 s) is an UPDATE of its Player row on the one
  database thread. The patch skips that write: an upper bound for keeping presence in memory or
  writing it in bulk.
- `dispatch`: channels' AsyncConsumer.dispatch awaits `aclose_old_connections()` (a hop onto the
  single thread-sensitive database thread) before every handler, including `session.push`,
  which only forwards ready text. The patch forwards `session.push` without that hop.
"""

from __future__ import annotations

import os
import time

from knewit.asgi import application  # sets Django up first

EXPERIMENTS = {e.strip() for e in os.environ.get("KNEWIT_BENCH_EXPERIMENTS", "").split(",") if e.strip()}
KNOWN = {"layer", "dispatch", "redis_timeout", "redis_pool", "quiet_lobby", "coalesce", "heartbeat"}
if EXPERIMENTS - KNOWN:
    raise RuntimeError(f"unknown experiments {sorted(EXPERIMENTS - KNOWN)}; known: {sorted(KNOWN)}")

if "layer" in EXPERIMENTS:
    from channels.layers import InMemoryChannelLayer

    _clean_expired = InMemoryChannelLayer._clean_expired

    def _throttled_clean_expired(self) -> None:
        now = time.monotonic()
        if now < getattr(self, "_bench_next_clean", 0.0):
            return
        self._bench_next_clean = now + 1.0
        _clean_expired(self)

    InMemoryChannelLayer._clean_expired = _throttled_clean_expired

_host_options: dict = {}
if "redis_timeout" in EXPERIMENTS:
    _host_options["socket_timeout"] = None
if "redis_pool" in EXPERIMENTS:
    _host_options["max_connections"] = 2000
if _host_options:
    from django.conf import settings

    _config = settings.CHANNEL_LAYERS["default"].setdefault("CONFIG", {})
    _config["hosts"] = [
        {"address": h, **_host_options} if isinstance(h, str) else {**h, **_host_options}
        for h in _config.get("hosts", [])
    ]

if "quiet_lobby" in EXPERIMENTS:
    from sessions_app import scheduler
    from sessions_app.engine import PLAYERS

    _refresh_frames = scheduler._refresh_frames

    def _host_only_lobby(refresh):
        frames = _refresh_frames(refresh)
        if refresh.what != "lobby":
            return frames
        return [(audience, payload) for audience, payload in frames if audience != PLAYERS]

    scheduler._refresh_frames = _host_only_lobby

if "coalesce" in EXPERIMENTS:
    import asyncio

    from sessions_app import scheduler

    _flush_after = scheduler._flush_after
    _inflight: set = set()
    _again: set = set()

    async def _one_flush_at_a_time(delay, refresh) -> None:
        await asyncio.sleep(delay)
        key = (refresh.session_pk, refresh.what)
        if key in _inflight:
            scheduler._state().pending.discard(key)
            _again.add(key)
            return
        _inflight.add(key)
        try:
            await _flush_after(0, refresh)
        finally:
            _inflight.discard(key)
        if key in _again:
            _again.discard(key)
            scheduler._mark(refresh)

    scheduler._flush_after = _one_flush_at_a_time

if "heartbeat" in EXPERIMENTS:
    from sessions_app import engine

    def _no_heartbeat_write(*, player_pk, now, latency_ms=None) -> None:
        return None

    engine.player_seen = _no_heartbeat_write

if "dispatch" in EXPERIMENTS:
    from sessions_app.consumers import LiveConsumer

    _dispatch = LiveConsumer.dispatch

    async def _dispatch_push_without_db_hop(self, message: dict) -> None:
        if message.get("type") == "session.push":
            await self.session_push(message)
            return
        await _dispatch(self, message)

    LiveConsumer.dispatch = _dispatch_push_without_db_hop

__all__ = ["EXPERIMENTS", "application"]
