"""Reads for the results report: computed from Answer rows in a fixed number of queries."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Case, Count, F, FloatField, IntegerField, OuterRef, QuerySet, Subquery, Sum, When
from django.db.models.functions import Cast, Coalesce

from quizzes_app.kinds import Kind
from quizzes_app.models import Question
from sessions_app import ranking
from sessions_app.engine import judging
from sessions_app.engine.judging import QuestionFacts
from sessions_app.models import Answer, GameSession, Player

RIGHT, WRONG, NONE = "right", "wrong", "none"
# A poll answer is neither right nor wrong: it was a vote.
VOTED = "voted"

# What a distribution row marked correct means, by kind (said in words, not by colour alone).
CORRECT_MARK = {
    Kind.SINGLE: "correct answer",
    Kind.TRUEFALSE: "correct answer",
    Kind.MULTI: "correct answer",
    Kind.TEXT: "accepted answer",
    Kind.SLIDER: "the correct value is in this range",
    Kind.ORDER: "correct",
}
# What a question's distribution counts, by kind.
DISTRIBUTION_LABEL = {
    Kind.SINGLE: "Answers per option",
    Kind.TRUEFALSE: "Answers per option",
    Kind.POLL: "Votes per option",
    Kind.MULTI: "How many picked each option (players could pick several)",
    Kind.TEXT: "Most typed answers (alike spellings counted together)",
    Kind.SLIDER: "Answers over the range",
    Kind.ORDER: "Answers in the right order",
}
ORDER_ROWS = ("In the right order", "In another order")


def format_ms(ms: int | None) -> str:
    """Milliseconds as seconds for people, e.g. '3.2 s'; an en dash when there is no value."""
    return "\u2013" if ms is None else f"{ms / 1000:.1f} s"


def _median(values: list[int]) -> int | None:
    return round(statistics.median(values)) if values else None


def _percent(part: int, whole: int) -> float:
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
class QuestionStat:
    index: int  # 0-based, as in Answer.question_index
    number: int
    prompt: str
    kind: str
    options: list[OptionStat]
    correct_index: int | None  # single and truefalse only
    correct_text: str  # the answer key in words; empty for a poll
    answered_count: int
    correct_count: int | None  # None for a poll
    percent_correct: float | None  # of the players, so silence counts against it; None for a poll
    median_ms: int | None
    played: bool
    other_count: int = 0  # text: answers beyond the most typed ones listed

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
        return DISTRIBUTION_LABEL.get(self.kind, "Answers")

    @property
    def correct_mark(self) -> str:
        return CORRECT_MARK.get(self.kind, "correct answer")

    @property
    def tells_difficulty(self) -> bool:
        """Whether its percent correct says how hard it was: reached, and not a poll."""
        return self.played and self.scored


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

    @property
    def time_label(self) -> str:
        return format_ms(self.response_ms)

    @property
    def scored(self) -> bool:
        return self.kind != Kind.POLL


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
    total_ms: int
    answers: list[PlayerAnswer]
    rank: int = 0
    accuracy_rank: int = 0

    @property
    def median_label(self) -> str:
        return format_ms(self.median_ms)


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

    def player(self, public_id: str) -> PlayerRow | None:
        """The row of the player with this public id, if they are in the report."""
        return next((row for row in self.players if row.public_id == public_id), None)


def _questions(session: GameSession) -> list[tuple[Question, QuestionFacts]]:
    """The quiz's questions in play order, each with its facts (two queries)."""
    if session.quiz_id is None:
        return []
    questions = list(
        Question.objects.filter(quiz_id=session.quiz_id)
        .select_related("quiz")
        .order_by("order", "pk")
        .prefetch_related("choices")
    )
    return [(q, judging.facts_of(q, list(q.choices.all()), total=len(questions))) for q in questions]


