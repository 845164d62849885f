"""Reads for the results report: computed from Answer rows in a fixed number of queries."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Case, Count, F, FloatField, IntegerField, OuterRef, QuerySet, Subquery, Sum, When
from django.db.models.functions import Cast, Coalesce

from quizzes_app.models import Choice, Question
from sessions_app import ranking
from sessions_app.models import Answer, GameSession, Player

RIGHT, WRONG, NONE = "right", "wrong", "none"


def format_ms(ms: int | None) -> str:
    """Milliseconds as seconds for people, e.g. '3.2 s'; an en dash when there is no value."""
    return "\u2013" if ms is None else f"{ms / 1000:.1f} s"


def _median(values: list[int]) -> int | None:
    return round(statistics.median(values)) if values else None


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


@dataclass
class OptionStat:
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
    options: list[OptionStat]
    correct_index: int | None
    correct_text: str
    answered_count: int
    correct_count: int
    percent_correct: float  # of the players, so silence counts against the question
    median_ms: int | None
    played: bool

    @property
    def median_label(self) -> str:
        return format_ms(self.median_ms)


@dataclass
class PlayerAnswer:
    number: int
    prompt: str
    choice_idx: int | None
    choice_text: str
    correct_text: str
    outcome: str  # RIGHT, WRONG or NONE
    response_ms: int | None
    points: int | None

    @property
    def time_label(self) -> str:
        return format_ms(self.response_ms)


@dataclass
class PlayerRow:
    pk: int
    public_id: str
    name: str
    joined_at: datetime
    score: int
    correct_count: int
    accuracy: float  # of the questions played
    median_ms: int | None
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

    def player(self, public_id: str) -> PlayerRow | None:
        """The row of the player with this public id, if they are in the report."""
        return next((row for row in self.players if row.public_id == public_id), None)


def _questions(session: GameSession) -> list[tuple[Question, list[Choice]]]:
    """The quiz's questions in play order, each with its choices in order (two queries)."""
    if session.quiz_id is None:
        return []
    questions = (
        Question.objects.filter(quiz_id=session.quiz_id).select_related("quiz").order_by("order", "pk")
    )
    return [(q, list(q.choices.all())) for q in questions.prefetch_related("choices")]


def _answers_by_player(session: GameSession, player_ids: set[int]) -> dict[int, dict[int, tuple]]:
    """{player pk: {question pk: (choice_idx, response_ms, correct, points)}} in one query."""
    rows = Answer.objects.filter(session=session).values_list(
        "player_id", "question_id", "choice_idx", "response_ms", "correct", "points"
    )
    by_player: dict[int, dict[int, tuple]] = {pk: {} for pk in player_ids}
    for player_id, question_id, *rest in rows:
        # Kicked players are out of the report, answers included, so counts match the player count.
        if player_id in by_player:
            by_player[player_id][question_id] = tuple(rest)
    return by_player


def _player_row(
    player: Player,
    questions: list[tuple[Question, list[Choice]]],
    given: dict[int, tuple],
    played: list[bool],
) -> PlayerRow:
    answers = []
    for number, (question, choices) in enumerate(questions, start=1):
        correct_text = next((c.text for c in choices if c.is_correct), "")
        if question.pk not in given:
            answers.append(PlayerAnswer(number, question.prompt, None, "", correct_text, NONE, None, None))
            continue
        choice_idx, response_ms, correct, points = given[question.pk]
        text = choices[choice_idx].text if 0 <= choice_idx < len(choices) else ""
        outcome = RIGHT if correct else WRONG
        answers.append(
            PlayerAnswer(
                number, question.prompt, choice_idx, text, correct_text, outcome, response_ms, points
            )
        )
    answered = [a for a in answers if a.outcome != NONE]
    correct_count = sum(1 for a in answered if a.outcome == RIGHT)
    times = [
        (a.response_ms, q.effective_time_limit * 1000)
        for a, (q, _), p in zip(answers, questions, played, strict=True)
        if p
    ]
    return PlayerRow(
        pk=player.pk,
        public_id=player.public_id,
        name=player.name,
        joined_at=player.joined_at,
        score=sum(a.points for a in answered),
        correct_count=correct_count,
        accuracy=_percent(correct_count, sum(played)),
        median_ms=_median([a.response_ms for a in answered]),
        total_ms=ranking.total_answer_ms([ms for ms, _ in times], [limit for _, limit in times]),
        answers=answers,
    )


def _question_stat(
    index: int, question: Question, choices: list[Choice], rows: list[PlayerRow], played: bool
) -> QuestionStat:
    given = [row.answers[index] for row in rows if row.answers[index].outcome != NONE]
    counts = [sum(1 for a in given if a.choice_idx == i) for i in range(len(choices))]
    correct_index = next((i for i, c in enumerate(choices) if c.is_correct), None)
    correct_count = sum(1 for a in given if a.outcome == RIGHT)
    return QuestionStat(
        index=index,
        number=index + 1,
        prompt=question.prompt,
        options=[
            OptionStat(i, c.text, counts[i], _percent(counts[i], len(given)), c.is_correct)
            for i, c in enumerate(choices)
        ],
        correct_index=correct_index,
        correct_text=choices[correct_index].text if correct_index is not None else "",
        answered_count=len(given),
        correct_count=correct_count,
        percent_correct=_percent(correct_count, len(rows)),
        median_ms=_median([a.response_ms for a in given]),
        played=played,
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
    stats = [_question_stat(i, q, choices, rows, played[i]) for i, (q, choices) in enumerate(questions)]

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
