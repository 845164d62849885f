"""Authorisation matrix (issue #7, item 3): who may send what, and that a refused message changes nothing.

Every case compares a full state snapshot (GameSession, Player, Answer and ProcessedMessage rows, and the
quizzes) taken before and after the attempt, and checks that the victims' sockets receive nothing.
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import AsyncClient

from knewit.asgi import application
from quizzes_app.models import Choice, Question, Quiz
from sessions_app import protocol
from sessions_app.auth import host_token_create
from sessions_app.models import Answer, GameSession, Player, ProcessedMessage
from sessions_app.tests.wsclient import HOST_HEADER, ORIGIN

pytestmark = pytest.mark.django_db(transaction=True)

# The host-only messages of docs/PROTOCOL.md's table, independent of how protocol.py classifies them.
SPEC_HOST_TYPES = {
    "session.create", "quiz.list", "quiz.save", "quiz.load", "quiz.start", "question.next", "question.end",
    "quiz.stop", "player.kick", "session.lock", "session.unlock", "session.close",
    "player.accommodate", "question.revote",
}  # fmt: skip

VALID_QUIZ = {
    "title": "Injected",
    "questions": [
        {"prompt": "1+1?", "options": ["1", "2"], "correct_idx": 1, "time_limit": 30, "points": 1000}
    ],
}


def no_rate_limit(settings) -> None:
    """No per-socket rate limit, and quick coalesced pushes so that waiting for quiet is short."""
    settings.KNEWIT = {
        **settings.KNEWIT, "RATE_PER_S": 10**6, "RATE_BURST": 10**6, "PUSH_INTERVAL_S": 0.02,
        "JOIN_WRONG_PINS": 10**6,
    }  # fmt: skip


def host_messages(*, quiz_id: int, player_id: str) -> list[dict]:
    """Every host message, each with fields that would be valid for the session's own host."""
    return [
        {"type": "session.create", "quiz_id": quiz_id, "settings": {"max_players": 5}},
        {"type": "session.create"},
        {"type": "quiz.list"},
        {"type": "quiz.save", "quiz": VALID_QUIZ},
        {"type": "quiz.load", "quiz_id": quiz_id},
        {"type": "quiz.load", "quiz": VALID_QUIZ},
        {"type": "quiz.start"},
        {"type": "question.next"},
        {"type": "question.end"},
        {"type": "quiz.stop"},
        {"type": "player.kick", "player_id": player_id},
        {"type": "player.accommodate", "player_id": player_id, "time_factor": 2},
        {"type": "question.revote"},
        {"type": "session.lock"},
        {"type": "session.unlock"},
        {"type": "session.close"},
    ]


def with_msg_ids(messages: list[dict], prefix: str) -> list[dict]:
    return messages + [{**m, "msg_id": f"{prefix}-{i}"} for i, m in enumerate(messages)]


def test_host_message_list_covers_every_host_type():
    listed = {m["type"] for m in host_messages(quiz_id=1, player_id="x")}
    assert listed == SPEC_HOST_TYPES
    assert {t for t, cls in protocol.MESSAGE_TYPES.items() if cls.role == protocol.HOST} <= listed


# --- state snapshots ------------------------------------------------------------------------


def _rows(qs) -> list[dict]:
    return list(qs.order_by("pk").values())


def db_snapshot(codes: list[str] | None = None, quiz_owner_ids: list[int] | None = None) -> dict:
    """Row values of the sessions with these codes (all when None) and of everything hanging off them."""
    sessions = GameSession.objects.all() if codes is None else GameSession.objects.filter(code__in=codes)
    pks = list(sessions.values_list("pk", flat=True))
    processed = (
        ProcessedMessage.objects.all() if codes is None else ProcessedMessage.objects.filter(session__in=pks)
    )
    quizzes = Quiz.objects.all() if quiz_owner_ids is None else Quiz.objects.filter(owner__in=quiz_owner_ids)
    return {
        "sessions": _rows(sessions),
        "players": _rows(Player.objects.filter(session__in=pks)),
        "answers": _rows(Answer.objects.filter(session__in=pks)),
        "processed": _rows(processed),
        "quizzes": _rows(quizzes),
        "questions": _rows(Question.objects.filter(quiz__in=quizzes)),
        "choices": _rows(Choice.objects.filter(question__quiz__in=quizzes)),
    }


