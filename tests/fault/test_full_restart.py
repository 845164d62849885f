"""Issue 7, item 11: every worker stops and new processes start on the same ports; the session goes on from
the database and every client resumes.

Two variants: all workers stopped (SIGTERM) after a reveal, between two questions; and all workers killed
(SIGKILL) mid-question and kept down past the question's deadline, so the first restarted worker's sweeper
must close the overdue question.
"""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from tests.fault.support import (
    Bot,
    HostClient,
    check_database,
    chooser,
    make_world,
    start_bots,
    stop_bots,
    wait_until,
)
from tests.servers import database_url_for_subprocess, logged_workers

pytestmark = [
    pytest.mark.services,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

CORRECT = [2, 0, 3, 1]
TIME_LIMIT = 6
STUDENTS = 60
BACK_WITHIN_S = 10


def env() -> dict[str, str]:
    return {
        "DATABASE_URL": database_url_for_subprocess(),
        "REDIS_URL": os.environ["REDIS_URL"],
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }


def crowd(urls: list[str], code: str) -> list[Bot]:
    return [
        Bot(
            urls if i % 2 == 0 else urls[::-1],
            code,
            f"r{i:02d}",
            choose=chooser(CORRECT, right=i % 4 != 0),
            answer_delay=(i % 10) * 0.1,
        )
        for i in range(STUDENTS)
    ]


async def stop_all(workers, sig: int) -> None:
    """Signal every worker at once and wait for each to exit, without blocking the bots' event loop."""
    for worker in workers:
        worker.proc.send_signal(sig)
    await asyncio.gather(*(asyncio.to_thread(worker.proc.wait, 20) for worker in workers))


async def start_all(workers) -> None:
    await asyncio.gather(*(asyncio.to_thread(worker.start) for worker in workers))


async def test_all_workers_stopped_between_questions_and_started_again(tmp_path):
    token, quiz_id = await make_world("restart_between", CORRECT, TIME_LIMIT)
    host = HostClient(token)
    tasks: list[asyncio.Task] = []
    with logged_workers(2, env(), tmp_path) as pair:
        try:
            urls = [w.ws_url for w in pair]
            code = await host.create_session(urls[0], quiz_id)
            bots = crowd(urls, code)
            tasks = start_bots(bots)
            await host.start_quiz(STUDENTS)
            before = await host.run_question(1, STUDENTS)
            await wait_until(lambda: all(1 in bot.results for bot in bots), timeout=10)

            await stop_all(pair, signal.SIGTERM)
            assert not any(w.ping(timeout=0.5) for w in pair)
            await asyncio.sleep(1)  # the students keep knocking on closed ports
            await start_all(pair)
            restarted_at = asyncio.get_running_loop().time()

            snapshot = await host.resume(urls[1], code)
            assert snapshot["state"] == "results" and snapshot["count"] == STUDENTS, snapshot
            assert snapshot["leaderboard"] == before["leaderboard"]
            await wait_until(
                lambda: all(bot.resumed_after for bot in bots),
                timeout=BACK_WITHIN_S - (asyncio.get_running_loop().time() - restarted_at),
            )

            await host.send(type="question.next")
            for question_num in (2, 3, 4):
                await host.expect("question.next", question_num=question_num)
                await host.run_question(question_num, STUDENTS)
                await host.send(type="question.next")
            finished = await host.expect("quiz.finished")
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=20)
        except BaseException:
            for worker in pair:
                print(f"--- worker {worker.port} log ---\n{worker.output()[-3000:]}")
            raise
        finally:
            await stop_bots(tasks)
            await host.close()

    for bot in bots:
        assert bot.final == finished["leaderboard"], bot.name
        assert len(bot.resumed_after) == 1 and bot.resumed_after[0] < BACK_WITHIN_S, (
            bot.name,
            bot.resumed_after,
        )
        assert set(bot.results) == {1, 2, 3, 4}, (bot.name, sorted(bot.results))
    await check_database(code, bots, finished["leaderboard"], len(CORRECT))


async def test_all_workers_killed_mid_question_and_down_past_its_deadline(tmp_path):
    token, quiz_id = await make_world("restart_mid", CORRECT, TIME_LIMIT)
    host = HostClient(token)
    tasks: list[asyncio.Task] = []
    loop = asyncio.get_running_loop()
    with logged_workers(2, env(), tmp_path) as pair:
        try:
            urls = [w.ws_url for w in pair]
            code = await host.create_session(urls[0], quiz_id)
            bots = crowd(urls, code)
            tasks = start_bots(bots)
            await host.start_quiz(STUDENTS)
            await host.run_question(1, STUDENTS)
            await host.send(type="question.next")
            await host.expect("question.next", question_num=2)
            opened = loop.time()
            await host.until("histogram", lambda m: m["question_num"] == 2 and m["answered"] >= STUDENTS // 3)

            await stop_all(pair, signal.SIGKILL)
            acknowledged_before = {bot.name: dict(bot.acknowledged) for bot in bots}
            await asyncio.sleep(
                max(0.0, opened + TIME_LIMIT + 1.0 - loop.time())
            )  # down past deadline + grace
            await start_all(pair)
            restarted_at = loop.time()

            # The overdue question is closed from the database by whichever worker sweeps first.
            snapshot = await host.resume(urls[1], code)
            assert snapshot["state"] in ("question", "results"), snapshot
            if snapshot["state"] == "question":
                assert snapshot["question"]["question_num"] == 2 and snapshot["question"]["time_left_ms"] == 0
                results = await host.expect("question.results", question_num=2, timeout=BACK_WITHIN_S)
                closed_after = loop.time() - restarted_at
            else:
                results, closed_after = None, loop.time() - restarted_at
            await wait_until(
                lambda: all(bot.resumed_after for bot in bots),
                timeout=BACK_WITHIN_S - (loop.time() - restarted_at),
            )
            # The students who did not answer before the crash could not answer after it.
            answered = sum(1 for bot in bots if 2 in bot.acknowledged)
            assert STUDENTS // 3 <= answered < STUDENTS
            if results is not None:
                assert sum(results["bins"]) >= answered

            await host.send(type="question.next")
            for question_num in (3, 4):
                await host.expect("question.next", question_num=question_num)
                await host.run_question(question_num, STUDENTS)
                await host.send(type="question.next")
            finished = await host.expect("quiz.finished")
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=20)
        except BaseException:
            for worker in pair:
                print(f"--- worker {worker.port} log ---\n{worker.output()[-3000:]}")
            raise
        finally:
            await stop_bots(tasks)
            await host.close()

    print(f"question 2 closed {closed_after:.2f} s after the restart")
    assert closed_after < BACK_WITHIN_S
    for bot in bots:
        assert bot.final == finished["leaderboard"], bot.name
        assert {1, 3, 4} <= set(bot.acknowledged), (bot.name, bot.acknowledged)
        # what was acknowledged before the crash is still there, unchanged
        assert bot.acknowledged.items() >= acknowledged_before[bot.name].items(), bot.name
    await check_database(code, bots, finished["leaderboard"], len(CORRECT), complete=False)
