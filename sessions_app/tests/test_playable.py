"""A quiz edited in the admin into one that cannot be played is refused, naming the question at fault."""

from __future__ import annotations

import html
import logging
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.urls import reverse
from django.utils import timezone

from quizzes_app.models import Choice, Question, quiz_problems
from sessions_app import engine
from sessions_app.engine import EngineError, Outcome, Push, Wake
from sessions_app.models import GameSession
from sessions_app.tests.test_consumers import host_with_session

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0)
ITALY = 'Question 2 ("Capital of Italy?")'
NO_CHOICES = f"{ITALY}: A question needs 2 to 6 choices; this one has 0."


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


def question(quiz, number: int) -> Question:
    return quiz.questions.order_by("order", "pk")[number - 1]


def clear_choices(quiz, number: int) -> None:
    Choice.objects.filter(question=question(quiz, number)).delete()


@pytest.fixture
def broken_quiz(host, make_quiz):
    """The default two questions, the second ("Capital of Italy?") with no choices."""
    quiz = make_quiz(host)
    clear_choices(quiz, 2)
    return quiz


def create(host, quiz, **settings) -> GameSession:
    return engine.session_create(host=host, quiz_id=quiz.pk, raw_settings=settings, site_url="").session


def refused(call) -> EngineError:
    with pytest.raises(EngineError) as err:
        call()
    assert err.value.code == "invalid", err.value.message
    return err.value


def pushes(outcome, msg_type):
    return [e.payload for e in outcome.events if isinstance(e, Push) and e.payload["type"] == msg_type]


# --- quiz_problems --------------------------------------------------------------------------------


def test_a_good_quiz_has_no_problems(host, make_quiz):
    assert quiz_problems(make_quiz(host).pk) == []


def test_a_question_without_choices_is_named(broken_quiz):
    assert quiz_problems(broken_quiz.pk) == [NO_CHOICES]


def test_a_question_with_one_choice_is_named(host, make_quiz):
    quiz = make_quiz(host)
    Choice.objects.filter(question=question(quiz, 2), is_correct=False).delete()
    assert quiz_problems(quiz.pk) == [f"{ITALY}: A question needs 2 to 6 choices; this one has 1."]


def test_a_question_with_no_correct_choice_is_named(host, make_quiz):
    quiz = make_quiz(host)
    Choice.objects.filter(question=question(quiz, 2)).update(is_correct=False)
    assert quiz_problems(quiz.pk) == [f"{ITALY}: Exactly one choice must be marked correct; 0 are."]


def test_a_question_with_two_correct_choices_is_named(host, make_quiz):
    quiz = make_quiz(host)
    Choice.objects.filter(question=question(quiz, 2)).update(is_correct=True)
    assert quiz_problems(quiz.pk) == [f"{ITALY}: Exactly one choice must be marked correct; 2 are."]


def test_every_question_at_fault_gets_its_own_line(host, make_quiz):
    quiz = make_quiz(host)
    Choice.objects.filter(question=question(quiz, 1)).update(is_correct=False)
    clear_choices(quiz, 2)
    assert quiz_problems(quiz.pk) == [
        'Question 1 ("Capital of France?"): Exactly one choice must be marked correct; 0 are.',
        NO_CHOICES,
    ]


# --- refused before the game, nothing changed ------------------------------------------------------


def test_session_create_refuses_an_unplayable_quiz(host, broken_quiz):
    error = refused(lambda: create(host, broken_quiz))
    assert error.message == f"This quiz cannot be played yet. {NO_CHOICES}"
    assert not GameSession.objects.exists()


def test_quiz_load_refuses_an_unplayable_quiz(host, broken_quiz):
    session = engine.session_create(host=host, quiz_id=None, raw_settings={}, site_url="").session
    error = refused(
        lambda: engine.quiz_load(session_pk=session.pk, host=host, quiz_id=broken_quiz.pk, data=None)
    )
    assert error.message.startswith("This quiz cannot be played yet.") and ITALY in error.message
    session.refresh_from_db()
    assert session.quiz_id is None and session.state == GameSession.State.LOBBY


@pytest.mark.parametrize("command", [engine.quiz_start, engine.question_next])
def test_starting_a_quiz_edited_after_it_was_loaded_is_refused(host, make_quiz, command):
    quiz = make_quiz(host)
    session = create(host, quiz)
    clear_choices(quiz, 2)  # edited in the admin while the session waits in the lobby
    error = refused(lambda: command(session_pk=session.pk, host=host, now=at(0)))
    assert error.message == f"This quiz cannot be played yet. {NO_CHOICES}"
    session.refresh_from_db()
    assert session.state == GameSession.State.LOBBY
    assert session.question_index == -1 and session.current_question_id is None


# --- mid-game --------------------------------------------------------------------------------------


@pytest.fixture
def playing(host, make_quiz):
    """A session of the default quiz (Paris is right, index 0) with question 1 open since at(0)."""
    quiz = make_quiz(host)
    session = create(host, quiz)
    joined = engine.player_join(
        code=session.code, raw_name="Ada", password=None, requested_id=None, msg_id=None, now=at(0)
    )
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    return quiz, session, joined.player


