"""Sessions admin: read-only records, scoped to their host; host tokens without their hashes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sessions_app.models import Answer, GameSession, HostToken, Player, hash_secret

SESSION_LIST = reverse("admin:sessions_app_gamesession_changelist")
PLAYER_LIST = reverse("admin:sessions_app_player_changelist")
ANSWER_LIST = reverse("admin:sessions_app_answer_changelist")
TOKEN_LIST = reverse("admin:sessions_app_hosttoken_changelist")


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    """The manifest storage needs collectstatic; admin pages only need URLs."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def played_session(owner, quiz, code: str, players: int = 2) -> GameSession:
    """A finished session with players who each answered the first question."""
    session = GameSession.objects.create(code=code, quiz=quiz, host=owner, state=GameSession.State.FINISHED)
    question = quiz.questions.first()
    for n in range(players):
        player = Player.objects.create(
            session=session, public_id=f"{code}-p{n}", name=f"Player{n}", name_key=f"player{n}"
        )
        Answer.objects.create(
            session=session,
            player=player,
            question=question,
            question_index=0,
            choice_idx=0,
            received_at=timezone.now(),
            response_ms=1500,
            correct=True,
            points=900,
        )
    return session


@pytest.fixture
def own_session(host, make_quiz):
    return played_session(host, make_quiz(host), "111111")


@pytest.fixture
def other_session(make_host, make_quiz):
    other = make_host("host_b")
    return played_session(other, make_quiz(other, title="B quiz"), "222222")


@pytest.fixture
def host_client(client, host):
    client.force_login(host)
    return client


def url(obj, action: str = "change") -> str:
    return reverse(f"admin:sessions_app_{obj._meta.model_name}_{action}", args=[obj.pk])


def count_queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_host_sees_only_own_sessions_players_and_answers(host_client, own_session, other_session):
    sessions = host_client.get(SESSION_LIST).context["cl"].result_list
    assert list(sessions) == [own_session]
    assert sessions[0].player_count == 2
    players = host_client.get(PLAYER_LIST).context["cl"].result_list
    assert {p.session for p in players} == {own_session}
    answers = host_client.get(ANSWER_LIST).context["cl"].result_list
    assert {a.session for a in answers} == {own_session}


def test_host_cannot_open_another_hosts_records(host_client, other_session):
    for obj in (other_session, other_session.players.first(), other_session.answers.first()):
        response = host_client.get(url(obj))
        assert response.status_code in (302, 404)
        assert "<form" not in response.content.decode()


def test_own_session_is_read_only(host_client, own_session):
    response = host_client.get(url(own_session))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert 'name="_save"' not in response.content.decode()
    assert "Player1" in response.content.decode()
    assert host_client.post(url(own_session), {"state": "lobby"}).status_code == 403
    own_session.refresh_from_db()
    assert own_session.state == GameSession.State.FINISHED


@pytest.mark.parametrize("path", [SESSION_LIST, PLAYER_LIST, ANSWER_LIST])
def test_nobody_adds_session_data(admin_client, path):
    assert admin_client.get(path + "add/").status_code == 403


def test_host_cannot_delete_sessions(host_client, own_session):
    assert host_client.post(url(own_session, "delete"), {"post": "yes"}).status_code == 403
    assert GameSession.objects.filter(pk=own_session.pk).exists()


def test_superuser_deletes_session_with_its_players_and_answers(admin_client, own_session, other_session):
    response = admin_client.get(url(own_session, "delete"))
    assert response.status_code == 200
    assert not response.context["perms_lacking"]
    response = admin_client.post(url(own_session, "delete"), {"post": "yes"})
    assert response.status_code == 302
    assert list(GameSession.objects.all()) == [other_session]
    assert not Player.objects.filter(session_id=own_session.pk).exists()
    assert Answer.objects.count() == 2


def test_superuser_cannot_delete_players_or_answers(admin_client, own_session):
    assert admin_client.get(url(own_session.players.first(), "delete")).status_code == 403
    assert admin_client.get(url(own_session.answers.first(), "delete")).status_code == 403


@pytest.mark.parametrize("path", [SESSION_LIST, PLAYER_LIST, ANSWER_LIST])
def test_changelists_have_no_n_plus_one(admin_client, host, make_quiz, path):
    quiz = make_quiz(host)
    played_session(host, quiz, "333333", players=1)
    one = count_queries(admin_client, path)
    for n in range(4):
        played_session(host, quiz, f"44444{n}", players=3)
    assert count_queries(admin_client, path) == one


def make_token(user, label: str = "bot") -> HostToken:
    return HostToken.objects.create(user=user, token_hash=hash_secret(f"secret-{label}"), label=label)


def test_token_pages_never_show_the_hash(admin_client, host):
    token = make_token(host, "laptop")
    listing = admin_client.get(TOKEN_LIST).content.decode()
    page = admin_client.get(url(token)).content.decode()
    assert "laptop" in listing and "laptop" in page
    assert token.token_hash not in listing
    assert token.token_hash not in page


def test_tokens_cannot_be_added_in_admin(admin_client):
    assert admin_client.get(TOKEN_LIST + "add/").status_code == 403


def test_revoke_selected_tokens(admin_client, host):
    kept, revoked = make_token(host, "kept"), make_token(host, "revoke me")
    data = {"action": "revoke_tokens", "_selected_action": [revoked.pk]}
    response = admin_client.post(TOKEN_LIST, data, follow=True)
    assert "Revoked 1 token." in response.content.decode()
    assert list(HostToken.objects.filter(revoked=True)) == [revoked]
    kept.refresh_from_db()
    assert not kept.revoked


def test_hosts_do_not_manage_tokens(host_client, host):
    token = make_token(host)
    assert host_client.get(TOKEN_LIST).status_code == 403
    assert host_client.get(url(token)).status_code in (302, 403)
