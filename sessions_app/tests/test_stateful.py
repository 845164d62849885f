"""A stateful hypothesis test of the engine against a small reference model (issue #7, item 4).

Random host and student action sequences go through sessions_app.engine (no sockets; the clock is the
model's and is passed in as `now`): joins (duplicate, differently cased and invalid names, retried
msg_ids), start, question.next, question.end, quiz.stop, session.close, lock/unlock, kicks, answers
(out-of-range indexes, retried msg_ids, at offsets up to past the deadline and the grace), the
sweeper (engine.due_wakes + engine.wake at a later `now`) and stale timer wakes fired late.

The model is written from docs/PROTOCOL.md: lobby -> question -> results -> ... -> finished, only forward;
one answer per player per question; a correct answer scores round(points * (1 - (t / limit) / 2)) with
t the time since the question opened, capped at the limit (answers in the grace score as at the
deadline); scores change only when a question closes. After every step: the session's state and
question index equal the model's and never move back; the Answer table has at most one row per
(player, question) and equals the model's answers; every Player's score, correct count and tie-break
time equal the model's. Every engine error must carry a code the model expects, and every reveal and
final leaderboard the engine emits must agree with the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.db.models import Count
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from quizzes_app.models import Choice, Question, Quiz
from sessions_app import engine
from sessions_app.engine import EngineError, Push
from sessions_app.models import Answer, GameSession, Player, ProcessedMessage

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ORDER = {"lobby": 0, "question": 1, "results": 2, "finished": 3}

# (options, correct_idx, time_limit or None for the quiz default, points)
QUESTIONS = [
    (["a", "b", "c", "d"], 2, 10, 1000),
    (["a", "b"], 0, None, 2000),
    (["a", "b", "c"], 1, 8, 0),
    (["a", "b", "c", "d", "e", "f"], 5, 9, 2000),
    (["a", "b"], 1, None, 1000),
]
DEFAULT_LIMIT = 12
# When an answer comes, in ms from the question's opening, given its limit in ms.
EARLY = [lambda limit: 0, lambda limit: 1, lambda limit: 250, lambda limit: 1234, lambda limit: limit // 2]
EDGE = [
    lambda limit: limit - 100, lambda limit: limit, lambda limit: limit + 1, lambda limit: limit + 499,
    lambda limit: limit + 500, lambda limit: limit + 501, lambda limit: limit + 3000,
]  # fmt: skip
NAMES = ["Ada", "ada", " ADA ", "Bo", "Cy", "Dee", "Émile", "x" * 20, "", "   ", "x" * 21, "Ev\x07e"]


@dataclass
class ModelPlayer:
    key: str
    name: str
    public_id: str
    pk: int
    order: int
    kicked: bool = False
    join_msg_id: str | None = None
    # Score, correct count and tie-break time as of the last close that included this player.
    score: int = 0
    correct_count: int = 0
    total_ms: int = 0


@dataclass
class ModelAnswer:
    choice: int
    response_ms: int
    correct: bool
    points: int
    msg_id: str


@dataclass
class Model:
    state: str = "lobby"
    index: int = -1
    locked: bool = False
    opened_at: datetime | None = None
    deadline: datetime | None = None
    advance_at: datetime | None = None
    players: dict[str, ModelPlayer] = field(default_factory=dict)
    answers: dict[tuple[str, int], ModelAnswer] = field(default_factory=dict)


def limit_s(index: int) -> int:
    return QUESTIONS[index][2] or DEFAULT_LIMIT


def score(points: int, limit: int, response_ms: int) -> int:
    t = min(response_ms / 1000, limit)
    return round(points * (1 - (t / limit) / 2))


def clean(raw: str) -> str | None:
    name = raw.strip()
    if not 1 <= len(name) <= 20 or not name.isprintable():
        return None
    return name


def pushes(outcome, msg_type: str) -> list[Push]:
    return [e for e in outcome.events if isinstance(e, Push) and e.payload["type"] == msg_type]


class QuizMachine(RuleBasedStateMachine):
    host = None
    quiz = None

    def __init__(self):
        super().__init__()
        # A fresh world for each example: the test's transaction is shared by all of them.
        GameSession.objects.all().delete()
        ProcessedMessage.objects.all().delete()
        self.m = Model()
        self.now = T0
        self.session = None
        self.auto_advance = False
        self.joins = 0
        self.timers: list[engine.Wake] = []
        self.seen_rank = (-1, 0)
        self.steps = 0

    # --- helpers ---------------------------------------------------------------------------

    def call(self, fn, expected: set[str] | None, **kwargs):
        """Run an engine command; expected None: it must succeed, else fail with one of these codes."""
        try:
            outcome = fn(**kwargs)
        except EngineError as exc:
            assert expected is not None, f"{fn.__name__} failed with {exc.code}: {exc.message}"
            assert exc.code in expected, f"{fn.__name__}: {exc.code} not in {expected}"
            return None
        assert expected is None, f"{fn.__name__} succeeded, expected an error in {expected}"
        self.timers += [e for e in outcome.events if isinstance(e, engine.Wake)]
        return outcome

    def host_call(self, fn, expected, **kwargs):
        return self.call(fn, expected, session_pk=self.session.pk, host=self.host, **kwargs)

    def tick(self, ms: int) -> None:
        self.now += timedelta(milliseconds=ms)

    def open_next(self, outcome) -> None:
        """The model's _advance: the next question, or the end after the last."""
        nxt = self.m.index + 1
        if nxt >= len(QUESTIONS):
            self.finish(outcome)
            return
        self.m.state, self.m.index = "question", nxt
        self.m.opened_at = self.now
        self.m.deadline = self.now + timedelta(seconds=limit_s(nxt))
        self.m.advance_at = None
        if outcome is not None:
            (question,) = pushes(outcome, "question.next")
            assert question.payload["question_num"] == nxt + 1
            assert "correct_idx" not in question.payload

    def close(self, outcome, *, announce: bool = True) -> None:
        """The model's reveal: scores from the answers to every question so far."""
        index = self.m.index
        self.m.state = "results"
        auto = self.auto_advance and announce
        self.m.advance_at = (
            self.now + timedelta(seconds=django_settings.KNEWIT["AUTO_ADVANCE_S"]) if auto else None
        )
        for p in self.m.players.values():
            mine = [self.m.answers.get((p.key, i)) for i in range(index + 1)]
            p.score = sum(a.points for a in mine if a)
            p.correct_count = sum(1 for a in mine if a and a.correct)
            p.total_ms = sum(a.response_ms if a else limit_s(i) * 1000 for i, a in enumerate(mine))
        if outcome is not None and announce:
            _, results = pushes(outcome, "question.results")  # the host's copy, the players'
            assert results.payload["question_num"] == index + 1
            assert results.payload["correct_idx"] == QUESTIONS[index][1]
            bins = [0] * len(QUESTIONS[index][0])
            for (_, i), a in self.m.answers.items():
                if i == index:
                    bins[a.choice] += 1
            assert results.payload["bins"] == bins
            personal = {p.player_id: p.payload for p in pushes(outcome, "answer.result")}
            ranked = self.ranked()
            assert set(personal) == {p.public_id for p in ranked}
            for rank, p in enumerate(ranked, start=1):
                a = self.m.answers.get((p.key, index))
                got = personal[p.public_id]
                assert (got["correct"], got["points"], got["score"], got["rank"]) == (
                    bool(a and a.correct), a.points if a else 0, p.score, rank
                ), (p.name, got)  # fmt: skip

    def finish(self, outcome) -> None:
        self.m.state, self.m.advance_at = "finished", None
        if outcome is not None:
            (finished,) = pushes(outcome, "quiz.finished")
            expected = [
                (i, p.public_id, p.name, p.score, p.correct_count) for i, p in enumerate(self.ranked(), 1)
            ]
            got = [
                (e["rank"], e["player_id"], e["name"], e["score"], e["correct_count"])
                for e in finished.payload["leaderboard"]
            ]
            assert got == expected

    def ranked(self) -> list[ModelPlayer]:
        """docs/PROTOCOL.md's order: players not kicked, by score, then less total time, then join order."""
        alive = [p for p in self.m.players.values() if not p.kicked]
        return sorted(alive, key=lambda p: (-p.score, p.total_ms, p.order))

    # --- rules -----------------------------------------------------------------------------

    @initialize(
        auto_advance=st.booleans(),
        names=st.lists(st.sampled_from(["Ana", "Ben", "Cleo", "Dan", "Eli"]), max_size=5, unique=True),
    )
    def create(self, auto_advance, names):
        """A session, with or without auto-advance, and a few students already in the lobby."""
        self.auto_advance = auto_advance
        outcome = engine.session_create(
            host=self.host, quiz_id=self.quiz.pk, raw_settings={"auto_advance": auto_advance}, site_url=""
        )
        self.session = outcome.session
        for name in names:
            self.join(name, None, 0)

    @rule(
        raw=st.sampled_from(NAMES),
        retry=st.sampled_from([None, "j1", "j2"]),
        ms=st.sampled_from([0, 10, 700]),
    )
    def join(self, raw, retry, ms):
        self.tick(ms)
        name = clean(raw)
        key = name.casefold() if name else None
        existing = self.m.players.get(key) if key else None
        msg_id = f"{retry}-{key}" if retry else None
        if self.m.state == "finished":
            expected = {"wrong_state"} | ({"invalid"} if name is None else set())
        elif name is None:
            expected = {"invalid"}
        elif existing and msg_id and existing.join_msg_id == msg_id:
            expected = {"kicked"} if existing.kicked else None  # a retried join: its first reply again
        else:
            expected = set()
            if existing and existing.kicked:
                expected.add("kicked")
            if self.m.locked:
                expected.add("locked")
            if existing:
                expected.add("name_taken")
            expected = expected or None
        outcome = self.call(
            engine.player_join, expected, code=self.session.code, raw_name=raw, password=None,
            requested_id=None, msg_id=msg_id, now=self.now,
        )  # fmt: skip
        if outcome is None:
            return
        if existing:
            # The first reply again, without a token: a repeat does not become (or take over) the player.
            assert outcome.reply["duplicate"] is True and outcome.reply["player_id"] == existing.public_id
            assert outcome.reply["rejoin_token"] is None and outcome.player is None
            return
        assert outcome.reply["name"] == name and outcome.reply["rejoin_token"]
        self.joins += 1
        self.m.players[key] = ModelPlayer(
            key=key, name=name, public_id=outcome.player.public_id, pk=outcome.player.pk, order=self.joins,
            join_msg_id=msg_id,
        )  # fmt: skip

    @precondition(lambda self: self.m.state in ("lobby", "finished"))
    @rule(ms=st.sampled_from([0, 100, 1500]))
    def start(self, ms):
        self.tick(ms)
        outcome = self.host_call(
            engine.quiz_start, None if self.m.state == "lobby" else {"wrong_state"}, now=self.now
        )
        if outcome is not None:
            self.open_next(outcome)

    @rule(ms=st.sampled_from([0, 100, 1500]))
    def question_next(self, ms):
        self.tick(ms)
        outcome = self.host_call(
            engine.question_next, {"wrong_state"} if self.m.state == "finished" else None, now=self.now
        )
        if outcome is None:
            return
        if self.m.state == "question":
            self.close(outcome)
        self.open_next(outcome)

    @rule(ms=st.sampled_from([0, 100, 1500]))
    def question_end(self, ms):
        self.tick(ms)
        outcome = self.host_call(
            engine.question_end, None if self.m.state == "question" else {"wrong_state"}, now=self.now
        )
        if outcome is not None:
            self.close(outcome)

    @precondition(lambda self: self.m.index >= 2 or self.steps >= 25)
    @rule(ms=st.sampled_from([0, 100]))
    def quiz_stop(self, ms):
        self.tick(ms)
        outcome = self.host_call(
            engine.quiz_stop, {"wrong_state"} if self.m.state == "finished" else None, now=self.now
        )
        if outcome is None:
            return
        assert not pushes(outcome, "question.results")
        if self.m.state == "question":
            self.close(None, announce=False)
        self.finish(outcome)

    @precondition(lambda self: self.m.state != "finished" and (self.m.index >= 2 or self.steps >= 25))
    @rule()
    def session_close(self):
        """Ends the game; a question still open is not revealed, so it scores nothing."""
        outcome = self.host_call(engine.session_close, None, now=self.now)
        assert pushes(outcome, "session.closed")
        self.m.state, self.m.advance_at = "finished", None

    @rule(data=st.data(), action=st.sampled_from(["lock", "unlock", "kick"]))
    def moderate(self, data, action):
        """The host locks or unlocks the session, or kicks a player (or someone who is not there)."""
        if action != "kick":
            expected = {"wrong_state"} if self.m.state == "finished" else None
            if self.host_call(engine.session_lock, expected, locked=action == "lock") is not None:
                self.m.locked = action == "lock"
            return
        ids = [
            p.public_id for p in sorted(self.m.players.values(), key=lambda p: p.order)
        ]  # not by the random ids
        player_id = data.draw(st.sampled_from([*ids, "nobody"]), label="player_id")
        outcome = self.host_call(
            engine.player_kick, None if player_id in ids else {"not_found"}, player_id=player_id
        )
        if outcome is not None:
            (push,) = pushes(outcome, "kicked")
            assert push.player_id == player_id and push.close_code == 4403
            next(p for p in self.m.players.values() if p.public_id == player_id).kicked = True

    def burst(offsets):
        return st.lists(
            st.tuples(
                st.integers(0, 7),  # which player (modulo the players not kicked)
                st.integers(-1, 6),  # the answer index, sometimes out of range
                st.sampled_from(offsets),  # when, from the question's opening
                st.sampled_from([None, "m0", "m0", "m0", "m1"]),  # msg_id: none, or one often repeated
            ),
            min_size=1, max_size=8,
        )  # fmt: skip

    @precondition(
        lambda self: self.m.state == "question" and any(not p.kicked for p in self.m.players.values())
    )
    @rule(burst=burst(EARLY))
    def answers(self, burst):
        """A few students answer while the question is open, at times measured from its opening."""
        self.answer_burst(burst)

    @precondition(
        lambda self: self.m.state == "question" and any(not p.kicked for p in self.m.players.values())
    )
    @rule(burst=burst(EDGE))
    def answers_near_the_deadline(self, burst):
        """Answers just before and after the deadline, inside, at and past the grace."""
        self.answer_burst(burst)

    def answer_burst(self, burst) -> None:
        for pick, idx, offset, retry in burst:
            keys = sorted(k for k, p in self.m.players.items() if not p.kicked)
            if self.m.opened_at is not None:
                at = self.m.opened_at + timedelta(milliseconds=offset(limit_s(self.m.index) * 1000))
                self.now = max(self.now, at)  # time never goes back
            self.answer(self.m.players[keys[pick % len(keys)]], idx, retry)

    @precondition(
        lambda self: self.m.state != "question" and any(not p.kicked for p in self.m.players.values())
    )
    @rule(
        pick=st.integers(0, 7),
        idx=st.integers(-1, 4),
        retry=st.sampled_from([None, "m0", "m1"]),
        ms=st.sampled_from([0, 700]),
    )
    def stray_answer(self, pick, idx, retry, ms):
        """An answer when no question is open: in the lobby, during the results, after the end."""
        self.tick(ms)
        keys = sorted(k for k, p in self.m.players.items() if not p.kicked)
        self.answer(self.m.players[keys[pick % len(keys)]], idx, retry)

    def answer(self, p: ModelPlayer, idx: int, retry: str | None) -> None:
        """docs/PROTOCOL.md: one answer per player and question, in time and in range; a msg_id the player
        already used (for this question or an earlier one) is not applied again but answered with the
        first reply, marked duplicate."""
        m, index = self.m, self.m.index
        msg_id = f"{p.key}-{retry}" if retry else None
        first = next(
            ((i, a) for (k, i), a in m.answers.items() if msg_id and k == p.key and a.msg_id == msg_id), None
        )
        n_options = len(QUESTIONS[index][0]) if index >= 0 else 0
        in_range = 0 <= idx < n_options
        late = m.state == "question" and self.now > m.deadline + engine.grace()
        on_the_edge = m.state == "question" and self.now == m.deadline + engine.grace()
        duplicate = "no"  # "no", "may" or "must": whether the first reply, marked duplicate, is the answer
        if m.state == "lobby":
            expected = {"wrong_state"}
        elif m.state in ("results", "finished") or late:
            expected, duplicate = (
                {"too_late"} | (set() if in_range else {"invalid"}),
                "must" if first else "no",
            )
        elif not in_range:
            expected, duplicate = {"invalid"}, "may" if first else "no"
        elif first:
            expected, duplicate = set(), "must"
        elif (p.key, index) in m.answers:
            expected = {"already_answered"}
        else:
            expected = {"too_late"} if on_the_edge else None
        try:
            outcome = engine.answer_submit(
                session_pk=self.session.pk, player_pk=p.pk, answer_idx=idx, msg_id=msg_id, now=self.now
            )
        except EngineError as exc:
            where = f"answer {idx} ({msg_id}) at {self.now - (m.opened_at or T0)} in {m.state}"
            assert duplicate != "must", f"{where}: {exc.code}, not the first reply again"
            assert expected is not None and exc.code in expected, f"{where}: {exc.code}, expected {expected}"
            return
        reply = outcome.reply
        if duplicate != "no":
            first_index, first_answer = first
            assert reply == {
                "type": "answer.recorded",
                "question_num": first_index + 1,
                "round": 1,
                "answer_idx": first_answer.choice,
                "duplicate": True,
            }
            assert outcome.events == []
            return
        assert expected is None or (expected == {"too_late"} and on_the_edge), (
            f"answer accepted, expected {expected}"
        )
        assert reply == {
            "type": "answer.recorded",
            "question_num": index + 1,
            "round": 1,
            "answer_idx": idx,
            "duplicate": False,
        }
        _, correct_idx, _, points = QUESTIONS[index]
        response_ms = min(int((self.now - m.opened_at) / timedelta(milliseconds=1)), limit_s(index) * 1000)
        correct = idx == correct_idx
        m.answers[(p.key, index)] = ModelAnswer(
            choice=idx, response_ms=response_ms, correct=correct,
            points=score(points, limit_s(index), response_ms) if correct else 0, msg_id=msg_id or "",
        )  # fmt: skip

    @rule(ms=st.sampled_from([0, 500, 3000, 6000, 9000]))
    def sweep(self, ms):
        """A worker's sweeper at a later time: closes what is overdue, moves on after a due results pause."""
        self.tick(ms)
        m = self.m
        due_close = m.state == "question" and self.now >= m.deadline + engine.grace()
        due_advance = m.state == "results" and m.advance_at is not None and m.advance_at <= self.now
        wakes = engine.due_wakes(now=self.now)
        assert len(wakes) == int(due_close or due_advance), wakes
        for w in wakes:
            outcome = engine.wake(w, now=self.now)
            if due_close:
                self.close(outcome)
            else:
                self.open_next(outcome)
            assert engine.wake(w, now=self.now).events == []  # a second worker finds nothing to do

    @precondition(lambda self: self.timers)
    @rule(data=st.data())
    def fire_timer(self, data):
        """A worker's own timer fires late, maybe long after the session moved on: stale ones do nothing."""
        w = data.draw(st.sampled_from(self.timers), label="timer")
        self.timers.remove(w)
        self.now = max(self.now, w.at)
        m = self.m
        if w.kind == "close":
            acts = m.state == "question" and m.index == w.index
        else:
            due = m.advance_at is not None and m.advance_at <= self.now
            acts = m.state == "results" and m.index == w.index and due
        outcome = engine.wake(w, now=self.now)
        if not acts:
            assert outcome.events == [], (w, m.state, m.index)
        elif w.kind == "close":
            self.close(outcome)
        else:
            self.open_next(outcome)

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def state_matches_and_only_moves_forward(self):
        self.steps += 1
        if self.session is None:
            return
        row = GameSession.objects.get(pk=self.session.pk)
        assert (row.state, row.question_index, row.locked) == (self.m.state, self.m.index, self.m.locked)
        rank = (row.question_index, ORDER[row.state])
        assert rank >= self.seen_rank, f"moved back: {self.seen_rank} -> {rank}"
        self.seen_rank = rank

    @invariant()
    def one_answer_per_player_and_question(self):
        if self.session is None:
            return
        doubles = Answer.objects.values("player", "question").annotate(n=Count("pk")).filter(n__gt=1)
        assert not doubles.exists(), list(doubles)
        by_pk = {p.pk: p.key for p in self.m.players.values()}
        rows = {
            (by_pk[a.player_id], a.question_index): (a.choice_idx, a.response_ms, a.correct, a.points)
            for a in Answer.objects.filter(session=self.session)
        }
        model = {k: (a.choice, a.response_ms, a.correct, a.points) for k, a in self.m.answers.items()}
        assert rows == model

    @invariant()
    def scores_equal_the_model(self):
        if self.session is None:
            return
        rows = {
            p.pk: (p.score, p.correct_count, p.total_answer_ms, p.kicked)
            for p in Player.objects.filter(session=self.session)
        }
        model = {p.pk: (p.score, p.correct_count, p.total_ms, p.kicked) for p in self.m.players.values()}
        assert rows == model


