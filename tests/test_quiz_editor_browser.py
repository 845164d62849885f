"""Writing a quiz on its one page in Chromium, then playing it; and how many pages a 10-question quiz takes.

The server is tests/live_server.py's Daphne on its own SQLite file. The quiz page is the admin's,
with django-nested-admin's scripts and quizzes_app's quiz_editor.js under the site's strict CSP.
"""

from __future__ import annotations

import pytest

from tests.live_server import host_login, serve, student_join
from tests.test_e2e_browser import PHONE, TIMEOUT_MS, Watch

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture(scope="module")
def server():
    yield from serve()


class Loads:
    """Pages the browser loads in its tab: each navigation of the main frame."""

    def __init__(self, page):
        self.urls: list[str] = []
        page.on("framenavigated", lambda frame: frame == page.main_frame and self.urls.append(frame.url))


def add_question(page) -> str:
    """Press "Add another Question"; the prefix of the new question's fields."""
    count = "() => [...document.querySelectorAll('#questions-group .djn-inline-form')]"
    count += ".filter(row => /^questions-\\d+$/.test(row.id)).length"
    before = page.evaluate(count)
    page.get_by_role("link", name="Add another Question").click()
    assert page.evaluate(count) == before + 1
    return f"questions-{before}"


def type_question(page, prefix: str, prompt: str, answers: list[str], right: int, kind="single") -> None:
    page.locator(f'select[name="{prefix}-kind"]').select_option(kind)
    page.locator(f'textarea[name="{prefix}-prompt"]').fill(prompt)
    for j, text in enumerate(answers):
        page.locator(f'input[name="{prefix}-choices-{j}-text"]').fill(text)
    page.locator(f'input[name="{prefix}-choices-{right}-is_correct"]').check()


def prompts_in_page_order(page) -> list[str]:
    return page.locator("#questions-group .djn-inline-form textarea[name$='-prompt']").evaluate_all(
        "areas => areas.filter(a => !a.name.includes('__prefix__')).map(a => a.value)"
    )


QUESTIONS = [
    ("What is 2 + 2?", ["3", "4", "5", "6"], 1, "single"),
    ("The Earth is flat.", ["True", "False"], 1, "truefalse"),
    ("Which of these is a planet?", ["The Moon", "Mars"], 1, "single"),
]


