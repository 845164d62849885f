"""Scores from answers: the points of one answer, which answer of a question counts, and the players'
totals recomputed in SQL (at every close, and after a regrade), all by the same rules."""

from __future__ import annotations

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from quizzes_app.models import Question
from sessions_app.engine.judging import QuestionFacts
from sessions_app.models import Answer, GameSession, Player


def score_for(*, points: int, time_limit_s: float, response_ms: int) -> int:
    """round(points * (1 - (t / time_limit) / 2)) with t clamped to the (player's) time limit."""
    t = min(max(response_ms / 1000, 0.0), time_limit_s)
    return round(points * (1 - (t / time_limit_s) / 2))


def personal_limit_s(facts: QuestionFacts, time_percent: int) -> float:
    """A player's own time limit for a question: the question's, times their extra-time factor."""
    return facts.time_limit_s * time_percent / 100


def points_for(
    facts: QuestionFacts, *, correct: bool, response_ms: int, time_percent: int, accuracy_only: bool,
    scores: bool = True,
) -> int:  # fmt: skip
    """What one answer scores. Wrong, a poll, or a re-vote that does not score (`scores` False): 0.
    Right: the whole of the question's points in accuracy mode (setting `score_by_accuracy`), else
    the speed formula over the player's own time limit."""
    if not (correct and scores):
        return 0
    if accuracy_only:
        return facts.points
    limit_s = personal_limit_s(facts, time_percent)
    return score_for(points=facts.points, time_limit_s=limit_s, response_ms=response_ms)


def counted(answers: QuerySet[Answer], revote_scores: bool) -> QuerySet[Answer]:
    """The answers that count for their question: the first round's, or with `revote_scores` the
    re-vote's where the player re-voted (counted_round says the same in Python)."""
    if not revote_scores:
        return answers.filter(round=1)
    revoted = Answer.objects.filter(
        player_id=OuterRef("player_id"), question_id=OuterRef("question_id"), round=2
    )
    return answers.filter(Q(round=2) | ~Exists(revoted))


def counted_round(rounds: set[int] | frozenset[int], revote_scores: bool) -> int:
    """Of the rounds a player answered a question in, the one that counts (see `counted`)."""
    return 2 if revote_scores and 2 in rounds else 1


# An answer's time saved against its question's limit, in the tie-break's terms (ranking.paced_ms):
# the limit, less the answer's time divided by the player's factor, in whole milliseconds.
LIMIT_MS = Coalesce("question__time_limit", "question__quiz__default_time_limit") * 1000
SAVED_MS = LIMIT_MS - F("response_ms") * 100 / F("time_percent")


def _totals(session: GameSession, answers: QuerySet[Answer]) -> dict:
    """Per-player subqueries over `answers` (filtered on OuterRef("pk")): points, right, time saved."""
    mine = counted(answers, session.scores_revote).order_by().values("player")
    return {
        "points": Coalesce(Subquery(mine.annotate(total=Sum("points")).values("total")), 0),
        "right": Coalesce(Subquery(mine.filter(correct=True).annotate(n=Count("pk")).values("n")), 0),
        "saved": Coalesce(Subquery(mine.annotate(saved=Sum(SAVED_MS)).values("saved")), 0),
    }


def recompute_scores(session: GameSession, index: int) -> None:
    """Every player's score, correct count and tie-break time from the answers to questions 0..index,
    so closing twice (or late), re-voting or regrading cannot count anything twice.

    The tie-break time is ranking.total_answer_ms in SQL: a question left unanswered counts as its
    whole time limit.
    """
    totals = _totals(session, Answer.objects.filter(player=OuterRef("pk"), question_index__lte=index))
    played = Question.objects.filter(quiz_id=session.quiz_id).order_by("order", "pk").select_related("quiz")
    all_limits_ms = 1000 * sum(q.effective_time_limit for q in played[: index + 1])
    Player.objects.filter(session=session).update(
        score=totals["points"],
        correct_count=totals["right"],
        total_answer_ms=Value(all_limits_ms) - totals["saved"],
    )


def ranked_before(session: GameSession, index: int) -> QuerySet[Player]:
    """The players not kicked, ranked (ranking.ORDER) by the scores they had before question `index`,
    annotated with `score_before`."""
    totals = _totals(session, Answer.objects.filter(player=OuterRef("pk"), question_index__lt=index))
    return (
        Player.objects.filter(session=session, kicked=False)
        .annotate(score_before=totals["points"], saved_before=totals["saved"])
        .order_by("-score_before", "-saved_before", "joined_at", "pk")
    )
