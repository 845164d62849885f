"""The teacher's tools in the results report, its CSVs and the regrade form (issue #18)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sessions_app import engine
from sessions_app.models import Player, Regrade
from sessions_app.reports import RIGHT, WRONG, session_report
from sessions_app.selectors import session_for_host

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0)
PLANETS = [
    ("Largest planet?", ["Mars", "Jupiter", "Venus", "Earth"], 1),
    ("Red planet?", ["Mars", "Jupiter", "Venus"], 0),
]


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def tools_game(host, make_quiz):
    """Four players; Dee has twice the time. Question 1 is re-voted (Bo switches to the right answer),
    question 2 is played once; the quiz then finishes."""
    quiz = make_quiz(host, PLANETS, title="Planets")
    session = engine.session_create(host=host, quiz_id=quiz.pk, raw_settings={}, site_url="").session
    p = {
        name: engine.player_join(
            code=session.code, raw_name=name, password=None, requested_id=None, msg_id=None, now=at(0)
        ).player
        for name in ("Ada", "Bo", "Cy", "Dee")
    }
    engine.player_accommodate(
        session_pk=session.pk, host=host, player_id=p["Dee"].public_id, time_factor=2, now=at(0)
    )

    def answer(name, idx, seconds):
        engine.answer_submit(
            session_pk=session.pk, player_pk=p[name].pk, answer_idx=idx, msg_id=None, now=at(seconds)
        )

    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    answer("Ada", 1, 2)
    answer("Bo", 0, 3)
    answer("Cy", 0, 4)
    answer("Dee", 1, 30)
    engine.question_end(session_pk=session.pk, host=host, now=at(41))
    engine.question_revote(session_pk=session.pk, host=host, now=at(50))
    answer("Bo", 1, 52)
    answer("Cy", 0, 53)
    engine.question_next(session_pk=session.pk, host=host, now=at(100))
    answer("Ada", 0, 101)
    answer("Bo", 1, 102)
    engine.question_next(session_pk=session.pk, host=host, now=at(150))
    return session_for_host(host, session.code), p


def read_csv(response):
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_report_shows_both_rounds_the_alert_and_the_extra_time(tools_game):
    session, _ = tools_game
    report = session_report(session)
    q1, q2 = report.questions
    assert [o.count for o in q1.options] == [2, 2, 0, 0]  # the first vote
    assert [o.count for o in q1.revote.options] == [1, 1, 0, 0]  # the re-vote
    assert (q1.revote.answered_count, q1.revote.switched_to_right) == (2, 1)
    assert q1.misconception["answer_text"] == "Mars" and q1.misconception_text == "50% chose A: Mars"
    assert q2.revote is None
    bo = next(r for r in report.players if r.name == "Bo")
    first = bo.answers[0]
    assert (first.outcome, first.second.outcome, first.counts) == (WRONG, RIGHT, True)
    assert first.second.points == 0  # a re-vote scores nothing by default
    dee = next(r for r in report.players if r.name == "Dee")
    assert (dee.time_factor, dee.answers[0].time_factor, dee.answers[0].response_ms) == (2, 2, 30_000)
    # The report computes from the answers what the engine kept on the players.
    for row in report.players:
        player = Player.objects.get(pk=row.pk)
        assert (row.score, row.correct_count, row.total_ms) == (
            player.score,
            player.correct_count,
            player.total_answer_ms,
        )
    assert report.has_extra_time and report.has_revotes


def test_the_results_page_has_both_rankings_and_the_regrade_form(client, host, tools_game):
    session, _ = tools_game
    client.force_login(host)
    html = client.get(reverse("session_results", args=[session.code])).content.decode()
    assert "By points" in html and "By accuracy" in html
    assert "1 student switched to the right answer" in html
    assert "50% chose A: Mars" in html
    assert html.count("Regrade this question") == 2
    assert reverse("session_regrade", args=[session.code, session.quiz.questions.first().pk]) in html
    assert "\N{MULTIPLICATION SIGN}2" in html and "style=" not in html


def test_csv_has_both_rounds_the_extra_time_and_the_regrade(client, host, tools_game):
    session, _ = tools_game
    client.force_login(host)
    question = session.quiz.questions.order_by("order").first()
    client.post(reverse("session_regrade", args=[session.code, question.pk]), {"correct": ["0"]})
    rows = read_csv(client.get(reverse("session_results_csv", args=[session.code])))
    header, body = rows[0], {(r[4], r[2]): dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert header[-6:] == [
        "revote_chosen", "revote_correct", "revote_response_ms", "revote_points", "time_factor",
        "regraded_at",
    ]  # fmt: skip
    bo = body["Bo", "1"]
    # Regraded: Mars is right now, so Bo's first answer is right and his re-vote (Jupiter) wrong.
    assert (bo["chosen"], bo["correct"], bo["revote_chosen"], bo["revote_correct"]) == (
        "Mars",
        "yes",
        "Jupiter",
        "no",
    )
    assert bo["regraded_at"] and body["Bo", "2"]["regraded_at"] == ""
    assert body["Dee", "1"]["time_factor"] == "2" and body["Ada", "1"]["time_factor"] == "1"
    players = read_csv(client.get(reverse("session_players_csv", args=[session.code])))
    assert players[0][-3:] == ["accuracy_rank", "total_answer_ms", "time_factor"]
    assert {r[1]: r[-1] for r in players[1:]} == {"Ada": "1", "Bo": "1", "Cy": "1", "Dee": "2"}


def test_the_regrade_form_recomputes_and_marks_the_question(client, host, tools_game):
    session, p = tools_game
    client.force_login(host)
    question = session.quiz.questions.order_by("order").first()
    before = session_report(session)
    response = client.post(reverse("session_regrade", args=[session.code, question.pk]), {"correct": ["0"]})
    assert response.status_code == 302 and response.url.endswith(f"#q-{question.pk}")
    after = session_report(session)
    assert after.questions[0].correct_text == "Mars" and after.questions[0].own_key_text == "Jupiter"
    assert after.questions[0].regraded_at is not None
    assert Player.objects.get(pk=p["Cy"].pk).correct_count == 1
    html = client.get(reverse("session_results", args=[session.code])).content.decode()
    assert "Regraded</strong> on" in html and "The quiz's own key was: Jupiter" in html
    # Back to the quiz's key: the game's numbers again.
    client.post(reverse("session_regrade", args=[session.code, question.pk]), {"correct": ["1"]})
    again = session_report(session)
    assert [(r.name, r.score, r.rank, r.accuracy_rank) for r in again.players] == [
        (r.name, r.score, r.rank, r.accuracy_rank) for r in before.players
    ]


def test_the_regrade_is_the_hosts_by_post_with_csrf_once_the_game_is_over(
    client, host, make_host, tools_game
):
    session, _ = tools_game
    question = session.quiz.questions.order_by("order").first()
    url = reverse("session_regrade", args=[session.code, question.pk])
    client.force_login(make_host("host_b"))
    assert client.post(url, {"correct": ["0"]}).status_code == 403
    client.force_login(host)
    assert client.get(url).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(host)
    assert strict.post(url, {"correct": ["0"]}).status_code == 403
    response = client.post(url, {"correct": ["0", "1"]})  # a single question has one right option
    assert response.status_code == 302
    assert not Regrade.objects.exists()


def test_no_regrade_while_the_game_is_open(client, host, make_quiz):
    quiz = make_quiz(host, PLANETS)
    session = engine.session_create(host=host, quiz_id=quiz.pk, raw_settings={}, site_url="").session
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    client.force_login(host)
    html = client.get(reverse("session_results", args=[session.code])).content.decode()
    assert "Regrade this question" not in html
    question = quiz.questions.order_by("order").first()
    client.post(reverse("session_regrade", args=[session.code, question.pk]), {"correct": ["0"]})
    assert not Regrade.objects.exists()


def test_the_report_of_a_regraded_revoted_session_still_costs_four_queries(
    host, tools_game, django_assert_max_num_queries
):
    session, _ = tools_game
    question = session.quiz.questions.order_by("order").first()
    engine.regrade_question(
        session_pk=session.pk, host=host, question_pk=question.pk, key={"correct_idxs": [0]}, now=at(200)
    )
    session = session_for_host(host, session.code)
    with django_assert_max_num_queries(4):
        session_report(session)


def test_the_dashboard_starts_a_session_with_the_teacher_tools_settings(client, host, make_quiz):
    quiz = make_quiz(host, PLANETS)
    client.force_login(host)
    form = client.get(reverse("host_dashboard")).content.decode()
    for name in ("score_by_accuracy", "misconception_threshold", "revote_scores"):
        assert f'name="{name}"' in form
    response = client.post(
        reverse("session_start"),
        {"quiz_id": quiz.pk, "max_players": 50, "score_by_accuracy": "on", "misconception_threshold": "40"},
    )
    assert response.status_code == 302
    settings = quiz.sessions.get().settings
    assert (
        settings["score_by_accuracy"],
        settings["misconception_threshold"],
        settings["revote_scores"],
    ) == (
        True,
        40,
        False,
    )
    # Left out (an older form), each is the default.
    client.post(reverse("session_start"), {"quiz_id": quiz.pk, "max_players": 50})
    assert quiz.sessions.order_by("-pk").first().settings["misconception_threshold"] == 30
