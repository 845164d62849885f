"""The rules of a live quiz: plain functions over the models, one transaction each, time passed in.

Each command returns an Outcome: the reply for the sender and the events to broadcast. The engine
knows nothing of sockets; consumers call it and hand the events to broadcast.dispatch.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from quizzes_app.io import QuizFormatError, quiz_from_dict
from quizzes_app.models import Question, Quiz, check_choices, question_label, quiz_problems
from sessions_app import metrics, protocol, selectors
from sessions_app.models import Answer, GameSession, Player, ProcessedMessage, hash_secret, new_secret

log = logging.getLogger(__name__)
State = GameSession.State
ALL, HOST, PLAYERS, PLAYER = "all", "host", "players", "player"
NAME_MAX = 20
DEFAULT_MAX_PLAYERS = 2000
PLAYER_ID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


def grace() -> timedelta:
    return timedelta(seconds=settings.KNEWIT["ANSWER_GRACE_S"])


class EngineError(Exception):
    """A refused command; `code` is one of docs/PROTOCOL.md's error codes."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Push:
    """One frame for an audience of a session: all, host, players, or one player."""

    code: str
    audience: str
    payload: dict
    player_id: str | None = None
    close_code: int | None = None
    json: bool = True  # protocol clients get it
    html: bool = True  # browser pages get it (personal pushes: only players who joined from the page)


@dataclass(frozen=True)
class Refresh:
    """The lobby or the histogram changed; pushes are coalesced, so this only marks it dirty."""

    session_pk: int
    code: str
    what: str  # "lobby" (host and players), "host_lobby" (only the host's list changed), "histogram"


@dataclass(frozen=True)
class Wake:
    """Something is due at `at`: closing question `index`, or auto-advancing after it."""

    session_pk: int
    code: str
    at: datetime
    index: int
    kind: str  # "close" | "advance"


@dataclass
class Outcome:
    reply: dict | None = None
    events: list[Push | Refresh | Wake] = field(default_factory=list)
    session: GameSession | None = None
    player: Player | None = None


# --- scoring and small rules ----------------------------------------------------------------


def score_for(*, points: int, time_limit_s: int, response_ms: int) -> int:
    """round(points * (1 - (t / time_limit) / 2)) with t clamped to the question's time."""
    t = min(max(response_ms / 1000, 0.0), time_limit_s)
    return round(points * (1 - (t / time_limit_s) / 2))


def clean_name(raw: str) -> str:
    """Names are 1 to 20 characters after trimming."""
    name = raw.strip()
    if not 1 <= len(name) <= NAME_MAX:
        raise EngineError("invalid", f"Names are 1 to {NAME_MAX} characters.")
    if any(not ch.isprintable() for ch in name):
        raise EngineError("invalid", "Names cannot contain control characters.")
    return name


def clean_settings(raw: dict) -> dict:
    """Session settings of docs/PROTOCOL.md, with defaults; anything else is refused."""
    known = {"show_live_results": bool, "auto_advance": bool, "max_players": int, "password": str}
    for key, value in raw.items():
        if key not in known:
            raise EngineError("invalid", f"Unknown setting `{key}`.")
        if value is not None and (type(value) is not known[key]):
            raise EngineError("invalid", f"Setting `{key}` must be a {known[key].__name__}.")
    max_players = raw["max_players"] if raw.get("max_players") is not None else DEFAULT_MAX_PLAYERS
    if not 1 <= max_players <= 10_000:
        raise EngineError("invalid", "`max_players` must be between 1 and 10000.")
    password = raw.get("password") or ""
    if len(password) > 128:
        raise EngineError("invalid", "The password is too long.")
    return {
        "show_live_results": bool(raw.get("show_live_results")),
        "auto_advance": bool(raw.get("auto_advance")),
        "max_players": max_players,
        "password": password,
    }


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


# --- msg_id: a repeated id is answered, not applied again -----------------------------------


