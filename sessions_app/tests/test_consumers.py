"""docs/PROTOCOL.md end to end through knewit.asgi.application, with an Origin header like a browser's."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from django.test import Client as HttpClient

from quizzes_app.models import Quiz
from sessions_app.models import Answer, GameSession, Player
from sessions_app.tests.wsclient import HOST_HEADER, ORIGIN, open_client

pytestmark = pytest.mark.django_db(transaction=True)

HOST_ONLY = [
    {"type": "session.create"},
    {"type": "quiz.list"},
    {
        "type": "quiz.save",
        "quiz": {"title": "T", "questions": [{"prompt": "p", "options": ["a", "b"], "correct_idx": 0}]},
    },
    {"type": "quiz.load", "quiz_id": 1},
    {"type": "quiz.start"},
    {"type": "question.next"},
    {"type": "question.end"},
    {"type": "quiz.stop"},
    {"type": "player.kick", "player_id": "x"},
    {"type": "session.lock"},
    {"type": "session.unlock"},
    {"type": "session.close"},
]


@database_sync_to_async
def db(fn):
    return fn()


async def host_with_session(connect, host_token, quiz=None, settings=None):
    host = await connect(f"is_host=true&token={host_token}")
    assert host.welcome["is_host"] is True
    msg = {"type": "session.create", "settings": settings or {}}
    if quiz is not None:
        msg["quiz_id"] = quiz.pk
    created = await host.call("session.created", **msg)
    return host, created["session_id"]


async def join(connect, code, name, query=""):
    client = await connect(query)
    joined = await client.call("session.joined", type="session.join", session_id=code, name=name)
    return client, joined


async def test_welcome_and_ping(connect):
    client = await connect("player_id=bot-7")
    assert client.welcome == {"type": "welcome", "player_id": "bot-7", "is_host": False, "protocol": 1}
    assert await client.call("pong", type="ping", ts=123) == {"type": "pong", "ts": 123}


async def test_whole_quiz_with_a_host_and_three_players(connect, host, host_token, quiz_for):
    quiz = await quiz_for(host)
    host_ws, code = await host_with_session(connect, host_token, quiz)
    players = {}
    for name in ("Ada", "Bo", "Cy"):
        players[name], joined = await join(connect, code, name)
        assert joined["name"] == name and joined["rejoin_token"]
    lobby = await host_ws.expect("lobby.update", count=3)
    assert {p["name"] for p in lobby["players"]} == {"Ada", "Bo", "Cy"}
    lobby_for_player = await players["Ada"].expect("lobby.update", count=3)
    assert "players" not in lobby_for_player

    await host_ws.send(type="quiz.start")
    for client in [host_ws, *players.values()]:
        question = await client.expect("question.next")
        assert question["question_num"] == 1 and question["options"] == ["Paris", "Rome", "Madrid", "Berlin"]
        assert "correct_idx" not in question
    recorded = await players["Ada"].call("answer.recorded", type="answer.submit", answer_idx=0)
    assert recorded == {
        "type": "answer.recorded",
        "question_num": 1,
        "round": 1,
        "answer_idx": 0,
        "duplicate": False,
    }
    await players["Bo"].call("answer.recorded", type="answer.submit", answer_idx=2)
    histogram = await host_ws.expect("histogram", answered=2)
    assert histogram["bins"] == [1, 0, 1, 0] and histogram["total"] == 3

    await host_ws.send(type="question.end")
    results = await players["Cy"].expect("question.results")
    assert results["correct_idx"] == 0 and results["bins"] == [1, 0, 1, 0]
    ada_result = await players["Ada"].expect("answer.result")
    assert ada_result["correct"] is True and ada_result["rank"] == 1 and ada_result["points"] > 500
    assert (await players["Bo"].expect("answer.result"))["correct"] is False

    await host_ws.send(type="question.next")
    await players["Cy"].expect("question.next", question_num=2)
    await players["Cy"].call("answer.recorded", type="answer.submit", answer_idx=1)
    await host_ws.send(type="question.next")  # closes question 2, then finishes
    await host_ws.expect("question.results", question_num=2)
    finished = await host_ws.expect("quiz.finished")
    assert [row["name"] for row in finished["leaderboard"]][:2] in (["Ada", "Cy"], ["Cy", "Ada"])
    assert [row["rank"] for row in finished["leaderboard"]] == [1, 2, 3]
    for client in players.values():
        assert (await client.expect("quiz.finished"))["leaderboard"] == finished["leaderboard"]

    await host_ws.send(type="session.close")
    closed = await players["Bo"].expect("session.closed")
    assert closed["reason"]
    assert (await players["Bo"].comm.receive_output(timeout=2))["type"] == "websocket.close"
    session = await db(lambda: GameSession.objects.get(code=code))
    assert session.state == "finished" and session.closed_at is not None
    assert await db(lambda: Answer.objects.filter(session=session).count()) == 3


async def test_quiz_save_list_and_inline_load(connect, host, host_token):
    host_ws, code = await host_with_session(connect, host_token)
    quiz = {"title": "Inline", "questions": [{"prompt": "2+2?", "options": ["3", "4"], "correct_idx": 1}]}
    saved = await host_ws.call("quiz.saved", type="quiz.save", quiz=quiz)
    assert saved["title"] == "Inline" and saved["num_questions"] == 1
    listed = await host_ws.call("quiz.list", type="quiz.list")
    assert {"quiz_id": saved["quiz_id"], "title": "Inline", "num_questions": 1} in listed["quizzes"]
    loaded = await host_ws.call("quiz.loaded", type="quiz.load", quiz={**quiz, "title": "Inline 2"})
    assert loaded["title"] == "Inline 2"
    assert await db(lambda: Quiz.objects.filter(owner=host).count()) == 2
    broken = {"title": "Bad", "questions": [{"prompt": "p", "options": ["only"], "correct_idx": 0}]}
    await host_ws.send(type="quiz.save", quiz=broken)
    assert "Question 1" in (await host_ws.error("invalid"))["message"]
    assert await db(lambda: Quiz.objects.filter(owner=host).count()) == 2


async def test_error_codes_keep_the_socket_open(connect, host, host_token, quiz_for):
    quiz = await quiz_for(host)
    host_ws, code = await host_with_session(connect, host_token, quiz, {"max_players": 2})
    client = await connect()
    await client.comm.send_to(text_data="{not json")
    assert (await client.error("bad_json"))["ref"] == {}
    await client.comm.send_to(bytes_data=b"\x00\x01")
    await client.error("bad_json")
    await client.send(type="no.such", msg_id="m1")
    assert (await client.error("unknown_type"))["ref"] == {"type": "no.such", "msg_id": "m1"}
    await client.send(type="session.join", session_id=code)
    await client.error("invalid")
    await client.send(type="session.join", session_id=code, name=7)
    await client.error("invalid")
    await client.send(type="answer.submit", answer_idx=0)
    await client.error("wrong_state")
    await client.send(type="quiz.start")
    await client.error("forbidden")
    await client.send(type="session.join", session_id="999999", name="x")
    await client.error("not_found")
    await client.comm.send_to(text_data=json.dumps({"type": "ping", "pad": "x" * 5000}))
    await client.error("too_large")
    await join(connect, code, "Ada")
    await client.send(type="session.join", session_id=code, name="ADA ")
    await client.error("name_taken")
    await join(connect, code, "Bo")
    await client.send(type="session.join", session_id=code, name="Cy")
    await client.error("full")
    await host_ws.send(type="session.lock")
    await asyncio.sleep(0.05)
    await client.send(type="session.join", session_id=code, name="Cy")
    await client.error("locked")
    assert await client.call("pong", type="ping")  # still open after all that


async def test_unauthorized_host_is_closed_4401(connect):
    client = await open_client("is_host=true")
    assert client.welcome["code"] == "unauthorized"
    assert (await client.comm.receive_output(timeout=2)) == {"type": "websocket.close", "code": 4401}
    bad_token = await open_client("is_host=true&token=forged", headers=[HOST_HEADER])
    assert bad_token.welcome["code"] == "unauthorized"


async def test_cookie_login_counts_only_with_same_site_origin(connect, host):
    http = HttpClient()
    await database_sync_to_async(http.force_login)(host)
    cookie = (b"cookie", f"sessionid={http.cookies['sessionid'].value}".encode())
    same_site = await connect("is_host=true", headers=[ORIGIN, HOST_HEADER, cookie])
    assert same_site.welcome["is_host"] is True
    no_origin = await open_client("is_host=true", headers=[HOST_HEADER, cookie])
    assert no_origin.welcome["code"] == "unauthorized"
    from channels.testing import WebsocketCommunicator

    from knewit.asgi import application

    for origin in (b"http://evil.example", b"null"):
        comm = WebsocketCommunicator(application, "/ws", headers=[(b"origin", origin), HOST_HEADER, cookie])
        connected, _ = await comm.connect()
        assert not connected


async def test_player_sending_host_messages_is_forbidden_and_changes_nothing(
    connect, host, host_token, quiz_for
):
    quiz = await quiz_for(host)
    host_ws, code = await host_with_session(connect, host_token, quiz)
    player, _ = await join(connect, code, "Mallory")
    before = await db(lambda: list(GameSession.objects.filter(code=code).values()))
    for message in HOST_ONLY:
        await player.send(**message)
        error = await player.error("forbidden")
        assert error["ref"]["type"] == message["type"]
    after = await db(lambda: list(GameSession.objects.filter(code=code).values()))
    assert before == after
    assert await db(lambda: Player.objects.filter(kicked=True).count()) == 0


async def test_host_of_another_session_cannot_take_it(connect, host, host_token, make_host):
    _, code = await host_with_session(connect, host_token)
    other = await database_sync_to_async(make_host)("host_b")
    from sessions_app.auth import host_token_create

    other_token = await database_sync_to_async(host_token_create)(user=other)
    intruder = await connect(f"is_host=true&token={other_token}")
    await intruder.send(type="session.resume", session_id=code)
    await intruder.error("forbidden")
    await intruder.send(type="quiz.start")
    await intruder.error("wrong_state")


async def test_resume_after_dropped_socket_mid_question(connect, host, host_token, quiz_for):
    quiz = await quiz_for(host)
    host_ws, code = await host_with_session(connect, host_token, quiz)
    player, joined = await join(connect, code, "Ada", query="player_id=ada")
    await host_ws.send(type="quiz.start")
    await player.expect("question.next")
    await player.call("answer.recorded", type="answer.submit", answer_idx=1)
    await player.close()

    again = await connect()
    snap = await again.call(
        "session.snapshot", type="session.resume", session_id=code, rejoin_token=joined["rejoin_token"]
    )
    assert snap == {**snap, "type": "session.snapshot", "state": "question", "count": 1}
    assert snap["you"]["player_id"] == "ada" and snap["you"]["name"] == "Ada"
    assert snap["question"]["question_num"] == 1 and snap["question"]["answered_idx"] == 1
    assert 0 < snap["question"]["time_left_ms"] <= 20_000
    await again.send(type="answer.submit", answer_idx=0)
    await again.error("already_answered")
    await host_ws.send(type="question.end")
    assert (await again.expect("answer.result"))["correct"] is False

    host_again = await connect(f"is_host=true&token={host_token}")
    host_snap = await host_again.call("session.snapshot", type="session.resume", session_id=code)
    assert host_snap["state"] == "results" and host_snap["players"][0]["name"] == "Ada"
    assert host_snap["leaderboard"][0]["name"] == "Ada"
    await host_again.send(type="question.next")
    await again.expect("question.next", question_num=2)


async def test_kick_closes_4403_then_resume_and_rejoin_refused(connect, host, host_token):
    host_ws, code = await host_with_session(connect, host_token)
    player, joined = await join(connect, code, "Troll", query="player_id=troll")
    await host_ws.send(type="player.kick", player_id="troll")
    assert (await player.expect("kicked"))["reason"]
    assert (await player.comm.receive_output(timeout=2)) == {"type": "websocket.close", "code": 4403}
    back = await connect()
    await back.send(type="session.resume", session_id=code, rejoin_token=joined["rejoin_token"])
    await back.error("kicked")
    await back.send(type="session.join", session_id=code, name="troll")
    await back.error("kicked")
    lobby = await host_ws.expect("lobby.update", count=0)
    assert lobby["players"] == []


async def test_question_closes_on_its_own_timer(connect, host, host_token, make_quiz):
    quiz = await database_sync_to_async(make_quiz)(host, [("Quick?", ["yes", "no"], 0)], default_time_limit=1)
    host_ws, code = await host_with_session(connect, host_token, quiz)
    player, _ = await join(connect, code, "Ada")
    await host_ws.send(type="quiz.start")
    await player.expect("question.next")
    await player.call("answer.recorded", type="answer.submit", answer_idx=0)
    results = await player.expect("question.results", timeout=4)
    assert results["correct_idx"] == 0
    assert (await player.expect("answer.result"))["correct"] is True
    await host_ws.expect("question.results")
    await player.send(type="answer.submit", answer_idx=1)
    await player.error("too_late")


async def test_two_sockets_of_one_player_answering_at_once_record_one(connect, host, host_token, quiz_for):
    quiz = await quiz_for(host)
    host_ws, code = await host_with_session(connect, host_token, quiz)
    first, joined = await join(connect, code, "Twin")
    second = await connect()
    await second.call(
        "session.snapshot", type="session.resume", session_id=code, rejoin_token=joined["rejoin_token"]
    )
    await host_ws.send(type="quiz.start")
    await first.expect("question.next")
    await second.expect("question.next")
    await asyncio.gather(
        first.send(type="answer.submit", answer_idx=0), second.send(type="answer.submit", answer_idx=1)
    )
    replies = [
        await first.expect_any(("answer.recorded", "error")),
        await second.expect_any(("answer.recorded", "error")),
    ]
    assert sorted(r["type"] for r in replies) == ["answer.recorded", "error"]
    assert [r["code"] for r in replies if r["type"] == "error"] == ["already_answered"]
    assert await db(lambda: Answer.objects.count()) == 1


async def test_repeated_msg_id_is_acknowledged_as_duplicate(connect, host, host_token, quiz_for):
    quiz = await quiz_for(host)
    host_ws, code = await host_with_session(connect, host_token, quiz)
    player, _ = await join(connect, code, "Ada")
    await host_ws.send(type="quiz.start", msg_id="start-1")
    await player.expect("question.next")
    await host_ws.send(type="quiz.start", msg_id="start-1")
    dup = await host_ws.expect("question.next", duplicate=True)
    assert dup["question_num"] == 1
    first = await player.call("answer.recorded", type="answer.submit", answer_idx=3, msg_id="a1")
    again = await player.call("answer.recorded", type="answer.submit", answer_idx=3, msg_id="a1")
    assert first["duplicate"] is False and again["duplicate"] is True
    assert await db(lambda: GameSession.objects.get(code=code).question_index) == 0


async def test_rate_limit_then_close_4008(connect, host, host_token):
    client = await connect()
    for _ in range(60):
        await client.send(type="ping")
    seen = []
    while True:
        output = await client.comm.receive_output(timeout=2)
        if output["type"] == "websocket.close":
            assert output["code"] == 4008
            break
        seen.append(json.loads(output["text"]))
    assert any(m.get("code") == "rate_limited" for m in seen)
    other = await connect()  # others are unaffected
    assert await other.call("pong", type="ping")


async def test_host_disconnect_does_not_end_the_session(connect, host, host_token, quiz_for):
    quiz = await quiz_for(host)
    host_ws, code = await host_with_session(connect, host_token, quiz)
    player, _ = await join(connect, code, "Ada")
    await host_ws.close()
    back = await connect(f"is_host=true&token={host_token}")
    snap = await back.call("session.snapshot", type="session.resume", session_id=code)
    assert snap["state"] == "lobby" and snap["count"] == 1
    await back.send(type="quiz.start")
    await player.expect("question.next")