def _answers_by_player(session: GameSession, player_ids: set[int]) -> dict[int, dict[int, tuple]]:
    """{player pk: {question pk: (choice_idx, response, response_ms, correct, points)}} in one query."""
    rows = Answer.objects.filter(session=session).values_list(
        "player_id", "question_id", "choice_idx", "response", "response_ms", "correct", "points"
    )
    by_player: dict[int, dict[int, tuple]] = {pk: {} for pk in player_ids}
    for player_id, question_id, *rest in rows:
        # Kicked players are out of the report, answers included, so counts match the player count.
        if player_id in by_player:
            by_player[player_id][question_id] = tuple(rest)
    return by_player


def _answer_key(facts: QuestionFacts) -> str:
    if facts.kind == Kind.SLIDER and not _slider_complete(facts):
        return ""
    return judging.answer_key_text(facts)


def _slider_complete(facts: QuestionFacts) -> bool:
    # A question edited into a slider after it was played may lack the slider's fields.
    slider = facts.slider
    return slider is not None and None not in (slider.min, slider.max, slider.step, slider.correct)


def _player_row(
    player: Player,
    questions: list[tuple[Question, QuestionFacts]],
    given: dict[int, tuple],
    played: list[bool],
) -> PlayerRow:
    answers = []
    for number, (question, facts) in enumerate(questions, start=1):
        choice_idx, response, response_ms, correct, points = given.get(question.pk, (None,) * 5)
        if question.pk not in given:
            outcome = NONE
        elif not facts.scored:
            outcome = VOTED
        else:
            outcome = RIGHT if correct else WRONG
        answers.append(
            PlayerAnswer(
                number=number,
                prompt=question.prompt,
                kind=facts.kind,
                choice_idx=choice_idx,
                response=response,
                answer_text=judging.readable(facts.kind, facts.texts, choice_idx, response),
                correct_text=_answer_key(facts),
                outcome=outcome,
                response_ms=response_ms,
                points=points,
            )
        )
    answered = [a for a in answers if a.outcome != NONE]
    correct_count = sum(1 for a in answered if a.outcome == RIGHT)
    # A poll has no right answer, so it counts in neither accuracy nor the time it took to be right;
    # the tie-break time below is the ranking rule's, which counts every question played.
    scored_played = sum(1 for (_, facts), p in zip(questions, played, strict=True) if p and facts.scored)
    times = [
        (a.response_ms, facts.time_limit_s * 1000)
        for a, (_, facts), p in zip(answers, questions, played, strict=True)
        if p
    ]
    return PlayerRow(
        pk=player.pk,
        public_id=player.public_id,
        name=player.name,
        joined_at=player.joined_at,
        score=sum(a.points for a in answered),
        correct_count=correct_count,
        accuracy=_percent(correct_count, scored_played),
        median_ms=_median([a.response_ms for a in answered if a.scored]),
        total_ms=ranking.total_answer_ms([ms for ms, _ in times], [limit for _, limit in times]),
        answers=answers,
    )


def _tally_value(column: str, answer: PlayerAnswer) -> Any:
    """An answer's value in judging.tally_column(kind), as the live tally groups it in SQL."""
    if column == "choice_idx":
        return answer.choice_idx
    if column == "correct":
        return answer.outcome == RIGHT
    return answer.response


def _distribution(facts: QuestionFacts, given: list[PlayerAnswer]) -> tuple[list[OptionStat], int]:
    """The rows of a question's distribution, and (text) how many answers the rows leave out."""
    if facts.kind == Kind.SLIDER and not _slider_complete(facts):
        return [], 0
    column = judging.tally_column(facts.kind)
    counted = judging.tally(facts, [(_tally_value(column, a), 1) for a in given])
    n = len(given)

    def row(i: int, text: str, is_correct: bool) -> OptionStat:
        return OptionStat(i, text, counted.bins[i], _percent(counted.bins[i], n), is_correct)

    if facts.kind == Kind.TEXT:
        rows = [row(i, top["text"], top["correct"]) for i, top in enumerate(counted.top)]
        return rows, n - sum(counted.bins)
    if facts.kind == Kind.ORDER:
        return [row(0, ORDER_ROWS[0], True), row(1, ORDER_ROWS[1], False)], 0
    if facts.kind == Kind.SLIDER:
        labels = judging.slider_bin_labels(facts.slider)
        right = judging.slider_bin(facts.slider, facts.slider.correct, len(labels))
        return [row(i, label, i == right) for i, label in enumerate(labels)], 0
    return [row(i, text, ok) for i, (text, ok) in enumerate(zip(facts.texts, facts.correct, strict=True))], 0