def remembered(
    *, actor: str, msg_id: str | None, session_pk: int | None, apply: Callable[[], Outcome]
) -> Outcome:
    """Run a state-changing command once per (actor, msg_id); repeats get the first reply again."""
    if not msg_id:
        return apply()
    try:
        with transaction.atomic():
            prior = ProcessedMessage.objects.filter(actor=actor, msg_id=msg_id).first()
            if prior is not None:
                return _duplicate(prior)
            outcome = apply()
            # A broadcast's first frame stands for a reply; a frame meant for one player (a kick's
            # `kicked`) is not the sender's to receive again.
            broadcasts = (e.payload for e in outcome.events if isinstance(e, Push) and e.audience != PLAYER)
            first = outcome.reply or next(broadcasts, None)
            ProcessedMessage.objects.create(session_id=session_pk, actor=actor, msg_id=msg_id, reply=first)
            return outcome
    except IntegrityError:
        # A concurrent copy of this message committed first; ours rolled back whole.
        return _duplicate(ProcessedMessage.objects.get(actor=actor, msg_id=msg_id))


def _duplicate(prior: ProcessedMessage) -> Outcome:
    return Outcome(reply={**prior.reply, "duplicate": True} if prior.reply else None)


# --- hosts: quizzes and sessions ------------------------------------------------------------


def quiz_list(*, host) -> Outcome:
    quizzes = selectors.quizzes_for_host(host)
    items = [
        protocol.quiz_summary(None, quiz_id=q.pk, title=q.title, num_questions=q.num_questions)
        for q in quizzes
    ]
    return Outcome(reply={"type": "quiz.list", "quizzes": items})


def quiz_save(*, host, data: dict) -> Outcome:
    quiz = _save_quiz(host, data)
    return Outcome(reply=_quiz_summary("quiz.saved", quiz))


def _save_quiz(host, data: dict) -> Quiz:
    try:
        return quiz_from_dict(data, owner=host)
    except QuizFormatError as exc:
        raise EngineError("invalid", str(exc)) from None


def _quiz_summary(msg_type: str, quiz: Quiz) -> dict:
    return protocol.quiz_summary(
        msg_type, quiz_id=quiz.pk, title=quiz.title, num_questions=quiz.questions.count()
    )


def _host_quiz(host, quiz_id: int) -> Quiz:
    """One of this host's quizzes, if it can be played."""
    quiz = selectors.quizzes_for_host(host).filter(pk=quiz_id).first()
    if quiz is None:
        raise EngineError("not_found", f"No quiz {quiz_id} of yours.")
    check_playable(quiz.pk)
    return quiz


def check_playable(quiz_id: int) -> None:
    """Refuse a quiz with a question that could not be played, naming the question."""
    problems = quiz_problems(quiz_id)
    if problems:
        raise EngineError("invalid", "This quiz cannot be played yet. " + " ".join(problems))


def session_create(*, host, quiz_id: int | None, raw_settings: dict, site_url: str) -> Outcome:
    """A new session in the lobby, owned by this host, with a fresh 6-digit code."""
    session_settings = clean_settings(raw_settings)
    quiz = _host_quiz(host, quiz_id) if quiz_id is not None else None
    password = session_settings.pop("password")
    for _ in range(50):
        try:
            with transaction.atomic():
                session = GameSession.objects.create(
                    code=new_code(), quiz=quiz, host=host, settings=session_settings,
                    password_hash=make_password(password) if password else "",
                )  # fmt: skip
            break
        except IntegrityError:
            continue  # the code is in use by an open session; draw again
    else:
        raise EngineError("full", "No free join code; try again.")
    join_url = f"{site_url}/join/{session.code}/"
    return Outcome(
        reply=protocol.session_created(session_id=session.code, join_url=join_url), session=session
    )


def host_session(*, session_pk: int, host, lock: bool = True) -> GameSession:
    """The session, if this host owns it; locked for the rest of the transaction."""
    qs = GameSession.objects.select_related("quiz", "current_question")
    if lock:
        qs = qs.select_for_update(of=("self",))
    session = qs.filter(pk=session_pk).first()
    if session is None:
        raise EngineError("not_found", "No such session.")
    if session.host_id != host.pk:
        raise EngineError("forbidden", "Only this session's host may do that.")
    return session


def quiz_load(*, session_pk: int, host, quiz_id: int | None, data: dict | None) -> Outcome:
    if quiz_id is None and data is None:
        raise EngineError("invalid", "`quiz.load` needs `quiz_id` or `quiz`.")
    with transaction.atomic():
        session = host_session(session_pk=session_pk, host=host)
        if session.state != State.LOBBY:
            raise EngineError("wrong_state", "A quiz can only be loaded in the lobby.")
        quiz = _host_quiz(host, quiz_id) if quiz_id is not None else _save_quiz(host, data)
        session.quiz = quiz
        session.save(update_fields=["quiz"])
        return Outcome(events=[Push(session.code, ALL, _quiz_summary("quiz.loaded", quiz))])


