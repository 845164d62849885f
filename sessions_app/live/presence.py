"""Presence: each socket pinged once per interval, pongs written in bulk as the players' heartbeats.

A player is present while their heartbeats are fresh (docs/PROTOCOL.md); the host's lobby is told
when one lapses (the sweeper finds it) and when a player who was away answers again.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import weakref
from dataclasses import dataclass, field

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from sessions_app import engine, protocol
from sessions_app.live import coalescer, loops

log = logging.getLogger(__name__)
HEARTBEAT_WRITE_INTERVAL_S = 2.0
PING_SLICES = 20


@dataclass
class LoopState:
    sockets: weakref.WeakSet = field(default_factory=weakref.WeakSet)
    registered: int = 0
    heartbeats: dict = field(default_factory=dict)  # player pk -> (when, latency ms), written in bulk


_state = loops.per_loop(LoopState)


def track(consumer) -> None:
    """Ping this socket from now on, in one of PING_SLICES slices."""
    state = _state()
    state.registered += 1
    consumer.ping_slice = state.registered % PING_SLICES
    # The first ping comes 0.5-1.5 intervals after connecting, whichever slice the socket is in.
    consumer.first_ping_at = time.monotonic() + settings.KNEWIT["PING_INTERVAL_S"] / 2
    state.sockets.add(consumer)


def record_heartbeat(player_pk: int, latency_ms: int | None) -> None:
    """A pong: kept here and written with the others every couple of seconds, not one row per pong."""
    _state().heartbeats[player_pk] = (timezone.now(), latency_ms)


async def write_heartbeats_forever() -> None:
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
            coalescer.mark_dirty(refresh)


async def ping_forever() -> None:
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
