"""The results report: its numbers, its pages and CSVs, who may see them, and what they cost."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sessions_app import engine, selectors
from sessions_app.engine import judging
from sessions_app.models import Answer, GameSession, Player
from sessions_app.reports import (
    NONE,
    RIGHT,
    VOTED,
    WRONG,
    PlayerAnswer,
    _distribution,
    past_sessions_for,
    session_report,
)
from sessions_app.selectors import session_for_host
from sessions_app.web.results_views import csv_cell

THREE_QUESTIONS = [
    ("Capital of France?", ["Paris", "Rome", "Madrid", "Berlin"], 0),
    ("Capital of Italy?", ["Paris", "Rome"], 1),
    ("2 + 2?", ["3", "4", "5"], 1),
]


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    """Pages link the stylesheet; without collectstatic the manifest storage cannot name it."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def build_session(host, quiz, players, *, code="123456", state="finished", question_index=None):
    """A session with players given as (name, join offset s, [None | (choice_idx, response_ms, points)])."""
    questions = list(quiz.questions.order_by("order", "pk").prefetch_related("choices"))
    session = GameSession.objects.create(
        code=code,
        quiz=quiz,
        host=host,
        state=state,
        question_index=len(questions) - 1 if question_index is None else question_index,
    )
    base = timezone.now() - timedelta(hours=1)
    for n, (name, join_offset, answers) in enumerate(players):
        # The engine's running totals are left at zero: the report must compute from answers.
        player = Player.objects.create(
            session=session, public_id=f"p{n}", name=name, name_key=name.casefold()
        )
        Player.objects.filter(pk=player.pk).update(joined_at=base + timedelta(seconds=join_offset))
        for index, (question, given) in enumerate(zip(questions, answers, strict=False)):
            if given is None:
                continue
            choice_idx, response_ms, points = given
            correct = list(question.choices.all())[choice_idx].is_correct
            Answer.objects.create(
                session=session,
                player=player,
                question=question,
                question_index=index,
                choice_idx=choice_idx,
                received_at=base,
                response_ms=response_ms,
                correct=correct,
                points=points,
            )
    return session


def bulk_session(host, quiz, n_players, *, code):
    """A finished session where every player answers every question, built in a few queries."""
    questions = list(quiz.questions.order_by("order", "pk"))
    session = GameSession.objects.create(
        code=code, quiz=quiz, host=host, state="finished", question_index=len(questions) - 1
    )
    Player.objects.bulk_create(
        Player(session=session, public_id=f"p{n}", name=f"player{n}", name_key=f"player{n}")
        for n in range(n_players)
    )
    now = timezone.now()
    Answer.objects.bulk_create(
        Answer(
            session=session,
            player=player,
            question=question,
            question_index=index,
            choice_idx=(player.pk + index) % 2,
            received_at=now,
            response_ms=1000 + 37 * player.pk + index,
            correct=(player.pk + index) % 2 == 0,
            points=500 if (player.pk + index) % 2 == 0 else 0,
        )
        for player in session.players.all()
        for index, question in enumerate(questions)
    )
    return session


@pytest.fixture
def played(host, make_quiz):
    """Four players with known answers and one kicked player whose answers must not count."""
    quiz = make_quiz(host, THREE_QUESTIONS, title="Geography")
    # dan is created first (lower pk) but joined after ann: the tie must follow joined_at.
    session = build_session(
        host,
        quiz,
        [
            ("dan", 4, [(0, 2000, 900), (1, 3000, 800), None]),
            ("ann", 1, [(0, 2000, 900), (1, 3000, 800), None]),
            ("bob", 2, [(1, 1000, 0), (1, 1000, 950), (1, 4000, 600)]),
            ("cat", 3, [(0, 1500, 1000), (0, 5000, 0), (1, 1200, 700)]),
            ("eve", 0, [(0, 100, 1000), (1, 100, 1000), (1, 100, 1000)]),
        ],
    )
    session.players.filter(name="eve").update(kicked=True)
    return session


def names(rows):
    return [row.name for row in rows]


# The report's numbers


