"""A whole game in Chromium against a real Daphne: a host, three phones, a reload mid-question, the ranking.

The server runs in a subprocess on its own SQLite file (tests/live_server.py), so this test needs no
pytest-django database. Ada always answers right at once, Cy right but slowly, Bob always wrong, so the
final order is Ada, Cy, Bob.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.live_server import (
    QUIZ,
    host_login,
    host_start_session,
    serve,
    student_join,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
TIMEOUT_MS = 10_000
CY_DELAY_S = 1.2  # Cy answers this long after Ada, so Ada scores more for the same right answers


@pytest.fixture(scope="module")
def server():
    yield from serve()


class Watch:
    """JavaScript errors and CSP violations seen by any page."""

    def __init__(self):
        self.problems: list[str] = []

    def attach(self, page):
        page.on("pageerror", lambda exc: self.problems.append(f"{page.url}: {exc}"))
        page.on(
            "console",
            lambda msg: (
                self.problems.append(f"{page.url}: {msg.text}")
                if "Content Security Policy" in msg.text
                else None
            ),
        )
        page.set_default_timeout(TIMEOUT_MS)
        return page


def tab_to(page, selector: str, limit: int = 15) -> None:
    """Press Tab until the focused element matches selector, as a keyboard-only user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_a_whole_game_in_the_browser(server, browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    watch = Watch()
    try:
        play_a_game(browser, server, watch, expect)
    except BaseException:
        print("--- daphne log ---\n" + server.log_tail())
        raise
    assert not watch.problems, watch.problems


def play_a_game(browser, server, watch: Watch, expect) -> None:
    host = watch.attach(browser.new_context(viewport={"width": 1280, "height": 900}).new_page())
    host_login(host, server)
    code = host_start_session(host, server)
    expect(host.locator(".pin")).to_contain_text(code)
    expect(host.locator(".qr svg")).to_be_visible()

    phones = {}
    for name, via_form in (("Ada", True), ("Bob", True), ("Cy", False)):
        context = browser.new_context(**PHONE)
        page = watch.attach(context.new_page())
        student_join(page, server, code, name, via_form=via_form)
        expect(page.locator(".me")).to_have_text(f"Playing as {name}")
        expect(page.locator("#stage")).to_contain_text("You're in!")
        phones[name] = page
    ada, bob, cy = phones["Ada"], phones["Bob"], phones["Cy"]

    cookie = next(c for c in cy.context.cookies() if c["name"] == f"knewit_rejoin_{code}")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert "knewit_rejoin" not in cy.evaluate("document.cookie")

    lobby = host.locator("#lobby")
    expect(lobby).to_contain_text("3 players")
    for name in phones:
        expect(lobby.locator(".lobby-player .name", has_text=name)).to_have_count(1)
    expect(ada.locator("#player-count")).to_contain_text("3 players in the game")

    host.get_by_role("button", name="Start quiz").click()
    for number, question in enumerate(QUIZ["questions"], start=1):
        if number > 1:
            # Keyboard only: the focus survives the push that replaces the controls.
            host.get_by_role("button", name="Next question").focus()
            host.keyboard.press("Enter")
            expect(host.get_by_role("button", name="End question")).to_be_visible()
            expect(host.locator("#controls button").first).to_be_focused()
        play_a_question(host, ada, bob, cy, number, question, expect, reload_cy=number == 1)

    host.get_by_role("button", name="Next question").click()  # after the last question: the final ranking
    stage = host.locator("#host-stage")
    expect(stage).to_contain_text("Final ranking")
    expect(stage.locator(".podium .name")).to_have_text(["Ada", "Cy", "Bob"])
    scores = [int(s) for s in stage.locator(".podium .score").all_inner_texts()]
    assert scores[0] > scores[1] > scores[2] == 0, scores
    for rank, page in enumerate((ada, cy, bob), start=1):
        expect(page.locator("#stage")).to_contain_text("Game over")
        expect(page.locator(".final-place")).to_have_text(f"#{rank}")


def play_a_question(host, ada, bob, cy, number: int, question: dict, expect, *, reload_cy: bool) -> None:
    right = question["correct_idx"]
    wrong = (right + 1) % len(question["options"])
    for page in (ada, bob, cy):
        expect(page.locator("#stage .prompt")).to_have_text(question["prompt"])
        expect(page.locator("#stage")).to_contain_text(f"Question {number} of {len(QUIZ['questions'])}")
        expect(page.locator("#stage")).not_to_contain_text("correct", ignore_case=True)
    started = time.monotonic()
    histogram = host.locator("#histogram")
    expect(histogram).to_contain_text("0 of 3 answered")

    ada.locator(f"button.answer.opt{right}").click()
    expect(ada.locator("#stage")).to_contain_text("Answer locked in")
    expect(histogram).to_contain_text("1 of 3 answered")

    if reload_cy:
        cy.reload()
        expect(cy.locator(".me")).to_have_text("Playing as Cy")
        expect(cy.locator("#stage .prompt")).to_have_text(question["prompt"])
        expect(cy.locator("button.answer")).to_have_count(len(question["options"]))
        expect(cy.locator("button.answer").first).to_be_enabled()
        expect(host.locator("#lobby")).to_contain_text("3 players")
        expect(host.locator("#lobby .lobby-player .name", has_text="Cy")).to_have_count(1)

    # Bob answers with the keyboard alone; the focus ring must show.
    tab_to(bob, f"button.answer.opt{wrong}")
    outline = bob.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none"), outline
    bob.keyboard.press("Enter")
    expect(bob.locator("#stage")).to_contain_text("Answer locked in")
    expect(bob.locator("#stage")).to_be_focused()  # not dropped to the top of the page
    expect(histogram).to_contain_text("2 of 3 answered")

    time.sleep(max(0.0, CY_DELAY_S - (time.monotonic() - started)))
    cy.locator(f"button.answer.opt{right}").click()
    expect(cy.locator("#stage")).to_contain_text("Answer locked in")
    expect(histogram).to_contain_text("3 of 3 answered")
    expect(histogram.locator(f".bar-row.opt{right} .bar-count")).to_have_text("2")
    expect(histogram.locator(f".bar-row.opt{wrong} .bar-count")).to_have_text("1")
    expect(host.locator("#host-stage")).not_to_contain_text("Correct answer")

    host.get_by_role("button", name="End question").click()
    expect(host.locator("#host-stage .reveal")).to_contain_text(question["options"][right])
    expect(host.locator("#host-stage .option.is-correct")).to_contain_text(question["options"][right])
    expect(host.locator("#leaderboard .ranking .name")).to_have_text(["Ada", "Cy", "Bob"])
    expect(ada.locator("#stage")).to_contain_text("Correct!")
    expect(cy.locator("#stage")).to_contain_text("Correct!")
    expect(bob.locator("#stage")).to_contain_text("Not this time")
    expect(ada.locator(".result-figures")).to_contain_text(re.compile(r"Rank\s*1"))
    expect(bob.locator(".result-figures")).to_contain_text(re.compile(r"Rank\s*3"))
