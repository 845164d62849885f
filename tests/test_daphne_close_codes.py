"""Close codes through a real Daphne: autobahn sends only 1000 and 3000-4999 from an application.

The consumer tests run without Daphne, so a close code Daphne refuses would pass there and turn into
1011 (internal error) in production. This one floods a real server's socket past the rate limit.
"""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from sessions_app.live.sockets import CLOSE_POLICY
from tests.live_server import live_server

pytestmark = pytest.mark.slow


def test_a_flooding_socket_is_closed_with_the_policy_code():
    with live_server() as server:
        ws_url = server.url.replace("http://", "ws://") + "/ws"
        code, kinds = asyncio.run(flood(ws_url))
        log = server.log_tail(20_000)
    assert "rate_limited" in kinds
    assert code == CLOSE_POLICY == 4008, (code, log[-2000:])
    assert "Exception inside application" not in log and "Traceback" not in log, log[-2000:]


async def flood(ws_url: str) -> tuple[int | None, set[str]]:
    kinds: set[str] = set()
    async with websockets.connect(ws_url, open_timeout=10) as ws:
        for _ in range(200):
            await ws.send(json.dumps({"type": "ping"}))
        try:
            async with asyncio.timeout(10):
                async for text in ws:
                    message = json.loads(text)
                    kinds.add(message["code"] if message["type"] == "error" else message["type"])
        except websockets.ConnectionClosed:
            pass
        return ws.close_code, kinds
