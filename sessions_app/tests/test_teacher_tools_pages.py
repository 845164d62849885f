"""What the pages are given for the teacher's tools (issue #18): a student's own countdown, pushed and on
a reload; the host's view of who is still answering, the alerts, a re-vote and both final rankings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from sessions_app import engine, protocol
from sessions_app.engine import Push
from sessions_app.models import GameSession
from sessions_app.web import pages, render, teacher_tools

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0)
PLANETS = [
    ("Largest planet?", ["Mars", "Jupiter", "Venus", "Earth"], 1),
    ("Red planet?", ["Mars", "Jupiter", "Venus"], 0),
]


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def game(host, make_quiz):
    quiz = make_quiz(host, PLANETS)
    session = engine.session_create(host=host, quiz_id=quiz.pk, raw_settings={}, site_url="").session
    players = {
        name: engine.player_join(
            code=session.code, raw_name=name, password=None, requested_id=None, msg_id=None, now=at(0)
        ).player
        for name in ("Ada", "Bo", "Cy")
    }
    engine.player_accommodate(
        session_pk=session.pk, host=host, player_id=players["Ada"].public_id, time_factor=1.5, now=at(0)
    )
    return session, players


def fresh(session):
    return GameSession.objects.select_related("quiz", "current_question").get(pk=session.pk)


def test_the_own_countdown_is_pushed_as_its_own_region(host, game):
    session, p = game
    start = engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    (own,) = [e.payload for e in start.events if isinstance(e, Push) and e.payload["type"] == "question.time"]
    html = render.personal_html(own)
    assert 'id="countdown"' in html and 'hx-swap-oob="true"' in html
    assert 'data-time-left-ms="30000"' in html and 'data-time-limit-ms="30000"' in html
    # The class's countdown, in the shared stage, is not an out-of-band region of its own.
    shared = render.regions(("player_stage",), pages.players_view(fresh(session), at(0)))
    assert 'data-time-left-ms="20000"' in shared and 'id="countdown" hx-swap-oob' not in shared


def test_a_reloaded_page_shows_the_students_own_time(host, game):
    session, p = game
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    p["Ada"].refresh_from_db()  # as the page's socket reads it
    ada = pages.player_view(fresh(session), p["Ada"], at(25))
    assert (ada["question"]["time_left_ms"], ada["question"]["time_limit_ms"]) == (5000, 30_000)
    bo = pages.player_view(fresh(session), p["Bo"], at(25))
    assert bo["question"]["time_left_ms"] == 0
    html = render.player_page_regions(fresh(session), p["Ada"], at(25))
    assert 'data-time-left-ms="5000"' in html


def test_the_host_sees_who_is_still_answering_once_the_class_time_is_up(host, game):
    session, p = game
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    during = pages.host_view(fresh(session), at(10))
    assert (during["still_answering"], during["class_time_up"]) == (1, False)
    after = pages.host_view(fresh(session), at(22))
    assert (after["still_answering"], after["class_time_up"]) == (1, True)
    engine.answer_submit(session_pk=session.pk, player_pk=p["Ada"].pk, answer_idx=1, msg_id=None, now=at(23))
    assert pages.host_view(fresh(session), at(24))["still_answering"] == 0
    # The pushed histogram says it too, and the players' copy does not.
    histogram = pages.host_view(fresh(session), at(24), frozenset({"histogram"}))
    assert histogram["still_answering"] == 0


def test_the_hosts_reveal_has_the_alert_and_a_revote_the_first_rounds_bars(host, game):
    session, p = game
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    engine.answer_submit(session_pk=session.pk, player_pk=p["Bo"].pk, answer_idx=0, msg_id=None, now=at(1))
    engine.answer_submit(session_pk=session.pk, player_pk=p["Cy"].pk, answer_idx=0, msg_id=None, now=at(1))
    closed = engine.question_end(session_pk=session.pk, host=host, now=at(5))
    host_copy = next(e.payload for e in closed.events if isinstance(e, Push) and e.audience == "host")
    pushed = pages.host_view(fresh(session), at(5), known=host_copy)
    assert pushed["alerts"]["misconception"]["answer_text"] == "Mars" and pushed["can_revote"] is True
    reloaded = pages.host_view(fresh(session), at(6))
    assert reloaded["alerts"] == pushed["alerts"]
    engine.question_revote(session_pk=session.pk, host=host, now=at(10))
    engine.answer_submit(session_pk=session.pk, player_pk=p["Bo"].pk, answer_idx=1, msg_id="r2", now=at(11))
    engine.question_end(session_pk=session.pk, host=host, now=at(12))
    second = pages.host_view(fresh(session), at(12))
    assert second["can_revote"] is False and second["switched_to_right"] == 1
    assert [bar["count"] for bar in second["first_bars"]] == [2, 0, 0, 0]
    assert [bar["count"] for bar in second["bars"]] == [0, 1, 0, 0]


def test_the_final_screens_have_both_rankings(host, game):
    session, p = game
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    engine.answer_submit(session_pk=session.pk, player_pk=p["Bo"].pk, answer_idx=1, msg_id=None, now=at(1))
    done = engine.quiz_stop(session_pk=session.pk, host=host, now=at(5))
    finished = next(e.payload for e in done.events if isinstance(e, Push))
    assert finished["type"] == "quiz.finished" and finished["accuracy_leaderboard"][0]["name"] == "Bo"
    context = pages.host_view(fresh(session), at(6))
    assert [row["name"] for row in context["accuracy_ranking"]][:1] == ["Bo"]
    p["Bo"].refresh_from_db()
    assert pages.player_view(fresh(session), p["Bo"], at(6))["final"]["accuracy_rank"] == 1
    assert protocol.dumps(finished)


def test_the_hosts_stage_says_the_alert_before_the_key_in_the_hosts_language(host, game):
    session, p = game
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    for name in ("Bo", "Cy"):
        engine.answer_submit(
            session_pk=session.pk, player_pk=p[name].pk, answer_idx=0, msg_id=None, now=at(1)
        )
    engine.question_end(session_pk=session.pk, host=host, now=at(5))
    with translation.override("fr"):
        html = render.host_page_regions(fresh(session), at(6)).replace("\u00a0", " ")
    alert = html.index("100 % ont choisi A : Mars")
    assert alert < html.index("Bonne réponse")  # said before the answer
    assert "Discuter et revoter" in html and '"type": "question.revote"' in html
    assert 'aria-label="Temps supplémentaire pour Ada"' in html


def test_an_alert_names_options_by_place_and_shape():
    options = pages.option_views(["Mars", "Jupiter", "Venus"])
    multi = {"percent": 40, "answer_text": "Mars, Venus", "answer_idxs": [0, 2]}
    chose = teacher_tools.alert_view(multi, "multi", options)
    assert (chose["how"], chose["letters"]) == ("chose", "A, C")
    assert [option["glyph"] for option in chose["picked"]] == ["▲", "●"]
    order = {"percent": 50, "answer_text": "Venus > Mars > Jupiter", "order": [2, 0, 1]}
    ordered = teacher_tools.alert_view(order, "order", options)
    assert (ordered["how"], [option["idx"] for option in ordered["picked"]]) == ("ordered", [2, 0, 1])
    assert teacher_tools.alert_view(None, "single", options) is None