@pytest.mark.slow  # hypothesis: many games
@pytest.mark.django_db
def test_engine_against_the_reference_model(host):
    quiz = Quiz.objects.create(title="Model quiz", owner=host, default_time_limit=DEFAULT_LIMIT)
    for order, (options, correct_idx, time_limit, points) in enumerate(QUESTIONS):
        question = Question.objects.create(
            quiz=quiz, order=order, prompt=f"Q{order + 1}", time_limit=time_limit, points=points
        )
        Choice.objects.bulk_create(
            Choice(question=question, order=i, text=text, is_correct=i == correct_idx)
            for i, text in enumerate(options)
        )
    QuizMachine.host, QuizMachine.quiz = host, quiz
    run_state_machine_as_test(
        QuizMachine,
        settings=hsettings(
            max_examples=120,
            stateful_step_count=40,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


@pytest.mark.django_db
def test_a_msg_id_repeated_in_a_later_question_is_not_applied_twice(host, make_quiz):
    """Found with the model: an open question used to record it as a new answer (fixed in a33a3ec)."""
    quiz = make_quiz(host)
    session = engine.session_create(host=host, quiz_id=quiz.pk, raw_settings={}, site_url="").session
    player = engine.player_join(
        code=session.code, raw_name="Ada", password=None, requested_id=None, msg_id=None, now=T0
    ).player
    engine.quiz_start(session_pk=session.pk, host=host, now=T0)
    first = engine.answer_submit(
        session_pk=session.pk, player_pk=player.pk, answer_idx=0, msg_id="a1", now=T0
    )
    engine.question_next(session_pk=session.pk, host=host, now=T0 + timedelta(seconds=5))
    again = engine.answer_submit(
        session_pk=session.pk, player_pk=player.pk, answer_idx=1, msg_id="a1", now=T0 + timedelta(seconds=6)
    )
    assert again.reply == {**first.reply, "duplicate": True}
    assert Answer.objects.filter(player=player).count() == 1
