"""What the server sends (docs/PROTOCOL.md): one typed builder per message type, and the one serialiser."""

from __future__ import annotations

import json
from typing import Literal, NotRequired, TypedDict

from django.utils.translation import gettext_lazy

PROTOCOL_VERSION = 1

# A fault of the server, not of the message: nothing was changed, and the same message may be sent again.
# Lazy: put in the language of the socket that sends it (a batch of answers fails for many at once).
INTERNAL_MESSAGE = gettext_lazy(
    "The server failed to handle that message and changed nothing; send it again in a moment."
)


def dumps(payload: dict) -> str:
    """Serialise one outbound frame; called once per event and audience, never per socket."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate echoed from a client: escape it instead
        text = json.dumps(payload, separators=(",", ":"))
    return text


class Welcome(TypedDict):
    type: Literal["welcome"]
    player_id: str
    is_host: bool
    protocol: int


def welcome(*, player_id: str, is_host: bool) -> Welcome:
    return {"type": "welcome", "player_id": player_id, "is_host": is_host, "protocol": PROTOCOL_VERSION}


class Error(TypedDict):
    type: Literal["error"]
    code: str
    message: str
    ref: dict


def error(code: str, message: str, ref: dict | None = None) -> Error:
    return {"type": "error", "code": code, "message": message, "ref": ref or {}}


def internal_error(ref: dict | None = None) -> Error:
    return error("internal", str(INTERNAL_MESSAGE), ref)


class QuestionNext(TypedDict):
    type: Literal["question.next"]
    question_id: int
    kind: str
    prompt: str
    options: list[str]
    question_num: int
    total_questions: int
    time_limit: int
    time_left_ms: int
    round: int  # 1, or 2 for a re-vote of the same question
    image: str | None
    image_alt: str
    min: NotRequired[float]  # slider
    max: NotRequired[float]
    step: NotRequired[float]
    max_length: NotRequired[int]  # text


def question_next(
    *, question_id: int, prompt: str, options: list[str], question_num: int, total: int,
    time_limit: int, time_left_ms: int, kind_fields: dict, round: int = 1,
) -> QuestionNext:  # fmt: skip
    """A question as every client sees it: never its answer. `kind_fields`: engine/judging.py
    question_fields (kind, image, and what the kind needs to be drawn)."""
    return {
        "type": "question.next",
        "question_id": question_id,
        "prompt": prompt,
        "options": options,
        "question_num": question_num,
        "total_questions": total,
        "time_limit": time_limit,
        "time_left_ms": time_left_ms,
        "round": round,
        **kind_fields,
    }  # type: ignore[typeddict-item]


class LobbyPlayer(TypedDict):
    player_id: str
    name: str
    score: int
    connected: bool
    latency_ms: int | None
    time_factor: float  # extra time the host gave (player.accommodate); the host's list only


class LobbyUpdate(TypedDict):
    type: Literal["lobby.update"]
    state: str
    locked: bool
    count: int
    players: NotRequired[list[LobbyPlayer]]


def lobby_update(
    *, state: str, locked: bool, count: int, players: list[LobbyPlayer] | None = None
) -> LobbyUpdate:
    """Players get the count; the host also gets the list."""
    payload: LobbyUpdate = {"type": "lobby.update", "state": state, "locked": locked, "count": count}
    if players is not None:
        payload["players"] = players
    return payload


class TopAnswer(TypedDict):
    text: str
    count: int


class Histogram(TypedDict):
    type: Literal["histogram"]
    question_num: int
    bins: list[int]
    answered: int
    total: int
    top: NotRequired[list[TopAnswer]]  # text questions, host only
    still_answering: NotRequired[int]  # host only: players with extra time, time left, no answer yet


def histogram(
    *, question_num: int, bins: list[int], answered: int, total: int, top: list[dict] | None = None,
    still_answering: int | None = None,
) -> Histogram:  # fmt: skip
    payload: Histogram = {
        "type": "histogram",
        "question_num": question_num,
        "bins": bins,
        "answered": answered,
        "total": total,
    }
    if top is not None:
        payload["top"] = [{"text": row["text"], "count": row["count"]} for row in top]
    if still_answering is not None:
        payload["still_answering"] = still_answering
    return payload


HOST_ONLY_HISTOGRAM = ("top", "still_answering")


def players_histogram(payload: Histogram) -> Histogram:
    """The players' copy (with show_live_results): without typed answers, which could give it away,
    nor how many have extra time."""
    if not any(key in payload for key in HOST_ONLY_HISTOGRAM):
        return payload
    return {key: value for key, value in payload.items() if key not in HOST_ONLY_HISTOGRAM}  # type: ignore[return-value]


class LeaderboardEntry(TypedDict):
    rank: int
    player_id: str
    name: str
    score: int
    correct_count: int
    accuracy_rank: NotRequired[int]  # quiz.finished's leaderboard: the rank by accuracy


def leaderboard_entry(
    *, rank: int, player_id: str, name: str, score: int, correct_count: int
) -> LeaderboardEntry:
    return {
        "rank": rank,
        "player_id": player_id,
        "name": name,
        "score": score,
        "correct_count": correct_count,
    }


class QuestionResults(TypedDict):
    type: Literal["question.results"]
    question_num: int
    round: int
    kind: str
    correct_idx: int | None
    bins: list[int]
    leaderboard: list[LeaderboardEntry]
    explanation: str | None
    correct_idxs: NotRequired[list[int]]  # single, truefalse, multi, poll ([])
    correct_order: NotRequired[list[int]]  # order: shown positions, first to last
    accepted: NotRequired[list[str]]  # text
    top: NotRequired[list[dict]]  # text: {"text", "count", "correct"}
    correct: NotRequired[float]  # slider
    tolerance: NotRequired[float]
    first_bins: NotRequired[list[int]]  # a re-vote's (round 2): protocol/tools.py revote_fields
    first_top: NotRequired[list[dict]]
    switched_to_right: NotRequired[int]


def question_results(
    *, question_num: int, answer_key: dict, bins: list[int], leaderboard: list[LeaderboardEntry],
    top: list[dict] | None = None, round: int = 1,
) -> QuestionResults:  # fmt: skip
    """The reveal. `answer_key`: engine/judging.py reveal_fields (kind, correct_idx, explanation and
    the kind's own answer fields)."""
    payload = {
        "type": "question.results", "question_num": question_num, "round": round, **answer_key, "bins": bins,
    }  # fmt: skip
    if top is not None:
        payload["top"] = top
    payload["leaderboard"] = leaderboard
    return payload  # type: ignore[return-value]


class AnswerRecorded(TypedDict):
    type: Literal["answer.recorded"]
    question_num: int
    round: int  # 1, or 2: the answer is to the question's re-vote
    answer_idx: int | None
    duplicate: bool
    answer_idxs: NotRequired[list[int]]
    order: NotRequired[list[int]]
    text: NotRequired[str]
    value: NotRequired[float]


def answer_recorded(
    *, question_num: int, given: dict, duplicate: bool = False, round: int = 1
) -> AnswerRecorded:
    """Acknowledges an answer; says nothing about whether it was right. `given`: `answer_idx` and the
    kind's own field, as engine/judging.py recorded_fields builds them."""
    return {
        "type": "answer.recorded",
        "question_num": question_num,
        "round": round,
        **given,
        "duplicate": duplicate,
    }  # type: ignore[typeddict-item]


class AnswerResult(TypedDict):
    type: Literal["answer.result"]
    question_num: int
    round: int  # 2: the verdict of the question's re-vote
    answered: bool
    correct: bool
    scored: bool
    points: int
    score: int
    rank: int


def answer_result(
    *,
    question_num: int,
    answered: bool,
    correct: bool,
    points: int,
    score: int,
    rank: int,
    scored: bool = True,
    round: int = 1,
) -> AnswerResult:
    """A player's own verdict at the reveal; `answered` tells "no answer" from a wrong one, `scored`
    false says the question was a poll (no right or wrong)."""
    return {
        "type": "answer.result",
        "question_num": question_num,
        "round": round,
        "answered": answered,
        "correct": correct,
        "scored": scored,
        "points": points,
        "score": score,
        "rank": rank,
    }


class QuizFinished(TypedDict):
    type: Literal["quiz.finished"]
    leaderboard: list[LeaderboardEntry]  # everyone, by points, each with accuracy_rank
    accuracy_leaderboard: list[LeaderboardEntry]  # the top 10 by accuracy (rank: by accuracy)


def quiz_finished(
    *, leaderboard: list[LeaderboardEntry], accuracy_leaderboard: list[LeaderboardEntry]
) -> QuizFinished:
    return {"type": "quiz.finished", "leaderboard": leaderboard, "accuracy_leaderboard": accuracy_leaderboard}


class QuizSummary(TypedDict):
    quiz_id: int
    title: str
    num_questions: int


class QuizSummaryMessage(QuizSummary):
    type: str  # "quiz.saved" or "quiz.loaded"


def quiz_summary(msg_type: str | None, *, quiz_id: int, title: str, num_questions: int) -> QuizSummary:
    """`quiz.saved`, `quiz.loaded`, or one entry of `quiz.list` (msg_type None)."""
    body: QuizSummary = {"quiz_id": quiz_id, "title": title, "num_questions": num_questions}
    return {"type": msg_type, **body} if msg_type else body  # type: ignore[return-value]


class QuizListMessage(TypedDict):
    type: Literal["quiz.list"]
    quizzes: list[QuizSummary]


def quiz_list(*, quizzes: list[QuizSummary]) -> QuizListMessage:
    return {"type": "quiz.list", "quizzes": quizzes}


class SessionCreated(TypedDict):
    type: Literal["session.created"]
    session_id: str
    join_url: str


def session_created(*, session_id: str, join_url: str) -> SessionCreated:
    return {"type": "session.created", "session_id": session_id, "join_url": join_url}


class SessionJoined(TypedDict):
    type: Literal["session.joined"]
    session_id: str
    player_id: str
    name: str
    rejoin_token: str | None


def session_joined(*, session_id: str, player_id: str, name: str, rejoin_token: str | None) -> SessionJoined:
    return {
        "type": "session.joined",
        "session_id": session_id,
        "player_id": player_id,
        "name": name,
        "rejoin_token": rejoin_token,
    }


class Kicked(TypedDict):
    type: Literal["kicked"]
    reason: str


def kicked(*, reason: str) -> Kicked:
    return {"type": "kicked", "reason": reason}


class SessionClosed(TypedDict):
    type: Literal["session.closed"]
    reason: str


def session_closed(*, reason: str) -> SessionClosed:
    return {"type": "session.closed", "reason": reason}


class Ping(TypedDict):
    type: Literal["ping"]
    ts: float


def ping(*, ts: float) -> Ping:
    return {"type": "ping", "ts": ts}


class Pong(TypedDict):
    type: Literal["pong"]
    ts: float | None


def pong(*, ts: float | None) -> Pong:
    return {"type": "pong", "ts": ts}
