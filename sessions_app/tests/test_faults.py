"""Server faults are not the client's mistake: `internal`, an ERROR log with a traceback, nothing changed."""

from __future__ import annotations

import logging

import pytest
from channels.db import database_sync_to_async
from django.db import OperationalError

from sessions_app import engine, protocol
from sessions_app.models import Answer, GameSession
from sessions_app.tests.test_consumers import host_with_session, join

pytestmark = pytest.mark.django_db(transaction=True)


def errors_logged(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def fail_first_call(monkeypatch, name: str, exc: Exception, module=engine) -> list[int]:
    """Make module.<name> raise `exc` on its first call only; returns the list of calls made."""
    real = getattr(module, name)
    calls: list[int] = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise exc
        return real(*args, **kwargs)

    # Module level: answers are recorded on asgiref's database thread, which sees the same module.
    monkeypatch.setattr(module, name, flaky)
    return calls


async def test_a_database_error_while_recording_answers_is_internal_and_the_retry_counts_once(
    connect, host, host_token, quiz_for, monkeypatch, caplog
):
    quiz = await quiz_for(host, default_time_limit=240)
    host_ws, code = await host_with_session(connect, host_token, quiz)
    player, joined = await join(connect, code, "Ada")
    await host_ws.send(type="quiz.start")
    await player.expect("question.next", question_num=1)
    calls = fail_first_call(
        monkeypatch, "_insert_unless_conflicting", OperationalError("injected"), module=engine.answers
    )

    with caplog.at_level(logging.ERROR):
        await player.send(type="answer.submit", answer_idx=0, msg_id="ada-q1")
        error = await player.error("internal")
    assert error["message"] == protocol.INTERNAL_MESSAGE
    assert error["ref"] == {"type": "answer.submit", "msg_id": "ada-q1"}
    (record,) = errors_logged(caplog)  # once for the batch, not once per answer nor again by the consumer
    assert "batch" in record.getMessage()
    assert record.exc_info is not None and isinstance(record.exc_info[1], OperationalError)
    assert "injected" in caplog.text and "Traceback" in caplog.text

    recorded = await player.call("answer.recorded", type="answer.submit", answer_idx=0, msg_id="ada-q1")
    assert recorded == {
        "type": "answer.recorded",
        "question_num": 1,
        "round": 1,
        "answer_idx": 0,
        "duplicate": False,
    }
    assert len(calls) == 2
    player_id = joined["player_id"]
    rows = await database_sync_to_async(
        lambda: list(Answer.objects.filter(player__public_id=player_id).values_list("choice_idx", "msg_id"))
    )()
    assert rows == [(0, "ada-q1")]


async def test_an_unexpected_exception_in_a_handler_is_internal_not_invalid(
    connect, host, host_token, monkeypatch, caplog
):
    client = await connect(f"is_host=true&token={host_token}")
    fail_first_call(monkeypatch, "quiz_list", RuntimeError("boom"))
    with caplog.at_level(logging.ERROR):
        await client.send(type="quiz.list", msg_id="l1")
        error = await client.expect("error")
    assert error == {
        "type": "error",
        "code": "internal",
        "message": protocol.INTERNAL_MESSAGE,
        "ref": {"type": "quiz.list", "msg_id": "l1"},
    }
    (record,) = errors_logged(caplog)
    assert "quiz.list" in record.getMessage()
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)
    assert "Traceback" in caplog.text and "boom" in caplog.text
    # The socket stays open and the same message now works.
    assert (await client.call("quiz.list", type="quiz.list", msg_id="l1"))["quizzes"] == []


async def test_a_host_command_that_crashes_remembers_nothing_so_its_retry_applies(
    connect, host, host_token, quiz_for, monkeypatch, caplog
):
    quiz = await quiz_for(host)
    host_ws, code = await host_with_session(connect, host_token, quiz)
    fail_first_call(monkeypatch, "quiz_start", RuntimeError("boom"))
    with caplog.at_level(logging.ERROR):
        await host_ws.send(type="quiz.start", msg_id="start-1")
        assert (await host_ws.error("internal"))["ref"] == {"type": "quiz.start", "msg_id": "start-1"}
    assert len(errors_logged(caplog)) == 1
    session = await database_sync_to_async(GameSession.objects.get)(code=code)
    assert session.state == GameSession.State.LOBBY
    question = await host_ws.call("question.next", type="quiz.start", msg_id="start-1")
    assert question["question_num"] == 1 and "duplicate" not in question