def test_deleting_the_choices_of_an_answered_open_question_keeps_its_reveal(host, playing):
    quiz, session, ada = playing
    engine.answer_submit(session_pk=session.pk, player_pk=ada.pk, answer_idx=0, msg_id=None, now=at(2))
    clear_choices(quiz, 1)
    ended = engine.question_end(session_pk=session.pk, host=host, now=at(5))
    _, results = pushes(ended, "question.results")  # the host's copy, the players'
    assert results["correct_idx"] == 0 and results["bins"] == [1, 0, 0, 0]
    (verdict,) = pushes(ended, "answer.result")
    assert verdict["correct"] is True and verdict["points"] > 0


def test_deleting_the_choices_of_an_unanswered_open_question_keeps_its_reveal(host, playing):
    """The choices as they were when the question opened, even if nobody has answered yet.

    (They are read when the question opens and kept by the worker that opened it; a reveal on
    another worker, after nobody answered there, reads the edited choices and says no choice was
    right, without raising.)
    """
    quiz, session, _ = playing
    clear_choices(quiz, 1)
    ended = engine.question_end(session_pk=session.pk, host=host, now=at(5))
    _, results = pushes(ended, "question.results")  # the host's copy, the players'
    assert results["correct_idx"] == 0 and results["bins"] == [0, 0, 0, 0]


def test_question_close_on_the_timer_survives_deleted_choices(host, playing):
    quiz, session, ada = playing
    engine.answer_submit(session_pk=session.pk, player_pk=ada.pk, answer_idx=1, msg_id=None, now=at(2))
    clear_choices(quiz, 1)
    closed = engine.question_close(session_pk=session.pk, index=0, now=at(21))
    _, results = pushes(closed, "question.results")
    assert results["correct_idx"] == 0 and results["bins"] == [0, 1, 0, 0]


def test_question_next_to_an_unplayable_question_is_refused_and_changes_nothing(host, playing):
    quiz, session, _ = playing
    engine.question_end(session_pk=session.pk, host=host, now=at(5))
    clear_choices(quiz, 2)
    error = refused(lambda: engine.question_next(session_pk=session.pk, host=host, now=at(6)))
    assert error.message == f"{ITALY} cannot be played: A question needs 2 to 6 choices; this one has 0."
    session.refresh_from_db()
    assert session.state == GameSession.State.RESULTS and session.question_index == 0


def test_question_next_from_an_open_question_to_an_unplayable_one_leaves_it_open(host, playing):
    quiz, session, _ = playing
    clear_choices(quiz, 2)
    error = refused(lambda: engine.question_next(session_pk=session.pk, host=host, now=at(6)))
    assert error.message.startswith(f"{ITALY} cannot be played:")
    session.refresh_from_db()
    assert session.state == GameSession.State.QUESTION and session.question_index == 0


def test_auto_advance_to_an_unplayable_question_stops_quietly(host, make_quiz, caplog):
    quiz = make_quiz(host)
    session = create(host, quiz, auto_advance=True)
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    closed = engine.wake(engine.due_wakes(now=at(21))[0], now=at(21))
    (advance,) = [e for e in closed.events if isinstance(e, Wake)]
    assert advance.kind == "advance"
    clear_choices(quiz, 2)
    with caplog.at_level(logging.WARNING, logger="sessions_app.engine"):
        outcome = engine.auto_advance(session_pk=session.pk, index=0, now=advance.at)
    assert outcome == Outcome()
    session.refresh_from_db()
    assert session.state == GameSession.State.RESULTS and session.question_index == 0
    assert session.advance_at is None
    assert engine.due_wakes(now=advance.at + timedelta(minutes=1)) == []  # not retried for ever
    (warning,) = [r for r in caplog.records if r.name.startswith("sessions_app.engine")]
    assert warning.levelno == logging.WARNING and ITALY in warning.getMessage()


# --- the protocol and the dashboard ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_session_create_and_quiz_load_over_the_socket_name_the_question(
    connect, host, host_token, quiz_for
):
    quiz = await quiz_for(host)
    await database_sync_to_async(clear_choices)(quiz, 2)
    client = await connect(f"is_host=true&token={host_token}")
    await client.send(type="session.create", quiz_id=quiz.pk, msg_id="c1")
    error = await client.error("invalid")
    assert error["message"] == f"This quiz cannot be played yet. {NO_CHOICES}"
    assert error["ref"] == {"type": "session.create", "msg_id": "c1"}
    assert not await database_sync_to_async(GameSession.objects.exists)()

    host_ws, code = await host_with_session(connect, host_token)
    await host_ws.send(type="quiz.load", quiz_id=quiz.pk)
    assert ITALY in (await host_ws.error("invalid"))["message"]
    session = await database_sync_to_async(GameSession.objects.get)(code=code)
    assert session.quiz_id is None


def test_dashboard_start_of_an_unplayable_quiz_shows_the_problem(client, host, broken_quiz):
    client.force_login(host)
    response = client.post(reverse("session_start"), {"quiz_id": broken_quiz.pk, "max_players": 50})
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert f"This quiz cannot be played yet. {NO_CHOICES}" in page
    assert "Capitals" in page  # the dashboard again, with the quiz list
    assert not GameSession.objects.exists()
