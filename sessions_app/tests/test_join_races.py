"""Joins racing each other on PostgreSQL, where they run in parallel: the cap and names still hold.

The session row is locked only for the final count, so concurrent joins overlap everywhere else;
these tests make them collide on purpose. (SQLite runs one writer at a time, so there is no race.)
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from sessions_app import engine
from sessions_app.engine import EngineError
from sessions_app.models import Player

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def join_all(code: str, names: list[str]) -> list[str]:
    """Each name joins from its own thread (and connection), all released at once; returns outcomes."""
    barrier = threading.Barrier(len(names))
    outcomes: list[str] = [""] * len(names)

    def join(i: int, name: str) -> None:
        try:
            barrier.wait()
            engine.player_join(
                code=code, raw_name=name, password=None, requested_id=None, msg_id=None, now=timezone.now()
            )
            outcomes[i] = "joined"
        except EngineError as exc:
            outcomes[i] = exc.code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=join, args=(i, name)) for i, name in enumerate(names)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


@pytest.fixture
def session(host, make_quiz):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    quiz = make_quiz(host)
    return engine.session_create(
        host=host, quiz_id=quiz.pk, raw_settings={"max_players": 5}, site_url="http://x"
    ).session


def test_racing_joins_never_overfill_a_game(session):
    outcomes = join_all(session.code, [f"P{i}" for i in range(16)])
    assert outcomes.count("joined") == 5
    assert set(outcomes) == {"joined", "full"}
    assert Player.objects.filter(session=session).count() == 5


def test_racing_joins_under_one_name_make_one_player(session):
    outcomes = join_all(session.code, ["Ada"] * 8)
    assert outcomes.count("joined") == 1
    assert set(outcomes) == {"joined", "name_taken"}
    assert Player.objects.filter(session=session).count() == 1
