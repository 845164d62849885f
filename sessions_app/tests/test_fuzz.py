"""Fuzzing the live socket (issue #7, item 4): hostile frames get one structured error and change nothing.

Everything runs end to end through knewit.asgi.application, wrapped so that, like Daphne, a text frame
that cannot be encoded as UTF-8 fails the send. Each role keeps one socket for the whole run, and each
hypothesis example is a batch of frames sent back to back, so a role sees at least 10,000 frames
(counted and asserted) in a few seconds:

- `student`: joined in a session whose first question is open (and already answered, so a valid
  in-range `answer.submit` is refused with `already_answered` and changes nothing);
- `host`: owner of a session in the lobby, with no quiz and no players;
- `unjoined`: a socket that has joined nothing;
- `page student` (smaller, 1,500 frames): a student's browser page socket (/ws/page/play/<code>/).

The frames are random text, binary frames, arbitrary JSON values, objects with a real or unknown `type`
and random fields, real types with one field made wrong (wrong types, huge and negative numbers,
floats, NaN, nested objects, empty and ~3,000-character strings, missing fields), real types with
fields of the right types (so the rules refuse them: `forbidden`, `already_answered`, `not_found`,
`wrong_state`; each role must reach its codes), and frames over the 4 KiB limit. An oracle written
from docs/PROTOCOL.md alone (not from protocol.py) says which error codes each frame may get; frames
it finds valid and effective for the role (a `ping`, a host's `quiz.stop`, ...) are not sent. For
every frame sent: no close and no exception (no 1011), exactly one `error` frame (checked with a
`ping` sentinel after each batch) whose `code` is from docs/PROTOCOL.md's list and allowed by the oracle
and whose `ref` names the frame's `type` and `msg_id`; no ERROR log record (the consumer's catch-all
turns a crash into `internal`, which no frame's oracle allows); and after each batch the database
(sessions, players, answers, processed messages, quizzes) equals the snapshot taken before the run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import operator
import re

import hypothesis
import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.test import AsyncClient
from hypothesis import HealthCheck
from hypothesis import strategies as st

from knewit.asgi import application
from sessions_app import engine
from sessions_app.auth import host_token_create
from sessions_app.live import loops
from sessions_app.tests.test_authz import db_snapshot
from sessions_app.tests.wsclient import HOST_HEADER, ORIGIN, Client

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]  # hypothesis: minutes, not seconds

MESSAGES_PER_ROLE = 10_000
PAGE_MESSAGES = 1_500
BATCH = 25

ERROR_CODES = {
    "bad_json", "unknown_type", "invalid", "unauthorized", "forbidden", "not_found", "wrong_state",
    "name_taken", "locked", "kicked", "full", "already_answered", "too_late", "rate_limited", "too_large",
    "internal",  # documented, but a fault of the server: no frame's oracle allows it
}  # fmt: skip

# docs/PROTOCOL.md's client messages: field -> (kind, required).
SPEC_FIELDS: dict[str, dict[str, tuple[str, bool]]] = {
    "session.create": {"quiz_id": ("int", False), "settings": ("obj", False)},
    "quiz.list": {},
    "quiz.save": {"quiz": ("quiz", True)},
    "quiz.load": {"quiz_id": ("int", False), "quiz": ("quiz", False)},
    "session.join": {"session_id": ("code", True), "name": ("str", True), "password": ("str", False)},
    "session.resume": {"session_id": ("code", True), "rejoin_token": ("str", False)},
    "quiz.start": {},
    "question.next": {},
    "question.end": {},
    "quiz.stop": {},
    "answer.submit": {"answer_idx": ("int", True)},
    "player.kick": {"player_id": ("str", True)},
    "session.lock": {},
    "session.unlock": {},
    "session.close": {},
    "pong": {"ts": ("num", False)},
    "ping": {"ts": ("num", False)},
}
HOST_TYPES = {
    "session.create", "quiz.list", "quiz.save", "quiz.load", "quiz.start", "question.next", "question.end",
    "quiz.stop", "player.kick", "session.lock", "session.unlock", "session.close",
}  # fmt: skip
UNUSED_CODES = ["000000", "999999", "123456", "654321", "111111"]  # checked against the database at setup
MAX_FRAME = 4096
SHALLOW = {"bad_json", "unknown_type", "invalid", "too_large"}  # refused before any rule is consulted
OK, BAD, DOUBT = "ok", "bad", "doubt"  # a field value: fine, against the spec, or left open by the spec


# --- the oracle: what docs/PROTOCOL.md allows as the answer to a frame -------------------------------


def field_status(kind: str, value) -> str:
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            return BAD
        return OK if abs(value) < 2**31 else DOUBT
    if kind == "num":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return BAD
        return OK if math.isfinite(value) and abs(value) < 1e15 else DOUBT
    if kind == "str":
        if not isinstance(value, str):
            return BAD
        # docs/PROTOCOL.md is silent on NUL characters; the server refuses them (PostgreSQL cannot).
        return OK if len(value) <= 64 and "\x00" not in value else DOUBT
    if kind == "code":
        if not isinstance(value, str):
            return BAD
        return OK if re.fullmatch(r"[0-9]{6}", value) else DOUBT  # `invalid` or `not_found` both fit
    if kind in ("obj", "quiz"):
        return OK if isinstance(value, dict) else BAD
    raise AssertionError(kind)


def msg_id_status(value) -> str:
    if value is None:
        return OK
    if not isinstance(value, str) or len(value) > 64:
        return BAD
    return OK if value and "\x00" not in value else DOUBT


def quiz_status(quiz) -> str:
    """A quiz object against docs/PROTOCOL.md: BAD when clearly wrong, DOUBT when the spec leaves it open."""
    if not isinstance(quiz, dict):
        return BAD
    title, questions = quiz.get("title"), quiz.get("questions")
    if not isinstance(title, str) or not isinstance(questions, list):
        return BAD
    verdict = OK if title.strip() and questions else DOUBT
    if quiz.get("default_timer") is not None and field_status("int", quiz["default_timer"]) == BAD:
        return BAD
    for q in questions:
        if not isinstance(q, dict) or not isinstance(q.get("prompt"), str):
            return BAD
        options, correct = q.get("options"), q.get("correct_idx")
        if (
            not isinstance(options, list)
            or not 2 <= len(options) <= 6
            or not all(isinstance(o, str) for o in options)
        ):
            return BAD
        if isinstance(correct, bool) or not isinstance(correct, int) or not 0 <= correct < len(options):
            return BAD
        for opt_field in ("time_limit", "points"):
            if q.get(opt_field) is not None and field_status("int", q[opt_field]) == BAD:
                return BAD
        verdict = DOUBT  # time limits, points and blank strings have limits docs/PROTOCOL.md does not state
    return verdict


class Context:
    """What the oracle knows of the world: the role, the open question's size, the live session codes."""

    def __init__(
        self, role: str, n_options: int = 0, real_codes: frozenset = frozenset(), form: bool = False
    ):
        self.role, self.n_options, self.real_codes, self.form = role, n_options, real_codes, form


