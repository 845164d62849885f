"""Answers: judged one by one, recorded in batches (one transaction, one INSERT), scored."""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext_lazy

from quizzes_app.models import Question
from sessions_app import metrics, protocol
from sessions_app.engine import judging
from sessions_app.engine.events import EngineError, Outcome, Refresh
from sessions_app.engine.judging import QuestionFacts
from sessions_app.engine.scores import personal_limit_s, points_for, score_for
from sessions_app.models import Answer, GameSession, Player

log = logging.getLogger(__name__)
State = GameSession.State


def grace() -> timedelta:
    return timedelta(seconds=settings.KNEWIT["ANSWER_GRACE_S"])


__all__ = ["AnswerAttempt", "answer_submit", "answers_submit", "grace", "question_facts", "score_for"]


@dataclass(frozen=True)
class AnswerAttempt:
    """One `answer.submit` as it arrived; `now` is its own arrival, whenever it is recorded.

    `answer` holds the answer field the message carried, e.g. {"answer_idx": 2} or {"text": "Paris"}.
    """

    session_pk: int
    player_pk: int
    answer: dict
    msg_id: str | None
    now: datetime


def answer_submit(
    *, session_pk: int, player_pk: int, msg_id: str | None, now: datetime,
    answer_idx: int | None = None, answer: dict | None = None,
) -> Outcome:  # fmt: skip
    """Record a player's answer once; the reply says it was recorded, never whether it was right.

    `answer_idx=i` is short for `answer={"answer_idx": i}`.
    """
    answer = {"answer_idx": answer_idx} if answer is None else answer
    result = answers_submit([AnswerAttempt(session_pk, player_pk, answer, msg_id, now)])[0]
    if isinstance(result, EngineError):
        raise result
    return result


def answers_submit(attempts: list[AnswerAttempt]) -> list[Outcome | EngineError]:
    """Record answers that arrived together: an Outcome or an EngineError for each, in order.

    Under load a worker's answers wait for its one database thread; recorded together they cost one
    transaction, one read of the session and one INSERT, not one of each per answer. Each is still
    judged alone: on its own arrival time, against its player's answers so far.
    """
    try:
        with transaction.atomic():
            return _record_answers(attempts)
    except IntegrityError:
        if len(attempts) == 1:
            # A constraint checked at COMMIT (PostgreSQL's deferred foreign keys): the player is gone.
            return [EngineError("not_found", gettext_lazy("You are not in this session."))]
        # Nothing was written; one by one, such an answer fails alone.
        return [answers_submit([attempt])[0] for attempt in attempts]


def _record_answers(attempts: list[AnswerAttempt]) -> list[Outcome | EngineError]:
    sessions = {pk: _session_for_answer(pk) for pk in sorted({a.session_pk for a in attempts})}
    percents = _time_percents(attempts, sessions)
    results: list[Outcome | EngineError | None] = [None] * len(attempts)
    rows: list[tuple[int, Answer]] = []
    for i, attempt in enumerate(attempts):
        try:
            percent = percents.get(attempt.player_pk, 100)
            rows.append((i, _answer_row(attempt, sessions[attempt.session_pk], percent)))
        except DuplicateAnswer as dup:
            results[i] = Outcome(reply=dup.reply)
        except EngineError as exc:
            results[i] = exc
    # The unique (player, question) and (player, msg_id) constraints are what make an answer count
    # once: a row they refuse is not inserted, and its attempt is answered from what is there.
    inserted = _insert_unless_conflicting([row for _, row in rows])
    metrics.answers_inserted(len(inserted))  # counted when the transaction commits
    for i, row in rows:
        attempt = attempts[i]
        if (row.player_id, row.msg_id) in inserted:
            inserted.discard((row.player_id, row.msg_id))  # a second such row in the batch was refused
            session = sessions[attempt.session_pk]
            kind = question_facts(session["current_question_id"], session["question_opened_at"]).kind
            reply = _recorded(kind, row, attempt.session_pk)
            code = sessions[attempt.session_pk]["code"]
            results[i] = Outcome(reply=reply, events=[Refresh(attempt.session_pk, code, "histogram")])
        else:
            results[i] = _refused_answer(attempt)
    return results


