"""Socket fixtures for the sessions app; the connect fixture itself lives in the knewit.testing plugin."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from sessions_app.auth import host_token_create
from sessions_app.tests.wsclient import HOST_HEADER, ORIGIN, Client, open_client  # noqa: F401  (re-exported)


@pytest.fixture
def host_token(host):
    return host_token_create(user=host)


@pytest.fixture
def quiz_for(make_quiz):
    return database_sync_to_async(make_quiz)


@pytest.fixture(autouse=True)
def quick_pushes(settings):
    """Tests wait for coalesced pushes to settle; short intervals keep that wait short and certain
    (with Redis, a claimed interval pushes at its end)."""
    settings.KNEWIT = {**settings.KNEWIT, "PUSH_INTERVAL_S": 0.05, "PLAYERS_LOBBY_INTERVAL_S": 0.05}
