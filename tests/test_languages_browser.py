"""Each person's language in Chromium against a real Daphne (issue #19).

A French phone (Playwright locale fr-FR, so Accept-Language fr-FR) joins and plays a whole game while
the projector stays in English, and never shows one of the English words of the phone's interface;
a phone that switches to German on the join page stays German through joining, playing, a reload and
the final rank. Quiz content is shown as the teacher wrote it (English here) on both.

With KNEWIT_SCREENSHOT_DIR set (e.g. docs/screenshots), the phones are saved there as
language-<code>-<stage>.png.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.live_server import QUIZ_TITLE, host_login, host_start_session, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
HOST = {"viewport": {"width": 1280, "height": 720}, "locale": "en-US"}
QUIZ = {
    "title": QUIZ_TITLE,
    "default_timer": 60,
    "questions": [
        {"prompt": "Which planet is red?", "options": ["Mars", "Venus", "Jupiter"], "correct_idx": 0},
        {"kind": "multi", "prompt": "Which are rocky?", "options": ["Mercury", "Jupiter", "Venus"],
         "correct_idxs": [0, 2]},
        {"kind": "poll", "prompt": "Where would you go?", "options": ["Mars", "Europa"]},
    ],
}  # fmt: skip
# The phone's interface in English: none of these may show on a French phone. (Words French writes
# alike, such as "Points" and "Score", are left out; quiz content is not interface.)
ENGLISH = [
    "Join a game", "Game PIN", "Nickname", "The host gave a password?", "Host login", "Skip to content",
    "Playing as", "player in the game", "players in the game", "You're in!", "Waiting for the host",
    "See your name", "Question 1 of", "Question 2 of", "Answer locked in", "You chose",
    "Waiting for the others", "Time's up", "Results are coming", "Correct!", "Not this time", "No answer",
    "Rank", "Next question soon", "Game over", "You finished", "Thanks for playing", "Join another game",
    "Correct answer", "Submit", "Pick every answer", "Your answers", "Poll", "Vote counted",
    "About this poll", "s left", "Connection lost", "Live answers", "Change", "Language",
]  # fmt: skip
SHOTS = Path(os.environ["KNEWIT_SCREENSHOT_DIR"]) if os.environ.get("KNEWIT_SCREENSHOT_DIR") else None


@pytest.fixture(scope="module")
def server():
    yield from serve(quiz=QUIZ)


@pytest.fixture
def expect():
    from playwright.sync_api import expect

    expect.set_options(timeout=10_000)
    return expect


def shoot(page, name: str) -> None:
    if SHOTS is not None:
        page.screenshot(path=str(SHOTS / f"{name}.png"))


def words_of(page) -> str:
    """What a person meets on the page: its text, and the names and hints read out or shown on hover."""
    return page.evaluate(
        """() => [document.title, document.body.innerText,
                  ...[...document.querySelectorAll('[aria-label],[title],[alt],[placeholder]')]
                     .map(el => [el.getAttribute('aria-label'), el.getAttribute('title'),
                                 el.getAttribute('alt'), el.getAttribute('placeholder')].join(' '))
                 ].join('\\n')"""
    )


class Phone:
    """A phone and every wording it showed, to check once the game is over."""

    def __init__(self, browser, **context):
        self.page = browser.new_context(**PHONE, **context).new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.seen: list[tuple[str, str]] = []

    def look(self, stage: str) -> None:
        self.seen.append((stage, words_of(self.page)))

    def english(self) -> list[tuple[str, str]]:
        """Each English interface word seen, whole ("Change" is not in "Changer"), with its stage."""
        return [
            (stage, word)
            for stage, text in self.seen
            for word in ENGLISH
            if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text)
        ]


def play(host, phone: Phone, expect, language: str) -> None:
    """Three questions (one tap, two ticks, a poll) to the final rank; the phone looks at each stage."""
    page, stage = phone.page, phone.page.locator("#stage")
    expect(host.locator("#lobby")).to_contain_text("1 player")
    host.get_by_role("button", name="Start quiz").click()
    expect(stage.locator(".prompt")).to_have_text("Which planet is red?")  # quiz content as written
    phone.look("question")
    shoot(page, f"language-{language}-question")
    page.locator("button.answer.opt0").click()
    expect(stage.locator(".locked-choice")).to_contain_text("Mars")
    phone.look("locked")
    host.get_by_role("button", name="End question").click()
    expect(stage.locator(".verdict-right")).to_be_visible()
    expect(page.locator("#player-reveal")).to_be_visible()
    phone.look("result")
    shoot(page, f"language-{language}-result")

    host.get_by_role("button", name="Next question").click()
    expect(stage.locator(".prompt")).to_have_text("Which are rocky?")
    phone.look("multi")
    page.locator("label.toggle.opt0").click()
    page.locator("label.toggle.opt2").click()
    page.locator("button.submit-answer").click()
    expect(stage.locator(".locked-list .option-name")).to_have_text(["Mercury", "Venus"])
    phone.look("multi locked")
    host.get_by_role("button", name="End question").click()
    expect(stage.locator(".verdict")).to_be_visible()
    phone.look("multi result")

    host.get_by_role("button", name="Next question").click()
    expect(stage.locator(".prompt")).to_have_text("Where would you go?")
    page.locator("button.answer.opt1").click()
    expect(stage.locator(".locked-choice")).to_contain_text("Europa")
    host.get_by_role("button", name="End question").click()
    expect(stage.locator(".verdict-neutral")).to_be_visible()
    phone.look("poll result")

    host.get_by_role("button", name=re.compile("Next question|Finish|See the results")).click()
    expect(stage.locator(".final-place")).to_be_visible()
    phone.look("finished")
    shoot(page, f"language-{language}-finished")


def test_a_french_phone_plays_a_whole_game_in_french_beside_an_english_projector(server, browser, expect):
    host = browser.new_context(**HOST).new_page()
    host_login(host, server)
    code = host_start_session(host, server)
    phone = Phone(browser, locale="fr-FR")
    page = phone.page
    page.goto(f"{server.url}/")
    assert page.locator("html").get_attribute("lang") == "fr"
    phone.look("join")
    shoot(page, "language-fr-join")
    page.get_by_label("Code PIN").fill(code)
    page.get_by_label("Pseudo").fill("Zoé")
    page.get_by_role("button", name="Rejoindre").click()
    page.wait_for_url(f"{server.url}/play/{code}/")
    expect(page.locator("#stage")).to_contain_text("Tu es dans la partie")
    expect(page.locator("#player-count")).to_contain_text("1 joueur dans la partie")
    phone.look("lobby")

    play(host, phone, expect, "fr")
    expect(page.locator("#stage")).to_contain_text("Partie terminée")
    expect(page.locator("#stage .final-rank")).to_contain_text("Tu termines")
    assert phone.english() == [], "English on the French phone"
    assert phone.errors == []
    # The projector was English all along, in the same game.
    assert host.locator("html").get_attribute("lang") == "en"
    expect(host.locator("#host-stage")).to_contain_text("Zoé")


def test_german_picked_on_the_join_page_sticks_through_the_game(server, browser, expect):
    host = browser.new_context(**HOST).new_page()
    host_login(host, server)
    code = host_start_session(host, server)
    phone = Phone(browser, locale="en-GB")  # the phone itself says English
    page = phone.page
    page.goto(f"{server.url}/join/{code}/")
    expect(page.get_by_role("heading", name="Join a game")).to_be_visible()
    page.get_by_label("Language").select_option("de")
    page.get_by_role("button", name="Change").click()
    expect(page.get_by_role("heading", name="Einem Spiel beitreten")).to_be_visible()
    assert page.url == f"{server.url}/join/{code}/"  # back where the switch was made, PIN kept
    expect(page.get_by_label("Spiel-PIN")).to_have_value(code)
    shoot(page, "language-de-join")
    page.get_by_label("Spitzname").fill("Jonas")
    page.get_by_role("button", name="Beitreten").click()
    page.wait_for_url(f"{server.url}/play/{code}/")
    expect(page.locator("#stage")).to_contain_text("Du bist dabei!")
    phone.look("lobby")
    page.reload()  # the cookie, not the page, remembers it
    expect(page.locator("#stage")).to_contain_text("Du bist dabei!")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies.get("django_language") == "de"

    play(host, phone, expect, "de")
    expect(page.locator("#stage")).to_contain_text("Spiel vorbei")
    expect(page.locator("#stage .final-rank")).to_contain_text("Platz 1")
    assert phone.english() == [], "English on the phone switched to German"
    assert phone.errors == []