def session_lock(*, session_pk: int, host, locked: bool) -> Outcome:
    with transaction.atomic():
        session = host_session(session_pk=session_pk, host=host)
        if session.state == State.FINISHED:
            raise EngineError("wrong_state", "The session is over.")
        GameSession.objects.filter(pk=session.pk).update(locked=locked)
        return Outcome(events=[Refresh(session.pk, session.code, "lobby")])


def session_close(*, session_pk: int, host, now: datetime) -> Outcome:
    """End the session for everyone; results stay, the code is freed."""
    with transaction.atomic():
        session = host_session(session_pk=session_pk, host=host)
        GameSession.objects.filter(pk=session.pk).update(
            state=State.FINISHED, closed_at=now, finished_at=session.finished_at or now, advance_at=None
        )
        payload = protocol.session_closed(reason="The host closed the session.")
        return Outcome(events=[Push(session.code, ALL, payload, close_code=1000)])


def player_kick(*, session_pk: int, host, player_id: str) -> Outcome:
    with transaction.atomic():
        session = host_session(session_pk=session_pk, host=host)
        updated = Player.objects.filter(session=session, public_id=player_id).update(kicked=True)
        if not updated:
            raise EngineError("not_found", "No such player in this session.")
        payload = protocol.kicked(reason="The host removed you from the game.")
        return Outcome(
            events=[
                Push(session.code, PLAYER, payload, player_id=player_id, close_code=4403),
                Refresh(session.pk, session.code, "lobby"),
            ]
        )


# --- players: joining and resuming ----------------------------------------------------------


def player_join(
    *, code: str, raw_name: str, password: str | None, requested_id: str | None, msg_id: str | None,
    now: datetime, via_browser: bool = False,
) -> Outcome:  # fmt: skip
    """Join an open session by code; the rejoin token is returned here once and stored hashed."""
    name = clean_name(raw_name)
    join = functools.partial(
        _player_join, code=code, name=name, name_key=name.casefold(), password=password,
        requested_id=requested_id, msg_id=msg_id, now=now, via_browser=via_browser,
    )  # fmt: skip
    try:
        return join(look_first=False)
    except IntegrityError:
        # The name or player id is taken (or a concurrent join committed it, or the msg_id, first):
        # a second look sees it and answers kicked, name_taken, a fresh id or the first reply.
        return join(look_first=True)


def _player_join(
    *, code: str, name: str, name_key: str, password: str | None, requested_id: str | None,
    msg_id: str | None, now: datetime, via_browser: bool, look_first: bool,
) -> Outcome:  # fmt: skip
    """One attempt; without `look_first` the unique constraints, not queries, find a taken name or id.

    Nearly every join has a free name, and each query is a round trip on the worker's one database
    thread, so the first attempt does not ask; the rare clash costs a second attempt that does.
    """
    with transaction.atomic():
        session = GameSession.objects.filter(code=code).exclude(state=State.FINISHED).first()
        if session is None:
            if GameSession.objects.filter(code=code).exists():
                raise EngineError("wrong_state", "That game is over.")
            raise EngineError("not_found", "No game with that PIN.")
        actor = f"join:{session.pk}:{name_key}"
        prior = ProcessedMessage.objects.filter(actor=actor, msg_id=msg_id).first() if msg_id else None
        if prior is not None:
            return _rejoin_duplicate(session, prior, now)
        _check_can_join(session, name_key, password, look=look_first)
        player, token = _create_player(session, name, name_key, requested_id, now, via_browser, look_first)
        _check_not_full(session)
        if via_browser and not session.players_on_pages:
            GameSession.objects.filter(pk=session.pk).update(players_on_pages=True)
        reply = protocol.session_joined(
            session_id=session.code, player_id=player.public_id, name=player.name, rejoin_token=token
        )
        if msg_id:
            ProcessedMessage.objects.create(
                session=session, actor=actor, msg_id=msg_id, reply={**reply, "rejoin_token": None}
            )
        return Outcome(
            reply=reply, events=[Refresh(session.pk, session.code, "lobby")], session=session, player=player
        )


