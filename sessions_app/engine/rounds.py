"""The question cycle: start, next, end, stop, re-vote, the deadline close, the finish, auto-advance.

A question is played in one round, or two when the host re-votes it (`question_revote`): the same
question opened again, its answers kept apart (Answer.round). What a close tells is reveal.py's.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy

from quizzes_app.kinds import check_question
from quizzes_app.models import question_label
from sessions_app import protocol, selectors
from sessions_app.engine import extra_time, insights
from sessions_app.engine.answers import grace, question_facts
from sessions_app.engine.events import ALL, EngineError, Outcome, Push, Refresh, Wake
from sessions_app.engine.judging import QuestionFacts
from sessions_app.engine.lobby import check_playable, host_session
from sessions_app.engine.reveal import reveal
from sessions_app.engine.scores import recompute_scores
from sessions_app.models import GameSession

log = logging.getLogger(__name__)


State = GameSession.State


def quiz_start(*, session_pk: int, host, now: datetime) -> Outcome:
    with transaction.atomic():
        session = host_session(session_pk=session_pk, host=host)
        if session.state != State.LOBBY:
            raise EngineError("wrong_state", gettext_lazy("The quiz has already started."))
        return Outcome(events=_advance(session, now))


def question_next(*, session_pk: int, host, now: datetime) -> Outcome:
    """Close the open question if any, then open the next one, or finish after the last."""
    with transaction.atomic():
        session = host_session(session_pk=session_pk, host=host)
        if session.state == State.FINISHED:
            raise EngineError("wrong_state", gettext_lazy("The quiz is over."))
        events: list = []
        if session.state == State.QUESTION:
            events += question_close(session_pk=session.pk, index=session.question_index, now=now).events
            session.refresh_from_db()
        return Outcome(events=events + _advance(session, now))


def question_end(*, session_pk: int, host, now: datetime) -> Outcome:
    with transaction.atomic():
        session = host_session(session_pk=session_pk, host=host)
        if session.state != State.QUESTION:
            raise EngineError("wrong_state", gettext_lazy("No question is open."))
        return question_close(session_pk=session.pk, index=session.question_index, now=now)


def quiz_stop(*, session_pk: int, host, now: datetime) -> Outcome:
    with transaction.atomic():
        session = host_session(session_pk=session_pk, host=host)
        if session.state == State.FINISHED:
            raise EngineError("wrong_state", gettext_lazy("The quiz is over."))
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
        raise EngineError("wrong_state", gettext_lazy("Load a quiz first."))
    question_ids = selectors.question_ids(session.quiz_id)
    if not question_ids:
        raise EngineError("wrong_state", gettext_lazy("The quiz has no questions."))
    if session.state == State.LOBBY:
        check_playable(session.quiz_id)  # it may have been edited since it was loaded
    next_index = session.question_index + 1
    if next_index >= len(question_ids):
        return _finish(session, now)
    question_pk = question_ids[next_index]
    # Read once at the opening: the frame below, the answers and the reveal all use this reading.
    facts = _playable_facts(question_pk, next_index, now)
    moved_from = {"state": session.state, "question_index": session.question_index}
    return _open_round(session, question_pk, facts, next_index, 1, now, moved_from)


def _playable_facts(question_pk: int, index: int, now: datetime) -> QuestionFacts:
    facts = question_facts(question_pk, now)
    try:  # the quiz may have been edited in the admin since the game started
        check_question(facts.kind, list(facts.correct), facts.slider)
    except ValidationError as exc:
        label = question_label(index + 1, facts.prompt)
        raise EngineError(
            "invalid",
            gettext_lazy("%(question)s cannot be played: %(problem)s"),
            question=label,
            problem=exc.messages[0],
        ) from None
    return facts


def _open_round(
    session: GameSession, question_pk: int, facts: QuestionFacts, index: int, round_: int, now: datetime,
    moved_from: dict,
) -> list:  # fmt: skip
    """Open a round of a question for everyone, with the whole time; players with extra time get
    their own (question.time). `moved_from`: the state it must still be in (else another worker moved
    it on first, and nothing happens)."""
    deadline = now + timedelta(seconds=facts.time_limit_s)
    extra = extra_time.extra_players(session.pk)
    closes_at = extra_time.closes_at(now, facts, extra)
    updated = GameSession.objects.filter(pk=session.pk, **moved_from).update(
        state=State.QUESTION, question_index=index, current_question_id=question_pk, question_opened_at=now,
        question_deadline=deadline, question_closes_at=closes_at, question_round=round_, advance_at=None,
    )  # fmt: skip
    if not updated:
        return []
    session.state, session.question_index, session.current_question_id = State.QUESTION, index, question_pk
    session.question_opened_at, session.question_deadline, session.question_closes_at = (
        now,
        deadline,
        closes_at,
    )
    session.question_round, session.advance_at = round_, None
    payload = selectors.question_payload(
        session.pk, question_pk, facts, index, time_left_ms=facts.time_limit_s * 1000, round=round_
    )
    events: list = [Push(session.code, ALL, payload)]
    events += [extra_time.time_push(session, facts, public_id, percent, now) for public_id, percent in extra]
    events.append(Wake(session.pk, session.code, deadline + grace(), index, "close", round_))
    if closes_at > deadline:
        events.append(Wake(session.pk, session.code, closes_at + grace(), index, "close", round_))
    return [
        *events,
        Refresh(session.pk, session.code, "host_lobby"),
        Refresh(session.pk, session.code, "histogram"),
    ]


def question_revote(*, session_pk: int, host, now: datetime) -> Outcome:
    """Open the question whose results are up again, for everyone, with the whole time: its second
    round, recorded apart; revealed with both rounds' counts side by side."""
    with transaction.atomic():
        session = host_session(session_pk=session_pk, host=host)
        if session.state != State.RESULTS or session.current_question_id is None:
            raise EngineError(
                "wrong_state", gettext_lazy("A question can be re-voted while its results are up.")
            )
        if session.question_round != 1:
            raise EngineError("wrong_state", gettext_lazy("This question has been re-voted already."))
        index = session.question_index
        facts = _playable_facts(session.current_question_id, index, now)
        moved_from = {"state": State.RESULTS, "question_index": index, "question_round": 1}
        return Outcome(
            events=_open_round(session, session.current_question_id, facts, index, 2, now, moved_from)
        )