def test_report_question_numbers(played):
    report = session_report(played)
    assert report.quiz_title == "Geography"
    assert report.player_count == 4
    q1, q2, q3 = report.questions
    assert [o.count for o in q1.options] == [3, 1, 0, 0]
    assert (q1.correct_index, q1.correct_text) == (0, "Paris")
    assert (q1.answered_count, q1.percent_correct, q1.median_ms) == (4, 75.0, 1750)
    assert [o.count for o in q2.options] == [1, 3]
    assert (q2.correct_text, q2.percent_correct, q2.median_ms) == ("Rome", 75.0, 3000)
    # Two of four players answered: percent correct is of the players, the median of the answers.
    assert (q3.answered_count, q3.percent_correct, q3.median_ms) == (2, 50.0, 2600)
    assert [o.percent for o in q3.options] == [0.0, 100.0, 0.0]


def test_report_ranks_by_score_then_time_then_join_order(played):
    report = session_report(played)
    # cat, ann and dan have 1700: cat answered all three in 7.7 s; ann and dan left question 3 (20 s)
    # unanswered, so 25 s each, and ann joined first.
    assert names(report.players) == ["cat", "ann", "dan", "bob"]
    assert [p.rank for p in report.players] == [1, 2, 3, 4]
    ann = report.player("p1")
    assert (ann.score, ann.correct_count, ann.total_ms, ann.median_ms, ann.accuracy) == (
        1700,
        2,
        25000,
        2500,
        66.7,
    )


def test_report_accuracy_ranking(played):
    report = session_report(played)
    # All have two right: the faster total answer time wins (bob 6 s, cat 7.7 s, ann and dan 25 s with
    # question 3 unanswered), then the earlier joiner.
    assert names(report.accuracy_ranking) == ["bob", "cat", "ann", "dan"]
    assert [p.accuracy_rank for p in report.accuracy_ranking] == [1, 2, 3, 4]


def test_report_answers_per_player_include_none(played):
    ann = session_report(played).player("p1")
    assert [a.outcome for a in ann.answers] == [RIGHT, RIGHT, NONE]
    assert [a.answer_text for a in ann.answers] == ["Paris", "Rome", ""]
    assert ann.answers[2].response_ms is None and ann.answers[2].points is None
    bob = session_report(played).player("p2")
    assert (bob.answers[0].outcome, bob.answers[0].answer_text, bob.answers[0].points) == (WRONG, "Rome", 0)


def test_report_questions_not_reached(host, make_quiz):
    quiz = make_quiz(host, THREE_QUESTIONS)
    session = build_session(host, quiz, [("ann", 0, [(0, 800, 1000)])], state="question", question_index=0)
    report = session_report(session)
    assert [q.played for q in report.questions] == [True, False, False]
    # Accuracy counts only the questions the session reached.
    assert report.players[0].accuracy == 100.0


def test_report_of_a_session_without_players_or_quiz(host, make_quiz):
    session = GameSession.objects.create(code="654321", quiz=None, host=host, state="finished")
    report = session_report(session)
    assert (report.player_count, report.questions, report.players) == (0, [], [])
    assert report.quiz_title == "(deleted quiz)"


# Pages


