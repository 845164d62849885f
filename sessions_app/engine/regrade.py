"""Regrading a question after the game: a new answer key for this session, and every verdict, score
and rank recomputed from the stored answers, by the same rules as when they were first scored.

Each regrade scores from the answers as stored (response, time, the player's extra time), never
from the last verdicts, so regrading twice gives the same numbers, and regrading back to the quiz's
own key gives those of the game.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext_lazy

from quizzes_app.models import Question
from sessions_app.engine import answer_keys, judging
from sessions_app.engine.events import EngineError, Outcome
from sessions_app.engine.judging import QuestionFacts
from sessions_app.engine.lobby import host_session
from sessions_app.engine.scores import points_for, recompute_scores
from sessions_app.models import Answer, GameSession, Regrade

State = GameSession.State


def played_question(session: GameSession, question_pk: int) -> tuple[Question, QuestionFacts]:
    """A question of the session's quiz that the game reached, with its facts as saved."""
    question = Question.objects.filter(pk=question_pk, quiz_id=session.quiz_id).select_related("quiz").first()
    if question is None:
        raise EngineError("not_found", gettext_lazy("No such question in this session's quiz."))
    ids = list(
        Question.objects.filter(quiz_id=session.quiz_id).order_by("order", "pk").values_list("pk", flat=True)
    )
    if ids.index(question.pk) > session.question_index:
        raise EngineError("wrong_state", gettext_lazy("That question was not played in this session."))
    return question, judging.facts_of(question, list(question.choices.order_by("order", "pk")))


def regrade_question(*, session_pk: int, host, question_pk: int, key: dict, now: datetime) -> Outcome:
    """Set this session's answer key for a question (engine/answer_keys.py shapes) and recompute."""
    with transaction.atomic():
        session = host_session(session_pk=session_pk, host=host)
        if session.state != State.FINISHED:
            raise EngineError(
                "wrong_state", gettext_lazy("A question can be regraded once the game is over.")
            )
        question, facts = played_question(session, question_pk)
        cleaned = answer_keys.clean_key(facts, key)
        Regrade.objects.update_or_create(
            session=session, question=question, defaults={"key": cleaned, "regraded_at": now}
        )
        rescore(session, question.pk, answer_keys.with_key(facts, cleaned))
        recompute_scores(session, session.question_index)
        return Outcome(session=session)


def rescore(session: GameSession, question_pk: int, facts: QuestionFacts) -> None:
    """Every answer to the question (both rounds) judged and scored again by `facts`."""
    accuracy_only = bool(session.settings.get("score_by_accuracy"))
    answers = list(Answer.objects.filter(session=session, question_id=question_pk))
    for answer in answers:
        answer.correct = judging.is_right(facts, answer.choice_idx, answer.response)
        answer.points = points_for(
            facts, correct=answer.correct, response_ms=answer.response_ms, time_percent=answer.time_percent,
            accuracy_only=accuracy_only, scores=answer.round == 1 or session.scores_revote,
        )  # fmt: skip
    Answer.objects.bulk_update(answers, ["correct", "points"], batch_size=500)
