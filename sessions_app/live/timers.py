"""A worker's timers: run a coroutine at a wall-clock time, or every interval.

Nothing here is a fact of the game: deadlines live in the database. A timer is only the fast path of
the worker that set it; every worker's sweeper acts on what is overdue, so a dead worker's question
still closes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from django.utils import timezone

from sessions_app.live import loops

log = logging.getLogger(__name__)


def call_at(when: datetime, fn: Callable[..., Awaitable[None]], *args) -> asyncio.Task:
    async def later() -> None:
        await asyncio.sleep(max(0.0, (when - timezone.now()).total_seconds()))
        await fn(*args)

    return loops.spawn(later())


async def every(interval_s: float, fn: Callable[[], Awaitable[None]]) -> None:
    """Run fn every interval, for ever; a failure is logged and the next round runs all the same."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await fn()
        except Exception:
            log.exception("%s failed", getattr(fn, "__qualname__", fn))
