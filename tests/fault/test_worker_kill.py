"""Issue 7, item 10: one of two workers dies (SIGKILL or SIGTERM) during question 3 of a 200-student quiz.

Two Daphne processes share PostgreSQL and Redis. Half of the students start on each worker and know both
URLs. The host is on the victim, which opened question 3 and so holds its close timer; a second host
socket (the watcher) sits on the survivor and times the close. Nobody ends question 3: the survivor's
sweeper must close it from the deadline in the database.
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

CORRECT = [1, 0, 2, 3, 1]
TIME_LIMIT = 12  # s; only question 3 runs to its deadline (students back after the kill still answer it)
STUDENTS = 200
BACK_WITHIN_S = 10
SWEEP_S, GRACE_S = 1.0, 0.5  # settings.KNEWIT: the sweeper's period and the answer grace
LATE_S = 1.5  # slack for the reveal's broadcast on a busy machine


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
async def test_worker_dies_during_question_3(sig, tmp_path):
    token, quiz_id = await make_world(f"kill_{sig.name.lower()}", CORRECT, TIME_LIMIT)
    env = {
        "DATABASE_URL": database_url_for_subprocess(),
        "REDIS_URL": os.environ["REDIS_URL"],
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    timeline: list[str] = []

    def mark(what: str) -> None:
        timeline.append(f"{loop.time() - t0:6.2f} s  {what}")

    host, watcher = HostClient(token), HostClient(token)
    tasks: list[asyncio.Task] = []
    with logged_workers(2, env, tmp_path) as (survivor, victim):
        try:
            code = await host.create_session(victim.ws_url, quiz_id)
            await watcher.resume(survivor.ws_url, code)
            mark("workers up, session created")

            bots = [
                Bot(
                    [survivor.ws_url, victim.ws_url] if i % 2 == 0 else [victim.ws_url, survivor.ws_url],
                    code,
                    f"s{i:03d}",
                    choose=chooser(CORRECT, right=i % 5 != 0),
                    answer_delay=(i % 20) * 0.1,
                )
                for i in range(STUDENTS)
            ]
            on_survivor, on_victim = bots[0::2], bots[1::2]
            tasks = start_bots(bots)
            await host.until("lobby.update", lambda m: m["count"] == STUDENTS, timeout=40)
            mark(f"{STUDENTS} students joined")

            await host.send(type="quiz.start")
            for question_num in (1, 2):
                await host.expect("question.next", question_num=question_num)
                results = await host.run_question(question_num, STUDENTS)
                assert sum(results["bins"]) == STUDENTS
                await host.send(type="question.next")
                mark(f"question {question_num} answered by all and ended")

            # Question 3 is open on the victim's clock; let some answers in, then kill it.
            await host.until("histogram", lambda m: m["question_num"] == 3 and m["answered"] >= STUDENTS // 5)
            assert not any(bot.reconnects for bot in bots), "a student lost its socket before the kill"
            victim.proc.send_signal(sig)
            killed_at = loop.time()
            mark(f"{sig.name} sent to the victim")
            exited = asyncio.create_task(asyncio.to_thread(victim.proc.wait, 20))

            snapshot = await host.resume(survivor.ws_url, code)
            assert snapshot["state"] == "question" and snapshot["question"]["question_num"] == 3, snapshot
            mark("host resumed on the survivor")
            await wait_until(
                lambda: all(bot.resumed_after for bot in on_victim),
                timeout=BACK_WITHIN_S - (loop.time() - killed_at),
            )
            back_after = loop.time() - killed_at
            mark(f"all {len(on_victim)} students of the victim resumed on the survivor")
            await exited

            # Nobody ends question 3: the survivor's sweeper closes it at deadline + grace (+ one sweep).
            results = await watcher.expect("question.results", question_num=3, timeout=TIME_LIMIT + 5)
            took = watcher.arrival("question.results", question_num=3) - watcher.arrival(
                "question.next", question_num=3
            )
            mark(f"question 3 closed by the survivor's sweeper, {took:.2f} s after it opened")
            assert TIME_LIMIT <= took <= TIME_LIMIT + GRACE_S + SWEEP_S + LATE_S, took
            assert sum(results["bins"]) == STUDENTS
            await host.expect("question.results", question_num=3)

            await host.send(type="question.next")
            for question_num in (4, 5):
                await host.expect("question.next", question_num=question_num)
                await host.run_question(question_num, STUDENTS)
                await host.send(type="question.next")
                mark(f"question {question_num} answered by all and ended")
            finished = await host.expect("quiz.finished")
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=20)
            mark("quiz finished for everyone")
        except BaseException:
            print("\n".join(timeline))
            print(f"--- victim log ---\n{victim.output()[-3000:]}")
            print(f"--- survivor log ---\n{survivor.output()[-3000:]}")
            raise
        finally:
            await stop_bots(tasks)
            await host.close()
            await watcher.close()
        assert survivor.alive(), survivor.output()[-3000:]

    print("\n".join(timeline))
    dropped = [(bot.name, bot.reconnects) for bot in on_survivor if bot.reconnects]
    assert not dropped, (
        "students on the surviving worker lost their socket",
        dropped,
        survivor.output()[-3000:],
    )
    for bot in on_victim:
        assert bot.reconnects >= 1 and bot.resumed_after and max(bot.resumed_after) < BACK_WITHIN_S
    assert back_after < BACK_WITHIN_S
    for bot in bots:
        assert bot.final == finished["leaderboard"], bot.name
        assert set(bot.acknowledged) == set(range(1, len(CORRECT) + 1)), (bot.name, bot.acknowledged)
    await check_database(code, bots, finished["leaderboard"], len(CORRECT))
