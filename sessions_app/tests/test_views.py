"""The browser pages: joining, the student's page, the host's dashboard and live page, who may see what."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from sessions_app import engine
from sessions_app.auth import rejoin_cookie_name
from sessions_app.models import GameSession, Player
from sessions_app.web.views import LOCKED, NOT_OPEN

pytestmark = pytest.mark.django_db

FOUR_OPTIONS = [
    ("What is 5 + 3?", ["6", "7", "8", "9"], 2),
    ("Capital of France?", ["Rome", "Paris"], 1),
]
# Names are at most 20 characters, so these are the longest markup a nickname can carry.
IMG_NAME = "<img src=x onerror=1"
HTMX_NAME = "<b hx-get=/x>hi</b>"


# --- helpers ---------------------------------------------------------------------------------


def start_session(host, quiz, **settings) -> GameSession:
    return engine.session_create(
        host=host, quiz_id=quiz.pk, raw_settings=settings, site_url="http://testserver"
    ).session


def join(session: GameSession, name: str, password: str | None = None):
    """Join through the engine, as the view does; returns (player, rejoin token)."""
    outcome = engine.player_join(
        code=session.code, raw_name=name, password=password, requested_id=None, msg_id=None,
        now=timezone.now(),
    )  # fmt: skip
    return outcome.player, outcome.reply["rejoin_token"]


def as_player(client, session: GameSession, token: str):
    client.cookies[rejoin_cookie_name(session.code)] = token
    return client


def start_quiz(session: GameSession, host) -> None:
    engine.quiz_start(session_pk=session.pk, host=host, now=timezone.now())


def end_question(session: GameSession, host) -> None:
    engine.question_end(session_pk=session.pk, host=host, now=timezone.now())


def answer(session: GameSession, player: Player, idx: int) -> None:
    engine.answer_submit(
        session_pk=session.pk, player_pk=player.pk, answer_idx=idx, msg_id=None, now=timezone.now()
    )


def post_join(client, code: str, nickname: str, password: str = ""):
    return client.post(reverse("join"), {"code": code, "nickname": nickname, "password": password})


def input_value(html: str, name: str) -> str | None:
    """The value attribute of the input called `name`, unescaped as a browser would read it."""
    found = _Inputs()
    found.feed(html)
    return found.values.get(name)


class _Inputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.values: dict[str, str | None] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and "name" in attrs:
            self.values[attrs["name"]] = attrs.get("value")


class _TextPlaces(HTMLParser):
    """Every text node of <body>, with whether an element around it has hx-disable."""

    VOID = {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.texts: list[tuple[str, bool]] = []
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in self.VOID:
            return
        inherited = self.stack[-1][1] if self.stack else False
        self.stack.append((tag, inherited or any(name == "hx-disable" for name, _ in attrs)))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if data.strip() and not any(tag in ("title", "script", "style") for tag, _ in self.stack):
            self.texts.append((data, bool(self.stack) and self.stack[-1][1]))


def assert_user_text_is_inert(html: str, name: str) -> None:
    """The name is escaped (no live tag or attribute) and every place it shows is inside hx-disable."""
    assert "<b hx-get" not in html and "<img src=x" not in html
    places = _TextPlaces()
    places.feed(html)
    shown = [protected for text, protected in places.texts if name in text]
    assert shown, f"{name!r} is not shown as text"
    assert all(shown), f"{name!r} is shown outside an hx-disable container"


def assert_csp_safe(html: str) -> None:
    """The CSP allows no inline script or style: no style attributes or elements, scripts only by src."""
    places = _TextPlaces()
    places.feed(html)
    for tag, attrs in places.tags:
        assert tag != "style", "a <style> element"
        assert "style" not in attrs, f"inline style on <{tag}>"
        assert not [name for name in attrs if name.startswith("on")], f"inline handler on <{tag}>"
        if tag == "script":
            assert attrs.get("src"), "inline script"


@pytest.fixture(autouse=True)
def private_cache(settings):
    """Wrong PINs are counted per address in the cache; each test starts from none (the CI cache is Redis)."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "views"}
    }
    cache.clear()


@pytest.fixture
def host_b(make_host):
    return make_host("host_b")