snapshot = database_sync_to_async(db_snapshot)


# --- socket helpers -------------------------------------------------------------------------


async def settle(*clients, quiet: float = 0.2) -> None:
    """Read until each socket has been silent for `quiet` seconds (coalesced pushes land late)."""
    for client in clients:
        while not await client.comm.receive_nothing(timeout=quiet):
            await client.recv()


async def frames_now(client, quiet: float = 0.15) -> list[dict]:
    """Everything the socket received since the last read, once it has gone quiet."""
    got = []
    while not await client.comm.receive_nothing(timeout=quiet):
        got.append(await client.recv())
    return got


async def expect_refusals(client, messages: list[dict], codes: set[str]) -> None:
    """Each message gets exactly one `error` with one of these codes and its ref; nothing else arrives."""
    for message in messages:
        await client.send(**message)
        reply = await client.recv()
        assert reply["type"] == "error", (message, reply)
        assert reply["code"] in codes, (message, reply)
        expected_ref = {
            "type": message["type"],
            **({"msg_id": message["msg_id"]} if "msg_id" in message else {}),
        }
        assert reply["ref"] == expected_ref, (message, reply)
    await client.send(type="ping", ts=4242)
    assert await client.recv() == {"type": "pong", "ts": 4242}, (
        "a refused message produced more than one frame"
    )


async def new_host(connect, make_host, username: str):
    user = await database_sync_to_async(make_host)(username, None)
    token = await database_sync_to_async(host_token_create)(user=user)
    client = await connect(f"is_host=true&token={token}")
    assert client.welcome["is_host"] is True
    return user, client


async def create_session(host_ws, quiz=None, settings=None) -> str:
    msg = {"type": "session.create", "settings": settings or {}}
    if quiz is not None:
        msg["quiz_id"] = quiz.pk
    return (await host_ws.call("session.created", **msg))["session_id"]


async def join(connect, code: str, name: str, query: str = ""):
    client = await connect(query)
    joined = await client.call("session.joined", type="session.join", session_id=code, name=name)
    return client, joined


@pytest.fixture
def game_b(connect, make_host, make_quiz, settings):
    """Host B's session mid-question: two students, one answer in; a factory so the test's loop runs it."""
    no_rate_limit(settings)

    async def make():
        user_b, host_b = await new_host(connect, make_host, "host_b")
        quiz_b = await database_sync_to_async(make_quiz)(user_b, title="B's quiz", default_time_limit=240)
        code = await create_session(host_b, quiz_b)
        ada, ada_joined = await join(connect, code, "Ada", "player_id=ada")
        bo, _ = await join(connect, code, "Bo", "player_id=bo")
        await host_b.send(type="quiz.start")
        await ada.expect("question.next")
        await bo.expect("question.next")
        await ada.call("answer.recorded", type="answer.submit", answer_idx=0)
        await settle(host_b, ada, bo)
        return {"user": user_b, "host": host_b, "quiz": quiz_b, "code": code, "players": [ada, bo],
                "ada_token": ada_joined["rejoin_token"]}  # fmt: skip

    return make


# --- students and unjoined sockets ----------------------------------------------------------


async def test_student_sending_every_host_message_is_forbidden_in_the_lobby(
    connect, host, host_token, make_quiz, settings
):
    no_rate_limit(settings)
    quiz = await database_sync_to_async(make_quiz)(host, default_time_limit=240)
    host_ws = await connect(f"is_host=true&token={host_token}")
    code = await create_session(host_ws, quiz)
    mallory, _ = await join(connect, code, "Mallory", "player_id=mallory")
    victim, _ = await join(connect, code, "Victim", "player_id=victim")
    await settle(host_ws, mallory, victim)
    before = await snapshot()
    messages = with_msg_ids(host_messages(quiz_id=quiz.pk, player_id="victim"), "evil")
    await expect_refusals(mallory, messages, {"forbidden"})
    assert await snapshot() == before
    assert await frames_now(host_ws) == [] and await frames_now(victim) == []


