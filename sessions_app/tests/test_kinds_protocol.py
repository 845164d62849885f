"""Every question kind played over /ws by a client that knows only docs/PROTOCOL.md (the example
player's random_answer), through knewit.asgi.application."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from channels.db import database_sync_to_async

from knewit.testing import EVERY_KIND
from sessions_app.models import Answer

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
from knewit_client import random_answer

pytestmark = pytest.mark.django_db(transaction=True)

WRONG_FIELD = {"single": {"text": "x"}, "multi": {"answer_idx": 0}, "truefalse": {"value": 1},
               "poll": {"order": [0, 1, 2]}, "text": {"answer_idxs": [0]}, "slider": {"answer_idx": 0},
               "order": {"text": "x"}}  # fmt: skip


async def test_a_protocol_client_plays_every_kind(connect, host, host_token, every_kind_quiz):
    quiz = await database_sync_to_async(every_kind_quiz)(host)
    host_ws = await connect(f"is_host=true&token={host_token}")
    code = (await host_ws.call("session.created", type="session.create", quiz_id=quiz.pk))["session_id"]
    ada, bo = await connect(), await connect()
    for client, name in ((ada, "Ada"), (bo, "Bo")):
        await client.call("session.joined", type="session.join", session_id=code, name=name)

    for number, kind in enumerate(EVERY_KIND, start=1):
        await host_ws.send(type="quiz.start" if number == 1 else "question.next")
        question = await ada.expect("question.next", question_num=number)
        assert question["kind"] == kind
        answer = random_answer(question)
        recorded = await ada.call("answer.recorded", type="answer.submit", msg_id=f"a{number}", **answer)
        assert {k: v for k, v in recorded.items() if k in answer} == answer
        await bo.expect("question.next", question_num=number)
        await bo.send(type="answer.submit", msg_id=f"b{number}", **WRONG_FIELD[kind])
        refused = await bo.error("invalid")
        assert refused["ref"] == {"type": "answer.submit", "msg_id": f"b{number}"}
        await host_ws.send(type="question.end")
        results = await ada.expect("question.results", question_num=number)
        assert results["kind"] == kind and "explanation" in results
        verdict = await ada.expect("answer.result", question_num=number)
        assert verdict["answered"] is True and verdict["scored"] is (kind != "poll")
        assert (await bo.expect("answer.result", question_num=number))["answered"] is False

    await host_ws.send(type="question.next")
    final = await ada.expect("quiz.finished")
    assert [row["name"] for row in final["leaderboard"]][-1] == "Bo"
    counts = await database_sync_to_async(lambda: Answer.objects.filter(player__name="Ada").count())()
    assert counts == len(EVERY_KIND)