def _check_can_join(session: GameSession, name_key: str, password: str | None, *, look: bool) -> None:
    """Refuse a join; with `look`, also a name that is taken or was kicked (else the INSERT does)."""
    if session.password_hash and not check_password(password or "", session.password_hash):
        raise EngineError("forbidden", "Wrong game password.")
    # A locked session refuses anyway: looking first keeps "kicked" ahead of "locked", as it was.
    same_name = session.players.filter(name_key=name_key).first() if look or session.locked else None
    if same_name is not None and same_name.kicked:
        raise EngineError("kicked", "That player was removed from this game.")
    if session.locked:
        raise EngineError("locked", "The host has locked this game.")
    if same_name is not None:
        raise EngineError("name_taken", "That nickname is taken in this game.")


def _check_not_full(session: GameSession) -> None:
    """Count, with the new player, under the session's row lock, so racing joins cannot overfill it.

    The lock is taken last and held only until the commit: joins wait for each other only here.
    """
    GameSession.objects.select_for_update().filter(pk=session.pk).values_list("pk").get()
    max_players = session.settings.get("max_players", DEFAULT_MAX_PLAYERS)
    if session.players.filter(kicked=False).count() > max_players:
        raise EngineError("full", "This game is full.")


def _create_player(
    session: GameSession, name: str, name_key: str, requested_id: str | None, now: datetime,
    via_browser: bool, look: bool,
):  # fmt: skip
    """The new player; a requested id that is taken is replaced (found by the INSERT, or with `look`)."""
    token = new_secret()
    public_id = requested_id if valid_player_id(requested_id) else new_player_id()
    if look and session.players.filter(public_id=public_id).exists():
        public_id = new_player_id()
    player = Player.objects.create(
        session=session, public_id=public_id, name=name, name_key=name_key,
        rejoin_token_hash=hash_secret(token), last_seen=now, via_browser=via_browser,
    )  # fmt: skip
    return player, token


def _rejoin_duplicate(session: GameSession, prior: ProcessedMessage, now: datetime) -> Outcome:
    """A repeated join: the first reply again, without the rejoin token, which only the first reply carried.

    Handing out a fresh token here would let anyone who guesses a name and a msg_id take that
    player over; a client that lost its reply must join again under another name.
    """
    if session.players.filter(public_id=prior.reply["player_id"], kicked=True).exists():
        raise EngineError("kicked", "That player was removed from this game.")
    return Outcome(reply={**prior.reply, "rejoin_token": None, "duplicate": True})


def valid_player_id(value: str | None) -> bool:
    return bool(value) and len(value) <= 40 and set(value) <= PLAYER_ID_CHARS


def new_player_id() -> str:
    return "p" + secrets.token_hex(6)


def player_resume(*, code: str, rejoin_token: str, now: datetime) -> Outcome:
    """Come back as the same player: identity, score and answers kept; returns a snapshot."""
    session = GameSession.objects.filter(code=code).select_related("quiz", "current_question").first()
    player = None
    if session is not None:
        player = session.players.filter(rejoin_token_hash=hash_secret(rejoin_token)).first()
    if player is None:
        raise EngineError("not_found", "No player with that rejoin token in that game.")
    if player.kicked:
        raise EngineError("kicked", "You were removed from this game.")
    Player.objects.filter(pk=player.pk).update(last_seen=now)
    reply = selectors.snapshot(session, player=player, now=now)
    return Outcome(
        reply=reply, events=[Refresh(session.pk, session.code, "host_lobby")], session=session, player=player
    )


def host_page_opened(*, session_pk: int) -> None:
    """From now on this session's broadcasts are also rendered for the host's page."""
    GameSession.objects.filter(pk=session_pk, host_on_page=False).update(host_on_page=True)


def host_resume(*, code: str, host, now: datetime) -> Outcome:
    """The host takes its controls back after a reload or a dropped socket."""
    session = (
        GameSession.objects.filter(code=code)
        .select_related("quiz", "current_question")
        .order_by("-created_at")
        .first()
    )
    if session is None:
        raise EngineError("not_found", "No game with that PIN.")
    if session.host_id != host.pk:
        raise EngineError("forbidden", "Only this session's host may resume it as host.")
    return Outcome(reply=selectors.snapshot(session, player=None, now=now), session=session)


