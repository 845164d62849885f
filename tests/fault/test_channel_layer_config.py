"""The Redis channel layer that knewit.config builds suits channels-redis under the installed redis-py.

redis-py 8 (unpinned: it comes with channels-redis) defaults to a 5 s read timeout and a non-blocking pool of
100 connections. The first killed an idle worker's sockets every few seconds; the second cut a 200-student
reveal short. Found by test_worker_kill; checked here in a millisecond, without connecting to Redis.
"""

from __future__ import annotations

from tests.fault.support import channel_layer_defects


def test_the_redis_channel_layer_fits_channels_redis():
    assert channel_layer_defects("redis://127.0.0.1:6379/0") == []
