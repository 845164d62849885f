"""A worker's per-event-loop state and background tasks (one event loop per worker; tests run many).

Each live module keeps its own state, made on first use in a loop and dropped by shutdown().
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from typing import TypeVar

T = TypeVar("T")
_registries: list[tuple[weakref.WeakKeyDictionary, Callable | None]] = []
_tasks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # loop -> set of tasks


def per_loop(
    factory: Callable[[], T], close: Callable[[T], Awaitable[None]] | None = None
) -> Callable[[], T]:
    """A getter of this event loop's instance of `factory()`; `close` runs on it at shutdown."""
    states: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    _registries.append((states, close))

    def get() -> T:
        loop = asyncio.get_running_loop()
        state = states.get(loop)
        if state is None:
            state = states[loop] = factory()
        return state

    return get


def spawn(coro: Coroutine) -> asyncio.Task:
    """A background task of this loop, cancelled by shutdown().

    It runs in a fresh context: a task spawned from a sync view's async_to_sync call must not inherit
    that call's (soon finished) thread executor, or its database calls would fail.
    """
    loop = asyncio.get_running_loop()
    task = loop.create_task(coro, context=contextvars.Context())
    tasks = _tasks.setdefault(loop, set())
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return task


async def shutdown() -> None:
    """Cancel this loop's background work and forget its state (tests call it between tests)."""
    loop = asyncio.get_running_loop()
    tasks = _tasks.pop(loop, set())
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for states, close in _registries:
        state = states.pop(loop, None)
        if state is not None and close is not None:
            await close(state)