async def test_student_sending_every_host_message_is_forbidden_mid_question(connect, game_b):
    game = await game_b()
    ada, bo = game["players"]
    before = await snapshot()
    messages = with_msg_ids(host_messages(quiz_id=game["quiz"].pk, player_id="ada"), "evil")
    await expect_refusals(bo, messages, {"forbidden"})
    assert await snapshot() == before
    assert await frames_now(game["host"]) == [] and await frames_now(ada) == []
    # The refused answers-to-be are still possible: Bo is still a player of an open question.
    assert (await bo.call("answer.recorded", type="answer.submit", answer_idx=1))["question_num"] == 1


async def test_unjoined_socket_sending_every_host_message_is_refused(connect, game_b):
    game = await game_b()
    stranger = await connect()
    before = await snapshot()
    messages = with_msg_ids(host_messages(quiz_id=game["quiz"].pk, player_id="ada"), "evil")
    await expect_refusals(stranger, messages, {"forbidden"})
    assert await snapshot() == before
    assert await frames_now(game["host"]) == []


# --- host A against host B's session --------------------------------------------------------


async def test_host_a_cannot_resume_host_b_session(connect, make_host, game_b):
    game = await game_b()
    _, host_a = await new_host(connect, make_host, "host_a")
    before = await snapshot([game["code"]], [game["user"].pk])
    for message in ({"type": "session.resume", "session_id": game["code"]},
                    {"type": "session.resume", "session_id": game["code"], "msg_id": "r1"}):  # fmt: skip
        await expect_refusals(host_a, [message], {"forbidden"})
    # Still no session of its own: every session-bound host message is refused, none reaches B.
    bound = [m for m in host_messages(quiz_id=game["quiz"].pk, player_id="ada")
             if m["type"] not in ("session.create", "quiz.list", "quiz.save", "quiz.load")]  # fmt: skip
    await expect_refusals(host_a, bound, {"wrong_state", "forbidden"})
    assert await snapshot([game["code"]], [game["user"].pk]) == before
    assert all([await frames_now(c) == [] for c in (game["host"], *game["players"])])


async def test_every_host_message_from_host_a_leaves_host_b_session_alone(
    connect, make_host, make_quiz, game_b
):
    game = await game_b()
    user_a, host_a = await new_host(connect, make_host, "host_a")
    quiz_a = await database_sync_to_async(make_quiz)(user_a, title="A's quiz", default_time_limit=240)
    code_a = await create_session(host_a, quiz_a)
    assert code_a != game["code"]
    await settle(host_a)
    before = await snapshot([game["code"]], [game["user"].pk])
    # B's quiz id and B's player ids in A's messages: refused, since they are not A's.
    await expect_refusals(
        host_a,
        [
            {"type": "session.create", "quiz_id": game["quiz"].pk},
            {"type": "quiz.load", "quiz_id": game["quiz"].pk},
            {"type": "player.kick", "player_id": "ada"},
            {"type": "player.kick", "player_id": "bo"},
        ],
        {"not_found", "forbidden"},
    )  # fmt: skip
    # Then every host message, valid for A's own session: they act on A's session only.
    for message in host_messages(quiz_id=quiz_a.pk, player_id="ada"):
        if message["type"] in ("session.create", "session.close"):
            continue  # would move A's socket to a new session / end A's; covered below
        await host_a.send(**message)
        await frames_now(host_a)
    await host_a.send(type="session.resume", session_id=game["code"])  # again, now as A's session's host
    await host_a.error("forbidden")
    await host_a.send(type="session.close")
    await host_a.expect("session.closed")
    assert await snapshot([game["code"]], [game["user"].pk]) == before
    for client in (game["host"], *game["players"]):
        assert await frames_now(client) == [], "B's sockets heard A's session"
    state_a = await database_sync_to_async(lambda: GameSession.objects.get(code=code_a).state)()
    assert state_a == "finished"  # A's messages did act on A's own session


