"""An XSS corpus through a real browser (issue #7, item 7).

Quiz text (title, prompts, options) imported with `manage.py import_quiz` and student nicknames typed into
the join form carry script tags, event-handler attributes, htmx attributes, Django template syntax, bidi
overrides, zero-width characters and quotes. A whole game is played in Chromium against a live Daphne;
after every step each page must show the text literally, hold no injected element or attribute, open no
dialog, and keep every piece of user text inside an `hx-disable` element so htmx never processes it.
"""

from __future__ import annotations

import pytest

from tests.live_server import (
    Server,
    host_login,
    serve,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
TIMEOUT_MS = 10_000

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
HX_GET = "<b hx-get=/x>bold</b>"
HX_ON = "<i hx-on:click=alert(1)>it</i>"
MUSTACHE = "{{ 7*7 }}"
DEBUG_TAG = "{% debug %}"
BIDI = "\u202eevil\u202c bidi"
ZERO_WIDTH = "zero\u200bwidth"
QUOTES = "\"'><x quotes"

TITLE = f"XSS corpus {SCRIPT} {MUSTACHE} {QUOTES}"
QUIZ = {
    "title": TITLE,
    "default_timer": 60,
    "questions": [
        {
            "prompt": f"Q1 {SCRIPT} {IMG} {MUSTACHE} {BIDI}",
            "options": [SCRIPT, IMG, HX_GET, HX_ON, MUSTACHE, DEBUG_TAG],
            "correct_idx": 0,
        },
        {
            "prompt": f"Q2 {HX_GET} {HX_ON} {DEBUG_TAG} {ZERO_WIDTH} {QUOTES}",
            "options": [BIDI, ZERO_WIDTH, QUOTES, f"{IMG}{SCRIPT}"],
            "correct_idx": 2,
        },
    ],
}
QUIZ_TEXTS = sorted(
    {TITLE} | {q["prompt"] for q in QUIZ["questions"]} | {o for q in QUIZ["questions"] for o in q["options"]}
)

# Nicknames are 1 to 20 characters after trimming; the first is typed with spaces round it.
NICKNAMES = [
    "<script>alert(1)</s",
    "<img src=x onerror=1",
    "<b hx-get=/x>",
    "<i hx-on:click=alert",
    MUSTACHE,
    DEBUG_TAG,
    "\"'><x",
]
REFUSED_NICKNAMES = {
    "21 characters": "<script>alert(1)</scr",
    "10,000 characters": (IMG * 400)[:10_000],
    "a bidi override": "\u202eevil",
    "a zero-width space": "a\u200bb",
}

STATIC_SCRIPTS = [
    "/static/vendor/htmx-2.0.11.min.js",
    "/static/vendor/htmx-ext-ws-2.0.4.min.js",
    "/static/js/live.js",
]
# The app's own htmx attributes; anything else (hx-get, hx-on:*, hx-trigger...) would be injected.
OWN_HTMX_ATTRIBUTES = ["hx-ext", "ws-connect", "ws-send", "hx-vals", "hx-disable", "hx-swap-oob", "hx-boost"]

# One pass over the page: everything a successful injection would leave behind, and where user text sits.
DOM_AUDIT = """([needles, ownHtmx]) => {
  const report = {scripts: [], handlers: [], htmx: [], tags: [], outside: [], found: []};
  for (const s of document.scripts)
    report.scripts.push(s.getAttribute('src') || 'inline:' + s.textContent.slice(0, 60));
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    if (['img', 'b', 'i', 'x', 'iframe', 'object', 'embed'].includes(tag))
      report.tags.push(el.outerHTML.slice(0, 80));
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith('on')) report.handlers.push(tag + '[' + name + '=' + attr.value + ']');
      const bare = name.startsWith('data-') ? name.slice(5) : name;
      if ((bare.startsWith('hx-') || bare.startsWith('ws-')) && !ownHtmx.includes(bare))
        report.htmx.push(tag + '[' + name + '=' + attr.value + ']');
    }
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const hits = needles.filter(n => node.data.includes(n));
    if (!hits.length) continue;
    report.found.push(...hits);
    if (!node.parentElement.closest('[hx-disable]'))
      report.outside.push(node.parentElement.outerHTML.slice(0, 120));
  }
  report.found = [...new Set(report.found)];
  return report;
}"""


@pytest.fixture(scope="module")
def server():
    yield from serve(QUIZ)


class Watch:
    """Dialogs, JavaScript errors and CSP violations on any page, and the DOM audit after each step."""

    def __init__(self):
        self.pages: list = []
        self.dialogs: list[str] = []
        self.problems: list[str] = []

    def attach(self, page):
        def on_dialog(dialog):
            self.dialogs.append(f"{page.url}: {dialog.type} {dialog.message!r}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda exc: self.problems.append(f"{page.url}: {exc}"))
        page.on(
            "console",
            lambda msg: (
                self.problems.append(f"{page.url}: {msg.text}")
                if "Content Security Policy" in msg.text or "htmx" in msg.text.lower()
                else None
            ),
        )
        page.set_default_timeout(TIMEOUT_MS)
        self.pages.append(page)
        return page

    def audit(self, step: str, page, *, expect_text=(), live: bool = True, outside_ok: bool = False) -> None:
        """No dialog so far, no injected markup on page, expect_text shown literally and inside hx-disable.

        outside_ok skips the hx-disable rule, for the one known breach that its own strict xfail tracks.
        """
        assert not self.dialogs, f"{step}: a dialog opened: {self.dialogs}"
        assert not self.problems, f"{step}: {self.problems}"
        report = page.evaluate(DOM_AUDIT, [sorted(set(QUIZ_TEXTS) | set(NICKNAMES)), OWN_HTMX_ATTRIBUTES])
        where = f"{step} ({page.url})"
        # Our scripts only, none inline. A page that came in through the boosted join form (htmx swapped
        # its body in) has none in its DOM any more, though they run: so "at most ours" on pages.
        allowed = STATIC_SCRIPTS if live else []
        assert set(report["scripts"]) <= set(allowed), f"{where}: scripts {report['scripts']}"
        assert not report["handlers"], f"{where}: event-handler attributes {report['handlers']}"
        assert not report["htmx"], f"{where}: foreign htmx attributes {report['htmx']}"
        assert not report["tags"], f"{where}: injected elements {report['tags']}"
        assert outside_ok or not report["outside"], (
            f"{where}: user text outside hx-disable {report['outside']}"
        )
        missing = [text for text in expect_text if text not in report["found"]]
        assert not missing, f"{where}: not shown literally: {missing}"

    def audit_all(self, step: str, texts: dict) -> None:
        for page in self.pages:
            if not page.is_closed():
                self.audit(step, page, expect_text=texts.get(page, []))


def test_xss_corpus_through_a_whole_game(server, browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    watch = Watch()
    try:
        play(browser, server, watch, expect)
    except BaseException:
        print("--- daphne log ---\n" + server.log_tail())
        raise
    assert not watch.dialogs, watch.dialogs
    assert not watch.problems, watch.problems


def join_page(page, server: Server, code: str, nickname: str) -> None:
    """Type a nickname on the join page with the input's maxlength removed, as a client could."""
    page.goto(f"{server.url}/join/{code}/")
    field = page.get_by_label("Nickname")
    assert field.get_attribute("maxlength") == "20"
    field.evaluate("el => el.removeAttribute('maxlength')")
    field.fill(nickname)
    page.get_by_role("button", name="Join").click()


def play(browser, server: Server, watch: Watch, expect) -> None:
    host = watch.attach(browser.new_context(viewport={"width": 1280, "height": 900}).new_page())
    host_login(host, server)
    watch.audit("dashboard", host, expect_text=[TITLE], live=False)

    host.locator(".quiz-item", has_text="XSS corpus").get_by_role("button", name="Start session").click()
    host.wait_for_url(f"{server.url}/host/session/*/")
    code = host.url.rstrip("/").rsplit("/", 1)[-1]
    watch.audit("host lobby", host, expect_text=[TITLE])

    # Refused nicknames: an inline error on the join form, no player made, and the echo is inert.
    first = watch.attach(browser.new_context(**PHONE).new_page())
    for why, nickname in REFUSED_NICKNAMES.items():
        join_page(first, server, code, nickname)
        error = first.locator("#nickname-error")
        expect(error, f"a nickname of {why}").to_be_visible()
        expect(error).to_have_attribute("role", "alert")
        assert "/play/" not in first.url, why
        assert first.get_by_label("Nickname").input_value() == nickname.strip(), why
        watch.audit(f"refused nickname: {why}", first)
    expect(host.locator("#lobby")).to_contain_text("0 players")

    students = {}
    for nickname in NICKNAMES:
        page = first if not students else watch.attach(browser.new_context(**PHONE).new_page())
        join_page(page, server, code, f"  {nickname}  " if not students else nickname)
        page.wait_for_url(f"{server.url}/play/{code}/")
        expect(page.locator(".me strong")).to_have_text(nickname)
        expect(page.locator("#stage")).to_contain_text("You're in!")
        students[page] = nickname
        watch.audit(f"joined as {nickname!r}", page, expect_text=[nickname])
    lobby = host.locator("#lobby")
    expect(lobby).to_contain_text(f"{len(NICKNAMES)} players")
    names = host.locator("#lobby .lobby-player .name")
    expect(names).to_have_count(len(NICKNAMES))
    assert sorted(names.evaluate_all("els => els.map(e => e.textContent)")) == sorted(NICKNAMES)
    texts = {host: [TITLE, *NICKNAMES], **{page: [name] for page, name in students.items()}}
    watch.audit_all("everyone in the lobby", texts)

    host.get_by_role("button", name="Start quiz").click()
    for number, question in enumerate(QUIZ["questions"], start=1):
        if number > 1:
            host.get_by_role("button", name="Next question").click()
        prompt, options = question["prompt"], question["options"]
        expect(host.locator("#host-stage .prompt")).to_have_text(prompt)
        for page in students:
            expect(page.locator("#stage .prompt")).to_have_text(prompt)
            expect(page.locator("#stage .option-text")).to_have_text(options)
        expect(host.locator("#host-stage .option-text")).to_have_text(options)
        expect(host.locator("#histogram .bar-text")).to_have_text(options)
        shown = {host: [prompt, *options, *NICKNAMES]}
        shown |= {page: [prompt, *options, name] for page, name in students.items()}
        watch.audit_all(f"question {number} shown", shown)

        for index, page in enumerate(students):
            page.locator(f"button.answer.opt{index % len(options)}").click()
            expect(page.locator("#stage")).to_contain_text("Answer locked in")
        expect(host.locator("#histogram")).to_contain_text(f"{len(students)} of {len(students)} answered")
        watch.audit_all(
            f"question {number} answered", {host: shown[host], **{p: [n] for p, n in students.items()}}
        )

        host.get_by_role("button", name="End question").click()
        right = options[question["correct_idx"]]
        expect(host.locator("#host-stage .reveal strong")).to_contain_text(right)
        expect(host.locator("#leaderboard .ranking .name").first).to_be_visible()
        for page in students:
            expect(page.locator(".result-figures")).to_be_visible()
        watch.audit_all(f"question {number} revealed", {host: [prompt, right, *NICKNAMES]})

    host.get_by_role("button", name="Next question").click()  # after the last question: the final ranking
    expect(host.locator("#host-stage")).to_contain_text("Final ranking")
    ranking = host.locator("#host-stage .full-ranking .ranking .name")
    expect(ranking).to_have_count(len(NICKNAMES))
    assert sorted(ranking.evaluate_all("els => els.map(e => e.textContent)")) == sorted(NICKNAMES)
    for page in students:
        expect(page.locator("#stage")).to_contain_text("Game over")
    watch.audit_all("final ranking", {host: NICKNAMES, **{page: [name] for page, name in students.items()}})

    host.get_by_role("link", name="Open the results report").click()
    host.wait_for_url(f"{server.url}/host/session/{code}/results/")
    expect(host.locator("body")).to_contain_text(QUIZ["questions"][0]["prompt"])
    report_texts = [TITLE, *(q["prompt"] for q in QUIZ["questions"]), *NICKNAMES]
    watch.audit("results report", host, expect_text=report_texts, live=False)


def test_dashboard_keeps_quiz_titles_inside_hx_disable(server, browser):
    watch = Watch()
    host = watch.attach(browser.new_context().new_page())
    host_login(host, server)
    watch.audit("dashboard", host, expect_text=[TITLE], live=False)