@pytest.fixture
def quiz(host, make_quiz):
    return make_quiz(host, FOUR_OPTIONS, title="Sums and cities")


@pytest.fixture
def session(host, quiz):
    return start_session(host, quiz)


@pytest.fixture
def host_client(client, host):
    client.force_login(host)
    return client


# --- joining ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/join/123456/"])
def test_join_form_has_labelled_fields_and_a_join_button(client, url):
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<label for="id_code">Game PIN</label>', html)
    assert re.search(r'<label for="id_nickname">Nickname</label>', html)
    assert re.search(r'<button type="submit"[^>]*>Join</button>', html)
    assert 'inputmode="numeric"' in html
    assert_csp_safe(html)


def test_join_url_fills_in_the_pin(client):
    assert input_value(client.get("/join/123456/").content.decode(), "code") == "123456"
    assert input_value(client.get("/").content.decode(), "code") is None


def test_pages_send_a_strict_csp(client):
    csp = client.get("/")["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp


def test_good_join_sets_an_httponly_cookie_and_goes_to_play(client, session):
    response = post_join(client, session.code, "Ada")
    assert response.status_code == 302
    assert response["Location"] == f"/play/{session.code}/"
    cookie = response.cookies[rejoin_cookie_name(session.code)]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) > 3600
    player = Player.objects.get(session=session)
    assert player.name == "Ada"
    assert cookie.value and cookie.value not in player.rejoin_token_hash  # stored hashed only

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Ada" in page.content.decode()


def test_a_join_posted_by_htmx_is_answered_with_the_play_page_itself(client, session):
    """The join form is boosted: one round trip fewer for each phone (issue #16). The answer is the
    play page, its address pushed, with the same cookie; a reload then asks /play/ as usual."""
    boosted = {"HTTP_HX_REQUEST": "true", "HTTP_HX_BOOSTED": "true"}
    response = client.post(
        reverse("join"), {"code": session.code, "nickname": "Ada", "password": ""}, **boosted
    )
    assert response.status_code == 200
    assert response["HX-Push-Url"] == f"/play/{session.code}/"
    html = response.content.decode()
    assert f'ws-connect="/ws/page/play/{session.code}/"' in html and "Ada" in html
    cookie = response.cookies[rejoin_cookie_name(session.code)]
    assert cookie["httponly"] is True and cookie.value
    assert client.get(f"/play/{session.code}/").status_code == 200

    refused = client.post(
        reverse("join"), {"code": session.code, "nickname": "ada", "password": ""}, **boosted
    )
    assert refused.status_code == 400 and refused["HX-Push-Url"] == "false"  # the form stays where it was
    assert "That nickname is taken" in refused.content.decode()


def test_join_trims_the_pin(client, session):
    response = post_join(client, f" {session.code} ", "Ada")
    assert response.status_code == 302


def _assert_join_error(response, field: str, message: str, typed: dict) -> None:
    html = response.content.decode()
    assert response.status_code == 400
    assert (
        f'id="id_{field}_error"' in html
        and f'aria-describedby="id_{field}_error"' in html
        and str(message) in html  # the views' messages are lazy translations
    )
    assert 'role="alert"' in html
    for name, value in typed.items():
        assert input_value(html, name) == value, f"{name} lost what was typed"
    assert not [name for name in response.cookies if name.startswith("knewit_rejoin_")]


def test_join_unknown_pin_is_an_inline_error_keeping_the_input(client, session):
    other = "000000" if session.code != "000000" else "000001"
    response = post_join(client, other, "Ada")
    _assert_join_error(response, "code", NOT_OPEN, {"code": other, "nickname": "Ada"})


def test_join_taken_name_is_an_inline_error(client, session):
    join(session, "Ada")
    response = post_join(client, session.code, "ada")
    _assert_join_error(
        response, "nickname", "That nickname is taken", {"code": session.code, "nickname": "ada"}
    )


def test_join_locked_game_is_an_inline_error(client, session, host):
    engine.session_lock(session_pk=session.pk, host=host, locked=True)
    response = post_join(client, session.code, "Ada")
    # The PIN is on the projector: the student is told the game is locked, not that it is unknown.
    _assert_join_error(response, "code", LOCKED, {"code": session.code, "nickname": "Ada"})