async def test_host_a_page_socket_and_pages_for_host_b_session_are_refused(connect, make_host, game_b):
    game = await game_b()
    user_a = await database_sync_to_async(make_host)("host_a", None)
    http = AsyncClient()
    await database_sync_to_async(http.force_login)(user_a)
    before = await snapshot([game["code"]], [game["user"].pk])
    code = game["code"]
    pages = ("", "results/", "results.csv", "players.csv", "results/player/ada/", "delete/")
    for url in (f"/host/session/{code}/{page}" for page in pages):
        assert (await http.get(url)).status_code in (403, 404), url
    assert (await http.post(f"/host/session/{code}/delete/")).status_code in (403, 404)
    cookie = (b"cookie", f"sessionid={http.cookies['sessionid'].value}".encode())
    comm = WebsocketCommunicator(application, f"/ws/page/host/{code}/", headers=[ORIGIN, HOST_HEADER, cookie])
    connected, _ = await comm.connect()
    assert connected
    outputs = []
    while True:
        out = await comm.receive_output(timeout=3)
        outputs.append(out)
        if out["type"] == "websocket.close":
            break
    assert outputs[-1]["code"] == 4403
    assert not any("Ada" in o.get("text", "") for o in outputs), "B's players shown to host A"
    assert await snapshot([game["code"]], [game["user"].pk]) == before
    assert await frames_now(game["host"]) == []


# --- a socket with host rights that joined as a player --------------------------------------


async def test_host_a_joined_as_player_in_b_session_cannot_send_host_messages(
    connect, make_host, make_quiz, game_b
):
    game = await game_b()
    user_a, host_a = await new_host(connect, make_host, "host_a")
    quiz_a = await database_sync_to_async(make_quiz)(user_a, title="A's quiz", default_time_limit=240)
    code_a = await create_session(host_a, quiz_a)  # A has a session of its own, then joins B's as a player
    joined = await host_a.call("session.joined", type="session.join", session_id=game["code"], name="Sneaky")
    assert joined["session_id"] == game["code"]
    await settle(host_a, game["host"], *game["players"])
    before_b = await snapshot([game["code"]], [game["user"].pk])
    before_a = await snapshot([code_a], [user_a.pk])
    messages = with_msg_ids(host_messages(quiz_id=game["quiz"].pk, player_id="ada"), "sneaky")
    messages += with_msg_ids(host_messages(quiz_id=quiz_a.pk, player_id="bo"), "sneaky-a")
    await expect_refusals(host_a, messages, {"forbidden"})
    assert await snapshot([game["code"]], [game["user"].pk]) == before_b
    assert await snapshot([code_a], [user_a.pk]) == before_a
    for client in (game["host"], *game["players"]):
        assert await frames_now(client) == []


async def test_own_host_joined_as_player_cannot_send_host_messages_from_that_socket(connect, game_b):
    game = await game_b()
    token = await database_sync_to_async(host_token_create)(user=game["user"])
    second = await connect(f"is_host=true&token={token}")
    await second.call("session.joined", type="session.join", session_id=game["code"], name="HostAsPlayer")
    await settle(second, game["host"], *game["players"])
    before = await snapshot()
    await expect_refusals(
        second, with_msg_ids(host_messages(quiz_id=game["quiz"].pk, player_id="ada"), "x"), {"forbidden"}
    )
    assert await snapshot() == before
    for client in game["players"]:
        assert await frames_now(client) == []


# --- identity: a player's msg_id is not a credential ----------------------------------------


async def test_replayed_join_msg_id_does_not_hand_over_another_players_identity(connect, game_b):
    game = await game_b()
    code = game["code"]
    victim = await connect()
    joined = await victim.call(
        "session.joined", type="session.join", session_id=code, name="Cleo", msg_id="join-Cleo"
    )
    await settle(victim, game["host"], *game["players"])
    attacker = await connect()
    await attacker.send(type="session.join", session_id=code, name="cleo", msg_id="join-Cleo")
    reply = await attacker.recv()
    stolen = reply.get("rejoin_token")
    if stolen:
        thief = await connect()
        await thief.send(type="session.resume", session_id=code, rejoin_token=stolen)
        got = await thief.recv()
        assert got.get("type") != "session.snapshot" or got["you"]["player_id"] != joined["player_id"], (
            "the replayed join's token resumes as the victim"
        )
    back = await connect()
    snap = await back.call(
        "session.snapshot", type="session.resume", session_id=code, rejoin_token=joined["rejoin_token"]
    )
    assert snap["you"]["player_id"] == joined["player_id"], "the victim's own token stopped working"
