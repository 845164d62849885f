"""The production profile, exercised: nginx (TLS, deploy/nginx) in front of two workers, PostgreSQL, Redis.

Everything goes through https:// and wss:// on 127.0.0.1 (tests/tls_proxy.py): the front door's headers
and cookies, the Origin check, the PIN throttle's view of the client address, a game in Chromium, and
protocol students who lose their worker mid-question and come back through nginx to the other one.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import ssl
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
import websockets

from tests.fault.support import (
    Bot,
    HostClient,
    bot_summary,
    check_database,
    chooser,
    make_world,
    start_bots,
    stop_bots,
    wait_until,
)
from tests.live_server import (
    CHROMIUM,
    HOST_PASSWORD,
    HOST_USERNAME,
    QUIZ,
    Server,
    host_login,
    host_start_session,
    student_join,
)
from tests.servers import RedisServer, database_url_for_subprocess
from tests.tls_proxy import require_nginx, tls_stack

# Every test on the test database (transaction=True: the workers see each commit), or pytest-django would
# not create it when only tests that never touch it in-process are selected.
pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WRONG_PINS = 3  # KNEWIT_JOIN_WRONG_PINS for these workers
HSTS = "max-age=31536000; includeSubDomains; preload"
IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture(scope="module")
def stack(django_db_setup, tmp_path_factory):
    """nginx and two workers on the test database and a Redis of their own, so the throttle counts start at
    zero and stay out of the shared cache; clients here trust the stack's certificate."""
    require_nginx()
    folder = tmp_path_factory.mktemp("tls")
    redis = RedisServer().start()
    try:
        with (
            tls_stack(
                folder, database_url_for_subprocess(), redis.url, KNEWIT_JOIN_WRONG_PINS=str(WRONG_PINS)
            ) as running,
            pytest.MonkeyPatch.context() as env,
        ):
            env.setenv("SSL_CERT_FILE", str(running.cert))  # Python's default TLS context: the Bots' wss://
            yield running
    finally:
        redis.stop()