def players_seen(heartbeats: dict[int, tuple[datetime, int | None]], *, now: datetime) -> list[Refresh]:
    """Heartbeats, in bulk: presence comes from these, not from disconnect() (which may never run).

    Returns a host_lobby refresh for each session where a player who was shown away is back.
    """
    away_before = now - timedelta(seconds=settings.KNEWIT["PRESENCE_TIMEOUT_S"])
    back = (
        Player.objects.filter(pk__in=list(heartbeats), last_seen__lt=away_before)
        .values_list("session_id", "session__code")
        .distinct()
    )
    refreshes = [Refresh(session_pk, code, "host_lobby") for session_pk, code in back]
    Player.objects.bulk_update(
        [
            Player(
                pk=pk, last_seen=when, latency_ms=None if latency is None else max(0, min(latency, 600_000))
            )
            for pk, (when, latency) in heartbeats.items()
        ],
        ["last_seen", "latency_ms"],
        batch_size=500,
    )
    return refreshes


def player_left(*, player_pk: int, now: datetime) -> None:
    """The socket closed cleanly: show the player as away now rather than after the heartbeat timeout."""
    away = now - timedelta(seconds=settings.KNEWIT["PRESENCE_TIMEOUT_S"] + 1)
    Player.objects.filter(pk=player_pk).update(last_seen=away)