def test_join_full_game_is_an_inline_error(client, host, quiz):
    session = start_session(host, quiz, max_players=1)
    join(session, "Ada")
    response = post_join(client, session.code, "Bob")
    _assert_join_error(response, "code", "This game is full.", {"code": session.code, "nickname": "Bob"})


def test_join_as_a_kicked_player_is_an_inline_error(client, session, host):
    player, _ = join(session, "Ada")
    engine.player_kick(session_pk=session.pk, host=host, player_id=player.public_id)
    response = post_join(client, session.code, "Ada")
    _assert_join_error(
        response, "nickname", "removed from this game", {"code": session.code, "nickname": "Ada"}
    )


def test_join_finished_game_is_an_inline_error(client, session, host):
    engine.quiz_stop(session_pk=session.pk, host=host, now=timezone.now())
    response = post_join(client, session.code, "Ada")
    _assert_join_error(response, "code", NOT_OPEN, {"code": session.code, "nickname": "Ada"})


def test_join_with_a_wrong_password_is_an_inline_error(client, host, quiz):
    session = start_session(host, quiz, password="open sesame")
    response = post_join(client, session.code, "Ada", password="nope")
    _assert_join_error(
        response, "password", "Wrong game password.", {"code": session.code, "nickname": "Ada"}
    )
    assert post_join(client, session.code, "Ada", password="open sesame").status_code == 302


@pytest.mark.parametrize("code", ["12ab56", "12345", "1234567", ""])
def test_join_bad_pin_format_is_an_inline_error(client, code):
    response = post_join(client, code, "Ada")
    _assert_join_error(response, "code", "", {"code": code or None, "nickname": "Ada"})


@pytest.mark.parametrize("code", ["12ab56", "12345", "1234567"])
def test_join_bad_pin_format_shows_the_error_and_keeps_the_input(client, code):
    response = post_join(client, code, "Ada")
    html = response.content.decode()
    assert 'id="id_code_error"' in html and "A Game PIN is 6 digits." in html
    assert input_value(html, "code") == code and input_value(html, "nickname") == "Ada"
    assert not Player.objects.exists()


def test_join_error_keeps_markup_in_a_name_escaped(client, session):
    join(session, HTMX_NAME)
    response = post_join(client, session.code, HTMX_NAME)
    html = response.content.decode()
    assert response.status_code == 400
    assert input_value(html, "nickname") == HTMX_NAME
    assert "<b hx-get" not in html


# --- the student's page ------------------------------------------------------------------------


def test_play_without_a_cookie_goes_to_the_join_form(client, session):
    response = client.get(f"/play/{session.code}/")
    assert response.status_code == 302
    assert response["Location"] == f"/join/{session.code}/"


def test_play_with_a_wrong_cookie_goes_to_the_join_form(client, session):
    join(session, "Ada")
    as_player(client, session, "not-a-token")
    assert client.get(f"/play/{session.code}/")["Location"] == f"/join/{session.code}/"


def test_play_page_connects_its_socket_and_shows_the_lobby(client, session):
    _, token = join(session, "Ada")
    html = as_player(client, session, token).get(f"/play/{session.code}/").content.decode()
    assert f'ws-connect="/ws/page/play/{session.code}/"' in html
    assert "You're in!" in html
    assert "1 player in the game" in html
    assert_csp_safe(html)


def test_play_page_mid_question_never_gives_the_answer_away(client, session, host):
    ada, token = join(session, "Ada")
    start_quiz(session, host)
    as_player(client, session, token)
    html = client.get(f"/play/{session.code}/").content.decode()
    assert "What is 5 + 3?" in html
    assert html.count('class="answer opt') == 4
    for marker in ("is-correct", "✓", "correct", "verdict"):
        assert marker not in html.lower(), marker

    answer(session, ada, 2)  # the right one; the page still must not say so before the reveal
    html = client.get(f"/play/{session.code}/").content.decode()
    assert "Answer locked in" in html
    for marker in ("is-correct", "✓", "correct", "verdict"):
        assert marker not in html.lower(), marker


def test_play_page_after_the_reveal_shows_the_verdict(client, session, host):
    ada, token = join(session, "Ada")
    start_quiz(session, host)
    answer(session, ada, 2)
    end_question(session, host)
    html = as_player(client, session, token).get(f"/play/{session.code}/").content.decode()
    assert "Correct!" in html
    assert re.search(r"<dt>Rank</dt><dd>1</dd>", html)