def form_values(data: dict) -> dict:
    """A page's htmx form sends integers as strings; the page socket reads them as numbers."""
    fields = SPEC_FIELDS.get(data.get("type")) if isinstance(data.get("type"), str) else None
    for name, (kind, _) in (fields or {}).items():
        value = data.get(name)
        if kind == "int" and isinstance(value, str) and re.fullmatch(r"-?\d{1,10}", value):
            data = {**data, name: int(value)}
    return data


def expected_codes(frame: str | bytes, ctx: Context) -> set[str] | None:
    """The error codes docs/PROTOCOL.md allows for this frame from this role; None: not an error (skip it)."""
    if isinstance(frame, bytes):
        return {"bad_json", "invalid"}
    if len(frame.encode()) > MAX_FRAME:
        return {"too_large"}
    try:
        data = json.loads(frame)
    except (ValueError, RecursionError):
        return {"bad_json"}
    if not isinstance(data, dict):
        return {"bad_json", "invalid"}
    if ctx.form:
        data = form_values(data)
    msg_type = data.get("type")
    if not isinstance(msg_type, str):
        return {"invalid", "bad_json"}
    mid = msg_id_status(data.get("msg_id"))
    if msg_type not in SPEC_FIELDS:
        return {"unknown_type"} | ({"invalid"} if mid != OK else set())
    statuses = [mid]
    for name, (kind, required) in SPEC_FIELDS[msg_type].items():
        value = data.get(name)
        if value is None:
            statuses.append(BAD if required else OK)
        else:
            statuses.append(field_status(kind, value))
    kind, codes = role_outcome(msg_type, data, ctx)
    if BAD in statuses:
        return {"invalid"} | (codes if kind == "auth" else set())
    if DOUBT in statuses:
        return None if codes is None else codes | {"invalid"}
    return codes


