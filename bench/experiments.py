"""What-if runs: the app's ASGI application with bench-only patches, to measure a suggested change
before anyone makes it in the app. Not the app's code; results are labelled as experiments.

    python bench/run.py --students 2000 --experiment layer,dispatch

KNEWIT_BENCH_EXPERIMENTS (comma-separated) picks the patches:

- `layer`: channels' InMemoryChannelLayer runs `_clean_expired` (a walk over every channel queue
  and every group membership) on every `receive` and `group_send`, so delivering one broadcast
  to N sockets costs O(N^2). The patch runs that sweep at most once a second.
- `dispatch`: channels' AsyncConsumer.dispatch awaits `aclose_old_connections()` (a hop onto the
  single thread-sensitive database thread) before every handler, including `session.push`,
  which only forwards ready text. The patch forwards `session.push` without that hop.
"""

from __future__ import annotations

import os
import time

from knewit.asgi import application  # sets Django up first

EXPERIMENTS = {e.strip() for e in os.environ.get("KNEWIT_BENCH_EXPERIMENTS", "").split(",") if e.strip()}
KNOWN = {"layer", "dispatch"}
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