def test_play_page_when_finished_shows_the_final_rank(client, session, host):
    _, token = join(session, "Ada")
    _, bob_token = join(session, "Bob")
    start_quiz(session, host)
    answer(session, Player.objects.get(name="Bob"), 2)
    engine.quiz_stop(session_pk=session.pk, host=host, now=timezone.now())
    html = as_player(client, session, token).get(f"/play/{session.code}/").content.decode()
    assert "Game over" in html and "#2" in html
    html = as_player(client, session, bob_token).get(f"/play/{session.code}/").content.decode()
    assert "#1" in html


def test_play_page_of_a_kicked_player_says_so(client, session, host):
    ada, token = join(session, "Ada")
    engine.player_kick(session_pk=session.pk, host=host, player_id=ada.public_id)
    html = as_player(client, session, token).get(f"/play/{session.code}/").content.decode()
    assert "You were removed from this game" in html


@pytest.mark.parametrize("name", [IMG_NAME, HTMX_NAME])
def test_play_page_shows_a_markup_name_escaped_and_inert(client, session, host, name):
    _, token = join(session, name)
    html = as_player(client, session, token).get(f"/play/{session.code}/").content.decode()
    assert_user_text_is_inert(html, name)


# --- the host's dashboard -----------------------------------------------------------------