def role_outcome(msg_type: str, data: dict, ctx: Context) -> tuple[str, set[str] | None]:
    """("auth" | "engine", codes) for a message whose fields are right; codes None: it would be applied."""
    role = ctx.role
    if msg_type in HOST_TYPES:
        if role != "host":
            return "auth", {"forbidden"} | ({"unauthorized"} if role == "unjoined" else set())
        return "engine", host_engine_outcome(msg_type, data)
    if msg_type == "answer.submit":
        if role != "student":
            return "auth", {"forbidden", "wrong_state"}
        idx = data.get("answer_idx")
        in_range = isinstance(idx, int) and not isinstance(idx, bool) and 0 <= idx < ctx.n_options
        return "engine", {"already_answered"} if in_range else {"invalid"}
    if msg_type in ("session.join", "session.resume"):
        session_id = data.get("session_id")
        if isinstance(session_id, str) and session_id.strip() in ctx.real_codes:
            return "engine", None
        return "engine", {"invalid", "not_found"}
    return "engine", None  # ping and pong are answered (or not) without an error


def host_engine_outcome(msg_type: str, data: dict) -> set[str] | None:
    """The host's own session is in the lobby with no quiz and no players, and the host owns no quiz."""
    if msg_type in ("quiz.start", "question.next", "question.end"):
        return {"wrong_state"}
    if msg_type == "player.kick":
        return {"not_found"}
    if msg_type == "session.create":
        return {"invalid", "not_found"} if data.get("quiz_id") is not None else None
    if msg_type == "quiz.save":
        return {"invalid"} if quiz_status(data.get("quiz")) == BAD else None
    if msg_type == "quiz.load":
        if data.get("quiz_id") is not None:
            return {"invalid", "not_found"}
        if data.get("quiz") is not None:
            return {"invalid"} if quiz_status(data["quiz"]) == BAD else None
        return {"invalid"}
    return None  # quiz.list, quiz.stop, lock, unlock, close: valid, and they act


def check_ref(frame: str | bytes, code: str, ref) -> None:
    """`ref` is an object naming the offending message's type and msg_id when it had them."""
    assert isinstance(ref, dict), ref
    if isinstance(frame, bytes) or code in ("bad_json", "too_large"):
        return
    data = json.loads(frame)
    msg_type, msg_id = data.get("type"), data.get("msg_id")
    if "type" in ref:
        assert ref["type"] == msg_type, (ref, msg_type)
    elif isinstance(msg_type, str) and 0 < len(msg_type) <= 64:
        raise AssertionError(f"ref {ref!r} lacks the type {msg_type!r}")
    if "msg_id" in ref:
        assert ref["msg_id"] == msg_id, (ref, msg_id)
    elif isinstance(msg_id, str) and 0 < len(msg_id) <= 64:
        raise AssertionError(f"ref {ref!r} lacks the msg_id {msg_id!r}")


# --- strategies -------------------------------------------------------------------------------

SAFE = st.characters(exclude_categories=("Cs",))  # a text frame is UTF-8; lone surrogates: see the xfail test
short_text = st.text(SAFE, max_size=24)
long_text = st.builds(
    operator.mul,
    st.sampled_from(["x", " ", "é", "😀", "\x00", "<b>", '"', "\\", "\u202e", "0", "\u200b", "{{x}}"]),
    st.integers(65, 3000),
)
tricky_text = st.sampled_from([
    "", " ", "\t\n", "null", "true", "0", "-1", "000000", "999999", "12345", "1234567", "123456\n", "١٢٣٤٥٦",
    "<script>alert(1)</script>", "{{ x }}", "' OR 1=1 --", "%s%n", "\u200b", "NaN", "Infinity", "__proto__",
    "on_ping", "session.push", "websocket.close",
])  # fmt: skip
any_text = st.one_of(short_text, tricky_text, long_text)
big_ints = st.sampled_from(
    [2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**53 + 1, 2**63, 2**64, 2**70, -(2**70), 10**100, -(10**100)]
)
any_ints = st.one_of(st.integers(-3, 8), st.integers(), big_ints)
any_floats = st.one_of(
    st.floats(),
    st.sampled_from([0.5, -0.0, 1.0, 2.0, 1e308, 5e-324, float("nan"), float("inf"), float("-inf")]),
)
scalars = st.one_of(st.none(), st.booleans(), any_ints, any_floats, any_text)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(short_text, inner, max_size=4)),
    max_leaves=5,
)
containers = st.one_of(st.lists(scalars, max_size=3), st.dictionaries(short_text, scalars, max_size=3))

