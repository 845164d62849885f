"""The players' lobby count goes out only when it changed, whichever worker pushes it.

Each LoopState stands for one worker's coalescer. With Redis the last count is shared, so a worker
that never pushed this session's count does not push it again to every player.
"""

from __future__ import annotations

import os

import pytest
import redis.asyncio

from sessions_app import protocol
from sessions_app.engine import PLAYERS
from sessions_app.live import coalescer, loops


def count_frames(count: int, locked: bool = False) -> list:
    return [(PLAYERS, protocol.lobby_update(state="lobby", locked=locked, count=count))]


async def test_one_worker_tells_players_only_of_a_change(settings):
    settings.REDIS_URL = None
    worker = coalescer.LoopState()
    assert await coalescer._news_for_players(worker, 1, count_frames(3)) == count_frames(3)
    assert await coalescer._news_for_players(worker, 1, count_frames(3)) == []
    assert await coalescer._news_for_players(worker, 1, count_frames(3, locked=True)) == count_frames(3, True)
    assert await coalescer._news_for_players(worker, 2, count_frames(3)) == count_frames(3)
    assert await coalescer._news_for_players(worker, 1, []) == []


async def test_one_worker_remembers_a_bounded_number_of_sessions(settings, monkeypatch):
    settings.REDIS_URL = None
    monkeypatch.setattr(coalescer, "TOLD_KEPT", 2)
    worker = coalescer.LoopState()
    for session_pk in (1, 2, 1, 3):  # 2 is now the least recently told, and is forgotten
        await coalescer._news_for_players(worker, session_pk, count_frames(5))
    assert list(worker.players_told) == [1, 3]
    assert await coalescer._news_for_players(worker, 2, count_frames(5)) == count_frames(5)


@pytest.mark.services
async def test_workers_share_what_players_were_told(settings):
    settings.REDIS_URL = os.environ["REDIS_URL"].split("?")[0].rsplit("/", 1)[0] + "/9"
    first, second = coalescer.LoopState(), coalescer.LoopState()
    admin = redis.asyncio.from_url(settings.REDIS_URL)
    try:
        await admin.delete("knewit:told:77")
        assert await coalescer._news_for_players(first, 77, count_frames(40)) == count_frames(40)
        assert await coalescer._news_for_players(second, 77, count_frames(40)) == []
        assert await coalescer._news_for_players(second, 77, count_frames(41)) == count_frames(41)
        assert await coalescer._news_for_players(first, 77, count_frames(41)) == []
        assert 0 < await admin.ttl("knewit:told:77") <= coalescer.TOLD_TTL_S
    finally:
        await loops.shutdown()  # closes the worker's Redis client, which both states share here
        await admin.delete("knewit:told:77")
        await admin.aclose()
