"""Socket fixtures for the sessions app; the connect fixture itself lives in the root conftest."""

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
def quick_player_lobby(settings):
    """Tests wait for pushes to settle; the players' one-second lobby interval would outlast that."""
    settings.KNEWIT = {**settings.KNEWIT, "PLAYERS_LOBBY_INTERVAL_S": settings.KNEWIT["PUSH_INTERVAL_S"]}
