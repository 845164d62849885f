"""The rows of the results report (reports.py computes them): questions, players, their answers."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import formats
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from quizzes_app.kinds import Kind
from sessions_app.models import GameSession, time_factor

RIGHT, WRONG, NONE = "right", "wrong", "none"
# A poll answer is neither right nor wrong: it was a vote.
VOTED = "voted"

# What a distribution row marked correct means, by kind (said in words, not by colour alone).
# Words are lazy translations: the report is put in the language of the page that shows it.
CORRECT_MARK = {
    Kind.SINGLE: gettext_lazy("correct answer"),
    Kind.TRUEFALSE: gettext_lazy("correct answer"),
    Kind.MULTI: gettext_lazy("correct answer"),
    Kind.TEXT: gettext_lazy("accepted answer"),
    Kind.SLIDER: gettext_lazy("the correct value is in this range"),
    Kind.ORDER: pgettext_lazy("the right order", "correct"),
}
# What a question's distribution counts, by kind.
DISTRIBUTION_LABEL = {
    Kind.SINGLE: gettext_lazy("Answers per option"),
    Kind.TRUEFALSE: gettext_lazy("Answers per option"),
    Kind.POLL: gettext_lazy("Votes per option"),
    Kind.MULTI: gettext_lazy("How many picked each option (players could pick several)"),
    Kind.TEXT: gettext_lazy("Most typed answers (alike spellings counted together)"),
    Kind.SLIDER: gettext_lazy("Answers over the range"),
    Kind.ORDER: gettext_lazy("Answers in the right order"),
}
ORDER_ROWS = (gettext_lazy("In the right order"), gettext_lazy("In another order"))
LETTERS = "ABCDEF"


def same_answer_text(alert: dict, kind: str, verb: str = "chose") -> str:
    """An alert's answer for people: '42% chose B: Mars', '30% typed “Moon”', '25% chose A, C: ...'."""
    percent, answer = alert["percent"], alert["answer_text"]
    if kind == Kind.TEXT:
        return gettext("%(percent)s%% typed “%(answer)s”") % {"percent": percent, "answer": answer}
    if alert.get("answer_idx") is not None:
        letters = LETTERS[alert["answer_idx"]]
    elif alert.get("answer_idxs") is not None:
        letters = ", ".join(LETTERS[i] for i in alert["answer_idxs"])
    else:
        return gettext("%(percent)s%% put them %(answer)s") % {"percent": percent, "answer": answer}
    if verb != "chose":
        return f"{percent}% {verb} {letters}: {answer}"
    return gettext("%(percent)s%% chose %(letters)s: %(answer)s") % {
        "percent": percent,
        "letters": letters,
        "answer": answer,
    }


def format_ms(ms: int | None) -> str:
    """Milliseconds as seconds for people in the active language, e.g. '3.2 s' ('3,2 s' in French);
    an en dash when there is no value."""
    return "\u2013" if ms is None else f"{formats.number_format(ms / 1000, 1)} s"


def median(values: list[int]) -> int | None:
    return round(statistics.median(values)) if values else None


def percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


@dataclass
class OptionStat:
    """One row of a question's distribution: an option, a typed answer, a part of a slider's range,
    or (order) right or not."""

    index: int
    text: str
    count: int
    percent: float  # of the answers to this question
    is_correct: bool


@dataclass
class Revote:
    """A question's second round: its distribution, and who moved to the right answer."""

    options: list[OptionStat]
    answered_count: int
    correct_count: int | None
    switched_to_right: int
    other_count: int = 0


