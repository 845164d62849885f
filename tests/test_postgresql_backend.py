"""knewit.postgresql: Django's health check without a round trip, still catching a closed connection.

Channels begins a new "request" around every database call, so each call runs the health check.
"""

from __future__ import annotations

import pytest
from django.db import close_old_connections, connection, connections
from django.db.backends.postgresql import base as stock

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def round_trips(monkeypatch):
    """How many times Django's own check (SELECT 1) ran."""
    calls = []
    original = stock.DatabaseWrapper.is_usable

    def counted(self):
        calls.append(1)
        return original(self)

    monkeypatch.setattr(stock.DatabaseWrapper, "is_usable", counted)
    return calls


def query_between_requests() -> int:
    """What database_sync_to_async does around each call, then a query."""
    close_old_connections()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone()[0]


def test_the_backend_is_in_use():
    assert connection.vendor == "postgresql"
    assert type(connections["default"]).__module__ == "knewit.postgresql.base"
    assert connection.health_check_enabled


def test_a_healthy_idle_connection_is_not_checked_with_a_round_trip(round_trips):
    query_between_requests()
    for _ in range(5):
        assert query_between_requests() == 1
    assert round_trips == []


def test_a_connection_the_server_closed_is_replaced_before_the_next_call(round_trips):
    query_between_requests()
    dead_pid = connection.connection.info.backend_pid
    other = connections.create_connection("default")  # a second session to do the killing
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [dead_pid])
            assert cursor.fetchone()[0] is True
    finally:
        other.close()

    # Without a check the next call would fail; with the stock check it would cost a round trip
    # each time. Here the closed socket is noticed, the check confirms it, and a new connection runs.
    assert _wait_for_input(connection.connection.fileno())
    assert query_between_requests() == 1
    assert connection.connection.info.backend_pid != dead_pid
    assert round_trips == [1]


def _wait_for_input(fd: int, timeout_ms: int = 5000) -> bool:
    import select

    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)
    return bool(poller.poll(timeout_ms))
