"""Play a short game in Chromium and save the README screenshots.

Run `.venv/bin/python -m tests.screenshots [DIR]` (default DIR: docs/screenshots).

The host's projected page is taken at each stage (lobby, question, reveal with the leaderboard,
podium) at the two commonest projector sizes, 1280x720 and 1920x1080 (host-<stage>-<W>x<H>.png);
the host's page at phone width and the students' pages at phone width (360 px, 2x pixels) and on a
desktop. Not a test (pytest does not collect it); it needs /usr/bin/chromium, like the browser tests.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import expect

from tests.live_server import (
    QUIZ,
    ROOT,
    chromium,
    host_login,
    host_start_session,
    live_server,
    student_join,
)

PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP = {"viewport": {"width": 1920, "height": 1080}}
PROJECTORS = ((1280, 720), (1920, 1080))
# Students with a page of their own, and what they answer to question 1 (None: not yet).
PLAYERS = [("Ada", 2), ("Bob", 0), ("Chidi", None), ("Dee", None), ("Esther", 2), ("Farouk", 1), ("Gwen", 2)]
WATCHERS = ["Hiro", "Ines", "Jonas", "Kateryna", "Lars", "Mei"]  # joined, not answering in the shots


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with live_server() as server, chromium() as browser:
        play(browser, server, out)


def shot(page, out: Path, name: str) -> None:
    page.wait_for_timeout(300)  # let the countdown and swaps settle
    page.screenshot(path=str(out / f"{name}.png"), full_page=page.viewport_size["width"] < 600)
    print("saved", out / f"{name}.png")


def projected(page, out: Path, stage: str) -> None:
    """The host's page at each projector size, as the class sees it."""
    for width, height in PROJECTORS:
        page.set_viewport_size({"width": width, "height": height})
        shot(page, out, f"host-{stage}-{width}x{height}")


def play(browser, server, out: Path) -> None:
    host = browser.new_context(**DESKTOP).new_page()
    host_phone = browser.new_context(**PHONE).new_page()
    host_login(host, server)
    host_login(host_phone, server)
    code = host_start_session(host, server)
    host_phone.goto(f"{server.url}/host/session/{code}/")

    students = {}
    for name, _ in PLAYERS:
        page = browser.new_context(**(DESKTOP if name == "Dee" else PHONE)).new_page()
        if name == "Ada":
            page.goto(f"{server.url}/join/{code}/")
            page.get_by_label("Nickname").fill("Ada")
            shot(page, out, "student-join-phone")
        student_join(page, server, code, name, via_form=name != "Ada")
        students[name] = page
    for name in WATCHERS:
        student_join(browser.new_context(**PHONE).new_page(), server, code, name)
    total = len(PLAYERS) + len(WATCHERS)
    expect(host.locator("#lobby")).to_contain_text(f"{total} players")
    expect(host_phone.locator("#lobby")).to_contain_text(f"{total} players")
    projected(host, out, "lobby")
    shot(host_phone, out, "host-lobby-phone")
    shot(students["Chidi"], out, "student-lobby-phone")

    host.get_by_role("button", name="Start quiz").click()
    for page in students.values():
        expect(page.locator("#stage")).to_contain_text(QUIZ["questions"][0]["prompt"])
    shot(students["Chidi"], out, "student-question-phone")
    shot(students["Dee"], out, "student-question-desktop")
    for name, choice in PLAYERS:
        if choice is not None:
            students[name].locator(f"button.answer.opt{choice}").click()
            time.sleep(0.15)
    answered = sum(choice is not None for _, choice in PLAYERS)
    expect(host.locator("#histogram")).to_contain_text(f"{answered} of {total} answered")
    expect(host_phone.locator("#histogram")).to_contain_text(f"{answered} of {total} answered")
    expect(students["Ada"].locator("#stage")).to_contain_text("Answer locked in")
    projected(host, out, "question")
    shot(host_phone, out, "host-question-phone")
    shot(students["Ada"], out, "student-answered-phone")

    students["Dee"].locator("button.answer.opt2").click()
    expect(students["Dee"].locator("#stage")).to_contain_text("Answer locked in")
    host.get_by_role("button", name="End question").click()
    expect(students["Ada"].locator("#stage")).to_contain_text("Correct!")
    expect(students["Bob"].locator("#stage")).to_contain_text("Not this time")
    expect(host.locator("#leaderboard")).to_contain_text("Ada")
    projected(host, out, "reveal")
    shot(host_phone, out, "host-results-phone")
    shot(students["Ada"], out, "student-result-phone")
    shot(students["Bob"], out, "student-result-wrong-phone")
    shot(students["Dee"], out, "student-result-desktop")

    for question in QUIZ["questions"][1:]:
        host.get_by_role("button", name="Next question").click()
        expect(students["Ada"].locator("#stage")).to_contain_text(question["prompt"])
        students["Ada"].locator(f"button.answer.opt{question['correct_idx']}").click()
        students["Dee"].locator(f"button.answer.opt{question['correct_idx']}").click()
        expect(host.locator("#histogram")).to_contain_text(f"2 of {total} answered")
        host.get_by_role("button", name="End question").click()
        expect(host.get_by_role("button", name="Next question")).to_be_visible()
    host.get_by_role("button", name="Next question").click()
    expect(host.locator("#host-stage")).to_contain_text("Final ranking")
    expect(students["Ada"].locator("#stage")).to_contain_text("#1")
    projected(host, out, "podium")
    shot(students["Ada"], out, "student-final-phone")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