def _time_percents(attempts: list[AnswerAttempt], sessions: dict[int, dict]) -> dict[int, int]:
    """The extra time of the batch's players who have some: one query, and none at all unless someone
    in an open round has extra time (its closing time is then past its class deadline)."""
    extra = {
        pk
        for pk, s in sessions.items()
        if s["question_closes_at"] and s["question_closes_at"] > s["question_deadline"]
    }
    pks = [a.player_pk for a in attempts if a.session_pk in extra]
    if not pks:
        return {}
    return dict(Player.objects.filter(pk__in=pks).exclude(time_percent=100).values_list("pk", "time_percent"))


def _answer_row(attempt: AnswerAttempt, session: dict, percent: int) -> Answer:
    """The Answer to insert, scored; raises if the question is not open to it or the index is wrong.

    `percent`: the player's extra time (Player.time_percent), which sets their own deadline and the
    time their speed score decays over.
    """
    if session["state"] != State.QUESTION or session["current_question_id"] is None:
        late = session["state"] in (State.RESULTS, State.FINISHED)
        _raise_unless_duplicate(attempt.player_pk, attempt.session_pk, attempt.msg_id, late=late)
    question_pk = session["current_question_id"]
    facts = question_facts(question_pk, session["question_opened_at"])
    limit_s = personal_limit_s(facts, percent)
    deadline = session["question_deadline"]
    if percent != 100:
        deadline = session["question_opened_at"] + timedelta(seconds=limit_s)
    if attempt.now > deadline + grace():
        _raise_unless_duplicate(attempt.player_pk, attempt.session_pk, attempt.msg_id, late=True)
    given = judging.check(facts, attempt.answer, judging.shown(facts, attempt.session_pk, question_pk))
    elapsed_ms = int((attempt.now - session["question_opened_at"]).total_seconds() * 1000)
    response_ms = min(max(elapsed_ms, 0), round(limit_s * 1000))
    round_, options = session["question_round"], session["settings"]
    points = points_for(
        facts, correct=given.correct, response_ms=response_ms, time_percent=percent,
        accuracy_only=bool(options.get("score_by_accuracy")),
        scores=round_ == 1 or bool(options.get("revote_scores")),
    )  # fmt: skip
    return Answer(
        session_id=attempt.session_pk, player_id=attempt.player_pk,
        question_id=question_pk, question_index=session["question_index"],
        choice_idx=given.choice_idx, response=given.response, received_at=attempt.now,
        response_ms=response_ms, correct=given.correct, points=points, msg_id=attempt.msg_id or "",
        round=round_, time_percent=percent,
    )  # fmt: skip


def _insert_unless_conflicting(rows: list[Answer]) -> set[tuple[int, str]]:
    """INSERT the rows in one statement, skipping those a unique constraint refuses.

    Returns (player, msg_id) of each row inserted.

    Raw SQL because Django's bulk_create(ignore_conflicts=True) does not say which rows went in. Both
    PostgreSQL and SQLite (3.35 and later) take ON CONFLICT DO NOTHING with RETURNING.
    """
    if not rows:
        return set()
    fields = [f for f in Answer._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    values = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * len(rows))
    params = [f.get_db_prep_save(getattr(row, f.attname), connection) for row in rows for f in fields]
    sql = (
        f"INSERT INTO {quote(Answer._meta.db_table)} ({columns}) VALUES {values} "  # noqa: S608  # nosec B608
        f"ON CONFLICT DO NOTHING RETURNING {quote('player_id')}, {quote('msg_id')}"
    )  # only our own model's names are formatted in; every value is a bound parameter
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(player_pk, msg_id) for player_pk, msg_id in cursor.fetchall()}


