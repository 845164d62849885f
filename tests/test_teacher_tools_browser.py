"""The teacher's tools (issue #18) in Chromium against a real Daphne: a host and four phones.

- Extra time: in the lobby the host gives Dee twice the time ("Extra time for Dee"); her phone counts
  down her own time, the projector the class's and then "1 still answering"; she reloads her phone
  after the class's time is up, still has time, answers, and the question closes without waiting
  for the rest of her time. During question 2 the host gives Cy 1.5 times the time from the Players
  panel, and her phone's countdown takes it at once.
- Misconception and re-vote: half the class chose Mars; the host's reveal says "50% chose A: Mars"
  with "Discuss and re-vote"; the re-vote reopens the question on every phone, and its reveal shows
  both rounds side by side and "1 student switched to the right answer".
- Answer-key check: question 2's key is wrong on purpose (Venus marked as the planet closest to the
  Sun); the strongest players chose Mercury, so the host's reveal asks "Check the answer key?".
- Two rankings: the final screen, and each phone, by points and by accuracy.
- Regrade: on the results page the host marks Mercury right; the report says the question was
  regraded, and the scores, both rankings and the CSV follow.
- Accuracy mode, in a second session: a slow right answer is worth its full 1000 points.

The host's page at each tool's reveal and at the end still fits every projector size.

With KNEWIT_SCREENSHOT_DIR set (e.g. docs/screenshots), each of these is saved as teacher-*.png.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

import pytest

from tests.live_server import host_login, serve, student_join
from tests.test_projector_browser import LAYOUT_PROBLEMS, SIZES

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TITLE = "Teacher tools quiz"
QUIZ = {
    "title": TITLE,
    "default_timer": 30,
    "questions": [
        # 8 s for the class, 16 s for a student with twice the time.
        {"prompt": "Which is the largest planet?", "options": ["Mars", "Jupiter", "Venus", "Earth"],
         "correct_idx": 1, "time_limit": 8},
        # The key is wrong on purpose: Mercury is the closest; the answer-key check should notice.
        {"prompt": "Which planet is closest to the Sun?", "options": ["Venus", "Mercury", "Mars", "Earth"],
         "correct_idx": 0},
    ],
}  # fmt: skip
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
PROJECTOR = {"width": 1366, "height": 768}
SHOTS = Path(os.environ["KNEWIT_SCREENSHOT_DIR"]) if os.environ.get("KNEWIT_SCREENSHOT_DIR") else None


@pytest.fixture(scope="module")
def server():
    yield from serve(QUIZ)


@pytest.fixture
def expect():
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)
    return expect


def shot(page, name: str) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"teacher-{name}.png"))


def start_session(page, server, **settings) -> str:
    """From the dashboard, start a session of QUIZ with these settings ticked; its join code."""
    item = page.locator(".quiz-item", has_text=TITLE)
    if settings:
        item.locator("summary", has_text="Session settings").click()
        for label in settings.values():
            item.get_by_label(label).check()
    item.get_by_role("button", name="Start session").click()
    page.wait_for_url(f"{server.url}/host/session/*/")
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def fits_the_projector(page, stage: str) -> None:
    """The host's page at this stage still fits every projector size (tests/test_projector_browser.py's
    rule: nothing to scroll, nothing outside the window or clipped, no word broken)."""
    found = {}
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        if problems := page.evaluate(LAYOUT_PROBLEMS):
            found[f"{width}x{height}"] = problems
    page.set_viewport_size(PROJECTOR)
    assert not found, f"{stage}: {found}"


def open_phone(browser, server, code: str, name: str):
    page = browser.new_context(**PHONE).new_page()
    student_join(page, server, code, name)
    return page


def tap(phone, text: str) -> None:
    phone.locator("button.answer", has_text=text).click()


def test_the_teacher_tools_in_one_game(server, browser, expect):
    host = browser.new_context(viewport=PROJECTOR).new_page()
    host_login(host, server)
    code = start_session(host, server)
    phones = {name: open_phone(browser, server, code, name) for name in ("Ada", "Bo", "Cy", "Dee")}
    expect(host.locator("#lobby")).to_contain_text("4 players")

    # 1. Extra time for Dee, from the lobby: the control shows when the host points at her name.
    dee = host.locator("#lobby .lobby-player", has_text="Dee")
    dee.hover()
    host.get_by_label("Extra time for Dee").select_option("2")
    expect(host.get_by_label("Extra time for Dee")).to_have_value("2")
    dee.hover()
    shot(host, "extra-time-lobby")
    host.mouse.move(0, 0)
    # Nobody else is told: the projected wall shows no mark of it.
    expect(host.get_by_label("Extra time for Dee")).to_have_css("opacity", "0")

    host.get_by_role("button", name="Start quiz").click()
    for phone in phones.values():
        expect(phone.locator("button.answer")).to_have_count(4)
    # Dee's own countdown: more than the class's 8 s.
    expect(phones["Dee"].locator(".countdown")).to_have_attribute("data-time-limit-ms", "16000")
    expect(phones["Ada"].locator(".countdown")).to_have_attribute("data-time-limit-ms", "8000")
    shot(phones["Dee"], "extra-time-phone")
    tap(phones["Ada"], "Jupiter")
    tap(phones["Bo"], "Mars")
    tap(phones["Cy"], "Mars")
    expect(host.locator("#histogram")).to_contain_text("3 of 4 answered")
    # The class's time runs out; the projector says one student is still answering, not who.
    expect(host.locator("#histogram")).to_contain_text("1 still answering", timeout=20_000)
    expect(host.locator("#host-stage")).not_to_contain_text("Dee")
    shot(host, "still-answering")
    # Dee reloads her phone: her own time is still running.
    phones["Dee"].reload()
    expect(phones["Dee"].locator("button.answer")).to_have_count(4)
    left = int(phones["Dee"].locator(".countdown").get_attribute("data-time-left-ms"))
    assert 0 < left < 8000, left
    tap(phones["Dee"], "Jupiter")
    expect(phones["Dee"].locator("#stage")).to_contain_text("Answer locked in")

    # 3. The question closes (nobody is still answering): the misconception, before the key.
    stage = host.locator("#host-stage")
    alert = stage.locator(".alert-misconception")
    expect(alert).to_contain_text("50% chose", timeout=20_000)
    expect(alert).to_contain_text("Mars")
    expect(alert).to_contain_text("the same wrong answer")
    expect(phones["Dee"].locator("#stage .verdict")).to_contain_text("Correct")
    revote = host.get_by_role("button", name="Discuss and re-vote")
    expect(revote).to_be_visible()
    shot(host, "misconception")
    fits_the_projector(host, "misconception")
    revote.click()
    for phone in phones.values():
        expect(phone.locator("button.answer")).to_have_count(4)
    expect(phones["Ada"].locator("#stage")).to_contain_text("Vote again")
    shot(phones["Ada"], "revote-phone")
    tap(phones["Bo"], "Jupiter")  # convinced
    tap(phones["Cy"], "Mars")
    tap(phones["Ada"], "Jupiter")
    tap(phones["Dee"], "Jupiter")
    expect(host.locator("#histogram")).to_contain_text("4 of 4 answered")
    host.get_by_role("button", name="End question").click()
    expect(stage).to_contain_text("1 student switched to the right answer")
    expect(host.locator("#histogram")).to_contain_text("First vote")
    expect(host.locator("#histogram")).to_contain_text("Re-vote")
    shot(host, "revote")
    fits_the_projector(host, "re-vote")

    # 4. Question 2: the key says Venus; the strongest say Mercury.
    host.get_by_role("button", name="Next question").click()
    for phone in phones.values():
        expect(phone.locator("button.answer")).to_have_count(4)
    # 1. Extra time during the game, from the Players panel: Cy's phone gets her own 45 s at once.
    host.get_by_role("button", name="Players").click()
    host.locator("#lobby .lobby-player", has_text="Cy").hover()
    host.get_by_label("Extra time for Cy").select_option("1.5")
    expect(phones["Cy"].locator(".countdown")).to_have_attribute("data-time-limit-ms", "45000")
    shot(host, "extra-time-players")
    host.keyboard.press("Escape")  # closes the panel
    expect(host.locator("#lobby")).to_be_hidden()
    for name in ("Ada", "Bo", "Dee"):
        tap(phones[name], "Mercury")
    tap(phones["Cy"], "Venus")
    expect(host.locator("#histogram")).to_contain_text("4 of 4 answered")
    host.get_by_role("button", name="End question").click()
    expect(stage).to_contain_text("Check the answer key?")
    shot(host, "key-check")
    fits_the_projector(host, "key check")

    # 2. The final screen: two rankings side by side, and each phone its place in both.
    host.get_by_role("button", name="Next question").click()
    expect(stage).to_contain_text("By points")
    expect(stage).to_contain_text("By accuracy")
    shot(host, "final-rankings")
    fits_the_projector(host, "final rankings")
    places = phones["Dee"].locator("#stage .final-places")
    expect(places).to_contain_text("By points")
    expect(places).to_contain_text("By accuracy")
    shot(phones["Dee"], "final-phone")

    # 4. The regrade, after the game, on the results page.
    host.goto(f"{server.url}/host/session/{code}/results/")
    question = host.locator("article.results-question", has_text="closest to the Sun")
    question.locator("summary", has_text="Regrade this question").click()
    question.get_by_label(re.compile(r"B: Mercury")).check()
    question.get_by_role("button", name=re.compile("Regrade Q2")).click()
    question = host.locator("article.results-question", has_text="closest to the Sun")
    expect(question).to_contain_text("Regraded")
    expect(question).to_contain_text("Correct answer: Mercury")
    expect(host.locator("body")).to_contain_text("Regraded. Scores, ranks and both rankings are recomputed")
    shot(host, "regrade")
    answers = host.request.get(f"{server.url}/host/session/{code}/results.csv").text()
    rows = list(csv.DictReader(io.StringIO(answers.lstrip("\ufeff"))))
    bo_q1 = next(r for r in rows if r["player"] == "Bo" and r["question"] == "1")
    assert (bo_q1["chosen"], bo_q1["revote_chosen"], bo_q1["revote_correct"]) == ("Mars", "Jupiter", "yes")
    dee_q1 = next(r for r in rows if r["player"] == "Dee" and r["question"] == "1")
    assert dee_q1["time_factor"] == "2" and dee_q1["correct"] == "yes"
    assert all(r["regraded_at"] for r in rows if r["question"] == "2")
    assert next(r for r in rows if r["player"] == "Ada" and r["question"] == "2")["correct"] == "yes"


def test_accuracy_mode_gives_a_slow_right_answer_its_full_points(server, browser, expect):
    host = browser.new_context(viewport=PROJECTOR).new_page()
    host_login(host, server)
    code = start_session(host, server, accuracy="Score by accuracy only")
    slow = open_phone(browser, server, code, "Slow")
    expect(host.locator("#lobby")).to_contain_text("1 player")
    host.get_by_role("button", name="Start quiz").click()
    expect(slow.locator("button.answer")).to_have_count(4)
    slow.wait_for_timeout(3000)
    tap(slow, "Jupiter")
    host.get_by_role("button", name="End question").click()
    expect(slow.locator(".result-figures")).to_contain_text("+1000")
    shot(slow, "accuracy-mode-phone")
