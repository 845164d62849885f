"""Every question kind played in Chromium against a real Daphne (issue #14): two phones at 360 px answer
with taps, the keyboard, a drag; the host at 1280x720 sees the live count, the histogram of each kind
and its answer key; the phones see their verdict and the shared reveal."""

from __future__ import annotations

import base64
import io
import re

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


def test_every_kind_on_two_phones_and_the_host(server, browser, expect):
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
    histogram, stage = host.locator("#histogram"), host.locator("#host-stage")
    expect(host.locator("#lobby")).to_contain_text("2 players")

    def reveal():
        host.get_by_role("button", name="End question").click()
        expect(host.get_by_role("button", name="Next question")).to_be_visible()

    def next_question(num: int, prompt: str):
        host.get_by_role("button", name="Next question").click()
        for page in (ada, bob):
            expect(page.locator("#stage .prompt")).to_have_text(prompt)
            expect(page.locator("#player-reveal")).to_be_hidden()  # cleared for the new question

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
    expect(histogram).to_contain_text("2 of 2 answered")
    reveal()
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
    expect(histogram).to_contain_text("2 of 2 answered")
    reveal()
    expect(stage.locator(".option.is-correct")).to_have_text([re.compile("Mercury"), re.compile("Venus")])
    expect(ada.locator("#stage .verdict")).to_contain_text("Correct!")
    expect(ada.locator("#player-reveal")).to_contain_text("Mercury, Venus")
    expect(ada.locator("#toast")).to_be_empty()  # the second press was never an "already answered"

    # 3. poll: a vote is counted, never wrong.
    next_question(3, "Where would you go?")
    ada.locator("button.answer.opt2").click()
    bob.locator("button.answer.opt0").click()
    expect(histogram).to_contain_text("2 of 2 answered")
    reveal()
    expect(stage).not_to_contain_text("Correct")
    for page in (ada, bob):
        expect(page.locator("#stage .verdict")).to_contain_text("Vote counted")
        expect(page.locator("#stage")).not_to_contain_text("Not this time")

    # 4. text: a refused answer unlocks the form; the projector shows no typed answer before the reveal.
    next_question(4, "Closest star to Earth?")
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
    expect(histogram).to_contain_text("2 of 2 answered")
    expect(host.locator("body")).not_to_contain_text("Sirius")
    reveal()
    expect(histogram.locator(".bar-row.is-correct")).to_contain_text("the sun")
    expect(histogram).to_contain_text("Sirius")
    expect(stage.locator(".reveal")).to_contain_text("The Sun · Sun")

    # 5. slider: the arrow keys and the + button, the value shown as it moves.
    next_question(5, "How many planets?")
    ada.get_by_label("Your answer").focus()
    ada.keyboard.press("ArrowLeft")
    ada.keyboard.press("ArrowLeft")
    expect(ada.locator("output.slider-value")).to_have_text("8")
    ada.get_by_role("button", name="Submit").click()
    bob.get_by_role("button", name="More").click()
    expect(bob.locator("output.slider-value")).to_have_text("11")
    bob.get_by_role("button", name="Submit").click()
    expect(ada.locator("#stage .locked-value")).to_have_text("8")
    expect(histogram).to_contain_text("2 of 2 answered")
    reveal()
    expect(stage.locator(".reveal")).to_contain_text("Correct answer: 8")
    expect(histogram.locator(".column.is-correct .column-label")).to_contain_text("8\N{EN DASH}9")
    expect(ada.locator("#stage .verdict")).to_contain_text("Correct!")
    expect(bob.locator("#stage .verdict")).to_contain_text("Not this time")

    # 6. order: Ada by the arrow buttons alone (focus stays on the arrow), Bob by dragging.
    next_question(6, "Closest to the Sun first")
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
    in_order = 1 + (bob_order == PLANETS)
    expect(histogram).to_contain_text(f"2 of 2 answered, {in_order} in the right order")
    reveal()
    expect(stage.locator(".correct-order li")).to_have_text([re.compile(p) for p in PLANETS])
    expect(ada.locator("#player-reveal li")).to_have_text(PLANETS)

    assert ada_errors == [] and bob_errors == [], (ada_errors, bob_errors)