class Client:
    """HTTPS requests to the proxy from one address of 127.0.0.0/8, keeping cookies (verified certificate)."""

    def __init__(self, stack, source: str = "127.0.0.1"):
        self.stack, self.source = stack, source
        self.tls = ssl.create_default_context(cafile=stack.cert)
        self.cookies = SimpleCookie()

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None):
        """(response, body text); Set-Cookie headers are kept for the next request."""
        conn = http.client.HTTPSConnection(
            "127.0.0.1",
            self.stack.nginx.https_port,
            context=self.tls,
            timeout=10,
            source_address=(self.source, 0),
        )
        headers = {"Origin": self.stack.https_url, **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={morsel.value}" for name, morsel in self.cookies.items())
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, urlencode(form) if form is not None else None, headers)
            response = conn.getresponse()
            body = response.read().decode()
        finally:
            conn.close()
        for raw in response.headers.get_all("Set-Cookie") or []:
            self.cookies.load(raw)
        return response, body

    def join_form(self, pin: str, headers: dict | None = None) -> int:
        """The status of posting the join form with this PIN (after fetching it for its CSRF token)."""
        _, page = self.request("GET", "/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
        form = {"csrfmiddlewaretoken": token, "code": pin, "nickname": "Guesser"}
        return self.request("POST", "/", form, headers)[0].status


def test_https_only_hsts_secure_cookies_and_long_lived_static_files(stack):
    plain = http.client.HTTPConnection("127.0.0.1", stack.nginx.http_port, timeout=10)
    plain.request("GET", "/join/123456/?from=qr")
    redirect = plain.getresponse()
    assert redirect.status == 301
    assert redirect.headers["Location"] == f"{stack.https_url}/join/123456/?from=qr"
    plain.close()

    response, page = Client(stack).request("GET", "/")
    assert response.status == 200, page[:500]
    assert response.headers["Strict-Transport-Security"] == HSTS
    cookies = response.headers.get_all("Set-Cookie")
    assert cookies and all("; Secure" in cookie for cookie in cookies), cookies

    hashed = re.findall(r'"(/static/[^"]+\.[0-9a-f]{12}\.\w+)"', page)  # collectstatic's manifest names
    assert hashed, page[:1000]
    for path in hashed:
        file, _ = Client(stack).request("GET", path)
        assert file.status == 200 and file.headers["Cache-Control"] == IMMUTABLE, (path, file.headers)


async def test_a_foreign_origin_is_refused_through_the_proxy(stack):
    for path in ("/ws", "/ws/page/play/123456/"):
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(stack.wss_url.removesuffix("/ws") + path, origin="https://evil.example")
        assert refused.value.response.status_code == 403, path
    async with websockets.connect(stack.wss_url, origin=stack.https_url, open_timeout=5) as own:
        assert json.loads(await own.recv())["type"] == "welcome"


async def join_over_wss(stack, pin: str, source: str, forged: str | None = None) -> dict:
    """session.join from `source` (optionally claiming X-Forwarded-For: forged); the reply or error."""
    headers = {"X-Forwarded-For": forged} if forged else {}
    async with (
        asyncio.timeout(10),
        websockets.connect(stack.wss_url, local_addr=(source, 0), additional_headers=headers) as ws,
    ):
        await ws.send(json.dumps({"type": "session.join", "session_id": pin, "name": "Guesser"}))
        while (reply := json.loads(await ws.recv()))["type"] not in ("error", "session.joined"):
            pass
        return reply


async def test_the_pin_throttle_counts_per_real_client_whatever_it_claims(stack):
    """nginx overwrites X-Forwarded-For with the peer it saw, so the app keys the throttle on that peer:
    a guesser who forges a new address per try is still one guesser, and a classmate on another address
    (all of them reach the workers from nginx's 127.0.0.1) is not slowed."""
    guesser, classmate = "127.0.0.2", "127.0.0.3"
    for n in range(WRONG_PINS):
        reply = await join_over_wss(stack, f"{n:06d}", guesser, forged=f"203.0.113.{n}")
        assert reply.get("code") == "not_found", reply
    reply = await join_over_wss(stack, "000099", guesser, forged="198.51.100.7")
    assert reply.get("code") == "rate_limited", reply
    forged = {"X-Forwarded-For": "198.51.100.8"}
    assert await asyncio.to_thread(Client(stack, guesser).join_form, "000098", forged) == 429

    assert (await join_over_wss(stack, "000099", classmate)).get("code") == "not_found"
    assert await asyncio.to_thread(Client(stack, classmate).join_form, "000098") == 400


@pytest.fixture(scope="module")
def server(stack):
    """tests/conftest.py's `browser` wants one; the proxy's address stands for the live server."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (CI installs Debian's chromium)")
    return Server(url=stack.https_url, worker=stack.workers[0])


@pytest.fixture
def browser_quiz(transactional_db):
    """The host and quiz tests/live_server.py's browser steps expect; made before Playwright's loop runs."""
    from quizzes_app.hosts import host_ensure
    from quizzes_app.io import quiz_from_dict

    quiz_from_dict(QUIZ, owner=host_ensure(username=HOST_USERNAME, password=HOST_PASSWORD))


@pytest.mark.browser
def test_a_game_in_chromium_over_https_and_wss(stack, server, browser_quiz, browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=10_000)
    sockets: list[str] = []

    def page_of(context):
        page = context.new_page()
        page.on("websocket", lambda ws: sockets.append(ws.url))
        return page

    try:
        contexts = [browser.new_context(ignore_https_errors=True) for _ in range(3)]  # self-signed
        host, ada, bob = (page_of(context) for context in contexts)
        host_login(host, server)
        code = host_start_session(host, server)
        for page, name in ((ada, "Ada"), (bob, "Bob")):
            student_join(page, server, code, name)
            expect(page.locator("#stage")).to_contain_text("You're in!")
        expect(host.locator("#lobby")).to_contain_text("2 players")

        host.get_by_role("button", name="Start quiz").click()
        right = QUIZ["questions"][0]["correct_idx"]
        ada.locator(f"button.answer.opt{right}").click()
        bob.locator(f"button.answer.opt{(right + 1) % 4}").click()
        expect(host.locator("#histogram")).to_contain_text("2 of 2 answered")
        host.get_by_role("button", name="End question").click()
        expect(ada.locator("#stage")).to_contain_text("Correct!")
        expect(bob.locator("#stage")).to_contain_text("Not this time")
    except BaseException:
        print(stack.logs())
        raise

    cookies = {cookie["name"]: cookie for context in contexts for cookie in context.cookies()}
    assert {"sessionid", "csrftoken", f"knewit_rejoin_{code}"} <= set(cookies), cookies
    assert all(cookie["secure"] for cookie in cookies.values()), cookies
    page_sockets = f"wss://127.0.0.1:{stack.nginx.https_port}/ws/page/"
    assert len(sockets) >= 3 and all(url.startswith(page_sockets) for url in sockets), sockets


CORRECT = [1, 0, 2]
STUDENTS = 8
FAST = STUDENTS // 2  # students i % 4 in (0, 1) answer at once; the others 1.5 s after each question


async def test_a_worker_killed_mid_question_loses_no_answer(stack):
    """Last in this module: it leaves one worker. nginx spreads the sockets over both (round robin); the
    victim's students reconnect to the same wss:// address and nginx sends them to the survivor."""
    token, quiz_id = await make_world("tls_kill", CORRECT, time_limit=30)
    host = HostClient(token)  # the protocol over wss:// with a host token
    survivor, victim = stack.workers
    bots: list[Bot] = []
    tasks: list[asyncio.Task] = []
    try:
        async with asyncio.timeout(60):
            code = await host.create_session(stack.wss_url, quiz_id)
            bots = [
                Bot([stack.wss_url], code, f"s{i}", choose=chooser(CORRECT, right=i % 3 != 0),
                    answer_delay=(0.1 if i % 4 < 2 else 1.5) + 0.05 * i)
                for i in range(STUDENTS)
            ]  # fmt: skip
            tasks = start_bots(bots)
            await host.start_quiz(STUDENTS)
            await host.run_question(1, STUDENTS)
            assert not any(bot.reconnects for bot in bots)

            await host.send(type="question.next")
            await host.until("histogram", lambda m: m["question_num"] == 2 and m["answered"] >= FAST)
            victim.kill()  # SIGKILL, with question 2 open and half of its answers still to come
            await host.resume(stack.wss_url, code)  # wherever the host was, it is on the survivor now
            await wait_until(lambda: all(2 in bot.acknowledged for bot in bots), timeout=15)
            await host.send(type="question.end")
            assert sum((await host.expect("question.results", question_num=2))["bins"]) == STUDENTS

            await host.send(type="question.next")
            await host.run_question(3, STUDENTS)
            await host.send(type="question.next")
            finished = await host.expect("quiz.finished")
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=20)
    except BaseException:
        print(bot_summary(bots), stack.logs(), sep="\n")
        raise
    finally:
        await stop_bots(tasks)
        await host.close()

    assert survivor.alive(), survivor.output()[-3000:]
    moved = [bot for bot in bots if bot.reconnects]
    assert moved, "no student was on the killed worker"
    assert all(bot.resumed_after and max(bot.resumed_after) < 10 for bot in moved), bot_summary(moved)
    for bot in bots:
        assert bot.final == finished["leaderboard"], bot.name
    await check_database(code, bots, finished["leaderboard"], len(CORRECT))