def _refused_answer(attempt: AnswerAttempt) -> Outcome | EngineError:
    """A retried answer gets its first acknowledgement again; any other second answer is refused."""
    prior = (
        Answer.objects.filter(player_id=attempt.player_pk, msg_id=attempt.msg_id)
        .select_related("question")
        .first()
        if attempt.msg_id
        else None
    )
    if prior is not None:
        return Outcome(reply=_recorded(prior.question.kind, prior, attempt.session_pk, duplicate=True))
    return EngineError("already_answered", gettext_lazy("You have already answered this question."))


def _recorded(kind: str, answer: Answer, session_pk: int, *, duplicate: bool = False) -> dict:
    """answer.recorded for a stored (or just inserted) answer, in the shape the player sent it."""
    fields = judging.recorded_fields(
        kind, answer.choice_idx, answer.response, session_pk=session_pk, question_pk=answer.question_id
    )
    return protocol.answer_recorded(
        question_num=answer.question_index + 1, given=fields, duplicate=duplicate, round=answer.round
    )


@functools.lru_cache(maxsize=64)
def question_facts(question_pk: int, opened_at: datetime) -> QuestionFacts:
    """A question as it was when it opened: read once per opening, not once per answer or per push.

    Keyed by the opening, so every answer to one opening is scored alike, every screen shows the same
    options, and an edit made in the admin meanwhile counts from the question's next opening.
    """
    question = Question.objects.select_related("quiz").get(pk=question_pk)
    choices = list(question.choices.order_by("order", "pk").values_list("text", "is_correct"))
    return QuestionFacts(
        kind=question.kind,
        correct=tuple(ok for _, ok in choices),
        points=question.points,
        time_limit_s=question.effective_time_limit,
        prompt=question.prompt,
        texts=tuple(text for text, _ in choices),
        total=Question.objects.filter(quiz_id=question.quiz_id).count(),
        slider=question.slider,
        explanation=question.explanation,
        image_url=question.image.url if question.image else "",
        image_alt=question.image_alt,
    )


ANSWER_COLUMNS = ("code", "state", "question_index", "current_question_id", "question_opened_at",
                  "question_deadline", "question_closes_at", "question_round", "settings")  # fmt: skip


def _session_for_answer(session_pk: int) -> dict:
    """The hot path of a question (2,000 of these in a few seconds): only the columns it needs.

    On PostgreSQL the same read share-locks the session row, so a closing question waits for the
    answers in flight to commit; answers never wait for each other. One statement, not a lock and
    then a read: each is a round trip on the worker's one database thread. SQLite needs no lock:
    its writers are serialised.
    """
    query = GameSession.objects.filter(pk=session_pk).values(*ANSWER_COLUMNS)
    if connection.vendor != "postgresql":
        return query.get()
    sql, params = query.query.sql_with_params()  # Django has no FOR SHARE; the SQL is its own
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} FOR SHARE", params)
        row = cursor.fetchone()
    if row is None:
        raise GameSession.DoesNotExist
    session = dict(zip(ANSWER_COLUMNS, row, strict=True))
    if isinstance(session["settings"], str):  # a raw cursor may hand JSON over undecoded
        session["settings"] = json.loads(session["settings"])
    return session


def _raise_unless_duplicate(player_pk: int, session_pk: int, msg_id: str | None, *, late: bool) -> None:
    """A retried answer that was already recorded gets its acknowledgement again, even after the close."""
    if msg_id:
        prior = (
            Answer.objects.filter(player_id=player_pk, msg_id=msg_id, session_id=session_pk)
            .select_related("question")
            .first()
        )
        if prior is not None:
            raise DuplicateAnswer(_recorded(prior.question.kind, prior, session_pk, duplicate=True))
    if late:
        raise EngineError("too_late", gettext_lazy("Time is up for this question."))
    raise EngineError("wrong_state", gettext_lazy("No question is open."))


class DuplicateAnswer(Exception):
    """Raised to leave the transaction with the first acknowledgement of a repeated answer."""

    def __init__(self, reply: dict):
        super().__init__("duplicate")
        self.reply = reply
