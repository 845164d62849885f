"""Every question kind played in Chromium against a real Daphne (issue #14): three phones at 360 px answer
with taps, a drag and a reload (Ada, Bob) and with the keyboard alone (Cy: Tab, Enter, Space, arrows,
never a click); the host at 1280x720 sees the live count, the histogram of each kind and its answer
key; the phones see their verdict and the shared reveal.

With KNEWIT_SCREENSHOT_DIR set (e.g. docs/screenshots), each kind's phone question and host reveal are
saved there as kind-<kind>-phone.png and kind-<kind>-host.png."""

from __future__ import annotations

import base64
import io
import os
import re
from pathlib import Path

import pytest

from tests.live_server import QUIZ_TITLE, host_login, host_start_session, serve, student_join

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
HOST = {"viewport": {"width": 1280, "height": 720}}
ALT = "A red disc on a dark sky"
EXPLAIN = "Iron oxide (rust) makes it red."
PLANETS = ["Mercury", "Venus", "Earth", "Mars"]


def picture() -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (180, 60, 30)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def kinds_quiz() -> dict:
    """One question of each kind; 60 s each, so none closes by itself during the test."""
    return {
        "title": QUIZ_TITLE,
        "default_timer": 60,
        "questions": [
            {"kind": "single", "prompt": "Which planet is red?", "options": ["Mars", "Jupiter", "Venus"],
             "correct_idx": 0, "image": picture(), "image_alt": ALT, "explanation": EXPLAIN},
            {"kind": "multi", "prompt": "Which are rocky?",
             "options": ["Mercury", "Jupiter", "Venus", "Saturn"], "correct_idxs": [0, 2]},
            {"kind": "truefalse", "prompt": "The Sun is a star.", "correct_idx": 0},
            {"kind": "poll", "prompt": "Where would you go?", "options": ["Mars", "Saturn", "Europa"]},
            {"kind": "text", "prompt": "Closest star to Earth?", "accepted": ["The Sun", "Sun"]},
            {"kind": "slider", "prompt": "How many planets?", "min": 0, "max": 20, "step": 1, "correct": 8},
            {"kind": "order", "prompt": "Closest to the Sun first", "options": PLANETS},
        ],
    }  # fmt: skip


@pytest.fixture(scope="module")
def server():
    yield from serve(quiz=kinds_quiz())


@pytest.fixture
def expect():
    from playwright.sync_api import expect

    expect.set_options(timeout=10_000)
    return expect


class Sent:
    """Counts the answers a phone's page socket sends (the page cannot be trusted to say)."""

    def __init__(self, page):
        self.answers = 0
        page.route_web_socket(re.compile(r"/ws/page/play/"), self.route)

    def route(self, ws) -> None:
        server = ws.connect_to_server()

        def up(message):
            if isinstance(message, str) and '"answer.submit"' in message:
                self.answers += 1
            server.send(message)

        ws.on_message(up)
        server.on_message(ws.send)


def order_shown(page) -> list[str]:
    return page.locator(".order-item .option-text").all_inner_texts()


def tab_to(page, target, presses: int = 40) -> None:
    """Move keyboard focus to `target` with the Tab key alone, as a student without a mouse would."""
    for _ in range(presses):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {target}")


def keyboard_join(page, server, code: str, name: str) -> None:
    page.goto(f"{server.url}/")
    tab_to(page, page.get_by_label("Game PIN"))
    page.keyboard.type(code)
    tab_to(page, page.get_by_label("Nickname"))
    page.keyboard.type(name)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/play/{code}/")


SHOTS = Path(os.environ["KNEWIT_SCREENSHOT_DIR"]) if os.environ.get("KNEWIT_SCREENSHOT_DIR") else None


