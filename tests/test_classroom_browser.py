"""What a class notices in its first lesson, in Chromium against a real Daphne (issue #12, items 2-4).

- A phone page that is open counts as present; one that goes silent (asleep, or out of signal, its
  socket left open) turns "(away)" on the host's lobby within the presence timeout, and back when it
  returns.
- A student who did not answer is told "No answer", not "Not this time".
- A locked game says it is locked; an unknown PIN still says nothing more than that.

The server runs with short presence timers, so the test waits seconds, not minutes.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.live_server import host_login, host_start_session, serve, student_join

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
PING_S, TIMEOUT_S = 1, 4
SHORT_TIMERS = {"KNEWIT_PING_INTERVAL_S": str(PING_S), "KNEWIT_PRESENCE_TIMEOUT_S": str(TIMEOUT_S)}
SLACK_S = 4  # a ping period, the heartbeat write, the sweep, the host's push, a busy machine


@pytest.fixture(scope="module")
def server():
    yield from serve(extra_env=SHORT_TIMERS)


@pytest.fixture
def expect():
    from playwright.sync_api import expect

    expect.set_options(timeout=10_000)
    return expect


def open_host(browser, server):
    host = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    host_login(host, server)
    code = host_start_session(host, server)
    return host, code


def open_phone(browser, server, code: str, name: str):
    page = browser.new_context(**PHONE).new_page()
    student_join(page, server, code, name)
    return page


def lobby_entry(host, name: str):
    return host.locator("#lobby .lobby-player", has_text=name)


class Network:
    """The phone's connection to the server, through Playwright: cut it and the page's socket stays
    open at both ends while nothing crosses (a phone asleep, or out of signal); restore it and the
    frames flow again."""

    def __init__(self, page):
        self.up = True
        page.route_web_socket(re.compile(r"/ws/page/play/"), self.route)

    def route(self, ws) -> None:
        server = ws.connect_to_server()
        ws.on_message(lambda message: server.send(message) if self.up else None)
        server.on_message(lambda message: ws.send(message) if self.up else None)


def test_an_open_page_is_present_and_a_silent_phone_is_away_until_it_returns(server, browser, expect):
    host, code = open_host(browser, server)
    phone = browser.new_context(**PHONE).new_page()
    network = Network(phone)
    student_join(phone, server, code, "Sleepy")
    entry = lobby_entry(host, "Sleepy")
    expect(entry).to_have_count(1)

    # Three timeouts with the page open and idle: never "(away)". (Waiting in Playwright, not in
    # time.sleep, so the routed frames keep flowing meanwhile.)
    watched_until = time.monotonic() + 3 * TIMEOUT_S
    while time.monotonic() < watched_until:
        assert "(away)" not in entry.inner_text(), f"shown away while the page is open: {server.log_tail()}"
        phone.wait_for_timeout(500)

    network.up = False
    went = time.monotonic()
    expect(entry).to_contain_text("(away)", timeout=(TIMEOUT_S + SLACK_S) * 1000)
    assert time.monotonic() - went <= TIMEOUT_S + SLACK_S

    # Back: the next ping gets its pong, and the host is told without reloading.
    network.up = True
    expect(entry).not_to_contain_text("(away)", timeout=(PING_S + SLACK_S) * 1000)
    expect(phone.locator("#stage")).to_contain_text("You're in!")


def test_a_student_who_did_not_answer_is_told_no_answer(server, browser, expect):
    host, code = open_host(browser, server)
    quiet = open_phone(browser, server, code, "Quiet")
    wrong = open_phone(browser, server, code, "Wrong")
    expect(host.locator("#lobby")).to_contain_text("2 players")

    host.get_by_role("button", name="Start quiz").click()
    expect(wrong.locator("button.answer")).to_have_count(4)
    expect(quiet.locator("button.answer")).to_have_count(4)
    wrong.locator("button.answer.opt0").click()  # "6": wrong
    expect(host.locator("#histogram")).to_contain_text("1 of 2 answered")
    host.get_by_role("button", name="End question").click()

    expect(quiet.locator("#stage .verdict")).to_contain_text("No answer")
    expect(quiet.locator("#stage")).not_to_contain_text("Not this time")
    expect(quiet.locator(".result-figures")).to_contain_text("+0")
    expect(wrong.locator("#stage .verdict")).to_contain_text("Not this time")

    quiet.reload()  # the page drawn from the database says the same
    expect(quiet.locator("#stage .verdict")).to_contain_text("No answer")


def test_a_locked_game_says_so_and_an_unknown_pin_does_not(server, browser, expect):
    host, code = open_host(browser, server)
    host.get_by_role("button", name="Lock").click()
    expect(host.locator("#lobby")).to_contain_text("Locked")

    late = browser.new_context(**PHONE).new_page()
    late.goto(f"{server.url}/join/{code}/")
    late.get_by_label("Nickname").fill("Late")
    late.get_by_role("button", name="Join").click()
    error = late.locator("#code-error")
    expect(error).to_contain_text("locked")
    expect(error).to_contain_text("Ask your teacher to unlock it")

    unknown = "000000" if code != "000000" else "000001"
    late.goto(f"{server.url}/")
    late.get_by_label("Game PIN").fill(unknown)
    late.get_by_label("Nickname").fill("Late")
    late.get_by_role("button", name="Join").click()
    expect(late.locator("#code-error")).to_contain_text("No game is open for joining with that PIN")
    expect(late.locator("#code-error")).not_to_contain_text("locked")

    host.get_by_role("button", name="Unlock").click()
    expect(host.locator("#lobby")).not_to_contain_text("Locked")
    late.goto(f"{server.url}/join/{code}/")
    late.get_by_label("Nickname").fill("Late")
    late.get_by_role("button", name="Join").click()
    late.wait_for_url(f"{server.url}/play/{code}/")