@dataclass
class QuestionStat:
    index: int  # 0-based, as in Answer.question_index
    number: int
    prompt: str
    kind: str
    options: list[OptionStat]  # the first round's
    correct_index: int | None  # single and truefalse only
    correct_text: str  # the answer key in words (as regraded, if it was); empty for a poll
    answered_count: int
    correct_count: int | None  # None for a poll
    percent_correct: float | None  # of the players, so silence counts against it; None for a poll
    median_ms: int | None
    played: bool
    other_count: int = 0  # text: answers beyond the most typed ones listed
    question_pk: int = 0
    misconception: dict | None = None  # protocol.misconception, over the first round's answers
    revote: Revote | None = None
    regraded_at: datetime | None = None
    own_key_text: str = ""  # the quiz's own key in words, when a regrade replaced it
    key: dict | None = None  # the key judged by (engine/answer_keys.py), to fill the regrade form
    texts: tuple[str, ...] = ()  # the choices in their stored order (text: the accepted answers)

    @property
    def median_label(self) -> str:
        return format_ms(self.median_ms)

    @property
    def scored(self) -> bool:
        return self.kind != Kind.POLL

    @property
    def kind_label(self) -> str:
        return Kind(self.kind).label if self.kind in Kind.values else self.kind

    @property
    def distribution_label(self) -> str:
        return DISTRIBUTION_LABEL.get(self.kind, gettext("Answers"))

    @property
    def correct_mark(self) -> str:
        return CORRECT_MARK.get(self.kind, gettext("correct answer"))

    @property
    def tells_difficulty(self) -> bool:
        """Whether its percent correct says how hard it was: reached, and not a poll."""
        return self.played and self.scored

    @property
    def misconception_text(self) -> str:
        return same_answer_text(self.misconception, self.kind) if self.misconception else ""

    @property
    def regrade_choices(self) -> list[dict]:
        """The choices as the regrade form lists them: letter, text, whether the key has it, its place."""
        key = self.key or {}
        right, order = set(key.get("correct_idxs") or []), key.get("correct_order") or []
        return [
            {"idx": i, "letter": LETTERS[i] if i < len(LETTERS) else "", "text": text, "checked": i in right,
             "place": order.index(i) + 1 if i in order else i + 1}
            for i, text in enumerate(self.texts)
        ]  # fmt: skip

    @property
    def accepted_lines(self) -> str:
        """A text question's accepted answers, one per line (the regrade form's text box)."""
        return "\n".join((self.key or {}).get("accepted") or [])

    @property
    def places(self) -> range:
        return range(1, len(self.texts) + 1)


@dataclass
class PlayerAnswer:
    number: int
    prompt: str
    kind: str
    choice_idx: int | None  # one-tap kinds
    response: Any  # the other kinds, as stored (Answer.response)
    answer_text: str  # the answer in words (judging.readable)
    correct_text: str
    outcome: str  # RIGHT, WRONG, VOTED (a poll) or NONE
    response_ms: int | None
    points: int | None
    time_percent: int = 100  # the player's extra time when they answered
    second: PlayerAnswer | None = None  # the re-vote's answer, if the question was re-voted
    counts: bool = True  # whether this answer (not the re-vote's) is the one the score counts

    @property
    def time_label(self) -> str:
        return format_ms(self.response_ms)

    @property
    def scored(self) -> bool:
        return self.kind != Kind.POLL

    @property
    def time_factor(self) -> float:
        return time_factor(self.time_percent)


@dataclass
class PlayerRow:
    pk: int
    public_id: str
    name: str
    joined_at: datetime
    score: int
    correct_count: int
    accuracy: float  # of the scored questions played
    median_ms: int | None  # of the answers to scored questions
    total_ms: int  # the ranking's tie-break time (ranking.total_answer_ms)
    answers: list[PlayerAnswer]
    rank: int = 0
    accuracy_rank: int = 0
    time_percent: int = 100  # extra time the host gave

    @property
    def median_label(self) -> str:
        return format_ms(self.median_ms)

    @property
    def total_label(self) -> str:
        return format_ms(self.total_ms)

    @property
    def time_factor(self) -> float:
        return time_factor(self.time_percent)


@dataclass
class SessionReport:
    session: GameSession
    code: str
    quiz_title: str
    date: datetime
    player_count: int
    questions: list[QuestionStat]
    players: list[PlayerRow]  # by score
    accuracy_ranking: list[PlayerRow] = field(default_factory=list)

    @property
    def has_polls(self) -> bool:
        return any(not q.scored for q in self.questions)

    @property
    def accuracy_only(self) -> bool:
        return bool(self.session.settings.get("score_by_accuracy"))

    @property
    def has_extra_time(self) -> bool:
        return any(p.time_percent != 100 for p in self.players)

    @property
    def has_revotes(self) -> bool:
        return any(q.revote for q in self.questions)

    def player(self, public_id: str) -> PlayerRow | None:
        """The row of the player with this public id, if they are in the report."""
        return next((row for row in self.players if row.public_id == public_id), None)
