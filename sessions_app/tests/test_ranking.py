"""One ranking rule everywhere (issue #12, item 7): live board, podium, report, CSV and player page.

The tie below is one that "sum only the answered times" and "an unanswered question counts as its
whole time limit" break differently: Early answers question 1 wrongly in 1 s and skips question 2
(1 s answered, 21 s by the rule); Steady answers both wrongly in 8 s each (16 s either way). Both
score 0, and Early joined first, so join order alone would also favour Early.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sessions_app import engine, ranking, selectors
from sessions_app.reports import session_report

pytestmark = pytest.mark.django_db
T0 = timezone.now().replace(microsecond=0)


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def tied_game(host, make_quiz):
    quiz = make_quiz(host, [("Q1", ["a", "b"], 0), ("Q2", ["a", "b"], 0)], default_time_limit=20)
    session = engine.session_create(host=host, quiz_id=quiz.pk, raw_settings={}, site_url="").session
    early, steady = (
        engine.player_join(
            code=session.code, raw_name=name, password=None, requested_id=None, msg_id=None, now=at(0)
        ).player
        for name in ("Early", "Steady")
    )

    def answer(player, seconds):
        engine.answer_submit(
            session_pk=session.pk, player_pk=player.pk, answer_idx=1, msg_id=None, now=at(seconds)
        )

    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    answer(early, 1)
    answer(steady, 8)
    engine.question_end(session_pk=session.pk, host=host, now=at(10))
    engine.question_next(session_pk=session.pk, host=host, now=at(30))
    answer(steady, 38)
    finished = engine.question_next(session_pk=session.pk, host=host, now=at(60))
    session.refresh_from_db()
    return session, finished


def test_the_tie_goes_the_same_way_on_every_screen(client, host, tied_game):
    session, finished = tied_game
    expected = ["Steady", "Early"]

    live = [e["name"] for e in selectors.leaderboard(session)]
    podium = next(e for e in finished.events if getattr(e, "payload", {}).get("type") == "quiz.finished")
    report = session_report(session)
    assert live == expected
    assert [e["name"] for e in podium.payload["leaderboard"]] == expected
    assert [row.name for row in report.players] == expected
    assert [row.total_ms for row in report.players] == [16_000, 21_000]

    client.force_login(host)
    players_csv = client.get(reverse("session_players_csv", args=[session.code])).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(players_csv)))
    assert [(r["rank"], r["name"]) for r in rows] == [("1", "Steady"), ("2", "Early")]
    for rank, row in enumerate(report.players, start=1):
        page = client.get(reverse("session_player_detail", args=[session.code, row.public_id]))
        assert f"<dd>{rank} of 2</dd>" in page.content.decode()
        player = session.players.get(public_id=row.public_id)
        assert selectors.rank_of(session, player) == rank


def test_the_key_and_the_database_order_agree(host, tied_game):
    session, _ = tied_game
    players = list(session.players.all())
    by_key = sorted(
        players,
        key=lambda p: ranking.rank_key(
            score=p.score, total_answer_ms=p.total_answer_ms, joined_at=p.joined_at, pk=p.pk
        ),
    )
    assert by_key == list(selectors.ranked_players(session))


def test_total_answer_ms_counts_silence_as_the_whole_limit():
    assert ranking.total_answer_ms([1000, None, 3000], [20_000, 20_000, 10_000]) == 24_000