# --- the question cycle ---------------------------------------------------------------------


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
    question = Question.objects.select_related("quiz").get(pk=question_ids[next_index])
    # Read once at the opening (and kept for the answers and the reveal, on this worker at least).
    facts = question_facts(question.pk, now)
    try:  # the quiz may have been edited in the admin since the game started
        check_choices(list(facts.correct))
    except ValidationError as exc:
        label = question_label(next_index + 1, question.prompt)
        raise EngineError("invalid", f"{label} cannot be played: {exc.messages[0]}") from None
    time_limit = question.effective_time_limit
    deadline = now + timedelta(seconds=time_limit)
    updated = GameSession.objects.filter(
        pk=session.pk, state=session.state, question_index=session.question_index
    ).update(
        state=State.QUESTION, question_index=next_index, current_question=question,
        question_opened_at=now, question_deadline=deadline, advance_at=None,
    )  # fmt: skip
    if not updated:
        return []  # another worker moved this session on first
    payload = selectors.question_payload(
        question, next_index, len(question_ids), time_left_ms=time_limit * 1000
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
    pushes = [Push(session.code, ALL, protocol.quiz_finished(leaderboard=board))]
    # Protocol clients find themselves in the leaderboard; a page is told its own final rank.
    on_pages = set(session.players.filter(via_browser=True, kicked=False).values_list("public_id", flat=True))
    pushes += [
        Push(session.code, PLAYER, {"type": "final.rank", **entry}, player_id=entry["player_id"], json=False)
        for entry in board
        if entry["player_id"] in on_pages
    ]
    return [*pushes, Refresh(session.pk, session.code, "host_lobby")]


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


@dataclass(frozen=True)
class AnswerAttempt:
    """One `answer.submit` as it arrived; `now` is its own arrival, whenever it is recorded."""

    session_pk: int
    player_pk: int
    answer_idx: int
    msg_id: str | None
    now: datetime


def answer_submit(
    *, session_pk: int, player_pk: int, answer_idx: int, msg_id: str | None, now: datetime
) -> Outcome:
    """Record a player's answer once; the reply says it was recorded, never whether it was right."""
    result = answers_submit([AnswerAttempt(session_pk, player_pk, answer_idx, msg_id, now)])[0]
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
            return [EngineError("not_found", "You are not in this session.")]
        # Nothing was written; one by one, such an answer fails alone.
        return [answers_submit([attempt])[0] for attempt in attempts]


def _record_answers(attempts: list[AnswerAttempt]) -> list[Outcome | EngineError]:
    sessions = {pk: _session_for_answer(pk) for pk in sorted({a.session_pk for a in attempts})}
    results: list[Outcome | EngineError | None] = [None] * len(attempts)
    rows: list[tuple[int, Answer]] = []
    for i, attempt in enumerate(attempts):
        try:
            rows.append((i, _answer_row(attempt, sessions[attempt.session_pk])))
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
            reply = protocol.answer_recorded(question_num=row.question_index + 1, answer_idx=row.choice_idx)
            code = sessions[attempt.session_pk]["code"]
            results[i] = Outcome(reply=reply, events=[Refresh(attempt.session_pk, code, "histogram")])
        else:
            results[i] = _refused_answer(attempt)
    return results


def _answer_row(attempt: AnswerAttempt, session: dict) -> Answer:
    """The Answer to insert, scored; raises if the question is not open to it or the index is wrong."""
    if session["state"] != State.QUESTION or session["current_question_id"] is None:
        late = session["state"] in (State.RESULTS, State.FINISHED)
        _raise_unless_duplicate(attempt.player_pk, attempt.session_pk, attempt.msg_id, late=late)
    if attempt.now > session["question_deadline"] + grace():
        _raise_unless_duplicate(attempt.player_pk, attempt.session_pk, attempt.msg_id, late=True)
    facts = question_facts(session["current_question_id"], session["question_opened_at"])
    if not 0 <= attempt.answer_idx < len(facts.correct):
        raise EngineError("invalid", f"`answer_idx` must be 0 to {len(facts.correct) - 1}.")
    limit = facts.time_limit_s
    response_ms = min(
        max(int((attempt.now - session["question_opened_at"]).total_seconds() * 1000), 0), limit * 1000
    )
    correct = facts.correct[attempt.answer_idx]
    points = score_for(points=facts.points, time_limit_s=limit, response_ms=response_ms) if correct else 0
    return Answer(
        session_id=attempt.session_pk, player_id=attempt.player_pk,
        question_id=session["current_question_id"], question_index=session["question_index"],
        choice_idx=attempt.answer_idx, received_at=attempt.now, response_ms=response_ms,
        correct=correct, points=points, msg_id=attempt.msg_id or "",
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
        Answer.objects.filter(player_id=attempt.player_pk, msg_id=attempt.msg_id).first()
        if attempt.msg_id
        else None
    )
    if prior is not None:
        reply = protocol.answer_recorded(
            question_num=prior.question_index + 1, answer_idx=prior.choice_idx, duplicate=True
        )
        return Outcome(reply=reply)
    return EngineError("already_answered", "You have already answered this question.")


@dataclass(frozen=True)
class QuestionFacts:
    correct: tuple[bool, ...]  # by option index
    points: int
    time_limit_s: int


@functools.lru_cache(maxsize=64)
def question_facts(question_pk: int, opened_at: datetime) -> QuestionFacts:
    """What scoring an answer needs, read once per opening of a question instead of once per answer.

    Keyed by the opening, so every answer to one opening is scored alike and an edit made in the
    admin meanwhile counts from the question's next opening.
    """
    question = Question.objects.select_related("quiz").get(pk=question_pk)
    return QuestionFacts(
        correct=tuple(question.choices.values_list("is_correct", flat=True)),
        points=question.points,
        time_limit_s=question.effective_time_limit,
    )


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
    correct = question_facts(session.current_question_id, session.question_opened_at).correct
    correct_idx = correct.index(True) if True in correct else None
    bins = selectors.bins(session, index, len(correct))
    ranked = list(
        selectors.ranked_players(session).only("public_id", "name", "score", "correct_count", "via_browser")
    )
    results = protocol.question_results(
        question_num=index + 1, correct_idx=correct_idx, bins=bins, leaderboard=selectors.entries(ranked[:10])
    )
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
            score=player.score, rank=rank,
        )  # fmt: skip
        pushes.append(
            Push(session.code, PLAYER, payload, player_id=player.public_id, html=player.via_browser)
        )
    return pushes


ANSWER_COLUMNS = ("code", "state", "question_index", "current_question_id", "question_opened_at",
                  "question_deadline")  # fmt: skip


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
    return dict(zip(ANSWER_COLUMNS, row, strict=True))


def _raise_unless_duplicate(player_pk: int, session_pk: int, msg_id: str | None, *, late: bool) -> None:
    """A retried answer that was already recorded gets its acknowledgement again, even after the close."""
    if msg_id:
        prior = Answer.objects.filter(player_id=player_pk, msg_id=msg_id, session_id=session_pk).first()
        if prior is not None:
            raise DuplicateAnswer(
                protocol.answer_recorded(
                    question_num=prior.question_index + 1, answer_idx=prior.choice_idx, duplicate=True
                )
            )
    if late:
        raise EngineError("too_late", "Time is up for this question.")
    raise EngineError("wrong_state", "No question is open.")


class DuplicateAnswer(Exception):
    """Raised to leave the transaction with the first acknowledgement of a repeated answer."""

    def __init__(self, reply: dict):
        super().__init__("duplicate")
        self.reply = reply


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