question_objs = st.fixed_dictionaries(
    {
        "prompt": st.one_of(any_text, scalars),
        "options": st.one_of(st.lists(any_text, max_size=7), json_values),
        "correct_idx": st.one_of(any_ints, scalars),
    },
    optional={
        "time_limit": st.one_of(any_ints, scalars),
        "points": st.one_of(any_ints, scalars),
        "id": scalars,
    },
)
quiz_objs = st.fixed_dictionaries(
    {
        "title": st.one_of(any_text, scalars),
        "questions": st.one_of(st.lists(question_objs, max_size=3), json_values),
    },
    optional={"default_timer": st.one_of(any_ints, scalars), "quiz_id": scalars},
)

VALID = {
    "quiz_id": st.integers(1, 10**6),
    "settings": st.dictionaries(
        st.sampled_from(["show_live_results", "auto_advance", "max_players", "password", "bogus"]),
        json_values,
        max_size=3,
    ),
    "quiz": quiz_objs,
    "session_id": st.sampled_from(UNUSED_CODES),
    "name": st.one_of(short_text, tricky_text),
    "password": short_text,
    "rejoin_token": st.one_of(short_text, st.just("")),
    "answer_idx": st.integers(-2, 6),
    "player_id": short_text,
    "ts": st.one_of(st.integers(0, 10**12), st.floats(0, 1e12)),
    "msg_id": st.text(SAFE, min_size=1, max_size=64),
}
WRONG = {
    "int": st.one_of(st.booleans(), any_floats, any_text, containers, big_ints),
    "num": st.one_of(
        st.booleans(), any_text, containers, st.sampled_from([float("nan"), float("inf"), 1e300, 2**70])
    ),
    "str": st.one_of(st.booleans(), any_ints, any_floats, containers),
    "code": st.one_of(st.booleans(), any_ints, containers, short_text, tricky_text),
    "obj": st.one_of(scalars, st.lists(scalars, max_size=3)),
    "quiz": st.one_of(scalars, st.lists(scalars, max_size=3)),
    "msg_id": st.one_of(
        st.just(""),
        st.builds(operator.mul, st.just("m"), st.integers(65, 3000)),
        any_ints,
        st.booleans(),
        containers,
    ),
}
MISSING = object()


@st.composite
def valid_field_messages(draw) -> dict:
    """A real message type with fields of the right types: refused by the rules (or skipped when it acts)."""
    msg_type = draw(st.sampled_from(sorted(SPEC_FIELDS)))
    msg: dict = {"type": msg_type}
    for name, (_, required) in SPEC_FIELDS[msg_type].items():
        if required or draw(st.booleans()):
            msg[name] = draw(VALID[name])
    if draw(st.booleans()):
        msg["msg_id"] = draw(VALID["msg_id"])
    return msg


@st.composite
def wrong_field_messages(draw) -> dict:
    """A real message type with valid fields, then one of them (or msg_id) made wrong or removed."""
    msg_type = draw(st.sampled_from(sorted(SPEC_FIELDS)))
    fields = SPEC_FIELDS[msg_type]
    msg: dict = {"type": msg_type}
    for name, (_, required) in fields.items():
        if required or draw(st.booleans()):
            msg[name] = draw(VALID[name])
    if draw(st.booleans()):
        msg["msg_id"] = draw(VALID["msg_id"])
    target = draw(st.sampled_from([*fields, "msg_id"]))
    kind, required = fields.get(target, ("msg_id", False))
    value = draw(st.one_of(WRONG[kind], st.just(MISSING)) if required else WRONG[kind])
    if value is MISSING:
        msg.pop(target, None)
    else:
        msg[target] = value
    if draw(st.integers(0, 3)) == 0:
        msg.setdefault(draw(short_text), draw(json_values))
    return msg


