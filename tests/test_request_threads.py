"""HTTP requests' synchronous code runs on the worker's few long-lived threads (knewit/request_threads.py),
each request on one of them throughout, never more at once than there are threads."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from asgiref.sync import sync_to_async
from channels.testing import HttpCommunicator

from knewit.asgi import application
from knewit.request_threads import PooledRequestThreads


def scope(path: str = "/") -> dict:
    return {"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""}


async def test_requests_share_a_few_threads_one_each_and_never_more_at_once():
    seen: list[tuple[str, str]] = []  # (the thread of a request's first sync call, of its second)
    running = {"now": 0, "most": 0}
    lock = threading.Lock()

    def work() -> str:
        with lock:
            running["now"] += 1
            running["most"] = max(running["most"], running["now"])
        time.sleep(0.01)
        with lock:
            running["now"] -= 1
        return threading.current_thread().name

    async def app(scope, receive, send):  # as Django runs a sync view: thread-sensitive calls
        first = await sync_to_async(work)()
        second = await sync_to_async(work)()
        seen.append((first, second))

    pooled = PooledRequestThreads(app, size=3)
    await asyncio.gather(*(pooled(scope(), None, None) for _ in range(30)))
    assert len(seen) == 30
    assert all(first == second for first, second in seen), "a request moved between threads"
    names = {first for first, _ in seen}
    assert len(names) <= 3 and all(name.startswith("http-") for name in names)
    assert running["most"] <= 3


async def test_other_scopes_go_straight_to_the_app():
    calls = []

    async def app(scope, receive, send):
        calls.append((scope["type"], threading.current_thread().name))

    pooled = PooledRequestThreads(app, size=1)
    await pooled({"type": "websocket"}, None, None)
    assert calls == [("websocket", threading.current_thread().name)]


@pytest.mark.django_db(transaction=True)
async def test_the_site_answers_through_the_pool():
    ping = HttpCommunicator(application, "GET", "/ping", headers=[(b"host", b"127.0.0.1")])
    response = await ping.get_response()
    assert response["status"] == 200
