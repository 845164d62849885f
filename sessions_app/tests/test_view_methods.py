"""Views accept only their methods, and a GET never writes: the host's page socket marks the page open."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import AsyncClient
from django.urls import reverse

from knewit.asgi import application
from sessions_app import engine
from sessions_app.models import GameSession
from sessions_app.tests.wsclient import HOST_HEADER, ORIGIN

pytestmark = pytest.mark.django_db


def start_session(host, quiz) -> GameSession:
    return engine.session_create(
        host=host, quiz_id=quiz.pk, raw_settings={}, site_url="http://testserver"
    ).session


@pytest.fixture
def session(host, make_quiz):
    return start_session(host, make_quiz(host))


@pytest.fixture
def host_client(client, host):
    client.force_login(host)
    return client


def test_session_start_refuses_get(host_client):
    assert host_client.get(reverse("session_start")).status_code == 405
    assert not GameSession.objects.exists()


@pytest.mark.parametrize(
    ("name", "with_code"),
    [("play", True), ("host_session", True), ("host_dashboard", False), ("metrics", False)],
)
def test_get_only_views_refuse_post(host_client, session, name, with_code):
    url = reverse(name, kwargs={"code": session.code} if with_code else None)
    assert host_client.post(url).status_code == 405
    session.refresh_from_db()
    assert session.host_on_page is False


@pytest.mark.parametrize("method", ["put", "delete"])
@pytest.mark.parametrize("url", ["/", "/join/123456/"])
def test_join_refuses_put_and_delete(client, method, url):
    assert getattr(client, method)(url).status_code == 405


def test_get_of_the_host_page_writes_nothing(host_client, session):
    response = host_client.get(reverse("host_session", kwargs={"code": session.code}))
    assert response.status_code == 200
    session.refresh_from_db()
    assert session.host_on_page is False


@pytest.mark.django_db(transaction=True)
async def test_the_host_page_socket_marks_the_page_open(connect, host, make_quiz):
    # `connect` is only asked for its teardown: it stops this loop's background tasks.
    session = await database_sync_to_async(lambda: start_session(host, make_quiz(host)))()
    http = AsyncClient()
    await database_sync_to_async(http.force_login)(host)
    cookie = (b"cookie", f"sessionid={http.cookies['sessionid'].value}".encode())
    comm = WebsocketCommunicator(
        application, f"/ws/page/host/{session.code}/", headers=[ORIGIN, HOST_HEADER, cookie]
    )
    connected, _ = await comm.connect()
    assert connected
    try:
        first = await comm.receive_output(timeout=3)
        assert first["type"] == "websocket.send", first  # the page's regions, not a close
        await database_sync_to_async(session.refresh_from_db)()
        assert session.host_on_page is True
    finally:
        await comm.disconnect()
