"""Reads shared by pages, reports and the engine."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext

from quizzes_app.models import Question, Quiz
from sessions_app import protocol, ranking
from sessions_app.engine import judging
from sessions_app.engine.answers import question_facts
from sessions_app.engine.judging import QuestionFacts
from sessions_app.models import Answer, GameSession, Player, hash_secret, time_factor


def sessions_with_code(code: str) -> QuerySet[GameSession]:
    """Every session that had this join code, the current one first.

    Codes are reused once a session finishes, and are unique among sessions that have not, so the
    newest is the open one when there is one, else the one that just finished.
    """
    return GameSession.objects.filter(code=code).order_by("-created_at", "-pk")


def current_session(code: str, *, with_question: bool = True) -> GameSession | None:
    """The current session for this join code (see sessions_with_code), or None.

    `with_question`: its quiz and current question come in the same query (pages and snapshots show
    them; a join does not need them).
    """
    sessions = sessions_with_code(code)
    if with_question:
        sessions = sessions.select_related("quiz", "current_question__quiz")
    return sessions.first()


def player_for_token(code: str, rejoin_token: str) -> Player | None:
    """The player of the current session for this join code whose rejoin token this is, with its
    session, quiz and current question, in one query (a page's reload and a page socket's resume, at
    each of a lobby's 2,000 joins).

    A token names one player of one session. A session not finished is the current one for its code
    (codes are unique among those); a finished one is current only if no session took its code since.
    """
    if not rejoin_token:
        return None
    player = (
        Player.objects.select_related("session__quiz", "session__current_question__quiz")
        .filter(session__code=code, rejoin_token_hash=hash_secret(rejoin_token))
        .first()
    )
    if player is None or player.session.state != GameSession.State.FINISHED:
        return player
    current = sessions_with_code(code).values_list("pk", flat=True).first()
    return player if current == player.session_id else None


def session_for_host(user, code: str) -> GameSession:
    """The host's own current session with this join code (a superuser's: anyone's).

    Another host's session with that code is a 403, so a guessed code tells nothing more.
    """
    sessions = sessions_with_code(code).select_related("quiz", "host")
    own = sessions if user.is_superuser else sessions.filter(host=user)
    session = own.first()
    if session is not None:
        return session
    if sessions.exists():
        raise PermissionDenied(gettext("This session belongs to another host."))
    raise Http404(gettext("No session with that code."))


def ranked_players(session: GameSession) -> QuerySet[Player]:
    """Every player not kicked, best first.

    Not `session.players`: that manager sets each row's `session`, which reads `session_id`, so with
    `.only(...)` every row would cost one more query (2,000 at a reveal).
    """
    return Player.objects.filter(session_id=session.pk, kicked=False).order_by(*ranking.ORDER)


def quizzes_for_host(host) -> QuerySet[Quiz]:
    """The quizzes this host may run: their own (every quiz for a superuser)."""
    qs = Quiz.objects.all() if host.is_superuser else Quiz.objects.filter(owner=host)
    return qs.annotate(num_questions=Count("questions")).order_by("title", "pk")


def question_ids(quiz_id: int) -> list[int]:
    return list(Question.objects.filter(quiz_id=quiz_id).order_by("order", "pk").values_list("pk", flat=True))


def question_payload(
    session_pk: int, question_pk: int, facts: QuestionFacts, index: int, *, time_left_ms: int, round: int = 1
) -> dict:
    """`question.next` for a question as opened: what the players are shown, never its answer."""
    order = judging.shown(facts, session_pk, question_pk)
    return protocol.question_next(
        question_id=question_pk,
        prompt=facts.prompt,
        options=judging.shown_options(facts, order),
        question_num=index + 1,
        total=facts.total,
        time_limit=facts.time_limit_s,
        time_left_ms=max(0, time_left_ms),
        kind_fields=judging.question_fields(facts),
        round=round,
    )


def entries(ranked: list[Player], start: int = 1) -> list[dict]:
    return [
        protocol.leaderboard_entry(
            rank=rank, player_id=p.public_id, name=p.name, score=p.score, correct_count=p.correct_count
        )
        for rank, p in enumerate(ranked, start=start)
    ]


def leaderboard(session: GameSession, limit: int | None = None) -> list[dict]:
    ranked = ranked_players(session).only("public_id", "name", "score", "correct_count")
    return entries(list(ranked[:limit] if limit else ranked))


def accuracy_leaderboard(session: GameSession, limit: int | None = None) -> list[dict]:
    """The players by accuracy (ranking.ACCURACY_ORDER): most correct answers first."""
    ranked = (
        session.players.filter(kicked=False)
        .order_by(*ranking.ACCURACY_ORDER)
        .only("public_id", "name", "score", "correct_count")
    )
    return entries(list(ranked[:limit] if limit else ranked))


def tally(session: GameSession, index: int, facts: QuestionFacts, round: int = 1) -> judging.Tally:
    """The answers to a round of question `index` counted as its kind counts them (one GROUP BY query)."""
    column = judging.tally_column(facts.kind)
    rows = (
        Answer.objects.filter(session=session, question_index=index, round=round)
        .order_by()
        .values_list(column)
        .annotate(n=Count("pk"))
    )
    return judging.tally(facts, list(rows))


def current_facts(session: GameSession) -> QuestionFacts:
    """The open (or just closed) question's facts, as it was opened."""
    return question_facts(session.current_question_id, session.question_opened_at)


def has_extra_time(session: GameSession) -> bool:
    """Whether someone in the open round has extra time (its last deadline is past the class's)."""
    closes_at, deadline = session.question_closes_at, session.question_deadline
    return closes_at is not None and deadline is not None and closes_at > deadline


def still_answering(session: GameSession, now: datetime, *, slack: timedelta = timedelta(0)) -> int:
    """Players with extra time whose own time (plus `slack`) is not up and who have not answered this
    round. No query when nobody in the round has extra time."""
    if session.state != GameSession.State.QUESTION or not has_extra_time(session):
        return 0
    elapsed_s = (now - session.question_opened_at - slack).total_seconds()
    answered = Answer.objects.filter(
        player=OuterRef("pk"), question_index=session.question_index, round=session.question_round
    )
    over = 100 * elapsed_s / current_facts(session).time_limit_s  # a time_percent whose time is up
    extra = session.players.filter(kicked=False, time_percent__gt=max(100, over))
    return extra.exclude(Exists(answered)).count()


def own_time_left_ms(session: GameSession, time_percent: int, now: datetime) -> int:
    """What is left of a player's own time in the open round (not below 0)."""
    limit_s = current_facts(session).time_limit_s * time_percent / 100
    left = session.question_opened_at + timedelta(seconds=limit_s) - now
    return max(0, int(left.total_seconds() * 1000))


def player_count(session: GameSession) -> int:
    return session.players.filter(kicked=False).count()


def rank_of(session: GameSession, player: Player, *, by_accuracy: bool = False) -> int:
    """1-based rank by ranking.ORDER (or ranking.ACCURACY_ORDER), counted in the database."""
    field, mine = ("correct_count", player.correct_count) if by_accuracy else ("score", player.score)
    time_ms, joined_at = player.total_answer_ms, player.joined_at
    ahead = session.players.filter(kicked=False).filter(
        Q(**{f"{field}__gt": mine})
        | Q(**{field: mine}, total_answer_ms__lt=time_ms)
        | Q(**{field: mine}, total_answer_ms=time_ms, joined_at__lt=joined_at)
        | Q(**{field: mine}, total_answer_ms=time_ms, joined_at=joined_at, pk__lt=player.pk)
    )
    return ahead.count() + 1


def lobby_players(session: GameSession, now: datetime) -> list[dict]:
    """The host's view of the lobby: who is here, their score, and whether their heartbeat is fresh."""
    fresh_after = now - timedelta(seconds=settings.KNEWIT["PRESENCE_TIMEOUT_S"])
    rows = ranked_players(session).values_list(
        "public_id", "name", "score", "last_seen", "latency_ms", "time_percent"
    )
    return [
        {
            "player_id": public_id,
            "name": name,
            "score": score,
            "connected": last_seen is not None and last_seen >= fresh_after,
            "latency_ms": latency_ms,
            "time_factor": time_factor(percent),
        }
        for public_id, name, score, last_seen, latency_ms, percent in rows
    ]


def host_lobby_payload(session: GameSession, now: datetime) -> dict:
    """`lobby.update` for the host, with the list (players get the count alone)."""
    players = lobby_players(session, now)
    return protocol.lobby_update(
        state=session.state, locked=session.locked, count=len(players), players=players
    )


def histogram_payload(session: GameSession, now: datetime | None = None) -> dict | None:
    """Live answer counts for the open round, or None when no question is open (the host's copy:
    protocol.players_histogram makes the players')."""
    if session.state != GameSession.State.QUESTION or session.current_question_id is None:
        return None
    counted = tally(session, session.question_index, current_facts(session), session.question_round)
    return protocol.histogram(
        question_num=session.question_index + 1,
        bins=counted.bins,
        answered=counted.answered,
        total=player_count(session),
        top=counted.top,
        still_answering=still_answering(session, now or timezone.now()),
    )


def shows_live_results(session: GameSession) -> bool:
    return bool(session.settings.get("show_live_results"))


def snapshot(session: GameSession, *, player: Player | None, now: datetime) -> dict:
    """Everything a resuming client needs to redraw its screen, as of now."""
    is_host = player is None
    players = lobby_players(session, now) if is_host else None  # a player gets the count only
    count = len(players) if is_host else player_count(session)
    snap = protocol.session_snapshot(
        session_id=session.code, state=session.state, locked=session.locked, count=count
    )
    if is_host:
        snap["players"] = players
    else:
        snap["you"] = {"player_id": player.public_id, "name": player.name, "score": player.score,
                       "rank": rank_of(session, player)}  # fmt: skip
    if session.state == GameSession.State.QUESTION and session.current_question_id is not None:
        left_ms = int((session.question_deadline - now).total_seconds() * 1000)
        if player is not None and player.time_percent != 100:
            left_ms = own_time_left_ms(session, player.time_percent, now)
        facts = current_facts(session)
        question = question_payload(
            session.pk, session.current_question_id, facts, session.question_index, time_left_ms=left_ms,
            round=session.question_round,
        )  # fmt: skip
        question.pop("type")
        if player is not None:
            question["time_factor"] = player.time_factor
            mine = my_answer(session, player)
            question["answered"] = mine is not None
            question["answered_idx"] = mine.choice_idx if mine else None
            if mine is not None:
                given = judging.recorded_fields(
                    facts.kind, mine.choice_idx, mine.response,
                    session_pk=session.pk, question_pk=session.current_question_id,
                )  # fmt: skip
                question.update({k: v for k, v in given.items() if k != "answer_idx"})
        snap["question"] = question
        if is_host:
            snap["histogram"] = histogram_payload(session, now)
        elif shows_live_results(session):
            snap["histogram"] = protocol.players_histogram(histogram_payload(session, now))
    if session.revealed_count > 0:
        snap["leaderboard"] = leaderboard(session, limit=10)
    return snap


def switched_to_right(session: GameSession, index: int) -> int:
    """How many players who answered question `index` wrong in its first round are right in its re-vote."""
    wrong_first = Answer.objects.filter(session=session, question_index=index, round=1, correct=False)
    return Answer.objects.filter(
        session=session,
        question_index=index,
        round=2,
        correct=True,
        player_id__in=wrong_first.values("player_id"),
    ).count()


def my_answer(session: GameSession, player: Player) -> Answer | None:
    """The player's answer to the open (or just revealed) round, if any."""
    return Answer.objects.filter(
        player=player, question_index=session.question_index, round=session.question_round
    ).first()


def sessions_with_lapsed_presence(*, now: datetime, window_s: float) -> list[tuple[int, str]]:
    """Open sessions where a player's heartbeat went stale within the last window: their host's list
    must now show them away, though nothing else happened."""
    timeout = timedelta(seconds=settings.KNEWIT["PRESENCE_TIMEOUT_S"])
    lapsed_between = (now - timeout - timedelta(seconds=window_s), now - timeout)
    rows = (
        Player.objects.filter(last_seen__range=lapsed_between, kicked=False)
        .exclude(session__state=GameSession.State.FINISHED)
        .values_list("session_id", "session__code")
        .distinct()
    )
    return list(rows)
