"""HTTP requests' synchronous code on a few long-lived threads, instead of a new thread per request.

Under ASGI, Django runs each request's synchronous code (our views, the middleware) on a thread of
its own: asgiref's ThreadSensitiveContext makes a one-thread executor per request and, when the
request is done, starts another thread to shut it down. Both threads are started from the event
loop, which waits for each new thread to be scheduled: under a classroom's 2,000 joins the loop spent
9% of its time frozen in Thread.start (bench/RESULTS.md, issue #16), every socket waiting with it.

This hands each HTTP request one of `size` executors that live as long as the worker, through
asgiref's own ThreadSensitiveContext(executor=...): Django's per-request context then finds ours
already entered and uses it. A request waits for a free thread when all are busy, so at most `size`
requests run synchronous code at once; their database connections live on their threads and are
reused (CONN_MAX_AGE), like the Channels database thread's.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext


class PooledRequestThreads:
    """ASGI middleware: HTTP requests take one of `size` long-lived threads for their sync code."""

    def __init__(self, app, size: int) -> None:
        self.app = app
        self.executors = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"http-{n}") for n in range(size)
        ]
        self.idle: asyncio.Queue | None = None  # made on the worker's event loop, at its first request

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.idle is None:
            self.idle = asyncio.Queue()
            for executor in self.executors:
                self.idle.put_nowait(executor)
        executor = await self.idle.get()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.app(scope, receive, send)
        finally:
            self.idle.put_nowait(executor)
