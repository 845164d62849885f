"""Two real Daphne workers, Redis and the test database serve one session; then one worker is killed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest
import websockets
from channels.db import database_sync_to_async

from quizzes_app.hosts import host_ensure
from quizzes_app.models import Choice, Question, Quiz
from sessions_app.auth import host_token_create
from sessions_app.models import Answer, GameSession
from sessions_app.selectors import ranked_players
from tests.servers import database_url_for_subprocess, workers

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
from knewit_client import Bot

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CORRECT = [1, 0, 2]
TIME_LIMIT = 6


@database_sync_to_async
def make_world():
    host = host_ensure(username="multi_host")
    quiz = Quiz.objects.create(title="Multi", owner=host, default_time_limit=TIME_LIMIT)
    for order, correct in enumerate(CORRECT):
        question = Question.objects.create(quiz=quiz, order=order, prompt=f"Q{order + 1}")
        Choice.objects.bulk_create(
            Choice(question=question, order=i, text=f"opt {i}", is_correct=i == correct) for i in range(3)
        )
    return host_token_create(user=host), quiz.pk


class Host:
    """The host over the plain protocol, able to move to another worker and resume."""

    def __init__(self, url: str, token: str):
        self.url, self.token, self.ws = url, token, None

    async def connect(self, url: str | None = None) -> None:
        self.ws = await websockets.connect(f"{url or self.url}?is_host=true&token={self.token}")
        assert (await self.expect("welcome"))["is_host"] is True

    async def send(self, **message) -> None:
        await self.ws.send(json.dumps(message))

    async def expect(self, kind: str, timeout: float = 15, **fields) -> dict:
        async with asyncio.timeout(timeout):
            while True:
                message = json.loads(await self.ws.recv())
                if message["type"] == kind and all(message.get(k) == v for k, v in fields.items()):
                    return message
                if message["type"] == "ping":
                    await self.send(type="pong", ts=message["ts"])

    async def until(self, kind: str, done, timeout: float = 15) -> dict:
        async with asyncio.timeout(timeout):
            while True:
                message = await self.expect(kind, timeout=timeout)
                if done(message):
                    return message


def chooser(right: bool):
    return lambda q: CORRECT[q["question_num"] - 1] if right else (CORRECT[q["question_num"] - 1] + 1) % 3


async def test_two_workers_one_session_and_a_worker_killed_mid_question():
    token, quiz_id = await make_world()
    env = {
        "DATABASE_URL": database_url_for_subprocess(),
        "REDIS_URL": os.environ["REDIS_URL"],
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    with workers(2, env) as (a, b):
        host = Host(b.ws_url, token)
        await host.connect()
        await host.send(type="session.create", quiz_id=quiz_id)
        code = (await host.expect("session.created"))["session_id"]

        # Three students on worker A; three on B, who fall back to A when B dies.
        bots = [
            Bot([a.ws_url], code, f"a{i}", choose=chooser(i != 2), answer_delay=0.1 * i) for i in range(3)
        ]
        bots += [
            Bot([b.ws_url, a.ws_url], code, f"b{i}", choose=chooser(i != 2), answer_delay=(0.2, 0.3, 2.5)[i])
            for i in range(3)
        ]
        tasks = [asyncio.create_task(bot.run()) for bot in bots]
        await host.until("lobby.update", lambda m: m["count"] == 6)

        await host.send(type="quiz.start")
        await host.until("histogram", lambda m: m["question_num"] == 1 and m["answered"] == 6)
        await host.send(type="question.end")
        results = await host.expect("question.results", question_num=1)
        assert results["bins"][CORRECT[0]] == 4 and sum(results["bins"]) == 6

        await host.send(type="question.next")
        await host.until("histogram", lambda m: m["question_num"] == 2 and m["answered"] >= 5)
        b.kill(signal.SIGKILL)  # the worker that opened question 2 dies with it open

        await host.connect(a.ws_url)
        await host.send(type="session.resume", session_id=code)
        snapshot = await host.expect("session.snapshot")
        assert snapshot["state"] == "question" and snapshot["question"]["question_num"] == 2
        # Nobody ends question 2: worker A's sweeper closes it at its deadline.
        results = await host.expect("question.results", question_num=2, timeout=TIME_LIMIT + 5)
        assert sum(results["bins"]) == 6

        await host.send(type="question.next")
        await host.until("histogram", lambda m: m["question_num"] == 3 and m["answered"] == 6)
        await host.send(type="question.next")
        finished = await host.expect("quiz.finished")
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=20)

    for bot in bots:
        assert bot.final == finished["leaderboard"]
        assert set(bot.acknowledged) == {1, 2, 3}
    for bot in bots[3:]:
        assert bot.reconnects >= 1 and max(bot.resumed_after) < 10
    await check_database(code, bots, finished["leaderboard"])


@database_sync_to_async
def check_database(code: str, bots: list[Bot], leaderboard: list[dict]) -> None:
    session = GameSession.objects.get(code=code)
    answers = list(
        Answer.objects.filter(session=session).values_list(
            "player__public_id", "question_index", "choice_idx"
        )
    )
    assert len(answers) == len(set((p, q) for p, q, _ in answers)) == 18  # exactly once each
    recorded = {(p, q + 1): c for p, q, c in answers}
    for bot in bots:
        for question_num, choice in bot.acknowledged.items():
            assert recorded[(bot.player_id, question_num)] == choice
    expected = [p.public_id for p in ranked_players(session)]
    assert [row["player_id"] for row in leaderboard] == expected
