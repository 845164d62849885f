"""Fixtures shared by every test package."""

from __future__ import annotations

import os

import pytest

from quizzes_app.hosts import host_ensure
from quizzes_app.models import Choice, Question, Quiz


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


@pytest.fixture
def make_host(db):
    def make(username: str = "host_a", password: str = "pw-for-tests-123"):
        return host_ensure(username=username, password=password)

    return make


@pytest.fixture
def host(make_host):
    return make_host("host_a")


@pytest.fixture
def make_quiz(db):
    """A saved quiz: make_quiz(owner, [("prompt", ["a", "b"], correct_idx), ...])."""

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


@pytest.fixture(scope="session", autouse=True)
def close_async_test_connections(django_db_setup, django_db_blocker):
    """Async tests reach the database from asgiref's single worker thread; close its connection at the end,
    or PostgreSQL refuses to drop the test database while it is open."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    with django_db_blocker.unblock():
        SyncToAsync.single_thread_executor.submit(connections.close_all).result()


@pytest.fixture
async def connect():
    """Open clients; at the end close them all and stop this loop's background tasks."""
    from sessions_app.live import loops
    from sessions_app.tests.wsclient import Client, open_client

    clients: list[Client] = []

    async def make(query: str = "", headers: list | None = None) -> Client:
        client = await open_client(query, headers)
        clients.append(client)
        return client

    yield make
    for client in clients:
        try:
            await client.close()
        except Exception:  # already closed by the server
            pass
    await loops.shutdown()
