"""What the server sends for the teacher's tools (docs/PROTOCOL.md §2.2): a student's own time, the
host's alerts at a reveal, and a re-vote's comparison with the first round."""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict


class QuestionTime(TypedDict):
    type: Literal["question.time"]
    question_num: int
    round: int
    time_limit: int  # the question's, in seconds; the player's own limit is time_limit * time_factor
    time_factor: float
    time_left_ms: int  # the player's own


def question_time(
    *, question_num: int, round: int, time_limit: int, time_factor: float, time_left_ms: int
) -> QuestionTime:
    """A player's own time for the open question (sent to them alone): their extra-time factor and
    how long they have left by it."""
    return {
        "type": "question.time",
        "question_num": question_num,
        "round": round,
        "time_limit": time_limit,
        "time_factor": time_factor,
        "time_left_ms": max(0, time_left_ms),
    }


class SameAnswer(TypedDict):
    """One answer given by many: which, in words and in answer.recorded's fields, and how many."""

    percent: int
    count: int
    answer_text: str
    answer_idx: int | None
    answer_idxs: NotRequired[list[int]]
    order: NotRequired[list[int]]
    text: NotRequired[str]


class Misconception(SameAnswer):
    answered: int  # of the answers to this round; percent = count / answered


class KeyCheck(SameAnswer):
    strongest: int  # how many players the strongest are; percent = count / strongest


def misconception(*, percent: int, count: int, answered: int, answer_text: str, given: dict) -> Misconception:
    """The wrong answer given most, at or over the session's threshold. `given`: answer_idx and the
    kind's field, as engine/judging.py recorded_fields builds them."""
    return {"percent": percent, "count": count, "answered": answered, "answer_text": answer_text, **given}  # type: ignore[typeddict-item]


def key_check(*, percent: int, count: int, strongest: int, answer_text: str, given: dict) -> KeyCheck:
    """The answer marked wrong that most of the strongest players gave: is the key right?"""
    return {"percent": percent, "count": count, "strongest": strongest, "answer_text": answer_text, **given}  # type: ignore[typeddict-item]


def host_results(results: dict, *, misconception: Misconception | None, key_check: KeyCheck | None) -> dict:
    """The host's copy of question.results: the players' copy and the two alerts (or nulls). Players
    never get them: they would name a wrong answer before the class has talked about it."""
    return {**results, "misconception": misconception, "key_check": key_check}


def revote_fields(*, first_bins: list[int], first_top: list[dict] | None, switched_to_right: int) -> dict:
    """What a re-vote's question.results adds: the first round's counts, and how many students who
    were wrong the first time are right now."""
    fields: dict = {"first_bins": first_bins, "switched_to_right": switched_to_right}
    if first_top is not None:
        fields["first_top"] = first_top
    return fields
