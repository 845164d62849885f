"""The question cycle: start, next, end, stop, the deadline close, the reveal, the finish, auto-advance."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from quizzes_app.kinds import check_question
from quizzes_app.models import Question, question_label
from sessions_app import protocol, selectors
from sessions_app.engine import judging
from sessions_app.engine.answers import grace, question_facts
from sessions_app.engine.events import ALL, PLAYER, EngineError, Outcome, Push, Refresh, Wake
from sessions_app.engine.lobby import check_playable, host_session
from sessions_app.models import Answer, GameSession, Player

log = logging.getLogger(__name__)


State = GameSession.State


def quiz_start(*, session_pk: int, host, now: datetime) -> Outcome:
    with transaction.atomic():
        session = host_session(session_pk=session_pk, host=host)
        if session.state != State.LOBBY:
            raise EngineError("wrong_state", "The quiz has already started.")
        return Outcome(events=_advance(session, now))


def question_next(*, session_pk: int, host, now: datetime) -> Outcome:
    """Close the open question if any, then open the next one, or finish after the last."""
    with transaction.atomic():
        session = host_session(session_pk=session_pk, host=host)
        if session.state == State.FINISHED:
            raise EngineError("wrong_state", "The quiz is over.")
        events: list = []
        if session.state == State.QUESTION:
            events += question_close(session_pk=session.pk, index=session.question_index, now=now).events
            session.refresh_from_db()
        return Outcome(events=events + _advance(session, now))


def question_end(*, session_pk: int, host, now: datetime) -> Outcome:
    with transaction.atomic():
        session = host_session(session_pk=session_pk, host=host)
        if session.state != State.QUESTION:
            raise EngineError("wrong_state", "No question is open.")
        return question_close(session_pk=session.pk, index=session.question_index, now=now)


def quiz_stop(*, session_pk: int, host, now: datetime) -> Outcome:
    with transaction.atomic():
        session = host_session(session_pk=session_pk, host=host)
        if session.state == State.FINISHED:
            raise EngineError("wrong_state", "The quiz is over.")
        if session.state == State.QUESTION:
            question_close(session_pk=session.pk, index=session.question_index, now=now, announce=False)
        return Outcome(events=_finish(session, now))


def auto_advance(*, session_pk: int, index: int, now: datetime) -> Outcome:
    """Move on after the results pause; a no-op unless that pause is still current and due."""
    with transaction.atomic():
        session = (
            GameSession.objects.select_for_update(of=("self",))
            .select_related("quiz")
            .filter(pk=session_pk)
            .first()
        )
        if (
            session is None
            or session.state != State.RESULTS
            or session.question_index != index
            or session.advance_at is None
            or session.advance_at > now
        ):
            return Outcome()
        try:
            return Outcome(events=_advance(session, now))
        except EngineError as exc:
            # Nobody to tell but the log: the results stay up and the host's Next gets the error.
            log.warning("auto-advance of session %s stopped: %s", session.code, exc.message)
            GameSession.objects.filter(pk=session.pk).update(advance_at=None)
            return Outcome()


def _advance(session: GameSession, now: datetime) -> list:
    if session.quiz_id is None:
        raise EngineError("wrong_state", "Load a quiz first.")
    question_ids = selectors.question_ids(session.quiz_id)
    if not question_ids:
        raise EngineError("wrong_state", "The quiz has no questions.")
    if session.state == State.LOBBY:
        check_playable(session.quiz_id)  # it may have been edited since it was loaded
    next_index = session.question_index + 1
    if next_index >= len(question_ids):
        return _finish(session, now)
    question_pk = question_ids[next_index]
    # Read once at the opening: the frame below, the answers and the reveal all use this reading.
    facts = question_facts(question_pk, now)
    try:  # the quiz may have been edited in the admin since the game started
        check_question(facts.kind, list(facts.correct), facts.slider)
    except ValidationError as exc:
        label = question_label(next_index + 1, facts.prompt)
        raise EngineError("invalid", f"{label} cannot be played: {exc.messages[0]}") from None
    deadline = now + timedelta(seconds=facts.time_limit_s)
    updated = GameSession.objects.filter(
        pk=session.pk, state=session.state, question_index=session.question_index
    ).update(
        state=State.QUESTION, question_index=next_index, current_question_id=question_pk,
        question_opened_at=now, question_deadline=deadline, advance_at=None,
    )  # fmt: skip
    if not updated:
        return []  # another worker moved this session on first
    payload = selectors.question_payload(
        session.pk, question_pk, facts, next_index, time_left_ms=facts.time_limit_s * 1000
    )
    return [
        Push(session.code, ALL, payload),
        Wake(session.pk, session.code, deadline + grace(), next_index, "close"),
        Refresh(session.pk, session.code, "host_lobby"),
        Refresh(session.pk, session.code, "histogram"),
    ]


def _finish(session: GameSession, now: datetime) -> list:
    GameSession.objects.filter(pk=session.pk).update(state=State.FINISHED, finished_at=now, advance_at=None)
    board = selectors.leaderboard(session)
    return [
        Push(session.code, ALL, protocol.quiz_finished(leaderboard=board)),
        Refresh(session.pk, session.code, "host_lobby"),
    ]


def question_close(*, session_pk: int, index: int, now: datetime, announce: bool = True) -> Outcome:
    """Close question `index` and reveal it. Idempotent: only the first caller does anything."""
    with transaction.atomic():
        session = GameSession.objects.select_related("current_question__quiz").filter(pk=session_pk).first()
        if session is None or session.state != State.QUESTION or session.question_index != index:
            return Outcome()
        auto = session.settings.get("auto_advance") and announce
        advance_at = now + timedelta(seconds=settings.KNEWIT["AUTO_ADVANCE_S"]) if auto else None
        # The conditional update is the claim: of racing closers, exactly one sees a row change.
        # On PostgreSQL it also waits for answers in flight (they hold FOR SHARE on this row).
        claimed = GameSession.objects.filter(
            pk=session_pk, state=State.QUESTION, question_index=index
        ).update(state=State.RESULTS, revealed_count=index + 1, advance_at=advance_at)
        if not claimed:
            return Outcome()
        _recompute_scores(session, index)
        if not announce:
            return Outcome()
        events = _reveal(session, index)
        # "lobby": players hear here of joins and kicks made while the question was open.
        events.append(Refresh(session.pk, session.code, "lobby"))
        if advance_at is not None:
            events.append(Wake(session.pk, session.code, advance_at, index, "advance"))
        return Outcome(events=events)


def _recompute_scores(session: GameSession, index: int) -> None:
    """Scores from the answers themselves, so closing twice (or late) cannot count anything twice.

    The tie-break time is ranking.total_answer_ms in SQL: a question left unanswered counts as its
    whole time limit.
    """
    limit_ms = Coalesce("question__time_limit", "question__quiz__default_time_limit") * 1000
    mine = Answer.objects.filter(player=OuterRef("pk"), question_index__lte=index).order_by().values("player")
    total_points = mine.annotate(total=Sum("points")).values("total")
    correct = mine.filter(correct=True).annotate(n=Count("pk")).values("n")
    time_saved = mine.annotate(saved=Sum(limit_ms - F("response_ms"))).values("saved")
    all_limits_ms = 1000 * sum(
        q.effective_time_limit
        for q in Question.objects.filter(
            pk__in=selectors.question_ids(session.quiz_id)[: index + 1]
        ).select_related("quiz")
    )
    Player.objects.filter(session=session).update(
        score=Coalesce(Subquery(total_points), 0),
        correct_count=Coalesce(Subquery(correct), 0),
        total_answer_ms=Value(all_limits_ms) - Coalesce(Subquery(time_saved), 0),
    )


def _reveal(session: GameSession, index: int) -> list[Push]:
    """question.results for everyone, then each player's own answer.result with score and rank."""
    # The choices as they were scored: an edit in the admin meanwhile changes neither verdict nor reveal.
    facts = question_facts(session.current_question_id, session.question_opened_at)
    order = judging.shown(facts, session.pk, session.current_question_id)
    counted = selectors.tally(session, index, facts)
    ranked = list(selectors.ranked_players(session).only("public_id", "name", "score", "correct_count"))
    results = protocol.question_results(
        question_num=index + 1, answer_key=judging.reveal_fields(facts, order), bins=counted.bins,
        top=counted.top, leaderboard=selectors.entries(ranked[:10]),
    )  # fmt: skip
    answers = {
        player_pk: (correct, points)
        for player_pk, correct, points in Answer.objects.filter(
            session=session, question_index=index
        ).values_list("player_id", "correct", "points")
    }
    pushes = [Push(session.code, ALL, results)]
    for rank, player in enumerate(ranked, start=1):
        correct, points = answers.get(player.pk, (False, 0))
        payload = protocol.answer_result(
            question_num=index + 1, answered=player.pk in answers, correct=correct, points=points,
            score=player.score, rank=rank, scored=facts.scored,
        )  # fmt: skip
        pushes.append(Push(session.code, PLAYER, payload, player_id=player.public_id))
    return pushes


def due_wakes(*, now: datetime) -> list[Wake]:
    """Questions past their deadline and results pauses that are over, whoever scheduled them."""
    wakes = [
        Wake(pk, code, deadline + grace(), index, "close")
        for pk, code, index, deadline in GameSession.objects.filter(
            state=State.QUESTION, question_deadline__lte=now - grace()
        ).values_list("pk", "code", "question_index", "question_deadline")
    ]
    wakes += [
        Wake(pk, code, at, index, "advance")
        for pk, code, index, at in GameSession.objects.filter(
            state=State.RESULTS, advance_at__lte=now
        ).values_list("pk", "code", "question_index", "advance_at")
    ]
    return wakes


def wake(w: Wake, *, now: datetime) -> Outcome:
    """Act on a due Wake; safe to call from any worker, any number of times."""
    if w.kind == "close":
        return question_close(session_pk=w.session_pk, index=w.index, now=now)
    return auto_advance(session_pk=w.session_pk, index=w.index, now=now)