def test_write_a_quiz_on_one_page_then_play_it(server, browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    watch = Watch()
    host = watch.attach(browser.new_context(**DESKTOP).new_page())
    try:
        write_and_reorder(host, server, expect)
        play(browser, host, server, watch, expect)
    except BaseException:
        print("--- daphne log ---\n" + server.log_tail())
        raise
    assert not watch.problems, watch.problems


def write_and_reorder(host, server, expect) -> None:
    host_login(host, server)
    host.get_by_role("link", name="New quiz").click()
    expect(host.locator("h1")).to_have_text("Add quiz")
    # One question with four answer rows is there to type into.
    rows = host.locator('input[name^="questions-0-choices-"][name$="-text"]:not([name*="__prefix__"])')
    expect(rows).to_have_count(4)
    host.get_by_label("Title:").fill("Written in the browser")
    for number, (prompt, answers, right, kind) in enumerate(QUESTIONS):
        prefix = "questions-0" if number == 0 else add_question(host)
        type_question(host, prefix, prompt, answers, right, kind)
    # What the answers are follows the kind picked, without a script of ours (CSS :has()).
    expect(host.locator("#questions-1 .choices-help [data-kind='truefalse']")).to_be_visible()
    expect(host.locator("#questions-1 .choices-help [data-kind='single']")).to_be_hidden()

    # Keyboard only: the last question's order field gets 0 and Enter, and it moves to the top.
    order = host.locator('input[name="questions-2-order"]')
    order.focus()
    host.keyboard.press("Control+A")
    host.keyboard.type("0")
    host.keyboard.press("Enter")  # moves the row; does not save the quiz
    expect(host.locator("h1")).to_have_text("Add quiz")
    assert prompts_in_page_order(host) == [QUESTIONS[2][0], QUESTIONS[0][0], QUESTIONS[1][0]]
    expect(order).to_be_focused()
    expect(host.locator("#quiz-editor-status")).to_have_text("Question moved to place 0 of 3 (0 is first).")
    orders = [host.locator(f'input[name="questions-{i}-order"]').input_value() for i in range(3)]
    assert orders == ["1", "2", "0"]

    host.locator('input[name="_save"]').click()
    host.wait_for_url(f"{server.url}/host/")
    expect(host.locator(".messages")).to_contain_text("was added successfully")


def play(browser, host, server, watch, expect) -> None:
    card = host.locator(".quiz-item", has_text="Written in the browser")
    expect(card).to_contain_text("3 questions")
    card.get_by_role("button", name="Start session").click()
    host.wait_for_url(f"{server.url}/host/session/*/")
    code = host.url.rstrip("/").rsplit("/", 1)[-1]
    phone = watch.attach(browser.new_context(**PHONE).new_page())
    student_join(phone, server, code, "Ada")
    expect(host.locator("#lobby")).to_contain_text("1 player")
    host.get_by_role("button", name="Start quiz").click()
    played = [QUESTIONS[2], QUESTIONS[0], QUESTIONS[1]]  # in the order set on the quiz page
    for number, (prompt, answers, right, _) in enumerate(played, start=1):
        if number > 1:
            host.get_by_role("button", name="Next question").click()
        expect(phone.locator("#stage .prompt")).to_have_text(prompt)
        expect(phone.locator("button.answer")).to_have_count(len(answers))
        phone.locator(f"button.answer.opt{right}").click()
        expect(phone.locator("#stage")).to_contain_text("Answer locked in")
        host.get_by_role("button", name="End question").click()
        expect(host.locator("#host-stage .option.is-correct")).to_contain_text(answers[right])
        expect(phone.locator("#stage")).to_contain_text("Correct!")
    host.get_by_role("button", name="Next question").click()
    expect(host.locator("#host-stage")).to_contain_text("Final ranking")
    expect(phone.locator(".final-place")).to_have_text("#1")


def test_ten_questions_by_hand_take_two_page_loads(server, browser):
    """From the dashboard: "New quiz" is one page; "Save" the second, back on the dashboard."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    watch = Watch()
    page = watch.attach(browser.new_context(**DESKTOP).new_page())
    host_login(page, server)
    loads = Loads(page)
    page.get_by_role("link", name="New quiz").click()
    page.get_by_label("Title:").fill("Ten by hand")
    for number in range(10):
        prefix = "questions-0" if number == 0 else add_question(page)
        answers = [f"{number} + {number} = {number * 2 + k}" for k in range(4)]
        type_question(page, prefix, f"Question {number + 1}: what is {number} + {number}?", answers, 0)
    page.locator('input[name="_save"]').click()
    page.wait_for_url(f"{server.url}/host/")
    expect(page.locator(".quiz-item", has_text="Ten by hand")).to_contain_text("10 questions")
    print(f"\nPage loads to write a 10-question quiz: {len(loads.urls)} ({loads.urls})")
    assert len(loads.urls) == 2, loads.urls
    assert not watch.problems, watch.problems


def test_answers_are_reordered_by_dragging(server, browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    watch = Watch()
    page = watch.attach(browser.new_context(**DESKTOP).new_page())
    host_login(page, server)
    page.get_by_role("link", name="New quiz").click()
    type_question(page, "questions-0", "Drag me", ["first", "second", "third", "fourth"], 0)
    handle = page.locator("#questions-0-choices-3 .djn-drag-handler")
    target = page.locator("#questions-0-choices-0")
    box, goal = handle.bounding_box(), target.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    for step in range(1, 11):  # jQuery UI sorts as the pointer moves, not on a jump
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] - (box["y"] - goal["y"] + 5) * step / 10)
    page.mouse.up()
    texts = page.locator("#questions-0-choices-group tbody.djn-item input[name$='-text']").evaluate_all(
        "inputs => inputs.map(i => i.value)"
    )
    assert texts == ["fourth", "first", "second", "third"]
    expect(page.locator('input[name="questions-0-choices-3-order"]')).to_have_value("0")
    assert not watch.problems, watch.problems
