"""The wire contract of docs/PROTOCOL.md: inbound messages parsed into dataclasses, outbound builders."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

PROTOCOL_VERSION = 1
MAX_INT = 2**31 - 1
MSG_ID_MAX = 64
SESSION_CODE_RE = re.compile(r"^[0-9]{6}$")

# Who may send a message.
ANYONE, HOST, PLAYER = "anyone", "host", "player"


def is_storable(text: str) -> bool:
    """False for text with a NUL (PostgreSQL refuses it) or a lone surrogate (valid JSON, not UTF-8)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class ProtocolError(Exception):
    """A message the server refuses; becomes an `error` frame, and the socket stays open."""

    def __init__(self, code: str, message: str, ref: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref or {}


# --- field checks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Int:
    lo: int = 0
    hi: int = MAX_INT
    required: bool = True

    def check(self, name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ProtocolError("invalid", f"`{name}` must be an integer.")
        if not self.lo <= value <= self.hi:
            raise ProtocolError("invalid", f"`{name}` must be between {self.lo} and {self.hi}.")
        return value


@dataclass(frozen=True)
class Str:
    max_len: int = 200
    pattern: re.Pattern | None = None
    required: bool = True

    def check(self, name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise ProtocolError("invalid", f"`{name}` must be a string.")
        if len(value) > self.max_len:
            raise ProtocolError("invalid", f"`{name}` is longer than {self.max_len} characters.")
        if not is_storable(value):
            raise ProtocolError("invalid", f"`{name}` contains a NUL or is not valid Unicode.")
        if self.pattern is not None and not self.pattern.match(value):
            raise ProtocolError("invalid", f"`{name}` is not in the expected format.")
        return value


@dataclass(frozen=True)
class Obj:
    required: bool = True

    def check(self, name: str, value: Any) -> dict:
        if not isinstance(value, dict):
            raise ProtocolError("invalid", f"`{name}` must be an object.")
        return value


@dataclass(frozen=True)
class Number:
    required: bool = False

    def check(self, name: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ProtocolError("invalid", f"`{name}` must be a number.")
        if not -1e15 < value < 1e15:
            raise ProtocolError("invalid", f"`{name}` is out of range.")
        return value


# --- inbound messages -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Inbound:
    """Base of every client message; `fields` lists the checks of its own fields."""

    type: ClassVar[str]
    role: ClassVar[str] = ANYONE
    fields: ClassVar[dict[str, Int | Str | Obj | Number]] = {}
    msg_id: str | None = None

    @property
    def ref(self) -> dict:
        return ref_of(self.type, self.msg_id)


@dataclass(frozen=True, kw_only=True)
class SessionCreate(Inbound):
    type = "session.create"
    role = HOST
    fields = {"quiz_id": Int(1, required=False), "settings": Obj(required=False)}
    quiz_id: int | None = None
    settings: dict = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class QuizList(Inbound):
    type = "quiz.list"
    role = HOST


@dataclass(frozen=True, kw_only=True)
class QuizSave(Inbound):
    type = "quiz.save"
    role = HOST
    fields = {"quiz": Obj()}
    quiz: dict


@dataclass(frozen=True, kw_only=True)
class QuizLoad(Inbound):
    type = "quiz.load"
    role = HOST
    fields = {"quiz_id": Int(1, required=False), "quiz": Obj(required=False)}
    quiz_id: int | None = None
    quiz: dict | None = None


@dataclass(frozen=True, kw_only=True)
class SessionJoin(Inbound):
    type = "session.join"
    fields = {
        "session_id": Str(6, SESSION_CODE_RE),
        "name": Str(200),
        "password": Str(128, required=False),
    }
    session_id: str
    name: str
    password: str | None = None


@dataclass(frozen=True, kw_only=True)
class SessionResume(Inbound):
    type = "session.resume"
    fields = {"session_id": Str(6, SESSION_CODE_RE), "rejoin_token": Str(128, required=False)}
    session_id: str
    rejoin_token: str | None = None


@dataclass(frozen=True, kw_only=True)
class AnswerSubmit(Inbound):
    type = "answer.submit"
    role = PLAYER
    fields = {"answer_idx": Int(-MAX_INT, MAX_INT)}
    answer_idx: int


@dataclass(frozen=True, kw_only=True)
class PlayerKick(Inbound):
    type = "player.kick"
    role = HOST
    fields = {"player_id": Str(64)}
    player_id: str


@dataclass(frozen=True, kw_only=True)
class Ping(Inbound):
    type = "ping"
    fields = {"ts": Number()}
    ts: float | None = None


@dataclass(frozen=True, kw_only=True)
class Pong(Inbound):
    type = "pong"
    fields = {"ts": Number()}
    ts: float | None = None


def _host_command(name: str, cls_name: str) -> type[Inbound]:
    """A host message with no fields of its own."""
    return dataclass(frozen=True, kw_only=True)(type(cls_name, (Inbound,), {"type": name, "role": HOST}))


QuizStart = _host_command("quiz.start", "QuizStart")
QuestionNext = _host_command("question.next", "QuestionNext")
QuestionEnd = _host_command("question.end", "QuestionEnd")
QuizStop = _host_command("quiz.stop", "QuizStop")
SessionLock = _host_command("session.lock", "SessionLock")
SessionUnlock = _host_command("session.unlock", "SessionUnlock")
SessionClose = _host_command("session.close", "SessionClose")

MESSAGE_TYPES: dict[str, type[Inbound]] = {
    cls.type: cls
    for cls in (
        SessionCreate, QuizList, QuizSave, QuizLoad, SessionJoin, SessionResume, QuizStart,
        QuestionNext, QuestionEnd, QuizStop, AnswerSubmit, PlayerKick, SessionLock, SessionUnlock,
        SessionClose, Ping, Pong,
    )
}  # fmt: skip


def ref_of(msg_type: Any, msg_id: Any) -> dict:
    """The `ref` of an error: the offending message's type, and its msg_id when it had a usable one."""
    ref: dict = {}
    if isinstance(msg_type, str) and len(msg_type) <= 64:
        ref["type"] = msg_type
    if isinstance(msg_id, str) and len(msg_id) <= MSG_ID_MAX:
        ref["msg_id"] = msg_id
    return ref


def _load(text: str) -> dict:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ProtocolError("bad_json", "The frame is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_json", "A frame must be a JSON object.")
    return data


def parse_message(text: str) -> Inbound:
    """Parse one text frame into its message dataclass, or raise ProtocolError."""
    return parse_data(_load(text))


def parse_form_message(text: str) -> Inbound:
    """A message from an htmx form on a page: the same messages, but form values arrive as strings."""
    data = _load(text)
    cls = MESSAGE_TYPES.get(data.get("type")) if isinstance(data.get("type"), str) else None
    for name, check in cls.fields.items() if cls else ():
        value = data.get(name)
        if isinstance(check, Int) and isinstance(value, str) and re.fullmatch(r"-?\d{1,10}", value):
            data[name] = int(value)
    return parse_data(data)


def parse_data(data: dict) -> Inbound:
    msg_type, msg_id = data.get("type"), data.get("msg_id")
    ref = ref_of(msg_type, msg_id)
    if not isinstance(msg_type, str):
        raise ProtocolError("invalid", "Every message needs a string field `type`.", ref)
    cls = MESSAGE_TYPES.get(msg_type)
    if cls is None:
        raise ProtocolError("unknown_type", f"Unknown message type {msg_type[:64]!r}.", ref)
    return parse_fields(cls, data, ref)


def parse_fields(cls: type[Inbound], data: dict, ref: dict) -> Inbound:
    """Check a known message's fields; unknown extra fields are ignored."""
    values: dict[str, Any] = {}
    msg_id = data.get("msg_id")
    if msg_id is not None:
        if not isinstance(msg_id, str) or not 0 < len(msg_id) <= MSG_ID_MAX or not is_storable(msg_id):
            raise ProtocolError("invalid", f"`msg_id` must be a string of 1 to {MSG_ID_MAX} characters.", ref)
        values["msg_id"] = msg_id
    for name, check in cls.fields.items():
        value = data.get(name)
        if value is None:
            if check.required:
                raise ProtocolError("invalid", f"`{cls.type}` needs the field `{name}`.", ref)
            continue
        try:
            values[name] = check.check(name, value)
        except ProtocolError as exc:
            exc.ref = ref
            raise
    return cls(**values)


# --- outbound shapes ------------------------------------------------------------------------


def dumps(payload: dict) -> str:
    """Serialise one outbound frame; called once per event and audience, never per socket."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate echoed from a client: escape it instead
        text = json.dumps(payload, separators=(",", ":"))
    return text


def welcome(*, player_id: str, is_host: bool) -> dict:
    return {"type": "welcome", "player_id": player_id, "is_host": is_host, "protocol": PROTOCOL_VERSION}


def error(code: str, message: str, ref: dict | None = None) -> dict:
    return {"type": "error", "code": code, "message": message, "ref": ref or {}}


# A fault of the server, not of the message: nothing was changed, and the same message may be sent again.
INTERNAL_MESSAGE = "The server failed to handle that message and changed nothing; send it again in a moment."


def internal_error(ref: dict | None = None) -> dict:
    return error("internal", INTERNAL_MESSAGE, ref)


def question_next(
    *, question_id: int, prompt: str, options: list[str], question_num: int, total: int,
    time_limit: int, time_left_ms: int,
) -> dict:  # fmt: skip
    """A question as every client sees it: never the correct index."""
    return {
        "type": "question.next",
        "question_id": question_id,
        "prompt": prompt,
        "options": options,
        "question_num": question_num,
        "total_questions": total,
        "time_limit": time_limit,
        "time_left_ms": time_left_ms,
    }


def lobby_update(*, state: str, locked: bool, count: int, players: list[dict] | None = None) -> dict:
    """Players get the count; the host also gets the list."""
    payload = {"type": "lobby.update", "state": state, "locked": locked, "count": count}
    if players is not None:
        payload["players"] = players
    return payload


def histogram(*, question_num: int, bins: list[int], answered: int, total: int) -> dict:
    return {
        "type": "histogram",
        "question_num": question_num,
        "bins": bins,
        "answered": answered,
        "total": total,
    }


def question_results(
    *, question_num: int, correct_idx: int | None, bins: list[int], leaderboard: list[dict]
) -> dict:
    return {
        "type": "question.results",
        "question_num": question_num,
        "correct_idx": correct_idx,
        "bins": bins,
        "leaderboard": leaderboard,
    }


def answer_recorded(*, question_num: int, answer_idx: int, duplicate: bool = False) -> dict:
    """Acknowledges an answer; says nothing about whether it was right."""
    return {
        "type": "answer.recorded",
        "question_num": question_num,
        "answer_idx": answer_idx,
        "duplicate": duplicate,
    }


def answer_result(
    *, question_num: int, answered: bool, correct: bool, points: int, score: int, rank: int
) -> dict:
    """A player's own verdict at the reveal; `answered` tells "no answer" from a wrong one."""
    return {
        "type": "answer.result",
        "question_num": question_num,
        "answered": answered,
        "correct": correct,
        "points": points,
        "score": score,
        "rank": rank,
    }


def leaderboard_entry(*, rank: int, player_id: str, name: str, score: int, correct_count: int) -> dict:
    return {
        "rank": rank,
        "player_id": player_id,
        "name": name,
        "score": score,
        "correct_count": correct_count,
    }


def quiz_finished(*, leaderboard: list[dict]) -> dict:
    return {"type": "quiz.finished", "leaderboard": leaderboard}


def quiz_summary(msg_type: str, *, quiz_id: int, title: str, num_questions: int) -> dict:
    """`quiz.saved`, `quiz.loaded`, or one entry of `quiz.list` (msg_type None)."""
    body = {"quiz_id": quiz_id, "title": title, "num_questions": num_questions}
    return {"type": msg_type, **body} if msg_type else body


def session_created(*, session_id: str, join_url: str) -> dict:
    return {"type": "session.created", "session_id": session_id, "join_url": join_url}


def session_joined(*, session_id: str, player_id: str, name: str, rejoin_token: str | None) -> dict:
    return {
        "type": "session.joined",
        "session_id": session_id,
        "player_id": player_id,
        "name": name,
        "rejoin_token": rejoin_token,
    }


def kicked(*, reason: str) -> dict:
    return {"type": "kicked", "reason": reason}


def session_closed(*, reason: str) -> dict:
    return {"type": "session.closed", "reason": reason}


def ping(*, ts: float) -> dict:
    return {"type": "ping", "ts": ts}


def pong(*, ts: float | None) -> dict:
    return {"type": "pong", "ts": ts}