def _finish(session: GameSession, now: datetime) -> list:
    GameSession.objects.filter(pk=session.pk).update(state=State.FINISHED, finished_at=now, advance_at=None)
    board, by_accuracy = selectors.leaderboard(session), selectors.accuracy_leaderboard(session)
    ranks = {entry["player_id"]: entry["rank"] for entry in by_accuracy}
    for entry in board:
        entry["accuracy_rank"] = ranks[entry["player_id"]]
    payload = protocol.quiz_finished(leaderboard=board, accuracy_leaderboard=by_accuracy[:10])
    return [Push(session.code, ALL, payload), Refresh(session.pk, session.code, "host_lobby")]


def question_close(
    *, session_pk: int, index: int, now: datetime, announce: bool = True, round_: int | None = None
) -> Outcome:
    """Close question `index` (its round `round_`, if given) and reveal it. Idempotent: only the first
    caller does anything."""
    with transaction.atomic():
        session = GameSession.objects.select_related("current_question__quiz").filter(pk=session_pk).first()
        if session is None or session.state != State.QUESTION or session.question_index != index:
            return Outcome()
        if round_ is not None and session.question_round != round_:
            return Outcome()
        auto = session.settings.get("auto_advance") and announce
        advance_at = now + timedelta(seconds=settings.KNEWIT["AUTO_ADVANCE_S"]) if auto else None
        # The conditional update is the claim: of racing closers, exactly one sees a row change.
        # On PostgreSQL it also waits for answers in flight (they hold FOR SHARE on this row).
        claimed = GameSession.objects.filter(
            pk=session_pk, state=State.QUESTION, question_index=index, question_round=session.question_round
        ).update(state=State.RESULTS, revealed_count=index + 1, advance_at=advance_at)
        if not claimed:
            return Outcome()
        strongest = None
        if announce and session.question_round == 1:
            # Before the recompute, the players' totals are their scores before this question.
            players = selectors.player_count(session)
            strongest = insights.strongest(session, index, players, from_totals=True)
        recompute_scores(session, index)
        if not announce:
            return Outcome()
        events: list = reveal(session, index, strongest)
        # "lobby": players hear here of joins and kicks made while the question was open.
        events.append(Refresh(session.pk, session.code, "lobby"))
        if advance_at is not None:
            events.append(Wake(session.pk, session.code, advance_at, index, "advance"))
        return Outcome(events=events)


def due_wakes(*, now: datetime) -> list[Wake]:
    """Rounds due to close (extra_time.due) and results pauses that are over, whoever scheduled them."""
    overdue = GameSession.objects.filter(state=State.QUESTION, question_deadline__lte=now - grace()).only(
        "code", "state", "question_index", "question_round", "current_question_id", "question_opened_at",
        "question_deadline", "question_closes_at",
    )  # fmt: skip
    wakes = [
        Wake(s.pk, s.code, s.question_deadline + grace(), s.question_index, "close", s.question_round)
        for s in overdue
        if extra_time.due(s, now)
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
    if w.kind != "close":
        return auto_advance(session_pk=w.session_pk, index=w.index, now=now)
    session = GameSession.objects.filter(pk=w.session_pk).first()
    if session is None or (session.question_index, session.question_round) != (w.index, w.round):
        return Outcome()
    if session.state == State.QUESTION and not extra_time.due(session, now):
        # The class's time is up but a student with extra time is still answering: the host sees so.
        return Outcome(events=[Refresh(session.pk, session.code, "histogram")])
    return question_close(session_pk=w.session_pk, index=w.index, now=now, round_=w.round)