def test_dashboard_needs_a_login(client):
    response = client.get("/host/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_dashboard_is_forbidden_to_a_logged_in_non_host(client):
    user = get_user_model().objects.create_user("student", password="pw-for-tests-123")
    client.force_login(user)
    assert client.get("/host/").status_code == 403
    assert client.post("/host/start/", {"quiz_id": 1, "max_players": 10}).status_code == 403


def test_dashboard_lists_my_quizzes_only(host_client, quiz, host_b, make_quiz):
    make_quiz(host_b, title="Somebody else's quiz")
    html = host_client.get("/host/").content.decode()
    assert "Sums and cities" in html
    assert "Somebody else" not in html
    assert re.search(r"<button type=\"submit\"[^>]*>Start session", html)
    assert_csp_safe(html)


def test_login_page_renders(client):
    html = client.get(reverse("login")).content.decode()
    assert "Host login" in html and 'name="username"' in html
    assert_csp_safe(html)


# --- starting a session ------------------------------------------------------------------------


def test_start_creates_a_session_and_goes_to_its_live_page(host_client, host, quiz):
    response = host_client.post("/host/start/", {"quiz_id": quiz.pk, "max_players": 50})
    session = GameSession.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/host/session/{session.code}/"
    assert session.host == host and session.quiz == quiz and session.state == GameSession.State.LOBBY
    assert session.settings["max_players"] == 50


def test_start_with_settings_and_password(host_client, quiz):
    host_client.post(
        "/host/start/",
        {
            "quiz_id": quiz.pk,
            "max_players": 5,
            "show_live_results": "on",
            "auto_advance": "on",
            "password": "pw",
        },
    )
    session = GameSession.objects.get()
    assert session.settings["show_live_results"] and session.settings["auto_advance"]
    assert session.password_hash


def test_start_needs_post_and_login(client, host_client, quiz):
    assert host_client.get("/host/start/").status_code == 405
    client.logout()
    response = client.post("/host/start/", {"quiz_id": quiz.pk, "max_players": 5})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not GameSession.objects.exists()


def test_start_someone_elses_quiz_is_forbidden(client, host_b, quiz):
    client.force_login(host_b)
    assert client.post("/host/start/", {"quiz_id": quiz.pk, "max_players": 5}).status_code == 403
    assert not GameSession.objects.exists()


def test_start_with_a_bad_form_shows_the_dashboard_again(host_client, quiz):
    response = host_client.post("/host/start/", {"quiz_id": quiz.pk, "max_players": 0})
    assert response.status_code == 400
    assert "Sums and cities" in response.content.decode()


# --- the host's live page ----------------------------------------------------------------------


def test_host_page_shows_pin_join_url_and_qr(host_client, session):
    response = host_client.get(f"/host/session/{session.code}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f">{session.code}<" in html
    assert f"http://testserver/join/{session.code}/" in html
    assert re.search(r"<svg\b", html)
    assert f'ws-connect="/ws/page/host/{session.code}/"' in html
    assert "Start quiz" in html
    assert_csp_safe(html)


def test_host_page_needs_a_login(client, session):
    response = client.get(f"/host/session/{session.code}/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_host_page_of_another_host_is_forbidden_and_unknown_is_404(client, host_b, session):
    client.force_login(host_b)
    assert client.get(f"/host/session/{session.code}/").status_code == 403
    unknown = "000000" if session.code != "000000" else "000001"
    assert client.get(f"/host/session/{unknown}/").status_code == 404


def test_host_page_mid_question_shows_no_answer_and_counts_answers(host_client, session, host):
    ada, _ = join(session, "Ada")
    join(session, "Bob")
    start_quiz(session, host)
    answer(session, ada, 0)
    html = host_client.get(f"/host/session/{session.code}/").content.decode()
    assert "What is 5 + 3?" in html
    assert "1 of 2 answered" in html
    assert "is-correct" not in html and "✓" not in html
    assert "End question" in html


def test_host_page_after_the_reveal_marks_the_answer_and_ranks(host_client, session, host):
    ada, _ = join(session, "Ada")
    bob, _ = join(session, "Bob")
    start_quiz(session, host)
    answer(session, bob, 2)
    answer(session, ada, 0)
    end_question(session, host)
    html = host_client.get(f"/host/session/{session.code}/").content.decode()
    assert "Correct answer:" in html and "is-correct" in html
    assert html.index(">Bob<") < html.index(">Ada<")  # the leaderboard
    assert "Next question" in html


def test_host_page_when_finished_shows_the_final_ranking(host_client, session, host):
    ada, _ = join(session, "Ada")
    join(session, "Bob")
    start_quiz(session, host)
    answer(session, ada, 2)
    engine.quiz_stop(session_pk=session.pk, host=host, now=timezone.now())
    html = host_client.get(f"/host/session/{session.code}/").content.decode()
    assert "Final ranking" in html
    podium = html[html.index('class="podium"') :]
    assert podium.index("Ada") < podium.index("Bob")


def test_host_page_of_a_closed_session_goes_to_the_results(host_client, session, host):
    engine.session_close(session_pk=session.pk, host=host, now=timezone.now())
    response = host_client.get(f"/host/session/{session.code}/")
    assert response.status_code == 302
    assert response["Location"] == reverse("session_results", kwargs={"code": session.code})


@pytest.mark.parametrize("name", [IMG_NAME, HTMX_NAME])
def test_host_page_shows_markup_names_escaped_and_inert(host_client, session, host, name):
    player, _ = join(session, name)
    assert_user_text_is_inert(
        host_client.get(f"/host/session/{session.code}/").content.decode(), name
    )  # lobby
    start_quiz(session, host)
    answer(session, player, 2)
    end_question(session, host)
    assert_user_text_is_inert(
        host_client.get(f"/host/session/{session.code}/").content.decode(), name
    )  # leaderboard
    engine.quiz_stop(session_pk=session.pk, host=host, now=timezone.now())
    assert_user_text_is_inert(
        host_client.get(f"/host/session/{session.code}/").content.decode(), name
    )  # podium


def test_live_pages_announce_changes_without_chatter(host_client, client, session, host):
    """Swapped regions sit in steady live wrappers, counts go to role=status, the countdown stays silent."""
    _, token = join(session, "Ada")
    start_quiz(session, host)
    play = as_player(client, session, token).get(f"/play/{session.code}/").content.decode()
    assert re.search(r'<div class="live-wrap" aria-live="polite">\s*<section id="stage"', play)
    assert 'role="timer" aria-live="off"' in play
    assert re.search(r'<p id="announce-count" class="visually-hidden" role="status">', play)
    assert 'data-announce="announce-count"' in play

    page = host_client.get(f"/host/session/{session.code}/").content.decode()
    assert re.search(r'<div class="live-wrap" aria-live="polite">\s*<section id="host-stage"', page)
    for target in ("announce-lobby", "announce-answers"):
        assert f'id="{target}"' in page and f'data-announce="{target}"' in page
