"""Extra time for one student: their own deadline, the question's last one, and who is still answering.

A player's deadline is the round's opening plus the question's limit times their factor
(Player.time_percent / 100), plus the grace. The class deadline (GameSession.question_deadline) is
what the projector counts down; the round may stay open until `question_closes_at`, the last
personal deadline, but closes as soon as the class's time (and grace) is up and no student with
extra time is still answering.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext_lazy

from sessions_app import protocol, selectors
from sessions_app.engine.answers import grace, question_facts
from sessions_app.engine.events import PLAYER, EngineError, Outcome, Push, Refresh, Wake
from sessions_app.engine.judging import QuestionFacts
from sessions_app.engine.lobby import host_session
from sessions_app.models import GameSession, Player
from sessions_app.models import time_factor as factor_of

State = GameSession.State
PERCENT = {1: 100, 1.5: 150, 2: 200}


def personal_deadline(opened_at: datetime, facts: QuestionFacts, time_percent: int) -> datetime:
    return opened_at + timedelta(seconds=facts.time_limit_s * time_percent / 100)


def extra_players(session_pk: int) -> list[tuple[str, int]]:
    """(public id, time_percent) of each player not kicked who has extra time."""
    return list(
        Player.objects.filter(session_id=session_pk, kicked=False)
        .exclude(time_percent=100)
        .values_list("public_id", "time_percent")
    )


def closes_at(opened_at: datetime, facts: QuestionFacts, extra: list[tuple[str, int]]) -> datetime:
    """The round's last personal deadline: the class's, or the latest of those with extra time."""
    return personal_deadline(opened_at, facts, max([100] + [percent for _, percent in extra]))


def time_push(
    session: GameSession, facts: QuestionFacts, public_id: str, percent: int, now: datetime
) -> Push:
    """question.time for one player: their factor and their own time left in the open round."""
    left = personal_deadline(session.question_opened_at, facts, percent) - now
    payload = protocol.question_time(
        question_num=session.question_index + 1, round=session.question_round, time_limit=facts.time_limit_s,
        time_factor=factor_of(percent), time_left_ms=int(left.total_seconds() * 1000),
    )  # fmt: skip
    return Push(session.code, PLAYER, payload, player_id=public_id)


def due(session: GameSession, now: datetime) -> bool:
    """Whether the open round should close on its own now: everyone's time (and grace) is up, or the
    class's is and no student with extra time is still answering."""
    if session.state != State.QUESTION or session.question_deadline is None:
        return False
    last = session.question_closes_at or session.question_deadline
    if now >= last + grace():
        return True
    if now < session.question_deadline + grace():
        return False
    return selectors.still_answering(session, now, slack=grace()) == 0


def player_accommodate(
    *, session_pk: int, host, player_id: str, time_factor: float, now: datetime
) -> Outcome:
    """Give a player extra time (factor 1, 1.5 or 2) from now on; an open round counts it at once.

    Nobody else is told: the player gets their own time (question.time), the host's list shows it.
    """
    if time_factor not in PERCENT:
        raise EngineError("invalid", gettext_lazy("`time_factor` must be 1, 1.5 or 2."))
    percent = PERCENT[time_factor]
    with transaction.atomic():
        session = host_session(session_pk=session_pk, host=host)
        if session.state == State.FINISHED:
            raise EngineError("wrong_state", gettext_lazy("The session is over."))
        if not Player.objects.filter(session=session, public_id=player_id, kicked=False).update(
            time_percent=percent
        ):
            raise EngineError("not_found", gettext_lazy("No such player in this session."))
        events: list = [Refresh(session.pk, session.code, "host_lobby")]
        if session.state == State.QUESTION and session.current_question_id is not None:
            events = _recount_open_round(session, player_id, percent, now) + events
        return Outcome(events=events)


def _recount_open_round(session: GameSession, player_id: str, percent: int, now: datetime) -> list:
    facts = question_facts(session.current_question_id, session.question_opened_at)
    last = closes_at(session.question_opened_at, facts, extra_players(session.pk))
    GameSession.objects.filter(pk=session.pk).update(question_closes_at=last)
    session.question_closes_at = last
    return [
        time_push(session, facts, player_id, percent, now),
        Wake(
            session.pk, session.code, last + grace(), session.question_index, "close", session.question_round
        ),
        Refresh(session.pk, session.code, "histogram"),
    ]
