"""The worker's hub: one channel-layer subscription per group, and catching up after the layer was lost."""

from __future__ import annotations

import asyncio

import pytest

from sessions_app.live import hub, loops
from sessions_app.live.fanout import frame
from tests.fault.flaky_layer import FlakyLayer


class FakeSocket:
    def __init__(self) -> None:
        self.pushed: list[str] = []
        self.caught_up = False

    async def session_push(self, message: dict) -> None:
        self.pushed.append(message["text"])

    async def catch_up(self) -> None:
        self.caught_up = True


@pytest.fixture
def layer(settings, monkeypatch):
    FlakyLayer.failures = {}
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.fault.flaky_layer.FlakyLayer"}}
    settings.REDIS_URL = None  # no Redis to ask whether it kept its data: every failure is a loss
    monkeypatch.setattr(hub, "RETRY_S", 0.01)
    yield
    FlakyLayer.failures = {}


async def until(predicate, timeout: float = 2.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def test_a_broadcast_is_one_layer_message_per_worker(layer):
    worker = hub.get()
    sockets = [FakeSocket() for _ in range(50)]
    try:
        for socket in sockets:
            await worker.join("session.123456.players", socket)
        assert list(worker.layer.groups["session.123456.players"]) == [worker.channel]
        await worker.layer.group_send("session.123456.players", frame("session.123456.players", "hi"))
        await until(lambda: all(s.pushed for s in sockets))
        assert all(s.pushed == ["hi"] for s in sockets)
    finally:
        await loops.shutdown()


async def test_a_large_frame_is_written_in_batches_with_the_loop_running_between(layer, monkeypatch):
    """Each socket's copy of a frame is held until the reactor writes it: batches bound that."""
    monkeypatch.setattr(hub, "DELIVER_BYTES", 10 * len("board"))
    worker = hub.get()
    sockets = [FakeSocket() for _ in range(35)]
    delivered_when_the_loop_ran: list[int] = []

    async def watch() -> None:
        while not all(s.pushed for s in sockets):
            delivered_when_the_loop_ran.append(sum(1 for s in sockets if s.pushed))
            await asyncio.sleep(0)

    try:
        for socket in sockets:
            await worker.join("session.123456.players", socket)
        watcher = asyncio.create_task(watch())
        await asyncio.sleep(0)
        await worker.deliver(frame("session.123456.players", "board"))
        await watcher
        assert all(s.pushed == ["board"] for s in sockets)
        assert {10, 20, 30} <= set(delivered_when_the_loop_ran)
    finally:
        await loops.shutdown()


async def test_the_last_socket_to_leave_unsubscribes_the_worker(layer):
    worker = hub.get()
    first, second = FakeSocket(), FakeSocket()
    try:
        await worker.join("session.123456.host", first)
        await worker.join("session.123456.host", second)
        await worker.leave("session.123456.host", first)
        assert worker.channel in worker.layer.groups["session.123456.host"]
        await worker.leave("session.123456.host", second)
        assert worker.channel not in worker.layer.groups.get("session.123456.host", {})
    finally:
        await loops.shutdown()


async def test_a_failed_group_add_is_retried_and_the_socket_catches_up(layer):
    worker = hub.get()
    socket = FakeSocket()
    try:
        FlakyLayer.failures["group_add"] = 2  # both attempts at join time
        await worker.join("session.123456.player.pabc", socket)  # does not raise
        await until(lambda: "session.123456.player.pabc" in worker.subscribed)
        await until(lambda: socket.caught_up)  # it may have missed a broadcast
    finally:
        await loops.shutdown()


async def test_after_losing_the_layer_only_sockets_that_were_in_groups_catch_up(layer):
    worker = hub.get()
    before, after = FakeSocket(), FakeSocket()
    try:
        await worker.join("session.123456.players", before)
        FlakyLayer.failures["receive"] = 1  # the listener loses the layer, then it comes back
        worker.layer.groups.clear()  # ... empty, like a restarted Redis
        await until(lambda: before.caught_up)
        assert worker.channel in worker.layer.groups["session.123456.players"]  # subscribed again
        await worker.join("session.123456.players", after)
        await worker.layer.group_send("session.123456.players", frame("session.123456.players", "q3"))
        await until(lambda: after.pushed == ["q3"])
        assert not after.caught_up
    finally:
        await loops.shutdown()


async def test_groups_whose_sockets_vanished_are_forgotten(layer):
    import gc

    worker = hub.get()
    try:
        socket = FakeSocket()
        await worker.join("session.123456.player.pgone", socket)
        del socket  # closed without disconnect(): nothing called leave()
        gc.collect()
        await worker._prune()
        assert "session.123456.player.pgone" not in worker.members
        assert worker.channel not in worker.layer.groups.get("session.123456.player.pgone", {})
    finally:
        await loops.shutdown()
