"""Every template of ours renders in every language, with no variable missing.

One game per language drives every page and pushed region: the join and login pages (with form
errors), the dashboard, the host's and a player's page in each state and for each question kind, a
re-vote, a kick, the final ranking, a closed session, and the report (both sorts and views, a
player, delete). Templates print a marker for any missing variable, and every template under
templates/ (the admin's aside) must have been rendered.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.test.signals import template_rendered
from django.utils import timezone
from django.utils.translation import gettext_lazy

from sessions_app import engine, protocol
from sessions_app.audiences import HOST, PLAYER, PLAYERS
from sessions_app.engine import Push
from sessions_app.models import GameSession, Player
from sessions_app.web import pages, render

pytestmark = pytest.mark.django_db
LANGUAGES = [code for code, _ in settings.LANGUAGES]
MISSING = "@@MISSING:"
TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"
# A valid answer of each kind to the every_kind_quiz fixture's questions.
ANSWERS = {
    "single": {"answer_idx": 0}, "truefalse": {"answer_idx": 1}, "poll": {"answer_idx": 0},
    "multi": {"answer": {"answer_idxs": [0, 2]}}, "order": {"answer": {"order": [3, 2, 1, 0]}},
    "text": {"answer": {"text": "Sun"}}, "slider": {"answer": {"value": 8}},
}  # fmt: skip


@pytest.fixture
def strict_templates(settings):
    """A missing variable prints a marker instead of nothing."""
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["OPTIONS"]["string_if_invalid"] = MISSING + "%s@@"
    settings.TEMPLATES = templates


def ours() -> set[str]:
    return {
        str(path.relative_to(TEMPLATES_DIR))
        for path in TEMPLATES_DIR.rglob("*.html")
        if path.relative_to(TEMPLATES_DIR).parts[0] != "admin"
    }


class Game:
    """A game in one language: its HTML, as every page and push drew it."""

    def __init__(self, language: str, host, quiz):
        self.language, self.host, self.html = language, host, []
        self.teacher = self.browser()
        self.teacher.force_login(host)
        self.get(self.teacher, "/host/")
        started = self.teacher.post("/host/start/", {"quiz_id": quiz.pk, "max_players": 2000})
        assert started.status_code == 302, started.content[:300]
        self.code = started["Location"].rstrip("/").rsplit("/", 1)[-1]
        self.session = GameSession.objects.get(code=self.code)
        self.students = {}
        for name in ("Ada", "Bob"):
            phone = self.browser()
            assert phone.post(f"/join/{self.code}/", {"code": self.code, "nickname": name}).status_code == 302
            self.students[name] = phone
        self.players = {p.name: p for p in Player.objects.filter(session=self.session)}
        pages.page_opened(self.session.pk, HOST, language)
        for player in self.players.values():
            pages.page_opened(self.session.pk, PLAYERS, language, player.pk)

    def browser(self) -> Client:
        browser = Client()
        browser.cookies[settings.LANGUAGE_COOKIE_NAME] = self.language
        return browser

    def get(self, browser: Client, url: str) -> str:
        response = browser.get(url)
        assert response.status_code == 200, (url, response.status_code)
        html = response.content.decode()
        assert f'<html lang="{self.language}">' in html, url
        self.html.append(html)
        return html

    def pages(self) -> None:
        self.get(self.teacher, f"/host/session/{self.code}/")
        for name, phone in self.students.items():
            if not self.players[name].kicked:
                self.get(phone, f"/play/{self.code}/")

    def pushed(self, outcome) -> None:
        """The HTML the live layer renders for an outcome's pushes (shared, then each player's own)."""
        pushes = [e for e in outcome.events if isinstance(e, Push)]
        for push in pushes:
            if push.audience != PLAYER:
                self.html += [text for _, _, text in render.push_html(self.code, push.audience, push.payload)]
        own = [
            (p.player_id, p.payload)
            for p in pushes
            if p.audience == PLAYER or p.payload["type"] == "quiz.finished"
        ]
        for texts in render.personal_pages(self.code, own).values():
            self.html += texts.values()
        if outcome.reply is not None and (html := render.personal_html(outcome.reply)):
            self.html.append(html)

    def host_does(self, command: str, **kwargs):
        outcome = getattr(engine, command)(session_pk=self.session.pk, host=self.host, **kwargs)
        self.pushed(outcome)
        self.players = {p.name: p for p in Player.objects.filter(session=self.session)}
        return outcome

    def answer(self, name: str, kind: str) -> None:
        now = timezone.now()
        reply = engine.answer_submit(
            session_pk=self.session.pk, player_pk=self.players[name].pk, msg_id=None, now=now, **ANSWERS[kind]
        )
        self.pushed(reply)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_template_renders_in_every_language(language, strict_templates, host, every_kind_quiz):
    rendered: set[str] = set()

    def seen(sender, template, context, **kwargs):
        rendered.add(template.name)

    template_rendered.connect(seen)
    try:
        visitor = Client()
        visitor.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        game = Game(language, host, every_kind_quiz(host))
        game.get(visitor, "/")
        refused = visitor.post("/", {"code": "12", "nickname": ""})
        assert refused.status_code == 400
        game.html.append(refused.content.decode())
        game.get(visitor, "/accounts/login/")
        game.pages()  # the lobby

        kinds = list(game.session.quiz.questions.order_by("order").values_list("kind", flat=True))
        for number, kind in enumerate(kinds):
            game.host_does("quiz_start" if number == 0 else "question_next", now=timezone.now())
            game.pages()  # the question, as each kind asks it
            game.answer("Ada", kind)
            game.pages()  # Ada's answer locked in, Bob still to answer
            game.host_does("question_end", now=timezone.now())
            game.pages()  # the reveal: Ada's verdict, Bob's "no answer"
            if number == 0:
                game.host_does("question_revote", now=timezone.now())
                game.answer("Bob", kind)
                game.host_does("question_end", now=timezone.now())
                game.pages()
            if number == 1:
                game.host_does("player_kick", player_id=game.players["Bob"].public_id)
        game.host_does("quiz_stop", now=timezone.now())
        game.pages()  # the podium and each player's final rank
        refusal = engine.EngineError("too_late", gettext_lazy("Time is up for this question."))
        game.html.append(render.personal_html(protocol.error(refusal.code, str(refusal.message))))  # a toast
        game.host_does("session_close", now=timezone.now())

        report = f"/host/session/{game.code}/results/"
        for query in ("", "?sort=hardest", "?view=accuracy"):
            game.get(game.teacher, report + query)
        game.get(game.teacher, f"{report}player/{game.players['Ada'].public_id}/")
        game.get(game.teacher, f"/host/session/{game.code}/delete/")
        game.get(game.teacher, "/host/")  # with a past session
    finally:
        template_rendered.disconnect(seen)

    missing = [
        html[max(0, html.index(MISSING) - 200) : html.index(MISSING) + 80]
        for html in game.html
        if MISSING in html
    ]
    assert not missing, f"{language}: a variable is missing:\n" + "\n---\n".join(missing[:5])
    assert ours() - rendered == set(), f"{language}: never rendered"


def test_the_projector_is_in_the_host_language_and_the_quiz_as_written(host, make_quiz):
    teacher = Client()
    teacher.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    teacher.force_login(host)
    started = teacher.post("/host/start/", {"quiz_id": make_quiz(host).pk, "max_players": 2000})
    html = teacher.get(started["Location"]).content.decode()
    for words in ("Spiel-PIN", "Zum Beitreten scannen", "Beitreten unter", "Quiz starten", "Sitzung beenden"):
        assert words in html, words
    for words in ("Game PIN", "Scan to join", "Start quiz", "End session"):
        assert words not in html, words
    session = GameSession.objects.get(code=started["Location"].rstrip("/").rsplit("/", 1)[-1])
    engine.quiz_start(session_pk=session.pk, host=host, now=timezone.now())
    html = teacher.get(started["Location"]).content.decode()
    assert "Capital of France?" in html and "Paris" in html  # quiz content is never translated
    assert "Frage beenden" in html