typed_random = st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(sorted(SPEC_FIELDS)), any_text, scalars)},
    optional={
        name: st.one_of(scalars, containers)
        for name in ["msg_id", *sorted({f for fs in SPEC_FIELDS.values() for f in fs})]
    },
)


def encode(value, ascii_only: bool, indent) -> str:
    return json.dumps(value, ensure_ascii=ascii_only, indent=indent)


def as_json(values) -> st.SearchStrategy[str]:
    return st.builds(encode, values, st.booleans(), st.sampled_from([None, None, 0, 2]))


def nested(depth: int, shape: str) -> str:
    return {
        "list": "[" * depth + "]" * depth,
        "obj": '{"a":' * depth + "1" + "}" * depth,
        "open": '{"type":' * depth,
        "type": '{"type":' + "[" * depth + "]" * depth + "}",
    }[shape]


raw_text_frames = st.one_of(
    st.text(SAFE, max_size=200), long_text, tricky_text,
    st.builds(nested, st.integers(1, 2000), st.sampled_from(["list", "obj", "open", "type"])),
    st.sampled_from(['{"type":"ping"', '{"type": "answer.submit", "answer_idx": 01}', "{'type': 'ping'}",
                     '{"type":"ping"}{"type":"ping"}', '{"type":"ping",}', '{"type":"\\u0000"}', "\ufeff{}",
                     '{"type":"answer.submit","answer_idx":1e400}', '{"type":"quiz.start","msg_id":NaN}']),
)  # fmt: skip
binary_frames = st.one_of(
    st.binary(max_size=64), st.builds(lambda m: json.dumps(m).encode(), wrong_field_messages())
)
oversize_frames = st.builds(
    lambda msg, pad, n: json.dumps({**msg, "pad": pad * n}),
    st.one_of(wrong_field_messages(), st.just({"type": "ping"}), st.just({"type": "quiz.start"})),
    st.sampled_from(["x", "é", "😀"]),
    st.integers(4100, 6000),
)
frames = st.one_of(
    raw_text_frames, binary_frames, as_json(json_values), as_json(typed_random),
    *[as_json(wrong_field_messages())] * 3,  # the most telling kind, three times as often
    as_json(valid_field_messages()),
    oversize_frames,
)  # fmt: skip

FUZZ_SETTINGS = hypothesis.settings(
    deadline=None, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                           HealthCheck.large_base_example],
)  # fmt: skip


# --- running it ---------------------------------------------------------------------------------


def daphne_like(app):
    """Like Daphne's serverSend: a text frame is encoded as UTF-8 on its way out, and that can fail."""

    async def wrapped(scope, receive, send):
        async def checked_send(message):
            if message.get("type") == "websocket.send" and message.get("text") is not None:
                message["text"].encode("utf8")
            await send(message)

        return await app(scope, receive, checked_send)

    return wrapped


APP = daphne_like(application)


@pytest.fixture
def fuzz_settings(settings):
    """No rate limits, no pings; the wrong PINs counted in the cache are forgotten afterwards."""
    cache.clear()
    settings.KNEWIT = {
        **settings.KNEWIT, "RATE_PER_S": 10**6, "RATE_BURST": 10**6, "JOIN_WRONG_PINS": 10**9,
        "PING_INTERVAL_S": 10**6, "PUSH_INTERVAL_S": 0.02,
    }  # fmt: skip
    yield settings
    cache.clear()


async def open_socket(path: str = "/ws", query: str = "", headers=None, welcome: bool = True) -> Client:
    url = f"{path}?{query}" if query else path
    comm = WebsocketCommunicator(APP, url, headers=[ORIGIN, HOST_HEADER] if headers is None else headers)
    connected, _ = await comm.connect()
    assert connected
    client = Client(comm)
    if welcome:
        client.welcome = await client.recv()
    return client


async def send_frame(comm, frame: str | bytes) -> None:
    """Like send_to, but empty frames too (send_to refuses an empty string)."""
    key = "bytes" if isinstance(frame, bytes) else "text"
    await comm.send_input({"type": "websocket.receive", key: frame})


async def settle(client: Client, quiet: float = 0.3) -> list:
    got = []
    while not await client.comm.receive_nothing(timeout=quiet):
        got.append((await client.comm.receive_output())["text"])
    return got


