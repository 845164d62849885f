"""The rules without sockets: time is passed in, never slept."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sessions_app import engine, selectors
from sessions_app.engine import (
    ALL,
    HOST,
    PLAYER,
    PLAYERS,
    AnswerAttempt,
    EngineError,
    Outcome,
    Push,
    Refresh,
    Wake,
)
from sessions_app.live import answer_batch, loops
from sessions_app.models import Answer, GameSession, Player

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0)


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def game(host, make_quiz):
    """A session in the lobby with a two-question quiz (20 s each) and three players."""
    quiz = make_quiz(host)
    session = engine.session_create(host=host, quiz_id=quiz.pk, raw_settings={}, site_url="http://x").session
    players = [
        engine.player_join(
            code=session.code, raw_name=name, password=None, requested_id=None, msg_id=None, now=at(0)
        )
        for name in ("Ada", "Bo", "Cy")
    ]
    return session, [o.player for o in players], [o.reply["rejoin_token"] for o in players]


def pushes(outcome, msg_type):
    return [e for e in outcome.events if isinstance(e, Push) and e.payload["type"] == msg_type]


def answer(session, player, idx, seconds, msg_id=None):
    return engine.answer_submit(
        session_pk=session.pk, player_pk=player.pk, answer_idx=idx, msg_id=msg_id, now=at(seconds)
    )


def test_score_formula():
    assert engine.score_for(points=1000, time_limit_s=20, response_ms=0) == 1000
    assert engine.score_for(points=1000, time_limit_s=20, response_ms=10_000) == 750
    assert engine.score_for(points=1000, time_limit_s=20, response_ms=20_000) == 500
    assert engine.score_for(points=2000, time_limit_s=20, response_ms=5_000) == 1750
    assert engine.score_for(points=1000, time_limit_s=20, response_ms=99_000) == 500  # clamped
    assert engine.score_for(points=0, time_limit_s=20, response_ms=1) == 0


def test_session_create_gives_a_six_digit_code_and_clean_settings(host):
    outcome = engine.session_create(
        host=host, quiz_id=None, raw_settings={"max_players": 5}, site_url="http://h"
    )
    session = outcome.session
    assert len(session.code) == 6 and session.code.isdigit()
    assert outcome.reply == {
        "type": "session.created",
        "session_id": session.code,
        "join_url": f"http://h/join/{session.code}/",
    }
    assert session.settings == {
        "show_live_results": False, "auto_advance": False, "max_players": 5,
        "score_by_accuracy": False, "misconception_threshold": 30, "revote_scores": False,
    }  # fmt: skip
    with pytest.raises(EngineError) as err:
        engine.session_create(host=host, quiz_id=None, raw_settings={"max_players": "5"}, site_url="")
    assert err.value.code == "invalid"


def test_join_rules(game):
    session, players, _ = game
    join = lambda name, **kw: engine.player_join(  # noqa: E731
        code=session.code,
        raw_name=name,
        password=kw.get("password"),
        requested_id=kw.get("rid"),
        msg_id=None,
        now=at(0),
    )
    for bad_name, code in [
        ("  ", "invalid"),
        ("x" * 21, "invalid"),
        ("ADA", "name_taken"),
        (" ada ", "name_taken"),
    ]:
        with pytest.raises(EngineError) as err:
            join(bad_name)
        assert err.value.code == code
    assert join(" " + "y" * 20 + " ").player.name == "y" * 20
    with pytest.raises(EngineError) as err:
        engine.player_join(
            code="000000", raw_name="Z", password=None, requested_id=None, msg_id=None, now=at(0)
        )
    assert err.value.code == "not_found"
    # A requested player id is kept when free, replaced when taken.
    assert join("Dee", rid="dee-1").player.public_id == "dee-1"
    assert join("Eve", rid="dee-1").player.public_id != "dee-1"


def test_locked_full_password_and_finished(host, game):
    session, _, _ = game
    engine.session_lock(session_pk=session.pk, host=host, locked=True)
    with pytest.raises(EngineError) as err:
        engine.player_join(
            code=session.code, raw_name="Z", password=None, requested_id=None, msg_id=None, now=at(0)
        )
    assert err.value.code == "locked"
    small = engine.session_create(
        host=host, quiz_id=None, raw_settings={"max_players": 1, "password": "s3cret"}, site_url=""
    ).session
    with pytest.raises(EngineError) as err:
        engine.player_join(
            code=small.code, raw_name="A", password="nope", requested_id=None, msg_id=None, now=at(0)
        )
    assert err.value.code == "forbidden"
    engine.player_join(
        code=small.code, raw_name="A", password="s3cret", requested_id=None, msg_id=None, now=at(0)
    )
    with pytest.raises(EngineError) as err:
        engine.player_join(
            code=small.code, raw_name="B", password="s3cret", requested_id=None, msg_id=None, now=at(0)
        )
    assert err.value.code == "full"
    engine.session_close(session_pk=small.pk, host=host, now=at(1))
    with pytest.raises(EngineError) as err:
        engine.player_join(
            code=small.code, raw_name="C", password="s3cret", requested_id=None, msg_id=None, now=at(0)
        )
    assert err.value.code == "wrong_state"


def test_rejoin_token_is_random_and_stored_hashed(game):
    session, players, tokens = game
    assert len(set(tokens)) == 3 and all(len(t) >= 32 for t in tokens)
    stored = set(Player.objects.values_list("rejoin_token_hash", flat=True))
    assert not stored & set(tokens)
    resumed = engine.player_resume(code=session.code, rejoin_token=tokens[1], now=at(1))
    assert resumed.player.pk == players[1].pk
    assert resumed.reply["you"]["name"] == "Bo"
    with pytest.raises(EngineError):
        engine.player_resume(code=session.code, rejoin_token="forged", now=at(1))


def test_a_rejoin_token_is_only_good_in_the_current_session_of_its_code(host, make_quiz, game):
    """selectors.player_for_token reads the player and their session in one query: a token of a
    finished session whose code a new session took since names nobody, as before."""
    session, players, tokens = game
    with CaptureQueriesContext(connection) as queries:
        found = selectors.player_for_token(session.code, tokens[0])
    assert found.pk == players[0].pk and found.session.quiz.title and len(queries) == 1
    assert selectors.player_for_token(session.code, "forged") is None
    assert selectors.player_for_token(session.code, "") is None
    engine.session_close(session_pk=session.pk, host=host, now=at(1))
    assert selectors.player_for_token(session.code, tokens[0]).pk == players[0].pk  # its results page
    newer = engine.session_create(host=host, quiz_id=make_quiz(host).pk, raw_settings={}, site_url="http://x")
    GameSession.objects.filter(pk=newer.session.pk).update(code=session.code)  # the code, reused
    assert selectors.player_for_token(session.code, tokens[0]) is None
    with pytest.raises(EngineError):
        engine.player_resume(code=session.code, rejoin_token=tokens[0], now=at(2))


def test_whole_quiz_state_transitions_and_scores(host, game):
    session, (ada, bo, cy), _ = game
    start = engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    (q1,) = pushes(start, "question.next")
    assert q1.audience == ALL
    assert q1.payload["question_num"] == 1 and q1.payload["total_questions"] == 2
    assert "correct_idx" not in q1.payload and q1.payload["time_left_ms"] == 20_000
    assert any(isinstance(e, Wake) and e.kind == "close" and e.at == at(20.5) for e in start.events)

    recorded = answer(session, ada, 0, 10)  # right, half time
    assert recorded.reply == {
        "type": "answer.recorded",
        "question_num": 1,
        "round": 1,
        "answer_idx": 0,
        "duplicate": False,
    }
    answer(session, bo, 1, 2)  # wrong
    assert Player.objects.get(pk=ada.pk).score == 0  # nothing revealed before the close

    closed = engine.question_end(session_pk=session.pk, host=host, now=at(12))
    # The host's copy has the host's alerts too; the players' does not.
    host_copy, results = pushes(closed, "question.results")
    assert (host_copy.audience, results.audience) == (HOST, PLAYERS)
    # Bo's "Rome" is one of the two answers: 50%, over the 30% a misconception alert needs.
    rome = {"percent": 50, "count": 1, "answered": 2, "answer_text": "Rome", "answer_idx": 1}
    assert host_copy.payload == {**results.payload, "misconception": rome, "key_check": None}
    assert results.payload["correct_idx"] == 0 and results.payload["bins"] == [1, 1, 0, 0]
    assert [e["name"] for e in results.payload["leaderboard"]] == ["Ada", "Bo", "Cy"]
    personal = {e.player_id: e.payload for e in pushes(closed, "answer.result")}
    assert personal[ada.public_id] == {
        "type": "answer.result",
        "question_num": 1,
        "round": 1,
        "answered": True,
        "correct": True,
        "scored": True,
        "points": 750,
        "score": 750,
        "rank": 1,
    }
    assert personal[bo.public_id]["correct"] is False and personal[bo.public_id]["points"] == 0
    assert personal[bo.public_id]["answered"] is True
    assert personal[cy.public_id]["rank"] == 3  # no answer: the whole 20 s, the slowest
    assert personal[cy.public_id]["answered"] is False and personal[cy.public_id]["points"] == 0
    assert all(e.audience == PLAYER for e in pushes(closed, "answer.result"))

    nxt = engine.question_next(session_pk=session.pk, host=host, now=at(15))
    assert pushes(nxt, "question.next")[0].payload["question_num"] == 2
    answer(session, cy, 1, 15)  # right, instantly: 1000
    done = engine.question_next(session_pk=session.pk, host=host, now=at(20))
    assert pushes(done, "question.results") and pushes(done, "quiz.finished")
    board = pushes(done, "quiz.finished")[0].payload["leaderboard"]
    assert [(e["rank"], e["name"], e["score"]) for e in board] == [
        (1, "Cy", 1000),
        (2, "Ada", 750),
        (3, "Bo", 0),
    ]
    session.refresh_from_db()
    assert session.state == GameSession.State.FINISHED and session.finished_at == at(20)
    with pytest.raises(EngineError) as err:
        engine.question_next(session_pk=session.pk, host=host, now=at(21))
    assert err.value.code == "wrong_state"
    assert Answer.objects.filter(session=session).count() == 3


def test_exactly_once_and_msg_id_duplicates(host, game):
    session, (ada, bo, _), _ = game
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    answer(session, ada, 2, 1, msg_id="m1")
    again = answer(session, ada, 2, 2, msg_id="m1")
    assert again.reply["duplicate"] is True and again.events == []
    with pytest.raises(EngineError) as err:
        answer(session, ada, 1, 3, msg_id="m2")
    assert err.value.code == "already_answered"
    with pytest.raises(EngineError) as err:
        answer(session, bo, 4, 3)
    assert err.value.code == "invalid"
    assert Answer.objects.filter(player=ada).count() == 1
    assert Answer.objects.get(player=ada).choice_idx == 2


def test_deadline_and_grace(host, game):
    session, (ada, bo, cy), _ = game
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    answer(session, ada, 0, 19.9)  # 100 ms before the deadline
    answer(session, bo, 0, 20.4)  # inside the grace
    with pytest.raises(EngineError) as err:
        answer(session, cy, 0, 20.6)
    assert err.value.code == "too_late"
    assert Answer.objects.get(player=bo).response_ms == 20_000  # clamped to the time limit


def test_closing_is_idempotent_and_found_by_any_worker(host, game):
    session, (ada, *_), _ = game
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    answer(session, ada, 0, 5)
    assert engine.due_wakes(now=at(20.4)) == []
    (due,) = engine.due_wakes(now=at(21))
    first = engine.wake(due, now=at(21))
    second = engine.wake(due, now=at(21.1))
    assert pushes(first, "question.results") and second.events == []
    assert Player.objects.get(pk=ada.pk).score == engine.score_for(
        points=1000, time_limit_s=20, response_ms=5000
    )
    with pytest.raises(EngineError) as err:
        answer(session, ada, 0, 22)
    assert err.value.code == "too_late"


def test_auto_advance(host, make_quiz):
    quiz = make_quiz(host)
    session = engine.session_create(
        host=host, quiz_id=quiz.pk, raw_settings={"auto_advance": True}, site_url=""
    ).session
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    closed = engine.wake(engine.due_wakes(now=at(21))[0], now=at(21))
    (advance,) = [e for e in closed.events if isinstance(e, Wake)]
    assert advance.kind == "advance"
    assert engine.wake(advance, now=advance.at - timedelta(seconds=1)).events == []
    moved = engine.wake(advance, now=advance.at)
    assert pushes(moved, "question.next")[0].payload["question_num"] == 2


def test_kick_bans_token_and_name(host, game):
    session, (ada, *_), tokens = game
    kick = engine.player_kick(session_pk=session.pk, host=host, player_id=ada.public_id)
    (push,) = pushes(kick, "kicked")
    assert push.close_code == 4403 and push.player_id == ada.public_id
    assert any(isinstance(e, Refresh) for e in kick.events)
    for call in (
        lambda: engine.player_resume(code=session.code, rejoin_token=tokens[0], now=at(1)),
        lambda: engine.player_join(
            code=session.code, raw_name="ada", password=None, requested_id=None, msg_id=None, now=at(1)
        ),
    ):
        with pytest.raises(EngineError) as err:
            call()
        assert err.value.code == "kicked"
    engine.session_lock(session_pk=session.pk, host=host, locked=True)
    with pytest.raises(EngineError) as err:  # told why, not just that the game is locked
        engine.player_join(
            code=session.code, raw_name="ada", password=None, requested_id=None, msg_id=None, now=at(2)
        )
    assert err.value.code == "kicked"


def test_other_host_is_forbidden(make_host, game):
    session, (ada, *_), _ = game
    other = make_host("host_b")
    for call in (
        lambda: engine.quiz_start(session_pk=session.pk, host=other, now=at(0)),
        lambda: engine.player_kick(session_pk=session.pk, host=other, player_id=ada.public_id),
        lambda: engine.session_close(session_pk=session.pk, host=other, now=at(0)),
        lambda: engine.host_resume(code=session.code, host=other, now=at(0)),
    ):
        with pytest.raises(EngineError) as err:
            call()
        assert err.value.code == "forbidden"
    session.refresh_from_db()
    assert session.state == "lobby" and session.closed_at is None


def test_remembered_host_command_applies_once(host, game):
    session, _, _ = game

    def start():
        return engine.remembered(
            actor=f"host:{session.pk}", msg_id="go", session_pk=session.pk,
            apply=lambda: engine.quiz_start(session_pk=session.pk, host=host, now=at(0)),
        )  # fmt: skip

    first, second = start(), start()
    assert first.events and second.events == []
    assert second.reply["type"] == "question.next" and second.reply["duplicate"] is True
    session.refresh_from_db()
    assert session.question_index == 0


def test_a_repeated_kick_does_not_hand_the_host_the_kicked_frame(host, game):
    session, (ada, _, _), _ = game

    def kick():
        return engine.remembered(
            actor=f"host:{session.pk}", msg_id="out", session_pk=session.pk,
            apply=lambda: engine.player_kick(session_pk=session.pk, host=host, player_id=ada.public_id),
        )  # fmt: skip

    first, second = kick(), kick()
    assert pushes(first, "kicked") and second.events == []
    assert second.reply is None  # the `kicked` frame was for Ada, not for the host


def test_repeated_join_msg_id_is_answered_but_hands_over_nothing(game):
    session, _, _ = game
    join = lambda: engine.player_join(  # noqa: E731
        code=session.code, raw_name="Retry", password=None, requested_id=None, msg_id="j1", now=at(0)
    )
    first, again = join(), join()
    assert again.reply == {**first.reply, "rejoin_token": None, "duplicate": True}
    assert again.player is None and again.session is None  # the repeat does not become that player
    assert Player.objects.filter(name="Retry").count() == 1
    # The first token still works: nobody rotated it away.
    assert (
        engine.player_resume(code=session.code, rejoin_token=first.reply["rejoin_token"], now=at(1)).player
        == first.player
    )


def test_snapshot_mid_question(host, game):
    session, (ada, bo, _), tokens = game
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    answer(session, ada, 3, 4)
    snap = engine.player_resume(code=session.code, rejoin_token=tokens[0], now=at(5)).reply
    assert snap["state"] == "question" and snap["count"] == 3
    assert snap["question"]["answered_idx"] == 3 and snap["question"]["time_left_ms"] == 15_000
    assert "players" not in snap and "histogram" not in snap and "correct_idx" not in snap["question"]
    assert snap["you"] == {"player_id": ada.public_id, "name": "Ada", "score": 0, "rank": 1}
    host_snap = engine.host_resume(code=session.code, host=host, now=at(5)).reply
    assert len(host_snap["players"]) == 3 and host_snap["histogram"]["bins"] == [0, 0, 0, 1]


def test_quiz_stop_scores_the_open_question(host, game):
    session, (ada, *_), _ = game
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    answer(session, ada, 0, 0)
    stop = engine.quiz_stop(session_pk=session.pk, host=host, now=at(1))
    board = pushes(stop, "quiz.finished")[0].payload["leaderboard"]
    assert board[0]["name"] == "Ada" and board[0]["score"] == 1000
    assert not pushes(stop, "question.results")


def test_ties_break_on_answer_time_then_join_order(host, make_quiz):
    quiz = make_quiz(host, [("Q", ["a", "b"], 0)], points=0)
    session = engine.session_create(host=host, quiz_id=quiz.pk, raw_settings={}, site_url="").session
    p = [
        engine.player_join(
            code=session.code, raw_name=n, password=None, requested_id=None, msg_id=None, now=at(0)
        ).player
        for n in ("First", "Second", "Third")
    ]
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    answer(session, p[1], 0, 9)
    answer(session, p[2], 0, 3)
    answer(session, p[0], 0, 9)
    done = engine.question_next(session_pk=session.pk, host=host, now=at(10))
    board = pushes(done, "quiz.finished")[0].payload["leaderboard"]
    # All score 0: Third was fastest; First and Second took 9 s each, and First joined earlier.
    assert [e["name"] for e in board] == ["Third", "First", "Second"]


# --- answers recorded together --------------------------------------------------------------
# Under load a worker's answers wait for its one database thread, and the scheduler hands those
# that waited to engine.answers_submit together: one transaction and one INSERT, each answer still
# judged as if alone.


def attempt(session, player, idx, seconds, msg_id=None) -> AnswerAttempt:
    return AnswerAttempt(session.pk, player.pk, {"answer_idx": idx}, msg_id, at(seconds))


def summary(result) -> tuple:
    if isinstance(result, EngineError):
        return ("error", result.code)
    return (result.reply["type"], result.reply["answer_idx"], result.reply.get("duplicate", False))


def test_a_batch_judges_each_answer_alone(game, host):
    session, (ada, bo, cy), _ = game
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    answer(session, cy, 3, 1, msg_id="c-earlier")  # before the batch, as another worker's would be

    results = engine.answers_submit(
        [
            attempt(session, ada, 1, 2, msg_id="a1"),
            attempt(session, ada, 1, 2.1, msg_id="a1"),  # the same frame again: its first ack again
            attempt(session, bo, 0, 3),
            attempt(session, bo, 2, 3.5),  # a second answer without a msg_id: refused
            attempt(session, cy, 0, 4, msg_id="c2"),  # already answered before the batch
            attempt(session, cy, 0, 4.1, msg_id="c-earlier"),  # that answer's msg_id: a duplicate
            attempt(session, ada, 9, 5),  # no such option
            attempt(session, ada, 0, 99),  # after the deadline
        ]
    )

    assert [summary(r) for r in results] == [
        ("answer.recorded", 1, False),
        ("answer.recorded", 1, True),
        ("answer.recorded", 0, False),
        ("error", "already_answered"),
        ("error", "already_answered"),
        ("answer.recorded", 3, True),
        ("error", "invalid"),
        ("error", "too_late"),
    ]
    rows = {a.player_id: a for a in Answer.objects.filter(session=session)}
    assert {p: (a.choice_idx, a.msg_id) for p, a in rows.items()} == {
        ada.pk: (1, "a1"),
        bo.pk: (0, ""),
        cy.pk: (3, "c-earlier"),
    }
    assert rows[ada.pk].response_ms == 2000 and rows[bo.pk].response_ms == 3000  # each on its own time
    recorded = [r for r in results if isinstance(r, Outcome) and not r.reply.get("duplicate")]
    assert all(r.events == [Refresh(session.pk, session.code, "histogram")] for r in recorded)


def test_a_batch_is_one_insert(game, host):
    session, players, _ = game
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    with CaptureQueriesContext(connection) as queries:
        results = engine.answers_submit([attempt(session, p, 0, 1 + i) for i, p in enumerate(players)])
    assert [summary(r) for r in results] == [("answer.recorded", 0, False)] * 3
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    assert Answer.objects.filter(session=session).count() == 3


def test_an_answer_in_the_lobby_is_refused_alone(game):
    session, (ada, bo, _), _ = game
    results = engine.answers_submit([attempt(session, ada, 0, 1), attempt(session, bo, 0, 1, msg_id="b")])
    assert [summary(r) for r in results] == [("error", "wrong_state")] * 2
    assert not Answer.objects.exists()


@pytest.mark.django_db(transaction=True)
async def test_answers_that_wait_for_the_database_thread_go_together(game, host, monkeypatch):
    session, players, _ = game
    await database_sync_to_async(engine.quiz_start)(session_pk=session.pk, host=host, now=at(0))
    batches: list[int] = []
    record = engine.answers_submit

    def counted(attempts):
        batches.append(len(attempts))
        return record(attempts)

    monkeypatch.setattr(engine, "answers_submit", counted)
    try:
        first = asyncio.ensure_future(answer_batch.submit_answer(attempt(session, players[0], 0, 1)))
        await asyncio.sleep(0)  # the first goes at once; the next two arrive while it is written
        rest = [answer_batch.submit_answer(attempt(session, p, 1, 2)) for p in players[1:]]
        again = answer_batch.submit_answer(attempt(session, players[1], 2, 3))
        outcomes = await asyncio.gather(first, *rest, again, return_exceptions=True)
    finally:
        await loops.shutdown()

    assert batches == [1, 3]
    assert [summary(o) for o in outcomes] == [
        ("answer.recorded", 0, False),
        ("answer.recorded", 1, False),
        ("answer.recorded", 1, False),
        ("error", "already_answered"),
    ]
    count = await database_sync_to_async(Answer.objects.filter(session=session).count)()
    assert count == 3


def test_the_reveal_costs_the_same_queries_for_3_or_30_players(host, make_quiz):
    """ranked_players once read each player's session again (one query per player at each reveal)."""

    def reveal_queries(players: int) -> int:
        quiz = make_quiz(host)
        session = engine.session_create(host=host, quiz_id=quiz.pk, raw_settings={}, site_url="x").session
        for i in range(players):
            engine.player_join(
                code=session.code, raw_name=f"p{i}", password=None, requested_id=None, msg_id=None, now=at(0)
            )
        engine.quiz_start(session_pk=session.pk, host=host, now=at(1))
        with CaptureQueriesContext(connection) as queries:
            engine.question_end(session_pk=session.pk, host=host, now=at(2))
        return len(queries)

    assert reveal_queries(3) == reveal_queries(30)
