"""What-if runs: the app's ASGI application with bench-only patches, to measure a suggested change
before anyone makes it in the app. Not the app's code; results are labelled as experiments.

    python bench/run.py --students 2000 --experiment layer

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
The app has since adopted what the other experiments of earlier sessions measured (a quiet players'
lobby, one flush at a time, heartbeats written in bulk, pushes without the database hop), so they
are gone; bench/runs/ keeps their figures.
"""

from __future__ import annotations

import os
import time

from knewit.asgi import application  # sets Django up first

EXPERIMENTS = {e.strip() for e in os.environ.get("KNEWIT_BENCH_EXPERIMENTS", "").split(",") if e.strip()}
KNOWN = {"layer", "redis_timeout", "redis_pool"}
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

__all__ = ["EXPERIMENTS", "application"]