def _question_stat(
    index: int, question: Question, facts: QuestionFacts, rows: list[PlayerRow], played: bool
) -> QuestionStat:
    given = [row.answers[index] for row in rows if row.answers[index].outcome != NONE]
    options, other_count = _distribution(facts, given)
    correct_index = (
        next((i for i, ok in enumerate(facts.correct) if ok), None)
        if facts.kind in (Kind.SINGLE, Kind.TRUEFALSE)
        else None
    )
    correct_count = sum(1 for a in given if a.outcome == RIGHT) if facts.scored else None
    return QuestionStat(
        index=index,
        number=index + 1,
        prompt=question.prompt,
        kind=facts.kind,
        options=options,
        correct_index=correct_index,
        correct_text=_answer_key(facts),
        answered_count=len(given),
        correct_count=correct_count,
        percent_correct=None if correct_count is None else _percent(correct_count, len(rows)),
        median_ms=_median([a.response_ms for a in given]),
        played=played,
        other_count=other_count,
    )


def session_report(session: GameSession) -> SessionReport:
    """Everything the results page and CSVs show, in four queries whatever the size of the session."""
    questions = _questions(session)
    players = list(session.players.filter(kicked=False).order_by("joined_at", "pk"))
    given = _answers_by_player(session, {p.pk for p in players})
    # A question counts as played if the session reached it or anyone answered it.
    answered_questions = {qid for answers in given.values() for qid in answers}
    played = [i <= session.question_index or q.pk in answered_questions for i, (q, _) in enumerate(questions)]
    rows = [_player_row(p, questions, given[p.pk], played) for p in players]
    stats = [_question_stat(i, q, facts, rows, played[i]) for i, (q, facts) in enumerate(questions)]

    by_score = sorted(
        rows,
        key=lambda r: ranking.rank_key(
            score=r.score, total_answer_ms=r.total_ms, joined_at=r.joined_at, pk=r.pk
        ),
    )
    for rank, row in enumerate(by_score, start=1):
        row.rank = rank
    # Someone who never answered has no median; they go after everyone who did.
    no_time = float("inf")
    by_accuracy = sorted(
        rows, key=lambda r: (-r.correct_count, no_time if r.median_ms is None else r.median_ms)
    )
    for rank, row in enumerate(by_accuracy, start=1):
        row.accuracy_rank = rank
    return SessionReport(
        session=session,
        code=session.code,
        quiz_title=session.quiz.title if session.quiz_id else "(deleted quiz)",
        date=session.created_at,
        player_count=len(rows),
        questions=stats,
        players=by_score,
        accuracy_ranking=by_accuracy,
    )


def past_sessions_for(user) -> QuerySet[GameSession]:
    """The user's own sessions, newest first, with player_count and average_score, in one query."""
    player_count = (
        Player.objects.filter(session=OuterRef("pk"), kicked=False)
        .order_by()
        .values("session")
        .annotate(n=Count("pk"))
        .values("n")
    )
    # Points come from answers, like the report, so a session stopped mid-question agrees with it.
    points = (
        Answer.objects.filter(session=OuterRef("pk"), player__kicked=False)
        .order_by()
        .values("session")
        .annotate(total=Sum("points"))
        .values("total")
    )
    return (
        GameSession.objects.filter(host=user)
        .select_related("quiz")
        .annotate(
            player_count=Coalesce(Subquery(player_count, output_field=IntegerField()), 0),
            points_total=Coalesce(Subquery(points, output_field=IntegerField()), 0),
        )
        .annotate(
            average_score=Case(
                When(player_count=0, then=None),
                default=Cast(F("points_total"), FloatField()) / Cast(F("player_count"), FloatField()),
                output_field=FloatField(),
            )
        )
        .order_by("-created_at", "-pk")
    )
