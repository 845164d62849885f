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

from sessions_app.models import Answer, GameSession, Player
from sessions_app.reports import NONE, RIGHT, WRONG, past_sessions_for, session_report
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
    # All have two right: the faster median wins, then the earlier joiner.
    assert names(report.accuracy_ranking) == ["bob", "cat", "ann", "dan"]
    assert [p.accuracy_rank for p in report.accuracy_ranking] == [1, 2, 3, 4]


def test_report_answers_per_player_include_none(played):
    ann = session_report(played).player("p1")
    assert [a.outcome for a in ann.answers] == [RIGHT, RIGHT, NONE]
    assert [a.choice_text for a in ann.answers] == ["Paris", "Rome", ""]
    assert ann.answers[2].response_ms is None and ann.answers[2].points is None
    bob = session_report(played).player("p2")
    assert (bob.answers[0].outcome, bob.answers[0].choice_text, bob.answers[0].points) == (WRONG, "Rome", 0)


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
    assert "then median response time" in response.content.decode()


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
    ]
    assert len(body) == 4 * 3
    assert body[3] == ["123456", "Geography", "1", "Capital of France?", "ann", "Paris", "yes", "2000", "900"]
    assert body[5] == ["123456", "Geography", "3", "2 + 2?", "ann", "", "", "", ""]
    bob_q1 = next(r for r in body if r[4] == "bob" and r[2] == "1")
    assert bob_q1[5:] == ["Rome", "no", "1000", "0"]


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
    assert rows[0] == ["rank", "name", "score", "correct", "accuracy_percent", "median_ms"]
    assert rows[1:] == [
        ["1", "cat", "1700", "2", "66.7", "1500"],
        ["2", "ann", "1700", "2", "66.7", "2500"],
        ["3", "dan", "1700", "2", "66.7", "2500"],
        ["4", "bob", "1550", "2", "66.7", "1000"],
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
