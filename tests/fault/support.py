"""Shared pieces of the fault tests: a quiz in the test database, a host client, crowds of Bots, checks."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import websockets
from channels.db import database_sync_to_async

from quizzes_app.hosts import host_ensure
from quizzes_app.models import Choice, Question, Quiz
from sessions_app.auth import host_token_create
from sessions_app.models import Answer, GameSession
from sessions_app.selectors import ranked_players

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
from knewit_client import Bot

__all__ = [
    "Bot", "HostClient", "RawSocket", "bot_summary", "channel_layer_defects", "check_database", "chooser",
    "make_world", "start_bots", "stop_bots", "wait_until",
]  # fmt: skip

OPTIONS = 4
BURST_SENDS = 200  # sockets sending at the same moment when a room answers together


def channel_layer_defects(redis_url: str) -> list[str]:
    """What is wrong with the channel layer that knewit.config builds for this REDIS_URL, found without
    connecting: the Redis client's defaults that channels-redis does not expect (redis-py >= 6 changed them).

    - channels-redis blocks in BZPOPMIN for `brpop_timeout` (5 s) while waiting for messages; a client
      `socket_timeout` not above that makes the read time out on an idle worker, and the TimeoutError escapes
      into whichever consumer holds the receive lock: that socket dies (about one every 5 idle seconds).
    - A non-blocking pool of `max_connections` at most a class's burst of concurrent sends (BURST_SENDS:
      every socket of a room replying to its own answer at once) raises MaxConnectionsError: sends are
      cut short, and consumers receiving at that moment die.
    """
    from channels_redis.core import RedisChannelLayer
    from redis.asyncio import BlockingConnectionPool

    from knewit.config import channel_layers_from_url

    layer_config = channel_layers_from_url(redis_url, os.environ.get("KNEWIT_CHANNEL_LAYER", "core"))[
        "default"
    ]
    if layer_config["BACKEND"] != "channels_redis.core.RedisChannelLayer":
        return []
    layer = RedisChannelLayer(**layer_config.get("CONFIG", {}))
    pool = layer.create_pool(0)  # builds the pool only; nothing connects
    defects = []
    timeout = pool.make_connection().socket_timeout  # the connection class's default unless configured
    if timeout is not None and timeout <= layer.brpop_timeout + 1:
        defects.append(
            f"the channel layer's Redis socket_timeout ({timeout} s, redis-py's default) is not clearly "
            f"above channels-redis's BZPOPMIN timeout ({layer.brpop_timeout} s): idle consumers die with "
            "redis TimeoutError"
        )
    if not isinstance(pool, BlockingConnectionPool) and pool.max_connections <= BURST_SENDS:
        defects.append(
            f"the channel layer's Redis pool (max_connections={pool.max_connections}, redis-py's default, "
            f"raising when full) is smaller than a class's burst of sends (BURST_SENDS={BURST_SENDS}): "
            "MaxConnectionsError"
        )
    return defects


@database_sync_to_async
def make_world(username: str, correct: list[int], time_limit: int) -> tuple[str, int]:
    """A host with a token and a quiz whose question i has `correct[i]` right among OPTIONS options."""
    host = host_ensure(username=username)
    quiz = Quiz.objects.create(title=f"Fault {username}", owner=host, default_time_limit=time_limit)
    for order, right in enumerate(correct):
        question = Question.objects.create(quiz=quiz, order=order, prompt=f"Q{order + 1}")
        Choice.objects.bulk_create(
            Choice(question=question, order=i, text=f"opt {i}", is_correct=i == right) for i in range(OPTIONS)
        )
    return host_token_create(user=host), quiz.pk


def chooser(correct: list[int], right: bool) -> Callable[[dict], int]:
    return lambda q: (
        correct[q["question_num"] - 1] if right else (correct[q["question_num"] - 1] + 1) % OPTIONS
    )


def bot_summary(bots: list[Bot]) -> str:
    """One line per student, for failure output: reconnects, resumes, acknowledged answers, results seen."""
    return "\n".join(
        f"{bot.name} {bot.player_id} reconnects={bot.reconnects} "
        f"resumed_after={[round(t, 2) for t in bot.resumed_after]} "
        f"acknowledged={sorted(bot.acknowledged)} results={sorted(bot.results)} final={bot.final is not None}"
        for bot in bots
    )


class RawSocket:
    """A WebSocket client written on a bare TCP stream, so it does only what it is told: it answers no ping
    (neither the protocol's nor the WebSocket control frames) and can fall silent with its socket left open,
    like a phone that lost its network. Server frames are read only when asked."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, port: int, path: str = "/ws") -> RawSocket:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    async def send(self, **message) -> None:
        payload = json.dumps(message).encode()
        assert len(payload) < 126
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(bytes([0x81, 0x80 | len(payload)]) + mask + masked)
        await self.writer.drain()

    async def frame(self, timeout: float = 5) -> tuple[int, bytes]:
        """The next frame from the server: (opcode, payload)."""
        async with asyncio.timeout(timeout):
            first, second = await self.reader.readexactly(2)
            length = second & 0x7F
            if length == 126:
                length = int.from_bytes(await self.reader.readexactly(2), "big")
            elif length == 127:
                length = int.from_bytes(await self.reader.readexactly(8), "big")
            return first & 0x0F, await self.reader.readexactly(length)

    async def expect(self, kind: str, timeout: float = 5) -> dict:
        async with asyncio.timeout(timeout):
            while True:
                opcode, payload = await self.frame(timeout)
                if opcode == 0x8:
                    raise ConnectionError(f"closed by the server while waiting for {kind}")
                if opcode == 0x1 and (message := json.loads(payload))["type"] == kind:
                    return message

    async def drain_frames(self, timeout: float = 0.5) -> list[tuple[int, bytes]]:
        """Every frame the server has sent so far (read now, after a silence)."""
        frames = []
        with contextlib.suppress(TimeoutError, asyncio.IncompleteReadError):
            while True:
                frames.append(await self.frame(timeout))
        return frames

    def abort(self) -> None:
        self.writer.transport.abort()


def start_bots(bots: list[Bot]) -> list[asyncio.Task]:
    return [asyncio.create_task(bot.run(), name=f"bot-{bot.name}") for bot in bots]


async def stop_bots(tasks: list[asyncio.Task]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> float:
    """Poll until predicate() is true; return the seconds it took, or raise TimeoutError."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(interval)
    return loop.time() - started


class HostClient:
    """The host over the plain protocol. A reader task logs every frame with its arrival time and answers
    pings; the client can move to another worker and resume there."""

    def __init__(self, token: str):
        self.token = token
        self.ws = None
        self.reader: asyncio.Task | None = None
        self.queue: asyncio.Queue = asyncio.Queue()
        self.log: list[tuple[float, dict]] = []  # (loop time, message), every frame on every socket

    async def connect(self, url: str) -> None:
        await self.close()
        self.queue = asyncio.Queue()
        self.ws = await websockets.connect(
            f"{url}?is_host=true&token={self.token}", open_timeout=5, close_timeout=1
        )
        self.reader = asyncio.create_task(self._read(self.ws, self.queue))
        assert (await self.expect("welcome"))["is_host"] is True

    async def _read(self, ws, queue: asyncio.Queue) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for text in ws:
                message = json.loads(text)
                stamp = asyncio.get_running_loop().time()
                self.log.append((stamp, message))
                if message["type"] == "ping":
                    with contextlib.suppress(websockets.ConnectionClosed):
                        await ws.send(json.dumps({"type": "pong", "ts": message["ts"]}))
                queue.put_nowait((stamp, message))
        queue.put_nowait((asyncio.get_running_loop().time(), {"type": "_closed"}))

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.reader
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 2)
        self.ws = self.reader = None

    async def send(self, **message) -> None:
        await self.ws.send(json.dumps(message))

    async def expect(self, kind: str, timeout: float = 15, **fields) -> dict:
        """The next frame of this type (with these field values); others are skipped. Raises on a close."""
        async with asyncio.timeout(timeout):
            while True:
                _, message = await self.queue.get()
                if message["type"] == kind and all(message.get(k) == v for k, v in fields.items()):
                    return message
                if message["type"] == "_closed":
                    raise ConnectionError(f"host socket closed while waiting for {kind}")

    async def until(self, kind: str, done: Callable[[dict], bool], timeout: float = 15) -> dict:
        async with asyncio.timeout(timeout):
            while True:
                message = await self.expect(kind, timeout=timeout)
                if done(message):
                    return message

    async def create_session(self, url: str, quiz_id: int) -> str:
        """Connect to a worker and create a session of the quiz; returns its code."""
        await self.connect(url)
        await self.send(type="session.create", quiz_id=quiz_id)
        return (await self.expect("session.created"))["session_id"]

    async def start_quiz(self, players: int, timeout: float = 30) -> None:
        """Once `players` have joined, start the quiz and wait for question 1."""
        await self.until("lobby.update", lambda m: m["count"] == players, timeout=timeout)
        await self.send(type="quiz.start")
        await self.expect("question.next", question_num=1)

    async def resume(self, url: str, code: str) -> dict:
        await self.connect(url)
        await self.send(type="session.resume", session_id=code)
        return await self.expect("session.snapshot")

    def arrival(self, kind: str, **fields) -> float | None:
        """Loop time of the first logged frame of this type with these fields."""
        for stamp, message in self.log:
            if message["type"] == kind and all(message.get(k) == v for k, v in fields.items()):
                return stamp
        return None

    async def run_question(self, question_num: int, players: int, timeout: float = 30) -> dict:
        """Wait until every player answered the open question, end it, return its question.results."""
        await self.until(
            "histogram", lambda m: m["question_num"] == question_num and m["answered"] == players, timeout
        )
        await self.send(type="question.end")
        return await self.expect("question.results", question_num=question_num)


@database_sync_to_async
def check_database(
    code: str, bots: list[Bot], leaderboard: list[dict], questions: int, complete: bool = True
) -> None:
    """Every acknowledged answer is in the Answer table exactly once, as acknowledged (and, when complete,
    every student answered every question); the leaderboard is the database's ranking and scores."""
    session = GameSession.objects.get(code=code)
    answers = list(
        Answer.objects.filter(session=session).values_list(
            "player__public_id", "question_index", "choice_idx"
        )
    )
    keys = [(p, q) for p, q, _ in answers]
    assert len(keys) == len(set(keys)), "an answer is counted twice"
    recorded = {(p, q + 1): c for p, q, c in answers}
    for bot in bots:
        for question_num, choice in bot.acknowledged.items():
            assert recorded.get((bot.player_id, question_num)) == choice, (bot.name, question_num, choice)
    acknowledged = sum(len(bot.acknowledged) for bot in bots)
    if complete:
        assert len(answers) == acknowledged == len(bots) * questions, (len(answers), acknowledged)
    else:  # an answer committed just before a crash may never have been acknowledged
        assert len(answers) >= acknowledged
    ranked = list(ranked_players(session).values_list("public_id", "score", "correct_count"))
    shown = [(row["player_id"], row["score"], row["correct_count"]) for row in leaderboard]
    assert shown == ranked