class Harness:
    """One event loop and one fuzzed socket for a whole hypothesis run."""

    def __init__(self, ctx: Context, caplog):
        self.ctx, self.caplog = ctx, caplog
        self.loop = asyncio.new_event_loop()
        self.client: Client | None = None
        self.others: list[Client] = []
        self.sent = 0
        self.codes_seen: set[str] = set()
        self.baseline: dict | None = None
        self.html = False

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        async def shutdown():
            for client in [self.client, *self.others]:
                if client is not None:
                    try:
                        await client.comm.disconnect()
                    except Exception:  # noqa: S110 - already closed by the server
                        pass
            await loops.shutdown()

        self.run(shutdown())
        self.loop.close()

    async def check(self, batch: list) -> None:
        todo = [(frame, expected_codes(frame, self.ctx)) for frame in batch]
        todo = [(frame, codes) for frame, codes in todo if codes is not None]
        comm = self.client.comm
        for frame, _ in todo:
            await send_frame(comm, frame)
        for frame, codes in todo:
            out = await comm.receive_output(timeout=10)
            assert out["type"] == "websocket.send", f"the socket was closed after {frame!r}: {out}"
            if self.html:
                assert 'id="toast"' in out["text"], (frame, out["text"][:300])
                continue
            reply = json.loads(out["text"])
            assert reply.get("type") == "error", (frame, reply)
            assert reply["code"] in ERROR_CODES, (frame, reply)
            assert reply["code"] in codes, f"{frame!r}: got {reply}, expected one of {codes}"
            self.codes_seen.add(reply["code"])
            assert isinstance(reply.get("message"), str), reply
            check_ref(frame, reply["code"], reply.get("ref"))
        self.sent += len(todo)
        await self.sentinel()
        errors = [r for r in self.caplog.records if r.levelno >= logging.ERROR]
        assert not errors, [(r.getMessage(), r.exc_text) for r in errors]
        assert await database_sync_to_async(db_snapshot)() == self.baseline, (
            "a refused frame changed the database"
        )

    async def sentinel(self) -> None:
        """After the batch, a ping's pong (on a page: nothing) must come next: no frame got two replies."""
        comm = self.client.comm
        if self.html:
            assert await comm.receive_nothing(timeout=0.05), "a frame got more than one reply"
            return
        ts = self.sent
        await comm.send_to(text_data=json.dumps({"type": "ping", "ts": ts}))
        out = await comm.receive_output(timeout=10)
        assert out["type"] == "websocket.send" and json.loads(out["text"]) == {"type": "pong", "ts": ts}, out

    def fuzz(self, examples: int, minimum: int, reached: set[str] = frozenset()) -> None:
        """Run the batches; `reached`: error codes the run must have drawn, so the deep paths were hit."""

        @hypothesis.settings(FUZZ_SETTINGS, max_examples=examples)
        @hypothesis.given(batch=st.lists(frames, min_size=BATCH, max_size=BATCH))
        def run_batch(batch):
            self.run(self.check(batch))

        self.baseline = self.run(database_sync_to_async(db_snapshot)())
        run_batch()
        assert self.sent >= minimum, f"only {self.sent} frames were sent"
        assert reached <= self.codes_seen, f"never reached {reached - self.codes_seen}"


def unused_codes() -> None:
    from sessions_app.models import GameSession

    assert not GameSession.objects.filter(code__in=UNUSED_CODES).exists()


def examples_for(n: int) -> int:
    return math.ceil(n * 1.2 / BATCH)  # the oracle skips a few frames that are valid for the role


# --- the roles ----------------------------------------------------------------------------------


def test_fuzz_student_with_an_open_question(fuzz_settings, host, make_quiz, caplog):
    quiz = make_quiz(host, default_time_limit=240)
    token = host_token_create(user=host)
    harness = Harness(Context("student", n_options=4), caplog)

    async def setup():
        host_ws = await open_socket(query=f"is_host=true&token={token}")
        code = (await host_ws.call("session.created", type="session.create", quiz_id=quiz.pk))["session_id"]
        student = await open_socket(query="player_id=fuzzer")
        await student.call("session.joined", type="session.join", session_id=code, name="Fuzzer")
        await host_ws.send(type="quiz.start")
        await student.expect("question.next")
        await student.call("answer.recorded", type="answer.submit", answer_idx=0)
        await settle(student)
        harness.client, harness.others = student, [host_ws]
        return code

    try:
        code = harness.run(setup())
        unused_codes()
        harness.ctx.real_codes = frozenset({code})
        harness.fuzz(
            examples_for(MESSAGES_PER_ROLE),
            MESSAGES_PER_ROLE,
            SHALLOW | {"forbidden", "already_answered", "not_found"},
        )
    finally:
        harness.close()


