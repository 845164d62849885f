"""What clients send (docs/PROTOCOL.md): each message type a frozen dataclass, parsed and checked here."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.utils.translation import gettext

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


def _(message: str, **params) -> str:
    """A refusal's message in the socket's language (parsing runs in the socket's own task)."""
    return gettext(message) % params if params else gettext(message)


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
            raise ProtocolError("invalid", _("`%(name)s` must be an integer.", name=name))
        if not self.lo <= value <= self.hi:
            raise ProtocolError(
                "invalid",
                _("`%(name)s` must be between %(lo)s and %(hi)s.", name=name, lo=self.lo, hi=self.hi),
            )
        return value


@dataclass(frozen=True)
class Str:
    max_len: int = 200
    pattern: re.Pattern | None = None
    required: bool = True

    def check(self, name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise ProtocolError("invalid", _("`%(name)s` must be a string.", name=name))
        if len(value) > self.max_len:
            raise ProtocolError(
                "invalid", _("`%(name)s` is longer than %(max)s characters.", name=name, max=self.max_len)
            )
        if not is_storable(value):
            raise ProtocolError("invalid", _("`%(name)s` contains a NUL or is not valid Unicode.", name=name))
        if self.pattern is not None and not self.pattern.match(value):
            raise ProtocolError("invalid", _("`%(name)s` is not in the expected format.", name=name))
        return value


@dataclass(frozen=True)
class Obj:
    required: bool = True

    def check(self, name: str, value: Any) -> dict:
        if not isinstance(value, dict):
            raise ProtocolError("invalid", _("`%(name)s` must be an object.", name=name))
        return value


@dataclass(frozen=True)
class Number:
    required: bool = False

    def check(self, name: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ProtocolError("invalid", _("`%(name)s` must be a number.", name=name))
        if not -1e15 < value < 1e15:  # also refuses NaN
            raise ProtocolError("invalid", _("`%(name)s` is out of range.", name=name))
        return value


@dataclass(frozen=True)
class IntList:
    """A short list of integers (option indices); what they must be is the question's business."""

    max_items: int = 6
    required: bool = False

    def check(self, name: str, value: Any) -> list[int]:
        if not isinstance(value, list) or len(value) > self.max_items:
            raise ProtocolError(
                "invalid",
                _("`%(name)s` must be a list of at most %(max)s integers.", name=name, max=self.max_items),
            )
        for item in value:
            Int(-MAX_INT, MAX_INT).check(name, item)
        return value


# --- inbound messages -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Inbound:
    """Base of every client message; `fields` lists the checks of its own fields."""

    type: ClassVar[str]
    role: ClassVar[str] = ANYONE
    fields: ClassVar[dict[str, Int | Str | Obj | Number | IntList]] = {}
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
    """One answer field, the one the question's kind takes (docs/PROTOCOL.md §2.1); which one that is,
    the engine knows (engine/judging.py)."""

    type = "answer.submit"
    role = PLAYER
    fields = {
        "answer_idx": Int(-MAX_INT, MAX_INT, required=False),
        "answer_idxs": IntList(),
        "order": IntList(),
        "text": Str(200, required=False),
        "value": Number(),
    }
    answer_idx: int | None = None
    answer_idxs: list[int] | None = None
    order: list[int] | None = None
    text: str | None = None
    value: float | None = None

    def __post_init__(self) -> None:
        if len(self.answer) != 1:
            names = ", ".join(f"`{name}`" for name in self.fields)
            raise ProtocolError(
                "invalid", _("`answer.submit` needs exactly one of %(names)s.", names=names), self.ref
            )

    @property
    def answer(self) -> dict:
        """The answer field given, e.g. {"answer_idx": 2}."""
        return {name: getattr(self, name) for name in self.fields if getattr(self, name) is not None}


@dataclass(frozen=True, kw_only=True)
class PlayerKick(Inbound):
    type = "player.kick"
    role = HOST
    fields = {"player_id": Str(64)}
    player_id: str


# Extra time a host may give a student: their deadline and speed score go by the limit times this.
TIME_FACTORS = (1, 1.5, 2)


@dataclass(frozen=True, kw_only=True)
class PlayerAccommodate(Inbound):
    type = "player.accommodate"
    role = HOST
    fields = {"player_id": Str(64), "time_factor": Number(required=True)}
    player_id: str
    time_factor: float

    def __post_init__(self) -> None:
        if self.time_factor not in TIME_FACTORS:
            raise ProtocolError("invalid", _("`time_factor` must be 1, 1.5 or 2."), self.ref)


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
QuestionRevote = _host_command("question.revote", "QuestionRevote")

MESSAGE_TYPES: dict[str, type[Inbound]] = {
    cls.type: cls
    for cls in (
        SessionCreate, QuizList, QuizSave, QuizLoad, SessionJoin, SessionResume, QuizStart,
        QuestionNext, QuestionEnd, QuizStop, AnswerSubmit, PlayerKick, SessionLock, SessionUnlock,
        SessionClose, Ping, Pong, PlayerAccommodate, QuestionRevote,
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
        raise ProtocolError("bad_json", _("The frame is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_json", _("A frame must be a JSON object."))
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
        if isinstance(check, Int) and _is_form_int(value):
            data[name] = int(value)
        elif isinstance(check, IntList) and isinstance(value, str | list):
            # A form sends one checked box as a string and several as a list.
            items = value if isinstance(value, list) else [value]
            if all(_is_form_int(item) for item in items):
                data[name] = [int(item) for item in items]
        elif isinstance(check, Number) and isinstance(value, str) and NUMBER_RE.fullmatch(value):
            data[name] = float(value)
    return parse_data(data)


NUMBER_RE = re.compile(r"-?\d{1,15}(\.\d{1,10})?")


def _is_form_int(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"-?\d{1,10}", value) is not None


def parse_data(data: dict) -> Inbound:
    msg_type, msg_id = data.get("type"), data.get("msg_id")
    ref = ref_of(msg_type, msg_id)
    if not isinstance(msg_type, str):
        raise ProtocolError("invalid", _("Every message needs a string field `type`."), ref)
    cls = MESSAGE_TYPES.get(msg_type)
    if cls is None:
        raise ProtocolError(
            "unknown_type", _("Unknown message type %(type)s.", type=repr(msg_type[:64])), ref
        )
    return parse_fields(cls, data, ref)


def parse_fields(cls: type[Inbound], data: dict, ref: dict) -> Inbound:
    """Check a known message's fields; unknown extra fields are ignored."""
    values: dict[str, Any] = {}
    msg_id = data.get("msg_id")
    if msg_id is not None:
        if not isinstance(msg_id, str) or not 0 < len(msg_id) <= MSG_ID_MAX or not is_storable(msg_id):
            raise ProtocolError(
                "invalid", _("`msg_id` must be a string of 1 to %(max)s characters.", max=MSG_ID_MAX), ref
            )
        values["msg_id"] = msg_id
    for name, check in cls.fields.items():
        value = data.get(name)
        if value is None:
            if check.required:
                raise ProtocolError(
                    "invalid", _("`%(type)s` needs the field `%(name)s`.", type=cls.type, name=name), ref
                )
            continue
        try:
            values[name] = check.check(name, value)
        except ProtocolError as exc:
            exc.ref = ref
            raise
    return cls(**values)


# --- outbound shapes ------------------------------------------------------------------------
