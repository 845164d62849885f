"""Issue 7, item 13: presence comes from heartbeats with a timeout, not from disconnect().

Workers run with short heartbeat knobs (KNEWIT_PING_INTERVAL_S, KNEWIT_PRESENCE_TIMEOUT_S). A student whose
network vanishes is played by a raw WebSocket that joins and then falls silent with its TCP connection left
open: the server never sees a close, so disconnect() cannot run, and only the missing pongs can tell.
"""

from __future__ import annotations

import asyncio
import json
import os

import pytest
import websockets

from tests.fault.support import Bot, HostClient, RawSocket, stop_bots
from tests.servers import database_url_for_subprocess, logged_workers

pytestmark = [
    pytest.mark.services,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

PING_S = 1.0
TIMEOUT_S = 4.0
SLACK_S = 1.5  # polling, a ping period, a busy machine


def env() -> dict[str, str]:
    return {
        "DATABASE_URL": database_url_for_subprocess(),
        "REDIS_URL": os.environ["REDIS_URL"],
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "KNEWIT_PING_INTERVAL_S": str(PING_S),
        "KNEWIT_PRESENCE_TIMEOUT_S": str(TIMEOUT_S),
    }


async def make_host() -> str:
    from channels.db import database_sync_to_async

    from quizzes_app.hosts import host_ensure
    from sessions_app.auth import host_token_create

    return await database_sync_to_async(
        lambda: host_token_create(user=host_ensure(username="presence_host"))
    )()


async def presence(host: HostClient, code: str) -> dict[str, bool]:
    """connected per name, as the host sees it on (re)loading its page: from a fresh snapshot."""
    await host.send(type="session.resume", session_id=code)
    snapshot = await host.expect("session.snapshot")
    return {p["name"]: p["connected"] for p in snapshot["players"]}


async def join_silent(port: int, code: str) -> RawSocket:
    silent = await RawSocket.connect(port)
    await silent.expect("welcome")
    await silent.send(type="session.join", session_id=code, name="silent")
    await silent.expect("session.joined")
    return silent  # from here on it reads nothing and answers nothing


async def test_a_silent_socket_shows_connected_until_the_heartbeat_timeout_then_away(tmp_path):
    token = await make_host()
    loop = asyncio.get_running_loop()
    host = HostClient(token)
    tasks: list[asyncio.Task] = []
    silent = None
    with logged_workers(2, env(), tmp_path) as (a, b):
        try:
            await host.connect(a.ws_url)
            await host.send(type="session.create")
            code = (await host.expect("session.created"))["session_id"]
            live = Bot([b.ws_url], code, "live")
            tasks = [asyncio.create_task(live.run())]
            silent = await join_silent(b.port, code)
            joined_at = loop.time()

            samples: list[tuple[float, dict[str, bool]]] = []
            while loop.time() - joined_at < TIMEOUT_S + SLACK_S + 1:
                samples.append((loop.time() - joined_at, await presence(host, code)))
                await asyncio.sleep(0.25)
            seen = [(round(t, 2), p.get("silent"), p.get("live")) for t, p in samples]

            assert all(p["live"] for _, p in samples), seen  # pongs keep a live student present
            assert all(p["silent"] for t, p in samples if t < TIMEOUT_S - 0.5), seen
            away = [t for t, p in samples if not p["silent"]]
            assert away and away[0] <= TIMEOUT_S + SLACK_S, seen
            assert all(not p["silent"] for t, p in samples if t >= away[0]), seen

            # The server never closed the silent socket: disconnect() did not run, and it kept pinging.
            frames = await silent.drain_frames()
            pings = [json.loads(data) for op, data in frames if op == 0x1 and b'"ping"' in data]
            assert not any(op == 0x8 for op, _ in frames), "the server closed the silent socket"
            assert len(pings) >= TIMEOUT_S / PING_S - 1, frames

            # A heartbeat brings the student back.
            await silent.send(type="pong", ts=pings[-1]["ts"])
            async with asyncio.timeout(SLACK_S + 1):
                while not (await presence(host, code))["silent"]:
                    await asyncio.sleep(0.1)

            # A clean close is shown at once, pushed to the host (that path does run disconnect()).
            async with websockets.connect(b.ws_url) as closer:
                await closer.recv()  # welcome
                await closer.send(json.dumps({"type": "session.join", "session_id": code, "name": "closer"}))
                while json.loads(await closer.recv())["type"] != "session.joined":
                    pass
            closed_at = loop.time()
            await host.until(
                "lobby.update",
                lambda m: any(p["name"] == "closer" and not p["connected"] for p in m["players"]),
                timeout=SLACK_S + 1,
            )
            assert loop.time() - closed_at < SLACK_S + 1
        except BaseException:
            for worker in (a, b):
                print(f"--- worker {worker.port} log ---\n{worker.output()[-3000:]}")
            raise
        finally:
            if silent is not None:
                silent.abort()
            await stop_bots(tasks)
            await host.close()


async def test_the_host_is_told_when_a_silent_student_times_out(tmp_path):
    token = await make_host()
    host = HostClient(token)
    silent = None
    with logged_workers(1, env(), tmp_path) as (worker,):
        try:
            await host.connect(worker.ws_url)
            await host.send(type="session.create")
            code = (await host.expect("session.created"))["session_id"]
            silent = await join_silent(worker.port, code)
            await host.until(
                "lobby.update", lambda m: any(p["name"] == "silent" and p["connected"] for p in m["players"])
            )
            # Nobody does anything else: the host's page must still learn that the student is gone.
            await host.until(
                "lobby.update",
                lambda m: any(p["name"] == "silent" and not p["connected"] for p in m["players"]),
                timeout=TIMEOUT_S + PING_S + SLACK_S,
            )
        finally:
            if silent is not None:
                silent.abort()
            await host.close()