def test_results_page(client, host, played):
    client.force_login(host)
    response = client.get(reverse("session_results", args=["123456"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Geography" in html and "75% correct" in html
    assert "<meter" in html and "(correct answer)" in html and "✓" in html
    # The CSP allows no inline styles.
    assert "style=" not in html
    assert "hx-disable" in html
    for name in ("session_results_csv", "session_players_csv", "session_delete"):
        assert reverse(name, args=["123456"]) in html
    assert reverse("session_player_detail", args=["123456", "p1"]) in html


def test_results_hardest_first_and_accuracy_view(client, host, played):
    client.force_login(host)
    url = reverse("session_results", args=["123456"])
    assert [q.number for q in client.get(url).context["questions"]] == [1, 2, 3]
    assert [q.number for q in client.get(url, {"sort": "hardest"}).context["questions"]] == [3, 1, 2]
    response = client.get(url, {"view": "accuracy"})
    assert response.context["view"] == "accuracy"
    assert "then total answer time" in response.content.decode()


def test_player_detail(client, host, played):
    client.force_login(host)
    response = client.get(reverse("session_player_detail", args=["123456", "p2"]))
    assert response.status_code == 200
    assert response.context["player"].name == "bob"
    kicked = client.get(reverse("session_player_detail", args=["123456", "p4"]))
    assert kicked.status_code == 404


def test_user_text_is_escaped(client, host, make_quiz):
    quiz = make_quiz(host, [("<script>alert(1)</script>", ["<b>x</b>", "y"], 0)])
    build_session(host, quiz, [("<script>alert(1)", 0, [(0, 900, 1000)])])
    client.force_login(host)
    for url in (
        reverse("session_results", args=["123456"]),
        reverse("session_player_detail", args=["123456", "p0"]),
    ):
        html = client.get(url).content.decode()
        assert "<script>alert(1)" not in html and "<b>x</b>" not in html
        assert "&lt;script&gt;alert(1)" in html and "&lt;b&gt;x&lt;/b&gt;" in html


# Who may see what

ROUTES = [
    ("session_results", ["123456"]),
    ("session_results_csv", ["123456"]),
    ("session_players_csv", ["123456"]),
    ("session_player_detail", ["123456", "p1"]),
    ("session_delete", ["123456"]),
]


@pytest.mark.parametrize(("name", "args"), ROUTES)
def test_another_host_is_forbidden(client, make_host, played, name, args):
    client.force_login(make_host("host_b"))
    assert client.get(reverse(name, args=args)).status_code == 403


def test_another_host_cannot_delete(client, make_host, played):
    client.force_login(make_host("host_b"))
    response = client.post(reverse("session_delete", args=["123456"]), {"session_id": played.pk})
    assert response.status_code == 403
    assert GameSession.objects.filter(pk=played.pk).exists()


@pytest.mark.parametrize(("name", "args"), ROUTES)
def test_anonymous_goes_to_login(client, played, name, args):
    url = reverse(name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login")) and "next=" in response.url


@pytest.mark.parametrize(("name", "args"), ROUTES)
def test_superuser_may_see(client, django_user_model, played, name, args):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pw-123-xyz"))
    assert client.get(reverse(name, args=args)).status_code == 200


def test_unknown_code_is_404(client, host, played):
    client.force_login(host)
    assert client.get(reverse("session_results", args=["999999"])).status_code == 404


# CSV


def read_csv(response):
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_answers_csv(client, host, played):
    client.force_login(host)
    rows = read_csv(client.get(reverse("session_results_csv", args=["123456"])))
    header, body = rows[0], rows[1:]
    assert header == [
        "session",
        "quiz",
        "question",
        "prompt",
        "player",
        "chosen",
        "correct",
        "response_ms",
        "points",
        "kind",
        "correct_answer",
        "outcome",
        "question_percent_correct",
        # The teacher's tools: the re-vote's answer, the extra time the answer had, the regrade.
        "revote_chosen",
        "revote_correct",
        "revote_response_ms",
        "revote_points",
        "time_factor",
        "regraded_at",
    ]
    assert len(body) == 4 * 3
    assert body[3] == [
        "123456", "Geography", "1", "Capital of France?", "ann", "Paris", "yes", "2000", "900",
        "single", "Paris", "right", "75.0", "", "", "", "", "1", "",
    ]  # fmt: skip
    assert body[5] == [
        "123456",
        "Geography",
        "3",
        "2 + 2?",
        "ann",
        "",
        "",
        "",
        "",
        "single",
        "4",
        "none",
        "50.0",
        "",
        "",
        "",
        "",
        "",
        "",
    ]
    bob_q1 = next(r for r in body if r[4] == "bob" and r[2] == "1")
    assert bob_q1[5:] == [
        "Rome",
        "no",
        "1000",
        "0",
        "single",
        "Paris",
        "wrong",
        "75.0",
        "",
        "",
        "",
        "",
        "1",
        "",
    ]


def test_csv_is_utf8_and_neutralises_formulas(client, host, make_quiz):
    quiz = make_quiz(host, [('=HYPERLINK("http://x","y")', ['=HYPERLINK("http://x","y")', "@SUM(A1)"], 0)])
    nicknames = ["Zoë 李", '=HYPERLINK("x","y")', "+1", "-1", "@x", "\tx", "\rx"]
    build_session(host, quiz, [(name, n, [(n % 2, 900, 10)]) for n, name in enumerate(nicknames)])
    client.force_login(host)
    response = client.get(reverse("session_results_csv", args=["123456"]))
    assert "Zoë 李".encode() in response.content
    body = read_csv(response)[1:]
    assert {row[4] for row in body} == {
        "Zoë 李",
        '\'=HYPERLINK("x","y")',
        "'+1",
        "'-1",
        "'@x",
        "'\tx",
        "'\rx",
    }
    assert {row[3] for row in body} == {'\'=HYPERLINK("http://x","y")'}
    assert {row[5] for row in body} == {'\'=HYPERLINK("http://x","y")', "'@SUM(A1)"}


def test_csv_cell():
    assert [csv_cell(v) for v in ("=1", "plain", None, 3, "a=b", "-")] == [
        "'=1",
        "plain",
        "",
        "3",
        "a=b",
        "'-",
    ]


def test_players_csv(client, host, played):
    client.force_login(host)
    rows = read_csv(client.get(reverse("session_players_csv", args=["123456"])))
    assert rows[0] == [
        "rank", "name", "score", "correct", "accuracy_percent", "median_ms",
        "accuracy_rank", "total_answer_ms", "time_factor",
    ]  # fmt: skip
    # By accuracy all four have two right, so the total answer time decides: bob, cat, then ann and
    # dan (question 3 unanswered counts its 20 s), ann having joined first.
    assert rows[1:] == [
        ["1", "cat", "1700", "2", "66.7", "1500", "2", "7700", "1"],
        ["2", "ann", "1700", "2", "66.7", "2500", "3", "25000", "1"],
        ["3", "dan", "1700", "2", "66.7", "2500", "4", "25000", "1"],
        ["4", "bob", "1550", "2", "66.7", "1000", "1", "6000", "1"],
    ]


# Deleting


def test_delete_asks_then_deletes(client, host, played):
    client.force_login(host)
    url = reverse("session_delete", args=["123456"])
    response = client.get(url)
    assert response.status_code == 200
    assert "cannot be undone" in response.content.decode()
    assert "still open" not in response.content.decode()
    assert GameSession.objects.filter(pk=played.pk).exists()
    response = client.post(url, {"session_id": played.pk})
    assert response.status_code == 302 and response.url == reverse("host_dashboard")
    assert not GameSession.objects.filter(pk=played.pk).exists()
    assert not Player.objects.filter(session_id=played.pk).exists()
    assert not Answer.objects.filter(session_id=played.pk).exists()


def test_delete_warns_when_open_and_needs_the_confirmed_session(client, host, make_quiz):
    session = build_session(host, make_quiz(host), [], state="lobby")
    client.force_login(host)
    url = reverse("session_delete", args=["123456"])
    assert "still open" in client.get(url).content.decode()
    response = client.post(url, {"session_id": session.pk + 1})
    assert response.status_code == 302 and response.url == url
    assert GameSession.objects.filter(pk=session.pk).exists()


def test_delete_rejects_other_methods(client, host, played):
    client.force_login(host)
    assert client.put(reverse("session_delete", args=["123456"])).status_code == 405


# Past sessions


def test_past_sessions_for(host, make_host, make_quiz, played, django_assert_num_queries):
    older = build_session(host, make_quiz(host, title="Old"), [("zed", 0, [(0, 500, 400)])], code="111111")
    GameSession.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=3))
    GameSession.objects.create(code="222222", quiz=None, host=make_host("host_b"), state="finished")
    with django_assert_num_queries(1):
        sessions = list(past_sessions_for(host))
        titles = [s.quiz.title for s in sessions]
    assert titles == ["Geography", "Old"]
    assert [s.player_count for s in sessions] == [4, 1]
    # (1700 + 1700 + 1700 + 1550) / 4 from answers; the kicked player is left out.
    assert sessions[0].average_score == pytest.approx(1662.5)
    assert sessions[1].average_score == pytest.approx(400)


def test_past_sessions_partial(host, played):
    template = "sessions/partials/_past_sessions.html"
    html = render_to_string(template, {"past_sessions": past_sessions_for(host)})
    assert "Geography" in html and "1663" in html
    assert reverse("session_results", args=["123456"]) in html
    assert reverse("session_delete", args=["123456"]) in html
    empty = render_to_string(template, {"past_sessions": []})
    assert "No sessions yet." in empty


def test_superuser_sees_only_own_past_sessions(django_user_model, played):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw-123-xyz")
    assert list(past_sessions_for(root)) == []


# Cost


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_players(client, host, make_quiz):
    five = [(f"Question {n}?", ["a", "b", "c"], 0) for n in range(5)]
    bulk_session(host, make_quiz(host, five), 3, code="100003")
    bulk_session(host, make_quiz(host, five), 60, code="100060")
    client.force_login(host)
    for name in ("session_results", "session_results_csv", "session_players_csv"):
        small = count_queries(client, reverse(name, args=["100003"]))
        large = count_queries(client, reverse(name, args=["100060"]))
        assert small == large, name
        assert large <= 7, (name, large)
    accuracy = reverse("session_results", args=["100060"]) + "?view=accuracy&sort=hardest"
    assert count_queries(client, accuracy) == count_queries(
        client, reverse("session_results", args=["100003"])
    )


def test_report_of_300_players_and_10_questions(host, make_quiz, django_assert_max_num_queries):
    ten = [(f"Question {n}?", ["a", "b"], 0) for n in range(10)]
    bulk_session(host, make_quiz(host, ten), 300, code="300300")
    session = session_for_host(host, "300300")
    with django_assert_max_num_queries(4):
        report = session_report(session)
    assert report.player_count == 300
    assert len(report.questions) == 10
    assert sum(q.answered_count for q in report.questions) == 3000
    assert all(len(p.answers) == 10 for p in report.players)
    assert [p.rank for p in report.players] == list(range(1, 301))


# Every question kind, played through the engine on a fixed clock (knewit.testing's every_kind_quiz)

T0 = timezone.now().replace(microsecond=0)
# By question: what each player answered, `seconds` after the question opened (None: no answer).
# single Jupiter*; multi Mars* Venus*; truefalse True*; poll; text "The Sun"/"Sun"; slider 8; order.
KIND_ANSWERS = {
    "Ada": (2, [{"answer_idx": 1}, {"answer_idxs": [2, 0]}, {"answer_idx": 0}, {"answer_idx": 1},
                {"text": "the sun"}, {"value": 8}, {"placed": [0, 1, 2, 3]}]),
    "Bo": (4, [{"answer_idx": 0}, {"answer_idxs": [0]}, {"answer_idx": 1}, {"answer_idx": 1},
               {"text": "  The  Sun "}, {"value": 12}, {"placed": [1, 0, 2, 3]}]),
    "Cy": (6, [{"answer_idx": 1}, {"answer_idxs": [0, 1, 2]}, None, {"answer_idx": 2},
               {"text": "the sun"}, {"value": 9.0}, None]),
    # Dee votes (at 1 s) and types a wrong answer (at 3 s), nothing else.
    "Dee": (None, [None, None, None, {"answer_idx": 0}, {"text": "Moon"}, None, None]),
}  # fmt: skip
DEE_SECONDS = {3: 1, 4: 3}


@pytest.fixture
def every_kind_played(host, every_kind_quiz):
    """The quiz of every kind played to its end by Ada, Bo, Cy and Dee (KIND_ANSWERS)."""
    quiz = every_kind_quiz(host)
    session = engine.session_create(host=host, quiz_id=quiz.pk, raw_settings={}, site_url="").session
    players = {
        name: engine.player_join(
            code=session.code, raw_name=name, password=None, requested_id=None, msg_id=None,
            now=T0 + timedelta(seconds=n),
        ).player
        for n, name in enumerate(KIND_ANSWERS)
    }  # fmt: skip
    questions = list(quiz.questions.order_by("order", "pk"))
    engine.quiz_start(session_pk=session.pk, host=host, now=T0)
    for index, question in enumerate(questions):
        opened = T0 + timedelta(seconds=100 * index)
        for name, (seconds, answers) in KIND_ANSWERS.items():
            answer = answers[index]
            if answer is None:
                continue
            if "placed" in answer:
                # The engine takes shown positions; say which position shows each item placed.
                shuffle = judging.order_shuffle(session.pk, question.pk, 4)
                answer = {"order": [shuffle.index(i) for i in answer["placed"]]}
            seconds = DEE_SECONDS[index] if seconds is None else seconds
            engine.answer_submit(
                session_pk=session.pk, player_pk=players[name].pk, answer=answer, msg_id=None,
                now=opened + timedelta(seconds=seconds),
            )  # fmt: skip
        engine.question_end(session_pk=session.pk, host=host, now=opened + timedelta(seconds=30))
        engine.question_next(session_pk=session.pk, host=host, now=opened + timedelta(seconds=100))
    session.refresh_from_db()
    assert session.state == "finished"
    return session


def test_every_kind_players_answers_in_words(every_kind_played):
    report = session_report(every_kind_played)
    by_name = {p.name: p for p in report.players}
    ada, bo, cy, dee = (by_name[n] for n in ("Ada", "Bo", "Cy", "Dee"))
    assert [a.kind for a in ada.answers] == [
        "single",
        "multi",
        "truefalse",
        "poll",
        "text",
        "slider",
        "order",
    ]
    assert [a.answer_text for a in ada.answers] == [
        "Jupiter", "Mars, Venus", "True", "Saturn", "the sun", "8", "Mercury > Venus > Earth > Mars",
    ]  # fmt: skip
    assert [a.outcome for a in ada.answers] == [RIGHT, RIGHT, RIGHT, VOTED, RIGHT, RIGHT, RIGHT]
    assert [a.answer_text for a in bo.answers] == [
        "Mars", "Mars", "False", "Saturn", "The Sun", "12", "Venus > Mercury > Earth > Mars",
    ]  # fmt: skip
    assert [a.outcome for a in bo.answers] == [WRONG, WRONG, WRONG, VOTED, RIGHT, WRONG, WRONG]
    assert [a.answer_text for a in cy.answers] == [
        "Jupiter",
        "Mars, Jupiter, Venus",
        "",
        "Earth",
        "the sun",
        "9",
        "",
    ]
    assert [a.outcome for a in cy.answers] == [RIGHT, WRONG, NONE, VOTED, RIGHT, WRONG, NONE]
    assert [a.outcome for a in dee.answers] == [NONE, NONE, NONE, VOTED, WRONG, NONE, NONE]
    # The answer key per kind, the same on every player's row; a poll has none.
    assert [a.correct_text for a in dee.answers] == [
        "Jupiter", "Mars, Venus", "True", "", "The Sun / Sun", "8", "Mercury > Venus > Earth > Mars",
    ]  # fmt: skip
    assert (ada.answers[3].points, ada.answers[3].response_ms) == (0, 2000)


def test_every_kind_a_poll_counts_in_no_accuracy(every_kind_played):
    report = session_report(every_kind_played)
    # Six scored questions: Ada is right in all six, and her vote does not make it six of seven.
    rows = [(p.name, p.score, p.correct_count, p.accuracy, p.median_ms) for p in report.players]
    assert rows == [
        ("Ada", 5700, 6, 100.0, 2000),
        ("Cy", 1700, 2, 33.3, 6000),
        ("Bo", 900, 1, 16.7, 4000),
        # Dee's vote (1 s) is no answer to time either: her median is her one typed answer's 3 s.
        ("Dee", 0, 0, 0.0, 3000),
    ]
    assert names(report.accuracy_ranking) == ["Ada", "Cy", "Bo", "Dee"]
    assert report.has_polls


def test_every_kind_question_stats(every_kind_played):
    report = session_report(every_kind_played)
    single, multi, truefalse, poll, text, slider, order = report.questions

    def rows(q):
        return [(o.text, o.count, o.percent, o.is_correct) for o in q.options]

    assert rows(single) == [("Mars", 1, 33.3, False), ("Jupiter", 2, 66.7, True), ("Venus", 0, 0.0, False)]
    assert (single.correct_index, single.correct_text, single.percent_correct) == (1, "Jupiter", 50.0)
    # multi: how many picked each option, of the 3 who answered (so the percents add up past 100).
    assert rows(multi) == [
        ("Mars", 3, 100.0, True), ("Jupiter", 1, 33.3, False),
        ("Venus", 2, 66.7, True), ("Saturn", 0, 0.0, False),
    ]  # fmt: skip
    assert (multi.correct_index, multi.correct_text, multi.correct_count, multi.percent_correct) == (
        None, "Mars, Venus", 1, 25.0,
    )  # fmt: skip
    assert rows(truefalse) == [("True", 1, 50.0, True), ("False", 1, 50.0, False)]
    assert (truefalse.correct_text, truefalse.answered_count, truefalse.percent_correct) == ("True", 2, 25.0)
    # A poll: its votes and nothing about right or wrong.
    assert rows(poll) == [("Mars", 1, 25.0, False), ("Saturn", 2, 50.0, False), ("Earth", 1, 25.0, False)]
    assert (poll.scored, poll.correct_text, poll.correct_count, poll.percent_correct) == (
        False,
        "",
        None,
        None,
    )
    assert (poll.answered_count, poll.median_ms, poll.tells_difficulty) == (4, 3000, False)
    # "the sun" twice and "The Sun" once normalise alike: one row, in the spelling typed most often.
    assert rows(text) == [("the sun", 3, 75.0, True), ("Moon", 1, 25.0, False)]
    assert (text.correct_text, text.percent_correct, text.other_count) == ("The Sun / Sun", 75.0, 0)
    # slider 0 to 20 in ten parts: 8 and 9 in the fifth, which holds the correct 8; 12 in the seventh.
    assert [o.count for o in slider.options] == [0, 0, 0, 0, 2, 0, 1, 0, 0, 0]
    assert [o.text.replace("\u2013", "-") for o in slider.options][:5] == ["0-1", "2-3", "4-5", "6-7", "8-9"]
    assert slider.options[-1].text == "18\u201320"
    assert [o.is_correct for o in slider.options] == [i == 4 for i in range(10)]
    assert (slider.correct_text, slider.percent_correct) == ("8", 25.0)
    assert rows(order) == [("In the right order", 1, 50.0, True), ("In another order", 1, 50.0, False)]
    assert (order.correct_text, order.percent_correct) == ("Mercury > Venus > Earth > Mars", 25.0)
    assert all(q.played and q.kind_label for q in report.questions)


def test_every_kind_report_counts_as_the_live_tally_does(every_kind_played):
    """The report counts in Python what the host's histogram counts in SQL (selectors.tally)."""
    report = session_report(every_kind_played)
    questions = every_kind_played.quiz.questions.order_by("order", "pk").prefetch_related("choices")
    for index, question in enumerate(questions):
        facts = judging.facts_of(question, list(question.choices.all()))
        assert selectors.tally(every_kind_played, index, facts).bins == [
            o.count for o in report.questions[index].options
        ], question.kind


def test_every_kind_report_costs_four_queries(host, every_kind_played, django_assert_max_num_queries):
    session = session_for_host(host, every_kind_played.code)
    with django_assert_max_num_queries(4):
        session_report(session)


def test_every_kind_hardest_first_leaves_the_poll_out(client, host, every_kind_played):
    client.force_login(host)
    url = reverse("session_results", args=[every_kind_played.code])
    # 25%: multi, truefalse, slider, order; 50%: single; 75%: text; the poll says nothing, so last.
    assert [q.number for q in client.get(url, {"sort": "hardest"}).context["questions"]] == [
        2,
        3,
        6,
        7,
        1,
        5,
        4,
    ]


def test_every_kind_results_page(client, host, every_kind_played):
    client.force_login(host)
    html = client.get(reverse("session_results", args=[every_kind_played.code])).content.decode()
    assert "style=" not in html
    articles = html.split('<article class="results-question"')[1:]
    assert len(articles) == 7
    single, multi, _, poll, text, slider, order = articles
    assert "50% correct" in single and "(correct answer)" in single
    assert "Correct answer: <strong>Mars, Venus</strong>" in multi and "picked each option" in multi
    assert "% correct" not in poll and "No right or wrong answer" in poll and "4 voted" in poll
    assert "Votes per option" in poll and "✓" not in poll and "(correct answer)" not in poll
    assert 'aria-label="Saturn: 2 of 4 answers"' in poll
    assert "Accepted answers: <strong>The Sun / Sun</strong>" in text and "(accepted answer)" in text
    assert "the sun" in text and "Moon" in text and "3 (75%)" in text
    assert "8\u20139" in slider and "(the correct value is in this range)" in slider
    assert "In the right order" in order and "Mercury &gt; Venus &gt; Earth &gt; Mars" in order
    # In the players' table the vote is told apart from right and wrong in words, not by colour only.
    assert '<span class="visually-hidden">voted</span>' in html
    assert 'title="Question 4 (poll, not scored)"' in html


def test_every_kind_player_detail(client, host, every_kind_played):
    client.force_login(host)
    dee = session_report(every_kind_played).players[-1]
    html = client.get(reverse("session_player_detail", args=[every_kind_played.code, dee.public_id])).content
    html = html.decode()
    assert "Voted (poll)" in html and "none: a poll has no correct answer" in html
    assert "<dd>0 (0%, polls not counted)</dd>" in html
    bo = session_report(every_kind_played).players[2]
    html = client.get(reverse("session_player_detail", args=[every_kind_played.code, bo.public_id])).content
    assert "Venus &gt; Mercury &gt; Earth &gt; Mars" in html.decode() and "The Sun" in html.decode()


def test_every_kind_answers_csv(client, host, every_kind_played):
    client.force_login(host)
    rows = read_csv(client.get(reverse("session_results_csv", args=[every_kind_played.code])))
    body = {(row[4], int(row[2])): row[5:13] for row in rows[1:]}
    assert len(rows) == 1 + 4 * 7
    # No re-vote, no extra time, no regrade: the last columns say only the factor of each answer.
    assert {tuple(row[13:]) for row in rows[1:]} == {("", "", "", "", "1", ""), ("", "", "", "", "", "")}
    # chosen, correct, response_ms, points, kind, correct_answer, outcome, question_percent_correct
    assert [body["Ada", n] for n in range(1, 8)] == [
        ["Jupiter", "yes", "2000", "950", "single", "Jupiter", "right", "50.0"],
        ["Mars, Venus", "yes", "2000", "950", "multi", "Mars, Venus", "right", "25.0"],
        ["True", "yes", "2000", "950", "truefalse", "True", "right", "25.0"],
        ["Saturn", "", "2000", "0", "poll", "", "voted", ""],
        ["the sun", "yes", "2000", "950", "text", "The Sun / Sun", "right", "75.0"],
        ["8", "yes", "2000", "950", "slider", "8", "right", "25.0"],
        ["Mercury > Venus > Earth > Mars", "yes", "2000", "950", "order", "Mercury > Venus > Earth > Mars",
         "right", "25.0"],
    ]  # fmt: skip
    assert body["Bo", 2][:2] == ["Mars", "no"]
    assert body["Bo", 5][:2] == ["The Sun", "yes"]
    assert body["Bo", 6][:2] == ["12", "no"]
    assert body["Bo", 7][:2] == ["Venus > Mercury > Earth > Mars", "no"]
    assert body["Cy", 2][:2] == ["Mars, Jupiter, Venus", "no"]
    assert body["Cy", 6][:2] == ["9", "no"]
    assert body["Cy", 7] == ["", "", "", "", "order", "Mercury > Venus > Earth > Mars", "none", "25.0"]
    assert body["Dee", 4] == ["Mars", "", "1000", "0", "poll", "", "voted", ""]
    assert body["Dee", 5] == ["Moon", "no", "3000", "0", "text", "The Sun / Sun", "wrong", "75.0"]


def test_every_kind_players_csv(client, host, every_kind_played):
    client.force_login(host)
    rows = read_csv(client.get(reverse("session_players_csv", args=[every_kind_played.code])))
    assert rows[1:] == [
        ["1", "Ada", "5700", "6", "100.0", "2000", "1", "14000", "1"],
        ["2", "Cy", "1700", "2", "33.3", "6000", "2", "70000", "1"],
        ["3", "Bo", "900", "1", "16.7", "4000", "3", "28000", "1"],
        ["4", "Dee", "0", "0", "0.0", "3000", "4", "104000", "1"],
    ]


def test_text_answers_beyond_the_top_are_counted_as_others():
    facts = judging.QuestionFacts(
        kind="text", correct=(True,), points=1000, time_limit_s=20, prompt="?", texts=("Paris",), total=1
    )
    typed = ["paris", "PARIS", "Lyon"] + [f"town {n}" for n in range(9)]
    given = [PlayerAnswer(1, "?", "text", None, t, t, "Paris", WRONG, 1000, 0) for t in typed]
    rows, others = _distribution(facts, given)
    assert (rows[0].text, rows[0].count, rows[0].is_correct) == ("paris", 2, True)
    assert len(rows) == judging.TOP_ANSWERS
    assert sum(r.count for r in rows) + others == len(typed)
    assert others == 3


def test_slider_bin_labels():
    """A part of the range is named by the values a student can pick in it."""
    one_each = judging.Slider(min=1, max=5, step=1, correct=3, tolerance=0)
    assert judging.slider_bin_labels(one_each) == ("1", "2", "3", "4", "5")
    tenths = judging.Slider(min=0, max=0.9, step=0.1, correct=0.3, tolerance=0)
    assert judging.slider_bin_labels(tenths)[3] == "0.3"
    eleven = judging.Slider(min=0, max=1, step=0.1, correct=0.3, tolerance=0)
    assert judging.slider_bin_labels(eleven)[-2:] == ("0.8", "0.9\u20131")
    wide = judging.Slider(min=0, max=100, step=1, correct=42, tolerance=2)
    labels = judging.slider_bin_labels(wide)
    assert (labels[0], labels[4], labels[9]) == ("0\u20139", "40\u201349", "90\u2013100")
    # Steps of 25 over 0 to 100 leave parts no step falls in: those are named by their span.
    coarse = judging.Slider(min=0, max=100, step=25, correct=50, tolerance=0)
    assert judging.slider_bin_labels(coarse) == ("0", "25", "50", "75", "100")
    # A step that does not divide the range: no label names a value past the maximum.
    uneven = judging.Slider(min=0, max=10, step=6, correct=6, tolerance=0)
    labels = judging.slider_bin_labels(uneven)
    assert labels[:2] == ("0", "6") and not any("12" in label for label in labels)
