"""No leaks (issue #7, item 6): nothing a student receives before a reveal tells the right answer, and
rejoin tokens reach nobody but the socket that joined with them.

One whole quiz (three questions, live results shown to students) with a host, three students on the JSON
protocol and three on the browser page (joined through the join form, with the rejoin cookie, on
/ws/page/play/<code>/). Mid-question, students answer (right and wrong), one JSON student reconnects and
resumes, one page student reloads /play/<code>/ and reconnects its page socket. Every frame on every
socket is recorded with the phase it arrived in; each question's reveal is triggered only after every
socket has gone quiet, so everything read before it was sent before it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import AsyncClient

from knewit.asgi import application
from quizzes_app.models import Choice, Question, Quiz
from sessions_app.models import Player, ProcessedMessage
from sessions_app.tests.wsclient import HOST_HEADER, ORIGIN

pytestmark = pytest.mark.django_db(transaction=True)

# Option texts that are not English words, so no text of the quiz can look like a marker.
QUESTIONS = [
    ("Pick zq?", ["Vok", "Zib", "Mup", "Tal"], 2),
    ("Pick xr?", ["Ryl", "Qon"], 0),
    ("Pick wy?", ["Fep", "Gux", "Hib"], 1),
]
JSON_STUDENTS = ["Ada", "Bo", "Cy"]
PAGE_STUDENTS = ["Dee", "Eve", "Fay"]
CORRECTNESS_KEYS = {"correct_idx", "correct", "is_correct", "correct_count_delta"}
HTML_MARKERS = ("correct", "✓", "verdict", 'class="tick"', "right answer")  # "correct" covers is-correct


class Sock:
    """One socket of one person, with every frame it received and the phase it arrived in."""

    def __init__(self, comm, owner: str, kind: str):
        self.comm, self.owner, self.kind = comm, owner, kind
        self.frames: list[tuple[str, str]] = []
        self.closed: int | None = None

    async def drain(self, phase: str, quiet: float) -> bool:
        got = False
        while self.closed is None and not await self.comm.receive_nothing(timeout=quiet):
            out = await self.comm.receive_output()
            if out["type"] == "websocket.close":
                self.closed = out.get("code")
            else:
                self.frames.append((phase, out["text"]))
                got = True
        return got

    def json_frames(self, phase: str | None = None) -> list[dict]:
        return [json.loads(t) for p, t in self.frames if phase is None or p == phase]

    async def send(self, **message) -> None:
        await self.comm.send_to(text_data=json.dumps(message))

    async def reply(self, phase: str) -> dict:
        """The next frame, recorded like any other."""
        out = await self.comm.receive_output(timeout=3)
        assert out["type"] == "websocket.send", out
        self.frames.append((phase, out["text"]))
        return json.loads(out["text"])


class World:
    def __init__(self):
        self.socks: list[Sock] = []
        self.phase = "lobby"
        self.tokens: dict[
            str, tuple[str, Sock | None]
        ] = {}  # token -> (owner, the socket that joined with it)
        self.pages: list[tuple[str, str, str]] = []  # (phase, owner, html) of HTTP pages students saw
        self.urls: list[str] = []

    async def open(
        self, owner: str, kind: str = "json", path: str = "/ws", query: str = "", cookie: str = ""
    ) -> Sock:
        headers = [ORIGIN, HOST_HEADER] + ([(b"cookie", cookie.encode())] if cookie else [])
        comm = WebsocketCommunicator(application, f"{path}?{query}" if query else path, headers=headers)
        connected, _ = await comm.connect()
        assert connected
        sock = Sock(comm, owner, kind)
        self.socks.append(sock)
        if kind == "json":
            assert (await sock.reply(self.phase))["type"] == "welcome"
        return sock

    async def settle(self, quiet: float = 0.15) -> None:
        """Read every socket until all of them are quiet at once."""
        while any(await asyncio.gather(*(s.drain(self.phase, quiet) for s in self.socks))):
            pass

    async def close_all(self) -> None:
        for sock in self.socks:
            if sock.closed is None:
                try:
                    await sock.comm.disconnect()
                except Exception:  # noqa: S110 - the server closed it first
                    pass


def keys_in(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_in(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_in(v)}
    return set()


def answer_buttons_look_alike(html: str) -> bool:
    """The answer buttons differ only in their index, colour class, shape and glyph: none is marked."""
    buttons = re.findall(r"<button\b[^>]*name=\"answer_idx\"[^>]*>.*?</button>", html, flags=re.S)
    shapes = r"(triangle|diamond|circle|square|star|hexagon)"
    option_text = r"<span class=\"option-text\"[^>]*>.*?</span>"
    normal = {
        re.sub(rf"opt\d+|shape-{shapes}|value=\"\d+\"|{option_text}|[▲◆●■★⬢]", "", b, flags=re.S)
        for b in buttons
    }  # fmt: skip
    return len(normal) <= 1


def assert_no_correctness(text: str, kind: str, where: str) -> None:
    if kind == "json":
        payload = json.loads(text)
        assert payload.get("type") not in ("question.results", "answer.result", "quiz.finished"), (
            where,
            payload,
        )
        leaked = keys_in(payload) & CORRECTNESS_KEYS
        assert not leaked, f"{where}: {leaked} in {payload}"
        if payload.get("type") == "answer.recorded":
            assert set(payload) == {"type", "question_num", "round", "answer_idx", "duplicate"}, payload
        # Past questions' `correct_count`s may show in a leaderboard; markers of the open question may not.
        assert "✓" not in text and "is-correct" not in text, f"{where}: {text[:500]}"
        return
    low = text.lower()
    for marker in HTML_MARKERS:
        assert marker not in low, f"{where}: {marker!r} in {text[:500]}"
    assert answer_buttons_look_alike(text), f"{where}: one answer button is marked: {text[:800]}"


async def make_quiz(host) -> Quiz:
    def make():
        quiz = Quiz.objects.create(title="Leaks", owner=host, default_time_limit=240)
        for order, (prompt, options, correct_idx) in enumerate(QUESTIONS):
            question = Question.objects.create(quiz=quiz, order=order, prompt=prompt)
            Choice.objects.bulk_create(
                Choice(question=question, order=i, text=t, is_correct=i == correct_idx)
                for i, t in enumerate(options)
            )
        return quiz

    return await database_sync_to_async(make)()


async def test_no_correctness_before_reveals_and_no_token_outside_its_socket(
    connect, host, host_token, settings, caplog
):
    caplog.set_level(logging.DEBUG)
    settings.KNEWIT = {
        **settings.KNEWIT, "RATE_PER_S": 10**6, "RATE_BURST": 10**6, "PUSH_INTERVAL_S": 0.02,
        "PLAYERS_LOBBY_INTERVAL_S": 0.02, "JOIN_WRONG_PINS": 10**6,
    }  # fmt: skip
    await connect()  # only so that the fixture stops this loop's scheduler at the end
    world = World()
    try:
        await run_quiz(world, host, host_token)
    finally:
        await world.close_all()
    await database_sync_to_async(check_everything)(world, caplog)


async def run_quiz(world: World, host, host_token) -> None:
    quiz = await make_quiz(host)
    host_ws = await world.open("host", query=f"is_host=true&token={host_token}")
    await host_ws.send(type="session.create", quiz_id=quiz.pk, settings={"show_live_results": True})
    created = await host_ws.reply("lobby")
    code = created["session_id"]
    world.urls.append(created["join_url"])

    # Students join: three over the protocol (one retries its join with the same msg_id on a new socket) ...
    json_socks: dict[str, Sock] = {}
    for name in JSON_STUDENTS:
        sock = await world.open(name)
        msg = {
            "type": "session.join",
            "session_id": code,
            "name": name,
            **({"msg_id": "join-1"} if name == "Cy" else {}),
        }
        await sock.send(**msg)
        joined = await sock.reply("lobby")
        assert joined["type"] == "session.joined", joined
        world.tokens[joined["rejoin_token"]] = (name, sock)
        json_socks[name] = sock
    retry = await world.open("Cy")
    await retry.send(type="session.join", session_id=code, name="Cy", msg_id="join-1")
    again = await retry.reply("lobby")
    assert again["type"] == "session.joined" and again["duplicate"] is True
    assert again["rejoin_token"] is None  # a repeated join hands over no identity
    await retry.comm.disconnect()
    retry.closed = 1000

    # ... and three through the join form, then their page sockets with the rejoin cookie.
    page_http: dict[str, AsyncClient] = {}
    page_socks: dict[str, Sock] = {}
    cookie_name = f"knewit_rejoin_{code}"
    for name in PAGE_STUDENTS:
        http = AsyncClient()
        response = await http.post(f"/join/{code}/", {"code": code, "nickname": name})
        assert response.status_code == 302, response.content[:500]
        world.urls.append(response["Location"])
        world.pages.append(("lobby", name, response.content.decode()))
        token = http.cookies[cookie_name].value
        world.tokens[token] = (name, None)  # a page's token lives in its HttpOnly cookie only
        page_http[name] = http
        page_socks[name] = await world.open(
            name, "html", f"/ws/page/play/{code}/", cookie=f"{cookie_name}={token}"
        )
    await world.settle()

    async def page_view(name: str) -> None:
        response = await page_http[name].get(f"/play/{code}/")
        assert response.status_code == 200
        world.pages.append((world.phase, name, response.content.decode()))

    for number, (_, options, correct_idx) in enumerate(QUESTIONS, start=1):
        wrong = (correct_idx + 1) % len(options)
        world.phase = f"q{number}-open"
        await host_ws.send(type="quiz.start" if number == 1 else "question.next")
        await world.settle()
        for name in PAGE_STUDENTS:
            await page_view(name)  # before answering
        # Right and wrong answers over both transports; Cy and Fay leave this one unanswered.
        for name, idx in (("Ada", correct_idx), ("Bo", wrong)):
            await json_socks[name].send(type="answer.submit", answer_idx=idx, msg_id=f"{name}-{number}")
        for name, idx in (("Dee", correct_idx), ("Eve", wrong)):
            await page_socks[name].send(
                type="answer.submit", answer_idx=str(idx), HEADERS={"HX-Trigger": f"opt{idx}"}
            )
        await world.settle()
        # Ada's socket drops; she comes back and resumes mid-question; Bo retries his answer.
        await json_socks["Ada"].comm.disconnect()
        json_socks["Ada"].closed = 1000
        ada_token = next(t for t, (owner, s) in world.tokens.items() if owner == "Ada")
        json_socks["Ada"] = await world.open("Ada")
        await json_socks["Ada"].send(type="session.resume", session_id=code, rejoin_token=ada_token)
        await json_socks["Bo"].send(type="answer.submit", answer_idx=wrong, msg_id=f"Bo-{number}")
        # Dee reloads her page and her page socket reconnects.
        await page_view("Dee")
        await page_socks["Dee"].comm.disconnect()
        page_socks["Dee"].closed = 1000
        dee_token = page_http["Dee"].cookies[cookie_name].value
        page_socks["Dee"] = await world.open(
            "Dee", "html", f"/ws/page/play/{code}/", cookie=f"{cookie_name}={dee_token}"
        )
        await world.settle()
        for name in PAGE_STUDENTS:
            await page_view(name)  # after answering (or not)

        world.phase = f"q{number}-revealed"
        await host_ws.send(type="question.end")
        await world.settle()

    # A join refused by the form is logged by django.request: proof that the log capture sees the run.
    refused = await page_http["Dee"].post(f"/join/{code}/", {"code": code, "nickname": "Dee"})
    assert refused.status_code == 400

    world.phase = "finished"
    await host_ws.send(type="question.next")
    await world.settle()
    await host_ws.send(type="session.close")
    await world.settle()


def check_everything(world: World, caplog) -> None:
    students = set(JSON_STUDENTS) | set(PAGE_STUDENTS)
    mid = {f"q{n}-open" for n in range(1, len(QUESTIONS) + 1)}
    checked = 0
    for sock in world.socks:
        if sock.owner not in students:
            continue
        for phase, text in sock.frames:
            if phase in mid or phase == "lobby":
                assert_no_correctness(text, sock.kind, f"{sock.owner} ({sock.kind}) in {phase}")
                checked += 1
    assert checked > 40, checked
    for phase, owner, html in world.pages:
        if phase in mid or phase == "lobby":
            assert_no_correctness(html, "html", f"/play/ page of {owner} in {phase}")
    assert len([p for p in world.pages if p[0] in mid]) == 3 * 7

    # Positive controls: the same detectors do see the reveals, so silence before them means something.
    revealed = [t for s in world.socks if s.owner in students for p, t in s.frames if p.endswith("revealed")]
    assert any('"correct_idx"' in t for t in revealed) and any("✓" in t for t in revealed)

    # Rejoin tokens: only in the joining socket's session.joined; not in pages, URLs, logs or stored replies.
    for sock in world.socks:
        for _, text in sock.frames:
            for token, (owner, joined_on) in world.tokens.items():
                if token in text:
                    assert sock is joined_on, (
                        f"{owner}'s token reached {sock.owner}'s {sock.kind} socket: {text[:300]}"
                    )
                    assert json.loads(text)["type"] == "session.joined", text[:300]
    for _, owner, html in world.pages:
        assert not any(token in html for token in world.tokens), f"a rejoin token in a page shown to {owner}"
    for url in world.urls:
        assert not any(token in url for token in world.tokens), url
    formatter = logging.Formatter("%(message)s %(args)s")
    logged = "\n".join(formatter.format(r) + str(r.__dict__) for r in caplog.records)
    assert any(r.name == "django.request" for r in caplog.records), "the log capture is not working"
    assert not any(token in logged for token in world.tokens), "a rejoin token was logged"
    stored = json.dumps(list(ProcessedMessage.objects.values_list("reply", flat=True)))
    stored += json.dumps(list(Player.objects.values_list("rejoin_token_hash", "public_id", "name")))
    assert not any(token in stored for token in world.tokens), "a rejoin token is stored in clear"


def test_the_detectors_see_a_leak():
    """Positive controls for assert_no_correctness, so that its silence means something."""
    buttons = (
        '<button class="answer opt0 shape-triangle" name="answer_idx" value="0">a</button>'
        '<button class="answer opt1 shape-diamond is-right" name="answer_idx" value="1">b</button>'
    )
    leaks = [
        ('{"type":"question.next","options":["a","b"],"correct_idx":1}', "json"),
        ('{"type":"answer.recorded","question_num":1,"answer_idx":0,"duplicate":false,"correct":1}', "json"),
        ('{"type":"session.snapshot","question":{"options":["a"],"choices":[{"is_correct":true}]}}', "json"),
        (f'<section id="stage">{buttons}</section>', "html"),
        ('<li class="option opt1 is-correct">b</li>', "html"),
        ('<p>b <span aria-hidden="true">✓</span></p>', "html"),
    ]
    for text, kind in leaks:
        with pytest.raises(AssertionError):
            assert_no_correctness(text, kind, "control")
    fine = (
        '<button class="answer opt0 shape-triangle" name="answer_idx" value="0"><span class="glyph">▲</span>'
        '<span class="option-text" hx-disable>a</span></button><button class="answer opt1 shape-diamond" '
        'name="answer_idx" value="1"><span class="glyph">◆</span>'
        '<span class="option-text" hx-disable>bb</span></button>'
    )
    assert_no_correctness(fine, "html", "control")


async def wait_for(client, msg_type: str, seconds: float) -> dict | None:
    """The next frame of this type within `seconds`, or None (a timed-out receive would end the app)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if not await client.comm.receive_nothing(timeout=0.05):
            message = await client.recv()
            if message["type"] == msg_type:
                return message
    return None


async def test_joining_from_the_form_refreshes_the_host_lobby(connect, host, host_token, caplog):
    host_ws = await connect(f"is_host=true&token={host_token}")
    code = (await host_ws.call("session.created", type="session.create"))["session_id"]
    student = await connect()
    await student.call("session.joined", type="session.join", session_id=code, name="Proto")
    await host_ws.expect("lobby.update", timeout=2)  # pushed at once: the next push waits for the interval
    response = await AsyncClient().post(f"/join/{code}/", {"code": code, "nickname": "Formy"})  # within it
    assert response.status_code == 302
    lobby = await wait_for(host_ws, "lobby.update", seconds=3)
    assert lobby is not None and [p["name"] for p in lobby["players"]] == ["Proto", "Formy"]
    count = await wait_for(student, "lobby.update", seconds=3)
    if count is not None and count["count"] == 1:  # the push for Proto's own join may land first
        count = await wait_for(student, "lobby.update", seconds=3)
    assert count is not None and count["count"] == 2
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [
        r.getMessage() for r in caplog.records
    ]