def shoot(page, name: str) -> None:
    if SHOTS is not None:
        page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_every_kind_on_three_phones_and_the_host(server, browser, expect):
    host = browser.new_context(**HOST).new_page()
    host_login(host, server)
    code = host_start_session(host, server)
    phones = []
    for name in ("Ada", "Bob"):
        page = browser.new_context(**PHONE).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        sent = Sent(page)
        student_join(page, server, code, name)
        phones.append((page, sent, errors))
    (ada, ada_sent, ada_errors), (bob, bob_sent, bob_errors) = phones
    cy = browser.new_context(**PHONE).new_page()
    cy_errors: list[str] = []
    cy.on("pageerror", lambda exc: cy_errors.append(str(exc)))
    keyboard_join(cy, server, code, "Cy")
    histogram, stage = host.locator("#histogram"), host.locator("#host-stage")
    expect(host.locator("#lobby")).to_contain_text("3 players")

    def reveal(kind: str):
        expect(histogram).to_contain_text("3 of 3 answered")
        host.get_by_role("button", name="End question").click()
        expect(host.get_by_role("button", name="Next question")).to_be_visible()
        if kind != "poll":  # a poll's reveal region shows only an explanation, and these have none
            expect(cy.locator("#player-reveal")).to_be_visible()
        shoot(host, f"kind-{kind}-host")

    def next_question(num: int, prompt: str):
        host.get_by_role("button", name="Next question").click()
        for page in (ada, bob, cy):
            expect(page.locator("#stage .prompt")).to_have_text(prompt)
            expect(page.locator("#player-reveal")).to_be_hidden()  # cleared for the new question

    def cy_press(target, key: str = "Enter") -> None:
        tab_to(cy, target)
        cy.keyboard.press(key)

    # 1. single, with an image: a tap, the keyboard, a reload.
    host.get_by_role("button", name="Start quiz").click()
    for page in (ada, host):
        image = page.get_by_role("img", name=ALT)
        expect(image).to_be_visible()
        assert image.evaluate("img => img.complete && img.naturalWidth > 0"), "the image did not load"
    box = ada.locator("button.answer").last.bounding_box()
    assert box["y"] + box["height"] <= 740, "an image pushed the answers off a phone's screen"
    ada.locator("button.answer.opt0").click()
    expect(ada.locator("#stage")).to_contain_text("You chose Mars.")  # live.js names the option
    bob.locator("button.answer.opt1").focus()
    bob.keyboard.press("Enter")
    expect(bob.locator("#stage")).to_contain_text("You chose Jupiter.")
    bob.reload()
    expect(bob.locator("#stage")).to_contain_text("You chose Jupiter.")  # drawn from the database
    shoot(cy, "kind-single-phone")
    cy_press(cy.locator("button.answer.opt2"))
    expect(cy.locator("#stage")).to_contain_text("You chose Venus.")
    reveal("single")
    expect(stage.locator(".reveal")).to_contain_text("Mars")
    expect(stage.locator(".explanation")).to_have_text(EXPLAIN)
    expect(ada.locator("#stage .verdict")).to_contain_text("Correct!")
    expect(bob.locator("#stage .verdict")).to_contain_text("Not this time")
    for page in (ada, bob):
        expect(page.locator("#player-reveal")).to_contain_text("Correct answer")
        expect(page.locator("#player-reveal")).to_contain_text(EXPLAIN)

    # 2. multi: toggles by keyboard; an empty pick is not sent; a second press is not sent.
    next_question(2, "Which are rocky?")
    for name in ("Mercury", "Venus"):
        ada.get_by_role("checkbox", name=name).focus()
        ada.keyboard.press("Space")
    expect(ada.get_by_role("checkbox", name="Venus")).to_be_checked()
    before = ada_sent.answers
    # Two presses in one go: the second finds the form locked (live.js) and is not sent.
    ada.locator("form[data-answer-form]").evaluate("form => { form.requestSubmit(); form.requestSubmit(); }")
    expect(ada.locator("#stage")).to_contain_text("Answer locked in")
    assert ada_sent.answers == before + 1
    expect(ada.locator("#stage .locked-list .option-name")).to_have_text(["Mercury", "Venus"])
    before = bob_sent.answers
    bob.get_by_role("button", name="Submit").click()
    expect(bob.locator("[data-form-error]")).to_have_text("Pick at least one answer.")
    assert bob_sent.answers == before
    bob.get_by_text("Saturn").click()
    bob.get_by_role("button", name="Submit").click()
    for name in ("Mercury", "Venus"):
        cy_press(cy.get_by_role("checkbox", name=name), "Space")
    shoot(cy, "kind-multi-phone")
    cy_press(cy.get_by_role("button", name="Submit"))
    expect(cy.locator("#stage")).to_contain_text("Answer locked in")
    reveal("multi")
    expect(stage.locator(".option.is-correct")).to_have_text([re.compile("Mercury"), re.compile("Venus")])
    expect(ada.locator("#stage .verdict")).to_contain_text("Correct!")
    expect(ada.locator("#player-reveal")).to_contain_text("Mercury, Venus")
    expect(cy.locator("#stage .verdict")).to_contain_text("Correct!")
    expect(ada.locator("#toast")).to_be_empty()  # the second press was never an "already answered"

    # 3. true or false.
    next_question(3, "The Sun is a star.")
    expect(ada.locator("button.answer")).to_have_text([re.compile("True"), re.compile("False")])
    ada.get_by_role("button", name="True").click()
    bob.get_by_role("button", name="False").click()
    shoot(cy, "kind-truefalse-phone")
    cy_press(cy.get_by_role("button", name="True"))
    reveal("truefalse")
    expect(stage.locator(".reveal")).to_contain_text("True")
    for page, verdict in ((ada, "Correct!"), (bob, "Not this time"), (cy, "Correct!")):
        expect(page.locator("#stage .verdict")).to_contain_text(verdict)

    # 4. poll: a vote is counted, never wrong.
    next_question(4, "Where would you go?")
    ada.locator("button.answer.opt2").click()
    bob.locator("button.answer.opt0").click()
    shoot(cy, "kind-poll-phone")
    cy_press(cy.locator("button.answer.opt2"))
    reveal("poll")
    expect(stage).not_to_contain_text("Correct")
    for page in (ada, bob, cy):
        expect(page.locator("#stage .verdict")).to_contain_text("Vote counted")
        expect(page.locator("#stage")).not_to_contain_text("Not this time")

    # 5. text: a refused answer unlocks the form; the projector shows no typed answer before the reveal.
    next_question(5, "Closest star to Earth?")
    field = bob.get_by_label("Your answer")
    field.fill("   ")  # not empty to the browser, empty once trimmed: the server refuses it
    field.press("Enter")
    expect(bob.locator("#toast")).to_contain_text("empty")
    expect(field).to_be_enabled()
    field.fill("Sirius")
    field.press("Enter")
    ada.get_by_label("Your answer").fill("the sun")
    ada.get_by_role("button", name="Submit").click()
    expect(ada.locator("#stage .locked-answer")).to_have_text("“the sun”")
    tab_to(cy, cy.get_by_label("Your answer"))
    cy.keyboard.type("Sun")
    shoot(cy, "kind-text-phone")
    cy.keyboard.press("Enter")
    expect(cy.locator("#stage .locked-answer")).to_have_text("“Sun”")
    expect(histogram).to_contain_text("3 of 3 answered")
    expect(host.locator("body")).not_to_contain_text("Sirius")
    reveal("text")
    # "the sun" and Cy's "Sun" are both accepted, but typed differently: two rows, both marked.
    expect(histogram.locator(".bar-row.is-correct")).to_have_text([re.compile("Sun"), re.compile("the sun")])
    expect(histogram).to_contain_text("Sirius")
    expect(stage.locator(".reveal")).to_contain_text("The Sun · Sun")

    # 6. slider: the arrow keys and the + button, the value shown as it moves.
    next_question(6, "How many planets?")
    ada.get_by_label("Your answer").focus()
    ada.keyboard.press("ArrowLeft")
    ada.keyboard.press("ArrowLeft")
    expect(ada.locator("output.slider-value")).to_have_text("8")
    ada.get_by_role("button", name="Submit").click()
    bob.get_by_role("button", name="More").click()
    expect(bob.locator("output.slider-value")).to_have_text("11")
    bob.get_by_role("button", name="Submit").click()
    expect(ada.locator("#stage .locked-value")).to_have_text("8")
    tab_to(cy, cy.get_by_label("Your answer"))
    for _ in range(3):
        cy.keyboard.press("ArrowRight")
    expect(cy.locator("output.slider-value")).to_have_text("13")
    shoot(cy, "kind-slider-phone")
    cy_press(cy.get_by_role("button", name="Submit"))
    expect(cy.locator("#stage .locked-value")).to_have_text("13")
    reveal("slider")
    expect(stage.locator(".reveal")).to_contain_text("Correct answer: 8")
    expect(histogram.locator(".column.is-correct .column-label")).to_contain_text("8\N{EN DASH}9")
    expect(ada.locator("#stage .verdict")).to_contain_text("Correct!")
    expect(bob.locator("#stage .verdict")).to_contain_text("Not this time")

    # 7. order: Ada by the arrow buttons (focus stays on the arrow), Bob by dragging, Cy by Tab and Enter.
    next_question(7, "Closest to the Sun first")
    shown = order_shown(ada)
    assert shown != PLANETS and sorted(shown) == sorted(PLANETS)
    for place, planet in enumerate(PLANETS):
        while order_shown(ada).index(planet) > place:
            up = ada.get_by_role("button", name=f"Move {planet} up")
            up.focus()
            ada.keyboard.press("Enter")
            expect(up).to_be_focused()
    assert order_shown(ada) == PLANETS
    last, first = bob.locator(".order-item .drag-handle").last, bob.locator(".order-item").first
    dragged = order_shown(bob)[-1]
    grip, top = last.bounding_box(), first.bounding_box()
    bob.mouse.move(grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2)
    bob.mouse.down()
    bob.mouse.move(grip["x"] + grip["width"] / 2, top["y"] + 4, steps=8)
    bob.mouse.up()
    assert order_shown(bob)[0] == dragged
    bob_order = order_shown(bob)
    for page in (ada, bob):
        page.get_by_role("button", name="Submit").click()
    expect(ada.locator("#stage .locked-list .option-name")).to_have_text(PLANETS)
    expect(bob.locator("#stage .locked-list .option-name")).to_have_text(bob_order)
    cy_first = order_shown(cy)[-1]
    cy_press(cy.get_by_role("button", name=f"Move {cy_first} up"))  # focus stays on it: Enter again
    for _ in range(len(PLANETS) - 2):
        cy.keyboard.press("Enter")
    assert order_shown(cy)[0] == cy_first
    shoot(cy, "kind-order-phone")
    cy_order = order_shown(cy)
    cy_press(cy.get_by_role("button", name="Submit"))
    expect(cy.locator("#stage .locked-list .option-name")).to_have_text(cy_order)
    in_order = 1 + (bob_order == PLANETS) + (cy_order == PLANETS)
    expect(histogram).to_contain_text(f"3 of 3 answered, {in_order} in the right order")
    reveal("order")
    expect(stage.locator(".correct-order li")).to_have_text([re.compile(p) for p in PLANETS])
    expect(ada.locator("#player-reveal li")).to_have_text(PLANETS)

    assert ada_errors == bob_errors == cy_errors == [], (ada_errors, bob_errors, cy_errors)
