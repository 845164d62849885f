"""Knewit's pytest plugin: the fixtures and hooks every test package shares.

pyproject.toml loads it for every run in the repository (`addopts = "-p knewit.testing"`), so there
is no root conftest.py. pytest imports it before pytest-django sets Django up: application modules
are imported inside the fixtures, never at the top of this module.

Hook
    pytest_collection_modifyitems  Tests marked `services` need DATABASE_URL and REDIS_URL. Without
                                   them they are skipped, unless KNEWIT_REQUIRE_SERVICES=1 (CI), which
                                   makes the run fail instead.

Fixtures for building test data
    make_host      make_host(username="host_a", password=...) -> a host user (quizzes_app.hosts).
    host           The default host, "host_a".
    make_quiz      make_quiz(owner, [("prompt", ["a", "b"], correct_idx), ...], title=..., **question_kw)
                   -> a saved Quiz with its questions and choices (two capitals questions by default).
    every_kind_quiz  every_kind_quiz(owner) -> a Quiz with one question of each kind, in the order of
                   EVERY_KIND (its docstring says each question and its answer).
    connect        async; `await connect(query="", headers=None)` -> a protocol client over
                   knewit.asgi.application (sessions_app.tests.wsclient.Client). At the end of the
                   test it closes every client it opened and stops this event loop's live state.

Isolation between tests (autouse: every test gets them without asking)
    Some application state lives for the whole process, not one test; these fixtures reset it.
    plain_static_storage          Pages are rendered without collectstatic, so the manifest static
                                  storage of production settings would fail; use the plain one.
    fresh_question_facts          Clears sessions_app.engine.question_facts, the process-wide
                                  lru_cache of a question's scoring facts keyed by (question pk,
                                  opening time). Test databases reuse primary keys (and some tests
                                  a fixed clock), so without it a test could score with the facts
                                  of the previous test's question.
    default_language              The test client's requests leave their language (a French cookie)
                                  active on the test's thread, as a worker's request thread would:
                                  back to the default after each test, whatever ran before.
    close_async_test_connections  session-scoped: async tests reach the database from asgiref's
                                  single worker thread; close that thread's connection at the end,
                                  or PostgreSQL refuses to drop the test database while it is open.
    The `connect` fixture's teardown is the other reset: `sessions_app.live.loops.shutdown()` cancels
    the event loop's background tasks and drops the per-loop state of the live modules (hubs,
    coalescers, timers...), which would otherwise outlive the test that made them.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sessions_app.tests.wsclient import Client


def pytest_collection_modifyitems(config, items):
    """Tests marked `services` need DATABASE_URL and REDIS_URL; CI sets both and must run them."""
    have_services = bool(os.environ.get("DATABASE_URL")) and bool(os.environ.get("REDIS_URL"))
    required = os.environ.get("KNEWIT_REQUIRE_SERVICES") == "1"
    if have_services:
        return
    if required:
        raise pytest.UsageError("KNEWIT_REQUIRE_SERVICES=1 but DATABASE_URL or REDIS_URL is unset")
    for item in items:
        if "services" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="needs DATABASE_URL and REDIS_URL"))


# --- test data --------------------------------------------------------------------------------------


@pytest.fixture
def make_host(db):
    """A host user: make_host(username="host_a", password=...)."""
    from quizzes_app.hosts import host_ensure

    def make(username: str = "host_a", password: str = "pw-for-tests-123"):
        return host_ensure(username=username, password=password)

    return make


@pytest.fixture
def host(make_host):
    """The default host, "host_a"."""
    return make_host("host_a")


@pytest.fixture
def make_quiz(db):
    """A saved quiz: make_quiz(owner, [("prompt", ["a", "b"], correct_idx), ...])."""
    from quizzes_app.models import Choice, Question, Quiz

    def make(owner, questions=None, title: str = "Capitals", default_time_limit: int = 20, **question_kw):
        questions = questions or [
            ("Capital of France?", ["Paris", "Rome", "Madrid", "Berlin"], 0),
            ("Capital of Italy?", ["Paris", "Rome"], 1),
        ]
        quiz = Quiz.objects.create(title=title, owner=owner, default_time_limit=default_time_limit)
        for q_order, (prompt, options, correct_idx) in enumerate(questions):
            question = Question.objects.create(quiz=quiz, order=q_order, prompt=prompt, **question_kw)
            Choice.objects.bulk_create(
                Choice(question=question, order=i, text=text, is_correct=i == correct_idx)
                for i, text in enumerate(options)
            )
        return quiz

    return make


EVERY_KIND = ("single", "multi", "truefalse", "poll", "text", "slider", "order")


@pytest.fixture
def every_kind_quiz(db):
    """A quiz with one question of each kind, 20 s each, in EVERY_KIND order:

    single "Largest planet?" Mars / Jupiter* / Venus; multi "Rocky planets?" Mars* / Jupiter / Venus* /
    Saturn; truefalse "The Sun is a star." True*; poll "Favourite planet?" Mars / Saturn / Earth;
    text "Closest star to Earth?" accepted "The Sun" and "Sun"; slider "How many planets?" 0..20 step 1,
    correct 8, tolerance 0; order "Closest to the Sun first" Mercury, Venus, Earth, Mars.
    """
    from quizzes_app.models import Choice, Question, Quiz

    def make(owner, title: str = "Every kind"):
        quiz = Quiz.objects.create(title=title, owner=owner, default_time_limit=20)
        specs = [
            ("single", "Largest planet?", [("Mars", False), ("Jupiter", True), ("Venus", False)], {}),
            ("multi", "Rocky planets?",
             [("Mars", True), ("Jupiter", False), ("Venus", True), ("Saturn", False)], {}),
            ("truefalse", "The Sun is a star.", [("True", True), ("False", False)], {}),
            ("poll", "Favourite planet?", [("Mars", False), ("Saturn", False), ("Earth", False)], {}),
            ("text", "Closest star to Earth?", [("The Sun", True), ("Sun", True)], {}),
            ("slider", "How many planets?", [], {"slider_min": 0, "slider_max": 20, "slider_step": 1,
                                                  "slider_correct": 8, "slider_tolerance": 0}),
            ("order", "Closest to the Sun first",
             [(t, False) for t in ("Mercury", "Venus", "Earth", "Mars")], {}),
        ]  # fmt: skip
        for order, (kind, prompt, choices, extra) in enumerate(specs):
            question = Question.objects.create(quiz=quiz, order=order, kind=kind, prompt=prompt, **extra)
            Choice.objects.bulk_create(
                Choice(question=question, order=i, text=text, is_correct=ok)
                for i, (text, ok) in enumerate(choices)
            )
        return quiz

    return make


@pytest.fixture
async def connect():
    """Open clients; at the end close them all and stop this loop's background tasks."""
    from sessions_app.live import loops
    from sessions_app.tests.wsclient import open_client

    clients: list[Client] = []

    async def make(query: str = "", headers: list | None = None) -> Client:
        client = await open_client(query, headers)
        clients.append(client)
        return client

    yield make
    for client in clients:
        with contextlib.suppress(Exception):  # already closed by the server
            await client.close()
    # Isolation: cancel this loop's background tasks and forget its per-loop live state.
    await loops.shutdown()


# --- isolation between tests ------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    """Tests render pages without collectstatic, so the manifest storage would fail."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def fresh_question_facts():
    """Test databases reuse primary keys (and some tests a fixed clock): forget the last test's questions."""
    from sessions_app.engine import question_facts

    question_facts.cache_clear()


@pytest.fixture(autouse=True)
def default_language():
    """A request of the test client activates its language on this thread and leaves it so."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(scope="session", autouse=True)
def close_async_test_connections(django_db_setup, django_db_blocker):
    """Async tests reach the database from asgiref's single worker thread; close its connection at the end,
    or PostgreSQL refuses to drop the test database while it is open."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    with django_db_blocker.unblock():
        SyncToAsync.single_thread_executor.submit(connections.close_all).result()