def test_fuzz_host_of_a_session(fuzz_settings, host, caplog):
    token = host_token_create(user=host)
    harness = Harness(Context("host"), caplog)

    async def setup():
        host_ws = await open_socket(query=f"is_host=true&token={token}")
        code = (await host_ws.call("session.created", type="session.create"))["session_id"]
        await settle(host_ws)
        harness.client = host_ws
        return code

    try:
        code = harness.run(setup())
        unused_codes()
        harness.ctx.real_codes = frozenset({code})
        harness.fuzz(
            examples_for(MESSAGES_PER_ROLE), MESSAGES_PER_ROLE, SHALLOW | {"wrong_state", "not_found"}
        )
    finally:
        harness.close()


def test_fuzz_unjoined_socket(fuzz_settings, host, make_quiz, caplog):
    session = engine.session_create(
        host=host, quiz_id=make_quiz(host).pk, raw_settings={}, site_url=""
    ).session
    harness = Harness(Context("unjoined", real_codes=frozenset({session.code})), caplog)

    async def setup():
        harness.client = await open_socket()

    try:
        harness.run(setup())
        unused_codes()
        harness.fuzz(
            examples_for(MESSAGES_PER_ROLE),
            MESSAGES_PER_ROLE,
            SHALLOW | {"forbidden", "wrong_state", "not_found"},
        )
    finally:
        harness.close()


def test_fuzz_student_page_socket(fuzz_settings, host, make_quiz, caplog):
    """The browser page's socket reads the same messages (integers may come as strings); errors are toasts."""
    quiz = make_quiz(host, default_time_limit=240)
    session = engine.session_create(host=host, quiz_id=quiz.pk, raw_settings={}, site_url="").session
    harness = Harness(
        Context("student", n_options=4, real_codes=frozenset({session.code}), form=True), caplog
    )
    harness.html = True

    async def setup():
        http = AsyncClient()
        response = await http.post(f"/join/{session.code}/", {"code": session.code, "nickname": "PageFuzzer"})
        assert response.status_code == 302
        cookie_name = f"knewit_rejoin_{session.code}"
        cookie = (b"cookie", f"{cookie_name}={http.cookies[cookie_name].value}".encode())
        page = await open_socket(
            f"/ws/page/play/{session.code}/", headers=[ORIGIN, HOST_HEADER, cookie], welcome=False
        )
        await settle(page)
        await database_sync_to_async(engine.quiz_start)(session_pk=session.pk, host=host, now=_now())
        player = await database_sync_to_async(session.players.get)()
        await database_sync_to_async(engine.answer_submit)(
            session_pk=session.pk, player_pk=player.pk, answer_idx=0, msg_id=None, now=_now()
        )
        await settle(page)
        harness.client = page

    try:
        harness.run(setup())
        unused_codes()
        harness.fuzz(examples_for(PAGE_MESSAGES), PAGE_MESSAGES)
    finally:
        harness.close()


def _now():
    from django.utils import timezone

    return timezone.now()


# --- found by the fuzzer (fixed in a33a3ec) ----------------------------------------------------


async def test_lone_surrogates_in_type_or_msg_id_get_an_error_and_the_socket_stays(fuzz_settings, connect):
    """A `type` or `msg_id` with a lone surrogate (a JSON escape like \\ud800, valid UTF-8 on the wire) was
    echoed in the error's `ref`, making a frame Daphne cannot encode: the consumer died (1011)."""
    client = await open_socket()
    try:
        for frame in (
            '{"type":"\\ud800"}',
            '{"type":"ping","msg_id":"\\udfff"}',
            '{"type":"x\\udc00y","msg_id":"m"}',
            '{"type":"session.join","session_id":"000000","name":"a","msg_id":"\\ud83d"}',
        ):
            await client.comm.send_to(text_data=frame)
            out = await client.comm.receive_output(timeout=3)
            assert out["type"] == "websocket.send"
            assert json.loads(out["text"])["type"] == "error"
        assert await client.call("pong", type="ping")
    finally:
        await client.comm.disconnect()
